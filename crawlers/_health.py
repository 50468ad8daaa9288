"""Source health: what counts as a failure beyond the HTTP status, and what repeated failure costs.

HTTP 200 is not success. :func:`blocked_reason` spots a bot wall or a
JavaScript app shell answering in place of content (class ``blocked``), and
:func:`feed_content_problem` a document that is not a feed at all (class
``empty``).

:func:`next_health` is the whole of source health, as one pure function: from
a source's previous :class:`~regwatch.models.SourceHealthState` and one run's
:class:`~regwatch.models.CrawlStats` it computes the next state, whether the
run failed, and the log events that implies. The wiring logs the events and
the store's ``source_states`` saves the rest; nothing else decides health.

- A *hard* failure (the index itself failed, or nothing at all came back) adds
  a weight by error class to the source's failure score, a success clears it,
  and a score reaching ``CRAWL_DISABLE_SCORE`` disables the source until it is
  crawled by name and succeeds.
- A run that lists far fewer items than the source's own average
  (``CRAWL_LOW_VOLUME_RATIO``) is flagged: a redesign that half-breaks the
  selectors shows up there first.
- An index that answers 304 (unchanged since a run that settled everything it
  listed) is a success with nothing new, never ``empty`` and never low volume,
  and keeps what it listed last time.
- A run *failed* (the crawl ledger's "consecutive failures") when it had errors
  and stored nothing; one bad page among good ones is an error, not a failed run.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lxml import etree
from lxml import html as lxml_html

from regwatch.errors import ErrorClass
from regwatch.models import CrawlFailure, CrawlStats, SourceHealthState
from regwatch.settings import BY_NAME

from ._jsonfeed import looks_like_json_feed

# Weight of one hard failure, by error class: a host that no longer resolves or
# fails TLS is likelier gone for good than one that timed out once.
FAILURE_WEIGHTS: dict[ErrorClass, float] = {
    "dns": 2.0,
    "tls": 2.0,
    "refused": 1.5,
    "blocked": 1.5,
    "http": 1.0,
    "timeout": 1.0,
    "empty": 1.0,
    "too_large": 1.0,
    "parse": 1.0,
    "robots": 1.0,
    "other": 1.0,
}
GONE_STATUSES = (404, 410)  # an index that is gone weighs like a DNS failure
GONE_WEIGHT = 2.0
LOW_VOLUME_MIN_RUNS = 3  # successful runs before a source's average means anything
LOW_VOLUME_MIN_AVERAGE = 4.0  # sources that list fewer items than this are never flagged
VOLUME_SMOOTHING = 0.3  # weight of the latest run in the moving average of items per run

# Text of well-known bot walls and challenge pages (Cloudflare, Akamai, Imperva, PerimeterX, DataDome…).
_BOT_WALL = re.compile(
    r"just a moment\.\.\.|attention required! \| cloudflare|cf-browser-verification|cf_chl_|"
    r"challenge-platform|_incapsula_resource|request unsuccessful\. incapsula|px-captcha|"
    r"captcha-delivery\.com|datadome|pardon our interruption|are you a robot|verify you are (a )?human|"
    r"access denied</title>|you don't have permission to access|unusual traffic from your computer",
)  # matched against lower-cased text
_APP_SHELL = re.compile(
    r"<div[^<>]+id=[\"'](root|app|__next|__nuxt)[\"'][^<>]*>\s*</div>|"  # [^<>]: one scan per tag, not per "<div"
    r"you need to enable javascript|please enable javascript|requires javascript",
)  # matched against lower-cased text
APP_SHELL_MAX_TEXT = 200  # visible characters: a real listing or article has more
BOT_WALL_MAX_TEXT = 1500  # a challenge page says little; an article about CAPTCHAs says a lot
BLOCKED_SCAN_BYTES = 32_768
FEED_CONTENT_TYPES = ("xml", "rss", "atom", "rdf", "feed+json")


def _visible_text(body: bytes) -> str:
    try:
        doc = lxml_html.document_fromstring(body)
    except (ValueError, etree.ParserError):
        return ""
    for element in doc.xpath("//script|//style|//noscript|//template"):
        element.drop_tree()
    return " ".join(doc.text_content().split())


def blocked_reason(body: bytes, content_type: str = "") -> str:
    """Why an HTML answer is a bot wall or an empty app shell ("" when it looks like content)."""
    if "html" not in content_type.lower() and not body.lstrip()[:200].lower().startswith(
        (b"<!doctype", b"<html")
    ):
        return ""
    # Walls and shells are small pages that say so early: the head is enough, and a long
    # article that merely mentions a CAPTCHA is not one (its visible text is long).
    head = body[:BLOCKED_SCAN_BYTES].decode("utf-8", "replace").lower()
    wall = _BOT_WALL.search(head)
    shell = _APP_SHELL.search(head) if wall is None else None
    if wall is None and shell is None:
        return ""
    text_chars = len(_visible_text(body))
    if wall is not None and text_chars < BOT_WALL_MAX_TEXT:
        return f"bot wall answered instead of content ({wall.group(0)[:40]!r})"
    if shell is not None and text_chars < APP_SHELL_MAX_TEXT:
        return "JavaScript app shell with no content (needs a browser or an API endpoint)"
    return ""


def feed_content_problem(body: bytes, content_type: str) -> str:
    """Why a feed source's answer is not a feed by its type ("" when it may be one).

    A feed type (``*xml*``, ``rss``, ``atom``, ``feed+json``) passes; so does any
    type whose body starts like XML or is a JSON Feed (servers label feeds
    ``text/plain`` or ``application/octet-stream`` too). HTML, other JSON and
    the rest do not.
    """
    lowered = content_type.lower()
    if any(word in lowered for word in FEED_CONTENT_TYPES) or looks_like_json_feed(body):
        return ""
    start = body.lstrip()[:100].lower()
    if start.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf")):
        return ""
    return f"not a feed (Content-Type {content_type.split(';')[0].strip() or 'missing'})"


@dataclass(frozen=True)
class HealthPolicy:
    """The limits of :func:`next_health` (``from_settings`` reads them from the settings)."""

    disable_score: float = BY_NAME["CRAWL_DISABLE_SCORE"].default  # 0: never disable
    low_volume_ratio: float = BY_NAME["CRAWL_LOW_VOLUME_RATIO"].default

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> HealthPolicy:
        return cls(
            disable_score=float(settings["CRAWL_DISABLE_SCORE"]),
            low_volume_ratio=float(settings["CRAWL_LOW_VOLUME_RATIO"]),
        )


@dataclass(frozen=True)
class HealthEvent:
    """A log line a health transition implies (the wiring adds the source id and URL)."""

    level: int  # a logging level
    message: str


@dataclass(frozen=True)
class HealthTransition:
    """What one run did to a source's health: :func:`next_health`'s answer."""

    state: SourceHealthState  # carried to the next run
    run_failed: bool  # errors and nothing stored: counts towards the ledger's consecutive failures
    hard_failure: CrawlFailure | None  # what raised the failure score, None when the run succeeded
    events: tuple[HealthEvent, ...] = ()


def hard_failure_of(run: CrawlStats) -> CrawlFailure | None:
    """The hard failure of this run, or None.

    Hard: the index failed, or the run had errors and got nothing at all (no
    page, no 304, nothing listed). One bad article page among good ones is not.
    """
    if run.index_failure is not None:
        return run.index_failure
    got_something = run.pages_fetched or run.not_modified or run.items_found
    if run.errors and not got_something:
        return run.failures[0] if run.failures else CrawlFailure("other", "", f"{run.errors} errors")
    return None


def run_failed(run: CrawlStats) -> bool:
    """Whether the run had errors and stored nothing (a 304 page counts as stored: known, unchanged)."""
    stored = run.new + run.updated + run.duplicate + run.not_modified
    return bool(run.errors or run.failures) and stored == 0


def failure_weight(failure: CrawlFailure) -> float:
    """What one hard failure adds to the score: by class, and a gone index (404, 410) as much as DNS."""
    if failure.error_class == "http" and failure.status in GONE_STATUSES:
        return GONE_WEIGHT
    return FAILURE_WEIGHTS[failure.error_class]


def next_health(
    previous: SourceHealthState, run: CrawlStats, policy: HealthPolicy, now: datetime
) -> HealthTransition:
    """The source's next health state after ``run``, and the events to log (``now``: when it disables)."""
    failed = run_failed(run)
    events: list[HealthEvent] = []
    if failed:
        first = run.failures[0] if run.failures else CrawlFailure("other", "", f"{run.errors} errors")
        events.append(HealthEvent(logging.INFO, f"run failed: {first.message}"))
    # An index that answered 304 lists what it listed last time.
    unchanged = bool(run.index_not_modified) and not run.items_found
    state = replace(
        previous,
        latency_ms=run.index_latency_ms,
        items_found=previous.items_found if unchanged else run.items_found,
    )
    hard = hard_failure_of(run)
    if hard is not None:
        score = previous.failure_score + failure_weight(hard)
        state = replace(state, failure_score=score, low_volume=False)
        if policy.disable_score > 0 and score >= policy.disable_score and not previous.disabled:
            reason = (
                f"disabled after repeated hard failures (score {score:g}, "
                f"limit {policy.disable_score:g}); last: {hard.message}"
            )
            state = replace(state, disabled_at=now, disabled_reason=reason)
            events.append(HealthEvent(logging.ERROR, reason))
        return HealthTransition(state, failed, hard, tuple(events))
    if previous.turned_off_by_hand:
        # Ops turned it off: a success (of a crawl that named it) does not turn it back on.
        state = replace(state, failure_score=0.0)
    else:
        if previous.disabled:
            events.append(HealthEvent(logging.INFO, "succeeded again: re-enabled"))
        state = replace(state, failure_score=0.0, disabled_at=None, disabled_reason="")
    if unchanged:
        # Healthy, nothing new: the volume average and its flag do not see an empty run.
        return HealthTransition(replace(state, low_volume=False), failed, None, tuple(events))
    items, average, runs = float(run.items_found), previous.avg_items, previous.runs
    low = (
        runs >= LOW_VOLUME_MIN_RUNS
        and average is not None
        and average >= LOW_VOLUME_MIN_AVERAGE
        and items < average * policy.low_volume_ratio
    )
    average = items if average is None else (1 - VOLUME_SMOOTHING) * average + VOLUME_SMOOTHING * items
    state = replace(state, avg_items=average, runs=runs + 1, low_volume=low)
    if low:
        events.append(
            HealthEvent(
                logging.WARNING,
                f"listed {run.items_found} items, far below its average of {average:.1f}: "
                "check its selectors or feed",
            )
        )
    return HealthTransition(state, failed, None, tuple(events))
