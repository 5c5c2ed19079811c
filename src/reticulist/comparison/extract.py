"""The pseudonymised research extract: one row a person, for analysts outside the partnership (issue 13).

Pure computation: a Polars frame in, a Polars frame out; no database, no web.

What leaves
-----------
- No names, contact details or record ids: a column whose name says it holds one (``full_name``,
  ``email``, ``phone``, ``person_id``, ...) is refused, not dropped, so a caller that meant to send one
  finds out at once rather than trusting a filter.
- People are keyed by ``person_key``: HMAC-SHA256 of the partnership and the person under a secret the
  caller holds, one secret per (research group, partnership). Without that secret a key cannot be
  recomputed from the register nor turned back into a person; two groups given extracts of the same
  people cannot join them; keys sort in no order that follows the register.
- The quasi-identifiers (what a colleague could know about someone: their kind of organisation,
  profession, hierarchy tier and years in the profession) are coarsened by *global recoding* (one mapping
  for every row) and then the rows still in a combination of fewer than k people are left out, so that
  every combination of the partnership and the quasi-identifiers in the extract holds at least k people
  (k-anonymity). Every coarser combination is a union of those, so it holds at least k too.
- Exact years never leave: they become ``years_band`` (5-year bands at the finest).

Not protected: the other columns pass through unchanged (outcomes such as ``spanner_score``). Someone who
knows a colleague's exact outcome could find their row by it; an outcome shared by everyone in a
combination says what each of them has (k-anonymity does not give l-diversity). Pass outcomes only.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from reticulist import tabular
from reticulist.errors import InputError

KEY_HEX_CHARS = 20  # 80 bits: no collision in any plausible extract, and short enough to read
MIN_SECRET_BYTES = 16  # person ids are small integers: a short secret could be found by trying them all

ORGANISATION_KIND = "organisation_kind"
PROFESSION = "profession"
TIER = "hierarchy_tier"
YEARS = "years_in_profession"
YEARS_BAND = "years_band"
QUASI_IDENTIFIERS = (ORGANISATION_KIND, PROFESSION, TIER, YEARS)

NOT_RECORDED = "not recorded"
ANY = "any"
DEFAULT_MAX_SUPPRESSED = 0.01

# Column names that say they hold something that identifies a person directly.
_IDENTIFYING = re.compile(
    r"name|e_?mail|phone|mobile|address|postcode|post_code|zip|birth|(^|_)dob($|_)|nhs|national_insurance|"
    r"(^|_)ni_number|(^|_)id$|^login$",
    re.IGNORECASE,
)

# Years in the profession, finest to coarsest. The finest level is what every extract has at least.
_YEARS_5 = [f"{5 * i}-{5 * i + 4}" for i in range(8)] + ["40+"]
_YEARS_10 = dict(zip(_YEARS_5, ["0-9"] * 2 + ["10-19"] * 2 + ["20-29"] * 2 + ["30+"] * 3, strict=True))
_YEARS_20 = {band: ("20+" if coarse in ("20-29", "30+") else coarse) for band, coarse in _YEARS_10.items()}
_YEARS_LEVELS: list[tuple[dict[str, str], str]] = [
    ({b: b for b in _YEARS_5}, "Years in profession given in 5-year bands (40 or more together)"),
    (_YEARS_10, "Years in profession grouped in 10-year bands (30 or more together)"),
    (_YEARS_20, "Years in profession grouped as 0-9, 10-19 and 20 or more"),
    ({b: ANY for b in _YEARS_5}, "Years in profession left out (shown as 'any')"),
]
_TIERS = ["1", "2", "3", "4", "5"]
_TIER_LEVELS: list[tuple[dict[str, str], str]] = [
    ({t: t for t in _TIERS}, ""),  # as recorded
    ({"1": "1-2", "2": "1-2", "3": "3", "4": "4-5", "5": "4-5"}, "Hierarchy tiers grouped as 1-2, 3 and 4-5"),
    ({t: ANY for t in _TIERS}, "Hierarchy tier left out (shown as 'any')"),
]
for _levels in (_YEARS_LEVELS, _TIER_LEVELS):  # "not recorded" stays itself until the column goes
    for _mapping, _ in _levels:
        _mapping[NOT_RECORDED] = ANY if set(_mapping.values()) == {ANY} else NOT_RECORDED

_OTHER = {PROFESSION: "Other professions", ORGANISATION_KIND: "Other kinds of organisation"}
_PLURAL = {PROFESSION: "Professions", ORGANISATION_KIND: "Kinds of organisation"}
_SINGULAR = {PROFESSION: "Profession", ORGANISATION_KIND: "Kind of organisation"}
# The order a tie between two equally good steps is settled in, the column the analysis can best spare
# first. 002 sees each member as individual, profession and organisation ("complex wholes"), so
# profession and kind of organisation are kept longest; tier and years describe the individual, and late
# entry, 002's finding about years (Table 1 row 4), travels as an outcome column of its own.
_ORDER = (YEARS, TIER, PROFESSION, ORGANISATION_KIND)
# What a bit of information lost from each column costs, for the same reason: a bit of profession or of
# kind of organisation is worth three of tier or years to the analysis. (By entropy alone a skewed column,
# most people in one profession, is cheap to lose, and profession would often go first.)
_WEIGHT = {YEARS: 1.0, TIER: 1.0, PROFESSION: 3.0, ORGANISATION_KIND: 3.0}


@dataclass(frozen=True)
class Coarsened:
    """An extract ready to write. ``frame`` holds only the people in combinations of ``checked`` columns
    of at least ``k`` people; ``steps`` says in plain words what was coarsened and what was left out;
    ``suppressed`` counts the people left out; ``smallest_cell`` is the smallest combination's size (0
    when nobody is left)."""

    frame: pl.DataFrame
    k: int
    steps: tuple[str, ...]
    suppressed: int
    smallest_cell: int
    checked: tuple[str, ...]


def person_key(secret: bytes, partnership_id: int, person_id: int) -> str:
    """A person's key in one extract: the first 20 hex digits of HMAC-SHA256 over the partnership and the
    person under ``secret``. The caller passes a different secret for every (research group,
    partnership), so keys cannot be recomputed from the register, reversed, or joined across groups."""
    if not isinstance(secret, bytes | bytearray):
        raise InputError("must be bytes", field="secret")
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(f"must be at least {MIN_SECRET_BYTES} bytes (random, kept secret)", field="secret")
    message = f"research-extract:{int(partnership_id)}:{int(person_id)}".encode()
    return hmac.new(bytes(secret), message, hashlib.sha256).hexdigest()[:KEY_HEX_CHARS]


def identifying_columns(columns: Sequence[str]) -> list[str]:
    """The column names that say they identify a person directly (names, contact details, record ids),
    and exact years in the profession: what never goes into an extract."""
    return [c for c in columns if _IDENTIFYING.search(c) or c == YEARS]


# --- coarsening ------------------------------------------------------------------------------------------
def _checked(
    frame: pl.DataFrame, k: int, fixed: Sequence[str], max_suppressed: float
) -> tuple[pl.DataFrame, list[str]]:
    """The frame with empty (all-null) quasi-identifier columns typed, and the columns to generalise; or
    an ``InputError`` (a ``ValueError``) saying what is wrong."""
    if not isinstance(frame, pl.DataFrame):
        raise InputError("must be a Polars frame", field="frame")
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise InputError("must be a whole number of at least 2", field="k")
    if not 0 <= max_suppressed < 1:
        raise InputError("must be a fraction from 0 up to 1", field="max_suppressed")
    if isinstance(fixed, str):
        raise InputError("must be a sequence of column names, not one string", field="fixed")
    missing = [c for c in (*fixed, *QUASI_IDENTIFIERS) if c not in frame.columns]
    if missing:
        raise InputError(f"the frame has no column {', '.join(missing)}", field="frame")
    if YEARS in fixed:
        raise InputError("exact years in the profession are never published: not fixed", field="fixed")
    refused = [c for c in identifying_columns(frame.columns) if c != YEARS]
    if refused:
        raise InputError(
            f"refusing column {', '.join(refused)}: names, contact details and record ids never go into an "
            "extract (leave them out; people are keyed by person_key)",
            field="frame",
        )
    if YEARS_BAND in frame.columns:
        raise InputError(f"has a column {YEARS_BAND} already; it is made from {YEARS}", field="frame")
    generalisable = [c for c in QUASI_IDENTIFIERS if c not in fixed]
    wanted = {YEARS: pl.Float64, TIER: pl.Int64, PROFESSION: pl.String, ORGANISATION_KIND: pl.String}
    frame = frame.with_columns(pl.col(c).cast(wanted[c]) for c in generalisable if frame.schema[c] == pl.Null)
    years = frame.schema[YEARS]
    if not years.is_numeric():
        raise InputError("must be numbers of years", field=YEARS)
    if years.is_float():
        frame = frame.with_columns(pl.col(YEARS).fill_nan(None))
    if (frame[YEARS] < 0).any():
        raise InputError("cannot be negative", field=YEARS)
    if TIER in generalisable:
        if not frame.schema[TIER].is_integer():
            raise InputError("must be whole numbers from 1 to 5", field=TIER)
        if (~frame[TIER].is_between(1, 5)).any():
            raise InputError("must be from 1 to 5", field=TIER)
    return frame, generalisable


def _base_labels(generalisable: Sequence[str]) -> list[pl.Expr]:
    """Each generalisable column at its finest publishable level, as text (years as 5-year bands)."""
    out = []
    for column in generalisable:
        value = pl.col(column)
        if column == YEARS:
            band = (value // 5).clip(upper_bound=8).cast(pl.Int64)
            label = (
                pl.when(band >= 8).then(pl.lit("40+")).otherwise(pl.format("{}-{}", band * 5, band * 5 + 4))
            )
        else:
            label = value.cast(pl.String)
        out.append(pl.when(value.is_null()).then(pl.lit(NOT_RECORDED)).otherwise(label).alias(column))
    return out


def _recode(mappings: Mapping[str, Mapping[str, str]]) -> list[pl.Expr]:
    return [pl.col(c).replace_strict(dict(m), return_dtype=pl.String).alias(c) for c, m in mappings.items()]


def _entropy(counts: Sequence[int]) -> float:
    total = sum(counts)
    return -sum(n / total * math.log2(n / total) for n in counts if n) if total else 0.0


@dataclass
class _Search:
    """The people counted by combination (``cells``: one row a combination, with ``n``) of the fixed
    columns (as one code, ``_fixed``) and the generalisable columns at their finest level (each as the
    index of its label in ``labels``), and the recoding chosen so far. Integer codes: the search groups
    these counts tens of times, and grouping integers is several times faster than grouping text."""

    cells: pl.DataFrame
    labels: dict[str, list[str]]
    k: int
    mappings: dict[str, dict[str, str]]
    _marginals: dict[str, dict[int, int]] = field(default_factory=dict)

    def _recoded(self, column: str, mapping: Mapping[str, str]) -> pl.Expr:
        codes: dict[str, int] = {}
        new = [codes.setdefault(mapping[label], len(codes)) for label in self.labels[column]]
        return pl.lit(pl.Series(new, dtype=pl.UInt32)).gather(pl.col(column)).alias(column)

    def in_small_cells(self, mappings: Mapping[str, Mapping[str, str]]) -> int:
        keys = ["_fixed", *(self._recoded(c, m) for c, m in mappings.items())]
        sizes = self.cells.group_by(keys).agg(pl.col("n").sum())["n"]
        return int(sizes.filter(sizes < self.k).sum())

    def entropy(self, column: str, mapping: Mapping[str, str]) -> float:
        """The Shannon entropy (bits) of the column over the people, recoded by ``mapping``."""
        if column not in self._marginals:
            counts = self.cells.group_by(column).agg(pl.col("n").sum())
            self._marginals[column] = dict(zip(counts[column], counts["n"], strict=True))
        recoded: dict[str, int] = {}
        for code, n in self._marginals[column].items():
            label = mapping[self.labels[column][code]]
            recoded[label] = recoded.get(label, 0) + n
        return _entropy(list(recoded.values()))

    def candidates(self) -> list[tuple[str, dict[str, str]]]:
        """Every coarser recoding of each column, one column at a time: (column, its new mapping). Years
        and tiers: every higher level of their hierarchy. Kinds (profession, kind of organisation): the
        least common values grouped as "Other ...", at each of several thresholds, and "any"."""
        out = []
        for column, mapping in self.mappings.items():
            if column in (YEARS, TIER):
                levels = _YEARS_LEVELS if column == YEARS else _TIER_LEVELS
                at = next(i for i, (m, _) in enumerate(levels) if m == mapping)
                out.extend((column, m) for m, _ in levels[at + 1 :])
            elif set(mapping.values()) != {ANY}:
                out.extend((column, m) for m in self._groupings(column, mapping))
                out.append((column, {value: ANY for value in mapping}))
        return out

    def _groupings(self, column: str, mapping: dict[str, str]) -> list[dict[str, str]]:
        """The least common values of a kind column grouped as "Other ...". A value's typical size is the
        size of the (fixed columns, value) combination its median person is in: the column judged by
        itself. For each threshold k, 2k, 4k, ..., the values whose typical size is under it are grouped
        (with the next least common too when that would be one value alone, which is no coarser); a
        grouping of every value is left out (that is "any")."""
        other = _OTHER[column]
        grouped = {value for value, label in mapping.items() if label == other}
        typical = (
            self.cells.group_by("_fixed", column)
            .agg(pl.col("n").sum())
            .sort(column, "n")
            .group_by(column, maintain_order=True)
            .agg(pl.col("n").filter(pl.col("n").cum_sum() * 2 >= pl.col("n").sum()).first().alias("typical"))
            .with_columns(pl.col(column).map_elements(self.labels[column].__getitem__, pl.String))
            .filter(~pl.col(column).is_in(list(grouped)))
            .sort("typical", column)
        )
        values, sizes = typical[column].to_list(), typical["typical"].to_list()
        out: list[dict[str, str]] = []
        seen: set[frozenset[str]] = set()
        under = self.k
        while values and under <= 2 * sizes[-1]:
            rare = {value for value, size in zip(values, sizes, strict=True) if size < under}
            under *= 2
            if rare and len(grouped | rare) == 1:
                rare.add(values[1] if len(values) > 1 else values[0])
            if not rare or len(grouped | rare) >= len(mapping) or frozenset(rare) in seen:
                continue
            seen.add(frozenset(rare))
            out.append({value: (other if value in rare else label) for value, label in mapping.items()})
        return out


def _describe(column: str, mapping: Mapping[str, str]) -> str:
    """A column's final recoding in plain words ("" when it is as recorded)."""
    if column in (YEARS, TIER):
        levels = _YEARS_LEVELS if column == YEARS else _TIER_LEVELS
        return next(words for m, words in levels if m == mapping)
    if set(mapping.values()) == {ANY}:
        return f"{_SINGULAR[column]} left out (shown as 'any')"
    other = _OTHER[column]
    grouped = sorted(value for value, label in mapping.items() if label == other and value != other)
    if not grouped:
        return ""
    return f"{_PLURAL[column]} with few people grouped as '{other}': {', '.join(grouped)}"


