"""Stories: wire copies and syndicated versions of one story share a ``story_id``.

An article's signature is the set of its body's word 5-shingles (casefolded words
only, so punctuation and case do not matter), each hashed to 32 bits; the
headline is left out, as syndication often rewrites it. Two articles tell the
same story when the Jaccard similarity of those sets is at least
``JACCARD_THRESHOLD`` (0.5). Every changed word breaks five shingles, so a wire
copy with its own headline, standfirst, sign-off ("Reporting by…") and a few
edited words scores about 0.6–0.7 (tests/story_fixtures.py: 0.67), while two
reports on one topic (an investigation opened, then an update on it) share
phrases but hardly any 5-word run (0.0 there); 0.5 leaves a margin on both sides.

Finding the candidates must not scan the archive: a MinHash of ``BANDS`` ×
``ROWS`` permutations is cut into bands, each band hashes to a bucket key, and
the ``story_buckets`` table (primary key: bucket, row number) gives the articles
sharing a bucket. With 20 bands of 2 rows a pair at Jaccard 0.5 shares a bucket
with probability 0.997 (0.6: 0.9999), a pair at 0.1 with 0.18 and at 0.05 with
0.05; an article adds 20 small rows. The candidates (at most ``MAX_CANDIDATES``,
those sharing most buckets first) are then checked with the exact Jaccard of
their shingle sets, so an LSH collision never merges two stories.

An article joins the story of the most similar candidate; with none it starts
its own story, whose id is its article id. A story id is therefore the id of the
first article *stored* in the story, and does not change when copies arrive.
When an article matches members of several stories (a full wire text arriving
after two outlets each ran a different cut of it), those stories are merged
into the one stored first, and the moved articles are marked changed so a search
cluster is sent their new story. Texts with fewer than ``MIN_SHINGLES``
shingles (a stub, a one-line brief) are too short for a meaningful overlap: they
are compared by headline and text together, and join a story only when those
words are identical to another short text's, so the paywall stubs of different
stories stay apart. When an article's text changes it is assigned a story again;
if it was the first of a story, the story's other members are too (in the order
they were stored), as their link ran through it.

When: a store opened with ``stories="inline"`` (the default) gives each new or
changed article its story in its upsert's transaction. The crawl's item
pipeline opens it with ``stories="deferred"``: an upsert then only marks the
article (and the rest of a story it led) as awaiting a story (``story_id =
''``), and :meth:`SqliteStories.assign_pending`, a step of its own in the
pipeline after every crawl (before tagging and indexing), assigns everything
awaiting one, oldest first: the same stories as assigning at each upsert.
Articles stored before story ids existed (schema version 4) await one too, and
get it the same way.

("cluster" in regwatch means the search cluster only; what this module computes
are stories.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import unicodedata
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from regwatch.models import Article

from ._database import Database
from ._rows import articles_with_entities
from ._schema import from_db
from ._types import SearchHit

log = logging.getLogger(__name__)

# When an upsert assigns the story: in its own transaction, later (assign_pending), or not at all
# (a benchmark's baseline: new articles then wait for assign_pending too).
STORY_MODES: tuple[str, ...] = ("inline", "deferred", "off")
SHINGLE_WORDS = 5
JACCARD_THRESHOLD = 0.5
BANDS, ROWS = 20, 2
MIN_SHINGLES = 10
MAX_CANDIDATES = 20

_WORD_RE = re.compile(r"\w+")
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_rng = np.random.default_rng(20240501)  # fixed: bucket keys must be the same in every process
# Odd 64-bit multipliers: the words of a shingle, and the MinHash permutations (multiply-shift hashing).
_WORD_MULTIPLIERS = _rng.integers(1, 1 << 63, size=SHINGLE_WORDS, dtype=np.uint64) | np.uint64(1)
_A = _rng.integers(1, 1 << 63, size=BANDS * ROWS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 1 << 63, size=BANDS * ROWS, dtype=np.uint64)


@dataclass(frozen=True)
class Signature:
    """What story assignment knows of a text: its shingle hashes and its LSH bucket keys."""

    shingles: frozenset[int]
    buckets: tuple[int, ...]


def story_text(title: str, body: str, summary: str = "") -> str:
    """The text an article's story is found by: its body (else its summary), with the title when that is short."""
    text = body or summary
    if len(words(text)) - SHINGLE_WORDS + 1 < MIN_SHINGLES:
        return f"{title}\n{text}"
    return text


