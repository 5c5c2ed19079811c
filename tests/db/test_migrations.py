"""Migrations build exactly the models' schema, and nothing runs on a database whose schema is behind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

import reticulist.db.models  # noqa: F401
from reticulist.barometer.models import random_id
from reticulist.cli.main import app as cli_app
from reticulist.db.base import Base
from reticulist.db.migrate import (
    SchemaNotCurrent,
    alembic_config,
    ensure_schema_current,
    head_revision,
    upgrade,
)
from reticulist.settings import Settings
from reticulist.web.app import create_app
from tests.conftest import _PG_PROBLEM, POSTGRES_ADMIN_URL

NOW = datetime(2026, 1, 2, tzinfo=UTC)


# SQLite cannot reflect indexes on expressions (lower(email)): compared on PostgreSQL, checked by name below.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:.*expression-based index")
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


def _insert(connection: Connection, sql: str, **values: object) -> int:
    return int(connection.execute(text(sql + " RETURNING id"), values).scalar_one())


def test_uniqueness_upgrade_names_the_duplicates_to_fix_and_changes_nothing_until_they_are(
    empty_database: str,
) -> None:
    """0009 makes the database keep the uniqueness rules. Records that break one stop the upgrade with a
    message naming them; nothing is changed or deleted until they are fixed."""
    upgrade(empty_database, "0008")
    engine = create_engine(empty_database)
    with engine.begin() as c:
        pid = _insert(
            c,
            "INSERT INTO partnership (name, kind, area, created_at) VALUES ('Brempton', 'other', '', :t)",
            t=NOW,
        )
        org_sql = (
            "INSERT INTO organisation (partnership_id, name, kind, tier) "
            "VALUES (:p, :name, 'police', 'statutory')"
        )
        police = _insert(c, org_sql, p=pid, name="Brempton Police")
        _insert(c, org_sql, p=pid, name="BREMPTON police")
        person_sql = (
            "INSERT INTO person (partnership_id, full_name, email, organisation_id, hierarchy_tier, "
            "late_entry, interprofessional_training) VALUES (:p, :name, :email, :o, 3, false, false)"
        )
        _insert(c, person_sql, p=pid, name="Dana Okafor", email="dana@police.example", o=police)
        twin = _insert(c, person_sql, p=pid, name="Dana O.", email="Dana@Police.example", o=police)
        for name in ("No Email", "Also None"):  # people without an email are many
            _insert(c, person_sql, p=pid, name=name, email=None, o=police)
        # A built-in instrument copied in twice by two rounds at once: identical, so merged.
        instrument_sql = (
            "INSERT INTO barometer_instrument (key, version, title, content, built_in, created_at) "
            "VALUES ('k', '1.0', 'T', '{\"a\": 1}', true, :t)"
        )
        first, second = _insert(c, instrument_sql, t=NOW), _insert(c, instrument_sql, t=NOW)
        round_id = _insert(
            c,
            "INSERT INTO barometer_round (partnership_id, instrument_id, title, opens_on, closes_on, "
            "anonymity_threshold, created_at, network_section, had_open_link) "
            "VALUES (:p, :i, 'R', '2026-01-01', '2026-02-01', 5, :t, 'none', false)",
            p=pid,
            i=second,
            t=NOW,
        )

    result = CliRunner().invoke(cli_app, ["db", "upgrade", "--database", empty_database])
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert 'partnership "Brempton"' in said
    assert "2 people have the email dana@police.example" in said
    assert '"Brempton Police", "BREMPTON police"' in said
    assert "Nothing was changed" in said and "reticulist db upgrade" in said
    assert "Traceback" not in result.output
    with engine.connect() as c:
        assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0008"
        assert c.execute(text("SELECT count(*) FROM person")).scalar_one() == 4
        assert c.execute(text("SELECT count(*) FROM barometer_instrument")).scalar_one() == 2

    with engine.begin() as c:  # fixed as a manager would: another email, another name
        c.execute(text("UPDATE person SET email = 'dana.o@police.example' WHERE id = :i"), {"i": twin})
        c.execute(text("UPDATE organisation SET name = 'Brempton Police HQ' WHERE name = 'BREMPTON police'"))
    upgrade(empty_database)
    with engine.connect() as c:
        assert c.execute(text("SELECT id FROM barometer_instrument")).scalars().all() == [first]
        assert (
            c.execute(
                text("SELECT instrument_id FROM barometer_round WHERE id = :r"), {"r": round_id}
            ).scalar_one()
            == first
        )
    for sql, values in [
        (person_sql, {"p": pid, "name": "Dup", "email": "DANA@police.example", "o": police}),
        (org_sql, {"p": pid, "name": "brempton police"}),
    ]:
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(text(sql), values)
    with engine.begin() as c:
        c.execute(text(person_sql), {"p": pid, "name": "Third none", "email": None, "o": police})

    command.downgrade(alembic_config(empty_database), "0008")
    with engine.begin() as c:  # the old rule (with case) is back, the new one gone
        c.execute(text(org_sql), {"p": pid, "name": "brempton police"})
        with pytest.raises(IntegrityError), c.begin_nested():
            c.execute(text(org_sql), {"p": pid, "name": "brempton police"})
        c.execute(text("DELETE FROM organisation WHERE name = 'brempton police'"))
    upgrade(empty_database)
    engine.dispose()


def test_expression_indexes_exist_on_both_databases(engine: Engine) -> None:
    """Autogenerate cannot compare indexes on expressions on SQLite, so their presence is checked here."""
    wanted = {
        "uq_person_partnership_email",
        "uq_organisation_partnership_name",
        "uq_profession_partnership_name",
    }
    if engine.dialect.name == "sqlite":
        query = "SELECT name, sql FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    with engine.connect() as connection:
        found = {name: sql.lower() for name, sql in connection.execute(text(query)) if name in wanted}
    assert set(found) == wanted
    assert all("unique" in sql and "lower(" in sql for sql in found.values())
    assert "where" in found["uq_person_partnership_email"]


def test_rows_written_before_the_hash_chain_are_chained_and_stay_append_only(empty_database: str) -> None:
    """Migration 0016 chains the log as it stands (JSON as the old engine wrote it, spaces and all), puts
    the append-only triggers back, and new rows continue the chain."""
    from reticulist.audit import chain
    from reticulist.db.engine import make_engine

    upgrade(empty_database, "0015")
    engine = create_engine(empty_database)
    with engine.begin() as connection:
        for n in range(3):
            connection.execute(
                text(
                    "INSERT INTO audit_event (at, actor_user_id, actor_label, partnership_id, event, "
                    "record_type, record_id, summary, before, after, via) VALUES (:at, NULL, 'cli', NULL, "
                    "'created', 'person', :n, 'Person added', NULL, :after, 'cli')"
                ),
                {"at": NOW, "n": n, "after": f'{{"name": "Ann", "id": {n}}}'},
            )
    engine.dispose()
    upgrade(empty_database)
    engine = make_engine(empty_database)
    try:
        result = chain.verify(engine)
        assert result.problem is None and result.rows == 3
        with engine.begin() as connection, pytest.raises(Exception, match="append-only"):
            connection.execute(text("UPDATE audit_event SET summary = 'changed'"))
        with engine.begin() as connection:
            chain.insert_chained(
                connection,
                [
                    {
                        "actor_label": "cli",
                        "event": "viewed",
                        "record_type": "person",
                        "summary": "s",
                        "via": "cli",
                    }
                ],
            )
        assert chain.verify(engine).rows == 4
    finally:
        engine.dispose()
