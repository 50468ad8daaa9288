"""Immediate alerts: a short email within one crawl cycle, rate-limited, exactly once per article.

A subscriber with ``alerts: true`` is alerted when one of their watched
entities appears with a detected regulatory action involving it ("Ofcom opened
an investigation into X"); one with ``alert_searches`` when a regulator or
government statement matches one of those searches (the keyword syntax); and
one with a saved search marked ``alert`` when any article matches it (its own
filters, not the subscriber's scope, say which: see ``digests._saved``). One
alert lists every article that triggered since the last one (at most
``max_items``; the rest wait for the next).

Rate limit: at most one alert per subscriber every ``min_interval``; articles
that trigger meanwhile are not dropped, they go in the next alert.

Exactly once: :class:`AlertDelivery` records each (subscriber, article) in the
alert ledger (the store's, beside the digest ledger; the digest ledger is keyed
by day, an alert by article) as "sending" before the attempt and "sent" after.
A transient failure puts the rows back to pending for the next cycle; a
permanent one marks them failed. As for digests, a crash between the server's
acceptance and the "sent" commit alerts about those articles again on the next
cycle (at-least-once, logged), and alerts and digests share one sender's lock.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from digests._delivery import Deliverer
from digests._exactly_once import delivery_lock
from digests._headers import header_text, message_headers, new_message, render_message
from digests._keywords import match_keywords
from digests._protocols import AlertLedger, ArticleReader
from digests._saved import matching_searches
from digests._sections import action_sentence, clean_line, safe_url, time_label
from digests._select import OFFICIAL_SOURCE_TYPES, actions_involving, in_scope, watched_for
from regwatch.errors import DeliveryError
from regwatch.models import Article, Digest, Source, Subscriber

logger = logging.getLogger(__name__)


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
        name = clean_line(source.name if source else article.source_id)
        scoped = in_scope(subscriber, article, source)
        if subscriber.alerts and scoped:
            entities = watched_for(subscriber, article)
            actions = actions_involving(article, entities) if entities else []
            if actions:
                hits.append(AlertHit(article, name, action_sentence(actions[0])))
                continue
        saved = matching_searches(subscriber.saved_searches, article, source, alerts_only=True)
        if saved:
            hits.append(AlertHit(article, name, f"matches your saved search “{clean_line(saved[0].name)}”"))
            continue
        if not scoped:
            continue
        official = source is not None and source.type in OFFICIAL_SOURCE_TYPES
        if subscriber.alert_searches and official:
            matched = match_keywords(subscriber.alert_searches, article.title, article.summary, article.body)
            if matched.matched:
                hits.append(AlertHit(article, name, f"matches “{clean_line(matched.matched[0])}”"))
    return hits


def wants_alerts(subscriber: Subscriber) -> bool:
    """Whether any of the subscriber's choices can trigger an immediate alert."""
    return (
        subscriber.alerts
        or bool(subscriber.alert_searches)
        or any(s.alert for s in subscriber.saved_searches)
    )


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


@dataclass
class AlertOutcome:
    """What one cycle did about one subscriber's alert."""

    subscriber_id: str
    status: str  # sent | pending | failed
    items: int = 0
    location: str = ""
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The shape the CLI prints (``--json``)."""
        return {
            "subscriber": self.subscriber_id,
            "status": self.status,
            "items": self.items,
            "error": self.error,
        }


class AlertDelivery:
    """Sends each subscriber with alerts one alert about what triggered since their last one (see above).

    Built from plain parts: the alert ledger, the stored articles, a deliverer,
    the sender's lock file, ``DIGEST_SENDER`` and the ``ALERT_*`` settings
    (``lookback``, ``min_interval``, ``max_items``). ``resolve`` maps a
    subscriber's entity names to the watchlist's canonical names (identity by default).
    """

    def __init__(
        self,
        ledger: AlertLedger,
        articles: ArticleReader,
        *,
        deliverer: Deliverer,
        lock_path: Path,
        sender: str,
        lookback: timedelta,
        min_interval: timedelta,
        max_items: int,
        sources: Mapping[str, Source] | None = None,
        resolve: Callable[[Subscriber], Subscriber] | None = None,
    ) -> None:
        self.ledger = ledger
        self.articles = articles
        self.deliverer = deliverer
        self.lock_path = Path(lock_path)
        self.sources = dict(sources or {})
        self.sender = sender
        self.lookback = lookback
        self.min_interval = min_interval
        self.max_items = max_items
        self.resolve = resolve or (lambda subscriber: subscriber)

    def send(self, subscribers: Sequence[Subscriber], now: datetime) -> list[AlertOutcome]:
        """Alert each of ``subscribers`` (those with alerts on) about the articles first seen in the look-back."""
        subscribers = [s for s in subscribers if wants_alerts(s)]
        if not subscribers:
            return []
        articles = self.articles.first_seen_between(now - self.lookback, now)
        outcomes: list[AlertOutcome] = []
        with delivery_lock(self.lock_path):
            for subscriber in subscribers:
                resolved = self.resolve(subscriber)
                hits = due_hits(
                    self.ledger,
                    resolved,
                    alert_hits(resolved, articles, self.sources),
                    now,
                    self.min_interval,
                    self.max_items,
                )
                if hits:
                    outcomes.append(self._send(resolved, hits, now))
        return outcomes

    def _send(self, subscriber: Subscriber, hits: Sequence[AlertHit], now: datetime) -> AlertOutcome:
        """Build, record as sending, deliver, record the outcome."""
        article_ids = sorted(hit.article.id for hit in hits)
        message_id = ""
        try:
            # A message whose headers do not read back as built is refused here (failed, not sent).
            alert = build_alert(subscriber, hits, sender=self.sender, now=now)
            message_id = alert.message_id
            self.ledger.mark(subscriber.id, article_ids, message_id, "sending", now=now)
            location = self.deliverer.deliver(alert)
        except DeliveryError as exc:
            message_id = message_id or str(getattr(exc, "message_id", ""))
            status = "failed" if exc.permanent else "pending"
            logger.error("alert for %s %s: %s", subscriber.id, status, exc)
            self.ledger.mark(subscriber.id, article_ids, message_id, status, now=now, error=str(exc))
            return AlertOutcome(subscriber.id, status, len(hits), error=str(exc))
        self.ledger.mark(subscriber.id, article_ids, message_id, "sent", now=now)
        logger.info("alert for %s sent (%d items): %s", subscriber.id, len(hits), location)
        return AlertOutcome(subscriber.id, "sent", len(hits), location)