def words(text: str) -> list[str]:
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def _shingle_hashes(text: str) -> np.ndarray:
    """Unique 32-bit hashes of the word 5-shingles; a short text gives one hash, of all its words."""
    tokens = words(text)
    if not tokens:
        return np.empty(0, dtype=np.uint64)
    if len(tokens) - SHINGLE_WORDS + 1 < MIN_SHINGLES:
        digest = hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=4).digest()
        # Above 2**32, so it can never equal a shingle of a long text.
        return np.array([(1 << 32) + int.from_bytes(digest, "big")], dtype=np.uint64)
    per_word = {word: zlib.crc32(word.encode("utf-8")) for word in set(tokens)}
    hashed = np.fromiter((per_word[t] for t in tokens), dtype=np.uint64, count=len(tokens))
    count = len(tokens) - SHINGLE_WORDS + 1
    combined = np.zeros(count, dtype=np.uint64)
    for k in range(SHINGLE_WORDS):  # wraps modulo 2**64, as intended
        combined += hashed[k : k + count] * _WORD_MULTIPLIERS[k]
    return np.unique((combined >> _SHIFT32) ^ (combined & _MASK32))


def shingles(text: str) -> frozenset[int]:
    """The text's shingle hashes as a set (see :func:`signature`)."""
    return frozenset(_shingle_hashes(text).tolist())


def _bucket_key(band: int, values: bytes) -> int:
    # 32 bits keep the table small; a rare collision only adds a candidate, which is checked exactly.
    digest = hashlib.blake2b(values, digest_size=4, person=band.to_bytes(16, "big")).digest()
    return int.from_bytes(digest, "big")


def signature(text: str) -> Signature:
    """The shingles and bucket keys of ``text``; a short text has one bucket, its exact words."""
    hashes = _shingle_hashes(text)
    found = frozenset(hashes.tolist())
    if not found:
        return Signature(found, ())
    if len(hashes) == 1 and int(hashes[0]) >> 32:
        return Signature(found, (_bucket_key(BANDS, int(hashes[0]).to_bytes(8, "big")),))
    # Permutation i of h: the top 32 bits of a_i·h + b_i (mod 2**64), a multiply-shift hash.
    minhash = ((np.outer(hashes, _A) + _B) >> _SHIFT32).min(axis=0).astype(">u4")
    return Signature(
        found, tuple(_bucket_key(b, minhash[b * ROWS : (b + 1) * ROWS].tobytes()) for b in range(BANDS))
    )


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def same_story(a: str, b: str) -> bool:
    """Whether two texts tell the same story (the test applied to the candidates)."""
    return jaccard(shingles(a), shingles(b)) >= JACCARD_THRESHOLD


# -- the store side: bucket table, assignment, the pending step ----------------------------------
#
# The steps below are the same on every store engine; each engine gives them its rows through
# a ``StoryRows`` bound to the caller's write transaction (SQLite: ``SqliteStoryRows`` here;
# PostgreSQL: ``indexer._pg._stories``). A row is a mapping with at least ``id``, ``story_id``,
# ``title``, ``summary`` and ``body``; candidates add ``first_seen`` and ``doc``.


class StoryRows(Protocol):
    """The reads and writes story assignment makes, inside one write transaction of one engine."""

    def candidates(self, doc: int, buckets: Sequence[int], limit: int) -> list[int]:
        """Row numbers sharing a bucket with ``buckets`` (not ``doc``), most shared first, then by row."""
        ...

    def assigned(self, docs: Sequence[int]) -> list[Mapping[str, Any]]:
        """The rows of ``docs`` that have a story (id, story_id, title, summary, body, first_seen, doc)."""
        ...

    def stories_by_first_member(self, stories: Sequence[str]) -> list[str]:
        """``stories`` ordered by when their first member was stored (first_seen, then row number)."""
        ...

    def move(self, kept: str, moved: Sequence[str]) -> None:
        """Give the members of ``moved`` the story ``kept`` and a new version."""
        ...

    def buckets_of(self, article_id: str) -> tuple[int, list[int]]:
        """The article's row number and its stored bucket keys."""
        ...

    def replace_buckets(self, doc: int, old: Sequence[int], new: Sequence[int]) -> None: ...

    def set_story(self, article_id: str, story: str, buckets: Sequence[int], bump_version: bool) -> None: ...

    def leads(self, article_id: str) -> bool:
        """Whether another article has the story ``article_id`` (it is the first of a story)."""
        ...

    def members(self, story_id: str, excluding: str) -> list[Mapping[str, Any]]:
        """The story's other members, in the order they were stored."""
        ...

    def clear(self, article_ids: Sequence[str]) -> None:
        """Leave the articles without a story (``''``)."""
        ...

    def defer(self, article_id: str) -> None:
        """Leave the article, and the rest of a story it led, without a story."""
        ...

    def awaiting(self, limit: int) -> list[Mapping[str, Any]]:
        """Up to ``limit`` articles without a story, oldest first."""
        ...


