"""Page parts removed before trafilatura reads the page: never article text, but trafilatura keeps them.

Captions outside figures, bare footnote markers, time-only permalinks, sign-up boxes and other
stories' teasers go; a nested article's header opens. Each rule is general, never a site's.
"""

from __future__ import annotations

import re
from typing import Any

import lxml.html

from ._text import clean_text, links_elsewhere, word_count

# The page's big containers: never a sign-up box or a teaser.
_CONTAINERS = frozenset({"body", "main", "article", "html"})


def drop_non_article(doc: lxml.html.HtmlElement, url: str = "") -> None:
    """Remove, in place, page parts that are never article text but that trafilatura keeps.

    - image captions outside ``<figure>`` (an element named a caption holding no block of its own:
      a container called "item-caption" around a byline and paragraphs is not one);
    - bare footnote markers (``<sup><a href="#fn1">1</a></sup>``), which glue a number to the word
      before (a bracketed "[1]" stands apart: real pages' gold keeps it);
    - permalinks that hold only a time (a live blog's "15.40 GMT" above each entry): trafilatura's
      link-density test would otherwise drop the entry's heading with them;
    - and it opens the ``<header>`` of an article nested in another (a live blog's entry): trafilatura's
      precision pass drops every header, and there it holds the entry's heading, not the page's chrome;
    - sign-up boxes: the smallest block around a form asking for an email address;
    - other stories' teasers (:func:`_drop_teasers`).
    """
    for caption in doc.xpath(
        "//*[self::p or self::div or self::span][contains(translate(@class, 'CAPTION', 'caption'), 'caption')]"
        "[not(.//p or .//ul or .//ol or .//dl or .//table or .//h1 or .//h2 or .//h3 or .//h4)]"
    ):
        caption.drop_tree()
    for sup in doc.xpath("//sup[a[starts-with(@href, '#')]]"):
        if re.fullmatch(r"\w{1,4}", clean_text(sup.text_content())):
            sup.drop_tree()  # drop_tree keeps the tail text; a bracketed "[1]" stands apart and stays
    for link in doc.xpath("//a[time][normalize-space(.) = normalize-space(time)]"):
        link.drop_tree()
    for header in doc.xpath("//article//article/header"):
        header.tag = "div"
    for form in doc.xpath(
        "//form[.//input[@type='email' or contains(translate(@name, 'EMAIL', 'email'), 'email')]]"
    ):
        if form.getparent() is None or len(clean_text(form.text_content())) > 500:
            continue  # a form around the whole page (ASP.NET) is not a sign-up box
        box = form
        for ancestor in form.iterancestors():
            if ancestor.tag in _CONTAINERS or len(clean_text(ancestor.text_content())) > 500:
                break
            box = ancestor
        if box.getparent() is not None:  # not inside a box already dropped (two forms in one sign-up block)
            box.drop_tree()
    _drop_teasers(doc, url)


# A teaser (another story's linked headline and standfirst) holds at most this many words besides its
# headline; an article's own section under a linked heading says more.
TEASER_MAX_WORDS = 40
# A numbered heading ("3. Tiana", "#4") is an item of the article's own list (a listicle, a gallery).
_NUMBERED = re.compile(r"^\W{0,2}\d{1,3}\s*[.):]|^#\d")


def _linked_heading(heading: Any, url: str) -> bool:
    """Whether a heading is mostly links to other pages than ``url`` and not numbered."""
    return not _NUMBERED.match(clean_text(heading.text_content())) and links_elsewhere(heading, url)


def _drop_teasers(doc: lxml.html.HtmlElement, url: str) -> None:
    """Remove runs of other stories' teasers: items, side by side, each a headline that is mostly a
    link elsewhere over at most a short standfirst ("Other Opinion Columns": a kicker, a linked
    headline, a sentence). trafilatura keeps the standfirsts, as they are not links themselves.

    An item is the largest element around one such heading that holds no other; items are teasers
    when two or more share a parent. (A heading left with nothing under it is cut later.)
    """
    headings = [h for h in doc.iter("h2", "h3", "h4", "h5") if _linked_heading(h, url)]
    if len(headings) < 2:
        return
    around: dict[Any, int] = {}
    chains = []
    for heading in headings:
        chain = [a for a in heading.iterancestors() if a.tag not in _CONTAINERS]
        for ancestor in chain:
            around[ancestor] = around.get(ancestor, 0) + 1
        chains.append(chain)
    by_parent: dict[Any, list[Any]] = {}
    for heading, chain in zip(headings, chains, strict=True):
        item = heading
        for ancestor in chain:
            if around[ancestor] > 1:
                break
            item = ancestor
        rest = word_count(item.text_content()) - word_count(heading.text_content())
        parent = item.getparent()
        if rest <= TEASER_MAX_WORDS and parent is not None and item is not heading:
            by_parent.setdefault(parent, []).append(item)
    for items in by_parent.values():
        if len(items) >= 2:
            for item in items:
                item.drop_tree()
