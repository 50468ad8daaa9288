"""The embedded search: the store's ``search`` component, FTS5 finding and ranking, columns filtering.

:class:`SqliteSearch` answers a :class:`SearchQuery` over the articles of its
database, as ``ClusterIndex`` does over a cluster (both are a
``SearchIndex``). A query's matches are materialised once per query (and kept
while nothing is written), then a page, its facets and its histogram read
them. With ``use_columns`` (the default) filters, facets and histograms come
from the in-memory columns of ``indexer/_columns.py``; without, everything
runs in SQL (the reference the tests compare the columns with).
:meth:`SqliteSearch.index_pending` brings the FTS5 index up to date (``_fts``).
Just over 500 lines: one class over one materialised match set; the FTS5 index,
the columns and the query parser are modules of their own.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np

from regwatch.errors import IndexBackendError, QueryError
from regwatch.models import Source

from . import _fts
from ._columns import Filters, SearchColumns, fts_rowids, group_ints
from ._database import Database
from ._highlight import hit_highlights
from ._query import lower_bound, match_expression, normalise_name, upper_bound
from ._rows import display_names, entities_of
from ._schema import from_db, to_db
from ._types import HISTOGRAM_INTERVALS, SearchHit, SearchQuery, SearchResult

log = logging.getLogger(__name__)

SNIPPET_TOKENS = 30
SNIPPET_OPEN, SNIPPET_CLOSE, SNIPPET_ELLIPSIS = "[", "]", "…"
FACET_LIMIT = 20
# The row numbers of the articles tagged with an entity (by id or by name); may repeat one.
_ENTITY_DOCS = (
    "SELECT doc FROM article_entities WHERE norm_name = :entity_norm"
    " UNION ALL SELECT doc FROM article_entities WHERE entity_id = :entity COLLATE NOCASE"
)
# Until its search columns are built, a store answers a text matching at most this many articles
# in SQL (see SqliteSearch._matches).
COLUMNS_AFTER_MATCHES = 2_000
# Rows ranked past a relevance page's end, so that ties across its end are settled in one pass.
TIE_MARGIN = 256


def _lead(text: str, words: int = SNIPPET_TOKENS) -> str:
    """The first ``words`` words of ``text``, for a hit that has no FTS snippet."""
    parts = text.split()
    return " ".join(parts[:words]) + (f" {SNIPPET_ELLIPSIS}" if len(parts) > words else "")


class SqliteSearch:
    """Search over the store's FTS5 index (see the module docstring).

    ``sources`` are the configured sources, for the source-type and jurisdiction
    filters and facets. ``use_columns`` may be switched off and on again (a
    benchmark's baseline, the tests' reference): the answers are the same.
    """

    def __init__(
        self,
        db: Database,
        *,
        sources: Mapping[str, Source] | None = None,
        use_columns: bool = True,
        batch_size: int = 500,
    ) -> None:
        self._db = db
        self.sources: dict[str, Source] = dict(sources or {})
        self.use_columns = use_columns
        self.batch_size = max(1, batch_size)
        self._columns = SearchColumns()
        self._hits_key: tuple[Any, ...] | None = None  # the query whose matches are at hand
        self._hit_docs = np.zeros(0, dtype=np.int64)  # their row numbers (columns), or temp.regwatch_hits
        self._hit_narrowed = False  # whether filters dropped some of the text's matches

    def index_pending(self) -> int:
        """Bring the FTS5 index up to date; return how many articles were (re)indexed (see ``_fts``)."""
        return _fts.index_pending(self._db, self.batch_size)

    def _filter_values(self, query: SearchQuery) -> Filters:
        """A query's filters, normalised and checked once, for SQL and for the columns alike."""
        entity = query.entity.strip() if query.entity is not None else ""
        source = query.source.strip() if query.source is not None else ""
        allowed = query.allowed_sources(self.sources)
        since = lower_bound(query.since) if query.since is not None else None
        until = upper_bound(query.until) if query.until is not None else None
        if since is not None and until is not None:
            limit, inclusive = until
            if since > limit or (since == limit and not inclusive):
                raise QueryError(f"since ({query.since}) is after until ({query.until})")
        return Filters(
            entity=entity or None,
            entity_norm=normalise_name(entity) if entity else "",
            source=source or None,
            allowed_sources=tuple(allowed) if allowed is not None else None,
            languages=tuple(query.languages) if query.languages else None,
            since=to_db(since) if since is not None else None,
            until=to_db(until[0]) if until is not None else None,
            until_inclusive=until[1] if until is not None else True,
        )

    def _filters(self, query: SearchQuery, probe_entity: bool = False) -> tuple[str, dict[str, Any]]:
        """The SQL conditions (on ``articles a``) and parameters of a query's filters.

        ``probe_entity`` tests the entity filter with one lookup per candidate row
        instead of building the entity's list of articles first (same matches).
        """
        values = self._filter_values(query)
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if values.entity is not None:
            if probe_entity:
                clauses.append(
                    "EXISTS (SELECT 1 FROM article_entities e WHERE e.article_id = a.id"
                    " AND (e.norm_name = :entity_norm OR e.entity_id = :entity COLLATE NOCASE))"
                )
            else:
                # An IN list built once from the entity indexes, not a subquery per candidate
                # row: without text it drives the query; with text it is one lookup per match.
                # A UNION, not OR: each side reads its covering index alone (OR reads the rows).
                clauses.append(f"a.doc IN ({_ENTITY_DOCS})")
            params["entity_norm"] = values.entity_norm
            params["entity"] = values.entity
        if values.source is not None:
            clauses.append("a.source_id = :source")
            params["source"] = values.source
        if values.allowed_sources is not None:
            clauses.append("a.source_id IN (SELECT value FROM json_each(:allowed_sources))")
            params["allowed_sources"] = json.dumps(list(values.allowed_sources))
        if values.languages is not None:
            clauses.append("lower(a.language) IN (SELECT lower(value) FROM json_each(:languages))")
            params["languages"] = json.dumps(list(values.languages))
        if values.since is not None:
            clauses.append("a.sort_at >= :since")
            params["since"] = values.since
        if values.until is not None:
            clauses.append("a.sort_at <= :until" if values.until_inclusive else "a.sort_at < :until")
            params["until"] = values.until
        return (" AND ".join(clauses) or "1"), params

    def _matching(
        self, query: SearchQuery, conn: sqlite3.Connection | None = None
    ) -> tuple[str, str, dict[str, Any]]:
        """FROM and WHERE of the articles a query matches, with parameters (the SQL way).

        Given ``conn``, text with an entity filter picks the cheaper way to apply the
        filter (see :meth:`_probe_entity`).
        """
        match = match_expression(query.text)
        probe = conn is not None and match is not None and self._probe_entity(conn, query, match)
        where, params = self._filters(query, probe_entity=probe)
        if match is None:
            return "articles a", where, params
        params["match"] = match
        return (
            "article_fts JOIN articles a ON a.doc = article_fts.rowid",
            f"article_fts MATCH :match AND {where}",
            params,
        )

    def _probe_entity(self, conn: sqlite3.Connection, query: SearchQuery, match: str) -> bool:
        """Whether the text matches fewer articles than the filter's entity has rows.

        Then a lookup per text match beats building the entity's article list
        (15,000 rows for a common entity in a 100,000-article archive). Both
        counts are cheap: FTS5 counts a doclist without ranking, and the entity
        count stops at the text's count.
        """
        if query.entity is None or not query.entity.strip():
            return False
        texts = conn.execute(
            "SELECT count(*) FROM article_fts WHERE article_fts MATCH ?", (match,)
        ).fetchone()[0]
        rows = conn.execute(
            f"SELECT count(*) FROM ({_ENTITY_DOCS} LIMIT :limit)",
            {"entity_norm": normalise_name(query.entity), "entity": query.entity.strip(), "limit": texts + 1},
        ).fetchone()[0]
        return bool(texts < rows)

    def _hits(self, conn: sqlite3.Connection, query: SearchQuery) -> None:
        """Materialise the query's matches into ``temp.regwatch_hits`` (doc, id, source_id, sort_at, score).

        The SQL way: ``use_columns`` off, a narrow text before the columns are built,
        or row numbers too sparse for them (see :meth:`_matches`).
        A page, its total, the facets and the histogram of one query then read
        one small table instead of each running the full-text match (and bm25)
        again. The table is kept while the same query is asked and nothing was
        written meanwhile (by this store, or by another process: data_version).
        """
        source, where, params = self._matching(query)  # the key; the SQL may differ (see _matching)
        score = "article_fts.rank" if "match" in params and query.sort == "relevance" else "NULL"
        key = (
            "sql",
            source,
            where,
            score,
            json.dumps(params, sort_keys=True, default=str),
            conn.execute("PRAGMA data_version").fetchone()[0],
            self._db.writes,
        )
        if key == self._hits_key:
            return
        self._hits_key = None
        source, where, params = self._matching(query, conn)
        conn.execute("DROP TABLE IF EXISTS temp.regwatch_hits")
        conn.execute(
            f"""
            CREATE TEMP TABLE regwatch_hits AS
            SELECT a.doc AS doc, a.id AS id, a.source_id AS source_id, a.sort_at AS sort_at, {score} AS score
            FROM {source} WHERE {where}
            """,
            params,
        )
        self._hits_key = key

    def _matches(self, conn: sqlite3.Connection, query: SearchQuery) -> np.ndarray | None:
        """The row numbers of the query's matches, by the columns; None when they cannot serve.

        FTS5 gives the text's matches unranked (ranking waits for the page, see
        :meth:`_ranked_page`); the columns filter them. Kept, like the SQL way's
        table, while the same query is asked and nothing was written meanwhile.
        """
        filters = self._filter_values(query)
        match = match_expression(query.text)
        key = ("columns", match, filters, conn.execute("PRAGMA data_version").fetchone()[0], self._db.writes)
        if key == self._hits_key:
            return self._hit_docs
        self._hits_key = None
        if self._columns.seq is None and match is not None:
            # Not built yet (a new process): a narrow text is answered in SQL in a few ms,
            # where building first takes ~1.2 µs per article (0.12 s at 100,000). The first
            # broad search, or listing, builds them; after that they are kept current.
            texts = conn.execute("SELECT count(*) FROM article_fts WHERE article_fts MATCH ?", (match,))
            if texts.fetchone()[0] <= COLUMNS_AFTER_MATCHES:
                return None
        self._columns.refresh(conn)
        if not self._columns.usable:
            return None
        found = fts_rowids(conn, match) if match is not None else self._columns.all_docs()
        entity_docs = None
        if filters.entity is not None:
            entity_docs = group_ints(
                conn.execute(
                    f"SELECT group_concat(doc) FROM ({_ENTITY_DOCS})",
                    {"entity_norm": filters.entity_norm, "entity": filters.entity},
                ).fetchone()[0]
            )
        docs = self._columns.select(conn, found, filters, entity_docs)
        self._hit_docs, self._hit_narrowed = docs, len(docs) < len(found)
        self._hits_key = key
        return docs

    @contextmanager
    def _read(self, query: SearchQuery) -> Iterator[tuple[sqlite3.Connection, np.ndarray | None]]:
        """A read transaction with the query's matches at hand; FTS5 errors become QueryErrors.

        The matches are row numbers from the columns, or (None) ``temp.regwatch_hits``.
        """
        try:
            with self._db.transaction(write=False) as conn:
                try:
                    docs = self._matches(conn, query) if self.use_columns else None
                    if docs is None:
                        self._hits(conn, query)
                    yield conn, docs
                except BaseException:
                    self._hits_key = None  # the rollback drops the temp table too
                    raise
        except IndexBackendError as exc:
            # match_expression quotes every term, so this is a last line of defence.
            if query.text and isinstance(exc.__cause__, sqlite3.OperationalError):
                raise QueryError(f"cannot search for {query.text!r}: {exc.__cause__}") from None
            raise

    def _ranked_page(
        self, conn: sqlite3.Connection, query: SearchQuery, match: str, docs: np.ndarray
    ) -> list[tuple[int, float | None]]:
        """The page of the best bm25 matches among ``docs``, ties newest first.

        FTS5 ranks every row it is given (0.6 µs each: this is most of a broad
        query's time), so it is given only the matches the filters keep (a key of
        zero in ``tie_keys`` drops a row before it is ranked). A bounded sorter keeps
        the best ``offset + limit`` by rank alone, and ``TIE_MARGIN`` more: when the
        rank at the page's end changes within them, every tie of the page is among
        them and is put newest first here. Otherwise (more ties than that) a second
        pass breaks ties in the sorter itself, by a 4-byte key per row number from the
        columns (sort_at, doc) instead of a join per match: always exact, but with
        that key on every row it costs a tenth more than the first pass.
        """
        end = query.offset + query.limit
        keys = "substr(:keys, rowid * 4 + 1, 4)"
        params: dict[str, Any] = {"match": match, "count": end + TIE_MARGIN}
        narrowed = ""
        if self._hit_narrowed:
            narrowed = f" AND {keys} > x'00000000'"
            params["keys"] = self._columns.tie_keys(docs)
        # ORDER BY rank + 0.0, not rank: FTS5 would sort every match itself (twice as slow).
        rows = conn.execute(
            f"SELECT rowid, rank FROM article_fts WHERE article_fts MATCH :match{narrowed} "
            "ORDER BY rank + 0.0 LIMIT :count",
            params,
        ).fetchall()
        if len(rows) < end + TIE_MARGIN or rows[end - 1][1] != rows[-1][1]:
            recency = self._columns.recency
            page = sorted(rows, key=lambda row: (row[1], -int(recency[row[0]])))[query.offset : end]
        else:
            params.update(keys=self._columns.tie_keys(docs), count=query.limit, offset=query.offset)
            page = conn.execute(
                f"SELECT rowid, rank FROM article_fts WHERE article_fts MATCH :match{narrowed} "
                f"ORDER BY rank, {keys} DESC LIMIT :count OFFSET :offset",
                params,
            ).fetchall()
        return [(int(row[0]), float(row[1])) for row in page]

    def search(self, query: SearchQuery) -> SearchResult:
        """Articles matching ``query``: best bm25 first, or newest first when there is no text.

        Ties in bm25 go to the newest (sort_at, then row number). Text search covers
        indexed articles (see :meth:`index_pending`); a listing without text covers
        every stored article.
        """
        ranked = bool(query.text.strip()) and query.sort == "relevance"
        match = match_expression(query.text)
        with self._read(query) as (conn, docs):
            page: list[tuple[int, float | None]]
            if docs is None:
                order = "h.score, h.sort_at DESC, h.doc DESC" if ranked else "h.sort_at DESC, h.doc DESC"
                total = conn.execute("SELECT count(*) FROM temp.regwatch_hits").fetchone()[0]
                page = [
                    (row[0], row[1])
                    for row in conn.execute(
                        f"SELECT doc, score FROM temp.regwatch_hits h ORDER BY {order} LIMIT ? OFFSET ?",
                        (query.limit, query.offset),
                    )
                ]
            else:
                total = len(docs)
                if ranked and match is not None:
                    page = self._ranked_page(conn, query, match, docs)
                else:
                    page = [(int(doc), None) for doc in self._columns.newest(docs, query.offset, query.limit)]
            found = {
                row["doc"]: row
                for row in conn.execute(
                    "SELECT doc, id, title, url, source_id, published, summary, body, story_id FROM articles "
                    "WHERE doc IN (SELECT value FROM json_each(?))",
                    (json.dumps([doc for doc, _ in page]),),
                )
            }
            snippets: dict[int, str] = {}
            if match is not None:
                for doc, _ in page:  # one FTS lookup by rowid per hit on the page
                    snippet = conn.execute(
                        f"SELECT snippet(article_fts, 2, '{SNIPPET_OPEN}', '{SNIPPET_CLOSE}', "
                        f"'{SNIPPET_ELLIPSIS}', {SNIPPET_TOKENS}) FROM article_fts "
                        "WHERE article_fts MATCH ? AND rowid = ?",
                        (match, doc),
                    ).fetchone()
                    snippets[doc] = snippet[0] if snippet else ""
            entities = entities_of(conn, [row["id"] for row in found.values()])
        hits = []
        for doc, score in page:
            row = found[doc]
            snippet = snippets.get(doc, "")
            marked = (
                hit_highlights(row["title"], row["summary"], row["body"], query.text)
                if query.highlight
                else (None, None)
            )
            hits.append(
                SearchHit(
                    id=row["id"],
                    title=row["title"],
                    url=row["url"],
                    source=row["source_id"],
                    published=from_db(row["published"]),
                    entities=display_names(entities.get(row["id"], [])),
                    snippet=snippet if snippet and row["body"] else _lead(row["summary"] or row["body"]),
                    score=score,
                    story=row["story_id"],
                    title_marked=marked[0],
                    sentence=marked[1],
                )
            )
        return SearchResult(total=int(total), hits=hits)

    def facets(self, query: SearchQuery) -> dict[str, dict[str, int]]:
        """Counts of the matching articles by source, type, jurisdiction, language, watched and other
        entity (see :func:`facet_counts`)."""
        with self._read(query) as (conn, docs):
            if docs is not None:
                return facet_counts(
                    self._columns.count_sources(docs),
                    self._columns.count_entities(docs, FACET_LIMIT),
                    self.sources,
                    by_language=self._columns.count_languages(docs),
                    by_other=self._columns.count_others(conn, docs, FACET_LIMIT),
                )
            by_source = conn.execute(
                "SELECT source_id AS key, count(*) AS n FROM temp.regwatch_hits GROUP BY source_id"
            ).fetchall()
            # An IN list, not a join: for a join SQLite builds a Bloom filter over the
            # whole entity table first (16 ms at 100,000 articles, whatever the hits).
            by_entity = conn.execute(
                """
                SELECT min(e.name) AS key, count(DISTINCT e.doc) AS n
                FROM article_entities e
                WHERE e.doc IN (SELECT doc FROM temp.regwatch_hits) AND e.entity_id IS NOT NULL
                GROUP BY e.entity_id ORDER BY n DESC, key LIMIT ?
                """,
                (FACET_LIMIT,),
            ).fetchall()
            by_other = conn.execute(
                """
                SELECT e.norm_name AS key, count(DISTINCT e.doc) AS n
                FROM article_entities e
                WHERE e.doc IN (SELECT doc FROM temp.regwatch_hits) AND e.entity_id IS NULL
                GROUP BY e.norm_name ORDER BY n DESC, key LIMIT ?
                """,
                (FACET_LIMIT,),
            ).fetchall()
            by_language = conn.execute(
                "SELECT a.language AS key, count(*) AS n FROM articles a "
                "WHERE a.doc IN (SELECT doc FROM temp.regwatch_hits) GROUP BY a.language"
            ).fetchall()
        return facet_counts(
            {r["key"]: int(r["n"]) for r in by_source},
            {r["key"]: int(r["n"]) for r in by_entity},
            self.sources,
            by_language={r["key"]: int(r["n"]) for r in by_language},
            by_other={r["key"]: int(r["n"]) for r in by_other},
        )

    def histogram(self, query: SearchQuery, interval: str = "day") -> dict[str, int]:
        """Matching articles per day, week (from Monday) or month (UTC), oldest first; empty periods left out."""
        if interval not in HISTOGRAM_INTERVALS:
            raise QueryError(f"interval must be one of {', '.join(HISTOGRAM_INTERVALS)}, got {interval!r}")
        bucket = {
            "day": "substr(sort_at, 1, 10)",
            "week": "date(substr(sort_at, 1, 10), '-6 days', 'weekday 1')",
            "month": "substr(sort_at, 1, 7) || '-01'",
        }[interval]
        with self._read(query) as (conn, docs):
            if docs is not None:
                return self._columns.histogram(conn, docs, interval)
            rows = conn.execute(
                f"SELECT {bucket} AS key, count(*) AS n FROM temp.regwatch_hits GROUP BY key ORDER BY key"
            ).fetchall()
        return {r["key"]: int(r["n"]) for r in rows}


