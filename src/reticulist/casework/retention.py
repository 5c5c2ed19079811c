"""Retention: each partnership's schedule (the defaults of casework/retention_rules.py, or its own period
with a note of why), legal holds that stop a family's record being erased, what is due, and erasing it.

Erasing is the command line's (``reticulist casework retention --dry-run|--apply``), run by the operator
on a schedule; the data protection role sets the periods and holds on the Retention page. Erasure goes a
family at a time inside a batch: each family in its own savepoint, so a family is erased whole or not at
all, and is checked again under a lock just before (a hold placed or an episode reopened since the list
was made stops it). Each erasure leaves an audit row that says what kind of record, how many of each
part, and under which rule; never names, dates of birth, the family's reference or any other content.
The audit log itself is append-only and hash-chained, and is not erased (docs/information-sharing.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.audit import service as audit
from reticulist.casework.models import (
    Assessment,
    BreakGlass,
    CaseNote,
    Consent,
    Episode,
    Family,
    FamilyMember,
    Involvement,
    LeadPractitioner,
    LegalHold,
    MemberAddress,
    PlanAction,
    PlanOutcome,
    Referral,
    RetentionRule,
    Review,
    ReviewAttendee,
    ReviewProgress,
    SharingDecision,
    SubjectAccessRequest,
)
from reticulist.casework.retention_rules import (
    BREAK_GLASS,
    CHILD_AGE_RANGE,
    DEFAULTS,
    FAMILY_RECORD,
    SUBJECT_ACCESS,
    YEARS_RANGE,
    Rule,
    due_after,
    family_due_on,
)
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.linkage.models import LinkageClusterMember, LinkageLabel, LinkagePair, LinkageRecord
from reticulist.text import clean_writing_field, refused_character

BATCH = 50  # families a transaction: short enough that SQLite's write lock is never held for long


# --- the schedule ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduleLine:
    rule: Rule  # in force
    default: Rule
    set_by: str | None  # None: the default is in force
    note: str


def _own(session: Session, partnership_id: int) -> dict[str, RetentionRule]:
    return {
        r.record_type: r
        for r in session.scalars(select(RetentionRule).where(RetentionRule.partnership_id == partnership_id))
    }


def _in_force(own: dict[str, RetentionRule]) -> dict[str, Rule]:
    result = {}
    for record_type, default in DEFAULTS.items():
        mine = own.get(record_type)
        result[record_type] = (
            Rule(record_type, mine.years, mine.child_age, default.what, default.reason) if mine else default
        )
    return result


def rules(session: Session, partnership_id: int) -> dict[str, Rule]:
    """The rules in force: the partnership's own where it set one, else the default."""
    return _in_force(_own(session, partnership_id))


def schedule(session: Session, *, actor: Actor, partnership_id: int) -> list[ScheduleLine]:
    ensure_allowed(actor, Can.MANAGE_RETENTION, partnership_id)
    own = _own(session, partnership_id)
    in_force = _in_force(own)
    return [
        ScheduleLine(
            in_force[t],
            d,
            own[t].set_by_label if t in own else None,
            own[t].note if t in own else "",
        )
        for t, d in DEFAULTS.items()
    ]


def _whole(value: Any, field_name: str, bounds: tuple[int, int]) -> int:
    text = str(value).strip() if value is not None else ""
    if not text:
        raise InputError("is required", field=field_name)
    if isinstance(value, bool) or not (text.isdigit() and len(text) <= 3):
        raise InputError("must be a whole number of years", field=field_name)
    number = int(text)
    low, high = bounds
    if not low <= number <= high:
        raise InputError(f"must be from {low} to {high}", field=field_name)
    return number


