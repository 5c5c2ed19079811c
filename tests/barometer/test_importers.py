"""Reading survey responses from other form tools: layouts, header matching, mapping files, answers and
profile values, and every bad input named by its row and field."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from reticulist.barometer.importers import (
    FormFormat,
    ParsedResponses,
    RegisterNames,
    detect_format,
    parse_answer,
    read_responses,
)
from reticulist.barometer.instrument import Instrument, Scale, parse_instrument
from reticulist.errors import InputError

SOURCE = {"document": "002", "section": "Table 1"}


def small_instrument(scale: dict[str, Any] | None = None, title: str = "Test Barometer") -> Instrument:
    """Two constructs of three items each, one item reverse-worded."""
    items = [
        ("trust_1", "trust", "I trust colleagues from other agencies to do what they say.", False),
        ("trust_2", "trust", "Partners share information with me in good time.", False),
        ("trust_3", "trust", "Other agencies' staff keep me at arm's length.", True),
        ("continuity_1", "continuity", "The same people represent each agency at meetings.", False),
        ("continuity_2", "continuity", "Decisions are followed through when people move on.", False),
        ("continuity_3", "continuity", "New representatives are briefed on past decisions.", False),
    ]
    data: dict[str, Any] = {
        "key": "test-barometer",
        "version": "1.0",
        "title": title,
        "sections": [{"key": "all", "title": "All", "constructs": ["trust", "continuity"]}],
        "constructs": [
            {
                "key": key,
                "framework": "custom",
                "name": key.title(),
                "definition": f"High {key}.",
                "source": SOURCE,
                "catalysts": ["Meet more often."],
            }
            for key in ("trust", "continuity")
        ],
        "items": [{"key": k, "construct": c, "text": t, "reverse": r} for k, c, t, r in items],
    }
    if scale:
        data["scale"] = scale
    return parse_instrument(json.dumps(data))


INSTRUMENT = small_instrument()
TEXT = {i.key: i.text for i in INSTRUMENT.items}
REGISTER = RegisterNames(
    organisations={"Brempton Police": 11, "Brempton Council": 12},
    professions={"Police officer": 21, "Social worker": 22},
)
MS_IDENTITY = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]
NEVER_READ = [c for c in MS_IDENTITY if c != "Completion time"]  # the completion time gives the day


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]], sheet: str = "Sheet1") -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    ws = workbook.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    workbook.save(path)
    return path


def microsoft_forms_xlsx(path: Path, answers: list[list[Any]] | None = None) -> Path:
    """Microsoft Forms' Excel export: its identity columns first, then a column per question by text."""
    questions = [TEXT[k] for k in ("trust_1", "trust_2", "trust_3", "continuity_1")]
    header = [*MS_IDENTITY, *questions, "Organisation", "Hierarchy tier"]
    answers = answers or [
        ["Agree", "Strongly agree", "Disagree", "Neither agree nor disagree", "Brempton Police", 5],
        ["Don't know", "Strongly disagree", "Agree", "", "brempton  council", "3 – middle management"],
        ["Neutral", "Tend to agree", "Not sure", "Strongly Agree", "", ""],
    ]
    rows: list[list[Any]] = [header]
    for n, values in enumerate(answers, start=1):
        start = datetime(2025, 3, n, 9, 15)
        rows.append([n, start, start.replace(minute=30), f"p{n}@example.org", f"Person {n}", start, *values])
    return write_xlsx(path, rows)


def google_forms_csv(path: Path) -> Path:
    """Google Forms' CSV: Timestamp, Email Address, then questions; a grid's columns are Title [Row]."""
    header = [
        "Timestamp",
        "Email Address",
        f"  {TEXT['trust_1'].upper()} ",
        f"How far do you agree? [{TEXT['continuity_1']}]",
        f"How far do you agree? [{TEXT['continuity_2']}]",
        "Profession",
    ]
    return write_csv(
        path,
        [
            header,
            [
                "2025/03/04 10:15:32 am GMT",
                "a@example.org",
                "4",
                "Strongly agree",
                "Disagree",
                "Social worker",
            ],
            ["2025/03/04 11:02:10 am GMT", "b@example.org", "1", "DK", "0", ""],
        ],
    )


