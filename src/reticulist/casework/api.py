"""Casework's JSON API at /api/v1: the same records and the same need-to-know as the pages, through the
same services (so every read is audited, with ``via`` "api"). A family one may not see, one of another
partnership, and one that does not exist all answer 404 alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import allowed, ensure_allowed
from reticulist.casework import break_glass, figures, sharing
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework import subject_access_bundle as sar_bundle_module
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
    return casework.note_view(note)


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


# --- changes to a family's open episode ----------------------------------------------------------------
class Done(BaseModel):
    """What a change created or changed, by id."""

    id: int


def _open_episode(db: Session, viewer: Viewer, partnership_id: int, family_id: int) -> int:
    return casework.open_episode_id(
        db, actor=viewer.actor, family_id=family_id, partnership_id=partnership_id
    )


F = P + "/families/{family_id}"


@router.post(F + "/team", response_model=Done, status_code=201, tags=["casework"], summary="Add to the team")
def add_to_team(
    family_id: int,
    data: cs.InvolvementCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """A practitioner joins the team around the family (the lead practitioner or the coordinator)."""
    episode_id = _open_episode(db, viewer, partnership_id, family_id)
    involvement = casework.add_to_team(db, actor=viewer.actor, episode_id=episode_id, data=data)
    db.commit()
    return Done(id=involvement.id)


@router.post(F + "/lead", response_model=Done, tags=["casework"], summary="Change the lead practitioner")
def change_lead(
    family_id: int,
    data: cs.LeadChange,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """Hand the lead to a current member of the team; the previous lead's term ends the day before."""
    episode_id = _open_episode(db, viewer, partnership_id, family_id)
    lead = casework.change_lead(db, actor=viewer.actor, episode_id=episode_id, data=data)
    db.commit()
    return Done(id=lead.id)