def set_rule(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    record_type: str,
    years: Any,
    child_age: Any = None,
    note: str,
) -> RetentionRule:
    """The partnership's own period for a record type, with why it departs from the default (required)."""
    ensure_allowed(actor, Can.MANAGE_RETENTION, partnership_id)
    if record_type not in DEFAULTS:
        raise NotFound("No such record type.")
    years_n = _whole(years, "years", YEARS_RANGE)
    age = None
    if DEFAULTS[record_type].child_age is not None:
        age = _whole(child_age, "child_age", CHILD_AGE_RANGE)
    note = clean_writing_field(note or "", "note", limit=2000)
    if not note.strip():
        raise InputError("say why the partnership keeps this for a different time", field="note")
    rule = session.scalar(
        select(RetentionRule).where(
            RetentionRule.partnership_id == partnership_id, RetentionRule.record_type == record_type
        )
    )
    before = {"years": rule.years, "child_age": rule.child_age} if rule else None
    if rule is None:
        rule = RetentionRule(partnership_id=partnership_id, record_type=record_type)
        session.add(rule)
    rule.years, rule.child_age, rule.note, rule.set_by_label = years_n, age, note, actor.label
    with refusing_duplicates(
        session, {"uq_retention_rule_record_type": ("years", "another change to this rule came first")}
    ):
        session.flush()
    audit.record(
        session,
        actor=actor,
        event="retention-set",
        record_type="retention_rule",
        record_id=rule.id,
        partnership_id=partnership_id,
        summary=f"Set how long to keep: {DEFAULTS[record_type].what.split(',')[0].split(' (')[0]}",
        before=before,
        after={"record_type": record_type, "years": years_n, "child_age": age, "note": note},
    )
    return rule


# --- legal holds -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HoldView:
    id: int
    family_reference: str
    reason: str
    placed_on: date
    placed_by: str
    lifted_on: date | None
    lifted_by: str | None
    lift_reason: str | None


def place_hold(
    session: Session, *, actor: Actor, partnership_id: int, family_reference: str, reason: str
) -> LegalHold:
    """Stop the family's record being erased until the hold is lifted: the reason (the claim, inquiry or
    review) is required."""
    ensure_allowed(actor, Can.MANAGE_RETENTION, partnership_id)
    reference = " ".join((family_reference or "").split())
    if problem := refused_character(reference):
        raise InputError(problem, field="family_reference")
    if not reference:
        raise InputError("is required", field="family_reference")
    reason = clean_writing_field(reason or "", "reason", limit=2000)
    if not reason.strip():
        raise InputError("is required: the claim, inquiry or review the record is held for", field="reason")
    family_id = session.scalar(
        select(Family.id).where(Family.partnership_id == partnership_id, Family.reference == reference[:40])
    )
    if family_id is None:
        raise InputError("no family has this reference", field="family_reference")
    hold = LegalHold(
        partnership_id=partnership_id,
        family_id=family_id,
        reason=reason,
        placed_on=date.today(),
        placed_by_label=actor.label,
    )
    try:
        with session.begin_nested():  # the family erased a moment ago by a retention run: say so, no 500
            session.add(hold)
    except IntegrityError:
        raise InputError("this family's record has just been erased", field="family_reference") from None
    audit.record(
        session,
        actor=actor,
        event="legal-hold",
        record_type="family",
        record_id=family_id,
        partnership_id=partnership_id,
        summary=f"Placed legal hold {hold.id} on the family's record",
        after={"hold_id": hold.id, "access": "data protection", "what": "legal hold placed"},
    )
    return hold


def lift_hold(session: Session, *, actor: Actor, partnership_id: int, hold_id: int, reason: str) -> LegalHold:
    ensure_allowed(actor, Can.MANAGE_RETENTION, partnership_id)
    hold = session.get(LegalHold, hold_id)
    if hold is None or hold.partnership_id != partnership_id:
        raise NotFound("No such legal hold.")
    if hold.lifted_on is not None:
        raise InputError("this hold is already lifted", field="lift_reason")
    reason = clean_writing_field(reason or "", "lift_reason", limit=2000)
    if not reason.strip():
        raise InputError("is required: why the record need no longer be held", field="lift_reason")
    hold.lifted_on, hold.lifted_by_label, hold.lift_reason = date.today(), actor.label, reason
    audit.record(
        session,
        actor=actor,
        event="legal-hold-lifted",
        record_type="family",
        record_id=hold.family_id,
        partnership_id=partnership_id,
        summary=f"Lifted legal hold {hold.id} on the family's record",
        after={"hold_id": hold.id, "access": "data protection", "what": "legal hold lifted"},
    )
    return hold


