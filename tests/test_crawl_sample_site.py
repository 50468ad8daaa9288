"""Crawl every demo source of the bundled sample site and check the result against its manifest."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl

from crawlers import run_crawl
from regwatch.app.sample_site import DEMO_CONFIG, EXPECTED, serve_sample_site
from regwatch.config import load_config
from regwatch.models import Article, CrawlFailure, parse_datetime

pytestmark = pytest.mark.slow

MANIFEST: dict[str, Any] = json.loads(EXPECTED.read_text("utf-8"))
CRAWLED_PAGES = [page for page in MANIFEST["pages"] if page["crawled"]]
REQUEST_LINE = re.compile(r'"(?:GET|HEAD) (\S+) HTTP')


class _RequestLog(logging.Handler):
    """Collects the paths the sample server was asked for (it logs each request at DEBUG)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.paths: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = REQUEST_LINE.search(record.getMessage())
        if match:
            self.paths.append(match.group(1))


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("sample") / "articles.jsonl"
    server_logger = logging.getLogger("regwatch.app.sample_site.server")
    requests = _RequestLog()
    old_level = server_logger.level
    server_logger.addHandler(requests)
    server_logger.setLevel(logging.DEBUG)
    try:
        with serve_sample_site() as base:
            config = load_config(DEMO_CONFIG, env={}, text_substitutions={"base_url": base})
            stats = run_crawl(
                config.sources, config.settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)}
            )
            yield {
                "base": base,
                "stats": {s.source_id: s for s in stats},
                "articles": read_jsonl(out),
                "requested": list(requests.paths),
            }
    finally:
        server_logger.removeHandler(requests)
        server_logger.setLevel(old_level)


def path_of(crawl: dict[str, Any], url: str) -> str:
    return url.removeprefix(crawl["base"])


def canonical(crawl: dict[str, Any]) -> dict[str, Article]:
    return {path_of(crawl, a.url): a for a in crawl["articles"]}


def test_every_demo_source_is_crawled(crawl: dict[str, Any]) -> None:
    assert sorted(crawl["stats"]) == sorted(MANIFEST["crawl"]["sources"])
    for source_id, stats in crawl["stats"].items():
        mine = [a for a in crawl["articles"] if a.source_id == source_id]
        assert stats.new == len(mine) > 0, source_id


def test_unique_canonical_articles_match_the_manifest(crawl: dict[str, Any]) -> None:
    assert sorted(canonical(crawl)) == sorted(MANIFEST["crawl"]["unique_canonical_paths"])
    assert len(canonical(crawl)) == MANIFEST["crawl"]["unique_articles"]


@pytest.mark.parametrize("page", CRAWLED_PAGES, ids=[p["path"] for p in CRAWLED_PAGES])
def test_each_page_is_extracted_as_the_manifest_says(crawl: dict[str, Any], page: dict[str, Any]) -> None:
    # A GOV.UK page is read from its Content API item (dsit-search's content_api).
    addresses = {page["path"], MANIFEST["api"]["content_path"] + page["path"]}
    fetched = [a for a in crawl["articles"] if path_of(crawl, a.fetch_url) in addresses]

    assert sorted(a.source_id for a in fetched) == sorted(page["sources"])
    for article in fetched:
        assert path_of(crawl, article.url) == page["canonical"]
        assert article.title == page["title"]
        assert article.published == parse_datetime(page["published"])
        assert article.authors == page["authors"]
        assert article.language == "en"
        paragraphs = article.body.split("\n\n")
        assert paragraphs[0] == page["first_paragraph"]
        assert page["last_paragraph"] in paragraphs


def test_syndicated_copy_dedups_to_the_original(crawl: dict[str, Any]) -> None:
    for case in MANIFEST["crawl"]["syndicated_duplicates"]:
        copies = [a for a in crawl["articles"] if path_of(crawl, a.fetch_url) == case["path"]]
        assert copies and all(path_of(crawl, a.url) == case["canonical"] for a in copies)


def test_not_found_page_is_counted_as_an_error_not_a_fetched_page(crawl: dict[str, Any]) -> None:
    ledger = crawl["stats"]["ledger"]
    for path in MANIFEST["crawl"]["not_found"]:
        assert CrawlFailure("http", f"{crawl['base']}{path}", "HTTP 404", status=404) in ledger.failures
        assert path in crawl["requested"]
    ledger_pages = {path_of(crawl, a.fetch_url) for a in crawl["articles"] if a.source_id == "ledger"}
    assert ledger.pages_fetched == len(ledger_pages)


def test_malformed_feed_entries_are_skipped_or_crawled_on_the_page_date(crawl: dict[str, Any]) -> None:
    ledger = crawl["stats"]["ledger"]
    no_link = [e for e in MANIFEST["crawl"]["malformed_entries"] if "path" not in e]
    bad_date = [e for e in MANIFEST["crawl"]["malformed_entries"] if "path" in e]

    unlinked = [
        f for f in ledger.failures if f.error_class == "parse" and f.reason.endswith("no link; skipped")
    ]
    assert len(unlinked) == len(no_link) >= 1
    assert ledger.errors == len(no_link) + len(MANIFEST["crawl"]["not_found"])
    by_path = {p["path"]: p for p in MANIFEST["pages"]}
    for entry in bad_date:
        [article] = [a for a in crawl["articles"] if path_of(crawl, a.fetch_url) == entry["path"]]
        assert article.published == parse_datetime(by_path[entry["path"]]["published"])


def test_robots_blocked_pages_are_never_fetched(crawl: dict[str, Any]) -> None:
    assert "/robots.txt" in crawl["requested"]
    assert "/ledger/rss.xml" in crawl["requested"]
    for path in MANIFEST["crawl"]["robots_blocked"]:
        assert path not in crawl["requested"]
        assert all(path_of(crawl, a.fetch_url) != path for a in crawl["articles"])
    assert sum(s.robots_blocked for s in crawl["stats"].values()) == len(MANIFEST["crawl"]["robots_blocked"])


def test_other_sources_have_no_errors(crawl: dict[str, Any]) -> None:
    for source_id, stats in crawl["stats"].items():
        if source_id != "ledger":
            assert (stats.errors, stats.failures) == (0, []), source_id


def test_script_page_keeps_its_headline_as_text_and_has_no_markup_in_body(crawl: dict[str, Any]) -> None:
    article = canonical(crawl)["/ledger/2026/01/ico-warns-small-firms-over-script-attacks.html"]
    literal = "<script>alert(1)</script>"

    assert literal in article.title
    assert literal in article.body  # quoted in the text, where it is text
    rest = article.body.replace(literal, "")
    assert "<" not in rest and ">" not in rest
    for leaked in (
        "Injected by an inline script",
        "document.cookie",
        "alert(2)",
        "alert(5)",
        "alert('head')",
    ):
        assert leaked not in article.body


def test_wrongly_declared_charset_page_is_decoded_as_utf8(crawl: dict[str, Any]) -> None:
    cases = [p for p in CRAWLED_PAGES if "charset_case" in p]
    assert cases
    for page in cases:
        [article] = [a for a in crawl["articles"] if path_of(crawl, a.fetch_url) == page["path"]]
        text = "\n".join([article.title, article.body, *article.authors])
        for good in page["charset_case"]["must_contain"]:
            assert good in text
        for bad in page["charset_case"]["mojibake_must_not_contain"]:
            assert bad not in text
