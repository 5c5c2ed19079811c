"""Casework pages for every persona (SQLite and PostgreSQL): the access matrix, one audit row per read,
shielded details absent from what others are sent, and forms that refuse bad input writing nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.audit.models import AuditEvent
from reticulist.casework.models import Family, FamilyMember
from tests.casework.conftest import TODAY, CaseWorld
from tests.conftest import Browser

PERSONAS = ("lead", "team", "colleague", "coordinator", "dpo", "manager", "member", "admin", "outsider")


@pytest.fixture
def people(app, case_world: CaseWorld) -> dict[str, Browser]:  # type: ignore[no-untyped-def]
    return {p: Browser(app, case_world.emails[p]) for p in PERSONAS}


def _views(db: Session, family_id: int) -> int:
    db.rollback()
    return (
        db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.record_type == "family", AuditEvent.record_id == family_id)
            .where(AuditEvent.event == "viewed")
        )
        or 0
    )


def test_the_access_matrix_over_every_casework_page(
    people: dict[str, Browser], case_world: CaseWorld
) -> None:
    pid, fid = case_world.world.partnership_id, case_world.family_id
    base = f"/p/{pid}"
    dob = (TODAY - timedelta(days=9 * 365)).isoformat()
    expected: dict[str, dict[str, int]] = {
        f"{base}/cases": {
            "lead": 200,
            "team": 200,
            "colleague": 200,
            "coordinator": 200,
            "dpo": 200,
            "manager": 403,
            "member": 403,
            "admin": 403,
            "outsider": 404,
        },
        f"{base}/cases/new": {
            "lead": 200,
            "team": 200,
            "colleague": 200,
            "coordinator": 200,
            "dpo": 403,
            "manager": 403,
            "member": 403,
            "admin": 403,
            "outsider": 404,
        },
        f"{base}/cases/search?surname=Marsh&date_of_birth={dob}": {
            "lead": 200,
            "team": 200,
            "colleague": 200,
            "coordinator": 200,
            "dpo": 403,
            "manager": 403,
            "member": 403,
            "admin": 403,
            "outsider": 404,
        },
        f"{base}/cases/{fid}": {
            "lead": 200,
            "team": 200,
            "colleague": 404,
            "coordinator": 200,
            "dpo": 404,
            "manager": 404,
            "member": 404,
            "admin": 404,
            "outsider": 404,
        },
        f"{base}/cases/{fid}/seen": {
            "lead": 200,
            "team": 403,
            "colleague": 404,
            "coordinator": 403,
            "dpo": 200,
            "manager": 404,
            "member": 404,
            "admin": 404,
            "outsider": 404,
        },
        f"{base}/cases/{fid}/seen.csv": {
            "lead": 200,
            "team": 403,
            "colleague": 404,
            "coordinator": 403,
            "dpo": 200,
            "manager": 404,
            "member": 404,
            "admin": 404,
            "outsider": 404,
        },
        f"{base}/case-access": {
            "lead": 403,
            "team": 403,
            "colleague": 403,
            "coordinator": 403,
            "dpo": 200,
            "manager": 403,
            "member": 403,
            "admin": 403,
            "outsider": 404,
        },
    }
    for url, by_persona in expected.items():
        got = {p: people[p].get(url).status_code for p in PERSONAS}
        assert got == by_persona, url
    # A family that does not exist, and one reached through another partnership's address, answer as a
    # family one may not see does.
    missing = people["lead"].get(f"{base}/cases/{fid + 1000}")
    elsewhere = people["lead"].get(f"/p/{case_world.world.other_partnership_id}/cases/{fid}")
    hidden = people["colleague"].get(f"{base}/cases/{fid}")
    assert missing.status_code == elsewhere.status_code == hidden.status_code == 404
    main = re.compile(r"<main.*</main>", re.S)
    assert main.search(missing.text).group() == main.search(hidden.text).group()  # type: ignore[union-attr]
    nav = people["manager"].get(f"{base}/people").text
    assert (
        f'href="{base}/cases"' not in nav
        and f'href="{base}/cases"' in people["lead"].get(f"{base}/people").text
    )


def test_every_opening_of_the_record_is_audited_once(
    people: dict[str, Browser], case_world: CaseWorld, db: Session
) -> None:
    url = f"/p/{case_world.world.partnership_id}/cases/{case_world.family_id}"
    before = _views(db, case_world.family_id)
    for persona in ("lead", "team", "coordinator", "lead"):
        assert people[persona].get(url).status_code == 200
    for persona in ("colleague", "manager", "dpo"):
        assert people[persona].get(url).status_code == 404
    assert _views(db, case_world.family_id) == before + 4
    seen = people["dpo"].get(f"{url}/seen").text
    assert seen.count("team member") >= 1 and "lead practitioner" in seen and "early help coordinator" in seen
    assert "team member (involvement " in seen
    exported = people["dpo"].get(f"{url}/seen.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    lines = exported.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("when (UTC),who,event,what,through") and len(lines) > 5
    assert any("early help coordinator" in line for line in lines)


def test_shielded_details_are_never_sent_to_those_not_allowed(
    people: dict[str, Browser], case_world: CaseWorld
) -> None:
    url = f"/p/{case_world.world.partnership_id}/cases/{case_world.family_id}"
    for persona in ("lead", "coordinator"):
        page = people[persona].get(url).text
        assert "Refuge, somewhere" in page and "BN2 9ZZ" in page
    page = people["team"].get(url).text
    assert "Refuge, somewhere" not in page and "BN2 9ZZ" not in page and "Refuge" not in page
    assert "Not shown: do not disclose location." in page and "1 Canal Row" in page


def _family_form(case_world: CaseWorld, **extra: str) -> dict[str, str]:
    form = {
        "reference": "EH-0100",
        "child_forenames": "Noah",
        "child_surname": "Green",
        "child_date_of_birth": (TODAY - timedelta(days=6 * 365)).isoformat(),
        "child_sex": "male",
        "child_nhs_number": "",
        "child_upn": "",
        "address_lines": "4 Mill Lane, Brempton",
        "address_postcode": "bn3 2ab",
        "adult_forenames": "Kim",
        "adult_surname": "Green",
        "adult_relationship": "father",
        "adult_parental_responsibility": "yes",
        "requested_by": "Health visitor",
        "request_reason": "Sleep and behaviour at home",
        "requested_on": (TODAY - timedelta(days=3)).isoformat(),
        "agreed_by": "adult",
        "agreed_on": (TODAY - timedelta(days=2)).isoformat(),
        "opened_on": TODAY.isoformat(),
        "lead_person_id": str(case_world.person_ids["colleague"]),
        "lead_role": "Family support worker",
        "family_had_say": "yes",
    }
    form.update(extra)
    return form


def _families(db: Session) -> tuple[int, int]:
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(Family)) or 0,
        db.scalar(select(func.count()).select_from(FamilyMember)) or 0,
    )


def test_a_practitioner_records_a_family_and_bad_forms_write_nothing(
    people: dict[str, Browser], case_world: CaseWorld, db: Session
) -> None:
    base = f"/p/{case_world.world.partnership_id}/cases"
    before = _families(db)
    cases = [
        ({"child_nhs_number": "943 476 5918"}, "check digit does not match"),
        ({"child_upn": "B820200101001"}, "check letter does not match"),
        ({"address_postcode": "NOT A CODE"}, "is not a UK postcode"),
        ({"child_surname": ""}, "is required"),
        ({"reference": "EH-0001"}, "another family already has this reference"),
        ({"adult_parental_responsibility": "no"}, "does not hold parental responsibility"),
        ({"agreed_on": (TODAY - timedelta(days=30)).isoformat()}, "is before the request for support"),
        ({"lead_person_id": "999999"}, "no such person in this partnership"),
        ({"lead_person_id": "banana"}, "is not a record number"),
        ({"child_date_of_birth": "2019-02-30"}, "is not a date"),
        ({"child_forenames": "No\x00ah"}, "control character"),
    ]
    for change, words in cases:
        response = people["lead"].post(f"{base}/new", _family_form(case_world, **change))
        assert response.status_code == 422 and words in response.text, (change, response.text[-3000:])
        assert _families(db) == before
    assert people["manager"].post(f"{base}/new", _family_form(case_world)).status_code == 403
    assert people["outsider"].post(f"{base}/new", _family_form(case_world)).status_code == 404
    assert _families(db) == before
    created = people["lead"].post(f"{base}/new", _family_form(case_world))
    assert created.status_code == 303
    url = created.headers["location"].split("?")[0]
    page = people["lead"].get(url).text  # the recorder joined the team, so keeps sight of the record
    assert "Family EH-0100" in page and "Noah Green" in page and "BN3 2AB" in page and "team member" in page
    assert people["colleague"].get(url).status_code == 200  # the lead they named
    assert people["team"].get(url).status_code == 404
    assert _families(db) == (before[0] + 1, before[1] + 2)


def test_the_lead_changes_the_team_and_closes_the_episode(
    people: dict[str, Browser], case_world: CaseWorld, db: Session
) -> None:
    url = f"/p/{case_world.world.partnership_id}/cases/{case_world.family_id}"
    colleague = str(case_world.person_ids["colleague"])
    join = {"person_id": colleague, "role": "Youth worker", "from_on": TODAY.isoformat()}
    assert people["team"].post(f"{url}/team", join).status_code == 403  # only the lead or coordinator
    assert people["colleague"].get(url).status_code == 404
    bad = people["lead"].post(f"{url}/team", {**join, "from_on": "2000-01-01"})
    assert bad.status_code == 422 and "is before the episode opened" in bad.text
    assert people["lead"].post(f"{url}/team", join).status_code == 303
    assert "Youth worker" in people["colleague"].get(url).text
    again = people["lead"].post(f"{url}/team", join)
    assert again.status_code == 422 and "Colleague Practitioner is already in the team" in again.text
    close = {"closed_on": TODAY.isoformat(), "outcome": "stepped_down"}
    assert people["team"].post(f"{url}/close", close).status_code == 403
    refused = people["lead"].post(f"{url}/close", {**close, "outcome": "vanished"})
    assert refused.status_code == 422 and "is not one of" in refused.text
    done = people["lead"].post(f"{url}/close", close)
    assert done.status_code == 303 and done.headers["location"].startswith(
        f"/p/{case_world.world.partnership_id}/cases"
    )
    for persona in ("lead", "team", "colleague"):
        assert people[persona].get(url).status_code == 404
    assert "Stepped down to universal services" in people["coordinator"].get(url).text


def test_with_many_practitioners_the_team_and_lead_are_found_by_search(
    people: dict[str, Browser], case_world: CaseWorld, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PICK_FROM_LIST practitioners (here 1, the world has three) the forms search by name or email
    instead of listing everyone; one match is taken, several are offered to choose from, none is refused
    at the field, and nothing is written until one is chosen."""
    from reticulist.casework import routes

    monkeypatch.setattr(routes, "PICK_FROM_LIST", 1)
    pid = case_world.world.partnership_id
    url = f"/p/{pid}/cases/{case_world.family_id}"
    page = people["lead"].get(url).text
    assert 'name="person_id_search"' in page and "Colleague Practitioner" not in page
    join = {"role": "Youth worker", "from_on": TODAY.isoformat()}
    for search, words in [
        ("nobody-like-this", "no practitioner who logs in matches this"),
        ("No\x00ah", "control character"),
        ("x" * 201, "at most 200 characters"),
        ("", "is required"),
    ]:
        refused = people["lead"].post(f"{url}/team", {**join, "person_id_search": search})
        assert refused.status_code == 422 and words in refused.text, search
    several = people["lead"].post(f"{url}/team", {**join, "person_id_search": "PRACTITIONER"})
    assert several.status_code == 422 and "3 practitioners match: choose one" in several.text
    assert "Colleague Practitioner (" in several.text and "Practitioners matching" in several.text
    assert people["colleague"].get(url).status_code == 404  # nothing written yet
    # One match (by email, any case) is taken; so is a choice from the matches.
    assert (
        people["lead"].post(f"{url}/team", {**join, "person_id_search": "Colleague@Case"}).status_code == 303
    )
    assert "Youth worker" in people["colleague"].get(url).text
    # Recording a family: the lead practitioner is searched for the same way.
    form = _family_form(case_world, reference="EH-0200")
    del form["lead_person_id"]
    assert 'name="lead_person_id_search"' in people["lead"].get(f"/p/{pid}/cases/new").text
    chosen = people["lead"].post(
        f"/p/{pid}/cases/new",
        {
            **form,
            "lead_person_id_search": "practitioner",
            "lead_person_id": str(case_world.person_ids["team"]),
        },
    )
    assert chosen.status_code == 303
    assert people["team"].get(chosen.headers["location"].split("?")[0]).status_code == 200
    before = _families(db)
    assert (
        people["lead"]
        .post(
            f"/p/{pid}/cases/new",
            {
                **_family_form(case_world, reference="EH-0201"),
                "lead_person_id": "",
                "lead_person_id_search": "zz",
            },
        )
        .status_code
        == 422
    )
    assert _families(db) == before