def holds(session: Session, *, actor: Actor, partnership_id: int) -> list[HoldView]:
    """Holds in place first (newest first), then lifted ones."""
    ensure_allowed(actor, Can.MANAGE_RETENTION, partnership_id)
    rows = session.execute(
        select(LegalHold, Family.reference)
        .join(Family, Family.id == LegalHold.family_id)
        .where(LegalHold.partnership_id == partnership_id)
        .order_by(LegalHold.lifted_on.is_not(None), LegalHold.placed_on.desc(), LegalHold.id.desc())
        .limit(1000)
    ).all()
    return [
        HoldView(
            h.id, ref, h.reason, h.placed_on, h.placed_by_label, h.lifted_on, h.lifted_by_label, h.lift_reason
        )
        for h, ref in rows
    ]


# --- what is due -------------------------------------------------------------------------------------------
@dataclass
class Due:
    """What the schedule says may be erased today, and what a hold keeps."""

    families: list[int] = field(default_factory=list)
    held_families: list[int] = field(default_factory=list)
    undated_families: list[int] = field(default_factory=list)  # due but for a child with no birth date
    break_glass: list[int] = field(default_factory=list)
    subject_access: list[int] = field(default_factory=list)
    rules: dict[str, Rule] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.families) + len(self.break_glass) + len(self.subject_access)


def _held(session: Session, partnership_id: int) -> set[int]:
    return set(
        session.scalars(
            select(LegalHold.family_id).where(
                LegalHold.partnership_id == partnership_id, LegalHold.lifted_on.is_(None)
            )
        )
    )


def _closed_families(session: Session, partnership_id: int, family_ids: list[int] | None = None) -> list[Any]:
    """(family id, last closure, youngest child's birth date, children without one) for families with no
    open episode."""
    youngest = (
        select(
            FamilyMember.family_id,
            func.max(FamilyMember.date_of_birth).label("born"),
            func.sum(case((FamilyMember.date_of_birth.is_(None), 1), else_=0)).label("undated"),
        )
        .where(FamilyMember.kind == "child")
        .group_by(FamilyMember.family_id)
        .subquery()
    )
    query = (
        select(Episode.family_id, func.max(Episode.closed_on), youngest.c.born, youngest.c.undated)
        .outerjoin(youngest, youngest.c.family_id == Episode.family_id)
        .where(Episode.partnership_id == partnership_id)
        .group_by(Episode.family_id, youngest.c.born, youngest.c.undated)
        .having(func.count() == func.count(Episode.closed_on))  # every episode closed
        .order_by(Episode.family_id)
    )
    if family_ids is not None:
        query = query.where(Episode.family_id.in_(family_ids))
    return list(session.execute(query).all())


def due(session: Session, *, actor: Actor, partnership_id: int, today: date | None = None) -> Due:
    ensure_allowed(actor, Can.MANAGE_RETENTION, partnership_id)
    today = today or date.today()
    in_force = rules(session, partnership_id)
    held = _held(session, partnership_id)
    result = Due(rules=in_force)
    for family_id, last_closed, born, undated in _closed_families(session, partnership_id):
        if family_due_on(last_closed, born, in_force[FAMILY_RECORD]) <= today:
            if undated:
                # A child whose birth date is not recorded could be young: never erased by guesswork.
                result.undated_families.append(family_id)
            else:
                (result.held_families if family_id in held else result.families).append(family_id)
    going = set(result.families)  # erased whole: their uses and requests go with them
    # Break-glass uses and answered requests of families kept in full: by their own period.
    for use_id, family_id, opened_at in session.execute(
        select(BreakGlass.id, BreakGlass.family_id, BreakGlass.opened_at)
        .where(BreakGlass.partnership_id == partnership_id)
        .order_by(BreakGlass.id)
    ):
        with_family = family_id in going or family_id in held  # erased with it, or kept by a hold
        if not with_family and due_after(opened_at.date(), in_force[BREAK_GLASS]) <= today:
            result.break_glass.append(use_id)
    for request_id, family_id, done_on in session.execute(
        select(SubjectAccessRequest.id, FamilyMember.family_id, SubjectAccessRequest.done_on)
        .join(FamilyMember, FamilyMember.id == SubjectAccessRequest.member_id)
        .where(
            SubjectAccessRequest.partnership_id == partnership_id, SubjectAccessRequest.done_on.is_not(None)
        )
        .order_by(SubjectAccessRequest.id)
    ):
        with_family = family_id in going or family_id in held  # erased with it, or kept by a hold
        if not with_family and due_after(done_on, in_force[SUBJECT_ACCESS]) <= today:
            result.subject_access.append(request_id)
    return result


