"""The web application: pages, the JSON API at /api/v1 and static assets, all from this package."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
import fastapi_offline
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from reticulist.access.policy import NotAllowed, NotFound
from reticulist.barometer.results import NotReleased
from reticulist.comparison.follow import FiguresFollower
from reticulist.db.engine import make_engine, make_session_factory, refuse_event_loop
from reticulist.db.migrate import ensure_schema_current
from reticulist.errors import InputError, named_field
from reticulist.register.schemas import _message as schema_message
from reticulist.settings import Settings, get_settings
from reticulist.web import idempotency
from reticulist.web.admission import BUSY_PAGE, RETRY_AFTER_SECONDS, Admission
from reticulist.web.body_limit import BodyLimit, RequestTooLarge, megabytes
from reticulist.web.deps import CsrfFailed, LoginRequired, known_ids
from reticulist.web.security_headers import SecurityHeaders
from reticulist.web.templating import make_templates, render

log = logging.getLogger("reticulist.web")
STATIC_DIR = Path(__file__).parent / "static"
# Swagger UI's script and style, as the fastapi-offline package ships them (no CDN).
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
API_DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reticulist API</title>
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/api/v1/openapi.json"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _busy_response(request: Request) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if _wants_json(request):
        detail = "The server is busy; nothing was saved. Try again shortly (see Retry-After)."
        return JSONResponse({"detail": detail}, status_code=503, headers=headers)
    return HTMLResponse(BUSY_PAGE, status_code=503, headers=headers)


def _transient(exc: OperationalError) -> bool:
    """A failure that trying again can cure: a lock, a lost or refused connection; not a broken schema."""
    if exc.connection_invalidated:
        return True
    words = str(exc.orig).lower() if exc.orig is not None else ""
    if "database is locked" in words or "database is busy" in words:
        return True
    return type(exc.orig).__module__.startswith("psycopg") and "does not exist" not in words


def _problem(error: dict[str, Any]) -> dict[str, str]:
    """One refused request value as {field, message}, in the words forms and imports use."""
    if error.get("type") == "json_invalid":
        return {"field": "body", "message": "is not valid JSON"}
    loc = list(error.get("loc", ()))
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]
    if loc and isinstance(loc[0], int):
        loc.insert(0, "entries")  # a list body's items, named as the services name them
    field, message = named_field(".".join(str(p) for p in loc) or "body", schema_message(error))
    return {"field": field, "message": message}


def create_app(settings: Settings | None = None, *, check_schema: bool = True) -> FastAPI:
    """Build the app. Refuses to start on a database whose schema is behind (see SchemaNotCurrent)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url, connections=settings.working_requests)
    serving_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()
    refuse_event_loop(engine, serving_loops)
    if check_schema:
        ensure_schema_current(engine)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Worker threads agree with the requests admitted and the connections pooled (web/admission.py),
        # plus a few for static files and for the clean-up after a response.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.working_requests + 8
        follower = None
        if settings.comparison_refresh_seconds:
            follower = FiguresFollower(app.state.session_factory, settings.comparison_refresh_seconds)
            follower.start()
        yield
        if follower is not None:
            follower.stop()
        engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        dependencies=[Depends(known_ids)],
        title="Reticulist API",
        version="1",
        description="The partnership register and its figures. Authenticate with a browser session "
        "(plus an X-CSRF-Token header on writes) or `Authorization: Bearer <personal API token>`.\n\n"
        "Writes (POST, PUT, PATCH, DELETE) may carry an `Idempotency-Key` header (a new UUID for each "
        "request): sent again with the same key, the request is not done again and gets the first answer "
        "back, with `Idempotent-Replayed: true`; the same key with another request is refused with 422. "
        "Keys are kept for 24 hours.",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours serves it from the package
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine, secret_key=settings.secret_key)
    app.state.templates = make_templates()
    app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        # Swagger UI from the package, started by a script file: the Content-Security-Policy holds here too.
        return HTMLResponse(API_DOCS_PAGE)

    from reticulist.access.routes import router as role_pages
    from reticulist.audit.routes import router as audit_pages
    from reticulist.barometer.api import router as barometer_api
    from reticulist.barometer.report_routes import router as report_pages
    from reticulist.barometer.results_routes import router as results_pages
    from reticulist.barometer.routes import router as barometer_pages
    from reticulist.barometer.survey_routes import router as survey_pages
    from reticulist.casework.api import router as casework_api
    from reticulist.casework.retention_routes import router as retention_pages
    from reticulist.casework.routes import router as casework_pages
    from reticulist.comparison.api import router as comparison_api
    from reticulist.comparison.routes import router as comparison_pages
    from reticulist.linkage.routes import router as linkage_pages
    from reticulist.network.map_routes import router as network_map_pages
    from reticulist.network.routes import router as network_pages
    from reticulist.network.step_routes import router as network_step_pages
    from reticulist.register.api import router as register_api
    from reticulist.register.meeting_routes import router as meeting_pages
    from reticulist.register.overview_routes import router as overview_pages
    from reticulist.register.people_routes import router as people_pages
    from reticulist.register.routes import router as register_pages
    from reticulist.web.auth_routes import router as auth_pages

    app.include_router(auth_pages)
    app.include_router(register_pages)
    app.include_router(people_pages)
    app.include_router(role_pages)
    app.include_router(meeting_pages)
    app.include_router(overview_pages)
    app.include_router(audit_pages)
    app.include_router(barometer_pages)
    app.include_router(results_pages)
    app.include_router(report_pages)
    app.include_router(survey_pages)
    app.include_router(network_map_pages)
    app.include_router(network_pages)
    app.include_router(network_step_pages)
    app.include_router(casework_pages)
    app.include_router(retention_pages)
    app.include_router(linkage_pages)
    app.include_router(comparison_pages)
    app.include_router(register_api, prefix="/api/v1")
    app.include_router(barometer_api, prefix="/api/v1")
    app.include_router(casework_api, prefix="/api/v1")
    app.include_router(comparison_api, prefix="/api/v1")

    # Innermost: keeps each write's answer for its retries once the request is over.
    idempotency.install(app)
    # Added early, so it sits inside the middleware below: the body is limited where the routes read it.
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)

    app.add_middleware(SecurityHeaders)

    # Added last, so it is the outermost: a request turned away costs nothing further.
    app.add_middleware(
        Admission,
        working=settings.working_requests,
        waiting=settings.waiting_requests,
        wait_seconds=settings.wait_seconds,
        serving_loops=serving_loops,
    )

    @app.exception_handler(OperationalError)
    async def _database_busy(request: Request, exc: OperationalError) -> Response:
        # A SQLite write lock held past the busy timeout, or the database out of reach: the transaction was
        # rolled back, so the honest answer is "try again", never a 500 that hides whether it was saved.
        if not _transient(exc):
            raise exc
        log.warning(
            "503 after a database error: %s %s: %s",
            request.method,
            request.url.path,
            type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__,
        )
        return _busy_response(request)

    @app.exception_handler(PoolTimeout)
    async def _no_connection(request: Request, exc: PoolTimeout) -> Response:
        log.warning("503: no database connection free in time for %s %s", request.method, request.url.path)
        return _busy_response(request)

    @app.exception_handler(RequestTooLarge)
    async def _too_large(request: Request, exc: RequestTooLarge) -> Response:
        message = (
            f"What was sent is larger than {megabytes(exc.limit)}, the most this server takes in one "
            "request. Send a smaller file, or import large files with the reticulist command."
        )
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=413)
        return render(request, "error.html", {"title": "Too large", "message": message}, status_code=413)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc) or "Log in first."}, status_code=401)
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Not found."}, status_code=404)
        return render(
            request,
            "error.html",
            {"title": "Not found", "message": "There is nothing here, or you do not have access to it."},
            status_code=404,
        )

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, exc: NotAllowed) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=403)
        return render(
            request,
            "error.html",
            {
                "title": "Not allowed",
                "message": str(exc) + " Ask a manager of the partnership if you need to make this change.",
            },
            status_code=403,
        )

    @app.exception_handler(CsrfFailed)
    async def _csrf(request: Request, exc: CsrfFailed) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": "Missing or wrong X-CSRF-Token header."}, status_code=403)
        return render(
            request,
            "error.html",
            {
                "title": "Form expired",
                "message": "This form was out of date or "
                "did not come from Reticulist. Go back, reload the page and try again.",
            },
            status_code=403,
        )

    @app.exception_handler(NotReleased)
    async def _not_released(request: Request, exc: NotReleased) -> Response:
        # Results exist only once released: every page, download, report and the API say so alike.
        if _wants_json(request):
            return JSONResponse(
                {"detail": str(exc), "status": exc.status, "responses": exc.responses}, status_code=409
            )
        return render(
            request,
            "error.html",
            {
                "title": "Results not released yet",
                "message": str(exc),
                "link": f"/p/{exc.round.partnership_id}/barometer/rounds/{exc.round.id}",
                "link_text": f"Go to {exc.round.title}",
            },
            status_code=409,
        )

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> Response:
        # Pages catch InputError themselves to re-show the form; this answers the API.
        return JSONResponse(
            {"detail": [{"field": p.field, "message": p.message} for p in exc.problems]}, status_code=422
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return JSONResponse({"detail": [_problem(dict(e)) for e in exc.errors()]}, status_code=422)

    return app


def app_from_environment() -> FastAPI:
    """The app built from the environment's settings, for uvicorn's ``factory=True``: what each worker of
    ``reticulist serve --workers N`` runs (the command passes its --database as RETICULIST_DATABASE_URL).
    Also ``uvicorn --factory reticulist.web.app:app_from_environment`` for another process manager."""
    # uvicorn calls this on its event loop, before the loop serves anything: the schema check's database
    # work is allowed there (refuse_event_loop only watches loops that have begun to serve).
    return create_app(Settings())
