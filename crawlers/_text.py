"""Small text helpers shared by extraction and feed parsing: dates, URLs, names, charsets."""

from __future__ import annotations

import codecs
import contextlib
import functools
import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree

# Query parameters that only track a click; they never change which article a URL names.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ocid", "cmpid", "_ga", "_hsenc"}
)
TRACKING_PREFIXES = ("utm_",)

# ``[^<>]*``, not ``[^>]*``: a scan from one "<p" stops at the next "<", so text full of unclosed
# "<p " (hostile JSON-LD) is read once, not once per "<p" (quadratic: 300 KB took 22 s).
_TAGLIKE = re.compile(r"<\s*/?\s*(p|br|div|span|a|b|i|em|strong|ul|ol|li|img|h[1-6])\b[^<>]*>", re.I)


# Characters no XML tree may hold (C0 controls but tab, line feed and carriage return; DEL; the two
# noncharacters): lxml refuses them in any string set on a tree, so one in a page made the body
# readers fail. Pages use them as invisible separators ("Climate\x07 Change"): each reads as a space.
_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def without_control_characters(text: str) -> str:
    """``text`` with each character no XML tree may hold (a BEL, a form feed) read as a space."""
    return _XML_INCOMPATIBLE.sub(" ", text)


# Characters that only say where a word may break or must not, and show nothing: a soft hyphen
# ("Kiess&shy;ling"), a word joiner, a zero-width no-break space (a byte-order mark mid-text). Kept,
# they split a word for search and entity matching, and a title from the heading that shows it.
_INVISIBLE = re.compile("\u00ad|\u2060|\ufeff|&shy;|&#0*173;|&#x0*ad;", re.IGNORECASE)
_INVISIBLE_CHARACTERS = dict.fromkeys(map(ord, "\u00ad\u2060\ufeff"))


def without_invisible_characters(text: str) -> str:
    """``text`` (a page's source) without soft hyphens and word joiners, as characters or entities."""
    return _INVISIBLE.sub("", text)


_WORDS = re.compile(r"\w+")


@functools.lru_cache(maxsize=32)  # within one page; a few bodies held at most
def word_count(text: str) -> int:
    """Words in a text. Cached: the rules ask about the same body and paragraphs again and again
    (half the calls on a plain article page), and a string's hash is computed once."""
    return len(_WORDS.findall(text))


def cap_strings(value: Any, max_chars: int) -> Any:
    """``value`` (parsed JSON) with every string cut to ``max_chars``: a hostile page cannot make one huge."""
    if isinstance(value, str):
        return value[:max_chars]
    if isinstance(value, list):
        return [cap_strings(item, max_chars) for item in value]
    if isinstance(value, dict):
        return {str(key)[:max_chars]: cap_strings(item, max_chars) for key, item in value.items()}
    return value


# One translation for clean_text: line breaks, tabs, no-break and zero-width spaces become spaces,
# soft hyphens and word joiners go.
_ONE_LINE = {**dict.fromkeys(map(ord, "\n\t\r\f\v\u00a0\u200b"), " "), **_INVISIBLE_CHARACTERS}


def clean_text(value: object) -> str:
    """Collapse whitespace inside a one-line value (title, author, summary); soft hyphens go (JSON-LD
    and feeds write them as escapes or entities the page's source does not show).

    Splitting on spaces, not a regular expression: it is called on every block of every page."""
    if value is None:
        return ""
    return " ".join(filter(None, str(value).translate(_ONE_LINE).split(" "))).strip()


def unescape_text(value: object) -> str:
    """Plain text from a string that may carry HTML entities (JSON-LD often does)."""
    return clean_text(html.unescape(str(value))) if value is not None else ""


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed descriptions); entities decoded, tags dropped.

    A fragment without tags is only unescaped, so a literal ``<script>`` written
    as ``&lt;script&gt;`` stays as text, as it should.
    """
    if not fragment:
        return ""
    if "<" not in fragment:
        return unescape_text(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(fragment)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for br in root.xpath("//br|//p|//li|//div"):
        br.tail = " " + (br.tail or "")
    return clean_text(root.text_content())


def language_subtag(value: object) -> str:
    """The primary language subtag of a declared language, lower-cased ("en-GB", "en_GB" -> "en")."""
    raw = clean_text(value)
    return re.split(r"[-_]", raw, maxsplit=1)[0].lower() if raw else ""


def looks_like_markup(value: str) -> bool:
    """True when a string holds HTML structure tags (not merely a literal angle bracket)."""
    return bool(_TAGLIKE.search(value))


# --- dates -------------------------------------------------------------------

_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M%z",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
    "%d %B %Y",
    "%d %b %Y",
    "%B %d, %Y",
    "%b %d, %Y",
)


def parse_date(value: object) -> datetime | None:
    """Parse ISO-8601, RFC 822/2822 and a few common formats to an aware UTC datetime.

    Naive values are taken as UTC. Anything unparseable gives ``None``; callers
    decide whether that is a problem.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed: datetime | None = value
    else:
        text = clean_text(value)
        if not text:
            return None
        parsed = None
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        with contextlib.suppress(ValueError):
            parsed = datetime.fromisoformat(iso)
        if parsed is None:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                parsed = None
        if parsed is None:
            for fmt in _DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# --- URLs --------------------------------------------------------------------


