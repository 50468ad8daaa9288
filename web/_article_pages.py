"""The article page (``/article/{id}``) and the entity page (``/entity/{id}``).

An entity is a watched one by its watchlist id (a name or alias redirects
there), or any other entity by its normalised name (``boris johnson``), which
is what the search's entity filter and the "other entities" facet speak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from indexer import Highlight, SearchQuery, highlight, normalise_name
from regwatch.errors import QueryError
from regwatch.models import Action, Article, Quote

from ._common import entity_href, source_name
from ._query import SearchParams
from ._search_page import attention
from ._services import DeskServices

router = APIRouter()

ARTICLE_ID = re.compile(r"[0-9a-f]{16}")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n")
LATEST = 10  # quotes, actions and articles shown on an entity page
SCANNED = 30  # the latest articles mentioning an entity read for its quotes and actions


def paragraphs(body: str) -> list[str]:
    """The body's paragraphs (the extractor keeps one per line), blank ones dropped."""
    return [part.strip() for part in _PARAGRAPH_BREAK.split(body or "") if part.strip()]


def summary_apart(summary: str, shown: list[str]) -> str:
    """The summary to show above the body: none where the body opens with it.

    Extraction keeps a standfirst in the body (as the page shows it and as human gold marks it)
    and as the summary, so an article page would otherwise print it twice.
    """
    return "" if shown[:1] == [summary.strip()] else summary


def article_view(desk: DeskServices, article_id: str) -> dict[str, Any] | None:
    article = desk.store.articles.get(article_id)
    if article is None:
        return None
    hrefs = {normalise_name(e.name): entity_href(desk, e.name, e.entity_id) for e in article.entities}

    def href(name: str, entity_id: str | None) -> str | None:
        return entity_href(desk, name, entity_id) if entity_id else hrefs.get(normalise_name(name))

    story = (
        [
            m
            for m in desk.store.stories.members([article.story_id]).get(article.story_id, [])
            if m.id != article.id
        ]
        if article.story_id
        else []
    )
    shown = paragraphs(article.body)
    return {
        "article": article,
        "source_name": source_name(desk, article.source_id),
        "summary": summary_apart(article.summary, shown),
        "paragraphs": shown,
        "watched": [(e, hrefs[normalise_name(e.name)]) for e in article.entities if e.watched],
        "others": [(e, hrefs[normalise_name(e.name)]) for e in article.entities if not e.watched],
        "quotes": [(q, href(q.speaker, q.speaker_entity_id)) for q in article.quotes],
        "actions": [
            (a, href(a.actor, a.actor_entity_id), href(a.target, a.target_entity_id) if a.target else None)
            for a in article.actions
        ],
        "story": story,
        "source_names": {s.id: s.name for s in desk.sources.values()},
        "urls": [url for url in desk.store.articles.urls(article.id) if url != article.url],
        "params_source_url": SearchParams(source=article.source_id, sort="newest").url(),
    }


@router.get("/article/{article_id}", include_in_schema=False)
async def article_page(request: Request, article_id: str) -> Response:
    from ._app import render

    view = None
    if ARTICLE_ID.fullmatch(article_id):
        view = await request.app.state.worker.run(article_view, request.app.state.desk, article_id)
    if view is None:
        raise HTTPException(404, f"No article {article_id!r} is stored.")
    return render(request, "article.html.j2", view)


@dataclass
class EntityRef:
    """The entity a page is about: its page key, what to show, and what the entity filter takes."""

    key: str
    label: str
    filter: str
    names: list[str]
    watched_id: str | None = None
    type: str = ""


def resolve_entity(desk: DeskServices, key: str) -> EntityRef | str | None:
    """The entity of a page key; a string is the key to redirect to; None: no such entity."""
    watched = desk.find_entity(key)
    if watched is not None:
        if key != watched.id:
            return watched.id
        return EntityRef(
            watched.id, watched.name, watched.name, [watched.name, *watched.aliases], watched.id, watched.type
        )
    norm = normalise_name(key)
    if not norm:
        return None
    if norm != key:
        return norm
    label = desk.store.articles.entity_labels([norm]).get(norm)
    if label is None:
        return None
    return EntityRef(norm, label, norm, [label])


