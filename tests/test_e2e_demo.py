"""End to end: `regwatch demo` against the bundled sample site, then the CLI on its home.

The demo runs once per module (it crawls in a subprocess and loads spaCy); each
test then reads what it left behind, the way a user would after `make demo`.
"""

from __future__ import annotations

import email
import email.policy
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli
from lxml import html as lxml_html

from regwatch.app.sample_site import EXPECTED

pytestmark = pytest.mark.slow

SEED_NAMES = ("Ofcom", "X", "Grok", "Liz Kendall", "Nigel Farage")
CRAWL: dict[str, Any] = json.loads(EXPECTED.read_text("utf-8"))["crawl"]  # the sample site's manifest


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="module")
def first_run(demo_home: Path) -> dict[str, Any]:
    return Cli().json("demo", "--out", str(demo_home))


@pytest.fixture(scope="module")
def second_run(demo_home: Path, first_run: dict[str, Any]) -> dict[str, Any]:
    return Cli().json("demo", "--out", str(demo_home))


def outbox_messages(home: Path) -> list[EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for path in sorted((home / "outbox").glob("*.eml"))
    ]


def test_demo_crawls_every_sample_source_and_stores_each_article_once(first_run: dict[str, Any]) -> None:
    assert first_run["sources"] == len(CRAWL["sources"])
    assert first_run["new"] == CRAWL["unique_articles"]
    assert first_run["indexed"] == CRAWL["unique_articles"]
    # Each page fetched once per source listing it: the articles, then their second sightings.
    assert first_run["pages_fetched"] == first_run["new"] + first_run["duplicate"]
    assert first_run["entities_found"] >= len(SEED_NAMES)
    assert set(SEED_NAMES) <= set(first_run["watched_entities"])


def test_the_demo_discovers_its_auto_sources_and_its_figures_are_the_sample_sites(
    first_run: dict[str, Any], second_run: dict[str, Any], demo_home: Path
) -> None:
    crawl = json.loads(EXPECTED.read_text("utf-8"))["crawl"]
    no_link = [e for e in crawl["malformed_entries"] if "path" not in e]
    duplicates = len(crawl["syndicated_duplicates"]) + len(crawl["listed_in_two_sources"])
    # 37 pages fetched, 33 new, 4 duplicates, 2 errors: discovery's own requests are not pages of articles.
    assert (first_run["pages_fetched"], first_run["new"], first_run["duplicate"], first_run["errors"]) == (
        crawl["unique_articles"] + duplicates,
        crawl["unique_articles"],
        duplicates,
        len(no_link) + len(crawl["not_found"]),
    )
    found = {s["source_id"]: s["discovery"] for s in first_run["per_source"] if s["discovery"]}
    assert {sid: (d["method"], d["address"].rsplit("/", 1)[1]) for sid, d in found.items()} == {
        "ledger": ("feed", "rss.xml"),
        "ofcom-statements": ("feed", "statements.atom"),
    }
    assert not [
        s for s in second_run["per_source"] if s["discovery"]
    ]  # the second run followed what it stored
    rows = {row["id"]: row for row in Cli(home=demo_home, config=demo_home / "demo.yaml").json("sources")}
    assert rows["ofcom-statements"]["discovery"]["method"] == "feed" and rows["wire"]["discovery"] is None


def test_demo_reports_the_broken_pages_without_failing(first_run: dict[str, Any]) -> None:
    unlinked = [entry for entry in CRAWL["malformed_entries"] if "path" not in entry]
    assert first_run["errors"] == len(CRAWL["not_found"]) + len(unlinked)
    failures = [f for s in first_run["per_source"] for f in s["failures"]]
    not_found = {f["url"].removeprefix(first_run["sample_site"]) for f in failures if f["status"] == 404}
    assert not_found == set(CRAWL["not_found"]), failures


def test_syndicated_copies_and_articles_listed_twice_are_duplicates(first_run: dict[str, Any]) -> None:
    assert first_run["duplicate"] == len(CRAWL["syndicated_duplicates"]) + len(CRAWL["listed_in_two_sources"])


def test_pages_robots_txt_disallows_are_counted_not_fetched(first_run: dict[str, Any]) -> None:
    assert first_run["robots_blocked"] == len(CRAWL["robots_blocked"])


def test_demo_delivers_one_digest_to_the_outbox(first_run: dict[str, Any], demo_home: Path) -> None:
    [digest] = first_run["digests"]
    assert digest["status"] == "delivered"
    assert Path(digest["path"]).is_file()
    assert len(outbox_messages(demo_home)) == 1


