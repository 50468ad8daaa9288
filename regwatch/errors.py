"""Exceptions raised by regwatch.

The tree::

    RegwatchError            Base: anything regwatch raises on purpose; the CLI prints it in one line.
    ├── ConfigError          The config file, a setting or an environment variable is wrong.
    ├── SourceError          A source could not be crawled; ``error_class`` says why (dns, timeout, http...).
    ├── ExtractionError      A fetched page did not yield an article (no title, no body, not HTML).
    ├── IndexBackendError    The store or search index failed or is unusable (e.g. no FTS5).
    ├── QueryError           A search query or filter could not be understood.
    └── DeliveryError        A digest could not be delivered; ``permanent`` says whether to retry.

Each is caught where a decision is made (skip this source, retry this email),
never swallowed.
"""

from __future__ import annotations

from typing import Literal, get_args


class RegwatchError(Exception):
    """Base class: a problem the user can act on, printed without a traceback."""


class ConfigError(RegwatchError):
    """Invalid configuration. The message names the file, key and what was expected."""


# Why a source, or one of its pages, failed: the one list of error classes. The CLI's help
# (`regwatch sources --help`) and the README show it with these meanings.
ErrorClass = Literal[
    "dns", "refused", "timeout", "tls", "http", "parse", "blocked", "empty", "too_large", "robots", "other"
]
SOURCE_ERROR_CLASSES: tuple[ErrorClass, ...] = get_args(ErrorClass)
ERROR_CLASS_MEANINGS: dict[ErrorClass, str] = {
    "dns": "the host does not resolve",
    "refused": "the connection was refused",
    "timeout": "no answer in time",
    "tls": "the TLS handshake or certificate failed",
    "http": "an HTTP error status, or a redirect that cannot be followed",
    "parse": "the answer could not be read (a bad feed entry, JSON, a page too short to be an article)",
    "blocked": "a bot wall or an empty JavaScript shell answered (even with 200), or the SSRF guard refused the address",
    "empty": "a feed that is not one, or an index whose selectors match nothing",
    "too_large": "the answer outgrew CRAWL_MAX_BYTES",
    "robots": "robots.txt forbids the index (an article page it forbids counts as robots_blocked, not an error)",
    "other": "anything else (a crashed crawl, a store failure)",
}


def error_class_of(name: str) -> ErrorClass:
    """``name`` when it is an error class, else ``"other"``."""
    for error_class in SOURCE_ERROR_CLASSES:
        if name == error_class:
            return error_class
    return "other"


class SourceError(RegwatchError):
    """A source (or one of its pages) failed; ``error_class`` is one of SOURCE_ERROR_CLASSES."""

    def __init__(self, message: str, error_class: str = "other", url: str = "") -> None:
        super().__init__(message)
        self.error_class: ErrorClass = error_class_of(error_class)
        self.url = url


class ExtractionError(RegwatchError):
    """A page could not be turned into an article."""


class IndexBackendError(RegwatchError):
    """The store or the search index failed."""


class QueryError(RegwatchError):
    """A search query or filter is malformed."""


class DeliveryError(RegwatchError):
    """Delivering a digest failed. ``permanent`` errors are recorded, not retried."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
