"""A round's results as tables for export: the round, its constructs, and one table per breakdown.

Pure: takes the already suppressed ``RoundReport`` and returns plain rows; ``to_csv`` and ``to_xlsx``
only write them. A hidden figure is written as words ("hidden (fewer than 5)",
"hidden (protects small groups)"), never as 0 or a blank that could be read as one; a figure that is
shown but could not be computed says "not available".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reticulist import tabular
from reticulist.barometer import scoring
from reticulist.barometer.results import DIMENSION_LABELS, FRAMEWORK_LABELS, RoundReport

NOT_AVAILABLE = "not available"
CONSTRUCT_COLUMNS = [
    "key",
    "name",
    "framework",
    "source",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "dont_know_share",
    "alpha",
    "alpha_flag",
    "lean",
    "reading",
    "trend",
]
DECIMALS = 3


@dataclass(frozen=True)
class ExportTable:
    """One sheet of the workbook, one section of the CSV file."""

    sheet: str  # at most 31 characters (Excel's limit)
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def hidden(reason: str | None, threshold: int) -> str:
    """The words written in place of a suppressed figure."""
    return scoring.hidden_words(reason, threshold)


def dimension_words(dimension: str) -> str:
    """A dimension's name inside a sentence: "organisation", but "Working Together tier" (a title)."""
    label = DIMENSION_LABELS.get(dimension, dimension)
    return label if label.startswith("Working Together") else label.lower()


def _number(value: float | None) -> float | str:
    return NOT_AVAILABLE if value is None else round(value, DECIMALS)


def _round_table(report: RoundReport) -> ExportTable:
    rows: list[list[Any]] = [
        ["round", report.round_title],
        ["instrument", f"{report.instrument.title} (version {report.instrument.version})"],
        ["opens_on", report.opens_on.isoformat()],
        ["closes_on", report.closes_on.isoformat()],
        ["anonymity_threshold", report.threshold],
        ["respondents", report.respondents],
        ["invited_personally", report.invited if report.invited is not None else "no personal invitations"],
        ["previous_round", report.previous_round_title or "none"],
    ]
    if report.too_few:
        rows.append(
            [
                "note",
                f"Fewer than {report.threshold} people answered, so no results are shown: any figure would "
                "describe too few people to keep their answers anonymous.",
            ]
        )
    else:
        rows.append(["note", f"No figure in this file describes fewer than {report.threshold} people."])
    return ExportTable("Round", "Round", ["field", "value"], rows)


def _constructs_table(report: RoundReport) -> ExportTable:
    k = report.threshold
    rows = []
    for line in report.lines:
        c, r = line.construct, line.result
        gone = hidden(r.reason, k)
        if line.trend is not None:
            trend = line.trend.reading
        elif report.previous_round_title is None:
            trend = "no previous round"
        else:
            trend = "not in the previous round"
        if r.suppressed:
            figures: list[Any] = [gone] * 4
            share = gone if r.dont_know_share is None else round(r.dont_know_share, DECIMALS)
            alpha_part: list[Any] = [gone, gone, gone]
        else:
            figures = [_number(r.mean), _number(r.ci_low), _number(r.ci_high), r.n]
            share = _number(r.dont_know_share)
            flag = NOT_AVAILABLE if r.alpha is None else ("yes" if r.alpha_flag else "no")
            alpha_part = [_number(r.alpha), flag, r.lean or NOT_AVAILABLE]
        rows.append(
            [
                c.key,
                c.name,
                FRAMEWORK_LABELS.get(c.framework, c.framework),
                f"{c.source.document}, {c.source.section}",
                *figures,
                share,
                *alpha_part,
                line.reading,
                trend,
            ]
        )
    return ExportTable("Constructs", "Constructs", list(CONSTRUCT_COLUMNS), rows)


def _breakdown_table(report: RoundReport, dimension: str, breakdown: scoring.Breakdown) -> ExportTable:
    k = report.threshold
    names = {line.key: line.construct.name for line in report.lines}
    label = DIMENSION_LABELS.get(dimension, dimension)
    rows = []
    for group in breakdown.groups:
        respondents: Any = hidden(group.reason, k) if group.suppressed else group.respondents
        cells = [
            hidden(cell.reason, k) if cell.suppressed or cell.mean is None else round(cell.mean, DECIMALS)
            for cell in group.cells
        ]
        rows.append([label, group.label, respondents, *cells])
    columns = [
        "dimension",
        "group",
        "respondents",
        *(names.get(key, key) for key in breakdown.construct_keys),
    ]
    words = dimension_words(dimension)
    return ExportTable(f"By {words}"[:31], f"Breakdown by {words}", columns, rows)


def export_tables(report: RoundReport) -> list[ExportTable]:
    """The round, then (unless too few answered) the constructs and each breakdown."""
    tables = [_round_table(report)]
    if report.too_few:
        return tables
    tables.append(_constructs_table(report))
    for dimension in DIMENSION_LABELS:
        if dimension in report.breakdowns:
            tables.append(_breakdown_table(report, dimension, report.breakdowns[dimension]))
    return tables


def to_csv(tables: list[ExportTable]) -> bytes:
    """One CSV file: each table under a title row, tables separated by a blank row. UTF-8 with a byte
    order mark, so that Excel reads the accents; every cell neutralised (``tabular``)."""
    rows: list[list[Any]] = []
    for number, table in enumerate(tables):
        if number:
            rows.append([])
        rows.append([table.title])
        rows.append(table.columns)
        rows.extend(table.rows)
    return tabular.csv_bytes(rows)


def to_xlsx(tables: list[ExportTable]) -> bytes:
    """One workbook, a sheet per table, header row in bold and frozen."""
    return tabular.xlsx_bytes(tabular.Sheet(t.sheet, t.rows, header=t.columns) for t in tables)
