"""`reticulist linkage ...` end to end (SQLite and PostgreSQL): load extracts all or nothing with every bad
row named, the data quality report, training, a dry run that shows each blocking rule's comparisons and
stores nothing, a run, and the model file."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.cli.main import app
from reticulist.linkage import synthetic
from reticulist.linkage.models import LinkageModel, LinkageRecord, LinkageRun, LinkageSource
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import World
from tests.linkage.conftest import AGENCIES, ROOT

runner = CliRunner()
PARTNERSHIP = "Brempton Test Partnership"


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def _agencies(db: Session, world: World) -> None:
    for name in AGENCIES.values():
        if name != "Brempton Police":
            register.create_organisation(
                db,
                actor=ROOT,
                partnership_id=world.partnership_id,
                data=s.OrganisationCreate(name=name, kind="other", tier="statutory"),
            )
    db.commit()


def test_load_train_and_run_from_the_command_line(
    tmp_path: Path, database_url: str, world: World, db: Session
) -> None:
    _agencies(db, world)
    files = synthetic.as_files(synthetic.extracts(150, seed=4), tmp_path)
    for agency, path in files.items():
        code, out, err = cli(
            "linkage",
            "source",
            "add",
            agency,
            str(path),
            "--agency",
            AGENCIES[agency],
            "--partnership",
            PARTNERSHIP,
            "--group",
            "synthetic_person_id",
            "--database",
            database_url,
        )
        assert code == 0, err
        assert f"Loaded {agency}: 150 records" in out and "Data quality of" in out and "NHS number" in out
    code, out, _ = cli("linkage", "source", "list", "--partnership", PARTNERSHIP, "--database", database_url)
    assert code == 0 and "voluntary" in out
    code, out, _ = cli(
        "linkage", "source", "quality", "police", "--partnership", PARTNERSHIP, "--database", database_url
    )
    assert code == 0 and "Data quality of police (150 records)" in out

    code, out, err = cli(
        "linkage", "train", "--partnership", PARTNERSHIP, "--u-pairs", "50000", "--database", database_url
    )
    assert code == 0, err
    assert (
        "Saved model version 1, trained on health (150), police (150), school (150), voluntary (150)." in out
    )

    code, out, err = cli(
        "linkage", "run", "--partnership", PARTNERSHIP, "--dry-run", "--database", database_url
    )
    assert code == 0, err
    assert "the same NHS number" in out and "Dry run: nothing was linked." in out
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(LinkageRun)) == 0

    code, out, err = cli(
        "linkage", "run", "--partnership", PARTNERSHIP, "--linked", "0.8", "--database", database_url
    )
    assert code == 0, err
    assert "Run 1: 600 records" in out and "Against the synthetic truth: precision" in out
    run = db.scalar(select(LinkageRun))
    assert run is not None and run.linked_threshold == 0.8 and run.one_per_source

    target = tmp_path / "model.json"
    code, out, _ = cli(
        "linkage",
        "model",
        "export",
        "--partnership",
        PARTNERSHIP,
        "--to",
        str(target),
        "--database",
        database_url,
    )
    assert code == 0 and target.exists()
    written = json.loads(target.read_text())
    assert written["reticulist_linkage_model"] == 1
    assert written["splink_settings"] == db.scalar(select(LinkageModel.parameters))
    code, out, _ = cli("linkage", "model", "list", "--partnership", PARTNERSHIP, "--database", database_url)
    assert code == 0 and "health (150)" in out

    code, out, _ = cli(
        "linkage", "source", "remove", "police", "--partnership", PARTNERSHIP, "--database", database_url
    )
    assert code == 0 and "Removed police (150 records)." in out
    assert db.scalar(select(LinkageSource).where(LinkageSource.name == "police")) is None


def test_a_bad_extract_loads_nothing_and_names_every_bad_row(
    tmp_path: Path, database_url: str, world: World, db: Session
) -> None:
    path = tmp_path / "police.csv"
    path.write_text(
        "Record ID,Forename,Surname,DOB\nP1,Ellie,Marsh,2016-01-09\nP1,Amy,Cook,2012-01-01\n"
        ",Kai,Lee,2010-05-05\n"
    )
    code, _out, err = cli(
        "linkage",
        "source",
        "add",
        "police",
        str(path),
        "--agency",
        "Brempton Police",
        "--partnership",
        PARTNERSHIP,
        "--database",
        database_url,
    )
    assert code == 1
    assert (
        "police.csv row 2, record_id: is repeated" in err and "police.csv row 4, record_id: is missing" in err
    )
    assert "Nothing was loaded from police.csv." in err
    assert db.scalar(select(func.count()).select_from(LinkageRecord)) == 0
    assert db.scalar(select(func.count()).select_from(LinkageSource)) == 0


def test_command_line_mistakes_are_named(tmp_path: Path, database_url: str, world: World) -> None:
    path = tmp_path / "police.csv"
    path.write_text("Record ID,Forename\nP1,Ellie\n")
    for args, words in (
        (
            ["linkage", "source", "add", "police", str(tmp_path / "none.csv"), "--agency", "X"],
            "FILE: there is no file",
        ),
        (
            ["linkage", "source", "add", "police", str(path), "--agency", "Nobody"],
            'agency: no organisation "Nobody"',
        ),
        (
            [
                "linkage",
                "source",
                "add",
                "police",
                str(path),
                "--agency",
                "Brempton Police",
                "--mapping",
                str(tmp_path / "m.json"),
            ],
            "--mapping: there is no file",
        ),
        (["linkage", "source", "quality", "nothing"], 'source: no source "nothing" is loaded'),
        (["linkage", "train"], "sources: needs at least two agency sources"),
        (["linkage", "run"], "model: no model is trained yet"),
        (["linkage", "run", "--linked", "1.5"], "linked: must be more than 0 and less than 1"),
        (["linkage", "run", "--engine", "hadoop"], "engine: must be duckdb or spark"),
        (["linkage", "model", "export", "--to", str(tmp_path / "no" / "m.json")], "--to: there is no folder"),
    ):
        code, _out, err = cli(*args, "--partnership", PARTNERSHIP, "--database", database_url)
        assert code == 1 and words in err, (args, err)
