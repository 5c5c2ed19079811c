"""Reading an agency's extract (CSV, XLSX or Parquet) into the standard fields, and checking it whole.

Columns are mapped to the standard fields by a mapping file (JSON: ``{"the file's column": "standard
field"}``, where the field may also be ``"group"`` to keep the column for linkage by group, or ``"ignore"``)
or, without one, by recognised headers ("Forename", "First name", "DOB", "NHS No"...). Columns that map to
nothing are named and left out. Every cell is read as text, so a date or an NHS number is never turned
into a number first.

Checks are vectorised over the whole extract and report every bad row and field (up to a limit, with the
count beyond): a record id missing, repeated or too long; characters no record should hold; a value longer
than its field takes; a record with nothing to link by. Impossible dates, invalid postcodes, NHS numbers
and UPNs are not errors: they are counted in the data quality report and kept out of matching.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from reticulist.errors import FieldProblem, InputError
from reticulist.linkage.standardise import STANDARD_FIELDS
from reticulist.tabular import xlsx_rows

# The fields a source may have beyond those the model compares: kept and shown, not compared.
FIELDS = (*STANDARD_FIELDS, "address")
GROUP, IGNORE = "group", "ignore"
FIELD_WORDS = {  # each field in words, for pages and the command line
    "record_id": "Record ID",
    "forenames": "Forenames",
    "surname": "Surname",
    "other_names": "Other names",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "postcode": "Postcode",
    "address": "Address",
    "earlier_postcodes": "Earlier postcodes",
    "nhs_number": "NHS number",
    "upn": "Unique pupil number",
}
# Longest value each field takes (the columns of linkage_record).
LIMITS = {
    "record_id": 100,
    "forenames": 200,
    "surname": 200,
    "other_names": 200,
    "date_of_birth": 40,
    "sex": 20,
    "postcode": 20,
    "address": 1000,
    "earlier_postcodes": 1000,
    "nhs_number": 20,
    "upn": 20,
}
GROUP_LIMIT = 100  # a group value ("White British", "Ward 12") is short
MAX_GROUP_FIELDS = 10
MAX_SHOWN = 50  # problems listed; the rest are counted
_RECOGNISED = {
    "record_id": (
        "record_id",
        "id",
        "record",
        "reference",
        "ref",
        "client_id",
        "person_id",
        "pupil_id",
        "case_id",
        "unique_id",
        "local_id",
        "system_id",
    ),
    "forenames": (
        "forenames",
        "forename",
        "first_name",
        "first_names",
        "firstname",
        "given_name",
        "given_names",
        "christian_name",
    ),
    "surname": ("surname", "last_name", "lastname", "family_name"),
    "other_names": ("other_names", "middle_names", "middle_name", "known_as", "preferred_name", "alias"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "birthdate", "d_o_b"),
    "sex": ("sex", "gender"),
    "postcode": ("postcode", "post_code", "postal_code", "current_postcode"),
    "address": ("address", "address_lines", "address_line_1", "current_address"),
    "earlier_postcodes": (
        "earlier_postcodes",
        "earlier_postcode",
        "previous_postcodes",
        "previous_postcode",
        "postcode_history",
        "former_postcodes",
    ),
    "nhs_number": ("nhs_number", "nhs_no", "nhs", "nhsnumber", "nhs_num"),
    "upn": ("upn", "unique_pupil_number", "pupil_number"),
    GROUP: (
        "ethnicity",
        "ethnic_group",
        "ethnic_origin",
        "ethnicity_code",
        "area",
        "ward",
        "locality",
        "lsoa",
        "imd_decile",
        "deprivation_decile",
        "district",
    ),
}
RECOGNISED = {alias: field for field, aliases in _RECOGNISED.items() for alias in aliases}
# Control characters and unpaired surrogates: no name or date holds them, and they break exports.
_REFUSED = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def header_key(header: str) -> str:
    """``"NHS No."`` -> ``nhs_no``: lower case, runs of anything else to one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


