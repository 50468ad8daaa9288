"""Source health: what counts as a failure beyond the HTTP status, and what repeated failure costs.

HTTP 200 is not success. :func:`blocked_reason` spots a bot wall or a
JavaScript app shell answering in place of content (class ``blocked``), and
:func:`feed_content_problem` a document that is not a feed at all (class
``empty``). :func:`assess_health` turns one run's :class:`CrawlStats` and the
source's previous state into the next: a *hard* failure (the index itself
failed, or nothing at all came back) adds a weight by error class to the
source's failure score, a success clears it, and a score reaching
``CRAWL_DISABLE_SCORE`` disables the source until it is crawled by name and
succeeds. A run that lists far fewer items than the source's own average
(``CRAWL_LOW_VOLUME_RATIO``) is flagged: a redesign that half-breaks the
selectors shows up there first. An index that answers 304 (unchanged since a
run that settled everything it listed) is a success with nothing new, never
``empty`` and never low volume.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import html as lxml_html

from regwatch.models import CrawlStats

from ._jsonfeed import looks_like_json_feed

# Weight of one hard failure, by error class: a host that no longer resolves or
# fails TLS is likelier gone for good than one that timed out once.
FAILURE_WEIGHTS: dict[str, float] = {
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
GONE_STATUSES = ("HTTP 404", "HTTP 410")  # an index that is gone weighs like a DNS failure
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
    except (ValueError, lxml_html.etree.ParserError):
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
class HealthVerdict:
    """A source's state after one run: carried over to the next by the store."""

    failure_score: float
    hard_failure: str  # the error class of this run's hard failure, "" when it succeeded
    disable: bool  # the score reached the limit: stop crawling it until told otherwise
    low_volume: bool
    avg_items: float | None
    runs: int  # successful runs counted in avg_items


def error_class_of(message: str) -> str:
    """``"timeout https://…: reason"`` → ``"timeout"`` (the format of the crawl's error messages)."""
    word = message.split(" ", 1)[0].strip("[]:").lower()
    return word if word in FAILURE_WEIGHTS else "other"


def hard_failure_of(stats: CrawlStats) -> str:
    """The error message of a hard failure in this run, or "".

    Hard: the index failed, or the run had errors and got nothing at all (no
    page, no 304, nothing listed). One bad article page among good ones is not.
    """
    if stats.index_error:
        return stats.index_error
    got_something = stats.pages_fetched or stats.not_modified or stats.items_found
    if stats.errors and not got_something:
        return stats.error_messages[0] if stats.error_messages else "other: the run failed"
    return ""


def assess_health(
    stats: CrawlStats,
    failure_score: float = 0.0,
    avg_items: float | None = None,
    runs: int = 0,
    *,
    disable_score: float = 6.0,
    low_volume_ratio: float = 0.3,
) -> HealthVerdict:
    """The next health state of a source from one run's stats and its previous state."""
    message = hard_failure_of(stats)
    if message:
        error_class = error_class_of(message)
        weight = FAILURE_WEIGHTS[error_class]
        if error_class == "http" and any(status in message for status in GONE_STATUSES):
            weight = 2.0
        score = failure_score + weight
        return HealthVerdict(
            failure_score=score,
            hard_failure=error_class,
            disable=disable_score > 0 and score >= disable_score,
            low_volume=False,
            avg_items=avg_items,
            runs=runs,
        )
    if stats.index_not_modified and not stats.items_found:
        # The index answered 304: healthy, nothing new. It listed what it listed last time, so
        # the volume average and its flag stay as they were instead of seeing an empty run.
        return HealthVerdict(
            failure_score=0.0,
            hard_failure="",
            disable=False,
            low_volume=False,
            avg_items=avg_items,
            runs=runs,
        )
    items = float(stats.items_found)
    low = (
        runs >= LOW_VOLUME_MIN_RUNS
        and avg_items is not None
        and avg_items >= LOW_VOLUME_MIN_AVERAGE
        and items < avg_items * low_volume_ratio
    )
    average = items if avg_items is None else (1 - VOLUME_SMOOTHING) * avg_items + VOLUME_SMOOTHING * items
    return HealthVerdict(
        failure_score=0.0, hard_failure="", disable=False, low_volume=low, avg_items=average, runs=runs + 1
    )
