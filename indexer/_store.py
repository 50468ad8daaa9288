"""The embedded store: articles (the source of truth), FTS5 search (``_search``), and the ledgers.

One SQLite file in WAL mode holds everything, so the crawl subprocess can write
articles while the parent reads. Each :class:`Store` owns one connection; write
methods run in a ``BEGIN IMMEDIATE`` transaction each.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from regwatch.errors import SOURCE_ERROR_CLASSES, IndexBackendError
from regwatch.models import Action, Article, CrawlStats, Quote, Source, TaggedEntity, utcnow

from . import _story
from ._fetch_ledger import FetchLedgerMixin
from ._query import normalise_name
from ._schema import connect, from_db, to_db
from ._search import SearchMixin, _display_names
from ._tag_errors import TagErrorsMixin
from ._types import (
    DIGEST_STATUSES,
    ClusterDoc,
    DigestRecord,
    SourceHealth,
)

log = logging.getLogger(__name__)

# Changes kept in search_changes for the column snapshots of other processes (see _columns.py):
# a snapshot further behind than this rebuilds.
SEARCH_CHANGES_KEPT = 100_000

# "timeout: ...", "[timeout] ...", "timeout - ..." name the error class of a crawl error message.
_ERROR_CLASS_RE = re.compile(r"^\s*\[?(" + "|".join(SOURCE_ERROR_CLASSES) + r")\b\]?", re.IGNORECASE)


def _error_class(message: str) -> str:
    found = _ERROR_CLASS_RE.match(message)
    return found.group(1).lower() if found else "other"


class Store(SearchMixin, FetchLedgerMixin, TagErrorsMixin):
    """The regwatch database. Open it with :meth:`open` (or :meth:`from_settings`)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, index_batch_size: int = 500) -> None:
        self._conn = conn
        self.path = path
        self.index_batch_size = max(1, index_batch_size)
        # The configured sources, for the source-type and jurisdiction filters and facets.
        self.sources: dict[str, Source] = {}
        self._writes = 0  # write transactions committed here: a change invalidates the materialised hits
        # Cluster stories on upsert (see indexer/_story.py); switched off only by a benchmark's baseline.
        self.story_clusters = True
        # Leave new and changed articles to the batch step (index_pending) instead: a crawl's
        # item pipeline sets this, so the crawl spends its time fetching and extracting.
        self.defer_stories = False
        self._init_search()

    @classmethod
    def open(cls, path: Path, busy_timeout: float = 30.0, index_batch_size: int = 500) -> Store:
        """Open (or create) the store at ``path``; raise IndexBackendError if it is unusable."""
        path = Path(path)
        store = cls(connect(path, busy_timeout), path, index_batch_size)
        log.debug("Opened the index store at %s", path)
        return store

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], home: Path) -> Store:
        """Open the store in the regwatch home dir as the ``INDEX_*`` settings say."""
        return cls.open(
            Path(home) / settings["INDEX_DB_NAME"],
            busy_timeout=float(settings["INDEX_BUSY_TIMEOUT"]),
            index_batch_size=int(settings["INDEX_BATCH_SIZE"]),
        )

    def close(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute("PRAGMA optimize")
        except sqlite3.Error as exc:  # closing must not fail because another process holds a lock
            log.debug("PRAGMA optimize skipped on %s: %s", self.path, exc)
        self._conn.close()
        self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- transactions --------------------------------------------------------

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction; sqlite errors become IndexBackendError naming the file.

        Reads run in a transaction too, so a count and its page come from one snapshot.
        """
        conn = self._conn
        if conn is None:
            raise IndexBackendError(f"{self.path}: the store is closed")
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as exc:
            raise IndexBackendError(f"{self.path}: cannot start a transaction ({exc})") from exc
        try:
            yield conn
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise IndexBackendError(f"{self.path}: {exc}") from exc
            raise
        else:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise IndexBackendError(f"{self.path}: cannot commit ({exc})") from exc
            if write:
                self._writes += 1

    # -- articles --------------------------------------------------------------

    def upsert_article(self, article: Article, *, seen_at: datetime | None = None) -> str:
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
        with self._transaction(write=True) as conn:
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
                self._write_entities(
                    conn, article_id, article.entities, "", now, article.quotes, article.actions
                )
            if status != "duplicate" and self.story_clusters:
                # In the same transaction as the text, so the story always matches the stored text.
                if self.defer_stories:
                    _story.defer(conn, article_id)
                else:
                    _story.recluster(
                        conn, article_id, _story.story_text(article.title, article.body, article.summary)
                    )
        log.debug("Stored %s article %s from %s (%s)", status, article_id, article.source_id, article.url)
        return status

    def get_article(self, article_id: str) -> Article | None:
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                return None
            return self._to_article(row, self._entities(conn, [article_id]).get(article_id, []))

    def article_id_for_url(self, url: str) -> str | None:
        """The id of the article seen at ``url``, a canonical or a fetch URL (e.g. a syndicated copy)."""
        with self._transaction(write=False) as conn:
            row = conn.execute("SELECT article_id FROM article_urls WHERE url = ?", (url,)).fetchone()
        return row["article_id"] if row else None

    def article_urls(self, article_id: str) -> list[str]:
        """Every URL the article was seen at, in the order they were first seen."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT url FROM article_urls WHERE article_id = ? ORDER BY first_seen, url", (article_id,)
            ).fetchall()
        return [r["url"] for r in rows]

    def delete_article(self, article_id: str) -> bool:
        """Remove an article, its entities and its index entry; False when it was not stored."""
        with self._transaction(write=True) as conn:
            deleted = conn.execute("DELETE FROM articles WHERE id = ?", (article_id,)).rowcount
        return deleted > 0

    def count_articles(self) -> int:
        with self._transaction(write=False) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    def counts(self) -> dict[str, int]:
        """Articles in all, waiting for tags, and waiting to be (re)indexed."""
        with self._transaction(write=False) as conn:
            row = conn.execute(
                """
                SELECT count(*) AS articles,
                    count(*) FILTER (WHERE a.tagged_at IS NULL) AS untagged,
                    count(*) FILTER (WHERE l.version IS NULL OR l.version != a.version) AS unindexed
                FROM articles a LEFT JOIN index_ledger l ON l.article_id = a.id
                """
            ).fetchone()
        return {key: int(row[key]) for key in ("articles", "untagged", "unindexed")}

    def articles_needing_tags(
        self, limit: int | None = None, tagger_version: str | None = None
    ) -> list[Article]:
        """Articles that are new or changed since they were last tagged, oldest first.

        With ``tagger_version``, not those that version already failed on, with the same text
        (see :meth:`record_tag_error`).
        """
        sql = "SELECT * FROM articles WHERE tagged_at IS NULL"
        params: tuple[Any, ...] = ()
        if tagger_version is not None:
            sql += """ AND NOT EXISTS (SELECT 1 FROM tag_errors e WHERE e.article_id = articles.id
                AND e.tagger_version = ? AND e.content_hash = articles.content_hash)"""
            params = (tagger_version,)
        sql += " ORDER BY first_seen, doc"
        if limit is not None:
            sql += " LIMIT ?"
            params = (*params, limit)
        with self._transaction(write=False) as conn:
            rows = conn.execute(sql, params).fetchall()
        return [self._to_article(row, []) for row in rows]

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
        with self._transaction(write=True) as conn:
            row = conn.execute("SELECT content_hash FROM articles WHERE id = ?", (article_id,)).fetchone()
            if row is None:
                raise KeyError(article_id)
            if content_hash is not None and row["content_hash"] != content_hash:
                log.info("Article %s changed while it was tagged; it will be tagged again", article_id)
                return False
            self._write_entities(conn, article_id, entities, tagger_version, now, quotes, actions)
        return True

    def _write_entities(
        self,
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

    # -- the search index ------------------------------------------------------

    def index_pending(self) -> int:
        """Bring the FTS5 index up to date; return how many articles were (re)indexed.

        The index ledger says which version of each article the index holds. An
        article whose text changed left the index when it changed (see the
        schema's triggers), so here it is only added. One whose version went up
        without a text change (new entities) keeps its index entry: only its
        ledger row moves on. Works in batches so a crawl writing meanwhile is
        not locked out for long; a second call finds nothing to do.
        """
        self.cluster_stories()
        done = 0
        while True:
            with self._transaction(write=True) as conn:
                rows = conn.execute(
                    """
                    SELECT a.doc, a.id, a.version, a.content_hash, a.title, a.summary, a.body,
                        l.doc AS indexed_doc, l.content_hash AS indexed_hash
                    FROM articles a LEFT JOIN index_ledger l ON l.article_id = a.id
                    WHERE l.article_id IS NULL OR l.version != a.version
                    LIMIT ?
                    """,
                    (self.index_batch_size,),
                ).fetchall()
                now = to_db(utcnow())
                for row in rows:
                    same_entry = (
                        row["indexed_doc"] == row["doc"] and row["indexed_hash"] == row["content_hash"]
                    )
                    if row["indexed_doc"] is not None and not same_entry:
                        # A ledger row only survives while the text is unchanged, so
                        # the current values are the ones the entry was made with.
                        conn.execute(
                            "INSERT INTO article_fts (article_fts, rowid, title, summary, body) "
                            "VALUES ('delete', ?, ?, ?, ?)",
                            (row["indexed_doc"], row["title"], row["summary"], row["body"]),
                        )
                    if not same_entry:
                        conn.execute(
                            "INSERT INTO article_fts (rowid, title, summary, body) VALUES (?, ?, ?, ?)",
                            (row["doc"], row["title"], row["summary"], row["body"]),
                        )
                    conn.execute(
                        """
                        INSERT INTO index_ledger (article_id, doc, version, content_hash, indexed_at)
                        VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT (article_id) DO UPDATE SET doc = excluded.doc,
                            version = excluded.version, content_hash = excluded.content_hash,
                            indexed_at = excluded.indexed_at
                        """,
                        (row["id"], row["doc"], row["version"], row["content_hash"], now),
                    )
            done += len(rows)
            if len(rows) < self.index_batch_size:
                break
        if done:
            with self._transaction(write=True) as conn:  # the changes log keeps the latest ones
                conn.execute(
                    "DELETE FROM search_changes WHERE seq <= (SELECT max(seq) FROM search_changes) - ?",
                    (SEARCH_CHANGES_KEPT,),
                )
            log.info("Indexed %d articles in %s", done, self.path)
        return done

    def cluster_stories(self) -> int:
        """Give a story to every article stored before story clusters existed (the backfill).

        Oldest first and in batches; return how many were clustered. A second call finds nothing to do.
        """
        done = 0
        while True:
            with self._transaction(write=True) as conn:
                batch = _story.backfill(conn, self.index_batch_size)
            done += batch
            if batch < self.index_batch_size:
                break
        if done:
            log.info("Clustered %d articles into stories in %s", done, self.path)
        return done

    def articles_first_seen_between(self, after: datetime | None, until: datetime) -> list[Article]:
        """Articles first seen in (``after``, ``until``], with entities, newest published first."""
        clauses, params = ["first_seen <= ?"], [to_db(until)]
        if after is not None:
            clauses.append("first_seen > ?")
            params.append(to_db(after))
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                f"SELECT * FROM articles WHERE {' AND '.join(clauses)} ORDER BY sort_at DESC, doc DESC",
                params,
            ).fetchall()
            entities = self._entities(conn, [r["id"] for r in rows])
        return [self._to_article(row, entities.get(row["id"], [])) for row in rows]

    # -- cluster ledger ------------------------------------------------------------
    # Which version of each article a search cluster ("target": URL + alias) has
    # acknowledged. Whatever it has not acknowledged stays pending here, so a node
    # outage loses nothing and a second sync sends nothing twice.

    def cluster_pending(self, target: str, after: str = "", limit: int = 500) -> list[ClusterDoc]:
        """Articles the cluster lacks or holds an older version of, by id after ``after``."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                """
                SELECT a.* FROM articles a
                LEFT JOIN cluster_ledger l ON l.target = :target AND l.article_id = a.id
                WHERE (l.article_id IS NULL OR l.version != a.version) AND a.id > :after
                ORDER BY a.id LIMIT :limit
                """,
                {"target": target, "after": after, "limit": limit},
            ).fetchall()
            entities = self._entities(conn, [r["id"] for r in rows])
        return [
            ClusterDoc(
                article=self._to_article(row, entities.get(row["id"], [])),
                doc=row["doc"],
                version=row["version"],
                first_seen=from_db(row["first_seen"]),  # type: ignore[arg-type]
                display_entities=_display_names(entities.get(row["id"], [])),
            )
            for row in rows
        ]

    def cluster_deletions(self, target: str) -> list[str]:
        """Ids the cluster holds whose articles were deleted here."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT article_id FROM cluster_ledger l WHERE target = ? "
                "AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = l.article_id)",
                (target,),
            ).fetchall()
        return [r["article_id"] for r in rows]

    def cluster_record(
        self,
        target: str,
        acked: Sequence[tuple[str, int]] = (),
        deleted: Sequence[str] = (),
        failed: Sequence[tuple[str, int, str]] = (),
    ) -> None:
        """Record what the cluster acknowledged (id, version), deleted, or refused (id, version, reason)."""
        now = to_db(utcnow())
        with self._transaction(write=True) as conn:
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

    def cluster_forget(self, target: str, acked_since: datetime | None = None) -> int:
        """Drop ledger rows (all, or those acknowledged since a time) so the next sync sends them again."""
        sql, params = "DELETE FROM cluster_ledger WHERE target = ?", [target]
        if acked_since is not None:
            sql += " AND acked_at >= ?"
            params.append(to_db(acked_since))  # type: ignore[arg-type]
        with self._transaction(write=True) as conn:
            return conn.execute(sql, params).rowcount

    def cluster_counts(self, target: str) -> dict[str, int]:
        """Articles acknowledged by the cluster, pending, refused, and deletions it has not seen."""
        with self._transaction(write=False) as conn:
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
        counts["deletions"] = len(self.cluster_deletions(target))
        return counts

    def cluster_failures(self, target: str, limit: int = 20) -> list[dict[str, Any]]:
        """The documents the cluster refused, latest first, with its reasons."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT article_id, version, reason, attempts, failed_at FROM cluster_failures "
                "WHERE target = ? ORDER BY failed_at DESC LIMIT ?",
                (target, limit),
            ).fetchall()
        return [dict(row) for row in rows]

    # -- reading rows back -------------------------------------------------------

    @staticmethod
    def _entities(conn: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, list[TaggedEntity]]:
        found: dict[str, list[TaggedEntity]] = {}
        if not article_ids:
            return found
        rows = conn.execute(
            "SELECT * FROM article_entities WHERE article_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY article_id, position",
            (json.dumps(list(article_ids)),),
        ).fetchall()
        for row in rows:
            found.setdefault(row["article_id"], []).append(
                TaggedEntity(
                    name=row["name"],
                    type=row["type"],
                    mentions=json.loads(row["mentions"]),
                    entity_id=row["entity_id"],
                    count=row["count"],
                    first_position=row["first_position"],
                    in_title=bool(row["in_title"]),
                    salience=row["salience"],
                )
            )
        return found

    @staticmethod
    def _to_article(row: sqlite3.Row, entities: list[TaggedEntity]) -> Article:
        return Article(
            url=row["url"],
            source_id=row["source_id"],
            title=row["title"],
            body=row["body"],
            fetch_url=row["fetch_url"],
            summary=row["summary"],
            published=from_db(row["published"]),
            updated=from_db(row["updated"]),
            authors=json.loads(row["authors"]),
            language=row["language"],
            section=row["section"],
            tags=json.loads(row["tags"]),
            fetched_at=from_db(row["fetched_at"]) or utcnow(),
            entities=entities,
            quotes=[Quote.from_dict(q) for q in json.loads(row["quotes"])],
            actions=[Action.from_dict(a) for a in json.loads(row["actions"])],
            story_id=row["story_id"],
        )

    # -- crawl ledger ------------------------------------------------------------

    def record_source_run(self, stats: CrawlStats, started: datetime, finished: datetime) -> None:
        """Record one run of one source.

        A run fails when it had errors and collected nothing; a run that
        collected items despite some errors succeeds, but its first error is
        still kept as the source's last error. The error class is read from the
        start of the first message ("timeout: ...", "[dns] ..."), else "other".
        """
        items = stats.new + stats.updated + stats.duplicate + stats.not_modified  # 304: known, unchanged
        had_errors = stats.errors > 0 or bool(stats.error_messages)
        ok = not (had_errors and items == 0)
        message = stats.error_messages[0] if stats.error_messages else ""
        if had_errors and not message:
            message = f"{stats.errors} errors"
        with self._transaction(write=True) as conn:
            conn.execute(
                """
                INSERT INTO crawl_runs (source_id, started, finished, ok, pages_fetched, new, updated,
                    duplicate, errors, error_class, error_message, error_messages)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    stats.source_id,
                    to_db(started),
                    to_db(finished),
                    int(ok),
                    stats.pages_fetched,
                    stats.new,
                    stats.updated,
                    stats.duplicate,
                    stats.errors,
                    _error_class(message) if message else "",
                    message,
                    json.dumps(list(stats.error_messages)),
                ),
            )
        if not ok:
            # The crawl already logged the failure as one WARNING line; this is the ledger's note.
            log.info("source=%s run recorded as failed: %s", stats.source_id, message)

    def source_health(self) -> list[SourceHealth]:
        """Per source (with runs or articles): its latest run, success, error and output."""
        with self._transaction(write=False) as conn:
            latest = conn.execute(
                """
                SELECT source_id, finished, new + updated + duplicate AS items,
                    row_number() OVER (PARTITION BY source_id ORDER BY started DESC, run DESC) AS nth
                FROM crawl_runs
                """
            ).fetchall()
            successes = conn.execute(
                """
                SELECT source_id, max(started) AS started, max(finished) AS finished
                FROM crawl_runs WHERE ok = 1 GROUP BY source_id
                """
            ).fetchall()
            errors = conn.execute(
                """
                SELECT source_id, finished, error_class, error_message FROM (
                    SELECT *, row_number() OVER (PARTITION BY source_id ORDER BY started DESC, run DESC) AS nth
                    FROM crawl_runs WHERE error_message != '')
                WHERE nth = 1
                """
            ).fetchall()
            failures = conn.execute(
                """
                SELECT r.source_id, count(*) AS n FROM crawl_runs r
                WHERE r.ok = 0 AND r.started > coalesce(
                    (SELECT max(s.started) FROM crawl_runs s WHERE s.source_id = r.source_id AND s.ok = 1), '')
                GROUP BY r.source_id
                """
            ).fetchall()
            articles = conn.execute(
                "SELECT source_id, count(*) AS n, max(published) AS newest FROM articles GROUP BY source_id"
            ).fetchall()
        health: dict[str, SourceHealth] = {}

        def of(source_id: str) -> SourceHealth:
            return health.setdefault(source_id, SourceHealth(source_id=source_id))

        for row in latest:
            if row["nth"] == 1:
                entry = of(row["source_id"])
                entry.last_run, entry.items_last_run = from_db(row["finished"]), int(row["items"])
        for row in successes:
            of(row["source_id"]).last_success = from_db(row["finished"])
        for row in errors:
            entry = of(row["source_id"])
            entry.last_error, entry.last_error_class = row["error_message"], row["error_class"]
            entry.last_error_at = from_db(row["finished"])
        for row in failures:
            of(row["source_id"]).consecutive_failures = int(row["n"])
        for row in articles:
            entry = of(row["source_id"])
            entry.total_articles, entry.newest_item = int(row["n"]), from_db(row["newest"])
        return [health[key] for key in sorted(health)]

    # -- digest ledger -----------------------------------------------------------

    def digest_record(self, subscriber_id: str, period: date) -> DigestRecord | None:
        with self._transaction(write=False) as conn:
            row = conn.execute(
                "SELECT * FROM digests WHERE subscriber_id = ? AND period = ?",
                (subscriber_id, _period(period)),
            ).fetchone()
        return _to_digest(row) if row else None

    def record_digest(
        self,
        subscriber_id: str,
        period: date,
        message_id: str,
        status: str,
        watermark: datetime | None,
        location: str = "",
        error: str = "",
        article_ids: Sequence[str] = (),
        *,
        force: bool = False,
    ) -> None:
        """Create or update the ledger row of (subscriber, period).

        ``status`` is "pending" (about to send, or a failure worth retrying),
        "delivered", or "failed" (permanently). Each recorded outcome of a send
        counts as an attempt: delivered, failed, or pending with an ``error``. A watermark, location or article ids left empty keep the stored
        ones, so "delivered" can be recorded with just the message id; ``error``
        always replaces the stored one. Recording anything but "delivered" over a
        delivered digest raises ValueError unless ``force`` (a deliberate resend):
        that is what keeps delivery exactly-once.
        """
        if status not in DIGEST_STATUSES:
            raise ValueError(f"digest status must be one of {', '.join(DIGEST_STATUSES)}, got {status!r}")
        now = to_db(utcnow())
        key = (subscriber_id, _period(period))
        with self._transaction(write=True) as conn:
            row = conn.execute(
                "SELECT status, message_id FROM digests WHERE subscriber_id = ? AND period = ?", key
            ).fetchone()
            if row is not None and row["status"] == "delivered" and status != "delivered" and not force:
                raise ValueError(
                    f"the digest of {subscriber_id} for {key[1]} was already delivered "
                    f"({row['message_id']}); pass force=True to send it again"
                )
            conn.execute(
                """
                INSERT INTO digests (subscriber_id, period, message_id, status, watermark, location, error,
                    article_ids, attempts, created_at, updated_at, delivered_at)
                VALUES (:subscriber_id, :period, :message_id, :status, :watermark, :location, :error,
                    :article_ids, :attempt, :now, :now, :delivered_at)
                ON CONFLICT (subscriber_id, period) DO UPDATE SET
                    message_id = excluded.message_id,
                    status = excluded.status,
                    watermark = coalesce(excluded.watermark, digests.watermark),
                    location = CASE WHEN excluded.location = '' THEN digests.location ELSE excluded.location END,
                    error = excluded.error,
                    article_ids = CASE WHEN :has_ids THEN excluded.article_ids ELSE digests.article_ids END,
                    attempts = digests.attempts + excluded.attempts,
                    updated_at = excluded.updated_at,
                    delivered_at = coalesce(excluded.delivered_at, digests.delivered_at)
                """,
                {
                    "subscriber_id": subscriber_id,
                    "period": key[1],
                    "message_id": message_id,
                    "status": status,
                    "watermark": to_db(watermark),
                    "location": location,
                    "error": error,
                    "article_ids": json.dumps(list(article_ids)),
                    "has_ids": bool(article_ids),
                    "attempt": int(status != "pending" or bool(error)),
                    "now": now,
                    "delivered_at": now if status == "delivered" else None,
                },
            )
        log.debug("Digest of %s for %s recorded as %s (%s)", subscriber_id, key[1], status, message_id)

    def last_watermark(self, subscriber_id: str) -> datetime | None:
        """The watermark of the subscriber's newest delivered digest (pending and failed ones don't count)."""
        with self._transaction(write=False) as conn:
            row = conn.execute(
                """
                SELECT watermark FROM digests
                WHERE subscriber_id = ? AND status = 'delivered' AND watermark IS NOT NULL
                ORDER BY period DESC, watermark DESC LIMIT 1
                """,
                (subscriber_id,),
            ).fetchone()
        return from_db(row["watermark"]) if row else None

    def pending_digests(self) -> list[DigestRecord]:
        """Digests recorded as pending (not yet delivered, retryable), oldest period first."""
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM digests WHERE status = 'pending' ORDER BY period, subscriber_id"
            ).fetchall()
        return [_to_digest(row) for row in rows]


def _period(period: date) -> str:
    return (period.date() if isinstance(period, datetime) else period).isoformat()


def _to_digest(row: sqlite3.Row) -> DigestRecord:
    return DigestRecord(
        subscriber_id=row["subscriber_id"],
        period=date.fromisoformat(row["period"]),
        message_id=row["message_id"],
        status=row["status"],
        watermark=from_db(row["watermark"]),
        location=row["location"],
        error=row["error"],
        article_ids=json.loads(row["article_ids"]),
        attempts=row["attempts"],
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
        delivered_at=from_db(row["delivered_at"]),
    )
