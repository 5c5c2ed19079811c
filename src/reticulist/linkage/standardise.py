"""Standardising agency extracts for linkage: columnar Polars expressions over the whole extract (no Python
loop over records), so a million records take seconds.

The input has the standard fields (after the column mapping): ``record_id``, ``forenames``, ``surname``,
``other_names``, ``date_of_birth`` (text, in any usual UK form), ``sex``, ``postcode``,
``earlier_postcodes`` (separated by ``;``), ``nhs_number``, ``upn``; any may be missing. The output adds what
the model compares:

- names folded to plain lower-case letters (accents, case, apostrophes and titles gone; hyphens and double
  barrels split into parts), the first forename, every part of the surname, a phonetic key (Soundex) of
  each, and the forename's "name keys": itself and every name it is a nickname of (``nicknames``, a
  maintained list, with a UK supplement in linkage/data/uk_nicknames.csv);
- the date of birth as a date (day first, as in the UK: 03/04/2016 is 3 April), with the day/month swap
  kept as a second date where it is also a date; impossible dates (31/02/2016) are refused and counted;
- postcodes normalised (``bn11aa`` to ``BN1 1AA``), invalid ones counted and left out, with every postcode
  of the record's history as a list;
- NHS numbers checked by their modulus-11 digit and UPNs by their check letter: an invalid one is counted
  and left out of matching (``None``), never trusted.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

import polars as pl

STANDARD_FIELDS = (
    "record_id",
    "forenames",
    "surname",
    "other_names",
    "date_of_birth",
    "sex",
    "postcode",
    "earlier_postcodes",
    "nhs_number",
    "upn",
)
TITLES = r"^(mr|mrs|miss|ms|mx|dr|master|prof|rev|sir|dame|lady|lord)\b\.?\s*"
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d %b %Y", "%d %B %Y", "%Y%m%d", "%d/%m/%y")
POSTCODE = r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$"
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
EARLIEST_BIRTH = pl.date(1900, 1, 1)


def _fold(expr: pl.Expr) -> pl.Expr:
    """Plain lower-case letters and single spaces: accents taken off (NFKD, marks dropped), apostrophes
    gone (O'Brien: obrien), hyphens and other marks to spaces."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"['’`]", "")
        .str.replace_all(r"[^a-z ]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.len_chars() > 0).then(expr).otherwise(None)


def soundex(expr: pl.Expr) -> pl.Expr:
    """American Soundex of a folded name ("robert" and "rupert": r163), as a column expression."""
    letters = expr.str.replace_all(r"[^a-z]", "")
    first = letters.str.slice(0, 1).str.to_uppercase()
    # h and w are skipped (equal codes either side of them count once); vowels keep equal codes apart.
    coded = (
        (letters.str.slice(0, 1) + letters.str.slice(1).str.replace_all("[hw]", ""))
        .str.replace_many(list("aeiouy"), ["0"] * 6)
        .str.replace_many(list("bfpvcgjkqsxzdtlmnr"), list("111122222222334556"))
    )
    for digit in "123456":
        coded = coded.str.replace_all(f"{digit}+", digit)
    tail = coded.str.slice(1)
    first_code = coded.str.slice(0, 1)
    tail = pl.when(tail.str.starts_with(first_code)).then(tail.str.slice(1)).otherwise(tail)
    tail = tail.str.replace_all("0", "")
    return pl.when(letters.str.len_chars() > 0).then((first + tail + "000").str.slice(0, 4)).otherwise(None)


@cache
def nickname_table() -> pl.DataFrame:
    """name -> every name it may be short for (both ways round in the data): the maintained ``nicknames``
    list and the UK supplement, folded."""
    from nicknames import name_triplets

    pairs = [(t.name2, t.name1) for t in name_triplets()]
    with (resources.files("reticulist.linkage") / "data" / "uk_nicknames.csv").open(encoding="utf-8") as f:
        pairs += [(row["nickname"], row["name"]) for row in csv.DictReader(f)]
    frame = pl.DataFrame({"nickname": [p[0] for p in pairs], "name": [p[1] for p in pairs]}, orient="col")
    return frame.with_columns(_fold(pl.col("nickname")), _fold(pl.col("name"))).unique()


def _parse_date(expr: pl.Expr) -> pl.Expr:
    text = expr.str.strip_chars().str.replace_all(r"\s+", " ")
    return pl.coalesce([text.str.strptime(pl.Date, fmt, strict=False) for fmt in DATE_FORMATS])


def _nhs_valid(digits: pl.Expr) -> pl.Expr:
    total = sum(digits.str.slice(i, 1).cast(pl.Int32, strict=False) * (10 - i) for i in range(9))
    check = (11 - total % 11) % 11
    return (
        (digits.str.len_chars() == 10)
        & digits.str.contains(r"^\d{10}$")
        & (check != 10)
        & (check == digits.str.slice(9, 1).cast(pl.Int32, strict=False))
    )


def _upn_valid(upn: pl.Expr) -> pl.Expr:
    def value(i: int) -> pl.Expr:
        char = upn.str.slice(i, 1)
        return (
            pl.when(char.str.contains(r"^\d$"))
            .then(char.cast(pl.Int32, strict=False))
            .otherwise(
                char.replace_strict(
                    {c: n for n, c in enumerate(UPN_LETTERS)}, default=None, return_dtype=pl.Int32
                )
            )
        )

    total = sum(value(i) * (i + 1) for i in range(1, 13))
    expected = (total % 23).replace_strict(dict(enumerate(UPN_LETTERS)), default=None, return_dtype=pl.String)
    shape = upn.str.contains(r"^[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]$")
    return shape & (upn.str.slice(0, 1) == expected)


def _postcode(expr: pl.Expr) -> pl.Expr:
    """Normalised (``BN1 1AA``) or None when it is not a UK postcode."""
    squeezed = expr.str.to_uppercase().str.replace_all(r"[^A-Z0-9]", "")
    formatted = squeezed.str.slice(0, squeezed.str.len_chars() - 3) + " " + squeezed.str.slice(-3)
    return pl.when(squeezed.str.contains(POSTCODE)).then(formatted).otherwise(None)


@dataclass(frozen=True)
class Standardised:
    records: pl.DataFrame  # one row a record: the fields the model compares
    quality: pl.DataFrame  # one row a field: given, valid, invalid (the data quality report)


def standardise(extract: pl.DataFrame, *, nicknames: pl.DataFrame | None = None) -> Standardised:
    """The extract's records as the model compares them, and how complete and valid each field was."""
    frame = extract.select(
        [
            pl.col(c).cast(pl.String) if c in extract.columns else pl.lit(None, pl.String).alias(c)
            for c in STANDARD_FIELDS
        ]
    )
    nicknames = nicknames if nicknames is not None else nickname_table()
    fore = _fold(pl.col("forenames"))
    sur = _fold(pl.col("surname").str.replace_all(TITLES, "", literal=False))
    fore = fore.str.replace(TITLES, "")
    dob = _parse_date(pl.col("date_of_birth"))
    nhs_digits = pl.col("nhs_number").str.replace_all(r"[\s-]", "")
    upn = pl.col("upn").str.to_uppercase().str.replace_all(r"\s", "")
    out = frame.with_columns(
        forenames_std=_blank_to_null(fore),
        surname_std=_blank_to_null(sur),
        dob_parsed=dob,
        nhs_ok=_nhs_valid(nhs_digits),
        upn_ok=_upn_valid(upn),
        postcode_std=_postcode(pl.col("postcode")),
        sex_std=pl.col("sex")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(
            {"m": "male", "male": "male", "boy": "male", "f": "female", "female": "female", "girl": "female"},
            default=None,
            return_dtype=pl.String,
        ),
        earlier=pl.col("earlier_postcodes").str.split(";"),
    )
    out = out.with_columns(
        forename=pl.col("forenames_std").str.split(" ").list.first(),
        surname_parts=pl.col("surname_std").str.split(" "),
        # A birth before 1900 or in the future is a mistyped date, not a date of birth.
        date_of_birth_std=pl.when(
            (pl.col("dob_parsed") >= EARLIEST_BIRTH) & (pl.col("dob_parsed") <= pl.lit(date.today()))
        )
        .then(pl.col("dob_parsed"))
        .otherwise(None),
        nhs_number_std=pl.when(pl.col("nhs_ok")).then(nhs_digits).otherwise(None),
        upn_std=pl.when(pl.col("upn_ok")).then(upn).otherwise(None),
    )
    d = pl.col("date_of_birth_std")
    out = out.with_columns(
        dob=d.dt.strftime("%Y-%m-%d"),
        # The same date with day and month the other way round, where that is a date and differs.
        dob_swapped=pl.when((d.dt.day() <= 12) & (d.dt.day() != d.dt.month()))
        .then(pl.date(d.dt.year(), d.dt.day(), d.dt.month()).dt.strftime("%Y-%m-%d"))
        .otherwise(None),
        forename_soundex=soundex(pl.col("forename")),
        surname_soundex=soundex(pl.col("surname_std")),
        surname_first=pl.col("surname_parts").list.first(),
        surname_last=pl.col("surname_parts").list.last(),
        postcode_history=pl.concat_list(
            [pl.col("postcode_std"), pl.col("earlier").list.eval(_postcode(pl.element()))]
        )
        .list.drop_nulls()
        .list.unique(),
    )
    # Name keys: the forename and every name it may be short for, as a list (joined, not looped).
    keys = (
        out.select(pl.int_range(pl.len()).alias("_row"), pl.col("forename"))
        .join(nicknames, left_on="forename", right_on="nickname", how="left")
        .group_by("_row")
        .agg(pl.col("name").drop_nulls().alias("_names"))
    )
    out = (
        out.with_row_index("_row")
        .join(keys.with_columns(pl.col("_row").cast(pl.UInt32)), on="_row", how="left")
        .with_columns(
            forename_keys=pl.concat_list(pl.col("forename"), pl.col("_names")).list.drop_nulls().list.unique()
        )
        .drop("_row", "_names")
    )
    records = out.select(
        pl.col("record_id"),
        pl.col("forename"),
        pl.col("forenames_std").alias("forenames"),
        pl.col("forename_keys"),
        pl.col("forename_soundex"),
        pl.col("surname_std").alias("surname"),
        pl.col("surname_first"),
        pl.col("surname_last"),
        pl.col("surname_soundex"),
        pl.col("dob"),
        pl.col("dob_swapped"),
        pl.col("sex_std").alias("sex"),
        pl.col("postcode_std").alias("postcode"),
        pl.col("postcode_history"),
        pl.col("nhs_number_std").alias("nhs_number"),
        pl.col("upn_std").alias("upn"),
    )
    given = {f: pl.col(f).is_not_null() & (pl.col(f).str.strip_chars() != "") for f in STANDARD_FIELDS}
    checks = {
        "forenames": pl.col("forenames_std").is_not_null(),
        "surname": pl.col("surname_std").is_not_null(),
        "date_of_birth": pl.col("date_of_birth_std").is_not_null(),
        "sex": pl.col("sex_std").is_not_null(),
        "postcode": pl.col("postcode_std").is_not_null(),
        "nhs_number": pl.col("nhs_ok").fill_null(False),
        "upn": pl.col("upn_ok").fill_null(False),
    }
    counts = out.select(
        [given[f].sum().alias(f"given_{f}") for f in STANDARD_FIELDS]
        + [(given[f] & checks[f]).sum().alias(f"valid_{f}") for f in checks]
    ).row(0, named=True)
    quality = pl.DataFrame(
        {
            "field": list(STANDARD_FIELDS),
            "records": [extract.height] * len(STANDARD_FIELDS),
            "given": [counts[f"given_{f}"] for f in STANDARD_FIELDS],
            "valid": [counts.get(f"valid_{f}", counts[f"given_{f}"]) for f in STANDARD_FIELDS],
        }
    ).with_columns(invalid=pl.col("given") - pl.col("valid"))
    return Standardised(records, quality)