# --- erasing -----------------------------------------------------------------------------------------------
@dataclass
class Erased:
    families: int = 0
    break_glass: int = 0
    subject_access: int = 0
    records: dict[str, int] = field(default_factory=dict)  # table -> rows erased
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (family id, why), checked again


def _family_parts(family_id: int) -> list[tuple[str, Any]]:
    """Delete statements for everything in a family's record, children before parents, so the order works
    with or without the database's cascades."""
    episodes = select(Episode.id).where(Episode.family_id == family_id)
    members = select(FamilyMember.id).where(FamilyMember.family_id == family_id)
    reviews = select(Review.id).where(Review.episode_id.in_(episodes))
    outcomes = select(PlanOutcome.id).where(PlanOutcome.episode_id.in_(episodes))
    # The family's children as linkage's casework source, with what runs and reviewers said about them.
    linked = select(LinkageRecord.id).where(LinkageRecord.family_member_id.in_(members))
    return [
        ("review_progress", delete(ReviewProgress).where(ReviewProgress.review_id.in_(reviews))),
        ("review_attendee", delete(ReviewAttendee).where(ReviewAttendee.review_id.in_(reviews))),
        ("case_review", delete(Review).where(Review.episode_id.in_(episodes))),
        ("plan_action", delete(PlanAction).where(PlanAction.outcome_id.in_(outcomes))),
        ("plan_outcome", delete(PlanOutcome).where(PlanOutcome.episode_id.in_(episodes))),
        ("assessment", delete(Assessment).where(Assessment.episode_id.in_(episodes))),
        ("referral", delete(Referral).where(Referral.family_id == family_id)),
        ("lead_practitioner", delete(LeadPractitioner).where(LeadPractitioner.episode_id.in_(episodes))),
        ("case_note", delete(CaseNote).where(CaseNote.family_id == family_id)),
        ("sharing_decision", delete(SharingDecision).where(SharingDecision.family_id == family_id)),
        ("consent", delete(Consent).where(Consent.family_id == family_id)),
        ("break_glass", delete(BreakGlass).where(BreakGlass.family_id == family_id)),
        (
            "subject_access_request",
            delete(SubjectAccessRequest).where(SubjectAccessRequest.member_id.in_(members)),
        ),
        (
            "linkage_cluster_member",
            delete(LinkageClusterMember).where(LinkageClusterMember.record_id.in_(linked)),
        ),
        (
            "linkage_pair",
            delete(LinkagePair).where(or_(LinkagePair.left_id.in_(linked), LinkagePair.right_id.in_(linked))),
        ),
        (
            "linkage_label",
            delete(LinkageLabel).where(
                or_(LinkageLabel.left_id.in_(linked), LinkageLabel.right_id.in_(linked))
            ),
        ),
        ("linkage_record", delete(LinkageRecord).where(LinkageRecord.family_member_id.in_(members))),
        ("member_address", delete(MemberAddress).where(MemberAddress.member_id.in_(members))),
        ("involvement", delete(Involvement).where(Involvement.episode_id.in_(episodes))),
        ("episode", delete(Episode).where(Episode.family_id == family_id)),
        ("family_member", delete(FamilyMember).where(FamilyMember.family_id == family_id)),
        # Lifted holds go with the record; a hold still in place makes the next line fail in the database.
        (
            "legal_hold",
            delete(LegalHold).where(LegalHold.family_id == family_id, LegalHold.lifted_on.is_not(None)),
        ),
        ("family", delete(Family).where(Family.id == family_id)),
    ]


