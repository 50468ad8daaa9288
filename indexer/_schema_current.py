"""The schema a new store is created with: every table, index and trigger as they are now.

A new database gets these statements in one transaction, at the current
version; :data:`indexer._schema.MIGRATIONS` only bring older stores there. The
two must always give the same schema: ``tests/test_index_store.py`` compares a
new store with one migrated from version 0. Columns that a migration added come
last in their table, in the order they were added, so both have the same
column order.
"""

from __future__ import annotations

# bm25 weights of the FTS columns (title, summary, body): a word in the title counts most.
BM25_WEIGHTS = (10.0, 4.0, 1.0)

_ARTICLES: tuple[str, ...] = (
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
        sort_at TEXT GENERATED ALWAYS AS (coalesce(published, first_seen)) VIRTUAL,
        -- what nlp found besides entities (JSON lists of Quote / Action dicts); derived
        -- from the text like the entities, so an update of the text empties them
        quotes TEXT NOT NULL DEFAULT '[]',
        actions TEXT NOT NULL DEFAULT '[]',
        -- the id of the first stored article of its story ('' until assigned: indexer/_story.py)
        story_id TEXT NOT NULL DEFAULT '',
        -- the LSH bucket keys of its MinHash (JSON), to remove its story_buckets rows by key
        story_buckets TEXT NOT NULL DEFAULT '[]'
    )
    """,
    "CREATE INDEX articles_source ON articles (source_id, published)",
    "CREATE INDEX articles_first_seen ON articles (first_seen)",
    "CREATE INDEX articles_sort_at ON articles (sort_at)",
    "CREATE INDEX articles_untagged ON articles (first_seen) WHERE tagged_at IS NULL",
    "CREATE INDEX articles_story ON articles (story_id)",
    # The column snapshot (indexer/_columns.py) reads every article's language and source from here.
    "CREATE INDEX articles_language ON articles (language, source_id)",
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
    # Entities carry their article's row number (``doc``): the entity filter, the facets
    # and the column snapshot read it from an index instead of joining by id.
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
        doc INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (article_id, position)
    )
    """,
    "CREATE INDEX article_entities_facet ON article_entities (doc, entity_id, name)",
    "CREATE INDEX article_entities_entity_id ON article_entities (entity_id COLLATE NOCASE, doc)",
    "CREATE INDEX article_entities_norm_name ON article_entities (norm_name, doc)",
    "CREATE INDEX article_entities_watched ON article_entities (entity_id, name, doc) WHERE entity_id IS NOT NULL",
    # The unwatched entities by normalised name: the "other entities" facet (indexer/_columns.py).
    "CREATE INDEX article_entities_other ON article_entities (norm_name, doc) WHERE entity_id IS NULL",
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

_SEARCH: tuple[str, ...] = (
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
    # An article leaves the index, with the exact values it was indexed with, before
    # its text changes or it is deleted (see indexer/_schema.py).
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
    # The row numbers of the articles whose search fields or entities changed, in commit
    # order, for the in-memory columns of every process (indexer/_columns.py).
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
    # Stories: MinHash LSH buckets, looked up by primary key (see indexer/_story.py).
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

_LEDGERS: tuple[str, ...] = (
    # The crawl ledger: one row per source per run. The run's first failure is the value
    # (error_class, error_url, error_reason, error_status); error_message and error_messages
    # are the failures' one-line texts, for people; counts holds every CrawlStats counter.
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
        error_messages TEXT NOT NULL DEFAULT '[]',
        error_url TEXT NOT NULL DEFAULT '',
        error_reason TEXT NOT NULL DEFAULT '',
        error_status INTEGER,
        counts TEXT NOT NULL DEFAULT '{}'
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
    # How each `auto` source is followed, as its discovery decided (indexer/_source_states.py).
    """
    CREATE TABLE source_discovery (
        source_id TEXT PRIMARY KEY,
        method TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        discovery TEXT NOT NULL,
        discovered_at TEXT NOT NULL
    )
    """,
    # The alert ledger: one row per subscriber and article (indexer/_alert_ledger.py).
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
    # The cluster ledger: which version of each article a search cluster acknowledged,
    # per target (cluster URL + alias). No foreign key on purpose: a row whose article
    # is gone is a deletion the cluster has not seen yet.
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
    # The fetch ledger (indexer/_fetch_ledger.py): validators for conditional GETs.
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
    # Per-source health state carried from run to run.
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

_DESK: tuple[str, ...] = (
    # The web desk's accounts: an argon2 hash ('' signs in only through a trusted proxy), the
    # roles (a JSON list), the SHA-256 of the API token ('' for none) (indexer/_accounts.py).
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
    # Searches saved on the desk, by owner (an account id): the search's parameters as JSON.
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
    # Subscriptions made on the desk (a subscriber's fields as JSON); the config's are not here.
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

CURRENT_SCHEMA: tuple[str, ...] = (*_ARTICLES, *_SEARCH, *_LEDGERS, *_DESK)
