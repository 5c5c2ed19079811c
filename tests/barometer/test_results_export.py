"""Exports of a round's results (CSV and XLSX): the suppressed figures only, hidden cells in words; a
property check that no exported figure describes fewer than k respondents; the routes per persona."""

from __future__ import annotations

import csv
import io
from datetime import date

import numpy as np
import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from reticulist.barometer import results, scoring
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import parse_instrument
from reticulist.barometer.results_export import CONSTRUCT_COLUMNS, export_tables, hidden, to_csv, to_xlsx
from tests.barometer.barometer_fixtures import small_instrument_json
from tests.barometer.test_results_pages import REALISTIC, make_round
from tests.conftest import Browser, World

INSTRUMENT = parse_instrument(small_instrument_json())
LABELS = ["=Police", "Health", "Schools", "Voluntary"]  # the first would run as a formula if not escaped


def _report(answers: np.ndarray, codes: np.ndarray, threshold: int) -> results.RoundReport:
    """A RoundReport made the way results.round_report makes one, from arrays instead of storage."""
    round_answers = barometer.RoundAnswers(
        round_id=1,
        instrument=INSTRUMENT,
        item_keys=tuple(i.key for i in INSTRUMENT.items),
        answers=answers,
        groups={"organisation": barometer.GroupCodes(codes, tuple(range(len(LABELS))), tuple(LABELS))},
        anonymity_threshold=threshold,
    )
    scored = results._score(round_answers)
    lines = [results.ConstructLine(c, scored.construct(c.key), None) for c in INSTRUMENT.constructs]
    return results.RoundReport(
        partnership_id=1,
        round_id=1,
        round_title="Spring",
        opens_on=date(2026, 3, 1),
        closes_on=date(2026, 3, 29),
        instrument=INSTRUMENT,
        threshold=threshold,
        respondents=scored.respondents,
        invited=None,
        lines=tuple(lines),
        breakdowns=scored.breakdowns,
        previous_round_title=None,
        recommendations=tuple(results.weakest(lines)),
    )


def _has_score(answers: np.ndarray, construct: int) -> np.ndarray:
    """The truth the exports must protect: who has a score on a construct (half its items or more)."""
    columns = [
        j
        for j, item in enumerate(INSTRUMENT.items)
        if item.construct_key == INSTRUMENT.constructs[construct].key
    ]
    substantive = (answers[:, columns] >= 1).sum(axis=1)
    return 2 * substantive >= len(columns)


