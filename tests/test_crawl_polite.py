"""Polite and safe, unit by unit: the SSRF guard's decisions, Retry-After, the Scrapy settings.

The guard is exercised with loopback addresses other than the tests' own
127.0.0.1 and with non-HTTP schemes only; it decides before any connection.
Its end-to-end tests (real servers, a resolver that changes its answer) are in
``test_crawl_ssrf.py``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from scrapy.http import Response

from crawlers._middlewares import SsrfGuardMiddleware, retry_after
from crawlers._ssrf import AllowedHosts
from crawlers.settings import scrapy_settings
from regwatch.config import load_config
from regwatch.errors import ConfigError
from regwatch.models import Source
from regwatch.settings import Settings


def refusal(url: str, allowed: str = "") -> str:
    return asyncio.run(SsrfGuardMiddleware(allowed).refusal(url))


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
    assert "address" in reason and "CRAWL_ALLOWED_HOSTS" in reason and "allowed_hosts" in reason


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.2/x", "gopher://127.0.0.2/", "data:,x"])
def test_the_guard_refuses_non_http_schemes(url: str) -> None:
    assert "is not http(s)" in refusal(url)


def test_an_allowed_host_port_passes_on_that_port_only() -> None:
    assert refusal("http://127.0.0.2:8080/feed.xml", "127.0.0.1:8080, 127.0.0.2:8080") == ""
    assert refusal("http://[::1]:8080/x", "[::1]:8080") == ""
    assert refusal("http://127.0.0.2:8080/x", "http://127.0.0.2:8080") == ""  # an origin names it too
    reason = refusal("http://127.0.0.2:9200/_cat/indices", "127.0.0.2:8080")
    assert "127.0.0.2:9200 is a loopback address" in reason and "add 127.0.0.2:9200 to" in reason


def test_a_bare_allowed_host_means_its_default_ports_only() -> None:
    assert refusal("http://127.0.0.2/x", "127.0.0.2") == ""
    assert refusal("https://127.0.0.2/x", "127.0.0.2") == ""
    assert refusal("http://127.0.0.2:443/x", "127.0.0.2")  # 443 is https's port, not http's
    assert refusal("http://127.0.0.2:9200/x", "127.0.0.2")
    assert refusal("http://[::1]:9200/x", "::1")


def test_allowing_one_loopback_address_does_not_allow_another() -> None:
    assert refusal("http://127.0.0.2/x", "127.0.0.1")


def test_allowed_hosts_without_a_scheme_take_both_default_ports() -> None:
    allowed = AllowedHosts.parse("intranet.example, 10.0.0.5:8080", ["https://wiki.internal"])
    assert allowed.allows("INTRANET.example.", 80) and allowed.allows("intranet.example", 443)
    assert not allowed.allows("intranet.example", 8080)
    assert allowed.allows("10.0.0.5", 8080) and not allowed.allows("10.0.0.5", 80)
    assert allowed.allows("wiki.internal", 443) and not allowed.allows("wiki.internal", 80)


def test_the_guard_takes_the_sources_own_allowed_hosts() -> None:
    guard = SsrfGuardMiddleware("127.0.0.2:81")
    guard.crawler = SimpleNamespace(  # type: ignore[assignment]  # what the guard reads of a crawler
        spider=SimpleNamespace(
            source=Source(id="s", name="s", kind="feed", url="http://x/", allowed_hosts=["127.0.0.2:82"])
        )
    )
    allowed = guard.allowed_now()
    assert allowed.allows("127.0.0.2", 81) and allowed.allows("127.0.0.2", 82)
    assert not allowed.allows("127.0.0.2", 83)


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("127.0.0.1:http", "port must be a number"),
        ("127.0.0.1:0", "port must be a number"),
        ("http://127.0.0.1:8123/feeds", "origin"),
        ("ftp://127.0.0.1", "only http:// and https://"),
        ("[::1", "[address]:port"),
    ],
)
def test_a_bad_allowed_host_is_a_one_line_config_error(tmp_path: Path, entry: str, problem: str) -> None:
    source = {
        "id": "s",
        "name": "s",
        "kind": "feed",
        "url": "http://x.example/feed",
        "allowed_hosts": [entry],
    }
    in_a_source = tmp_path / "source.yaml"
    in_a_source.write_text(yaml.safe_dump({"sources": [source]}))
    in_the_setting = tmp_path / "setting.yaml"
    in_the_setting.write_text(yaml.safe_dump({"settings": {"CRAWL_ALLOWED_HOSTS": f"a.example, {entry}"}}))

    for path, names in ((in_a_source, "allowed_hosts"), (in_the_setting, "CRAWL_ALLOWED_HOSTS")):
        with pytest.raises(ConfigError) as raised:
            load_config(path, env={})
        message = str(raised.value)
        assert problem in message and names in message and "\n" not in message


def test_a_sources_allowed_hosts_are_read_from_the_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "id": "intranet",
                        "name": "Intranet",
                        "kind": "feed",
                        "url": "http://10.0.0.5:8080/feed.xml",
                        "allowed_hosts": ["10.0.0.5:8080", "http://files.internal"],
                    }
                ]
            }
        )
    )
    [source] = load_config(path, env={}).sources
    assert source.allowed_hosts == ["10.0.0.5:8080", "http://files.internal"]
    assert (
        Source.from_dict(source.to_dict()).allowed_hosts == source.allowed_hosts
    )  # crosses to the crawl process


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
    assert values["CRAWL_ALLOWED_HOSTS"] == ""
    assert "CRAWL_CONTACT" not in values  # folded into USER_AGENT
    middlewares = values["DOWNLOADER_MIDDLEWARES"]
    assert middlewares["scrapy.downloadermiddlewares.retry.RetryMiddleware"] is None
    assert "crawlers._middlewares.BackoffRetryMiddleware" in middlewares
    assert "crawlers._middlewares.SsrfGuardMiddleware" in middlewares
