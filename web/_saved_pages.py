"""An analyst's own things: saved searches (``/saved-searches``, ``/api/saved-searches``), their
subscription (``/subscription``) and what their next digest holds (``/digest``).

Saved searches and subscriptions made here live in the store (``store.saved_searches``,
``store.subscriptions``); the config's show read-only. A saved search is a section of its
owner's digest, and with ``alert`` an immediate alert too: the wiring hands both kinds to
``digests`` merged (the config's subscriber wins a clash of ids, and the page says so).
Forms are validated by the config's own parsers, so the desk accepts what the YAML accepts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from regwatch.config import parse_saved_search, parse_subscriber
from regwatch.errors import ConfigError
from regwatch.models import CADENCES, EMPTY_DAY_ACTIONS, WEEKDAYS, SavedSearch, Subscriber

from ._auth import require_role
from ._query import SearchParams
from ._services import DeskServices, User

router = APIRouter()
analyst = require_role("analyst")
Analyst = Annotated[User, Depends(analyst)]  # the user, who must have the analyst role


def search_url(search: SavedSearch) -> str:
    """The desk's search page for a saved search."""
    params = SearchParams(
        q=search.query,
        entity=search.entity,
        source=search.source,
        type=search.source_types,
        jurisdiction=search.jurisdictions,
        language=search.languages,
        since=search.since,
        until=search.until,
    )
    return params.url()


def make_search(desk: DeskServices, owner: str, data: dict[str, Any]) -> SavedSearch:
    """A saved search from a form or a JSON body, checked as the config's are (ConfigError if not one)."""
    return parse_saved_search(data, "saved search", owner, "", set(desk.sources))


def _saved_view(desk: DeskServices, user: User) -> dict[str, Any]:
    config = desk.config_subscriber(user.id)
    return {
        "stored": desk.store.saved_searches.of(user.id),
        "configured": list(config.saved_searches) if config else [],
        "search_url": search_url,
        "subscribed": config is not None or desk.store.subscriptions.get(user.id) is not None,
    }


def _add(desk: DeskServices, search: SavedSearch) -> SavedSearch | None:
    return desk.store.saved_searches.add(search)


def _remove(desk: DeskServices, search_id: str, owner: str) -> bool:
    return desk.store.saved_searches.remove(search_id, owner)


@router.get("/saved-searches", include_in_schema=False)
async def saved_page(request: Request, user: Analyst) -> Response:
    from ._app import render

    view = await request.app.state.worker.run(_saved_view, request.app.state.desk, user)
    view["notice"] = request.query_params.get("saved", "")
    return render(request, "saved.html.j2", view)


def _form_search(form: Any) -> dict[str, Any]:
    """The search page's parameters (its names) as a saved search's fields."""
    return {
        "name": form.get("name") or "",
        "query": form.get("q") or "",
        "entity": form.get("entity") or "",
        "source": form.get("source") or "",
        "source_types": [v for v in form.getlist("type") if v],
        "jurisdictions": [v for v in form.getlist("jurisdiction") if v],
        "languages": [v for v in form.getlist("language") if v],
        "since": form.get("since") or "",
        "until": form.get("until") or "",
        "alert": form.get("alert") == "on",
    }


@router.post("/saved-searches", include_in_schema=False)
async def save_search(request: Request, user: Analyst) -> Response:
    from ._app import error_response

    desk = request.app.state.desk
    try:
        search = make_search(desk, user.id, _form_search(await request.form()))
    except ConfigError as exc:
        return error_response(request, 400, f"{exc}.")
    if await request.app.state.worker.run(_add, desk, search) is None:
        return error_response(request, 409, f"You already have a saved search named {search.name!r}.")
    return RedirectResponse("/saved-searches?" + urlencode({"saved": search.name}), status_code=303)


@router.post("/saved-searches/{search_id}/delete", include_in_schema=False)
async def delete_search(request: Request, search_id: str, user: Analyst) -> Response:
    if not await request.app.state.worker.run(_remove, request.app.state.desk, search_id, user.id):
        raise HTTPException(
            404, "You have no saved search with that id (a config one is changed in the config)."
        )
    return RedirectResponse("/saved-searches", status_code=303)


# -- the API ------------------------------------------------------------------------------


class SavedSearchIn(BaseModel):
    """A search to save: a name, and a query or at least one filter."""

    name: str
    query: str = ""
    entity: str = ""
    source: str = ""
    source_types: list[str] = Field(default_factory=list)
    jurisdictions: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    since: str = ""
    until: str = ""
    alert: bool = False


