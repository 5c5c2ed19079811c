"""Import of ties from CSV/XLSX: all rows or none, every bad row and field named; export in the same
columns. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import NotAllowed, NotFound, cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.errors import InputError
from reticulist.network import importers
from reticulist.network import service as network
from reticulist.network.models import NetworkTie
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import World

DOC = Path(__file__).resolve().parents[2] / "docs" / "network.md"


def _people(db: Session, world: World) -> dict[str, int]:
    """Ann, Ben and Cat with emails, two people called Sam Smith without, and Sid in another partnership."""
    root = cli_actor("test set-up")
    ids = {}
    for name, email in [
        ("Ann Able", "ann@example.org"),
        ("Ben Bold", "ben@example.org"),
        ("Cat Cole", "cat@example.org"),
        ("Sam Smith", None),
        ("Sam  smith", None),
    ]:
        ids[name] = register.create_person(
            db,
            actor=root,
            partnership_id=world.partnership_id,
            data=s.PersonCreate(
                full_name=name, email=email, organisation_id=world.organisation_id, hierarchy_tier=3
            ),
        ).id
    elsewhere = register.create_organisation(
        db,
        actor=root,
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    ids["Sid"] = register.create_person(
        db,
        actor=root,
        partnership_id=world.other_partnership_id,
        data=s.PersonCreate(
            full_name="Sid Stranger",
            email="sid@example.org",
            organisation_id=elsewhere.id,
            hierarchy_tier=3,
        ),
    ).id
    db.commit()
    return ids


def _csv(tmp_path: Path, text: str, name: str = "ties.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _import(db: Session, world: World, path: Path) -> importers.TieImport:
    return importers.import_file(db, actor=world.manager, partnership_id=world.partnership_id, path=path)


def _count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(NetworkTie)) or 0


def test_a_good_file_is_stored_as_imported_and_audited(db: Session, world: World, tmp_path: Path) -> None:
    ids = _people(db, world)
    path = _csv(
        tmp_path,
        "From email,To,Weight,Frequency,trust reliable,Trust_Mission,value_resources,Date\n"
        "ann@example.org,Ben Bold,2.5,Monthly,4,3,,2025-03-01\n"
        "BEN@example.org,cat  cole,,2,,,1,01/02/2025\n"
        "\n"
        "cat@example.org,Ann Able,,,,,,\n",
    )
    result = _import(db, world, path)
    assert result.rows == 3 and result.source == "ties.csv"
    stored = network.list_ties(db, actor=world.manager, partnership_id=world.partnership_id)
    by_pair = {(x.from_person_id, x.to_person_id): x for x in stored}
    first = by_pair[(ids["Ann Able"], ids["Ben Bold"])]
    assert (first.weight, first.frequency, first.trust_reliable, first.trust_mission) == (2.5, 3, 4, 3)
    assert first.observed_on == date(2025, 3, 1) and first.source == "imported" and first.round_id is None
    second = by_pair[(ids["Ben Bold"], ids["Cat Cole"])]
    assert (second.weight, second.frequency, second.value_resources, second.trust_open) == (1.0, 2, 1, None)
    assert second.observed_on == date(2025, 2, 1)
    third = by_pair[(ids["Cat Cole"], ids["Ann Able"])]
    assert third.observed_on == date.today() and third.frequency is None
    event = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "network_tie")).one()
    assert event.event == "imported" and event.actor_label == world.emails["manager"]
    assert "3 network ties imported from ties.csv" in event.summary


def test_an_xlsx_file_imports_with_numbers_and_dates_as_cells(
    db: Session, world: World, tmp_path: Path
) -> None:
    ids = _people(db, world)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["from_email", "to_email", "weight", "frequency", "trust_open", "date"])
    sheet.append(["ann@example.org", "cat@example.org", 3, 4, 2, date(2025, 5, 6)])
    path = tmp_path / "ties.xlsx"
    workbook.save(path)
    assert _import(db, world, path).rows == 1
    tie = db.scalars(select(NetworkTie)).one()
    assert (tie.from_person_id, tie.to_person_id) == (ids["Ann Able"], ids["Cat Cole"])
    assert (tie.weight, tie.frequency, tie.trust_open, tie.observed_on) == (3.0, 4, 2, date(2025, 5, 6))


def test_every_bad_row_and_field_is_named_and_nothing_is_written(
    db: Session, world: World, tmp_path: Path
) -> None:
    _people(db, world)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    path = _csv(
        tmp_path,
        "from_email,from,to_email,to,weight,frequency,trust_reliable,value_influence,date\n"
        "nobody@example.org,,ann@example.org,,,,,,2025-01-01\n"  # 2 unknown person
        "ann@example.org,,ann@example.org,,,,,,2025-01-01\n"  # 3 self-tie
        "ann@example.org,,ben@example.org,,-1,,,,2025-01-01\n"  # 4 weight
        "ann@example.org,,cat@example.org,,,often,,,2025-01-01\n"  # 5 frequency
        "ben@example.org,,ann@example.org,,,,5,0,2025-01-01\n"  # 6 trust 5 and value 0
        "ben@example.org,,sid@example.org,,,,,,2025-01-01\n"  # 7 person of another partnership
        "cat@example.org,,ben@example.org,,,,,,2025-01-01\n"  # 8 fine
        "cat@example.org,,ben@example.org,,,,,,2025-01-01\n"  # 9 twice in the file
        ",Sam Smith,,Ann Able,,,,,2025-01-01\n"  # 10 name matches two people
        ",Nobody Here,,,,,,,2025-01-01\n"  # 11 unknown name, no to at all
        f"ben@example.org,,cat@example.org,,,,,,{tomorrow}\n"  # 12 future date
        "cat@example.org,,ann@example.org,,,,,,31/02/2025\n",  # 13 not a date
    )
    with pytest.raises(InputError) as refused:
        _import(db, world, path)
    problems = {(p.row, p.field): p.message for p in refused.value.problems}
    assert all(p.source == "ties.csv" for p in refused.value.problems)
    assert problems == {
        (2, 'column A "from_email"'): 'no person with email "nobody@example.org" in this partnership',
        (3, 'column D "to"'): 'is the same person as "from": a tie needs two people',
        (4, 'column E "weight"'): '"-1" is not a number above 0',
        (
            5,
            'column F "frequency"',
        ): '"often" is not a frequency: give never, yearly, quarterly, monthly, weekly, or 0-4',
        (6, 'column G "trust_reliable"'): '"5" is not a whole number from 1 to 4',
        (6, 'column H "value_influence"'): '"0" is not a whole number from 1 to 4',
        (7, 'column C "to_email"'): 'no person with email "sid@example.org" in this partnership',
        (9, 'column D "to"'): "this tie on 2025-01-01 appears twice (first on row 8)",
        (10, 'column B "from"'): '"Sam Smith" matches 2 people; give from_email instead',
        (11, 'column B "from"'): 'no person called "Nobody Here" in this partnership',
        (11, 'column C "to_email"'): "is required (give to_email or to)",
        (12, 'column I "date"'): f"{tomorrow} is in the future",
        (13, 'column I "date"'): '"31/02/2025" is not a date (use YYYY-MM-DD or DD/MM/YYYY)',
    }
    assert [p.row for p in refused.value.problems] == sorted(p.row or 0 for p in refused.value.problems)
    # The examples in docs/network.md are messages this import really gives.
    said = {f"{p.field}: {p.message}" for p in refused.value.problems}
    examples = [
        line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("ties.csv row")
    ]
    assert len(examples) == 6
    assert all(re.sub(r"^ties\.csv row \d+, ", "", line) in said for line in examples)
    assert _count(db) == 0
    assert (
        db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.record_type == "network_tie"))
        == 0
    )


@pytest.mark.parametrize(
    ("name", "content", "field", "message"),
    [
        ("empty.csv", b"", "file", "is empty: there is no header row"),
        ("header.csv", b"from_email,to_email\n", "file", "has a header row but no data rows"),
        ("latin.csv", "from_email,to\nann@example.org,Zoë\n".encode("latin-1"), "encoding", "is not UTF-8"),
        ("utf16.csv", "from_email,to_email\n".encode("utf-16"), "encoding", "is UTF-16 text, not UTF-8"),
        ("ties.xls", b"whatever", "file", "is not a .csv or .xlsx file (an old Excel .xls file)"),
        ("fake.xlsx", b"not a zip", "file", "is not a real XLSX workbook"),
        (
            "nopeople.csv",
            b"from_email,weight\nann@example.org,1\n",
            "to_email",
            "column is missing: give to_email or to",
        ),
        (
            "extra.csv",
            b"from_email,to_email,strength\nann@example.org,ben@example.org,3\n",
            "columns",
            'unknown column "strength"; a ties file takes: from_email, from, to_email, to',
        ),
    ],
)
def test_files_that_cannot_be_read_are_refused_by_name(
    db: Session, world: World, tmp_path: Path, name: str, content: bytes, field: str, message: str
) -> None:
    _people(db, world)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as refused:
        _import(db, world, path)
    assert [(p.source, p.field) for p in refused.value.problems] == [(name, field)]
    assert message in refused.value.problems[0].message
    assert _count(db) == 0


def test_a_missing_file_is_named(db: Session, world: World, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        _import(db, world, tmp_path / "missing.csv")


def test_only_managers_import_and_outsiders_cannot_probe(db: Session, world: World, tmp_path: Path) -> None:
    _people(db, world)
    path = _csv(tmp_path, "from_email,to_email\nann@example.org,ben@example.org\n")
    with pytest.raises(NotAllowed):
        importers.import_file(db, actor=world.member, partnership_id=world.partnership_id, path=path)
    with pytest.raises(NotFound):
        importers.import_file(db, actor=world.outsider, partnership_id=world.partnership_id, path=path)
    with pytest.raises(NotFound):
        importers.export_rows(db, actor=world.outsider, partnership_id=world.partnership_id)
    with pytest.raises(NotAllowed):
        importers.export_rows(db, actor=world.member, partnership_id=world.partnership_id)
    assert _count(db) == 0
    assert _import(db, world, path).rows == 1


def test_export_writes_the_import_columns_and_reads_back(db: Session, world: World, tmp_path: Path) -> None:
    _people(db, world)
    _import(
        db,
        world,
        _csv(
            tmp_path,
            "from_email,to_email,weight,frequency,trust_open,date\n"
            "ann@example.org,ben@example.org,2,weekly,3,2025-01-02\n"
            "ben@example.org,cat@example.org,,,,2025-01-03\n",
        ),
    )
    rows = importers.export_rows(db, actor=world.manager, partnership_id=world.partnership_id)
    assert rows[0] == {
        "from_email": "ann@example.org",
        "from": "Ann Able",
        "to_email": "ben@example.org",
        "to": "Ben Bold",
        "weight": 2.0,
        "frequency": "weekly",
        "trust_reliable": None,
        "trust_mission": None,
        "trust_open": 3,
        "value_influence": None,
        "value_involvement": None,
        "value_resources": None,
        "date": date(2025, 1, 2),
        "source": "imported",
    }
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"export.{suffix}"
        assert (
            importers.export_file(db, actor=world.manager, partnership_id=world.partnership_id, path=out) == 2
        )
        # Every column is read back; the ties are the same ones, so they are refused as already imported.
        with pytest.raises(InputError) as again:
            _import(db, world, out)
        assert [(p.row, p.field, p.message) for p in again.value.problems] == [
            (2, 'column M "date"', "this tie on 2025-01-02 is already stored (imported)"),
            (3, 'column M "date"', "this tie on 2025-01-03 is already stored (imported)"),
        ]
    with pytest.raises(InputError, match=r"is not a \.csv or \.xlsx file name"):
        importers.export_file(
            db, actor=world.manager, partnership_id=world.partnership_id, path=tmp_path / "x.txt"
        )
