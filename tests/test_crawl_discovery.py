"""``auto`` sources, crawled: discovery finds the right method on each sample-site case and turns
down the decoys, goes through the crawl's own guards, and discovers again when what it follows
stops yielding."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from crawl_fixtures import jsonl_pipelines, read_jsonl, serve_pages

from crawlers import run_crawl
from regwatch.app.sample_site import EXPECTED, serve_sample_site
from regwatch.models import CrawlStats, Discovery, Source, parse_datetime, utcnow
from regwatch.settings import Settings

pytestmark = pytest.mark.slow

MANIFEST: dict[str, Any] = json.loads(EXPECTED.read_text("utf-8"))
CASES: dict[str, Any] = MANIFEST["discovery"]["cases"]
DECOYS: dict[str, Any] = MANIFEST["discovery"]["decoys"]
PAGES = {page["path"]: page for page in MANIFEST["pages"]}
REQUEST_LINE = re.compile(r'"(?:GET|HEAD) (\S+) HTTP')


def auto(source_id: str, url: str, **selectors: str) -> Source:
    return Source.from_dict(
        {"id": source_id, "name": source_id, "kind": "auto", "url": url, "selectors": selectors}
    )


def case_id(path: str) -> str:
    return path.strip("/").replace("/", "-")


class _RequestLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.paths: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = REQUEST_LINE.search(record.getMessage())
        if match:
            self.paths.append(match.group(1))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Every discovery case of the sample site crawled as an auto source, in one crawl."""
    out = tmp_path_factory.mktemp("auto") / "articles.jsonl"
    server_logger = logging.getLogger("regwatch.app.sample_site.server")
    requests = _RequestLog()
    old_level = server_logger.level
    server_logger.addHandler(requests)
    server_logger.setLevel(logging.DEBUG)
    try:
        with serve_sample_site() as base:
            settings = Settings(
                env={}, overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_LOOKBACK_DAYS": 0, "CRAWL_DELAY": 0}
            )
            sources = [auto(case_id(path), base + path) for path in CASES]
            stats = run_crawl(sources, settings, jsonl_pipelines(), {"REGWATCH_TEST_JSONL": str(out)})
            yield {
                "base": base,
                "stats": {s.source_id: s for s in stats},
                "articles": read_jsonl(out),
                "requested": list(requests.paths),
            }
    finally:
        server_logger.removeHandler(requests)
        server_logger.setLevel(old_level)


def found(sample: dict[str, Any], path: str) -> Discovery:
    return Discovery.from_dict(sample["stats"][case_id(path)].discovery)


def strip(base: str, url: str) -> str:
    return url.removeprefix(base)


@pytest.mark.parametrize("path", list(CASES))
def test_each_case_is_followed_the_way_the_manifest_says(sample: dict[str, Any], path: str) -> None:
    discovery, expected = found(sample, path), CASES[path]
    assert discovery.method == expected["method"], discovery.rejected
    if expected["method"]:
        assert strip(sample["base"], discovery.address) == expected["address"]
        assert discovery.reason and discovery.source_url == sample["base"] + path


def test_a_feed_declared_only_by_link_rel_alternate_is_found_before_anything_else(
    sample: dict[str, Any],
) -> None:
    discovery = found(sample, "/regulator/")
    assert discovery.reason.startswith('declared by <link rel="alternate" type="application/atom+xml"')
    assert discovery.rejected == []  # the first candidate held: nothing else was asked for
    assert "/regulator/feed/" not in sample["requested"] and "/regulator/rss.xml" not in sample["requested"]
    stats = sample["stats"]["regulator"]
    assert (stats.pages_fetched, stats.items_found, stats.errors) == (4, 4, 0)
    assert discovery.title == "Ofcom: making communications work for everyone"


