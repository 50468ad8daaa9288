"""Turn one fetched page into an :class:`~regwatch.models.Article`.

Metadata comes from what publishers declare on purpose, best first: JSON-LD
(``NewsArticle`` and kin, also inside ``@graph``), OpenGraph and other meta tags
(``article:*``, ``dc.*``, ``govuk:*``, ``author``), ``<time datetime>``,
``<link rel=canonical>`` and ``<html lang>``; a byline or a date the page only
shows is the last resort. The headline is the declared or ``<title>`` text the
page confirms by showing it (``_title``); the authors come from ``_authors``.
The body comes from trafilatura with its fallback extractors, precision mode first
and its default mode when that carries a too-short body on; a JSON-LD
``articleBody`` that dwarfs it wins. A few page parts trafilatura keeps (sign-up
boxes, captions, footnote markers) are removed first, and its blocks are cut further:
mostly-link blocks, repeats (pull quotes), wire credits (``_body``). Each rule is
general, never a site's, and kept only where it wins on real pages
(``benchmarks/extraction``): a site the rules get wrong gets a per-source override
(``_overrides``). Everything returned is plain text: no markup survives, and text
that merely *looks* like markup (a headline quoting ``<script>``) stays as text
for the renderer to escape.

Longer than most modules: every declared field one page gives (JSON-LD, meta tags, dates,
language, the body's choice) feeds the one :func:`extract_article`; the readers that stand
alone (title, authors, body cuts) already live in their own modules.
"""

from __future__ import annotations

import gzip
import itertools
import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from cssselect import SelectorError
from htmldate import find_date
from lxml import etree

from regwatch.errors import ExtractionError
from regwatch.models import Article
from regwatch.settings import BY_NAME

from ._authors import authors_of
from ._body import WIDER_BODY_RATIO, body_text, prose_words, unlink_heading_anchors
from ._markup import drop_xml_declaration, parse_document
from ._prune import drop_non_article
from ._shown_time import country_zone, shown_cjk_days, shown_time, zone_named
from ._text import (
    canonicalize_url,
    cap_strings,
    clean_authors,
    clean_text,
    decode_html,
    html_to_text,
    is_web_url,
    join_url,
    language_subtag,
    looks_like_markup,
    parse_date,
    unescape_text,
    without_control_characters,
    without_invisible_characters,
    word_count,
)
from ._title import headline, usable

logger = logging.getLogger(__name__)

DEFAULT_MIN_BODY_CHARS: int = BY_NAME["EXTRACT_MIN_BODY_CHARS"].default
DEFAULT_JSONLD_MAX_CHARS: int = BY_NAME["EXTRACT_JSONLD_MAX_CHARS"].default
DEFAULT_MAX_BODY_CHARS: int = BY_NAME["EXTRACT_MAX_BODY_CHARS"].default
SUMMARY_MAX_CHARS = 500
# A page naming its article nowhere is titled by its opening words, this long at most.
UNTITLED_TITLE_CHARS = 120

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
        "liveblogposting",
        "scholarlyarticle",
        "report",
    }
)

# schema.org types of a page as a whole, whose ``author`` names the article's where no article object does.
PAGE_TYPES = frozenset({"webpage", "itempage", "aboutpage", "profilepage", "collectionpage"})

# Meta tags describing the article, best first.
DESCRIPTION_META = ("og:description", "description", "twitter:description", "dc.description")
# Meta tags naming an article's publication and update times, best first.
PUBLISHED_META = (
    "article:published_time",
    "datepublished",  # <meta itemprop="datePublished">
    "og:article:published_time",
    "govuk:first-published-at",
    "dc.date.issued",
    "dcterms.issued",
    "parsely-pub-date",  # Parse.ly's analytics tag, on many news sites
    "dc.date",
    "dcterms.created",
    "date",
    "pubdate",
    "publish-date",
    "sailthru.date",
)
UPDATED_META = (
    "article:modified_time",
    "datemodified",
    "og:updated_time",
    "govuk:public-updated-at",
    "govuk:updated-at",
    "dcterms.modified",
    "last-modified",
)
_HTML_HINT = re.compile(r"<\s*(html|head|body|article|main|p|div|title|meta|h1)\b", re.I)


