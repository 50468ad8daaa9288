"""The tag-error ledger on PostgreSQL: the ``tag_errors`` component (see ``indexer._tag_errors``)."""

from __future__ import annotations

from typing import Any

from regwatch.models import Article, utcnow

from ._database import PgDatabase, execute, from_pg, row, rows, to_pg
from ._rows import columns, to_article


class PgTagErrors:
    """Articles whose tagging failed, skipped until the tagger or their text changes."""

    def __init__(self, db: PgDatabase) -> None:
        self._db = db

    def record(
        self,
        article_id: str,
        error: str,
        *,
        tagger_version: str,
        content_hash: str,
        fallback: bool = False,
    ) -> bool:
        """Record that tagging ``article_id`` failed; False if its text changed meanwhile (or it is gone)."""
        with self._db.transaction(write=True) as conn:
            entry = row(
                conn, "SELECT content_hash FROM articles WHERE id = :id FOR UPDATE", {"id": article_id}
            )
            if entry is None or entry["content_hash"] != content_hash:
                return False
            execute(
                conn,
                """
                INSERT INTO tag_errors (article_id, content_hash, tagger_version, error, fallback, failed_at)
                VALUES (:id, :hash, :version, :error, :fallback, :now)
                ON CONFLICT (article_id) DO UPDATE SET content_hash = excluded.content_hash,
                    tagger_version = excluded.tagger_version, error = excluded.error,
                    fallback = excluded.fallback, attempts = tag_errors.attempts + 1,
                    failed_at = excluded.failed_at
                """,
                {
                    "id": article_id,
                    "hash": content_hash,
                    "version": tagger_version,
                    "error": error,
                    "fallback": bool(fallback),
                    "now": to_pg(utcnow()),
                },
            )
        return True

    def latest(self, limit: int = 20) -> list[dict[str, Any]]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                """
                SELECT e.article_id, a.url, a.source_id, e.error, e.fallback, e.attempts,
                    e.tagger_version, e.failed_at
                FROM tag_errors e JOIN articles a ON a.id = e.article_id
                ORDER BY e.failed_at DESC LIMIT :limit
                """,
                {"limit": limit},
            )
        return [
            {**dict(entry), "fallback": bool(entry["fallback"]), "failed_at": from_pg(entry["failed_at"])}
            for entry in found
        ]

    def count(self) -> int:
        with self._db.transaction(write=False) as conn:
            return int(row(conn, "SELECT count(*) AS n FROM tag_errors")["n"])  # type: ignore[index]

    def articles(self, after_doc: int = 0, limit: int = 256) -> list[tuple[int, Article]]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                f"""
                SELECT {columns("a")} FROM tag_errors e JOIN articles a ON a.id = e.article_id
                WHERE a.doc > :after ORDER BY a.doc LIMIT :limit
                """,
                {"after": after_doc, "limit": limit},
            )
        return [(int(entry["doc"]), to_article(entry, [])) for entry in found]
