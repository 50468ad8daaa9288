"""Failed downloads sorted into the error classes of ``SourceError`` (dns, timeout, http, blocked…).

Scrapy reports a failed request as a Twisted ``Failure`` wrapping one of many
exception types (its own, Twisted's, the TLS stack's); :func:`classify_failure`
maps each to a :class:`~regwatch.models.CrawlFailure` (class, URL, short reason,
HTTP status), so a source's errors read the same whatever layer failed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as twisted_errors
from twisted.python.failure import Failure

from regwatch.errors import ErrorClass
from regwatch.models import CrawlFailure

from ._health import blocked_reason
from ._http import header
from ._ssrf import SSRF_REFUSAL, connect_refusal


def classify_failure(failure: Failure) -> CrawlFailure:
    """The failure of a download as a value: its class (as in ``SourceError``), URL, reason and status."""
    request = getattr(failure, "request", None)
    response = getattr(failure.value, "response", None) if isinstance(failure.value, HttpError) else None
    error_class, reason = _class_and_reason(failure)
    return CrawlFailure(
        error_class,
        request.url if request is not None else "",
        reason,
        status=response.status if response is not None else None,
    )


def _class_and_reason(failure: Failure) -> tuple[ErrorClass, str]:
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        blocked = blocked_reason(response.body, header(response, "Content-Type"))
        if blocked:
            return "blocked", f"HTTP {response.status}: {blocked}"
        location = header(response, "Location")
        if 300 <= response.status < 400 and location:
            return "http", f"HTTP {response.status}: redirect to {location[:120]} not followed (not http(s))"
        return "http", f"HTTP {response.status}"
    text = str(exc)
    if (isinstance(exc, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in text) or (
        # Scrapy cancels a download that outgrows the limit, with an empty message when
        # the size was not announced; nothing else cancels a download in a running crawl.
        isinstance(exc, DownloadCancelledError) and ("larger than download max size" in text or not text)
    ):
        # Scrapy drops these (scrapy issue 6616): count and report them as the size limit's doing.
        size = re.search(r"(\d{1,20}) (?:bytes|B compressed)", text)
        got = f" (got {size.group(1)} bytes before it stopped)" if size else ""
        return "too_large", f"response dropped: bigger than CRAWL_MAX_BYTES{got}"
    if isinstance(exc, IgnoreRequest) and "redirections" in text:
        return "http", f"redirect loop ({text})"
    if isinstance(exc, IgnoreRequest):
        text = text or "request ignored"
        return ("robots" if "robots" in text.lower() else "blocked"), text
    if isinstance(exc, CannotResolveHostError | twisted_errors.DNSLookupError):
        request = getattr(failure, "request", None)
        refused = connect_refusal(urlsplit(request.url).hostname or "") if request is not None else ""
        if refused:  # it did resolve, to an address the resolver would not connect to
            return "blocked", f"{SSRF_REFUSAL}: {refused}"
        return "dns", f"cannot resolve host ({exc})"
    if isinstance(exc, DownloadConnectionRefusedError | twisted_errors.ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(exc, DownloadTimeoutError | twisted_errors.TimeoutError | twisted_errors.TCPTimedOutError):
        return "timeout", str(exc) or "timed out"
    reasons = [exc, *[getattr(r, "value", r) for r in getattr(exc, "reasons", [])]]
    if any("ssl" in type(r).__module__.lower() or "tls" in type(r).__name__.lower() for r in reasons):
        return "tls", f"TLS failure ({type(reasons[-1]).__name__}: {reasons[-1]})"
    return "other", f"{type(exc).__name__}: {exc}"
