"""The ops console (``/ops``, role ops): source health, a source's runs, "crawl now", turning a
source off and on, the scheduler's jobs, the digest delivery ledger, the index's sync state and,
on a PostgreSQL store, the workers sharing the work (host, roles, heartbeat, current work, leases).

The health rows are ``regwatch sources``' (from the wiring); the runs and the ledger are read
from the store. "Crawl now" asks the wiring to run the crawl cycle for one source in the
background: the page shows it running (and refreshes its status with htmx while it runs),
then its result. Turning a source off is kept in its state, which crawl, run and the
scheduler honour.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from regwatch.errors import ConfigError

from ._auth import require_role
from ._services import DeskServices, User

router = APIRouter()
ops = require_role("ops")
Ops = Annotated[User, Depends(ops)]  # the user, who must have the ops role
LEDGER_ROWS = 50
RUNS_SHOWN = 20


def _console(desk: DeskServices) -> dict[str, Any]:
    ledger = desk.store.digest_ledger.recent(LEDGER_ROWS)
    rows = desk.source_health()
    latest_errors = []  # every message of each source's latest run (the health row keeps only the first)
    for row in rows:
        runs = desk.store.source_states.runs(row["id"], 1)
        latest_errors += [(row, message) for run in runs for message in run["error_messages"]]
    return {
        "rows": rows,
        "latest_errors": latest_errors,
        "crawls": desk.crawls(),
        "jobs": desk.scheduler_jobs(),
        "ledger": ledger,
        "ledger_counts": {
            status: sum(1 for r in ledger if r.status == status)
            for status in ("pending", "failed", "delivered")
        },
        "index": desk.index_state(),
        "workers": _workers(desk),
    }


def _workers(desk: DeskServices) -> list[dict[str, Any]] | None:
    """Every registered worker (live first) with the leases it holds; None on a store with no work queue."""
    queue = desk.store.work_queue
    if queue is None:
        return None
    leases = queue.leases()
    listed = queue.workers(stale_after=float(desk.settings["WORKER_LEASE_SECONDS"]))
    return [
        {"info": worker, "leases": [lease for lease in leases if lease.worker_id == worker.worker_id]}
        for worker in sorted(listed, key=lambda w: (not w.live, w.host, w.pid))
    ]


def _source_view(desk: DeskServices, source_id: str) -> dict[str, Any] | None:
    row = next((r for r in desk.source_health() if r["id"] == source_id), None)
    if row is None:
        return None
    return {
        "row": row,
        "runs": desk.store.source_states.runs(source_id, RUNS_SHOWN),
        "crawl": desk.crawls().get(source_id),
    }


@router.get("/ops", include_in_schema=False)
async def console(request: Request, user: Ops) -> Response:
    from ._app import render

    view = await request.app.state.worker.run(_console, request.app.state.desk)
    return render(request, "ops.html.j2", view)


async def _source_or_404(request: Request, source_id: str) -> dict[str, Any]:
    view: dict[str, Any] | None = await request.app.state.worker.run(
        _source_view, request.app.state.desk, source_id
    )
    if view is None:
        raise HTTPException(404, f"There is no configured source with the id {source_id!r}.")
    return view


@router.get("/ops/source/{source_id}", include_in_schema=False)
async def source_page(request: Request, source_id: str, user: Ops) -> Response:
    from ._app import render

    view = await _source_or_404(request, source_id)
    template = "ops_crawl.html.j2" if request.headers.get("HX-Request") == "true" else "ops_source.html.j2"
    return render(request, template, view)


@router.post("/ops/source/{source_id}/crawl", include_in_schema=False)
async def crawl_now(request: Request, source_id: str, user: Ops) -> Response:
    await _source_or_404(request, source_id)
    await request.app.state.worker.run(request.app.state.desk.crawl_now, source_id, user.id)
    return RedirectResponse(f"/ops/source/{source_id}", status_code=303)


@router.post("/ops/source/{source_id}/enabled", include_in_schema=False)
async def set_enabled(request: Request, source_id: str, user: Ops) -> Response:
    await _source_or_404(request, source_id)
    enabled = (await request.form()).get("enabled") == "1"
    try:
        await request.app.state.worker.run(
            request.app.state.desk.set_source_enabled, source_id, enabled, user.id
        )
    except ConfigError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(f"/ops/source/{source_id}", status_code=303)
