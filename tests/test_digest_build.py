"""Selecting, ranking and rendering digests from hand-made, nlp-shaped articles."""

from __future__ import annotations

import email.policy
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

import pytest

from digests import build_digest, render_preview, select_articles
from regwatch.models import Action, Article, Digest, Quote, Source, Subscriber, TaggedEntity

PERIOD = date(2026, 1, 12)  # a Monday: the day Ofcom opened its investigation into X
MONDAY = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)

SOURCES = {
    "ofcom": Source("ofcom", "Ofcom", "feed", "https://www.ofcom.org.uk/news", type="regulator"),
    "dsit": Source("dsit", "DSIT", "feed", "https://www.gov.uk/dsit", type="government"),
    "politics": Source("politics", "Politics Daily", "feed", "https://politics.example/feed"),
    "wire": Source("wire", "Wire Service", "feed", "https://wire.example/feed"),
    "tabloid": Source("tabloid", "Daily Tabloid", "feed", "https://tabloid.example/feed"),
}

WATCHLIST = {
    "Ofcom": ("ofcom", "regulator"),
    "X": ("x", "platform"),
    "Grok": ("grok", "product"),
    "Liz Kendall": ("liz-kendall", "person"),
    "Nigel Farage": ("nigel-farage", "person"),
}


def tag(name: str, salience: float, count: int = 1, in_title: bool = False) -> TaggedEntity:
    """A watched entity as nlp's linker tags it."""
    entity_id, entity_type = WATCHLIST[name]
    return TaggedEntity(
        name=name,
        type=entity_type,
        mentions=[name] * count,
        entity_id=entity_id,
        count=count,
        first_position=0,
        in_title=in_title,
        salience=salience,
    )


def article(
    slug: str,
    source_id: str,
    title: str,
    entities: list[TaggedEntity],
    *,
    body: str = "",
    summary: str = "",
    published: datetime = MONDAY,
    url: str = "",
) -> Article:
    return Article(
        url=url or f"https://{source_id}.example/{slug}",
        source_id=source_id,
        title=title,
        body=body
        or f"{title}. A body long enough to be an article about {slug}, written for this test only.",
        summary=summary,
        published=published,
        fetched_at=published + timedelta(minutes=5),
        entities=entities,
    )


SEED_BODY = (
    "Keir Starmer is personally boycotting X over Grok AI deepfakes, it has been reported. "
    "The Prime Minister has been posting consistently on Facebook and Instagram, but hasn't posted on "
    "Elon Musk's platform since 8 January. It comes amid increasing concerns about the use of X's AI "
    "assistant, called Grok, to generate sexualised images of people and remove clothes in photos. "
    "Technology Secretary Liz Kendall said she expected Ofcom to move quickly on the issue."
)


def ofcom_statement() -> Article:
    return article(
        "x-investigation",
        "ofcom",
        "Ofcom launches investigation into X over Grok images",
        [tag("Ofcom", 0.9, 4, True), tag("X", 0.8, 5, True), tag("Grok", 0.5, 2, True)],
        summary="Ofcom has opened a formal investigation into X under the Online Safety Act.",
        url="https://www.ofcom.org.uk/news/x-investigation",
    )


def starmer_boycott(
    source_id: str = "politics", title: str = "Keir Starmer boycotting X over Grok"
) -> Article:
    return article(
        "starmer-boycott",
        source_id,
        title,
        [tag("X", 0.7, 6, True), tag("Grok", 0.6, 5, True), tag("Liz Kendall", 0.2), tag("Ofcom", 0.3, 1)],
        body=SEED_BODY,
        published=MONDAY + timedelta(hours=2),
    )


def farage_free_speech() -> Article:
    return article(
        "farage",
        "tabloid",
        "Farage: government risks suppressing free speech",
        [tag("Nigel Farage", 0.8, 3, True), tag("Grok", 0.4, 2)],
        published=MONDAY + timedelta(hours=3),
    )


def analyst(**kwargs: object) -> Subscriber:
    values: dict[str, object] = {"id": "ana", "name": "Ana Analyst", "email": "ana@example.org"}
    values.update(kwargs)
    return Subscriber(**values)  # type: ignore[arg-type]


