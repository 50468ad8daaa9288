"""When a digest is due: the days of a subscriber's cadence and their send time, in their timezone.

A digest's period is the subscriber's local date it is sent on. The cadence's
weekdays (:func:`send_days`) are the one mapping both the due periods here and
the scheduler's digest trigger read.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from regwatch.errors import ConfigError
from regwatch.models import CADENCES, Subscriber

# The weekdays (0 = Monday) each cadence sends on; "weekly" sends on the subscriber's own weekday.
CADENCE_WEEKDAYS: dict[str, tuple[int, ...]] = {"daily": tuple(range(7)), "weekdays": tuple(range(5))}


def send_days(subscriber: Subscriber) -> tuple[int, ...]:
    """The weekdays (0 = Monday) the subscriber's cadence sends a digest on."""
    if subscriber.cadence == "weekly":
        return (subscriber.weekday,)
    try:
        return CADENCE_WEEKDAYS[subscriber.cadence]
    except KeyError:
        raise ConfigError(
            f"subscriber {subscriber.id}: cadence {subscriber.cadence!r} is not one of {', '.join(CADENCES)}"
        ) from None


def send_time(subscriber: Subscriber) -> tuple[int, int]:
    """The subscriber's send time as (hour, minute), local."""
    hour, minute = (int(part) for part in subscriber.send_time.split(":"))
    return hour, minute


def local_period(subscriber: Subscriber, now: datetime) -> date:
    """The subscriber's local date at ``now`` (the period of a digest sent on demand)."""
    return now.astimezone(ZoneInfo(subscriber.timezone)).date()


def due_period(subscriber: Subscriber, now: datetime) -> date:
    """The local date of the subscriber's most recent send time at or before ``now``.

    That digest is due until the ledger says it was delivered (or failed for
    good), so a run after a missed send time still sends it, once. Local wall
    clock times make this right across DST changes: a send time skipped by the
    spring change is due from the first minute after it.
    """
    local = now.astimezone(ZoneInfo(subscriber.timezone))
    day = local.date()
    if (local.hour, local.minute) < send_time(subscriber):
        day -= timedelta(days=1)
    days = send_days(subscriber)
    for _ in range(7):
        if day.weekday() in days:
            return day
        day -= timedelta(days=1)
    raise ConfigError(f"subscriber {subscriber.id}: cadence {subscriber.cadence!r} never sends")
