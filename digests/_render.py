"""Rendering a digest: the subject and the multipart/alternative message.

The sections and what each shows are described in ``digests._sections``; this
module turns them into one RFC 5322 message with a plain-text part and an
email-safe HTML part (Jinja2 templates in ``digests/templates``: tables and
inline CSS, no scripts, images or external assets, autoescaped). A subscriber
whose ``empty_day`` is ``notice`` gets a short "nothing new" message when
nothing qualifies; with ``skip`` nothing is built.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from email.parser import BytesParser
from email.utils import format_datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from digests._headers import header_text, message_headers, new_message, render_message
from digests._sections import (
    ACTIONS_SECTION_TITLE,
    COUNTS_SECTION_TITLE,
    QUOTES_SECTION_TITLE,
    EntityCount,
    action_views,
    clean_line,
    day_label,
    entity_counts,
    item_sections,
    quote_views,
    time_label,
)
from digests._select import saved_search_key, select_articles
from regwatch.models import Article, Digest, Source, Subscriber, utcnow

logger = logging.getLogger(__name__)

SUBJECT_ENTITIES = 3  # entities named in the subject line
_MSGID_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]")


def subscriber_zone(subscriber: Subscriber) -> tzinfo:
    try:
        return ZoneInfo(subscriber.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        # The config validates zones; a hand-built subscriber may still be wrong.
        logger.warning("subscriber %s: unknown timezone %r, using UTC", subscriber.id, subscriber.timezone)
        return UTC


def message_id_for(subscriber_id: str, period: date) -> str:
    """Stable Message-ID: a resend of the same digest is recognisably the same message."""
    part = _MSGID_UNSAFE_RE.sub("-", subscriber_id)
    if part != subscriber_id or not part:
        # Keep ids that differ only in unsafe characters apart.
        part = f"{part}-{hashlib.sha1(subscriber_id.encode('utf-8')).hexdigest()[:8]}"
    return f"<digest-{part}-{period.isoformat()}@regwatch>"


def subject_for(
    counts: Sequence[EntityCount], n_items: int, period: date, keywords: Sequence[str] = ()
) -> str:
    """ "regwatch — Ofcom, X, Grok: 12 new items, Tue 24 Nov"."""
    if n_items == 0:
        return f"regwatch — nothing new, {day_label(period)}"
    names = [c.name for c in counts if c.mentions][:SUBJECT_ENTITIES] or [f"“{k}”" for k in keywords][:1]
    top = f"{', '.join(names)}: " if names else ""
    noun = "item" if n_items == 1 else "items"
    return f"regwatch — {top}{n_items} new {noun}, {day_label(period)}"


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("digests", "templates"),
        # "digest.html.j2" ends in .j2, so name the double extensions; default on for safety.
        autoescape=select_autoescape(
            enabled_extensions=("html.j2", "html"), disabled_extensions=("txt.j2",), default=True
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def build_digest(
    subscriber: Subscriber,
    articles: Sequence[Article],
    period: date,
    *,
    sources: Mapping[str, Source] | None = None,
    sender: str = "regwatch <regwatch@localhost>",
    max_items: int = 50,
    now: datetime | None = None,
    previous: Sequence[Article] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Digest | None:
    """The digest of ``articles`` for ``subscriber`` and ``period``; None when nothing qualifies.

    ``period`` is the subscriber's local date. ``articles`` are those first seen
    in the window (``since``, ``until``]: ``since`` is where the previous
    digest's window ended (shown in the header), ``until`` (default ``now``, the
    message's Date) becomes this digest's watermark, so the next digest starts
    after it and never offers the same articles again, qualifying or not.
    ``previous`` are the articles of the subscriber's previous digest (mentions
    are compared with them). When nothing qualifies, a subscriber with
    ``empty_day: notice`` gets a short "nothing new" digest (no article ids)
    and one with ``skip`` gets None.
    """
    now = now or utcnow()
    items = select_articles(subscriber, articles, sources, max_items)
    if not items and subscriber.empty_day != "notice":
        logger.info(
            "digest for %s on %s: nothing qualifies among %d articles", subscriber.id, period, len(articles)
        )
        return None
    zone = subscriber_zone(subscriber)
    counts = entity_counts(items, subscriber, previous)
    order = [saved_search_key(search.name) for search in subscriber.saved_searches] + [c.key for c in counts]
    statements, entity_sections = item_sections(items, order, zone)
    subject = header_text(subject_for(counts, len(items), period, subscriber.keywords))
    message_id = message_id_for(subscriber.id, period)
    context: dict[str, Any] = {
        "subject": subject,
        "subscriber_name": clean_line(subscriber.name),
        "period_label": day_label(period),
        "since": time_label(since, zone) if since else "",
        "n_items": len(items),
        "statements": statements,
        "actions": action_views(items, zone),
        "actions_title": ACTIONS_SECTION_TITLE,
        "entity_sections": entity_sections,
        "quotes": quote_views(items, zone),
        "quotes_title": QUOTES_SECTION_TITLE,
        "counts": counts,
        "counts_title": COUNTS_SECTION_TITLE,
        "compared": previous is not None,
        "watching": [clean_line(e) for e in subscriber.entities]
        + [f"“{clean_line(k)}”" for k in subscriber.keywords]
        + [f"saved search “{clean_line(s.name)}”" for s in subscriber.saved_searches],
    }
    env = _environment()
    text = env.get_template("digest.txt.j2").render(context)
    html = env.get_template("digest.html.j2").render(context)

    headers = message_headers(
        subject=subject,
        sender=sender,
        recipient_name=subscriber.name,
        recipient_email=subscriber.email,
        date=format_datetime(now),
        message_id=message_id,
    )
    message = new_message(headers)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    data = render_message(message, headers)  # raises UnsafeMessageError unless its headers read back as built

    article_ids = [article_id for item in items for article_id in item.article_ids]
    logger.info("digest for %s on %s: %d items, %s", subscriber.id, period, len(items), message_id)
    return Digest(
        subscriber_id=subscriber.id,
        period=period,
        subject=headers.subject,
        message_id=message_id,
        message=data,
        article_ids=article_ids,
        watermark=until or now,
    )


def render_preview(digest: Digest) -> str:
    """The plain-text part of ``digest``, as ``regwatch digest --preview`` shows it."""
    message = BytesParser(policy=email.policy.default).parsebytes(digest.message)
    part = message.get_body(preferencelist=("plain",))
    if part is None:
        return ""
    return str(part.get_content())
