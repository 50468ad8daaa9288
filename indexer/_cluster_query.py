"""A :class:`SearchQuery` as cluster query DSL, built from the parsed user text (never raw DSL).

The user's text goes through the same parser as the embedded index
(``indexer._query.parse_query``), and each term becomes a phrase or prefix query
on the ``exact`` subfields, which tokenize as FTS5 does: the two backends match
the same articles. The English (stemmed) fields only add to the score.
:func:`read_hit` reads a hit of the answer back as the store's :class:`SearchHit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from regwatch.errors import QueryError
from regwatch.models import Source

from ._cluster_mapping import FIELD_BOOSTS
from ._highlight import hit_highlights
from ._query import ParsedQuery, _Term, lower_bound, normalise_name, parse_query, tokens, upper_bound
from ._schema import from_db, to_db
from ._search import _lead
from ._types import SearchHit, SearchQuery

SNIPPET_CHARS = 200
FACET_LIMIT = 20
SOURCE_BUCKETS = 10_000  # every source: the type facet adds them up
# A prefix of several words ("online saf*") expands its last word to at most this many terms.
PREFIX_EXPANSIONS = 1000


def term_query(term: _Term) -> dict[str, Any]:
    """One word, phrase or prefix, on the exact subfields of title, summary and body."""
    words = tokens(term.text)
    if term.prefix and len(words) == 1:
        # A single-word prefix: a prefix query per field (unanalysed, so folded here as the index is).
        # The prefix matches with a constant score; its 100 most frequent expansions also rank,
        # as FTS5 ranks a prefix match by bm25.
        return {
            "bool": {
                "should": [
                    {"prefix": {f"{name}.exact": {"value": words[0], "boost": boost, "rewrite": rewrite}}}
                    for name, boost in FIELD_BOOSTS.items()
                    for rewrite in ("constant_score", "top_terms_100")
                ],
                "minimum_should_match": 1,
            }
        }
    # Summed over the fields (as FTS5's bm25 sums its weighted columns), not the best field only.
    kind = "match_phrase_prefix" if term.prefix else "match_phrase"
    extra = {"max_expansions": PREFIX_EXPANSIONS} if term.prefix else {}
    return {
        "bool": {
            "should": [
                {kind: {f"{name}.exact": {"query": term.text, "boost": boost, **extra}}}
                for name, boost in FIELD_BOOSTS.items()
            ],
            "minimum_should_match": 1,
        }
    }


def text_query(parsed: ParsedQuery) -> dict[str, Any]:
    """ANDed groups of ORed terms minus the excluded ones; stemmed fields only rank."""
    must = [
        group_terms[0]
        if len(group_terms) == 1
        else {"bool": {"should": group_terms, "minimum_should_match": 1}}
        for group_terms in ([term_query(t) for t in group] for group in parsed.groups)
    ]
    plain = " ".join(t.text for group in parsed.groups for t in group)
    return {
        "bool": {
            "must": must,
            "must_not": [term_query(t) for t in parsed.excluded],
            "should": [
                {
                    "multi_match": {
                        "query": plain,
                        "fields": [f"{name}^{boost:g}" for name, boost in FIELD_BOOSTS.items()],
                        "boost": 0.1,
                    }
                }
            ],
        }
    }


def filters(query: SearchQuery, sources: Mapping[str, Source]) -> list[dict[str, Any]]:
    """The filter clauses of a query's filters, read as the embedded store reads them."""
    clauses: list[dict[str, Any]] = []
    if query.entity is not None and query.entity.strip():
        clauses.append(
            {
                "bool": {
                    "should": [
                        {"term": {"entity_names": normalise_name(query.entity)}},
                        {"term": {"entity_ids": query.entity.strip().lower()}},
                    ],
                    "minimum_should_match": 1,
                }
            }
        )
    if query.source is not None and query.source.strip():
        clauses.append({"term": {"source_id": query.source.strip()}})
    allowed = query.allowed_sources(sources)
    if allowed is not None:
        clauses.append({"terms": {"source_id": allowed}})
    if query.languages:
        clauses.append({"terms": {"language": [language.lower() for language in query.languages]}})
    since = lower_bound(query.since) if query.since is not None else None
    until = upper_bound(query.until) if query.until is not None else None
    window: dict[str, str] = {}
    if since is not None:
        window["gte"] = to_db(since)  # type: ignore[assignment]
    if until is not None:
        limit, inclusive = until
        window["lte" if inclusive else "lt"] = to_db(limit)  # type: ignore[assignment]
        if since is not None and (since > limit or (since == limit and not inclusive)):
            raise QueryError(f"since ({query.since}) is after until ({query.until})")
    if window:
        clauses.append({"range": {"sort_at": window}})
    return clauses


