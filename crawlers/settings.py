"""The Scrapy project's settings: fixed defaults in one place, plus the map from regwatch settings.

regwatch's own settings (``CRAWL_*``, ``EXTRACT_*``, ``LOG_LEVEL`` in
:mod:`regwatch.settings`) are the knobs users turn; :func:`scrapy_settings`
translates them to Scrapy's names. Everything else regwatch wants from Scrapy
and that no user needs to change lives in :data:`SCRAPY_DEFAULTS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BOT_NAME = "regwatch"

SCRAPY_DEFAULTS: dict[str, Any] = {
    "BOT_NAME": BOT_NAME,
    "SPIDER_MODULES": [],
    "TELNETCONSOLE_ENABLED": False,
    "COOKIES_ENABLED": False,
    "HTTPCACHE_ENABLED": False,
    "AUTOTHROTTLE_MAX_DELAY": 60.0,
    "LOG_STDOUT": False,
    "LOG_VERSIONS": [],
    "LOGSTATS_INTERVAL": 0,
    "STATS_DUMP": False,
    "DOWNLOAD_WARNSIZE": 0,
    "REDIRECT_MAX_TIMES": 10,
    # The reactor's resolver refuses non-public answers, so the address the SSRF guard checked is
    # the one connected to (see crawlers._ssrf).
    "TWISTED_DNS_RESOLVER": "crawlers._ssrf.PublicOnlyResolver",
    # The spider's errback logs each failure once, as a WARNING with its source and class;
    # Scrapy's own "Gave up retrying" line would say it again, as an ERROR.
    "RETRY_GIVE_UP_LOG_LEVEL": "DEBUG",
    # Scrapy starts this many asyncio tasks for every response's output, however little it yields
    # (an article page: one item and a ledger record); its default of 100 cost more per page than
    # the whole extraction. A feed's thousands of links still flow through 8 at a time.
    "CONCURRENT_ITEMS": 8,
    "DOWNLOADER_MIDDLEWARES": {
        "crawlers._middlewares.SsrfGuardMiddleware": 50,  # before robots.txt: its request is guarded too
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawlers._middlewares.BackoffRetryMiddleware": 550,
    },
    "DEFAULT_REQUEST_HEADERS": {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7",
        "Accept-Language": "en",
    },
}

# regwatch setting -> Scrapy setting
SETTING_MAP: dict[str, str] = {
    "CRAWL_USER_AGENT": "USER_AGENT",
    "CRAWL_OBEY_ROBOTS": "ROBOTSTXT_OBEY",
    "CRAWL_TIMEOUT": "DOWNLOAD_TIMEOUT",
    "CRAWL_RETRIES": "RETRY_TIMES",
    "CRAWL_CONCURRENCY_PER_DOMAIN": "CONCURRENT_REQUESTS_PER_DOMAIN",
    "CRAWL_DELAY": "DOWNLOAD_DELAY",
    "CRAWL_AUTOTHROTTLE": "AUTOTHROTTLE_ENABLED",
    "CRAWL_MAX_BYTES": "DOWNLOAD_MAXSIZE",
    "CRAWL_RETRY_BACKOFF": "REGWATCH_RETRY_BACKOFF",
    "CRAWL_RETRY_MAX_WAIT": "REGWATCH_RETRY_MAX_WAIT",
    "CRAWL_ALLOWED_HOSTS": "REGWATCH_ALLOWED_HOSTS",
    "CRAWL_LOOKBACK_DAYS": "REGWATCH_LOOKBACK_DAYS",
    "CRAWL_CONTACT": "REGWATCH_CONTACT",
    "CRAWL_MAX_PAGES": "REGWATCH_MAX_PAGES",
    "CRAWL_MAX_LISTING_PAGES": "REGWATCH_MAX_LISTING_PAGES",
    "EXTRACT_MIN_BODY_CHARS": "REGWATCH_MIN_BODY_CHARS",
    "EXTRACT_JSONLD_MAX_CHARS": "REGWATCH_JSONLD_MAX_CHARS",
    "EXTRACT_MAX_BODY_CHARS": "REGWATCH_MAX_BODY_CHARS",
    "CRAWL_EXTRACT_WORKERS": "REGWATCH_EXTRACT_WORKERS",
    "LOG_LEVEL": "LOG_LEVEL",
}

# The regwatch settings a crawl subprocess needs (no secrets cross into the job file).
CRAWL_SETTING_NAMES: tuple[str, ...] = tuple(SETTING_MAP)


def scrapy_settings(
    settings: Mapping[str, Any],
    item_pipelines: Mapping[str, int | None] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Scrapy settings for a crawl: defaults, then mapped regwatch settings, then ``extra``."""
    values = dict(SCRAPY_DEFAULTS)
    for name, scrapy_name in SETTING_MAP.items():
        if name in settings:
            values[scrapy_name] = settings[name]
    values["DNS_TIMEOUT"] = values.get("DOWNLOAD_TIMEOUT", 60)
    contact = str(values.pop("REGWATCH_CONTACT", "") or "").strip()
    if contact and "USER_AGENT" in values:
        values["USER_AGENT"] = f"{values['USER_AGENT']} (contact: {contact})"
    # AutoThrottle starts at the configured delay (never below it) and aims at the
    # configured per-domain concurrency; a slow or erroring site gets slower requests.
    values["AUTOTHROTTLE_START_DELAY"] = max(float(values.get("DOWNLOAD_DELAY", 0) or 0), 0.0)
    values["AUTOTHROTTLE_TARGET_CONCURRENCY"] = float(values.get("CONCURRENT_REQUESTS_PER_DOMAIN", 2) or 1)
    values["ITEM_PIPELINES"] = dict(item_pipelines or {})
    values.update(extra or {})
    return values
