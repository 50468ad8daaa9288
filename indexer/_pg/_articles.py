"""Articles on PostgreSQL: the ``articles`` component, keyed by canonical URL (see ``indexer._articles``).

An upsert is ``INSERT … ON CONFLICT (id) DO NOTHING`` then, for a known article,
the existing row locked (``SELECT … FOR UPDATE``) and compared: two workers
storing the same article at once give one "new" and one "duplicate" (or
"updated"), never two rows or an error. Stories go as on SQLite: inline in the
upsert's transaction (under the story lock) or deferred to ``stories.assign_pending()``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection

from regwatch.models import Action, Article, Quote, TaggedEntity, utcnow

from .. import _story
from .._query import normalise_name
from ._database import PgDatabase, as_json, execute, row, rows, to_pg
from ._rows import ARTICLE_COLUMNS, articles_with_entities, entities_of, to_article
from ._stories import PgStoryRows, lock_stories

log = logging.getLogger(__name__)

_INSERT = """
INSERT INTO articles (id, url, source_id, title, summary, body, fetch_url, published, updated, authors,
    language, section, tags, fetched_at, content_hash, first_seen, last_seen, last_changed)
VALUES (:id, :url, :source_id, :title, :summary, :body, :fetch_url, :published, :updated,
    CAST(:authors AS jsonb), :language, :section, CAST(:tags AS jsonb), :fetched_at, :content_hash,
    :now, :now, :now)
ON CONFLICT (id) DO NOTHING
RETURNING doc
"""

_UPDATE = """
UPDATE articles SET source_id = :source_id, title = :title, summary = :summary, body = :body,
    fetch_url = CASE WHEN fetch_url = '' THEN :fetch_url ELSE fetch_url END,
    published = coalesce(CAST(:published AS timestamptz), published), updated = :updated,
    authors = CAST(:authors AS jsonb), language = :language, section = :section, tags = CAST(:tags AS jsonb),
    fetched_at = :fetched_at, content_hash = :content_hash, last_seen = :now, last_changed = :now,
    version = version + 1, tagged_at = NULL, tagger_version = '', quotes = '[]', actions = '[]'
