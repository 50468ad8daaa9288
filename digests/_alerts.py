"""Immediate alerts: a short email within one crawl cycle, rate-limited, exactly once per article.

A subscriber with ``alerts: true`` is alerted when one of their watched
entities appears with a detected regulatory action involving it ("Ofcom opened
an investigation into X"); one with ``alert_searches`` when a regulator or
government statement matches one of those searches (the keyword syntax). One
alert lists every article that triggered since the last one (at most
``max_items``; the rest wait for the next).

Rate limit: at most one alert per subscriber every ``min_interval``; articles
that trigger meanwhile are not dropped, they go in the next alert.

Exactly once: :class:`AlertLedger` (``HOME/alerts.db``; the store's digest
ledger is keyed by day, an alert by article) records each (subscriber, article)
as "sending" before the attempt and "sent" after. A transient failure puts the
rows back to pending for the next cycle; a permanent one marks them failed. As
for digests, a crash between the server's acceptance and the "sent" commit
alerts about those articles again on the next cycle (at-least-once, logged).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from digests._headers import header_text, message_headers, new_message, render_message
from digests._keywords import match_keywords
from digests._sections import action_sentence, clean_line, safe_url, time_label
from digests._select import OFFICIAL_SOURCE_TYPES, actions_involving, in_scope, watched_for
from regwatch.models import Article, Digest, Source, Subscriber
from regwatch.private import private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    subscriber_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'pending', 'sent', 'failed')),
    error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, article_id)
)
"""


@dataclass
class AlertHit:
    """One article that triggers an alert, and why."""

    article: Article
    source_name: str
    reason: str  # "Ofcom opened an investigation into X" or 'matches “online safety act”'


def alert_hits(
    subscriber: Subscriber, articles: Sequence[Article], sources: Mapping[str, Source] | None = None
) -> list[AlertHit]:
    """The articles that should alert ``subscriber``, in the order given."""
    sources = sources or {}
    hits: list[AlertHit] = []
    for article in articles:
        source = sources.get(article.source_id)
        if not in_scope(subscriber, article, source):
            continue
        name = clean_line(source.name if source else article.source_id)
        if subscriber.alerts:
            entities = watched_for(subscriber, article)
            actions = actions_involving(article, entities) if entities else []
            if actions:
                hits.append(AlertHit(article, name, action_sentence(actions[0])))
                continue
        official = source is not None and source.type in OFFICIAL_SOURCE_TYPES
        if subscriber.alert_searches and official:
            matched = match_keywords(subscriber.alert_searches, article.title, article.summary, article.body)
            if matched.matched:
                hits.append(AlertHit(article, name, f"matches “{clean_line(matched.matched[0])}”"))
    return hits


def build_alert(subscriber: Subscriber, hits: Sequence[AlertHit], *, sender: str, now: datetime) -> Digest:
    """One short alert message for ``hits`` (a Digest whose article_ids are the alerted articles)."""
    from digests._render import subscriber_zone

    zone = subscriber_zone(subscriber)
    ids = sorted(hit.article.id for hit in hits)
    key = hashlib.sha1(f"{subscriber.id}\0{','.join(ids)}".encode()).hexdigest()[:16]
    message_id = f"<alert-{key}@regwatch>"
    first = hits[0]
    more = f" (+{len(hits) - 1} more)" if len(hits) > 1 else ""
    subject = header_text(f"regwatch alert — {first.reason}{more}")
    lines = [
        f"{len(hits)} new {'item' if len(hits) == 1 else 'items'} for {clean_line(subscriber.name)}:",
        "",
    ]
    html_items = []
    for hit in hits:
        article = hit.article
        when = time_label(article.published or article.fetched_at, zone)
        url = safe_url(article.url)
        title = clean_line(article.title) or "(untitled)"
        lines += [f"* {hit.reason}", f"  {title}", f"  {hit.source_name} · {when}", f"  {url}", ""]
        html_items.append((hit.reason, title, hit.source_name, when, url))
    headers = message_headers(
        subject=subject,
        sender=sender,
        recipient_name=subscriber.name,
        recipient_email=subscriber.email,
        date=format_datetime(now),
        message_id=message_id,
    )
    message = new_message(headers)
    message.set_content("\n".join(lines))
    message.add_alternative(_alert_html(subject, html_items), subtype="html")
    data = render_message(message, headers)  # raises UnsafeMessageError unless its headers read back as built
    return Digest(
        subscriber_id=subscriber.id,
        period=now.astimezone(zone).date(),
        subject=headers.subject,
        message_id=message_id,
        message=data,
        article_ids=ids,
        watermark=now,
    )


def _alert_html(subject: str, items: Sequence[tuple[str, str, str, str, str]]) -> str:
    from digests._render import _environment

    return _environment().get_template("alert.html.j2").render(subject=subject, items=items)


class AlertLedger:
    """Which articles each subscriber was alerted about (SQLite, one small file)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        private_file(self.path, sqlite=True)
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AlertLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def known(self, subscriber_id: str) -> dict[str, str]:
        """article id -> status, for every article this subscriber was (or is being) alerted about."""
        rows = self._conn.execute(
            "SELECT article_id, status FROM alerts WHERE subscriber_id = ?", (subscriber_id,)
        ).fetchall()
        return {article_id: status for article_id, status in rows}

    def last_sent(self, subscriber_id: str) -> datetime | None:
        row = self._conn.execute(
            "SELECT max(updated_at) FROM alerts WHERE subscriber_id = ? AND status = 'sent'", (subscriber_id,)
        ).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def mark(
        self,
        subscriber_id: str,
        article_ids: Sequence[str],
        message_id: str,
        status: str,
        *,
        now: datetime,
        error: str = "",
    ) -> None:
        stamp = now.astimezone(UTC).isoformat()
        with self._conn:
            self._conn.executemany(
                """
                INSERT INTO alerts (subscriber_id, article_id, message_id, status, error, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (subscriber_id, article_id) DO UPDATE SET
                    message_id = excluded.message_id, status = excluded.status,
                    error = excluded.error, updated_at = excluded.updated_at
                """,
                [(subscriber_id, a, message_id, status, error, stamp) for a in article_ids],
            )


def due_hits(
    ledger: AlertLedger,
    subscriber: Subscriber,
    hits: Sequence[AlertHit],
    now: datetime,
    min_interval: timedelta,
    max_items: int,
) -> list[AlertHit]:
    """The hits to alert about now: not yet sent or failed, and only if the rate limit allows."""
    known = ledger.known(subscriber.id)
    fresh = [hit for hit in hits if known.get(hit.article.id) not in ("sent", "failed")]
    if not fresh:
        return []
    last = ledger.last_sent(subscriber.id)
    if last is not None and now - last < min_interval:
        return []
    return fresh[:max_items]
