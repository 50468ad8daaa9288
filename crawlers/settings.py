"""The Scrapy project's settings: fixed defaults in one place, and regwatch's crawl settings.

Each setting has one name. regwatch's own crawl settings (``CRAWL_MAX_PAGES``,
``CRAWL_LOOKBACK_DAYS``, ``EXTRACT_MIN_BODY_CHARS``… rows of
:mod:`regwatch.settings`) reach the crawl's spiders, pipelines and middlewares
under those same names, read with :func:`crawl_setting` (the row's default when
unset). The few that *are* Scrapy knobs (``CRAWL_TIMEOUT`` is Scrapy's
``DOWNLOAD_TIMEOUT``) are handed to Scrapy under its name only
(:data:`SCRAPY_NAMES`). Everything else regwatch wants from Scrapy and no user
needs to change lives in :data:`SCRAPY_DEFAULTS`. The ``REGWATCH_*`` Scrapy
settings are not user settings but values of one crawl (the store's path, the
union of the sources' allowed hosts).

Item pipelines are one priority dict (:data:`ITEM_PIPELINES`, then the
caller's): lower runs first, ``None`` switches one off. Extraction
(:class:`~crawlers.ExtractPipeline`, 300) comes before the store (``regwatch.app``: 800).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regwatch.settings import BY_NAME

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
    # (an article page: one item); its default of 100 cost more per page than the whole
    # extraction. A feed's thousands of links still flow through 8 at a time.
    "CONCURRENT_ITEMS": 8,
    "DOWNLOADER_MIDDLEWARES": {
        "crawlers._middlewares.SsrfGuardMiddleware": 50,  # before robots.txt: its request is guarded too
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "crawlers._middlewares.BackoffRetryMiddleware": 550,
        # Last before the download handler (crawlers._fleet.ORDER); opts out unless the store is PostgreSQL.
        "crawlers._fleet.FleetPolitenessMiddleware": 950,
    },
    "DEFAULT_REQUEST_HEADERS": {
        "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,application/json;q=0.8,*/*;q=0.7",
        "Accept-Language": "en",
    },
}

EXTRACT_PIPELINE = "crawlers.ExtractPipeline"
# The crawl's own item pipelines; a caller's dict adds to them (a store) or switches one off (None).
ITEM_PIPELINES: dict[str, int | None] = {EXTRACT_PIPELINE: 300}

# regwatch setting -> the Scrapy setting it is: Scrapy's own knobs, under Scrapy's names only.
SCRAPY_NAMES: dict[str, str] = {
    "CRAWL_USER_AGENT": "USER_AGENT",
    "CRAWL_OBEY_ROBOTS": "ROBOTSTXT_OBEY",
    "CRAWL_TIMEOUT": "DOWNLOAD_TIMEOUT",
    "CRAWL_RETRIES": "RETRY_TIMES",
    "CRAWL_CONCURRENCY_PER_DOMAIN": "CONCURRENT_REQUESTS_PER_DOMAIN",
    "CRAWL_DELAY": "DOWNLOAD_DELAY",
    "CRAWL_AUTOTHROTTLE": "AUTOTHROTTLE_ENABLED",
    "CRAWL_MAX_BYTES": "DOWNLOAD_MAXSIZE",
    "LOG_LEVEL": "LOG_LEVEL",
}

# regwatch's own crawl settings, read by its spiders, pipelines and middlewares under these names.
REGWATCH_CRAWL_SETTINGS: tuple[str, ...] = (
    "CRAWL_MAX_PAGES",
    "CRAWL_MAX_LISTING_PAGES",
    "CRAWL_LOOKBACK_DAYS",
    "CRAWL_RETRY_BACKOFF",
    "CRAWL_RETRY_MAX_WAIT",
    "CRAWL_ALLOWED_HOSTS",
    "CRAWL_CONTACT",  # folded into USER_AGENT
    "CRAWL_EXTRACT_WORKERS",
    "CRAWL_DISCOVER_CHECK_PAGES",
    "CRAWL_DISCOVER_MIN_BODY_CHARS",
    "EXTRACT_MIN_BODY_CHARS",
    "EXTRACT_JSONLD_MAX_CHARS",
    "EXTRACT_MAX_BODY_CHARS",
)

# The regwatch settings a crawl subprocess needs (no secrets cross into the job file).
CRAWL_SETTING_NAMES: tuple[str, ...] = (*SCRAPY_NAMES, *REGWATCH_CRAWL_SETTINGS)


def crawl_setting(settings: Any, name: str) -> Any:
    """A regwatch crawl setting inside the crawl (Scrapy's ``crawler.settings``): its value, else its default.

    The value has the type of the setting's default (Scrapy's ``getint``,
    ``getfloat``, ``getbool``); the default comes from the setting's one row in
    :mod:`regwatch.settings`, so no component restates it.
    """
    default = BY_NAME[name].default
    if isinstance(default, bool):
        return settings.getbool(name, default)
    if isinstance(default, int):
        return settings.getint(name, default)
    if isinstance(default, float):
        return settings.getfloat(name, default)
    value = settings.get(name, default)
    return default if value is None else str(value)


def scrapy_settings(
    settings: Mapping[str, Any],
    item_pipelines: Mapping[str, int | None] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Scrapy settings for a crawl: defaults, then the regwatch settings, then ``extra``.

    ``item_pipelines`` is merged into :data:`ITEM_PIPELINES` (``None`` switches one off).
    """
    values = dict(SCRAPY_DEFAULTS)
    for name, scrapy_name in SCRAPY_NAMES.items():
        if name in settings:
            values[scrapy_name] = settings[name]
    for name in REGWATCH_CRAWL_SETTINGS:
        if name in settings:
            values[name] = settings[name]
    values["DNS_TIMEOUT"] = values.get("DOWNLOAD_TIMEOUT", 60)
    contact = str(values.pop("CRAWL_CONTACT", "") or "").strip()
    if contact and "USER_AGENT" in values:
        values["USER_AGENT"] = f"{values['USER_AGENT']} (contact: {contact})"
    # AutoThrottle starts at the configured delay (never below it) and aims at the
    # configured per-domain concurrency; a slow or erroring site gets slower requests.
    values["AUTOTHROTTLE_START_DELAY"] = max(float(values.get("DOWNLOAD_DELAY", 0) or 0), 0.0)
    values["AUTOTHROTTLE_TARGET_CONCURRENCY"] = float(values.get("CONCURRENT_REQUESTS_PER_DOMAIN", 2) or 1)
    values["ITEM_PIPELINES"] = {**ITEM_PIPELINES, **(item_pipelines or {})}
    values.update(extra or {})
    return values
