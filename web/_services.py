"""What the desk needs from a running regwatch, declared here and built by the wiring (``regwatch.app``).

``web`` is a stage: it imports the shared ground and ``indexer``'s public names,
never another stage. Everything else (the watchlist, which search backend is in
use, the configured sources) reaches it through :class:`DeskServices`, which
``regwatch.app.desk.AppDesk`` implements over the CLI's ``App``. Later parts of
the desk (accounts, saved searches, the ops console) add their own members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from indexer import SearchIndex, Store
from regwatch.models import Entity, Source


@dataclass(frozen=True)
class User:
    """Who is using the desk. Without accounts, the one local user of a desk bound to loopback."""

    id: str
    name: str
    roles: tuple[str, ...] = ("analyst", "ops")
    local: bool = False


LOCAL_USER = User(id="local", name="local user", local=True)


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

    def close(self) -> None:
        """Release the store and the cluster connection (on the store thread, at shutdown)."""
        ...