def read(path: Path, **kw: Any) -> ParsedResponses:
    return read_responses(path, instrument=INSTRUMENT, register=REGISTER, **kw)


def problems(path: Path, **kw: Any) -> list[str]:
    with pytest.raises(InputError) as caught:
        read(path, **kw)
    return [str(p) for p in caught.value.problems]


# --- good files --------------------------------------------------------------------------------------
def test_microsoft_forms_export_is_detected_and_identity_columns_are_never_read(tmp_path: Path) -> None:
    parsed = read(microsoft_forms_xlsx(tmp_path / "responses.xlsx"))
    assert parsed.form_format is FormFormat.MICROSOFT_FORMS and parsed.detected
    assert parsed.identity_columns == NEVER_READ
    # The completion time gives each response its day, and only that.
    assert parsed.completion_column == "Completion time"
    assert [r.completed_on for r in parsed.rows] == [date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)]
    assert [r.row for r in parsed.rows] == [2, 3, 4]
    assert [r.answers for r in parsed.rows] == [
        {"trust_1": 4, "trust_2": 5, "trust_3": 2, "continuity_1": 3},
        {"trust_1": 0, "trust_2": 1, "trust_3": 4},
        {"trust_1": 3, "trust_2": 4, "trust_3": 0, "continuity_1": 5},
    ]
    assert [r.profile for r in parsed.rows] == [
        {"organisation": 11, "profession": None, "hierarchy_tier": 5, "wt_tier": None},
        {"organisation": 12, "profession": None, "hierarchy_tier": 3, "wt_tier": None},
        {"organisation": None, "profession": None, "hierarchy_tier": None, "wt_tier": None},
    ]
    # Nothing of who answered, or of when they started, or the time they finished, is carried.
    carried = repr(parsed.rows)
    assert "example.org" not in carried and "Person" not in carried
    assert all(type(r.completed_on) is date for r in parsed.rows)  # a day, not a datetime
    assert "9, 15" not in carried and "9, 30" not in carried


def test_google_forms_export_with_grid_questions(tmp_path: Path) -> None:
    parsed = read(google_forms_csv(tmp_path / "Barometer (Responses) - Form responses 1.csv"))
    assert parsed.form_format is FormFormat.GOOGLE_FORMS
    assert parsed.identity_columns == ["Email Address"]
    assert parsed.completion_column == "Timestamp"
    assert [r.completed_on for r in parsed.rows] == [date(2025, 3, 4)] * 2
    assert [r.answers for r in parsed.rows] == [
        {"trust_1": 4, "continuity_1": 5, "continuity_2": 2},
        {"trust_1": 1, "continuity_1": 0, "continuity_2": 0},
    ]
    assert [r.profile["profession"] for r in parsed.rows] == [22, None]
    assert "@" not in repr(parsed.rows)


def test_generic_file_by_item_keys_with_profile_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "generic.csv",
        [
            [
                "continuity_1",
                "Continuity_2",
                "trust_1",
                "organisation",
                "profession",
                "hierarchy_tier",
                "wt_tier",
            ],
            ["5", "4", "3", "Brempton Police", "Police officer", "1", "Statutory member"],
            ["1", "", "2", "", "", "", "other_member"],
            ["", "", "", "", "", "", ""],  # a blank line means nothing
            ["", "", "", "Brempton Police", "", "", ""],  # told their organisation, answered nothing
        ],
    )
    parsed = read(path)
    assert parsed.form_format is FormFormat.GENERIC and parsed.identity_columns == []
    assert [(r.row, r.answers) for r in parsed.rows] == [
        (2, {"continuity_1": 5, "continuity_2": 4, "trust_1": 3}),
        (3, {"continuity_1": 1, "trust_1": 2}),
    ]
    assert parsed.rows[0].profile == {
        "organisation": 11,
        "profession": 21,
        "hierarchy_tier": 1,
        "wt_tier": "statutory",
    }
    assert parsed.rows[1].profile["wt_tier"] == "other_member"
    assert parsed.empty_rows == [5]


