"""Finding articles tagged by another tagger version, for ``regwatch retag``.

Each stored article keeps the ``tagger_version`` that tagged it (the pipeline
code, the spaCy model and the watchlist digest). When the watchlist or the
tagger changes, only the articles whose version differs need tagging again.
:class:`RetagQueue` reads them in row order with keyset pagination, so a run
never reads an article twice, and a retag that stops halfway resumes where it
left off (the ones done already carry the new version).
"""

from __future__ import annotations

from regwatch.models import Article

from ._interfaces import Articles


class RetagQueue:
    """The tagged articles whose ``tagger_version`` is not ``tagger_version``, in batches."""

    def __init__(self, articles: Articles, tagger_version: str) -> None:
        self.articles = articles
        self.tagger_version = tagger_version
        self._after_doc = 0

    def total(self) -> int:
        """How many articles are still to retag (from the start of the queue)."""
        return self.articles.count_tagged_by_other_version(self.tagger_version)

    def next_batch(self, limit: int) -> list[Article]:
        """The next ``limit`` articles to retag (an empty list when done)."""
        rows = self.articles.tagged_by_other_version(self.tagger_version, self._after_doc, limit)
        if rows:
            self._after_doc = rows[-1][0]
        return [article for _, article in rows]
