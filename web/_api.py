"""The JSON API under ``/api/``, described by the OpenAPI document at ``/api/openapi.json``.

``/api/search`` takes the search page's parameters (and ``limit``/``offset``
like the CLI) and answers exactly what ``regwatch search … --json`` prints for
the same query: both call ``indexer.search_report``. A bad query is a 400 with
``{"error": "..."}``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from indexer import SearchQuery, search_report

from ._article_pages import ARTICLE_ID, resolve_entity
from ._common import by_interval, span_of
from ._query import SearchParams, auto_interval
from ._services import DeskServices

router = APIRouter(prefix="/api", tags=["api"])

Text = Annotated[
    str, Query(description='The query: words (all must match), "a phrase", OR, -excluded, prefix*.')
]
Entity = Annotated[str, Query(description="A watched entity's id, name or alias, or another entity's name.")]
Source = Annotated[str, Query(description="A source id.")]
Many = Annotated[list[str], Query()]
Day = Annotated[date | None, Query(description="YYYY-MM-DD; a day counts whole, in UTC.")]
Sort = Annotated[Literal["relevance", "newest"], Query(description="Best match first, or newest first.")]
Interval = Literal["day", "week", "month"]


def _params(
    q: str,
    entity: str,
    source: str,
    type: list[str],
    jurisdiction: list[str],
    language: list[str],
    since: date | None,
    until: date | None,
    sort: str,
) -> SearchParams:
    return SearchParams(
        q=q,
        entity=entity,
        source=source,
        type=tuple(type),
        jurisdiction=tuple(jurisdiction),
        language=tuple(language),
        since=since.isoformat() if since else "",
        until=until.isoformat() if until else "",
        sort=sort,
    )


def _search(
    desk: DeskServices, params: SearchParams, limit: int, offset: int, facets: str | None
) -> dict[str, Any]:
    return search_report(
        desk.search_index, params.search_query(desk.find_entity, limit=limit, offset=offset), facets
    )


@router.get("/search", summary="Search, as `regwatch search --json` answers")
async def api_search(
    request: Request,
    q: Text = "",
    entity: Entity = "",
    source: Source = "",
    type: Many = [],  # noqa: B006  (FastAPI reads a list default as "none given")
    jurisdiction: Many = [],  # noqa: B006
    language: Many = [],  # noqa: B006
    since: Day = None,
    until: Day = None,
    sort: Sort = "relevance",
    limit: Annotated[int, Query(ge=1, le=1000, description="Hits per page, as the CLI's --limit.")] = 20,
    offset: Annotated[int, Query(ge=0, description="Hits to skip, as the CLI's --offset.")] = 0,
    page: Annotated[
        int | None, Query(ge=1, le=100_000, description="A page of `limit` hits (instead of offset).")
    ] = None,
    facets: Annotated[
        Interval | None, Query(description="Also count by source, type, entity… and per day, week or month.")
    ] = None,
) -> JSONResponse:
    """`{"total": N, "hits": [...]}` and, with `facets`, the counts and the matches per interval
    (`facets.dates`): the JSON `regwatch search … --json` prints for the same query."""
    params = _params(q, entity, source, type, jurisdiction, language, since, until, sort)
    start = (page - 1) * limit if page is not None else offset
    data = await request.app.state.worker.run(_search, request.app.state.desk, params, limit, start, facets)
    return JSONResponse(data)


def _facets(desk: DeskServices, params: SearchParams) -> dict[str, Any]:
    facets = desk.search_index.facets(params.search_query(desk.find_entity, limit=1))
    others = list(facets.get("other_entities", {}))
    return {"facets": facets, "labels": desk.store.articles.entity_labels(others) if others else {}}


@router.get("/facets", summary="Counts of a search's matches")
async def api_facets(
    request: Request,
    q: Text = "",
    entity: Entity = "",
    source: Source = "",
    type: Many = [],  # noqa: B006
    jurisdiction: Many = [],  # noqa: B006
    language: Many = [],  # noqa: B006
    since: Day = None,
    until: Day = None,
) -> JSONResponse:
    """The matches counted by source, source type, jurisdiction, language, watched entity and other
    entity (by normalised name; `labels` gives a spelling of each to show)."""
    params = _params(q, entity, source, type, jurisdiction, language, since, until, "relevance")
    return JSONResponse(await request.app.state.worker.run(_facets, request.app.state.desk, params))


def _timeline(desk: DeskServices, params: SearchParams, interval: str | None) -> dict[str, Any]:
    index = desk.search_index
    query = params.search_query(desk.find_entity, limit=1)
    days = index.histogram(query, "day")
    base = params.search_query(desk.find_entity, limit=1, text=False, entity=False)
    totals = index.histogram(base, "day") if (query.text or query.entity) else days
    chosen = interval or auto_interval(*span_of(days))
    return {"interval": chosen, "counts": by_interval(days, chosen), "all": by_interval(totals, chosen)}


@router.get("/timeline", summary="A search's matches over time")
async def api_timeline(
    request: Request,
    q: Text = "",
    entity: Entity = "",
    source: Source = "",
    type: Many = [],  # noqa: B006
    jurisdiction: Many = [],  # noqa: B006
    language: Many = [],  # noqa: B006
    since: Day = None,
    until: Day = None,
    interval: Annotated[Interval | None, Query(description="Default: chosen from the dates.")] = None,
) -> JSONResponse:
    """Matches per day, week (from Monday) or month in UTC (`counts`), and all the articles the
    same filters admit without the text and the entity (`all`): the share is counts / all."""
    params = _params(q, entity, source, type, jurisdiction, language, since, until, "relevance")
    return JSONResponse(
        await request.app.state.worker.run(_timeline, request.app.state.desk, params, interval)
    )


def _article(desk: DeskServices, article_id: str) -> dict[str, Any] | None:
    article = desk.store.articles.get(article_id) if ARTICLE_ID.fullmatch(article_id) else None
    if article is None:
        return None
    members = (
        desk.store.stories.members([article.story_id]).get(article.story_id, []) if article.story_id else []
    )
    return {
        **article.to_dict(),
        "urls": desk.store.articles.urls(article.id),
        "story_members": [m.id for m in members],
    }


@router.get("/articles/{article_id}", summary="One stored article")
async def api_article(request: Request, article_id: str) -> JSONResponse:
    """The article with its text, entities, quotes and actions, every URL it was seen at and the ids
    of its story's members."""
    data = await request.app.state.worker.run(_article, request.app.state.desk, article_id)
    if data is None:
        raise HTTPException(404, f"No article {article_id!r} is stored.")
    return JSONResponse(data)


