"""The second opinion on a body: a paragraph neither readability-lxml nor jusText reads as the article goes."""

from __future__ import annotations

import lxml.html
import pytest

import crawlers._body as body_module
from crawlers import extract_article
from crawlers._agreement import agreed_body, justext_text, parse_page, readability_text

URL = "https://news.example.org/2008/01/story.html"
PROSE = [
    f"The regulator said on Tuesday that the platform had failed, in case number {i}, to protect the "
    "children who use it from harmful content, and that it would now consider what penalty to impose."
    for i in range(6)
]
MENU = "Home | News | Sport | Business | Weather | Contact us | Privacy policy | Terms of use"
MENU_LINKS = "".join(f'<a href="/{w.lower()}">{w}</a> ' for w in MENU.split(" | "))


def page(extra_in_article: str = "", sidebar: str = "") -> str:
    """A page laid out with a table, as news sites were: a menu cell, the article's cell, a sidebar."""
    paragraphs = "".join(f"<p>{p}</p>" for p in PROSE)
    return (
        "<html><head><title>Platform failed children, regulator says</title></head><body><table>"
        f'<tr><td class="menu">{MENU_LINKS}</td></tr>'
        f'<tr><td class="story"><div class="article">{paragraphs}{extra_in_article}</div></td>'
        f'<td class="side">{sidebar}</td></tr></table></body></html>'
    )


def test_a_menu_row_neither_reader_holds_is_dropped() -> None:
    body = "\n\n".join([MENU, *PROSE])
    assert agreed_body(body, page(), "en", URL) == "\n\n".join(PROSE)


def test_the_readers_read_the_article_and_not_the_menu() -> None:
    html = page()
    assert PROSE[0] in readability_text(html, URL) and "Privacy policy" not in readability_text(html, URL)
    assert PROSE[0] in justext_text(html, "en", URL) and "Privacy policy" not in justext_text(html, "en", URL)


def test_a_menu_row_goes_when_readability_reads_the_article_and_more() -> None:
    """Found on an L3S-GN1 page: readability read the article and its readers' comments, the body
    held the article and an advertisement; the body lying inside readability's text is the same article."""
    comments = [
        f"Reader {i} wrote that the regulator had waited far too long before acting on the complaints, "
        "and that the platform should have been made to answer for its failures years ago."
        for i in range(3)
    ]
    html = page(extra_in_article="".join(f"<p>{c}</p>" for c in comments))
    assert comments[0] in readability_text(html, URL)
    assert agreed_body("\n\n".join([MENU, *PROSE]), html, "en", URL) == "\n\n".join(PROSE)


def test_a_paragraph_jusText_reads_as_prose_stays() -> None:
    aside = (
        "In a separate statement the minister said that the government would publish its own review of "
        "the rules for online platforms before the end of the year, and that the review would be independent."
    )
    body = "\n\n".join([*PROSE, aside])
    html = page(sidebar=f"<p>{aside}</p>")
    assert aside not in readability_text(html, URL)  # readability keeps the article's cell only
    assert agreed_body(body, html, "en", URL) == body


def test_lists_data_tables_and_short_lines_are_never_dropped() -> None:
    kept = [
        "- Ofcom opened an investigation into the platform's age checks last spring",
        "Service | Users | Fine\nAlpha | 1,200 | 10,000\nBeta | 3,400 | 25,000",
        "Read more below",
    ]
    body = "\n\n".join([*PROSE, *kept])
    assert agreed_body(body, page(), "en", URL) == body


def test_a_quotation_is_never_dropped() -> None:
    post = "Embedded post the minister wrote on X today about the new rules"
    body = "\n\n".join([*PROSE, post])
    assert agreed_body(body, page(), "en", URL) == "\n\n".join(PROSE)
    assert agreed_body(body, page(), "en", URL, keep={post}) == body


def test_nothing_is_dropped_when_readability_reads_another_part_of_the_page() -> None:
    other = [
        f"Quarterly figures published by the statistics office show output rising in region {i} for the "
        "third time running, with manufacturing and services both ahead of forecasts made last autumn."
        for i in range(6)
    ]
    body = "\n\n".join([MENU, *other])  # not the text readability finds on this page
    assert agreed_body(body, page(), "en", URL) == body


def test_a_page_readability_cannot_read_leaves_the_body_as_it_is() -> None:
    body = "\n\n".join([MENU, *PROSE])
    assert agreed_body(body, "", "en", URL) == body
    assert agreed_body(body, "<html><body></body></html>", "xx", URL) == body


def test_a_page_gets_the_second_opinion_and_a_sources_own_article_element_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []

    def recording(body: str, html: str, language: str = "", url: str = "", **_: object) -> str:
        asked.append(language)
        return body

    monkeypatch.setattr(body_module, "agreed_body", recording)
    html = page().replace("<html>", '<html lang="en-GB">').encode()
    extract_article(html, URL)
    assert asked == ["en"]
    extract_article(html, URL, body_css="div.article")
    assert asked == ["en"]  # an override names the article: nothing to second-guess


def test_the_page_is_parsed_once_for_both_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    import readability.readability as readability_module

    built: list[object] = []
    build_doc = readability_module.build_doc

    def counting(page: object) -> object:
        built.append(page)
        return build_doc(page)

    monkeypatch.setattr(readability_module, "build_doc", counting)
    body = "\n\n".join([MENU, *PROSE])
    assert agreed_body(body, page(), "en", URL) == "\n\n".join(PROSE)
    assert built == []  # readability read the tree parsed for jusText too, not the text again


def test_a_page_with_hidden_elements_reads_as_before_and_its_tree_is_left_as_it_is() -> None:
    hidden = (
        "<p hidden>A hidden paragraph the site keeps for its own scripts, with enough words to count.</p>"
        '<p style="display: none">Another paragraph nobody sees on the page, with enough words to count.</p>'
    )
    html = page(extra_in_article=hidden)
    root = parse_page(html)
    assert root is not None
    before = lxml.html.tostring(root)
    assert readability_text(html, URL, root) == readability_text(html, URL)
    assert lxml.html.tostring(root) == before  # readability drops hidden elements from the tree it reads
    assert justext_text(html, "en", URL, root) == justext_text(html, "en", URL)


def test_no_reader_is_asked_when_no_paragraph_could_be_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    import crawlers._agreement as agreement

    def unreachable(*_: object, **__: object) -> str:
        raise AssertionError("readability asked about a body with nothing to judge")

    monkeypatch.setattr(agreement, "readability_text", unreachable)
    body = "\n\n".join(["Short line here", "- a list item of the article", PROSE[0]])
    assert agreed_body(body, page(), "en", URL, keep={PROSE[0]}) == body
