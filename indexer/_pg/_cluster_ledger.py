"""The cluster ledger on PostgreSQL: which article versions a search cluster acknowledged or refused.

See ``indexer._cluster_ledger``: whatever the cluster has not acknowledged stays
pending here, so an outage loses nothing and a second sync sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from regwatch.models import utcnow

from .._rows import display_names
from .._types import ClusterDoc
from ._database import PgDatabase, execute, from_pg, row, rows, to_pg
from ._rows import articles_with_entities, columns


class PgClusterLedger:
    """Per search cluster, the article versions it acknowledged and the documents it refused."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def pending(self, target: str, after: str = "", limit: int = 500) -> list[ClusterDoc]:
        """Articles the cluster lacks or holds an older version of, by id after ``after``."""
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                f"""
                SELECT {columns("a")} FROM articles a
                LEFT JOIN cluster_ledger l ON l.target = :target AND l.article_id = a.id
                WHERE (l.article_id IS NULL OR l.version != a.version) AND a.id > :after
                ORDER BY a.id LIMIT :limit
                """,
                {"target": target, "after": after, "limit": limit},
            )
            articles = articles_with_entities(conn, found)
        return [
            ClusterDoc(
                article=article,
                doc=int(entry["doc"]),
                version=int(entry["version"]),
                first_seen=from_pg(entry["first_seen"]),  # type: ignore[arg-type]
                display_entities=display_names(article.entities),
            )
            for entry, article in zip(found, articles, strict=True)
        ]

    def deletions(self, target: str) -> list[str]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                "SELECT article_id FROM cluster_ledger l WHERE target = :target "
                "AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = l.article_id)",
                {"target": target},
            )
        return [entry["article_id"] for entry in found]

    def record(
        self,
        target: str,
        acked: Sequence[tuple[str, int]] = (),
        deleted: Sequence[str] = (),
        failed: Sequence[tuple[str, int, str]] = (),
    ) -> None:
        now = to_pg(utcnow())
        with self._db.transaction(write=True) as conn:
            execute(
                conn,
                """
                INSERT INTO cluster_ledger (target, article_id, version, acked_at) VALUES (:t, :a, :v, :now)
                ON CONFLICT (target, article_id) DO UPDATE SET version = excluded.version,
                    acked_at = excluded.acked_at
                """,
                [{"t": target, "a": article_id, "v": version, "now": now} for article_id, version in acked],
            )
            gone = [article_id for article_id, _ in acked] + list(deleted)
            if gone:
                execute(
                    conn,
                    "DELETE FROM cluster_failures WHERE target = :t AND article_id = ANY(CAST(:ids AS text[]))",
                    {"t": target, "ids": gone},
                )
            if deleted:
                execute(
                    conn,
                    "DELETE FROM cluster_ledger WHERE target = :t AND article_id = ANY(CAST(:ids AS text[]))",
                    {"t": target, "ids": list(deleted)},
                )
            execute(
                conn,
                """
                INSERT INTO cluster_failures (target, article_id, version, reason, failed_at)
                VALUES (:t, :a, :v, :reason, :now)
                ON CONFLICT (target, article_id) DO UPDATE SET version = excluded.version,
                    reason = excluded.reason, attempts = cluster_failures.attempts + 1,
                    failed_at = excluded.failed_at
                """,
                [
                    {"t": target, "a": article_id, "v": version, "reason": reason, "now": now}
                    for article_id, version, reason in failed
                ],
            )

    def forget(self, target: str, acked_since: datetime | None = None) -> int:
        sql, params = "DELETE FROM cluster_ledger WHERE target = :t", {"t": target}
        if acked_since is not None:
            sql += " AND acked_at >= :since"
            params["since"] = to_pg(acked_since)  # type: ignore[assignment]
        with self._db.transaction(write=True) as conn:
            return execute(conn, sql, params)

    def counts(self, target: str) -> dict[str, int]:
        with self._db.transaction(write=False) as conn:
            entry = row(
                conn,
                """
                SELECT count(l.article_id) FILTER (WHERE l.version = a.version) AS acknowledged,
                    count(*) FILTER (WHERE l.article_id IS NULL OR l.version != a.version) AS pending
                FROM articles a LEFT JOIN cluster_ledger l ON l.target = :t AND l.article_id = a.id
                """,
                {"t": target},
            )
            failed = row(conn, "SELECT count(*) AS n FROM cluster_failures WHERE target = :t", {"t": target})
        assert entry is not None and failed is not None
        return {
            "acknowledged": int(entry["acknowledged"]),
            "pending": int(entry["pending"]),
            "failed": int(failed["n"]),
            "deletions": len(self.deletions(target)),
        }

    def failures(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                "SELECT article_id, version, reason, attempts, failed_at FROM cluster_failures "
                "WHERE target = :t ORDER BY failed_at DESC LIMIT :limit",
                {"t": target, "limit": limit},
            )
        return [{**dict(entry), "failed_at": _iso(entry["failed_at"])} for entry in found]


def _iso(value: datetime | None) -> str | None:
    """As the SQLite ledger gives it (its stored text): ISO UTC with microseconds."""
    stamp = from_pg(value)
    return stamp.isoformat(timespec="microseconds") if stamp else None
