"""Children's identifiers and postcodes: format and check-digit rules, pure and table-free.

A valid check digit says only that the number was not mistyped in one of the ways the check catches; it
does not say the number belongs to this child. Casework keeps identifiers as evidence, never as proof.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NHS_WEIGHTS = tuple(range(10, 1, -1))  # 10, 9, ..., 2 for the first nine digits


def nhs_number_problem(raw: str) -> str | None:
    """Why ``raw`` is not an NHS number, or None. Ten digits (spaces or hyphens between groups allowed);
    the tenth is the modulus-11 check digit of the first nine (NHS Data Dictionary)."""
    digits = re.sub(r"[\s-]", "", raw)
    if not digits.isascii() or not digits.isdigit() or len(digits) != 10:
        return "an NHS number is 10 digits"
    remainder = sum(int(d) * w for d, w in zip(digits[:9], _NHS_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        check = 0
    if check == 10 or check != int(digits[9]):
        return "is not a valid NHS number (its check digit does not match)"
    return None


def normalise_nhs_number(raw: str) -> str:
    """The ten digits, grouped 3 3 4 as the NHS writes them. Call after ``nhs_number_problem`` said None."""
    digits = re.sub(r"[\s-]", "", raw)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


# The unique pupil number's letters: A-Z without I, O and S, valued 0-22 (DfE, "Unique pupil numbers").
UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


@dataclass(frozen=True)
class Upn:
    value: str
    temporary: bool  # a school's temporary UPN (a letter last) until the permanent one is known


def upn_problem(raw: str) -> str | None:
    """Why ``raw`` is not a unique pupil number, or None. Thirteen characters: a check letter, the local
    authority's 3 digits, the establishment's 4, the year's 2 and a serial of 3 (the last of them a letter
    in a temporary UPN). The check letter is the weighted sum (weights 2 to 13) of characters 2-13, mod 23."""
    text = raw.strip().upper().replace(" ", "")
    if len(text) != 13:
        return "a unique pupil number is 13 characters"
    if text[0] not in UPN_LETTERS:
        return "a unique pupil number starts with its check letter (A-Z, not I, O or S)"
    if not (text[1:12].isascii() and text[1:12].isdigit()):
        return "a unique pupil number has 11 digits after its check letter (the 13th may be a letter)"
    last = text[12]
    if not (last.isascii() and last.isdigit()) and last not in UPN_LETTERS:
        return "a unique pupil number ends with a digit, or a letter (not I, O or S) if it is temporary"
    values = [int(c) if c.isdigit() else UPN_LETTERS.index(c) for c in text[1:]]
    expected = UPN_LETTERS[sum(v * w for v, w in zip(values, range(2, 14), strict=True)) % 23]
    if text[0] != expected:
        return "is not a valid unique pupil number (its check letter does not match)"
    return None


def read_upn(raw: str) -> Upn:
    """The UPN as stored (upper case, no spaces) and whether it is temporary; call after ``upn_problem``."""
    text = raw.strip().upper().replace(" ", "")
    return Upn(text, temporary=not text[12].isdigit())


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters after it (to make test and demo numbers)."""
    values = [int(c) if c.isdigit() else UPN_LETTERS.index(c) for c in body.upper()]
    return UPN_LETTERS[sum(v * w for v, w in zip(values, range(2, 14), strict=True)) % 23]


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None when no tenth digit makes them valid (remainder 1)."""
    check = 11 - sum(int(d) * w for d, w in zip(first_nine, _NHS_WEIGHTS, strict=True)) % 11
    return None if check == 10 else check % 11


# The Royal Mail's formats: outward code (area, district) and inward code (sector digit and unit), with
# the letters each position may hold. Lower case and missing or extra spaces are accepted and normalised.
_POSTCODE = re.compile(
    r"^(GIR0AA|[A-PR-UWYZ](?:[0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def postcode_problem(raw: str) -> str | None:
    text = re.sub(r"\s", "", raw).upper()
    if not _POSTCODE.match(text):
        return "is not a UK postcode (like SW1A 1AA)"
    return None


def normalise_postcode(raw: str) -> str:
    """Upper case with one space before the inward code ("sw1a1aa" -> "SW1A 1AA")."""
    text = re.sub(r"\s", "", raw).upper()
    return f"{text[:-3]} {text[-3:]}"
