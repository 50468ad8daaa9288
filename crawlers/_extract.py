"""Turn one fetched page into an :class:`~regwatch.models.Article`.

Metadata comes from what publishers declare on purpose, best first: JSON-LD
(``NewsArticle`` and kin, also inside ``@graph``), OpenGraph and other meta tags
(``article:*``, ``dc.*``, ``govuk:*``, ``author``), ``<time datetime>``,
``<link rel=canonical>`` and ``<html lang>``. The body comes from trafilatura,
which strips navigation, scripts and other boilerplate. Everything returned is
plain text: no markup survives, and text that merely *looks* like markup (a
headline quoting ``<script>``) stays as text for the renderer to escape.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import lxml.html
import trafilatura
from cssselect import GenericTranslator, SelectorError
from lxml import etree

from regwatch.errors import ExtractionError
from regwatch.models import Article
from regwatch.settings import BY_NAME

from ._text import (
    canonicalize_url,
    clean_authors,
    clean_text,
    decode_html,
    html_to_text,
    is_web_url,
    language_subtag,
    looks_like_markup,
    parse_date,
    unescape_text,
)

logger = logging.getLogger(__name__)

DEFAULT_MIN_BODY_CHARS: int = BY_NAME["EXTRACT_MIN_BODY_CHARS"].default
SUMMARY_MAX_CHARS = 500

# schema.org types that describe one article (lower-cased).
ARTICLE_TYPES = frozenset(
    {
        "newsarticle",
        "article",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "backgroundnewsarticle",
        "opinionnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "blogposting",
        "scholarlyarticle",
        "report",
    }
)

_HTML_HINT = re.compile(r"<\s*(html|head|body|article|main|p|div|title|meta|h1)\b", re.I)
_TITLE_SEPARATORS = (" | ", " – ", " — ", " - ", " :: ")


# --- JSON-LD -----------------------------------------------------------------


def _jsonld_objects(doc: lxml.html.HtmlElement, url: str) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page, flattened out of lists and ``@graph``."""
    for script in doc.xpath('//script[@type and contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        text = (script.text or "").strip()
        text = re.sub(r"^\s*(<!--|//\s*<!\[CDATA\[)|(-->|//\s*\]\]>)\s*$", "", text)
        if not text:
            continue
        try:
            data = json.loads(text, strict=False)
        except ValueError as exc:
            logger.debug("extract %s: unreadable JSON-LD block skipped (%s)", url, exc)
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list | dict):
                    stack.append(graph)


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type", [])
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].lower() for v in values if v}


def _find_article_jsonld(doc: lxml.html.HtmlElement, url: str) -> dict[str, Any]:
    for obj in _jsonld_objects(doc, url):
        if _types(obj) & ARTICLE_TYPES:
            return obj
    return {}


def _ld_text(value: Any) -> str:
    """A JSON-LD value as one line of text (strings, ``{"name": ...}`` objects, first of a list)."""
    if isinstance(value, list):
        for item in value:
            text = _ld_text(item)
            if text:
                return text
        return ""
    if isinstance(value, dict):
        return _ld_text(value.get("name") or value.get("@value") or value.get("alternateName"))
    if value is None or isinstance(value, bool):
        return ""
    text = str(value)
    return html_to_text(text) if looks_like_markup(text) else unescape_text(text)


