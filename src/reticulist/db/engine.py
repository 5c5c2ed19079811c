"""Engines for SQLite (embedded default) and PostgreSQL. The only place where the two differ."""

from __future__ import annotations

import asyncio
from collections.abc import Container
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# How long a writer waits for another's lock before giving up (SQLite's busy timeout, PostgreSQL's
# lock_timeout); the web app then answers 503 "try again". Imports write in bulk and hold SQLite's write
# lock for seconds, so this covers them with room to spare.
LOCK_WAIT_SECONDS = 15
# How long a request waits for a free pooled connection. Connections match the requests a process admits
# (RETICULIST_WORKING_REQUESTS), so a wait here is short or a fault; fail fast rather than pile up.
POOL_TIMEOUT_SECONDS = 10
SPARE_CONNECTIONS = 2


def make_engine(url: str, *, echo: bool = False, connections: int | None = None) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and enforced foreign keys. ``connections`` sizes the
    pool for a server process: one per request it works on at once (a request holds one session, closed
    before its turn ends), and two spare; the command line keeps SQLAlchemy's default."""
    pool: dict[str, Any] = {"pool_timeout": POOL_TIMEOUT_SECONDS}
    if connections is not None:
        pool.update(pool_size=connections, max_overflow=SPARE_CONNECTIONS)
    if is_sqlite(url):
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": LOCK_WAIT_SECONDS},
            **(pool if ":memory:" not in url and url not in ("sqlite://", "sqlite:///") else {}),
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    # connect_timeout: an unreachable server is reported in seconds, not after the operating system's minutes.
    connect_args = {"connect_timeout": 10, "options": f"-c lock_timeout={LOCK_WAIT_SECONDS * 1000}"}
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args, **pool)


class BlockingOnEventLoop(RuntimeError):
    """Database work was attempted on the thread that runs the event loop (see ``refuse_event_loop``)."""


def refuse_event_loop(engine: Engine, serving_loops: Container[asyncio.AbstractEventLoop]) -> None:
    """Make database work on a loop that serves requests fail loudly. A blocking query there stops every
    other request of the process until it returns, and if the pool is empty it never returns: the server
    froze that way under load. Routes and dependencies that use a session are plain ``def`` (FastAPI runs
    them in worker threads); this check turns any slip into an error the test suite sees at once.

    Only the app's own loops count (``serving_loops``, filled by the outermost middleware): other code may
    leave a loop marked running on a thread that is not serving (Playwright's sync API does, between
    calls), and database work there blocks no request."""

    @event.listens_for(engine, "before_cursor_execute")
    def _not_on_event_loop(*_args: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread or a plain program: where blocking work belongs
        if loop in serving_loops:
            raise BlockingOnEventLoop(
                "database work on the event loop: make the route or dependency a plain def, not async def"
            )


def make_session_factory(engine: Engine, *, secret_key: str | None = None) -> sessionmaker[Session]:
    """Sessions on ``engine``. ``secret_key`` (the application's) travels in ``session.info`` for the few
    services that derive something from it without a request in hand (the network's keyed pseudonyms)."""
    info = {"secret_key": secret_key} if secret_key else {}
    return sessionmaker(engine, expire_on_commit=False, info=info)


def session_secret(session: Session) -> str:
    """The application's secret key that the session was made with (see ``make_session_factory``)."""
    secret = session.info.get("secret_key")
    if not secret:
        raise RuntimeError(
            "this database session has no secret key: make sessions with "
            "make_session_factory(engine, secret_key=settings.secret_key)"
        )
    return str(secret)


def insert_unless_present(session: Session, model: type, values: dict[str, Any], key: list[str]) -> None:
    """INSERT a row unless one with the same ``key`` exists (ON CONFLICT DO NOTHING): of two sessions that
    both find no row, one inserts and the other waits for it and does nothing, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(model).values(**values).on_conflict_do_nothing(index_elements=key))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(model).values(**values).on_conflict_do_nothing(index_elements=key))
