"""`reticulist barometer import` end to end on SQLite and PostgreSQL: realistic exports from Microsoft
Forms, Google Forms and a generic spreadsheet, a mapping file, identity never stored, and every bad
path refused with its row and field and nothing written."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.access.policy import NotAllowed, NotFound, cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.barometer import importers
from reticulist.barometer.models import BarometerResponse
from reticulist.cli.barometer_commands import PROGRESS_FROM_ROWS, LazyBar
from reticulist.cli.main import app
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.barometer.barometer_fixtures import (
    open_test_round,
    small_builtin,  # noqa: F401  (autouse: the small instrument is the built-in one)
    small_instrument,  # noqa: F401
)
from tests.conftest import World

runner = CliRunner()
PARTNERSHIP = "Brempton Test Partnership"
TEXT = {f"{c}_{n}": f"Statement {n} about {c}." for c in ("trust", "momentum") for n in (1, 2, 3)}
MS_IDENTITY = ["ID", "Start time", "Completion time", "Email", "Name", "Last modified time"]


def cli(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def barometer_import(database_url: str, round_ref: Any, path: Path, *extra: str) -> tuple[int, str, str]:
    return cli("barometer", "import", str(round_ref), str(path), *extra, "--database", database_url)


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def microsoft_forms_xlsx(path: Path, answers: list[list[Any]], days: list[date] | None = None) -> Path:
    """Microsoft Forms' Excel export: ID, Start time, Completion time, Email, Name, Last modified time,
    then a column per question headed by its text, here three statements and the organisation. Each
    response was completed on its day of ``days`` (default today), at 9:20:12."""
    header = [*MS_IDENTITY, TEXT["trust_1"], TEXT["trust_2"], TEXT["momentum_1"], "Organisation"]
    rows: list[list[Any]] = [header]
    for n, values in enumerate(answers, start=1):
        started = datetime.combine(days[n - 1] if days else date.today(), time(9, 5, 12))
        rows.append(
            [
                n,
                started,
                started.replace(minute=20),
                f"responder{n}@agency.example",
                f"Responder {n}",
                started,
                *values,
            ]
        )
    return write_xlsx(path, rows)


MS_ANSWERS = [
    ["Strongly agree", "Agree", "Don't know", "Brempton Police"],
    ["Disagree", "Neither agree nor disagree", "Strongly disagree", ""],
    ["Agree", "", "Neutral", "brempton police"],
]


def responses(db: Session) -> list[BarometerResponse]:
    """Stored responses in no meaningful order: ids are random, so that they do not give away the order
    in which responses arrived. Tests compare them as unordered collections (see ``unordered``)."""
    db.expire_all()
    return list(db.scalars(select(BarometerResponse)))


def unordered(rows: Any) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True, default=str) for row in rows)


def stored_text(db: Session) -> str:
    """Every stored response, every column, as text: what an identity leak would show up in."""
    rows = db.execute(text("SELECT * FROM barometer_response")).all()
    return repr([tuple(r) for r in rows])


def imported_events(db: Session) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.event == "imported")))


# --- good files --------------------------------------------------------------------------------------
def test_microsoft_forms_export_by_round_number(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    today = date.today()
    round_id = open_test_round(db, world, opens_on=today - timedelta(days=10))
    days = [today - timedelta(days=9), today - timedelta(days=2), today]
    path = microsoft_forms_xlsx(tmp_path / "Partnership Barometer(1-3).xlsx", MS_ANSWERS, days)
    code, out, err = barometer_import(database_url, round_id, path)
    assert (code, err) == (0, ""), err
    assert out.splitlines() == [
        "Read Partnership Barometer(1-3).xlsx as a Microsoft Forms export (found from its header).",
        "Ignored identity columns: ID, Start time, Email, Name, Last modified time (never read, never "
        "stored).",
        'Completion days from column C "Completion time" (the day only).',
        f'Imported 3 responses into round {round_id} "Spring 2026".',
    ]
    stored = responses(db)
    assert unordered(
        (r.round_id, r.source, r.answers, r.organisation_id, r.wt_tier, r.submitted_on) for r in stored
    ) == unordered(
        [
            (
                round_id,
                "import",
                {"trust_1": 5, "trust_2": 4, "momentum_1": 0},
                world.organisation_id,
                "statutory",
                days[0],
            ),
            (round_id, "import", {"trust_1": 2, "trust_2": 3, "momentum_1": 1}, None, None, days[1]),
            (
                round_id,
                "import",
                {"trust_1": 4, "momentum_1": 3},
                world.organisation_id,
                "statutory",
                days[2],
            ),
        ]
    )
    # Each response keeps the day it was completed, and only the day: who answered, when they started and
    # the time they finished are nowhere in what was stored.
    leaked = stored_text(db)
    assert "agency.example" not in leaked and "Responder" not in leaked
    assert "9:05" not in leaked and "09:05" not in leaked and "9:20" not in leaked and "09:20" not in leaked
    [event] = imported_events(db)
    assert event.summary == "3 barometer responses imported into round Spring 2026"
    assert (event.via, event.actor_label) == ("import", "import of Partnership Barometer(1-3).xlsx")


def test_google_forms_export_by_partnership_and_round_title(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    yesterday = date.today() - timedelta(days=1)
    open_test_round(db, world, title="Autumn / pilot")
    round_id = open_test_round(db, world)
    stamp = yesterday.strftime("%Y/%m/%d")  # Google Forms' own download: year first
    path = write_csv(
        tmp_path / "Partnership Barometer (Responses) - Form responses 1.csv",
        [
            ["Timestamp", "Email Address", TEXT["trust_1"], f"How far do you agree? [{TEXT['momentum_2']}]"],
            [f"{stamp} 10:15:32 am GMT", "a.person@agency.example", "5", "Tend to disagree"],
            [f"{stamp} 11:02:10 am GMT", "b.person@agency.example", "0", "DK"],
        ],
    )
    code, out, err = barometer_import(database_url, f"{PARTNERSHIP.upper()}/ spring 2026", path)
    assert (code, err) == (0, ""), err
    assert "as a Google Forms export" in out
    assert "Ignored identity columns: Email Address (never read, never stored)." in out
    assert 'Completion days from column A "Timestamp" (the day only).' in out
    assert unordered(r.answers for r in responses(db)) == unordered(
        [{"trust_1": 5, "momentum_2": 2}, {"trust_1": 0, "momentum_2": 0}]
    )
    assert [(r.round_id, r.submitted_on) for r in responses(db)] == [(round_id, yesterday)] * 2
    assert "agency.example" not in stored_text(db) and "10:15" not in stored_text(db)
    # A title holding "/" is found too.
    code, out, err = barometer_import(database_url, f"{PARTNERSHIP}/Autumn / pilot", path)
    assert code == 0, err
    assert 'into round 1 "Autumn / pilot"' in out


def test_generic_file_with_profile_columns(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    round_id = open_test_round(db, world)
    path = write_csv(
        tmp_path / "generic.csv",
        [
            ["trust_1", "trust_2", "trust_3", "organisation", "profession", "hierarchy_tier", "wt_tier"],
            ["1", "2", "3", "Brempton Police", "Police officer", "5", ""],
            ["4", "5", "0", "", "", "", "involved"],
            ["", "", "", "Brempton Police", "", "", ""],
        ],
    )
    code, out, err = barometer_import(database_url, round_id, path, "--format", "generic")
    assert (code, err) == (0, ""), err
    assert out.splitlines() == [
        "Read generic.csv as a generic responses file (as asked).",
        "Not imported (no answer at all): rows 4.",
        f'Imported 2 responses into round {round_id} "Spring 2026".',
    ]
    # The one who named their organisation first.
    first, second = sorted(responses(db), key=lambda r: r.organisation_id is None)
    assert (first.organisation_id, first.profession_id, first.hierarchy_tier, first.wt_tier) == (
        world.organisation_id,
        world.profession_id,
        5,
        "statutory",
    )
    assert (second.organisation_id, second.wt_tier, second.answers) == (
        None,
        "involved",
        {"trust_1": 4, "trust_2": 5, "trust_3": 0},
    )


def test_mapping_file_and_ignored_columns(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    round_id = open_test_round(db, world)
    path = microsoft_forms_xlsx(tmp_path / "responses.xlsx", [["Agree", "Agree", "Agree", "Brempton Police"]])
    # Reworded questions and an extra comments column, as forms often end up.
    import openpyxl

    workbook = openpyxl.load_workbook(path)
    sheet = workbook.active
    sheet["G1"] = "Colleagues in other agencies can be trusted"
    sheet["J1"] = "Which organisation do you work for?"
    sheet["K1"] = "Anything else?"
    sheet["K2"] = "Meetings run late"
    workbook.save(path)
    mapping = write_csv(
        tmp_path / "mapping.csv",
        [
            ["header", "item"],
            ["Colleagues in other agencies can be trusted", "trust_1"],
            ["Which organisation do you work for?", "organisation"],
            ["Anything else?", "ignore"],
        ],
    )
    code, out, err = barometer_import(database_url, round_id, path, "--mapping", str(mapping))
    assert (code, err) == (0, ""), err
    assert "Ignored columns: Anything else?." in out
    [stored] = responses(db)
    assert stored.answers == {"trust_1": 4, "trust_2": 4, "momentum_1": 4}
    assert stored.organisation_id == world.organisation_id
    assert "Meetings run late" not in stored_text(db)


def test_unmapped_columns_left_out_on_request(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    round_id = open_test_round(db, world)
    path = write_csv(tmp_path / "r.csv", [["trust_1", "Free text"], ["Agree", "private words"]])
    code, out, _ = barometer_import(database_url, round_id, path)
    assert code == 1 and out == ""
    code, out, err = barometer_import(database_url, round_id, path, "--ignore-unmapped")
    assert (code, err) == (0, ""), err
    assert "Ignored columns: Free text." in out
    assert "private words" not in stored_text(db)


def test_a_closed_round_still_takes_responses_gathered_while_it_was_open(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    today = date.today()
    round_id = open_test_round(
        db, world, opens_on=today - timedelta(days=60), closes_on=today - timedelta(days=30)
    )
    path = write_csv(tmp_path / "late.csv", [["trust_1"], ["Agree"]])
    code, out, err = barometer_import(database_url, round_id, path)
    assert (code, err) == (0, ""), err
    assert out.endswith(f'Imported 1 responses into round {round_id} "Spring 2026".\n')
    # The file gives no day: the response is dated the round's closing day, not the day of the import.
    assert [r.submitted_on for r in responses(db)] == [today - timedelta(days=30)]


def test_a_response_without_a_day_is_never_dated_after_its_round(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    from reticulist.barometer import service as barometer

    today = date.today()
    path = write_csv(tmp_path / "r.csv", [["trust_1", "completed_on"], ["Agree", ""]])
    # Still open: closing day to come, so today (the answers were given by the day of the import).
    open_round = open_test_round(db, world, closes_on=today + timedelta(days=30))
    assert barometer_import(database_url, open_round, path)[0] == 0
    # Closed early: its last day is the day it was closed, here today.
    early = open_test_round(db, world, title="Early", closes_on=today + timedelta(days=30))
    barometer.close_round(db, actor=world.manager, round_id=early)
    db.commit()
    assert barometer_import(database_url, early, path)[0] == 0
    assert sorted((r.round_id, r.submitted_on) for r in responses(db)) == [
        (open_round, today),
        (early, today),
    ]
    # A day after the early close is outside the round, although before its planned closing day.
    tomorrow = write_csv(
        tmp_path / "t.csv", [["trust_1", "completed_on"], ["Agree", today + timedelta(days=1)]]
    )
    code, _, err = barometer_import(database_url, early, tomorrow)
    assert code == 1 and 'row 2, column B "completed_on"' in err and "outside the round's dates" in err


def test_a_day_outside_the_round_is_refused_by_row_and_column(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    today = date.today()
    round_id = open_test_round(db, world, opens_on=today - timedelta(days=5))
    too_early = today - timedelta(days=6)
    path = microsoft_forms_xlsx(
        tmp_path / "responses.xlsx",
        [["Agree", "Agree", "Agree", ""], ["Agree", "Agree", "Agree", ""]],
        [today, too_early],
    )
    opened = today - timedelta(days=5)
    assert_refused(
        database_url,
        db,
        round_id,
        path,
        [
            f'error: responses.xlsx row 3, column C "Completion time": {importers.day_words(too_early)} is '
            f"outside the round's dates ({importers.day_words(opened)} to "
            f"{importers.day_words(today + timedelta(days=30))}): import it into the round it was answered in"
        ],
    )


def test_the_service_checks_each_rows_day_too(db: Session, world: World) -> None:
    from reticulist.barometer import service as barometer

    today = date.today()
    round_id = open_test_round(db, world, opens_on=today - timedelta(days=5))
    with pytest.raises(InputError) as caught:
        barometer.record_imported_responses(
            db,
            actor=world.manager,
            round_id=round_id,
            rows=[({}, {"trust_1": 4}), ({}, {"trust_1": 4})],
            completed_on=[today, today - timedelta(days=9)],
            source_name="r.csv",
        )
    assert [str(p) for p in caught.value.problems] == [
        f"r.csv row 3, completed_on: {(today - timedelta(days=9)).isoformat()} is outside the round's dates "
        f"({(today - timedelta(days=5)).isoformat()} to {(today + timedelta(days=30)).isoformat()})"
    ]
    db.rollback()
    assert responses(db) == []
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=round_id, rows=[({}, {"trust_1": 4})], completed_on=[today]
    )
    db.commit()
    assert [r.submitted_on for r in responses(db)] == [today]


def test_a_big_file_imports_with_progress_and_without_a_terminal(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    round_id = open_test_round(db, world)
    words = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree", "Don't know"]
    rows = [[words[n % 6], str(n % 6), words[(n + 2) % 6]] for n in range(1200)]
    path = write_csv(tmp_path / "big.csv", [["trust_1", "trust_2", "momentum_3"], *rows])
    code, out, err = barometer_import(database_url, round_id, path)
    assert (code, err) == (0, ""), err
    assert out.endswith(f'Imported 1200 responses into round {round_id} "Spring 2026".\n')
    stored = responses(db)
    assert len(stored) == 1200
    assert {"trust_1": 2, "trust_2": 1, "momentum_3": 4} in [r.answers for r in stored]


# --- bad paths: named by row and field, nothing written -----------------------------------------------
def assert_refused(
    database_url: str, db: Session, round_ref: Any, path: Path, expected: list[str], *extra: str
) -> None:
    code, out, err = barometer_import(database_url, round_ref, path, *extra)
    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[-1] == f"Nothing was imported from {path.name}.", err
    for line in expected:
        assert line in lines, err
    assert responses(db) == [] and imported_events(db) == []


def test_answers_off_the_scale_and_an_unknown_organisation(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    round_id = open_test_round(db, world)
    path = microsoft_forms_xlsx(
        tmp_path / "responses.xlsx",
        [
            ["Agree", "Agree", "Agree", "Brempton Police"],
            ["Agree", "Agree", "Agree", ""],
            ["Sometimes", 6, "Agree", "Brempton [b]Fire[/b]"],
        ],
    )
    assert_refused(
        database_url,
        db,
        round_id,
        path,
        [
            f'error: responses.xlsx row 4, column G "{TEXT["trust_1"]}": "Sometimes" is not an agreement '
            'answer (give "Strongly disagree" ... "Strongly agree", "Don\'t know", or 1-5 with 0 for don\'t '
            "know)",
            f'error: responses.xlsx row 4, column H "{TEXT["trust_2"]}": 6 is not on the scale: give 1-5, or '
            "0 for don't know",
            # Markup-like text in a file is shown as written, never interpreted.
            'error: responses.xlsx row 4, column J "Organisation": no organisation "Brempton [b]Fire[/b]" in '
            "this partnership's register",
            "Nothing was imported from responses.xlsx.",
        ],
    )


def test_a_question_matching_no_item_without_a_mapping(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    round_id = open_test_round(db, world)
    path = write_csv(
        tmp_path / "responses.csv",
        [["Timestamp", "Do you trust partners?", TEXT["trust_2"]], [date.today(), "Agree", "Agree"]],
    )
    assert_refused(
        database_url,
        db,
        round_id,
        path,
        [
            'error: responses.csv column B "Do you trust partners?": matches no item of Test Barometer '
            "(version 1.0) (by key or exact text) and no profile field; map it in a mapping file, or ignore "
            "unmapped columns"
        ],
    )


def test_a_mapping_file_pointing_at_an_unknown_item(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    round_id = open_test_round(db, world)
    path = write_csv(tmp_path / "responses.csv", [["Do you trust partners?"], ["Agree"]])
    mapping = write_csv(tmp_path / "mapping.csv", [["header", "item"], ["Do you trust partners?", "trust_9"]])
    assert_refused(
        database_url,
        db,
        round_id,
        path,
        [
            'error: mapping.csv row 2, column B "item": "trust_9" is not an item of Test Barometer (version '
            '1.0) nor a profile field (organisation, profession, hierarchy_tier, wt_tier) nor "ignore"'
        ],
        "--mapping",
        str(mapping),
    )


@pytest.mark.parametrize(
    ("rows", "encoding", "expected"),
    [
        ([], "utf-8", "error: responses.csv file: is empty: there is no header row"),
        ([["trust_1", "trust_2"]], "utf-8", "error: responses.csv file: has a header row but no responses"),
        (
            [["trust_1", "organisation"], ["Agree", "Brempton Santé"]],
            "cp1252",
            "error: responses.csv encoding: is not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8: in "
            'Excel use File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)"; in LibreOffice use Save As, '
            'tick "Edit filter settings" and choose "Unicode (UTF-8)"',
        ),
        (
            [["trust_1", "Trust_1"], ["Agree", "Agree"]],
            "utf-8",
            'error: responses.csv columns: the header "Trust_1" appears twice (columns A and B); each '
            "question must have its own column",
        ),
    ],
    ids=["empty", "header-only", "wrong-encoding", "duplicate-header"],
)
def test_file_problems(
    database_url: str,
    world: World,
    db: Session,
    tmp_path: Path,
    rows: list[list[Any]],
    encoding: str,
    expected: str,
) -> None:
    round_id = open_test_round(db, world)
    path = write_csv(tmp_path / "responses.csv", rows, encoding)
    assert_refused(database_url, db, round_id, path, [expected])


def test_a_round_that_has_not_opened_yet(
    database_url: str, world: World, db: Session, tmp_path: Path
) -> None:
    opens = date.today() + timedelta(days=7)
    round_id = open_test_round(db, world, opens_on=opens, closes_on=opens + timedelta(days=30))
    path = write_csv(tmp_path / "early.csv", [["trust_1"], ["Agree"]])
    assert_refused(
        database_url,
        db,
        round_id,
        path,
        [
            f'error: round: "Spring 2026" has not opened yet (it opens on {opens.isoformat()}); responses '
            "can be imported into a round once it has opened, and after it has closed"
        ],
    )


def test_unknown_rounds(database_url: str, world: World, db: Session, tmp_path: Path) -> None:
    open_test_round(db, world)
    open_test_round(db, world)
    path = write_csv(tmp_path / "r.csv", [["trust_1"], ["Agree"]])
    for ref, message in [
        ("99", 'error: round: no round number 99 (give its number or "PARTNERSHIP/ROUND TITLE")'),
        (
            f"{PARTNERSHIP}/Winter",
            f'error: round: no round "{PARTNERSHIP}/Winter" (give its number or "PARTNERSHIP/ROUND TITLE")',
        ),
        (
            "Spring 2026",
            'error: round: "Spring 2026" is neither a round number nor "PARTNERSHIP/ROUND TITLE"',
        ),
        (
            f"{PARTNERSHIP}/Spring 2026",
            f'error: round: "{PARTNERSHIP}/Spring 2026" names 2 rounds (numbers 1, 2); give the round number',
        ),
    ]:
        code, out, err = barometer_import(database_url, ref, path)
        assert (code, out, err.strip()) == (1, "", message)
    assert responses(db) == []


# --- the service behind the command: who may import ---------------------------------------------------
def test_only_those_who_run_the_barometer_may_import(db: Session, world: World, tmp_path: Path) -> None:
    round_id = open_test_round(db, world)
    path = write_csv(tmp_path / "r.csv", [["trust_1"], ["Agree"]])
    with pytest.raises(NotAllowed):
        importers.import_responses(db, actor=world.member, round_id=round_id, path=path)
    with pytest.raises(NotFound):
        importers.import_responses(db, actor=world.outsider, round_id=round_id, path=path)
    assert responses(db) == []
    result = importers.import_responses(db, actor=world.manager, round_id=round_id, path=path)
    assert result.count == 1 and len(responses(db)) == 1


def test_organisations_of_another_partnership_are_unknown(db: Session, world: World, tmp_path: Path) -> None:
    round_id = open_test_round(db, world)
    register.create_organisation(
        db,
        actor=cli_actor("test"),
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    db.commit()
    path = write_csv(tmp_path / "r.csv", [["trust_1", "organisation"], ["Agree", "Elsewhere Police"]])
    with pytest.raises(InputError) as caught:
        importers.import_responses(db, actor=world.manager, round_id=round_id, path=path)
    assert [str(p) for p in caught.value.problems] == [
        'r.csv row 2, column B "organisation": no organisation "Elsewhere Police" in this partnership\'s '
        "register"
    ]
    assert responses(db) == []


def test_the_progress_bar_is_drawn_for_big_files_on_a_terminal() -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=80)
    with LazyBar("Checking r.csv", terminal) as bar:
        for done in range(1, PROGRESS_FROM_ROWS + 1):
            bar(done, PROGRESS_FROM_ROWS)
    assert screen.getvalue() == ""  # small enough: no bar
    with LazyBar("Checking big.csv", terminal) as bar:
        for done in range(1, 1001):
            bar(done, 1000)
    assert "Checking big.csv" in screen.getvalue() and "1000/1000" in screen.getvalue()
    not_terminal = io.StringIO()
    with LazyBar("Checking big.csv", Console(file=not_terminal, force_terminal=False)) as bar:
        bar(1, 1000)
    assert not_terminal.getvalue() == ""


def test_service_names_each_rows_own_number_when_rows_were_left_out(db: Session, world: World) -> None:
    from reticulist.barometer import service as barometer

    round_id = open_test_round(db, world)
    with pytest.raises(InputError) as caught:
        barometer.record_imported_responses(
            db,
            actor=world.manager,
            round_id=round_id,
            rows=[({}, {"trust_1": 4}), ({"profession_id": 99999}, {"trust_1": 4})],
            row_numbers=[4, 9],
            source_name="r.csv",
        )
    assert [str(p) for p in caught.value.problems] == [
        "r.csv row 9, profession_id: is not a profession of this partnership"
    ]
    db.rollback()
    assert responses(db) == []
