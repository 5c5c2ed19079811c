"""Retention, tried as someone would who wants a record gone early or kept whole when it should go: the
whole demo erased as of a date when all of it is due (every table, both databases), a family under a
legal hold, a hold placed after the list was made (the database itself refuses), an episode reopened in
between, a child with no date of birth, a family half erased (never), audit rows that carry content
(never), and the chain still verifying afterwards. The schedule and holds for the data protection role
only, with bad input refused at its field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.access.policy import NotAllowed, NotFound, cli_actor
from reticulist.audit import chain
from reticulist.audit.models import AuditEvent
from reticulist.casework import break_glass, retention, subject_access
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.demo import add_demo_casework, add_demo_sharing
from reticulist.casework.models import (
    BreakGlass,
    Episode,
    Family,
    FamilyMember,
    LegalHold,
    SubjectAccessRequest,
)
from reticulist.casework.retention_rules import DEFAULTS, FAMILY_RECORD, anniversary, due_after, family_due_on
from reticulist.cli.main import app as cli_app
from reticulist.db.base import Base
from reticulist.errors import InputError
from reticulist.register.demo import create_demo_accounts, demo_actor
from tests.casework.conftest import TODAY, CaseWorld
from tests.conftest import Browser, Demo

ROOT = cli_actor("retention test")
CASEWORK_TABLES = [
    t
    for t in Base.metadata.sorted_tables
    if "family_id" in t.c or "member_id" in t.c or "episode_id" in t.c or t.name == "family"
]


# --- the rules, pure ---------------------------------------------------------------------------------------
def test_due_dates() -> None:
    rule = DEFAULTS[FAMILY_RECORD]
    assert anniversary(date(2008, 2, 29), 25) == date(2033, 3, 1)  # never a day early
    assert anniversary(date(2008, 2, 29), 4) == date(2012, 2, 29)
    # The later of the 25th birthday and six years after closing.
    assert family_due_on(date(2020, 5, 1), date(2010, 1, 2), rule) == date(2035, 1, 2)
    assert family_due_on(date(2020, 5, 1), date(1994, 1, 2), rule) == date(2026, 5, 1)
    assert family_due_on(date(2020, 5, 1), None, rule) == date(2026, 5, 1)
    assert due_after(date(2020, 5, 1), DEFAULTS["break_glass"]) == date(2026, 5, 1)
    assert "25th birthday" in rule.words and "6 years" in rule.words


# --- the whole demo, on both databases ---------------------------------------------------------------------
def _family_rows(db: Session, family_ids: set[int]) -> dict[str, int]:
    """Rows of every casework table still belonging to these families (through family, member or episode)."""
    members = select(FamilyMember.id).where(FamilyMember.family_id.in_(family_ids))
    episodes = select(Episode.id).where(Episode.family_id.in_(family_ids))
    left = {}
    for table in CASEWORK_TABLES:
        c = table.c
        conditions = []
        if table.name == "family":
            conditions.append(c.id.in_(family_ids))
        if "family_id" in c:
            conditions.append(c.family_id.in_(family_ids))
        if "member_id" in c:
            conditions.append(c.member_id.in_(members))
        if "episode_id" in c:
            conditions.append(c.episode_id.in_(episodes))
        n = db.scalar(select(func.count()).select_from(table).where(or_(*conditions))) or 0
        if n:
            left[table.name] = n
    return left


def test_erasing_everything_due_in_the_demo(demo: Demo) -> None:
    db, pid = demo.db, demo.partnership_id
    # The demo's casework as `reticulist demo` makes it: every table of a family's record has rows.
    cases = add_demo_casework(db, actor=demo_actor(), partnership_id=pid, seed=2016, today=TODAY)
    create_demo_accounts(db, partnership_id=pid, practitioner_person_id=cases.lead_person_id)
    add_demo_sharing(db, partnership_id=pid, cases=cases, today=TODAY)
    db.commit()
    later = TODAY + timedelta(days=365 * 40)  # every closed family is due by then
    closed = retention.due(db, actor=ROOT, partnership_id=pid, today=later)
    assert len(closed.families) > 50
    open_families = set(db.scalars(select(Episode.family_id).where(Episode.closed_on.is_(None))))
    assert not open_families & set(closed.families)  # an open episode keeps the family
    # A hold on one family, and one family whose child has no recorded birth date.
    held, undated, *going = closed.families
    retention.place_hold(
        db,
        actor=ROOT,
        partnership_id=pid,
        family_reference=db.get(Family, held).reference,  # type: ignore[union-attr]
        reason="Civil claim 2026/123 about the services given.",
    )
    db.execute(
        update(FamilyMember)
        .where(FamilyMember.family_id == undated, FamilyMember.kind == "child")
        .values(date_of_birth=None)
    )
    db.commit()
    found = retention.due(db, actor=ROOT, partnership_id=pid, today=later)
    assert closed.held_families  # the demo's own hold (a practice review)
    assert found.families == going and found.undated_families == [undated]
    assert found.held_families == sorted([*closed.held_families, held])
    # What the erased families were, to look for it afterwards in the audit rows.
    references = set(db.scalars(select(Family.reference).where(Family.id.in_(going))))
    names = set(db.scalars(select(FamilyMember.surname).where(FamilyMember.family_id.in_(going))))
    before_rows = _family_rows(db, set(going))
    assert {"case_note", "episode", "family_member", "member_address", "involvement"} <= set(before_rows)
    every_table = [t for t in Base.metadata.sorted_tables if not t.name.startswith("audit_")]
    counts_before = {t.name: db.scalar(select(func.count()).select_from(t)) for t in every_table}
    first_new_audit = db.scalar(select(func.max(AuditEvent.id))) or 0

    seen: list[tuple[int, int]] = []
    result = retention.erase(
        db,
        actor=ROOT,
        partnership_id=pid,
        found=found,
        today=later,
        batch=7,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert result.families == len(going) and result.skipped == []
    assert seen[-1] == (found.total, found.total) and len(seen) == found.total
    db.expire_all()
    assert _family_rows(db, set(going)) == {}  # nothing of them is left anywhere
    # Exactly what the erasure reports went, from every table, and nothing else anywhere.
    counts_after = {t.name: db.scalar(select(func.count()).select_from(t)) for t in every_table}
    gone = {name: counts_before[name] - counts_after[name] for name in counts_before}
    assert {k: v for k, v in gone.items() if v} == result.records
    assert {"review_progress", "plan_action", "assessment", "referral", "lead_practitioner"} <= set(gone)
    assert _family_rows(db, {held}) and _family_rows(db, {undated})  # kept whole
    assert open_families <= set(db.scalars(select(Family.id)))

    erased = db.scalars(
        select(AuditEvent).where(AuditEvent.id > first_new_audit, AuditEvent.event == "erased")
    ).all()
    kinds = [e.record_type for e in erased]  # the demo's emergency access of an open family, too
    assert kinds.count("family") == len(going) and kinds.count("break_glass") == result.break_glass == 1
    written = json.dumps([[e.summary, e.after] for e in erased])
    assert not [r for r in references if r in written]  # no reference, no name, no date of birth
    assert not [n for n in names if n in written]
    for e in erased:  # only which tables and how many rows: kinds of record, never content
        assert set(e.after) == {"rule", "rule_in_force", "records"}  # type: ignore[arg-type]
        assert set(e.after["records"]) <= set(gone) and all(
            isinstance(n, int) for n in e.after["records"].values()
        )  # type: ignore[index]
    assert chain.verify(db.get_bind()).problem is None  # type: ignore[arg-type]

    again = retention.due(db, actor=ROOT, partnership_id=pid, today=later)
    assert again.families == [] and again.held_families == found.held_families


# --- one family at a time: holds, races, all or nothing ---------------------------------------------------
def _close(db: Session, cw: CaseWorld, *, long_ago: bool = True) -> None:
    """Close EH-0001's episode; with ``long_ago``, as if all of it happened in 1995-2000 (Ellie born 1990)."""
    casework.close_episode(
        db,
        actor=cw.actors["lead"],
        episode_id=cw.episode_id,
        data=cs.EpisodeClose(closed_on=TODAY, outcome="needs_met"),
    )
    if long_ago:
        db.execute(update(Episode).where(Episode.id == cw.episode_id).values(closed_on=date(2000, 1, 5)))
        db.execute(
            update(FamilyMember)
            .where(FamilyMember.family_id == cw.family_id, FamilyMember.kind == "child")
            .values(date_of_birth=date(1990, 3, 1))
        )
    db.commit()


