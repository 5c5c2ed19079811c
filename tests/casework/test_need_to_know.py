"""Need-to-know, enforced in the service layer (SQLite and PostgreSQL): who may see a family's record,
that every read is audited with the route it took, what shielding hides, and that bad input and races
change nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reticulist.access import service as accounts
from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit import service as audit
from reticulist.audit.models import AuditEvent
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import Episode, Family, FamilyMember, LeadPractitioner
from reticulist.errors import InputError
from reticulist.register import schemas as s
from tests.casework.conftest import ROOT, TODAY, CaseWorld, family_data
from tests.conftest import PASSWORD

NOT_INVOLVED = ("colleague", "dpo", "manager", "member", "admin", "outsider")


def _reads(db: Session, family_id: int) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEvent)
            .where(AuditEvent.record_type == "family", AuditEvent.record_id == family_id)
            .where(AuditEvent.event == "viewed")
            .order_by(AuditEvent.id)
        )
    )


def test_who_may_see_a_familys_record_and_how_the_audit_says_so(db: Session, case_world: CaseWorld) -> None:
    a, fid = case_world.actors, case_world.family_id
    expected = {"lead": "lead practitioner", "team": "team member", "coordinator": "early help coordinator"}
    for persona, route in expected.items():
        record = casework.family_record(db, actor=a[persona], family_id=fid)
        assert record.reference == "EH-0001" and record.access.route == route
    for persona in NOT_INVOLVED:
        with pytest.raises(NotFound) as refused:
            casework.family_record(db, actor=a[persona], family_id=fid)
        assert str(refused.value) == "No such family."
    with pytest.raises(NotFound) as missing:
        casework.family_record(db, actor=a["lead"], family_id=fid + 1000)
    assert str(missing.value) == "No such family."  # the same words as for a family one may not see
    db.commit()
    reads = _reads(db, fid)
    assert [r.after["access"] for r in reads] == list(expected.values())  # type: ignore[index]
    assert [r.actor_label for r in reads] == [case_world.emails[p] for p in expected]
    assert reads[0].after["involvement_id"] and reads[2].after["involvement_id"] is None  # type: ignore[index]
    assert all(case_world.world.emails["member"] != r.actor_label for r in reads)


def test_shielded_addresses_are_shown_to_the_lead_and_coordinator_only(
    db: Session, case_world: CaseWorld
) -> None:
    a, fid = case_world.actors, case_world.family_id
    for persona, sees in [("lead", True), ("coordinator", True), ("team", False)]:
        record = casework.family_record(db, actor=a[persona], family_id=fid)
        child, mother = record.members
        assert [x.postcode for x in child.addresses] == ["BN1 1AA"]
        assert child.nhs_number == "943 476 5919"
        shown = [x.lines for x in mother.addresses]
        assert (shown == ["Refuge, somewhere"]) is sees and mother.addresses_withheld == (0 if sees else 1)
        assert mother.shielded


def test_the_team_members_sight_ends_with_the_episode(db: Session, case_world: CaseWorld) -> None:
    a, fid, eid = case_world.actors, case_world.family_id, case_world.episode_id
    close = cs.EpisodeClose(closed_on=TODAY, outcome="needs_met")
    with pytest.raises(NotAllowed):
        casework.close_episode(db, actor=a["team"], episode_id=eid, data=close)
    with pytest.raises(InputError) as early:
        casework.close_episode(
            db,
            actor=a["lead"],
            episode_id=eid,
            data=cs.EpisodeClose(closed_on=TODAY - timedelta(days=90), outcome="moved_away"),
        )
    assert early.value.by_field() == {"closed_on": "is before the episode opened"}
    casework.close_episode(db, actor=a["lead"], episode_id=eid, data=close)
    db.commit()
    for persona in ("lead", "team"):
        with pytest.raises(NotFound):
            casework.family_record(db, actor=a[persona], family_id=fid)
    assert casework.family_record(db, actor=a["coordinator"], family_id=fid).open_episode is None


def test_the_lead_hands_over_and_history_is_kept(db: Session, case_world: CaseWorld) -> None:
    a, fid, eid = case_world.actors, case_world.family_id, case_world.episode_id
    record = casework.family_record(db, actor=a["lead"], family_id=fid)
    team = {m.name: m for m in record.episodes[0].team}
    nurse = team["Team Practitioner"]
    with pytest.raises(NotAllowed):
        casework.change_lead(
            db,
            actor=a["team"],
            episode_id=eid,
            data=cs.LeadChange(involvement_id=nurse.involvement_id, from_on=TODAY),
        )
    casework.change_lead(
        db,
        actor=a["lead"],
        episode_id=eid,
        data=cs.LeadChange(involvement_id=nurse.involvement_id, from_on=TODAY, family_had_say=True),
    )
    db.commit()
    assert casework.family_record(db, actor=a["team"], family_id=fid).access.route == "lead practitioner"
    assert casework.family_record(db, actor=a["lead"], family_id=fid).access.route == "team member"
    leads = casework.family_record(db, actor=a["team"], family_id=fid).episodes[0].leads
    assert [(name, to_on) for name, _from, to_on, _say in leads] == [
        ("Lead Practitioner", TODAY - timedelta(days=1)),
        ("Team Practitioner", None),
    ]
    # The database keeps one current lead even if the service were bypassed.
    db.add(LeadPractitioner(episode_id=eid, involvement_id=nurse.involvement_id, from_on=TODAY))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()


def _counts(db: Session) -> tuple[int, int, int]:
    db.rollback()
    return (
        db.scalar(select(func.count()).select_from(Family)) or 0,
        db.scalar(select(func.count()).select_from(FamilyMember)) or 0,
        db.scalar(select(func.count()).select_from(Episode)) or 0,
    )


def _member(**extra: Any) -> dict[str, Any]:
    return {"kind": "child", "forenames": "Sam", "surname": "Lee", **extra}


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        (
            {"members": [_member(nhs_number="943 476 5918")]},
            "members.0.nhs_number",
            "check digit does not match",
        ),
        ({"members": [_member(nhs_number="12")]}, "members.0.nhs_number", "an NHS number is 10 digits"),
        ({"members": [_member(upn="A123")]}, "members.0.upn", "13 characters"),
        ({"members": [_member(upn="A820200101001")]}, "members.0.upn", "check letter does not match"),
        ({"members": [_member(date_of_birth="31/02/2020")]}, "members.0.date_of_birth", "is not a date"),
        (
            {"members": [_member(address={"lines": "x", "postcode": "NOPE", "from_on": "2024-01-01"})]},
            "members.0.address.postcode",
            "is not a UK postcode",
        ),
        ({"members": []}, "members", "at least one person"),
        ({"members": [{**_member(), "kind": "adult"}]}, "members", "at least one child"),
        ({"agreed_by": 7}, "agreed_by", "is not one of the family's 2 people"),
        ({"reference": ""}, "reference", "is required"),
        ({"members": [_member(forenames="Sa\u202em")]}, "members.0.forenames", "text-direction control"),
    ],
)
def test_bad_family_records_are_refused_naming_the_field_and_nothing_is_written(
    db: Session, case_world: CaseWorld, change: dict[str, Any], field: str, words: str
) -> None:
    before = _counts(db)
    data = {**family_data(None, case_world.person_ids["lead"], reference="EH-0002"), **change}
    if "members" in change and change["members"] and "agreed_by" not in change:
        data["agreed_by"] = 1
    with pytest.raises(InputError) as refused:
        casework.record_family(
            db,
            actor=case_world.actors["lead"],
            partnership_id=case_world.world.partnership_id,
            data=cs.parse(cs.FamilyCreate, data),
        )
    problems = refused.value.by_field()
    assert field in problems and words in problems[field], problems
    assert _counts(db) == before


def test_service_rules_refuse_with_words_and_write_nothing(db: Session, case_world: CaseWorld) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    before = _counts(db)
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"reference": "EH-0001"}, "reference", "another family already has this reference"),
        (
            {
                "agreed_by": 1,
                "members": [_member(), {"kind": "adult", "forenames": "Al", "surname": "Lee"}],
                "reference": "EH-0003",
            },
            "agreed_by",
            None,
        ),
        ({"reference": "EH-0004", "agreed_by": 2}, "agreed_by", "does not hold parental responsibility"),
        (
            {
                "reference": "EH-0005",
                "episode": {**family_data(None, 1)["episode"], "lead_person_id": 999999},
            },
            "lead_person_id",
            "no such person in this partnership's register",
        ),
    ]
    for change, field, words in cases:
        data = {**family_data(None, case_world.person_ids["lead"]), **change}
        if change.get("agreed_by") == 2 and "members" not in change:
            data["members"] = [_member(), {"kind": "adult", "forenames": "Al", "surname": "Lee"}]
        parsed = cs.parse(cs.FamilyCreate, data)
        if words is None:  # a child agreeing is accepted: check the rule does not over-reach
            family = casework.record_family(db, actor=a["lead"], partnership_id=pid, data=parsed)
            assert family.id
            db.rollback()
            continue
        with pytest.raises(InputError) as refused:
            casework.record_family(db, actor=a["lead"], partnership_id=pid, data=parsed)
        assert words in refused.value.by_field().get(field, ""), refused.value.by_field()
        db.rollback()
        assert _counts(db) == before
    for persona in ("manager", "member", "dpo"):
        with pytest.raises((NotAllowed, NotFound)):
            casework.record_family(
                db,
                actor=a[persona],
                partnership_id=pid,
                data=cs.parse(cs.FamilyCreate, family_data(None, 1, reference="EH-9")),
            )
    assert _counts(db) == before


def test_a_second_open_episode_is_refused_by_the_service_and_the_database(
    db: Session, case_world: CaseWorld, session_factory: sessionmaker[Session]
) -> None:
    a, fid = case_world.actors, case_world.family_id
    record = casework.family_record(db, actor=a["lead"], family_id=fid)
    episode = {
        **family_data(None, case_world.person_ids["lead"])["episode"],
        "agreed_by_member_id": record.members[1].id,
    }
    with pytest.raises(InputError) as refused:
        casework.open_episode(db, actor=a["lead"], family_id=fid, data=cs.parse(cs.EpisodeOpen, episode))
    assert refused.value.by_field() == {"episode": "this family already has an open episode"}
    db.rollback()
    # Two requests that both passed the check: the database refuses the second, in the same words.
    with session_factory() as other:
        family = other.get(Family, fid)
        mother = other.get(FamilyMember, record.members[1].id)
        assert family is not None and mother is not None
        with pytest.raises(InputError) as raced:
            request = s.parse(
                cs.EpisodeRequest, {k: v for k, v in episode.items() if k != "agreed_by_member_id"}
            )
            casework._open(other, a["lead"], family, request, mother)
        assert raced.value.by_field() == {"episode": "this family already has an open episode"}
        other.rollback()
    assert _counts(db)[2] == 1


def test_is_this_child_known_tells_whom_to_contact_and_is_audited(db: Session, case_world: CaseWorld) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    dob = TODAY - timedelta(days=9 * 365)
    query = cs.ChildSearch(surname="MARSH", date_of_birth=dob)
    for persona, opens in [("colleague", False), ("lead", True), ("coordinator", True)]:
        (found,) = casework.search_child(db, actor=a[persona], partnership_id=pid, data=query)
        assert found.lead_name == "Lead Practitioner" and found.lead_email == "lead@case.example.org"
        assert (found.family_id == case_world.family_id) is opens
    assert (
        casework.search_child(
            db,
            actor=a["colleague"],
            partnership_id=pid,
            data=cs.ChildSearch(surname="Marsh", date_of_birth=dob, forenames="Zed"),
        )
        == []
    )
    assert (
        casework.search_child(
            db,
            actor=a["colleague"],
            partnership_id=pid,
            data=cs.ChildSearch(surname="Marsh", date_of_birth=dob - timedelta(days=1)),
        )
        == []
    )
    for persona in ("manager", "member", "dpo", "outsider"):
        with pytest.raises((NotAllowed, NotFound)):
            casework.search_child(db, actor=a[persona], partnership_id=pid, data=query)
    db.commit()
    searches = db.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "child_search").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_label, e.after["results"]) for e in searches] == [  # type: ignore[index]
        ("colleague@case.example.org", 1),
        ("lead@case.example.org", 1),
        ("coordinator@case.example.org", 1),
        ("colleague@case.example.org", 0),
        ("colleague@case.example.org", 0),
    ]
    assert searches[0].after["surname"] == "MARSH" and searches[0].after["date_of_birth"] == dob.isoformat()  # type: ignore[index]


def test_caseloads_list_current_families_only_and_are_audited(db: Session, case_world: CaseWorld) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    (line,) = casework.my_caseload(db, actor=a["lead"], partnership_id=pid)
    assert line.leads and line.children == "Ellie" and line.reference == "EH-0001"
    (line,) = casework.my_caseload(db, actor=a["team"], partnership_id=pid)
    assert not line.leads and line.my_role == "School nurse"
    assert casework.my_caseload(db, actor=a["colleague"], partnership_id=pid) == []
    assert casework.my_caseload(db, actor=a["coordinator"], partnership_id=pid) == []  # no register person
    db.commit()
    listed = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "caseload")).all()
    assert sorted(e.actor_label for e in listed) == ["lead@case.example.org", "team@case.example.org"]


def test_who_has_seen_the_record_for_the_lead_and_data_protection_only(
    db: Session, case_world: CaseWorld
) -> None:
    a, fid, pid = case_world.actors, case_world.family_id, case_world.world.partnership_id
    casework.family_record(db, actor=a["team"], family_id=fid)
    casework.family_record(db, actor=a["coordinator"], family_id=fid)
    db.commit()
    for persona in ("lead", "dpo"):
        events = casework.who_has_seen(db, actor=a[persona], family_id=fid)
        viewers = [e.actor_label for e in events if e.event == "viewed"]
        assert viewers[:2] == ["coordinator@case.example.org", "team@case.example.org"]
    with pytest.raises(NotAllowed):
        casework.who_has_seen(db, actor=a["team"], family_id=fid)
    for persona in ("colleague", "manager", "member", "outsider"):
        with pytest.raises(NotFound):
            casework.who_has_seen(db, actor=a[persona], family_id=fid)
    db.commit()
    # The register's audit log: managers and admins see no case events; the data protection role does.
    manager_view = audit.list_events(db, actor=a["manager"], partnership_id=pid, per_page=1000).events
    assert not any(e.record_type in audit.CASE_RECORD_TYPES for e in manager_view)
    dpo_view = audit.list_events(db, actor=a["dpo"], partnership_id=pid, per_page=1000).events
    assert {"family", "episode", "involvement"} <= {e.record_type for e in dpo_view}


def test_a_login_is_linked_to_one_register_person(db: Session, case_world: CaseWorld) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    lead_user = a["lead"].user_id
    assert lead_user is not None
    with pytest.raises(InputError) as twice:
        casework.link_practitioner(
            db,
            actor=a["admin"],
            partnership_id=pid,
            user_id=lead_user,
            person_id=case_world.person_ids["colleague"],
        )
    assert twice.value.by_field() == {"user": "that account is already linked to a person here"}
    db.rollback()
    other = accounts.create_user(
        db, actor=ROOT, email="other@case.example.org", display_name="O", password=PASSWORD
    )
    with pytest.raises(InputError) as taken:
        casework.link_practitioner(
            db,
            actor=a["admin"],
            partnership_id=pid,
            user_id=other.id,
            person_id=case_world.person_ids["lead"],
        )
    assert taken.value.by_field() == {"person_id": "that person already has a login linked to them"}
    db.rollback()
    for persona in ("manager", "member", "lead"):
        with pytest.raises(NotAllowed):
            casework.link_practitioner(
                db, actor=a[persona], partnership_id=pid, user_id=lead_user, person_id=1
            )


def test_a_practitioner_who_leaves_the_partnership_loses_sight_of_the_record(
    db: Session, case_world: CaseWorld
) -> None:
    from reticulist.register import service as register

    a, fid, pid = case_world.actors, case_world.family_id, case_world.world.partnership_id
    register.end_person(db, actor=ROOT, person_id=case_world.person_ids["team"], ended_on=TODAY)
    db.commit()
    assert (
        casework.family_record(db, actor=a["team"], family_id=fid).access.route == "team member"
    )  # last day
    # A day later (the end date moved back, as time would): no sight of the record, no caseload.
    from reticulist.register.models import Person

    person = db.get(Person, case_world.person_ids["team"])
    assert person is not None
    person.ended_on = TODAY - timedelta(days=1)
    db.commit()
    with pytest.raises(NotFound):
        casework.family_record(db, actor=a["team"], family_id=fid)
    assert casework.my_caseload(db, actor=a["team"], partnership_id=pid) == []
