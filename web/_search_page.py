"""The search page (``/``): results, facets, attention over time, and its chart's numbers (``/chart.csv``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from indexer import SearchQuery
from regwatch.errors import QueryError

from ._charts import Chart, Series, chart_csv, time_chart
from ._common import ScopeCache, by_interval, facet_entries, fold_stories, span_of
from ._query import INTERVALS, MEASURES, SORTS, SearchParams, auto_interval, simple_mode_query
from ._services import DeskServices

router = APIRouter()

HELP_EXAMPLES = (
    ("ofcom fine", "both words"),
    ('"online safety act"', "the exact phrase"),
    ("fine OR penalty", "either word"),
    ("ofcom -consultation", "without a word (NOT works too)"),
    ("regulat*", "words starting so: regulator, regulation…"),
    ('grok "age checks" ofcom OR ico', "OR binds tighter: grok, age checks, and ofcom or ico"),
)


def attention(
    desk: DeskServices, params: SearchParams, query: SearchQuery, label: str, chart_id: str
) -> tuple[Chart, str]:
    """The chart of a query's matches per period, with all articles per period for the share.

    "All articles" are those the same filters admit without the text and the entity:
    the share is the part of that coverage the query matches.
    """
    index = desk.search_index
    days = index.histogram(query, "day")
    if query.text or query.entity:
        base = params.search_query(desk.find_entity, limit=1, text=False, entity=False)
        totals = index.histogram(base, "day")
    else:
        totals = days
    interval = params.checked_interval() or auto_interval(*span_of(days))
    measure = params.checked_measure()
    series = Series(label, by_interval(days, interval), by_interval(totals, interval))
    title = ("Share of all articles" if measure == "share" else "Articles") + f" per {interval}: {label}"
    return time_chart(
        [series], interval=interval, measure=measure, title=title, chart_id=chart_id, bars=True
    ), interval


def chart_label(params: SearchParams) -> str:
    """What a chart's series is called: the query, else the entity, else all articles."""
    return params.q or params.entity or "all articles"


def search_view(desk: DeskServices, params: SearchParams, scope: ScopeCache) -> dict[str, Any]:
    """Everything the search page shows (runs on the store thread); a bad query is ``error``."""
    size = int(desk.settings["WEB_PAGE_SIZE"])
    view: dict[str, Any] = {
        "params": params,
        "error": None,
        "scope": scope.get(desk),
        "examples": HELP_EXAMPLES,
        "sorts": SORTS,
        "intervals": INTERVALS,
        "measures": MEASURES,
        "source_options": sorted(desk.sources.values(), key=lambda s: s.name.lower()),
        "source_names": {source.id: source.name for source in desk.sources.values()},
        "entity_names": sorted(entity.name for entity in desk.watched_entities()),
    }
    try:
        page = params.page_number
        query = params.search_query(desk.find_entity, limit=size, offset=(page - 1) * size, highlight=True)
        index = desk.search_index
        result = index.search(query)
        facets = index.facets(query)
        chart, interval = attention(desk, params, query, chart_label(params), "attention")
    except QueryError as exc:
        view["error"] = str(exc)
        return view
    pages = max(1, -(-result.total // size))
    view.update(
        result=result,
        groups=fold_stories(desk, result.hits),
        facets=facet_entries(desk, facets, params),
        chart=chart,
        interval=interval,
        page=page,
        pages=pages,
        page_links=page_links(page, pages),
        first_rank=(page - 1) * size + 1,
        export_cap=int(desk.settings["WEB_EXPORT_MAX_ROWS"]),
    )
    return view


def page_links(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of this one (None: a gap)."""
    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for number in wanted:
        if out and out[-1] is not None and number - out[-1] > 1:
            out.append(None)
        out.append(number)
    return out


@router.get("/", include_in_schema=False)
async def search_page(request: Request) -> Response:
    from ._app import render

    composed = simple_mode_query(request.query_params)
    params = SearchParams.from_query(request.query_params)
    if composed is not None:  # the simple mode's fields write the query: show it in the URL
        return RedirectResponse(params.url(q=composed), status_code=303)
    fragment = request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
    canonical = parse_qsl(request.url.query, keep_blank_values=True) == params.pairs()
    if not canonical and not fragment:
        # A submitted form names every field, empty ones too: the address shows only what is set.
        return RedirectResponse(params.url(), status_code=303)
    view = await request.app.state.worker.run(
        search_view, request.app.state.desk, params, request.app.state.scope
    )
    template = "search_view.html.j2" if fragment else "search.html.j2"
    headers = {"Vary": "HX-Request"}
    if fragment and not canonical:
        headers["HX-Push-Url"] = params.url()  # htmx puts this address in the history, not the form's
    return render(request, template, view, 400 if view["error"] else 200, **headers)


def chart_numbers(desk: DeskServices, params: SearchParams) -> str:
    query = params.search_query(desk.find_entity, limit=1)
    chart, _ = attention(desk, params, query, chart_label(params), "attention")
    return chart_csv(chart)


@router.get("/chart.csv", include_in_schema=False)
async def search_chart_csv(request: Request) -> Response:
    params = SearchParams.from_query(request.query_params)
    text = await request.app.state.worker.run(chart_numbers, request.app.state.desk, params)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="regwatch-attention.csv"'},
    )
