"""The web desk's services over the CLI's App: what ``web.create_app`` needs, from the wiring.

``web`` cannot import ``nlp`` or this package; :class:`AppDesk` hands it the
search backend in use, the store, the configured sources and the watchlist.
Every member is called on the desk's store thread (``web._worker``), so the
store and the cluster connection are opened there, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from regwatch.models import Entity, Source

if TYPE_CHECKING:
    from indexer import SearchIndex, Store
    from regwatch.app.context import App


class AppDesk:
    """``web.DeskServices`` over an :class:`~regwatch.app.context.App`."""

    def __init__(self, app: App) -> None:
        self.app = app

    @property
    def search_index(self) -> SearchIndex:
        return self.app.search_index

    @property
    def store(self) -> Store:
        return self.app.store

    @cached_property
    def sources(self) -> Mapping[str, Source]:
        return {source.id: source for source in self.app.config.sources}

    @property
    def settings(self) -> Mapping[str, Any]:
        return self.app.settings

    @cached_property
    def backend_name(self) -> str:
        if not self.app.uses_cluster:
            return "the embedded SQLite full-text index"
        cluster = self.app.cluster
        flavor = "OpenSearch" if cluster.flavor == "opensearch" else "Elasticsearch"
        version = f" {cluster.server_version}" if cluster.server_version else ""
        return f"{flavor}{version} at {cluster.url} (index {cluster.alias})"

    def watched_entities(self) -> Sequence[Entity]:
        return self.app.watchlist.entities

    def find_entity(self, name: str) -> Entity | None:
        return self.app.watchlist.find(name)

    def close(self) -> None:
        self.app.close()