def parse(digest: Digest) -> EmailMessage:
    message = BytesParser(policy=email.policy.default).parsebytes(digest.message)
    assert isinstance(message, EmailMessage)
    return message


def html_part(digest: Digest) -> str:
    return parse(digest).get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


class HtmlShape(HTMLParser):
    """Tags, attributes, links, h2 headings and text of an HTML part."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []
        self.hrefs: list[str] = []
        self.headings: list[str] = []
        self.text: list[str] = []
        self._in_h2 = False
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((name, value or "") for name, value in attrs)
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")
        if tag == "h2":
            self._in_h2 = True
            self.headings.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_h2:
            self.headings[-1] += data


def test_regulator_statement_outranks_press_coverage() -> None:
    items = select_articles(analyst(), [farage_free_speech(), starmer_boycott(), ofcom_statement()], SOURCES)
    assert [it.article.source_id for it in items] == ["ofcom", "politics", "tabloid"]
    assert items[0].official and not items[1].official


def test_title_mention_raises_the_score() -> None:
    in_title = article("a", "politics", "Grok in the title", [tag("Grok", 0.5, in_title=True)])
    in_body = article("b", "politics", "Something else", [tag("Grok", 0.5)])
    items = select_articles(analyst(), [in_body, in_title], SOURCES)
    assert [it.article.url for it in items] == [in_title.url, in_body.url]


def test_equal_scores_list_the_newest_first() -> None:
    older = article("older", "politics", "Grok story one", [tag("Grok", 0.5)])
    newer = article(
        "newer", "politics", "Grok story two", [tag("Grok", 0.5)], published=MONDAY + timedelta(hours=1)
    )
    assert [it.article.url for it in select_articles(analyst(), [older, newer], SOURCES)] == [
        newer.url,
        older.url,
    ]


def test_articles_without_watched_entities_are_left_out() -> None:
    unwatched = article(
        "weather", "politics", "Storm hits Leeds", [TaggedEntity(name="Leeds", type="GPE", count=2)]
    )
    items = select_articles(analyst(), [unwatched, ofcom_statement()], SOURCES)
    assert [it.article.source_id for it in items] == ["ofcom"]


def test_subscriber_entity_filter_matches_names_and_ids_case_insensitively() -> None:
    articles = [ofcom_statement(), starmer_boycott(), farage_free_speech()]
    by_name = select_articles(analyst(entities=("nigel farage",)), articles, SOURCES)
    by_id = select_articles(analyst(entities=("nigel-farage",)), articles, SOURCES)
    assert [it.article.source_id for it in by_name] == ["tabloid"]
    assert [it.article.source_id for it in by_id] == ["tabloid"]
    assert [e.name for e in by_name[0].entities] == ["Nigel Farage"]  # Grok is not watched by this analyst


def test_subscriber_source_filter_keeps_only_their_sources() -> None:
    articles = [ofcom_statement(), starmer_boycott(), farage_free_speech()]
    items = select_articles(analyst(sources=("politics", "tabloid")), articles, SOURCES)
    assert sorted(it.article.source_id for it in items) == ["politics", "tabloid"]


def test_syndicated_copy_with_the_same_title_collapses_into_one_item() -> None:
    original = starmer_boycott("politics")
    copy = starmer_boycott("wire", title="KEIR STARMER boycotting X over Grok!")
    copy.body = "A different rewrite of the story, sharing only the headline with the original."
    copy.published = MONDAY + timedelta(hours=4)
    items = select_articles(analyst(), [copy, original], SOURCES)
    assert len(items) == 1
    assert items[0].article.url == original.url  # the earliest copy is kept
    assert [(c.source_name, c.url) for c in items[0].also_reported] == [("Wire Service", copy.url)]
    assert items[0].article_ids == [original.id, copy.id]


def test_near_identical_body_under_a_new_headline_collapses() -> None:
    original = starmer_boycott("politics")
    copy = starmer_boycott("wire", title="PM shuns Musk's platform amid deepfake row")
    copy.body = SEED_BODY.replace("it has been reported", "it was reported")
    items = select_articles(analyst(), [original, copy], SOURCES)
    assert len(items) == 1 and items[0].also_reported[0].source_name == "Wire Service"


def test_different_stories_with_shared_words_stay_apart() -> None:
    one = article("one", "politics", "Ofcom fines X", [tag("Ofcom", 0.5)], body=SEED_BODY)
    two = article("two", "wire", "Ofcom warns Grok", [tag("Ofcom", 0.5)])
    assert len(select_articles(analyst(), [one, two], SOURCES)) == 2


def test_max_items_keeps_the_best() -> None:
    articles = [ofcom_statement(), starmer_boycott(), farage_free_speech()]
    items = select_articles(analyst(), articles, SOURCES, max_items=2)
    assert [it.article.source_id for it in items] == ["ofcom", "politics"]


def test_nothing_qualifying_builds_no_digest() -> None:
    assert build_digest(analyst(), [], PERIOD) is None
    only_farage = [farage_free_speech()]
    assert build_digest(analyst(entities=("Ofcom",)), only_farage, PERIOD, sources=SOURCES) is None
    assert build_digest(analyst(sources=("ofcom",)), only_farage, PERIOD, sources=SOURCES) is None


def test_regulator_section_comes_first_then_one_section_per_entity() -> None:
    digest = build_digest(
        analyst(), [farage_free_speech(), starmer_boycott(), ofcom_statement()], PERIOD, sources=SOURCES
    )
    assert digest is not None
    shape = HtmlShape(html_part(digest))
    # Each item is listed once, under its most salient watched entity; sections by mentions.
    assert shape.headings == ["Regulator and government statements", "X", "Nigel Farage", "Mentions"]
    assert shape.hrefs == [
        "https://www.ofcom.org.uk/news/x-investigation",
        "https://politics.example/starmer-boycott",
        "https://tabloid.example/farage",
    ]
    text = render_preview(digest)
    assert text.index("== Regulator and government statements ==") < text.index("== X ==")
    assert text.index("== X ==") < text.index("== Nigel Farage ==")
    assert "https://politics.example/starmer-boycott" in text


def test_items_show_source_snippet_and_counts_line() -> None:
    digest = build_digest(analyst(), [starmer_boycott(), ofcom_statement()], PERIOD, sources=SOURCES)
    assert digest is not None
    text = render_preview(digest)
    # most mentioned first
    assert "== Mentions ==\n\nX: 11\nGrok: 7\nOfcom: 5\nLiz Kendall: 1\n" in text.replace("\r\n", "\n")
    assert "Ofcom has opened a formal investigation into X under the Online Safety Act." in text  # summary
    assert "Keir Starmer is personally boycotting X over Grok AI deepfakes, it has been reported." in text
    assert "Politics Daily · Mon 12 Jan 11:30 GMT · X, Grok, Ofcom, Liz Kendall" in text


def test_subject_names_top_entities_item_count_and_day() -> None:
    articles = [farage_free_speech(), starmer_boycott(), ofcom_statement()]
    digest = build_digest(analyst(), articles, PERIOD, sources=SOURCES)
    assert digest is not None
    assert digest.subject == "regwatch — X, Grok, Ofcom: 3 new items, Mon 12 Jan"
    assert parse(digest)["Subject"] == digest.subject
    single = build_digest(analyst(), [farage_free_speech()], date(2026, 1, 6), sources=SOURCES)
    assert single is not None
    assert single.subject == "regwatch — Nigel Farage, Grok: 1 new item, Tue 6 Jan"


def test_message_is_multipart_alternative_with_addresses_and_date() -> None:
    now = datetime(2026, 1, 12, 7, 0, tzinfo=UTC)
    digest = build_digest(
        analyst(),
        [ofcom_statement()],
        PERIOD,
        sources=SOURCES,
        sender="Reg Watch <digests@reg.example>",
        now=now,
    )
    assert digest is not None
    message = parse(digest)
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["From"].addresses[0].addr_spec == "digests@reg.example"
    assert message["To"].addresses[0].addr_spec == "ana@example.org"
    assert message["Date"].datetime == now
    assert b"\r\n" in digest.message and b"\n" not in digest.message.replace(b"\r\n", b"")


def test_message_id_is_stable_for_a_subscriber_and_period() -> None:
    first = build_digest(analyst(), [ofcom_statement()], PERIOD, sources=SOURCES, now=MONDAY)
    resend = build_digest(
        analyst(),
        [ofcom_statement(), starmer_boycott()],
        PERIOD,
        sources=SOURCES,
        now=MONDAY + timedelta(hours=5),
    )
    next_day = build_digest(analyst(), [ofcom_statement()], PERIOD + timedelta(days=1), sources=SOURCES)
    other = build_digest(analyst(id="bob"), [ofcom_statement()], PERIOD, sources=SOURCES)
    assert first and resend and next_day and other
    assert first.message_id == resend.message_id == "<digest-ana-2026-01-12@regwatch>"
    assert parse(resend)["Message-ID"] == first.message_id
    assert len({first.message_id, next_day.message_id, other.message_id}) == 3


def test_unsafe_subscriber_id_still_gives_a_valid_message_id() -> None:
    digest = build_digest(analyst(id="ana smith@dept>"), [ofcom_statement()], PERIOD, sources=SOURCES)
    assert digest is not None
    assert digest.message_id.startswith("<digest-ana-smith-dept--")
    assert " " not in digest.message_id and digest.message_id.count(">") == 1
    assert parse(digest)["Message-ID"] == digest.message_id


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Europe/London", "Mon 12 Jan 23:30 GMT"),
        ("America/New_York", "Mon 12 Jan 18:30 EST"),
        ("Asia/Tokyo", "Tue 13 Jan 08:30 JST"),
    ],
)
def test_times_are_shown_in_the_subscriber_timezone(zone: str, expected: str) -> None:
    late = article(
        "late",
        "politics",
        "Late Grok story",
        [tag("Grok", 0.5)],
        published=datetime(2026, 1, 12, 23, 30, tzinfo=UTC),
    )
    digest = build_digest(analyst(timezone=zone), [late], PERIOD, sources=SOURCES)
    assert digest is not None
    assert f"Politics Daily · {expected} · Grok" in render_preview(digest)
    assert expected in "".join(HtmlShape(html_part(digest)).text)


def test_the_watermark_is_the_end_of_the_window_the_articles_were_first_seen_in() -> None:
    """Not the newest fetch among them: the next digest starts where this one's window ended."""
    unwatched = article("weather", "politics", "Storm", [], published=MONDAY + timedelta(days=1))
    built_at = MONDAY + timedelta(days=2)
    digest = build_digest(analyst(), [ofcom_statement(), unwatched], PERIOD, sources=SOURCES, now=built_at)
    assert digest is not None
    assert digest.watermark == built_at != unwatched.fetched_at
    assert digest.article_ids == [ofcom_statement().id]
    window_end = built_at - timedelta(hours=5)  # a rebuilt digest keeps the window it had
    rebuilt = build_digest(
        analyst(), [ofcom_statement()], PERIOD, sources=SOURCES, now=built_at, until=window_end
    )
    assert rebuilt is not None and rebuilt.watermark == window_end


