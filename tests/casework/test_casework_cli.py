"""`reticulist casework import|export` end to end (SQLite and PostgreSQL): all or nothing, every bad row
and column named, and no shielded address in an export."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.audit.models import AuditEvent
from reticulist.casework.models import Episode, Family, FamilyMember
from reticulist.casework.transfer import COLUMNS
from reticulist.cli.main import app
from reticulist.tabular import xlsx_rows
from tests.casework.conftest import CaseWorld

runner = CliRunner()
PARTNERSHIP = "Brempton Test Partnership"
EPISODE = {
    "requested_by": "Brempton Primary",
    "request_reason": "Attendance",
    "requested_on": "2026-09-01",
    "agreed_on": "02/09/2026",
    "opened_on": "2026-09-03",
    "lead_email": "LEAD@case.example.org",
    "lead_role": "Family support worker",
    "family_had_say": "yes",
}


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _row(reference: str, forenames: str, **extra: str) -> dict[str, str]:
    return {
        "family_reference": reference,
        "kind": "child",
        "forenames": forenames,
        "surname": "Okoro",
        **extra,
    }


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


GOOD = [
    _row("EH-10", "Ada", date_of_birth="2015-03-02", nhs_number="9434765919", **EPISODE),
    _row(
        "EH-10",
        "Ola",
        kind="adult",
        relationship_to_children="mother",
        parental_responsibility="yes",
        agreed="yes",
        shielded="yes",
        address="Safe house",
        postcode="BN9 9ZZ",
    ),
    _row(
        "EH-11",
        "Ben",
        date_of_birth="2012-07-30",
        agreed="yes",
        address="2 Mill Lane",
        postcode="bn3 2ab",
        **EPISODE,
    ),
]


def _counts(db: Session) -> tuple[int, int, int]:
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(Family)) or 0,
        db.scalar(select(func.count()).select_from(FamilyMember)) or 0,
        db.scalar(select(func.count()).select_from(Episode)) or 0,
    )


def test_import_records_every_family_and_export_leaves_out_shielded_addresses(
    tmp_path: Path, database_url: str, case_world: CaseWorld, db: Session
) -> None:
    before = _counts(db)
    code, out, err = cli(
        "casework",
        "import",
        str(_write(tmp_path / "families.csv", GOOD)),
        "--partnership",
        PARTNERSHIP,
        "--database",
        database_url,
    )
    assert code == 0, err
    assert "Imported 2 families (3 people) from families.csv." in out
    assert _counts(db) == (before[0] + 2, before[1] + 3, before[2] + 2)
    ada = db.scalar(select(FamilyMember).where(FamilyMember.forenames == "Ada"))
    assert ada is not None and ada.nhs_number == "943 476 5919"
    xlsx = tmp_path / "out.xlsx"
    code, out, err = cli(
        "casework", "export", "--partnership", PARTNERSHIP, "--to", str(xlsx), "--database", database_url
    )
    assert code == 0 and "Wrote 3 families" in out, err
    rows = [values for _, values in xlsx_rows(xlsx)]
    header, body = rows[0], rows[1:]
    assert header == COLUMNS and len(body) == 5
    flat = " ".join(str(v) for row in body for v in row)
    assert (
        "Safe house" not in flat and "BN9 9ZZ" not in flat and "Refuge" not in flat
    )  # shielded: never exported
    assert "2 Mill Lane" in flat and "BN3 2AB" in flat and "1 Canal Row" in flat
    db.rollback()
    exports = db.scalars(
        select(AuditEvent).where(AuditEvent.event == "exported", AuditEvent.record_type == "family")
    ).all()
    assert len(exports) == 1 and exports[0].after["families"] == 3  # type: ignore[index]


def test_a_bad_file_names_every_row_and_column_and_imports_nothing(
    tmp_path: Path, database_url: str, case_world: CaseWorld, db: Session
) -> None:
    before = _counts(db)
    bad = [
        _row("EH-20", "Ada", nhs_number="9434765918", **EPISODE),  # the check digit is wrong
        _row(
            "EH-20", "Ola", kind="adult", agreed="yes", requested_by="Someone else"
        ),  # and the family's episode differs
        _row(
            "EH-21",
            "Ben",
            agreed="yes",
            postcode="NOPE",
            address="x",
            **{**EPISODE, "lead_email": "who@nowhere.org"},
        ),
        _row("EH-0001", "Cy", agreed="yes", upn="A123", **EPISODE),  # a reference already used
        _row("", "Di", **EPISODE),
        _row("EH-22", "Flo", agreed="yes", **{**EPISODE, "lead_email": ""}),
    ]
    code, _out, err = cli(
        "casework",
        "import",
        str(_write(tmp_path / "bad.csv", bad)),
        "--partnership",
        PARTNERSHIP,
        "--database",
        database_url,
    )
    assert code == 1
    text = " ".join(err.split())
    for expected in [
        'bad.csv row 2, column J "nhs_number": "9434765918" is not a valid NHS number',
        'bad.csv row 3, column R "requested_by": differs from row 2, the family\'s first row',
        'bad.csv row 4, column W "lead_email": who@nowhere.org is not a current person',
        'bad.csv row 4, column N "postcode": "NOPE" is not a UK postcode',
        'bad.csv row 5, column A "family_reference": EH-0001 is already a family of this partnership',
        'bad.csv row 5, column K "upn": a unique pupil number is 13 characters',
        'bad.csv row 6, column A "family_reference": is required',
        'bad.csv row 7, column W "lead_email": is required: the lead practitioner\'s email in the register',
        "Nothing was imported from bad.csv.",
    ]:
        assert expected in text, (expected, text)
    assert "Traceback" not in err
    assert _counts(db) == before


def test_rules_only_the_service_knows_also_stop_the_whole_import(
    tmp_path: Path, database_url: str, case_world: CaseWorld, db: Session
) -> None:
    before = _counts(db)
    rows = [
        GOOD[2],
        _row("EH-30", "Eve", **EPISODE),
        _row("EH-30", "Al", kind="adult", agreed="yes"),  # no parental responsibility: may not agree
    ]
    code, _out, err = cli(
        "casework",
        "import",
        str(_write(tmp_path / "rule.csv", rows)),
        "--partnership",
        PARTNERSHIP,
        "--database",
        database_url,
    )
    assert code == 1 and "does not hold parental responsibility" in err and "row 3" in err
    assert _counts(db) == before  # EH-11, fine on its own, was not written either


def test_files_that_are_not_families_files_are_refused(
    tmp_path: Path, database_url: str, case_world: CaseWorld
) -> None:
    wrong = tmp_path / "people.csv"
    wrong.write_text("full_name,email\nA,a@x.org\n", encoding="utf-8")
    code, _out, err = cli(
        "casework", "import", str(wrong), "--partnership", PARTNERSHIP, "--database", database_url
    )
    assert code == 1 and "family_reference: column is missing from the header" in err and "full_name" in err
    missing = tmp_path / "nothing.csv"
    code, _out, err = cli(
        "casework", "import", str(missing), "--partnership", PARTNERSHIP, "--database", database_url
    )
    assert code == 1 and "no such file" in err
    code, _out, err = cli(
        "casework",
        "export",
        "--partnership",
        PARTNERSHIP,
        "--to",
        str(tmp_path / "x.pdf"),
        "--database",
        database_url,
    )
    assert code == 1 and "ending in .csv or .xlsx" in err


def test_an_account_is_linked_to_its_register_person_on_the_command_line(
    database_url: str, case_world: CaseWorld, db: Session
) -> None:
    from reticulist.access import service as accounts
    from reticulist.access.policy import cli_actor
    from reticulist.casework.models import PractitionerLink
    from reticulist.register import schemas as s
    from reticulist.register import service as register
    from tests.conftest import PASSWORD

    root = cli_actor("test")
    accounts.create_user(db, actor=root, email="new@case.example.org", display_name="New", password=PASSWORD)
    register.create_person(
        db,
        actor=root,
        partnership_id=case_world.world.partnership_id,
        data=s.parse(
            s.PersonCreate,
            {
                "full_name": "New Worker",
                "email": "new.worker@case.example.org",
                "organisation_id": case_world.health_id,
                "hierarchy_tier": 5,
            },
        ),
    )
    db.commit()
    base = ["user", "practitioner", "new@case.example.org", PARTNERSHIP]
    code, out, err = cli(*base, "new.worker@case.example.org", "--database", database_url)
    assert code == 0 and "new@case.example.org works as New Worker" in out, err
    code, _out, err = cli(*base, "new.worker@case.example.org", "--database", database_url)
    assert (
        code == 1
        and "user: that account is already linked to a person here" in err
        and "Traceback" not in err
    )
    code, _out, err = cli(*base, "nobody@case.example.org", "--database", database_url)
    assert code == 1 and "no one in the register" in err
    code, _out, err = cli(
        "user", "practitioner", "ghost@x.org", PARTNERSHIP, "x@y.org", "--database", database_url
    )
    assert code == 1 and "no account ghost@x.org" in err
    db.rollback()
    assert db.scalar(select(func.count()).select_from(PractitionerLink)) == 4  # lead, team, colleague, new