@router.get("/api/saved-searches", tags=["saved searches"])
async def api_saved(request: Request, user: Analyst) -> JSONResponse:
    """Your saved searches: those made on the desk, then the config's (``origin``: store or config)."""
    view = await request.app.state.worker.run(_saved_view, request.app.state.desk, user)
    rows = [s.to_dict() for s in view["stored"]] + [s.to_dict() for s in view["configured"]]
    return JSONResponse({"saved_searches": rows})


@router.post("/api/saved-searches", tags=["saved searches"], status_code=201)
async def api_save(request: Request, body: SavedSearchIn, user: Analyst) -> JSONResponse:
    """Save a search (send the CSRF token in ``X-CSRF-Token``, or use an API token)."""
    desk = request.app.state.desk
    try:
        search = make_search(desk, user.id, body.model_dump())
    except ConfigError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    stored = await request.app.state.worker.run(_add, desk, search)
    if stored is None:
        return JSONResponse({"error": f"you already have a saved search named {search.name!r}"}, 409)
    return JSONResponse(stored.to_dict(), status_code=201)


@router.delete("/api/saved-searches/{search_id}", tags=["saved searches"], status_code=204)
async def api_delete(request: Request, search_id: str, user: Analyst) -> Response:
    """Delete one of your saved searches made on the desk."""
    if not await request.app.state.worker.run(_remove, request.app.state.desk, search_id, user.id):
        raise HTTPException(404, "you have no saved search with that id")
    return Response(status_code=204)


# -- the subscription ---------------------------------------------------------------------


def _subscription_view(desk: DeskServices, user: User) -> dict[str, Any]:
    config = desk.config_subscriber(user.id)
    stored = desk.store.subscriptions.get(user.id)
    return {
        "config": config,
        "stored": stored,
        "shown": config or stored,
        "shadowed": bool(config and stored),
        "cadences": CADENCES,
        "empty_days": EMPTY_DAY_ACTIONS,
        "weekdays": WEEKDAYS,
        "entity_names": sorted(entity.name for entity in desk.watched_entities()),
    }


@router.get("/subscription", include_in_schema=False)
async def subscription_page(request: Request, user: Analyst) -> Response:
    from ._app import render

    view = await request.app.state.worker.run(_subscription_view, request.app.state.desk, user)
    view.update(error="", form=None, notice=request.query_params.get("saved") == "1")
    return render(request, "subscription.html.j2", view)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def subscriber_from_form(form: Any, user: User, sources: set[str]) -> Subscriber:
    """The analyst's subscription from the form, checked as the config's subscribers are."""
    entry: dict[str, Any] = {
        "id": user.id,
        "name": (form.get("name") or "").strip() or user.name,
        "email": (form.get("email") or "").strip(),
        "timezone": (form.get("timezone") or "").strip() or "Europe/London",
        "send_time": (form.get("send_time") or "").strip() or "07:00",
        "cadence": form.get("cadence") or "daily",
        "entities": [e for e in form.getlist("entities") if e],
        "keywords": [k.strip() for k in (form.get("keywords") or "").splitlines() if k.strip()],
        "sources": _lines(form.get("sources") or ""),
        "empty_day": form.get("empty_day") or "skip",
        "alerts": form.get("alerts") == "on",
    }
    if entry["cadence"] == "weekly":
        entry["weekday"] = form.get("weekday") or "mon"
    if not entry["email"]:
        raise ConfigError("your subscription needs an email address")
    return parse_subscriber(entry, "subscription", sources)


def _save_subscription(desk: DeskServices, subscriber: Subscriber, owner: str) -> None:
    desk.store.subscriptions.save(subscriber, owner)


@router.post("/subscription", include_in_schema=False)
async def save_subscription(request: Request, user: Analyst) -> Response:
    from ._app import render

    desk = request.app.state.desk
    form = await request.form()
    view = await request.app.state.worker.run(_subscription_view, desk, user)
    if view["config"] is not None:
        raise HTTPException(
            409, "Your subscription is declared in the config: it is changed there, not here."
        )
    try:
        subscriber = subscriber_from_form(form, user, set(desk.sources))
    except ConfigError as exc:
        view.update(error=f"{exc}.".replace("..", "."), form=form, notice=False)
        return render(request, "subscription.html.j2", view, 400)
    await request.app.state.worker.run(
        _save_subscription, desk, replace(subscriber, saved_searches=()), user.id
    )
    return RedirectResponse("/subscription?saved=1", status_code=303)


# -- the digest preview -------------------------------------------------------------------


@router.get("/digest", include_in_schema=False)
async def digest_page(request: Request, user: Analyst) -> Response:
    from ._app import render

    preview = await request.app.state.worker.run(request.app.state.desk.preview_digest, user.id)
    return render(request, "digest.html.j2", {"preview": preview})
