"""NHS numbers, unique pupil numbers and postcodes: valid ones accepted and normalised, every kind of
mistake refused with words that say which."""

from __future__ import annotations

import random

import pytest

from reticulist.casework.identifiers import (
    UPN_LETTERS,
    nhs_check_digit,
    nhs_number_problem,
    normalise_nhs_number,
    normalise_postcode,
    postcode_problem,
    read_upn,
    upn_check_letter,
    upn_problem,
)


def test_nhs_numbers_pass_their_modulus_11_check() -> None:
    assert nhs_number_problem("943 476 5919") is None  # the NHS's own published example
    assert nhs_number_problem("9434765919") is None and nhs_number_problem("943-476-5919") is None
    assert normalise_nhs_number("9434765919") == "943 476 5919"
    assert "check digit" in str(nhs_number_problem("943 476 5918"))
    assert "10 digits" in str(nhs_number_problem("943 476 591"))
    assert "10 digits" in str(nhs_number_problem("943 476 591X"))
    assert "10 digits" in str(
        nhs_number_problem("９４３４７６５９１９")
    )  # full-width digits are not digits here


def test_every_single_digit_typo_in_an_nhs_number_is_caught() -> None:
    rng = random.Random(4)
    for _ in range(200):
        first = "".join(rng.choice("0123456789") for _ in range(9))
        check = nhs_check_digit(first)
        if check is None:
            assert all(nhs_number_problem(first + d) for d in "0123456789")  # no tenth digit fits
            continue
        number = first + str(check)
        assert nhs_number_problem(number) is None
        for position in range(10):
            for digit in "0123456789":
                if digit != number[position]:
                    typo = number[:position] + digit + number[position + 1 :]
                    assert nhs_number_problem(typo), typo


def test_unique_pupil_numbers_and_their_check_letter() -> None:
    body = "820200101001"  # local authority 820, establishment 2001, year 01, serial 001
    upn = upn_check_letter(body) + body
    assert upn_problem(upn) is None and upn_problem(upn.lower()) is None
    assert read_upn(f" {upn.lower()} ").value == upn and not read_upn(upn).temporary
    wrong = next(letter for letter in UPN_LETTERS if letter != upn[0])
    assert "check letter does not match" in str(upn_problem(wrong + body))
    temporary_body = body[:-1] + "K"
    temporary = upn_check_letter(temporary_body) + temporary_body
    assert upn_problem(temporary) is None and read_upn(temporary).temporary
    for bad, words in [
        ("A12", "13 characters"),
        ("I" + body, "starts with its check letter"),
        (upn[0] + "82020010100O", "ends with a digit, or a letter"),
        (upn[0] + "8202001X1001", "11 digits after its check letter"),
    ]:
        assert words in str(upn_problem(bad)), bad


def test_a_single_changed_character_of_a_upn_is_caught() -> None:
    rng = random.Random(7)
    for _ in range(100):
        body = "".join(rng.choice("0123456789") for _ in range(12))
        upn = upn_check_letter(body) + body
        for position in range(1, 13):
            for digit in "0123456789":
                if digit != upn[position]:
                    assert upn_problem(upn[:position] + digit + upn[position + 1 :])


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("M1 1AE", "M1 1AE"),
        ("b33 8th", "B33 8TH"),
        ("CR2  6XH", "CR2 6XH"),
        ("DN55 1PT", "DN55 1PT"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("W1A 0AX", "W1A 0AX"),
    ],
)
def test_postcodes_are_accepted_and_written_one_way(raw: str, normal: str) -> None:
    assert postcode_problem(raw) is None and normalise_postcode(raw) == normal


@pytest.mark.parametrize("raw", ["", "SW1A", "QA1 1AA", "SW1A 1AAA", "1AA SW1", "SW1A 1CA", "M1 1AE; drop"])
def test_what_is_not_a_postcode_is_refused(raw: str) -> None:
    assert "is not a UK postcode" in str(postcode_problem(raw))
