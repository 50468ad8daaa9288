"""Article links found on a listing page by structure, never by a hand-written selector.

:func:`learn_link_groups` reads every link of a page and groups those whose
targets share a *path pattern*: each path segment is generalised to what it is
(a year ``{yyyy}``, a month or day ``{mm}``/``{dd}``, a month name ``{mon}``, a
slug ``{slug}`` of three or more words, a numeric or coded id ``{id}``) or kept
as written; segments written differently across an article-looking group
become ``{word}``. A group is a candidate when it holds at least three pages
and looks like articles: dated paths, slugs, a ``<time>`` in each link's item,
headline-length link text, items repeating one structure, outside the page's
navigation. Navigation links rarely share a pattern (``/politics/``,
``/business/``), and when they do (topic pages) they sit in ``<nav>``, header or
footer with one- or two-word texts: they score low.

The chosen group's :class:`LinkPattern` (its shape: the path with
placeholders such as ``{yyyy}`` and ``{slug}``) is what an ``auto`` source stores; :func:`links_matching` applies it to
the page on later runs. Whether a pattern is trusted is not decided here: the
spider fetches its first pages and counts those that extract as articles.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from ._discover import in_section, same_site
from ._text import clean_text, document_base, join_url, parse_date

MIN_GROUP_LINKS = 3  # a pattern is learned from, and trusted on, three pages at least
MIN_SCORE = 2.5
MAX_LINK_TEXT = 300

_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_SMALL = re.compile(r"^\d{1,2}$")
_NUMBER = re.compile(r"^\d{3,}$")
_DAY = re.compile(r"^(?:19|20)\d{2}-?[01]\d-?[0-3]\d$")
_CODE = re.compile(r"^(?=[^/]*\d)(?=[^/]*[a-z])[a-z0-9_-]{8,}$", re.IGNORECASE)
_PAGE_FILE = re.compile(r"^(?P<stem>.+?)(?P<ext>\.(?:html?|shtml|php|aspx?|jsp))$", re.IGNORECASE)
_WORDS = re.compile(r"[-_]+")
_MONTHS = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "may",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "january",
        "february",
        "march",
        "april",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
_NOT_PAGES = re.compile(
    r"\.(?:pdf|jpe?g|png|gif|svg|webp|css|js|zip|xml|rss|atom|json|mp3|mp4|docx?|xlsx?|pptx?|csv|ics)$",
    re.IGNORECASE,
)
_CHROME_TAGS = frozenset({"nav", "footer", "header", "aside"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "menu", "menubar", "complementary"})
_CHROME_WORDS = re.compile(
    r"(?:^|[-_\s])(?:nav|navbar|navigation|menu|breadcrumbs?|footer|masthead|skip|cookies?|"
    r"social|share|pagination|pager)(?:$|[-_\s])",
    re.IGNORECASE,
)
_DATED_TOKENS = ("{yyyy}", "{date}")
_ITEM_TOKENS = ("{slug}", "{id}")


@dataclass(frozen=True)
class ListedLink:
    """An article link a listing shows, with what the listing says about it."""

    url: str
    title: str = ""
    published: datetime | None = None


@dataclass(frozen=True)
class LinkPattern:
    """A learned link pattern: article paths on ``host`` have the ``shape`` (``/news/{yyyy}/{slug}/``).

    A shape is matched segment by segment against fixed patterns (no regex is
    built from a page), so a stored pattern can never be a costly regex.
    """

    shape: str
    host: str
    container: str = ""  # the repeated item's structure (tag.class > …), for people reading it

    def matches(self, url: str) -> bool:
        split = urlsplit(url)
        return same_site(split.hostname or "", self.host) and shape_matches(self.shape, split.path)

    def to_dict(self) -> dict[str, str]:
        return {"shape": self.shape, "host": self.host, "container": self.container}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinkPattern | None:
        """The pattern a source state stored; None when it is missing or not a shape this code reads."""
        try:
            shape, host = str(data["shape"]), str(data["host"])
        except (KeyError, TypeError):
            return None
        if not shape.startswith("/") or not all(_segment_known(s) for s in shape.split("/") if s):
            return None
        return cls(shape, host, str(data.get("container", "")))


# What each placeholder of a shape stands for, in one path segment.
_PLACEHOLDERS: dict[str, re.Pattern[str]] = {
    "{yyyy}": re.compile(r"(?:19|20)\d{2}"),
    "{date}": re.compile(r"(?:19|20)\d{2}-?[01]\d-?[0-3]\d"),
    "{mm}": re.compile(r"\d{1,2}"),
    "{dd}": re.compile(r"\d{1,2}"),
    "{n}": re.compile(r"\d{1,2}"),
    "{mon}": re.compile(r"[A-Za-z]{3,9}"),
    "{id}": re.compile(r"[A-Za-z0-9_-]+"),
    "{slug}": re.compile(r"[^/]+"),
    "{word}": re.compile(r"[^/]+"),
}


def _segment_known(written: str) -> bool:
    base = written.partition(".")[0]
    return not base.startswith("{") or base in _PLACEHOLDERS


def _segment_matches(written: str, segment: str) -> bool:
    base, dot, ext = written.partition(".")
    if base not in _PLACEHOLDERS:
        return written == segment
    if dot:
        if not segment.endswith("." + ext):
            return False
        segment = segment[: -len(ext) - 1]
    return _PLACEHOLDERS[base].fullmatch(segment) is not None


def shape_matches(shape: str, path: str) -> bool:
    """Whether ``path`` has the ``shape`` (a trailing slash in the shape is optional in the path)."""
    written = [s for s in shape.split("/") if s]
    if not shape.endswith("/") and path.endswith("/") and path != "/":
        return False
    segments = path.split("/")
    if segments and segments[-1] == "":
        segments.pop()  # the trailing slash
    if not path.startswith("/") or "" in segments[1:]:
        return False
    segments = segments[1:]
    return len(segments) == len(written) and all(map(_segment_matches, written, segments))


@dataclass
class LinkGroup:
    """Links sharing one path pattern, scored by how much they look like a page's articles."""

    pattern: LinkPattern
    links: list[ListedLink]
    score: float
    evidence: str


