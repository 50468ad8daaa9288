"""The cluster index: its settings and mappings, and an article as a cluster document.

One definition serves OpenSearch 2/3 and Elasticsearch. Text fields have two
analyses: the main field is English (possessives, stop words, stemming, ASCII
folding) and ranks; the ``exact`` subfield splits on everything that is not a
letter or digit, lowercases and folds accents, which is what the embedded FTS5
index (unicode61, remove_diacritics) does, so both backends match the same
articles for the same words. Keyword fields carry the filters and facets.

``MAPPING_VERSION`` goes up whenever this changes; ``regwatch index migrate``
then builds a new index version and moves the alias to it.

Index versions are named ``NAME-000001`` and so on, and several deployments may
share a cluster with names that start alike (``regwatch`` and ``regwatch-test``).
So a deployment's index template matches only its own versions' names
(``NAME-0*``) and its versions are read back by exact name
(:func:`is_version_of`). Two templates whose patterns overlap then have names
of different lengths (one name plus ``-0`` starts the other), and a priority
that grows with the name's length (:func:`index_template`) keeps them apart:
the engines refuse overlapping templates at one priority, and the longer, more
specific name wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from regwatch.models import Source

from ._query import normalise_name
from ._schema import to_db
from ._types import ClusterDoc

# 2: other_names (the unwatched entities' facet). A version-1 index gets the new field in place
# and every document again (see ClusterIndex.ensure_index).
MAPPING_VERSION = 2
VERSION_DIGITS = 6  # NAME-000001
TEMPLATE_PRIORITY_BASE = 100  # plus the name's length (see the module docstring)
# Field weights of the text search, as in the embedded index's bm25 (title, summary, body).
FIELD_BOOSTS = {"title": 10.0, "summary": 4.0, "body": 1.0}

_TEXT = {
    "type": "text",
    "analyzer": "regwatch_english",
    "fields": {"exact": {"type": "text", "analyzer": "regwatch_exact"}},
}
_KEYWORD = {"type": "keyword"}

INDEX_SETTINGS: dict[str, Any] = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "analysis": {
        "tokenizer": {"regwatch_words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
        "filter": {
            "regwatch_english_stop": {"type": "stop", "stopwords": "_english_"},
            "regwatch_english_stemmer": {"type": "stemmer", "language": "english"},
            "regwatch_english_possessive": {"type": "stemmer", "language": "possessive_english"},
        },
        "analyzer": {
            "regwatch_english": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": [
                    "regwatch_english_possessive",
                    "lowercase",
                    "asciifolding",
                    "regwatch_english_stop",
                    "regwatch_english_stemmer",
                ],
            },
            "regwatch_exact": {
                "type": "custom",
                "tokenizer": "regwatch_words",
                "filter": ["lowercase", "asciifolding"],
            },
        },
    },
}

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_meta": {"regwatch_mapping_version": MAPPING_VERSION},
    "properties": {
        "id": _KEYWORD,
        "doc": {"type": "long"},
        "version": {"type": "long"},
        "url": _KEYWORD,
        "title": _TEXT,
        "summary": _TEXT,
        "body": _TEXT,
        "source_id": _KEYWORD,
        "source_type": _KEYWORD,
        "jurisdiction": _KEYWORD,
        "language": _KEYWORD,
        "section": _KEYWORD,
        "authors": _KEYWORD,
        "tags": _KEYWORD,
        "story": _KEYWORD,  # the story (indexer/_story.py): the id of its first stored article
        "published": {"type": "date"},
        "first_seen": {"type": "date"},
        "sort_at": {"type": "date"},  # published, or first seen when that is unknown
        "entity_ids": {"type": "keyword", "normalizer": "regwatch_lower"},
        "entity_names": _KEYWORD,  # normalised names (see normalise_name), every entity
        "entity_types": _KEYWORD,
        "watched_names": _KEYWORD,  # canonical names of watched entities: the entity facet
        "other_names": _KEYWORD,  # normalised names of the unwatched entities: their facet
        "display_entities": {"type": "keyword", "index": False},
        "quotes": {
            "type": "nested",
            "properties": {
                "text": _TEXT,
                "speaker": _KEYWORD,
                "speaker_entity_id": _KEYWORD,
                "position": {"type": "integer"},
            },
        },
        "actions": {
            "type": "nested",
            "properties": {
                "actor": _KEYWORD,
                "action": _KEYWORD,
                "target": _KEYWORD,
                "actor_entity_id": _KEYWORD,
                "target_entity_id": _KEYWORD,
                "sentence": {"type": "text", "analyzer": "regwatch_english"},
            },
        },
    },
}
INDEX_SETTINGS["analysis"]["normalizer"] = {"regwatch_lower": {"type": "custom", "filter": ["lowercase"]}}


def index_body() -> dict[str, Any]:
    """The body of a create-index request (and of the index template)."""
    return {"settings": INDEX_SETTINGS, "mappings": MAPPINGS}


def index_template(alias: str) -> dict[str, Any]:
    """The index template of ``alias``'s versions: their names only, at a priority from the name's length."""
    return {
        "index_patterns": [f"{alias}-0*"],
        "template": index_body(),
        "priority": TEMPLATE_PRIORITY_BASE + len(alias),
    }


def is_version_of(alias: str, index: str) -> bool:
    """Whether ``index`` is a version of ``alias`` (``alias-000042``), not another alias's that starts alike."""
    prefix = f"{alias}-"
    number = index[len(prefix) :] if index.startswith(prefix) else ""
    return len(number) >= VERSION_DIGITS and number.isascii() and number.isdigit()


def next_version(alias: str, versions: Iterable[str]) -> str:
    """The name of ``alias``'s next index version: one past the highest of ``versions``."""
    last = max((int(name.rsplit("-", 1)[1]) for name in versions), default=0)
    return f"{alias}-{last + 1:0{VERSION_DIGITS}d}"


def to_document(item: ClusterDoc, sources: dict[str, Source]) -> dict[str, Any]:
    """The cluster document of one stored article; ``sources`` gives its source's type and jurisdiction."""
    article = item.article
    source = sources.get(article.source_id)
    published = to_db(article.published)
    return {
        "id": article.id,
        "doc": item.doc,
        "version": item.version,
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "body": article.body,
        "source_id": article.source_id,
        "source_type": source.type if source else None,
        "jurisdiction": (source.jurisdiction or None) if source else None,
        "language": (article.language or "").lower() or None,
        "section": article.section or None,
        "authors": list(article.authors),
        "tags": list(article.tags),
        "story": article.story_id or None,
        "published": published,
        "first_seen": to_db(item.first_seen),
        "sort_at": published or to_db(item.first_seen),
        "entity_ids": sorted({e.entity_id for e in article.entities if e.entity_id}),
        "entity_names": sorted({normalise_name(e.name) for e in article.entities}),
        "entity_types": sorted({e.type for e in article.entities}),
        "watched_names": sorted({e.name for e in article.entities if e.watched}),
        "other_names": sorted({normalise_name(e.name) for e in article.entities if not e.watched}),
        "display_entities": item.display_entities,
        "quotes": [q.to_dict() for q in article.quotes],
        "actions": [a.to_dict() for a in article.actions],
    }