def test_a_hold_placed_after_the_list_was_made_stops_the_erasure(db: Session, case_world: CaseWorld) -> None:
    _close(db, case_world)
    pid = case_world.world.partnership_id
    found = retention.due(db, actor=ROOT, partnership_id=pid)
    assert found.families == [case_world.family_id]
    hold = retention.place_hold(
        db, actor=case_world.actors["dpo"], partnership_id=pid, family_reference="EH-0001", reason="Inquiry."
    )
    db.commit()
    result = retention.erase(db, actor=ROOT, partnership_id=pid, found=found)
    assert result.families == 0 and result.skipped == [(case_world.family_id, "a legal hold was placed")]
    # Even past the service's own check, the database refuses to delete a family with a hold in place, and
    # the family is left whole: nothing of it was deleted before the refusal.
    before = _family_rows(db, {case_world.family_id})
    retention_still_due = retention._still_due
    try:
        retention._still_due = lambda *a, **k: None  # type: ignore[assignment]
        result = retention.erase(db, actor=ROOT, partnership_id=pid, found=found)
    finally:
        retention._still_due = retention_still_due  # type: ignore[assignment]
    assert result.families == 0 and result.skipped[0][1].startswith("not erased: IntegrityError")
    db.expire_all()
    assert _family_rows(db, {case_world.family_id}) == before
    # Lifted, the hold goes with the record.
    retention.lift_hold(
        db, actor=case_world.actors["dpo"], partnership_id=pid, hold_id=hold.id, reason="Closed."
    )
    db.commit()
    found = retention.due(db, actor=ROOT, partnership_id=pid)
    assert retention.erase(db, actor=ROOT, partnership_id=pid, found=found).families == 1
    assert db.scalar(select(func.count()).select_from(LegalHold)) == 0


