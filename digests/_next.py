"""Each subscriber's next digest: what it covers, read from the digest ledger and the stored articles.

A digest covers every article first seen since the end of the subscriber's
previous one (its watermark) up to ``now``, which becomes its own watermark.
Pending digests count as sent here: they go out as they were built, so the next
one must not repeat their articles. A digest that failed for good does not: its
articles roll into the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from digests._periods import local_period
from digests._protocols import ArticleReader, DigestLedger
from digests._render import build_digest, render_preview
from regwatch.errors import ConfigError
from regwatch.models import Article, Digest, Source, Subscriber

logger = logging.getLogger(__name__)

PREVIOUS_DIGEST_LOOKBACK = 35  # days searched back for the previous digest (mentions are compared with it)


def select_subscribers(subscribers: Sequence[Subscriber], ids: Iterable[str] = ()) -> list[Subscriber]:
    """The subscribers with these ids (all when empty); an unknown id is a ConfigError naming the known ones."""
    wanted = set(ids)
    unknown = wanted - {s.id for s in subscribers}
    if unknown:
        known = ", ".join(s.id for s in subscribers)
        raise ConfigError(f"unknown subscriber(s): {', '.join(sorted(unknown))}; configured: {known}")
    return [s for s in subscribers if not wanted or s.id in wanted]


@dataclass
class DigestPreview:
    """A digest built to be shown, not sent (``regwatch digest --preview``)."""

    subscriber_id: str
    period: date
    digest: Digest | None  # None: nothing new

    def to_dict(self) -> dict[str, Any]:
        return {
            "subscriber": self.subscriber_id,
            "period": self.period.isoformat(),
            "subject": self.digest.subject if self.digest else "",
            "items": len(self.digest.article_ids) if self.digest else 0,
            "text": render_preview(self.digest) if self.digest else "",
        }


class DigestBuilder:
    """Builds the next digest of a subscriber (see the module docstring).

    ``sender`` and ``max_items`` are DIGEST_SENDER and DIGEST_MAX_ITEMS; ``sources``
    the configured sources (names, types). ``resolve`` maps a subscriber's entity names and aliases to the watchlist's
    canonical names (the wiring owns the watchlist); identity by default.
    """

    def __init__(
        self,
        ledger: DigestLedger,
        articles: ArticleReader,
        *,
        sender: str,
        max_items: int,
        sources: Mapping[str, Source] | None = None,
        resolve: Callable[[Subscriber], Subscriber] | None = None,
    ) -> None:
        self.ledger = ledger
        self.articles = articles
        self.sources = dict(sources or {})
        self.sender = sender
        self.max_items = max_items
        self.resolve = resolve or (lambda subscriber: subscriber)

    def covered_until(self, subscriber_id: str) -> datetime | None:
        """Where the next digest starts: the newest watermark of a delivered or still pending digest."""
        marks = [self.ledger.last_watermark(subscriber_id)]
        marks += [r.watermark for r in self.ledger.pending() if r.subscriber_id == subscriber_id]
        known = [mark for mark in marks if mark is not None]
        return max(known) if known else None

    def previous_articles(self, subscriber_id: str, period: date) -> list[Article] | None:
        """The articles of the subscriber's last delivered digest before ``period`` (None: there is none)."""
        for back in range(1, PREVIOUS_DIGEST_LOOKBACK + 1):
            record = self.ledger.get(subscriber_id, period - timedelta(days=back))
            if record is not None and record.status == "delivered":
                found = (self.articles.get(article_id) for article_id in record.article_ids)
                return [article for article in found if article is not None]
        return None

    def build(
        self, subscriber: Subscriber, period: date, now: datetime, *, rebuild: bool = False
    ) -> Digest | None:
        """The digest of everything first seen since the subscriber's last one, up to ``now`` (None: nothing).

        Its watermark is ``now``. ``rebuild`` rebuilds a pending digest whose
        spooled copy is gone: its window starts at the last delivered digest and
        ends at its own watermark (``now``). Raises DeliveryError (UnsafeMessageError)
        for a message whose headers do not read back as built.
        """
        since = self.ledger.last_watermark(subscriber.id) if rebuild else self.covered_until(subscriber.id)
        return build_digest(
            self.resolve(subscriber),
            self.articles.first_seen_between(since, now),
            period,
            sources=self.sources,
            sender=self.sender,
            max_items=self.max_items,
            now=now,
            previous=self.previous_articles(subscriber.id, period),
            since=since,
        )

    def preview(self, subscribers: Sequence[Subscriber], now: datetime) -> list[DigestPreview]:
        """Each subscriber's next digest as it would be sent today, built but neither sent nor recorded."""
        previews = []
        for subscriber in subscribers:
            period = local_period(subscriber, now)
            previews.append(DigestPreview(subscriber.id, period, self.build(subscriber, period, now)))
        return previews