@dataclass(frozen=True)
class Extract:
    records: pl.DataFrame  # the standard fields (text or null) and the group fields, one row a record
    group_fields: tuple[str, ...]
    ignored: tuple[str, ...]  # the file's columns that map to nothing


def _problem(source: str, message: str, field: str = "file", row: int | None = None) -> FieldProblem:
    return FieldProblem(field=field, message=message, row=row, source=source)


def read_table(path: Path) -> pl.DataFrame:
    """Every column as text (or null), whatever the format. Raises InputError naming the file."""
    source = path.name
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8", truncate_ragged_lines=False)
        elif suffix == ".parquet":
            frame = pl.read_parquet(path)
            frame = frame.select(pl.all().cast(pl.String))
        elif suffix == ".xlsx":
            rows = list(xlsx_rows(path))
            if not rows:
                raise InputError(problems=[_problem(source, "is empty: it has no header row")])
            header = ["" if v is None else str(v) for v in rows[0][1]]
            width = len(header)
            body = [
                [None if v is None else str(v) for v in (values + [None] * width)[:width]]
                for _, values in rows[1:]
            ]
            frame = pl.DataFrame(body, schema=[(h, pl.String) for h in _unique(header)], orient="row")
        else:
            raise InputError(problems=[_problem(source, "must be a .csv, .xlsx or .parquet file")])
    except InputError:
        raise
    except pl.exceptions.NoDataError:
        raise InputError(problems=[_problem(source, "is empty: it has no header row")]) from None
    except pl.exceptions.ComputeError as err:
        message = str(err).splitlines()[0] if str(err) else "it could not be read"
        raise InputError(
            problems=[_problem(source, f"could not be read as {suffix[1:].upper()}: {message}")]
        ) from None
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, ValueError) as err:
        raise InputError(
            problems=[_problem(source, f"could not be read as {suffix[1:].upper()} ({type(err).__name__})")]
        ) from None
    if frame.width == 0:
        raise InputError(problems=[_problem(source, "is empty: it has no header row")])
    return frame


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name} ({n + 1})")
    return out


