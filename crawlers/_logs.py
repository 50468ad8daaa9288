"""Crawl logs for ops: one WARNING line per expected failure, tracebacks only at debug level.

A source that cannot be reached is an everyday event (no network, a site
down, a moved feed). The spider's errback logs it once, as a WARNING naming the
source, the error class and the URL (``SourceSpider.record_error``), and its
traceback at DEBUG (``regwatch -v``). Scrapy reports some of the same failures
itself, as ERRORs with tracebacks: the retry middleware's "Gave up retrying"
(quieted by ``RETRY_GIVE_UP_LOG_LEVEL``) and the robots.txt middleware's
"Error downloading" when a site's robots.txt cannot be fetched (the page
request then fails the same way, or the crawl goes on as robots.txt allows).
:class:`ExpectedFailureFilter` turns the latter into a DEBUG record, traceback
kept, so ``-v`` still shows it.
"""

from __future__ import annotations

import logging

# (logger name, message prefix) of Scrapy records that repeat a failure the spider reports.
REPEATED_FAILURES: tuple[tuple[str, str], ...] = (
    ("scrapy.downloadermiddlewares.robotstxt", "Error downloading"),
)


class ExpectedFailureFilter(logging.Filter):
    """Demote Scrapy's own report of a failure the spider logs anyway to DEBUG (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and any(
            record.name == name and str(record.msg).startswith(prefix) for name, prefix in REPEATED_FAILURES
        ):
            record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return True


def install_failure_filters() -> None:
    """Attach :class:`ExpectedFailureFilter` to the loggers it applies to (once)."""
    for name in {name for name, _ in REPEATED_FAILURES}:
        target = logging.getLogger(name)
        if not any(isinstance(f, ExpectedFailureFilter) for f in target.filters):
            target.addFilter(ExpectedFailureFilter())
