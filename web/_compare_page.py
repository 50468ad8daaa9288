"""Compare (``/compare``): up to four searches on one chart, each with its count and top sources.

Each search has its own text and filters, numbered in the URL (``q1``,
``entity1``… ``q4``); ``interval`` and ``measure`` are shared. "Copy filters to
all" is a plain link whose URL gives every search the first one's filters.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from regwatch.errors import QueryError
from regwatch.models import SOURCE_TYPES

from ._charts import STYLES, Series, chart_csv, time_chart
from ._common import by_interval, source_name, span_of
from ._query import FILTERS, INTERVALS, MEASURES, SearchParams, auto_interval
from ._services import DeskServices

router = APIRouter()

MAX_QUERIES = 4
TOP_SOURCES = 3


def read_compare(query_params: Any) -> tuple[list[SearchParams], SearchParams]:
    """The numbered searches (always four, empty ones too) and the shared chart settings."""
    items = [SearchParams.from_query(query_params, suffix=str(n)) for n in range(1, MAX_QUERIES + 1)]
    shared = SearchParams.from_query(query_params)
    return items, SearchParams(interval=shared.interval, measure=shared.measure)


def compare_url(
    items: list[SearchParams], shared: SearchParams, path: str = "/compare", **changes: str
) -> str:
    pairs: list[tuple[str, str]] = []
    for n, item in enumerate(items, 1):
        pairs += [
            (name, value)
            for name, value in item.pairs(str(n), page=False)
            if not name.startswith(("interval", "measure", "sort"))
        ]
    options = {
        "interval": shared.interval,
        "measure": shared.measure if shared.measure != "count" else "",
        **changes,
    }
    pairs += [(name, value) for name, value in options.items() if value]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def copied_filters(items: list[SearchParams]) -> list[SearchParams]:
    """Every search with the first one's filters (and its own text); empty slots stay empty."""
    first = items[0]
    filters = {name: getattr(first, name) for name in FILTERS}
    return [SearchParams(q=item.q, **filters) if not item.empty else item for item in items]


def label_of(item: SearchParams, number: int) -> str:
    if item.q:
        return item.q
    if item.entity:
        return f"entity: {item.entity}"
    return f"search {number}"


def compare_data(desk: DeskServices, items: list[SearchParams], shared: SearchParams) -> dict[str, Any]:
    """Each non-empty search's total, top sources and series; the chart of them all."""
    index = desk.search_index
    rows: list[dict[str, Any]] = []
    days_of: list[tuple[dict[str, int], dict[str, int]]] = []
    for number, item in enumerate(items, 1):
        if item.empty:
            continue
        row: dict[str, Any] = {
            "number": number,
            "params": item,
            "label": label_of(item, number),
            "error": None,
        }
        try:
            query = item.search_query(desk.find_entity, limit=1)
            row["total"] = index.search(query).total
            sources = index.facets(query)["sources"]
            row["sources"] = [
                (source_name(desk, key), count) for key, count in list(sources.items())[:TOP_SOURCES]
            ]
            days = index.histogram(query, "day")
            base = item.search_query(desk.find_entity, limit=1, text=False, entity=False)
            totals = index.histogram(base, "day") if (query.text or query.entity) else days
            days_of.append((days, totals))
            row["search_url"] = item.url()
        except QueryError as exc:
            row["error"] = str(exc)
        rows.append(row)
    interval = shared.checked_interval() or auto_interval(*span_of(k for days, _ in days_of for k in days))
    measure = shared.checked_measure()
    charted = [row for row in rows if row["error"] is None]
    series = [
        Series(f"{row['number']}: {row['label']}", by_interval(days, interval), by_interval(totals, interval))
        for row, (days, totals) in zip(charted, days_of, strict=True)
    ]
    what = "Share of all articles" if measure == "share" else "Articles"
    chart = time_chart(
        series,
        interval=interval,
        measure=measure,
        title=f"{what} per {interval}, compared",
        chart_id="compare",
    )
    return {"rows": rows, "chart": chart, "interval": interval, "measure": measure}


def compare_view(desk: DeskServices, items: list[SearchParams], shared: SearchParams) -> dict[str, Any]:
    view: dict[str, Any] = {
        "items": items,
        "shared": shared,
        "error": None,
        "intervals": INTERVALS,
        "measures": MEASURES,
        "source_types": SOURCE_TYPES,
        "source_options": sorted(desk.sources.values(), key=lambda s: s.name.lower()),
        "entity_names": sorted(entity.name for entity in desk.watched_entities()),
        "copy_url": compare_url(copied_filters(items), shared),
        "interval_urls": {one: compare_url(items, shared, interval=one) for one in INTERVALS},
        "measure_urls": {
            one: compare_url(items, SearchParams(interval=shared.interval, measure=one)) for one in MEASURES
        },
        "csv_url": compare_url(items, shared, path="/compare/chart.csv"),
        "styles": STYLES,
    }
    if all(item.empty for item in items):
        return view
    try:
        view.update(compare_data(desk, items, shared))
    except QueryError as exc:
        view["error"] = str(exc)
    return view


@router.get("/compare", include_in_schema=False)
async def compare_page(request: Request) -> Response:
    from ._app import render

    items, shared = read_compare(request.query_params)
    view = await request.app.state.worker.run(compare_view, request.app.state.desk, items, shared)
    return render(request, "compare.html.j2", view, 400 if view["error"] else 200)


@router.get("/compare/chart.csv", include_in_schema=False)
async def compare_chart_csv(request: Request) -> Response:
    items, shared = read_compare(request.query_params)
    data = await request.app.state.worker.run(compare_data, request.app.state.desk, items, shared)
    return Response(
        chart_csv(data["chart"]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="regwatch-compare.csv"'},
    )
