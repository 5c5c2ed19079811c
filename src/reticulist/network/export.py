"""Per-person network figures as CSV or Excel (the pages' downloads and `reticulist network figures`).

The rows come from ``analysis.people_table``, which already follows the name rule: a name (and register
id) only for those who may see names, otherwise "Organisation · Profession #k". Text cells that would
start a formula in a spreadsheet are kept as text.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from reticulist.network.analysis import SOURCE_LABELS, NetworkView, PeopleTable

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_safe(value: Any) -> Any:
    # A text cell starting like a formula would run in a spreadsheet (CSV injection); "'" keeps it text.
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def about(view: NetworkView) -> list[tuple[str, str]]:
    """What the figures describe, in words: the sources and weights, the dates, who is named."""
    choice = view.choice
    return [
        ("Sources", "; ".join(f"{SOURCE_LABELS.get(n, n)} x {w:g}" for n, w in choice.sources.items())),
        ("From", choice.since.isoformat() if choice.since else "the beginning"),
        ("Up to", choice.as_of.isoformat()),
        ("Minimum tie strength", f"{choice.min_weight:g}"),
        ("People", "by name" if view.names_shown else "by labels: no names, no group smaller than 5"),
        ("Betweenness", "estimated from sampled people" if view.approximate else "exact"),
    ]


def to_csv(table: PeopleTable) -> bytes:
    """One header row and a row per person. UTF-8 with a byte order mark, so that Excel reads accents."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows([_text_safe(v) for v in row] for row in table.rows)
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(table: PeopleTable, notes: list[tuple[str, str]] | None = None) -> bytes:
    """A workbook: the people (header in bold and frozen) and, when given, what the figures describe."""
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "People"
    sheet.append(table.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in table.rows:
        sheet.append(row)
    if notes:
        sheet = workbook.create_sheet("About")
        for label, value in notes:
            sheet.append([label, value])
    for page in workbook.worksheets:
        for line in page.iter_rows():
            for cell in line:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, never a formula
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_file(path: Path, view: NetworkView, table: PeopleTable) -> int:
    """Write ``table`` to ``path`` (.csv or .xlsx, by its suffix); returns the number of people."""
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(to_xlsx(table, about(view)))
    else:
        path.write_bytes(to_csv(table))
    return len(table.rows)
