"""JSON API paging with skip/take (UK Parliament's written statements API), configured as data.

The fixture API answers in the Written Statements API's structure
(``{"totalResults": n, "results": [{"value": {...}, "links": [...]}]}``) and pages
with ``skip``/``take``; each crawl runs the catalogue's own
``parliament-written-statements`` record pointed at 127.0.0.1, with ``take=2``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import run_crawl
from regwatch.config import load_config
from regwatch.models import Article, CrawlStats, Source
from regwatch.settings import Settings
from regwatch.sources import JsonApiSelectors

pytestmark = pytest.mark.slow

API = "/api/writtenstatements/statements"
HTML = "text/html; charset=utf-8"
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:title" content="{title}"></head><body><main><h1>{title}</h1>
<p>{title}. The minister has today informed the House of the government's decision, and of the
timetable on which the regulations giving effect to it will be laid before Parliament.</p>
<p>A copy of the accompanying document has been placed in the libraries of both Houses.</p></main></body></html>"""


def statement(uin: str, made: datetime) -> dict[str, Any]:
    return {
        "value": {
            "id": int(uin.removeprefix("HCWS")),
            "memberId": 4865,
            "memberRole": "Secretary of State for Science, Innovation and Technology",
            "memberName": None,
            "uin": uin,
            "dateMade": made.strftime("%Y-%m-%dT00:00:00"),
            "answeringBodyId": 216,
            "answeringBodyName": "Department for Science, Innovation and Technology",
            "title": f"Statement {uin}",
            "text": f"<p>Statement {uin}.</p>",
            "house": "Commons",
            "hasAttachments": False,
            "attachments": [],
        },
        "links": [{"rel": "self", "href": f"/writtenstatements/statements/{uin}", "method": "GET"}],
    }


def api_site(ages_by_page: list[list[int]]) -> dict[str, tuple[str, str | bytes]]:
    """The API's pages (take=2; ages in days) and one HTML page per statement."""
    now = datetime.now(UTC)
    total = sum(len(ages) for ages in ages_by_page)
    pages: dict[str, tuple[str, str | bytes]] = {}
    number = 1000
    for index, ages in enumerate(ages_by_page):
        results = []
        for age in ages:
            number += 1
            made = now - timedelta(days=age)
            results.append(statement(f"HCWS{number}", made))
            path = f"/written-statements/detail/{made.date().isoformat()}/HCWS{number}"
            pages[path] = (HTML, PAGE.format(title=f"Statement HCWS{number}"))
        query = "take=2" if index == 0 else f"take=2&skip={2 * index}"
        body = json.dumps({"totalResults": total, "results": results})
        pages[f"{API}?{query}"] = ("application/json; charset=utf-8", body)
    return pages


def statements_source(base: str) -> Source:
    [source] = [s for s in load_config(None, env={}).sources if s.id == "parliament-written-statements"]
    assert isinstance(source.selectors, JsonApiSelectors)
    template = source.selectors.link_template.replace("https://questions-statements.parliament.uk", base)
    return replace(
        source, url=f"{base}{API}?take=2", selectors=replace(source.selectors, link_template=template)
    )


def crawl(tmp_path: Path, ages_by_page: list[list[int]], **overrides: Any) -> dict[str, Any]:
    out = tmp_path / "articles.jsonl"
    with serve_pages(api_site(ages_by_page)) as (base, server):
        settings = Settings(
            env={},
            overrides={
                "CRAWL_ALLOWED_HOSTS": base,
                "CRAWL_OBEY_ROBOTS": False,
                "CRAWL_RETRIES": 0,
                "CRAWL_LOOKBACK_DAYS": 30,
                **overrides,
            },
        )
        [stats] = run_crawl(
            [statements_source(base)], settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)}
        )
        index = [path for path in server.requested if path.startswith(API)]
    articles: list[Article] = read_jsonl(out)
    return {"stats": stats, "index": index, "titles": sorted(a.title for a in articles)}


def test_skip_take_paging_reads_every_page_until_total_results(tmp_path: Path) -> None:
    result = crawl(tmp_path, [[1, 1], [2, 3], [4]])
    assert result["index"] == [f"{API}?take=2", f"{API}?take=2&skip=2", f"{API}?take=2&skip=4"]
    assert result["titles"] == [f"Statement HCWS{n}" for n in range(1001, 1006)]
    stats: CrawlStats = result["stats"]
    assert (stats.items_found, stats.errors, stats.index_failure) == (5, 0, None)


def test_paging_stops_at_the_listing_page_limit(tmp_path: Path) -> None:
    result = crawl(tmp_path, [[1, 1], [2, 3], [4]], CRAWL_MAX_LISTING_PAGES=2)
    assert result["index"] == [f"{API}?take=2", f"{API}?take=2&skip=2"]
    assert len(result["titles"]) == 4


def test_paging_stops_after_a_page_wholly_older_than_the_look_back(tmp_path: Path) -> None:
    # Page 2 is half recent, so page 3 is read; page 3 is all old, so page 4 is not.
    result = crawl(tmp_path, [[1, 2], [3, 40], [45, 50], [60]])
    assert result["index"] == [f"{API}?take=2", f"{API}?take=2&skip=2", f"{API}?take=2&skip=4"]
    assert result["titles"] == ["Statement HCWS1001", "Statement HCWS1002", "Statement HCWS1003"]
    assert result["stats"].too_old == 3


def test_without_a_look_back_paging_goes_on_to_the_end(tmp_path: Path) -> None:
    result = crawl(tmp_path, [[1, 2], [45, 50], [60]], CRAWL_LOOKBACK_DAYS=0)
    assert len(result["index"]) == 3 and len(result["titles"]) == 5
