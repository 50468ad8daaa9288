"""What a store engine provides: one Protocol per component of :class:`indexer.Store`.

SQLite is the first engine (``SqliteArticles``, ``SqliteSearch``…, all sharing one
``Database``). A second one (PostgreSQL, say) implements these same Protocols
over its own connection and builds a ``Store`` from them; nothing outside
``indexer`` changes, because the pipeline, the CLI and the other stages only
call what is declared here (digests declares the few ledger methods it needs as
Protocols of its own, which these components match structurally).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from regwatch.models import (
    Account,
    Action,
    AlertRecord,
    Article,
    CrawlStats,
    DigestRecord,
    Discovery,
    Quote,
    SavedSearch,
    Source,
    SourceHealthState,
    Subscriber,
    TaggedEntity,
)

from ._types import ClusterDoc, Lease, SearchHit, SearchQuery, SearchResult, SourceHealth, WorkerInfo


class Articles(Protocol):
    """The source of truth: articles by canonical URL, with entities, quotes and actions."""

    def upsert(self, article: Article, *, seen_at: datetime | None = None) -> str: ...
    def get(self, article_id: str) -> Article | None: ...
    def get_many(self, article_ids: Sequence[str]) -> list[Article]: ...
    def entity_labels(self, names: Sequence[str]) -> dict[str, str]: ...
    def id_for_url(self, url: str) -> str | None: ...
    def urls(self, article_id: str) -> list[str]: ...
    def delete(self, article_id: str) -> bool: ...
    def count(self) -> int: ...
    def counts(self) -> dict[str, int]: ...
    def needing_tags(
        self, limit: int | None = None, tagger_version: str | None = None, among: Sequence[str] | None = None
    ) -> list[Article]: ...
    def set_entities(
        self,
        article_id: str,
        entities: list[TaggedEntity],
        tagger_version: str = "",
        *,
        content_hash: str | None = None,
        quotes: Sequence[Quote] | None = None,
        actions: Sequence[Action] | None = None,
    ) -> bool: ...
    def first_seen_between(self, after: datetime | None, until: datetime) -> list[Article]: ...
    def tagged_by_other_version(
        self, tagger_version: str, after_doc: int, limit: int
    ) -> list[tuple[int, Article]]: ...
    def count_tagged_by_other_version(self, tagger_version: str) -> int: ...


class TagErrors(Protocol):
    """Articles whose tagging failed, so later runs skip them until the tagger or the text changes."""

    def record(
        self, article_id: str, error: str, *, tagger_version: str, content_hash: str, fallback: bool = False
    ) -> bool: ...
    def latest(self, limit: int = 20) -> list[dict[str, Any]]: ...
    def count(self) -> int: ...
    def articles(self, after_doc: int = 0, limit: int = 256) -> list[tuple[int, Article]]: ...


class Stories(Protocol):
    """Story ids: copies of one story share the id of its first stored article."""

    def assign_pending(self) -> int: ...
    def members(self, story_ids: Sequence[str]) -> dict[str, list[SearchHit]]: ...
    def articles(self, story_id: str) -> list[Article]: ...


class SearchIndex(Protocol):
    """What answers searches: the embedded search, or ``ClusterIndex`` (same queries, same answers)."""

    def search(self, query: SearchQuery) -> SearchResult: ...
    def facets(self, query: SearchQuery) -> dict[str, dict[str, int]]: ...
    def histogram(self, query: SearchQuery, interval: str = "day") -> dict[str, int]: ...


class EmbeddedSearch(SearchIndex, Protocol):
    """The store's own search index, brought up to date from the articles by ``index_pending``."""

    sources: dict[str, Source]  # the configured sources: the type and jurisdiction filters

    def index_pending(self) -> int: ...


class FetchLedger(Protocol):
    """Per source and article page: the validators of the last fetch, for conditional GETs."""

    def record(
        self,
        url: str,
        source_id: str,
        status: int,
        *,
        etag: str = "",
        last_modified: str = "",
        content_hash: str = "",
        article_url: str = "",
        at: datetime | None = None,
    ) -> None: ...
    def validators(self, source_ids: Iterable[str]) -> dict[str, dict[str, dict[str, str]]]: ...
    def entry(self, source_id: str, url: str) -> dict[str, Any] | None: ...
    def count(self, source_id: str | None = None) -> int: ...


class SourceStates(Protocol):
    """Each source's runs (the crawl ledger) and the health state carried from run to run."""

    def record_run(
        self,
        run: CrawlStats,
        health: SourceHealthState,
        *,
        failed: bool,
        started: datetime,
        finished: datetime,
    ) -> None: ...
    def health(self) -> list[SourceHealth]: ...
    def get(self, source_id: str) -> SourceHealthState: ...
    def all(self) -> dict[str, SourceHealthState]: ...
    def runs(self, source_id: str, limit: int = 20) -> list[dict[str, Any]]: ...
    def save(self, state: SourceHealthState) -> None: ...
    def discoveries(self) -> dict[str, Discovery]: ...
    def save_discovery(self, source_id: str, discovery: Discovery) -> None: ...


