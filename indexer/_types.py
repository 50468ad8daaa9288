"""The values the store takes and returns: queries, results, source health, cluster documents.

The ledgers' record types (DigestRecord, AlertRecord) are in ``regwatch.models``: digests speaks them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from regwatch.errors import QueryError
from regwatch.models import Article, CrawlFailure, Source

from ._highlight import Highlight

SORTS: tuple[str, ...] = ("relevance", "newest")
HISTOGRAM_INTERVALS: tuple[str, ...] = ("day", "week", "month")
# Far beyond any page a user reads, well inside what SQLite and the clusters take.
MAX_LIMIT = 10_000
MAX_OFFSET = 1_000_000_000


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class SearchQuery:
    """A search: free ``text`` (see ``indexer._query``) narrowed by filters.

    ``entity`` is a watched entity's canonical name or id, or another entity's
    name (case-insensitive). ``since``/``until`` are inclusive; a date covers
    its whole UTC day. They apply to the published time, or to the time the
    article was first seen when its publication time is unknown.
    """

    text: str = ""
    entity: str | None = None
    source: str | None = None
    since: date | datetime | None = None
    until: date | datetime | None = None
    limit: int = 20
    offset: int = 0
    source_types: tuple[str, ...] = ()  # any of these (news, regulator...): the configured sources' types
    jurisdictions: tuple[str, ...] = ()  # any of these (UK, EU...): the configured sources' jurisdictions
    languages: tuple[str, ...] = ()  # any of these article languages (en, fr...)
    sort: str = "relevance"  # relevance (newest first without text) | newest
    # Give each hit its marked title and hit sentence (SearchHit.title_marked, .sentence): a page
    # that marks words up asks for them; the JSON (to_dict) is the same either way.
    highlight: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be a whole number from 1 to {MAX_LIMIT:,}, got {self.limit!r}")
        if not isinstance(self.offset, int) or not 0 <= self.offset <= MAX_OFFSET:
            raise QueryError(f"offset must be a whole number from 0 to {MAX_OFFSET:,}, got {self.offset!r}")
        if self.sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, got {self.sort!r}")
        for name in ("source_types", "jurisdictions", "languages"):
            values = getattr(self, name)
            if isinstance(values, str):
                values = (values,)
            object.__setattr__(self, name, tuple(v.strip() for v in values if v and v.strip()))

    def allowed_sources(self, sources: Mapping[str, Source]) -> list[str] | None:
        """Source ids the type and jurisdiction filters admit (None: no such filter), by the config."""
        if not self.source_types and not self.jurisdictions:
            return None
        types = {t.lower() for t in self.source_types}
        places = {j.lower() for j in self.jurisdictions}
        return sorted(
            source.id
            for source in sources.values()
            if (not types or source.type.lower() in types)
            and (not places or source.jurisdiction.lower() in places)
        )


@dataclass
class SearchHit:
    """One article a search matched, as results list it."""

    id: str
    title: str
    url: str
    source: str
    published: datetime | None
    entities: list[str] = field(default_factory=list)  # watched (canonical) names first
    snippet: str = ""
    score: float | None = None  # bm25 rank (lower is better); None when listing by date
    story: str = ""  # the story (see indexer/_story.py): copies of one story share its id
    # With SearchQuery.highlight: the title with the spans the words matched, and the sentence of
    # the body (else the summary) showing most of them (see indexer/_highlight.py). Not in the JSON.
    title_marked: Highlight | None = None
    sentence: Highlight | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published": _iso(self.published),
            "entities": list(self.entities),
            "snippet": self.snippet,
            "story": self.story,
        }


@dataclass
class SearchResult:
    """A page of search hits and how many matched in all."""

    total: int
    hits: list[SearchHit] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI prints: ``{"total": N, "hits": [...]}``."""
        return {"total": self.total, "hits": [hit.to_dict() for hit in self.hits]}


@dataclass
class ClusterDoc:
    """An article as the store hands it to a search cluster, with what the cluster needs besides."""

    article: Article
    doc: int  # the store's row number: the last tie-break of both backends' orderings
    version: int
    first_seen: datetime
    display_entities: list[str] = field(default_factory=list)


@dataclass
class SourceHealth:
    """How a source has been doing, from the crawl ledger and the articles it gave."""

    source_id: str
    last_run: datetime | None = None  # when the latest run finished
    last_success: datetime | None = None
    last_failure: CrawlFailure | None = None  # the first failure of the latest run that had one
    last_error_at: datetime | None = None  # when that run finished
    consecutive_failures: int = 0
    items_last_run: int = 0  # new + updated + duplicate
    last_run_counts: dict[str, int] = field(default_factory=dict)  # the latest run's CrawlStats counters
    newest_item: datetime | None = None  # newest published time of its articles
    total_articles: int = 0

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "last_run": _iso(self.last_run),
            "last_success": _iso(self.last_success),
            "last_failure": self.last_failure.to_dict() if self.last_failure else None,
            "last_error_at": _iso(self.last_error_at),
            "consecutive_failures": self.consecutive_failures,
            "items_last_run": self.items_last_run,
            "last_run_counts": dict(self.last_run_counts),
            "newest_item": _iso(self.newest_item),
            "total_articles": self.total_articles,
        }


@dataclass(frozen=True)
class Lease:
    """A worker's lease on one piece of work, ``(kind, key)``, until ``leased_until`` (the server's clock).

    ``attempts``: claims since the work was offered (2 or more: taken over from a worker
    whose lease expired, ``previous_worker``, given only by the claim that took it over).
    """

    kind: str
    key: str
    worker_id: str
    leased_until: datetime
    attempts: int = 1
    previous_worker: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "worker_id": self.worker_id,
            "leased_until": _iso(self.leased_until),
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class WorkerInfo:
    """A registered worker process, as `regwatch workers` lists it; ``live``: its heartbeat is recent."""

    worker_id: str
    host: str
    pid: int
    roles: list[str]
    started_at: datetime
    heartbeat_at: datetime
    stopping: bool = False
    current_work: str = ""
    live: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "worker_id": self.worker_id,
            "host": self.host,
            "pid": self.pid,
            "roles": list(self.roles),
            "started_at": _iso(self.started_at),
            "heartbeat_at": _iso(self.heartbeat_at),
            "stopping": self.stopping,
            "current_work": self.current_work,
            "live": self.live,
        }
