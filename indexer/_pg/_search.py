"""The PostgreSQL store's ``search`` component: none of its own; search is the cluster's.

regwatch does not add PostgreSQL full-text search as a third engine (its ranking
has no corpus statistics and its query language differs from FTS5's and the
cluster's). A PostgreSQL store therefore requires ``INDEX_URL`` (checked when it
is opened from the settings), and ``store.search`` only keeps the configured
sources and answers that nothing is to be indexed here; asking it to search is
an error that says where search is.
"""

from __future__ import annotations

from collections.abc import Mapping

from regwatch.errors import ConfigError
from regwatch.models import Source

from .._types import SearchQuery, SearchResult

NO_EMBEDDED_SEARCH = (
    "STORE_URL is PostgreSQL: set REGWATCH_INDEX_URL to an OpenSearch/Elasticsearch cluster; "
    "regwatch has no PostgreSQL full-text search"
)


class ClusterOnlySearch:
    """``store.search`` of a PostgreSQL store: no embedded index (see the module docstring)."""

    def __init__(self, sources: Mapping[str, Source] | None = None) -> None:
        self.sources: dict[str, Source] = dict(sources or {})

    def index_pending(self) -> int:
        """Nothing to index here: the cluster is fed from the cluster ledger (``ClusterIndex.sync``)."""
        return 0

    def search(self, query: SearchQuery) -> SearchResult:
        raise ConfigError(NO_EMBEDDED_SEARCH)

    def facets(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        raise ConfigError(NO_EMBEDDED_SEARCH)

    def histogram(self, query: SearchQuery, interval: str = "day") -> dict[str, int]:
        raise ConfigError(NO_EMBEDDED_SEARCH)
