"""The rule that keeps a room of respondents from freezing the server: no blocking database work on the
event loop. Routes and dependencies that use a database session are plain ``def`` (FastAPI runs them in
worker threads); ``async def`` is only for reading a request body. Checked two ways: by walking every
route's dependencies (this file), and at run time by ``refuse_event_loop`` on the app's engine, which
makes any query on the event loop fail in every web test."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Iterator

import pytest
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from reticulist.db.engine import BlockingOnEventLoop
from reticulist.web.deps import get_db


def _named(call: typing.Any) -> str:
    return f"{getattr(call, '__module__', '?')}.{getattr(call, '__qualname__', repr(call))}"


def _takes_session(call: typing.Any) -> bool:
    try:
        hints = typing.get_type_hints(call)
    except Exception:  # a hint that cannot be resolved is not a Session
        return False
    return any(hint is Session for hint in hints.values())


def _async_calls_touching_db(dependant: Dependant) -> Iterator[str]:
    """Every async callable in the tree that is handed a database session."""
    call = dependant.call
    touches_db = _takes_session(call) or any(sub.call is get_db for sub in dependant.dependencies)
    if call is not None and inspect.iscoroutinefunction(call) and touches_db:
        yield _named(call)
    for sub in dependant.dependencies:
        yield from _async_calls_touching_db(sub)


def _routes(app: FastAPI) -> list[APIRoute]:
    """Every API route of the app, through included routers (as tests/web/test_every_route.py walks)."""
    found: list[APIRoute] = []

    def walk(routes: typing.Sequence[typing.Any]) -> None:
        for route in routes:
            if hasattr(route, "original_router"):  # an included router
                walk(route.original_router.routes)
            elif isinstance(route, APIRoute):
                found.append(route)

    walk(app.routes)
    return found


def test_no_async_route_or_dependency_is_given_a_database_session(app: FastAPI) -> None:
    routes = _routes(app)
    assert len(routes) > 100  # the whole app, pages and API
    offenders = sorted({name for route in routes for name in _async_calls_touching_db(route.dependant)})
    assert offenders == [], (
        "these async callables get a database session and would block the event loop; make them plain "
        f"def: {offenders}"
    )


def test_the_walk_finds_an_async_route_that_takes_a_session() -> None:
    """The check above is not vacuous: it catches the very shape that froze the server."""
    probe = FastAPI()

    @probe.post("/bad")
    async def bad(db: Session = Depends(get_db)) -> None:  # the freeze: async def with a session
        db.execute(text("select 1"))

    assert list(_async_calls_touching_db(_routes(probe)[0].dependant)) != []


def test_a_query_on_the_event_loop_fails_loudly(app: FastAPI) -> None:
    """At run time the app's engine refuses work on the event loop, so any slip fails the tests."""
    path = "/_probe_event_loop"

    @app.get(path)
    async def on_the_loop() -> dict[str, int]:
        with app.state.session_factory() as session:
            return {"one": session.execute(text("select 1")).scalar_one()}

    @app.get(path + "_thread")
    def in_a_thread() -> dict[str, int]:
        with app.state.session_factory() as session:
            return {"one": session.execute(text("select 1")).scalar_one()}

    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=True)
    with pytest.raises(BlockingOnEventLoop):
        client.get(path)
    assert client.get(path + "_thread").json() == {"one": 1}


def test_a_loop_that_serves_nothing_is_not_watched(app: FastAPI) -> None:
    """Playwright's sync API leaves its loop marked running on the test thread between calls; database
    work there blocks no request, so only the loops the app is served on are watched."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    async def on_a_foreign_loop() -> int:
        with app.state.session_factory() as session:
            return int(session.execute(text("select 1")).scalar_one())

    with ThreadPoolExecutor(max_workers=1) as elsewhere:  # this thread may hold Playwright's loop already
        assert elsewhere.submit(asyncio.run, on_a_foreign_loop()).result() == 1