@st.composite
def rounds(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    threshold = draw(st.integers(3, 6))
    sizes = draw(st.lists(st.integers(0, 14), min_size=len(LABELS) + 1, max_size=len(LABELS) + 1))
    codes = np.array(
        [code for code, size in zip([*range(len(LABELS)), -1], sizes, strict=True) for _ in range(size)]
    )
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Answers from -1 (not answered) to 5, with many gaps so cell n often differs from the group size.
    answers = rng.choice(np.arange(-1, 6, dtype=np.int8), size=(len(codes), len(INSTRUMENT.items)))
    return answers.astype(np.int8), codes.astype(np.int64), threshold


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_no_exported_figure_describes_fewer_than_k(data: tuple[np.ndarray, np.ndarray, int]) -> None:
    answers, codes, k = data
    report = _report(answers, codes, k)
    tables = {t.sheet: t for t in export_tables(report)}
    if len(codes) < k:
        assert list(tables) == ["Round"]  # too few: the count and nothing else
        return
    table = tables["By organisation"]
    labels = [*LABELS, scoring.NOT_TOLD_LABEL]
    for column, _ in enumerate(INSTRUMENT.constructs):
        scored = _has_score(answers, column)
        hidden_pool = 0
        for row in table.rows:
            code = labels.index(row[1]) if row[1] in labels else -1
            members = codes == (code if code < len(LABELS) else -1)
            respondents, value = row[2], row[3 + column]
            true_n = int((members & scored).sum())
            if isinstance(respondents, int):
                assert respondents >= k and respondents == int(members.sum())
            else:
                assert respondents in (hidden("protected", k), hidden("protected", k))
            if isinstance(value, float):
                assert true_n >= k, (row[1], column, true_n)
            else:
                assert value in (hidden("protected", k), hidden("protected", k)), value
                hidden_pool += true_n
        # Complementary suppression: where the construct's n is published, the hidden cells together
        # (worked out by subtraction) are nobody or at least k people.
        if not report.lines[column].result.suppressed:
            assert hidden_pool == 0 or hidden_pool >= k
    for row in tables["Constructs"].rows:
        n = row[CONSTRUCT_COLUMNS.index("n")]
        assert (isinstance(n, int) and n >= k) or n == hidden("fewer than k", k)
        if not isinstance(n, int):
            assert row[CONSTRUCT_COLUMNS.index("mean")] == hidden("fewer than k", k)
    # No suppressed figure is ever written as a number, a zero or a blank.
    for t in tables.values():
        for row in t.rows:
            assert all(v is not None and v != "" for v in row)


def test_csv_and_xlsx_write_the_same_tables_and_escape_formulas() -> None:
    rng = np.random.default_rng(3)
    codes = np.array([0] * 8 + [1] * 7 + [2] * 2 + [-1] * 6)
    answers = rng.integers(1, 6, size=(len(codes), len(INSTRUMENT.items))).astype(np.int8)
    tables = export_tables(_report(answers, codes, 5))
    assert [t.sheet for t in tables] == ["Round", "Constructs", "By organisation"]

    lines = list(csv.reader(io.StringIO(to_csv(tables).decode("utf-8-sig"))))
    assert lines[0] == ["Round"] and ["Constructs"] in lines and ["Breakdown by organisation"] in lines
    assert lines[lines.index(["Constructs"]) + 1] == CONSTRUCT_COLUMNS
    by_group = {line[1]: line for line in lines if line and line[0] == "Organisation"}
    assert by_group["'=Police"][2] == "8"  # text that looks like a formula stays text
    # Every hidden group says the same words, whether small, empty or hidden to protect a small one.
    assert by_group["Schools"][2:] == ["hidden (protects small groups)"] * 3
    assert by_group["Voluntary"][2] == "hidden (protects small groups)"  # nobody answered: same words
    assert by_group["Not told"][2] == "hidden (protects small groups)"  # protects Schools' 2

    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(tables)))
    assert book.sheetnames == ["Round", "Constructs", "By organisation"]
    sheet = book["By organisation"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:3]) == ["dimension", "group", "respondents"]
    police = next(r for r in rows if r[1] == "=Police")
    assert police[2] == 8 and isinstance(police[3], float)
    assert next(c for c in sheet["B"] if c.value == "=Police").data_type == "s"  # not a formula
    schools = next(r for r in rows if r[1] == "Schools")
    assert schools[2:] == ("hidden (protects small groups)",) * 3


def test_downloads_for_each_persona(db: Session, world: World, browsers: dict[str, Browser]) -> None:
    round_id = make_round(db, world, groups=REALISTIC)
    base = f"/p/{world.partnership_id}/barometer/rounds/{round_id}/results"
    for persona in ("manager", "member"):
        response = browsers[persona].get(f"{base}.csv")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert f'filename="barometer-round-{round_id}-results.csv"' in response.headers["content-disposition"]
        text = response.content.decode("utf-8-sig")
        assert "Brempton Youth Justice,hidden (protects small groups)" in text
        assert "Organisation,Brempton Police,17," in text
        book = browsers[persona].get(f"{base}.xlsx")
        assert book.status_code == 200
        sheets = openpyxl.load_workbook(io.BytesIO(book.content))
        assert sheets.sheetnames == [
            "Round",
            "Constructs",
            "By organisation",
            "By profession",
            "By hierarchy tier",
            "By Working Together tier",
        ]
        youth = next(
            r
            for r in sheets["By organisation"].iter_rows(values_only=True)
            if r[1] == "Brempton Youth Justice"
        )
        assert set(youth[2:]) == {"hidden (protects small groups)"}
        # Every breakdown: a shown group has at least 5 respondents.
        for name in sheets.sheetnames[2:]:
            for row in list(sheets[name].iter_rows(values_only=True))[1:]:
                assert (isinstance(row[2], int) and row[2] >= 5) or str(row[2]).startswith("hidden ("), (
                    name,
                    row,
                )
    for suffix in (".csv", ".xlsx"):
        assert browsers["outsider"].get(f"{base}{suffix}").status_code == 404
        anonymous = browsers["anonymous"].get(f"{base}{suffix}")
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_too_few_respondents_export_only_the_count(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    round_id = make_round(db, world, groups=[("Brempton Police", 3)])
    base = f"/p/{world.partnership_id}/barometer/rounds/{round_id}/results"
    lines = list(csv.reader(io.StringIO(browsers["member"].get(f"{base}.csv").content.decode("utf-8-sig"))))
    assert ["respondents", "3"] in lines
    assert ["Constructs"] not in lines and not any("Brempton Police" in ",".join(line) for line in lines)
    book = openpyxl.load_workbook(io.BytesIO(browsers["member"].get(f"{base}.xlsx").content))
    assert book.sheetnames == ["Round"]
