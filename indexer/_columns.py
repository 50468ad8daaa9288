"""Search's filter and facet fields held in memory as columns, one slot per article row.

Why: a broad query (a word in half of 100,000 articles) spends most of its time
on work proportional to its matches, done row by row in SQL: joining every match
to ``articles`` for its source and date, and to ``article_entities`` for the
entity facet (about 200 ms of 300 at 100,000 articles). Here those fields are
numpy arrays indexed by the article's row number (``articles.doc``, which is
also its FTS5 rowid), so filters are masks and facets and histograms are
``np.bincount`` over the matched row numbers: about 2 ms for 50,000 matches.
SQLite still decides which rows match the text (FTS5), ranks them (bm25) and
reads the page's rows and snippets.

Exactness: every value compared is the stored one, compared the way the SQL of
:meth:`SqliteSearch.search` compares it: ``sort_at`` as UTF-8 bytes (SQLite's BINARY
collation is memcmp), day buckets as its first ten characters
(``substr(sort_at, 1, 10)``), weeks by SQLite's own ``date()``, language
filters by SQLite's own ``lower()``, facet groups by exact (BINARY) source and
entity ids, the entity facet's label as the smallest name (``min(name)``) of the
entity among the matching articles. ``tests/test_index_search.py`` compares both
ways on random corpora, before and after writes by the store and by another one.

Freshness: triggers (schema version 6) append the row number of every article
whose search fields or entities change to ``search_changes``, in commit order,
whichever process writes. :meth:`SearchColumns.refresh`, run inside the search's
read transaction, reads the rows after the last one it applied and re-reads
those articles; when rows it has not seen were pruned, or there are many, it
rebuilds from scratch (0.11 s at 100,000 articles, from covering indexes).

Memory: 57 bytes per article slot and 24 per watched-entity row
(:attr:`SearchColumns.nbytes`: 9.3 MB at 100,000 articles with 150,000 entity rows).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")

# A change set larger than this share of the articles is applied by rebuilding.
REBUILD_SHARE = 0.25
_SEP = "\x1f"  # char(31) separates sort_at values in one group_concat (never in an ISO date)
# Row numbers are slots in the arrays: past this many per article (rows deleted or numbered
# by hand), the columns give up and search runs in SQL alone.
MAX_SLOTS_PER_ARTICLE = 8


@dataclass(frozen=True)
class Filters:
    """A query's filters, normalised (see ``SqliteSearch._filter_values``); None: no such filter."""

    entity: str | None = None  # entity_id = entity COLLATE NOCASE, or
    entity_norm: str = ""  # norm_name = entity_norm
    source: str | None = None
    allowed_sources: tuple[str, ...] | None = None  # by the configured types and jurisdictions
    languages: tuple[str, ...] | None = None
    since: str | None = None  # sort_at >= since (stored form)
    until: str | None = None  # sort_at <= until, or < until
    until_inclusive: bool = True


class _Codes(Generic[T]):
    """An append-only dictionary of values (strings, pairs): each gets the next small integer."""

    def __init__(self) -> None:
        self.values: list[T] = []
        self.index: dict[T, int] = {}

    def code(self, value: T) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(value)
        return found

    def codes(self, values: Iterable[T]) -> np.ndarray:
        return np.fromiter((self.code(v) for v in values), dtype=np.int32)


