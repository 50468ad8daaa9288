"""GOV.UK search results read through the Content API: document type, dates, organisations, body.

The fixture site serves a search page and Content API items in GOV.UK's own
structure (``tests/data/crawl_sources/govuk_content_*.json``: a press release, a
CMA case, a guide, a statistics announcement), and each crawl runs the
catalogue's own ``govuk-cma`` record pointed at 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import canonical_url, run_crawl
from crawlers._govuk import document_type_label, parse_content_item
from crawlers._json_paths import fill_link_template
from regwatch.app import App, pipeline
from regwatch.config import load_config
from regwatch.errors import ExtractionError
from regwatch.models import Article, CrawlFailure, CrawlStats, Source
from regwatch.settings import Settings
from regwatch.sources import JsonApiSelectors

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data" / "crawl_sources"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"
SEARCH = (
    "/api/search.json?filter_organisations=competition-and-markets-authority&order=-public_timestamp&count=20"
)

NEWS = "/government/news/new-measures-to-protect-children-online"
CMA_CASE = "/cma-cases/cloud-services-market-investigation"
GUIDE = "/report-harmful-online-content"
ANNOUNCEMENT = "/government/statistics/announcements/uk-digital-sector-estimates-2026"
TRUNCATED = "/government/news/cut-off-answer"
NOT_AN_ITEM = "/government/news/gateway-error"
OLD = "/government/news/an-old-story"

ANNOUNCEMENT_PAGE = """<!DOCTYPE html>
<html lang="en" class="govuk-template"><head><meta charset="utf-8">
<title>UK digital sector estimates: 2026 - GOV.UK</title>
<meta name="govuk:format" content="official_statistics_announcement">
<meta property="og:title" content="UK digital sector estimates: 2026"></head>
<body><header role="banner"><nav><a href="/browse">Services and information</a></nav></header>
<main role="main" id="main-content"><h1 class="gem-c-heading__text">UK digital sector estimates: 2026</h1>
<div class="govuk-body"><p>These official statistics will be published on 15 December 2026 at 9:30am. They
estimate the size of the UK digital sector in 2026, measured by gross value added and employment.</p>
<p>Release date: 15 December 2026 9:30am (confirmed). The release is official statistics in development.</p></div>
</main><footer><p>All content is available under the Open Government Licence v3.0</p></footer></body></html>"""


def fixture(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def search_page(*results: tuple[str, str, datetime, str]) -> str:
    """A GOV.UK search API answer listing (link, title, public_timestamp, format) results."""
    listed = [
        {
            "description": f"{title}.",
            "display_type": None,
            "document_type": "edition",
            "format": kind,
            "content_store_document_type": kind,
            "link": link,
            "public_timestamp": when.isoformat(timespec="milliseconds"),
            "title": title,
            "organisations": [{"slug": "competition-and-markets-authority", "acronym": "CMA"}],
            "_id": link,
            "elasticsearch_type": "edition",
            "index": "govuk",
        }
        for link, title, when, kind in results
    ]
    return json.dumps({"results": listed, "total": len(listed), "start": 0, "aggregates": {}})


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


RECENT = [
    (NEWS, "New measures to protect children online", days_ago(1), "press_release"),
    (CMA_CASE, "Cloud services market investigation", days_ago(6), "cma_case"),
    (GUIDE, "Report harmful online content", days_ago(2), "guide"),
    (ANNOUNCEMENT, "UK digital sector estimates: 2026", days_ago(8), "official_statistics_announcement"),
]


def site_pages(*extra: tuple[str, str, datetime, str]) -> dict[str, tuple[str, str | bytes]]:
    return {
        SEARCH.split("?", 1)[0]: (JSON, search_page(*RECENT, *extra)),
        "/api/content" + NEWS: (JSON, fixture("govuk_content_press_release.json")),
        "/api/content" + CMA_CASE: (JSON, fixture("govuk_content_cma_case.json")),
        "/api/content" + GUIDE: (JSON, fixture("govuk_content_guide.json")),
        "/api/content" + ANNOUNCEMENT: (JSON, fixture("govuk_content_statistics_announcement.json")),
        ANNOUNCEMENT: (HTML, ANNOUNCEMENT_PAGE),
        # The HTML pages of the other items: served, but never needed.
        NEWS: (HTML, fixture("govuk_article.html")),
    }


def govuk_source(base: str) -> Source:
    """The catalogue's ``govuk-cma`` record, its search and Content API pointed at ``base``."""
    [source] = [s for s in load_config(None, env={}).sources if s.id == "govuk-cma"]
    assert isinstance(source.selectors, JsonApiSelectors)
    template = source.selectors.content_api.replace("https://www.gov.uk", base)
    return replace(source, url=base + SEARCH, selectors=replace(source.selectors, content_api=template))


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    pages = site_pages(
        (TRUNCATED, "Cut off", days_ago(3), "news_story"),
        (NOT_AN_ITEM, "Gateway error", days_ago(3), "news_story"),
        (OLD, "An old story", days_ago(90), "news_story"),
    )
    pages["/api/content" + TRUNCATED] = (JSON, fixture("govuk_content_press_release.json")[:700])
    pages["/api/content" + NOT_AN_ITEM] = (JSON, '{"error": {"code": 502, "message": "Bad gateway"}}')
    out = tmp_path_factory.mktemp("govuk-content") / "articles.jsonl"
    with serve_pages(pages) as (base, server):
        settings = Settings(
            env={},
            overrides={
                "CRAWL_ALLOWED_HOSTS": base,
                "CRAWL_LOOKBACK_DAYS": 30,
                "CRAWL_OBEY_ROBOTS": False,
                "CRAWL_RETRIES": 0,
            },
        )
        [stats] = run_crawl(
            [govuk_source(base)], settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)}
        )
        articles = {a.url.removeprefix(base): a for a in read_jsonl(out)}
        yield {"base": base, "stats": stats, "articles": articles, "requested": list(server.requested)}