def test_scraped_markup_is_escaped_and_unsafe_links_dropped() -> None:
    hostile = article(
        "hostile",
        "politics",
        "Grok <script>alert(1)</script> row",
        [tag("Grok", 0.9, in_title=True)],
        summary='Click <img src=x onerror="alert(2)"> here',
        url="javascript:alert(3)",
    )
    copy = article(
        "copy",
        "wire",
        "Grok <script>alert(1)</script> row",
        [tag("Grok", 0.5)],
        url='https://wire.example/copy" onmouseover="alert(4)',
    )
    sources = dict(
        SOURCES, politics=Source("politics", 'Pol"itics <b>Daily</b>', "feed", "https://p.example")
    )
    digest = build_digest(analyst(), [hostile, copy], PERIOD, sources=sources)
    assert digest is not None
    html = html_part(digest)
    shape = HtmlShape(html)
    assert "script" not in shape.tags and "img" not in shape.tags and "b" not in shape.tags
    assert not [name for name, _ in shape.attrs if name.startswith("on")]
    assert all(href.startswith(("http://", "https://")) for href in shape.hrefs)
    assert "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Grok <script>alert(1)</script> row" in "".join(shape.text)  # shown as text
    text = render_preview(digest)
    assert "javascript:" not in text and "Grok <script>alert(1)</script> row" in text