def test_the_government_section_is_followed_through_the_robots_sitemap_index_news_first(
    sample: dict[str, Any],
) -> None:
    base, discovery = sample["base"], found(sample, "/government/")
    assert (
        "news sitemap listed by robots.txt, via the index " + base + "/sitemaps/index.xml" in discovery.reason
    )
    assert discovery.section == "/government/"
    # No feed anywhere: every feed candidate was turned down first.
    assert {strip(base, r.split(": ")[0]) for r in discovery.rejected} >= {"/government/feed/", "/rss.xml"}
    articles = {strip(base, a.url) for a in sample["articles"] if a.source_id == "government"}
    assert articles == set(CASES["/government/"]["entries"])
    assert [strip(base, item["url"]) for item in discovery.items] == CASES["/government/"]["entries"][:5]


def test_the_courier_listing_is_learned_and_its_navigation_is_not(sample: dict[str, Any]) -> None:
    base, discovery = sample["base"], found(sample, "/courier/")
    assert discovery.pattern["shape"] == CASES["/courier/"]["shape"]
    assert "5 of 5 checked pages extract as articles" in discovery.reason
    assert any("/sitemap.xml: sitemap lists nothing under /courier/" in r for r in discovery.rejected)
    articles = {strip(base, a.fetch_url): a for a in sample["articles"] if a.source_id == "courier"}
    assert set(articles) == set(CASES["/courier/"]["articles"])
    for path, article in articles.items():
        page = PAGES[path]
        assert article.title == page["title"]
        assert article.published == parse_datetime(page["published"])
        assert article.body.split("\n\n")[0] == page["first_paragraph"]
    # The checked pages were the run's articles: each fetched once, and no navigation link at all.
    for path in CASES["/courier/"]["articles"]:
        assert sample["requested"].count(path) == 1
    assert not [p for p in sample["requested"] if p.startswith(("/courier/topics/", "/courier/politics/"))]
    stats = sample["stats"]["courier"]
    assert (stats.pages_fetched, stats.new, stats.items_found, stats.errors) == (5, 5, 5, 0)


def test_the_notices_decoys_are_turned_down_and_cost_an_empty_status_not_articles(
    sample: dict[str, Any],
) -> None:
    base, discovery = sample["base"], found(sample, "/notices/")
    rejected = "\n".join(discovery.rejected)
    assert f"{base}{DECOYS['undated_feed']}: rss feed with 4 entries, 0 of them dated" in rejected
    assert f"{base}{DECOYS['sitemap_of_other_sections']}: sitemap lists nothing under /notices/" in rejected
    assert (
        "links /notices/{slug}.html learned" in rejected
        and "0 of 4 checked pages extract as articles" in rejected
    )
    stats: CrawlStats = sample["stats"]["notices"]
    assert not [a for a in sample["articles"] if a.source_id == "notices"]
    assert stats.index_failure.message.startswith(f"empty {base}/notices/: nothing to follow")
    assert (stats.errors, stats.pages_fetched, stats.items_found) == (1, 0, 0)


def test_the_ledger_feed_is_read_once_with_its_malformed_entries_counted_as_before(
    sample: dict[str, Any],
) -> None:
    stats = sample["stats"]["ledger"]
    assert sample["requested"].count("/ledger/rss.xml") == 1
    assert stats.errors == 2 and stats.pages_fetched == 14  # the no-link entry and the 404, as a feed source


# --- the crawl's guards apply to every request a discovery makes -----------------------------

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
    "<item><title>Story</title><link>{base}/story.html</link>"
    "<pubDate>Wed, 14 Jan 2026 10:00:00 +0000</pubDate></item></channel></rss>"
)
STORY = (
    "<html><head><title>Story</title></head><body><main><h1>Story</h1><p>"
    + "A regulator said on Wednesday that it would look again at the rules. " * 12
    + "</p></main></body></html>"
)