def test_a_search_result_is_read_from_the_content_api_with_its_document_type(crawled: dict[str, Any]) -> None:
    news: Article = crawled["articles"][NEWS]
    assert news.title == "New measures to protect children online"
    assert news.fetch_url == crawled["base"] + "/api/content" + NEWS  # the API answered, not the page
    assert NEWS not in crawled["requested"]
    assert news.section == "Press release"
    assert news.tags == [
        "Department for Science, Innovation and Technology",
        "Ofcom",
        "document_type:press_release",
    ]
    assert news.summary.startswith("The Technology Secretary has set out new steps")
    assert news.language == "en"


def test_content_api_dates_are_timezone_aware_utc(crawled: dict[str, Any]) -> None:
    news = crawled["articles"][NEWS]
    assert news.published == datetime(2026, 1, 14, 10, 30, tzinfo=UTC)
    assert news.updated == datetime(2026, 1, 14, 10, 30, tzinfo=UTC)
    assert news.published.utcoffset() == timedelta(0)


def test_the_body_keeps_paragraphs_lists_and_headings_and_no_markup(crawled: dict[str, Any]) -> None:
    body = crawled["articles"][NEWS].body
    paragraphs = body.split("\n\n")
    assert paragraphs[0] == (
        "- consultation on a minimum age for social media accounts\n"
        "- Ofcom asked to report on enforcement of the Online Safety Act"
    )
    assert "Next steps" in paragraphs
    assert paragraphs[-1].startswith("The consultation will run for twelve weeks")
    assert "Ofcom’s requests for information" in body  # <abbr> text kept, tag gone
    assert "<" not in body


def test_a_cma_case_is_labelled_and_dated_by_its_change_history(crawled: dict[str, Any]) -> None:
    case = crawled["articles"][CMA_CASE]
    assert case.section == "CMA case"
    assert case.tags == ["Competition and Markets Authority", "document_type:cma_case"]
    # Specialist documents carry no first_published_at: the oldest change note dates them.
    assert case.published == datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
    assert case.updated == datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    assert "Date | Action\n20 November 2026 | Final decision published" in case.body.split("\n\n")


def test_a_guide_is_read_from_its_parts_in_its_own_language(crawled: dict[str, Any]) -> None:
    guide = crawled["articles"][GUIDE]
    paragraphs = guide.body.split("\n\n")
    assert paragraphs[0] == "Overview"
    assert "If the platform does not act" in paragraphs
    assert paragraphs[-1].startswith("You can complain to Ofcom")
    assert guide.language == "cy" and guide.section == "Guide"


def test_an_item_without_body_text_is_read_from_its_html_page(crawled: dict[str, Any]) -> None:
    announcement = crawled["articles"][ANNOUNCEMENT]
    assert ANNOUNCEMENT in crawled["requested"]
    assert announcement.fetch_url == crawled["base"] + ANNOUNCEMENT
    assert "gross value added and employment" in announcement.body
    # What the Content API said still labels it, where the page says nothing of its own.
    assert announcement.section == "Official statistics announcement"
    assert "document_type:official_statistics_announcement" in announcement.tags
    assert announcement.published == datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


