"""Selecting, ranking and rendering digests from hand-made, nlp-shaped articles."""

from __future__ import annotations

import email.policy
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser

import pytest

import digests
from digests import build_digest, render_preview, select_articles
from regwatch.models import Article, Digest, Source, Subscriber, TaggedEntity

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


def test_exported_names_are_pinned() -> None:
    assert sorted(digests.__all__) == [
        "AlsoReported",
        "Deliverer",
        "DigestItem",
        "OutboxDelivery",
        "SmtpDelivery",
        "build_digest",
        "deliverer_from_settings",
        "render_preview",
        "select_articles",
    ]


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
    assert shape.headings == ["Regulator and government statements", "X", "Nigel Farage"]
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
    assert "Mentions: X 11 · Grok 7 · Ofcom 5 · Liz Kendall 1" in text  # most mentioned first
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


def test_watermark_is_the_newest_fetch_among_all_articles_given() -> None:
    unwatched = article("weather", "politics", "Storm", [], published=MONDAY + timedelta(days=1))
    digest = build_digest(analyst(), [ofcom_statement(), unwatched], PERIOD, sources=SOURCES)
    assert digest is not None
    assert digest.watermark == unwatched.fetched_at
    assert digest.article_ids == [ofcom_statement().id]


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
