"""Per-source crawl counters kept in Scrapy's stats.

The contract shared with the item pipelines and the run summary: counters live
under ``regwatch/<source_id>/<name>`` where ``name`` is one of
:data:`COUNTER_NAMES` (``pages_fetched`` (article pages that answered 2xx;
any other status is an error), ``not_modified`` (304 answers to a conditional GET), ``index_not_modified`` (index pages that
answered 304: nothing new) and
``errors`` and ``items_found`` (entries the index listed) are counted by the spiders, ``new``/``updated``/``duplicate`` by the store pipeline), and short
``"<class> <url>: <reason>"`` messages go to the list ``regwatch/<source_id>/error_messages``. An
``auto`` source's discovery, when one ran, is the dict ``regwatch/<source_id>/discovery``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from regwatch.errors import SOURCE_ERROR_CLASSES
from regwatch.models import CrawlStats

logger = logging.getLogger(__name__)

STATS_PREFIX = "regwatch"
COUNTER_NAMES = (
    "pages_fetched",
    "not_modified",
    "new",
    "updated",
    "duplicate",
    "errors",
    "items_found",
    "too_large",
    "too_old",
    "index_not_modified",
)
MAX_ERROR_MESSAGES = 20
MAX_MESSAGE_CHARS = 300


class StatsLike(Protocol):
    """The part of Scrapy's ``StatsCollector`` the helpers use."""

    def get_value(self, key: str, default: Any = None) -> Any: ...

    def set_value(self, key: str, value: Any) -> None: ...

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


def stat_key(source_id: str, name: str) -> str:
    """``regwatch/<source_id>/<name>``."""
    return f"{STATS_PREFIX}/{source_id}/{name}"


def count(stats: StatsLike, source_id: str, name: str, n: int = 1) -> None:
    """Add ``n`` to the counter ``name`` of a source (e.g. ``count(crawler.stats, "ledger", "new")``)."""
    stats.inc_value(stat_key(source_id, name), n)


def add_error(stats: StatsLike, source_id: str, error_class: str, url: str, reason: str) -> None:
    """Count one error of a source and keep its message (the first 20 are kept)."""
    error_class = error_class if error_class in SOURCE_ERROR_CLASSES else "other"
    count(stats, source_id, "errors")
    key = stat_key(source_id, "error_messages")
    messages = list(stats.get_value(key) or [])
    if len(messages) < MAX_ERROR_MESSAGES:
        message = f"{error_class} {url}: {reason}"
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        messages.append(message)
        stats.set_value(key, messages)


def record_error(
    stats: StatsLike, source_id: str, error_class: str, url: str, reason: str, failure: Any = None
) -> None:
    """Count one error of a source and log it: one WARNING line; a failure's traceback at DEBUG (``-v``).

    What the spiders and the extraction pipeline call for every error of a source.
    """
    logger.warning("source=%s url=%s %s error: %s", source_id, url, error_class, reason)
    if failure is not None and logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "source=%s url=%s %s error, in full:\n%s", source_id, url, error_class, failure.getTraceback()
        )
    add_error(stats, source_id, error_class, url, reason)
    if error_class == "too_large":
        count(stats, source_id, "too_large")


def set_index_error(stats: StatsLike, source_id: str, error_class: str, url: str, reason: str) -> None:
    """Mark the run's hard failure: the source's index itself failed (the first one is kept)."""
    key = stat_key(source_id, "index_error")
    if not stats.get_value(key):
        error_class = error_class if error_class in SOURCE_ERROR_CLASSES else "other"
        stats.set_value(key, f"{error_class} {url}: {reason}"[:MAX_MESSAGE_CHARS])


def crawl_stats_from(stats: Mapping[str, Any], source_id: str) -> CrawlStats:
    """Read one source's :class:`CrawlStats` back out of a Scrapy stats dict."""
    values = {name: int(stats.get(stat_key(source_id, name), 0) or 0) for name in COUNTER_NAMES}
    messages = [str(m) for m in stats.get(stat_key(source_id, "error_messages"), []) or []]
    latency = stats.get(stat_key(source_id, "index_latency_ms"))
    discovery = stats.get(stat_key(source_id, "discovery"))
    return CrawlStats(
        source_id=source_id,
        error_messages=messages,
        index_latency_ms=int(latency) if latency is not None else None,
        index_error=str(stats.get(stat_key(source_id, "index_error"), "") or ""),
        discovery=dict(discovery) if isinstance(discovery, dict) else {},
        **values,
    )
