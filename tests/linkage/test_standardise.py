"""Standardising extracts (pure, Polars): names, dates, postcodes and identifiers as the model compares them,
and the data quality report. The vectorised checks of NHS numbers and UPNs are compared with the plain
Python rules casework uses (casework/identifiers.py), on the cases that matter and on random strings."""

from __future__ import annotations

from datetime import date

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from reticulist.casework.identifiers import nhs_number_problem, upn_check_letter, upn_problem
from reticulist.linkage import standardise as s

NICKNAMES = s.nickname_table()


def _one(**fields: str | None) -> dict[str, object]:
    frame = pl.DataFrame(
        {k: [v] for k, v in {"record_id": "1", **fields}.items()},
        schema={k: pl.String for k in {"record_id": 1, **fields}},
    )
    return s.standardise(frame, nicknames=NICKNAMES).records.row(0, named=True)


def test_names_are_folded_split_and_keyed() -> None:
    r = _one(forenames="  Zoë-Anne  Marie ", surname="O'Brien-Smith")
    assert r["forename"] == "zoe" and r["forenames"] == "zoe anne marie"
    assert r["surname"] == "obrien smith" and (r["surname_first"], r["surname_last"]) == ("obrien", "smith")
    assert _one(forenames="MR JOHN", surname="Dr. Łukasz Nowak")["forename"] == "john"
    assert set(_one(forenames="Alfie", surname="X")["forename_keys"]) >= {"alfie", "alfred"}
    assert "william" in _one(forenames="Bill", surname="X")["forename_keys"]
    assert _one(forenames="Xyzzy", surname="X")["forename_keys"] == ["xyzzy"]
    assert _one(forenames="", surname="  ")["forename"] is None


def test_soundex_is_the_american_soundex() -> None:
    names = ["robert", "rupert", "rubin", "ashcraft", "tymczak", "pfister", "honeyman", "wright", "lee", ""]
    codes = pl.DataFrame({"n": names}).select(s.soundex(pl.col("n"))).to_series().to_list()
    assert codes == ["R163", "R163", "R150", "A261", "T522", "P236", "H555", "W623", "L000", None]


def test_dates_in_the_usual_uk_forms_day_first_impossible_ones_refused() -> None:
    for written in (
        "2016-04-03",
        "03/04/2016",
        "3/4/2016",
        "03.04.2016",
        "03-04-2016",
        "3 Apr 2016",
        "3 April 2016",
        "20160403",
    ):
        r = _one(date_of_birth=written)
        assert r["dob"] == "2016-04-03", written
        assert r["dob_swapped"] == "2016-03-04", written  # the day/month ambiguity is kept
    assert _one(date_of_birth="13/04/2016")["dob_swapped"] is None  # no 13th month
    for impossible in ("31/02/2016", "2016-13-01", "00/01/2016", "tomorrow", "01/01/1850", "01/01/2999"):
        assert _one(date_of_birth=impossible)["dob"] is None, impossible


def test_postcodes_are_normalised_and_invalid_ones_left_out() -> None:
    assert _one(postcode="bn11aa")["postcode"] == "BN1 1AA"
    assert _one(postcode=" sw1a 2aa ")["postcode"] == "SW1A 2AA"
    assert _one(postcode="NOPE")["postcode"] is None
    r = _one(postcode="M1 1AE", earlier_postcodes="ls1 4ap; bad ;M1 1AE")
    assert sorted(r["postcode_history"]) == ["LS1 4AP", "M1 1AE"]


def test_identifiers_that_fail_their_check_are_never_trusted() -> None:
    assert _one(nhs_number="943 476 5919")["nhs_number"] == "9434765919"
    assert _one(nhs_number="943 476 5918")["nhs_number"] is None  # check digit
    assert _one(nhs_number="943 467 5919")["nhs_number"] is None  # two digits transposed
    upn = upn_check_letter("80120100100" + "1") + "801201001001"
    assert _one(upn=upn.lower())["upn"] == upn
    assert _one(upn="A" + upn[1:] if upn[0] != "A" else "B" + upn[1:])["upn"] is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 -x", min_size=0, max_size=14))
def test_the_vectorised_nhs_check_agrees_with_the_plain_rule(raw: str) -> None:
    expected = nhs_number_problem(raw) is None
    assert (_one(nhs_number=raw)["nhs_number"] is not None) == expected, raw


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="0123456789", min_size=11, max_size=11),
    st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    st.one_of(st.none(), st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0")),
)
def test_the_vectorised_upn_check_agrees_with_the_plain_rule(
    digits: str, last: str, letter: str | None
) -> None:
    """Half the numbers carry their right check letter (valid unless the last character is I, O or S),
    the others a drawn one."""
    body = digits + last
    check = letter if letter is not None else (upn_check_letter(body) if last not in "IOS" else "A")
    raw = check + body
    assert (_one(upn=raw)["upn"] is not None) == (upn_problem(raw) is None), raw


def test_the_data_quality_report_counts_what_was_given_and_valid() -> None:
    frame = pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4"],
            "date_of_birth": ["2016-04-03", "31/02/2016", None, ""],
            "nhs_number": ["9434765919", "9434765918", None, None],
            "postcode": ["BN1 1AA", "nope", "M1 1AE", None],
        }
    )
    quality = {r["field"]: r for r in s.standardise(frame, nicknames=NICKNAMES).quality.to_dicts()}
    assert (quality["date_of_birth"]["given"], quality["date_of_birth"]["valid"]) == (2, 1)
    assert (quality["nhs_number"]["given"], quality["nhs_number"]["invalid"]) == (2, 1)
    assert (quality["postcode"]["given"], quality["postcode"]["valid"]) == (3, 2)
    assert quality["upn"]["given"] == 0 and quality["record_id"]["records"] == 4


def test_a_birth_date_today_is_a_date() -> None:
    assert _one(date_of_birth=date.today().isoformat())["dob"] == date.today().isoformat()
