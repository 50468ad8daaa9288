"""Exports of the current search: every hit up to ``WEB_EXPORT_MAX_ROWS``, streamed, as CSV or JSON.

The rows are the API's (``SearchHit.to_dict``: what ``regwatch search --json``
prints), read a page at a time on the store thread while the response streams.
The response says how many there are (``X-Regwatch-Total``) and how many it
holds (``X-Regwatch-Exported``). A CSV cell that a spreadsheet would run as a
formula (starting with = + - @ or a tab) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from ._query import SearchParams
from ._services import DeskServices

router = APIRouter()

EXPORT_PAGE = 500
CSV_COLUMNS = ("id", "title", "url", "source", "published", "entities", "snippet", "story")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_page(
    desk: DeskServices, params: SearchParams, offset: int, limit: int
) -> tuple[int, list[dict[str, Any]]]:
    """The total and the rows ``offset`` to ``offset + limit`` of the search (runs on the store thread)."""
    query = params.search_query(desk.find_entity, limit=limit, offset=offset)
    result = desk.search_index.search(query)
    return result.total, [hit.to_dict() for hit in result.hits]


def csv_cell(value: Any) -> str:
    text = "; ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_line(values: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


async def _rows(
    request: Request, params: SearchParams
) -> tuple[int, int, AsyncIterator[list[dict[str, Any]]]]:
    """The total, how many rows the export holds, and the pages of rows (the first read already,
    so a bad query is an error response, not a broken stream)."""
    desk: DeskServices = request.app.state.desk
    worker = request.app.state.worker
    cap = int(desk.settings["WEB_EXPORT_MAX_ROWS"])
    total, first = await worker.run(export_page, desk, params, 0, min(EXPORT_PAGE, cap))
    count = min(total, cap)

    async def pages() -> AsyncIterator[list[dict[str, Any]]]:
        yield first
        offset = len(first)
        while offset < count and first:
            _, rows = await worker.run(export_page, desk, params, offset, min(EXPORT_PAGE, count - offset))
            if not rows:
                return
            yield rows
            offset += len(rows)

    return total, count, pages()


def _headers(total: int, count: int, filename: str) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Regwatch-Total": str(total),
        "X-Regwatch-Exported": str(count),
    }


@router.get("/export.csv", include_in_schema=False)
async def export_csv(request: Request) -> Response:
    total, count, pages = await _rows(request, SearchParams.from_query(request.query_params))

    async def body() -> AsyncIterator[str]:
        yield csv_line(list(CSV_COLUMNS))
        async for rows in pages:
            yield "".join(csv_line([csv_cell(row[column]) for column in CSV_COLUMNS]) for row in rows)

    return StreamingResponse(
        body(), media_type="text/csv; charset=utf-8", headers=_headers(total, count, "regwatch-search.csv")
    )


@router.get("/export.json", include_in_schema=False)
async def export_json(request: Request) -> Response:
    desk: DeskServices = request.app.state.desk
    total, count, pages = await _rows(request, SearchParams.from_query(request.query_params))
    cap = int(desk.settings["WEB_EXPORT_MAX_ROWS"])

    async def body() -> AsyncIterator[str]:
        yield (
            json.dumps({"total": total, "exported": count, "cap": cap}, ensure_ascii=False)[:-1]
            + ', "hits": ['
        )
        first = True
        async for rows in pages:
            for row in rows:
                yield ("" if first else ",") + "\n" + json.dumps(row, ensure_ascii=False)
                first = False
        yield "\n]}\n"

    return StreamingResponse(
        body(), media_type="application/json", headers=_headers(total, count, "regwatch-search.json")
    )