PROMO_PATHS = [f"/promo/2026/01/1{i}/regulator-opens-review-number-{i}/" for i in range(3)]
PROMO = (  # the pages' only long text, in a block the source excludes
    '<html><head><title>Offer</title></head><body><main><h1>Offer {day}</h1><div class="promo"><p>'
    + "Regulator Weekly reported that the review would also cover the pricing of older contracts. " * 8
    + "</p></div></main></body></html>"
)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    port_placeholder = "{port}"
    page = (
        "<html><head><title>News</title>"
        '<link rel="alternate" type="application/rss+xml" href="{base}/hidden/feed.xml">'
        '<link rel="alternate" type="application/rss+xml" href="http://localhost:{port}/ssrf.xml">'
        '<link rel="alternate" type="application/rss+xml" href="{base}/big.xml">'
        '<link rel="alternate" type="application/rss+xml" href="{base}/feed.xml">'
        "</head><body><p>News</p></body></html>"
    )
    pages: dict[str, tuple[str, str | bytes]] = {
        "/robots.txt": ("text/plain", "User-agent: *\nDisallow: /hidden/\n"),
        "/hidden/feed.xml": ("application/rss+xml", RSS.format(title="hidden", base="{base}")),
        "/ssrf.xml": ("application/rss+xml", RSS.format(title="ssrf", base="{base}")),
        "/big.xml": ("application/rss+xml", RSS.format(title="x" * 40_000, base="{base}")),
        "/feed.xml": ("application/rss+xml", RSS.format(title="good", base="{base}")),
        "/story.html": ("text/html; charset=utf-8", STORY),
        "/bare/": (
            "text/html; charset=utf-8",
            "<html><head><title>Bare</title></head><body><p>Hi</p></body></html>",
        ),
        "/promo/": ("text/html; charset=utf-8", _listing(PROMO_PATHS)),
        **{
            p: ("text/html; charset=utf-8", PROMO.replace("{day}", day).replace("older", f"{day}'s"))
            for p, day in zip(PROMO_PATHS, ("Monday", "Tuesday", "Thursday"), strict=True)
        },
    }
    out = tmp_path_factory.mktemp("guarded") / "articles.jsonl"
    with serve_pages(pages) as (base, server):
        port = base.rsplit(":", 1)[1]
        server.set_page("/news/", "text/html; charset=utf-8", page.replace(port_placeholder, port))
        settings = Settings(
            env={},
            overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_LOOKBACK_DAYS": 0, "CRAWL_MAX_BYTES": 20_000},
        )
        stats, bare, promo = run_crawl(
            [
                auto("news", base + "/news/"),
                auto("bare", base + "/bare/"),
                auto("promo", base + "/promo/", exclude=".promo"),
            ],
            settings,
            jsonl_pipelines(),
            {"REGWATCH_TEST_JSONL": str(out)},
        )
        yield {
            "base": base,
            "stats": stats,
            "bare": bare,
            "promo": promo,
            "requested": list(server.requested),
            "articles": read_jsonl(out),
        }


def test_discovery_candidates_go_through_robots_the_ssrf_guard_and_the_size_limit(
    guarded: dict[str, Any],
) -> None:
    base, stats = guarded["base"], guarded["stats"]
    discovery = Discovery.from_dict(stats.discovery)
    assert (discovery.method, discovery.address) == ("feed", base + "/feed.xml")
    hidden, ssrf, big = discovery.rejected
    assert hidden.startswith(f"{base}/hidden/feed.xml: ") and hidden.endswith("(robots.txt)")
    assert ssrf.startswith("http://localhost:") and "refused" in ssrf.lower()
    assert big.startswith(f"{base}/big.xml: ") and "CRAWL_MAX_BYTES" in big
    assert "/hidden/feed.xml" not in guarded["requested"] and "/ssrf.xml" not in guarded["requested"]
    # Turned-down candidates are the discovery's business, not errors of the source.
    news = [a for a in guarded["articles"] if a.source_id == "news"]
    assert stats.errors == 0 and stats.pages_fetched == 1 and len(news) == 1


