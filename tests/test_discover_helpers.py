"""What discovery reads from a site, unit by unit: declared feeds, conventional addresses, robots.txt
Sitemap lines, sections, JSON Feed, gzipped sitemaps, and article links learned by structure."""

from __future__ import annotations

import gzip
import json

import pytest

from crawlers import parse_feed, parse_sitemap
from crawlers._discover import (
    conventional_feeds,
    declared_feeds,
    document_kind,
    in_section,
    robots_sitemaps,
    section_of,
)
from crawlers._health import feed_content_problem
from crawlers._links import LinkPattern, learn_link_groups, links_matching, shape_matches
from regwatch.errors import ConfigError
from regwatch.models import Source

BASE = "https://news.example.org"


def test_declared_feeds_are_read_from_link_rel_alternate_in_document_order() -> None:
    page = f"""<html><head><base href="{BASE}/en/">
    <link rel="stylesheet" href="/site.css">
    <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/12">
    <link rel="alternate" hreflang="fr" href="/fr/">
    <link rel="Alternate home" type="application/atom+xml; charset=utf-8" href="atom.xml" title=" Latest  news ">
    <link rel="alternate" type="application/feed+json" href="/feed.json">
    <link rel="alternate" type="application/rss+xml" href="/comments/feed/" title="Site &raquo; Comments Feed">
    <link rel="alternate" type="application/atom+xml" href="atom.xml">
    </head><body></body></html>"""
    found = declared_feeds(page, BASE + "/en/news")
    assert [(f.url, f.type, f.title) for f in found] == [
        (BASE + "/en/atom.xml", "application/atom+xml", "Latest news"),
        (BASE + "/feed.json", "application/feed+json", ""),
        (BASE + "/comments/feed/", "application/rss+xml", "Site » Comments Feed"),
    ]
    assert [f.is_comments for f in found] == [False, False, True]


def test_declared_feeds_of_a_page_that_is_not_html_are_none() -> None:
    assert declared_feeds(b"", BASE) == []


def test_conventional_feed_addresses_come_under_the_section_first_then_at_the_root() -> None:
    assert conventional_feeds(BASE + "/news/?page=1", "/news/") == [
        BASE + "/news/feed/",
        BASE + "/news/rss.xml",
        BASE + "/news/atom.xml",
        BASE + "/news/?page=1&format=rss",
        BASE + "/feed/",
        BASE + "/rss.xml",
        BASE + "/atom.xml",
    ]
    assert conventional_feeds(BASE + "/", "/") == [
        BASE + "/feed/",
        BASE + "/rss.xml",
        BASE + "/atom.xml",
        BASE + "/?format=rss",
    ]


def test_robots_sitemap_lines_are_read_in_any_group_and_case() -> None:
    robots = (
        "User-agent: Googlebot\nDisallow: /search\nsitemap: /sitemaps/news.xml  # news first\n\n"
        "User-agent: *\nSITEMAP: https://cdn.example.org/sitemap-index.xml\nSitemap: /sitemaps/news.xml\n"
        "Sitemap:\nDisallow: /private/\n"
    )
    assert robots_sitemaps(robots, BASE + "/robots.txt") == [
        BASE + "/sitemaps/news.xml",
        "https://cdn.example.org/sitemap-index.xml",
    ]


@pytest.mark.parametrize(
    ("url", "declared", "section"),
    [
        (BASE + "/", "", "/"),
        (BASE, "", "/"),
        (BASE + "/news/", "", "/news/"),
        (BASE + "/news-and-updates", "", "/news-and-updates/"),
        (BASE + "/codes/rulings.html", "", "/codes/"),
        (BASE + "/codes/rulings.html", "/rulings", "/rulings/"),
    ],
)
def test_a_sources_section_is_its_path_or_what_its_record_declares(
    url: str, declared: str, section: str
) -> None:
    assert section_of(url, declared) == section


def test_in_section_is_a_path_prefix_on_the_same_site() -> None:
    assert in_section("https://www.example.org/news/2026/a", "example.org", "/news/")
    assert in_section("https://example.org/news", "example.org", "/news/")
    assert not in_section("https://example.org/newsletter/a", "example.org", "/news/")
    assert not in_section("https://other.org/news/a", "example.org", "/news/")
    assert in_section("https://example.org/anything", "example.org", "/")


