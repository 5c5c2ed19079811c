"""Engines for SQLite (embedded default) and PostgreSQL. The only place where the two differ."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if is_sqlite(url):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


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
