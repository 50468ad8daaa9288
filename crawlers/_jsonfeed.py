"""JSON Feed (https://jsonfeed.org, versions 1 and 1.1) read into the same entries as RSS and Atom.

A JSON Feed is an object with ``version`` naming jsonfeed.org and ``items``;
each item links its page by ``url`` (else ``external_url``), dates itself by
``date_published``/``date_modified`` (RFC 3339), and may carry ``title``,
``summary``, ``content_text``/``content_html``, ``authors`` (1.1; ``author``
in 1.0) and ``tags``. As with XML feeds, an item without a link is reported
and left out, and an unreadable date is reported but the item kept.
"""

from __future__ import annotations

import json
from typing import Any

from regwatch.errors import SourceError

from ._text import clean_authors, clean_text, html_to_text, join_url, parse_date

JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"


def looks_like_json_feed(body: bytes) -> bool:
    """True for a body that is a JSON object naming a jsonfeed.org version (cheap: no full parse)."""
    head = body.lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()[:2048]
    return head.startswith(b"{") and b"jsonfeed.org/version" in head.replace(b"\\/", b"/")


def _text(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def _authors(item: dict[str, Any]) -> list[str]:
    people = item.get("authors")
    if not isinstance(people, list):
        people = [item["author"]] if isinstance(item.get("author"), dict) else []
    return clean_authors(person.get("name") for person in people if isinstance(person, dict))


def parse_json_feed(body: bytes, url: str) -> Any:
    """A :class:`~crawlers._feeds.ParsedFeed` (kind ``json``) from a JSON Feed fetched from ``url``."""
    from ._feeds import FeedEntry, ParsedFeed

    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SourceError(f"{url}: unreadable JSON feed ({exc})", "parse", url) from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith(JSON_FEED_VERSION_PREFIX):
        raise SourceError(f"{url}: not a JSON Feed (no jsonfeed.org version)", "parse", url)
    items = data.get("items")
    if not isinstance(items, list):
        raise SourceError(f"{url}: JSON Feed without an items list", "parse", url)
    entries, skipped, problems = [], [], []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            skipped.append(f"entry {position}: not an object")
            continue
        label = (_text(item.get("title")) or _text(item.get("id")))[:60] or "untitled"
        link = _text(item.get("url")) or _text(item.get("external_url"))
        if not link:
            skipped.append(f"entry {position} ({label}): no link")
            continue
        absolute = join_url(url, link)
        if absolute is None:
            skipped.append(f"entry {position} ({label}): malformed link {link[:200]!r}")
            continue
        raw_published, raw_modified = item.get("date_published"), item.get("date_modified")
        published, modified = parse_date(raw_published), parse_date(raw_modified)
        bad = [
            raw
            for raw, parsed in ((raw_published, published), (raw_modified, modified))
            if raw and not parsed
        ]
        if bad:
            problems.append(f"entry {position} ({label}): unreadable date {bad[0]!r}; crawled without it")
        summary = _text(item.get("summary")) or _text(item.get("content_text"))
        if not summary and isinstance(item.get("content_html"), str):
            summary = html_to_text(item["content_html"])
        raw_tags = item.get("tags")
        tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
        entries.append(
            FeedEntry(
                link=absolute,
                title=_text(item.get("title")),
                published=published or modified,
                updated=modified,
                summary=summary,
                authors=_authors(item),
                tags=[clean_text(tag) for tag in tags if isinstance(tag, str) and clean_text(tag)],
                guid=_text(item.get("id")),
            )
        )
    return ParsedFeed(
        kind="json", title=_text(data.get("title")), entries=entries, skipped=skipped, problems=problems
    )
