"""EXTRACT_MAX_BODY_CHARS: a body longer than the cap is cut at a paragraph, logged, and stored cut."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import extract_article, run_crawl
from crawlers._govuk import ContentItem, content_item_article
from crawlers.settings import scrapy_settings
from regwatch.models import Source
from regwatch.settings import BY_NAME, Settings

URL = "https://news.example.org/2026/01/long-report.html"
PARAGRAPH = "The regulator said the rules would apply to every platform from next year, after a consultation."


def long_page(paragraphs: int) -> str:
    body = "".join(f"<p>{PARAGRAPH} Part {n}.</p>\n" for n in range(paragraphs))
    return (
        "<html><head><title>A long report</title></head>"
        f"<body><article><h1>A long report</h1>{body}</article></body></html>"
    )


def test_a_body_over_max_body_chars_is_cut_at_a_paragraph_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="crawlers"):
        article = extract_article(long_page(100), URL, "press", max_body_chars=2000)
    assert len(article.body) <= 2000
    assert article.body.endswith(".") and article.body.split("\n\n")[-1].startswith(PARAGRAPH)
    [record] = [r for r in caplog.records if "EXTRACT_MAX_BODY_CHARS" in r.getMessage()]
    assert record.getMessage().startswith(f"source=press url={URL} body of ")


def test_the_default_cap_cuts_a_body_of_over_a_million_characters() -> None:
    article = extract_article(long_page(12_000), URL)
    assert BY_NAME["EXTRACT_MAX_BODY_CHARS"].default * 0.9 < len(article.body)
    assert len(article.body) <= BY_NAME["EXTRACT_MAX_BODY_CHARS"].default


def test_zero_means_no_limit_and_a_short_body_is_untouched() -> None:
    whole = extract_article(long_page(100), URL, max_body_chars=0)
    assert len(whole.body) > 9000
    assert extract_article(long_page(3), URL).body.count(PARAGRAPH) == 3


def test_a_content_api_body_is_cut_too() -> None:
    item = ContentItem(
        title="A long statement",
        page_url="https://www.gov.uk/government/news/long",
        summary="",
        body_html="".join(f"<p>{PARAGRAPH} Part {n}.</p>" for n in range(100)),
        published=None,
        updated=None,
        language="en",
        document_type="news_story",
        section="News story",
        organisations=(),
    )
    article = content_item_article(
        item, "https://www.gov.uk/api/content/x", "gov", min_body_chars=10, max_body_chars=1000
    )
    assert len(article.body) <= 1000 and article.body.endswith(".")


def test_the_setting_reaches_the_crawl_and_the_stored_body_is_cut(tmp_path: Path) -> None:
    assert (
        scrapy_settings(Settings(env={}, overrides={"EXTRACT_MAX_BODY_CHARS": 1234}))[
            "EXTRACT_MAX_BODY_CHARS"
        ]
        == 1234
    )
    out = tmp_path / "articles.jsonl"
    pages = {
        "/feed.xml": (
            "application/rss+xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Press</title>'
            "<item><title>A long report</title><link>{base}/long.html</link>"
            "<pubDate>Mon, 12 Jan 2026 09:00:00 GMT</pubDate></item></channel></rss>",
        ),
        "/long.html": ("text/html; charset=utf-8", long_page(200)),
    }
    with serve_pages(pages) as (base, _):
        settings = Settings(
            env={},
            overrides={
                "EXTRACT_MAX_BODY_CHARS": 3000,
                "CRAWL_ALLOWED_HOSTS": base,  # a bare host allows ports 80 and 443 only
                "CRAWL_LOOKBACK_DAYS": 0,
                "CRAWL_RETRIES": 0,
                "CRAWL_PROCESS_TIMEOUT": 120,
            },
        )
        [stats] = run_crawl(
            [Source(id="press", name="Press", kind="feed", url=f"{base}/feed.xml")],
            settings,
            jsonl_pipelines(),
            {"REGWATCH_TEST_JSONL": str(out)},
        )
    assert stats.new == 1, stats.failures
    [article] = read_jsonl(out)
    assert 2500 < len(article.body) <= 3000