def test_a_family_whose_episode_reopens_is_kept(db: Session, case_world: CaseWorld) -> None:
    _close(db, case_world)
    pid = case_world.world.partnership_id
    found = retention.due(db, actor=ROOT, partnership_id=pid)
    ellie = db.scalar(select(FamilyMember.id).where(FamilyMember.forenames == "Jo"))
    casework.open_episode(
        db,
        actor=case_world.actors["coordinator"],
        family_id=case_world.family_id,
        data=cs.EpisodeOpen(
            requested_by="School",
            request_reason="Again.",
            requested_on=TODAY,
            agreed_on=TODAY,
            opened_on=TODAY,
            lead_person_id=case_world.person_ids["lead"],
            lead_role="Family support worker",
            agreed_by_member_id=ellie,
        ),
    )
    db.commit()
    result = retention.erase(db, actor=ROOT, partnership_id=pid, found=found)
    assert result.skipped == [(case_world.family_id, "an episode is open again")]
    assert db.get(Family, case_world.family_id) is not None


def test_uses_of_emergency_access_and_answered_requests_go_by_their_own_period(
    db: Session, case_world: CaseWorld
) -> None:
    pid, a = case_world.world.partnership_id, case_world.actors
    use = break_glass.open_break_glass(
        db,
        actor=a["colleague"],
        partnership_id=pid,
        family_id=case_world.family_id,
        reason="Called by A&E at night: needed the lead's number.",
    )
    jo = db.scalar(select(FamilyMember).where(FamilyMember.forenames == "Jo"))
    assert jo is not None
    jo.surname_key = "marsh-jo"
    request = subject_access.register_request(
        db,
        actor=a["dpo"],
        partnership_id=pid,
        family_reference="EH-0001",
        surname="Marsh-Jo",
        requester="Jo",
        received_on=TODAY,
        identity_checked_on=TODAY,
    )
    db.flush()
    subject_access.done(db, actor=a["dpo"], partnership_id=pid, request_id=request.id, done_on=TODAY)
    db.commit()
    assert retention.due(db, actor=ROOT, partnership_id=pid).total == 0
    # Seven years on, the family's episode is still open: only the use and the request are due.
    later = TODAY + timedelta(days=7 * 366)
    found = retention.due(db, actor=ROOT, partnership_id=pid, today=later)
    assert (found.families, found.break_glass, found.subject_access) == ([], [use.id], [request.id])
    result = retention.erase(db, actor=ROOT, partnership_id=pid, found=found, today=later)
    assert (result.break_glass, result.subject_access) == (1, 1)
    assert db.get(BreakGlass, use.id) is None and db.get(SubjectAccessRequest, request.id) is None
    assert db.get(Family, case_world.family_id) is not None
    kinds = set(db.scalars(select(AuditEvent.record_type).where(AuditEvent.event == "erased")))
    assert kinds == {"break_glass", "subject_access_request"}
    summaries = set(db.scalars(select(AuditEvent.summary).where(AuditEvent.event == "erased")))
    assert (
        "Erased a use of emergency access (break-glass) and its review under the retention schedule"
        in summaries
    )
    # A shorter period set by the partnership brings it forward; a hold keeps a family's uses.
    use2 = break_glass.open_break_glass(
        db, actor=a["colleague"], partnership_id=pid, family_id=case_world.family_id, reason="x" * 25
    )
    db.execute(
        update(BreakGlass)
        .where(BreakGlass.id == use2.id)
        .values(opened_at=datetime.now(UTC) - timedelta(days=800))
    )
    retention.set_rule(
        db,
        actor=a["dpo"],
        partnership_id=pid,
        record_type="break_glass",
        years="2",
        note="Board decision 4/26.",
    )
    db.commit()
    assert retention.due(db, actor=ROOT, partnership_id=pid).break_glass == [use2.id]
    retention.place_hold(db, actor=a["dpo"], partnership_id=pid, family_reference="EH-0001", reason="Claim.")
    db.commit()
    assert retention.due(db, actor=ROOT, partnership_id=pid).break_glass == []


