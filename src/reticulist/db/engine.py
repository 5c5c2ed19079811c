"""Engines for SQLite (embedded default) and PostgreSQL. The only place where the two differ."""

from __future__ import annotations

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