# A body longer than the index's highlight limit (index.highlight.max_analyzed_offset, 1,000,000
# characters by default) fails the whole search unless the highlighter is told to stop short of it.
# OpenSearch's parameter; Elasticsearch (7.12+) names it max_analyzed_offset, which no server here
# can check, so the elasticsearch flavour sends none (and keeps the index's limit).
HIGHLIGHT_MAX_OFFSET = 999_999
HIGHLIGHT_OFFSET_PARAMETER = {"opensearch": "max_analyzer_offset"}


def search_body(
    query: SearchQuery, sources: Mapping[str, Source], flavor: str = "opensearch"
) -> dict[str, Any]:
    """The search request: matches, order (score, then newest, then store row), page, highlight."""
    parsed = parse_query(query.text)
    bool_query: dict[str, Any] = {"filter": filters(query, sources)}
    if parsed is not None:
        bool_query["must"] = [text_query(parsed)]
    order: list[dict[str, Any]] = [{"sort_at": {"order": "desc"}}, {"doc": {"order": "desc"}}]
    if parsed is not None and query.sort == "relevance":
        order.insert(0, {"_score": {"order": "desc"}})
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "sort": order,
        "from": query.offset,
        "size": query.limit,
        "track_total_hits": True,
        "_source": [
            "id",
            "title",
            "url",
            "source_id",
            "published",
            "summary",
            "body",
            "display_entities",
            "story",
        ],
    }
    if parsed is not None:
        body["highlight"] = {
            "pre_tags": ["["],
            "post_tags": ["]"],
            "fields": {"body.exact": {"fragment_size": SNIPPET_CHARS, "number_of_fragments": 1}},
            "highlight_query": text_query(ParsedQuery(parsed.groups)),
        }
        if flavor in HIGHLIGHT_OFFSET_PARAMETER:
            body["highlight"][HIGHLIGHT_OFFSET_PARAMETER[flavor]] = HIGHLIGHT_MAX_OFFSET
    return body


def facets_body(query: SearchQuery, sources: Mapping[str, Source]) -> dict[str, Any]:
    """Counts by source (all of them: the types and jurisdictions add them up), language,
    watched entity and other entity (the top 20 of each)."""
    order = [{"_count": "desc"}, {"_key": "asc"}]
    return {
        "query": search_body(query, sources)["query"],
        "size": 0,
        "aggs": {
            "sources": {"terms": {"field": "source_id", "size": SOURCE_BUCKETS, "order": order}},
            "languages": {"terms": {"field": "language", "size": FACET_LIMIT, "order": order}},
            "entities": {"terms": {"field": "watched_names", "size": FACET_LIMIT, "order": order}},
            "other_entities": {"terms": {"field": "other_names", "size": FACET_LIMIT, "order": order}},
        },
    }


def histogram_body(query: SearchQuery, sources: Mapping[str, Source], interval: str) -> dict[str, Any]:
    """Matching articles per calendar day, week (from Monday) or month, in UTC."""
    return {
        "query": search_body(query, sources)["query"],
        "size": 0,
        "aggs": {
            "dates": {
                "date_histogram": {
                    "field": "sort_at",
                    "calendar_interval": interval,
                    "format": "yyyy-MM-dd",
                    "time_zone": "UTC",
                    "min_doc_count": 1,
                }
            }
        },
    }


def read_hit(raw: dict[str, Any], query: SearchQuery, ranked: bool) -> SearchHit:
    """One hit of a cluster's answer as the store's search gives it (its score only when ``ranked``)."""
    doc = raw["_source"]
    highlight = (raw.get("highlight") or {}).get("body.exact") or []
    snippet = highlight[0] if highlight and doc.get("body") else _lead(doc.get("summary") or doc["body"])
    marked = (
        hit_highlights(doc["title"], doc.get("summary") or "", doc.get("body") or "", query.text)
        if query.highlight
        else (None, None)
    )
    return SearchHit(
        id=doc["id"],
        title=doc["title"],
        url=doc["url"],
        source=doc["source_id"],
        published=from_db(doc.get("published")),
        entities=list(doc.get("display_entities") or []),
        snippet=snippet,
        score=raw.get("_score") if ranked else None,
        story=doc.get("story") or "",
        title_marked=marked[0],
        sentence=marked[1],
    )
