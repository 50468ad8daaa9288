"""A hostile page cannot stall extraction: megabytes of unclosed tags in JSON-LD, capped JSON-LD strings.

A page under CRAWL_MAX_BYTES whose JSON-LD headline is 3 MB of ``<p `` took
about half an hour to extract (a quadratic pattern), longer than
CRAWL_PROCESS_TIMEOUT, so the whole crawl was killed. ``regwatch extract`` on
such a page must finish; the timeout below only stops a hung run (a linear
extraction takes seconds, the old one half an hour).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crawlers import extract_article
from crawlers.settings import scrapy_settings
from regwatch.settings import BY_NAME, Settings

BODY = "<p>" + "The regulator fined the platform for failing to protect children online. " * 5 + "</p>"


def hostile_page(megabytes: float = 3.0) -> str:
    """A real article whose JSON-LD strings are megabytes of unclosed ``<p `` and separators."""
    third = int(megabytes * 1_000_000 / 3)
    jsonld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "<p " * (third // 3),
        "description": "<div <a <span " * (third // 14),
        "author": [{"@type": "Person", "name": "by  and , " * (third // 10)}],
        "datePublished": "2026-01-12T09:00:00Z",
    }
    return (
        "<html><head><title>Fine for the platform</title>"
        f'<script type="application/ld+json">{json.dumps(jsonld)}</script></head>'
        f"<body><article><h1>Fine for the platform</h1>{BODY}</article></body></html>"
    )


def test_regwatch_extract_finishes_on_a_3_mb_hostile_page(tmp_path: Path) -> None:
    page = tmp_path / "hostile.html"
    page.write_text(hostile_page(), encoding="utf-8")
    assert page.stat().st_size > 3_000_000

    done = subprocess.run(
        [sys.executable, "-c", "from regwatch.app.cli import cli; cli()", "extract", str(page), "--jsonl"],
        capture_output=True,
        text=True,
        timeout=300,  # stops a hung run only: the linear extraction takes seconds
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    record = json.loads(done.stdout)
    assert "fined the platform" in record["body"]
    assert len(record["title"]) <= BY_NAME["EXTRACT_JSONLD_MAX_CHARS"].default


def test_json_ld_strings_are_cut_at_the_setting() -> None:
    article = extract_article(hostile_page(0.3), "https://news.example/fine", jsonld_max_chars=60)
    assert 0 < len(article.title) <= 60
    assert len(article.summary) <= 60
    assert all(len(author) <= 60 for author in article.authors)


def test_the_crawl_passes_the_json_ld_cap_to_extraction() -> None:
    values = scrapy_settings(Settings(env={}, overrides={"EXTRACT_JSONLD_MAX_CHARS": 1234}))
    assert values["EXTRACT_JSONLD_MAX_CHARS"] == 1234