def test_digest_html_names_the_seed_entities_with_links_and_no_script(
    first_run: dict[str, Any], demo_home: Path
) -> None:
    [message] = outbox_messages(demo_home)
    assert message.get_content_type() == "multipart/alternative"
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    assert html_part is not None and text_part is not None
    html_text = html_part.get_content()
    tree = lxml_html.fromstring(html_text)
    assert not tree.xpath("//script"), "a <script> element reached the digest"
    assert not [a for a in tree.xpath("//@*") if a.attrname.lower().startswith("on")]
    visible = tree.text_content()
    for name in SEED_NAMES:
        assert name in visible, f"{name} missing from the digest"
    links = [a.get("href") for a in tree.xpath("//a[@href]")]
    sample_links = [link for link in links if "/ledger/" in link or "/regulator/" in link]
    assert len(sample_links) >= 5


def test_second_demo_run_adds_nothing_and_sends_nothing(second_run: dict[str, Any], demo_home: Path) -> None:
    assert second_run["new"] == 0
    assert second_run["updated"] == 0
    assert second_run["duplicate"] + second_run["not_modified"] >= 1
    assert [d["status"] for d in second_run["digests"]] == ["already-delivered"]
    assert len(outbox_messages(demo_home)) == 1


def test_second_demo_run_refetches_no_unchanged_article_page(
    first_run: dict[str, Any], second_run: dict[str, Any]
) -> None:
    # pages_fetched counts article pages that answered 2xx; not_modified those that answered 304.
    assert first_run["not_modified"] == 0
    assert second_run["pages_fetched"] == 0
    # A source whose index answered 304 asks for none of its pages; the others ask for each conditionally.
    first = {s["source_id"]: s for s in first_run["per_source"]}
    for source in second_run["per_source"]:
        if source["index_not_modified"]:
            assert source["not_modified"] == 0, source
        else:
            assert source["not_modified"] == first[source["source_id"]]["pages_fetched"], source
    assert any(source["index_not_modified"] for source in second_run["per_source"])


def test_search_finds_the_grok_articles(first_run: dict[str, Any], demo_home: Path) -> None:
    result = Cli(home=demo_home).json("search", "Grok")
    assert result["total"] >= 3
    for hit in result["hits"]:
        assert set(hit) >= {"id", "title", "url", "source", "published", "entities", "snippet"}
    assert any("Grok" in hit["entities"] for hit in result["hits"])


def test_search_by_entity_alias_finds_only_that_entity(first_run: dict[str, Any], demo_home: Path) -> None:
    result = Cli(home=demo_home).json("search", "--entity", "Kendall")
    assert result["total"] >= 1
    assert all("Liz Kendall" in hit["entities"] for hit in result["hits"])


def test_search_filters_by_source(first_run: dict[str, Any], demo_home: Path) -> None:
    result = Cli(home=demo_home).json("search", "Ofcom", "--source", "ofcom-news")
    assert result["total"] >= 1
    assert {hit["source"] for hit in result["hits"]} == {"ofcom-news"}


def test_a_malformed_query_is_one_clear_line(first_run: dict[str, Any], demo_home: Path) -> None:
    result = Cli(home=demo_home)("search", '"unbalanced', expect=None)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.strip().startswith("Error:")


def test_sources_shows_health_after_the_demo(first_run: dict[str, Any], demo_home: Path) -> None:
    rows = Cli(home=demo_home, config=demo_home / "demo.yaml").json("sources")
    assert {row["id"] for row in rows} == {"ledger", "wire", "ofcom-news", "ofcom-statements", "dsit-search"}
    assert all(row["last_run"] for row in rows)
    assert all(row["articles"] > 0 for row in rows)


def test_schedule_lists_crawl_and_digest_jobs(first_run: dict[str, Any], demo_home: Path) -> None:
    jobs = Cli(home=demo_home, config=demo_home / "demo.yaml").json("schedule", "--list")
    ids = {job["id"] for job in jobs}
    assert "crawl:ledger" in ids and "digest:policy-desk" in ids
    assert all(job["next_run_time"] for job in jobs)


def test_digest_renders_in_chromium_without_running_scraped_script(
    first_run: dict[str, Any], demo_home: Path, browser: Any, tmp_path: Path
) -> None:
    [message] = outbox_messages(demo_home)
    html_part = message.get_body(preferencelist=("html",))
    assert html_part is not None
    page_file = tmp_path / "digest.html"
    page_file.write_text(html_part.get_content(), encoding="utf-8")

    page = browser.new_page()
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_file.as_uri())
    visible = page.inner_text("body")
    scripts = page.evaluate("document.scripts.length")
    page.close()

    assert dialogs == [], "scraped script ran in the digest"
    assert scripts == 0
    assert requests == [page_file.as_uri()], "the digest loads external assets"
    for name in SEED_NAMES:
        assert name in visible
    # The sample page whose headline carries a script tag is in the digest, as text.
    assert "<script>alert(1)</script>" in visible