@dataclass
class _Occurrence:
    url: str
    text: str
    chrome: bool
    item: Any  # the lxml element holding this link and no other target
    order: int


@dataclass
class _Target:
    url: str
    tokens: list[tuple[str, str]]  # (token, written segment); token is a {placeholder} or "literal"
    trailing_slash: bool
    occurrences: list[_Occurrence] = field(default_factory=list)

    @property
    def article_like(self) -> bool:
        return any(token in _DATED_TOKENS or token.startswith(_ITEM_TOKENS) for token, _ in self.tokens)


def _segment_token(segment: str, previous: str) -> str:
    lowered = segment.lower()
    page_file = _PAGE_FILE.match(segment)
    stem = page_file.group("stem") if page_file else segment
    if _YEAR.match(segment):
        return "{yyyy}"
    if _DAY.match(segment):
        return "{date}"
    if _SMALL.match(segment):
        return "{mm}" if previous == "{yyyy}" else "{dd}" if previous in ("{mm}", "{mon}") else "{n}"
    if lowered in _MONTHS and previous == "{yyyy}":
        return "{mon}"
    if _NUMBER.match(segment):
        return "{id}"
    words = [w for w in _WORDS.split(stem) if w]
    if len(words) >= 3 and len(stem) >= 12 and any(c.isalpha() for c in stem):
        return "{slug}" + (page_file.group("ext").lower() if page_file else "")
    if _CODE.match(stem):
        return "{id}" + (page_file.group("ext").lower() if page_file else "")
    return "literal"


