"""Saved searches in digests and alerts: matching, their own sections, and a saved-search alert kind.

Also the keyword syntax they share with subscriber keywords: OR binds tighter than AND, NOT excludes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from digests import alert_hits, build_digest, render_preview, select_articles
from digests._keywords import _Text, parse_keyword
from digests._saved import saved_search_matches
from regwatch.models import Article, SavedSearch, Source, Subscriber, TaggedEntity

NOW = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)
SOURCES = {
    "ofcom": Source("ofcom", "Ofcom", "feed", "https://ofcom.example/f", type="regulator", jurisdiction="UK"),
    "press": Source("press", "Politics Daily", "feed", "https://press.example/f", jurisdiction="UK"),
    "eu": Source("eu", "EU Wire", "feed", "https://eu.example/f", jurisdiction="EU"),
}
OFCOM = TaggedEntity("Ofcom", "regulator", ["Ofcom"], "ofcom", 2, 0, True, 0.9)
ACME = TaggedEntity("Acme  Social", "ORG", ["Acme Social"], None, 1, 10, False, 0.2)


def article(slug: str, source: str, title: str, body: str = "", **changes: object) -> Article:
    values: dict[str, object] = {
        "url": f"https://{source}.example/{slug}",
        "source_id": source,
        "title": title,
        "body": body or f"{title}. Written for this test only, long enough to read as an article.",
        "published": NOW - timedelta(hours=2),
        "fetched_at": NOW - timedelta(hours=1),
        "language": "en",
    }
    values.update(changes)
    return Article(**values)  # type: ignore[arg-type]


def saved(name: str = "Age checks", **changes: object) -> SavedSearch:
    values: dict[str, object] = {"id": "s1", "owner": "ana", "name": name, "query": '"age checks"'}
    values.update(changes)
    return SavedSearch(**values)  # type: ignore[arg-type]


# -- the search syntax of keywords and saved queries ------------------------------


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ("fine OR penalty", "Ofcom issued a penalty", True),  # before OR: the word "or" was required
        ("fine OR penalty", "Ofcom issued a warning", False),
        ("grok ofcom OR ico", "Grok and the ICO", True),  # OR binds tighter than the implicit AND
        ("grok ofcom OR ico", "Ofcom and the ICO", False),
        ("ofcom NOT consultation", "Ofcom opens a consultation", False),
        ("ofcom NOT consultation", "Ofcom fines a firm", True),
        ("ofcom or ico", "Ofcom or the ICO", True),  # a lower-case "or" is a word, as in search
        ("ofcom or ico", "Ofcom and the ICO", False),
        ('"online safety" OR deepfake*', "Deepfakes spread", True),
    ],
)
def test_keywords_read_or_and_not_as_search_does(query: str, text: str, expected: bool) -> None:
    assert parse_keyword(query).matches(_Text(text)) is expected


# -- matching one saved search ------------------------------------------------------


def test_a_saved_search_matches_on_every_filter_it_names() -> None:
    one = article("a", "ofcom", "Ofcom on age checks", entities=[OFCOM, ACME])
    ofcom = SOURCES["ofcom"]
    assert saved_search_matches(saved(), one, ofcom)
    assert saved_search_matches(saved(entity="OFCOM"), one, ofcom)  # a watched id or name, any case
    assert saved_search_matches(saved(entity="acme social"), one, ofcom)  # another entity, normalised
    assert not saved_search_matches(saved(entity="Grok"), one, ofcom)
    assert saved_search_matches(saved(source="ofcom", source_types=("regulator",)), one, ofcom)
    assert not saved_search_matches(saved(source="press"), one, ofcom)
    assert not saved_search_matches(saved(source_types=("news",)), one, ofcom)
    assert not saved_search_matches(saved(jurisdictions=("eu",)), one, ofcom)
    assert saved_search_matches(saved(jurisdictions=("uk",)), one, ofcom)
    assert not saved_search_matches(saved(source_types=("regulator",)), one, None)  # not configured
    assert not saved_search_matches(saved(languages=("fr",)), one, ofcom)
    assert saved_search_matches(saved(since="2026-01-12", until="2026-01-12"), one, ofcom)
    assert not saved_search_matches(saved(since="2026-01-13"), one, ofcom)
    assert not saved_search_matches(saved(query="fine"), one, ofcom)


# -- digests ------------------------------------------------------------------------


def analyst(*searches: SavedSearch, **changes: object) -> Subscriber:
    values: dict[str, object] = {
        "id": "ana",
        "name": "Ana",
        "email": "ana@example.org",
        "entities": ("Ofcom",),
        "saved_searches": searches,
    }
    values.update(changes)
    return Subscriber(**values)  # type: ignore[arg-type]


def test_a_saved_search_is_a_section_of_its_own_first_whatever_the_scope() -> None:
    statement = article("s", "ofcom", "Ofcom statement on age checks", entities=[OFCOM])
    press = article("p", "press", "Ofcom fines a platform", entities=[OFCOM])
    eu = article("e", "eu", "Brussels asks for age checks")  # no watched entity, out of the analyst's scope
    subscriber = analyst(saved(), jurisdictions=("UK",), min_relevance=5)
    items = select_articles(subscriber, [statement, press, eu], SOURCES)
    by_url = {item.article.url: item for item in items}
    assert set(by_url) == {statement.url, eu.url}  # press is below min_relevance; the matches are not
    assert by_url[eu.url].section_title == "Age checks" and by_url[eu.url].searches == ["Age checks"]

    digest = build_digest(subscriber, [statement, press, eu], date(2026, 1, 12), sources=SOURCES, now=NOW)
    assert digest is not None
    text = render_preview(digest)
    assert "== Age checks ==" in text
    assert "== Regulator and government statements ==" not in text  # the statement is in its search
    section = text.split("== Age checks ==", 1)[1]
    assert "Ofcom statement on age checks" in section and "Brussels asks for age checks" in section
    assert "saved search “Age checks”" in text  # named in the footer among what is watched


def test_saved_search_sections_come_in_the_subscribers_order_before_entities() -> None:
    first = article("a", "press", "Ofcom and age checks", entities=[OFCOM])
    second = article("b", "press", "Deepfakes and Ofcom", entities=[OFCOM])
    plain = article("c", "press", "Ofcom annual report", entities=[OFCOM])
    subscriber = analyst(saved("Deepfakes", query="deepfake*"), saved("Age checks"))
    digest = build_digest(subscriber, [first, second, plain], date(2026, 1, 12), sources=SOURCES, now=NOW)
    assert digest is not None
    text = render_preview(digest)
    assert text.index("== Deepfakes ==") < text.index("== Age checks ==") < text.index("== Ofcom ==")


# -- alerts -----------------------------------------------------------------------


def test_a_saved_search_marked_alert_triggers_an_alert_with_its_name() -> None:
    match = article("a", "press", "Age checks for chatbots")
    other = article("b", "press", "Nothing to see")
    quiet = analyst(saved())
    assert alert_hits(quiet, [match, other], SOURCES) == []
    loud = analyst(saved(alert=True), jurisdictions=("EU",))  # the saved search's filters, not the scope
    [hit] = alert_hits(loud, [match, other], SOURCES)
    assert hit.article is match and hit.reason == "matches your saved search “Age checks”"