def coarsen(
    frame: pl.DataFrame,
    *,
    k: int,
    fixed: Sequence[str] = ("partnership",),
    max_suppressed: float = DEFAULT_MAX_SUPPRESSED,
) -> Coarsened:
    """Coarsen ``frame`` (one row a person) so that every combination of the ``fixed`` columns and the
    quasi-identifiers holds at least ``k`` people, by global recoding and then leaving out the people
    still in smaller combinations.

    ``frame`` has the ``fixed`` columns (never generalised: the partnership's pseudonym, which the
    multilevel analysis needs), ``organisation_kind``, ``profession``, ``hierarchy_tier`` (1..5, or none)
    and ``years_in_profession`` (whole years, or none); every other column passes through unchanged.
    ``years_in_profession`` comes out as ``years_band``; the quasi-identifiers come out as text.

    How steps are chosen (bottom-up generalisation, as in Wang, Yu and Chakraborty 2004, "Bottom-up
    generalization: a data mining solution to privacy protection"): each round every coarser recoding of
    each column is tried (years: 10-year bands, 0-9/10-19/20+, any; tiers: 1-2/3/4-5, any; professions
    and kinds of organisation: the least common grouped as "Other ...", at thresholds k, 2k, 4k, ..., or
    any), and the one taken buys the most people out of combinations smaller than k per bit of
    information it costs: the fall in the Shannon entropy of that column over the people, weighted
    (``_WEIGHT``) for what the analysis needs. So a rare profession grouped (costing almost nothing) goes
    before 5-year bands become 10-year ones, and a whole column becomes "any" only when nothing finer
    helps as much for its cost. When no single step helps (a person alone in two columns at once needs
    both coarsened), the cheapest step is taken. It stops when at most ``max_suppressed`` of the people,
    besides those no recoding could help (in a partnership of fewer than k people), are in combinations
    smaller than k; then undoes any step no longer needed; then leaves out, and counts, the people still
    in combinations smaller than k. Greedy, so not the least coarsening possible (that search is
    NP-hard), but fast and every step is explainable.
    """
    frame, generalisable = _checked(frame, k, fixed, max_suppressed)
    fixed = list(fixed)
    total = frame.height
    base = frame.with_columns(_base_labels(generalisable))
    fixed_code = pl.struct(fixed).rank("dense") if fixed else pl.lit(0)
    cells = base.group_by(fixed_code.alias("_fixed"), *generalisable).agg(pl.len().cast(pl.Int64).alias("n"))
    labels = {c: sorted(cells[c].unique().to_list()) for c in generalisable}
    cells = cells.with_columns(
        pl.col(c).replace_strict(labels[c], range(len(labels[c])), return_dtype=pl.UInt32)
        for c in generalisable
    )
    mappings: dict[str, dict[str, str]] = {}
    for column in generalisable:
        if column == YEARS:
            mappings[column] = dict(_YEARS_LEVELS[0][0])
        elif column == TIER:
            mappings[column] = dict(_TIER_LEVELS[0][0])
        else:
            mappings[column] = {label: label for label in labels[column]}
    search = _Search(cells, labels, k, mappings)

    # People no recoding can help: in a combination of the fixed columns alone smaller than k.
    by_fixed = cells.group_by("_fixed").agg(pl.col("n").sum())["n"]
    hopeless = int(by_fixed.filter(by_fixed < k).sum())
    allowed = math.floor(max_suppressed * total)
    order: Callable[[str], int] = _ORDER.index
    history: dict[str, list[dict[str, str]]] = {column: [] for column in generalisable}
    small = search.in_small_cells(search.mappings) if total else 0
    while small - hopeless > allowed:
        tried = []
        for column, mapping in search.candidates():
            after = search.in_small_cells({**search.mappings, column: mapping})
            lost = search.entropy(column, search.mappings[column]) - search.entropy(column, mapping)
            cost = max(lost, 0.0) * _WEIGHT[column]
            tried.append((small - after, cost, order(column), column, mapping, after))
        if not tried:
            break
        helping = [t for t in tried if t[0] > 0]
        if helping:  # most people helped per bit lost; ties to the cheaper, then to the column listed first
            best = max(helping, key=lambda t: (t[0] / max(t[1], 1e-12), -t[1], -t[2]))
        else:
            best = min(tried, key=lambda t: (t[1], t[2]))
        _, _, _, column, mapping, small = best
        history[column].append(search.mappings[column])
        search.mappings[column] = mapping
    # Greedy steps taken early can turn out unneeded once later ones are taken (5-year bands grouped in
    # tens, then the kind of organisation grouped, after which 5-year bands would have done): undo the
    # last step of a column while the result stays within what may be left out, most information first.
    while True:
        undo = []
        for column, earlier in history.items():
            if earlier:
                after = search.in_small_cells({**search.mappings, column: earlier[-1]})
                if after - hopeless <= max(allowed, small - hopeless):
                    regained = search.entropy(column, earlier[-1]) - search.entropy(
                        column, search.mappings[column]
                    )
                    undo.append((regained * _WEIGHT[column], -order(column), column, after))
        if not undo:
            break
        _, _, column, small = max(undo)
        search.mappings[column] = history[column].pop()
    described = (_describe(column, search.mappings[column]) for column in _ORDER if column in generalisable)
    steps = [words for words in described if words]

    recoded = base.with_columns(_recode(search.mappings))
    keys = [*fixed, *generalisable]
    kept = recoded.filter(pl.len().over(keys) >= k)
    suppressed = total - kept.height
    if suppressed:
        steps.append(f"{suppressed} people in combinations of fewer than {k} left out")
    if YEARS in generalisable:
        kept = kept.rename({YEARS: YEARS_BAND})
    checked = tuple(YEARS_BAND if c == YEARS else c for c in keys)
    # Rows in an order that says nothing about the register (nor the order people were added in).
    kept = kept.sort([*checked, *(["person_key"] if "person_key" in kept.columns else [])], nulls_last=True)
    smallest = int(kept.group_by(list(checked)).len()["len"].min() or 0) if kept.height else 0
    return Coarsened(kept, k, tuple(steps), suppressed, smallest, checked)


# --- writing ---------------------------------------------------------------------------------------------
def write_extract(
    extract: Coarsened | pl.DataFrame, path: str | Path, *, format: Literal["csv", "parquet"]
) -> int:
    """Write the extract to ``path`` as CSV (every text cell neutralised against spreadsheet formulas, by
    ``reticulist.tabular``; UTF-8 with a byte order mark) or Parquet. A bare frame is written only if it
    has no name, contact detail, record id or exact years column. Returns the number of rows written."""
    frame = extract.frame if isinstance(extract, Coarsened) else extract
    if not isinstance(frame, pl.DataFrame):
        raise InputError("must be a Coarsened extract or a Polars frame", field="extract")
    refused = identifying_columns(frame.columns)
    if refused:
        raise InputError(f"refusing to write column {', '.join(refused)}", field="extract")
    target = Path(path)
    if format == "csv":
        target.write_bytes(tabular.csv_bytes([frame.columns, *frame.iter_rows()]))
    elif format == "parquet":
        frame.write_parquet(target)
    else:
        raise InputError("must be 'csv' or 'parquet'", field="format")
    return frame.height
