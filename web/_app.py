"""The desk's FastAPI application: templates, static files, security headers, error pages, routes.

``create_app(desk)`` builds it over a :class:`~web._services.DeskServices`;
``regwatch serve`` (``regwatch.app``) builds the desk from the CLI's ``App``
and runs it with uvicorn. Every page is a plain GET whose URL holds its whole
state; htmx (vendored, below) only swaps the search results in place.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException

from regwatch.errors import IndexBackendError, QueryError

from ._access import Access
from ._auth import current_user, install
from ._common import ScopeCache, stamp
from ._security import SecurityHeaders, safe_href
from ._services import LOCAL_USER, DeskServices
from ._sessions import CSRF_FIELD, SessionCookies, csrf_token
from ._worker import StoreThread

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
# htmx 2.0.11 from the npm registry's htmx.org tarball (dist/htmx.min.js, BSD Zero-Clause),
# sha256 d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717
HTMX_FILE = "htmx-2.0.11.min.js"
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
STATUS_TEXT = {
    400: "Bad request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Already there",
    429: "Too many tries",
    503: "Search unavailable",
}


def templates() -> Jinja2Templates:
    """The page templates: autoescaped, and an undefined name is an error, not an empty string."""
    env = Environment(
        loader=FileSystemLoader(PACKAGE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(safe_href=safe_href, htmx_file=HTMX_FILE, csrf_field=CSRF_FIELD)
    env.filters["thousands"] = lambda n: f"{int(n):,}"
    env.filters["stamp"] = stamp
    return Jinja2Templates(env=env)


def create_app(desk: DeskServices, *, access: Access | None = None) -> FastAPI:
    """The desk over ``desk``; ``access`` says who may use it (default: the one local user, no accounts).

    ``regwatch serve`` decides the access from the settings, the address and the store's
    accounts (``Access.for_server``).
    """
    from . import _api, _article_pages, _compare_page, _export, _ops_pages, _saved_pages, _search_page

    worker = StoreThread()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await worker.run(desk.close)  # the store's connection is closed by the thread that made it
            worker.close()

    app = FastAPI(
        title="regwatch desk",
        summary="Search, compare and read what regwatch collected; the same answers as `regwatch search`.",
        version="1",
        docs_url=None,  # Swagger UI and ReDoc load scripts from a CDN and inline: not under this CSP
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
        dependencies=[Depends(current_user)],  # every route: who is asking, and the CSRF check
    )
    access = access or Access.local()
    app.state.desk = desk
    app.state.worker = worker
    app.state.local_user = LOCAL_USER
    app.state.templates = templates()
    app.state.scope = ScopeCache(float(desk.settings["WEB_SCOPE_CACHE"]))
    app.add_middleware(SecurityHeaders)
    app.add_middleware(SessionCookies, access=access)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    install(app, access)
    for module in (_search_page, _compare_page, _article_pages, _export, _saved_pages, _ops_pages, _api):
        app.include_router(module.router)
    _error_handlers(app)
    return app


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200, **headers: str
) -> HTMLResponse:
    """A page (or fragment) from ``template``, with the user and the request in its context."""
    templates: Jinja2Templates = request.app.state.templates
    access: Access = request.app.state.access
    # The user current_user resolved (every route depends on it); an error page may come before it.
    user = getattr(request.state, "user", None)
    if user is None and not access.accounts:
        user = request.app.state.local_user
    session = getattr(request.state, "session", None) or {}
    context = {
        "user": user,
        "accounts": access.accounts,
        "csrf": csrf_token(access.secret, session),
        "path": request.url.path,
        **context,
    }
    return templates.TemplateResponse(request, template, context, status_code=status_code, headers=headers)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.startswith("/export.json")


def error_response(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": message}, status_code=status)
    title = STATUS_TEXT.get(status, "Something went wrong")
    return render(request, "error.html.j2", {"title": title, "message": message, "status": status}, status)


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(QueryError)
    async def bad_query(request: Request, exc: QueryError) -> Response:
        return error_response(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return error_response(request, 400, "; ".join(problems) or "invalid request")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else STATUS_TEXT.get(exc.status_code, "error")
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no page at {request.url.path}."
        return error_response(request, exc.status_code, detail)

    @app.exception_handler(IndexBackendError)
    async def backend_down(request: Request, exc: IndexBackendError) -> Response:
        log.error("Desk: %s %s: %s", request.method, request.url.path, exc)
        return error_response(request, 503, f"The search index cannot answer right now: {exc}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("Desk: %s %s failed", request.method, request.url.path)
        return error_response(request, 500, "Something went wrong on the desk; the log has the details.")
