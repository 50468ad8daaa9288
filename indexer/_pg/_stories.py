"""Stories on PostgreSQL: the store's ``stories`` component and :class:`PgStoryRows`.

The steps are ``indexer._story``'s, the same on both engines; this module gives
them PostgreSQL's rows. SQLite runs one writer at a time, so a story is assigned
against everything stored before it; here every transaction that assigns stories
first takes :data:`STORY_LOCK` (a transaction-level advisory lock), so two
workers never assign copies of one story at once, each missing the other's
buckets, and a merge happens in one transaction, whole or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from regwatch.models import Article

from .. import _story
from .._types import SearchHit
from ._database import PgDatabase, execute, from_pg, row, rows
from ._rows import ARTICLE_COLUMNS, articles_with_entities
from ._schema import STORY_LOCK

log = logging.getLogger(__name__)


def lock_stories(conn: Connection) -> None:
    """Take the story lock for the rest of the transaction (see the module docstring)."""
    execute(conn, "SELECT pg_advisory_xact_lock(:key)", {"key": STORY_LOCK})


class PgStoryRows:
    """:class:`indexer._story.StoryRows` on PostgreSQL, inside the caller's transaction (story lock held)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def candidates(self, doc: int, buckets: Sequence[int], limit: int) -> list[int]:
        found = rows(
            self.conn,
            """
            SELECT doc, count(*) AS shared FROM story_buckets
            WHERE bucket = ANY(CAST(:buckets AS bigint[])) AND doc != :doc
            GROUP BY doc ORDER BY shared DESC, doc LIMIT :limit
            """,
            {"buckets": list(buckets), "doc": doc, "limit": limit},
        )
        return [int(entry["doc"]) for entry in found]

    def assigned(self, docs: Sequence[int]) -> list[Mapping[str, Any]]:
        return rows(
            self.conn,
            "SELECT id, story_id, title, summary, body, first_seen, doc FROM articles "
            "WHERE doc = ANY(CAST(:docs AS bigint[])) AND story_id != ''",
            {"docs": list(docs)},
        )

    def stories_by_first_member(self, stories: Sequence[str]) -> list[str]:
        found = rows(
            self.conn,
            "SELECT story_id, min(first_seen) AS first, min(doc) AS doc FROM articles "
            "WHERE story_id = ANY(CAST(:stories AS text[])) GROUP BY story_id ORDER BY first, doc",
            {"stories": list(stories)},
        )
        return [entry["story_id"] for entry in found]

    def move(self, kept: str, moved: Sequence[str]) -> None:
        execute(
            self.conn,
            "UPDATE articles SET story_id = :kept, version = version + 1 "
            "WHERE story_id = ANY(CAST(:moved AS text[]))",
            {"kept": kept, "moved": list(moved)},
        )

    def buckets_of(self, article_id: str) -> tuple[int, list[int]]:
        entry = row(self.conn, "SELECT doc, story_buckets FROM articles WHERE id = :id", {"id": article_id})
        assert entry is not None, article_id
        return int(entry["doc"]), [int(b) for b in entry["story_buckets"]]

    def replace_buckets(self, doc: int, old: Sequence[int], new: Sequence[int]) -> None:
        if old:
            execute(
                self.conn,
                "DELETE FROM story_buckets WHERE doc = :doc AND bucket = ANY(CAST(:old AS bigint[]))",
                {"doc": doc, "old": list(old)},
            )
        if new:
            execute(
                self.conn,
                "INSERT INTO story_buckets (bucket, doc) SELECT DISTINCT unnest(CAST(:new AS bigint[])), :doc "
                "ON CONFLICT DO NOTHING",
                {"doc": doc, "new": list(new)},
            )

    def set_story(self, article_id: str, story: str, buckets: Sequence[int], bump_version: bool) -> None:
        bump = ", version = version + 1" if bump_version else ""
        execute(
            self.conn,
            f"UPDATE articles SET story_id = :story, story_buckets = CAST(:buckets AS bigint[]){bump} "
            "WHERE id = :id",
            {"story": story, "buckets": list(buckets), "id": article_id},
        )

    def leads(self, article_id: str) -> bool:
        return (
            row(
                self.conn,
                "SELECT 1 AS found FROM articles WHERE story_id = :id AND id != :id LIMIT 1",
                {"id": article_id},
            )
            is not None
        )

    def members(self, story_id: str, excluding: str) -> list[Mapping[str, Any]]:
        return rows(
            self.conn,
            "SELECT id, story_id, title, summary, body FROM articles WHERE story_id = :story AND id != :id "
            "ORDER BY first_seen, doc",
            {"story": story_id, "id": excluding},
        )

    def clear(self, article_ids: Sequence[str]) -> None:
        if article_ids:
            execute(
                self.conn,
                "UPDATE articles SET story_id = '' WHERE id = ANY(CAST(:ids AS text[]))",
                {"ids": list(article_ids)},
            )

    def defer(self, article_id: str) -> None:
        execute(
            self.conn,
            "UPDATE articles SET story_id = '' WHERE id = :id OR story_id = :id",
            {"id": article_id},
        )

    def awaiting(self, limit: int) -> list[Mapping[str, Any]]:
        return rows(
            self.conn,
            "SELECT id, story_id, title, summary, body FROM articles WHERE story_id = '' "
            "ORDER BY first_seen, doc LIMIT :limit",
            {"limit": limit},
        )


class PgStories:
    """The ``stories`` component on PostgreSQL (see ``indexer._story`` for what it does)."""

    def __init__(self, db: PgDatabase, batch_size: int = 500) -> None:
        self._db = db
        self.batch_size = max(1, batch_size)

    def assign_pending(self) -> int:
        """Give a story to every article awaiting one, oldest first, in batches; return how many."""
        done = 0
        while True:
            with self._db.transaction(write=True) as conn:
                lock_stories(conn)
                batch = _story.assign_pending(PgStoryRows(conn), self.batch_size)
            done += batch
            if batch < self.batch_size:
                break
        if done:
            log.info("Assigned %d articles to stories in %s", done, self._db.shown)
        return done

    def members(self, story_ids: Sequence[str]) -> dict[str, list[SearchHit]]:
        """The articles of each story as light hits (no text), first stored first; one read for all."""
        found: dict[str, list[SearchHit]] = {}
        with self._db.transaction(write=False) as conn:
            entries = rows(
                conn,
                "SELECT id, title, url, source_id, published, story_id FROM articles "
                "WHERE story_id = ANY(:stories) ORDER BY story_id, first_seen, doc",
                {"stories": [story for story in dict.fromkeys(story_ids) if story]},
            )
        for entry in entries:
            found.setdefault(entry["story_id"], []).append(
                SearchHit(
                    id=entry["id"],
                    title=entry["title"],
                    url=entry["url"],
                    source=entry["source_id"],
                    published=from_pg(entry["published"]),
                    story=entry["story_id"],
                )
            )
        return found

    def articles(self, story_id: str) -> list[Article]:
        """The articles of a story, with their entities, in the order they were first stored."""
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE story_id = :story ORDER BY first_seen, doc",
                {"story": story_id},
            )
            return articles_with_entities(conn, found)
