"""Break-glass: emergency access to a family's record for a practitioner who is not in its team.

The practitioner writes why, is warned that it is reviewed, and may then read the record (never shielded
details, never change it) for the partnership's time limit (60 minutes unless set otherwise); afterwards
the record is "not found" to them again. Every use is written to the audit log and waits in the data
protection role's review queue (the alert: the queue's count is on their menu) until they record
"justified" or "not justified" with a note. Someone who has used it three times or more in 90 days is
flagged in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotAllowed, NotFound, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.casework.models import BreakGlass, Family
from reticulist.casework.need_to_know import practitioner_person_id
from reticulist.db.base import utcnow
from reticulist.errors import InputError
from reticulist.register.models import Partnership
from reticulist.text import clean_writing_field

MIN_REASON = 20  # characters: "emergency" alone does not say why
MAX_REASON = 2000
MINUTES_RANGE = (5, 720)
REPEATED_USES = 3  # in REPEAT_WINDOW: flagged in the review queue
REPEAT_WINDOW = timedelta(days=90)
VERDICTS = {"justified": "Justified", "not_justified": "Not justified"}


def minutes_for(session: Session, partnership_id: int) -> int:
    partnership = session.get(Partnership, partnership_id)
    if partnership is None:
        raise NotFound("No such partnership.")
    return partnership.break_glass_minutes


def open_break_glass(
    session: Session, *, actor: Actor, partnership_id: int, family_id: int, reason: str
) -> BreakGlass:
    """Emergency access for ``actor`` (a practitioner of the partnership) to the family's record. NotFound
    for a family that is not the partnership's; InputError for a reason too short or strange; NotAllowed
    for anyone who is not a practitioner with a login linked to the register."""
    ensure_allowed(actor, Can.WORK_CASES, partnership_id)
    if actor.user_id is None or practitioner_person_id(session, actor, partnership_id) is None:
        raise NotAllowed("Emergency access is for practitioners whose login is linked to the register.")
    family = session.get(Family, family_id)
    if family is None or family.partnership_id != partnership_id:
        raise NotFound("No such family.")
    reason = clean_writing_field(reason, "reason", limit=MAX_REASON)
    if len(reason) < MIN_REASON:
        raise InputError(
            f"say why in at least {MIN_REASON} characters: what the emergency is and why you need the record",
            field="reason",
        )
    now = utcnow()
    use = BreakGlass(
        partnership_id=partnership_id,
        family_id=family_id,
        user_id=actor.user_id,
        person_id=practitioner_person_id(session, actor, partnership_id),
        actor_label=actor.label,
        reason=reason,
        opened_at=now,
        expires_at=now + timedelta(minutes=minutes_for(session, partnership_id)),
    )
    session.add(use)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="break-glass",
        record_type="family",
        record_id=family_id,
        partnership_id=partnership_id,
        summary=f"Emergency access to the family's record until {use.expires_at:%H:%M} (use {use.id})",
        after={"break_glass_id": use.id, "reason": reason, "expires_at": use.expires_at.isoformat()},
    )
    return use


@dataclass(frozen=True)
class UseView:
    id: int
    family_id: int
    family_reference: str
    who: str
    reason: str
    opened_at: datetime
    expires_at: datetime
    review: str
    reviewed_by: str | None
    review_note: str | None
    uses_by_them: int  # in the last 90 days
    repeated: bool


def review_queue(
    session: Session, *, actor: Actor, partnership_id: int, waiting_only: bool = False
) -> list[UseView]:
    """Every use, waiting ones first, for the data protection role."""
    ensure_allowed(actor, Can.REVIEW_BREAK_GLASS, partnership_id)
    since = utcnow() - REPEAT_WINDOW
    counts = dict(
        session.execute(
            select(BreakGlass.user_id, func.count())
            .where(BreakGlass.partnership_id == partnership_id, BreakGlass.opened_at >= since)
            .group_by(BreakGlass.user_id)
        ).all()
    )
    query = (
        select(BreakGlass, Family.reference)
        .join(Family, Family.id == BreakGlass.family_id)
        .where(BreakGlass.partnership_id == partnership_id)
        .order_by((BreakGlass.review != "waiting"), BreakGlass.opened_at.desc())
    )
    if waiting_only:
        query = query.where(BreakGlass.review == "waiting")
    views = []
    for use, reference in session.execute(query.limit(500)).all():
        n = int(counts.get(use.user_id, 0))
        views.append(
            UseView(
                use.id,
                use.family_id,
                reference,
                use.actor_label,
                use.reason,
                use.opened_at,
                use.expires_at,
                use.review,
                use.reviewed_by_label,
                use.review_note,
                n,
                n >= REPEATED_USES,
            )
        )
    return views


def waiting_count(session: Session, *, actor: Actor, partnership_id: int) -> int | None:
    """How many uses wait for review, for the data protection role's menu (None for anyone else)."""
    if not allowed(actor, Can.REVIEW_BREAK_GLASS, partnership_id):
        return None
    return int(
        session.scalar(
            select(func.count())
            .select_from(BreakGlass)
            .where(BreakGlass.partnership_id == partnership_id, BreakGlass.review == "waiting")
        )
        or 0
    )


def review_use(
    session: Session, *, actor: Actor, partnership_id: int, use_id: int, verdict: str, note: str
) -> BreakGlass:
    """The data protection role's finding on one use: justified or not, with a note (once)."""
    ensure_allowed(actor, Can.REVIEW_BREAK_GLASS, partnership_id)
    use = session.get(BreakGlass, use_id)
    if use is None or use.partnership_id != partnership_id:
        raise NotFound("No such use of emergency access.")
    if verdict not in VERDICTS:
        raise InputError("choose justified or not justified", field="verdict")
    note = clean_writing_field(note, "note", limit=MAX_REASON)
    if not note:
        raise InputError("say what the finding rests on", field="note")
    if use.review != "waiting":
        raise InputError("this use has already been reviewed", field="verdict")
    use.review, use.review_note = verdict, note
    use.reviewed_by_label, use.reviewed_at = actor.label, utcnow()
    audit.record(
        session,
        actor=actor,
        event="reviewed",
        record_type="break_glass",
        record_id=use.id,
        partnership_id=partnership_id,
        summary=f"Emergency access use {use.id} reviewed: {VERDICTS[verdict].lower()}",
        after={"verdict": verdict, "note": note},
    )
    return use


def set_minutes(session: Session, *, actor: Actor, partnership_id: int, minutes: int) -> None:
    ensure_allowed(actor, Can.REVIEW_BREAK_GLASS, partnership_id)
    low, high = MINUTES_RANGE
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
        raise InputError(f"must be a whole number of minutes from {low} to {high}", field="minutes")
    partnership = session.get(Partnership, partnership_id)
    assert partnership is not None
    before = partnership.break_glass_minutes
    partnership.break_glass_minutes = minutes
    audit.record(
        session,
        actor=actor,
        event="changed",
        record_type="partnership",
        record_id=partnership_id,
        partnership_id=partnership_id,
        summary=f"Emergency access now lasts {minutes} minutes (was {before})",
        before={"break_glass_minutes": before},
        after={"break_glass_minutes": minutes},
    )


def use_of(session: Session, break_glass_id: int | None) -> BreakGlass | None:
    """The use a read relies on (for the record page's banner: until when, and that it is reviewed)."""
    return session.get(BreakGlass, break_glass_id) if break_glass_id is not None else None
