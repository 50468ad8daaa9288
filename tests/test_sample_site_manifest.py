"""expected.json agrees with what the sample site serves, and the demo config loads."""

from __future__ import annotations

import email.utils
import json
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
import pytest
from parsel import Selector

from regwatch.app.sample_site import DEMO_CONFIG, EXPECTED, serve_sample_site
from regwatch.config import load_config
from regwatch.models import parse_datetime

MANIFEST: dict[str, Any] = json.loads(EXPECTED.read_text(encoding="utf-8"))
ATOM = "{http://www.w3.org/2005/Atom}"
WATCHED = {
    "Ofcom", "X", "Grok", "xAI", "Elon Musk", "Keir Starmer", "Liz Kendall", "Nigel Farage", "Reform UK",
    "Online Safety Act", "Information Commissioner's Office", "Competition and Markets Authority",
    "European Commission", "Meta", "TikTok",
}  # fmt: skip


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve_sample_site() as url:
        yield url


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def json_ld(doc: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    return [json.loads(s.text) for s in doc.xpath('//script[@type="application/ld+json"]')]


@pytest.mark.parametrize("page", MANIFEST["pages"], ids=lambda p: p["path"])
def test_every_manifest_page_is_served_as_described(base_url: str, page: dict[str, Any]) -> None:
    status, content_type, body = fetch(base_url + page["path"])
    assert status == 200
    assert content_type == page["content_type"]
    doc = lxml.html.document_fromstring(body.decode("utf-8"))  # every page's bytes are UTF-8
    assert doc.xpath('string(//link[@rel="canonical"]/@href)') == base_url + page["canonical"]
    assert doc.xpath('string(//meta[@property="og:title"]/@content)') == page["title"]
    assert doc.xpath("string(//h1)").strip() == page["title"]
    assert doc.xpath("string((//main//time | //article//time)[1]/@datetime)") == page["published"]
    text = doc.text_content()
    assert page["first_paragraph"] in text
    assert page["last_paragraph"] in text
    assert "{base_url}" not in body.decode("utf-8")


@pytest.mark.parametrize("page", [p for p in MANIFEST["pages"] if p["has_json_ld"]], ids=lambda p: p["path"])
def test_json_ld_carries_headline_dates_and_authors(base_url: str, page: dict[str, Any]) -> None:
    _, _, body = fetch(base_url + page["path"])
    (article,) = json_ld(lxml.html.document_fromstring(body))
    assert article["@type"] == "NewsArticle"
    assert article["headline"] == page["title"]
    assert article["datePublished"] == page["published"]
    assert article["dateModified"] == page["modified"]
    assert [a["name"] for a in article["author"] if a["@type"] == "Person"] == page["authors"]
    assert parse_datetime(article["datePublished"]) is not None


def test_manifest_names_only_watched_entities_and_sane_dates() -> None:
    for page in MANIFEST["pages"]:
        named = set(page["entities_must"]) | set(page["entities_must_not"])
        assert named <= WATCHED, page["path"]
        assert not set(page["entities_must"]) & set(page["entities_must_not"]), page["path"]
        published = parse_datetime(page["published"])
        assert published is not None and (published.year, published.month) == (2026, 1)
        assert page["published"][-6] in "+-"  # an explicit offset
        assert page["body_words"] >= 120, page["path"]


def test_the_seed_article_is_in_the_ledger_verbatim(base_url: str) -> None:
    seed = Path(__file__).parent / "data" / "seed_article.txt"  # the customer's seed, as a fixture
    (page,) = [
        p for p in MANIFEST["pages"] if p["path"].endswith("starmer-boycotting-x-over-grok-deepfakes.html")
    ]
    _, _, body = fetch(base_url + page["path"])
    paragraphs = [
        p.text_content() for p in lxml.html.document_fromstring(body).cssselect("div.article-body p")
    ]
    expected = seed.read_text(encoding="utf-8").strip().split("\n")
    assert paragraphs == expected


def test_the_script_injection_title_is_literal_text(base_url: str) -> None:
    (page,) = [p for p in MANIFEST["pages"] if "script-attacks" in p["path"]]
    assert "<script>alert(1)</script>" in page["title"]
    _, _, body = fetch(base_url + page["path"])
    doc = lxml.html.document_fromstring(body)
    assert doc.xpath("string(//h1)") == page["title"]
    assert doc.xpath("//*[@onerror]") and doc.xpath("//div[@class='article-body']//script")


@pytest.mark.parametrize("path", ["/ledger/rss.xml", "/wire/atom.xml", "/regulator/statements.atom"])
def test_feeds_are_well_formed_xml(base_url: str, path: str) -> None:
    _, _, body = fetch(base_url + path)
    root = lxml.etree.fromstring(body)
    feed = MANIFEST["feeds"][path]
    if feed["format"] == "rss":
        assert root.tag == "rss"
        assert len(root.findall("channel/item")) == feed["items"]
    else:
        assert root.tag == f"{ATOM}feed"
        assert len(root.findall(f"{ATOM}entry")) == feed["entries"]


def test_the_ledger_feed_has_the_malformed_entries_the_manifest_lists(base_url: str) -> None:
    _, _, body = fetch(base_url + "/ledger/rss.xml")
    items = lxml.etree.fromstring(body).findall("channel/item")
    no_link = [i.findtext("guid") for i in items if i.find("link") is None]
    bad_dates = []
    for item in items:
        try:
            email.utils.parsedate_to_datetime(item.findtext("pubDate"))
        except (TypeError, ValueError):
            bad_dates.append(item.findtext("guid"))
    listed = {e["guid"] for e in MANIFEST["crawl"]["malformed_entries"]}
    assert set(no_link) | set(bad_dates) == listed
    assert len(no_link) == 1 and len(bad_dates) == 1


def test_the_ofcom_listing_paginates_as_the_manifest_says(base_url: str) -> None:
    config = load_config(DEMO_CONFIG, text_substitutions={"base_url": base_url})
    selectors = config.source("ofcom-news").selectors
    url: str | None = config.source("ofcom-news").url
    seen: dict[str, list[str]] = {}
    while url:
        _, _, body = fetch(url)
        page = Selector(text=body.decode("utf-8"))
        items = page.css(selectors.item)
        seen[urlsplit(url).path] = [urlsplit(urljoin(url, i.css(selectors.link).get())).path for i in items]
        next_href = page.css(selectors.next).get()
        url = urljoin(url, next_href) if next_href else None
    assert seen == MANIFEST["listing"]


def test_demo_config_loads_through_load_config(base_url: str) -> None:
    config = load_config(DEMO_CONFIG, text_substitutions={"base_url": base_url}, env={})
    assert [(s.id, s.kind, s.type) for s in config.sources] == [
        ("ledger", "auto", "news"),
        ("wire", "feed", "news"),
        ("ofcom-news", "listing", "regulator"),
        ("ofcom-statements", "auto", "regulator"),
        ("dsit-search", "json_api", "government"),
    ]
    # The auto sources are the manifest's discovery cases that name them.
    for path, case in MANIFEST["discovery"]["cases"].items():
        if "demo_source" in case:
            assert config.source(case["demo_source"]).url == base_url + path
    assert all(s.url.startswith(base_url + "/") for s in config.sources)
    (subscriber,) = config.subscribers
    assert subscriber.id == "policy-desk"
    assert subscriber.email == "policy-desk@example.org"
    assert set(subscriber.entities) <= WATCHED
    assert config.settings["CRAWL_DELAY"] == 0


def _discover(base_url: str) -> list[str]:
    """Every article URL the five demo sources point at, in the way their source kind says."""
    config = load_config(DEMO_CONFIG, text_substitutions={"base_url": base_url}, env={})
    urls: list[str] = []
    followed = {case.get("demo_source"): case for case in MANIFEST["discovery"]["cases"].values()}
    for source in config.sources:
        if source.kind == "auto":  # followed by the feed the manifest says its page declares
            assert followed[source.id]["method"] == "feed"
            _, _, body = fetch(base_url + followed[source.id]["address"])
        else:
            _, _, body = fetch(source.url)
        if source.kind in ("feed", "auto"):
            root = lxml.etree.fromstring(body)
            urls += [link for link in root.xpath("channel/item/link/text()")]
            urls += root.xpath("a:entry/a:link[@rel='alternate']/@href", namespaces={"a": ATOM[1:-1]})
        elif source.kind == "json_api":
            results = json.loads(body)[source.selectors.results]
            urls += [urljoin(source.url, r[source.selectors.link]) for r in results]
        else:
            url: str | None = source.url
            while url:
                page = Selector(text=fetch(url)[2].decode("utf-8"))
                urls += [
                    urljoin(url, i.css(source.selectors.link).get()) for i in page.css(source.selectors.item)
                ]
                next_href = page.css(source.selectors.next).get()
                url = urljoin(url, next_href) if next_href else None
    return urls


def test_crawl_totals_match_what_the_sources_reach(base_url: str) -> None:
    robots = urllib.robotparser.RobotFileParser(base_url + "/robots.txt")
    robots.read()
    canonical: set[str] = set()
    not_found, blocked, syndicated = set(), set(), []
    for url in _discover(base_url):
        path = urlsplit(url).path
        if not robots.can_fetch("regwatch", url):
            blocked.add(path)
            continue
        status, _, body = fetch(url)
        if status == 404:
            not_found.add(path)
            continue
        target = urlsplit(
            lxml.html.document_fromstring(body).xpath('string(//link[@rel="canonical"]/@href)')
        ).path
        if target != path:
            syndicated.append({"path": path, "canonical": target})
        canonical.add(target)
    crawl = MANIFEST["crawl"]
    assert sorted(canonical) == crawl["unique_canonical_paths"]
    assert len(canonical) == crawl["unique_articles"]
    assert sorted(not_found) == crawl["not_found"]
    assert sorted(blocked) == crawl["robots_blocked"]
    assert syndicated == crawl["syndicated_duplicates"]
    crawled = {p["canonical"] for p in MANIFEST["pages"] if p["crawled"]}
    assert crawled == canonical


# --- the discovery cases: what each address declares, read with plain HTTP and lxml -------------

CASES: dict[str, Any] = MANIFEST["discovery"]["cases"]
DECOYS: dict[str, Any] = MANIFEST["discovery"]["decoys"]


def declared_feeds(base_url: str, path: str) -> list[str]:
    doc = lxml.html.document_fromstring(fetch(base_url + path)[2])
    return [
        urlsplit(link.get("href")).path
        for link in doc.xpath("//link[@rel='alternate'][@href]")
        if "xml" in (link.get("type") or "") or "json" in (link.get("type") or "")
    ]


def sitemap_locs(base_url: str, path: str) -> list[str]:
    root = lxml.etree.fromstring(fetch(base_url + path)[2])
    return [urlsplit(loc.text).path for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]


@pytest.mark.parametrize("path", [p for p, c in CASES.items() if c["method"] == "feed"])
def test_a_feed_case_declares_its_feed_by_link_rel_alternate(base_url: str, path: str) -> None:
    assert declared_feeds(base_url, path) == [CASES[path]["address"]]


def test_the_regulator_feed_is_at_no_conventional_address(base_url: str) -> None:
    for conventional in (
        "/regulator/feed/",
        "/regulator/rss.xml",
        "/regulator/atom.xml",
        "/feed/",
        "/rss.xml",
    ):
        assert fetch(base_url + conventional)[0] == 404


def test_the_government_section_is_found_only_through_the_robots_sitemap_index(base_url: str) -> None:
    case = CASES["/government/"]
    assert declared_feeds(base_url, "/government/") == []
    [line] = [x for x in fetch(base_url + "/robots.txt")[2].decode().splitlines() if x.startswith("Sitemap:")]
    index = urlsplit(line.split(":", 1)[1].strip()).path
    children = sitemap_locs(base_url, index)
    assert case["address"] in children and len(children) == 2  # a news sitemap and an ordinary one
    news = fetch(base_url + case["address"])[2]
    assert b"<news:publication_date>" in news
    assert sitemap_locs(base_url, case["address"]) == case["entries"]
    assert all(fetch(base_url + path)[0] == 200 for path in case["entries"])


def test_the_courier_declares_no_feed_and_no_sitemap_lists_it(base_url: str) -> None:
    assert declared_feeds(base_url, "/courier/") == []
    for sitemap in ("/sitemaps/news.xml", "/sitemaps/pages.xml", "/sitemap.xml"):
        assert not [p for p in sitemap_locs(base_url, sitemap) if p.startswith("/courier/")]
    articles = CASES["/courier/"]["articles"]
    doc = lxml.html.document_fromstring(fetch(base_url + "/courier/")[2])
    links = [urlsplit(a.get("href")).path for a in doc.xpath("//a[@href]")]
    navigation = [p for p in links if p not in articles]
    # The decoy: its navigation repeats more links than the articles it lists.
    assert len(navigation) > 2 * len(links) / 3 and set(articles) <= set(links)
    assert {p["path"] for p in MANIFEST["pages"] if p["shape"] == "courier-story"} == set(articles)


def test_the_decoys_are_what_they_claim(base_url: str) -> None:
    undated = lxml.etree.fromstring(fetch(base_url + DECOYS["undated_feed"])[2])
    items = undated.findall("channel/item")
    assert items and all(i.find("pubDate") is None for i in items)
    others = sitemap_locs(base_url, DECOYS["sitemap_of_other_sections"])
    assert others and {p.split("/")[1] for p in others} == {"ledger", "wire"}
    for path in DECOYS["pattern_of_non_articles"]:
        doc = lxml.html.document_fromstring(fetch(base_url + path)[2])
        assert len(" ".join(doc.xpath("//main//p//text()")).split()) < 30  # a notice, not an article