def test_a_page_with_nothing_to_follow_is_one_empty_error(guarded: dict[str, Any]) -> None:
    bare = guarded["bare"]
    assert bare.errors == 1 and len(bare.failures) == 1
    assert bare.index_failure.message.startswith(f"empty {guarded['base']}/bare/: nothing to follow")
    assert (
        f"{guarded['base']}/bare/: no group of links on the page looks like articles"
        in bare.discovery["rejected"]
    )


def test_pages_checked_for_a_learned_pattern_are_extracted_with_the_source_override(
    guarded: dict[str, Any],
) -> None:
    promo = guarded["promo"]
    # Without its excluded block a page is no article, for the checks as for the pipeline after
    # them: the pattern is not trusted, and the source is one "empty" error, not three dropped pages.
    assert promo.discovery["method"] == "" and promo.errors == 1
    assert promo.index_failure.message.startswith(f"empty {guarded['base']}/promo/: nothing to follow")
    assert any("0 of 3 checked pages extract as articles" in r for r in promo.discovery["rejected"])
    assert not [a for a in guarded["articles"] if a.source_id == "promo"]


# --- a sitemap's entries are kept within the look-back -----------------------------------------

FRESH_PATHS = [f"/fresh/news/council-approves-plan-number-{i}" for i in range(3)]
STALE_PATHS = [f"/fresh/news/council-approved-old-plan-number-{i}" for i in range(2)]
OLD_PATHS_ONLY = [f"/old/news/board-met-in-the-spring-number-{i}" for i in range(3)]


