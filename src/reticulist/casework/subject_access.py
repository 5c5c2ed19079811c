"""The subject access request register, for the partnership's data protection role: a request about a person
in casework is received, the requester's identity checked (the clock waits for it), perhaps extended for a
complex request (with the reason), and done. Due dates: casework/subject_access_dates.py. Every step is
audited; the register names people, so it is a case record type, kept from managers' audit log.

The bundle of everything held about the person is casework/subject_access_bundle.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.audit import service as audit
from reticulist.casework.models import Family, FamilyMember, SubjectAccessRequest
from reticulist.casework.subject_access_dates import due_on
from reticulist.errors import InputError
from reticulist.text import refused_character


@dataclass(frozen=True)
class RequestView:
    id: int
    family_reference: str
    person: str
    requester: str
    received_on: date
    identity_checked_on: date | None
    extension_reason: str | None
    done_on: date | None
    due: date | None  # None while the identity check is awaited
    overdue: bool
    recorded_by: str


def _text(value: str, field: str, *, required: bool, limit: int) -> str:
    value = " ".join((value or "").split())
    if problem := refused_character(value):
        raise InputError(problem, field=field)
    if required and not value:
        raise InputError("is required", field=field)
    if len(value) > limit:
        raise InputError(f"is too long: at most {limit} characters", field=field)
    return value


def _not_future(day: date | None, field: str) -> None:
    if day is not None and day > date.today():
        raise InputError("is in the future", field=field)


def _audit(session: Session, actor: Actor, request: SubjectAccessRequest, event: str, summary: str) -> None:
    audit.record(
        session,
        actor=actor,
        event=event,
        record_type="subject_access",
        record_id=request.id,
        partnership_id=request.partnership_id,
        summary=summary,
        after={"member_id": request.member_id},
    )


def register_request(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    family_reference: str,
    surname: str,
    requester: str,
    received_on: date,
    identity_checked_on: date | None = None,
    forenames: str = "",
) -> SubjectAccessRequest:
    """A request about the person of that family (by its reference) with that surname (any case), and
    those first names when several share the surname."""
    ensure_allowed(actor, Can.HANDLE_SUBJECT_ACCESS, partnership_id)
    reference = _text(family_reference, "family_reference", required=True, limit=40)
    surname = _text(surname, "surname", required=True, limit=200)
    requester = _text(requester, "requester", required=True, limit=200)
    forenames = _text(forenames, "forenames", required=False, limit=200)
    _not_future(received_on, "received_on")
    _not_future(identity_checked_on, "identity_checked_on")
    if identity_checked_on is not None and identity_checked_on < received_on:
        raise InputError("is before the request was received", field="identity_checked_on")
    family = session.scalar(
        select(Family).where(Family.partnership_id == partnership_id, Family.reference == reference)
    )
    if family is None:
        raise InputError("no family has this reference", field="family_reference")
    people = list(
        session.scalars(
            select(FamilyMember).where(
                FamilyMember.family_id == family.id, FamilyMember.surname_key == surname.casefold()
            )
        )
    )
    if forenames:
        people = [p for p in people if forenames.casefold() in f"{p.forenames} {p.known_as}".casefold()]
    if not people:
        raise InputError("nobody of that family has this name", field="surname")
    if len(people) > 1:
        raise InputError(
            "several people of that family have this surname: give their first name too", field="forenames"
        )
    request = SubjectAccessRequest(
        partnership_id=partnership_id,
        member_id=people[0].id,
        requester=requester,
        received_on=received_on,
        identity_checked_on=identity_checked_on,
        recorded_by_label=actor.label,
    )
    session.add(request)
    session.flush()
    _audit(session, actor, request, "sar-received", f"Subject access request {request.id} received")
    return request


def _request(session: Session, actor: Actor, partnership_id: int, request_id: int) -> SubjectAccessRequest:
    ensure_allowed(actor, Can.HANDLE_SUBJECT_ACCESS, partnership_id)
    request = session.get(SubjectAccessRequest, request_id)
    if request is None or request.partnership_id != partnership_id:
        raise NotFound("No such subject access request.")
    if request.done_on is not None:
        raise InputError("this request is done", field="request")
    return request


def identity_checked(
    session: Session, *, actor: Actor, partnership_id: int, request_id: int, checked_on: date
) -> SubjectAccessRequest:
    request = _request(session, actor, partnership_id, request_id)
    _not_future(checked_on, "identity_checked_on")
    if checked_on < request.received_on:
        raise InputError("is before the request was received", field="identity_checked_on")
    request.identity_checked_on = checked_on
    _audit(session, actor, request, "sar-identity", f"Subject access request {request.id}: identity checked")
    return request


def extend(
    session: Session, *, actor: Actor, partnership_id: int, request_id: int, reason: str
) -> SubjectAccessRequest:
    """Two more months for a complex request; the reason is required (and told to the requester)."""
    request = _request(session, actor, partnership_id, request_id)
    reason = _text(reason, "extension_reason", required=True, limit=2000)
    if request.extension_reason:
        raise InputError("this request is already extended", field="extension_reason")
    request.extension_reason = reason
    _audit(
        session, actor, request, "sar-extended", f"Subject access request {request.id} extended by two months"
    )
    return request


def done(
    session: Session, *, actor: Actor, partnership_id: int, request_id: int, done_on: date
) -> SubjectAccessRequest:
    request = _request(session, actor, partnership_id, request_id)
    _not_future(done_on, "done_on")
    if done_on < request.received_on:
        raise InputError("is before the request was received", field="done_on")
    request.done_on = done_on
    _audit(session, actor, request, "sar-done", f"Subject access request {request.id} answered")
    return request


def register(session: Session, *, actor: Actor, partnership_id: int) -> list[RequestView]:
    """Open requests first, soonest due first; then done ones, latest first."""
    ensure_allowed(actor, Can.HANDLE_SUBJECT_ACCESS, partnership_id)
    rows = session.execute(
        select(SubjectAccessRequest, FamilyMember, Family.reference)
        .join(FamilyMember, FamilyMember.id == SubjectAccessRequest.member_id)
        .join(Family, Family.id == FamilyMember.family_id)
        .where(SubjectAccessRequest.partnership_id == partnership_id)
        .order_by(SubjectAccessRequest.received_on.desc(), SubjectAccessRequest.id.desc())
        .limit(1000)
    ).all()
    today = date.today()
    views = []
    for request, member, reference in rows:
        # Without an identity check yet, the clock has not started (the due date shows once it has).
        due = (
            due_on(request.received_on, request.identity_checked_on, extended=bool(request.extension_reason))
            if request.identity_checked_on
            else None
        )
        views.append(
            RequestView(
                request.id,
                reference,
                f"{member.forenames} {member.surname}",
                request.requester,
                request.received_on,
                request.identity_checked_on,
                request.extension_reason,
                request.done_on,
                due,
                request.done_on is None and due is not None and due < today,
                request.recorded_by_label,
            )
        )
    views.sort(key=lambda v: (v.done_on is not None, v.due or date.max, -v.id))
    return views


def open_count(session: Session, *, partnership_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(SubjectAccessRequest)
            .where(
                SubjectAccessRequest.partnership_id == partnership_id, SubjectAccessRequest.done_on.is_(None)
            )
        )
        or 0
    )
