"""Per-person network figures as CSV or Excel (the pages' downloads and `reticulist network figures`).

The rows come from ``analysis.people_table``, which already follows the name rule: a name (and register
id) only for those who may see names, otherwise "Organisation · Profession #k". Text cells that would
start a formula in a spreadsheet are kept as text (``reticulist.tabular``).
"""

from __future__ import annotations

from pathlib import Path

from reticulist import tabular
from reticulist.network.analysis import SOURCE_LABELS, NetworkView, PeopleTable


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
    return tabular.csv_bytes([table.columns, *table.rows])


def to_xlsx(table: PeopleTable, notes: list[tuple[str, str]] | None = None) -> bytes:
    """A workbook: the people (header in bold and frozen) and, when given, what the figures describe."""
    sheets = [tabular.Sheet("People", table.rows, header=table.columns)]
    if notes:
        sheets.append(tabular.Sheet("About", notes))
    return tabular.xlsx_bytes(sheets)


def write_file(path: Path, view: NetworkView, table: PeopleTable) -> int:
    """Write ``table`` to ``path`` (.csv or .xlsx, by its suffix); returns the number of people."""
    if path.suffix.lower() == ".xlsx":
        path.write_bytes(to_xlsx(table, about(view)))
    else:
        path.write_bytes(to_csv(table))
    return len(table.rows)
