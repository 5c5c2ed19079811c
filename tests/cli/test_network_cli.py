"""`reticulist network import` and `reticulist network export` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.access.policy import cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.cli.main import app
from reticulist.network.models import NetworkTie
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import World

runner = CliRunner()
PARTNERSHIP = "Brempton Test Partnership"


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _people(db: Session, world: World) -> None:
    for name in ("Ann", "Ben", "Cat"):
        register.create_person(
            db,
            actor=cli_actor("test set-up"),
            partnership_id=world.partnership_id,
            data=s.PersonCreate(
                full_name=f"{name} Example",
                email=f"{name.lower()}@example.org",
                organisation_id=world.organisation_id,
                hierarchy_tier=3,
            ),
        )
    db.commit()


def _ties(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(NetworkTie)) or 0


def test_import_then_export_from_the_command_line(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    _people(db, world)
    source = tmp_path / "ties.csv"
    source.write_text(
        "from_email,to,frequency,trust_open,date\n"
        "ann@example.org,Ben Example,weekly,4,2025-04-01\n"
        "ben@example.org,Cat Example,1,,2025-04-02\n",
        encoding="utf-8",
    )
    code, out, err = cli(
        "network", "import", str(source), "--partnership", PARTNERSHIP, "--database", database_url
    )
    assert (code, err) == (0, ""), err
    assert out == "Imported 2 ties from ties.csv.\n"
    assert _ties(db) == 2
    event = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "network_tie")).one()
    assert event.via == "import" and event.event == "imported"
    assert event.actor_label.startswith("import of ties.csv by ") and event.actor_label.endswith(
        "(command line)"
    )

    target = tmp_path / "out" / "exported.csv"
    target.parent.mkdir()
    code, out, err = cli(
        "network", "export", "--partnership", PARTNERSHIP, "--to", str(target), "--database", database_url
    )
    assert (code, err) == (0, ""), err
    assert out.replace("\n", "") == f"Wrote 2 ties to {target}."
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["from"], r["to"], r["frequency"], r["trust_open"], r["date"], r["source"]) for r in rows] == [
        ("Ann Example", "Ben Example", "weekly", "4", "2025-04-01", "imported"),
        ("Ben Example", "Cat Example", "yearly", "", "2025-04-02", "imported"),
    ]


def test_a_bad_file_names_every_problem_and_imports_nothing(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    _people(db, world)
    source = tmp_path / "bad.csv"
    source.write_text(
        "from_email,to_email,weight,frequency\n"
        "ann@example.org,ann@example.org,,\n"
        "ann@example.org,ben@example.org,-1,often\n"
        "ann@example.org,cat@example.org,,\n",
        encoding="utf-8",
    )
    code, out, err = cli(
        "network", "import", str(source), "--partnership", PARTNERSHIP, "--database", database_url
    )
    assert code == 1 and out == ""
    self_tie = 'error: bad.csv row 2, column B "to_email": is the same person as "from": a tie needs two'
    assert self_tie in err
    assert 'error: bad.csv row 3, column C "weight": "-1" is not a number above 0' in err
    assert 'error: bad.csv row 3, column D "frequency": "often" is not a frequency' in err
    assert err.rstrip().endswith("Nothing was imported from bad.csv.")
    assert _ties(db) == 0

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code, _, err = cli(
        "network", "import", str(empty), "--partnership", PARTNERSHIP, "--database", database_url
    )
    assert code == 1 and "empty.csv file: is empty: there is no header row" in err


def test_unknown_partnership_and_bad_export_names(database_url: str, world: World, tmp_path: Path) -> None:
    source = tmp_path / "ties.csv"
    source.write_text("from_email,to_email\na@example.org,b@example.org\n", encoding="utf-8")
    code, _, err = cli(
        "network", "import", str(source), "--partnership", "Nowhere", "--database", database_url
    )
    assert code == 1 and 'partnership: no partnership "Nowhere"' in err
    code, _, err = cli(
        "network",
        "export",
        "--partnership",
        PARTNERSHIP,
        "--to",
        str(tmp_path / "ties.txt"),
        "--database",
        database_url,
    )
    assert code == 1 and "give a file name ending in .csv or .xlsx" in err
    code, _, err = cli(
        "network",
        "export",
        "--partnership",
        PARTNERSHIP,
        "--to",
        str(tmp_path / "no" / "t.csv"),
        "--database",
        database_url,
    )
    assert code == 1 and "there is no folder" in err
    # A partnership with no ties yet still gets a file, with the header only.
    empty = tmp_path / "none.xlsx"
    code, out, _ = cli(
        "network", "export", "--partnership", PARTNERSHIP, "--to", str(empty), "--database", database_url
    )
    assert code == 0 and "Wrote 0 ties" in out and empty.is_file()