def _ranked(counts: dict[str, int], limit: int | None = None) -> dict[str, int]:
    """Most first, then by key; the first ``limit``."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit])


def facet_counts(
    by_source: dict[str, int],
    by_entity: dict[str, int],
    sources: Mapping[str, Source],
    *,
    by_language: dict[str, int] | None = None,
    by_other: dict[str, int] | None = None,
) -> dict[str, dict[str, int]]:
    """The facets both backends return, each most first (ties by key).

    ``sources`` (top 20), ``types`` and ``jurisdictions`` (added up from every matching
    source by the config: a source no longer configured, or without a jurisdiction,
    counts as "unknown"), ``languages`` (lower case; articles without one are left
    out), ``entities`` (the top 20 watched entities by canonical name) and
    ``other_entities`` (the top 20 unwatched ones, by normalised name: what the entity
    filter takes). ``by_source`` holds every matching source.
    """
    types: dict[str, int] = {}
    places: dict[str, int] = {}
    for source_id, count in by_source.items():
        source = sources.get(source_id)
        kind = source.type if source else "unknown"
        place = (source.jurisdiction if source else "") or "unknown"
        types[kind] = types.get(kind, 0) + count
        places[place] = places.get(place, 0) + count
    languages: dict[str, int] = {}
    for language, count in (by_language or {}).items():
        if language:
            key = language.lower()
            languages[key] = languages.get(key, 0) + count
    return {
        "sources": _ranked(by_source, FACET_LIMIT),
        "types": _ranked(types),
        "jurisdictions": _ranked(places),
        "languages": _ranked(languages, FACET_LIMIT),
        "entities": by_entity,
        "other_entities": _ranked(by_other or {}, FACET_LIMIT),
    }
