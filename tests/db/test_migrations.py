"""Migrations build exactly the models' schema, and nothing runs on a database whose schema is behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

import reticulist.db.models  # noqa: F401
from reticulist.barometer.models import random_id
from reticulist.cli.main import app as cli_app
from reticulist.db.base import Base
from reticulist.db.migrate import SchemaNotCurrent, ensure_schema_current, head_revision, upgrade
from reticulist.settings import Settings
from reticulist.web.app import create_app
from tests.conftest import _PG_PROBLEM, POSTGRES_ADMIN_URL


def test_migrations_match_the_models(engine: Engine) -> None:
    """The migrated test database (SQLite and PostgreSQL) has every table, column and index the models
    declare: a model change without a migration fails here."""
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no Reticulist schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    if _PG_PROBLEM:
        pytest.skip(_PG_PROBLEM)
    name = f"reticulist_empty_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_app_and_commands_refuse_a_database_without_the_schema_then_upgrade_fixes_it(
    empty_database: str,
) -> None:
    settings = Settings(database_url=empty_database, secret_key="x" * 40)
    with pytest.raises(SchemaNotCurrent, match="Run: reticulist db upgrade"):
        create_app(settings)

    runner = CliRunner()
    current = runner.invoke(cli_app, ["db", "current", "--database", empty_database])
    assert current.exit_code == 1 and "behind: run `reticulist db upgrade`" in current.output
    refused = runner.invoke(
        cli_app,
        [
            "user",
            "add",
            "a@example.org",
            "--name",
            "A",
            "--password",
            "long enough password",
            "--database",
            empty_database,
        ],
    )
    assert refused.exit_code == 1 and "reticulist db upgrade" in refused.output

    upgraded = runner.invoke(cli_app, ["db", "upgrade", "--database", empty_database])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"revision {head_revision()}" in upgraded.output
    assert runner.invoke(cli_app, ["db", "current", "--database", empty_database]).exit_code == 0
    engine = create_engine(empty_database)
    ensure_schema_current(engine)  # does not raise
    engine.dispose()
    create_app(settings)


def test_response_ids_are_renumbered_at_random_and_new_ones_need_no_sequence(empty_database: str) -> None:
    upgrade(empty_database, "0004")
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO partnership (name, kind, area, created_at) "
                "VALUES ('P', 'other', '', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO barometer_instrument (key, version, title, content, built_in, created_at) "
                "VALUES ('k', '1.0', 'T', '{}', true, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO barometer_round (partnership_id, instrument_id, title, opens_on, closes_on, "
                "anonymity_threshold, created_at, network_section) "
                "VALUES (1, 1, 'R', '2026-01-01', '2026-02-01', 5, CURRENT_TIMESTAMP, 'none')"
            )
        )
        for _ in range(3):
            connection.execute(
                text(
                    "INSERT INTO barometer_response (round_id, answers, submitted_on, source) "
                    "VALUES (1, '{}', '2026-01-05', 'web')"
                )
            )
    upgrade(empty_database)
    with engine.begin() as connection:
        ids = connection.execute(text("SELECT id FROM barometer_response")).scalars().all()
        assert len(ids) == 3 and sorted(ids) != [1, 2, 3]
        connection.execute(
            text(
                "INSERT INTO barometer_response (id, round_id, answers, submitted_on, source) "
                "VALUES (:id, 1, '{}', '2026-01-06', 'web')"
            ),
            {"id": random_id()},
        )
    engine.dispose()