def test_mapping_file_maps_other_wording_and_profile_questions(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "responses.csv",
        [
            ["Timestamp", "Do you trust partners?", "Which agency do you work for?", "Any comments?"],
            ["2025/03/04 10:15:32", "Agree", "Brempton Police", "Good meetings"],
        ],
    )
    mapping = write_csv(
        tmp_path / "mapping.csv",
        [
            ["header", "item"],
            ["do you trust partners?", "trust_1"],
            ["Which agency do you work for?", "Organisation"],
            ["Any comments?", "ignore"],
        ],
    )
    parsed = read(path, mapping_path=mapping)
    assert parsed.rows[0].answers == {"trust_1": 4}
    assert parsed.rows[0].profile["organisation"] == 11
    assert parsed.ignored_columns == ["Any comments?"]
    assert parsed.columns == {
        "Do you trust partners?": "trust_1",
        "Which agency do you work for?": "organisation",
    }


def test_unmapped_columns_can_be_ignored_on_request(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["trust_1", "What could be better?"], ["Agree", "More time"]])
    parsed = read(path, ignore_unmapped=True)
    assert parsed.ignored_columns == ["What could be better?"]
    assert parsed.rows[0].answers == {"trust_1": 4}


def test_format_given_overrides_detection(tmp_path: Path) -> None:
    # An export whose identity columns were deleted before it was shared still reads.
    path = write_csv(tmp_path / "r.csv", [[TEXT["trust_2"]], ["Agree"]])
    parsed = read(path, form_format=FormFormat.MICROSOFT_FORMS)
    assert parsed.form_format is FormFormat.MICROSOFT_FORMS and not parsed.detected
    assert parsed.rows[0].answers == {"trust_2": 4}


def test_detect_format() -> None:
    assert detect_format(["ID", "Start time", "Completion time", "Email", "Name", "Q1"]) == "microsoft-forms"
    assert detect_format(["Timestamp", "Q1"]) == "google-forms"
    assert detect_format(["trust_1", "timestamp"]) == "generic"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Strongly agree", 5),
        ("AGREE", 4),
        ("Neither agree nor disagree", 3),
        ("Neutral", 3),
        ("Disagree", 2),
        ("strongly disagree", 1),
        ("Don't know", 0),
        ("Don’t know", 0),
        ("Not sure", 0),
        ("DK", 0),
        ("Tend to agree", 4),
        ("Somewhat disagree", 2),
        (" 3 ", 3),
        (5, 5),
        (1.0, 1),
        ("0", 0),
        ("4 - Agree", 4),
        ("", None),
        (None, None),
    ],
)
def test_answers_on_the_scale(value: Any, code: int | None) -> None:
    assert parse_answer(value) == code


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Sometimes", '"Sometimes" is not an agreement answer'),
        (6, "6 is not on the scale: give 1-5, or 0 for don't know"),
        ("-1", "-1 is not on the scale"),
        ("2.5", "2.5 is not on the scale"),
        ("5 - Disagree", '"5 - Disagree" is not an agreement answer'),
    ],
)
def test_answers_off_the_scale(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(".", r"\.")):
        parse_answer(value)