def _entities(desk: DeskServices) -> dict[str, Any]:
    return {"watched": [entity.to_dict() for entity in desk.watched_entities()]}


@router.get("/entities", summary="The watched entities")
async def api_entities(request: Request) -> JSONResponse:
    """The watchlist: each entity's id, name, type and aliases."""
    return JSONResponse(await request.app.state.worker.run(_entities, request.app.state.desk))


def _entity(desk: DeskServices, key: str) -> dict[str, Any] | str | None:
    entity = resolve_entity(desk, key)
    if entity is None or isinstance(entity, str):
        return entity
    index = desk.search_index
    query = SearchQuery(entity=entity.filter, limit=1)
    total = index.search(query).total
    facets = index.facets(query)
    return {
        "id": entity.key,
        "name": entity.label,
        "watched": entity.watched_id is not None,
        "type": entity.type,
        "names": entity.names,
        "articles": total,
        "entities": {k: v for k, v in facets["entities"].items() if k != entity.label},
        "other_entities": {k: v for k, v in facets["other_entities"].items() if k != entity.key},
        "days": index.histogram(query, "day"),
    }


@router.get("/entities/{key:path}", summary="One entity: its mentions and company")
async def api_entity(request: Request, key: str) -> Response:
    """A watched entity by id (a name or alias redirects), or another by its normalised name: how many
    articles mention it, per day, and the entities mentioned with it."""
    data = await request.app.state.worker.run(_entity, request.app.state.desk, key)
    if data is None:
        raise HTTPException(404, f"No entity {key!r} is on the watchlist or in any stored article.")
    if isinstance(data, str):
        return RedirectResponse("/api/entities/" + quote(data, safe=""), status_code=307)
    return JSONResponse(data)