def _tokens(path: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    previous = ""
    for segment in [s for s in path.split("/") if s]:
        token = _segment_token(segment, previous)
        tokens.append((token, segment))
        previous = token
    return tokens


def _in_chrome(element: Any) -> bool:
    for node in element.iterancestors():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in ("article", "main"):
            return False  # a teaser's own <header> is not the page's
        if tag in _CHROME_TAGS or (node.get("role") or "").lower() in _CHROME_ROLES:
            return True
        if _CHROME_WORDS.search(f"{node.get('class') or ''} {node.get('id') or ''}"):
            return True
    return False


def _signature(element: Any, depth: int = 4) -> str:
    """``main > ul.stories > li.story``: an element's structure, without positions or numbered classes."""
    parts: list[str] = []
    node = element
    while node is not None and len(parts) < depth and isinstance(node.tag, str) and node.tag != "body":
        classes = sorted(c for c in (node.get("class") or "").split() if not any(ch.isdigit() for ch in c))
        parts.append(node.tag + "".join(f".{c}" for c in classes[:2]))
        node = node.getparent()
    return " > ".join(reversed(parts))


def _link_text(anchor: Any) -> str:
    text = clean_text(anchor.text_content())
    if not text:
        text = clean_text(anchor.get("title") or "") or clean_text(" ".join(anchor.xpath(".//img/@alt")))
    return text[:MAX_LINK_TEXT]


def _item_date(item: Any) -> datetime | None:
    for node in item.xpath(".//time | self::time"):
        when = parse_date(node.get("datetime")) or parse_date(node.text_content())
        if when is not None:
            return when
    for node in item.xpath(".//*[contains(@class, 'date')]"):
        when = parse_date(node.text_content())
        if when is not None:
            return when
    return None


def _page_links(html: str | bytes, page_url: str) -> list[_Occurrence] | None:
    """Every link of the page to another page of its site, with its item element; None if not HTML."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, etree.ParserError):
        return None
    for node in doc.xpath("//script | //style | //noscript | //template"):
        node.drop_tree()
    base = document_base(doc, page_url)
    page = urlsplit(page_url)
    anchors = []
    for anchor in doc.xpath("//body//a[@href]"):
        joined = join_url(base, anchor.get("href", ""))
        if joined is None:
            continue  # a malformed address: that link alone is skipped
        url = joined.split("#", 1)[0]
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not same_site(split.hostname or "", page.hostname or ""):
            continue
        if split.path.rstrip("/") == page.path.rstrip("/") and split.query == page.query:
            continue  # the page itself
        if _NOT_PAGES.search(split.path):
            continue
        anchors.append((anchor, url))
    # Each element's distinct targets, to find the item (the largest element holding one target).
    targets_in: dict[Any, set[str]] = defaultdict(set)
    for anchor, url in anchors:
        targets_in[anchor].add(url)
        for node in anchor.iterancestors():
            targets_in[node].add(url)
    occurrences = []
    for order, (anchor, url) in enumerate(anchors):
        item = anchor
        for node in anchor.iterancestors():
            if len(targets_in[node]) > 1 or node.tag in ("body", "html"):
                break
            item = node
        occurrences.append(_Occurrence(url, _link_text(anchor), _in_chrome(anchor), item, order))
    return occurrences


def _targets(occurrences: Iterable[_Occurrence]) -> dict[str, _Target]:
    targets: dict[str, _Target] = {}
    for occurrence in occurrences:
        target = targets.get(occurrence.url)
        if target is None:
            path = urlsplit(occurrence.url).path or "/"
            target = targets[occurrence.url] = _Target(occurrence.url, _tokens(path), path.endswith("/"))
        target.occurrences.append(occurrence)
    return targets


def _group_key(target: _Target) -> tuple[str, ...]:
    """Article-looking paths group by their tokens alone; others by what is written, so nav links stay apart."""
    if target.article_like:
        return (*(token for token, _ in target.tokens), "/" if target.trailing_slash else "")
    return ("=", *(segment for _, segment in target.tokens), "/" if target.trailing_slash else "")


def _pattern(targets: list[_Target], host: str) -> LinkPattern:
    shape = []
    for position, (token, segment) in enumerate(targets[0].tokens):
        if token == "literal":
            written = {t.tokens[position][1] for t in targets}
            shape.append(segment if len(written) == 1 and not segment.startswith("{") else "{word}")
        else:
            shape.append(token)
    slash = "/" if targets[0].trailing_slash else ""
    items = [min(t.occurrences, key=lambda o: (o.chrome, o.order)).item for t in targets]
    containers = [_signature(item) for item in items]
    container = max(set(containers), key=containers.count)
    return LinkPattern(
        shape="/" + "/".join(shape) + slash,
        host=host,
        container=container,
    )


def _best_text(target: _Target) -> str:
    texts = [o.text for o in target.occurrences if o.text]
    return max(texts, key=len) if texts else ""


def _score(targets: list[_Target], host: str, section: str) -> tuple[float, str]:
    n = len(targets)
    dated = sum(any(tok in _DATED_TOKENS for tok, _ in t.tokens) for t in targets) / n
    slugged = sum(any(tok.startswith(_ITEM_TOKENS) for tok, _ in t.tokens) for t in targets) / n
    timed = sum(any(_item_date(o.item) for o in t.occurrences) for t in targets) / n
    chrome = sum(all(o.chrome for o in t.occurrences) for t in targets) / n
    words = median(len(_best_text(t).split()) for t in targets)
    under = sum(in_section(t.url, host, section) for t in targets) / n
    containers = [_signature(min(t.occurrences, key=lambda o: (o.chrome, o.order)).item) for t in targets]
    repeated = max(containers.count(c) for c in set(containers)) / n
    score = 2.0 * dated + 1.5 * slugged + 2.0 * timed + repeated - 3.0 * chrome + min(n, 20) / 40
    score += 1.5 if words >= 5 else 0.5 if words >= 3 else -1.0
    if section != "/":
        score += 0.5 * under
    evidence = (
        f"{n} links; dated paths {dated:.0%}, slugs or ids {slugged:.0%}, <time> {timed:.0%}, "
        f"in navigation {chrome:.0%}, median text {words:g} words"
    )
    return score, evidence


def _listed(targets: list[_Target]) -> list[ListedLink]:
    ordered = sorted(targets, key=lambda t: min((o.chrome, o.order) for o in t.occurrences))
    return [
        ListedLink(t.url, _best_text(t), next((d for o in t.occurrences if (d := _item_date(o.item))), None))
        for t in ordered
    ]


def learn_link_groups(html: str | bytes, page_url: str, section: str = "/") -> list[LinkGroup]:
    """The page's candidate article-link groups, best first (empty when none looks like articles)."""
    occurrences = _page_links(html, page_url)
    if not occurrences:
        return []
    host = urlsplit(page_url).hostname or ""
    groups: dict[tuple[str, ...], list[_Target]] = defaultdict(list)
    for target in _targets(occurrences).values():
        groups[_group_key(target)].append(target)
    found = []
    for members in groups.values():
        if len(members) < MIN_GROUP_LINKS:
            continue
        looks_like_articles = any(t.article_like for t in members)
        score, evidence = _score(members, host, section)
        if score >= MIN_SCORE and looks_like_articles:
            found.append(LinkGroup(_pattern(members, host), _listed(members), score, evidence))
    return sorted(found, key=lambda g: -g.score)


def links_matching(html: str | bytes, page_url: str, pattern: LinkPattern) -> list[ListedLink]:
    """The page's links whose targets match a learned pattern, in page order (outside navigation first)."""
    occurrences = _page_links(html, page_url) or []
    targets = [t for t in _targets(occurrences).values() if pattern.matches(t.url)]
    return _listed(targets)