def test_the_instruments_own_scale_labels_are_answers(tmp_path: Path) -> None:
    labels = ["Not at all", "A little", "Somewhat", "Mostly", "Completely"]
    instrument = small_instrument({"points": labels, "dont_know": "Can't say"})
    assert [parse_answer(x, instrument.scale) for x in [*labels, "can't say"]] == [1, 2, 3, 4, 5, 0]
    # The common words still read as well.
    assert parse_answer("Strongly agree", instrument.scale) == 5
    path = write_csv(tmp_path / "r.csv", [["trust_1", "trust_2"], ["mostly", "Can’t say"], ["Oddly", "1"]])
    with pytest.raises(InputError) as caught:
        read_responses(path, instrument=instrument, register=REGISTER)
    assert [str(p) for p in caught.value.problems] == [
        'r.csv row 3, column A "trust_1": "Oddly" is not an agreement answer (give "Not at all" ... '
        '"Completely", '
        "\"Can't say\", or 1-5 with 0 for don't know)"
    ]
    assert Scale().points[0] == "Strongly disagree"


# --- bad files: every problem named, by row and field -------------------------------------------------
def test_every_bad_answer_and_profile_value_is_reported(tmp_path: Path) -> None:
    path = microsoft_forms_xlsx(
        tmp_path / "responses.xlsx",
        [
            ["Agree", "Agree", "Agree", "Agree", "Brempton Police", 5],
            ["Sometimes", "Agree", 6, "Agree", "Nowhere Police", 7],
            ["Agree", "Agree", "Agree", "Agree", "", ""],
        ],
    )
    # Each problem names the column as the spreadsheet shows it: its letter and its header.
    assert problems(path) == [
        f'responses.xlsx row 3, column G "{TEXT["trust_1"]}": "Sometimes" is not an agreement answer (give '
        '"Strongly disagree" ... "Strongly agree", "Don\'t know", or 1-5 with 0 for don\'t know)',
        f'responses.xlsx row 3, column I "{TEXT["trust_3"]}": 6 is not on the scale: give 1-5, or 0 for '
        "don't know",
        'responses.xlsx row 3, column K "Organisation": no organisation "Nowhere Police" in this '
        "partnership's register",
        'responses.xlsx row 3, column L "Hierarchy tier": "7" is not 1-5',
    ]


def test_bad_working_together_tier_and_profession(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "g.csv", [["trust_1", "wt_tier", "profession"], ["4", "premier league", "Astronaut"]]
    )
    assert problems(path) == [
        'g.csv row 2, column B "wt_tier": "premier league" is not a Working Together tier '
        "(one of: statutory, other_member, involved)",
        'g.csv row 2, column C "profession": no profession "Astronaut" in this partnership\'s register',
    ]


def test_a_question_matching_no_item_is_refused_without_a_mapping(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "responses.csv",
        [["Timestamp", "Do you trust partners?", TEXT["trust_2"]], ["2025/03/04", "Agree", "Agree"]],
    )
    assert problems(path) == [
        'responses.csv column B "Do you trust partners?": matches no item of Test Barometer (version 1.0) '
        "(by key or exact text) and no profile field; map it in a mapping file, or ignore unmapped columns"
    ]


def test_a_mapping_to_an_unknown_item_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "responses.csv", [["Do you trust partners?"], ["Agree"]])
    mapping = write_csv(
        tmp_path / "mapping.csv",
        [
            ["header", "item"],
            ["Do you trust partners?", "trust_9"],
            ["Another", ""],
            ["do you trust partners?", "trust_1"],
        ],
    )
    assert problems(path, mapping_path=mapping) == [
        'mapping.csv row 2, column B "item": "trust_9" is not an item of Test Barometer (version 1.0) nor a '
        'profile field (organisation, profession, hierarchy_tier, wt_tier) nor "ignore"',
        'mapping.csv row 3, column B "item": is required (an item key, a profile field or "ignore")',
        'mapping.csv row 4, column A "header": this header is mapped twice (first on row 2)',
    ]


def test_mapping_file_problems_about_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["Email", "Q"], ["a@example.org", "Agree"]])
    mapping = write_csv(
        tmp_path / "mapping.csv",
        [["header", "item"], ["Q", "trust_1"], ["Email", "trust_2"], ["Gone", "trust_3"]],
    )
    assert problems(path, mapping_path=mapping) == [
        'mapping.csv header: "email" is an identity column: it is never read, so it cannot be mapped',
        'mapping.csv header: "gone" is not a column of r.csv',
    ]
    wrong = write_csv(tmp_path / "wrong.csv", [["question", "key"], ["Q", "trust_1"]])
    assert problems(path, mapping_path=wrong) == [
        "wrong.csv header: column is missing from the header (a mapping file has header and item)",
        "wrong.csv item: column is missing from the header (a mapping file has header and item)",
        'wrong.csv columns: unknown columns "question", "key"; a mapping file takes header, item',
    ]