def test_a_malformed_content_api_answer_is_a_parse_error_of_that_item_only(crawled: dict[str, Any]) -> None:
    stats: CrawlStats = crawled["stats"]
    base = crawled["base"]
    assert stats.errors == 2 and stats.index_failure is None
    truncated, not_an_item = sorted(stats.failures, key=lambda f: f.url.endswith(NOT_AN_ITEM))
    assert (truncated.error_class, truncated.url) == ("parse", f"{base}/api/content{TRUNCATED}")
    assert truncated.reason.startswith("Content API answer is not JSON")
    assert not_an_item == CrawlFailure(
        "parse", f"{base}/api/content{NOT_AN_ITEM}", "Content API answer has no base_path"
    )
    assert set(crawled["articles"]) == {NEWS, CMA_CASE, GUIDE, ANNOUNCEMENT}
    assert stats.items_found == 7


def test_a_result_dated_before_the_look_back_is_not_asked_for(crawled: dict[str, Any]) -> None:
    assert crawled["stats"].too_old == 1
    assert not any(OLD in path for path in crawled["requested"])


# --- a rerun through the fetch ledger ------------------------------------------------


def crawl_app(home: Path, base: str) -> CrawlStats:
    config = home / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "sources": [govuk_source(base).to_dict()],
                "settings": {"CRAWL_OBEY_ROBOTS": False, "CRAWL_ALLOWED_HOSTS": base},
            }
        )
    )
    with App.load(home, config) as app:
        [stats] = pipeline.crawl(app)
    return stats


def content_requests(server: Any) -> dict[str, dict[str, str]]:
    return {path: headers for path, headers in server.request_headers if path.startswith("/api/content/")}


def test_a_rerun_asks_the_content_api_conditionally_and_refetches_nothing(home: Path) -> None:
    with serve_pages(site_pages()) as (base, server):
        server.etags = True
        first = crawl_app(home, base)
        assert (first.new, first.errors, first.pages_fetched) == (4, 0, 5)  # 4 items + 1 page read instead

        server.request_headers.clear()
        second = crawl_app(home, base)
        assert second.index_not_modified == 1 and server.request_headers[0][0] == SEARCH
        assert len(server.request_headers) == 1  # the unchanged search page answered 304: nothing else

        # A new result changes the search page: it is read in full, and every item it lists
        # that the ledger knows is asked for conditionally: 304, nothing downloaded again.
        server.set_page(
            SEARCH.split("?", 1)[0],
            JSON,
            search_page(*RECENT, ("/government/news/fresh", "Fresh", days_ago(0.5), "news_story")),
        )
        server.set_page(
            "/api/content/government/news/fresh",
            JSON,
            fixture("govuk_content_press_release.json")
            .replace(NEWS, "/government/news/fresh")
            .replace("New measures to protect children online", "Fresh measures for platforms")
            .replace("twelve weeks", "eight weeks"),
        )
        server.request_headers.clear()
        third = crawl_app(home, base)

    asked = content_requests(server)
    known = ["/api/content" + path for path in (NEWS, CMA_CASE, GUIDE, ANNOUNCEMENT)]
    assert all(asked[path].get("If-None-Match", "").startswith('"') for path in known)
    assert "If-None-Match" not in asked["/api/content/government/news/fresh"]
    assert ANNOUNCEMENT not in [path for path, _ in server.request_headers]  # its item said: unchanged
    assert (third.not_modified, third.pages_fetched, third.new, third.updated, third.errors) == (
        4,
        1,
        1,
        0,
        0,
    )
    with App.load(home, home / "config.yaml") as app:
        entry = app.store.fetch_ledger.entry("govuk-cma", canonical_url(base + "/api/content" + NEWS))
        assert entry is not None and entry["article_url"] == base + NEWS


# --- the pieces ---------------------------------------------------------------------


def test_a_path_field_keeps_its_slashes_and_refuses_another_site() -> None:
    template = "https://www.gov.uk/api/content{link|path}"
    assert fill_link_template(template, {"link": "/government/news/a b"}) == (
        "https://www.gov.uk/api/content/government/news/a%20b"
    )
    assert fill_link_template(template, {"link": "https://www.nhs.uk/conditions"}) is None
    assert fill_link_template(template, {"link": "//evil.example/x"}) is None
    assert fill_link_template(template, {"title": "no link"}) is None


def test_document_type_labels_read_as_words_with_initialisms() -> None:
    assert document_type_label("consultation_outcome") == "Consultation outcome"
    assert document_type_label("cma_case") == "CMA case"
    assert document_type_label("written_statement") == "Written statement"
    assert document_type_label("") == ""


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"<html><body>Service unavailable</body></html>", "is not JSON"),
        (b"[1, 2]", "is not a JSON object"),
        (b'{"base_path": "/x"}', "has no title"),
        (b'{"base_path": "/x", "title": "X", "details": "body"}', "details is not an object"),
    ],
)
def test_an_answer_that_is_not_a_content_item_is_refused(answer: bytes, problem: str) -> None:
    with pytest.raises(ExtractionError, match=problem):
        parse_content_item(answer, "https://www.gov.uk/api/content/x")