def _matches(rows: StoryRows, doc: int, sig: Signature) -> list[str]:
    """The stories of the stored articles similar to ``sig`` (Jaccard ≥ threshold), most similar first.

    On equal similarity the story of the earlier stored article comes first.
    """
    if not sig.buckets:
        return []
    candidates = rows.candidates(doc, sig.buckets, MAX_CANDIDATES)
    if not candidates:
        return []
    ranked = []
    # An article without a story yet (being assigned again, or awaiting assign_pending) is
    # skipped: it will find this one when its own turn comes, in the order stored.
    for row in rows.assigned(candidates):
        similarity = jaccard(sig.shingles, shingles(story_text(row["title"], row["body"], row["summary"])))
        if similarity >= JACCARD_THRESHOLD:
            ranked.append(((-similarity, row["first_seen"], row["doc"]), row["story_id"]))
    stories: list[str] = []
    for _, story in sorted(ranked):
        if story not in stories:
            stories.append(story)
    return stories


def _merge(rows: StoryRows, stories: Sequence[str]) -> str:
    """Merge ``stories`` into the one whose first member was stored first; return its id.

    The moved articles get a new version, so a search cluster is sent their new story.
    """
    kept, *moved = rows.stories_by_first_member(stories)
    rows.move(kept, moved)
    return str(kept)


def assign(
    rows: StoryRows, article_id: str, text: str, *, bump_version: bool = False, old_story: str = ""
) -> str:
    """(Re)assign the story of one stored article inside the caller's write transaction; return it.

    ``bump_version`` marks the article changed when its story is not ``old_story``
    (so a search cluster is sent the new story); an upsert, which raised the
    version already, passes False.
    """
    sig = signature(text)
    doc, old_buckets = rows.buckets_of(article_id)
    rows.replace_buckets(doc, old_buckets, ())
    stories = _matches(rows, doc, sig)
    story = (_merge(rows, stories) if len(stories) > 1 else stories[0]) if stories else article_id
    rows.replace_buckets(doc, (), sig.buckets)
    rows.set_story(article_id, story, sig.buckets, bump_version and story != old_story)
    return story


def assign_changed(rows: StoryRows, article_id: str, text: str) -> str:
    """Assign the story of an article whose text is new or changed; its story's members follow if it led it."""
    led = rows.leads(article_id)
    story = assign(rows, article_id, text)
    if led:
        _reassign(rows, rows.members(article_id, excluding=article_id))
    return story


def defer(rows: StoryRows, article_id: str) -> None:
    """Leave a new or changed article to :func:`assign_pending`, with the rest of a story it led.

    That step assigns them oldest first, the order :func:`assign_changed` would have
    followed, so the stories come out the same; meanwhile they have none (``""``).
    """
    rows.defer(article_id)


def _reassign(rows: StoryRows, members: Sequence[Mapping[str, Any]]) -> int:
    """Assign ``members`` their stories again, in order; all lose theirs first, so none links through a stale one."""
    rows.clear([row["id"] for row in members])
    for row in members:
        text = story_text(row["title"], row["body"], row["summary"])
        assign(rows, row["id"], text, bump_version=True, old_story=row["story_id"])
    return len(members)


def assign_pending(rows: StoryRows, limit: int) -> int:
    """Assign a story to up to ``limit`` articles awaiting one, oldest first; return how many.

    Those are the new and changed articles a store with deferred stories wrote
    (a crawl's), and any stored before story ids existed.
    """
    return _reassign(rows, rows.awaiting(limit))