def test_control_characters_are_stripped_from_both_parts() -> None:
    noisy = article("noisy", "politics", "Grok\x1b[31m red\x07 alert\u202e", [tag("Grok", 0.5)])
    digest = build_digest(analyst(), [noisy], PERIOD, sources=SOURCES)
    assert digest is not None
    assert "Grok[31m red alert" in render_preview(digest)
    for part in (render_preview(digest), html_part(digest)):
        assert not any(ch in part for ch in "\x1b\x07\u202e")


def test_html_part_is_self_contained() -> None:
    digest = build_digest(analyst(), [ofcom_statement(), starmer_boycott()], PERIOD, sources=SOURCES)
    assert digest is not None
    shape = HtmlShape(html_part(digest))
    assert "table" in shape.tags
    assert not {"script", "img", "link", "style", "iframe", "form"} & set(shape.tags)
    assert not [value for name, value in shape.attrs if name == "src"]


# --- What goes in: actions, quotes, counts against the previous digest -------


def text_of(digest: Digest) -> str:
    return render_preview(digest).replace("\r\n", "\n")


def investigation(actor: str = "Ofcom", target: str = "X") -> Action:
    ids = {"Ofcom": "ofcom", "X": "x", "Grok": "grok"}
    return Action(
        actor=actor,
        action="investigation",
        target=target,
        actor_entity_id=ids.get(actor),
        target_entity_id=ids.get(target),
        sentence=f"{actor} has opened a formal investigation into {target}.",
    )


