"""Entry point of a crawl subprocess: ``python -m crawlers.process JOBFILE REPORTFILE``.

Twisted's reactor cannot be restarted, so every crawl runs in a fresh process
(see :func:`crawlers.run_crawl`). The job file (JSON) holds the sources, the
crawl-related regwatch settings, the item pipelines and extra Scrapy settings.
All sources run in one ``CrawlerProcess``, one crawler each, so a source that
fails never stops the others. The report file (JSON) gets one
:class:`~regwatch.models.CrawlStats` per source; it is rewritten each time a
source finishes, so a killed process still leaves the finished sources' stats.
The process dies with the one that started it (``crawlers._parent_watch``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from crawlers._extract_pool import close_shared_extractor
from crawlers._logs import install_failure_filters
from crawlers._parent_watch import PARENT_PID_ENV, die_with_parent
from regwatch.errors import RegwatchError
from regwatch.models import CrawlFailure, CrawlStats, Source
from regwatch.settings import Settings

logger = logging.getLogger("crawlers.process")

# Loggers that are noise at INFO: Scrapy's own and the extraction libraries'.
QUIET_LOGGERS = (
    "scrapy",
    "twisted",
    "py.warnings",
    "trafilatura",
    "htmldate",
    "courlan",
    "protego",
    "filelock",
)


def load_job(path: Path) -> dict[str, Any]:
    job: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for entry in job.get("python_path", []):
        if entry and entry not in sys.path:
            sys.path.append(entry)  # the parent's import path, so its pipelines import here too
    return job


def _stats_of(crawler: Any) -> dict[str, Any]:
    """A crawler's stats dict; empty when it never got as far as creating its stats."""
    if crawler is None:
        return {}
    try:
        return dict(crawler.stats.get_stats())
    except (AttributeError, RuntimeError):
        return {}


def write_report(path: Path, stats: list[CrawlStats]) -> None:
    """Write the report atomically (a reader never sees half a file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"stats": [s.to_dict() for s in stats]}, handle)
    os.replace(tmp, path)


def run_job(job: dict[str, Any], report_path: Path) -> int:
    """Crawl every source of the job; always write the report. Returns the exit status."""
    from scrapy import signals
    from scrapy.crawler import Crawler, CrawlerProcess

    from crawlers._spiders import spider_for
    from crawlers._stats import crawl_stats_from
    from crawlers.settings import scrapy_settings

    settings = Settings(config=job.get("settings", {}), env={}, config_origin="crawl job")
    values = scrapy_settings(settings, job.get("item_pipelines"), job.get("extra_scrapy_settings"))
    sources: list[Source] = []
    failures: dict[str, str] = {}  # source id -> why its crawler could not run at all
    unreadable: list[tuple[str, str]] = []  # (id, url) of records that are not valid sources
    for entry in job.get("sources", []):
        try:
            sources.append(Source.from_dict(entry))
        except RegwatchError as exc:  # the parent checked it: a job written by hand or by another version
            source_id, url = str(entry.get("id", "")), str(entry.get("url", ""))
            logger.error("source=%s url=%s not crawled: %s", source_id, url, exc)
            failures[source_id] = str(exc)
            unreadable.append((source_id, url))
    # The reactor's resolver serves every source: it lets through the non-public hosts that
    # any of them may reach, and each source's SSRF middleware keeps it to its own.
    values["REGWATCH_CONNECT_ALLOWED_HOSTS"] = sorted({h for s in sources for h in s.allowed_hosts})

    process = CrawlerProcess(values)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    install_failure_filters()

    crawlers: dict[str, Crawler] = {}

    closed: set[str] = set()

    def report(finished_only: bool = False) -> list[CrawlStats]:
        result = []
        for source in sources:
            if finished_only and source.id not in closed:
                continue
            crawler = crawlers.get(source.id)
            stats = crawl_stats_from(_stats_of(crawler), source.id)
            if source.id in failures:
                failure = CrawlFailure("other", source.url, failures[source.id])
                stats.errors += 1
                stats.failures.append(failure)
                stats.index_failure = stats.index_failure or failure
            result.append(stats)
        for source_id, url in unreadable:
            failure = CrawlFailure("other", url, failures[source_id])
            result.append(CrawlStats(source_id, errors=1, failures=[failure], index_failure=failure))
        return result

    def on_closed(spider: Any, reason: str) -> None:
        stats = next(s for s in report() if s.source_id == spider.name)
        logger.info(
            "source=%s url=%s crawl finished (%s): %d pages, %d errors",
            spider.name,
            getattr(getattr(spider, "source", None), "url", ""),
            reason,
            stats.pages_fetched,
            stats.errors,
        )
        closed.add(spider.name)
        write_report(report_path, report(finished_only=True))

    def on_crawl_failed(failure: Any, source: Source) -> None:
        exc = failure.value
        logger.error("source=%s url=%s crawl failed: %s: %s", source.id, source.url, type(exc).__name__, exc)
        failures[source.id] = f"crawl failed: {type(exc).__name__}: {exc}"

    for source in sources:
        try:
            spidercls = spider_for(source)
        except RegwatchError as exc:
            logger.error("source=%s url=%s not crawled: %s", source.id, source.url, exc)
            failures[source.id] = str(exc)
            continue
        crawler = process.create_crawler(spidercls)
        crawler.signals.connect(on_closed, signal=signals.spider_closed)
        crawlers[source.id] = crawler
        kind_args = {"discovery": job.get("discoveries", {}).get(source.id)} if source.kind == "auto" else {}
        deferred = process.crawl(
            crawler,
            source=source.to_dict(),
            validators=job.get("validators", {}).get(source.id, {}),
            probe=bool(job.get("probe")),
            **kind_args,
        )
        deferred.addErrback(on_crawl_failed, source)

    if crawlers:
        try:
            process.start()
        finally:
            close_shared_extractor()
    write_report(report_path, report())
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.stderr.write("usage: python -m crawlers.process JOBFILE REPORTFILE\n")
        return 2
    die_with_parent(int(os.environ.get(PARENT_PID_ENV, "0") or 0))  # never outlive the worker or CLI
    job = load_job(Path(args[0]))
    return run_job(job, Path(args[1]))


if __name__ == "__main__":
    sys.exit(main())
