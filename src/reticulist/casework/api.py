"""Casework's JSON API at /api/v1: the same records and the same need-to-know as the pages, through the
same services (so every read is audited, with ``via`` "api"). A family one may not see, one of another
partnership, and one that does not exist all answer 404 alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import ensure_allowed
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.register import service as register
from reticulist.web.deps import Viewer, api_viewer, get_db

router = APIRouter()

P = "/partnerships/{partnership_id}"


def casework_partnership(
    partnership_id: int, viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)
) -> int:
    """The path's partnership, if the viewer works cases there: 404 to outsiders, 403 to others, decided
    before a body is read."""
    register.get_partnership(db, actor=viewer.actor, partnership_id=partnership_id)
    ensure_allowed(viewer.actor, Can.WORK_CASES, partnership_id)
    return partnership_id


class FamilyCreated(BaseModel):
    id: int
    reference: str


class AuditEntry(BaseModel):
    at: str
    who: str
    event: str
    summary: str
    access: str | None


@router.get(
    P + "/cases", response_model=list[casework.CaseloadLine], tags=["casework"], summary="My caseload"
)
def caseload(
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list[casework.CaseloadLine]:
    """The families whose team you are in now, the ones you lead first, with overdue flags. Audited."""
    lines = casework.my_caseload(db, actor=viewer.actor, partnership_id=partnership_id)
    db.commit()
    return lines


@router.get(
    P + "/cases/search",
    response_model=list[casework.KnownChild],
    tags=["casework"],
    summary="Is this child known?",
)
def search(
    surname: Annotated[str, Query(max_length=200)],
    date_of_birth: Annotated[str, Query(max_length=20, description="YYYY-MM-DD or DD/MM/YYYY")],
    forenames: Annotated[str, Query(max_length=200)] = "",
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list[casework.KnownChild]:
    """Whether a child with this surname and date of birth is known, and whom to contact; the family's id
    only where you may open the record. Audited with the search and the number found."""
    query = cs.parse(
        cs.ChildSearch, {"surname": surname, "date_of_birth": date_of_birth, "forenames": forenames}
    )
    found = casework.search_child(db, actor=viewer.actor, partnership_id=partnership_id, data=query)
    db.commit()
    return found


@router.post(
    P + "/families",
    response_model=FamilyCreated,
    status_code=201,
    tags=["casework"],
    summary="Record a family",
)
def record_family(
    data: cs.FamilyCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> FamilyCreated:
    """A new family with its people and its first early help episode, led by the named practitioner; you
    join its team."""
    family = casework.record_family(db, actor=viewer.actor, partnership_id=partnership_id, data=data)
    db.commit()
    return FamilyCreated(id=family.id, reference=family.reference)


@router.get(
    P + "/families/{family_id}",
    response_model=casework.FamilyRecord,
    tags=["casework"],
    summary="A family's record",
)
def family_record(
    family_id: int,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> casework.FamilyRecord:
    """The record as you may see it (shielded addresses and sensitive notes left out for those not
    allowed), with the route of your access. Audited."""
    record = casework.family_record(
        db, actor=viewer.actor, family_id=family_id, partnership_id=partnership_id
    )
    db.commit()
    return record


@router.post(
    P + "/families/{family_id}/notes",
    response_model=casework.NoteView,
    status_code=201,
    tags=["casework"],
    summary="Add a case note",
)
def add_note(
    family_id: int,
    data: cs.NoteCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> casework.NoteView:
    """A dated entry in the family's chronology; ``sensitive`` keeps it to you, the lead practitioner and
    the coordinator."""
    note = casework.add_note(
        db, actor=viewer.actor, family_id=family_id, data=data, partnership_id=partnership_id
    )
    db.commit()
    return casework.NoteView(
        note.id, note.happened_on, note.kind, note.text, note.author_label, note.sensitive, note.written_at
    )


@router.get(
    P + "/families/{family_id}/seen",
    response_model=list[AuditEntry],
    tags=["casework"],
    summary="Who has seen a family's record",
)
def who_has_seen(
    family_id: int,
    partnership_id: int,
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list[AuditEntry]:
    """Every audited read and change of the record, newest first: for the lead practitioner and the
    partnership's data protection role."""
    register.get_partnership(db, actor=viewer.actor, partnership_id=partnership_id)
    events = casework.who_has_seen(db, actor=viewer.actor, family_id=family_id, partnership_id=partnership_id)
    db.commit()
    return [
        AuditEntry(
            at=e.at.isoformat(),
            who=e.actor_label,
            event=e.event,
            summary=e.summary,
            access=(e.after or {}).get("access"),
        )
        for e in events
    ]


@router.get(
    P + "/referrals",
    response_model=list[casework.ReferralView],
    tags=["casework"],
    summary="Referrals waiting for your organisation",
)
def referrals(
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list[casework.ReferralView]:
    """Referrals to your organisation not yet decided: the limited view. Audited."""
    waiting = casework.referrals_to_my_organisation(db, actor=viewer.actor, partnership_id=partnership_id)
    db.commit()
    return waiting


@router.get(
    P + "/referrals/{referral_id}",
    response_model=casework.ReferralView,
    tags=["casework"],
    summary="One referral to your organisation",
)
def referral(
    referral_id: int,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> casework.ReferralView:
    view = casework.referral_for_recipient(
        db, actor=viewer.actor, referral_id=referral_id, partnership_id=partnership_id
    )
    db.commit()
    return view


@router.post(
    P + "/referrals/{referral_id}/decision",
    response_model=casework.ReferralView,
    tags=["casework"],
    summary="Accept or decline a referral",
)
def decide(
    referral_id: int,
    data: cs.ReferralDecision,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> casework.ReferralView:
    """Accept (you join the team around the family) or decline with a reason."""
    casework.decide_referral(
        db, actor=viewer.actor, referral_id=referral_id, data=data, partnership_id=partnership_id
    )
    db.commit()
    return casework.referral_for_recipient(
        db, actor=viewer.actor, referral_id=referral_id, partnership_id=partnership_id
    )
