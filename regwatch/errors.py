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


class RegwatchError(Exception):
    """Base class: a problem the user can act on, printed without a traceback."""


class ConfigError(RegwatchError):
    """Invalid configuration. The message names the file, key and what was expected."""


SOURCE_ERROR_CLASSES = (
    "dns",
    "refused",
    "timeout",
    "tls",
    "http",
    "parse",
    "blocked",
    "empty",
    "too_large",
    "robots",
    "other",
)


class SourceError(RegwatchError):
    """A source (or one of its pages) failed; ``error_class`` is one of SOURCE_ERROR_CLASSES."""

    def __init__(self, message: str, error_class: str = "other", url: str = "") -> None:
        super().__init__(message)
        self.error_class = error_class if error_class in SOURCE_ERROR_CLASSES else "other"
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
