"""The built-in source catalogue: it loads, says how each endpoint was checked, is documented,
and each structured kind crawls a fixture written in the real structure of that source.

The record checks run once per source (parametrized by id), so one bad record never hides another.

The fixtures (``tests/data/crawl_sources/``) copy the shape of GOV.UK's search API and
Atom feeds, a Guardian RSS feed and article, the Federal Register API and the EDPB's
Drupal RSS feed; each test crawls the catalogue's own record, pointed at 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import run_crawl
from regwatch.config import load_config
from regwatch.models import SOURCE_KINDS, SOURCE_TYPES, Article, Source
from regwatch.settings import Settings
from regwatch.sources import SELECTOR_SCHEMAS, JsonApiSelectors

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data" / "crawl_sources"
JURISDICTIONS = {"UK", "EU", "US", "IE", "AU"}


def catalogue() -> list[Source]:
    return list(load_config(None, env={}).sources)


CATALOGUE = catalogue()
each_source = pytest.mark.parametrize("source", CATALOGUE, ids=[s.id for s in CATALOGUE])


def test_the_catalogue_has_at_least_25_sources_with_unique_ids() -> None:
    sources = catalogue()
    assert len(sources) >= 25
    assert len({s.id for s in sources}) == len(sources)
    assert sum(s.enabled for s in sources) >= 10


@each_source
def test_the_source_is_a_complete_record(source: Source) -> None:
    assert source.kind in SOURCE_KINDS and source.type in SOURCE_TYPES
    assert source.jurisdiction in JURISDICTIONS
    assert source.url.startswith("https://")
    assert source.schedule.startswith(("every ", "cron "))
    # Its selectors are its kind's schema (required keys and CSS checked when it loaded)
    # and write back to the same record.
    assert isinstance(source.selectors, SELECTOR_SCHEMAS[source.kind])
    assert Source.from_dict(source.to_dict()) == source


@each_source
def test_the_source_says_how_it_was_checked_and_if_disabled_what_to_check(source: Source) -> None:
    assert len(source.notes) >= 20, "notes must say how the endpoint was checked"
    if not source.enabled:
        assert "check" in source.notes.lower(), "say what to check before enabling"


@each_source
def test_the_readme_table_lists_the_source_with_its_kind_and_state(source: Source) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Adding a source", 1)[1].split("\n### ", 1)[0]
    rows = {
        row[0]: row
        for row in re.findall(r"^\| `([a-z0-9-]+)` \| (\w+) \| (\w+) \| (\w+) \| (.+) \|$", section, re.M)
    }
    assert source.id in rows, f"README 'Adding a source' table misses {source.id}"
    _, kind, source_type, jurisdiction, enabled = rows[source.id]
    assert (kind, source_type, jurisdiction) == (source.kind, source.type, source.jurisdiction)
    assert (enabled == "yes") == source.enabled


def test_the_catalogue_covers_the_jurisdictions_and_kinds_it_promises() -> None:
    sources = catalogue()
    assert {s.jurisdiction for s in sources} == JURISDICTIONS
    # A listing's hand-written selectors were guesses: those sources follow what the site declares (auto).
    assert {"feed", "json_api", "auto"} <= {s.kind for s in sources} <= set(SOURCE_KINDS)
    assert {"news", "regulator", "government", "parliament"} <= {s.type for s in sources}


@each_source
def test_no_source_ships_disabled_for_want_of_a_confirmed_address(source: Source) -> None:
    assert source.enabled, "an unconfirmed address is kind auto (with the address as a hint), not disabled"
    if source.kind == "auto":
        assert "auto" in source.notes and "2026-12-06" in source.notes, "say how it was checked"
        assert "fundus" not in source.notes.lower()


def test_the_readme_table_lists_no_source_the_catalogue_lacks() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Adding a source", 1)[1].split("\n### ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.MULTILINE))
    assert listed == {s.id for s in catalogue()}


# --- fixtures in each source's real structure, crawled with the catalogue's records ---------

HTML = "text/html; charset=utf-8"
PLAIN_PAGE = (
    '<html lang="en"><head><title>{title}</title><meta property="og:title" content="{title}"></head><body>'
    "<main><h1>{title}</h1><p>{title}. The notice sets out what the agency decided and why, who it "
    "affects, and when the rule takes effect for the businesses concerned.</p><p>Comments may be "
    "submitted until the closing date given in the document.</p></main></body></html>"
)


def fixture(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def local(source_id: str, base: str, path: str) -> Source:
    [source] = [s for s in catalogue() if s.id == source_id]
    return replace(source, url=base + path, enabled=True)


def govuk_local(base: str, path: str) -> Source:
    """The catalogue's DSIT search record, its search and Content API both pointed at ``base``."""
    source = local("govuk-dsit", base, path)
    assert isinstance(source.selectors, JsonApiSelectors)
    template = source.selectors.content_api.replace("https://www.gov.uk", base)
    return replace(source, selectors=replace(source.selectors, content_api=template))