class SqliteStoryRows:
    """:class:`StoryRows` on the SQLite store, inside the caller's ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def candidates(self, doc: int, buckets: Sequence[int], limit: int) -> list[int]:
        return [
            row[0]
            for row in self.conn.execute(
                """
                SELECT doc, count(*) AS shared FROM story_buckets
                WHERE bucket IN (SELECT value FROM json_each(?)) AND doc != ?
                GROUP BY doc ORDER BY shared DESC, doc LIMIT ?
                """,
                (json.dumps(list(buckets)), doc, limit),
            )
        ]

    def assigned(self, docs: Sequence[int]) -> list[Mapping[str, Any]]:
        return self.conn.execute(
            "SELECT id, story_id, title, summary, body, first_seen, doc FROM articles "
            "WHERE doc IN (SELECT value FROM json_each(?)) AND story_id != ''",
            (json.dumps(list(docs)),),
        ).fetchall()

    def stories_by_first_member(self, stories: Sequence[str]) -> list[str]:
        rows = self.conn.execute(
            "SELECT story_id, min(first_seen) AS first, min(doc) AS doc FROM articles "
            "WHERE story_id IN (SELECT value FROM json_each(?)) GROUP BY story_id ORDER BY first, doc",
            (json.dumps(list(stories)),),
        ).fetchall()
        return [row["story_id"] for row in rows]

    def move(self, kept: str, moved: Sequence[str]) -> None:
        self.conn.execute(
            "UPDATE articles SET story_id = ?, version = version + 1 "
            "WHERE story_id IN (SELECT value FROM json_each(?))",
            (kept, json.dumps(list(moved))),
        )

    def buckets_of(self, article_id: str) -> tuple[int, list[int]]:
        doc, buckets = self.conn.execute(
            "SELECT doc, story_buckets FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return int(doc), json.loads(buckets)

    def replace_buckets(self, doc: int, old: Sequence[int], new: Sequence[int]) -> None:
        if old:
            self.conn.execute(
                "DELETE FROM story_buckets WHERE doc = ? AND bucket IN (SELECT value FROM json_each(?))",
                (doc, json.dumps(list(old))),
            )
        self.conn.executemany(
            "INSERT OR IGNORE INTO story_buckets (bucket, doc) VALUES (?, ?)", [(b, doc) for b in new]
        )

    def set_story(self, article_id: str, story: str, buckets: Sequence[int], bump_version: bool) -> None:
        bump = ", version = version + 1" if bump_version else ""
        self.conn.execute(
            f"UPDATE articles SET story_id = ?, story_buckets = ?{bump} WHERE id = ?",
            (story, json.dumps(list(buckets)), article_id),
        )

    def leads(self, article_id: str) -> bool:
        found = self.conn.execute(
            "SELECT 1 FROM articles WHERE story_id = ? AND id != ? LIMIT 1", (article_id, article_id)
        ).fetchone()
        return found is not None

    def members(self, story_id: str, excluding: str) -> list[Mapping[str, Any]]:
        return self.conn.execute(
            "SELECT id, story_id, title, summary, body FROM articles WHERE story_id = ? AND id != ? "
            "ORDER BY first_seen, doc",
            (story_id, excluding),
        ).fetchall()

    def clear(self, article_ids: Sequence[str]) -> None:
        self.conn.executemany("UPDATE articles SET story_id = '' WHERE id = ?", [(a,) for a in article_ids])

    def defer(self, article_id: str) -> None:
        self.conn.execute(
            "UPDATE articles SET story_id = '' WHERE id = ? OR story_id = ?", (article_id, article_id)
        )

    def awaiting(self, limit: int) -> list[Mapping[str, Any]]:
        return self.conn.execute(
            "SELECT id, story_id, title, summary, body FROM articles WHERE story_id = '' "
            "ORDER BY first_seen, doc LIMIT ?",
            (limit,),
        ).fetchall()


class SqliteStories:
    """The store's ``stories`` component: the pending-stories step and the articles of a story."""

    def __init__(self, db: Database, batch_size: int = 500) -> None:
        self._db = db
        self.batch_size = max(1, batch_size)

    def assign_pending(self) -> int:
        """Give a story to every article awaiting one (see the module docstring); return how many.

        Oldest first, in batches (a crawl writing meanwhile is not locked out for
        long); a second call finds nothing to do.
        """
        done = 0
        while True:
            with self._db.transaction(write=True) as conn:
                batch = assign_pending(SqliteStoryRows(conn), self.batch_size)
            done += batch
            if batch < self.batch_size:
                break
        if done:
            log.info("Assigned %d articles to stories in %s", done, self._db.path)
        return done

    def members(self, story_ids: Sequence[str]) -> dict[str, list[SearchHit]]:
        """The articles of each story as light hits (no text), first stored first; one read for all.

        What a result list needs to say "also reported by" without loading every copy's body.
        """
        found: dict[str, list[SearchHit]] = {}
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT id, title, url, source_id, published, story_id FROM articles "
                "WHERE story_id IN (SELECT value FROM json_each(?)) ORDER BY story_id, first_seen, doc",
                (json.dumps([story for story in dict.fromkeys(story_ids) if story]),),
            ).fetchall()
        for row in rows:
            found.setdefault(row["story_id"], []).append(
                SearchHit(
                    id=row["id"],
                    title=row["title"],
                    url=row["url"],
                    source=row["source_id"],
                    published=from_db(row["published"]),
                    story=row["story_id"],
                )
            )
        return found

    def articles(self, story_id: str) -> list[Article]:
        """The articles of a story, with their entities, in the order they were first stored."""
        with self._db.transaction(write=False) as conn:
            rows = conn.execute(
                "SELECT * FROM articles WHERE story_id = ? ORDER BY first_seen, doc", (story_id,)
            ).fetchall()
            return articles_with_entities(conn, rows)
