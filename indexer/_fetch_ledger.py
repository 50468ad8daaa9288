"""The fetch ledger and per-source crawl state, as a mixin of :class:`~indexer.Store`.

The fetch ledger has one row per source and article page (the canonical form
of the URL the crawler requested; two sources linking one page ask separately) with the HTTP validators the server sent
(``ETag``, ``Last-Modified``), the last status and the content hash of the
article it gave. The parent of a crawl reads :meth:`fetch_validators` and passes
them to the spiders, which then ask conditionally; the crawl's item pipeline
records each fetch with :meth:`record_fetch` once its article is stored.

``source_state`` keeps what source health needs from run to run (the weighted
failure score, disabled-since, volume average, index latency); see
:meth:`source_state` and :meth:`save_source_state`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from regwatch.models import utcnow

from ._schema import from_db, to_db


@dataclass
class SourceState:
    """A source's health state between runs (see ``source_state`` in the schema)."""

    source_id: str
    failure_score: float = 0.0
    disabled_at: datetime | None = None
    disabled_reason: str = ""
    latency_ms: int | None = None
    items_found: int = 0
    avg_items: float | None = None  # moving average of items listed per successful run
    runs: int = 0  # successful runs in that average
    low_volume: bool = False


class FetchLedgerMixin:
    """Fetch-ledger and source-state methods; the host class provides ``_transaction``."""

    def _transaction(self, write: bool) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    # -- fetch ledger ------------------------------------------------------------

    def record_fetch(
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
    ) -> None:
        """Record one fetch of ``url``; a 304 keeps the stored hash and article, refreshing the rest."""
        now = to_db(at or utcnow())
        with self._transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO fetch_ledger (url, source_id, status, etag, last_modified, content_hash,
                    article_url, first_fetched, last_fetched, last_changed)
                VALUES (:url, :source_id, :status, :etag, :last_modified, :content_hash, :article_url,
                    :now, :now, :now)
                ON CONFLICT (source_id, url) DO UPDATE SET
                    status = excluded.status,
                    etag = CASE WHEN excluded.etag != '' OR excluded.status != 304
                        THEN excluded.etag ELSE etag END,
                    last_modified = CASE WHEN excluded.last_modified != '' OR excluded.status != 304
                        THEN excluded.last_modified ELSE last_modified END,
                    content_hash = CASE WHEN excluded.status = 304 THEN content_hash
                        ELSE excluded.content_hash END,
                    article_url = CASE WHEN excluded.status = 304 THEN article_url
                        ELSE excluded.article_url END,
                    last_fetched = excluded.last_fetched,
                    last_changed = CASE WHEN excluded.status != 304 AND excluded.content_hash != content_hash
                        THEN excluded.last_changed ELSE last_changed END
                """,
                {
                    "url": url,
                    "source_id": source_id,
                    "status": int(status),
                    "etag": etag,
                    "last_modified": last_modified,
                    "content_hash": content_hash,
                    "article_url": article_url,
                    "now": now,
                },
            )

    def fetch_validators(self, source_ids: Iterable[str]) -> dict[str, dict[str, dict[str, str]]]:
        """Per source, ``{url: {"etag": …, "last_modified": …}}`` of pages fetched fine before.

        Only pages whose last fetch gave an article (200) or confirmed one (304)
        and that came with a validator: anything else is fetched in full again.
        """
        ids = list(dict.fromkeys(source_ids))
        result: dict[str, dict[str, dict[str, str]]] = {sid: {} for sid in ids}
        if not ids:
            return result
        marks = ", ".join("?" for _ in ids)
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                f"""
                SELECT url, source_id, etag, last_modified FROM fetch_ledger
                WHERE source_id IN ({marks}) AND status IN (200, 304) AND content_hash != ''
                    AND (etag != '' OR last_modified != '')
                """,
                ids,
            ).fetchall()
        for row in rows:
            result[row["source_id"]][row["url"]] = {
                "etag": row["etag"],
                "last_modified": row["last_modified"],
            }
        return result

    def fetch_entry(self, source_id: str, url: str) -> dict[str, Any] | None:
        """The ledger row of ``url`` (canonical form) for a source, as a dict, or None."""
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT * FROM fetch_ledger WHERE source_id = ? AND url = ?", (source_id, url)
            ).fetchone()
        if row is None:
            return None
        entry = dict(row)
        for name in ("first_fetched", "last_fetched", "last_changed"):
            entry[name] = from_db(entry[name])
        return entry

    def count_fetches(self, source_id: str | None = None) -> int:
        with self._transaction(write=False) as conn:
            if source_id is None:
                return int(conn.execute("SELECT count(*) FROM fetch_ledger").fetchone()[0])
            return int(
                conn.execute(
                    "SELECT count(*) FROM fetch_ledger WHERE source_id = ?", (source_id,)
                ).fetchone()[0]
            )

    # -- source state --------------------------------------------------------------

    def source_states(self) -> dict[str, SourceState]:
        with self._transaction(write=False) as conn:
            rows = conn.execute("SELECT * FROM source_state").fetchall()
        return {row["source_id"]: _to_state(row) for row in rows}

    def source_state(self, source_id: str) -> SourceState:
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM source_state WHERE source_id = ?", (source_id,)).fetchone()
        return _to_state(row) if row is not None else SourceState(source_id)

    def save_source_state(self, state: SourceState) -> None:
        with self._transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO source_state (source_id, failure_score, disabled_at, disabled_reason, latency_ms,
                    items_found, avg_items, runs, low_volume, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (source_id) DO UPDATE SET failure_score = excluded.failure_score,
                    disabled_at = excluded.disabled_at, disabled_reason = excluded.disabled_reason,
                    latency_ms = excluded.latency_ms, items_found = excluded.items_found,
                    avg_items = excluded.avg_items, runs = excluded.runs, low_volume = excluded.low_volume,
                    updated_at = excluded.updated_at
                """,
                (
                    state.source_id,
                    state.failure_score,
                    to_db(state.disabled_at),
                    state.disabled_reason,
                    state.latency_ms,
                    state.items_found,
                    state.avg_items,
                    state.runs,
                    int(state.low_volume),
                    to_db(utcnow()),
                ),
            )


def _to_state(row: sqlite3.Row) -> SourceState:
    return SourceState(
        source_id=row["source_id"],
        failure_score=float(row["failure_score"]),
        disabled_at=from_db(row["disabled_at"]),
        disabled_reason=row["disabled_reason"],
        latency_ms=row["latency_ms"],
        items_found=int(row["items_found"]),
        avg_items=row["avg_items"],
        runs=int(row["runs"]),
        low_volume=bool(row["low_volume"]),
    )


__all__ = ["FetchLedgerMixin", "SourceState"]
