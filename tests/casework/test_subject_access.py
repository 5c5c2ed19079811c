"""Subject access requests: due dates as the ICO reads Article 12(3) (pure), and the register for the data
protection role (SQLite and PostgreSQL): the clock waits for the identity check, an extension needs its
reason, nobody else may see or change it, and bad input is refused at its field, writing nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import NotAllowed, NotFound
from reticulist.casework import subject_access
from reticulist.casework.models import SubjectAccessRequest
from reticulist.casework.subject_access_dates import due_on
from reticulist.errors import InputError
from tests.casework.conftest import TODAY, CaseWorld
from tests.conftest import Browser


@pytest.mark.parametrize(
    "received, checked, extended, due",
    [
        (date(2026, 9, 3), None, False, date(2026, 10, 5)),  # 3 October 2026 is a Saturday
        (date(2026, 11, 10), None, False, date(2026, 12, 10)),
        (date(2027, 1, 31), None, False, date(2027, 3, 1)),  # no 31 February: its last day is a Sunday
        (date(2024, 1, 31), None, False, date(2024, 2, 29)),  # a leap year
        (date(2026, 11, 25), date(2026, 11, 28), False, date(2026, 12, 29)),  # the clock waits; Boxing Day
        (date(2026, 11, 25), date(2026, 11, 20), False, date(2026, 12, 29)),  # the clock never starts earlier
        (date(2026, 9, 3), None, True, date(2026, 12, 3)),  # extended: three months in all
        (date(2026, 7, 29), None, False, date(2026, 9, 1)),  # 29 August is a Saturday, 31st a bank holiday
    ],
)
def test_due_dates(received: date, checked: date | None, extended: bool, due: date) -> None:
    assert due_on(received, checked, extended=extended) == due


def _count(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(SubjectAccessRequest)) or 0


def _register(db: Session, cw: CaseWorld, **change: object) -> SubjectAccessRequest:
    data: dict[str, object] = {
        "family_reference": "EH-0001",
        "surname": "marsh",
        "requester": "Jo Marsh, for herself",
        "received_on": TODAY - timedelta(days=2),
    }
    data.update(change)
    return subject_access.register_request(
        db,
        actor=cw.actors["dpo"],
        partnership_id=cw.world.partnership_id,
        **data,  # type: ignore[arg-type]
    )


def test_the_register_for_the_data_protection_role(db: Session, case_world: CaseWorld) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    for change, field in [
        ({"family_reference": "EH-9999"}, "family_reference"),
        ({"surname": "Nobody"}, "surname"),
        ({"requester": ""}, "requester"),
        ({"requester": "Jo\x00"}, "requester"),
        ({"received_on": TODAY + timedelta(days=1)}, "received_on"),
        ({"identity_checked_on": TODAY - timedelta(days=5)}, "identity_checked_on"),
    ]:
        with pytest.raises(InputError) as refused:
            _register(db, case_world, **change)
        assert field in refused.value.by_field(), change
        db.rollback()
    assert _count(db) == 0
    # Two Marshes in the family (Ellie and Jo): the surname alone does not tell which; the first name does.
    with pytest.raises(InputError) as refused:
        _register(db, case_world)
    assert "give their first name too" in refused.value.by_field()["forenames"]
    db.rollback()
    with pytest.raises(InputError) as refused:
        _register(db, case_world, forenames="Zed")
    assert "nobody of that family" in refused.value.by_field()["surname"]
    db.rollback()
    assert _register(db, case_world, forenames="jo").member_id
    db.rollback()
    for persona, error in [
        ("manager", NotAllowed),
        ("lead", NotAllowed),
        ("coordinator", NotAllowed),
        ("outsider", NotFound),
    ]:
        with pytest.raises(error):
            subject_access.register(db, actor=a[persona], partnership_id=pid)


def test_the_clock_waits_for_identity_and_an_extension_needs_its_reason(
    db: Session, case_world: CaseWorld
) -> None:
    from reticulist.casework.models import FamilyMember

    a, pid = case_world.actors, case_world.world.partnership_id
    jo = db.scalar(select(FamilyMember).where(FamilyMember.forenames == "Jo"))
    assert jo is not None
    jo.surname_key = "marsh-jo"  # one person with that surname, as most requests find
    db.commit()
    request = _register(db, case_world, surname="Marsh-Jo")
    db.commit()
    (view,) = subject_access.register(db, actor=a["dpo"], partnership_id=pid)
    assert view.due is None and not view.overdue  # waiting for identity
    with pytest.raises(InputError):  # not before receipt
        subject_access.identity_checked(
            db,
            actor=a["dpo"],
            partnership_id=pid,
            request_id=request.id,
            checked_on=TODAY - timedelta(days=9),
        )
    db.rollback()
    subject_access.identity_checked(
        db, actor=a["dpo"], partnership_id=pid, request_id=request.id, checked_on=TODAY
    )
    db.commit()
    (view,) = subject_access.register(db, actor=a["dpo"], partnership_id=pid)
    assert view.due == due_on(TODAY - timedelta(days=2), TODAY)
    with pytest.raises(InputError) as refused:
        subject_access.extend(db, actor=a["dpo"], partnership_id=pid, request_id=request.id, reason=" ")
    assert "extension_reason" in refused.value.by_field()
    db.rollback()
    subject_access.extend(
        db, actor=a["dpo"], partnership_id=pid, request_id=request.id, reason="Records held by four agencies."
    )
    db.commit()
    (view,) = subject_access.register(db, actor=a["dpo"], partnership_id=pid)
    assert view.due == due_on(TODAY - timedelta(days=2), TODAY, extended=True)
    subject_access.done(db, actor=a["dpo"], partnership_id=pid, request_id=request.id, done_on=TODAY)
    db.commit()
    with pytest.raises(InputError):  # done is done
        subject_access.extend(db, actor=a["dpo"], partnership_id=pid, request_id=request.id, reason="again")
    db.rollback()
    with pytest.raises(NotFound):
        subject_access.done(
            db,
            actor=a["dpo"],
            partnership_id=case_world.world.other_partnership_id,
            request_id=request.id,
            done_on=TODAY,
        )


def test_the_page(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    pid = case_world.world.partnership_id
    people = {p: Browser(app, case_world.emails[p]) for p in ("dpo", "manager", "lead", "outsider")}
    url = f"/p/{pid}/subject-access"
    assert {p: b.get(url).status_code for p, b in people.items()} == {
        "dpo": 200,
        "manager": 403,
        "lead": 403,
        "outsider": 404,
    }
    form = {"family_reference": "EH-0001", "surname": "Marsh", "requester": "Jo", "received_on": "soon"}
    refused = people["dpo"].post(url, form)
    assert refused.status_code == 422 and "is not a date" in refused.text
    assert people["manager"].post(url, {**form, "received_on": TODAY.isoformat()}).status_code == 403
    assert _count(db) == 0
    assert (
        people["dpo"].post(f"{url}/1/identity", {"identity_checked_on_1": TODAY.isoformat()}).status_code
        == 404
    )
    assert people["dpo"].post(f"{url}/1/nonsense", {}).status_code == 404
