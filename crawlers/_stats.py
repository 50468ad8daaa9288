"""Per-source crawl counters and failures kept in Scrapy's stats.

The contract shared with the item pipelines and the run summary: counters live
under ``regwatch/<source_id>/<name>`` where ``name`` is one of
:data:`~regwatch.models.COUNTERS` (the counter fields of
:class:`~regwatch.models.CrawlStats`; :func:`count` refuses any other name, so a
counter cannot be counted and then lost). The spiders count ``pages_fetched``,
``not_modified``, ``index_not_modified``, ``errors``, ``items_found``,
``too_old`` and ``robots_blocked``; the store pipeline ``new``/``updated``/``duplicate``.
Each error of a source is a :class:`~regwatch.models.CrawlFailure` value: the
first ones go to the list ``regwatch/<source_id>/failures``, and the failure of
the source's index itself to ``regwatch/<source_id>/index_failure``.
An ``auto`` source's discovery, when one ran, is the dict ``regwatch/<source_id>/discovery``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from regwatch.models import COUNTERS, MAX_FAILURES_KEPT, CrawlFailure, CrawlStats

logger = logging.getLogger(__name__)

STATS_PREFIX = "regwatch"


class StatsLike(Protocol):
    """The part of Scrapy's ``StatsCollector`` the helpers use."""

    def get_value(self, key: str, default: Any = None) -> Any: ...

    def set_value(self, key: str, value: Any) -> None: ...

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


def stat_key(source_id: str, name: str) -> str:
    """``regwatch/<source_id>/<name>``."""
    return f"{STATS_PREFIX}/{source_id}/{name}"


def count(stats: StatsLike, source_id: str, name: str, n: int = 1) -> None:
    """Add ``n`` to the counter ``name`` of a source (e.g. ``count(crawler.stats, "ledger", "new")``).

    ValueError for a name that is not one of ``COUNTERS``: it would never be reported.
    """
    if name not in COUNTERS:
        raise ValueError(f"{name!r} is not a CrawlStats counter (expected one of {', '.join(COUNTERS)})")
    stats.inc_value(stat_key(source_id, name), n)


def add_error(stats: StatsLike, source_id: str, failure: CrawlFailure) -> None:
    """Count one error of a source and keep it (the first MAX_FAILURES_KEPT are kept)."""
    count(stats, source_id, "errors")
    key = stat_key(source_id, "failures")
    failures = list(stats.get_value(key) or [])
    if len(failures) < MAX_FAILURES_KEPT:
        failures.append(failure)
        stats.set_value(key, failures)


def record_error(stats: StatsLike, source_id: str, failure: CrawlFailure, traceback: Any = None) -> None:
    """Count one error of a source and log it: one WARNING line; a Twisted failure's traceback at DEBUG (``-v``).

    What the spiders and the extraction pipeline call for every error of a source.
    """
    logger.warning(
        "source=%s url=%s %s error: %s", source_id, failure.url, failure.error_class, failure.reason
    )
    if traceback is not None and logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "source=%s url=%s %s error, in full:\n%s",
            source_id,
            failure.url,
            failure.error_class,
            traceback.getTraceback(),
        )
    add_error(stats, source_id, failure)
    if failure.error_class == "too_large":
        count(stats, source_id, "too_large")


def set_index_failure(stats: StatsLike, source_id: str, failure: CrawlFailure) -> None:
    """Mark the run's hard failure: the source's index itself failed (the first one is kept)."""
    key = stat_key(source_id, "index_failure")
    if not stats.get_value(key):
        stats.set_value(key, failure)


def crawl_stats_from(stats: Mapping[str, Any], source_id: str) -> CrawlStats:
    """Read one source's :class:`CrawlStats` back out of a Scrapy stats dict."""
    values = {name: int(stats.get(stat_key(source_id, name), 0) or 0) for name in COUNTERS}
    failures = [
        f for f in stats.get(stat_key(source_id, "failures"), []) or [] if isinstance(f, CrawlFailure)
    ]
    index_failure = stats.get(stat_key(source_id, "index_failure"))
    latency = stats.get(stat_key(source_id, "index_latency_ms"))
    discovery = stats.get(stat_key(source_id, "discovery"))
    return CrawlStats(
        source_id=source_id,
        failures=failures,
        index_failure=index_failure if isinstance(index_failure, CrawlFailure) else None,
        index_latency_ms=int(latency) if latency is not None else None,
        discovery=dict(discovery) if isinstance(discovery, dict) else {},
        **values,
    )
