"""How the body is picked among what the extractors offer: each rule pinned on a small page written here."""

from __future__ import annotations

import json
from typing import Any

import lxml.etree as etree
import lxml.html
import pytest

import crawlers._body as body_module
import crawlers._prune as prune_module
import crawlers._text as text_module
from crawlers import extract_article

URL = "https://news.example.org/2026/01/story.html"
SENTENCE = "The regulator said the platform had failed to protect children from harmful content online."


def paragraphs(count: int, tag: str = "p") -> str:
    return "".join(f"<{tag}>{SENTENCE} Paragraph {i} adds its own detail.</{tag}>" for i in range(count))


def test_an_xml_declared_page_is_read() -> None:
    page = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html><html><head><title>Kept</title></head>'
        f"<body><article>{paragraphs(4)}</article></body></html>"
    ).encode()
    article = extract_article(page, URL)
    assert article.title == "Kept" and SENTENCE in article.body


def test_section_headings_anchored_for_linking_stay_in_the_body() -> None:
    """trafilatura, reading links, dropped a heading that starts with a link: a README's or a docs
    page's permalink icon, a named anchor."""
    headings = (
        '<h2><a id="user-content-install" class="anchor" href="#install" aria-hidden="true">'
        '<svg viewBox="0 0 16 16"><path d="M7 3"></path></svg></a>Installing the client</h2>',
        '<h3><a name="usage"></a>Using it from the command line</h3>',
        '<h2><a href="#limits">Known limits of the service</a></h2>',
    )
    sections = [
        "".join(f"<p>{SENTENCE} Section {n} says what the client does, part {i}.</p>" for i in range(2))
        for n in range(len(headings) + 1)
    ]
    text = sections[0] + "".join(
        heading + section for heading, section in zip(headings, sections[1:], strict=True)
    )
    page = f"<html><head><title>Client guide</title></head><body><article><h1>Client guide</h1>{text}</article></body></html>"
    body = extract_article(page.encode(), URL).body
    for text in ("Installing the client", "Using it from the command line", "Known limits of the service"):
        assert f"\n\n{text}\n\n" in body


def test_two_sign_up_forms_in_one_box_are_dropped_together() -> None:
    box = (
        '<div class="signup"><form><input type="email" name="email"></form>'
        '<form><input type="email" name="email2"></form><p>Get our newsletter</p></div>'
    )
    page = f"<html><head><title>T</title></head><body><article>{paragraphs(4)}{box}</article></body></html>"
    article = extract_article(page, URL)
    assert "newsletter" not in article.body and SENTENCE in article.body


def test_a_declared_article_body_beats_a_teaser_it_dwarfs() -> None:
    text = " ".join(f"{SENTENCE} Point {i}." for i in range(40))
    ld = json.dumps({"@type": "NewsArticle", "headline": "Story", "articleBody": text})
    page = (
        f'<html><head><title>Story</title><script type="application/ld+json">{ld}</script></head>'
        f"<body><article><p>{SENTENCE} Subscribe to read the rest of this story today.</p></article></body></html>"
    )
    assert extract_article(page, URL, min_body_chars=0).body == text


def test_a_declared_teaser_never_replaces_the_page_text() -> None:
    ld = json.dumps({"@type": "NewsArticle", "headline": "Story", "articleBody": SENTENCE})
    page = (
        f'<html><head><title>Story</title><script type="application/ld+json">{ld}</script></head>'
        f"<body><article>{paragraphs(6)}</article></body></html>"
    )
    assert "Paragraph 5" in extract_article(page, URL).body


def _main(*texts: str) -> Any:
    body = etree.Element("body")
    for text in texts:
        etree.SubElement(body, "p").text = text
    return body


@pytest.fixture
def modes(monkeypatch: pytest.MonkeyPatch) -> dict[bool, Any]:
    """What trafilatura's precision (True) and default (False) modes return, set by each test."""
    answers: dict[bool, Any] = {}

    def fake(text: str, url: str, prune: Any, *, precise: bool, fast: bool = False) -> Any:
        return answers[precise]

    monkeypatch.setattr(body_module, "_trafilatura_main", fake)
    return answers


def test_a_short_precise_body_yields_to_the_default_mode_carrying_it_on(modes: dict[bool, Any]) -> None:
    opening = f"{SENTENCE} It opened on Monday."
    modes[True] = _main(opening)
    modes[False] = _main(opening, *(f"{SENTENCE} More {i} follows." for i in range(10)))
    assert body_module.body_text("<html></html>", URL, "").count(SENTENCE) == 11