def test_detected_actions_get_their_own_section_after_the_statements() -> None:
    statement = ofcom_statement()
    statement.actions = [investigation()]
    press = starmer_boycott()
    press.actions = [
        investigation(),
        Action(actor="Ofcom", action="fine", target="Grok", actor_entity_id="ofcom"),
    ]
    digest = build_digest(analyst(), [press, statement], PERIOD, sources=SOURCES)
    assert digest is not None
    shape = HtmlShape(html_part(digest))
    assert shape.headings[:3] == ["Regulator and government statements", "Regulatory actions", "X"]
    text = text_of(digest)
    # the investigation reported twice is listed once, from the regulator's own statement
    assert text.count("Ofcom opened an investigation into X") == 1
    assert (
        "* Ofcom opened an investigation into X\n  Ofcom · Mon 12 Jan 09:30 GMT · https://www.ofcom.org.uk"
        in text
    )
    assert "* Ofcom fined Grok\n  Politics Daily" in text


def test_an_action_involving_a_watched_entity_raises_the_score() -> None:
    plain = article("plain", "politics", "Grok story", [tag("Grok", 0.5)])
    acted = article("acted", "politics", "Another Grok story", [tag("Grok", 0.5)])
    acted.actions = [investigation("Ofcom", "Grok")]
    unrelated = article("unrelated", "politics", "A third Grok story", [tag("Grok", 0.5)])
    unrelated.actions = [Action(actor="CMA", action="fine", target="Acme")]
    items = select_articles(analyst(), [plain, unrelated, acted], SOURCES)
    assert items[0].article.url == acted.url
    assert items[1].score == items[2].score  # an action between strangers counts for nothing


def test_notable_quotes_show_speakers_watched_ones_first() -> None:
    statement = ofcom_statement()
    statement.quotes = [
        Quote(
            text="We will not hesitate to act where platforms fail to protect users.",
            speaker="Ofcom",
            speaker_entity_id="ofcom",
        ),
        Quote(text="Too short", speaker="Ofcom", speaker_entity_id="ofcom"),
    ]
    press = starmer_boycott()
    press.quotes = [
        Quote(
            text="“I expect Ofcom to move quickly on this issue”",
            speaker="Liz Kendall",
            speaker_entity_id="liz-kendall",
        ),
        Quote(text="It is a matter for the platform and nobody else at all", speaker="A spokesperson"),
        Quote(text="An anonymous line with nobody to say it, long enough", speaker=""),
    ]
    digest = build_digest(analyst(), [press, statement], PERIOD, sources=SOURCES)
    assert digest is not None
    text = text_of(digest)
    quotes = text[text.index("== Notable quotes ==") :]
    assert (
        quotes.index("“We will not hesitate")
        < quotes.index("“I expect Ofcom")
        < quotes.index("“It is a matter")
    )
    assert "— Liz Kendall, Politics Daily · Mon 12 Jan 11:30 GMT" in quotes
    assert "Too short" not in quotes and "anonymous line" not in quotes
    assert "““" not in quotes  # the quote's own marks are not doubled
    assert HtmlShape(html_part(digest)).headings[-2:] == ["Notable quotes", "Mentions"]


