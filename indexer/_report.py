"""A search's answer as JSON data: the one shape ``regwatch search --json`` prints and the web API serves."""

from __future__ import annotations

from typing import Any

from ._interfaces import SearchIndex
from ._types import SearchQuery


def search_report(index: SearchIndex, query: SearchQuery, interval: str | None = None) -> dict[str, Any]:
    """``{"total": N, "hits": [...]}`` and, given an ``interval`` (day, week, month), ``"facets"``:
    the counts of :meth:`SearchIndex.facets` and ``"dates"``, the matches per interval.

    The CLI and the web desk's ``/api/search`` both answer with this, so the two cannot drift.
    """
    data = index.search(query).to_dict()
    if interval:
        data["facets"] = index.facets(query)
        data["facets"]["dates"] = index.histogram(query, interval)
    return data