def test_a_wider_body_that_puts_other_text_first_is_another_pick(modes: dict[bool, Any]) -> None:
    opening = f"{SENTENCE} It opened on Monday."
    menu = " ".join(f"Section {i} and more" for i in range(20))
    modes[True] = _main(opening)
    modes[False] = _main(menu, opening)
    assert body_module.body_text("<html></html>", URL, "") == opening


def test_a_long_precise_body_is_not_second_guessed(modes: dict[bool, Any]) -> None:
    modes[True] = _main(*(f"{SENTENCE} Part {i} ends here." for i in range(12)))
    modes[False] = None  # never asked: a KeyError would say it was
    del modes[False]
    assert body_module.body_text("<html></html>", URL, "").count(SENTENCE) == 12


def test_when_the_rules_cut_every_block_trafilaturas_text_stays(modes: dict[bool, Any]) -> None:
    linked = etree.Element("body")
    for i in range(3):
        p = etree.SubElement(linked, "p")
        ref = etree.SubElement(p, "ref")
        ref.text = f"{SENTENCE} Story {i}"
    modes[True] = linked
    modes[False] = None
    assert body_module.body_text("<html></html>", URL, "").count(SENTENCE) == 3


def test_trafilatura_runs_with_its_fallback_extractors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without readability and jusText behind it, trafilatura took a site's header and copyright line
    for the article on real pages (two Korean pages: 124 characters for 2,500)."""
    calls: list[dict[str, Any]] = []
    real = body_module.trafilatura.bare_extraction

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(body_module.trafilatura, "bare_extraction", spy)
    body_module.body_text(f"<html><body><article>{paragraphs(8)}</article></body></html>", URL, "")
    assert calls and all(call["options"].fast is False for call in calls)


def test_a_container_named_caption_around_paragraphs_is_not_a_caption() -> None:
    """Found on a real page (zdf.de): "item-caption" held the byline and the article's opening."""
    doc = lxml.html.document_fromstring(
        "<html><body><article>"
        '<div class="item-caption"><p>Ministers met the watchdog on Monday.</p></div>'
        '<div class="caption">Photo: a regulator\'s office</div></article></body></html>'
    )
    prune_module.drop_non_article(doc)
    text = doc.text_content()
    assert "Ministers met the watchdog" in text and "Photo:" not in text


def test_a_list_item_holding_a_heading_and_a_paragraph_keeps_a_space_between_them(
    modes: dict[bool, Any],
) -> None:
    main = etree.Element("body")
    items = etree.SubElement(main, "list")
    for name in ("WebIDE", "Valence", "Inspector", "Console", "Debugger", "Network", "Audio", "Style"):
        item = etree.SubElement(items, "item")
        etree.SubElement(item, "head").text = name
        etree.SubElement(item, "p").text = f"Develop and debug apps with {name} on every device you own."
    modes[True] = main
    modes[False] = None
    body = body_module.body_text("<html></html>", URL, "")
    assert "- WebIDE Develop and debug apps" in body and "WebIDEDevelop" not in body


def test_a_bare_footnote_marker_goes_and_a_bracketed_one_stays() -> None:
    doc = lxml.html.document_fromstring(
        "<html><body><p>Exceptions<sup><a href='#fn1'>1</a></sup> apply.</p>"
        "<p>Minor ones.<sup><a href='#cite-2'>[2]</a></sup></p></body></html>"
    )
    prune_module.drop_non_article(doc)
    assert doc.text_content() == "Exceptions apply.Minor ones.[2]"


def _spy_modes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    real = body_module.trafilatura.bare_extraction

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["options"].fast)
        return real(*args, **kwargs)

    monkeypatch.setattr(body_module.trafilatura, "bare_extraction", spy)
    return calls


def test_a_fast_pick_holding_the_pages_prose_is_kept_without_the_fallbacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _spy_modes(monkeypatch)
    page = f"<html><body><nav><a href='/'>Home</a></nav><article>{paragraphs(16)}</article></body></html>"
    doc = lxml.html.document_fromstring(page)
    body = body_module.body_text(page, URL, "", prose=body_module.prose_words(doc))
    assert body.count(SENTENCE) == 16
    assert calls == [True]  # trafilatura's readability and jusText fallbacks never ran


def test_a_fast_pick_missing_the_pages_prose_is_read_again_with_the_fallbacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _spy_modes(monkeypatch)
    page = f"<html><body><article>{paragraphs(3)}</article></body></html>"
    body_module.body_text(page, URL, "", prose=body_module.prose_words(lxml.html.document_fromstring(page)))
    assert calls[0] is True and False in calls[1:]  # three paragraphs: too little to trust without them


