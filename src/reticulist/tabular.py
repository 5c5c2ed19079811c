"""CSV and XLSX files: every file Reticulist writes, and every workbook it reads, goes through here.

Writing. A spreadsheet program runs a cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return as a formula (CSV injection: an organisation named ``=HYPERLINK(...)`` becomes a link
that sends data away when clicked). Text cells that start so are neutralised, as OWASP advises:

- in CSV the text gets a leading ``'``, which spreadsheets read as "this is text" and do not show;
- in XLSX the cell is written as a string (never a formula) with the quote-prefix style, so it stays
  text even when someone edits it.

Numbers stay numbers (``-2`` written as a number is not a formula). Characters an XLSX file cannot hold
(control characters, unpaired surrogates) are written as U+FFFD, so a download never fails on old data.

Reading. XLSX workbooks are read in openpyxl's read-only (streaming) mode within the limits below, and
a file that is not a workbook (renamed, truncated, a zip bomb) is refused with a message naming it.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from reticulist.errors import FieldProblem, InputError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 cannot hold these; openpyxl refuses the first range and the writer chokes on the rest.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Limits on what an import reads (documented in docs/operating.md). A partnership's register, a round's
# responses or a year of ties fit well inside them; a file past them is refused, not read to the end.
MAX_IMPORT_ROWS = 100_000
MAX_IMPORT_COLUMNS = 1_000
MAX_IMPORT_CELLS = 2_000_000
# What a workbook may unpack to: a 4 MB zip can hold gigabytes of XML (a zip bomb).
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024


# --- writing -----------------------------------------------------------------------------------------
def neutralise(value: Any) -> Any:
    """A cell as written to CSV: text that would start a formula gets a leading "'"; the rest unchanged.

    >>> neutralise("=1+1"), neutralise("-2"), neutralise(-2), neutralise("Police")
    ("'=1+1", "'-2", -2, 'Police')
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def unneutralise(value: Any) -> Any:
    """Take off the "'" that ``neutralise`` added, so an exported file imports as it was."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1] in FORMULA_START:
        return value[1:]
    return value


def _writable(text: str) -> str:
    return _UNWRITABLE.sub("\ufffd", text)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralise(_writable(value))
    return value


class CsvWriter:
    """``csv.writer`` whose every cell (headers included) is neutralised; dates as YYYY-MM-DD, None blank."""

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([_csv_value(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_text(rows: Iterable[Iterable[Any]], *, lineterminator: str = "\r\n") -> str:
    """Rows as CSV text, every cell neutralised."""
    out = io.StringIO()
    CsvWriter(out, lineterminator=lineterminator).writerows(rows)
    return out.getvalue()


def csv_bytes(rows: Iterable[Iterable[Any]]) -> bytes:
    """Rows as UTF-8 CSV with a byte order mark, so that Excel reads the accents."""
    return csv_text(rows).encode("utf-8-sig")


@dataclass
class Sheet:
    """One worksheet to write: its title (cut to Excel's 31 characters), an optional bold, frozen header
    row, and the rows."""

    title: str
    rows: Iterable[Sequence[Any]]
    header: Sequence[Any] | None = None


def _xlsx_cell(sheet: Any, value: Any, *, bold: bool = False) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    if isinstance(value, float) and not math.isfinite(value):
        value = None  # Excel calls a file with NaN in it corrupt
    if isinstance(value, str):
        value = _writable(value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True  # and still text after someone edits it
    elif isinstance(value, datetime | date):
        cell.number_format = "yyyy-mm-dd"
    if bold:
        cell.font = Font(bold=True)
    return cell


def write_xlsx(target: Path | IO[bytes], sheets: Iterable[Sheet]) -> None:
    """Write the sheets as one workbook (streamed: memory does not grow with the rows)."""
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    for spec in sheets:
        sheet = workbook.create_sheet(_writable(spec.title)[:31])
        if spec.header is not None:
            sheet.freeze_panes = "A2"
            sheet.append([_xlsx_cell(sheet, v, bold=True) for v in spec.header])
        for row in spec.rows:
            sheet.append([_xlsx_cell(sheet, v) for v in row])
    if not workbook.worksheets:
        workbook.create_sheet("Sheet")
    workbook.save(target)


def xlsx_bytes(sheets: Iterable[Sheet]) -> bytes:
    out = io.BytesIO()
    write_xlsx(out, sheets)
    return out.getvalue()


# --- reading -----------------------------------------------------------------------------------------
def _problem(source: str, message: str) -> InputError:
    return InputError(problems=[FieldProblem(field="file", message=message, source=source)])


NOT_A_WORKBOOK = (
    "is not a real XLSX workbook (it could not be opened as one); save it from your spreadsheet as "
    '"Excel Workbook (.xlsx)" or as CSV UTF-8'
)


def too_many_rows(source: str) -> InputError:
    return _problem(
        source,
        f"has more than {MAX_IMPORT_ROWS:,} rows, more than an import takes; split it into smaller files",
    )


def _check_zip(path: Path) -> None:
    source = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _problem(source, NOT_A_WORKBOOK) from None
    if not any(m.filename == "[Content_Types].xml" for m in members):
        raise _problem(source, NOT_A_WORKBOOK)
    if sum(m.file_size for m in members) > MAX_XLSX_UNPACKED_BYTES:
        raise _problem(
            source,
            f"unpacks to more than {MAX_XLSX_UNPACKED_BYTES // (1024 * 1024)} MB, more than an import "
            "takes; split it into smaller files, or save it as CSV",
        )


def xlsx_rows(path: Path, sheet_name: str | None = None) -> Iterator[tuple[int, list[Any]]]:
    """Stream (row number, cell values) from one sheet (``sheet_name`` when it exists, else the first),
    trailing blank cells dropped. Raises InputError naming the file when it is not a workbook, is broken
    part-way, or is past the limits (rows, columns, cells)."""
    import openpyxl

    source = path.name
    _check_zip(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise _problem(source, NOT_A_WORKBOOK) from None
    except Exception:  # zip, XML and openpyxl errors all mean the same thing to the user
        raise _problem(source, NOT_A_WORKBOOK) from None
    try:
        try:
            sheet = workbook[sheet_name] if sheet_name in workbook.sheetnames else workbook.worksheets[0]
            # The dimension a file declares can be A1:XFD1048576; read the cells that are there instead.
            sheet.reset_dimensions()
            rows = sheet.iter_rows(values_only=True)
        except Exception:
            raise _problem(source, NOT_A_WORKBOOK) from None
        cells = 0
        number = 0
        while True:
            try:
                values = next(rows, None)
            except Exception:  # broken XML part-way, a bad cell type, a truncated member
                raise _problem(source, NOT_A_WORKBOOK) from None
            if values is None:
                return
            number += 1
            if number > MAX_IMPORT_ROWS:
                raise too_many_rows(source)
            row = list(values)
            while row and (row[-1] is None or (isinstance(row[-1], str) and not row[-1].strip())):
                row.pop()
            if len(row) > MAX_IMPORT_COLUMNS:
                raise _problem(
                    source,
                    f"row {number} has a value past column {MAX_IMPORT_COLUMNS:,}, more than an import "
                    "takes; remove the columns you do not need",
                )
            cells += len(row)
            if cells > MAX_IMPORT_CELLS:
                raise _problem(
                    source,
                    f"has more than {MAX_IMPORT_CELLS:,} cells, more than an import takes; split it into "
                    "smaller files",
                )
            yield number, row
    finally:
        workbook.close()
