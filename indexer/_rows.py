"""Reading stored rows back as models: articles with their entities, and a hit's entity names."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from regwatch.models import Action, Article, Quote, TaggedEntity, utcnow

from ._query import normalise_name
from ._schema import from_db


def entities_of(conn: sqlite3.Connection, article_ids: Sequence[str]) -> dict[str, list[TaggedEntity]]:
    """The stored entities of each article, in their stored order."""
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


def to_article(row: sqlite3.Row, entities: list[TaggedEntity]) -> Article:
    """An ``articles`` row (``SELECT *``) as an :class:`Article` with ``entities``."""
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


def articles_with_entities(conn: sqlite3.Connection, rows: Sequence[sqlite3.Row]) -> list[Article]:
    """``articles`` rows as Articles, each with its stored entities (one query for all)."""
    entities = entities_of(conn, [row["id"] for row in rows])
    return [to_article(row, entities.get(row["id"], [])) for row in rows]


def display_names(entities: Sequence[TaggedEntity]) -> list[str]:
    """Entity names for a hit: watched (canonical) names first by salience, then the others, once each."""
    ordered = sorted(enumerate(entities), key=lambda pair: (not pair[1].watched, -pair[1].salience, pair[0]))
    names: dict[str, str] = {}
    for _, entity in ordered:
        names.setdefault(normalise_name(entity.name), entity.name)
    return list(names.values())