# --- the schedule and holds: who, and bad input -----------------------------------------------------------
@pytest.mark.parametrize(
    "change, field",
    [
        ({"years": "0"}, "years"),
        ({"years": "51"}, "years"),
        ({"years": "six"}, "years"),
        ({"years": ""}, "years"),
        ({"years": True}, "years"),
        ({"years": "1e3"}, "years"),
        ({"years": "-3"}, "years"),
        ({"years": "9" * 400}, "years"),
        ({"child_age": "17"}, "child_age"),
        ({"child_age": None}, "child_age"),
        ({"note": ""}, "note"),
        ({"note": "a\x00b"}, "note"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_a_bad_rule_is_refused_at_its_field(
    db: Session, case_world: CaseWorld, change: dict, field: str
) -> None:  # type: ignore[type-arg]
    data = {"years": "7", "child_age": "25", "note": "Agreed by the board."} | change
    with pytest.raises(InputError) as refused:
        retention.set_rule(
            db,
            actor=case_world.actors["dpo"],
            partnership_id=case_world.world.partnership_id,
            record_type=FAMILY_RECORD,
            **data,  # type: ignore[arg-type]
        )
    assert field in refused.value.by_field()
    db.rollback()
    assert db.scalar(select(func.count()).select_from(retention.RetentionRule)) == 0


def test_only_the_data_protection_role_sets_the_schedule_and_holds(
    db: Session, case_world: CaseWorld
) -> None:
    pid, a = case_world.world.partnership_id, case_world.actors
    rule = retention.set_rule(
        db,
        actor=a["dpo"],
        partnership_id=pid,
        record_type=FAMILY_RECORD,
        years="7",
        child_age="30",
        note="The board keeps early help records longer after a serious case review.",
    )
    db.commit()
    (line, *_rest) = retention.schedule(db, actor=a["dpo"], partnership_id=pid)
    assert line.rule.child_age == 30 and line.set_by == a["dpo"].label and line.default.child_age == 25
    retention.set_rule(
        db,
        actor=a["dpo"],
        partnership_id=pid,
        record_type=FAMILY_RECORD,
        years="6",
        child_age="25",
        note="Back.",
    )
    db.commit()
    assert db.scalar(select(func.count()).select_from(retention.RetentionRule)) == 1 and rule.years == 6
    with pytest.raises(NotFound):
        retention.set_rule(
            db, actor=a["dpo"], partnership_id=pid, record_type="audit_event", years="1", note="x"
        )
    for persona in ("lead", "coordinator", "manager", "member", "team"):
        with pytest.raises(NotAllowed):
            retention.schedule(db, actor=a[persona], partnership_id=pid)
        with pytest.raises(NotAllowed):
            retention.place_hold(
                db, actor=a[persona], partnership_id=pid, family_reference="EH-0001", reason="x"
            )
    with pytest.raises(NotFound):
        retention.schedule(db, actor=a["outsider"], partnership_id=pid)
    for reference, reason, field in [
        ("EH-9999", "Claim.", "family_reference"),
        ("", "Claim.", "family_reference"),
        ("EH-0001\x00", "Claim.", "family_reference"),
        ("EH-0001", "  ", "reason"),
        ("x" * 10_000, "Claim.", "family_reference"),
    ]:
        with pytest.raises(InputError) as refused:
            retention.place_hold(
                db, actor=a["dpo"], partnership_id=pid, family_reference=reference, reason=reason
            )
        assert field in refused.value.by_field()
        db.rollback()
    hold = retention.place_hold(
        db, actor=a["dpo"], partnership_id=pid, family_reference=" EH-0001 ", reason="Claim."
    )
    db.commit()
    with pytest.raises(NotFound):
        retention.lift_hold(
            db,
            actor=a["dpo"],
            partnership_id=case_world.world.other_partnership_id,
            hold_id=hold.id,
            reason="x",
        )
    with pytest.raises(InputError):
        retention.lift_hold(db, actor=a["dpo"], partnership_id=pid, hold_id=hold.id, reason="")
    retention.lift_hold(db, actor=a["dpo"], partnership_id=pid, hold_id=hold.id, reason="Claim settled.")
    db.commit()
    with pytest.raises(InputError):
        retention.lift_hold(db, actor=a["dpo"], partnership_id=pid, hold_id=hold.id, reason="again")


def test_the_page(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    pid = case_world.world.partnership_id
    people = {
        p: Browser(app, case_world.emails[p]) for p in ("dpo", "manager", "lead", "coordinator", "outsider")
    }
    url = f"/p/{pid}/retention"
    assert {p: b.get(url).status_code for p, b in people.items()} == {
        "dpo": 200,
        "manager": 403,
        "lead": 403,
        "coordinator": 403,
        "outsider": 404,
    }
    dpo = people["dpo"]
    page = dpo.get(url)
    assert (
        "25th birthday" in page.text and "Limitation Act 1980" in page.text and ">Retention</a>" in page.text
    )
    refused = dpo.post(
        f"{url}/rules/{FAMILY_RECORD}",
        {f"years_{FAMILY_RECORD}": "0", f"child_age_{FAMILY_RECORD}": "25", f"note_{FAMILY_RECORD}": "x"},
    )
    assert refused.status_code == 422 and "must be from 1 to 50" in refused.text
    assert "early help record: years: must be from 1 to 50" in refused.text  # the summary says which field
    assert dpo.post(f"{url}/rules/nonsense", {"years_nonsense": "3"}).status_code == 404
    assert (
        people["manager"]
        .post(f"{url}/rules/break_glass", {"years_break_glass": "1", "note_break_glass": "x"})
        .status_code
        == 403
    )
    done = dpo.post(
        f"{url}/rules/break_glass", {"years_break_glass": "3", "note_break_glass": "Board, May 2026."}
    )
    assert done.status_code == 303
    assert "Kept 3 years." in dpo.get(url).text
    assert dpo.post(f"{url}/holds", {"family_reference": "EH-0001", "reason": ""}).status_code == 422
    assert (
        dpo.post(f"{url}/holds", {"family_reference": "EH-0001", "reason": "Practice review 7."}).status_code
        == 303
    )
    hold_id = db.scalar(select(LegalHold.id))
    assert "Practice review 7." in dpo.get(url).text
    assert dpo.post(f"{url}/holds/{hold_id}/lift", {f"lift_reason_{hold_id}": ""}).status_code == 422
    assert (
        dpo.post(f"{url}/holds/{hold_id}/lift", {f"lift_reason_{hold_id}": "Review published."}).status_code
        == 303
    )
    assert dpo.post(f"{url}/holds/424242/lift", {"lift_reason_424242": "x"}).status_code == 404
    assert (
        people["lead"].post(f"{url}/holds", {"family_reference": "EH-0001", "reason": "x"}).status_code == 403
    )


def test_the_command_line(database_url: str, db: Session, case_world: CaseWorld) -> None:
    _close(db, case_world)
    runner = CliRunner()
    partnership = str(case_world.world.partnership_id)

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(
            cli_app,
            ["casework", "retention", "--partnership", partnership, *args, "--database", database_url],
        )
        return result.exit_code, result.stdout, result.stderr

    code, out, err = run()
    assert code == 1 and "give one of --dry-run" in err
    code, out, err = run("--dry-run", "--apply")
    assert code == 1
    code, out, err = run("--dry-run")
    assert code == 0 and "1 families" in out and "Nothing was erased" in out, err
    db.expire_all()
    assert db.get(Family, case_world.family_id) is not None
    code, out, err = run("--apply", "--batch", "1")
    assert code == 0 and "Erased 1 families" in out, err
    db.expire_all()
    assert db.get(Family, case_world.family_id) is None
    code, out, err = run("--apply", "--batch", "0")
    assert code != 0 and "Traceback" not in out + err
