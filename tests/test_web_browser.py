"""The web desk in a real browser: Debian's Chromium driven by Playwright against `regwatch serve`.

One demo run per module fills a home from the bundled sample site; one real
server (`regwatch serve`, a uvicorn on a free 127.0.0.1 port) per backend reads
it, first over the embedded index, then over the OpenSearch node
(``REGWATCH_TEST_INDEX_URL``, synced into a fresh alias). Every page a test
visits is checked with axe-core (vendored in ``tests/data``) for serious or
critical violations. With ``REGWATCH_SCREENSHOTS=1`` the embedded run writes
the README's screenshots to ``docs/screenshots``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(__file__).parent / "data" / "axe-4.14.1.min.js"  # npm axe-core 4.14.1, see tests/data/README.md
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CRAWL_DEADLINE = 180  # seconds a "crawl now" of one sample source may take on a loaded machine
PROBE = "<img src=x onerror=alert`1`><script>alert`typed`</script>"  # a query that runs (no parentheses)
BAD_PROBE = '<img src=x onerror=alert(2)>"'  # a query that cannot run: its error quotes it


@dataclass
class Desk:
    """A running `regwatch serve` over the demo's home."""

    url: str
    backend: str
    home: Path


@dataclass
class Tab:
    """A browser page on the desk, with the dialogs it opened (none, unless a script got in)."""

    page: Any
    desk: Desk
    dialogs: list[str] = field(default_factory=list)

    def api(self, path: str, **params: Any) -> Any:
        response = self.page.request.get(self.desk.url + path, params=params)
        assert response.ok, response.text()
        return response.json()

    def shot(self, name: str, selector: str = "") -> None:
        """The README's screenshots (the window, or one element): only when asked, from the embedded run."""
        if os.environ.get("REGWATCH_SCREENSHOTS") == "1" and self.desk.backend == "embedded":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            path = str(SCREENSHOTS / f"{name}.png")
            if selector:
                self.page.locator(selector).screenshot(path=path)
            else:
                self.page.screenshot(path=path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def regwatch(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from regwatch.app.cli import main; main()"]
    command += ["--home", str(home), "--config", str(home / "demo.yaml"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=300)


@contextlib.contextmanager
def serving(config: Path, env: dict[str, str], logs: Path) -> Iterator[str]:
    """`regwatch serve` on a free loopback port over the config's home, until the block ends."""
    port = free_port()
    log = logs / "serve.log"
    command = [sys.executable, "-c", "from regwatch.app.cli import main; main()"]
    command += ["--home", str(config.parent), "--config", str(config), "serve", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(url + "/login", timeout=5):
                    break
            except OSError:
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the desk did not start:\n" + log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home after one demo run (the sample site crawled, a digest delivered) and `schedule --list`."""
    home = tmp_path_factory.mktemp("browser-demo")
    Cli().json("demo", "--out", str(home))
    Cli(home=home, config=home / "demo.yaml").json("schedule", "--list")
    return home


@pytest.fixture(scope="module", params=["embedded", "opensearch"])
def desk(
    request: pytest.FixtureRequest, demo_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """`regwatch serve` on a free loopback port, the sample site served again (for "crawl now")."""
    from regwatch.app.demo import _serve

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    alias = ""
    cluster = ""
    if request.param == "opensearch":
        cluster = request.getfixturevalue("cluster_url")
        alias = f"rwtest-web-{uuid.uuid4().hex[:10]}"
        env |= {"REGWATCH_INDEX_URL": cluster, "REGWATCH_INDEX_NAME": alias}
        synced = json.loads(regwatch(demo_home, "index", "sync", "--json", env=env).stdout)
        assert synced["pending"] == 0
    try:
        with (
            _serve(demo_home),
            serving(demo_home / "demo.yaml", env, tmp_path_factory.mktemp("serve")) as url,
        ):
            yield Desk(url, str(request.param), demo_home)
    finally:
        if alias:
            import opensearchpy

            client = opensearchpy.OpenSearch([cluster])
            try:
                client.indices.delete(index=f"{alias}-*", ignore_unavailable=True)
                client.indices.delete_index_template(name=f"{alias}-template", ignore=[404])
            finally:
                client.close()


@pytest.fixture
def tab(browser: Any, desk: Desk) -> Iterator[Tab]:
    context = browser.new_context(base_url=desk.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    opened = Tab(page, desk)
    page.on("dialog", lambda dialog: (opened.dialogs.append(dialog.message), dialog.dismiss()))
    yield opened
    context.close()
    assert opened.dialogs == [], "a script from the page or a query ran"


_axe_source: list[str] = []


def assert_accessible(tab: Tab) -> None:
    """axe-core on the page as it is now: no serious or critical violation (and axe really ran)."""
    import hashlib

    if not _axe_source:
        raw = AXE.read_bytes()
        assert hashlib.sha256(raw).hexdigest() == AXE_SHA256, f"{AXE} is not the vendored axe-core"
        _axe_source.append(raw.decode("utf-8"))
    page = tab.page
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source[0] + "\n;0")  # evaluated through the DevTools protocol, outside the CSP
    report = page.evaluate(
        """() => axe.run(document, {resultTypes: ["violations"]}).then(r => ({
            passes: r.passes.length,
            violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))}))"""
    )
    assert report["passes"] > 0, "axe checked nothing"
    bad = [v for v in report["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{page.url}: {bad}"


def results_total(tab: Tab) -> int:
    heading = tab.page.locator("#results-heading").inner_text()
    match = re.match(r"([\d,]+) results?", heading)
    assert match, heading
    return int(match.group(1).replace(",", ""))


def only_desk_scripts(tab: Tab) -> None:
    """Every <script> on the page is one of the desk's own files: nothing scraped or typed got in."""
    sources = tab.page.eval_on_selector_all("script", "els => els.map(e => e.getAttribute('src'))")
    assert sources and all(src and src.startswith("/static/") for src in sources), sources


# -- search -----------------------------------------------------------------------------------


def test_a_search_a_facet_click_and_a_date_narrowing(tab: Tab) -> None:
    page = tab.page
    page.goto("/")
    assert_accessible(tab)
    page.fill("#q", "grok")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"[?&]q=grok"))  # htmx swapped the results in and kept the URL current
    page.locator("#results-heading", has_text="for “grok”").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'results-heading'")
    api = tab.api("/api/search", q="grok")
    assert results_total(tab) == api["total"] > 1
    assert page.locator("#announce").inner_text().strip() == f"{api['total']} results"
    assert page.locator("ol.hits li.hit").first.locator("mark").count() > 0
    assert "OpenSearch" in page.locator("p.scope").inner_text() if tab.desk.backend == "opensearch" else True
    tab.shot("search")
    assert_accessible(tab)

    facet = page.locator("aside.facets section.facet", has_text="Watched entities")
    facet.get_by_role("link", name="Ofcom", exact=True).click()
    page.wait_for_url(re.compile(r"entity=Ofcom"))
    narrowed = tab.api("/api/search", q="grok", entity="Ofcom")
    page.locator("#results-heading", has_text=f"{narrowed['total']} result").wait_for()
    assert 0 < narrowed["total"] < api["total"]
    assert page.locator("ul.active-filters").inner_text().startswith("entity: Ofcom")

    days = sorted(hit["published"][:10] for hit in narrowed["hits"] if hit["published"])
    since = days[len(days) // 2]
    page.fill("#since", since)
    page.click("form.search-form button[type=submit]")
    page.wait_for_url(re.compile(f"since={since}"))
    dated = tab.api("/api/search", q="grok", entity="Ofcom", since=since)
    page.locator("#results-heading", has_text=f"{dated['total']} result").wait_for()
    assert 0 < dated["total"] < narrowed["total"]
    shown = page.eval_on_selector_all(
        "ol.hits p.meta time", "els => els.map(e => e.getAttribute('datetime'))"
    )
    assert shown and all(day[:10] >= since for day in shown)
    assert_accessible(tab)


def test_the_chart_its_table_and_the_csv_exports(tab: Tab) -> None:
    page = tab.page
    page.goto("/?q=grok&interval=day")
    chart = page.locator("section.attention figure.chart-figure svg")
    assert (chart.locator("title").first.text_content() or "").strip()
    # Visually hidden until the disclosure opens, but a table to a screen reader all along.
    shown = page.locator("section.attention .numbers-table")
    table = shown.locator("table")
    assert page.locator("section.attention").get_by_role("table").count() == 1
    assert (shown.bounding_box() or {"width": 0})["width"] <= 1
    page.locator("section.attention details.numbers summary").click()
    assert (shown.bounding_box() or {"width": 0})["width"] > 100
    tab.shot("chart", "section.attention")
    assert_accessible(tab)
    rows = [
        [cell.strip() for cell in row]
        for row in table.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"
        )
    ]
    numbers = page.request.get(tab.desk.url + "/chart.csv?q=grok&interval=day").text()
    [_header, *lines] = list(csv.reader(io.StringIO(numbers)))
    assert [(r[0], int(r[1].replace(",", ""))) for r in rows] == [(line[0], int(line[1])) for line in lines]
    total = tab.api("/api/search", q="grok")["total"]
    assert sum(int(r[1].replace(",", "")) for r in rows) == total  # every sample article is dated

    page.locator("section.attention").get_by_role("link", name="week", exact=True).click()
    page.wait_for_url(re.compile("interval=week"))
    page.locator("section.attention .numbers-table th", has_text="Week").first.wait_for(state="attached")

    with page.expect_download() as download:
        page.locator("p.result-tools").get_by_role("link", name="CSV", exact=True).click()
    exported = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8"))))
    api = tab.api("/api/search", q="grok", limit=total)
    assert len(exported) == total and exported == [csv_row(hit) for hit in api["hits"]]  # every column


def csv_row(hit: dict[str, Any]) -> dict[str, str]:
    """An API hit as the CSV export writes it: lists joined with "; ", no value as an empty cell."""
    cells = {k: "; ".join(v) if isinstance(v, list) else "" if v is None else str(v) for k, v in hit.items()}
    return {k: "'" + v if v.startswith(("=", "+", "-", "@", "\t", "\r")) else v for k, v in cells.items()}


def test_pagination_and_the_newest_first_sort(tab: Tab) -> None:
    page = tab.page
    page.goto("/")
    total = tab.api("/api/search")["total"]
    assert results_total(tab) == total > 20  # more than one page of the sample's articles
    pages = page.get_by_role("navigation", name="Result pages")
    pages.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"[?&]page=2"))
    page.wait_for_function("document.activeElement && document.activeElement.id === 'results-heading'")
    second = tab.api("/api/search", offset=20)
    shown = page.eval_on_selector_all("ol.hits a.hit-link", "links => links.map(a => a.getAttribute('href'))")
    assert shown == [f"/article/{hit['id']}" for hit in second["hits"]]
    assert page.locator("p.result-tools").inner_text().startswith(f"Showing 21–{total}.")
    assert pages.get_by_role("link", name="Page 2").get_attribute("aria-current") == "page"
    assert_accessible(tab)

    page.locator("p.result-tools").get_by_role("link", name="newest first").click()
    page.wait_for_url(re.compile(r"sort=newest"))
    assert "page=" not in page.url  # another order starts again at page 1
    newest = tab.api("/api/search", sort="newest")
    first = page.locator("ol.hits a.hit-link").first.get_attribute("href")
    assert first == f"/article/{newest['hits'][0]['id']}"


# -- article, entity, compare -----------------------------------------------------------------


def test_an_article_page_shows_a_scraped_script_as_text_and_links_its_entities(tab: Tab) -> None:
    page = tab.page
    page.goto("/?q=script")
    hit = page.locator("ol.hits a.hit-link", has_text="<script>alert(1)</script>")
    assert hit.count() == 1  # the sample page whose headline carries a script tag, as text
    hit.click()
    page.wait_for_url(re.compile("/article/"))
    assert "<script>alert(1)</script>" in page.locator("#article-title").inner_text()
    only_desk_scripts(tab)
    original = page.locator("dl.article-meta a[rel]")
    assert original.get_attribute("rel") == "noopener noreferrer"
    assert (original.get_attribute("href") or "").startswith("http")
    assert page.locator("div.article-body p").count() > 1
    tab.shot("article")
    assert_accessible(tab)

    page.goto("/?q=grok")
    page.locator("ol.hits a.hit-link").first.click()
    page.wait_for_url(re.compile("/article/"))
    chip = page.locator("ul.chips a.chip", has_text="Ofcom").first
    chip.click()
    page.wait_for_url(re.compile("/entity/"))
    assert "Ofcom" in page.locator("h1").inner_text()


def test_an_entity_page_has_its_mentions_chart_companions_and_articles(tab: Tab) -> None:
    page = tab.page
    page.goto("/entity/ofcom")
    assert page.locator("h1").inner_text().strip().startswith("Ofcom")
    assert page.locator("section[aria-labelledby=mentions-heading] svg title").count() >= 1
    companions = page.locator("section[aria-labelledby=cooccurring-heading] a")
    assert companions.count() > 0
    latest = page.locator("section[aria-labelledby=latest-heading] a[href^='/article/']")
    assert latest.count() > 0
    tab.shot("entity")
    assert_accessible(tab)
    companions.first.click()
    page.wait_for_url(re.compile("/entity/|entity="))
    assert_accessible(tab)


def test_a_comparison_of_two_queries(tab: Tab) -> None:
    page = tab.page
    page.goto("/compare")
    assert_accessible(tab)
    boxes = page.eval_on_selector_all(
        "fieldset.compare-item",
        "sets => sets.map(s => { const r = s.getBoundingClientRect(); return [r.left, r.right, r.top]; })",
    )
    grid = page.eval_on_selector(".compare-grid", "g => g.getBoundingClientRect().right")
    for index, (_left, right, top) in enumerate(boxes):
        after = boxes[index + 1] if index + 1 < len(boxes) else None
        limit = after[0] if after and after[2] == top else grid  # the next box in its row, or the grid's edge
        assert right <= limit + 0.5, f"the searches' boxes overlap: {boxes}"
    page.fill("#q1", "grok")
    page.fill("#q2", "ofcom")
    page.click("form.compare-form button[type=submit]")
    page.wait_for_url(re.compile(r"q1=grok.*q2=ofcom"))
    rows = page.locator("ul.compared li")
    assert rows.count() == 2
    for row, query in zip(rows.all(), ("grok", "ofcom"), strict=True):
        total = tab.api("/api/search", q=query)["total"]
        assert f"{total} articles" in row.inner_text()
    headers = page.locator("section.attention .numbers-table thead th").all_text_contents()
    assert any(h.startswith("1: grok") for h in headers) and any(h.startswith("2: ofcom") for h in headers)
    # the shot shows the counts and the chart, not the form above them
    page.locator("#compared-heading").evaluate("h => h.scrollIntoView({behavior: 'instant'})")
    tab.shot("compare")
    assert_accessible(tab)


# -- keyboard, script-free, probes, weight ----------------------------------------------------


def test_keyboard_only_navigation(tab: Tab) -> None:
    page = tab.page
    page.goto("/?q=grok")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.press("Escape")
    page.evaluate("document.activeElement.blur()")
    links = page.locator("ol.hits a.hit-link")
    page.keyboard.press("j")
    first = links.nth(0).get_attribute("href")
    assert page.evaluate("document.activeElement.getAttribute('href')") == first
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.getAttribute('href')") == links.nth(1).get_attribute("href")
    page.keyboard.press("k")
    assert page.evaluate("document.activeElement.getAttribute('href')") == first
    page.keyboard.press("?")
    keys = page.locator("dialog#keys")
    assert keys.is_visible() and "Next / previous result" in keys.inner_text()
    assert_accessible(tab)
    page.keyboard.press("Escape")
    assert not keys.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('href')") == first  # focus came back
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/article/" + (first or "").rsplit("/", 1)[1]))


def test_with_javascript_off_the_search_and_facets_still_work(browser: Any, desk: Desk) -> None:
    context = browser.new_context(base_url=desk.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        page.fill("#q", "grok")
        page.click("form.search-form button[type=submit]")
        page.wait_for_url(re.compile(r"[?&]q=grok"))
        assert (
            page.locator("#results-heading")
            .inner_text()
            .startswith(f"{_api_total(page, desk, q='grok')} result")
        )
        page.locator("aside.facets section.facet", has_text="Watched entities").get_by_role(
            "link", name="Ofcom", exact=True
        ).click()
        page.wait_for_url(re.compile("entity=Ofcom"))
        expected = _api_total(page, desk, q="grok", entity="Ofcom")
        assert page.locator("#results-heading").inner_text().startswith(f"{expected} result")
        assert page.locator("ul.active-filters").inner_text().startswith("entity: Ofcom")
    finally:
        context.close()


def _api_total(page: Any, desk: Desk, **params: str) -> int:
    return int(page.request.get(desk.url + "/api/search", params=params).json()["total"])


def test_an_xss_probe_typed_into_the_query_shows_as_text(tab: Tab) -> None:
    page = tab.page
    page.goto("/")
    page.fill("#q", PROBE)
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"[?&]q=%3Cimg"))
    assert PROBE in page.locator("#results-heading").inner_text()
    assert page.input_value("#q") == PROBE
    assert page.locator("main img").count() == 0
    only_desk_scripts(tab)
    page.reload()  # the same URL loaded whole, not swapped in
    assert PROBE in page.locator("#results-heading").inner_text()
    assert page.locator("main img").count() == 0 and page.title().startswith(PROBE)
    only_desk_scripts(tab)

    page.fill("#q", BAD_PROBE)  # an error swapped in with htmx quotes the query as text too
    page.press("#q", "Enter")
    error = page.locator("#query-error")
    error.wait_for()
    assert "onerror=alert(2)" in error.inner_text() and page.locator("main img").count() == 0
    assert page.locator("#q").get_attribute("aria-invalid") == "true"
    assert page.locator("#announce").inner_text().strip()  # the error is announced
    only_desk_scripts(tab)
    assert_accessible(tab)


def test_the_javascript_shipped_is_under_100_kb(browser: Any, desk: Desk) -> None:
    context = browser.new_context(base_url=desk.url)
    try:
        page = context.new_page()
        scripts: list[Any] = []
        page.on(
            "response",
            lambda response: scripts.append(response) if response.request.resource_type == "script" else None,
        )
        page.goto("/?q=grok")
        page.wait_for_load_state("networkidle")
        sizes = {response.url: len(response.body()) for response in scripts}
        assert {url.rsplit("/", 1)[1] for url in sizes} >= {"desk.js"} and len(sizes) == 2
        assert 0 < sum(sizes.values()) < 100_000, sizes
    finally:
        context.close()


def test_a_search_swapped_in_while_the_index_is_down_shows_the_error_page(
    browser: Any, demo_home: Path, gate: Any, alias: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The desk over the OpenSearch node through a gate that closes: htmx's request gets a 503, and the
    same address loads whole, so the server's error page says what happened (not a page that ignores Enter)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    env |= {"REGWATCH_INDEX_URL": gate.url, "REGWATCH_INDEX_NAME": alias, "REGWATCH_INDEX_RETRIES": "0"}
    assert json.loads(regwatch(demo_home, "index", "sync", "--json", env=env).stdout)["pending"] == 0
    with serving(demo_home / "demo.yaml", env, tmp_path_factory.mktemp("serve-down")) as url:
        context = browser.new_context(base_url=url)
        try:
            page = context.new_page()
            tab = Tab(page, Desk(url, "opensearch", demo_home))
            page.goto("/?q=grok")
            assert results_total(tab) > 0
            gate.close()
            page.fill("#q", "ofcom")
            page.press("#q", "Enter")
            page.wait_for_url(re.compile(r"[?&]q=ofcom"))
            assert "The search index cannot answer right now" in page.locator("main").inner_text()
            assert_accessible(tab)
        finally:
            context.close()


# -- saved searches, the digest preview, the ops console ---------------------------------------


def test_a_saved_search_appears_in_the_digest_preview(tab: Tab) -> None:
    page = tab.page
    page.goto("/subscription")
    assert_accessible(tab)
    page.fill("#sub-email", "local@example.org")
    page.click("#subscription-save")
    page.locator("#subscription-saved").wait_for()
    name = f"Deepfakes watch ({tab.desk.backend})"
    page.goto("/?q=deepfake*")
    hits = tab.api("/api/search", q="deepfake*")
    assert hits["total"] > 0
    page.locator("#save-search summary").click()
    page.fill("#save-name", name)
    page.click("#save-search-button")
    page.locator("#saved-notice", has_text=name).wait_for()
    assert page.locator("#saved-searches", has_text=name).count() == 1
    tab.shot("saved-searches")
    assert_accessible(tab)
    page.click("#nav-digest")
    page.wait_for_url(re.compile("/digest$"))
    text = page.locator("#digest-text").inner_text()
    assert f"== {name} ==" in text
    section = text.split(f"== {name} ==")[1].split("\n== ")[0]
    assert hits["hits"][0]["title"] in section
    tab.shot("digest")
    assert_accessible(tab)
    page.click("#nav-saved")  # delete it again: the other backend's run saves its own
    page.locator("#saved-searches tr", has_text=name).get_by_role("button", name=re.compile("Delete")).click()
    page.wait_for_url(re.compile("/saved-searches"))
    assert page.locator("#saved-searches tr", has_text=name).count() == 0


def test_the_ops_console_shows_the_failing_feed_entry_and_the_404_and_crawls_now(tab: Tab) -> None:
    page = tab.page
    page.goto("/")
    page.click("#nav-ops")
    page.wait_for_url(re.compile("/ops$"))
    ledger = page.locator("#source-ledger").inner_text()
    assert "feed entry 3" in ledger and "no link" in ledger  # the sample feed's entry without a link
    assert "council-tax-rise-withdrawn.html: HTTP 404" in page.locator("#latest-errors").inner_text()
    assert "crawl:ledger" in page.locator("#scheduler-jobs").inner_text()
    backend = "OpenSearch" if tab.desk.backend == "opensearch" else "embedded SQLite"
    assert backend in page.locator("#index-state").inner_text()
    tab.shot("ops")
    assert_accessible(tab)

    page.goto("/ops/source/wire")
    runs_before = page.locator("#source-runs tbody tr").count()
    page.click("#crawl-now")
    page.locator("#crawl-done, #crawl-failed").wait_for(timeout=CRAWL_DEADLINE * 1000)  # htmx polls
    done = page.locator("#crawl-status").inner_text()
    assert "page(s) fetched" in done, done
    page.reload()
    assert page.locator("#source-runs tbody tr").count() == runs_before + 1
    tab.shot("ops-source")
    assert_accessible(tab)


def test_the_query_help_the_query_builder_the_skip_link_and_an_unknown_page(tab: Tab) -> None:
    page = tab.page
    page.goto("/?q=grok")
    page.keyboard.press("Tab")  # the first stop is the skip link, and it leads to the main content
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    page.locator("details.help summary").click()
    example = page.locator("details.help table a").first
    assert example.is_visible()
    assert_accessible(tab)
    page.locator("details.simple summary").click()
    page.fill("#simple-all", "grok ofcom")
    page.fill("#simple-none", "farage")
    page.click("form.simple-form button[type=submit]")
    page.wait_for_url(re.compile(r"[?&]q="))
    written = page.input_value("#q")
    assert "grok" in written and "ofcom" in written and "-farage" in written
    expected = tab.api("/api/search", q=written)["total"]
    assert results_total(tab) == expected
    assert_accessible(tab)

    response = page.goto("/article/no-such-article")
    assert response is not None and response.status == 404
    assert page.locator("main").inner_text().strip()
    assert_accessible(tab)


# -- accounts ---------------------------------------------------------------------------------


def test_with_accounts_an_analyst_signs_in_saves_a_search_and_signs_out(
    browser: Any, desk_home: Path, tmp_path: Path
) -> None:
    """The desk's small archive with two accounts (tests/web_fixtures.py, tests/desk_accounts.py)."""
    from desk_accounts import PASSWORDS, add_accounts

    add_accounts(desk_home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    with serving(desk_home / "desk.yaml", env, tmp_path) as url:
        context = browser.new_context(base_url=url)
        try:
            page = context.new_page()
            tab = Tab(page, Desk(url, "embedded", desk_home))
            page.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
            page.goto("/?q=grok")
            page.wait_for_url(re.compile("/login"))
            assert_accessible(tab)
            page.fill("#username", "alice")
            page.fill("#password", "not her password")
            page.click("#sign-in")
            page.locator("#login-error").wait_for()
            assert_accessible(tab)
            page.fill("#password", PASSWORDS["alice"])
            page.click("#sign-in")
            page.wait_for_url(re.compile(r"/\?q=grok$"))  # back where she was going
            assert "Alice Analyst" in page.locator("#who").inner_text()
            assert page.locator("#nav-ops").count() == 0  # an analyst has no ops console
            assert results_total(tab) == 4
            copies = page.locator("ol.hits details.copies")  # the archive's story told twice, folded
            assert (
                copies.count() == 1
                and copies.locator("summary").inner_text() == "also reported by 1 other source"
            )
            copy = copies.get_by_role("link")
            assert not copy.is_visible()
            copies.locator("summary").press("Enter")  # opened from the keyboard
            assert copy.is_visible() and (copy.get_attribute("href") or "").startswith("/article/")
            page.locator("#save-search summary").click()
            page.fill("#save-name", "Alice's Grok")
            page.click("#save-search-button")
            page.locator("#saved-notice", has_text="Alice's Grok").wait_for()
            assert_accessible(tab)
            response = page.goto("/ops")
            assert response is not None and response.status == 403
            page.goto("/")
            page.click("#sign-out")
            page.wait_for_url(re.compile("/login"))
            page.goto("/saved-searches")
            page.wait_for_url(re.compile("/login"))  # signed out means signed out
            assert tab.dialogs == []
        finally:
            context.close()