def test_the_pages_prose_counts_its_list_items_once() -> None:
    """Found on a trafilatura-eval page: an article of ten tips, each a list item, whose fast pick kept
    only its paragraphs and passed for the whole article."""
    tips = "".join(f"<li>{SENTENCE} Tip {i}.</li>" for i in range(10))
    nested = f"<li><p>{SENTENCE} A tip in its own paragraph.</p></li>"
    article = f"{paragraphs(8)}<ol>{tips}{nested}</ol><ul><li>Home</li></ul>"
    page = f"<html><body><article>{article}</article></body></html>"
    prose = body_module.prose_words(lxml.html.document_fromstring(page))
    words = text_module.word_count
    expected = [(8, "Paragraph 0 adds its own detail."), (10, "Tip 0."), (1, "A tip in its own paragraph.")]
    assert prose == sum(count * words(f"{SENTENCE} {end}") for count, end in expected)  # "Home": too short


def test_a_linked_item_in_a_list_of_the_articles_own_stays() -> None:
    """Found on Wikipedia pages: a reference that is only a link sat among references with text."""
    references = "".join(
        f"<li>Report {i} of the regulator on online safety, published in spring, pages 4 to 9.</li>"
        for i in range(4)
    )
    linked = '<li><a href="/wiki/Online_Safety_Act">Online Safety Act 2023</a></li>'
    page = (
        "<html><head><title>Online safety</title></head><body><article>"
        f"{paragraphs(5)}<h2>References</h2><ul>{references}{linked}</ul></article></body></html>"
    )
    body = extract_article(page, URL).body
    assert "Report 3 of the regulator" in body and "Online Safety Act 2023" in body


def test_a_list_of_links_is_cut() -> None:
    stories = "".join(
        f'<li><a href="/news/{i}">Another story number {i} about something else entirely</a></li>'
        for i in range(5)
    )
    page = (
        "<html><head><title>Online safety</title></head><body><article>"
        f"{paragraphs(5)}<ul>{stories}</ul></article></body></html>"
    )
    assert "Another story number" not in extract_article(page, URL).body


def test_paragraphs_written_as_bare_text_between_tags_are_kept() -> None:
    """Found on an L3S-GN1 page: after a first <p>, the editorial's paragraphs were loose text in its <div>."""
    loose = [f"{SENTENCE} Loose paragraph {i} carries the argument on." for i in range(3)]
    story = (
        f'<div id="content_body"><h3>Capping the deal</h3><p class="first">{SENTENCE} It opens.</p>\n'
        f"{loose[0]}<p>{SENTENCE} A tagged paragraph.</p>{loose[1]}<p>{SENTENCE} Another one.</p>{loose[2]}"
        "<p>Short note</p>{{^topArticle}} No step by step guide for this recipe yet: write the first one!</div>"
    )
    page = f"<html><head><title>Capping the deal</title></head><body>{story}</body></html>"
    body = extract_article(page, URL).body
    assert all(paragraph in body for paragraph in loose)
    assert "topArticle" not in body  # a template's placeholder is no paragraph


def test_a_paragraph_opened_by_a_zoomable_photo_is_text_not_a_link() -> None:
    """Found on two trafilatura-eval pages: trafilatura gave the paragraph after an image's link to
    the link."""
    opened = "The minister stressed how much the new tunnel laboratory means for research in the region."
    page = (
        "<html><head><title>Tunnel opened</title></head><body><article>"
        f"{paragraphs(3)}<p><span class='floatright'><a href='/uploads/minister.jpg'>"
        f"<img src='/uploads/minister-small.jpg' alt='The minister'></a></span>{opened}</p>"
        f"{paragraphs(2)}</article></body></html>"
    )
    assert opened in extract_article(page, URL).body


@pytest.mark.parametrize(
    "line",
    [
        "© Copyright 2008 Times Newspapers Ltd.",
        "Copyright (c) 2021 News Example Ltd",
        "Copyright 2019 The Example",
    ],
)
def test_a_copyright_line_after_the_article_is_cut(line: str) -> None:
    page = (
        "<html><head><title>Online safety</title></head><body><article>"
        f"{paragraphs(5)}<p>{line}</p></article></body></html>"
    )
    body = extract_article(page, URL).body
    assert body.count(SENTENCE) == 5 and "opyright" not in body


def test_an_article_about_copyright_keeps_its_words() -> None:
    opening = "Copyright law protects the article itself, the court said, not only the photographs in it."
    page = (
        "<html><head><title>Copyright ruling</title></head><body><article>"
        f"<p>{opening}</p>{paragraphs(5)}</article></body></html>"
    )
    assert opening in extract_article(page, URL).body


