"""What the desk needs from a running regwatch, declared here and built by the wiring (``regwatch.app``).

``web`` is a stage: it imports the shared ground and ``indexer``'s public names,
never another stage. Everything else (the watchlist, which search backend is in
use, the configured sources) reaches it through :class:`DeskServices`, which
``regwatch.app.desk.AppDesk`` implements over the CLI's ``App``. Saved searches, desk subscriptions, the
digest ledger and a source's runs are read straight from the store's public
components (``store.saved_searches``, ``store.subscriptions``…); what needs the
wiring (the config's subscribers, digest previews, source health, "crawl now",
the scheduler's jobs, the index's sync state) is a member here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from indexer import SearchIndex, Store
from regwatch.models import Entity, Source, Subscriber


@dataclass(frozen=True)
class User:
    """Who is using the desk. Without accounts, the one local user of a desk bound to loopback.

    ``auth`` says how they were recognised: local (no accounts), session (signed in on
    ``/login``), proxy (a trusted proxy's header) or token (an API token).
    """

    id: str
    name: str
    roles: tuple[str, ...] = ("analyst",)
    auth: str = "session"

    @property
    def local(self) -> bool:
        return self.auth == "local"

    def can(self, role: str) -> bool:
        return role in self.roles


LOCAL_USER = User(id="local", name="local user", roles=("analyst", "ops"), auth="local")


class DeskServices(Protocol):
    """The running regwatch as the desk sees it.

    Every member is called on the desk's store thread (see ``web._worker``): the
    store's SQLite connection belongs to the thread that opened it.
    """

    @property
    def search_index(self) -> SearchIndex:
        """What answers searches: the embedded index or the cluster, as ``regwatch search`` uses."""
        ...

    @property
    def store(self) -> Store:
        """The store of truth: articles, stories, entity spellings."""
        ...

    @property
    def sources(self) -> Mapping[str, Source]:
        """The configured sources by id (names, types, jurisdictions)."""
        ...

    @property
    def settings(self) -> Mapping[str, Any]:
        """The resolved settings (``WEB_*`` among them)."""
        ...

    @property
    def backend_name(self) -> str:
        """The search backend in words, for the line saying what is searched."""
        ...

    def watched_entities(self) -> Sequence[Entity]:
        """The watchlist's entities."""
        ...

    def find_entity(self, name: str) -> Entity | None:
        """The watched entity with this id, canonical name or alias (case-insensitive), or None."""
        ...

    def config_subscriber(self, subscriber_id: str) -> Subscriber | None:
        """The subscriber the YAML config declares with this id (read-only on the desk), or None."""
        ...

    def preview_digest(self, subscriber_id: str) -> dict[str, Any] | None:
        """What the subscriber's next digest holds (``regwatch digest --preview``'s dict); None: no subscriber."""
        ...

    def source_health(self) -> list[dict[str, Any]]:
        """One row per configured source, as ``regwatch sources --json`` prints them, plus ``follows``:
        what an ``auto`` source follows, in the words `regwatch sources` prints (empty for others)."""
        ...

    def set_source_enabled(self, source_id: str, enabled: bool, by: str) -> None:
        """Turn a source off or on in its state (crawl, run and the scheduler honour it)."""
        ...

    def crawl_now(self, source_id: str, by: str) -> bool:
        """Start the crawl cycle for one source in the background; False if one is already running."""
        ...

    def crawls(self) -> dict[str, dict[str, Any]]:
        """The crawls started on the desk by source id: state (running, done, failed), times, result."""
        ...

    def scheduler_jobs(self) -> list[dict[str, Any]]:
        """The scheduler's jobs and next run times, read from its job store (none: empty)."""
        ...

    def index_state(self) -> dict[str, Any]:
        """The search index's sync state: the backend, and on a cluster its documents and pending ones."""
        ...

    def close(self) -> None:
        """Release the store and the cluster connection (on the store thread, at shutdown)."""
        ...