def group_ints(text: str | None) -> np.ndarray:
    """The integers of a ``group_concat`` of integers (one string instead of a row each)."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def fts_rowids(conn: sqlite3.Connection, match: str) -> np.ndarray:
    """The rowids matching an FTS5 expression, without ranking them.

    One ``group_concat`` row: FTS5 walks its doclists in C (3 ms for 50,000 rows),
    where a row per match through Python would take 25 ms.
    """
    row = conn.execute("SELECT group_concat(rowid) FROM article_fts WHERE article_fts MATCH ?", (match,))
    return group_ints(row.fetchone()[0])


class SearchColumns:
    """The per-article search fields of one store, kept current by :meth:`refresh`."""

    def __init__(self) -> None:
        self.builds = 0  # full builds, for logs and tests
        self._reset()

    def _reset(self) -> None:
        self.seq: int | None = None  # the last search_changes row applied; None: never built
        self.usable = True  # False: row numbers too sparse for arrays (see MAX_SLOTS_PER_ARTICLE)
        self._sources: _Codes[str] = _Codes()
        self._languages: _Codes[str] = _Codes()
        self._days: _Codes[str] = _Codes()
        self._entity_ids: _Codes[str] = _Codes()
        self._labels: _Codes[tuple[str, str]] = _Codes()  # (entity id, name)
        self._allocate(0)
        # One row per watched entity row of an article: its row number, entity id, (id, name),
        # and the row number again on one row per (entity id, row number) pair, -1 elsewhere.
        self._ent_doc = np.zeros(0, dtype=np.int64)
        self._ent_id = np.zeros(0, dtype=np.int32)
        self._ent_label = np.zeros(0, dtype=np.int32)
        self._ent_counted = np.zeros(0, dtype=np.int64)
        self._derived = False
        self._weeks: dict[str, str | None] = {}
        # The other (unwatched) entities' rows, by normalised name: built on the first facet that
        # asks for them (see count_others), then kept current like the rest.
        self._others_built = False
        self._other_names: _Codes[str] = _Codes()
        self._oth_doc = np.zeros(0, dtype=np.int64)
        self._oth_name = np.zeros(0, dtype=np.int32)
        self._oth_counted = np.zeros(0, dtype=np.int64)

    def _allocate(self, size: int) -> None:
        self.present = np.zeros(size, dtype=bool)
        self.source = np.zeros(size, dtype=np.int32)
        self.language = np.zeros(size, dtype=np.int32)
        self.day = np.zeros(size, dtype=np.int32)
        self.sort_at = np.zeros(size, dtype="S32")

    def _grow(self, size: int) -> None:
        """Make room for row numbers below ``size`` (doubling, so appends stay cheap)."""
        if size <= len(self.present):
            return
        new = max(size, 2 * len(self.present), 1024)
        for name in ("present", "source", "language", "day", "sort_at"):
            old = getattr(self, name)
            grown = np.zeros(new, dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)

    # -- keeping current ------------------------------------------------------

    def refresh(self, conn: sqlite3.Connection) -> None:
        """Bring the columns up to the transaction's snapshot of the store.

        Sequence numbers are consecutive (AUTOINCREMENT, and a rolled-back write rolls
        its numbers back too), so the changes since ``self.seq`` are all there exactly
        when the row right after it still is.
        """
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'search_changes'").fetchone()
        last = int(row[0]) if row else 0
        if self.seq == last:
            return
        if self.seq is not None and self.seq < last and self.usable:
            first = conn.execute("SELECT min(seq) FROM search_changes WHERE seq > ?", (self.seq,))
            if first.fetchone()[0] == self.seq + 1:
                docs = group_ints(
                    conn.execute(
                        "SELECT group_concat(doc) FROM (SELECT DISTINCT doc FROM search_changes WHERE seq > ?)",
                        (self.seq,),
                    ).fetchone()[0]
                )
                if len(docs) <= max(1000, REBUILD_SHARE * int(self.present.sum())):
                    self._apply(conn, docs)
                    self.seq = last
                    return
        self._build(conn)
        self.seq = last

    def _build(self, conn: sqlite3.Connection) -> None:
        """Read every article's fields: a few grouped scans of covering indexes."""
        self._reset()  # everything, the dictionaries too
        self.builds += 1
        docs_text, dates_text, count = conn.execute(
            # The sort_at index holds (sort_at, doc): a tenth of the table's pages.
            "SELECT group_concat(doc), group_concat(sort_at, char(31)), count(*) FROM articles"
            " INDEXED BY articles_sort_at"
        ).fetchone()
        docs = group_ints(docs_text)
        dates = dates_text.split(_SEP) if dates_text else []
        if len(docs) != count or len(dates) != count:  # a separator inside a value: read rows
            rows = conn.execute("SELECT doc, sort_at FROM articles").fetchall()
            docs = np.array([r[0] for r in rows], dtype=np.int64)
            dates = [r[1] for r in rows]
        size = int(docs.max()) + 1 if len(docs) else 0
        if size > MAX_SLOTS_PER_ARTICLE * len(docs) + 100_000:
            self.usable = False
            return
        self._allocate(size)
        self._set_dates(docs, dates)
        self.present[docs] = True
        for language, source, group in conn.execute(
            "SELECT language, source_id, group_concat(doc) FROM articles GROUP BY language, source_id"
        ):
            members = group_ints(group)
            self.language[members] = self._languages.code(language)
            self.source[members] = self._sources.code(source)
        entity_docs, entity_ids, entity_labels = [], [], []
        for entity_id, name, group in conn.execute(
            "SELECT entity_id, name, group_concat(doc) FROM article_entities "
            "WHERE entity_id IS NOT NULL GROUP BY entity_id, name"
        ):
            members = group_ints(group)
            entity_docs.append(members)
            entity_ids.append(np.full(len(members), self._entity_ids.code(entity_id), dtype=np.int32))
            entity_labels.append(np.full(len(members), self._labels.code((entity_id, name)), dtype=np.int32))
        if entity_docs:
            self._ent_doc = np.concatenate(entity_docs)
            self._ent_id = np.concatenate(entity_ids)
            self._ent_label = np.concatenate(entity_labels)
            self._ent_counted = self._counted(self._ent_doc, self._ent_id)

    @staticmethod
    def _counted(docs: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """``docs`` on the first row of each (row number, entity id) pair, -1 on the others.

        The facet counts articles, not rows (``count(DISTINCT e.doc)``).
        """
        counted = np.full(len(docs), -1, dtype=np.int64)
        _, first = np.unique(ids.astype(np.int64) * (int(docs.max(initial=0)) + 1) + docs, return_index=True)
        counted[first] = docs[first]
        return counted

    def _set_dates(self, docs: np.ndarray, dates: Sequence[str]) -> None:
        encoded = [d.encode("utf-8") for d in dates]
        width = max((len(d) for d in encoded), default=1)
        if width > self.sort_at.dtype.itemsize:
            self.sort_at = self.sort_at.astype(f"S{width}")
        self.sort_at[docs] = encoded
        self.day[docs] = self._days.codes(d[:10] for d in dates)  # substr(sort_at, 1, 10)

    def _apply(self, conn: sqlite3.Connection, docs: np.ndarray) -> None:
        """Re-read the articles in ``docs`` (changed, added or deleted) and their entities."""
        if not len(docs):
            return
        if int(docs.max()) >= MAX_SLOTS_PER_ARTICLE * int(self.present.sum()) + 100_000:
            self.usable = False
            return
        self._grow(int(docs.max()) + 1)
        self.present[docs] = False
        listed = json.dumps(docs.tolist())
        rows = conn.execute(
            "SELECT doc, source_id, language, sort_at FROM articles "
            "WHERE doc IN (SELECT value FROM json_each(?))",
            (listed,),
        ).fetchall()
        if rows:
            found = np.array([r[0] for r in rows], dtype=np.int64)
            self.present[found] = True
            self.source[found] = self._sources.codes(r[1] for r in rows)
            self.language[found] = self._languages.codes(r[2] for r in rows)
            self._set_dates(found, [r[3] for r in rows])
        keep = ~np.isin(self._ent_doc, docs)
        entities = conn.execute(
            "SELECT doc, entity_id, name FROM article_entities "
            "WHERE doc IN (SELECT value FROM json_each(?)) AND entity_id IS NOT NULL",
            (listed,),
        ).fetchall()
        new_docs = np.array([r[0] for r in entities], dtype=np.int64)
        new_ids = self._entity_ids.codes(r[1] for r in entities)
        self._ent_doc = np.concatenate([self._ent_doc[keep], new_docs])
        self._ent_id = np.concatenate([self._ent_id[keep], new_ids])
        self._ent_label = np.concatenate(
            [self._ent_label[keep], self._labels.codes((r[1], r[2]) for r in entities)]
        )
        # A pair's rows all belong to one article, so the new rows' marks are computed alone.
        self._ent_counted = np.concatenate([self._ent_counted[keep], self._counted(new_docs, new_ids)])
        if self._others_built:
            self._apply_others(conn, docs, listed)
        self._derived = False

    def _build_others(self, conn: sqlite3.Connection) -> None:
        """Read every unwatched entity row by normalised name (a covering partial index, schema 9)."""
        docs, names = [], []
        for norm_name, group in conn.execute(
            "SELECT norm_name, group_concat(doc) FROM article_entities INDEXED BY article_entities_other "
            "WHERE entity_id IS NULL GROUP BY norm_name"
        ):
            rows = group_ints(group)
            docs.append(rows)
            names.append(np.full(len(rows), self._other_names.code(norm_name), dtype=np.int32))
        if docs:
            self._oth_doc = np.concatenate(docs)
            self._oth_name = np.concatenate(names)
            self._oth_counted = self._counted(self._oth_doc, self._oth_name)
        self._others_built = True

    def _apply_others(self, conn: sqlite3.Connection, docs: np.ndarray, listed: str) -> None:
        keep = ~np.isin(self._oth_doc, docs)
        rows = conn.execute(
            "SELECT doc, norm_name FROM article_entities "
            "WHERE doc IN (SELECT value FROM json_each(?)) AND entity_id IS NULL",
            (listed,),
        ).fetchall()
        new_docs = np.array([r[0] for r in rows], dtype=np.int64)
        new_names = self._other_names.codes(r[1] for r in rows)
        self._oth_doc = np.concatenate([self._oth_doc[keep], new_docs])
        self._oth_name = np.concatenate([self._oth_name[keep], new_names])
        self._oth_counted = np.concatenate([self._oth_counted[keep], self._counted(new_docs, new_names)])

    def _derive(self) -> None:
        """The orders the queries need, computed once per change of the columns (7 ms at 100,000)."""
        if self._derived:
            return
        docs = np.flatnonzero(self.present)
        self._all = docs
        # Newest first is sort_at DESC, doc DESC. recency: 1 = oldest ... n = newest, 0 = no
        # article. Sorting the dates as big-endian 8-byte words is sorting their bytes (memcmp,
        # as SQLite's BINARY collation) and three times faster than sorting strings.
        width = -(-self.sort_at.dtype.itemsize // 8) * 8
        words = self.sort_at[docs].astype(f"S{width}").view(">u8").reshape(len(docs), width // 8)
        order = docs[np.lexsort((docs, *(words[:, i] for i in reversed(range(width // 8)))))]
        self.recency = np.zeros(len(self.present), dtype=np.uint32)
        self.recency[order] = np.arange(1, len(order) + 1, dtype=np.uint32)
        self._derived = True

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (the string dictionaries are small and not counted)."""
        self._derive()
        arrays = [self.present, self.source, self.language, self.day, self.sort_at, self.recency, self._all]
        arrays += [self._ent_doc, self._ent_id, self._ent_label, self._ent_counted]
        arrays += [self._oth_doc, self._oth_name, self._oth_counted]
        return sum(a.nbytes for a in arrays)

    # -- answering ------------------------------------------------------------

    def all_docs(self) -> np.ndarray:
        """Every stored article's row number (a listing without text)."""
        self._derive()
        return self._all

    def select(
        self, conn: sqlite3.Connection, docs: np.ndarray, where: Filters, entity_docs: np.ndarray | None
    ) -> np.ndarray:
        """The row numbers in ``docs`` that are stored articles passing the filters.

        ``entity_docs``: the row numbers tagged with the filter's entity (SQL reads them
        from the entity indexes, see ``SqliteSearch._matches``).
        """
        self._derive()
        docs = docs[(docs >= 0) & (docs < len(self.present))]
        docs = docs[self.present[docs]]
        if entity_docs is not None:
            tagged = np.zeros(len(self.present), dtype=bool)
            ids = entity_docs
            tagged[ids[(ids >= 0) & (ids < len(tagged))]] = True
            docs = docs[tagged[docs]]
        if where.source is not None:
            code = self._sources.index.get(where.source, -1)
            docs = docs[self.source[docs] == code]
        if where.allowed_sources is not None:
            codes = [self._sources.index[s] for s in where.allowed_sources if s in self._sources.index]
            allowed = np.zeros(len(self._sources.values) + 1, dtype=bool)
            allowed[codes] = True
            docs = docs[allowed[self.source[docs]]]
        if where.languages is not None:
            # lower(a.language) IN (SELECT lower(value) ...): SQLite's lower(), not Python's.
            wanted = conn.execute(
                "SELECT j.key FROM json_each(:known) j "
                "WHERE lower(j.value) IN (SELECT lower(value) FROM json_each(:wanted))",
                {"known": json.dumps(self._languages.values), "wanted": json.dumps(list(where.languages))},
            ).fetchall()
            allowed = np.zeros(len(self._languages.values) + 1, dtype=bool)
            allowed[[row[0] for row in wanted]] = True
            docs = docs[allowed[self.language[docs]]]
        if where.since is not None:
            docs = docs[self.sort_at[docs] >= where.since.encode("utf-8")]
        if where.until is not None:
            dates, limit = self.sort_at[docs], where.until.encode("utf-8")
            docs = docs[dates <= limit if where.until_inclusive else dates < limit]
        return docs

    def newest(self, docs: np.ndarray, offset: int, limit: int) -> np.ndarray:
        """``docs[offset:offset + limit]`` in the order sort_at DESC, doc DESC."""
        end = min(offset + limit, len(docs))
        if offset >= end:
            return docs[:0]
        keys = -self.recency[docs].astype(np.int64)
        if end < len(docs):
            top = np.argpartition(keys, end - 1)[:end]
            ordered = top[np.argsort(keys[top])]
        else:
            ordered = np.argsort(keys)
        return docs[ordered[offset:end]]

    def tie_keys(self, docs: np.ndarray) -> bytes:
        """Per row number, 4 big-endian bytes that sort like (sort_at, doc); zero outside ``docs``.

        ``substr(:keys, rowid * 4 + 1, 4)`` then gives SQLite the tie-break of the bm25
        order (newest first) and the filters as one blob, without a join per match.
        """
        self._derive()
        keys = np.zeros(len(self.present), dtype=">u4")
        keys[docs] = self.recency[docs]
        return keys.tobytes()

    def count_sources(self, docs: np.ndarray) -> dict[str, int]:
        counts = np.bincount(self.source[docs], minlength=len(self._sources.values))
        return {self._sources.values[i]: int(counts[i]) for i in np.flatnonzero(counts)}

    def count_languages(self, docs: np.ndarray) -> dict[str, int]:
        counts = np.bincount(self.language[docs], minlength=len(self._languages.values))
        return {self._languages.values[i]: int(counts[i]) for i in np.flatnonzero(counts)}

    def count_others(self, conn: sqlite3.Connection, docs: np.ndarray, limit: int) -> dict[str, int]:
        """The ``limit`` unwatched entities (by normalised name) with most matching articles.

        Ties go to the smaller name, as ``ORDER BY n DESC, key`` in SQL.
        """
        if not self._others_built:
            self._build_others(conn)
        matched = np.zeros(len(self.present) + 1, dtype=bool)  # the last slot answers -1: False
        matched[docs] = True
        names = len(self._other_names.values)
        counts = np.bincount(2 * self._oth_name + matched[self._oth_counted], minlength=2 * names)[1::2]
        found = sorted(
            (-int(counts[code]), self._other_names.values[code]) for code in np.flatnonzero(counts)
        )
        return {name: -negative for negative, name in found[:limit]}

    def count_entities(self, docs: np.ndarray, limit: int) -> dict[str, int]:
        """The ``limit`` watched entities with most matching articles, by their smallest name.

        Two ``bincount`` over the entity rows: matching articles per entity id,
        and matching rows per (id, name), whose smallest name with a match is the label
        (``min(e.name)``, code point order as SQLite's BINARY). Ties in count go to the
        smaller name, then the smaller entity id (SQL leaves that last order open).
        """
        matched = np.zeros(len(self.present) + 1, dtype=bool)  # the last slot answers -1: False
        matched[docs] = True
        # bincount(2 * code + matched)[1::2]: counts matching rows per code, without the
        # slow boolean indexing or float weights (0.3 ms for 150,000 rows, not 1.5).
        ids = len(self._entity_ids.values)
        counts = np.bincount(2 * self._ent_id + matched[self._ent_counted], minlength=2 * ids)[1::2]
        labels_n = len(self._labels.values)
        rows = np.bincount(2 * self._ent_label + matched[self._ent_doc], minlength=2 * labels_n)[1::2]
        labels: dict[str, str] = {}
        for code in np.flatnonzero(rows):
            entity_id, name = self._labels.values[code]
            if entity_id not in labels or name < labels[entity_id]:
                labels[entity_id] = name
        found = sorted(
            (-int(counts[self._entity_ids.index[entity_id]]), name, entity_id)
            for entity_id, name in labels.items()
        )[:limit]
        result: dict[str, int] = {}
        for negative, name, _ in found:
            result[name] = -negative  # two ids under one name: one key, as in SQL's dict
        return result

    def histogram(self, conn: sqlite3.Connection, docs: np.ndarray, interval: str) -> dict[str, int]:
        """Matches per day, week or month, as ``SqliteSearch.histogram``'s SQL buckets them."""
        counts = np.bincount(self.day[docs], minlength=len(self._days.values))
        days = {self._days.values[i]: int(counts[i]) for i in np.flatnonzero(counts)}
        if interval == "day":
            buckets: dict[str | None, int] = {day: n for day, n in days.items()}
        else:
            if interval == "week":
                self._weeks_for(conn, days)
            buckets = {}
            for day, n in days.items():
                key = self._weeks[day] if interval == "week" else day[:7] + "-01"
                buckets[key] = buckets.get(key, 0) + n
        # ORDER BY key: SQL puts NULL (a day SQLite cannot read as a date) first.
        ordered = sorted(buckets, key=lambda key: (key is not None, key or ""))
        return {key: buckets[key] for key in ordered}  # type: ignore[misc]  # a NULL week stays None

    def _weeks_for(self, conn: sqlite3.Connection, days: Iterable[str]) -> None:
        """The Monday of each day's week, by SQLite's date() as the SQL histogram has it."""
        missing = [d for d in days if d not in self._weeks]
        if missing:
            rows = conn.execute(
                "SELECT value, date(value, '-6 days', 'weekday 1') FROM json_each(?)", (json.dumps(missing),)
            )
            self._weeks.update({day: week for day, week in rows})
