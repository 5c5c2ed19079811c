"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, and the three personas.

Every test that asks for ``db`` (or anything built on it) runs once per backend. PostgreSQL is found at
RETICULIST_TEST_POSTGRES_URL (default: the local server, database ``test``); where it cannot be reached
the PostgreSQL half is skipped with the reason, never silently passed.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import reticulist.db.models  # noqa: F401
from reticulist.access import service as accounts
from reticulist.access.policy import Actor, Role, cli_actor
from reticulist.db.base import Base
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.db.migrate import upgrade
from reticulist.register import schemas as s
from reticulist.register import service as register

POSTGRES_ADMIN_URL = os.environ.get(
    "RETICULIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct horse battery"
APP_SECRET = "test-secret-key-" + "x" * 20  # the test app's secret; sessions carry it (network pseudonyms)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at full cost takes ~60 ms a hash and tests create many accounts: same algorithm, less work."""
    from argon2 import PasswordHasher

    from reticulist.access import secrets

    original = secrets._hasher
    secrets._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    secrets._hasher = original


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means: skip, and say why
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {type(exc).__name__}: {first_line}"


_PG_PROBLEM = _postgres_problem()


def pytest_report_header(config: pytest.Config) -> str:
    return "postgres: " + (_PG_PROBLEM or f"using {POSTGRES_ADMIN_URL}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if _PG_PROBLEM:
        pytest.skip(_PG_PROBLEM)
    name = f"reticulist_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_TABLES = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    with engine.begin() as connection:
        # TRUNCATE does not fire the audit log's row triggers, so tests can start clean.
        connection.execute(text(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


# --- the demo partnership, built once ----------------------------------------------------------------
# Building the demo with its barometer rounds (two releases through the disclosure audit) and network takes
# 10-40 s; tests that only read it share one build per backend per test process and get a copy of it
# each (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so they stay independent.
def _build_demo_into(url: str) -> int:
    from datetime import date

    from reticulist.register.demo import build_demo

    engine = make_engine(url)
    try:
        with make_session_factory(engine, secret_key=APP_SECRET)() as session:
            partnership_id = build_demo(session, today=date.today(), barometer=True)
            session.commit()
        return partnership_id
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _demo_sqlite(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    shutil.copy(sqlite_template, path)
    return path, _build_demo_into(f"sqlite:///{path}")


@pytest.fixture(scope="session")
def _demo_postgres(postgres_url: str) -> Iterator[tuple[str, int]]:
    name = f"reticulist_demo_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield name, _build_demo_into(url)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Demo:
    """A copy of the demo partnership for one test: a session on it and the partnership's id."""

    db: Session
    partnership_id: int
    url: str


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Demo]:
    admin = None
    if request.param == "sqlite":
        template, partnership_id = request.getfixturevalue("_demo_sqlite")
        path = tmp_path / "demo.sqlite3"
        shutil.copy(template, path)
        url = f"sqlite:///{path}"
    else:
        template, partnership_id = request.getfixturevalue("_demo_postgres")
        copy = f"reticulist_democopy_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"'))
        url = make_url(POSTGRES_ADMIN_URL).set(database=copy).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        with make_session_factory(engine, secret_key=APP_SECRET)() as session:
            yield Demo(session, partnership_id, url)
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine, secret_key=APP_SECRET)


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@dataclass
class World:
    """A small partnership with the three personas: a manager, a member and an outsider (who has a role
    in another partnership only), plus an admin."""

    partnership_id: int
    other_partnership_id: int
    admin: Actor
    manager: Actor
    member: Actor
    outsider: Actor
    emails: dict[str, str]
    organisation_id: int
    profession_id: int


@pytest.fixture
def world(db: Session) -> World:
    root = cli_actor("test set-up")
    partnership = register.create_partnership(
        db, actor=root, data=s.PartnershipCreate(name="Brempton Test Partnership")
    )
    other = register.create_partnership(
        db, actor=root, data=s.PartnershipCreate(name="Elsewhere Partnership")
    )
    emails = {}
    actors = {}
    for persona, role, pid in [
        ("admin", Role.ADMIN, partnership.id),
        ("manager", Role.MANAGER, partnership.id),
        ("member", Role.MEMBER, partnership.id),
        ("outsider", Role.MANAGER, other.id),
    ]:
        email = f"{persona}@example.org"
        user = accounts.create_user(
            db, actor=root, email=email, display_name=persona.title(), password=PASSWORD
        )
        accounts.set_role(db, actor=root, partnership_id=pid, user_id=user.id, role=role)
        emails[persona] = email
        actors[persona] = user
    db.flush()
    organisation = register.create_organisation(
        db,
        actor=root,
        partnership_id=partnership.id,
        data=s.OrganisationCreate(name="Brempton Police", kind="police", tier="statutory"),
    )
    profession = register.create_profession(
        db, actor=root, partnership_id=partnership.id, data=s.ProfessionCreate(name="Police officer")
    )
    db.commit()
    return World(
        partnership_id=partnership.id,
        other_partnership_id=other.id,
        emails=emails,
        organisation_id=organisation.id,
        profession_id=profession.id,
        **{k: accounts.actor_for(db, u) for k, u in actors.items()},
    )


# --- web ---------------------------------------------------------------------------------------------
@pytest.fixture
def app(database_url: str, world: World):  # type: ignore[no-untyped-def]
    from reticulist.settings import Settings
    from reticulist.web.app import create_app

    return create_app(Settings(database_url=database_url, secret_key=APP_SECRET))


class Browser:
    """A TestClient that logs in as a persona and knows how to send forms with their CSRF token."""

    def __init__(self, app, email: str | None) -> None:  # type: ignore[no-untyped-def]
        from fastapi.testclient import TestClient

        # https, so the Secure session cookie is sent back as a browser would.
        self.client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        self.csrf = ""
        if email:
            self.login(email)

    def login(self, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        page = self.client.get("/login")
        token = _hidden(page.text, "csrf_token")
        response = self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )
        if response.status_code == 303:
            self.refresh_csrf()
        return response

    def refresh_csrf(self) -> None:
        self.csrf = _hidden(self.client.get("/account").text, "csrf_token")

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(url, data={**(data or {}), "csrf_token": self.csrf}, **kw)


def _hidden(html: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    return match.group(1) if match else ""


@pytest.fixture
def browsers(app, world: World) -> dict[str, Browser]:  # type: ignore[no-untyped-def]
    """One logged-in Browser per persona (admin, manager, member, outsider) and an anonymous one."""
    out = {
        persona: Browser(app, world.emails[persona]) for persona in ("admin", "manager", "member", "outsider")
    }
    out["anonymous"] = Browser(app, None)
    return out