def _sitemap(entries: list[tuple[str, str]]) -> str:
    urls = "".join(f"<url><loc>{{base}}{path}</loc><lastmod>{day}</lastmod></url>" for path, day in entries)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """An ordinary sitemap (named by robots.txt) of two sections, crawled with a 30-day look-back."""
    today, long_ago = utcnow().date().isoformat(), "2020-03-02"
    html = "text/html; charset=utf-8"
    entries = [(p, today) for p in FRESH_PATHS] + [(p, long_ago) for p in STALE_PATHS + OLD_PATHS_ONLY]
    pages: dict[str, tuple[str, str | bytes]] = {
        "/robots.txt": ("text/plain", "User-agent: *\nSitemap: {base}/sitemap-pages.xml\n"),
        "/sitemap-pages.xml": ("application/xml", _sitemap(entries)),
        "/fresh/": (html, "<html><head><title>Fresh</title></head><body><p>News</p></body></html>"),
        "/old/": (html, "<html><head><title>Old</title></head><body><p>News</p></body></html>"),
        **{
            p: (html, STORY.replace("Story", f"Story {i}"))
            for i, p in enumerate(FRESH_PATHS + STALE_PATHS + OLD_PATHS_ONLY)
        },
    }
    out = tmp_path_factory.mktemp("dated") / "articles.jsonl"
    with serve_pages(pages) as (base, server):
        settings = Settings(env={}, overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_LOOKBACK_DAYS": 30})
        stats = run_crawl(
            [auto("fresh", base + "/fresh/"), auto("old", base + "/old/")],
            settings,
            jsonl_pipelines(),
            {"REGWATCH_TEST_JSONL": str(out)},
        )
        yield {
            "base": base,
            "stats": {s.source_id: s for s in stats},
            "requested": list(server.requested),
            "articles": read_jsonl(out),
        }


def test_a_sitemap_is_followed_for_its_entries_within_the_look_back(dated: dict[str, Any]) -> None:
    base, fresh = dated["base"], dated["stats"]["fresh"]
    discovery = Discovery.from_dict(fresh.discovery)
    assert (discovery.method, discovery.address) == ("sitemap", base + "/sitemap-pages.xml")
    assert "3 entries under /fresh/" in discovery.reason
    assert sorted(strip(base, item["url"]) for item in discovery.items) == sorted(FRESH_PATHS)
    fetched = {strip(base, a.fetch_url) for a in dated["articles"] if a.source_id == "fresh"}
    assert fetched == set(FRESH_PATHS)
    assert not set(STALE_PATHS) & set(dated["requested"])  # older than the look-back: never asked for


def test_a_sitemap_listing_the_section_only_before_the_look_back_is_turned_down(
    dated: dict[str, Any],
) -> None:
    base, old = dated["base"], dated["stats"]["old"]
    assert old.discovery["method"] == "" and old.errors == 1
    assert (
        f"{base}/sitemap-pages.xml: sitemap lists nothing under /old/ within the look-back"
        in old.discovery["rejected"]
    )
    assert not set(OLD_PATHS_ONLY) & set(dated["requested"])


# --- following what was discovered, and discovering again when it stops yielding --------------


def _listing(paths: list[str]) -> str:
    items = "".join(
        f'<li class="item"><a href="{{base}}{p}">A headline about the regulator, number {i}</a>'
        f' <time datetime="2026-01-1{i}T09:00:00+00:00">1{i} January</time></li>'
        for i, p in enumerate(paths)
    )
    return f'<html><head><title>Newsroom</title></head><body><main><ul class="items">{items}</ul></main></body></html>'


OLD_PATHS = [f"/newsroom/2026/01/1{i}/regulator-sets-out-plan-number-{i}/" for i in range(3)]
NEW_PATHS = [f"/newsroom/releases/regulator-publishes-new-guidance-part-{i}.html" for i in range(3)]
# A redesign that leaves one link of the old pattern on the page (a "most read" box).
PARTIAL_OLD = [f"/partial/2026/01/1{i}/council-sets-out-budget-number-{i}/" for i in range(3)]
PARTIAL_NEW = [f"/partial/stories/council-publishes-new-budget-part-{i}.html" for i in range(3)]


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two runs: a fresh discovery, then the site changes and the next run follows what it stored."""
    html = "text/html; charset=utf-8"
    pages: dict[str, tuple[str, str | bytes]] = {
        "/site/": (
            html,
            '<html><head><link rel="alternate" type="application/rss+xml" href="{base}/site/feed.xml"></head><body></body></html>',
        ),
        "/site/feed.xml": ("application/rss+xml", RSS.format(title="site", base="{base}")),
        "/story.html": (html, STORY),
        "/newsroom/": (html, _listing(OLD_PATHS)),
        "/partial/": (html, _listing(PARTIAL_OLD)),
        **{
            p: (html, STORY.replace("Story", f"Story {i}"))
            for i, p in enumerate(OLD_PATHS + NEW_PATHS + PARTIAL_OLD + PARTIAL_NEW)
        },
    }
    tmp = tmp_path_factory.mktemp("followed")
    with serve_pages(pages) as (base, server):
        server.etags = True
        settings = Settings(env={}, overrides={"CRAWL_ALLOWED_HOSTS": base, "CRAWL_LOOKBACK_DAYS": 0})
        sources = [
            auto("site", base + "/site/"),
            auto("newsroom", base + "/newsroom/"),
            auto("same", base + "/site/"),
            auto("partial", base + "/partial/"),
        ]

        def crawl(name: str, discoveries: dict[str, Any]) -> dict[str, CrawlStats]:
            start = len(server.requested)
            stats = run_crawl(
                sources,
                settings,
                jsonl_pipelines(),
                {"REGWATCH_TEST_JSONL": str(tmp / name)},
                discoveries=discoveries,
            )
            runs[name] = server.requested[start:]
            return {s.source_id: s for s in stats}

        runs: dict[str, list[str]] = {}
        first = crawl("first", {})
        stored = {sid: s.discovery for sid, s in first.items()}
        stored["same"] = {**stored["same"], "source_url": base + "/elsewhere/"}  # its record changed since
        # The site changes: the feed is gone (the page now declares an Atom feed), the listing is redesigned.
        del server.pages["/site/feed.xml"]
        server.set_page(
            "/site/",
            html,
            '<html><head><link rel="alternate" type="application/atom+xml" href="{base}/site/atom.xml"></head><body></body></html>',
        )
        server.set_page(
            "/site/atom.xml",
            "application/atom+xml",
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><entry><title>Story</title><link href="{base}/story.html"/><updated>2026-01-15T10:00:00Z</updated></entry></feed>',
        )
        server.set_page("/newsroom/", html, _listing(NEW_PATHS))
        server.set_page("/partial/", html, _listing(PARTIAL_NEW + PARTIAL_OLD[:1]))
        second = crawl("second", stored)
        third = crawl("third", {sid: s.discovery or stored[sid] for sid, s in second.items()})
        yield {"base": base, "first": first, "second": second, "third": third, "requested": runs, "tmp": tmp}


def test_a_gone_feed_is_discovered_again_in_the_same_run(followed: dict[str, Any]) -> None:
    base = followed["base"]
    discovery = Discovery.from_dict(followed["second"]["site"].discovery)
    assert (discovery.method, discovery.address) == ("feed", base + "/site/atom.xml")
    assert discovery.rejected[0] == f"{base}/site/feed.xml: followed until now, stopped yielding (HTTP 404)"
    assert followed["second"]["site"].errors == 0


def test_a_learned_pattern_that_matches_nothing_is_learned_again(followed: dict[str, Any]) -> None:
    first = Discovery.from_dict(followed["first"]["newsroom"].discovery)
    second = Discovery.from_dict(followed["second"]["newsroom"].discovery)
    assert first.pattern["shape"] == "/newsroom/{yyyy}/{mm}/{dd}/{slug}/"
    assert second.pattern["shape"] == "/newsroom/releases/{slug}.html"
    assert (
        "stopped yielding (the learned link pattern /newsroom/{yyyy}/{mm}/{dd}/{slug}/ matches nothing)"
        in second.rejected[0]
    )
    fetched = {a.fetch_url.removeprefix(followed["base"]) for a in read_jsonl(followed["tmp"] / "second")}
    assert set(NEW_PATHS) <= fetched


def test_a_learned_pattern_left_with_fewer_than_three_links_is_learned_again(
    followed: dict[str, Any],
) -> None:
    first = Discovery.from_dict(followed["first"]["partial"].discovery)
    second = Discovery.from_dict(followed["second"]["partial"].discovery)
    assert first.pattern["shape"] == "/partial/{yyyy}/{mm}/{dd}/{slug}/"
    assert second.pattern["shape"] == "/partial/stories/{slug}.html"
    assert second.rejected[0].endswith(
        "stopped yielding (the learned link pattern /partial/{yyyy}/{mm}/{dd}/{slug}/ matches only 1 link)"
    )
    fetched = {a.fetch_url.removeprefix(followed["base"]) for a in read_jsonl(followed["tmp"] / "second")}
    assert set(PARTIAL_NEW) <= fetched and followed["second"]["partial"].errors == 0
    assert not followed["third"]["partial"].discovery  # the new pattern is followed from then on


def test_a_changed_record_is_discovered_again(followed: dict[str, Any]) -> None:
    assert followed["second"]["same"].discovery["address"] == followed["base"] + "/site/atom.xml"


def test_what_was_discovered_is_followed_directly(followed: dict[str, Any]) -> None:
    third = followed["third"]
    assert all(not s.discovery for s in third.values())  # nothing discovered again: nothing new to store
    requested = followed["requested"]["third"]
    # No page read for a discovery, no candidate tried: the stored feed and listing page, and articles.
    assert "/site/" not in requested and requested.count("/site/atom.xml") == 2  # site and same
    assert requested.count("/newsroom/") == 1 and "/newsroom/feed/" not in requested
    assert third["newsroom"].pages_fetched == 3 and third["site"].pages_fetched == 1
