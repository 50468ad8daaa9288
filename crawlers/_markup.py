"""Parse a page's HTML into a tree, repairing the few breakages that would leave it with no text.

lxml (libxml2) recovers from most broken markup, but three breakages, all seen on real news
pages whose bytes were cut or mangled on the way, make it read a whole page as nothing:

- an XML declaration that lost its ``?>`` ("<?xml version="1.0" encoding="ila…"): lxml refuses
  any decoded string that declares an encoding, so the declaration goes up to its first ``>``;
- a ``<title>`` that is never closed (its ``</title>`` lost, or mangled into ``</titlevalue=…``):
  everything after it is read as the title's text, so the page has no body. It is closed where
  its first line or its text ends, as the page meant;
- an ``<html>`` start tag whose attributes run into the page's markup (``<html xmogo.jpg" alt=…``):
  lxml then returns an empty document. Only then is the page read again with a bare ``<html>``.

A page whose markup parses with text is read as it is: none of these changes it.
"""

from __future__ import annotations

import logging
import re

import lxml.html
from lxml import etree

logger = logging.getLogger(__name__)

# Up to the first ">", not "?>": a declaration that lost its "?>" must go too (lxml refuses it).
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
# Tag starts only: the tag's end is the next ">" found with str.find, since a pattern running on to
# ">" would scan to the end of the page from every start where none follows (quadratic).
_TITLE_START = re.compile(r"<title\b", re.I)
_TITLE_END = re.compile(r"</title\s*>", re.I)
_TITLE_TEXT_END = re.compile(r"[<\n]")
_HTML_START = re.compile(r"<html\b", re.I)


def _first_tag(text: str, start: re.Pattern[str]) -> tuple[int, int] | None:
    """Where the first tag that ``start`` opens begins and ends (after its ">"), or None."""
    found = start.search(text)
    if found is None:
        return None
    end = text.find(">", found.end())
    return None if end < 0 else (found.start(), end + 1)


def drop_xml_declaration(text: str) -> str:
    """``text`` without its XML declaration, even one that lost its ``?>``."""
    return _XML_DECLARATION.sub("", text, count=1)


def close_title(text: str) -> str:
    """``text`` with an unclosed ``<title>`` closed at the end of its first line (or at the next tag)."""
    tag = _first_tag(text, _TITLE_START)
    if tag is None or _TITLE_END.search(text, tag[1]):
        return text
    end = _TITLE_TEXT_END.search(text, tag[1])
    at = end.start() if end else len(text)
    return text[:at] + "</title>" + text[at:]


def _has_text(doc: lxml.html.HtmlElement) -> bool:
    body = doc.find("body")
    return body is not None and any(text.strip() for text in body.itertext())


def parse_document(text: str, url: str = "") -> lxml.html.HtmlElement:
    """The page's tree (see the module's docstring for the repairs); raises lxml's errors on markup it cannot read."""
    text = drop_xml_declaration(text)
    repaired = close_title(text)
    if repaired is not text:
        logger.debug("extract %s: unclosed <title> closed at the end of its line", url)
    doc = lxml.html.document_fromstring(repaired)
    if _has_text(doc):
        return doc
    tag = _first_tag(repaired, _HTML_START)
    if tag is None or repaired[tag[0] : tag[1]] == "<html>":
        return doc
    bare = repaired[: tag[0]] + "<html>" + repaired[tag[1] :]
    try:
        again = lxml.html.document_fromstring(bare)
    except (etree.ParserError, ValueError):
        return doc
    if _has_text(again):
        logger.debug("extract %s: <html> start tag unreadable: read without its attributes", url)
        return again
    return doc