@pytest.mark.parametrize(
    ("body", "content_type", "kind"),
    [
        (b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', "text/xml", "feed"),
        (b'<feed xmlns="http://www.w3.org/2005/Atom"/>', "", "feed"),
        (
            b'\xef\xbb\xbf<?xml version="1.0"?><!-- ' + b"x" * 2000 + b" --><rdf:RDF><channel/></rdf:RDF>",
            "",
            "feed",
        ),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', "application/json", "feed"),
        (
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>',
            "",
            "sitemap",
        ),
        (b"<sitemapindex></sitemapindex>", "application/xml", "sitemap"),
        (b"<!DOCTYPE html><html></html>", "", "html"),
        (b"<div>hi</div>", "text/html; charset=utf-8", "html"),
        (b'{"results": []}', "application/json", "other"),
    ],
)
def test_document_kind_sniffs_what_an_answer_is(body: bytes, content_type: str, kind: str) -> None:
    assert document_kind(body, content_type) == kind


def test_a_json_feed_is_read_like_any_feed() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Regulator news",
            "items": [
                {
                    "id": "1",
                    "url": "/news/fine",
                    "title": "Regulator fines a platform",
                    "date_published": "2026-01-14T10:00:00Z",
                    "authors": [{"name": "Press Office"}, {"name": "Jo Bloggs"}],
                    "tags": ["enforcement"],
                    "content_html": "<p>The regulator has fined a platform.</p>",
                },
                {"id": "2", "title": "No link"},
                {"id": "3", "external_url": "https://elsewhere.example/x", "date_modified": "yesterday"},
            ],
        }
    ).encode()
    feed = parse_feed(body, BASE + "/feed.json")
    assert (feed.kind, feed.title) == ("json", "Regulator news")
    first, third = feed.entries
    assert first.link == BASE + "/news/fine" and first.published is not None
    assert first.summary == "The regulator has fined a platform." and first.tags == ["enforcement"]
    assert "Jo Bloggs" in first.authors
    assert third.link == "https://elsewhere.example/x" and third.published is None
    assert feed.skipped == ["entry 2 (No link): no link"]
    assert "unreadable date 'yesterday'" in feed.problems[0]
    assert feed_content_problem(body, "application/feed+json") == ""
    assert feed_content_problem(body, "application/json") == ""
    assert feed_content_problem(b'{"results": []}', "application/json").startswith("not a feed")


def test_a_gzipped_sitemap_is_read() -> None:
    xml = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/a</loc></url></urlset>'
    assert [e.loc for e in parse_sitemap(gzip.compress(xml), BASE + "/sitemap.xml.gz").entries] == [
        BASE + "/a"
    ]


# --- article links learned by structure -------------------------------------------------------

NAV = "".join(f'<a href="/topics/{t}/">{t.replace("-", " ")}</a>' for t in (
    "online-safety-act", "artificial-intelligence-rules", "cost-of-living-crisis", "social-media-age-checks",
    "local-council-budgets", "winter-weather-warnings", "data-protection-law",
))  # fmt: skip
SECTIONS = "".join(f'<a href="/{s}/">{s}</a>' for s in ("politics", "business", "tech", "sport", "culture"))
ARTICLES = [
    (
        "/2026/01/14/regulator-opens-investigation-into-platform/",
        "Regulator opens investigation into platform",
    ),
    ("/2026/01/13/ministers-set-out-new-rules-for-chatbots/", "Ministers set out new rules for chatbots"),
    ("/2026/01/12/councils-warn-of-budget-gaps-this-spring/", "Councils warn of budget gaps this spring"),
]


def _front_page(articles: list[tuple[str, str]]) -> str:
    cards = "".join(
        f'<div class="card"><h3><a href="{path}">{title}</a></h3><time datetime="2026-01-1{i}">1{i} Jan</time></div>'
        for i, (path, title) in enumerate(articles)
    )
    chrome = f'<nav class="menu">{SECTIONS}{NAV}</nav>'
    return f"<html><body>{chrome}<main><section>{cards}</section></main><footer>{SECTIONS}{NAV}</footer></body></html>"


def test_article_links_are_learned_when_the_navigation_repeats_more_links_than_them() -> None:
    groups = learn_link_groups(_front_page(ARTICLES), BASE + "/", "/")
    best = groups[0]
    assert best.pattern.shape == "/{yyyy}/{mm}/{dd}/{slug}/"
    assert [link.url for link in best.links] == [BASE + path for path, _ in ARTICLES]
    assert [link.title for link in best.links] == [title for _, title in ARTICLES]
    assert best.links[0].published is not None
    # The topic links share a pattern too, but they are navigation: never a candidate.
    assert all("/topics/" not in group.pattern.shape for group in groups)


def test_a_page_of_navigation_alone_has_no_article_links() -> None:
    assert learn_link_groups(_front_page([]), BASE + "/", "/") == []


def test_fewer_than_three_article_links_are_no_pattern() -> None:
    assert learn_link_groups(_front_page(ARTICLES[:2]), BASE + "/", "/") == []


