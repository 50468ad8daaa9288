"""Articles, the source of truth: keyed by canonical URL, with their entities, quotes and actions.

:class:`SqliteArticles` is the store's articles component (see the package docstring). An
upsert writes the text, the URLs it was seen at and, when it came tagged, its
entities; a new or changed text gets its story in the same transaction, or is
left to ``store.stories.assign_pending()`` when the store was opened with
``stories="deferred"`` (the crawl's item pipeline does this, so the crawl
spends its time fetching).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from regwatch.models import Action, Article, Quote, TaggedEntity, utcnow

from . import _story
from ._database import Database
from ._query import normalise_name
from ._rows import articles_with_entities, entities_of, to_article
from ._schema import to_db

log = logging.getLogger(__name__)


class SqliteArticles:
    """The stored articles (see the module docstring). ``stories``: "inline", "deferred" or "off"."""

    def __init__(self, db: Database, stories: str = "inline") -> None:
        if stories not in _story.STORY_MODES:
            raise ValueError(f"stories must be one of {', '.join(_story.STORY_MODES)}, got {stories!r}")
        self._db = db
        # "off" only in a benchmark's baseline: new articles then wait for assign_pending too.
        self.stories = stories

    def upsert(self, article: Article, *, seen_at: datetime | None = None) -> str:
        """Store ``article`` by its canonical URL; return "new", "updated" or "duplicate".

        A duplicate (same id, same content hash) only refreshes ``last_seen``. An
        update keeps ``first_seen`` but drops the entities, so the article is
        tagged and indexed again; its old text leaves the search index at once.
        Entities that come with a new or updated article (tagged in the crawl)
        are stored and mark it tagged. ``seen_at`` defaults to now.
        """
        now = to_db(seen_at or utcnow())
        article_id = article.id
        digest = article.content_hash
        with self._db.transaction(write=True) as conn:
            row = conn.execute(
                "SELECT content_hash, tagged_at FROM articles WHERE id = ?", (article_id,)
            ).fetchone()
            values = {
                "id": article_id,
                "url": article.url,
                "source_id": article.source_id,
                "title": article.title,
                "summary": article.summary or "",
                "body": article.body or "",
                "fetch_url": article.fetch_url or "",
                "published": to_db(article.published),
                "updated": to_db(article.updated),
                "authors": json.dumps(list(article.authors)),
                "language": article.language or "",
                "section": article.section or "",
                "tags": json.dumps(list(article.tags)),
                "fetched_at": to_db(article.fetched_at) or now,
                "content_hash": digest,
                "now": now,
            }
            if row is None:
                status = "new"
                conn.execute(
                    """
                    INSERT INTO articles (id, url, source_id, title, summary, body, fetch_url, published,
                        updated, authors, language, section, tags, fetched_at, content_hash,
                        first_seen, last_seen, last_changed)
                    VALUES (:id, :url, :source_id, :title, :summary, :body, :fetch_url, :published,
                        :updated, :authors, :language, :section, :tags, :fetched_at, :content_hash,
                        :now, :now, :now)
                    """,
                    values,
                )
            elif row["content_hash"] == digest:
                status = "duplicate"
                conn.execute("UPDATE articles SET last_seen = :now WHERE id = :id", values)
            else:
                status = "updated"
                conn.execute(
                    """
                    UPDATE articles SET source_id = :source_id, title = :title, summary = :summary,
                        body = :body, fetch_url = CASE WHEN fetch_url = '' THEN :fetch_url ELSE fetch_url END,
                        published = coalesce(:published, published), updated = :updated,
                        authors = :authors, language = :language, section = :section, tags = :tags,
                        fetched_at = :fetched_at, content_hash = :content_hash, last_seen = :now,
                        last_changed = :now, version = version + 1, tagged_at = NULL, tagger_version = '',
                        quotes = '[]', actions = '[]'
                    WHERE id = :id
                    """,
                    values,
                )
                conn.execute("DELETE FROM article_entities WHERE article_id = ?", (article_id,))
            for url in dict.fromkeys(u for u in (article.url, article.fetch_url) if u):
                conn.execute(
                    """
                    INSERT INTO article_urls (url, article_id, first_seen, last_seen) VALUES (?, ?, ?, ?)
                    ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id,
                        last_seen = excluded.last_seen
                    """,
                    (url, article_id, now, now),
                )
            untagged = row is None or status == "updated" or row["tagged_at"] is None
            if article.entities and untagged:
                _write_entities(conn, article_id, article.entities, "", now, article.quotes, article.actions)
            if status != "duplicate" and self.stories != "off":
                # In the same transaction as the text, so the story always matches the stored text.
                if self.stories == "deferred":
                    _story.defer(_story.SqliteStoryRows(conn), article_id)
                else:
                    _story.assign_changed(
                        _story.SqliteStoryRows(conn),
                        article_id,
                        _story.story_text(article.title, article.body, article.summary),
                    )
        log.debug("Stored %s article %s from %s (%s)", status, article_id, article.source_id, article.url)
        return status

    def get(self, article_id: str) -> Article | None:
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                return None
            return to_article(row, entities_of(conn, [article_id]).get(article_id, []))

    def get_many(self, article_ids: Sequence[str]) -> list[Article]:
        """The stored articles among ``article_ids``, in that order (one read for all)."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(list(article_ids)),),
            ).fetchall()
            found = {article.id: article for article in articles_with_entities(conn, rows)}
        return [found[article_id] for article_id in dict.fromkeys(article_ids) if article_id in found]

    def entity_labels(self, names: Sequence[str]) -> dict[str, str]:
        """A spelling of each entity name as stored (the first article's), by normalised name.

        The "other entities" facet and the entity filter speak normalised names ("boris
        johnson"); a page shows them as written. Names never stored are left out.
        """
        keys = list(dict.fromkeys(normalise_name(name) for name in names))
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT k.value AS key, (SELECT e.name FROM article_entities e "
                "WHERE e.norm_name = k.value ORDER BY e.doc LIMIT 1) AS name FROM json_each(?) k",
                (json.dumps(keys),),
            ).fetchall()
        return {row["key"]: row["name"] for row in rows if row["name"] is not None}

    def id_for_url(self, url: str) -> str | None:
        """The id of the article seen at ``url``, a canonical or a fetch URL (e.g. a syndicated copy)."""
        with self._db.transaction(write=False) as conn:
            row = conn.execute("SELECT article_id FROM article_urls WHERE url = ?", (url,)).fetchone()
        return row["article_id"] if row else None

    def urls(self, article_id: str) -> list[str]:
        """Every URL the article was seen at, in the order they were first seen."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT url FROM article_urls WHERE article_id = ? ORDER BY first_seen, url", (article_id,)
            ).fetchall()
        return [r["url"] for r in rows]

    def delete(self, article_id: str) -> bool:
        """Remove an article, its entities and its index entry; False when it was not stored."""
        with self._db.transaction(write=True) as conn:
            deleted = conn.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount
        return deleted > 0

    def count(self) -> int:
        with self._db.transaction(write=False) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Articles in all, waiting for tags, and waiting to be (re)indexed."""
        with self._db.transaction(write=False) as conn:
            row = conn.execute(
                """
                SELECT count(*) AS articles,
                    count(*) FILTER (WHERE a.tagged_at IS NULL) AS untagged,
                    count(*) FILTER (WHERE l.version IS NULL OR l.version != a.version) AS unindexed
                FROM articles a LEFT JOIN index_ledger l ON l.article_id = a.id
                """
            ).fetchone()
        return {key: int(row[key]) for key in ("articles", "untagged", "unindexed")}

    def needing_tags(
        self,
        limit: int | None = None,
        tagger_version: str | None = None,
        among: Sequence[str] | None = None,
    ) -> list[Article]:
        """Articles that are new or changed since they were last tagged, oldest first.

        With ``tagger_version``, not those that version already failed on, with the same text
        (see :meth:`record_tag_error`). With ``among``, only those of these ids (a worker's
        claimed batch, read again once claimed: another worker may have tagged some meanwhile).
        """
        sql = "SELECT * FROM articles WHERE tagged_at IS NULL"
        params: tuple[Any, ...] = ()
        if tagger_version is not None:
            sql += """ AND NOT EXISTS (SELECT 1 FROM tag_errors e WHERE e.article_id = articles.id
                AND e.tagger_version = ? AND e.content_hash = articles.content_hash)"""
            params = (tagger_version,)
        if among is not None:
            sql += " AND id IN (SELECT value FROM json_each(?))"
            params = (*params, json.dumps(list(among)))
        sql += " ORDER BY first_seen, doc"
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, limit)
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(sql, params).fetchall()
        return [to_article(row, []) for row in rows]

    def set_entities(
        self,
        article_id: str,
        entities: list[TaggedEntity],
        tagger_version: str = "",
        *,
        content_hash: str | None = None,
        quotes: Sequence[Quote] | None = None,
        actions: Sequence[Action] | None = None,
    ) -> bool:
        """Store the entities of an article, mark it tagged and due for reindexing.

        ``quotes`` and ``actions`` replace the stored ones; None leaves them unchanged.

        With ``content_hash`` (the hash of the text that was tagged) nothing is
        stored if the article changed meanwhile (the crawl subprocess may update
        it while the parent tags): it stays untagged and False is returned.
        Raises KeyError for an article that is not stored.
        """
        now = to_db(utcnow())
        with self._db.transaction(write=True) as conn:
            row = conn.execute("SELECT content_hash FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                raise KeyError(article_id)
            if content_hash is not None and row["content_hash"] != content_hash:
                log.info("Article %s changed while it was tagged; it will be tagged again", article_id)
                return False
            _write_entities(conn, article_id, entities, tagger_version, now, quotes, actions)
        return True

    def first_seen_between(self, after: datetime | None, until: datetime) -> list[Article]:
        """Articles first seen in (``after``, ``until``], with entities, newest published first."""
        clauses, params = ["first_seen <= ?"], [to_db(until)]
        if after is not None:
            clauses.append("first_seen > ?")
            params.append(to_db(after))
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                f"SELECT * FROM articles WHERE {' AND '.join(clauses)} ORDER BY sort_at DESC, doc DESC",
                params,
            ).fetchall()
            return articles_with_entities(conn, rows)

    def tagged_by_other_version(
        self, tagger_version: str, after_doc: int, limit: int
    ) -> list[tuple[int, Article]]:
        """(row number, article) of tagged articles whose ``tagger_version`` is not this one, after ``after_doc``.

        In row order, without entities (they are about to be replaced); see :class:`indexer.RetagQueue`.
        """
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                """
                SELECT * FROM articles
                WHERE tagged_at IS NOT NULL AND tagger_version != ? AND doc > ?
                ORDER BY doc LIMIT ?
                """,
                (tagger_version, after_doc, limit),
            ).fetchall()
        return [(int(row["doc"]), to_article(row, [])) for row in rows]

    def count_tagged_by_other_version(self, tagger_version: str) -> int:
        with self._db.transaction(write=False) as conn:
            row = conn.execute(
                "SELECT count(*) FROM articles WHERE tagged_at IS NOT NULL AND tagger_version != ?",
                (tagger_version,),
            ).fetchone()
        return int(row[0])


