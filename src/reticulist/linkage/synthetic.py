"""Synthetic agency extracts with known truth: for tests, the demo and the benchmark (never real data, and
nothing fetched at run time).

People live in households (one or two parents and their children, twins among them) and appear in up to
four agencies' extracts, each with its own fields and its own ways of being wrong, as the issue describes:

- ``health``: NHS numbers (a few missing, transposed or someone else's), ISO dates, current postcode;
- ``school``: children (adults only when there are too few children to fill it), unique pupil numbers
  (some temporary), the school nurse's NHS number for some pupils, dates as 18/03/2016, the earlier
  postcode where the family moved;
- ``police``: no identifiers, names in capitals with more typos, dates as 18.03.2016, some missing;
- ``voluntary``: known-as names and nicknames, the UPN of some children, dates as "18 Mar 2016", postcodes
  often missing, and an ethnic group (for linkage results by group).

Across all of them: one-letter typos, forenames and surnames swapped, day and month swapped, a mother
recorded under another surname, double-barrelled surnames written in part, families that moved. The
``person_id`` column is the truth; it is never given to the model.

Everything is drawn with NumPy arrays and Polars expressions, so a million records take seconds.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np
import polars as pl

from reticulist.casework.identifiers import UPN_LETTERS

AGENCIES = ("health", "school", "police", "voluntary")
AREAS = ("BN", "LS", "M", "B", "NE", "BS", "CF", "L", "S", "NG")
STREETS = (
    "Canal Row", "Mill Lane", "Station Road", "Church Street", "High Street", "Park Avenue", "Victoria Road",
    "Green Lane", "Manor Way", "School Lane", "Queen Street", "King's Road", "The Crescent", "Orchard Close",
    "Meadow View", "Chapel Street", "North Road", "Albert Terrace", "Oak Drive", "Riverside",
)  # fmt: skip
ETHNIC_GROUPS = ("White", "Asian", "Black", "Mixed", "Other")
LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyz"))


@dataclass(frozen=True)
class Names:
    surnames: np.ndarray
    girls: np.ndarray
    boys: np.ndarray
    women: np.ndarray
    men: np.ndarray


def _names() -> Names:
    rows: dict[str, list[str]] = {}
    with (resources.files("reticulist.linkage") / "data" / "names.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            rows.setdefault(row["kind"], []).append(row["name"])
    return Names(*(np.array(rows[k]) for k in ("surname", "girl", "boy", "woman", "man")))


def _zipf(rng: np.random.Generator, n: int, size: int, s: float = 1.0, shift: int = 10) -> np.ndarray:
    """Indices 0..n-1 drawn with Zipf-like frequencies (a few names are common, most are rare); ``shift``
    flattens the head, so the commonest forename is a few per cent of children, as in England."""
    weights = 1.0 / (np.arange(1, n + 1) + shift) ** s
    return rng.choice(n, size=size, p=weights / weights.sum())


# Syllables for the long tail of surnames: England has tens of thousands; the commonest (Smith) is about
# 1.3% of people and the hundred commonest about a fifth. Without the tail every block would be huge.
_HEADS = (
    "Ash", "Brad", "Hol", "Whit", "Stan", "Brom", "Hart", "Wood", "Hay", "Lang", "Mor", "Fair", "Ken", "Cal",
    "Dar", "Elm", "Fen", "Grim", "Hal", "Kirk", "Lind", "Marl", "New", "Oak", "Pen", "Ram", "Shel", "Thorn",
    "Ux", "Ver", "Wal", "Yar", "Ald", "Bur", "Chad", "Dun", "Ed", "Frod", "Gar", "Hen", "Ick", "Lox",
    "Mel", "Nor", "Ot", "Pick", "Ros", "Sud", "Tad", "Up", "War", "Wes", "Wix", "Bax", "Cres", "Dray",
    "Ever", "Gold", "Hux", "Rud",
)  # fmt: skip
_TAILS = (
    "worth", "ley", "den", "ton", "field", "ford", "well", "wood", "by", "ham", "more", "stone", "combe",
    "hurst", "bury", "wick", "shaw", "thorpe", "dale", "borough", "croft", "ridge", "gate", "lake", "mere",
    "ock", "man", "er", "ington", "son", "all", "ett", "ing", "field", "stead", "cott", "low", "berry",
    "sey", "love",
)  # fmt: skip


def _surnames(rng: np.random.Generator, names: Names, size: int) -> np.ndarray:
    """Surnames with about the frequencies of England's: the listed ones for 30% of people (Smith 1.3%),
    the rest spread over a long tail of rarer ones."""
    tail = np.unique(
        np.char.add(np.repeat(np.array(_HEADS), len(_TAILS)), np.tile(np.array(_TAILS), len(_HEADS)))
    )
    common = names.surnames[_zipf(rng, len(names.surnames), size, 1.0, 5)]
    rare = tail[rng.integers(0, len(tail), size)]
    return np.where(rng.random(size) < 0.3, common, rare)


def _joined(digits: np.ndarray) -> np.ndarray:
    """Each row of a digit matrix as one string (Polars concatenates the columns in compiled code)."""
    frame = pl.DataFrame({str(i): digits[:, i] for i in range(digits.shape[1])})
    return frame.select(pl.concat_str(pl.all().cast(pl.String))).to_series().to_numpy().astype(str)


def _nhs_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    """Valid NHS numbers (modulus 11), as ten-digit strings; distinct."""
    digits = rng.integers(0, 10, size=(size * 2, 9))
    digits[:, 0] = rng.integers(4, 10, size=size * 2)  # NHS numbers in England start 4-9 in practice
    check = 11 - (digits * np.arange(10, 1, -1)).sum(axis=1) % 11
    check[check == 11] = 0
    keep = check != 10
    numbers = np.concatenate([digits, check[:, None]], axis=1)[keep]
    unique = np.unique(_joined(numbers))
    rng.shuffle(unique)
    return unique[:size]


def _upns(rng: np.random.Generator, size: int, temporary: np.ndarray) -> np.ndarray:
    """Valid unique pupil numbers: check letter + LA (3) + school (4) + year (2) + serial (3, the last a
    letter when temporary)."""
    body = rng.integers(0, 10, size=(size, 12))
    values = body.copy()
    letters = np.array(list(UPN_LETTERS))
    last_letter = rng.integers(0, len(letters), size=size)
    values[temporary, 11] = last_letter[temporary]
    check = letters[(values * np.arange(2, 14)).sum(axis=1) % 23]
    last = np.where(temporary, letters[last_letter], body[:, 11].astype(str))
    return np.char.add(np.char.add(check, _joined(body[:, :11])), last)


def _postcodes(rng: np.random.Generator, size: int) -> np.ndarray:
    area = np.array(AREAS)[rng.integers(0, len(AREAS), size)]
    district = rng.integers(1, 30, size).astype(str)
    sector = rng.integers(0, 10, size).astype(str)
    unit = np.char.add(
        np.array(list("ABDEFGHJLNPQRSTUWXYZ"))[rng.integers(0, 20, size)],
        np.array(list("ABDEFGHJLNPQRSTUWXYZ"))[rng.integers(0, 20, size)],
    )
    return np.char.add(np.char.add(np.char.add(area, district), " "), np.char.add(sector, unit))


def people(n_households: int, *, seed: int = 2026) -> pl.DataFrame:
    """The true population: one row a person, with their household, names, date of birth, sex,
    identifiers, current and earlier postcode and address, ethnic group."""
    rng = np.random.default_rng(seed)
    names = _names()
    h = n_households
    surname = _surnames(rng, names, h)
    # A few double-barrelled family names, written in part by some agencies.
    double = rng.random(h) < 0.03
    second = _surnames(rng, names, h)
    surname = np.where(double, np.char.add(np.char.add(surname, "-"), second), surname)
    postcode = _postcodes(rng, h)
    moved = rng.random(h) < 0.15
    earlier = np.where(moved, _postcodes(rng, h), "")
    street = np.array(STREETS)[rng.integers(0, len(STREETS), h)]
    number = rng.integers(1, 200, h).astype(str)
    address = np.char.add(np.char.add(number, " "), street)
    ethnic = np.array(ETHNIC_GROUPS)[rng.choice(5, size=h, p=[0.74, 0.11, 0.05, 0.05, 0.05])]

    n_children = rng.choice([1, 2, 3, 4], size=h, p=[0.38, 0.37, 0.18, 0.07])
    two_parents = rng.random(h) < 0.6
    twins = rng.random(h) < 0.04  # the first two children share a birthday
    n_children = np.where(twins & (n_children < 2), 2, n_children)
    sizes = n_children + 1 + two_parents
    household = np.repeat(np.arange(h), sizes)
    position = np.arange(len(household)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    is_child = position < np.repeat(n_children, sizes)
    is_mother = position == np.repeat(n_children, sizes)
    n = len(household)

    sex = np.where(
        is_child, np.where(rng.random(n) < 0.5, "female", "male"), np.where(is_mother, "female", "male")
    )
    forename = np.empty(n, dtype=object)
    girl, boy = is_child & (sex == "female"), is_child & (sex == "male")
    forename[girl] = names.girls[_zipf(rng, len(names.girls), int(girl.sum()), 1.0)]
    forename[boy] = names.boys[_zipf(rng, len(names.boys), int(boy.sum()), 1.0)]
    forename[is_mother] = names.women[_zipf(rng, len(names.women), int(is_mother.sum()), 1.0)]
    father = ~is_child & ~is_mother
    forename[father] = names.men[_zipf(rng, len(names.men), int(father.sum()), 1.0)]

    # Children's births: the eldest from 2008, each next one 10 months to 4 years later; a household whose
    # youngest would be born in the future (or this month) is moved back in time as a whole.
    latest = int((np.datetime64(date.today()) - np.datetime64("2008-01-01")).astype(int)) - 30
    first_born = rng.integers(0, latest, h)
    gap = rng.integers(300, 4 * 365, n)
    step = np.where(is_child & (position > 0), gap, 0)
    step = np.where(is_child & (position == 1) & np.repeat(twins, sizes), 0, step)  # twins: one birthday
    within = np.cumsum(step) - np.repeat(
        np.cumsum(step)[np.cumsum(sizes) - sizes] - step[np.cumsum(sizes) - sizes], sizes
    )
    offset = np.repeat(first_born, sizes) + within
    youngest = np.maximum.reduceat(np.where(is_child, offset, 0), np.cumsum(sizes) - sizes)
    offset = offset - np.repeat(np.maximum(youngest - latest, 0), sizes)
    parent_age = rng.integers(20 * 365, 40 * 365, n)
    eldest = np.repeat(offset[np.cumsum(sizes) - sizes], sizes)
    born_days = np.where(is_child, offset, eldest - parent_age)
    base = np.datetime64("2008-01-01")
    born = (base + born_days.astype("timedelta64[D]")).astype("datetime64[D]")
    # Brothers and sisters have different forenames (twins above all): a repeated one is drawn again.
    for _ in range(4):
        repeated = (
            pl.DataFrame({"h": household, "f": forename.astype(str)})
            .select(pl.int_range(pl.len()).over("h", "f").alias("n"))
            .get_column("n")
            .to_numpy()
            > 0
        )
        again_girl, again_boy = repeated & girl, repeated & boy
        forename[again_girl] = names.girls[rng.integers(0, len(names.girls), int(again_girl.sum()))]
        forename[again_boy] = names.boys[rng.integers(0, len(names.boys), int(again_boy.sum()))]

    temporary = rng.random(n) < 0.04
    return pl.DataFrame(
        {
            "person_id": np.arange(n),
            "household_id": household,
            "is_child": is_child,
            "forename": forename.astype(str),
            "surname": np.repeat(surname, sizes),
            "maiden_name": np.where(is_mother, _surnames(rng, names, n), ""),
            "date_of_birth": born,
            "sex": sex,
            "nhs_number": _nhs_numbers(rng, n),
            "upn": np.where(is_child, _upns(rng, n, temporary), ""),
            "postcode": np.repeat(postcode, sizes),
            "earlier_postcode": np.repeat(earlier, sizes),
            "address": np.repeat(address, sizes),
            "ethnic_group": np.repeat(ethnic, sizes),
        }
    ).with_columns(pl.col("date_of_birth").cast(pl.Date))


# --- each agency's extract ---------------------------------------------------------------------------------
def _typo(column: str, rate: float, rng: np.random.Generator, n: int) -> pl.Expr:
    """One letter changed, dropped or two swapped, at a random place, in about ``rate`` of the rows."""
    which = rng.random(n)
    at = pl.lit(rng.integers(1, 6, n))
    letter = pl.lit(LETTERS[rng.integers(0, 26, n)])
    col = pl.col(column)
    length = col.str.len_chars()
    at = pl.min_horizontal(at, (length - 2).clip(lower_bound=0))
    changed = col.str.slice(0, at) + letter + col.str.slice(at + 1)
    dropped = col.str.slice(0, at) + col.str.slice(at + 1)
    swapped = col.str.slice(0, at) + col.str.slice(at + 1, 1) + col.str.slice(at, 1) + col.str.slice(at + 2)
    kind = pl.lit(which)
    return (
        pl.when((kind < rate / 3) & (length > 3))
        .then(changed)
        .when((kind < 2 * rate / 3) & (length > 3))
        .then(dropped)
        .when((kind < rate) & (length > 3))
        .then(swapped)
        .otherwise(col)
    )


def _nickname_map() -> dict[str, str]:
    with (resources.files("reticulist.linkage") / "data" / "uk_nicknames.csv").open(encoding="utf-8") as f:
        return {row["name"].title(): row["nickname"].title() for row in csv.DictReader(f)}


def _extract(
    population: pl.DataFrame, agency: str, size: int, rng: np.random.Generator, *, children_share: float
) -> pl.DataFrame:
    """``size`` records of ``agency``: mostly children (``children_share``), each person once."""
    children = population.filter(pl.col("is_child"))
    adults = population.filter(~pl.col("is_child"))
    n_children = min(int(size * children_share), children.height)
    n_adults = min(size - n_children, adults.height)
    picked = pl.concat(
        [
            children.sample(n_children, seed=int(rng.integers(1 << 31))),
            adults.sample(n_adults, seed=int(rng.integers(1 << 31))),
        ]
    ).sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 31)))
    n = picked.height
    r = {
        k: rng.random(n) for k in ("swap", "nick", "dm", "dob", "pc", "nhs", "maiden", "part", "caps", "miss")
    }
    error = {"health": 0.02, "school": 0.02, "police": 0.06, "voluntary": 0.04}[agency]
    nick = _nickname_map()
    frame = picked.with_columns(
        record_id=pl.lit(np.char.add(f"{agency[:1].upper()}", np.arange(100000, 100000 + n).astype(str))),
        forename_given=pl.col("forename"),
    )
    frame = frame.with_columns(
        forename=_typo("forename", error, rng, n),
        surname=_typo("surname", error, rng, n),
    )
    if agency in ("voluntary", "police"):  # known-as names
        frame = frame.with_columns(
            forename=pl.when(pl.lit(r["nick"] < 0.3))
            .then(
                pl.col("forename_given").replace_strict(
                    nick, default=pl.col("forename"), return_dtype=pl.String
                )
            )
            .otherwise(pl.col("forename"))
        )
    frame = frame.with_columns(
        # a mother known by another surname here
        surname=pl.when(pl.lit(r["maiden"] < 0.15) & (pl.col("maiden_name") != ""))
        .then(pl.col("maiden_name"))
        # a double-barrelled name written in part
        .when(pl.lit(r["part"] < 0.5) & pl.col("surname").str.contains("-"))
        .then(pl.col("surname").str.split("-").list.first())
        .otherwise(pl.col("surname")),
    )
    swap = pl.lit(r["swap"] < 0.01)
    frame = frame.with_columns(
        forename=pl.when(swap).then(pl.col("surname")).otherwise(pl.col("forename")),
        surname=pl.when(swap).then(pl.col("forename")).otherwise(pl.col("surname")),
    )
    # Dates of birth: day and month swapped, a digit mistyped, missing.
    dob = pl.col("date_of_birth")
    swapped_dm = pl.date(dob.dt.year(), dob.dt.day(), dob.dt.month())
    typo_day = pl.date(
        dob.dt.year(), dob.dt.month(), ((dob.dt.day() + pl.lit(rng.integers(1, 9, n))) % 28) + 1
    )
    frame = frame.with_columns(
        dob_true=dob,
        date_of_birth=pl.when(pl.lit(r["dm"] < error / 2) & (dob.dt.day() <= 12))
        .then(swapped_dm)
        .when(pl.lit(r["dob"] < error))
        .then(typo_day)
        .when(pl.lit(r["miss"] < {"police": 0.05, "voluntary": 0.08}.get(agency, 0.0)))
        .then(None)
        .otherwise(dob),
    )
    date_format = {"health": "%Y-%m-%d", "school": "%d/%m/%Y", "police": "%d.%m.%Y", "voluntary": "%d %b %Y"}
    frame = frame.with_columns(date_of_birth=pl.col("date_of_birth").dt.strftime(date_format[agency]))
    # Postcodes: the earlier one where the family moved and the extract is old; missing; lower case.
    frame = frame.with_columns(
        postcode=pl.when((pl.col("earlier_postcode") != "") & pl.lit(r["pc"] < 0.4))
        .then(pl.col("earlier_postcode"))
        .when(pl.lit(r["pc"] > {"voluntary": 0.8, "police": 0.9}.get(agency, 0.98)))
        .then(None)
        .otherwise(pl.col("postcode")),
    )
    columns = ["record_id", "forename", "surname", "date_of_birth", "sex", "postcode"]
    if agency == "health":
        # NHS numbers: missing, two digits transposed (usually invalid), or another person's (valid, wrong).
        other = population.get_column("nhs_number").sample(
            n, with_replacement=True, seed=int(rng.integers(1 << 31))
        )
        nhs = pl.col("nhs_number")
        frame = frame.with_columns(
            nhs_number=pl.when(pl.lit(r["nhs"] < 0.04))
            .then(None)
            .when(pl.lit(r["nhs"] < 0.06))
            .then(nhs.str.slice(0, 4) + nhs.str.slice(5, 1) + nhs.str.slice(4, 1) + nhs.str.slice(6))
            .when(pl.lit(r["nhs"] < 0.062))
            .then(pl.lit(other.to_numpy()))
            .otherwise(nhs.str.slice(0, 3) + " " + nhs.str.slice(3, 3) + " " + nhs.str.slice(6)),
        )
        columns += ["nhs_number", "address"]
    if agency == "school":
        # The school nurse's NHS number for some pupils; UPNs for nearly all (an adult has none).
        frame = frame.with_columns(
            nhs_number=pl.when(pl.lit(r["maiden"] < 0.4)).then(pl.col("nhs_number")).otherwise(None),
            upn=pl.when(pl.lit(r["nhs"] < 0.03) | (pl.col("upn") == "")).then(None).otherwise(pl.col("upn")),
            earlier_postcode=pl.when(pl.col("earlier_postcode") == "")
            .then(None)
            .otherwise(pl.col("earlier_postcode")),
        )
        columns += ["upn", "nhs_number", "earlier_postcode"]
    if agency == "police":
        frame = frame.with_columns(
            forename=pl.col("forename").str.to_uppercase(), surname=pl.col("surname").str.to_uppercase()
        )
    if agency == "voluntary":
        # A family hub records the UPN of some children it works with.
        frame = frame.with_columns(
            upn=pl.when(pl.lit(r["part"] < 0.3) & (pl.col("upn") != "")).then(pl.col("upn")).otherwise(None)
        )
        columns += ["upn"]
        frame = frame.with_columns(
            forename=pl.when(pl.lit(r["caps"] < 0.2))
            .then("  " + pl.col("forename"))
            .otherwise(pl.col("forename")),
        )
        columns += ["ethnic_group"]
    return frame.select([*columns, "person_id"]).with_columns(source=pl.lit(agency))


@dataclass(frozen=True)
class Extracts:
    """Four agencies' extracts (each with its own columns) and the truth behind them."""

    population: pl.DataFrame
    sources: dict[str, pl.DataFrame]  # agency -> extract, with ``person_id`` (the truth)


