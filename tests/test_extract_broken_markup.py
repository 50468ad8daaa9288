"""Pages whose markup was cut or mangled on the way still give their article, not an empty body.

Three breakages seen on real news pages (the L3S-GN1 collection) made lxml read a whole page
as nothing: an XML declaration that lost its ``?>``, a ``<title>`` never closed, and an
``<html>`` start tag whose attributes run into the page.
"""

from __future__ import annotations

from crawlers import extract_article
from crawlers._extract import body_from_html
from crawlers._markup import close_title

PARAGRAPHS = (
    "The regulator fined the platform for failing to protect children online, its largest fine so far.",
    "The company said it would appeal, and that it had already changed how new accounts are checked.",
    "Campaigners welcomed the decision but said the fine was small beside the company's profits.",
)
ARTICLE = "<article>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article>"


def _extract(page: str) -> str:
    return extract_article(page.encode(), "https://news.example/fine", min_body_chars=0).body


def test_a_title_never_closed_leaves_the_body_readable() -> None:
    page = (
        "<html><head><title>Platform fined over child safety\nfunction go() { return 1; }\n"
        f"</script></head><body>{ARTICLE}</body></html>"
    )
    body = _extract(page)
    assert all(p in body for p in PARAGRAPHS)


def test_a_title_end_tag_mangled_into_an_attribute_is_closed() -> None:
    page = (
        '<html><head><title id="t">Platform fined - News</titlevalue="true" --></head>'
        f"<body>{ARTICLE}</body></html>"
    )
    assert PARAGRAPHS[0] in _extract(page)


def test_an_xml_declaration_that_lost_its_end_is_dropped() -> None:
    page = (
        '<?xml version="1.0" encoding="ila, keywords, more keywords, with no end\n'
        f"<html><head><title>Platform fined</title></head><body>{ARTICLE}</body></html>"
    )
    assert PARAGRAPHS[1] in _extract(page)


def test_an_html_start_tag_running_into_the_page_is_read_without_its_attributes() -> None:
    page = (
        '<!DOCTYPE html>\n<html xmlogo.jpg" alt="News &amp; more" width="145" /></a></td>\n'
        f"<head><title>Platform fined</title></head><body>{ARTICLE}</body></html>"
    )
    assert PARAGRAPHS[2] in _extract(page)


def test_a_closed_title_is_left_as_it_is() -> None:
    page = "<html><head><title>\n  Fined | News\n</title></head><body><p>a < b</p></body></html>"
    assert close_title(page) is page


def test_control_characters_in_the_text_read_as_spaces_and_break_nothing() -> None:
    """Found on a trafilatura-eval page: BEL characters between words ("Climate\\x07 Change") made lxml
    refuse the text the second-opinion readers set on their trees, and extraction failed."""
    marked = [p.replace(" ", "\x07", 2).replace("the", "the\x0c", 1) for p in PARAGRAPHS]
    page = (
        "<html><head><title>Platform fined</title></head><body><nav><a href='/'>Home</a></nav><article>"
        + "\x07".join(f"<p>{p}</p>" for p in marked)
        + "</article><footer>Copyright\x07 News Example</footer></body></html>"
    )
    body = _extract(page)
    assert "\x07" not in body and "\x0c" not in body
    assert "The regulator fined the platform" in body
    assert "Campaigners welcomed the decision" in body


def test_soft_hyphens_are_not_text_so_words_stay_whole_for_search_and_matching() -> None:
    """A German page hyphenates for the browser ("Kiess&shy;ling", "vie\\u00adle"): kept, a soft hyphen
    splits the word, so a search for "Kiessling" or a watched name found nothing on that page."""
    words = "Ann Kiess&shy;ling hat vie\u00adle wich&#173;tige Ent\u2060deckungen gemacht, sagt die Stiftung."
    page = (
        "<html><head><title>Ann Kiess&shy;ling und ihre Forschung</title>"
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": '
        '{"@type": "Person", "name": "Ann Kiess\\u00adling"}}</script></head><body><article>'
        "<h1>Ann Kiess&shy;ling und ihre Forschung</h1>"
        + "".join(f"<p>{words} {p}</p>" for p in PARAGRAPHS)
        + "</article></body></html>"
    )
    article = extract_article(page.encode(), "https://news.example/kiessling", min_body_chars=0)
    assert article.title == "Ann Kiessling und ihre Forschung"
    assert article.authors == ["Ann Kiessling"]
    assert "Ann Kiessling hat viele wichtige Entdeckungen gemacht" in article.body
    assert not {"\u00ad", "\u2060"} & set(article.body + article.summary)


def test_an_api_bodys_soft_hyphens_go_too() -> None:
    """GOV.UK's API delivers a body as HTML: it is read the way a page is."""
    fragment = "".join(f"<p>{p.replace('regulator', 'regu&shy;lator')}</p>" for p in PARAGRAPHS)
    body = body_from_html(fragment, "https://www.gov.uk/government/news/fine")
    assert "The regulator fined the platform" in body and "\u00ad" not in body