def canonicalize_url(url: str, base: str = "") -> str:
    """Absolute URL without fragment, tracking parameters or a default port; scheme/host lowercased."""
    absolute = urljoin(base, url.strip()) if base else url.strip()
    parts = urlsplit(absolute)
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    if (scheme == "http" and netloc.endswith(":80")) or (scheme == "https" and netloc.endswith(":443")):
        netloc = netloc.rsplit(":", 1)[0]
    query = parts.query
    if query:
        kept = [
            (k, v)
            for k, v in parse_qsl(query, keep_blank_values=True)
            if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
        ]
        if len(kept) != len(parse_qsl(query, keep_blank_values=True)):
            query = urlencode(kept)  # re-encode only when something was dropped
    path = parts.path or ("/" if scheme in ("http", "https") else "")
    return urlunsplit((scheme, netloc, path, query, ""))


def join_url(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``, or None when either is malformed ("http://[abc", an
    unclosed IPv6 host; a port out of range): one bad link in a page, feed or sitemap is skipped,
    never the page, feed or sitemap around it."""
    try:
        joined = urljoin(base, href.strip())
        urlsplit(joined).port  # noqa: B018 -- reading it checks the port
    except ValueError:
        return None
    return joined


def document_base(doc: Any, page_url: str) -> str:
    """The address a parsed page's relative links resolve against: its ``<base href>``, or the page's
    own address when it has none or a malformed one."""
    return join_url(page_url, doc.xpath("string(//base/@href)") or "") or page_url


def is_web_url(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https", "file")


# Link targets that are no page: a script, a mail or a phone number.
_NOT_PAGES = ("javascript:", "mailto:", "tel:")


def page_key(href: str, base: str = "") -> tuple[str, str, str] | None:
    """What names a page in an address: its host without "www.", its path without a last slash, its
    query; None for a malformed address ("http://[abc"), which names no page."""
    joined = join_url(base, href)
    if joined is None:
        return None
    parts = urlsplit(joined)
    return (parts.hostname or "").removeprefix("www."), parts.path.rstrip("/"), parts.query


# An element (a headline) links elsewhere when at least this share of its text is such links' text.
LINKED_TEXT_SHARE = 0.5


def links_elsewhere(element: Any, url: str = "") -> bool:
    """Whether an element's text is mostly links to other pages (a teaser's headline; a kicker may stand
    before it). A link to a fragment never counts, nor, given the page's ``url``, a link back to it (a
    blog post's headline links to its own permalink)."""
    text = clean_text(element.text_content())
    own = page_key(url) if url else None

    def elsewhere(href: str) -> bool:
        href = href.strip()
        if not href or href.startswith("#") or href.lower().startswith(_NOT_PAGES):
            return False
        return own is None or page_key(href, url) != own

    linked = "".join("".join(a.itertext()) for a in element.iter("a") if elsewhere(a.get("href") or ""))
    return bool(text) and len(clean_text(linked)) >= LINKED_TEXT_SHARE * len(text)


# --- authors -----------------------------------------------------------------

_BY = re.compile(r"^(by|von|par|por)\s+", re.I)
_AUTHOR_SPLIT = re.compile(
    r"(?:,|;|\band\b|&|\|)", re.I
)  # no \s* around: quadratic on long blanks; parts are stripped


def clean_authors(values: Iterable[object]) -> list[str]:
    """A clean, de-duplicated author list: "By A and B" -> ["A", "B"]; URLs and blanks dropped."""
    authors: list[str] = []
    seen: set[str] = set()
    for value in values:
        text = unescape_text(value)
        if not text or text.startswith(("http://", "https://", "/")):
            continue
        text = _BY.sub("", text)
        for part in _AUTHOR_SPLIT.split(text):
            name = _BY.sub("", part.strip(" .-–—")).strip()
            if name and name.lower() not in seen and not name.startswith(("http://", "https://")):
                seen.add(name.lower())
                authors.append(name)
    return authors


# --- charsets ----------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^<>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def _codec(name: str | None) -> str | None:
    """Python codec for a declared charset; latin-1 labels mean cp1252, as browsers read them."""
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    return "cp1252" if codec in ("latin-1", "iso8859-1", "ascii") else codec


def _stray_byte_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """A byte that is no UTF-8, read as cp1252 (latin-1 where cp1252 has no character)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    byte = error.object[error.start : error.start + 1]
    try:
        return byte.decode("cp1252"), error.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), error.start + 1


codecs.register_error("regwatch-stray-cp1252", _stray_byte_as_cp1252)


def decode_html(raw: bytes, headers_charset: str | None = None) -> str:
    """Decode page bytes robustly even when the declared charset is wrong.

    Order: a BOM; a strict UTF-8 try (valid UTF-8 is almost never an accident);
    the declared charset (HTTP header, then ``<meta charset>``); cp1252. A page declared UTF-8
    with a few stray bytes of another charset (a template in UTF-8 around text pasted in
    latin-1) is read as UTF-8, each stray byte as cp1252: read whole as cp1252, every UTF-8
    character of it would turn to mojibake ("MÃ¤scot").
    """
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if raw.startswith(bom):
            return raw[len(bom) :].decode(codec, errors="replace")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _META_CHARSET.search(raw[:4096])
    declared = [_codec(headers_charset), _codec(match.group(1).decode("ascii")) if match else None]
    for declared_codec in declared:
        if declared_codec == "utf-8":
            return raw.decode("utf-8", errors="regwatch-stray-cp1252")
        if declared_codec:
            try:
                return raw.decode(declared_codec)
            except (UnicodeDecodeError, LookupError):
                continue
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")
