"""Writing and reading the audit log. Events are added to the caller's session, so they commit (or
roll back) together with the change they describe."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action, Actor, allowed, ensure_allowed
from reticulist.audit import chain as _chain  # noqa: F401  (chains every audit row a session writes)
from reticulist.audit.models import AuditEvent
from reticulist.db.base import Base
from reticulist.register.schemas import is_record_id
from reticulist.text import printable, refused_character

# Record types of case data (casework). The partnership's audit log leaves them out for managers and
# admins: which families exist and who works with them is need-to-know. The data protection role sees
# them (Action.VIEW_CASE_ACCESS), as does casework's "who has seen this record".
CASE_RECORD_TYPES = frozenset(
    {
        "family",
        "family_member",
        "episode",
        "involvement",
        "caseload",
        "child_search",
        "referral_inbox",
        "subject_access",
        "break_glass",
        # Linkage: which children agencies know, and who looked (the linkage role's and data protection's).
        "linkage_source",
        "linkage_model",
        "linkage_run",
        "linkage_pair",
        "linkage_label",
        "linkage_child",
    }
)

_ORDER = itertools.count()
MAX_PAGE = 1_000_000  # past any real log; keeps the offset a number every database takes


def snapshot(record: Base) -> dict[str, Any]:
    """The record's columns as JSON-safe values (dates as ISO strings)."""
    out: dict[str, Any] = {}
    for column in record.__table__.columns:
        value = getattr(record, column.key)
        if isinstance(value, date | datetime):
            value = value.isoformat()
        out[column.key] = value
    return out


def record(
    session: Session,
    *,
    actor: Actor,
    event: str,
    record_type: str,
    record_id: int | None,
    summary: str,
    partnership_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    if before is not None and after is not None:
        # Keep only what changed (plus the id) so the log reads as a diff.
        changed = {k for k in after if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed or k == "id"}
        after = {k: v for k, v in after.items() if k in changed or k == "id"}
    entry = AuditEvent(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        partnership_id=partnership_id,
        event=event,
        record_type=record_type,
        record_id=record_id,
        summary=printable(summary)[:500],
        before=before,
        after=after,
        via=actor.via,
    )
    entry.order = next(_ORDER)  # the chain keeps the order events were recorded in (audit/chain.py)
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int
    page: int
    per_page: int


def list_events(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    record_type: str | None = None,
    record_id: int | None = None,
    actor_label: str | None = None,
    event: str | None = None,
    since: date | None = None,
    until: date | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """The partnership's audit events, newest first, filtered. Managers and admins only."""
    ensure_allowed(actor, Action.VIEW_AUDIT, partnership_id)
    page = min(max(page, 1), MAX_PAGE)
    bad_words = any(w and refused_character(w) for w in (record_type, actor_label, event))
    if bad_words or (record_id is not None and not is_record_id(record_id)):
        return AuditPage(events=[], total=0, page=page, per_page=per_page)  # no event holds such a value
    query = select(AuditEvent).where(AuditEvent.partnership_id == partnership_id)
    if not allowed(actor, Action.VIEW_CASE_ACCESS, partnership_id):
        query = query.where(AuditEvent.record_type.not_in(CASE_RECORD_TYPES))
    if record_type:
        query = query.where(AuditEvent.record_type == record_type)
    if record_id is not None:
        query = query.where(AuditEvent.record_id == record_id)
    if actor_label:
        query = query.where(AuditEvent.actor_label.ilike(f"%{actor_label}%"))
    if event:
        query = query.where(AuditEvent.event == event)
    if since:
        query = query.where(AuditEvent.at >= datetime.combine(since, datetime.min.time(), tzinfo=UTC))
    if until and until < date.max:
        query = query.where(
            AuditEvent.at < datetime.combine(until + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = session.scalars(
        query.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return AuditPage(events=list(events), total=total, page=page, per_page=per_page)