# --- JSON-LD -----------------------------------------------------------------


def _jsonld_objects(doc: lxml.html.HtmlElement, url: str, max_chars: int) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page, flattened out of lists and ``@graph``; strings cut at ``max_chars``."""
    for script in doc.xpath('//script[@type and contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
        text = (script.text or "").strip()
        text = re.sub(r"^\s*(<!--|(//\s*)?<!\[CDATA\[)|(-->|(//\s*)?\]\]>)\s*$", "", text)
        if not text:
            continue
        try:
            data = json.loads(text, strict=False)
        except ValueError as exc:
            logger.debug("extract %s: unreadable JSON-LD block skipped (%s)", url, exc)
            continue
        stack = [cap_strings(data, max_chars)]
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


def _find_article_jsonld(objects: list[dict[str, Any]]) -> dict[str, Any]:
    for obj in objects:
        if _types(obj) & ARTICLE_TYPES:
            return obj
    return {}


def _ld_by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Objects by ``@id``: Yoast and others name an author as ``{"@id": …}`` and describe it elsewhere in the graph."""
    index: dict[str, dict[str, Any]] = {}
    for obj in objects:
        key = obj.get("@id")
        if isinstance(key, str) and (key not in index or len(obj) > len(index[key])):
            index[key] = obj
    return index


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


def _microdata_headline(doc: lxml.html.HtmlElement) -> str:
    """The first element marked ``itemprop="headline"`` (schema.org microdata), outside links."""
    for element in doc.xpath('//*[contains(concat(" ", normalize-space(@itemprop), " "), " headline ")]')[:1]:
        if not element.xpath("ancestor-or-self::a"):
            return clean_text(element.text_content())
    return ""


def _title(
    ld: dict[str, Any],
    meta: dict[str, list[str]],
    doc: lxml.html.HtmlElement,
    url: str,
    publisher: str,
    listed: str = "",
) -> str:
    """The headline as the page presents it (see ``_title``): JSON-LD, then declared titles and ``<title>``, confirmed by the page."""
    return headline(
        doc,
        url,
        jsonld=_ld_text(ld.get("headline")) or _ld_text(ld.get("name")),
        declared=[
            *(
                _first(meta, key)
                for key in ("og:title", "twitter:title", "dc.title", "dcterms.title", "title")
            ),
            _first(meta, "headline") or _microdata_headline(doc),
        ],
        site_names=[_first(meta, "og:site_name"), _first(meta, "application-name"), publisher],
        listed=listed,
    )


def _time_element(doc: lxml.html.HtmlElement) -> str:
    for xpath in (
        '//time[@itemprop="datePublished"]/@datetime',
        '//*[@itemprop="datePublished"][not(self::meta)]/@content',  # microdata on a <span>
        "//time[@pubdate]/@datetime",
        "//article//time/@datetime",
        "//time/@datetime",
    ):
        values = doc.xpath(xpath)
        if values:
            return str(values[0])
    return ""


_ZONE = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2}|\b(?:GMT|UTC|UT|[A-Z]{2,4}T))\s*$")
# An offset written with one digit of hours after a clock ("2018-10-29T10:15-500"): -05:00.
_SHORT_OFFSET = re.compile(r"(:\d\d)([+-])(\d)(\d\d)$")


def _as_stated(value: object) -> tuple[datetime | None, bool]:
    """(the time a value states, in its own offset, or None; whether it states an offset)."""
    if isinstance(value, datetime):
        return value, value.tzinfo is not None
    text = _SHORT_OFFSET.sub(r"\1\g<2>0\3\4", clean_text(value))
    if not text or parse_date(text) is None:
        return None, False
    if not _ZONE.search(text):
        return parse_date(text), False  # naive: read as UTC, so its fields are the stated wall clock
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        return datetime.fromisoformat(iso), True
    except ValueError:
        try:
            return parsedate_to_datetime(text), True
        except (TypeError, ValueError, IndexError):
            return parse_date(text), True


