"""Delivering digests exactly once: the protocol between the ledger, the spool and the deliverer.

:class:`DigestDelivery` is built from plain parts (a ``DigestBuilder``, the
digest ledger, a ``Spool``, a ``Deliverer`` and the path of a lock file), so it
runs the same under the CLI, the scheduler or a test. One run:

1. takes the lock (one sender per home: a scheduled job and ``regwatch digest
   --send`` never both send one digest);
2. resends every pending digest of the subscribers asked for, byte for byte
   from the spool (same Message-ID, Date and items), before anything new is built;
3. builds and sends each subscriber's due digest (today's with ``force``),
   unless the ledger has it delivered or failed already; a period with nothing
   new is recorded too, so late articles wait for the next send time.

Each send (:meth:`DigestDelivery.send`) spools the message and records the
ledger row as pending with no error ("sending") before the attempt, and the
outcome after it. If the process dies between the SMTP server accepting a
message and the ledger recording it, the next run resends it (same bytes and
Message-ID) and logs a warning: at-least-once in that window only, exactly once
everywhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from digests._delivery import Deliverer
from digests._next import DigestBuilder, select_subscribers
from digests._periods import due_period, local_period
from digests._protocols import DigestLedger
from digests._spool import Spool
from regwatch.errors import DeliveryError
from regwatch.models import Digest, DigestRecord, Subscriber
from regwatch.private import private_file

logger = logging.getLogger(__name__)

NOTHING_NEW_LOCATION = "(nothing new: not sent)"


@dataclass
class DigestOutcome:
    """What one run did with one subscriber's digest for one period."""

    subscriber_id: str
    period: date
    # delivered | pending | failed | already-delivered | already-failed | nothing-new
    status: str
    location: str = ""
    items: int = 0
    error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The shape the CLI prints (``--json``)."""
        return {
            "subscriber": self.subscriber_id,
            "period": self.period.isoformat(),
            "status": self.status,
            "items": self.items,
            "path": self.location,
            "error": self.error,
        }


@contextmanager
def delivery_lock(path: Path) -> Iterator[None]:
    """One sender per home at a time: an exclusive flock on ``path``, waited for.

    Without it two processes could both find a digest undelivered and both send it.
    """
    import fcntl

    with open(private_file(path), "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class DigestDelivery:
    """Exactly-once digest delivery (see the module docstring)."""

    def __init__(
        self,
        builder: DigestBuilder,
        ledger: DigestLedger,
        *,
        deliverer: Deliverer,
        spool: Spool,
        lock_path: Path,
    ) -> None:
        self.builder = builder
        self.ledger = ledger
        self.deliverer = deliverer
        self.spool = spool
        self.lock_path = Path(lock_path)

    def deliver(
        self,
        subscribers: Sequence[Subscriber],
        now: datetime,
        *,
        only: Iterable[str] = (),
        force: bool = False,
    ) -> list[DigestOutcome]:
        """Resend every pending digest, then send each subscriber's due one; ``force`` sends today's now.

        ``subscribers`` are every configured one (a pending digest of anyone else
        is left alone, with a warning); ``only`` narrows the run to these ids
        (an unknown id is a ConfigError).
        """
        wanted = {s.id for s in select_subscribers(subscribers, only)}
        by_id = {s.id: s for s in subscribers}
        outcomes: list[DigestOutcome] = []
        with delivery_lock(self.lock_path):
            handled: set[tuple[str, date]] = set()
            for record in self.ledger.pending():
                if record.subscriber_id not in by_id:
                    logger.warning(
                        "digest of %s for %s is pending but the subscriber is no longer configured; not sending",
                        record.subscriber_id,
                        record.period,
                    )
                    continue
                if record.subscriber_id in wanted:
                    outcomes.append(self._retry_pending(record, by_id[record.subscriber_id], now))
                    handled.add((record.subscriber_id, record.period))
            for subscriber in subscribers:
                if subscriber.id not in wanted:
                    continue
                period = local_period(subscriber, now) if force else due_period(subscriber, now)
                if (subscriber.id, period) not in handled:
                    outcomes.append(self._deliver_due(subscriber, period, now))
        return outcomes

    def _deliver_due(self, subscriber: Subscriber, period: date, now: datetime) -> DigestOutcome:
        record = self.ledger.get(subscriber.id, period)
        if record is not None and record.status in ("delivered", "failed"):
            return DigestOutcome(
                subscriber.id, period, f"already-{record.status}", record.location, error=record.error
            )
        try:
            digest = self.builder.build(subscriber, period, now)
        except DeliveryError as exc:
            return self._refused(subscriber.id, period, exc)
        if digest is None:
            # The period is done: record it, so new articles wait for the next send time.
            self.ledger.record(
                subscriber.id, period, "", "delivered", watermark=now, location=NOTHING_NEW_LOCATION
            )
            return DigestOutcome(subscriber.id, period, "nothing-new")
        return self.send(digest)

    def _retry_pending(self, record: DigestRecord, subscriber: Subscriber, now: datetime) -> DigestOutcome:
        """Send a digest left pending by an earlier run, with the bytes it was built with."""
        if not record.error:
            # Recorded as about to be sent, and nothing after: the process died mid-send.
            logger.warning(
                "digest of %s for %s (%s) was interrupted mid-send in an earlier run and may have reached "
                "the server; sending it again with the same Message-ID (at-least-once)",
                record.subscriber_id,
                record.period,
                record.message_id,
            )
        message = self.spool.load(record.subscriber_id, record.period, record.message_id)
        if message is not None:
            return self.send(
                Digest(
                    subscriber_id=record.subscriber_id,
                    period=record.period,
                    subject="",
                    message_id=record.message_id,
                    message=message,
                    article_ids=list(record.article_ids),
                    watermark=record.watermark,
                )
            )
        logger.warning(
            "digest of %s for %s: its spooled copy is gone; rebuilding it from the store",
            record.subscriber_id,
            record.period,
        )
        until = record.watermark or now
        try:
            rebuilt = self.builder.build(subscriber, record.period, until, rebuild=True)
        except DeliveryError as exc:
            return self._refused(record.subscriber_id, record.period, exc)
        if rebuilt is None:
            self.ledger.record(
                record.subscriber_id,
                record.period,
                record.message_id,
                "delivered",
                until,
                location=NOTHING_NEW_LOCATION,
            )
            return DigestOutcome(record.subscriber_id, record.period, "nothing-new")
        return self.send(rebuilt)

    def _refused(self, subscriber_id: str, period: date, exc: DeliveryError) -> DigestOutcome:
        """A digest that could not be built safely (its headers did not read back as built): failed, not sent."""
        logger.error("digest for %s (%s) failed: %s", subscriber_id, period, exc)
        message_id = str(getattr(exc, "message_id", ""))
        self.ledger.record(subscriber_id, period, message_id, "failed", None, error=str(exc))
        return DigestOutcome(subscriber_id, period, "failed", error=str(exc))

    def send(self, digest: Digest) -> DigestOutcome:
        """Send one digest and record the outcome in the ledger (the caller holds the lock).

        The protocol, and what a crash at each step leads to:

        1. The message is spooled and the ledger row written as pending with no
           error ("sending"). A crash before this: nothing was sent; the next run
           builds the digest again.
        2. The deliverer sends it (retrying transient failures within the run).
        3. The outcome is recorded: delivered, failed (permanent: reported, not
           retried) or pending with the error (transient: the next run resends the
           spooled bytes).

        A crash between the server accepting the message (end of SMTP DATA) and step
        3 leaves the row "sending"; the next run cannot know whether the server got
        it, and sends it again: delivery is at-least-once in that window (the
        milliseconds between the server's 250 and the ledger's commit), with the
        same bytes and Message-ID so the duplicate is recognisable, and it is logged
        as a warning. Everywhere else it is exactly once.
        """
        who, period, message_id = digest.subscriber_id, digest.period, digest.message_id
        items = len(digest.article_ids)

        def record(status: str, location: str = "", error: str = "") -> None:
            self.ledger.record(
                who,
                period,
                message_id,
                status,
                digest.watermark,
                location=location,
                error=error,
                article_ids=digest.article_ids,
            )

        try:
            self.spool.save(digest)
        except OSError as exc:
            logger.warning("digest %s: cannot spool it (%s); a retry would rebuild it", message_id, exc)
        record("pending")  # "sending"
        try:
            location = self.deliverer.deliver(digest)
        except DeliveryError as exc:
            status = "failed" if exc.permanent else "pending"
            logger.error("digest for %s (%s) %s: %s", who, period, status, exc)
            record(status, error=str(exc))
            if exc.permanent:
                self.spool.discard(who, period)
            return DigestOutcome(who, period, status, error=str(exc), items=items)
        record("delivered", location=location)
        self.spool.discard(who, period)
        logger.info("digest for %s (%s) delivered: %s", who, period, location)
        return DigestOutcome(who, period, "delivered", location=location, items=items)