def _names_query(names: list[str]) -> str:
    """A query matching any of the names as a phrase (for quotes about the entity)."""
    phrases = [" ".join(name.replace('"', " ").split()) for name in names]
    return " OR ".join(f'"{phrase}"' for phrase in phrases if any(ch.isalnum() for ch in phrase))


def _is(entity: EntityRef, name: str, entity_id: str | None) -> bool:
    if entity.watched_id is not None and entity_id is not None:
        return entity_id == entity.watched_id
    return normalise_name(name) in {normalise_name(n) for n in entity.names}


@dataclass
class QuoteItem:
    quote: Quote
    text: Highlight
    article: Article
    by: bool  # said by the entity (else about it)


def entity_view(desk: DeskServices, entity: EntityRef, params: SearchParams) -> dict[str, Any]:
    index = desk.search_index
    params = SearchParams(entity=entity.filter, interval=params.interval, measure=params.measure)
    query = SearchQuery(entity=entity.filter, sort="newest", limit=SCANNED, highlight=False)
    result = index.search(query)
    facets = index.facets(query)
    chart, interval = attention(desk, params, query, entity.label, "mentions")
    articles = desk.store.articles.get_many([hit.id for hit in result.hits])
    names_query = _names_query(entity.names)
    quotes: list[QuoteItem] = []
    actions: list[tuple[Action, Article, str | None, str | None]] = []
    for article in articles:
        for said in article.quotes:
            by = _is(entity, said.speaker, said.speaker_entity_id)
            try:
                marked = highlight(said.text, names_query or None)
            except QueryError:
                marked = Highlight(said.text)
            if (by or marked.marks) and len(quotes) < LATEST:
                quotes.append(QuoteItem(said, marked, article, by))
        for action in article.actions:
            actor = _is(entity, action.actor, action.actor_entity_id)
            target = bool(action.target) and _is(entity, action.target, action.target_entity_id)
            if (actor or target) and len(actions) < LATEST:
                actions.append(
                    (
                        action,
                        article,
                        entity_href(desk, action.actor, action.actor_entity_id) if action.actor else None,
                        entity_href(desk, action.target, action.target_entity_id) if action.target else None,
                    )
                )
    others = facets.get("other_entities", {})
    labels = desk.store.articles.entity_labels(list(others)) if others else {}
    return {
        "entity": entity,
        "total": result.total,
        "chart": chart,
        "interval": interval,
        "params": params,
        "intervals": ("day", "week", "month"),
        "measures": ("count", "share"),
        "cooccurring": [
            (name, count, entity_href(desk, name))
            for name, count in facets.get("entities", {}).items()
            if name != entity.label
        ],
        "other_cooccurring": [
            (labels.get(key, key), count, "/entity/" + quote(key, safe=""))
            for key, count in others.items()
            if key != normalise_name(entity.label)
        ],
        "quotes": quotes,
        "actions": actions,
        "latest": result.hits[:LATEST],
        "source_names": {s.id: s.name for s in desk.sources.values()},
        "search_url": SearchParams(entity=entity.filter, sort="newest").url(),
    }


def entity_page_view(desk: DeskServices, key: str, params: SearchParams) -> dict[str, Any] | str | None:
    entity = resolve_entity(desk, key)
    if entity is None or isinstance(entity, str):
        return entity
    return entity_view(desk, entity, params)


@router.get("/entity/{key:path}", include_in_schema=False)
async def entity_page(request: Request, key: str) -> Response:
    from ._app import render

    params = SearchParams.from_query(request.query_params)
    params.checked_interval()
    params.checked_measure()
    view = await request.app.state.worker.run(entity_page_view, request.app.state.desk, key, params)
    if view is None:
        raise HTTPException(404, f"No entity {key!r} is on the watchlist or in any stored article.")
    if isinstance(view, str):
        target = "/entity/" + quote(view, safe="")
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(target, status_code=307)
    return render(request, "entity.html.j2", view)