def _declared(values: list[object]) -> tuple[datetime | None, bool, bool]:
    """(the first value that parses, best source first, as an aware UTC time; whether it states its
    offset; whether it states a clock, not just a day).

    A value without an offset ("2026-02-04 11:32:40" in Euronews's JSON-LD) is only a
    guess at UTC: a later value stating the same wall clock (or, for a bare date, the
    same day) with its offset is the same moment, told properly, and wins.
    """
    stated: list[tuple[object, datetime, bool]] = []
    for value in values:
        when, aware = _as_stated(value)
        if when is not None:
            stated.append((value, when, aware))
    if not stated:
        return None, False, False
    value, first, aware = stated[0]
    clock = ":" in clean_text(value) or isinstance(value, datetime)
    if not aware:
        wall = first.replace(tzinfo=None)
        for _, other, other_aware in stated[1:]:
            if not other_aware:
                continue
            local = other.replace(tzinfo=None)
            if (not clock and local.date() == wall.date()) or abs(local - wall) < timedelta(minutes=1):
                return parse_date(other), True, True
    return parse_date(first), aware, clock


def _declared_time(values: list[object]) -> datetime | None:
    """The time the values declare (see :func:`_declared`)."""
    return _declared(values)[0]


def _published(html: str, declared: list[object], url: str, zone: str) -> datetime | None:
    """The publication time: the declared one, told with its offset by the page's text where it
    has none (:mod:`._shown_time`), else the day the page shows, at midnight in the publisher's zone."""
    published, aware, clock = _declared(declared)
    if aware:
        return published
    local_zone = zone or country_zone(urlsplit(url).hostname or "")  # for a clock shown without a zone
    if published is not None:  # a wall clock or a day without an offset: read as UTC, its fields as stated
        wall = published.replace(tzinfo=None)
        shown = shown_time(html, wall if clock else None, wall.date(), local_zone)
        return shown or (published if clock else _shown_day(wall.date(), url, zone))
    day = _visible_day(html, url)
    if day is None:
        return None
    return shown_time(html, None, day, local_zone) or _shown_day(day, url, zone)


def _visible_day(text: str, url: str) -> date | None:
    """A day the page shows but does not declare ("Published: 20 January 2026"), found by htmldate.

    htmldate reads no day written the CJK way ("2019年4月4日") and falls back on a year ("© 2016"
    as 1 January): where it finds no day, or only a 1 January the page does not show, the first
    day shown the CJK way is the story's.
    """
    found_day = _htmldate_day(text, url)
    if found_day is not None and (found_day.month, found_day.day) != (1, 1):
        return found_day
    shown = shown_cjk_days(text)
    return found_day if not shown or found_day in shown else shown[0]


def _htmldate_day(text: str, url: str) -> date | None:
    try:
        found = find_date(
            text, extensive_search=True, original_date=True, url=url if url.startswith("http") else None
        )
    except (ValueError, TypeError) as exc:
        logger.debug("extract %s: no visible date (%s)", url, exc)
        return None
    day = parse_date(found) if found else None
    return day.date() if day is not None else None


def _shown_day(day: date, url: str, zone: str) -> datetime:
    """A day a page shows (or its URL holds) as a time: midnight in the publisher's zone (its source's,
    else its country domain's), in UTC."""
    zone = zone or country_zone(urlsplit(url).hostname or "")
    tz = zone_named(zone)
    if tz is None and zone:
        logger.warning("extract %s: unknown timezone %r; the shown date is read as UTC", url, zone)
    return datetime.combine(day, datetime.min.time(), tz or UTC).astimezone(UTC)


def _not_after(values: list[object], updated: datetime | None) -> list[object]:
    """The declared publication times that are not after the declared update: a "published" time
    later than the page's last change is the time the page was rendered (a CMS stamping every
    view), not when the article appeared, and the next source says that better."""
    if updated is None:
        return values
    kept = []
    for value in values:
        when, aware = _as_stated(value) if value else (None, False)
        if when is None or not aware or when <= updated:  # a time without an offset is only a guess at UTC
            kept.append(value)
    return kept if any(kept) else values