def test_two_columns_answering_one_item_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["trust_1", TEXT["trust_1"]], ["Agree", "Agree"]])
    assert problems(path) == [
        f'r.csv columns: columns A ("trust_1") and B ("{TEXT["trust_1"]}") both answer trust_1'
    ]


def test_a_duplicate_header_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [["trust_1", TEXT["trust_2"], TEXT["trust_2"].upper()], ["Agree", "Agree", "Agree"]],
    )
    assert problems(path) == [
        f'r.csv columns: the header "{TEXT["trust_2"].upper()}" appears twice (columns B and C); '
        "each question must have its own column"
    ]


def test_values_under_no_header_are_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["trust_1", ""], ["Agree", "stray"]])
    assert problems(path) == [
        'r.csv row 2, column B: has the value "stray" but the header names no column there'
    ]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "r.csv file: is empty: there is no header row"),
        ([["", ""], ["", ""]], "r.csv file: is empty: there is no header row"),
        ([["trust_1", "trust_2"]], "r.csv file: has a header row but no responses"),
        ([["trust_1"], [""], [""]], "r.csv file: has a header row but no responses"),
        (
            [["organisation", "trust_1"], ["Brempton Police", ""]],
            "r.csv file: has no answers to import: no row answers any item",
        ),
        (
            [["organisation"], ["Brempton Police"]],
            "r.csv columns: no column answers an item of Test Barometer (version 1.0)",
        ),
    ],
)
def test_empty_files(tmp_path: Path, rows: list[list[Any]], message: str) -> None:
    assert problems(write_csv(tmp_path / "r.csv", rows)) == [message]


def test_wrong_encoding_and_wrong_file_type(tmp_path: Path) -> None:
    latin = write_csv(
        tmp_path / "latin.csv", [["trust_1", "organisation"], ["Agree", "Brempton Santé"]], "cp1252"
    )
    [message] = problems(latin)
    assert message.startswith("latin.csv encoding: is not UTF-8 text (byte 0xe9 on line 2)")
    utf16 = write_csv(tmp_path / "utf16.csv", [["trust_1"], ["Agree"]], "utf-16")
    assert problems(utf16)[0].startswith("utf16.csv encoding: is UTF-16 text, not UTF-8")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    assert problems(old)[0].startswith("old.xls file: is not a .csv or .xlsx file (an old Excel .xls file)")
    fake = tmp_path / "fake.xlsx"
    fake.write_text("trust_1\nAgree\n")
    assert problems(fake)[0].startswith("fake.xlsx file: is not a real XLSX workbook")


def test_utf8_with_byte_order_mark_reads(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bom.csv", [["trust_1", "organisation"], ["Agree", "Brempton Police"]], "utf-8-sig"
    )
    assert read(path).rows[0].answers == {"trust_1": 4}


