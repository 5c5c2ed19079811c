"""An unexpected failure on the command line is one sentence saying what happened and what became of the
data: exit 1, no traceback, nothing from the rows (names, emails) in the output. Connections are really cut
(a PostgreSQL backend terminated in the middle of an import, a port nobody listens on) and SQLite really
refuses (a read-only file, a file locked by another writer past the busy timeout)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.cli import failures
from reticulist.cli.main import app
from tests.conftest import World
from tests.register.test_transfer import counts

runner = CliRunner()
PARTNERSHIP = "Brempton Test Partnership"
NAMES = [f"Priya Natarajan{i}" for i in range(30)]
EMAILS = [f"priya.natarajan{i}@private.example" for i in range(30)]
IMPORT_AGAIN = "nothing was imported; the import is all or nothing, so run it again."


def people_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    lines = ["full_name,email,organisation,hierarchy_tier"]
    lines += [f"{name},{email},Brempton Police,2" for name, email in zip(NAMES, EMAILS, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_one_clean_line(output: str) -> str:
    """The whole output is one line, with no traceback and nothing from the file's rows."""
    assert output.count("\n") == 1 and output.endswith("\n"), output
    assert "Traceback" not in output and "Error:" not in output
    for word in (
        "priya",
        "natarajan",
        "private.example",
        "ames",
        "berg",
        "INSERT",
        "SELECT",
        "%(",
        "parameters",
    ):
        assert word.lower() not in output.lower(), output
    return output.rstrip("\n")


def command_paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from command_paths(sub, (*prefix, name))
    else:
        yield prefix, command


def stated_outcome(command: Any) -> failures.Outcome | None:
    callback = command.callback
    while callback is not None:
        found = getattr(callback, "reticulist_outcome", None)
        if found is not None:
            return found
        callback = getattr(callback, "__wrapped__", None)
    return None


def test_every_command_states_what_its_failure_leaves() -> None:
    commands = dict(command_paths(typer.main.get_command(app)))
    assert ("import",) in commands and ("barometer", "release") in commands
    missing = [" ".join(path) for path, command in commands.items() if stated_outcome(command) is None]
    assert not missing, f"commands without @outcome(...): {missing}"