# A day in a URL's path ("/2017/7/12/"), set when the article was first published and kept since.
_URL_DAY = re.compile(r"/((?:19|20)\d\d)/(\d{1,2})/(\d{1,2})(?:/|$)")
# A declared publication this many days after the URL's day is a republication (a redesign, a move).
REPUBLISHED_AFTER_DAYS = 7


def _first_published(published: datetime | None, url: str, zone: str) -> datetime | None:
    """The day in the URL's path where the declared time is weeks later: a site moved or re-saved
    its archive ("/2017/7/12/unter-uns-montauk" declared as published in 2019), and the URL kept
    the day the article first appeared (midnight in the publisher's zone, as a shown day)."""
    match = _URL_DAY.search(urlsplit(url).path)
    if published is None or match is None:
        return published
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return published
    if (published.date() - day).days <= REPUBLISHED_AFTER_DAYS:
        return published
    return _shown_day(day, url, zone)


def _canonical(doc: lxml.html.HtmlElement, url: str) -> str:
    for link in doc.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        joined = join_url(url, href) if "canonical" in rels and href else None
        if joined is not None and is_web_url(candidate := canonicalize_url(joined)):
            return candidate
    return canonicalize_url(url)


def _language(doc: lxml.html.HtmlElement, ld: dict[str, Any], meta: dict[str, list[str]]) -> str:
    """Primary language subtag, lower-cased ("en-GB" -> "en")."""
    return language_subtag(
        clean_text(doc.get("lang") or doc.get("{http://www.w3.org/XML/1998/namespace}lang"))
        or _ld_text(ld.get("inLanguage"))
        or _first(meta, "og:locale", "content-language", "language", "dc.language", "dcterms.language")
    )


def _publisher_name(ld: dict[str, Any], by_id: Mapping[str, dict[str, Any]]) -> str:
    publisher = ld.get("publisher")
    if isinstance(publisher, dict) and isinstance(publisher.get("@id"), str) and not publisher.get("name"):
        publisher = by_id.get(publisher["@id"], publisher)
    return _ld_text(publisher)


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


# A JSON-LD articleBody shorter than this is a teaser, never preferred to the page's own text.
DECLARED_BODY_MIN_WORDS = 50


def _declared_body(ld: dict[str, Any]) -> str:
    """The article text a page's JSON-LD declares (``articleBody``), one paragraph per line break."""
    value = ld.get("articleBody")
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value if isinstance(v, str))
    if not isinstance(value, str) or not value.strip():
        return ""
    if looks_like_markup(value):
        try:
            root = lxml.html.fragment_fromstring(value, create_parent="div")
        except (etree.ParserError, ValueError):
            return ""
        for block in root.iter("p", "br", "li", "div", "h2", "h3", "h4"):
            block.tail = "\n" + (block.tail or "")
        value = root.text_content()
    paragraphs = [unescape_text(line) for line in re.split(r"\n+", value)]
    return "\n\n".join(p for p in paragraphs if p)


_SPACES = re.compile(r"\s+")


def _opening_key(text: str) -> str:
    return _SPACES.sub(" ", text).casefold().strip().rstrip(".… ")


def _declared_summaries(
    ld: dict[str, Any], meta: dict[str, list[str]], doc: lxml.html.HtmlElement
) -> list[tuple[str, bool]]:
    """The descriptions the page declares, JSON-LD's first, each with whether the page shows it as
    text (asked only where it declares more than one)."""
    said = list(
        dict.fromkeys(
            text
            for text in (
                _ld_text(ld.get("description")),
                *(_ld_text(v) for v in _all(meta, *DESCRIPTION_META)),
            )
            if text
        )
    )
    if len(said) < 2:
        return [(text, False) for text in said]
    page_text = _SPACES.sub(" ", doc.text_content()).casefold()
    return [(text, _opening_key(text) in page_text) for text in said]