def test_mentions_are_compared_with_the_previous_digest() -> None:
    previous = [farage_free_speech(), ofcom_statement()]  # Farage 3, Grok 4, Ofcom 4, X 5
    digest = build_digest(analyst(), [starmer_boycott()], PERIOD, sources=SOURCES, previous=previous)
    assert digest is not None
    counts = text_of(digest).split("== Mentions ==\n\n")[1].split("\n\n")[0].splitlines()
    assert counts == [
        "X: 6 (previous 5, +1)",
        "Grok: 5 (previous 4, +1)",
        "Ofcom: 1 (previous 4, −3)",
        "Liz Kendall: 1 (previous 0, new)",
        "Nigel Farage: 0 (previous 3, −3)",
    ]
    html = HtmlShape(html_part(digest))
    assert "Previous" in html.text and "−3" in html.text


def test_the_header_says_since_when_in_the_subscribers_zone() -> None:
    since = datetime(2026, 1, 11, 7, 0, tzinfo=UTC)
    digest = build_digest(
        analyst(timezone="Asia/Tokyo"), [ofcom_statement()], PERIOD, sources=SOURCES, since=since
    )
    assert digest is not None
    assert "1 new item for Ana Analyst, Mon 12 Jan, since Sun 11 Jan 16:00 JST." in text_of(digest)


# --- Subscribers: keywords, scope filters, minimum relevance, empty days -----


def test_keywords_select_articles_without_a_watched_entity() -> None:
    act = article(
        "osa",
        "politics",
        "New duties under the Online-Safety Act",
        [],
        body="Platforms must assess risks to children.",
    )
    age = article("age", "wire", "Age checks arrive", [], body="Regulators want age verification everywhere.")
    other = article("other", "wire", "Storm hits Leeds", [], body="Safety warnings were issued online.")
    items = select_articles(
        analyst(entities=("Nigel Farage",), keywords=('"online safety act"', "age verif*", "flood*")),
        [act, age, other, farage_free_speech()],
        SOURCES,
    )
    assert {it.article.url for it in items} == {act.url, age.url, farage_free_speech().url}
    by_url = {it.article.url: it for it in items}
    assert by_url[act.url].keywords == ['"online safety act"']
    assert by_url[act.url].score > by_url[age.url].score  # matched in the title


def test_excluded_words_keep_an_article_out() -> None:
    storm = article("storm", "wire", "Storm hits Leeds", [], body="Weather warnings for Leeds and York.")
    x_storm = article("x-storm", "wire", "Storm over X", [], body="A storm of posts on X about Grok.")
    items = select_articles(analyst(entities=("Ofcom",), keywords=("storm -x",)), [storm, x_storm], SOURCES)
    assert [it.article.url for it in items] == [storm.url]


def test_all_words_of_a_keyword_must_appear() -> None:
    one = article("one", "politics", "Grok rules", [], body="The chatbot is in trouble.")
    both = article("both", "politics", "Chatbot rules", [], body="Deepfake images from the chatbot.")
    items = select_articles(
        analyst(entities=("Ofcom",), keywords=("chatbot deepfake",)), [one, both], SOURCES
    )
    assert [it.article.url for it in items] == [both.url]