def test_is_this_child_known_on_the_page(
    people: dict[str, Browser], case_world: CaseWorld, db: Session
) -> None:
    base = f"/p/{case_world.world.partnership_id}/cases/search"
    dob = (TODAY - timedelta(days=9 * 365)).isoformat()
    page = people["colleague"].get(f"{base}?surname=marsh&date_of_birth={dob}").text
    assert "Known to early help." in page and "Lead Practitioner" in page and "lead@case.example.org" in page
    assert f'/cases/{case_world.family_id}"' not in page  # not in the team: no way into the record
    assert (
        f'/cases/{case_world.family_id}"'
        in people["team"].get(f"{base}?surname=marsh&date_of_birth={dob}").text
    )
    assert (
        "No child with that surname"
        in people["colleague"].get(f"{base}?surname=Marsh&date_of_birth=2001-01-01").text
    )
    for query, words in [
        ("surname=Marsh&date_of_birth=31-31-2020", "is not a date"),
        ("date_of_birth=" + dob, "is required"),
    ]:
        bad = people["colleague"].get(f"{base}?{query}")
        assert bad.status_code == 422 and words in bad.text
    db.rollback()
    searches = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.record_type == "child_search")
    )
    assert searches == 3  # the refused searches found nothing and are not searches


def test_data_protection_finds_a_family_by_reference(
    people: dict[str, Browser], case_world: CaseWorld
) -> None:
    base = f"/p/{case_world.world.partnership_id}/case-access"
    found = people["dpo"].get(f"{base}?reference=EH-0001")
    assert found.status_code == 303 and found.headers["location"].endswith(
        f"/cases/{case_world.family_id}/seen"
    )
    missing = people["dpo"].get(f"{base}?reference=EH-9999")
    assert missing.status_code == 422 and "no family has this reference" in missing.text
    assert people["dpo"].get(f"{base}?reference=EH%00").status_code == 422
    assert people["lead"].get(f"{base}?reference=EH-0001").status_code == 403