# --- PostgreSQL: the connection cut in the middle of an import ------------------------------------------
@pytest.fixture
def cut_after_second_insert(database_url: str) -> Iterator[list[int]]:
    """Terminate the importing connection's backend (from another connection, as an operator or a failover
    would) just before the second INSERT it sends: the import has written rows by then."""
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    inserts: list[int] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith("INSERT"):
            return
        inserts.append(1)
        if len(inserts) == 2:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with admin.connect() as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(Engine, "before_cursor_execute", before)
    yield inserts
    event.remove(Engine, "before_cursor_execute", before)
    admin.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_connection_cut_during_an_import(
    database_url: str, world: World, db: Session, tmp_path: Path, cut_after_second_insert: list[int]
) -> None:
    before = counts(db)
    path = people_file(tmp_path)
    result = runner.invoke(
        app, ["import", "people", str(path), "--partnership", PARTNERSHIP, "--database", database_url]
    )
    assert len(cut_after_second_insert) >= 2, "the import never reached its second INSERT"
    assert result.exit_code == 1 and result.stdout == ""
    said = assert_one_clean_line(result.stderr)
    assert said == f"The database connection was lost during the import: {IMPORT_AGAIN}"
    assert counts(db) == before


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_connection_cut_during_a_network_import(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    """The same for another import, to show the sentence is the command's: cut at the very first INSERT."""
    from reticulist.register import schemas as s
    from reticulist.register import service as register

    for name, email in (("Ann Ames", "ann@private.example"), ("Bo Berg", "bo@private.example")):
        register.create_person(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.PersonCreate(
                full_name=name, email=email, organisation_id=world.organisation_id, hierarchy_tier=3
            ),
        )
    db.commit()
    before = counts(db)
    path = tmp_path / "ties.csv"
    path.write_text("from_email,to_email,frequency\nann@private.example,bo@private.example,weekly\n", "utf-8")
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")

    def cut(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("INSERT"):
            with admin.connect() as other:
                other.execute(
                    text("SELECT pg_terminate_backend(:pid)"),
                    {"pid": conn.connection.dbapi_connection.info.backend_pid},
                )

    event.listen(Engine, "before_cursor_execute", cut)
    try:
        result = runner.invoke(
            app, ["network", "import", str(path), "--partnership", PARTNERSHIP, "--database", database_url]
        )
    finally:
        event.remove(Engine, "before_cursor_execute", cut)
        admin.dispose()
    assert result.exit_code == 1, result.output
    said = assert_one_clean_line(result.stderr)
    assert said == f"The database connection was lost during the import: {IMPORT_AGAIN}"
    assert counts(db) == before


# --- nobody listening: the real `reticulist` process -------------------------------------------------------
def run_reticulist(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RETICULIST_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "reticulist.cli.main", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_unreachable_database_in_a_real_process(tmp_path: Path) -> None:
    port = free_port()
    url = f"postgresql+psycopg://reticulist:s3cret-pass@127.0.0.1:{port}/partnership"
    done = run_reticulist(
        "import", "people", str(people_file(tmp_path)), "--partnership", "X", "--database", url
    )
    assert done.returncode == 1 and done.stdout == ""
    said = assert_one_clean_line(done.stderr)
    assert said == (
        f"Could not reach the database at postgresql+psycopg://reticulist:***@127.0.0.1:{port}/partnership "
        "(password hidden): nothing is listening at that address and port; nothing was imported."
    )
    assert "s3cret" not in done.stderr


def test_debug_shows_the_traceback_then_the_sentence(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://reticulist@127.0.0.1:{free_port()}/partnership"
    path = str(people_file(tmp_path))
    for args, env in (
        (["--debug", "import", "people", path, "--partnership", "X", "--database", url], {}),
        (["import", "people", path, "--partnership", "X", "--database", url], {"RETICULIST_DEBUG": "1"}),
    ):
        done = run_reticulist(*args, env=env)
        assert done.returncode == 1
        assert done.stderr.startswith("Traceback (most recent call last):")
        assert "OperationalError" in done.stderr
        assert done.stderr.rstrip().splitlines()[-1].startswith("Could not reach the database at ")


def test_every_command_says_its_own_outcome_when_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://reticulist@127.0.0.1:{free_port()}/partnership"
    file = str(people_file(tmp_path))
    runs = {
        ("import",): ["import", "people", file, "--partnership", "X"],
        ("export",): ["export", "--partnership", "X", "--to", str(tmp_path / "out")],
        ("barometer", "import"): ["barometer", "import", "1", file],
        ("barometer", "release"): ["barometer", "release", "1"],
        ("barometer", "report"): ["barometer", "report", "1", "--to", str(tmp_path / "r.pdf")],
        ("network", "import"): ["network", "import", file, "--partnership", "X"],
        ("network", "export"): ["network", "export", "--partnership", "X", "--to", str(tmp_path / "t.csv")],
        ("network", "figures"): ["network", "figures", "--partnership", "X", "--to", str(tmp_path / "f.csv")],
        ("user", "add"): ["user", "add", "a@b.example", "--name", "A", "--password", "long enough pass"],
        ("user", "role"): ["user", "role", "a@b.example", "X", "member"],
        ("user", "token"): ["user", "token", "a@b.example"],
        ("user", "unlock"): ["user", "unlock", "a@b.example"],
        ("user", "practitioner"): ["user", "practitioner", "a@b.example", "X", "p@b.example"],
        ("casework", "import"): ["casework", "import", file, "--partnership", "X"],
        ("casework", "export"): ["casework", "export", "--partnership", "X", "--to", str(tmp_path / "f.csv")],
        ("casework", "sar"): ["casework", "sar", "1", "--partnership", "X", "--to", str(tmp_path)],
        ("casework", "retention"): ["casework", "retention", "--partnership", "X", "--dry-run"],
        ("linkage", "source", "add"): [
            "linkage",
            "source",
            "add",
            "health",
            file,
            "--agency",
            "A",
            "--partnership",
            "X",
        ],
        ("linkage", "source", "list"): ["linkage", "source", "list", "--partnership", "X"],
        ("linkage", "source", "quality"): ["linkage", "source", "quality", "health", "--partnership", "X"],
        ("linkage", "source", "remove"): ["linkage", "source", "remove", "health", "--partnership", "X"],
        ("linkage", "train"): ["linkage", "train", "--partnership", "X"],
        ("linkage", "run"): ["linkage", "run", "--partnership", "X"],
        ("linkage", "model", "list"): ["linkage", "model", "list", "--partnership", "X"],
        ("linkage", "model", "export"): [
            "linkage",
            "model",
            "export",
            "--partnership",
            "X",
            "--to",
            str(tmp_path / "m.json"),
        ],
        ("comparison", "group", "create"): ["comparison", "group", "create", "G"],
        ("comparison", "group", "list"): ["comparison", "group", "list"],
        ("comparison", "group", "add-analyst"): ["comparison", "group", "add-analyst", "G", "a@b.example"],
        ("comparison", "group", "remove-analyst"): [
            "comparison",
            "group",
            "remove-analyst",
            "G",
            "a@b.example",
        ],
        ("comparison", "join"): ["comparison", "join", "G", "--partnership", "X"],
        ("comparison", "leave"): ["comparison", "leave", "G", "--partnership", "X"],
        ("comparison", "refresh"): ["comparison", "refresh"],
        ("comparison", "show"): ["comparison", "show", "G"],
        ("comparison", "study"): ["comparison", "study", "G"],
        ("comparison", "extract"): ["comparison", "extract", "G", "--to", str(tmp_path / "e.csv")],
        ("db", "current"): ["db", "current"],
        ("audit", "verify"): ["audit", "verify"],
        ("db", "upgrade"): ["db", "upgrade"],
        ("serve",): ["serve", "--port", str(free_port())],
        ("demo",): ["demo", "--no-serve"],
    }
    commands = dict(command_paths(typer.main.get_command(app)))
    assert set(runs) == set(commands), "a new command: add it here"
    for path, args in runs.items():
        result = runner.invoke(app, [*args, "--database", url])
        stated = stated_outcome(commands[path])
        assert stated is not None
        assert result.exit_code == 1, (path, result.output)
        said = assert_one_clean_line(result.stderr)
        assert said.startswith(
            "Could not reach the database at postgresql+psycopg://reticulist@127.0.0.1:"
        ), said
        expected = "the server did not start" if path == ("serve",) else stated.nothing
        assert said.endswith(f"nothing is listening at that address and port; {expected}."), (path, said)


# --- SQLite: a read-only file, a file locked past the busy timeout ------------------------------------------
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_read_only_sqlite_file(database_url: str, world: World, db: Session, tmp_path: Path) -> None:
    before = counts(db)
    file = database_url.removeprefix("sqlite:///")
    read_only = f"sqlite:///file:{file}?mode=ro&uri=true"
    result = runner.invoke(
        app,
        [
            "import",
            "people",
            str(people_file(tmp_path)),
            "--partnership",
            PARTNERSHIP,
            "--database",
            read_only,
        ],
    )
    assert result.exit_code == 1, result.output
    said = assert_one_clean_line(result.stderr)
    assert said == (
        f"The database file {file} cannot be written (the file or its folder is read-only): "
        "nothing was imported."
    )
    assert counts(db) == before


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_locked_past_the_busy_timeout(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    """Another program holds SQLite's write lock for longer than Reticulist waits (15 s): the import gives
    up with a sentence, and writes nothing."""
    before = counts(db)
    db.close()
    file = database_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(file, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held until the import has given up
    try:
        result = runner.invoke(
            app,
            [
                "import",
                "people",
                str(people_file(tmp_path)),
                "--partnership",
                PARTNERSHIP,
                "--database",
                database_url,
            ],
        )
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 1, result.output
    said = assert_one_clean_line(result.stderr)
    assert said == (
        f"The database file {file} stayed locked by another program writing to it for longer than Reticulist "
        f"waits, during the import: {IMPORT_AGAIN}"
    )
    assert counts(db) == before


# --- the sentence for what is not the database ---------------------------------------------------------
def test_other_failures_in_plain_words() -> None:
    o = failures.Outcome("while writing the report", "no report was written", "run it again")
    assert failures.explain(ZeroDivisionError("secret row value"), o) == (
        "An unexpected error (zero division error) happened while writing the report: no report was "
        f"written; {failures.DEBUG_HINT}."
    )
    full = OSError(28, "No space left on device", "/reports/board.pdf")
    assert failures.explain(full, o) == (
        "A file could not be read or written while writing the report (/reports/board.pdf: No space left "
        "on device): no report was written."
    )
    assert failures.explain(KeyboardInterrupt(), o) == (
        "Stopped by Ctrl+C while writing the report: no report was written."
    )
    assert failures.plain_words(sqlite3.OperationalError) == "operational error"


def test_a_bad_setting_is_one_line_naming_it_without_its_value(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'never-opened.sqlite3'}"
    result = runner.invoke(
        app, ["db", "current", "--database", database], env={"RETICULIST_SESSION_HOURS": "lots"}
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Settings problem: RETICULIST_SESSION_HOURS: Input should be a valid integer"
    )
    assert result.stderr.count("\n") == 1 and "lots" not in result.stderr
    short = {"RETICULIST_ENVIRONMENT": "production", "RETICULIST_SECRET_KEY": "hunter2-hunter2"}
    result = runner.invoke(app, ["db", "current", "--database", database], env=short)
    assert result.exit_code == 2 and "hunter2" not in result.stderr
    assert result.stderr == (
        "Settings problem: RETICULIST_SECRET_KEY must be at least 32 characters in production\n"
    )
    assert not (tmp_path / "never-opened.sqlite3").exists()