def test_keyword_items_get_a_section_named_after_the_keyword() -> None:
    act = article(
        "osa", "politics", "Online Safety Act duties", [], body="New duties for platforms this year."
    )
    digest = build_digest(
        analyst(entities=("Ofcom",), keywords=("online safety",)),
        [act, ofcom_statement()],
        PERIOD,
        sources=SOURCES,
    )
    assert digest is not None
    assert HtmlShape(html_part(digest)).headings == [
        "Regulator and government statements",
        "“online safety”",
        "Mentions",
    ]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ({"source_types": ("regulator", "government")}, ["ofcom"]),
        ({"source_types": ("news",)}, ["politics", "tabloid"]),
        ({"jurisdictions": ("uk",)}, ["ofcom"]),
        ({"jurisdictions": ("EU",)}, []),
    ],
)
def test_source_types_and_jurisdictions_narrow_the_digest(scope: dict, expected: list[str]) -> None:
    sources = dict(
        SOURCES,
        ofcom=Source("ofcom", "Ofcom", "feed", "https://o.example", type="regulator", jurisdiction="UK"),
    )
    items = select_articles(
        analyst(**scope), [ofcom_statement(), starmer_boycott(), farage_free_speech()], sources
    )
    assert sorted(it.article.source_id for it in items) == expected


def test_min_relevance_drops_weak_items() -> None:
    weak = article("weak", "politics", "A passing mention", [tag("Grok", 0.1)])
    items = select_articles(
        analyst(min_relevance=1.0), [weak, ofcom_statement(), farage_free_speech()], SOURCES
    )
    assert [it.article.source_id for it in items] == ["ofcom", "tabloid"]
    assert all(it.score >= 1.0 for it in items)


def test_an_empty_day_sends_a_short_notice_when_asked() -> None:
    unwatched = article("weather", "politics", "Storm", [])
    assert build_digest(analyst(empty_day="skip"), [unwatched], PERIOD, sources=SOURCES) is None
    built_at = MONDAY + timedelta(hours=3)
    notice = build_digest(
        analyst(empty_day="notice"),
        [unwatched],
        PERIOD,
        sources=SOURCES,
        since=MONDAY - timedelta(days=1),
        now=built_at,
    )
    assert notice is not None
    assert notice.subject == "regwatch — nothing new, Mon 12 Jan"
    assert notice.article_ids == [] and notice.watermark == built_at
    assert "Nothing new for Ana Analyst since Sun 11 Jan 09:30 GMT." in text_of(notice)
    assert HtmlShape(html_part(notice)).headings == []


def test_subject_with_only_keyword_items_names_the_keyword() -> None:
    act = article(
        "osa", "politics", "Online Safety Act duties", [], body="New duties for platforms this year."
    )
    digest = build_digest(
        analyst(entities=("Ofcom",), keywords=("online safety",)), [act], PERIOD, sources=SOURCES
    )
    assert digest is not None
    assert digest.subject == "regwatch — “online safety”: 1 new item, Mon 12 Jan"


def test_one_speaker_cannot_fill_the_quotes_section() -> None:
    statement = ofcom_statement()
    statement.quotes = [
        Quote(
            text=f"Statement number {n} from the regulator on this matter.",
            speaker="Ofcom",
            speaker_entity_id="ofcom",
        )
        for n in range(4)
    ]
    press = starmer_boycott()
    press.quotes = [Quote(text="I expect Ofcom to move quickly on this issue", speaker="Liz Kendall")]
    digest = build_digest(analyst(), [statement, press], PERIOD, sources=SOURCES)
    assert digest is not None
    quotes = text_of(digest).split("== Notable quotes ==")[1].split("== Mentions ==")[0]
    assert quotes.count("— Ofcom,") == 2 and quotes.count("— Liz Kendall,") == 1


def test_actions_between_watched_entities_come_first_and_bare_repeats_go() -> None:
    press = starmer_boycott()
    press.actions = [
        Action(actor="Ofcom", action="investigation", target="", actor_entity_id="ofcom"),
        Action(actor="Ofcom", action="fine", target="small sites", actor_entity_id="ofcom"),
    ]
    statement = ofcom_statement()
    statement.actions = [investigation()]
    digest = build_digest(analyst(), [press, statement], PERIOD, sources=SOURCES)
    assert digest is not None
    section = text_of(digest).split("== Regulatory actions ==\n\n")[1].split("\n\n\n")[0]
    lines = [line for line in section.splitlines() if line.startswith("* ")]
    assert lines == ["* Ofcom opened an investigation into X", "* Ofcom fined small sites"]