STANDFIRST = "The columnist argues the case in full, with the reasons why it matters to readers this week."


def _teaser(kicker: str, headline: str, standfirst: str, href: str) -> str:
    return (
        f'<div class="story-block"><h4><strong>{kicker}</strong> <a href="{href}">{headline}</a></h4>'
        f'<a href="{href}"><img src="/thumb.jpg"></a><p class="standfirst">{standfirst}</p></div>'
    )


def test_other_stories_teasers_after_the_article_are_cut() -> None:
    teasers = "".join(
        _teaser(kicker, headline, standfirst, f"/news/opinion/story-{i}")
        for i, (kicker, headline, standfirst) in enumerate(
            [
                (
                    "Editorial",
                    "A lasting legacy",
                    f"AN effective prime minister, a relentless reformer. {STANDFIRST}",
                ),
                (
                    "Ikea challenge",
                    "Good for some",
                    f"THE good thing about flat packs is the price. {STANDFIRST}",
                ),
                (
                    "Own backyard",
                    "Local issues first",
                    f"IT is nice to think we matter in the world. {STANDFIRST}",
                ),
            ]
        )
    )
    page = (
        "<html><head><title>Online safety</title></head><body><article>"
        f"<h1>Online safety</h1>{paragraphs(6)}"
        f'<div class="group"><div class="group-header"><h2>Other Opinion Columns</h2></div>'
        f'<div class="group-content">{teasers}</div></div></article></body></html>'
    )
    body = extract_article(page, URL).body
    assert body.count(SENTENCE) == 6
    for gone in ("Opinion Columns", "legacy", "flat packs", "in the world", "columnist"):
        assert gone not in body


def test_a_numbered_list_of_linked_headings_is_the_articles_own() -> None:
    items = "".join(
        f'<div class="item"><h2><a href="/gallery/42/embed/{i}">{i}. Costume number {i}</a></h2>'
        f"<p>What you need: a green dress, a high bun and a small flower for item {i}.</p></div>"
        for i in range(1, 6)
    )
    page = (
        "<html><head><title>Costumes</title></head><body><article>"
        f"<h1>Costumes</h1>{paragraphs(3)}{items}</article></body></html>"
    )
    body = extract_article(page, URL).body
    assert all(f"flower for item {i}" in body for i in range(1, 6))


def test_a_headline_linking_to_its_own_page_heads_no_teaser() -> None:
    """A blog post's headline links to its permalink: its standfirst is the article's, not a teaser's,
    even beside the link to the next post."""
    standfirst = "Our standfirst says in a few words what this post is about and why it matters now."
    page = (
        "<html><body><article><div class='entries'>"
        f"<div class='intro'><h2><a href='{URL}'>Online safety</a></h2><p>{standfirst}</p></div>"
        f"<div class='more'><h3><a href='/2026/01/next.html'>Next post</a></h3><p>{STANDFIRST}</p></div>"
        f"</div>{paragraphs(6)}</article></body></html>"
    )
    doc = lxml.html.fromstring(page)
    prune_module.drop_non_article(doc, URL)
    assert standfirst in doc.text_content() and STANDFIRST in doc.text_content()


def test_a_malformed_link_in_a_headline_loses_nothing() -> None:
    """An address Python cannot split ("http://[abc", an unclosed IPv6 host) in a teaser's headline
    or over a byline is a link elsewhere, not an error: the article is still extracted."""
    teasers = "".join(
        f'<div class="card"><h3><a href="http://[abc/{i}">Other story {i}</a></h3>'
        f'<p class="byline">By Jane Doe</p><p>{STANDFIRST}</p></div>'
        for i in range(3)
    )
    page = (
        "<html><head><title>Online safety</title></head><body><article>"
        f"<h1>Online safety</h1>{paragraphs(6)}<div class='more'>{teasers}</div></article></body></html>"
    )
    article = extract_article(page, URL)
    assert article.body.count(SENTENCE) == 6 and "Other story" not in article.body


def test_a_link_to_the_same_path_on_another_site_links_elsewhere() -> None:
    """Only the page's own address is a link back to it: host (without "www."), path and query."""
    heading = lxml.html.fromstring("<h2><a href='https://other.example/2026/01/story.html'>Story</a></h2>")
    own = lxml.html.fromstring(
        "<h2><a href='https://www.news.example.org/2026/01/story.html/'>Story</a></h2>"
    )
    assert text_module.links_elsewhere(heading, URL) and not text_module.links_elsewhere(own, URL)