def extracts(records_per_agency: int, *, seed: int = 2026) -> Extracts:
    """Four extracts of about ``records_per_agency`` records, from a population big enough that each agency
    sees some of the same children and some others."""
    households = max(10, int(records_per_agency * 0.45))
    population = people(households, seed=seed)
    rng = np.random.default_rng(seed + 1)
    shares = {"health": 0.7, "school": 1.0, "police": 0.6, "voluntary": 0.75}
    sources = {
        agency: _extract(population, agency, records_per_agency, rng, children_share=shares[agency])
        for agency in AGENCIES
    }
    return Extracts(population, sources)


def standardised(extracts: Extracts) -> dict[str, pl.DataFrame]:
    """Each extract standardised (linkage/standardise.py), with the truth (``person_id``) kept alongside for
    measuring: what the tests and the benchmark link."""
    from reticulist.linkage import standardise

    nicknames = standardise.nickname_table()
    out = {}
    for agency, frame in extracts.sources.items():
        frame = frame.rename({"forename": "forenames"})
        if "earlier_postcode" in frame.columns:
            frame = frame.rename({"earlier_postcode": "earlier_postcodes"})
        out[agency] = standardise.standardise(frame, nicknames=nicknames).records.with_columns(
            person_id=frame.get_column("person_id")
        )
    return out


