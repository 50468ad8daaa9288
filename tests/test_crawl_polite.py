"""Polite and safe, unit by unit: the SSRF guard's decisions, Retry-After, the Scrapy settings.

The guard is exercised with loopback addresses other than the tests' own
127.0.0.1 and with non-HTTP schemes only; it decides before any connection.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from scrapy.http import Response

from crawlers._middlewares import SsrfGuardMiddleware, allowed_hosts, retry_after
from crawlers.settings import scrapy_settings
from regwatch.settings import Settings


def refusal(url: str, allowed: str = "") -> str:
    return asyncio.run(SsrfGuardMiddleware(allowed_hosts(allowed)).refusal(url))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2/feed.xml",
        "https://127.1.2.3:8443/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.2]/x",
        "http://0.0.0.0/x",
    ],
)
def test_the_guard_refuses_loopback_and_unspecified_addresses(url: str) -> None:
    reason = refusal(url)
    assert "address" in reason and "CRAWL_ALLOWED_HOSTS" in reason


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.2/x", "gopher://127.0.0.2/", "data:,x"])
def test_the_guard_refuses_non_http_schemes(url: str) -> None:
    assert "is not http(s)" in refusal(url)


def test_a_host_listed_in_crawl_allowed_hosts_passes() -> None:
    assert refusal("http://127.0.0.2:8080/feed.xml", "127.0.0.1, 127.0.0.2") == ""
    assert refusal("http://[::1]/x", "::1") == ""


def test_allowing_one_loopback_address_does_not_allow_another() -> None:
    assert refusal("http://127.0.0.2/x", "127.0.0.1")


def response(retry_after_value: str) -> Response:
    return Response("http://127.0.0.1/x", status=429, headers={"Retry-After": retry_after_value})


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    now = datetime(2026, 1, 12, 8, 0, 0, tzinfo=UTC)
    assert retry_after(response("7")) == 7.0
    assert retry_after(response("Mon, 12 Jan 2026 08:00:30 GMT"), now) == 30.0
    assert retry_after(response("Mon, 12 Jan 2026 07:00:00 GMT"), now) == 0.0
    assert retry_after(response("soon")) is None


def test_scrapy_settings_carry_the_contact_autothrottle_and_limits() -> None:
    settings = Settings(
        env={},
        overrides={"CRAWL_CONTACT": "ops@example.org", "CRAWL_DELAY": 2.0, "CRAWL_MAX_BYTES": 12345},
    )
    values = scrapy_settings(settings)
    assert values["USER_AGENT"].startswith("regwatch/") and values["USER_AGENT"].endswith(
        "(contact: ops@example.org)"
    )
    assert values["AUTOTHROTTLE_ENABLED"] is True
    assert values["AUTOTHROTTLE_START_DELAY"] == 2.0 and values["DOWNLOAD_DELAY"] == 2.0
    assert values["DOWNLOAD_MAXSIZE"] == 12345
    assert values["REGWATCH_ALLOWED_HOSTS"] == ""
    assert "REGWATCH_CONTACT" not in values
    middlewares = values["DOWNLOADER_MIDDLEWARES"]
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert "crawlers._middlewares.BackoffRetryMiddleware" in middlewares
    assert "crawlers._middlewares.SsrfGuardMiddleware" in middlewares