def _declared_summary(said: list[tuple[str, bool]], body: str) -> str:
    """The page's first declared description; but where that is only the body's opening words and
    the page shows another it declares, that one. Two SEO plugins on one page: one cuts its excerpt
    from the body ("Von Gregory Lipinski Herr Vilanek, in Deutschland…"), the other gives the
    standfirst the editors wrote, shown above the article."""
    if not said:
        return ""
    first = said[0][0]
    if len(said) > 1 and _opens_a_paragraph(_opening_key(first), body):
        return next((text for text, shown in said[1:] if shown), first)
    return first


def _opens_a_paragraph(key: str, body: str, paragraphs: int = 3) -> bool:
    """Whether the body, from one of its first paragraphs on (a standfirst or byline may come first),
    starts with ``key``."""
    starts = [0, *(m.end() for m in itertools.islice(re.finditer(r"\n\n", body), paragraphs - 1))]
    return any(_SPACES.sub(" ", body[i : i + 2000]).casefold().startswith(key) for i in starts)


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


def cap_body(body: str, limit: int | None, url: str, source_id: str = "") -> str:
    """``body`` cut to at most ``limit`` characters (None: EXTRACT_MAX_BODY_CHARS), at the last
    paragraph break, else line break or space, in its last tenth; logged when cut."""
    limit = DEFAULT_MAX_BODY_CHARS if limit is None else limit
    if limit <= 0 or len(body) <= limit:
        return body
    head = body[:limit]
    for separator in ("\n\n", "\n", " "):
        end = head.rfind(separator, limit - limit // 10)
        if end > 0:
            head = head[:end]
            break
    logger.warning(
        "source=%s url=%s body of %d characters cut to %d (EXTRACT_MAX_BODY_CHARS %d)",
        source_id or "-",
        url,
        len(body),
        len(head),
        limit,
    )
    return head


def body_from_html(fragment: str, url: str, title: str = "") -> str:
    """Body text of an article body an API delivers as HTML (GOV.UK's ``details.body``).

    The same text as a page's body (one paragraph per block, lists and tables
    kept). The fragment is wrapped in ``<article>`` so that trafilatura reads it
    as the article it is and keeps its headings and lists.
    """
    if not fragment or not fragment.strip():
        return ""
    readable = without_invisible_characters(without_control_characters(fragment))
    page = f"<html><body><article>{readable}</article></body></html>"
    return body_text(page, url, title)


def extract_article(
    html: bytes | str,
    url: str,
    source_id: str = "",
    headers_charset: str | None = None,
    *,
    min_body_chars: int | None = None,
    jsonld_max_chars: int | None = None,
    max_body_chars: int | None = None,
    fallback: Mapping[str, Any] | None = None,
    exclude: str = "",
    body_css: str = "",
    local_timezone: str = "",
) -> Article:
    """Extract an article from a page fetched from ``url``.

    ``headers_charset`` is the charset of the HTTP Content-Type header, if any;
    bytes are decoded robustly even when it is wrong. Raises
    :class:`~regwatch.errors.ExtractionError` when the page is not HTML, has
    neither a title nor text, or its body is shorter than ``min_body_chars`` (default:
    the EXTRACT_MIN_BODY_CHARS setting's default). A page naming its article
    nowhere is titled by its first heading, else by its opening words. JSON-LD
    strings are cut at ``jsonld_max_chars`` (default: EXTRACT_JSONLD_MAX_CHARS's);
    a body longer than ``max_body_chars`` (default: EXTRACT_MAX_BODY_CHARS's) is
    cut there, with a log line.

    ``fallback`` holds what the index that linked to the page says (keys
    ``title``, ``summary``, ``published``, ``updated``, ``authors``, ``tags``, ``section``):
    used only where the page's own metadata is missing, ahead of the
    heuristics (``<title>`` text, first paragraph as summary). ``exclude`` is a
    CSS selector of page parts that are not the article and ``body_css`` one of
    the element holding it (a source's override, kept as data: see ``_overrides``);
    metadata is always read from the whole page. ``local_timezone`` is the publisher's
    IANA zone: a page that only shows a day was published at midnight there.
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
    text = drop_xml_declaration(text)  # lxml refuses a decoded string that declares its encoding
    text = without_invisible_characters(without_control_characters(text))
    try:
        doc = parse_document(text, url)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"{url}: not HTML ({exc})") from None

    objects = list(
        _jsonld_objects(doc, url, DEFAULT_JSONLD_MAX_CHARS if jsonld_max_chars is None else jsonld_max_chars)
    )
    ld = _find_article_jsonld(objects)
    meta = _meta_tags(doc)
    listed = clean_text(hint.get("title"))
    title = _title(ld, meta, doc, url, _publisher_name(ld, _ld_by_id(objects)), listed) or listed
    if not title:  # no title anywhere: a heading, else the body's opening words, name the article
        title = next(
            (t for t in (clean_text(h.text_content()) for h in doc.iter("h2", "h3")) if usable(t)), ""
        )
    declared_summaries = _declared_summaries(ld, meta, doc)
    # Everything read from the page's markup is read before the body prunes it.
    time_element = _time_element(doc)
    canonical = _canonical(doc, url)
    language = _language(doc, ld, meta)
    by_id = _ld_by_id(objects)
    # Without an article object, Yoast and others name the author on the page's own object (WebPage).
    page_ld = next((o for o in objects if _types(o) & PAGE_TYPES and o.get("author")), {})
    authors = authors_of(
        doc,
        ld if ld.get("author") or ld.get("creator") else page_ld or ld,
        meta,
        by_id,
        _publisher_name(ld, by_id),
        url=url,
    ) or clean_authors(hint.get("authors") or [])
    drop_non_article(doc, url)
    unlink_heading_anchors(doc)
    part = _article_part(doc, body_css, url) if body_css else None
    body = body_text(
        part or lxml.html.tostring(doc, encoding="unicode"),
        url,
        title,
        exclude,
        prose=0 if part else prose_words(doc),
        second_opinion=not part,
        language=language,
    )
    declared_body = _declared_body(ld)
    if not part and word_count(declared_body) > max(
        DECLARED_BODY_MIN_WORDS, WIDER_BODY_RATIO * word_count(body)
    ):
        # The page's markup hid its article from the extractor (a script-rendered page, a misleading
        # layout) but its JSON-LD carries the text: that is the article, not what was picked instead.
        logger.debug(
            "extract %s: body of %d words, JSON-LD articleBody %d: taking the declared one",
            url,
            word_count(body),
            word_count(declared_body),
        )
        body = declared_body
    if not title:
        title = _shorten(body.split("\n\n", 1)[0], UNTITLED_TITLE_CHARS)
    if not title:
        raise ExtractionError(f"{url}: no title and no text")
    if len(body) < minimum:
        raise ExtractionError(f"{url}: body too short ({len(body)} < {minimum} characters)")
    body = cap_body(body, max_body_chars, url, source_id)

    updated = _declared_time(
        [_ld_text(ld.get("dateModified")), *(_first(meta, key) for key in UPDATED_META), hint.get("updated")]
    )
    published = _published(
        text,
        _not_after(
            [
                _ld_text(ld.get("datePublished")),
                _ld_text(ld.get("dateCreated")),
                *(_first(meta, key) for key in PUBLISHED_META),
                time_element,
                hint.get("published"),
            ],
            updated,
        ),
        url,
        local_timezone,
    )
    published = _first_published(published, url, local_timezone)
    summary = (
        _declared_summary(declared_summaries, body)
        or clean_text(hint.get("summary"))
        or summary_from_body(body)
    )
    section = (
        _ld_text(ld.get("articleSection"))
        or _first(meta, "article:section")
        or clean_text(hint.get("section"))
    )

    return Article(
        url=canonical,
        source_id=source_id,
        title=title,
        body=body,
        fetch_url=url,
        summary=summary,
        published=published,
        updated=updated,
        authors=authors,
        language=language,
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
