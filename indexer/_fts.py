"""Keeping the FTS5 index in step with the articles (the search component's ``index_pending``).

Indexing is deferred: the store writes articles, and this brings the external
content FTS5 table up to date from the index ledger (see ``_schema``: the
triggers take an article out of the index before its text changes, so the
index never holds words an article no longer has).
"""

from __future__ import annotations

import logging

from regwatch.models import utcnow

from ._database import Database
from ._schema import to_db

log = logging.getLogger(__name__)

# Changes kept in search_changes for the column snapshots of other processes (see _columns.py):
# a snapshot further behind than this rebuilds.
SEARCH_CHANGES_KEPT = 100_000


def index_pending(db: Database, batch_size: int) -> int:
    """Bring the FTS5 index up to date; return how many articles were (re)indexed.

    The index ledger says which version of each article the index holds. An
    article whose text changed left the index when it changed (see the
    schema's triggers), so here it is only added. One whose version went up
    without a text change (new entities) keeps its index entry: only its
    ledger row moves on. Works in batches so a crawl writing meanwhile is
    not locked out for long; a second call finds nothing to do.
    """
    done = 0
    while True:
        with db.transaction(write=True) as conn:
            rows = conn.execute(
                """
                SELECT a.doc, a.id, a.version, a.content_hash, a.title, a.summary, a.body,
                    l.doc AS indexed_doc, l.content_hash AS indexed_hash
                FROM articles a LEFT JOIN index_ledger l ON l.article_id = a.id
                WHERE l.article_id IS NULL OR l.version != a.version
                LIMIT ?
                """,
                (batch_size,),
            ).fetchall()
            now = to_db(utcnow())
            for row in rows:
                same_entry = row["indexed_doc"] == row["doc"] and row["indexed_hash"] == row["content_hash"]
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
        if len(rows) < batch_size:
            break
    if done:
        with db.transaction(write=True) as conn:  # the changes log keeps the latest ones
            conn.execute(
                "DELETE FROM search_changes WHERE seq <= (SELECT max(seq) FROM search_changes) - ?",
                (SEARCH_CHANGES_KEPT,),
            )
        log.info("Indexed %d articles in %s", done, db.path)
    return done
