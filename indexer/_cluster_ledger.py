"""The cluster ledger: the store's ``cluster_ledger`` component.

Which version of each article a search cluster ("target": its URL, credentials
masked, and alias) has acknowledged, and which documents it refused and why.
Whatever it has not acknowledged stays pending here, so a node outage loses
nothing and a second sync sends nothing twice (see ``ClusterIndex.sync``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from regwatch.models import utcnow

from ._database import Database
from ._rows import articles_with_entities, display_names
from ._schema import from_db, to_db
from ._types import ClusterDoc


class SqliteClusterLedger:
    """Per search cluster, the article versions it acknowledged and the documents it refused."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def pending(self, target: str, after: str = "", limit: int = 500) -> list[ClusterDoc]:
        """Articles the cluster lacks or holds an older version of, by id after ``after``."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                """
                SELECT a.* FROM articles a
                LEFT JOIN cluster_ledger l ON l.target = :target AND l.article_id = a.id
                WHERE (l.article_id IS NULL OR l.version != a.version) AND a.id > :after
                ORDER BY a.id LIMIT :limit
                """,
                {"target": target, "after": after, "limit": limit},
            ).fetchall()
            articles = articles_with_entities(conn, rows)
        return [
            ClusterDoc(
                article=article,
                doc=row["doc"],
                version=row["version"],
                first_seen=from_db(row["first_seen"]),  # type: ignore[arg-type]
                display_entities=display_names(article.entities),
            )
            for row, article in zip(rows, articles, strict=True)
        ]

    def deletions(self, target: str) -> list[str]:
        """Ids the cluster holds whose articles were deleted here."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT article_id FROM cluster_ledger l WHERE target = ? "
                "AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = l.article_id)",
                (target,),
            ).fetchall()
        return [r["article_id"] for r in rows]

    def record(
        self,
        target: str,
        acked: Sequence[tuple[str, int]] = (),
        deleted: Sequence[str] = (),
        failed: Sequence[tuple[str, int, str]] = (),
    ) -> None:
        """Record what the cluster acknowledged (id, version), deleted, or refused (id, version, reason)."""
        now = to_db(utcnow())
        with self._db.transaction(write=True) as conn:
            conn.executemany(
                """
                INSERT INTO cluster_ledger (target, article_id, version, acked_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (target, article_id) DO UPDATE SET version = excluded.version,
                    acked_at = excluded.acked_at
                """,
                [(target, article_id, version, now) for article_id, version in acked],
            )
            conn.executemany(
                "DELETE FROM cluster_failures WHERE target = ? AND article_id = ?",
                [(target, article_id) for article_id, _ in acked] + [(target, a) for a in deleted],
            )
            conn.executemany(
                "DELETE FROM cluster_ledger WHERE target = ? AND article_id = ?",
                [(target, article_id) for article_id in deleted],
            )
            conn.executemany(
                """
                INSERT INTO cluster_failures (target, article_id, version, reason, failed_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (target, article_id) DO UPDATE SET version = excluded.version,
                    reason = excluded.reason, attempts = cluster_failures.attempts + 1,
                    failed_at = excluded.failed_at
                """,
                [(target, article_id, version, reason, now) for article_id, version, reason in failed],
            )

    def forget(self, target: str, acked_since: datetime | None = None) -> int:
        """Drop ledger rows (all, or those acknowledged since a time) so the next sync sends them again."""
        sql, params = "DELETE FROM cluster_ledger WHERE target = ?", [target]
        if acked_since is not None:
            sql += " AND acked_at >= ?"
            params.append(to_db(acked_since))  # type: ignore[arg-type]
        with self._db.transaction(write=True) as conn:
            return conn.execute(sql, params).rowcount

    def counts(self, target: str) -> dict[str, int]:
        """Articles acknowledged by the cluster, pending, refused, and deletions it has not seen."""
        with self._db.transaction(write=False) as conn:
            row = conn.execute(
                """
                SELECT count(l.article_id) FILTER (WHERE l.version = a.version) AS acknowledged,
                    count(*) FILTER (WHERE l.article_id IS NULL OR l.version != a.version) AS pending
                FROM articles a LEFT JOIN cluster_ledger l ON l.target = :target AND l.article_id = a.id
                """,
                {"target": target},
            ).fetchone()
            failed = conn.execute(
                "SELECT count(*) FROM cluster_failures WHERE target = ?", (target,)
            ).fetchone()
        counts = {"acknowledged": int(row["acknowledged"]), "pending": int(row["pending"])}
        counts["failed"] = int(failed[0])
        counts["deletions"] = len(self.deletions(target))
        return counts

    def failures(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        """The documents the cluster refused, latest first, with its reasons."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT article_id, version, reason, attempts, failed_at FROM cluster_failures "
                "WHERE target = ? ORDER BY failed_at DESC LIMIT ?",
                (target, limit),
            ).fetchall()
        return [dict(row) for row in rows]