def _ld_list(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [text for text in (_ld_text(item) for item in items) if text]


# --- meta tags ---------------------------------------------------------------


def _meta_tags(doc: lxml.html.HtmlElement) -> dict[str, list[str]]:
    """``<meta>`` contents keyed by lower-cased property/name/itemprop, in document order."""
    found: dict[str, list[str]] = {}
    for meta in doc.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                found.setdefault(key.strip().lower(), []).append(content)
    return found


def _first(meta: dict[str, list[str]], *keys: str) -> str:
    for key in keys:
        for value in meta.get(key, []):
            text = clean_text(value)
            if text:
                return text
    return ""


def _all(meta: dict[str, list[str]], *keys: str) -> list[str]:
    return [clean_text(v) for key in keys for v in meta.get(key, []) if clean_text(v)]


# --- fields ------------------------------------------------------------------


def _title_from_title_tag(doc: lxml.html.HtmlElement, site_name: str) -> str:
    """``<title>`` without the " | Site" suffix it usually carries."""
    title = clean_text(doc.findtext(".//title"))
    if not title:
        return ""
    for sep in _TITLE_SEPARATORS:
        if site_name and title.lower().endswith((sep + site_name).lower()):
            return title[: -len(sep + site_name)].strip()
    if " | " in title:
        return title.split(" | ")[0].strip()
    return title


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _title(ld: dict[str, Any], meta: dict[str, list[str]], doc: lxml.html.HtmlElement, fallback: str) -> str:
    title = _ld_text(ld.get("headline")) or _ld_text(ld.get("name"))
    title = title or _first(meta, "og:title", "twitter:title", "dc.title", "dcterms.title", "title")
    if title:
        return title
    tag_title = _title_from_title_tag(doc, _first(meta, "og:site_name", "application-name"))
    h1s = [clean_text(h.text_content()) for h in doc.iter("h1")]
    h1s = [h for h in h1s if h]
    # A lone <h1> is the headline (<title> is often cut short) unless it shares no word
    # with <title>: on blogs it is then the section ("Neuigkeiten") or the site's name.
    if len(h1s) == 1 and (not tag_title or _words(h1s[0]) & _words(tag_title)):
        return h1s[0]
    return fallback or tag_title


def _time_element(doc: lxml.html.HtmlElement) -> str:
    for xpath in (
        '//time[@itemprop="datePublished"]/@datetime',
        "//time[@pubdate]/@datetime",
        "//article//time/@datetime",
        "//time/@datetime",
    ):
        values = doc.xpath(xpath)
        if values:
            return str(values[0])
    return ""


def _canonical(doc: lxml.html.HtmlElement, url: str) -> str:
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rels and href:
            candidate = canonicalize_url(href, url)
            if is_web_url(candidate):
                return candidate
    return canonicalize_url(url)


def _language(doc: lxml.html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]) -> str:
    """Primary language subtag, lower-cased ("en-GB" -> "en")."""
    return language_subtag(
        clean_text(doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or _ld_text(ld.get("inLanguage"))
        or _first(meta, "og:locale", "content-language", "language", "dc.language", "dcterms.language")
    )


def _authors(ld: dict[str, Any], meta: dict[str, list[str]], doc: lxml.html.HtmlElement) -> list[str]:
    authors = clean_authors(_ld_list(ld.get("author")) or _ld_list(ld.get("creator")))
    if not authors:
        authors = clean_authors(
            _all(meta, "author", "article:author", "dc.creator", "dcterms.creator", "parsely-author")
        )
    if not authors:
        nodes = doc.xpath('//*[@rel="author"]|//*[@itemprop="author"]')
        authors = clean_authors(clean_text(node.text_content()) for node in nodes)
    return authors


def _tags(ld: dict[str, Any], meta: dict[str, list[str]]) -> list[str]:
    keywords = ld.get("keywords")
    values = keywords.split(",") if isinstance(keywords, str) else _ld_list(keywords)
    if not values:
        # One article:tag per tag is the OpenGraph way; some sites (the Guardian) put a list in one.
        values = [part for value in _all(meta, "article:tag") for part in value.split(",")]
    if not values:
        values = ",".join(_all(meta, "news_keywords", "keywords")).split(",")
    tags: list[str] = []
    for value in values:
        tag = unescape_text(value)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def _prune_xpath(exclude: str, url: str) -> list[str] | None:
    """XPath for trafilatura's ``prune_xpath`` from a source's ``exclude`` CSS selector."""
    if not exclude:
        return None
    try:
        return [GenericTranslator().css_to_xpath(exclude)]
    except SelectorError as exc:
        logger.warning("extract %s: ignoring invalid exclude selector %r (%s)", url, exclude, exc)
        return None


def _article_part(doc: Any, body_css: str, url: str) -> str | None:
    """The HTML of the element a source's ``body`` override names, or None (read the whole page)."""
    try:
        found = doc.cssselect(body_css)
    except SelectorError as exc:
        logger.warning("extract %s: ignoring invalid body selector %r (%s)", url, body_css, exc)
        return None
    if not found:
        logger.warning(
            "extract %s: body selector %r matches nothing (a redesign?): reading the whole page",
            url,
            body_css,
        )
        return None
    inner = lxml.html.tostring(found[0], encoding="unicode", with_tail=False)
    return f"<html><body>{inner}</body></html>"


def _body(text: str, url: str, title: str, exclude: str = "") -> str:
    """Main text via trafilatura: one paragraph per block, blank lines between them."""
    # bare_extraction gives the element tree trafilatura's XML output is serialised from,
    # without the serialise/parse round trip and the content fingerprint only that output needs.
    main = None
    prune = _prune_xpath(exclude, url)
    for precise in (True, False):
        document = trafilatura.bare_extraction(
            text,
            url=url if is_web_url(url) else None,
            prune_xpath=prune,
            favor_precision=precise,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=False,
        )
        body = getattr(document, "body", None)
        if body is not None and len(body) and "".join(body.itertext()).strip():
            main = body
            break
    if main is None:
        return ""
    blocks: list[str] = []
    for block in main:
        if not isinstance(block.tag, str):
            continue
        if block.tag == "list":
            lines = ["- " + clean_text("".join(item.itertext())) for item in block.iter("item")]
            para = "\n".join(line for line in lines if line != "- ")
        elif block.tag == "table":
            rows = [" | ".join(clean_text("".join(c.itertext())) for c in row) for row in block.iter("row")]
            para = "\n".join(row for row in rows if row.strip(" |"))
        else:
            for lb in block.iter("lb"):
                lb.tail = "\n" + (lb.tail or "")
            para = "\n".join(clean_text(line) for line in "".join(block.itertext()).split("\n"))
            para = "\n".join(line for line in para.split("\n") if line)
        if para:
            blocks.append(para)
    if blocks and clean_text(blocks[0]).lower() == title.lower():
        blocks.pop(0)  # trafilatura keeps the <h1>; the title is stored on its own
    return "\n\n".join(blocks)


def _shorten(text: str, limit: int = SUMMARY_MAX_CHARS) -> str:
    text = clean_text(text)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


# --- public ------------------------------------------------------------------


def summary_from_body(body: str) -> str:
    """The summary of an article that declares none: its first paragraph, shortened."""
    return _shorten(body.split("\n\n", 1)[0])


def body_from_html(fragment: str, url: str, title: str = "") -> str:
    """Body text of an article body an API delivers as HTML (GOV.UK's ``details.body``).

    The same text as a page's body (one paragraph per block, lists and tables
    kept). The fragment is wrapped in ``<article>`` so that trafilatura reads it
    as the article it is and keeps its headings and lists.
    """
    if not fragment or not fragment.strip():
        return ""
    return _body(f"<html><body><article>{fragment}</article></body></html>", url, title)


def extract_article(
    html: bytes | str,
    url: str,
    source_id: str = "",
    headers_charset: str | None = None,
    *,
    min_body_chars: int | None = None,
    fallback: Mapping[str, Any] | None = None,
    exclude: str = "",
    body_css: str = "",
) -> Article:
    """Extract an article from a page fetched from ``url``.

    ``headers_charset`` is the charset of the HTTP Content-Type header, if any;
    bytes are decoded robustly even when it is wrong. Raises
    :class:`~regwatch.errors.ExtractionError` when the page is not HTML, has no
    title, or its body is shorter than ``min_body_chars`` (default:
    the EXTRACT_MIN_BODY_CHARS setting's default).

    ``fallback`` holds what the index that linked to the page says (keys
    ``title``, ``summary``, ``published``, ``updated``, ``authors``, ``tags``, ``section``):
    used only where the page's own metadata is missing, ahead of the
    heuristics (``<title>`` text, first paragraph as summary). ``exclude`` is a
    CSS selector of page parts that are not the article and ``body_css`` one of
    the element holding it (a source's override, kept as data: see ``_overrides``);
    metadata is always read from the whole page.
    """
    hint = dict(fallback or {})
    minimum = DEFAULT_MIN_BODY_CHARS if min_body_chars is None else min_body_chars
    if isinstance(html, bytes):
        if b"\x00" in html[:2048] and not html.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ExtractionError(f"{url}: not HTML (binary content)")
        text = decode_html(html, headers_charset)
    else:
        text = html
    if not _HTML_HINT.search(text[:200_000]):
        raise ExtractionError(f"{url}: not HTML")
    try:
        doc = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"{url}: not HTML ({exc})") from None

    ld = _find_article_jsonld(doc, url)
    meta = _meta_tags(doc)
    title = _title(ld, meta, doc, clean_text(hint.get("title")))
    if not title:
        raise ExtractionError(f"{url}: no title")
    part = _article_part(doc, body_css, url) if body_css else None
    body = _body(part or text, url, title, exclude)
    declared_summary = _ld_text(ld.get("description")) or _ld_text(
        _first(meta, "og:description", "description", "twitter:description", "dc.description")
    )
    if declared_summary and body.startswith(declared_summary + "\n\n"):
        body = body[
            len(declared_summary) + 2 :
        ]  # a lead paragraph repeating the summary kept once, as summary
    if len(body) < minimum:
        raise ExtractionError(f"{url}: body too short ({len(body)} < {minimum} characters)")

    published = (
        parse_date(_ld_text(ld.get("datePublished")))
        or parse_date(_ld_text(ld.get("dateCreated")))
        or parse_date(
            _first(
                meta,
                "article:published_time",
                "og:article:published_time",
                "govuk:first-published-at",
                "dc.date.issued",
                "dcterms.issued",
                "dc.date",
                "dcterms.created",
                "date",
                "pubdate",
                "publish-date",
                "sailthru.date",
            )
        )
        or parse_date(_time_element(doc))
        or parse_date(hint.get("published"))
    )
    updated = (
        parse_date(_ld_text(ld.get("dateModified")))
        or parse_date(
            _first(
                meta,
                "article:modified_time",
                "og:updated_time",
                "govuk:public-updated-at",
                "govuk:updated-at",
                "dcterms.modified",
                "last-modified",
            )
        )
        or parse_date(hint.get("updated"))
    )
    summary = declared_summary or clean_text(hint.get("summary")) or summary_from_body(body)
    section = (
        _ld_text(ld.get("articleSection"))
        or _first(meta, "article:section")
        or clean_text(hint.get("section"))
    )

    return Article(
        url=_canonical(doc, url),
        source_id=source_id,
        title=title,
        body=body,
        fetch_url=url,
        summary=summary,
        published=published,
        updated=updated,
        authors=_authors(ld, meta, doc) or clean_authors(hint.get("authors") or []),
        language=_language(doc, ld, meta),
        section=section,
        tags=_tags(ld, meta) or [clean_text(t) for t in hint.get("tags") or [] if clean_text(t)],
    )


def extract_file(path: str | Path, source_id: str = "", *, min_body_chars: int | None = None) -> Article:
    """Extract an article from a saved ``.html`` or ``.html.gz`` file.

    The fetch URL is the file's ``file://`` URI, so an article without a
    ``<link rel=canonical>`` is keyed by that.
    """
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"{file}: cannot read ({exc.strerror})") from None
    if raw.startswith(b"\x1f\x8b"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ExtractionError(f"{file}: broken gzip file ({exc})") from None
    return extract_article(raw, file.resolve().as_uri(), source_id, min_body_chars=min_body_chars)