def _write_entities(
    conn: sqlite3.Connection,
    article_id: str,
    entities: Sequence[TaggedEntity],
    tagger_version: str,
    now: str | None,
    quotes: Sequence[Quote] | None = None,
    actions: Sequence[Action] | None = None,
) -> None:
    conn.execute("DELETE FROM article_entities WHERE article_id = ?", (article_id,))
    conn.execute("DELETE FROM tag_errors WHERE article_id = ?", (article_id,))  # tagged now
    doc = conn.execute("SELECT doc FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
    for column, values in (("quotes", quotes), ("actions", actions)):
        if values is not None:
            conn.execute(
                f"UPDATE articles SET {column} = ? WHERE id = ?",
                (json.dumps([v.to_dict() for v in values]), article_id),
            )
    conn.executemany(
        """
        INSERT INTO article_entities (article_id, doc, position, entity_id, name, norm_name, type,
            mentions, count, first_position, in_title, salience)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            (
                article_id,
                doc,
                position,
                e.entity_id,
                e.name,
                normalise_name(e.name),
                e.type,
                json.dumps(list(e.mentions)),
                e.count,
                e.first_position,
                int(e.in_title),
                float(e.salience),
            )
            for position, e in enumerate(entities)
        ],
    )
    conn.execute(
        "UPDATE articles SET tagged_at = ?, tagger_version = ?, version = version + 1 WHERE id = ?",
        (now, tagger_version, article_id),
    )