def test_progress_is_reported_per_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [["trust_1"], *[["Agree"]] * 4])
    seen: list[tuple[int, int]] = []
    read(path, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


# --- docs/barometer.md cannot drift from what the importer says ----------------------------------------
DOC = Path(__file__).resolve().parents[2] / "docs" / "barometer.md"


def test_docs_error_examples_are_what_the_importer_says(tmp_path: Path) -> None:
    doc = DOC.read_text(encoding="utf-8")
    section = doc[doc.index("\n## Importing responses from other form tools\n") :]
    instrument = small_instrument(title="Partnership Barometer")
    questions = [TEXT[k] for k in ("trust_1", "trust_2", "trust_3", "continuity_1")]
    header = ["Completion time", *questions, "Organisation", "", "Do you trust partners?"]
    rows: list[list[Any]] = [header] + [[date(2026, 3, 10)] + ["Agree"] * 4 + [""] * 3 for _ in range(8)]
    rows[4][0] = date(2026, 3, 30)  # row 5: after the round closed
    rows[6][2] = "Sometimes"  # row 7
    rows[8][4], rows[8][5] = 6, "Brempton Fire"  # row 9
    with pytest.raises(InputError) as caught:
        read_responses(
            write_xlsx(tmp_path / "responses.xlsx", rows),
            instrument=instrument,
            register=REGISTER,
            period=(date(2026, 3, 2), date(2026, 3, 27)),
        )
    found = [f"error: {p}" for p in caught.value.problems]
    assert len(found) == 5
    for line in found:
        assert f"\n{line}\n" in section, line
    mapping = write_csv(
        tmp_path / "mapping.csv", [["header", "item"], [TEXT["trust_1"], "trust_1"], ["Q", "trust_9"]]
    )
    with pytest.raises(InputError) as caught:
        read_responses(
            tmp_path / "responses.xlsx", instrument=instrument, register=REGISTER, mapping_path=mapping
        )
    [line] = [f"error: {p}" for p in caught.value.problems]
    assert f"\n{line}\n" in section
    # The answers table and the words the parser takes agree.
    for words, code in [
        ("Strongly agree; Agree strongly; 5", 5),
        ("Agree; Tend to agree; Somewhat agree; Mostly agree; 4", 4),
        ("Neither agree nor disagree; Neither agree or disagree; Neutral; Neither; 3", 3),
        ("Disagree; Tend to disagree; Somewhat disagree; Mostly disagree; 2", 2),
        ("Strongly disagree; Disagree strongly; 1", 1),
        ("Don't know; Not sure; Unsure; DK; 0", 0),
    ]:
        assert f"| {words} |" in section
        assert {parse_answer(w) for w in words.split("; ")} == {code}


def test_a_microsoft_forms_export_of_the_built_in_instrument_needs_no_mapping(tmp_path: Path) -> None:
    from reticulist.barometer.instrument import default_instrument

    instrument = default_instrument()
    # Forms often turn straight apostrophes curly and add stray spaces; matching does not mind.
    questions = [f" {i.text.replace(chr(39), '’')}  " for i in instrument.items]
    answers = ["Strongly agree", "Agree", "Neutral", "Disagree", "Strongly disagree", "Don't know"]
    rows: list[list[Any]] = [[*MS_IDENTITY, *questions]]
    for n in range(1, 4):
        moment = datetime(2025, 5, n, 12, 0)
        rows.append(
            [n, moment, moment, "", "", moment, *[answers[(n + k) % 6] for k in range(len(questions))]]
        )
    parsed = read_responses(
        write_xlsx(tmp_path / "Partnership Barometer.xlsx", rows), instrument=instrument, register=REGISTER
    )
    assert len(parsed.rows) == 3 and parsed.ignored_columns == []
    assert set(parsed.columns.values()) == {i.key for i in instrument.items}
    assert parsed.rows[0].answers[instrument.items[0].key] == 4  # row 2: answers[(1 + 0) % 6] = Agree


# --- the day each response was completed ---------------------------------------------------------------
MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def days_of(tmp_path: Path, cells: list[Any], header: str = "Timestamp", **kw: Any) -> list[date | None]:
    path = write_csv(tmp_path / "d.csv", [[header, "trust_1"], *[[c, "Agree"] for c in cells]])
    return [r.completed_on for r in read(path, **kw).rows]


def test_completion_days_in_every_form_tools_writing(tmp_path: Path) -> None:
    # Year first (ISO, Google Forms' download), with or without a time; the time is never kept.
    assert days_of(tmp_path, ["2026-03-04", "2026/03/05 10:15:32 am GMT", "2026-03-06T23:59:59"]) == [
        date(2026, 3, 4),
        date(2026, 3, 5),
        date(2026, 3, 6),
    ]
    # UK style: a first number above 12 says the column is day first, so 03/04 is 3 April.
    assert days_of(tmp_path, ["14/03/2026 10:22", "03/04/2026 09:00"]) == [
        date(2026, 3, 14),
        date(2026, 4, 3),
    ]
    # US style (Microsoft Forms' text times): a second number above 12 says month first.
    assert days_of(tmp_path, ["3/14/2026 10:22:31 AM", "4/3/2026 9:00:00 PM"]) == [
        date(2026, 3, 14),
        date(2026, 4, 3),
    ]
    # Nothing in the column decides, but only one reading fits the round: 3 and 5 April, not 4 March and
    # 4 May (after the round).
    spring = (date(2026, 3, 20), date(2026, 4, 30))
    assert days_of(tmp_path, ["03/04/2026", "05/04/2026"], period=spring) == [
        date(2026, 4, 3),
        date(2026, 4, 5),
    ]
    # A blank cell is no day: the round's closing day is used when storing.
    assert days_of(tmp_path, ["2026-03-04", ""]) == [date(2026, 3, 4), None]
    # A generic file's column, by its documented name.
    assert days_of(tmp_path, ["2026-03-04"], header="Completed on") == [date(2026, 3, 4)]


def test_completion_days_that_cannot_be_read_are_refused_by_row_and_column(tmp_path: Path) -> None:
    def refused(cells: list[Any], **kw: Any) -> list[str]:
        path = write_csv(tmp_path / "d.csv", [["Timestamp", "trust_1"], *[[c, "Agree"] for c in cells]])
        return problems(path, **kw)

    assert refused(["yesterday", "2026-02-30", "31/02/2026"]) == [
        'd.csv row 2, column A "Timestamp": "yesterday" is not a date: give YYYY-MM-DD, e.g. 2026-03-31',
        'd.csv row 3, column A "Timestamp": "2026-02-30" is not a real date: that day does not exist',
        'd.csv row 4, column A "Timestamp": "31/02/2026" is not a real date: that day does not exist',
    ]
    assert refused(["13/01/2026", "01/13/2026"]) == [
        'd.csv row 2, column A "Timestamp": mixes days written day first and month first: give each as '
        "YYYY-MM-DD"
    ]
    # Both readings fit the round: 3 March or 4 March cannot be told, so the file is refused.
    assert refused(["03/04/2026", "05/04/2026"], period=(date(2026, 3, 1), date(2026, 5, 31))) == [
        'd.csv row 2, column A "Timestamp": "03/04/2026" could be 3 April 2026 or 4 March 2026, and both '
        "fit the round's dates: give the days as YYYY-MM-DD"
    ]
    assert refused(["2026-03-31", "2026-04-01", "2026-02-28"], period=MARCH) == [
        'd.csv row 3, column A "Timestamp": 1 April 2026 is outside the round\'s dates (1 March 2026 to 31 '
        "March 2026): import it into the round it was answered in",
        'd.csv row 4, column A "Timestamp": 28 February 2026 is outside the round\'s dates (1 March 2026 to '
        "31 March 2026): import it into the round it was answered in",
    ]


def test_one_completion_column_and_it_cannot_be_mapped(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv", [["Timestamp", "completed_on", "trust_1"], ["2026-03-04", "2026-03-04", "Agree"]]
    )
    assert problems(path) == [
        'r.csv columns: column A "Timestamp" and column B "completed_on" both give the day a response was '
        "completed; keep one"
    ]
    path = write_csv(tmp_path / "r.csv", [["Timestamp", "trust_1"], ["2026-03-04", "Agree"]])
    mapping = write_csv(tmp_path / "m.csv", [["header", "item"], ["Timestamp", "trust_2"]])
    assert problems(path, mapping_path=mapping) == [
        'm.csv header: "timestamp" gives the day a response was completed: it is read as that, so it cannot '
        "be mapped"
    ]
