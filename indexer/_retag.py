"""Finding articles tagged by another tagger version, for ``regwatch retag``.

Each stored article keeps the ``tagger_version`` that tagged it (the pipeline
code, the spaCy model and the watchlist digest). When the watchlist or the
tagger changes, only the articles whose version differs need tagging again.
:class:`RetagQueue` reads them in ``doc`` order with keyset pagination, so a
run never reads an article twice, and a retag that stops halfway resumes where
it left off (the ones done already carry the new version).
"""

from __future__ import annotations

from regwatch.models import Article

from ._store import Store


class RetagQueue:
    """The tagged articles whose ``tagger_version`` is not ``tagger_version``, in batches."""

    def __init__(self, store: Store, tagger_version: str) -> None:
        self.store = store
        self.tagger_version = tagger_version
        self._after_doc = 0

    def total(self) -> int:
        """How many articles are still to retag (from the start of the queue)."""
        with self.store._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT count(*) FROM articles WHERE tagged_at IS NOT NULL AND tagger_version != ?",
                (self.tagger_version,),
            ).fetchone()
        return int(row[0])

    def next_batch(self, limit: int) -> list[Article]:
        """The next ``limit`` articles to retag (an empty list when done)."""
        with self.store._transaction(write=False) as conn:
            rows = conn.execute(
                """
                SELECT * FROM articles
                WHERE tagged_at IS NOT NULL AND tagger_version != ? AND doc > ?
                ORDER BY doc LIMIT ?
                """,
                (self.tagger_version, self._after_doc, limit),
            ).fetchall()
        if rows:
            self._after_doc = int(rows[-1]["doc"])
        return [self.store._to_article(row, []) for row in rows]