HEADERS = {  # how an agency's extract might head its columns (all recognised by linkage/extracts.py)
    "record_id": "Record ID",
    "forename": "Forename",
    "surname": "Surname",
    "date_of_birth": "DOB",
    "sex": "Sex",
    "postcode": "Postcode",
    "address": "Address",
    "nhs_number": "NHS No",
    "upn": "UPN",
    "earlier_postcode": "Previous postcode",
    "ethnic_group": "Ethnicity",
    "area": "Area",
}


def as_files(extracts: Extracts, folder: Path) -> dict[str, Path]:
    """Each extract written as the CSV an agency would send (its own headers; the ethnic group and area
    every agency records), with the truth in a ``synthetic_person_id`` column: load it as a group field
    and a run measures its own precision and recall (linkage/runs.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = extracts.population.select(
        "person_id",
        pl.col("ethnic_group").alias("_ethnic_group"),
        pl.col("postcode").str.extract(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)").alias("area"),
    )
    out = {}
    for agency, frame in extracts.sources.items():
        frame = frame.join(extra, on="person_id", how="left").with_columns(
            pl.coalesce("ethnic_group", "_ethnic_group").alias("ethnic_group")
            if "ethnic_group" in frame.columns
            else pl.col("_ethnic_group").alias("ethnic_group")
        )
        columns = [c for c in HEADERS if c in frame.columns]
        path = folder / f"{agency}.csv"
        frame.select(
            *[pl.col(c).alias(HEADERS[c]) for c in columns], pl.col("person_id").alias("synthetic_person_id")
        ).write_csv(path)
        out[agency] = path
    return out
