"""Reading an agency's extract: CSV, XLSX and Parquet, recognised headers or a mapping file, and every bad
row and field named (linkage/extracts.py). Nothing is stored until every record passes."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from reticulist.errors import InputError
from reticulist.linkage import extracts

GOOD = (
    "Record ID,First name,Surname,DOB,Gender,Post code,NHS No,Ethnicity\n"
    "H1,Ellie,Marsh,09/01/2016,F,bn1 1aa,943 476 5919,White\n"
    "H2,Kwame,Mensah,2012-07-30,M,,,Black\n"
)


def _write(tmp_path: Path, text: str, name: str = "health.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(call) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as caught:
        call()
    return [str(p) for p in caught.value.problems]


def test_recognised_headers_map_to_the_standard_fields(tmp_path: Path) -> None:
    extract = extracts.read_extract(_write(tmp_path, GOOD))
    row = extract.records.row(0, named=True)
    assert row["record_id"] == "H1" and row["forenames"] == "Ellie" and row["date_of_birth"] == "09/01/2016"
    assert row["sex"] == "F" and row["postcode"] == "bn1 1aa" and row["nhs_number"] == "943 476 5919"
    assert extract.group_fields == ("Ethnicity",)
    assert extract.records.row(1, named=True)["postcode"] is None  # an empty cell is no value


def test_a_mapping_file_names_the_columns(tmp_path: Path) -> None:
    path = _write(tmp_path, "Ref,Given,Family,Born,Ward,Notes\nA7,Zoë,O'Brien,1/2/2015,Ward 3,ignore me\n")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "Ref": "record_id",
                "Given": "forenames",
                "Family": "surname",
                "Born": "date_of_birth",
                "Ward": "group",
                "Notes": "ignore",
            }
        )
    )
    extract = extracts.read_extract(path, mapping=mapping)
    assert extract.records.row(0, named=True)["surname"] == "O'Brien"
    assert extract.group_fields == ("Ward",)
    assert extract.ignored == ("Notes",)


def test_xlsx_and_parquet_read_as_text(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Record ID", "Forename", "Surname", "NHS number", "UPN"])
    sheet.append(["S1", "Amelia", "Cook", 9434765919, "A123456789012"])  # a number cell stays its digits
    workbook.save(tmp_path / "school.xlsx")
    extract = extracts.read_extract(tmp_path / "school.xlsx")
    assert extract.records.row(0, named=True)["nhs_number"] == "9434765919"
    pl.DataFrame({"id": [1, 2], "surname": ["Cook", "Ahmed"], "dob": ["2016-01-09", None]}).write_parquet(
        tmp_path / "police.parquet"
    )
    extract = extracts.read_extract(tmp_path / "police.parquet")
    assert extract.records.get_column("record_id").to_list() == ["1", "2"]


def test_every_bad_row_and_field_is_named(tmp_path: Path) -> None:
    text = (
        "Record ID,Forename,Surname,DOB\n"
        "H1,Ellie,Marsh,09/01/2016\n"
        ",Kwame,Mensah,2012-07-30\n"  # row 3: no id
        "H1,Amy,Cook,2012-07-30\n"  # row 4: the id again
        "H4,,,\n"  # row 5: nothing to link by
        "H5,Bad\x07Bell,Smith,2012-07-30\n"  # row 6: a control character
        f"H6,{'A' * 201},Smith,2012-07-30\n"  # row 7: too long
    )
    problems = _problems(lambda: extracts.read_extract(_write(tmp_path, text)))
    assert "health.csv row 3, record_id: is missing: every record needs the agency's own id" in problems
    assert "health.csv row 2, record_id: is repeated: each record id may appear once" in problems
    assert "health.csv row 4, record_id: is repeated: each record id may appear once" in problems
    assert any(p.startswith("health.csv row 5, record: has nothing to link by") for p in problems)
    assert "health.csv row 6, forenames: holds a control character no record should hold" in problems
    assert "health.csv row 7, forenames: is longer than 200 characters" in problems


def test_impossible_dates_and_bad_identifiers_are_not_errors_but_counted(tmp_path: Path) -> None:
    text = "Record ID,Forename,Surname,DOB,NHS No,Postcode\nH1,Ellie,Marsh,31/02/2016,943 476 5918,NOT A PC\n"
    extract = extracts.read_extract(_write(tmp_path, text))
    assert extract.records.height == 1


def test_a_long_list_of_problems_is_cut_short_with_a_count(tmp_path: Path) -> None:
    text = "Record ID,Forename\n" + "".join(",Ellie\n" for _ in range(80))
    problems = _problems(lambda: extracts.read_extract(_write(tmp_path, text)))
    assert len(problems) == extracts.MAX_SHOWN + 1
    assert problems[-1] == "health.csv file: and 30 more problems like these"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("health.txt", "a,b\n", "health.txt file: must be a .csv, .xlsx or .parquet file"),
        ("health.csv", "", "health.csv file: is empty: it has no header row"),
        ("health.csv", "Forename,Surname\nEllie,Marsh\n", "health.csv record_id: has no record id column"),
        ("health.csv", "Record ID\n", "health.csv file: has no records under its header"),
        ("health.xlsx", "not a workbook", "health.xlsx file: is not a real XLSX workbook"),
        ("health.parquet", "not parquet", "health.parquet file: could not be read as PARQUET"),
        (
            "health.csv",
            "Record ID,Forename,First name\nH1,Ellie,Ellie\n",
            "health.csv mapping: columns 'Forename', 'First name' would all be forenames; map only one",
        ),
    ],
)
def test_files_that_cannot_be_an_extract(tmp_path: Path, name: str, content: str, expected: str) -> None:
    problems = _problems(lambda: extracts.read_extract(_write(tmp_path, content, name)))
    assert any(p.startswith(expected) for p in problems), problems


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "health.csv"
    path.write_bytes(b"Record ID,Forename\nH1,\xff\xfe\x00Ellie\n")
    problems = _problems(lambda: extracts.read_extract(path))
    assert problems and problems[0].startswith("health.csv file: could not be read as CSV")


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ("[1, 2]", 'mapping.json file: must be JSON: {"the file\'s column": "standard field", ...}'),
        ('{"Nope": "surname", "Record ID": "record_id"}', "mapping: the mapping names a column 'Nope'"),
        (
            '{"Record ID": "record_id", "Forename": "first"}',
            "mapping: maps 'Forename' to 'first', which is not",
        ),
    ],
)
def test_bad_mapping_files(tmp_path: Path, mapping: str, expected: str) -> None:
    path = _write(tmp_path, "Record ID,Forename\nH1,Ellie\n")
    (tmp_path / "mapping.json").write_text(mapping)
    problems = _problems(lambda: extracts.read_extract(path, mapping=tmp_path / "mapping.json"))
    assert any(expected in p for p in problems), problems