@router.post(F + "/close", response_model=Done, tags=["casework"], summary="Close the episode")
def close_episode(
    family_id: int,
    data: cs.EpisodeClose,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """Close the open episode with an outcome; the team's sight of the record ends with it."""
    episode_id = _open_episode(db, viewer, partnership_id, family_id)
    episode = casework.close_episode(db, actor=viewer.actor, episode_id=episode_id, data=data)
    db.commit()
    return Done(id=episode.id)


@router.post(
    F + "/outcomes", response_model=Done, status_code=201, tags=["casework"], summary="Add an outcome"
)
def add_outcome(
    family_id: int,
    data: cs.OutcomeCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """An outcome in the family plan."""
    episode_id = _open_episode(db, viewer, partnership_id, family_id)
    outcome = casework.add_outcome(db, actor=viewer.actor, episode_id=episode_id, data=data)
    db.commit()
    return Done(id=outcome.id)


@router.post(
    F + "/actions", response_model=Done, status_code=201, tags=["casework"], summary="Add a plan action"
)
def add_plan_action(
    family_id: int,
    data: cs.PlanActionCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """An action towards an outcome of the plan, owned by a current member of the team."""
    episode_id = _open_episode(db, viewer, partnership_id, family_id)
    action = casework.add_plan_action(db, actor=viewer.actor, episode_id=episode_id, data=data)
    db.commit()
    return Done(id=action.id)


@router.post(
    F + "/reviews", response_model=Done, status_code=201, tags=["casework"], summary="Record a review"
)
def record_review(
    family_id: int,
    data: cs.ReviewCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """A team around the family review: who came, progress on each action, the next review."""
    episode_id = _open_episode(db, viewer, partnership_id, family_id)
    review = casework.record_review(db, actor=viewer.actor, episode_id=episode_id, data=data)
    db.commit()
    return Done(id=review.id)


@router.post(
    F + "/referrals", response_model=Done, status_code=201, tags=["casework"], summary="Send a referral"
)
def send_referral(
    family_id: int,
    data: cs.ReferralCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """Refer one of the family's children to an organisation of the partnership (a team member)."""
    referral = casework.send_referral(
        db, actor=viewer.actor, family_id=family_id, data=data, partnership_id=partnership_id
    )
    db.commit()
    return Done(id=referral.id)


@router.post(
    F + "/assessment", response_model=Done, status_code=201, tags=["casework"], summary="Start an assessment"
)
def start_assessment(
    family_id: int,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """A new draft: the first version, or a copy of the latest completed one to change."""
    episode_id = _open_episode(db, viewer, partnership_id, family_id)
    draft = casework.start_assessment(db, actor=viewer.actor, episode_id=episode_id)
    db.commit()
    return Done(id=draft.id)


@router.put(
    F + "/assessment/{assessment_id}",
    response_model=Done,
    tags=["casework"],
    summary="Save a draft assessment",
)
def save_assessment(
    family_id: int,
    assessment_id: int,
    data: cs.AssessmentDraft,
    complete: Annotated[bool, Query(description="Also complete (lock) it")] = False,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """Save the draft (the whole of it); with ``?complete=true`` also lock it as completed."""
    casework.save_family_assessment(
        db,
        actor=viewer.actor,
        family_id=family_id,
        assessment_id=assessment_id,
        data=data,
        complete=complete,
        partnership_id=partnership_id,
    )
    db.commit()
    return Done(id=assessment_id)


# --- casework figures for managers ---------------------------------------------------------------------
class FiguresIndex(BaseModel):
    published: list[figures.ReleaseSummary]
    publishable: list[str]  # ended quarters not yet published (for those who may publish)


class PublishFigures(BaseModel):
    quarter: str = Field(max_length=20, description="YYYY-Qn, an ended quarter, for example 2026-Q3")
    threshold: int = Field(default=figures.DEFAULT_THRESHOLD, description="smallest group shown, 3 to 50")


def _partnership_for(action: Can) -> Callable[..., int]:
    def dependency(
        partnership_id: int, viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)
    ) -> int:
        """404 to outsiders, 403 to roles without ``action``, before a body is read."""
        register.get_partnership(db, actor=viewer.actor, partnership_id=partnership_id)
        ensure_allowed(viewer.actor, action, partnership_id)
        return partnership_id

    return dependency


figures_reader = _partnership_for(Can.VIEW_CASEWORK_FIGURES)
figures_publisher = _partnership_for(Can.PUBLISH_CASEWORK_FIGURES)


@router.get(
    P + "/casework/figures",
    response_model=FiguresIndex,
    tags=["casework"],
    summary="Casework figures published",
)
def figures_index(
    partnership_id: int = Depends(figures_reader),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> FiguresIndex:
    """The quarters whose casework figures are published, latest first, and those that could be."""
    published = figures.releases(db, actor=viewer.actor, partnership_id=partnership_id)
    can_publish = allowed(viewer.actor, Can.PUBLISH_CASEWORK_FIGURES, partnership_id)
    return FiguresIndex(
        published=published,
        publishable=(
            figures.publishable_quarters(db, actor=viewer.actor, partnership_id=partnership_id)
            if can_publish
            else []
        ),
    )


@router.get(
    P + "/casework/figures/{quarter}",
    response_model=figures.Release,
    tags=["casework"],
    summary="A quarter's casework figures",
)
def figures_quarter(
    quarter: Annotated[str, Path(max_length=20)],
    partnership_id: int = Depends(figures_reader),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> figures.Release:
    """As published: a hidden count or mean is ``null``. 404 for a quarter not published."""
    return figures.release(db, actor=viewer.actor, partnership_id=partnership_id, quarter=quarter)


@router.post(
    P + "/casework/figures",
    response_model=figures.Release,
    status_code=201,
    tags=["casework"],
    summary="Publish a quarter's casework figures",
)
def figures_publish(
    data: PublishFigures,
    partnership_id: int = Depends(figures_publisher),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> figures.Release:
    """Once, after the quarter has ended; they never change afterwards (422 for a second time)."""
    published = figures.publish_quarter(
        db,
        actor=viewer.actor,
        partnership_id=partnership_id,
        quarter=data.quarter,
        threshold=data.threshold,
    )
    db.commit()
    return published


# --- emergency access ----------------------------------------------------------------------------------
class BreakGlassCreate(BaseModel):
    reason: str = Field(max_length=2000, description="why the record is needed now (at least 20 characters)")


class BreakGlassOpened(BaseModel):
    id: int
    expires_at: str  # ISO 8601, UTC


@router.post(
    F + "/break-glass",
    response_model=BreakGlassOpened,
    status_code=201,
    tags=["casework"],
    summary="Emergency access to a family's record",
)
def break_glass_open(
    family_id: int,
    data: BreakGlassCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> BreakGlassOpened:
    """For a practitioner who is not in the family's team, in an emergency: read-only access to the record
    (without shielded addresses) until the partnership's time limit. Recorded, and reviewed by the data
    protection role."""
    use = break_glass.open_break_glass(
        db, actor=viewer.actor, partnership_id=partnership_id, family_id=family_id, reason=data.reason
    )
    db.commit()
    return BreakGlassOpened(id=use.id, expires_at=use.expires_at.isoformat())


# --- consent and sharing decisions -------------------------------------------------------------------------
class SharingRecords(BaseModel):
    decisions: list[sharing.DecisionView]
    consents: list[sharing.ConsentView]


@router.get(
    F + "/sharing", response_model=SharingRecords, tags=["casework"], summary="Sharing decisions and consents"
)
def sharing_records(
    family_id: int,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> SharingRecords:
    """The family's sharing decisions (shared or not, with reasons and lawful basis) and consents to share,
    for its team and the coordinator. Audited."""
    casework.access_to_family(db, viewer.actor, family_id, partnership_id)
    decisions, consents = sharing.family_sharing(db, actor=viewer.actor, family_id=family_id, audited=True)
    db.commit()
    return SharingRecords(decisions=decisions, consents=consents)


@router.post(
    F + "/consents", response_model=Done, status_code=201, tags=["casework"], summary="Record consent"
)
def consent_add(
    family_id: int,
    data: cs.ConsentCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """Consent to share given by the child or a person with parental responsibility: organisations, kinds
    of information, date."""
    casework.access_to_family(db, viewer.actor, family_id, partnership_id)
    consent = sharing.record_consent(db, actor=viewer.actor, family_id=family_id, data=data)
    db.commit()
    return Done(id=consent.id)


@router.post(
    P + "/consents/{consent_id}/withdraw", response_model=Done, tags=["casework"], summary="Withdraw consent"
)
def consent_withdraw(
    consent_id: int,
    data: cs.ConsentWithdraw,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """Access that rested on the consent ends at once; the lead practitioner is told in the chronology."""
    sharing.withdraw_consent(
        db, actor=viewer.actor, consent_id=consent_id, data=data, partnership_id=partnership_id
    )
    db.commit()
    return Done(id=consent_id)


@router.post(
    F + "/sharing-decisions",
    response_model=Done,
    status_code=201,
    tags=["casework"],
    summary="Record a sharing decision",
)
def sharing_decide(
    family_id: int,
    data: cs.SharingDecisionCreate,
    partnership_id: int = Depends(casework_partnership),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> Done:
    """To share or not to share, with reasons; the lawful basis rules are enforced (422 naming the field)."""
    casework.access_to_family(db, viewer.actor, family_id, partnership_id)
    decision = sharing.record_decision(db, actor=viewer.actor, family_id=family_id, data=data)
    db.commit()
    return Done(id=decision.id)


# --- subject access bundles --------------------------------------------------------------------------------
subject_access_handler = _partnership_for(Can.HANDLE_SUBJECT_ACCESS)


@router.get(
    P + "/subject-access/{request_id}/bundle",
    tags=["casework"],
    summary="The subject access bundle of an open request",
)
def sar_bundle(
    request_id: int,
    partnership_id: int = Depends(subject_access_handler),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Everything held about the request's person, as a review copy for the data protection role: each
    field's text with its marks (other people's details, withheld shielded addresses, possible child
    abuse data) as character ranges. Only for a request whose requester's identity is confirmed and which
    is not answered; building it is audited against the request."""
    bundle = sar_bundle_module.build_bundle(
        db, actor=viewer.actor, partnership_id=partnership_id, request_id=request_id, form="API"
    )
    db.commit()
    return sar_bundle_module.bundle_json(bundle)
