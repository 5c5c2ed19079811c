"""`reticulist comparison ...` end to end (SQLite and PostgreSQL): groups and analysts, opting in and out,
refresh, the comparison as each viewer sees it, the study and the extract; mistakes named at their option,
nothing changed by a refused command."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.audit.models import AuditEvent
from reticulist.cli.main import app
from reticulist.comparison.models import ComparisonGroup, ComparisonMember
from tests.comparison.conftest import Compared

runner = CliRunner()
GROUP = "North West test group"


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_groups_analysts_and_membership(database_url: str, db: Session, compared: Compared) -> None:
    db_ = ["--database", database_url]
    code, out, err = cli("comparison", "group", "create", "South", "--threshold", "7", *db_)
    assert code == 0, err
    assert "Created comparison group South (anonymity threshold 7)" in out
    code, out, err = cli("comparison", "group", "create", "south", *db_)
    assert code == 1 and 'there is already a comparison group called "south"' in err
    code, out, err = cli("comparison", "group", "create", "Low", "--threshold", "2", *db_)
    assert code == 1 and "threshold" in err
    assert db.scalar(select(func.count(ComparisonGroup.id))) == 2  # the test group and South
    code, out, err = cli("comparison", "group", "add-analyst", "South", "nobody@example.org", *db_)
    assert code == 1 and 'no account with the email "nobody@example.org"' in err
    code, out, err = cli("comparison", "group", "add-analyst", "South", compared.analyst_email, *db_)
    assert code == 0, err
    code, out, err = cli("comparison", "group", "add-analyst", "Nowhere", compared.analyst_email, *db_)
    assert code == 1 and 'there is no comparison group "Nowhere"' in err
    code, out, err = cli("comparison", "group", "list", *db_)
    assert code == 0 and "South" in out and GROUP in out
    code, out, err = cli("comparison", "join", "South", "--partnership", "Brempton Test Partnership", *db_)
    assert code == 0, err
    code, out, err = cli("comparison", "join", "South", "--partnership", "Brempton Test Partnership", *db_)
    assert code == 1 and "is already in South" in err
    code, out, err = cli("comparison", "leave", "South", "--partnership", "Brempton Test Partnership", *db_)
    assert code == 0, err
    db.expire_all()
    south = db.scalar(select(ComparisonGroup.id).where(ComparisonGroup.name == "South"))
    assert db.scalar(select(ComparisonMember.id).where(ComparisonMember.group_id == south)) is None
    code, out, err = cli("comparison", "group", "remove-analyst", "South", compared.analyst_email, *db_)
    assert code == 0, err
    said = db.scalars(
        select(AuditEvent.summary).where(AuditEvent.summary.like("%South%")).order_by(AuditEvent.id)
    ).all()
    assert said == [
        "Comparison group South created (anonymity threshold 7)",
        f"{compared.analyst_email} may analyse comparison group South",
        "Brempton Test Partnership opted in to comparison group South (under a pseudonym)",
        "Brempton Test Partnership opted out of South",
        f"{compared.analyst_email} no longer analyses comparison group South",
    ]


def test_show_refresh_study_and_extract(tmp_path: Path, database_url: str, compared: Compared) -> None:
    db_ = ["--database", database_url]
    code, out, err = cli("comparison", "refresh", *db_)
    assert code == 0 and "Refreshed the figures of 0 partnerships" in out
    code, out, err = cli("comparison", "refresh", "--all", *db_)
    assert code == 0 and "Refreshed the figures of 6 partnerships" in out
    code, out, err = cli("comparison", "show", GROUP, *db_)
    assert code == 0, err
    said = " ".join(out.split())  # the table wraps to the terminal's width
    assert "Group" in said and "median" in said and "Barometer: Partnership Barometer" in said
    code, out, err = cli("comparison", "show", GROUP, "--partnership", "Brempton Test Partnership", *db_)
    said = " ".join(out.split())
    assert code == 0 and "Brempton" in said and "Safeguarding Children Partnership" not in said
    code, out, err = cli("comparison", "show", GROUP, "--since", "2026-13-01", *db_)
    assert code == 1 and "--since" in err
    code, out, err = cli("comparison", "show", GROUP, "--instrument", "nothing@1", *db_)
    assert code == 1 and "instrument" in err
    code, out, err = cli("comparison", "study", GROUP, *db_)
    assert code == 0, err
    assert "Late entrants" in out and "in 6 partnerships." in out  # the words, printed unwrapped
    for suffix in ("csv", "parquet"):
        target = tmp_path / f"extract.{suffix}"
        code, out, err = cli("comparison", "extract", GROUP, "--to", str(target), *db_)
        assert code == 0, err
        frame = pl.read_csv(target) if suffix == "csv" else pl.read_parquet(target)
        assert frame.height > 0 and "person_key" in frame.columns
    code, out, err = cli("comparison", "extract", GROUP, "--to", str(tmp_path / "e.xlsx"), *db_)
    assert code == 1 and "--to" in err and not (tmp_path / "e.xlsx").exists()


def test_a_study_too_small_is_said_in_words(database_url: str, db: Session, compared: Compared) -> None:
    db_ = ["--database", database_url]
    cli("comparison", "group", "create", "Tiny", *db_)
    cli("comparison", "join", "Tiny", "--partnership", "Brempton Test Partnership", *db_)
    code, out, err = cli("comparison", "study", "Tiny", *db_)
    assert code == 1 and "partnerships" in err and "Traceback" not in err + out
