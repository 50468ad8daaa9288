"""Crawl logs ops can read: an expected source failure is one WARNING line, its traceback only with -v.

A fixture config with three sources that fail the everyday ways (a host that
does not resolve, a refused port, a 404 feed) is crawled with robots.txt
obeyed and retries on, so Scrapy's robots.txt and retry middlewares meet every
failure too; the crawl subprocess's stderr is what ops would read.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from crawl_fixtures import serve_pages
from ports import refused_port

from crawlers import run_crawl
from regwatch.config import load_config


def crawl_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], log_level: str
) -> tuple[str, dict[str, str]]:
    """Crawl the failing sources at ``log_level``; (the crawl process's stderr, {source id: (class, url)})."""
    with serve_pages({}) as (base, _):  # every path answers 404
        refused = f"http://127.0.0.1:{refused_port()}"
        urls = {
            "nodns": "http://regwatch-logs.invalid/feed.xml",
            "refused": f"{refused}/feed.xml",
            "gone": f"{base}/feed.xml",
        }
        config = tmp_path / "config.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "sources": [{"id": i, "name": i, "kind": "feed", "url": u} for i, u in urls.items()],
                    "settings": {
                        "CRAWL_ALLOWED_HOSTS": f"{base}, {refused}",
                        "CRAWL_RETRIES": 1,
                        "CRAWL_RETRY_BACKOFF": 0,
                        "CRAWL_TIMEOUT": 10,
                        "CRAWL_EXTRACT_WORKERS": 0,
                        "LOG_LEVEL": log_level,
                    },
                }
            )
        )
        loaded = load_config(config, env={})
        capfd.readouterr()
        stats = run_crawl(loaded.sources, loaded.settings, {})  # nothing to store: every source fails
        stderr = capfd.readouterr().err
    classes = {s.source_id: s.index_failure.error_class for s in stats if s.index_failure}
    assert classes == {"nodns": "dns", "refused": "refused", "gone": "http"}, stderr
    return stderr, urls


def test_each_failing_source_is_one_warning_line_without_a_traceback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    stderr, urls = crawl_stderr(tmp_path, capfd, "INFO")

    assert "Traceback" not in stderr
    problems = [line for line in stderr.splitlines() if re.search(r"\] (WARNING|ERROR|CRITICAL):", line)]
    assert len(problems) == len(urls), "\n".join(problems)
    for source_id, error_class in (("nodns", "dns"), ("refused", "refused"), ("gone", "http")):
        [line] = [p for p in problems if f"source={source_id} " in p]
        assert f"url={urls[source_id]} " in line and f" {error_class} error: " in line, line


def test_with_debug_logging_each_failure_shows_its_traceback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    stderr, urls = crawl_stderr(tmp_path, capfd, "DEBUG")

    for source_id in urls:
        assert re.search(rf"source={source_id} url=\S+ \w+ error, in full:\nTraceback", stderr), source_id
    assert stderr.count("Traceback (most recent call last)") >= len(urls)
