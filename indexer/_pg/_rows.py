"""Reading PostgreSQL rows back as models: articles with their entities."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from regwatch.models import Action, Article, Quote, TaggedEntity, utcnow

from ._database import from_pg, rows

# The articles columns read back (all but the generated sort key and the story buckets).
ARTICLE_COLUMNS = (
    "doc, id, url, source_id, title, summary, body, fetch_url, published, updated, authors, language, "
    "section, tags, fetched_at, content_hash, first_seen, last_seen, last_changed, version, tagged_at, "
    "tagger_version, quotes, actions, story_id"
)


def columns(alias: str) -> str:
    """:data:`ARTICLE_COLUMNS` qualified by a table alias (``a.doc, a.id, …``)."""
    return ", ".join(f"{alias}.{name.strip()}" for name in ARTICLE_COLUMNS.split(","))


def entities_of(conn: Connection, article_ids: Sequence[str]) -> dict[str, list[TaggedEntity]]:
    """The stored entities of each article, in their stored order."""
    found: dict[str, list[TaggedEntity]] = {}
    if not article_ids:
        return found
    for entry in rows(
        conn,
        "SELECT * FROM article_entities WHERE article_id = ANY(CAST(:ids AS text[])) "
        "ORDER BY article_id, position",
        {"ids": list(article_ids)},
    ):
        found.setdefault(entry["article_id"], []).append(
            TaggedEntity(
                name=entry["name"],
                type=entry["type"],
                mentions=list(entry["mentions"]),
                entity_id=entry["entity_id"],
                count=entry["count"],
                first_position=entry["first_position"],
                in_title=bool(entry["in_title"]),
                salience=float(entry["salience"]),
            )
        )
    return found


def to_article(entry: Mapping[str, Any], entities: list[TaggedEntity]) -> Article:
    """An ``articles`` row (:data:`ARTICLE_COLUMNS`) as an :class:`Article` with ``entities``."""
    return Article(
        url=entry["url"],
        source_id=entry["source_id"],
        title=entry["title"],
        body=entry["body"],
        fetch_url=entry["fetch_url"],
        summary=entry["summary"],
        published=from_pg(entry["published"]),
        updated=from_pg(entry["updated"]),
        authors=list(entry["authors"]),
        language=entry["language"],
        section=entry["section"],
        tags=list(entry["tags"]),
        fetched_at=from_pg(entry["fetched_at"]) or utcnow(),
        entities=entities,
        quotes=[Quote.from_dict(q) for q in entry["quotes"]],
        actions=[Action.from_dict(a) for a in entry["actions"]],
        story_id=entry["story_id"],
    )


def articles_with_entities(conn: Connection, entries: Sequence[Mapping[str, Any]]) -> list[Article]:
    """``articles`` rows as Articles, each with its stored entities (one query for all)."""
    entities = entities_of(conn, [entry["id"] for entry in entries])
    return [to_article(entry, entities.get(entry["id"], [])) for entry in entries]
