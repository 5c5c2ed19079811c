"""The one CSV/XLSX helper: formulas neutralised on writing, and workbooks read in streaming mode within
limits; a broken, hostile or mislabelled workbook is a clear error naming the file in every importer
(the register, barometer responses, network ties), on the command line too, never a traceback."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist import tabular
from reticulist.cli.main import app as cli_app
from reticulist.errors import InputError
from reticulist.register.transfer import RecordType, read_cells, read_table
from tests.conftest import World

SRC = Path(tabular.__file__).parent
runner = CliRunner()


# --- writing -----------------------------------------------------------------------------------------
def test_text_that_starts_a_formula_is_neutralised_and_numbers_are_not() -> None:
    rows = [["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Police", -2, 1.5, None]]
    cells = next(csv.reader(io.StringIO(tabular.csv_text(rows), newline="")))
    assert cells == ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "Police", "-2", "1.5", ""]
    assert [tabular.unneutralise(c) for c in cells[:6]] == ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"]

    book = openpyxl.load_workbook(io.BytesIO(tabular.xlsx_bytes([tabular.Sheet("S", rows, header=["=h"])])))
    header, row = list(book["S"].iter_rows())
    assert header[0].value == "=h" and header[0].data_type == "s" and header[0].quotePrefix
    for cell in row[:6]:
        assert cell.data_type == "s" and cell.quotePrefix, cell.value  # text, even after an edit
    assert row[6].value == "Police" and not row[6].quotePrefix
    assert (row[7].value, row[7].data_type) == (-2, "n")  # a negative number stays a number


def test_characters_a_workbook_cannot_hold_do_not_break_the_download() -> None:
    rows = [["Bell\x07", "NUL\x00", "lone \ud800", float("nan"), float("inf")]]
    book = openpyxl.load_workbook(io.BytesIO(tabular.xlsx_bytes([tabular.Sheet("S", rows)])))
    assert list(next(book["S"].iter_rows(max_col=5, values_only=True))) == [
        "Bell\ufffd",
        "NUL\ufffd",
        "lone \ufffd",
        None,
        None,
    ]
    assert tabular.csv_bytes(rows).decode("utf-8-sig").startswith("Bell\ufffd,NUL\ufffd,lone \ufffd")


def test_no_module_writes_csv_or_xlsx_without_the_helper() -> None:
    """A new export that used csv.writer or openpyxl directly would forget the formula rule."""
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "tabular.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)\(|openpyxl\.Workbook\(|\.save\(|WriteOnlyCell", text):
            offenders.append(str(path.relative_to(SRC)))
    assert not offenders


# --- reading broken and hostile workbooks -----------------------------------------------------------
def _workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ORGANISATIONS = [["name", "kind", "tier"], ["Brempton Health", "health", "statutory"]]


def _rezip(data: bytes, change: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, change.get(item.filename, source.read(item.filename)))
    return out.getvalue()


def _zip_bomb(path: Path) -> None:
    """A valid-looking workbook whose sheet unpacks to 210 MB of spaces (about 200 KB packed)."""
    good = zipfile.ZipFile(io.BytesIO(_workbook(ORGANISATIONS)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in good.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item.filename, good.read(item.filename))
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b" " * (1024 * 1024)
            for _ in range(210):
                sheet.write(chunk)


def broken_files(folder: Path) -> dict[str, Path]:
    good = _workbook(ORGANISATIONS)
    files = {
        "truncated.xlsx": good[: len(good) // 2],
        "renamed-csv.xlsx": b"name,kind,tier\nBrempton Health,health,statutory\n",
        "picture.xlsx": b"\x89PNG\r\n\x1a\n" + bytes(200),
        "empty.xlsx": b"",
        "other-zip.xlsx": _rezip(good, {}).replace(b"[Content_Types].xml", b"[Content_Typez].xml"),
        "broken-sheet.xlsx": _rezip(good, {"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row r="}),
        "no-workbook.xlsx": _rezip(good, {"xl/workbook.xml": b"not xml at all"}),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    paths["bomb.xlsx"] = folder / "bomb.xlsx"
    _zip_bomb(paths["bomb.xlsx"])
    return paths


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return broken_files(tmp_path_factory.mktemp("broken"))


def test_each_broken_workbook_is_refused_naming_the_file(broken: dict[str, Path]) -> None:
    for name, path in broken.items():
        with pytest.raises(InputError) as caught:
            read_cells(path)
        (problem,) = caught.value.problems
        assert problem.source == name, name
        assert str(problem).startswith(f"{name} file: ")
        if name == "bomb.xlsx":
            assert "unpacks to more than 200 MB" in problem.message
        else:
            assert "is not a real XLSX workbook" in problem.message, (name, problem.message)


def test_a_sheet_that_claims_a_million_rows_reads_only_the_cells_it_has(tmp_path: Path) -> None:
    good = _workbook(ORGANISATIONS)
    sheet = zipfile.ZipFile(io.BytesIO(good)).read("xl/worksheets/sheet1.xml")
    lying = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', sheet)
    assert lying != sheet
    path = tmp_path / "organisations.xlsx"
    path.write_bytes(_rezip(good, {"xl/worksheets/sheet1.xml": lying}))
    table = read_table(path, RecordType.ORGANISATIONS)
    assert [values for _, values in table.rows] == [
        {"name": "Brempton Health", "kind": "health", "tier": "statutory"}
    ]


def test_rows_columns_and_cells_past_the_limits_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tabular, "MAX_IMPORT_ROWS", 50)
    monkeypatch.setattr(tabular, "MAX_IMPORT_CELLS", 120)
    rows = tmp_path / "rows.xlsx"
    rows.write_bytes(_workbook([["name"], *[[f"Organisation {n}"] for n in range(60)]]))
    with pytest.raises(InputError, match=r"rows.xlsx file: has more than 50 rows"):
        read_cells(rows)
    csv_rows = tmp_path / "rows.csv"
    csv_rows.write_text("name\n" + "".join(f"Organisation {n}\n" for n in range(60)), encoding="utf-8")
    with pytest.raises(InputError, match=r"rows.csv file: has more than 50 rows"):
        read_cells(csv_rows)
    cells = tmp_path / "cells.xlsx"
    cells.write_bytes(_workbook([[f"c{n}" for n in range(30)] for _ in range(5)]))
    with pytest.raises(InputError, match=r"cells.xlsx file: has more than 120 cells"):
        read_cells(cells)
    wide = tmp_path / "wide.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"], book.active["ALM1"] = "name", "far away"  # column 1001
    book.save(wide)
    with pytest.raises(InputError, match=r"wide.xlsx file: row 1 has a value past column 1,000"):
        read_cells(wide)
    blank_edge = tmp_path / "blank-edge.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"], book.active["ZZZ1"] = "name", " "  # formatting far out, no value: fine
    book.save(blank_edge)
    assert read_cells(blank_edge) == [(1, ["name"])]


def test_every_importer_on_the_command_line_refuses_a_broken_workbook(
    database_url: str, world: World, db: Session, broken: dict[str, Path]
) -> None:
    from datetime import date, timedelta

    from reticulist.barometer import service as barometer

    round_id = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title="Spring",
            opens_on=date.today() - timedelta(days=1),
            closes_on=date.today() + timedelta(days=9),
        ),
    ).id
    db.commit()
    pid = str(world.partnership_id)
    for name in ("truncated.xlsx", "renamed-csv.xlsx", "broken-sheet.xlsx", "bomb.xlsx"):
        path = str(broken[name])
        for command in (
            ["import", "organisations", path, "--partnership", pid],
            ["network", "import", path, "--partnership", pid],
            ["barometer", "import", str(round_id), path],
        ):
            result = runner.invoke(cli_app, [*command, "--database", database_url])
            assert result.exit_code == 1, (command, result.stdout, result.stderr)
            assert f"error: {name} file: " in result.stderr, (command, result.stderr)
            assert "Traceback" not in result.stderr + result.stdout
