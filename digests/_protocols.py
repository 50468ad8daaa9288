"""What delivery needs from the store, declared here as Protocols (structural typing).

Digests never imports ``indexer``: the store's digest ledger, alert ledger and
articles match these by their methods, and a test or another store engine may
hand in anything else that does. The record types are ``regwatch.models``'.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from regwatch.models import Article, DigestRecord


@runtime_checkable
class DigestLedger(Protocol):
    """One row per (subscriber, period): pending ("sending" when it has no error), delivered or failed."""

    def get(self, subscriber_id: str, period: date) -> DigestRecord | None: ...

    def record(
        self,
        subscriber_id: str,
        period: date,
        message_id: str,
        status: str,
        watermark: datetime | None,
        location: str = "",
        error: str = "",
        article_ids: Sequence[str] = (),
        *,
        force: bool = False,
    ) -> None:
        """Create or update the row; empty values keep the stored ones, ``error`` always replaces it."""
        ...

    def last_watermark(self, subscriber_id: str) -> datetime | None:
        """The watermark of the subscriber's newest delivered digest."""
        ...

    def pending(self) -> list[DigestRecord]:
        """Pending digests, oldest period first."""
        ...


@runtime_checkable
class AlertLedger(Protocol):
    """One row per (subscriber, article): sending, pending, sent or failed."""

    def known(self, subscriber_id: str) -> dict[str, str]:
        """article id -> status, for every article the subscriber was (or is being) alerted about."""
        ...

    def last_sent(self, subscriber_id: str) -> datetime | None: ...

    def mark(
        self,
        subscriber_id: str,
        article_ids: Sequence[str],
        message_id: str,
        status: str,
        *,
        now: datetime,
        error: str = "",
    ) -> None: ...


@runtime_checkable
class ArticleReader(Protocol):
    """The stored articles, as delivery reads them."""

    def first_seen_between(self, after: datetime | None, until: datetime) -> list[Article]:
        """Articles first seen in (``after``, ``until``], with their entities."""
        ...

    def get(self, article_id: str) -> Article | None: ...
