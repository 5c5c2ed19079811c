"""Break-glass (SQLite and PostgreSQL): a practitioner not in the team opens a record in an emergency with a
written reason, reads it (without shielded addresses, without changing it) until the time limit, then
finds it closed again; every use is audited, waits for the data protection role's review, and repeated use
is flagged. Tried as an attacker too: no reason, a family of another partnership, after expiry, writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit.models import AuditEvent
from reticulist.casework import break_glass
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import BreakGlass
from reticulist.db.base import utcnow
from reticulist.errors import InputError
from tests.casework.conftest import TODAY, CaseWorld
from tests.conftest import APP_SECRET, Browser

REASON = "Police called out of hours: child reported missing, need the contacts of the family."


def _uses(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(BreakGlass)) or 0


def _open(db: Session, cw: CaseWorld, persona: str = "colleague", reason: str = REASON) -> BreakGlass:
    use = break_glass.open_break_glass(
        db,
        actor=cw.actors[persona],
        partnership_id=cw.world.partnership_id,
        family_id=cw.family_id,
        reason=reason,
    )
    db.commit()
    return use


def test_emergency_access_reads_audited_without_shielded_details_until_it_expires(
    db: Session, case_world: CaseWorld
) -> None:
    a, fid = case_world.actors, case_world.family_id
    with pytest.raises(NotFound):
        casework.family_record(db, actor=a["colleague"], family_id=fid)
    use = _open(db, case_world)
    assert use.expires_at - use.opened_at == timedelta(minutes=60)
    record = casework.family_record(db, actor=a["colleague"], family_id=fid)
    db.commit()
    assert record.access.route == "break-glass" and record.access.break_glass_id == use.id
    assert not record.access.sees_shielded
    mother = record.members[1]
    assert mother.addresses == [] and mother.addresses_withheld  # the refuge stays hidden
    read = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_id == fid, AuditEvent.event == "viewed")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert read is not None and f"break-glass (use {use.id})" in read.summary
    assert read.after["break_glass_id"] == use.id
    opened = db.scalar(select(AuditEvent).where(AuditEvent.event == "break-glass"))
    assert opened is not None and opened.after["reason"] == REASON
    # Reading only: no note, no plan, no team change.
    note = cs.NoteCreate(happened_on=TODAY, kind="phone_call", text="Rang the mother.")
    with pytest.raises(NotAllowed):
        casework.add_note(db, actor=a["colleague"], family_id=fid, data=note)
    db.rollback()
    # The lead sees the use among who has seen the record.
    seen = casework.who_has_seen(db, actor=a["lead"], family_id=fid)
    assert any(e.event == "break-glass" for e in seen) and any("break-glass (use" in e.summary for e in seen)
    db.rollback()
    # Expired: not found again, as for any family they may not see.
    db.execute(
        update(BreakGlass).where(BreakGlass.id == use.id).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()
    with pytest.raises(NotFound):
        casework.family_record(db, actor=a["colleague"], family_id=fid)


@pytest.mark.parametrize(
    "reason, words",
    [
        ("", "at least 20 characters"),
        ("urgent", "at least 20 characters"),
        ("   " + "x" * 10 + "   ", "at least 20 characters"),
        ("Child missing \x00 need contacts now please", "control character"),
        ("x" * 2001, "at most 2000 characters"),
    ],
)
def test_a_reason_is_required_and_nothing_is_opened_without_one(
    db: Session, case_world: CaseWorld, reason: str, words: str
) -> None:
    with pytest.raises(InputError) as refused:
        _open(db, case_world, reason=reason)
    assert list(refused.value.by_field()) == ["reason"] and words in refused.value.by_field()["reason"]
    assert _uses(db) == 0


def test_who_may_break_glass_and_into_what(db: Session, case_world: CaseWorld) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    for persona, error in [
        ("manager", NotAllowed),
        ("member", NotAllowed),
        ("dpo", NotAllowed),
        ("outsider", NotFound),
    ]:
        with pytest.raises(error):
            _open(db, case_world, persona)
        db.rollback()
    for family_id in (999_999, -1):
        with pytest.raises(NotFound):
            break_glass.open_break_glass(
                db, actor=a["colleague"], partnership_id=pid, family_id=family_id, reason=REASON
            )
    # A family of another partnership, through this partnership's door: not found.
    with pytest.raises(NotFound):
        break_glass.open_break_glass(
            db,
            actor=a["colleague"],
            partnership_id=case_world.world.other_partnership_id,
            family_id=case_world.family_id,
            reason=REASON,
        )
    assert _uses(db) == 0


def test_the_data_protection_role_reviews_each_use_and_repeated_use_is_flagged(
    db: Session, case_world: CaseWorld
) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    for _ in range(3):
        _open(db, case_world)
    assert break_glass.waiting_count(db, actor=a["dpo"], partnership_id=pid) == 3
    assert break_glass.waiting_count(db, actor=a["manager"], partnership_id=pid) is None
    queue = break_glass.review_queue(db, actor=a["dpo"], partnership_id=pid)
    assert len(queue) == 3 and all(u.repeated and u.uses_by_them == 3 for u in queue)
    assert queue[0].reason == REASON and queue[0].family_reference == "EH-0001"
    for persona, error in [
        ("manager", NotAllowed),
        ("lead", NotAllowed),
        ("coordinator", NotAllowed),
        ("outsider", NotFound),
    ]:
        with pytest.raises(error):
            break_glass.review_queue(db, actor=a[persona], partnership_id=pid)
    use_id = queue[0].id
    for verdict, note, field in [
        ("maybe", "x", "verdict"),
        ("justified", "", "note"),
        ("justified", "a\x00b", "note"),
    ]:
        with pytest.raises(InputError) as refused:
            break_glass.review_use(
                db, actor=a["dpo"], partnership_id=pid, use_id=use_id, verdict=verdict, note=note
            )
        assert list(refused.value.by_field()) == [field]
        db.rollback()
    break_glass.review_use(
        db,
        actor=a["dpo"],
        partnership_id=pid,
        use_id=use_id,
        verdict="not_justified",
        note="Could have rung the lead.",
    )
    db.commit()
    with pytest.raises(InputError):
        break_glass.review_use(
            db, actor=a["dpo"], partnership_id=pid, use_id=use_id, verdict="justified", note="x"
        )
    db.rollback()
    with pytest.raises(NotFound):
        break_glass.review_use(
            db,
            actor=a["dpo"],
            partnership_id=case_world.world.other_partnership_id,
            use_id=use_id,
            verdict="justified",
            note="x",
        )
    assert break_glass.waiting_count(db, actor=a["dpo"], partnership_id=pid) == 2


def test_the_time_limit_is_set_per_partnership(db: Session, case_world: CaseWorld) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    for bad in (4, 721, 0, -5, True):
        with pytest.raises(InputError):
            break_glass.set_minutes(db, actor=a["dpo"], partnership_id=pid, minutes=bad)  # type: ignore[arg-type]
        db.rollback()
    with pytest.raises(NotAllowed):
        break_glass.set_minutes(db, actor=a["manager"], partnership_id=pid, minutes=15)
    break_glass.set_minutes(db, actor=a["dpo"], partnership_id=pid, minutes=15)
    db.commit()
    use = _open(db, case_world)
    assert use.expires_at - use.opened_at == timedelta(minutes=15)


def test_the_pages_from_search_to_review(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    pid, fid = case_world.world.partnership_id, case_world.family_id
    people = {
        p: Browser(app, case_world.emails[p])
        for p in ("colleague", "lead", "dpo", "manager", "member", "outsider")
    }
    dob = (TODAY - timedelta(days=9 * 365)).isoformat()
    found = people["colleague"].get(f"/p/{pid}/cases/search?surname=Marsh&date_of_birth={dob}").text
    assert f"/p/{pid}/cases/{fid}/break-glass" in found and "emergency access" in found
    assert (
        f"/p/{pid}/cases/{fid}/break-glass"
        not in people["lead"].get(f"/p/{pid}/cases/search?surname=Marsh&date_of_birth={dob}").text
    )
    form = f"/p/{pid}/cases/{fid}/break-glass"
    assert people["colleague"].get(form).status_code == 200
    assert people["colleague"].get(f"/p/{pid}/cases/999999/break-glass").status_code == 200  # says nothing
    assert {p: people[p].get(form).status_code for p in ("manager", "member", "dpo", "outsider")} == {
        "manager": 403,
        "member": 403,
        "dpo": 403,
        "outsider": 404,
    }
    short = people["colleague"].post(form, {"reason": "urgent"})
    assert short.status_code == 422 and "at least 20 characters" in short.text
    assert (
        people["colleague"].post(f"/p/{pid}/cases/999999/break-glass", {"reason": REASON}).status_code == 404
    )
    assert _uses(db) == 0
    opened = people["colleague"].post(form, {"reason": REASON})
    assert opened.status_code == 303 and opened.headers["location"].startswith(f"/p/{pid}/cases/{fid}")
    page = people["colleague"].get(f"/p/{pid}/cases/{fid}").text
    assert "Emergency access until" in page and "Add the note" not in page and "Refuge" not in page
    assert (
        people["colleague"]
        .post(
            f"/p/{pid}/cases/{fid}/notes",
            {"happened_on": TODAY.isoformat(), "kind": "phone_call", "text": "x"},
        )
        .status_code
        == 403
    )
    # The data protection officer is told (their menu), reviews, and the count goes.
    assert "1 to review" in people["dpo"].get(f"/p/{pid}/case-access").text
    queue = people["dpo"].get(f"/p/{pid}/break-glass")
    assert queue.status_code == 200 and REASON in queue.text
    assert {
        p: people[p].get(f"/p/{pid}/break-glass").status_code for p in ("manager", "lead", "outsider")
    } == {
        "manager": 403,
        "lead": 403,
        "outsider": 404,
    }
    use_id = db.scalar(select(BreakGlass.id))
    bad = people["dpo"].post(f"/p/{pid}/break-glass/{use_id}", {"verdict": "justified", f"note_{use_id}": ""})
    assert bad.status_code == 422 and "say what the finding rests on" in bad.text
    done = people["dpo"].post(
        f"/p/{pid}/break-glass/{use_id}", {"verdict": "justified", f"note_{use_id}": "A real emergency."}
    )
    assert done.status_code == 303
    assert "to review" not in people["dpo"].get(f"/p/{pid}/case-access").text
    assert people["dpo"].post(f"/p/{pid}/break-glass-minutes", {"minutes": "9999"}).status_code == 422
    assert people["dpo"].post(f"/p/{pid}/break-glass-minutes", {"minutes": "30"}).status_code == 303
    assert people["manager"].post(f"/p/{pid}/break-glass-minutes", {"minutes": "30"}).status_code == 403


def test_the_api_opens_emergency_access(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    tokens = {}
    for persona in ("colleague", "manager", "outsider"):
        _, tokens[persona] = accounts.create_api_token(
            db, actor=case_world.actors[persona], name="bg", secret_key=APP_SECRET
        )
    db.commit()
    client = TestClient(app, base_url="https://testserver")
    base = f"/api/v1/partnerships/{case_world.world.partnership_id}/families/{case_world.family_id}"

    def call(persona: str, method: str, url: str, **kw):  # type: ignore[no-untyped-def]
        return client.request(
            method, base + url, headers={"Authorization": f"Bearer {tokens[persona]}"}, **kw
        )

    assert call("colleague", "GET", "").status_code == 404
    assert call("colleague", "POST", "/break-glass", json={"reason": "short"}).status_code == 422
    assert call("colleague", "POST", "/break-glass", json={"reason": "x" * 3000}).status_code == 422
    assert call("manager", "POST", "/break-glass", json={"reason": REASON}).status_code == 403
    assert call("outsider", "POST", "/break-glass", json={"reason": REASON}).status_code == 404
    opened = call("colleague", "POST", "/break-glass", json={"reason": REASON})
    assert opened.status_code == 201 and opened.json()["expires_at"]
    record = call("colleague", "GET", "")
    assert record.status_code == 200 and record.json()["access"]["route"] == "break-glass"
    assert "Refuge" not in record.text