def test_sections_in_article_paths_become_a_word_and_month_names_are_read() -> None:
    page = (
        "<html><body><main>"
        + "".join(
            f'<article><h2><a href="/{section}/2026/jan/1{i}/a-long-headline-about-{section}-{i}">'
            f"A long headline about {section} number {i}</a></h2></article>"
            for i, section in enumerate(("technology", "politics", "media"))
        )
        + "</main></body></html>"
    )
    [group] = learn_link_groups(page, "https://www.example.org/uk/technology", "/uk/technology/")
    assert group.pattern.shape == "/{word}/{yyyy}/{mon}/{dd}/{slug}"
    assert group.pattern.matches("https://example.org/business/2026/feb/02/another-long-headline-here")
    assert not group.pattern.matches("https://example.org/business/")


def test_a_learned_pattern_round_trips_and_is_applied_to_the_page() -> None:
    best = learn_link_groups(_front_page(ARTICLES), BASE + "/", "/")[0]
    pattern = LinkPattern.from_dict(best.pattern.to_dict())
    assert pattern == best.pattern
    changed = _front_page([*ARTICLES, ("/2026/01/15/a-fourth-story-about-the-rules/", "A fourth story")])
    assert len(links_matching(changed, BASE + "/", pattern)) == 4
    assert LinkPattern.from_dict({"path": "(", "host": "x"}) is None
    assert LinkPattern.from_dict({"shape": "/x"}) is None


def test_links_to_other_sites_files_and_the_page_itself_are_not_article_links() -> None:
    page = (
        "<html><body><main>"
        + "".join(
            f'<p><a href="{href}">A long headline number {i} about the rules</a><time>2026-01-1{i}</time></p>'
            for i, href in enumerate(
                (
                    "https://other.example/2026/01/10/a-story-on-another-site/",
                    "/2026/01/11/the-annual-report-in-full.pdf",
                    "/",
                    "mailto:press@example.org",
                )
            )
        )
        + "</main></body></html>"
    )
    assert learn_link_groups(page, BASE + "/", "/") == []


# --- the auto kind's record ----------------------------------------------------------------


def test_an_auto_record_needs_only_its_address_and_checks_its_hints() -> None:
    source = Source.from_dict({"id": "a", "name": "A", "kind": "auto", "url": BASE + "/news/"})
    assert source.selectors.to_dict() == {}
    with pytest.raises(ConfigError, match="feed: 'feed.xml' must be an http"):
        Source.from_dict(
            {"id": "a", "name": "A", "kind": "auto", "url": BASE, "selectors": {"feed": "feed.xml"}}
        )
    with pytest.raises(ConfigError, match="section: 'news' must be a path"):
        Source.from_dict(
            {"id": "a", "name": "A", "kind": "auto", "url": BASE, "selectors": {"section": "news"}}
        )
    with pytest.raises(
        ConfigError, match="unknown key 'link' for a auto source; valid keys: feed, sitemap, section"
    ):
        Source.from_dict({"id": "a", "name": "A", "kind": "auto", "url": BASE, "selectors": {"link": "a"}})


@pytest.mark.parametrize(
    ("shape", "path", "expected"),
    [
        ("/news/{yyyy}/{mm}/{slug}/", "/news/2026/01/a-story/", True),
        ("/news/{yyyy}/{mm}/{slug}/", "/news/2026/01/a-story", True),  # its trailing slash is optional
        ("/news/{yyyy}/{mm}/{slug}", "/news/2026/01/a-story/", False),
        ("/news/{yyyy}/{mm}/{slug}/", "/news/26/01/a-story/", False),
        ("/news/{yyyy}/{mm}/{slug}/", "/blog/2026/01/a-story/", False),
        ("/news/{yyyy}/{mm}/{slug}/", "/news/2026/01/a-story/more/", False),
        ("/news/{yyyy}/{mm}/{slug}/", "/news/2026//a-story/", False),
        ("/releases/{slug}.html", "/releases/new-guidance.html", True),
        ("/releases/{slug}.html", "/releases/.html", False),
        ("/releases/{slug}.html", "/releases/new-guidance.pdf", False),
        ("/{word}/{date}-{slug}", "/x/2026-01-02-y", False),  # one placeholder a segment, as learned
    ],
)
def test_a_shape_is_matched_segment_by_segment(shape: str, path: str, expected: bool) -> None:
    assert shape_matches(shape, path) is expected


def test_a_stored_pattern_with_an_unknown_placeholder_or_no_shape_is_learned_again() -> None:
    assert LinkPattern.from_dict({"shape": "/news/{when}/{slug}/", "host": "example.org"}) is None
    assert LinkPattern.from_dict({"path": "/news/.*", "host": "example.org"}) is None  # the old regex form
    assert LinkPattern.from_dict({"shape": "news/{slug}", "host": "example.org"}) is None
