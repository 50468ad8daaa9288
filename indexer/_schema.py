"""The SQLite schema, its migrations, and how values are stored.

The schema is versioned with ``PRAGMA user_version``. A new database is created
at the current version from :data:`indexer._schema_current.CURRENT_SCHEMA`;
``MIGRATIONS[n]`` takes an existing database from version ``n`` to ``n + 1``. To
change the schema, append a migration and make the same change in
``CURRENT_SCHEMA`` (a test compares a new store with a migrated one); never edit
a migration that has shipped.

Search uses an FTS5 *external content* table over ``articles``. Indexing is
deferred (``store.search.index_pending()``), so the index may lag behind the articles,
but it must never hold terms an article no longer has: the ``articles_unindex_*``
triggers remove an article from the index, with the exact values it was indexed
with, before its text changes or it is deleted, and drop its index-ledger row
so ``index_pending`` indexes it again.

Longer than most modules on purpose: the migrations are an append-only history.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from regwatch.errors import IndexBackendError
from regwatch.models import parse_datetime
from regwatch.private import private_file

from ._schema_current import BM25_WEIGHTS, CURRENT_SCHEMA

log = logging.getLogger(__name__)

NO_FTS5_MESSAGE = (
    "This Python's SQLite has no FTS5: install a Python built with FTS5, "
    "or set REGWATCH_INDEX_URL to use a search cluster"
)

# Connection tuning for search (address space, not memory: the OS pages the file in as read).
MMAP_BYTES = 1 << 30
CACHE_KIB = 64 * 1024

_V1: tuple[str, ...] = (
    # The source of truth. ``doc`` is an explicit rowid so VACUUM cannot renumber
    # the rows the FTS index points at. ``version`` goes up whenever the article
    # must be indexed again (new content, new entities).
    """
    CREATE TABLE articles (
        doc INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        url TEXT NOT NULL,
        source_id TEXT NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        fetch_url TEXT NOT NULL DEFAULT '',
        published TEXT,
        updated TEXT,
        authors TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT '',
        section TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '[]',
        fetched_at TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1,
        tagged_at TEXT,
        tagger_version TEXT NOT NULL DEFAULT '',
        sort_at TEXT GENERATED ALWAYS AS (coalesce(published, first_seen)) VIRTUAL
    )
    """,
    "CREATE INDEX articles_source ON articles (source_id, published)",
    "CREATE INDEX articles_first_seen ON articles (first_seen)",
    "CREATE INDEX articles_sort_at ON articles (sort_at)",
    "CREATE INDEX articles_untagged ON articles (first_seen) WHERE tagged_at IS NULL",
    # Every URL an article was seen at (canonical and fetch URLs), so a
    # syndicated copy at another address is known.
    """
    CREATE TABLE article_urls (
        url TEXT PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    )
    """,
    "CREATE INDEX article_urls_article ON article_urls (article_id)",
    """
    CREATE TABLE article_entities (
        article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        entity_id TEXT,
        name TEXT NOT NULL,
        norm_name TEXT NOT NULL,
        type TEXT NOT NULL,
        mentions TEXT NOT NULL DEFAULT '[]',
        count INTEGER NOT NULL DEFAULT 0,
        first_position INTEGER NOT NULL DEFAULT -1,
        in_title INTEGER NOT NULL DEFAULT 0,
        salience REAL NOT NULL DEFAULT 0.0,
        PRIMARY KEY (article_id, position)
    )
    """,
    "CREATE INDEX article_entities_entity_id ON article_entities (entity_id COLLATE NOCASE)",
    "CREATE INDEX article_entities_norm_name ON article_entities (norm_name)",
    # No porter stemmer: it stems a prefix query too ("regulat*" becomes a stem no
    # indexed word has), and prefix search is what users reach for.
    """
    CREATE VIRTUAL TABLE article_fts USING fts5 (
        title, summary, body,
        content = 'articles', content_rowid = 'doc',
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '2 3'
    )
    """,
    "INSERT INTO article_fts (article_fts, rank) VALUES ('rank', 'bm25({}, {}, {})')".format(*BM25_WEIGHTS),
    # The index ledger: which version of each article the FTS index holds.
    """
    CREATE TABLE index_ledger (
        article_id TEXT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
        doc INTEGER NOT NULL,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        indexed_at TEXT NOT NULL
    )
    """,
    """
    CREATE TRIGGER articles_unindex_update
    BEFORE UPDATE OF title, summary, body ON articles
    WHEN EXISTS (SELECT 1 FROM index_ledger WHERE article_id = old.id)
    BEGIN
        INSERT INTO article_fts (article_fts, rowid, title, summary, body)
            VALUES ('delete', old.doc, old.title, old.summary, old.body);
        DELETE FROM index_ledger WHERE article_id = old.id;
    END
    """,
    """
    CREATE TRIGGER articles_unindex_delete
    BEFORE DELETE ON articles
    WHEN EXISTS (SELECT 1 FROM index_ledger WHERE article_id = old.id)
    BEGIN
        INSERT INTO article_fts (article_fts, rowid, title, summary, body)
            VALUES ('delete', old.doc, old.title, old.summary, old.body);
        DELETE FROM index_ledger WHERE article_id = old.id;
    END
    """,
    # The crawl ledger: one row per source per run.
    """
    CREATE TABLE crawl_runs (
        run INTEGER PRIMARY KEY,
        source_id TEXT NOT NULL,
        started TEXT NOT NULL,
        finished TEXT NOT NULL,
        ok INTEGER NOT NULL,
        pages_fetched INTEGER NOT NULL DEFAULT 0,
        new INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        duplicate INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0,
        error_class TEXT NOT NULL DEFAULT '',
        error_message TEXT NOT NULL DEFAULT '',
        error_messages TEXT NOT NULL DEFAULT '[]'
    )
    """,
    "CREATE INDEX crawl_runs_source ON crawl_runs (source_id, started)",
    # The digest ledger: one row per subscriber and period, for exactly-once delivery.
    """
    CREATE TABLE digests (
        subscriber_id TEXT NOT NULL,
        period TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        watermark TEXT,
        location TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        article_ids TEXT NOT NULL DEFAULT '[]',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        delivered_at TEXT,
        PRIMARY KEY (subscriber_id, period)
    )
    """,
    "CREATE INDEX digests_status ON digests (status)",
)

_V2: tuple[str, ...] = (
    # What nlp found besides entities (JSON lists of Quote / Action dicts); derived
    # from the text like the entities, so an update of the text empties them.
    "ALTER TABLE articles ADD COLUMN quotes TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE articles ADD COLUMN actions TEXT NOT NULL DEFAULT '[]'",
    # The cluster ledger: which version of each article a search cluster has
    # acknowledged, per target (cluster URL + alias), so a new cluster starts
    # empty and a node outage loses nothing. No foreign key on purpose: a row
    # whose article is gone is a deletion the cluster has not seen yet.
    """
    CREATE TABLE cluster_ledger (
        target TEXT NOT NULL,
        article_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        acked_at TEXT NOT NULL,
        PRIMARY KEY (target, article_id)
    )
    """,
    # Documents the cluster refused (mapping errors...), with its reason; retried on every sync.
    """
    CREATE TABLE cluster_failures (
        target TEXT NOT NULL,
        article_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        reason TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1,
        failed_at TEXT NOT NULL,
        PRIMARY KEY (target, article_id)
    )
    """,
)

_V3: tuple[str, ...] = (
    # The fetch ledger (see indexer/_fetch_ledger.py): one row per source and article
    # page URL (canonical form) with the validators for a conditional GET and what it gave.
    """
    CREATE TABLE fetch_ledger (
        source_id TEXT NOT NULL,
        url TEXT NOT NULL,
        status INTEGER NOT NULL,
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '',
        content_hash TEXT NOT NULL DEFAULT '',
        article_url TEXT NOT NULL DEFAULT '',
        first_fetched TEXT NOT NULL,
        last_fetched TEXT NOT NULL,
        last_changed TEXT NOT NULL,
        PRIMARY KEY (source_id, url)
    )
    """,
    "CREATE INDEX fetch_ledger_url ON fetch_ledger (url)",
    # Per-source health state carried from run to run: the weighted failure score
    # that disables a source, its volume average, and its last index latency.
    """
    CREATE TABLE source_state (
        source_id TEXT PRIMARY KEY,
        failure_score REAL NOT NULL DEFAULT 0,
        disabled_at TEXT,
        disabled_reason TEXT NOT NULL DEFAULT '',
        latency_ms INTEGER,
        items_found INTEGER NOT NULL DEFAULT 0,
        avg_items REAL,
        runs INTEGER NOT NULL DEFAULT 0,
        low_volume INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    )
    """,
)

_V4: tuple[str, ...] = (
    # Stories (see indexer/_story.py): the id of the first stored article of the
    # article's story. '' until assigned: articles stored before this version get
    # theirs from store.stories.assign_pending().
    "ALTER TABLE articles ADD COLUMN story_id TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX articles_story ON articles (story_id)",
    # The LSH bucket keys of the article's MinHash (a JSON list), so its rows in
    # story_buckets are removed by primary key when its text changes or it is deleted.
    "ALTER TABLE articles ADD COLUMN story_buckets TEXT NOT NULL DEFAULT '[]'",
    # Candidates come from a primary-key lookup per bucket. Small rows (32-bit keys, the
    # article's row number) and no second index or foreign key (which would need one):
    # the table stays small enough to cache, and an upsert writes few pages.
    """
    CREATE TABLE story_buckets (
        bucket INTEGER NOT NULL,
        doc INTEGER NOT NULL,
        PRIMARY KEY (bucket, doc)
    ) WITHOUT ROWID
    """,
    """
    CREATE TRIGGER articles_unbucket_delete
    AFTER DELETE ON articles
    BEGIN
        DELETE FROM story_buckets
        WHERE bucket IN (SELECT value FROM json_each(old.story_buckets)) AND doc = old.doc;
    END
    """,
)

_V5: tuple[str, ...] = (
    # Covering indexes for search (see SqliteSearch.facets and SqliteSearch._filters): the entity
    # facet reads (entity_id, name) of each hit's entities, and the entity filter
    # reads the article ids of an entity, from the index alone, not row by row
    # from the table (a third less time for a term in half of 100,000 articles).
    "CREATE INDEX article_entities_facet ON article_entities (article_id, entity_id, name)",
    "DROP INDEX article_entities_entity_id",
    "CREATE INDEX article_entities_entity_id ON article_entities (entity_id COLLATE NOCASE, article_id)",
    "DROP INDEX article_entities_norm_name",
    "CREATE INDEX article_entities_norm_name ON article_entities (norm_name, article_id)",
)

_V6: tuple[str, ...] = (
    # Search keeps its filter and facet fields in memory, as columns indexed by the
    # article's row number (see indexer/_columns.py). Entities carry that number too, so
    # the entity filter and the column snapshot read it from an index, not by joining
    # every entity row to its article by id (200 ms for 150,000 rows).
    "ALTER TABLE article_entities ADD COLUMN doc INTEGER NOT NULL DEFAULT 0",
    "UPDATE article_entities SET doc = coalesce("
    "(SELECT a.doc FROM articles a WHERE a.id = article_entities.article_id), 0)",
    "DROP INDEX article_entities_facet",
    "CREATE INDEX article_entities_facet ON article_entities (doc, entity_id, name)",
    "DROP INDEX article_entities_entity_id",
    "CREATE INDEX article_entities_entity_id ON article_entities (entity_id COLLATE NOCASE, doc)",
    "DROP INDEX article_entities_norm_name",
    "CREATE INDEX article_entities_norm_name ON article_entities (norm_name, doc)",
    # The column snapshot reads every article's language and source, and the watched
    # entities' rows by id and name, from these indexes alone, in their order (the
    # articles table is mostly text; a GROUP BY without them sorts 150,000 rows).
    "CREATE INDEX articles_language ON articles (language, source_id)",
    "CREATE INDEX article_entities_watched ON article_entities (entity_id, name, doc) WHERE entity_id IS NOT NULL",
    # The row numbers of the articles whose search fields or entities changed, in commit
    # order: a snapshot held by any process brings itself up to date from here. The
    # sequence never goes back (AUTOINCREMENT), so a reader can tell when old rows it has
    # not seen were pruned (SqliteSearch.index_pending keeps the latest ones) and rebuild.
    """
    CREATE TABLE search_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        doc INTEGER NOT NULL
    )
    """,
    """
    CREATE TRIGGER articles_search_insert AFTER INSERT ON articles
    BEGIN
        INSERT INTO search_changes (doc) VALUES (new.doc);
    END
    """,
    """
    CREATE TRIGGER articles_search_update
    AFTER UPDATE OF doc, source_id, published, first_seen, language ON articles
    BEGIN
        INSERT INTO search_changes (doc) SELECT new.doc UNION SELECT old.doc;
    END
    """,
    """
    CREATE TRIGGER articles_search_delete AFTER DELETE ON articles
    BEGIN
        INSERT INTO search_changes (doc) VALUES (old.doc);
    END
    """,
    """
    CREATE TRIGGER article_entities_search_insert AFTER INSERT ON article_entities
    BEGIN
        INSERT INTO search_changes (doc) VALUES (new.doc);
    END
    """,
    """
    CREATE TRIGGER article_entities_search_update AFTER UPDATE ON article_entities
    BEGIN
        INSERT INTO search_changes (doc) SELECT new.doc UNION SELECT old.doc;
    END
    """,
    """
    CREATE TRIGGER article_entities_search_delete AFTER DELETE ON article_entities
    BEGIN
        INSERT INTO search_changes (doc) VALUES (old.doc);
    END
    """,
)

_V7: tuple[str, ...] = (
    # Articles whose tagging failed, with the error (see indexer/_tag_errors.py): later runs
    # skip them until their text or the tagger version changes, or `regwatch retag` runs.
    """
    CREATE TABLE tag_errors (
        article_id TEXT PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
        content_hash TEXT NOT NULL,
        tagger_version TEXT NOT NULL,
        error TEXT NOT NULL,
        fallback INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 1,
        failed_at TEXT NOT NULL
    )
    """,
)

_V8: tuple[str, ...] = (
    # The alert ledger (see indexer/_alert_ledger.py), beside the digest ledger: one row per
    # subscriber and article. Until this version it was a file of its own (HOME/alerts.db),
    # whose rows Store.from_settings imports once.
    """
    CREATE TABLE alerts (
        subscriber_id TEXT NOT NULL,
        article_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('sending', 'pending', 'sent', 'failed')),
        error TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (subscriber_id, article_id)
    )
    """,
)

_V9: tuple[str, ...] = (
    # The unwatched entities by normalised name: the search columns' "other entities" facet
    # reads them from here (indexer/_columns.py) without touching the table.
    "CREATE INDEX article_entities_other ON article_entities (norm_name, doc) WHERE entity_id IS NULL",
)

# "<class> <url>: <reason>", the one-line text crawl_runs kept of a run's first failure
# before version 10: its URL starts after the class and a space, and ends at the first ": ".
_OLD_FAILURE_REST = "substr(error_message, length(error_class) + 2)"
_OLD_FAILURE_IS_SPLIT = (
    f"error_class != '' AND substr(error_message, 1, length(error_class) + 1) = error_class || ' ' "
    f"AND instr({_OLD_FAILURE_REST}, ': ') > 0"
)

_V10: tuple[str, ...] = (
    # A run's first failure as a value (class, URL, reason, HTTP status), not one line of
    # text to parse back; and every counter of the run (the CrawlStats counter fields) as
    # JSON, so a new counter needs no migration. Older rows are split once, here.
    "ALTER TABLE crawl_runs ADD COLUMN error_url TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE crawl_runs ADD COLUMN error_reason TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE crawl_runs ADD COLUMN error_status INTEGER",
    "ALTER TABLE crawl_runs ADD COLUMN counts TEXT NOT NULL DEFAULT '{}'",
    f"""
    UPDATE crawl_runs SET
        error_url = substr({_OLD_FAILURE_REST}, 1, instr({_OLD_FAILURE_REST}, ': ') - 1),
        error_reason = substr({_OLD_FAILURE_REST}, instr({_OLD_FAILURE_REST}, ': ') + 2)
    WHERE {_OLD_FAILURE_IS_SPLIT}
    """,
    f"UPDATE crawl_runs SET error_reason = error_message WHERE error_message != '' AND NOT ({_OLD_FAILURE_IS_SPLIT})",
    """
    UPDATE crawl_runs SET counts = json_object(
        'pages_fetched', pages_fetched, 'new', new, 'updated', updated, 'duplicate', duplicate, 'errors', errors
    )
    """,
)

_V11: tuple[str, ...] = (
    # The web desk's accounts, saved searches and subscriptions (indexer/_accounts.py,
    # indexer/_saved_searches.py, indexer/_subscriptions.py), kept in the store of truth.
    """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL DEFAULT '',
        roles TEXT NOT NULL DEFAULT '["analyst"]',
        token_hash TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_login TEXT
    )
    """,
    "CREATE UNIQUE INDEX users_token ON users (token_hash) WHERE token_hash != ''",
    """
    CREATE TABLE saved_searches (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        params TEXT NOT NULL DEFAULT '{}',
        alert INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (owner, name)
    )
    """,
    """
    CREATE TABLE subscriptions (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )
    """,
)

_V12: tuple[str, ...] = (
    # How each `auto` source is followed (see indexer/_source_states.py): the method its
    # discovery chose, the address, and the whole Discovery (reason, pattern, what it turned down).
    """
    CREATE TABLE source_discovery (
        source_id TEXT PRIMARY KEY,
        method TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        discovery TEXT NOT NULL,
        discovered_at TEXT NOT NULL
    )
    """,
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12)
SCHEMA_VERSION = len(MIGRATIONS)


def to_db(value: datetime | None) -> str | None:
    """Store a datetime as ISO UTC text with a fixed width, so text order is time order."""
    if value is None:
        return None
    aware = parse_datetime(value)
    assert aware is not None
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def connect(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with a busy timeout, check FTS5 and migrate the schema.

    The connection is in autocommit mode: the store opens its own ``BEGIN IMMEDIATE``
    transactions, so a writer takes the lock up front and waits for it (busy
    timeout) instead of failing when it upgrades a read lock.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexBackendError(
            f"{path.parent}: cannot create the index directory ({exc.strerror})"
        ) from None
    try:
        private_file(path, sqlite=True)  # 0600; SQLite gives its WAL and shm files the same mode
    except OSError as exc:
        raise IndexBackendError(f"{path}: cannot create the index database ({exc.strerror})") from None
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise IndexBackendError(f"{path}: cannot open the index database ({exc})") from None
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        require_fts5(conn)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise IndexBackendError(f"{path}: cannot switch the index database to WAL mode (got {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Search reads much of the file and materialises its matches in a temp table:
        # map the file, keep a larger page cache and keep temp tables in memory.
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")
        migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise IndexBackendError(f"{path}: not a usable index database ({exc})") from None
    except BaseException:
        conn.close()
        raise
    return conn


def require_fts5(conn: sqlite3.Connection) -> None:
    """Raise IndexBackendError unless this SQLite can create FTS5 tables.

    Probing beats reading compile options: FTS5 may also come as a loadable extension.
    """
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.regwatch_fts5_probe USING fts5 (x)")
        conn.execute("DROP TABLE temp.regwatch_fts5_probe")
    except sqlite3.OperationalError:
        raise IndexBackendError(NO_FTS5_MESSAGE) from None


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Create a new database at the current version, or apply the migrations an older one lacks.

    Each step runs in its own transaction. The version is read again inside the
    write lock, so two processes opening a new file at once create (or migrate) it once.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise IndexBackendError(
            f"{path}: the index schema is version {version}, newer than this regwatch "
            f"understands ({SCHEMA_VERSION}); upgrade regwatch"
        )
    while version < SCHEMA_VERSION:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and _is_empty(conn):
                for statement in CURRENT_SCHEMA:
                    conn.execute(statement)
                version = SCHEMA_VERSION
                conn.execute(f"PRAGMA user_version = {version}")
                log.debug("Index store %s created at schema version %d", path, version)
            elif version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version]:
                    conn.execute(statement)
                version += 1
                conn.execute(f"PRAGMA user_version = {version}")
                log.info("Index schema of %s migrated to version %d", path, version)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _is_empty(conn: sqlite3.Connection) -> bool:
    """Whether the database has no schema objects yet (a new file)."""
    count: int = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    return count == 0