WHERE id = :id
"""


class PgArticles:
    """The stored articles on PostgreSQL. ``stories``: "inline", "deferred" or "off" (see ``indexer._story``)."""

    def __init__(self, db: PgDatabase, stories: str = "inline") -> None:
        if stories not in _story.STORY_MODES:
            raise ValueError(f"stories must be one of {', '.join(_story.STORY_MODES)}, got {stories!r}")
        self._db = db
        self.stories = stories

    def upsert(self, article: Article, *, seen_at: datetime | None = None) -> str:
        """Store ``article`` by its canonical URL; return "new", "updated" or "duplicate" (as on SQLite)."""
        now = to_pg(seen_at or utcnow())
        values: dict[str, Any] = {
            "id": article.id,
            "url": article.url,
            "source_id": article.source_id,
            "title": article.title,
            "summary": article.summary or "",
            "body": article.body or "",
            "fetch_url": article.fetch_url or "",
            "published": to_pg(article.published),
            "updated": to_pg(article.updated),
            "authors": as_json(list(article.authors)),
            "language": article.language or "",
            "section": article.section or "",
            "tags": as_json(list(article.tags)),
            "fetched_at": to_pg(article.fetched_at) or now,
            "content_hash": article.content_hash,
            "now": now,
        }
        with self._db.transaction(write=True) as conn:
            if self.stories == "inline":
                lock_stories(conn)  # before any row lock: a story step takes them in this order too
            inserted = row(conn, _INSERT, values)
            if inserted is not None:
                status, tagged = "new", False
            else:
                existing = row(
                    conn,
                    "SELECT content_hash, tagged_at FROM articles WHERE id = :id FOR UPDATE",
                    {"id": article.id},
                )
                assert (
                    existing is not None
                )  # ON CONFLICT found it, and nothing deletes it meanwhile but delete()
                tagged = existing["tagged_at"] is not None
                if existing["content_hash"] == article.content_hash:
                    status = "duplicate"
                    execute(conn, "UPDATE articles SET last_seen = :now WHERE id = :id", values)
                else:
                    status, tagged = "updated", False
                    execute(conn, _UPDATE, values)
                    execute(conn, "DELETE FROM article_entities WHERE article_id = :id", values)
            execute(
                conn,
                """
                INSERT INTO article_urls (url, article_id, first_seen, last_seen) VALUES (:url, :id, :now, :now)
                ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id, last_seen = excluded.last_seen
                """,
                [
                    {"url": url, "id": article.id, "now": now}
                    for url in dict.fromkeys(u for u in (article.url, article.fetch_url) if u)
                ],
            )
            if article.entities and not tagged:
                write_entities(conn, article.id, article.entities, "", now, article.quotes, article.actions)
            if status != "duplicate" and self.stories != "off":
                if self.stories == "deferred":
                    _story.defer(PgStoryRows(conn), article.id)
                else:
                    _story.assign_changed(
                        PgStoryRows(conn),
                        article.id,
                        _story.story_text(article.title, article.body, article.summary),
                    )
        log.debug("Stored %s article %s from %s (%s)", status, article.id, article.source_id, article.url)
        return status

    def get(self, article_id: str) -> Article | None:
        with self._db.transaction(write=False) as conn:
            entry = row(conn, f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = :id", {"id": article_id})
            if entry is None:
                return None
            return to_article(entry, entities_of(conn, [article_id]).get(article_id, []))

    def get_many(self, article_ids: Sequence[str]) -> list[Article]:
        """The stored articles among ``article_ids``, in that order (one read for all)."""
        wanted = list(dict.fromkeys(article_ids))
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn, f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ANY(:ids)", {"ids": wanted}
            )
            by_id = {article.id: article for article in articles_with_entities(conn, found)}
        return [by_id[article_id] for article_id in wanted if article_id in by_id]

    def entity_labels(self, names: Sequence[str]) -> dict[str, str]:
        """A spelling of each entity name as stored (the first article's), by normalised name."""
        keys = list(dict.fromkeys(normalise_name(name) for name in names))
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                "SELECT k.key, (SELECT e.name FROM article_entities e WHERE e.norm_name = k.key "
                "ORDER BY e.doc LIMIT 1) AS name FROM unnest(CAST(:keys AS text[])) AS k(key)",
                {"keys": keys},
            )
        return {entry["key"]: entry["name"] for entry in found if entry["name"] is not None}

    def id_for_url(self, url: str) -> str | None:
        with self._db.transaction(write=False) as conn:
            entry = row(conn, "SELECT article_id FROM article_urls WHERE url = :url", {"url": url})
        return entry["article_id"] if entry else None

    def urls(self, article_id: str) -> list[str]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                "SELECT url FROM article_urls WHERE article_id = :id ORDER BY first_seen, url",
                {"id": article_id},
            )
        return [entry["url"] for entry in found]

    def delete(self, article_id: str) -> bool:
        """Remove an article with its entities, URLs and story buckets; False when it was not stored."""
        with self._db.transaction(write=True) as conn:
            return execute(conn, "DELETE FROM articles WHERE id = :id", {"id": article_id}) > 0

    def count(self) -> int:
        with self._db.transaction(write=False) as conn:
            return int(row(conn, "SELECT count(*) AS n FROM articles")["n"])  # type: ignore[index]

    def counts(self) -> dict[str, int]:
        """Articles in all and waiting for tags; ``unindexed`` is 0: there is no embedded index to wait for.

        What the search cluster lacks is its ledger's (``cluster_ledger.counts(target)``, `regwatch index status`).
        """
        with self._db.transaction(write=False) as conn:
            entry = row(
                conn,
                "SELECT count(*) AS articles, count(*) FILTER (WHERE tagged_at IS NULL) AS untagged FROM articles",
            )
        assert entry is not None
        return {"articles": int(entry["articles"]), "untagged": int(entry["untagged"]), "unindexed": 0}

    def needing_tags(
        self,
        limit: int | None = None,
        tagger_version: str | None = None,
        among: Sequence[str] | None = None,
    ) -> list[Article]:
        sql = f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE tagged_at IS NULL"
        params: dict[str, Any] = {}
        if tagger_version is not None:
            sql += """ AND NOT EXISTS (SELECT 1 FROM tag_errors e WHERE e.article_id = articles.id
                AND e.tagger_version = :version AND e.content_hash = articles.content_hash)"""
            params["version"] = tagger_version
        if among is not None:
            sql += " AND id = ANY(CAST(:among AS text[]))"
            params["among"] = list(among)
        sql += " ORDER BY first_seen, doc"
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = limit
        with self._db.transaction(write=False) as conn:
            found = rows(conn, sql, params)
        return [to_article(entry, []) for entry in found]

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
        """As on SQLite: False (nothing stored) when the text changed since ``content_hash``; KeyError if unknown."""
        now = to_pg(utcnow())
        with self._db.transaction(write=True) as conn:
            entry = row(
                conn, "SELECT content_hash FROM articles WHERE id = :id FOR UPDATE", {"id": article_id}
            )
            if entry is None:
                raise KeyError(article_id)
            if content_hash is not None and entry["content_hash"] != content_hash:
                log.info("Article %s changed while it was tagged; it will be tagged again", article_id)
                return False
            write_entities(conn, article_id, entities, tagger_version, now, quotes, actions)
        return True

    def first_seen_between(self, after: datetime | None, until: datetime) -> list[Article]:
        clauses, params = ["first_seen <= :until"], {"until": to_pg(until)}
        if after is not None:
            clauses.append("first_seen > :after")
            params["after"] = to_pg(after)
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE {' AND '.join(clauses)} "
                "ORDER BY sort_at DESC, doc DESC",
                params,
            )
            return articles_with_entities(conn, found)

    def tagged_by_other_version(
        self, tagger_version: str, after_doc: int, limit: int
    ) -> list[tuple[int, Article]]:
        with self._db.transaction(write=False) as conn:
            found = rows(
                conn,
                f"""
                SELECT {ARTICLE_COLUMNS} FROM articles
                WHERE tagged_at IS NOT NULL AND tagger_version != :version AND doc > :after
                ORDER BY doc LIMIT :limit
                """,
                {"version": tagger_version, "after": after_doc, "limit": limit},
            )
        return [(int(entry["doc"]), to_article(entry, [])) for entry in found]

    def count_tagged_by_other_version(self, tagger_version: str) -> int:
        with self._db.transaction(write=False) as conn:
            entry = row(
                conn,
                "SELECT count(*) AS n FROM articles WHERE tagged_at IS NOT NULL AND tagger_version != :version",
                {"version": tagger_version},
            )
        return int(entry["n"]) if entry else 0