def _still_due(session: Session, partnership_id: int, family_id: int, today: date) -> str | None:
    """Checked again inside the family's savepoint, with the family row locked (PostgreSQL): None when it
    is still due, else why not."""
    locked = session.scalar(
        select(Family.id)
        .where(Family.id == family_id, Family.partnership_id == partnership_id)
        .with_for_update()
    )
    if locked is None:
        return "no longer there"
    if family_id in _held(session, partnership_id):
        return "a legal hold was placed"
    found = _closed_families(session, partnership_id, [family_id])
    if not found:
        return "an episode is open again"
    _, last_closed, born, undated = found[0]
    if undated:
        return "a child's date of birth is not recorded"
    if family_due_on(last_closed, born, rules(session, partnership_id)[FAMILY_RECORD]) > today:
        return "no longer due under the schedule"
    return None


def _erase_family(
    session: Session, actor: Actor, partnership_id: int, family_id: int, rule: Rule
) -> dict[str, int]:
    counts = {}
    for table, statement in _family_parts(family_id):
        n = session.execute(statement.execution_options(synchronize_session=False)).rowcount or 0
        if n:
            counts[table] = n
    audit.record(
        session,
        actor=actor,
        event="erased",
        record_type="family",
        record_id=family_id,
        partnership_id=partnership_id,
        summary="Erased a family's record under the retention schedule",
        after={"rule": FAMILY_RECORD, "rule_in_force": rule.words, "records": counts},
    )
    return counts


def _erase_one(
    session: Session, actor: Actor, partnership_id: int, model: Any, record_id: int, rule: Rule, kind: str
) -> bool:
    n = session.execute(
        delete(model).where(and_(model.id == record_id, model.partnership_id == partnership_id))
    ).rowcount
    if not n:
        return False
    what = rule.what.split(",")[0]  # "A use of emergency access (break-glass) and its review"
    audit.record(
        session,
        actor=actor,
        event="erased",
        record_type=kind,
        record_id=record_id,
        partnership_id=partnership_id,
        summary=f"Erased {what[:1].lower()}{what[1:]} under the retention schedule",
        after={"rule": kind, "rule_in_force": rule.words, "records": {kind: 1}},
    )
    return True


def _family_of(session: Session, model: Any, record_id: int) -> int | None:
    if model is BreakGlass:
        return session.scalar(select(BreakGlass.family_id).where(BreakGlass.id == record_id))
    return session.scalar(
        select(FamilyMember.family_id)
        .join(SubjectAccessRequest, SubjectAccessRequest.member_id == FamilyMember.id)
        .where(SubjectAccessRequest.id == record_id)
    )


def erase(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    found: Due,
    today: date | None = None,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> Erased:
    """Erase what ``due`` found, committing every ``batch`` families; each family whole or not at all."""
    ensure_allowed(actor, Can.MANAGE_RETENTION, partnership_id)
    today = today or date.today()
    result = Erased()
    total, done = found.total, 0
    for start in range(0, len(found.families), batch):
        for family_id in found.families[start : start + batch]:
            savepoint = session.begin_nested()
            why = _still_due(session, partnership_id, family_id, today)
            if why is not None:
                savepoint.rollback()
                result.skipped.append((family_id, why))
            else:
                try:
                    counts = _erase_family(
                        session, actor, partnership_id, family_id, found.rules[FAMILY_RECORD]
                    )
                    savepoint.commit()
                except Exception as exc:  # a hold placed between the check and the delete, say
                    savepoint.rollback()
                    result.skipped.append((family_id, f"not erased: {type(exc).__name__}"))
                else:
                    result.families += 1
                    for table, n in counts.items():
                        result.records[table] = result.records.get(table, 0) + n
            done += 1
            if progress:
                progress(done, total)
        session.commit()
    for ids, model, kind in (
        (found.break_glass, BreakGlass, BREAK_GLASS),
        (found.subject_access, SubjectAccessRequest, SUBJECT_ACCESS),
    ):
        for start in range(0, len(ids), batch):
            held = _held(session, partnership_id)  # a hold placed since the list was made still counts
            for record_id in ids[start : start + batch]:
                if _family_of(session, model, record_id) in held:
                    result.skipped.append((record_id, f"{kind}: a legal hold was placed"))
                elif _erase_one(session, actor, partnership_id, model, record_id, found.rules[kind], kind):
                    if kind == BREAK_GLASS:
                        result.break_glass += 1
                    else:
                        result.subject_access += 1
                    result.records[kind] = result.records.get(kind, 0) + 1
                done += 1
                if progress:
                    progress(done, total)
            session.commit()
    return result
