"""A digest built from articles like the sample corpus, rendered in headless Chromium.

The articles mirror the sample site's story (Ofcom's investigation into X over
Grok, the government's statement, press coverage, a syndicated wire copy) and
carry the hostile markup scraped pages can hold. The HTML part must render, run
no scraped script, load nothing from anywhere, and show the sections in order.
"""

from __future__ import annotations

import email.policy
from datetime import UTC, date, datetime, timedelta
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from digests import build_digest
from regwatch.models import Action, Article, Digest, Quote, Source, Subscriber, TaggedEntity
from regwatch.sources import JsonApiSelectors, ListingSelectors

PERIOD = date(2026, 1, 13)
T0 = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)

LISTING = ListingSelectors(link="a::attr(href)")
API = JsonApiSelectors(results="results", link="link", title="title", published="public_timestamp")
SOURCES = {
    "ofcom-news": Source(
        "ofcom-news", "Ofcom news", "listing", "http://127.0.0.1/", type="regulator", selectors=LISTING
    ),
    "dsit-search": Source(
        "dsit-search", "GOV.UK (DSIT)", "json_api", "http://127.0.0.1/", type="government", selectors=API
    ),
    "ledger": Source("ledger", "The Ledger", "feed", "http://127.0.0.1/"),
    "wire": Source("wire", "Wire Service", "feed", "http://127.0.0.1/"),
}
IDS = {
    "Ofcom": ("ofcom", "regulator"),
    "X": ("x", "platform"),
    "Grok": ("grok", "product"),
    "Liz Kendall": ("liz-kendall", "person"),
    "Nigel Farage": ("nigel-farage", "person"),
}
HOSTILE = "Grok <script>alert('title')</script> row <img src=x onerror=alert('img')>"


def tag(name: str, salience: float, count: int, in_title: bool = False) -> TaggedEntity:
    entity_id, kind = IDS[name]
    return TaggedEntity(name, kind, [name] * count, entity_id, count, 0, in_title, salience)


def corpus() -> list[Article]:
    def make(
        path: str, source: str, title: str, hours: int, entities: list[TaggedEntity], **kw: Any
    ) -> Article:
        when = T0 + timedelta(hours=hours)
        body = kw.pop("body", f"{title}. " + "The story continues with more detail for readers. " * 6)
        return Article(
            url=f"https://news.example{path}", source_id=source, title=title, body=body,
            published=when, fetched_at=when, entities=entities, **kw,
        )  # fmt: skip

    investigation = Action(
        "Ofcom", "investigation", "X", "ofcom", "x", "Ofcom has opened an investigation into X."
    )
    wire_body = (
        "Technology Secretary Liz Kendall said she expected Ofcom to move quickly. "
        "Ofcom has made urgent contact with X and xAI over Grok images, and is now investigating. "
        "Nigel Farage said the crackdown risked free speech. The platform said it takes action against illegal content."
    )
    return [
        make(
            "/regulator/news/investigation-into-x-grok.html", "ofcom-news",
            "Ofcom launches investigation into X over Grok sexualised imagery", 0,
            [tag("Ofcom", 0.9, 6, True), tag("X", 0.8, 7, True), tag("Grok", 0.6, 4, True)],
            summary="Ofcom has today opened a formal investigation into X under the Online Safety Act.",
            actions=[investigation],
            quotes=[Quote("Platforms must protect people in the UK from content that is illegal.", "Ofcom", "ofcom")],
        ),
        make(
            "/government/news/technology-secretary-statement-on-x-and-grok.html", "dsit-search",
            "Technology Secretary statement on X and Grok", 1,
            [tag("Liz Kendall", 0.8, 3), tag("X", 0.7, 5, True), tag("Grok", 0.5, 3, True), tag("Ofcom", 0.4, 2)],
            quotes=[Quote("I expect Ofcom to use its full powers, and to do so quickly.", "Liz Kendall", "liz-kendall")],
            actions=[investigation],
        ),
        make(
            "/ledger/2026/01/kendall-backs-ofcom-to-block-x.html", "ledger",
            "Kendall backs Ofcom to block X if it fails to act", 2,
            [tag("Liz Kendall", 0.9, 4, True), tag("Ofcom", 0.7, 3, True), tag("X", 0.6, 4, True)],
            body=wire_body,
            actions=[Action("Ofcom", "ban", "X", "ofcom", "x", "Ofcom could move to block X.")],
        ),
        make(
            "/wire/kendall-backs-ofcom.html", "wire", "Kendall backs Ofcom to block X if it fails to act", 3,
            [tag("Liz Kendall", 0.9, 4, True), tag("Ofcom", 0.7, 3, True)], body=wire_body,
        ),
        make(
            "/ledger/2026/01/farage-warns-grok-crackdown-free-speech.html", "ledger",
            "Farage warns Grok crackdown threatens free speech", 4,
            [tag("Nigel Farage", 0.9, 3, True), tag("Grok", 0.5, 2, True)],
            quotes=[Quote("This is a crackdown on free speech dressed up as safety.", "Nigel Farage", "nigel-farage")],
        ),
        make(
            "/ledger/2026/01/hostile.html", "ledger", HOSTILE, 5, [tag("Grok", 0.7, 2, True)],
            summary='<a href="javascript:alert(\'summary\')">click</a><iframe src="https://evil.example/"></iframe>',
            quotes=[Quote("<script>alert('quote')</script> said something long enough", "<b onclick=alert(1)>Mx</b>")],
        ),
    ]  # fmt: skip


