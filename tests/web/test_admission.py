"""Concurrency limits that agree, and busy answers instead of freezes or 500s.

The admission middleware lets RETICULIST_WORKING_REQUESTS requests work at once, lets others wait their
turn up to a limit and a time, and turns the rest away at once with 503 and Retry-After. A database lock
held past the wait (an import on SQLite, a locked table on PostgreSQL) answers 503 and saves nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import typing

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from reticulist.db import engine as engine_module
from reticulist.register.models import Organisation
from reticulist.settings import Settings
from reticulist.web.admission import Admission
from tests.conftest import APP_SECRET, Browser, World

T = typing.TypeVar("T")


class _SlowApp:
    """An ASGI app that holds each request until told to finish, counting those inside at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.release = asyncio.Event()

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await self.release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
        finally:
            self.inside -= 1


def _run(scenario: typing.Coroutine[typing.Any, typing.Any, T]) -> T:
    """asyncio.run on a thread of its own: the test thread may have a loop marked running already
    (Playwright's sync API leaves one there between browser tests in the same worker)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as runner:
        return runner.submit(asyncio.run, scenario).result()


async def _request(app, path: str = "/s/x") -> tuple[int, dict[str, str]]:  # type: ignore[no-untyped-def]
    answer: dict = {}

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}

    await app({"type": "http", "method": "GET", "path": path, "headers": []}, receive, send)
    return answer["status"], answer["headers"]


def test_working_requests_are_capped_and_the_rest_wait_their_turn() -> None:
    async def scenario() -> list[int]:
        slow = _SlowApp()
        admission = Admission(slow, working=3, waiting=20, wait_seconds=5)
        tasks = [asyncio.create_task(_request(admission)) for _ in range(12)]
        await asyncio.sleep(0.05)
        assert slow.inside == 3 and admission.waiting == 9  # three at work, nine in line
        slow.release.set()
        answers = await asyncio.gather(*tasks)
        assert slow.most_inside == 3
        return [status for status, _ in answers]

    assert _run(scenario()) == [200] * 12  # everyone served, none turned away


def test_past_the_waiting_line_the_answer_is_503_at_once() -> None:
    async def scenario() -> None:
        slow = _SlowApp()
        admission = Admission(slow, working=1, waiting=2, wait_seconds=5)
        held = [asyncio.create_task(_request(admission)) for _ in range(3)]  # one working, two waiting
        await asyncio.sleep(0.05)
        status, headers = await asyncio.wait_for(_request(admission, "/api/v1/partnerships"), 1)
        assert status == 503 and headers["retry-after"] == "5"
        assert headers["content-type"] == "application/json"
        slow.release.set()
        assert [s for s, _ in await asyncio.gather(*held)] == [200, 200, 200]

    _run(scenario())


def test_a_turn_not_given_within_the_wait_is_503_with_retry_after() -> None:
    async def scenario() -> None:
        slow = _SlowApp()
        admission = Admission(slow, working=1, waiting=10, wait_seconds=0.2)
        first = asyncio.create_task(_request(admission))
        await asyncio.sleep(0.02)
        status, headers = await _request(admission, "/p/1/people")
        assert status == 503 and "retry-after" in headers and headers["content-type"].startswith("text/html")
        assert admission.waiting == 0  # the one that gave up left the line
        slow.release.set()
        assert (await first)[0] == 200

    _run(scenario())


def test_static_files_skip_the_line() -> None:
    async def scenario() -> None:
        slow = _SlowApp()
        admission = Admission(slow, working=1, waiting=0, wait_seconds=0.1)
        first = asyncio.create_task(_request(admission))
        static = asyncio.create_task(_request(admission, "/static/reticulist.css"))
        await asyncio.sleep(0.05)
        assert slow.inside == 2  # the stylesheet is not held behind the page
        slow.release.set()
        assert [(await first)[0], (await static)[0]] == [200, 200]

    _run(scenario())


def test_settings_make_pool_threads_and_admission_agree(database_url: str, world: World) -> None:
    from reticulist.web.app import create_app

    settings = Settings(database_url=database_url, secret_key=APP_SECRET, working_requests=7)
    app = create_app(settings)
    assert app.state.engine.pool.size() == 7
    admissions = [m for m in app.user_middleware if m.cls is Admission]
    assert len(admissions) == 1 and admissions[0].kwargs["working"] == 7
    assert app.user_middleware[0].cls is Admission  # outermost: a request turned away costs nothing
    app.state.engine.dispose()


@pytest.fixture
def short_lock_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "LOCK_WAIT_SECONDS", 1)


def _hold_write_lock(database_url: str, ready: threading.Event, done: threading.Event) -> None:
    """Another writer (an import, say) holding the lock that an organisation insert needs."""
    engine = create_engine(database_url)
    with engine.connect() as connection:
        if database_url.startswith("sqlite"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.execute(text("LOCK TABLE organisation IN EXCLUSIVE MODE"))
        ready.set()
        done.wait(30)
        connection.rollback()
    engine.dispose()


def test_a_write_held_up_by_a_lock_answers_503_and_saves_nothing(
    short_lock_wait: None, database_url: str, world: World, db
) -> None:  # type: ignore[no-untyped-def]
    from reticulist.web.app import create_app

    app = create_app(Settings(database_url=database_url, secret_key=APP_SECRET))
    manager = Browser(app, world.emails["manager"])
    count = select(func.count()).select_from(Organisation)
    before = db.scalar(count)
    ready, done = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(database_url, ready, done))
    holder.start()
    try:
        assert ready.wait(10)
        url = f"/p/{world.partnership_id}/organisations/new"
        form = {"name": "Brempton Homes", "kind": "housing", "tier": "involved"}
        busy = manager.post(url, form)
        assert busy.status_code == 503, busy.text[:300]
        assert busy.headers["retry-after"] and "try again" in busy.text.lower()
    finally:
        done.set()
        holder.join()
    db.rollback()
    assert db.scalar(count) == before  # nothing saved
    assert manager.post(url, form).status_code == 303  # the retry goes through once the lock is gone
    app.state.engine.dispose()


def test_only_transient_database_errors_are_called_busy() -> None:
    from reticulist.web.app import _transient

    engine = create_engine("sqlite://")
    with engine.connect() as connection, pytest.raises(OperationalError) as broken:
        connection.execute(text("select * from no_such_table"))
    assert not _transient(broken.value)  # a broken schema is a fault, not "try again"
    locked = OperationalError("INSERT", {}, Exception("database is locked"))
    assert _transient(locked)
