"""Run a crawl in its own process and read back per-source stats.

Scrapy's Twisted reactor cannot be restarted within a process, and the
scheduler runs crawls again and again, so each crawl is a subprocess
(``python -m crawlers.process``). Whatever happens to it, the caller gets one
:class:`~regwatch.models.CrawlStats` per source, never an exception: a crash or
a timeout becomes an error on every source it did not report.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from regwatch.models import CrawlFailure, CrawlStats, Source

from ._parent_watch import PARENT_PID_ENV
from .settings import CRAWL_SETTING_NAMES

logger = logging.getLogger(__name__)


def _job(
    sources: list[Source],
    settings: Mapping[str, Any],
    item_pipelines: Mapping[str, int | None],
    extra_scrapy_settings: Mapping[str, Any] | None,
    validators: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    probe: bool = False,
    discoveries: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "sources": [source.to_dict() for source in sources],
        # Only crawl settings cross over: no SMTP or index secrets in the job file.
        "settings": {name: settings[name] for name in CRAWL_SETTING_NAMES if name in settings},
        "item_pipelines": dict(item_pipelines),
        "extra_scrapy_settings": dict(extra_scrapy_settings or {}),
        "python_path": [entry for entry in sys.path if entry],
        # source id -> {canonical URL: {"etag", "last_modified"}}: the fetch ledger's validators
        "validators": {sid: dict(urls) for sid, urls in (validators or {}).items()},
        "probe": probe,  # index pages only: nothing followed, nothing stored
        # source id -> its stored Discovery (auto sources): followed instead of discovering again
        "discoveries": {sid: dict(found) for sid, found in (discoveries or {}).items()},
    }


def _read_report(path: Path) -> dict[str, CrawlStats]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {s["source_id"]: CrawlStats.from_dict(s) for s in data.get("stats", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def run_crawl(
    sources: list[Source],
    settings: Mapping[str, Any],
    item_pipelines: Mapping[str, int | None],
    extra_scrapy_settings: Mapping[str, Any] | None = None,
    validators: Mapping[str, Mapping[str, Mapping[str, str]]] | None = None,
    probe: bool = False,
    env: Mapping[str, str] | None = None,
    discoveries: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[CrawlStats]:
    """Crawl ``sources`` in a subprocess and return one CrawlStats per source, in order.

    ``settings`` is the resolved :class:`~regwatch.settings.Settings`;
    ``item_pipelines`` maps dotted paths of Scrapy item pipeline classes to their
    order, merged into the crawl's own (``crawlers.settings.ITEM_PIPELINES``:
    extraction at 300), e.g. ``{"regwatch.app.pipeline.StoreArticlePipeline": 800}``
    to store what extraction hands on (:class:`~crawlers.ExtractedArticle`), or
    ``{"crawlers.ExtractPipeline": None}`` to switch extraction off;
    ``extra_scrapy_settings`` (JSON-serialisable) are passed to Scrapy as they
    are, e.g. ``{"REGWATCH_DB_PATH": "..."}`` for a pipeline to read.
    ``validators`` maps source ids to ``{canonical URL: {"etag": …,
    "last_modified": …}}`` from the fetch ledger: those pages are fetched
    conditionally (a 304 counts as ``not_modified``). ``probe`` fetches each
    source's first index page only and follows nothing (``items_found``,
    ``index_latency_ms`` and ``index_failure`` tell how the source is); an
    ``auto`` source without a stored discovery is discovered all the same
    (``CrawlStats.discovery``), which is what `regwatch sources add` runs.
    ``discoveries`` maps ``auto`` source ids to their stored
    :class:`~regwatch.models.Discovery` dicts, followed instead of discovering
    again. The subprocess logs to this process's stderr, is killed after
    CRAWL_PROCESS_TIMEOUT seconds, and dies with this process (``_parent_watch``). ``env`` is added to its environment (a
    pipeline's secret, such as the store's password, which the job file never holds).
    """
    if not sources:
        return []
    timeout = float(settings["CRAWL_PROCESS_TIMEOUT"])
    ids = ", ".join(s.id for s in sources)
    with tempfile.TemporaryDirectory(prefix="regwatch-crawl-") as tmp:
        job_path = Path(tmp) / "job.json"
        report_path = Path(tmp) / "report.json"
        job_path.write_text(
            json.dumps(
                _job(sources, settings, item_pipelines, extra_scrapy_settings, validators, probe, discoveries)
            ),
            "utf-8",
        )
        command = [sys.executable, "-m", "crawlers.process", str(job_path), str(report_path)]
        logger.info("crawl of %d sources starts in a subprocess (sources: %s)", len(sources), ids)
        failure = ""
        timed_out = False
        try:
            # stdout goes to our stderr: stdout is for the CLI's data, never for crawl logs.
            completed = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=2,
                timeout=timeout,
                check=False,
                env={**os.environ, **(env or {}), PARENT_PID_ENV: str(os.getpid())},
            )
            if completed.returncode != 0:
                failure = f"crawl process exited with status {completed.returncode}"
        except subprocess.TimeoutExpired:
            timed_out = True
            failure = f"crawl process killed after CRAWL_PROCESS_TIMEOUT={timeout:g}s"
        except OSError as exc:
            failure = f"crawl process could not start ({exc})"
        reported = _read_report(report_path)

    results: list[CrawlStats] = []
    for source in sources:
        stats = reported.get(source.id)
        if stats is None:
            reason = failure or "crawl process reported nothing for this source"
            logger.error("source=%s url=%s crawl failed: %s", source.id, source.url, reason)
            failed = CrawlFailure("timeout" if timed_out else "other", source.url, reason)
            stats = CrawlStats(source_id=source.id, errors=1, failures=[failed], index_failure=failed)
        elif failure:
            logger.warning("source=%s url=%s stats may be partial: %s", source.id, source.url, failure)
        results.append(stats)
    return results
