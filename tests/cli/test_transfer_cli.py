"""`reticulist import` and `reticulist export` against a migrated SQLite file and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.audit.models import AuditEvent
from reticulist.cli.main import app
from reticulist.register.models import Person
from tests.conftest import World
from tests.register.test_transfer import FILES, ORDER, counts, snapshot, write

runner = CliRunner()
PARTNERSHIP = "Brempton Test Partnership"


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def import_file(
    database_url: str, kind: str, path: Path, partnership: str = PARTNERSHIP
) -> tuple[int, str, str]:
    return cli("import", kind, str(path), "--partnership", partnership, "--database", database_url)


def test_import_every_type_and_audit_says_import(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    outputs = {}
    for kind in ORDER:
        code, outputs[kind], err = import_file(
            database_url, kind, write(tmp_path, f"{kind}.csv", FILES[kind])
        )
        assert (code, err) == (0, ""), err
    assert outputs["people"] == "Imported 3 people rows from people.csv.\n"
    assert outputs["attendance"] == "Imported 2 attendance rows from attendance.csv.\n"
    found = counts(db)
    assert (found["person"], found["seat"], found["meeting"], found["attendance"], found["action"]) == (
        3,
        3,
        2,
        2,
        2,
    )
    events = list(db.scalars(select(AuditEvent).where(AuditEvent.record_type == "person")))
    assert {(e.via, e.actor_label) for e in events} == {("import", "import of people.csv")}


def test_import_reports_each_bad_row_and_writes_nothing(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    before = counts(db)
    path = write(
        tmp_path,
        "people.csv",
        "full_name,email,organisation,hierarchy_tier\n"
        "Ok Person,ok@x.example,Brempton Police,1\n"
        "Bad Tier,bad@x.example,Brempton Police,six\n"
        "Bad Org,org@x.example,Nowhere [red]Police[/red],2\n",
    )
    code, out, err = import_file(database_url, "people", path)
    assert code == 1 and out == ""
    assert 'error: people.csv row 3, column D "hierarchy_tier": "six" is not 1-5\n' in err
    # Markup-like text in a file is shown as written, never interpreted.
    assert 'people.csv row 4, column C "organisation": no organisation "Nowhere [red]Police[/red]"' in err
    assert "import organisations first" in err
    assert err.rstrip().endswith("Nothing was imported from people.csv.")
    assert counts(db) == before


def test_file_level_problems_from_the_command_line(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    before = counts(db)
    cases = {
        "people.csv": (b"", "people.csv file: is empty: there is no header row"),
        "latin.csv": ("full_name\nRené\n".encode("latin-1"), "latin.csv encoding: is not UTF-8 text"),
        "people.txt": (b"full_name\n", "people.txt file: is not a .csv or .xlsx file"),
        "fake.xlsx": (b"full_name\n", "fake.xlsx file: is not a real XLSX workbook"),
        "extra.csv": (
            b"full_name,organisation,hierarchy_tier,pet\nA,Brempton Police,1,cat\n",
            'extra.csv columns: unknown column "pet"',
        ),
        "short.csv": (
            b"full_name,organisation\nA,Brempton Police\n",
            "short.csv hierarchy_tier: column is missing",
        ),
    }
    for name, (content, expected) in cases.items():
        code, _, err = import_file(database_url, "people", write(tmp_path, name, content))
        assert code == 1, name
        assert f"error: {expected}" in err, err
    assert counts(db) == before


def test_unknown_partnership_and_record_type(database_url: str, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "professions.csv", FILES["professions"])
    code, _, err = import_file(database_url, "professions", path, partnership="Nowhere")
    assert code == 1 and 'partnership: no partnership "Nowhere"' in err
    code, _, err = cli("import", "pets", str(path), "--partnership", PARTNERSHIP, "--database", database_url)
    assert code == 2 and "pets" in err


def test_long_import_shows_progress_without_a_terminal(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    lines = ["full_name,email,organisation,hierarchy_tier"]
    lines += [f"Person {n},p{n}@x.example,Brempton Police,{n % 5 + 1}" for n in range(250)]
    code, out, err = import_file(database_url, "people", write(tmp_path, "people.csv", "\n".join(lines)))
    assert code == 0, err
    assert "Imported 250 people rows from people.csv." in out
    assert db.scalar(select(func.count()).select_from(Person)) == 250


def test_export_then_import_into_another_partnership_via_xlsx(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    for kind in ORDER:
        assert import_file(database_url, kind, write(tmp_path, f"{kind}.csv", FILES[kind]))[0] == 0
    out_dir = tmp_path / "export"
    code, out, err = cli(
        "export",
        "--partnership",
        PARTNERSHIP,
        "--to",
        str(out_dir),
        "--format",
        "xlsx",
        "--database",
        database_url,
    )
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(f"{k}.xlsx" for k in ORDER)
    assert str(out_dir / "people.xlsx") in out
    for kind in ORDER:
        code, _, err = import_file(
            database_url, kind, out_dir / f"{kind}.xlsx", partnership=str(world.other_partnership_id)
        )
        assert code == 0, err
    assert snapshot(db, world.other_partnership_id) == snapshot(db, world.partnership_id)


def test_export_csv_to_unknown_partnership_writes_nothing(
    database_url: str, world: World, tmp_path: Path
) -> None:
    code, _, err = cli(
        "export", "--partnership", "Nowhere", "--to", str(tmp_path / "x"), "--database", database_url
    )
    assert code == 1 and "no partnership" in err
    assert not (tmp_path / "x").exists()