class DigestLedger(Protocol):
    """One row per subscriber and period: what makes digest delivery exactly once."""

    def get(self, subscriber_id: str, period: date) -> DigestRecord | None: ...
    def record(
        self,
        subscriber_id: str,
        period: date,
        message_id: str,
        status: str,
        watermark: datetime | None,
        location: str = "",
        error: str = "",
        article_ids: Sequence[str] = (),
        *,
        force: bool = False,
    ) -> None: ...
    def last_watermark(self, subscriber_id: str) -> datetime | None: ...
    def pending(self) -> list[DigestRecord]: ...
    def recent(self, limit: int = 50, status: str | None = None) -> list[DigestRecord]: ...


class AlertLedger(Protocol):
    """One row per subscriber and article: each article alerts a subscriber once."""

    def known(self, subscriber_id: str) -> dict[str, str]: ...
    def last_sent(self, subscriber_id: str) -> datetime | None: ...
    def mark(
        self,
        subscriber_id: str,
        article_ids: Sequence[str],
        message_id: str,
        status: str,
        *,
        now: datetime,
        error: str = "",
    ) -> None: ...
    def records(self, subscriber_id: str | None = None) -> list[AlertRecord]: ...
    def import_file(self, path: Path) -> int: ...


class ClusterLedger(Protocol):
    """Per search cluster, which article versions it acknowledged and which documents it refused."""

    def pending(self, target: str, after: str = "", limit: int = 500) -> list[ClusterDoc]: ...
    def deletions(self, target: str) -> list[str]: ...
    def record(
        self,
        target: str,
        acked: Sequence[tuple[str, int]] = (),
        deleted: Sequence[str] = (),
        failed: Sequence[tuple[str, int, str]] = (),
    ) -> None: ...
    def forget(self, target: str, acked_since: datetime | None = None) -> int: ...
    def counts(self, target: str) -> dict[str, int]: ...
    def failures(self, target: str, limit: int = 20) -> list[dict[str, Any]]: ...


class Users(Protocol):
    """The web desk's accounts: login name, display name, roles, password and API-token hashes."""

    def add(self, account: Account) -> bool: ...
    def update(self, account: Account) -> bool: ...
    def get(self, user_id: str) -> Account | None: ...
    def by_token(self, token_hash: str) -> Account | None: ...
    def all(self) -> list[Account]: ...
    def count(self) -> int: ...
    def remove(self, user_id: str) -> bool: ...
    def record_login(self, user_id: str, at: datetime | None = None) -> None: ...


class SavedSearches(Protocol):
    """Searches saved on the desk, by owner: each a digest section of its owner, an alert when chosen."""

    def add(self, search: SavedSearch) -> SavedSearch | None: ...
    def update(self, search: SavedSearch) -> bool: ...
    def get(self, search_id: str) -> SavedSearch | None: ...
    def of(self, owner: str) -> list[SavedSearch]: ...
    def all(self) -> list[SavedSearch]: ...
    def remove(self, search_id: str, owner: str) -> bool: ...
    def remove_all(self, owner: str) -> int: ...


class Subscriptions(Protocol):
    """Subscribers made on the desk (the config's are merged with them by the wiring)."""

    def save(self, subscriber: Subscriber, owner: str) -> None: ...
    def get(self, subscriber_id: str) -> Subscriber | None: ...
    def all(self) -> list[Subscriber]: ...
    def remove(self, subscriber_id: str) -> bool: ...


__all__ = [
    "AlertLedger",
    "Articles",
    "ClusterLedger",
    "DigestLedger",
    "EmbeddedSearch",
    "FetchLedger",
    "SavedSearches",
    "SearchIndex",
    "SourceStates",
    "Stories",
    "Subscriptions",
    "TagErrors",
    "Users",
]


class WorkQueue(Protocol):
    """Leases on due work shared by any number of workers, and the workers' registry (PostgreSQL only).

    ``claim`` takes up to ``limit`` of the due ``keys`` of a kind that no other worker
    holds (``SELECT … FOR UPDATE SKIP LOCKED``), or whose lease expired; ``heartbeat``
    renews a worker's leases; ``release`` drops them when the work is done.
    """

    def claim(
        self, kind: str, keys: Sequence[str], worker_id: str, lease_seconds: float, limit: int
    ) -> list[Lease]: ...
    def release(self, kind: str, keys: Sequence[str], worker_id: str) -> int: ...
    def leases(self, worker_id: str | None = None) -> list[Lease]: ...
    def register(self, worker_id: str, host: str, pid: int, roles: Sequence[str]) -> None: ...
    def heartbeat(
        self, worker_id: str, lease_seconds: float, current_work: str = "", stopping: bool = False
    ) -> int: ...
    def unregister(self, worker_id: str) -> int: ...
    def workers(self, stale_after: float) -> list[WorkerInfo]: ...