def parliament_local(base: str) -> Source:
    """The catalogue's written-statements record, its API and page host both pointed at ``base``."""
    source = local("parliament-written-statements", base, "/api/writtenstatements/statements?take=20")
    assert isinstance(source.selectors, JsonApiSelectors)
    template = source.selectors.link_template.replace("https://questions-statements.parliament.uk", base)
    return replace(source, selectors=replace(source.selectors, link_template=template))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    govuk = fixture("govuk_article.html")
    consultation = govuk.replace("New measures to protect children online", "AI Growth Lab").replace(
        "/government/news/new-measures-to-protect-children-online", "/government/consultations/ai-growth-lab"
    )
    pages: dict[str, tuple[str, str | bytes]] = {
        "/api/search.json": ("application/json", fixture("govuk_search.json")),
        "/government/organisations/dsit.atom": (
            "application/atom+xml; charset=utf-8",
            fixture("govuk_org.atom"),
        ),
        "/api/content/government/news/new-measures-to-protect-children-online": (
            "application/json; charset=utf-8",
            fixture("govuk_content_press_release.json"),
        ),
        "/api/content/government/consultations/ai-growth-lab": (
            "application/json; charset=utf-8",
            fixture("govuk_content_consultation.json"),
        ),
        "/government/news/new-measures-to-protect-children-online": (HTML, govuk),
        "/government/consultations/ai-growth-lab": (HTML, consultation),
        "/uk/technology/rss": ("text/xml; charset=UTF-8", fixture("guardian_rss.xml")),
        "/technology/2026/jan/14/ofcom-investigation-x-grok-deepfakes": (
            HTML,
            fixture("guardian_article.html"),
        ),
        "/api/v1/documents.json": ("application/json; charset=utf-8", fixture("federal_register.json")),
        "/feed/news_en": ("application/rss+xml; charset=utf-8", fixture("edpb_rss.xml")),
        "/api/writtenstatements/statements": (
            "application/json; charset=utf-8",
            fixture("parliament_written_statements.json"),
        ),
        "/written-statements/detail/2026-01-29/HCWS1289": (HTML, fixture("parliament_statement.html")),
        "/written-statements/detail/2026-01-28/HLWS702": (
            HTML,
            fixture("parliament_statement.html")
            .replace("29 January 2026", "28 January 2026")
            .replace("<h1>Online Safety Act", "<h1>Lords: Online Safety Act"),
        ),
    }
    for path, title in (
        (
            "/documents/2026/01/13/2026-00812/trade-regulation-rule-on-the-use-of-consumer-reviews-and-testimonials",
            "Trade Regulation Rule on the Use of Consumer Reviews and Testimonials",
        ),
        (
            "/documents/2026/01/12/2026-00790/agency-information-collection-activities",
            "Information Collection",
        ),
        ("/news/news/2026/edpb-adopts-statement-age-assurance_en", "EDPB adopts statement on age assurance"),
    ):
        pages[path] = (HTML, PLAIN_PAGE.format(title=title))
    out = tmp_path_factory.mktemp("catalogue") / "articles.jsonl"
    with serve_pages(pages) as (base, server):
        sources = [
            govuk_local(base, "/api/search.json?filter_organisations=dsit&order=-public_timestamp&count=20"),
            local("govuk-dsit-atom", base, "/government/organisations/dsit.atom"),
            local("guardian-technology", base, "/uk/technology/rss"),
            local("federal-register-ftc", base, "/api/v1/documents.json?order=newest"),
            local("edpb-news", base, "/feed/news_en"),
            parliament_local(base),
        ]
        settings = Settings(
            env={},
            overrides={
                "CRAWL_ALLOWED_HOSTS": base,
                "CRAWL_LOOKBACK_DAYS": 0,
                "CRAWL_OBEY_ROBOTS": False,
                "CRAWL_RETRIES": 0,
            },
        )
        stats = run_crawl(sources, settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
        yield {"base": base, "stats": {s.source_id: s for s in stats}, "articles": read_jsonl(out)}


def articles_of(crawled: dict[str, Any], source_id: str) -> dict[str, Article]:
    return {a.title: a for a in crawled["articles"] if a.source_id == source_id}


def test_govuk_search_api_results_become_articles_with_govuk_metadata(crawled: dict[str, Any]) -> None:
    articles = articles_of(crawled, "govuk-dsit")
    assert set(articles) == {"New measures to protect children online", "AI Growth Lab"}
    news = articles["New measures to protect children online"]
    assert news.published == datetime(2026, 1, 14, 10, 30, tzinfo=UTC)
    assert news.url == crawled["base"] + "/government/news/new-measures-to-protect-children-online"
    # Read from the Content API, which says what kind of document it is.
    assert (
        news.fetch_url
        == crawled["base"] + "/api/content/government/news/new-measures-to-protect-children-online"
    )
    assert news.section == "Press release" and "document_type:press_release" in news.tags
    assert articles["AI Growth Lab"].section == "Open consultation"
    assert news.summary.startswith("The Technology Secretary has set out new steps")
    assert "minimum age for social media accounts" in news.body
    assert "Open Government Licence" not in news.body and "Skip to main content" not in news.body
    assert crawled["stats"]["govuk-dsit"].items_found == 2


def test_a_govuk_atom_feed_reaches_the_same_pages(crawled: dict[str, Any]) -> None:
    atom = articles_of(crawled, "govuk-dsit-atom")
    assert set(atom) == {"New measures to protect children online", "AI Growth Lab"}
    assert atom["AI Growth Lab"].url == crawled["base"] + "/government/consultations/ai-growth-lab"


def test_a_guardian_feed_and_article_give_byline_section_tags_and_time(crawled: dict[str, Any]) -> None:
    [article] = articles_of(crawled, "guardian-technology").values()
    assert article.title == "Ofcom opens investigation into X over Grok deepfakes"
    assert article.authors == ["Dan Milmo"]
    assert article.published == datetime(2026, 1, 14, 17, 45, tzinfo=UTC)
    assert article.section == "Technology"
    assert "Ofcom" in article.tags
    assert article.body.count("\n\n") >= 2  # paragraphs kept
    assert "Support the Guardian" not in article.body and "All rights reserved" not in article.body
    stats = crawled["stats"]["guardian-technology"]
    assert stats.items_found == 2 and [f.status for f in stats.failures] == [404]  # the live blog


def test_federal_register_results_are_followed_to_their_html_pages(crawled: dict[str, Any]) -> None:
    articles = articles_of(crawled, "federal-register-ftc")
    rule = articles["Trade Regulation Rule on the Use of Consumer Reviews and Testimonials"]
    assert rule.published is not None and rule.published.date().isoformat() == "2026-01-13"
    assert rule.summary.startswith("The Federal Trade Commission amends its rule")
    assert len(articles) == 2


def test_an_edpb_drupal_feed_is_read_despite_its_xml_base(crawled: dict[str, Any]) -> None:
    [article] = articles_of(crawled, "edpb-news").values()
    assert article.title == "EDPB adopts statement on age assurance"
    assert article.published == datetime(2026, 1, 13, 14, 2, 10, tzinfo=UTC)


def test_parliament_statements_are_linked_by_the_template_from_date_and_uin(crawled: dict[str, Any]) -> None:
    articles = {a.url: a for a in crawled["articles"] if a.source_id == "parliament-written-statements"}
    base = crawled["base"]
    assert set(articles) == {
        base + "/written-statements/detail/2026-01-29/HCWS1289",
        base + "/written-statements/detail/2026-01-28/HLWS702",
    }
    commons = articles[base + "/written-statements/detail/2026-01-29/HCWS1289"]
    assert commons.title == "Online Safety Act: Categorisation Thresholds"
    assert commons.published is not None and commons.published.date().isoformat() == "2026-01-29"
    assert "register of categorised services" in commons.body
    stats = crawled["stats"]["parliament-written-statements"]
    # The third result has no UIN yet: skipped, not fetched at a half-filled URL.
    assert stats.items_found == 2 and stats.index_failure is None
    assert stats.errors == 0 and stats.failures == []


def test_a_link_template_quotes_fields_keeps_the_written_day_and_refuses_a_missing_field() -> None:
    from crawlers._json_paths import fill_link_template

    template = "https://example.org/detail/{value.dateMade|date}/{value.uin}"
    made = {"value": {"dateMade": "2026-01-29T23:30:00-05:00", "uin": "HC WS/1"}}
    assert fill_link_template(template, made) == "https://example.org/detail/2026-01-29/HC%20WS%2F1"
    assert fill_link_template(template, {"value": {"dateMade": "29 Jan 2026", "uin": "X"}}) == (
        "https://example.org/detail/2026-01-29/X"
    )
    assert fill_link_template(template, {"value": {"dateMade": "2026-01-29", "uin": ""}}) is None
    assert fill_link_template(template, {"value": {"uin": "X"}}) is None


# --- auto records: the catalogue's own, against pages in the shape their sites serve -----------


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The WordPress-shaped cnam-news page (posts and comments feeds declared) and fca-news's feed hint."""
    post = "/coimisiun-na-mean-opens-investigation-into-x/"
    pages: dict[str, tuple[str, str | bytes]] = {
        "/news/": (HTML, fixture("wordpress_news.html")),
        "/feed/": ("application/rss+xml; charset=UTF-8", fixture("wordpress_feed.xml")),
        post: (HTML, PLAIN_PAGE.format(title="Coimisiún na Meán opens investigation into X")),
        "/fca/news": (HTML, "<html><head><title>News | FCA</title></head><body><p>News</p></body></html>"),
        "/fca/news/rss.xml": ("application/rss+xml", fixture("edpb_rss.xml")),
        "/news/news/2026/edpb-adopts-statement-age-assurance_en": (
            HTML,
            PLAIN_PAGE.format(title="Age assurance"),
        ),
    }
    out = tmp_path_factory.mktemp("auto") / "articles.jsonl"
    with serve_pages(pages) as (base, server):
        fca = local("fca-news", base, "/fca/news")
        hinted = replace(
            fca.selectors, feed=fca.selectors.feed.replace("https://www.fca.org.uk", base + "/fca")
        )  # type: ignore[call-arg]
        settings = Settings(
            env={},
            overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_LOOKBACK_DAYS": 0, "CRAWL_RETRIES": 0},
        )
        sources = [local("cnam-news", base, "/news/"), replace(fca, selectors=hinted)]
        stats = run_crawl(sources, settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
        yield {
            "base": base,
            "stats": {s.source_id: s for s in stats},
            "articles": read_jsonl(out),
            "requested": list(server.requested),
        }


def test_a_wordpress_site_is_followed_by_its_declared_posts_feed_not_its_comments_feed(
    discovered: dict[str, Any],
) -> None:
    base = discovered["base"]
    found = discovered["stats"]["cnam-news"].discovery
    assert (found["method"], found["address"]) == ("feed", base + "/feed/")
    assert 'declared by <link rel="alternate"' in found["reason"]
    assert base + "/comments/feed/: a comments feed" in found["rejected"]
    assert "/comments/feed/" not in discovered["requested"]
    [article] = articles_of(discovered, "cnam-news").values()
    assert article.url.rstrip("/") == base + "/coimisiun-na-mean-opens-investigation-into-x"


def test_a_records_feed_address_is_tried_first_and_kept_when_it_is_a_dated_feed(
    discovered: dict[str, Any],
) -> None:
    base = discovered["base"]
    found = discovered["stats"]["fca-news"].discovery
    assert (found["method"], found["address"]) == ("feed", base + "/fca/news/rss.xml")
    assert found["reason"].startswith("the record's feed address")
    # Kept at once: no conventional address was asked for.
    assert "/fca/news/feed/" not in discovered["requested"] and "/feed/" in discovered["requested"]
    assert articles_of(discovered, "fca-news")
