"""The web desk's services over the CLI's App: what ``web.create_app`` needs, from the wiring.

``web`` cannot import ``nlp`` or this package; :class:`AppDesk` hands it the
search backend in use, the store, the configured sources and the watchlist.
Every member is called on the desk's store thread (``web._worker``), so the
store and the cluster connection are opened there, on first use. "Crawl now"
runs the crawl cycle on a thread of its own with an App of its own (its own
store connection; the crawl itself is a subprocess), so the desk keeps answering.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from regwatch.errors import RegwatchError
from regwatch.models import Entity, Source, Subscriber, utcnow

if TYPE_CHECKING:
    from indexer import SearchIndex, Store
    from regwatch.app.context import App


logger = logging.getLogger(__name__)


class AppDesk:
    """``web.DeskServices`` over an :class:`~regwatch.app.context.App`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._crawls: dict[str, dict[str, Any]] = {}
        self._crawls_lock = threading.Lock()

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

    def config_subscriber(self, subscriber_id: str) -> Subscriber | None:
        return next((s for s in self.app.config.subscribers if s.id == subscriber_id), None)

    def preview_digest(self, subscriber_id: str) -> dict[str, Any] | None:
        from regwatch.app import pipeline

        if subscriber_id not in {s.id for s in self.app.subscribers}:
            return None
        previews = pipeline.preview_digests(self.app, subscriber_ids=[subscriber_id])
        return previews[0] if previews else None

    def source_health(self) -> list[dict[str, Any]]:
        from regwatch.app.source_health import describe_discovery, source_views

        rows = [view.to_dict() for view in source_views(self.app)]
        for row in rows:  # an auto source's discovery, in the words `regwatch sources` prints
            row["follows"] = describe_discovery(row["discovery"]) if row.get("discovery") else ""
        return rows

    def set_source_enabled(self, source_id: str, enabled: bool, by: str) -> None:
        from regwatch.app import pipeline

        pipeline.set_source_enabled(self.app, source_id, enabled, by)

    def crawl_now(self, source_id: str, by: str) -> bool:
        self.app.config.source(source_id)  # ConfigError for an unknown id
        with self._crawls_lock:
            if self._crawls.get(source_id, {}).get("state") == "running":
                return False
            self._crawls[source_id] = {"state": "running", "by": by, "started": utcnow().isoformat()}
        logger.info("source=%s crawl started on the desk by %s", source_id, by)
        thread = threading.Thread(
            target=self._crawl, args=(source_id,), name=f"regwatch-desk-crawl-{source_id}", daemon=True
        )
        thread.start()
        return True

    def _crawl(self, source_id: str) -> None:
        """The crawl cycle for one source, with an App (and store connection) of this thread's own."""
        from regwatch.app import App, pipeline

        update: dict[str, Any]
        try:
            with App(self.app.home, self.app.config) as app:
                summary = pipeline.crawl_cycle(app, [source_id])
            update = {"state": "done", "result": summary.to_dict()}
        except RegwatchError as exc:
            logger.error("source=%s crawl from the desk failed: %s", source_id, exc)
            update = {"state": "failed", "error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - a crash is reported on the console, not lost in a thread
            logger.exception("source=%s crawl from the desk crashed", source_id)
            update = {"state": "failed", "error": f"{type(exc).__name__}: {exc}"}
        with self._crawls_lock:
            self._crawls[source_id] = {**self._crawls[source_id], **update, "finished": utcnow().isoformat()}
        logger.info("source=%s crawl from the desk %s", source_id, update["state"])

    def crawls(self) -> dict[str, dict[str, Any]]:
        with self._crawls_lock:
            return {source_id: dict(crawl) for source_id, crawl in self._crawls.items()}

    def scheduler_jobs(self) -> list[dict[str, Any]]:
        from regwatch.app.scheduler import stored_jobs

        return stored_jobs(self.app.home, self.app.settings)

    def index_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"backend": self.backend_name, "cluster": self.app.uses_cluster}
        state.update(self.app.store.articles.counts())
        if self.app.uses_cluster:
            try:
                state.update(self.app.cluster.status())
            except RegwatchError as exc:
                state["error"] = str(exc)
        return state

    def close(self) -> None:
        self.app.close()
