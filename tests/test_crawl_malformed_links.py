"""One malformed address loses only itself: never the feed, sitemap, listing page or article around it.

"http://[abc" (an unclosed IPv6 host) makes Python's URL functions raise ValueError; a feed,
sitemap or page holding one used to fail whole.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import extract_article, parse_feed, parse_sitemap, run_crawl
from crawlers._discover import declared_feeds, robots_sitemaps
from crawlers._links import learn_link_groups
from crawlers._text import join_url, links_elsewhere
from regwatch.models import Source
from regwatch.settings import Settings
from regwatch.sources import ListingSelectors

BAD = "http://[abc/story"
BASE = "https://news.example.org"
TEXT = "".join(
    f"<p>The regulator said the platform had failed to protect children online, part {i}.</p>"
    for i in range(5)
)


@pytest.mark.parametrize("href", [BAD, "//[::1/x", "http://example.org:99999999/x"])
def test_a_malformed_address_joins_to_nothing(href: str) -> None:
    assert join_url(BASE, href) is None
    assert join_url(BASE, "/ok.html") == f"{BASE}/ok.html"


RSS = (
    '<?xml version="1.0"?><rss><channel><title>T</title>'
    f"<item><title>Bad</title><link>{BAD}</link></item>"
    f"<item><title>Good</title><link>{BASE}/good.html</link></item></channel></rss>"
)
ATOM = (
    '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
    f'<entry><title>Bad</title><link href="{BAD}"/></entry>'
    f'<entry><title>Good</title><link href="{BASE}/good.html"/></entry></feed>'
)
JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "T",
        "items": [
            {"id": "1", "url": BAD, "title": "Bad"},
            {"id": "2", "url": f"{BASE}/good.html", "title": "Good"},
        ],
    }
)


@pytest.mark.parametrize("body", [RSS, ATOM, JSON_FEED], ids=["rss", "atom", "json"])
def test_a_feed_entry_with_a_malformed_link_is_skipped_and_the_rest_kept(body: str) -> None:
    feed = parse_feed(body.encode(), f"{BASE}/feed")
    assert [e.link for e in feed.entries] == [f"{BASE}/good.html"]
    assert len(feed.skipped) == 1
    assert "malformed link" in feed.skipped[0]  # what ops read: the address, not "no link"


def test_a_sitemap_entry_with_a_malformed_address_is_skipped_and_the_rest_kept() -> None:
    body = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{BAD}</loc></url><url><loc>{BASE}/good.html</loc></url></urlset>"
    ).encode()
    assert [e.loc for e in parse_sitemap(body, f"{BASE}/sitemap.xml").entries] == [f"{BASE}/good.html"]


def test_discovery_skips_a_malformed_feed_or_sitemap_address() -> None:
    page = (
        f'<html><head><base href="{BAD}"><link rel="alternate" type="application/rss+xml" href="{BAD}">'
        '<link rel="alternate" type="application/rss+xml" href="/feed.xml"></head><body></body></html>'
    )
    assert [f.url for f in declared_feeds(page, f"{BASE}/")] == [f"{BASE}/feed.xml"]
    assert robots_sitemaps(f"Sitemap: {BAD}\nSitemap: /sitemap.xml", f"{BASE}/robots.txt") == [
        f"{BASE}/sitemap.xml"
    ]


def test_a_listing_page_with_one_malformed_link_still_gives_its_groups() -> None:
    links = "".join(
        f'<li><a href="/news/2026/01/story-{i}.html">Story {i} about the regulator</a></li>' for i in range(8)
    )
    page = f'<html><body><ul>{links}<li><a href="{BAD}">A broken story link</a></li></ul></body></html>'
    groups = learn_link_groups(page, f"{BASE}/news/")
    assert groups and groups[0].pattern.shape.startswith("/news/")


def test_an_article_with_a_malformed_canonical_or_heading_link_is_extracted() -> None:
    teasers = "".join(
        f'<div class="card"><h3><a href="{BAD}{i}">Other story {i}</a></h3></div>' for i in range(3)
    )
    page = (
        f'<html><head><title>Fined</title><link rel="canonical" href="{BAD}"></head><body><article>'
        f'<h1><a href="{BAD}">Fined</a></h1>{TEXT}{teasers}</article></body></html>'
    )
    article = extract_article(page, f"{BASE}/2026/01/fined.html")
    assert article.title == "Fined" and "part 4" in article.body
    assert article.url == f"{BASE}/2026/01/fined.html"  # the page's own address, not the malformed one
    assert links_elsewhere(lxml.html.fromstring(f'<h2><a href="{BAD}">Other story</a></h2>'), BASE)


@pytest.mark.slow
def test_a_listing_crawl_follows_the_good_links_beside_a_malformed_one(tmp_path: Path) -> None:
    article = (
        f"<html><head><title>Fined</title></head><body><article><h1>Fined</h1>{TEXT}</article></body></html>"
    )
    pages = {
        "/news/": (
            "text/html",
            f"<html><body><a href='{BAD}'>Bad</a> <a href='/news/fined.html'>Fined</a></body></html>",
        ),
        "/news/fined.html": ("text/html; charset=utf-8", article),
    }
    out = tmp_path / "articles.jsonl"
    with serve_pages(pages) as (base, _):
        source = Source(
            id="news",
            name="N",
            kind="listing",
            url=f"{base}/news/",
            selectors=ListingSelectors.parse({"link": "a::attr(href)"}),
        )
        settings = Settings(
            env={}, overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_OBEY_ROBOTS": False, "CRAWL_RETRIES": 0}
        )
        stats = run_crawl([source], settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
    assert [a.title for a in read_jsonl(out)] == ["Fined"]
    assert stats[0].errors == 0