def read_mapping(path: Path) -> dict[str, str]:
    """A mapping file: JSON ``{"the file's column": "standard field", ...}``."""
    source = path.name
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            problems=[_problem(source, 'must be JSON: {"the file\'s column": "standard field", ...}')]
        ) from None
    if not isinstance(mapping, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise InputError(
            problems=[_problem(source, 'must be JSON: {"the file\'s column": "standard field", ...}')]
        )
    return mapping


def map_columns(
    frame: pl.DataFrame, *, source: str, mapping: dict[str, str] | None = None, groups: tuple[str, ...] = ()
) -> Extract:
    """The file's columns renamed to the standard fields (by ``mapping`` or by recognised headers), with
    the group fields kept, and every record checked. Raises InputError naming every problem."""
    problems: list[FieldProblem] = []
    chosen: dict[str, str] = {}  # file column -> field
    if mapping is not None:
        for column, field in mapping.items():
            if column not in frame.columns:
                problems.append(
                    _problem(
                        source, f"the mapping names a column {column!r} the file does not have", "mapping"
                    )
                )
            elif field not in (*FIELDS, GROUP, IGNORE):
                problems.append(
                    _problem(
                        source,
                        f"maps {column!r} to {field!r}, which is not a standard field "
                        f"({', '.join(FIELDS)}, group or ignore)",
                        "mapping",
                    )
                )
            else:
                chosen[column] = field
    else:
        for column in frame.columns:
            field = RECOGNISED.get(header_key(column))
            if field:
                chosen[column] = field
    for column in groups:
        if column not in frame.columns:
            problems.append(_problem(source, f"names a column {column!r} the file does not have", "group"))
        else:
            chosen[column] = GROUP
    by_field: dict[str, list[str]] = {}
    for column, field in chosen.items():
        by_field.setdefault(field, []).append(column)
    for field, columns in by_field.items():
        if field not in (GROUP, IGNORE) and len(columns) > 1:
            problems.append(
                _problem(
                    source,
                    f"columns {', '.join(map(repr, columns))} would all be {field}; map only one",
                    "mapping",
                )
            )
    if "record_id" not in by_field:
        problems.append(
            _problem(
                source,
                'has no record id column (a header such as "Record ID" or "Reference", or a mapping file)',
                "record_id",
            )
        )
    group_columns = tuple(by_field.get(GROUP, []))
    if len(group_columns) > MAX_GROUP_FIELDS:
        problems.append(
            _problem(source, f"has {len(group_columns)} group columns; at most {MAX_GROUP_FIELDS}", "group")
        )
    if problems:
        raise InputError(problems=problems)
    field_of = {c: f for c, f in chosen.items() if f not in (GROUP, IGNORE)}
    records = frame.select(
        [pl.col(c).alias(f) for c, f in field_of.items()]
        + [pl.lit(None, pl.String).alias(f) for f in FIELDS if f not in field_of.values()]
        + [pl.col(c).alias(f"group:{c}") for c in group_columns]
    ).select([*FIELDS, *[f"group:{c}" for c in group_columns]])
    # Surrounding spaces mean nothing; an empty cell is no value.
    records = records.with_columns(
        [
            pl.when(pl.col(c).str.strip_chars() == "")
            .then(None)
            .otherwise(pl.col(c).str.strip_chars())
            .alias(c)
            for c in records.columns
        ]
    )
    check(records, source=source)
    ignored = tuple(c for c in frame.columns if c not in chosen or chosen[c] == IGNORE)
    return Extract(records, group_columns, ignored)


def check(records: pl.DataFrame, *, source: str) -> None:
    """Every bad row and field of a mapped extract, vectorised; raises InputError when there is any."""
    rules: list[tuple[str, pl.Expr, str]] = [
        ("record_id", pl.col("record_id").is_null(), "is missing: every record needs the agency's own id"),
        (
            "record_id",
            pl.col("record_id").is_not_null() & pl.col("record_id").is_duplicated(),
            "is repeated: each record id may appear once",
        ),
        (
            "record",
            pl.all_horizontal(
                [pl.col(f).is_null() for f in ("forenames", "surname", "date_of_birth", "nhs_number", "upn")]
            ),
            "has nothing to link by: no name, date of birth, NHS number or unique pupil number",
        ),
    ]
    for column in records.columns:
        limit = LIMITS.get(column, GROUP_LIMIT)
        words = column.removeprefix("group:")
        rules.append((words, pl.col(column).str.len_chars() > limit, f"is longer than {limit} characters"))
        rules.append(
            (words, pl.col(column).str.contains(_REFUSED), "holds a control character no record should hold")
        )
    flagged = records.with_row_index("_row", offset=2).select(
        pl.col("_row"), *[expr.fill_null(False).alias(f"_{i}") for i, (_, expr, _) in enumerate(rules)]
    )
    problems: list[FieldProblem] = []
    total = 0
    for i, (field, _expr, message) in enumerate(rules):
        rows = flagged.filter(pl.col(f"_{i}")).get_column("_row")
        total += rows.len()
        for row in rows.head(MAX_SHOWN - len(problems)).to_list() if len(problems) < MAX_SHOWN else []:
            problems.append(_problem(source, message, field, int(row)))
    if total > len(problems):
        problems.append(_problem(source, f"and {total - len(problems):,} more problems like these"))
    if problems:
        raise InputError(problems=problems)
    if records.height == 0:
        raise InputError(problems=[_problem(source, "has no records under its header")])


def read_extract(path: Path, *, mapping: Path | None = None, groups: tuple[str, ...] = ()) -> Extract:
    """Read, map and check one extract file (see the module's docstring)."""
    frame = read_table(path)
    return map_columns(
        frame, source=path.name, mapping=read_mapping(mapping) if mapping else None, groups=groups
    )
