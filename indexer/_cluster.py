"""The cluster backend: an OpenSearch (or Elasticsearch) index fed from the store's ledger.

The SQLite store stays the source of truth. :meth:`ClusterIndex.sync` sends the
cluster every article it lacks (new, changed or retagged since it acknowledged
it) and every deletion it has not seen, in bulk requests cut by bytes and count;
an article counts as sent only once the cluster acknowledged it, so a node that
is down loses nothing (the next sync sends it) and a second sync sends nothing.

The index is versioned behind an alias (``INDEX_NAME``): ``regwatch-000001``
and so on. :meth:`ClusterIndex.migrate` builds the next version with the
current mappings, reindexes into it on the server, and swaps the alias in one
atomic request.

Deployments sharing a cluster keep to their own index versions and templates,
even when one name starts another (see ``_cluster_mapping``); a template
stored by an older regwatch is brought to the current form on the next sync.
Beside it: ``_cluster_bulk`` (chunks and bulk requests), ``_cluster_query``
(request bodies, hits read back), ``_cluster_mapping`` (mappings, documents).

About 500 lines: the versioned index's life (create, sync, migrate, search)
in one class over one client; the bulk requests are in ``_cluster_bulk``, the
query and hit reading in ``_cluster_query``, the mappings in ``_cluster_mapping``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from regwatch.errors import ConfigError, IndexBackendError, QueryError
from regwatch.models import Source, utcnow
from regwatch.private import redact_url

from ._cluster_bulk import Action, Posted, chunks, ndjson, post_chunk
from ._cluster_mapping import (
    MAPPING_VERSION,
    MAPPINGS,
    index_body,
    index_template,
    is_version_of,
    next_version,
    to_document,
)
from ._cluster_query import facets_body, histogram_body, read_hit, search_body
from ._interfaces import ClusterLedger
from ._search import facet_counts
from ._store import Store
from ._types import HISTOGRAM_INTERVALS, SearchQuery, SearchResult
from ._wire import FLAVORS, Wire, WireError, connect

log = logging.getLogger(__name__)

RESULT_WINDOW = 10_000  # the engines' default index.max_result_window: from + size beyond it is refused


@dataclass
class SyncOutcome:
    """What one sync did: documents acknowledged, deleted, refused (with reasons), and left pending."""

    sent: int = 0
    deleted: int = 0
    failed: int = 0
    pending: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "deleted": self.deleted,
            "failed": self.failed,
            "pending": self.pending,
            "requests": self.requests,
            "errors": self.errors[:20],
        }


def detect_flavor(url: str, settings: Mapping[str, Any]) -> tuple[str, str]:
    """Ask the server what it is: (flavour, version). OpenSearch says so in ``version.distribution``."""
    probe = connect("opensearch", url, settings)
    try:
        info = probe.request("GET", "/")
    except WireError as exc:
        raise IndexBackendError(redact_url(f"cannot reach the search cluster at {url}: {exc}")) from None
    finally:
        probe.close()
    version = info.get("version", {})
    flavor = "opensearch" if version.get("distribution") == "opensearch" else "elasticsearch"
    return flavor, str(version.get("number", ""))


class ClusterIndex:
    """Search and indexing on a cluster, with the store as source of truth and its ledger.

    ``ledger`` is the store's cluster ledger: what this cluster acknowledged and refused.
    """

    def __init__(
        self,
        wire: Wire,
        ledger: ClusterLedger,
        *,
        url: str,
        alias: str = "regwatch",
        flavor: str = "opensearch",
        server_version: str = "",
        sources: Mapping[str, Source] | None = None,
        bulk_bytes: int = 5_000_000,
        bulk_docs: int = 500,
        retries: int = 3,
        backoff: float = 1.0,
    ) -> None:
        self.wire = wire
        self.ledger = ledger
        # As shown in messages, logs and status, and as the ledger's key: credentials masked.
        # The wire was built with the real URL and keeps it.
        self.url = redact_url(url.rstrip("/"))
        self.alias = alias
        self.flavor = flavor
        self.server_version = server_version
        self.sources = dict(sources or {})
        self.bulk_bytes = max(1, bulk_bytes)
        self.bulk_docs = max(1, bulk_docs)
        self.retries = max(0, retries)
        self.backoff = max(0.0, backoff)
        self._ready = False
        self.result_window = RESULT_WINDOW

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], store: Store, sources: Mapping[str, Source] | None = None
    ) -> ClusterIndex:
        """Connect as the INDEX_* settings say; the flavour is asked of the server unless forced."""
        url = str(settings["INDEX_URL"]).strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"INDEX_URL must be an http:// or https:// URL, got {redact_url(url)!r}")
        flavor = str(settings["INDEX_FLAVOR"]).strip().lower()
        if flavor not in FLAVORS:
            raise ConfigError(f"INDEX_FLAVOR must be one of {', '.join(FLAVORS)}, got {flavor!r}")
        version = ""
        if flavor == "auto":
            flavor, version = detect_flavor(url, settings)
        index = cls(
            connect(flavor, url, settings),
            store.cluster_ledger,
            url=url,
            alias=str(settings["INDEX_NAME"]),
            flavor=flavor,
            server_version=version,
            sources=sources,
            bulk_bytes=int(settings["INDEX_BULK_BYTES"]),
            bulk_docs=int(settings["INDEX_BULK_DOCS"]),
            retries=int(settings["INDEX_RETRIES"]),
            backoff=float(settings["INDEX_RETRY_BACKOFF"]),
        )
        log.info("Search index: %s %s at %s, alias %s", flavor, version or "", index.url, index.alias)
        return index

    @property
    def target(self) -> str:
        """The key of this cluster's rows in the store's ledger (the URL's password masked: never stored)."""
        return f"{self.url}|{self.alias}"

    def close(self) -> None:
        self.wire.close()

    # -- the index and its alias ------------------------------------------------------

    def _call(self, what: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """One request; a failure becomes IndexBackendError naming the cluster and what was done."""
        timeout = params.pop("timeout", None)
        try:
            return self.wire.request(method, path, params, body, timeout=timeout)
        except WireError as exc:
            raise IndexBackendError(redact_url(f"search cluster {self.url}: {what} failed ({exc})")) from None

    @property
    def template_name(self) -> str:
        return f"{self.alias}-template"

    def _versions(self) -> dict[str, bool]:
        """This alias's index versions (not another alias's that starts alike): name -> whether
        the alias points at it."""
        found = self._call("listing indices", "GET", f"/{self.alias}-0*/_alias", ignore_unavailable="true")
        return {
            name: self.alias in (data.get("aliases") or {})
            for name, data in sorted(found.items())
            if is_version_of(self.alias, name)
        }

    def _exists(self, name: str) -> bool:
        """Whether an index or alias called ``name`` exists."""
        try:
            self.wire.request("GET", f"/{name}/_settings")
        except WireError as exc:
            if exc.status == 404:
                return False
            raise IndexBackendError(
                redact_url(f"search cluster {self.url}: checking {name} failed ({exc})")
            ) from None
        return True

    def _mapping_version(self, index: str) -> int:
        """The MAPPING_VERSION an index was created with (0: not by regwatch)."""
        mapping = self._call("reading the mapping", "GET", f"/{index}/_mapping")
        return int(mapping[index]["mappings"].get("_meta", {}).get("regwatch_mapping_version", 0))

    def _create_version(self, name: str) -> None:
        template = index_template(self.alias)
        self._call("storing the index template", "PUT", f"/_index_template/{self.template_name}", template)
        self._call("creating the index", "PUT", f"/{name}", index_body())

    def _upgrade_template(self) -> None:
        """Bring a template stored by an older regwatch (``NAME-*`` at priority 100, which
        overlaps the templates of deployments named ``NAME-...``) to the current form.

        Best effort: a user who may search but not manage templates keeps working.
        """
        wanted = index_template(self.alias)
        path = f"/_index_template/{self.template_name}"
        try:
            try:
                found = self.wire.request("GET", path)
                stored = (found.get("index_templates") or [{}])[0].get("index_template", {})
                if stored.get("index_patterns") == wanted["index_patterns"] and (
                    int(stored.get("priority", -1)) == wanted["priority"]
                ):
                    return
            except WireError as exc:
                if exc.status != 404:
                    raise
            self.wire.request("PUT", path, body=wanted)
        except WireError as exc:
            log.warning(
                "search cluster %s: index template %s not checked (%s)", self.url, self.template_name, exc
            )
            return
        log.info(
            "search cluster %s: index template %s now matches %s at priority %d",
            self.url,
            self.template_name,
            wanted["index_patterns"][0],
            wanted["priority"],
        )

    def _upgrade_mapping(self, index: str, stored: int) -> bool:
        """Add the fields of the current mappings to an index an older regwatch made, and send
        every document again so they are filled; False when the cluster refuses (then migrate).

        The versions so far only add fields, which both engines accept on a live index.
        """
        try:
            self.wire.request("PUT", f"/{index}/_mapping", body=MAPPINGS)
        except WireError as exc:
            log.warning("search cluster %s: mappings of %s not upgraded (%s)", self.url, index, exc)
            return False
        resent = self.ledger.forget(self.target)
        log.info(
            "Search index %s at %s: mappings upgraded from version %d to %d; its %d documents will be sent again",
            index,
            self.url,
            stored,
            MAPPING_VERSION,
            resent,
        )
        return True

    def _point_alias(self, name: str, previous: str | None = None) -> None:
        """Point the alias at ``name`` (away from ``previous``) in one atomic request."""
        actions: list[dict[str, Any]] = [
            {"add": {"index": name, "alias": self.alias, "is_write_index": True}}
        ]
        if previous:
            actions.insert(0, {"remove": {"index": previous, "alias": self.alias}})
        self._call("pointing the alias", "POST", "/_aliases", {"actions": actions})

    def ensure_index(self) -> str:
        """Create the first index version and the alias unless they exist; return the alias's index."""
        versions = self._versions()
        current = [name for name, aliased in versions.items() if aliased]
        if current:
            if not self._ready:
                self._upgrade_template()
                stored = self._mapping_version(current[-1])
                if stored != MAPPING_VERSION and not (
                    0 < stored < MAPPING_VERSION and self._upgrade_mapping(current[-1], stored)
                ):
                    log.warning(
                        "Search index %s at %s has older mappings than this regwatch: "
                        "run `regwatch index migrate`",
                        current[-1],
                        self.url,
                    )
            self._ready = True
            return current[-1]
        if self._exists(self.alias):
            raise IndexBackendError(
                f"search cluster {self.url}: {self.alias!r} is an index, not an alias; "
                f"delete it or set INDEX_NAME to another name"
            )
        name = next_version(self.alias, versions)
        self._create_version(name)
        self._point_alias(name)
        log.info("Created search index %s behind alias %s at %s", name, self.alias, self.url)
        self._ready = True
        return name

    def migrate(self) -> dict[str, Any]:
        """Build the next index version with the current mappings, reindex into it, swap the alias.

        Articles acknowledged by the old version while the reindex ran are sent again afterwards.
        """
        old = self.ensure_index()
        outdated = self._mapping_version(old) < MAPPING_VERSION  # its documents lack fields: send them all
        new = next_version(self.alias, self._versions())
        started = utcnow()
        self._create_version(new)
        result = self._call(
            "reindexing",
            "POST",
            "/_reindex",
            {"source": {"index": old}, "dest": {"index": new}},
            wait_for_completion="true",
            refresh="true",
            timeout=3600,
        )
        self._point_alias(new, previous=old)
        resent = self.ledger.forget(self.target, acked_since=None if outdated else started)
        outcome = self.sync()
        self._call("deleting the old version", "DELETE", f"/{old}")
        log.info("Migrated %s from %s to %s (%s documents)", self.alias, old, new, result.get("total"))
        return {
            "from": old,
            "to": new,
            "reindexed": int(result.get("total") or 0),
            "resent": resent,
            "mapping_version": MAPPING_VERSION,
            "sync": outcome.to_dict(),
        }

    # -- ingestion -------------------------------------------------------------------

    def _actions(self) -> Iterator[Action]:
        """(id, version, NDJSON lines) for every deletion and pending article, read in batches."""
        for article_id in self.ledger.deletions(self.target):
            yield article_id, -1, ndjson({"delete": {"_index": self.alias, "_id": article_id}})
        after = ""
        while True:
            batch = self.ledger.pending(self.target, after=after, limit=self.bulk_docs)
            for item in batch:
                body = to_document(item, self.sources)
                action = {"index": {"_index": self.alias, "_id": item.article.id}}
                yield item.article.id, item.version, ndjson(action) + ndjson(body)
            if len(batch) < self.bulk_docs:
                return
            after = batch[-1].article.id

    def _record(self, posted: Posted, outcome: SyncOutcome) -> None:
        """Write what the cluster answered into the ledger; raise the chunk's error, if any, after that."""
        self.ledger.record(self.target, acked=posted.acked, deleted=posted.deleted, failed=posted.failed)
        outcome.sent += len(posted.acked)
        outcome.deleted += len(posted.deleted)
        outcome.failed += len(posted.failed)
        outcome.requests += posted.requests
        if posted.error is not None:
            raise posted.error

    def sync(self) -> SyncOutcome:
        """Send the cluster everything it lacks; refresh once if anything changed. Idempotent.

        One chunk is in flight while the next is read from the store and encoded.
        Raises IndexBackendError when the cluster cannot be reached; what was
        acknowledged before that is recorded, the rest stays pending.
        """
        if not self._ready:
            self.ensure_index()
        outcome = SyncOutcome()
        in_flight: Future[Posted] | None = None
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="regwatch-bulk") as sender:
                for chunk in chunks(self._actions(), self.bulk_bytes, self.bulk_docs):
                    if in_flight is not None:
                        self._record(in_flight.result(), outcome)
                    in_flight = sender.submit(
                        post_chunk, self.wire, self.url, chunk, retries=self.retries, backoff=self.backoff
                    )
                if in_flight is not None:
                    posted, in_flight = in_flight.result(), None
                    self._record(posted, outcome)
        finally:
            if in_flight is not None and in_flight.done() and in_flight.exception() is None:
                self.ledger.record(self.target, acked=in_flight.result().acked)  # keep what was acked
            if outcome.sent or outcome.deleted:
                try:
                    self.wire.request("POST", f"/{self.alias}/_refresh")
                except WireError as exc:
                    log.warning("Search cluster %s: refresh failed (%s)", self.url, redact_url(str(exc)))
        outcome.pending = self.ledger.counts(self.target)["pending"]
        if outcome.sent or outcome.deleted or outcome.failed:
            log.info(
                "Search cluster %s: %d sent, %d deleted, %d refused, %d pending",
                self.url,
                outcome.sent,
                outcome.deleted,
                outcome.failed,
                outcome.pending,
            )
        return outcome

    # -- search ----------------------------------------------------------------------

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = self._call("search", "POST", f"/{self.alias}/_search", body)
        return response

    def search(self, query: SearchQuery) -> SearchResult:
        """The same search as the store's (``store.search.search``), answered by the cluster.

        Pages within the cluster's result window use from/size; deeper pages walk
        there with search_after over the same total order (score, newest, store
        row), so they stay exact however deep they go.
        """
        body = search_body(query, self.sources, self.flavor)
        if query.offset + query.limit <= self.result_window:
            response = self._search(body)
            total, raw_hits = response["hits"]["total"]["value"], response["hits"]["hits"]
        else:
            total, raw_hits = self._deep_page(body, query.offset, query.limit)
        ranked = "_score" in body["sort"][0]
        hits = [read_hit(raw, query, ranked) for raw in raw_hits]
        return SearchResult(total=int(total), hits=hits)

    def _deep_page(self, body: dict[str, Any], offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """Skip ``offset`` hits with search_after in steps the result window allows, then take ``limit``."""
        body = {**body, "from": 0}
        total: int | None = None
        skipped = 0
        taken: list[dict[str, Any]] = []
        after: list[Any] | None = None
        while True:
            want = offset - skipped if skipped < offset else limit - len(taken)
            body["size"] = min(want, self.result_window)
            if after is not None:
                body["search_after"] = after
            response = self._search(body)
            if total is None:
                total = int(response["hits"]["total"]["value"])
                body["track_total_hits"] = False
            page = response["hits"]["hits"]
            if not page:
                break
            after = page[-1]["sort"]
            if skipped < offset:
                skipped += len(page)
            else:
                taken += page
                if len(taken) >= limit:
                    break
        return total or 0, taken

    def facets(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Counts of the matching articles by source, type, jurisdiction, language and entity, as the store
        gives them."""
        aggs = self._call("facets", "POST", f"/{self.alias}/_search", facets_body(query, self.sources))[
            "aggregations"
        ]

        def counts(name: str) -> dict[str, int]:
            return {bucket["key"]: int(bucket["doc_count"]) for bucket in aggs[name]["buckets"]}

        return facet_counts(
            counts("sources"),
            counts("entities"),
            self.sources,
            by_language=counts("languages"),
            by_other=counts("other_entities"),
        )

    def histogram(self, query: SearchQuery, interval: str = "day") -> dict[str, int]:
        """Matching articles per day, week (from Monday) or month (UTC), oldest first; empty periods left out."""
        if interval not in HISTOGRAM_INTERVALS:
            raise QueryError(f"interval must be one of {', '.join(HISTOGRAM_INTERVALS)}, got {interval!r}")
        body = histogram_body(query, self.sources, interval)
        buckets = self._call("histogram", "POST", f"/{self.alias}/_search", body)["aggregations"]["dates"][
            "buckets"
        ]
        return {bucket["key_as_string"]: int(bucket["doc_count"]) for bucket in buckets}

    def status(self) -> dict[str, Any]:
        """The cluster, the alias's index and its size, and what the ledger holds for it."""
        index = self.ensure_index()
        count = self._call("counting", "GET", f"/{self.alias}/_count")["count"]
        stored_version = self._mapping_version(index)
        return {
            "url": self.url,
            "flavor": self.flavor,
            "server_version": self.server_version,
            "alias": self.alias,
            "index": index,
            "documents": int(count),
            "mapping_version": stored_version,
            "mapping_current": stored_version == MAPPING_VERSION,
            **self.ledger.counts(self.target),
            "failures": self.ledger.failures(self.target),
        }