def write_entities(
    conn: Connection,
    article_id: str,
    entities: Sequence[TaggedEntity],
    tagger_version: str,
    now: datetime | None,
    quotes: Sequence[Quote] | None = None,
    actions: Sequence[Action] | None = None,
) -> None:
    """Replace the article's entities (and quotes, actions unless None), mark it tagged, due for reindexing."""
    execute(conn, "DELETE FROM article_entities WHERE article_id = :id", {"id": article_id})
    execute(conn, "DELETE FROM tag_errors WHERE article_id = :id", {"id": article_id})  # tagged now
    updates = ["tagged_at = :now", "tagger_version = :version", "version = version + 1"]
    params: dict[str, Any] = {"id": article_id, "now": now, "version": tagger_version}
    for column, values in (("quotes", quotes), ("actions", actions)):
        if values is not None:
            updates.append(f"{column} = CAST(:{column} AS jsonb)")
            params[column] = as_json([v.to_dict() for v in values])
    entry = row(conn, f"UPDATE articles SET {', '.join(updates)} WHERE id = :id RETURNING doc", params)
    assert entry is not None, article_id
    execute(
        conn,
        """
        INSERT INTO article_entities (article_id, doc, position, entity_id, name, norm_name, type, mentions,
            count, first_position, in_title, salience)
        VALUES (:article_id, :doc, :position, :entity_id, :name, :norm_name, :type, CAST(:mentions AS jsonb),
            :count, :first_position, :in_title, :salience)
        """,
        [
            {
                "article_id": article_id,
                "doc": entry["doc"],
                "position": position,
                "entity_id": e.entity_id,
                "name": e.name,
                "norm_name": normalise_name(e.name),
                "type": e.type,
                "mentions": as_json(list(e.mentions)),
                "count": e.count,
                "first_position": e.first_position,
                "in_title": bool(e.in_title),
                "salience": float(e.salience),
            }
            for position, e in enumerate(entities)
        ],
    )
