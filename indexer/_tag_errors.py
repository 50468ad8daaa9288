"""The tag-error ledger: the store's ``tag_errors`` component.

An article the tagger could not tag (a text that makes a spaCy component raise)
gets a row in ``tag_errors`` with the error, the tagger version and the content
hash it failed on, and stays untagged; one tagged with the watchlist's entities
alone (``fallback``) is stored as tagged and gets a row too. Untagged articles
with a row for the current tagger version and their current text are not tried
again by later runs, so one bad article costs one attempt, not one per run; a
new tagger version or a changed text tries again, and so does ``regwatch retag``
(:meth:`SqliteTagErrors.articles`). Tagging an article in full removes its row.
"""

from __future__ import annotations

from typing import Any

from regwatch.models import Article, utcnow

from ._database import Database
from ._rows import to_article
from ._schema import from_db, to_db


class SqliteTagErrors:
    """Articles whose tagging failed (see the module docstring)."""

    def __init__(self, db: Database) -> None:
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
        """Record that tagging ``article_id`` failed; False if its text changed meanwhile (or it is gone).

        ``fallback``: it was stored with the watchlist's entities alone.
        """
        now = to_db(utcnow())
        with self._db.transaction(write=True) as conn:
            row = conn.execute("SELECT content_hash FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None or row["content_hash"] != content_hash:
                return False
            conn.execute(
                """
                INSERT INTO tag_errors (article_id, content_hash, tagger_version, error, fallback, failed_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (article_id) DO UPDATE SET content_hash = excluded.content_hash,
                    tagger_version = excluded.tagger_version, error = excluded.error,
                    fallback = excluded.fallback, attempts = attempts + 1, failed_at = excluded.failed_at
                """,
                (article_id, content_hash, tagger_version, error, int(fallback), now),
            )
        return True

    def latest(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest recorded tag errors: article id, URL, source, error, attempts, when."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                """
                SELECT e.article_id, a.url, a.source_id, e.error, e.fallback, e.attempts,
                    e.tagger_version, e.failed_at
                FROM tag_errors e JOIN articles a ON a.id = e.article_id
                ORDER BY e.failed_at DESC LIMIT ?
                """,
                (limit,),
            ).fetchall()
        return [
            {**dict(row), "fallback": bool(row["fallback"]), "failed_at": from_db(row["failed_at"])}
            for row in rows
        ]

    def count(self) -> int:
        with self._db.transaction(write=False) as conn:
            return int(conn.execute("SELECT count(*) FROM tag_errors").fetchone()[0])

    def articles(self, after_doc: int = 0, limit: int = 256) -> list[tuple[int, Article]]:
        """(row number, article) of articles with a recorded tag error, in row order after ``after_doc``."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                """
                SELECT a.* FROM tag_errors e JOIN articles a ON a.id = e.article_id
                WHERE a.doc > ? ORDER BY a.doc LIMIT ?
                """,
                (after_doc, limit),
            ).fetchall()
        return [(int(row["doc"]), to_article(row, [])) for row in rows]