def html_of(digest: Digest) -> str:
    message = BytesParser(policy=email.policy.default).parsebytes(digest.message)
    return message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]


def test_digest_renders_in_chromium_with_sections_in_order_and_nothing_executed(
    browser: Any, tmp_path: Path
) -> None:
    subscriber = Subscriber("policy-desk", "Policy desk", "desk@example.org", timezone="Europe/London")
    previous = corpus()[4:5]  # the previous digest had the Farage story only
    digest = build_digest(subscriber, corpus(), PERIOD, sources=SOURCES, previous=previous, since=T0)
    assert digest is not None
    page_file = tmp_path / "digest.html"
    page_file.write_text(html_of(digest), encoding="utf-8")

    page = browser.new_page(viewport={"width": 800, "height": 600})
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
               if route.request.url == page_file.as_uri() else route.abort()))  # fmt: skip
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    headings = page.locator("h2").all_inner_texts()
    visible = page.inner_text("body")
    scripts = page.evaluate("document.scripts.length")
    frames = page.evaluate("document.querySelectorAll('iframe, img, object, embed').length")
    hrefs = page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    width = page.evaluate("document.querySelector('table table').getBoundingClientRect().width")
    shot = tmp_path / "digest.png"  # kept in the test's tmp dir for a human to look at
    page.screenshot(path=str(shot), full_page=True)
    page.close()

    assert dialogs == [], "scraped script ran in the digest"
    assert scripts == 0 and frames == 0
    assert requests == [page_file.as_uri()], "the digest loads external assets"
    assert all(href.startswith("https://news.example/") for href in hrefs)
    assert headings == [
        "Regulator and government statements",
        "Regulatory actions",
        "Grok",  # entity sections by mentions: X 16 (no item of its own), Grok 11, Ofcom 11...
        "Liz Kendall",
        "Nigel Farage",
        "Notable quotes",
        "Mentions",
    ]
    assert "Ofcom opened an investigation into X" in visible
    assert "Ofcom moved to ban X" in visible
    assert "Also reported by: Wire Service" in visible
    assert HOSTILE in visible  # shown as text, not markup
    assert "— Liz Kendall, GOV.UK (DSIT) · Mon 12 Jan 10:00 GMT" in visible
    assert width <= 640
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
