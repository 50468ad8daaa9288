"""Lenient RSS 2.0 / RSS 1.0 (RDF) / Atom parsing with lxml, and JSON Feed (``_jsonfeed``).

Feeds in the wild are often broken XML; lxml's recovering parser reads what it
can. An entry without a link cannot be crawled: it is reported in
:attr:`ParsedFeed.skipped` and left out, so one bad entry never costs the rest.
An entry whose date cannot be read is still crawled (the page usually carries
its own date) and reported in :attr:`ParsedFeed.problems`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

from regwatch.errors import SourceError

from ._jsonfeed import looks_like_json_feed, parse_json_feed
from ._text import clean_authors, clean_text, html_to_text, join_url, parse_date
from ._xml import local_name as _local
from ._xml import parse_xml_root

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"


@dataclass
class FeedEntry:
    """One usable feed entry: the article link plus metadata to fall back on."""

    link: str
    title: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    summary: str = ""
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    guid: str = ""


@dataclass
class ParsedFeed:
    """A parsed feed: its kind and title, the usable entries, and what was left out or looked wrong."""

    kind: str  # rss | atom | rdf | json
    title: str
    entries: list[FeedEntry]
    skipped: list[str] = field(default_factory=list)  # "entry 3 (title): reason", left out
    problems: list[str] = field(default_factory=list)  # "entry 2 (title): reason", kept


def _children(element: etree._Element, *names: str) -> list[etree._Element]:
    return [child for child in element if _local(child.tag) in names]


def _text(element: etree._Element, *names: str) -> str:
    """Text of the first child with one of ``names`` (any namespace) that has text."""
    for name in names:
        for child in _children(element, name):
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return ""


def _texts(element: etree._Element, *names: str) -> list[str]:
    """Texts of every child named one of ``names`` (any namespace), blanks dropped."""
    texts = (clean_text("".join(child.itertext())) for child in _children(element, *names))
    return [text for text in texts if text]


def _dates(entry: etree._Element, names: tuple[str, ...]) -> tuple[datetime | None, str]:
    """The first date among ``names``, and the raw text when present but unreadable."""
    raw = _text(entry, *names)
    if not raw:
        return None, ""
    parsed = parse_date(raw)
    return parsed, ("" if parsed else raw)


def _rss_entry(item: etree._Element, base: str) -> tuple[FeedEntry | None, str]:
    """(entry, problem): no entry when it cannot be crawled; a problem also for a kept entry."""
    link = _text(item, "link")
    guid_nodes = _children(item, "guid")
    guid = "".join(guid_nodes[0].itertext()).strip() if guid_nodes else ""
    if not link and guid_nodes and guid_nodes[0].get("isPermaLink", "true").lower() != "false":
        link = guid if guid.startswith(("http://", "https://", "/")) else ""
    if not link:
        return None, "no link"
    absolute = join_url(base, link)
    if absolute is None:
        return None, f"malformed link {link[:200]!r}"
    published, bad = _dates(item, ("pubdate", "date", "issued", "published"))
    updated, bad_updated = _dates(item, ("modified", "updated"))
    problem = f"unreadable date {(bad or bad_updated)!r}" if bad or bad_updated else ""
    return (
        FeedEntry(
            link=absolute,
            title=html_to_text(_text(item, "title")),
            published=published,
            updated=updated,
            summary=html_to_text(_text(item, "description", "summary", "encoded")),
            authors=clean_authors(_texts(item, "creator", "author")),
            tags=_texts(item, "category", "subject"),
            guid=guid,
        ),
        problem,
    )


def _atom_link(entry: etree._Element, base: str) -> tuple[str, str]:
    """(the entry's page, absolute; its ``href`` as written), the alternate link first; ("", "")
    without one; ("", href) when that address is malformed."""
    links = _children(entry, "link")
    for wanted in ("alternate", None):
        for link in links:
            rel = link.get("rel", "alternate")
            href = (link.get("href") or "").strip()
            if href and (wanted is None or rel == wanted) and rel not in ("self", "edit", "enclosure"):
                return join_url(link.get(XML_BASE) or entry.get(XML_BASE) or base, href) or "", href
    return "", ""


def _atom_text(entry: etree._Element, *names: str) -> str:
    """Atom text constructs: ``type="html"``/``xhtml`` content is markup, ``text`` is text."""
    for name in names:
        for child in _children(entry, name):
            kind = child.get("type", "text").lower()
            if kind == "xhtml":
                text = clean_text(" ".join(child.itertext()))
            elif kind in ("html", "text/html"):
                text = html_to_text(child.text or "")
            else:
                text = clean_text("".join(child.itertext()))
            if text:
                return text
    return ""


def _atom_entry(entry: etree._Element, base: str) -> tuple[FeedEntry | None, str]:
    link, written = _atom_link(entry, base)
    if not link:
        return None, f"malformed link {written[:200]!r}" if written else "no link"
    published, bad = _dates(entry, ("published", "issued", "created"))
    updated, bad_updated = _dates(entry, ("updated", "modified"))
    problem = f"unreadable date {(bad or bad_updated)!r}" if bad or bad_updated else ""
    authors = [_text(author, "name") for author in _children(entry, "author", "contributor")]
    return (
        FeedEntry(
            link=link,
            title=_atom_text(entry, "title"),
            published=published or updated,
            updated=updated,
            summary=_atom_text(entry, "summary", "content"),
            authors=clean_authors(authors),
            tags=[
                t
                for t in (clean_text(c.get("label") or c.get("term")) for c in _children(entry, "category"))
                if t
            ],
            guid=_text(entry, "id"),
        ),
        problem,
    )


def parse_feed(body: bytes, url: str) -> ParsedFeed:
    """Parse an RSS 2.0, RSS 1.0, Atom or JSON Feed document fetched from ``url``.

    Relative links are resolved against ``xml:base`` or ``url``. Raises
    :class:`~regwatch.errors.SourceError` (class ``empty`` or ``parse``) when the
    document is empty or not a feed at all.
    """
    if looks_like_json_feed(body):
        parsed: ParsedFeed = parse_json_feed(body, url)
        return parsed
    root = parse_xml_root(body, url, "feed document")
    kind = _local(root.tag)
    base = join_url(url, root.get(XML_BASE) or "") or url
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    problems: list[str] = []
    parse_one: Callable[[etree._Element, str], tuple[FeedEntry | None, str]]
    if kind == "rss" or kind == "rdf":
        channels = _children(root, "channel")
        channel = channels[0] if channels else root
        title = html_to_text(_text(channel, "title"))
        # RSS 2.0 items live in <channel>; RSS 1.0 items are siblings of it.
        items = _children(channel, "item") + (_children(root, "item") if kind == "rdf" else [])
        parse_one = _rss_entry
    elif kind == "feed":
        title = _atom_text(root, "title")
        items = _children(root, "entry")
        parse_one = _atom_entry
    else:
        raise SourceError(f"{url}: not an RSS or Atom feed (root element <{kind}>)", "parse", url)
    for position, item in enumerate(items, start=1):
        entry, problem = parse_one(item, base)
        label = clean_text(_text(item, "title", "guid", "id"))[:60] or "untitled"
        if entry is None:
            skipped.append(f"entry {position} ({label}): {problem}")
            continue
        if problem:
            problems.append(f"entry {position} ({label}): {problem}; crawled without it")
        entries.append(entry)
    names = {"rss": "rss", "rdf": "rdf", "feed": "atom"}
    return ParsedFeed(kind=names[kind], title=title, entries=entries, skipped=skipped, problems=problems)
