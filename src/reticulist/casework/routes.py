"""Casework pages: my caseload, "is this child known?", recording a family, the family's record (people,
assessment, plan, reviews, referrals, chronology, team) with a form for each change, the referral inbox
and decision, and who has seen a record. Thin: parse, call one service function, render. Who may see
what is decided in casework.service, which also writes the audit entry of every read; pages that read
commit it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import NotFound, allowed, ensure_allowed
from reticulist.casework import break_glass, figures, sharing, subject_access
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework import subject_access_bundle as sar
from reticulist.casework.need_to_know import through
from reticulist.casework.subject_access_pdf import bundle_pdf
from reticulist.casework.vocab import (
    EpisodeOutcome,
    InformationKind,
    LawfulBasis,
    NoteKind,
    PlanActionStatus,
    ReferralChoice,
    ReferralStatus,
    Relationship,
    Sex,
    SpecialCategoryCondition,
)
from reticulist.errors import InputError
from reticulist.register import service as register
from reticulist.tabular import csv_bytes
from reticulist.text import refused_character
from reticulist.web.deps import Viewer, form_for, get_db, page_viewer
from reticulist.web.pages import form_values, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)
# Routes to a record that let one read it and nothing more.
READ_ONLY_ROUTES = ("break-glass", "share decision")
cases_form = form_for(Can.WORK_CASES)


def _context(db: Session, viewer: Viewer, partnership_id: int) -> dict[str, Any]:
    ctx = partnership_context(db, viewer, partnership_id, "cases")
    ctx.update(
        can_record=allowed(viewer.actor, Can.WORK_CASES, partnership_id),
        can_see_access=allowed(viewer.actor, Can.VIEW_CASE_ACCESS, partnership_id),
    )
    return ctx


@router.get("/p/{partnership_id}/cases")
def caseload(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    if not (ctx["can_record"] or ctx["can_see_access"]):
        ensure_allowed(viewer.actor, Can.WORK_CASES, partnership_id)  # 403 for members, 404 for outsiders
    lines = (
        casework.my_caseload(db, actor=viewer.actor, partnership_id=partnership_id)
        if ctx["can_record"]
        else []
    )
    db.commit()  # the caseload's audit entry
    ctx.update(
        lines=lines,
        linked=casework.practitioner_person_id(db, viewer.actor, partnership_id) is not None,
        search={},
        errors={},
    )
    return render(request, "casework/caseload.html", ctx)


@router.get("/p/{partnership_id}/cases/search")
def search(
    request: Request,
    partnership_id: int,
    surname: str = "",
    forenames: str = "",
    date_of_birth: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ensure_allowed(viewer.actor, Can.WORK_CASES, partnership_id)
    values = {"surname": surname, "forenames": forenames, "date_of_birth": date_of_birth}
    found = None
    errors: dict[str, str] = {}
    try:
        query = cs.parse(cs.ChildSearch, values)
        found = casework.search_child(db, actor=viewer.actor, partnership_id=partnership_id, data=query)
        db.commit()  # the search's audit entry
    except InputError as err:
        errors = err.by_field()
    ctx.update(search=values, errors=errors, found=found)
    return render(request, "casework/search.html", ctx, status_code=422 if errors else 200)


# --- choosing a practitioner ------------------------------------------------------------------------------
# A partnership with a few practitioners who log in chooses from a list; one with hundreds or thousands
# searches by name or email instead (a list of thousands makes every record page heavy and is no use on a
# phone), and chooses from the matches when several match.
PICK_FROM_LIST = 30
MATCHES_SHOWN = 30


@dataclass(frozen=True)
class Picker:
    field: str  # the form field that carries the chosen person's id
    choices: list[tuple[int, str]] | None  # to choose from: everyone, or a search's matches; None: search
    search: str = ""


def _picker(db: Session, viewer: Viewer, partnership_id: int, field: str, values: dict[str, str]) -> Picker:
    everyone = casework.practitioners(
        db, actor=viewer.actor, partnership_id=partnership_id, limit=PICK_FROM_LIST + 1
    )
    if len(everyone) <= PICK_FROM_LIST:
        return Picker(field, everyone)
    search = values.get(f"{field}_search", "").strip()[:200]
    if not search or refused_character(search):
        return Picker(field, None, "")
    matches = casework.practitioners(
        db, actor=viewer.actor, partnership_id=partnership_id, matching=search, limit=MATCHES_SHOWN
    )
    return Picker(field, matches or None, search)


def _chosen_practitioner(
    db: Session, viewer: Viewer, partnership_id: int, values: dict[str, str], field: str
) -> dict[str, str]:
    """The form's values with ``field`` set: the id chosen from a list, or the one practitioner the search
    found. InputError (nothing written) when the search finds none, or several to choose from."""
    search = values.get(f"{field}_search", "").strip()
    if values.get(field, "").strip() or not search:
        return values  # chosen from a list, or nothing given (the schema says it is required)
    if problem := refused_character(search):
        raise InputError(problem, field=f"{field}_search")
    if len(search) > 200:
        raise InputError("is too long: at most 200 characters", field=f"{field}_search")
    matches = casework.practitioners(
        db, actor=viewer.actor, partnership_id=partnership_id, matching=search, limit=MATCHES_SHOWN + 1
    )
    if len(matches) == 1:
        return {**values, field: str(matches[0][0])}
    if not matches:
        raise InputError(
            "no practitioner who logs in matches this: try part of their name or their email",
            field=f"{field}_search",
        )
    many = f"more than {MATCHES_SHOWN}" if len(matches) > MATCHES_SHOWN else str(len(matches))
    raise InputError(f"{many} practitioners match: choose one, or search more closely", field=field)


# --- recording a family --------------------------------------------------------------------------------
def _family_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        values=values,
        errors=errors,
        picker=_picker(db, viewer, partnership_id, "lead_person_id", values),
        sexes=Sex.choices(),
        relationships=[(r.value, r.label) for r in Relationship if r != Relationship.CHILD],
    )
    return render(request, "casework/family_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/cases/new")
def family_new(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.WORK_CASES, partnership_id)
    today = date.today().isoformat()
    me = casework.practitioner_person_id(db, viewer.actor, partnership_id)
    values = {
        "requested_on": today,
        "agreed_on": today,
        "opened_on": today,
        "lead_person_id": str(me or ""),
        "adult_relationship": Relationship.MOTHER.value,
        "agreed_by": "adult",
    }
    return _family_form(request, db, viewer, partnership_id, values=values, errors={})


# Form fields -> the schema's fields: the form holds one child and one adult; more people come later.
_FORM_FIELDS = {
    "members.0.forenames": "child_forenames",
    "members.0.surname": "child_surname",
    "members.0.known_as": "child_known_as",
    "members.0.date_of_birth": "child_date_of_birth",
    "members.0.sex": "child_sex",
    "members.0.nhs_number": "child_nhs_number",
    "members.0.upn": "child_upn",
    "members.0.address.lines": "address_lines",
    "members.0.address.postcode": "address_postcode",
    "members.0.address.from_on": "address_from_on",
    "members.1.forenames": "adult_forenames",
    "members.1.surname": "adult_surname",
    "members.1.relationship_to_children": "adult_relationship",
    "episode.requested_by": "requested_by",
    "episode.request_reason": "request_reason",
    "episode.requested_on": "requested_on",
    "episode.agreed_on": "agreed_on",
    "episode.opened_on": "opened_on",
    "episode.lead_person_id": "lead_person_id",
    "episode.lead_role": "lead_role",
    "lead_person_id": "lead_person_id",
    "reference": "reference",
    "agreed_by": "agreed_by",
    "members": "child_forenames",
    "members.1.parental_responsibility": "adult_parental_responsibility",
}


def _family_data(values: dict[str, str]) -> dict[str, Any]:
    child: dict[str, Any] = {
        "kind": "child",
        "relationship_to_children": "child",
        **{k: values.get(f"child_{k}", "") for k in ("forenames", "surname", "known_as", "date_of_birth")},
        "sex": values.get("child_sex") or "not_known",
        "nhs_number": values.get("child_nhs_number", ""),
        "upn": values.get("child_upn", ""),
        "shielded": values.get("child_shielded", ""),
    }
    if any(values.get(k, "").strip() for k in ("address_lines", "address_postcode")):
        child["address"] = {
            "lines": values.get("address_lines", ""),
            "postcode": values.get("address_postcode", ""),
            "from_on": values.get("address_from_on") or values.get("opened_on", ""),
            "shielded": values.get("address_shielded", ""),
        }
    members = [child]
    if values.get("adult_forenames", "").strip() or values.get("adult_surname", "").strip():
        members.append(
            {
                "kind": "adult",
                "forenames": values.get("adult_forenames", ""),
                "surname": values.get("adult_surname", ""),
                "relationship_to_children": values.get("adult_relationship") or "other",
                "parental_responsibility": values.get("adult_parental_responsibility", ""),
                "shielded": values.get("adult_shielded", ""),
            }
        )
    agreed_by = values.get("agreed_by", "adult")
    return {
        "reference": values.get("reference", ""),
        "members": members,
        "agreed_by": 2 if agreed_by == "adult" and len(members) == 2 else 1,
        "episode": {
            k: values.get(k, "")
            for k in ("requested_by", "request_reason", "requested_on", "agreed_on", "opened_on", "lead_role")
        }
        | {
            "lead_person_id": values.get("lead_person_id", ""),
            "family_had_say": values.get("family_had_say", ""),
        },
    }


def _form_errors(err: InputError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for problem in err.problems:
        errors.setdefault(_FORM_FIELDS.get(problem.field, problem.field), problem.message)
    return errors


@router.post("/p/{partnership_id}/cases/new")
def family_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        values = _chosen_practitioner(db, viewer, partnership_id, values, "lead_person_id")
        data = cs.parse(cs.FamilyCreate, _family_data(values))
        family = casework.record_family(db, actor=viewer.actor, partnership_id=partnership_id, data=data)
        db.commit()
    except InputError as err:
        db.rollback()
        return _family_form(
            request, db, viewer, partnership_id, values=values, errors=_form_errors(err), status_code=422
        )
    return redirect(f"/p/{partnership_id}/cases/{family.id}", "family-recorded")


# --- the record -------------------------------------------------------------------------------------------
def _record_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    family_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    record = casework.family_record(
        db, actor=viewer.actor, family_id=family_id, partnership_id=partnership_id
    )
    db.commit()  # the read's audit entry
    can_change_team = record.access.route in ("lead practitioner", "early help coordinator")
    ctx.update(
        record=record,
        episode=record.open_episode,
        can_change_team=can_change_team and record.open_episode is not None,
        can_see_seen=record.access.route == "lead practitioner" or ctx["can_see_access"],
        picker=_picker(db, viewer, partnership_id, "person_id", values or {}) if can_change_team else None,
        lead_choices=[
            (t.involvement_id, t.name) for t in record.open_episode.team if not t.leads and t.to_on is None
        ]
        if record.open_episode
        else [],
        outcomes=EpisodeOutcome.choices(),
        note_kinds=NoteKind.choices(),
        action_statuses=PlanActionStatus.choices(),
        team_choices=[(t.involvement_id, t.name) for t in record.open_episode.team if t.to_on is None]
        if record.open_episode
        else [],
        can_write=record.open_episode is not None and record.access.route not in READ_ONLY_ROUTES,
        break_glass=break_glass.use_of(db, record.access.break_glass_id),
        may_share=record.access.route not in READ_ONLY_ROUTES,
        sharing=(
            sharing.family_sharing(db, actor=viewer.actor, family_id=family_id)
            if record.access.route not in READ_ONLY_ROUTES
            else ([], [])
        ),
        consent_givers=[
            (m.id, m.name) for m in record.members if m.kind == "child" or m.parental_responsibility
        ],
        information_kinds=InformationKind.choices(),
        bases=LawfulBasis.choices(),
        conditions=SpecialCategoryCondition.choices(),
        recipient_picker=(
            _picker(db, viewer, partnership_id, "recipient_person_id", values or {})
            if record.access.route not in READ_ONLY_ROUTES
            else None
        ),
        outcome_choices=[(o.id, o.text) for o in record.plan],
        children=[(m.id, m.name) for m in record.members if m.kind == "child"],
        organisations=[
            (o.id, o.name)
            for o in register.list_organisations(
                db, actor=viewer.actor, partnership_id=partnership_id, include_ended=False
            )
        ],
        referral_statuses=dict(ReferralStatus.choices()),
        draft=next((x for x in record.assessments if x.status == "draft"), None),
        completed=next((x for x in record.assessments if x.status == "completed"), None),
        values=values
        or {k: date.today().isoformat() for k in ("from_on", "closed_on", "happened_on", "held_on")},
        errors=errors or {},
        sexes=dict(Sex.choices()),
        relationships=dict(Relationship.choices()),
        ages={m.id: _age(m.date_of_birth) for m in record.members},
    )
    return render(request, "casework/family.html", ctx, status_code=status_code)


def _age(born: date | None) -> int | None:
    if born is None:
        return None
    today = date.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@router.get("/p/{partnership_id}/cases/{family_id}")
def family_page(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _record_page(request, db, viewer, partnership_id, family_id)


def _episode_id(db: Session, viewer: Viewer, partnership_id: int, family_id: int) -> int:
    return casework.open_episode_id(
        db, actor=viewer.actor, family_id=family_id, partnership_id=partnership_id
    )


def _write(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    family_id: int,
    values: dict[str, str],
    work: Any,
    done: str,
    anchor: str,
    renames: dict[str, str] | None = None,
    then: str | None = None,
) -> Response:
    """Run one write against the family's record; on bad input show the record again with the problems at
    their fields (``renames``: the schema's field -> the form's) and nothing written. Afterwards go to
    ``then`` (default: the record, at ``anchor``)."""
    # Who may change the record is decided before the form is read: a reader (a share, emergency access)
    # gets "forbidden" whatever they sent, and someone outside "not found".
    casework.ensure_may_change(casework.access_to_family(db, viewer.actor, family_id, partnership_id))
    try:
        work()
        db.commit()
    except InputError as err:
        db.rollback()
        return _record_page(
            request,
            db,
            viewer,
            partnership_id,
            family_id,
            values=values,
            errors={(renames or {}).get(k, k): v for k, v in err.by_field().items()},
            status_code=422,
        )
    target = then or f"/p/{partnership_id}/cases/{family_id}"
    return RedirectResponse(f"{target}?done={done}" + ("" if then else f"#{anchor}"), status_code=303)


@router.post("/p/{partnership_id}/cases/{family_id}/team")
def team_add(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        episode_id = _episode_id(db, viewer, partnership_id, family_id)
        fields = ("person_id", "role", "from_on")
        chosen = _chosen_practitioner(db, viewer, partnership_id, values, "person_id")
        data = cs.parse(cs.InvolvementCreate, {k: chosen.get(k, "") for k in fields})
        casework.add_to_team(db, actor=viewer.actor, episode_id=episode_id, data=data)

    return _write(request, db, viewer, partnership_id, family_id, values, work, "team-joined", "change-team")


@router.post("/p/{partnership_id}/cases/{family_id}/lead")
def lead_change(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        episode_id = _episode_id(db, viewer, partnership_id, family_id)
        raw = {
            "involvement_id": values.get("involvement_id", ""),
            "from_on": values.get("lead_from_on", ""),
            "family_had_say": values.get("family_had_say", ""),
        }
        casework.change_lead(db, actor=viewer.actor, episode_id=episode_id, data=cs.parse(cs.LeadChange, raw))

    renames = {"from_on": "lead_from_on"}
    return _write(
        request, db, viewer, partnership_id, family_id, values, work, "lead-changed", "change-team", renames
    )


@router.post("/p/{partnership_id}/cases/{family_id}/close")
def episode_close(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        episode_id = _episode_id(db, viewer, partnership_id, family_id)
        data = cs.parse(cs.EpisodeClose, {k: values.get(k, "") for k in ("closed_on", "outcome")})
        casework.close_episode(db, actor=viewer.actor, episode_id=episode_id, data=data)

    # The lead's sight of the record ended with the episode (unless they coordinate): back to the caseload.
    caseload = f"/p/{partnership_id}/cases"
    return _write(
        request, db, viewer, partnership_id, family_id, values, work, "episode-closed", "", then=caseload
    )


# --- chronology, plan and reviews --------------------------------------------------------------------------
@router.post("/p/{partnership_id}/cases/{family_id}/notes")
def note_add(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        fields = ("happened_on", "kind", "text", "sensitive")
        data = cs.parse(cs.NoteCreate, {k: values.get(k, "") for k in fields})
        casework.add_note(
            db, actor=viewer.actor, family_id=family_id, data=data, partnership_id=partnership_id
        )

    return _write(request, db, viewer, partnership_id, family_id, values, work, "note-added", "chronology")


@router.post("/p/{partnership_id}/cases/{family_id}/outcomes")
def outcome_add(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        episode_id = _episode_id(db, viewer, partnership_id, family_id)
        data = cs.parse(cs.OutcomeCreate, {"text": values.get("outcome_text", "")})
        casework.add_outcome(db, actor=viewer.actor, episode_id=episode_id, data=data)

    renames = {"text": "outcome_text"}
    return _write(
        request, db, viewer, partnership_id, family_id, values, work, "plan-changed", "plan", renames
    )


@router.post("/p/{partnership_id}/cases/{family_id}/actions")
def plan_action_add(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        episode_id = _episode_id(db, viewer, partnership_id, family_id)
        raw = {
            "outcome_id": values.get("outcome_id", ""),
            "text": values.get("action_text", ""),
            "owner_involvement_id": values.get("owner_involvement_id", ""),
            "due_on": values.get("due_on", ""),
        }
        casework.add_plan_action(
            db, actor=viewer.actor, episode_id=episode_id, data=cs.parse(cs.PlanActionCreate, raw)
        )

    renames = {"text": "action_text"}
    return _write(
        request, db, viewer, partnership_id, family_id, values, work, "plan-changed", "plan", renames
    )


@router.post("/p/{partnership_id}/cases/{family_id}/reviews")
def review_add(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        episode_id = _episode_id(db, viewer, partnership_id, family_id)
        # Checkboxes "attendee_<involvement>" and per action "status_<action>" / "note_<action>".
        attendees = [
            k.removeprefix("attendee_") for k, v in values.items() if k.startswith("attendee_") and v == "yes"
        ]
        progress = [
            {
                "action_id": k.removeprefix("status_"),
                "status": v,
                "note": values.get("note_" + k.removeprefix("status_"), ""),
            }
            for k, v in values.items()
            if k.startswith("status_") and v
        ]
        raw = {
            "held_on": values.get("held_on", ""),
            "next_review_on": values.get("next_review_on", ""),
            "summary": values.get("summary", ""),
            "attended": values.get("attended", ""),
            "attendee_involvement_ids": attendees,
            "progress": progress,
        }
        casework.record_review(
            db, actor=viewer.actor, episode_id=episode_id, data=cs.parse(cs.ReviewCreate, raw)
        )

    return _write(request, db, viewer, partnership_id, family_id, values, work, "reviewed", "reviews")


# --- the assessment ----------------------------------------------------------------------------------------
@router.post("/p/{partnership_id}/cases/{family_id}/assessment")
def assessment_start(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        episode_id = _episode_id(db, viewer, partnership_id, family_id)
        casework.start_assessment(db, actor=viewer.actor, episode_id=episode_id)

    return _write(
        request, db, viewer, partnership_id, family_id, values, work, "assessment-started", "assessment"
    )


@router.post("/p/{partnership_id}/cases/{family_id}/assessment/{assessment_id}")
def assessment_save(
    request: Request,
    partnership_id: int,
    family_id: int,
    assessment_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    """Save the draft, and with action=complete lock it as completed (all or nothing)."""
    complete = values.get("action") == "complete"

    def work() -> None:
        data = cs.parse(cs.AssessmentDraft, {k: values.get(k, "") for k in cs.ASSESSMENT_FIELDS})
        casework.save_family_assessment(
            db,
            actor=viewer.actor,
            family_id=family_id,
            assessment_id=assessment_id,
            data=data,
            complete=complete,
            partnership_id=partnership_id,
        )

    done = "assessment-completed" if complete else "assessment-saved"
    return _write(request, db, viewer, partnership_id, family_id, values, work, done, "assessment")


# --- referrals -------------------------------------------------------------------------------------------
@router.post("/p/{partnership_id}/cases/{family_id}/referrals")
def referral_send(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        fields = ("to_organisation_id", "child_member_id", "sent_on")
        raw = {k: values.get(k, "") for k in fields} | {"reason": values.get("referral_reason", "")}
        data = cs.parse(cs.ReferralCreate, raw)
        casework.send_referral(
            db, actor=viewer.actor, family_id=family_id, data=data, partnership_id=partnership_id
        )

    renames = {"reason": "referral_reason"}
    return _write(
        request, db, viewer, partnership_id, family_id, values, work, "referred", "referrals", renames
    )


@router.post("/p/{partnership_id}/cases/{family_id}/referrals/{referral_id}/withdraw")
def referral_withdraw(
    request: Request,
    partnership_id: int,
    family_id: int,
    referral_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        casework.withdraw_referral(
            db, actor=viewer.actor, referral_id=referral_id, partnership_id=partnership_id
        )

    return _write(request, db, viewer, partnership_id, family_id, values, work, "withdrawn", "referrals")


@router.get("/p/{partnership_id}/referrals")
def referral_inbox(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ensure_allowed(viewer.actor, Can.WORK_CASES, partnership_id)
    waiting = casework.referrals_to_my_organisation(db, actor=viewer.actor, partnership_id=partnership_id)
    db.commit()  # the listing's audit entry
    ctx.update(waiting=waiting)
    return render(request, "casework/referrals.html", ctx)


def _referral_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    referral_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    view = casework.referral_for_recipient(
        db, actor=viewer.actor, referral_id=referral_id, partnership_id=partnership_id
    )
    db.commit()  # the read's audit entry
    ctx.update(
        referral=view,
        values=values or {"decided_on": date.today().isoformat()},
        errors=errors or {},
        choices=ReferralChoice.choices(),
    )
    return render(request, "casework/referral.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/referrals/{referral_id}")
def referral_page(
    request: Request,
    partnership_id: int,
    referral_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _referral_page(request, db, viewer, partnership_id, referral_id)


@router.post("/p/{partnership_id}/referrals/{referral_id}")
def referral_decide(
    request: Request,
    partnership_id: int,
    referral_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        fields = ("decision", "decided_on", "reason", "role")
        data = cs.parse(cs.ReferralDecision, {k: values.get(k, "") for k in fields})
        referral = casework.decide_referral(
            db, actor=viewer.actor, referral_id=referral_id, data=data, partnership_id=partnership_id
        )
        db.commit()
    except InputError as err:
        db.rollback()
        return _referral_page(
            request,
            db,
            viewer,
            partnership_id,
            referral_id,
            values=values,
            errors=err.by_field(),
            status_code=422,
        )
    if referral.status == "accepted":  # now in the team: on to the family's record
        return RedirectResponse(
            f"/p/{partnership_id}/cases/{referral.family_id}?done=accepted", status_code=303
        )
    return RedirectResponse(f"/p/{partnership_id}/referrals?done=declined-referral", status_code=303)


# --- who has seen the record ----------------------------------------------------------------------------
@router.get("/p/{partnership_id}/cases/{family_id}/seen")
def seen(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    events = casework.who_has_seen(db, actor=viewer.actor, family_id=family_id, partnership_id=partnership_id)
    db.commit()
    ctx.update(events=[(e, through(e)) for e in events], family_id=family_id)
    return render(request, "casework/seen.html", ctx)


@router.get("/p/{partnership_id}/cases/{family_id}/seen.csv")
def seen_csv(
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The same list as a CSV file, for a data protection officer's answer to "who saw this child's record,
    and on what basis" (taking it is recorded like looking at it)."""
    events = casework.who_has_seen(db, actor=viewer.actor, family_id=family_id, partnership_id=partnership_id)
    db.commit()
    rows: list[list[Any]] = [
        ["when (UTC)", "who", "event", "what", "through", "audit event id", "chain position"]
    ]
    rows += [
        [e.at.isoformat(timespec="seconds"), e.actor_label, e.event, e.summary, through(e), e.id, e.chain_seq]
        for e in events
    ]
    return Response(
        csv_bytes(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="who-has-seen-family-{family_id}.csv"'},
    )


@router.get("/p/{partnership_id}/case-access")
def case_access(
    request: Request,
    partnership_id: int,
    reference: str = "",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The data protection role finds a family by reference and goes to who has seen its record."""
    ctx = _context(db, viewer, partnership_id)
    ensure_allowed(viewer.actor, Can.VIEW_CASE_ACCESS, partnership_id)
    errors: dict[str, str] = {}
    reference = reference.strip()
    if reference:
        if problem := refused_character(reference):
            errors["reference"] = problem
        else:
            try:
                found = casework.family_id_by_reference(
                    db, actor=viewer.actor, partnership_id=partnership_id, reference=reference[:40]
                )
                return RedirectResponse(f"/p/{partnership_id}/cases/{found}/seen", status_code=303)
            except InputError as err:
                errors = err.by_field()
    ctx.update(values={"reference": reference}, errors=errors)
    return render(request, "casework/case_access.html", ctx, status_code=422 if errors else 200)


# --- casework figures for managers ----------------------------------------------------------------------
figures_form = form_for(Can.PUBLISH_CASEWORK_FIGURES)


def _figures_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    quarter: str | None,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "casework-figures")
    published = figures.releases(db, actor=viewer.actor, partnership_id=partnership_id)
    can_publish = allowed(viewer.actor, Can.PUBLISH_CASEWORK_FIGURES, partnership_id)
    shown = None
    if quarter is not None:
        shown = figures.release(db, actor=viewer.actor, partnership_id=partnership_id, quarter=quarter)
    elif published:
        shown = figures.release(
            db, actor=viewer.actor, partnership_id=partnership_id, quarter=published[0].quarter
        )
    ctx.update(
        published=published,
        release=shown,
        tables=[figures.table_view(t) for t in shown.tables] if shown else [],
        can_publish=can_publish,
        publishable=(
            figures.publishable_quarters(db, actor=viewer.actor, partnership_id=partnership_id)
            if can_publish
            else []
        ),
        words=lambda q: figures.quarter_words(figures.parse_quarter(q)),
        default_threshold=figures.DEFAULT_THRESHOLD,
        values=values or {},
        errors=errors or {},
    )
    return render(request, "casework/figures.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/casework-figures")
def figures_latest(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The latest published quarter, the others, and (for managers) publishing an ended quarter."""
    return _figures_page(request, db, viewer, partnership_id, None)


@router.get("/p/{partnership_id}/casework-figures/{quarter}")
def figures_quarter(
    request: Request,
    partnership_id: int,
    quarter: str,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _figures_page(request, db, viewer, partnership_id, quarter)


@router.post("/p/{partnership_id}/casework-figures")
def figures_publish(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(figures_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    quarter = values.get("quarter", "")
    try:
        threshold_text = values.get("threshold", "").strip()
        if not threshold_text.isdigit() or len(threshold_text) > 3:
            raise InputError(
                f"must be a whole number from {figures.MIN_THRESHOLD} to {figures.MAX_THRESHOLD}",
                field="threshold",
            )
        published = figures.publish_quarter(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            quarter=quarter,
            threshold=int(threshold_text),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        return _figures_page(
            request, db, viewer, partnership_id, None, values=values, errors=err.by_field(), status_code=422
        )
    return redirect(f"/p/{partnership_id}/casework-figures/{published.quarter}", "published")


# --- emergency access (break-glass) --------------------------------------------------------------------
@router.get("/p/{partnership_id}/cases/{family_id}/break-glass")
def break_glass_form(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The form, for any family number (it says nothing of the family, so numbers cannot be probed)."""
    ensure_allowed(viewer.actor, Can.WORK_CASES, partnership_id)
    return _break_glass_page(request, db, viewer, partnership_id, family_id, values={}, errors={})


def _break_glass_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    family_id: int,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        family_id=family_id,
        minutes=break_glass.minutes_for(db, partnership_id),
        values=values,
        errors=errors,
    )
    return render(request, "casework/break_glass.html", ctx, status_code=status_code)


@router.post("/p/{partnership_id}/cases/{family_id}/break-glass")
def break_glass_open(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        break_glass.open_break_glass(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            family_id=family_id,
            reason=values.get("reason", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        return _break_glass_page(
            request,
            db,
            viewer,
            partnership_id,
            family_id,
            values=values,
            errors=err.by_field(),
            status_code=422,
        )
    return redirect(f"/p/{partnership_id}/cases/{family_id}", "break-glass")


review_form = form_for(Can.REVIEW_BREAK_GLASS)


def _review_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        section="break-glass",
        uses=break_glass.review_queue(db, actor=viewer.actor, partnership_id=partnership_id),
        minutes=break_glass.minutes_for(db, partnership_id),
        verdicts=list(break_glass.VERDICTS.items()),
        repeated=break_glass.REPEATED_USES,
        values=values or {},
        errors=errors or {},
    )
    return render(request, "casework/break_glass_review.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/break-glass")
def break_glass_review(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The data protection role's review queue of emergency access, waiting uses first."""
    ensure_allowed(viewer.actor, Can.REVIEW_BREAK_GLASS, partnership_id)
    return _review_page(request, db, viewer, partnership_id)


@router.post("/p/{partnership_id}/break-glass/{use_id}")
def break_glass_reviewed(
    request: Request,
    partnership_id: int,
    use_id: int,
    viewer: Viewer = Depends(review_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        break_glass.review_use(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            use_id=use_id,
            verdict=values.get("verdict", ""),
            note=values.get(f"note_{use_id}", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        errors = {f"{k}_{use_id}": v for k, v in err.by_field().items()}
        return _review_page(
            request, db, viewer, partnership_id, values=values, errors=errors, status_code=422
        )
    return redirect(f"/p/{partnership_id}/break-glass", "use-reviewed")


@router.post("/p/{partnership_id}/break-glass-minutes")
def break_glass_minutes(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(review_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    text = values.get("minutes", "").strip()
    try:
        if not text.isdigit() or len(text) > 6:
            raise InputError(
                f"must be a whole number of minutes from {break_glass.MINUTES_RANGE[0]} to "
                f"{break_glass.MINUTES_RANGE[1]}",
                field="minutes",
            )
        break_glass.set_minutes(db, actor=viewer.actor, partnership_id=partnership_id, minutes=int(text))
        db.commit()
    except InputError as err:
        db.rollback()
        return _review_page(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    return redirect(f"/p/{partnership_id}/break-glass", "changed")


# --- consent and sharing decisions -------------------------------------------------------------------------
def _checked(values: dict[str, str], prefix: str) -> str:
    """The boxes ticked among ``prefix``-named checkboxes (kind_people=yes...), as a comma list."""
    return ",".join(k.removeprefix(prefix) for k, v in values.items() if k.startswith(prefix) and v == "yes")


@router.post("/p/{partnership_id}/cases/{family_id}/consents")
def consent_add(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        data = cs.parse(
            cs.ConsentCreate,
            {
                "given_by_member_id": values.get("given_by_member_id", ""),
                "organisation_ids": _checked(values, "consent_org_"),
                "kinds": _checked(values, "consent_kind_"),
                "given_on": values.get("given_on", ""),
            },
        )
        sharing.record_consent(
            db, actor=viewer.actor, family_id=_family_of(db, viewer, partnership_id, family_id), data=data
        )

    return _write(request, db, viewer, partnership_id, family_id, values, work, "consent-recorded", "sharing")


@router.post("/p/{partnership_id}/cases/{family_id}/consents/{consent_id}/withdraw")
def consent_withdraw(
    request: Request,
    partnership_id: int,
    family_id: int,
    consent_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        _family_of(db, viewer, partnership_id, family_id)
        data = cs.parse(cs.ConsentWithdraw, {"withdrawn_on": values.get(f"withdrawn_on_{consent_id}", "")})
        sharing.withdraw_consent(
            db, actor=viewer.actor, consent_id=consent_id, data=data, partnership_id=partnership_id
        )

    renames = {"withdrawn_on": f"withdrawn_on_{consent_id}"}
    return _write(
        request, db, viewer, partnership_id, family_id, values, work, "consent-withdrawn", "sharing", renames
    )


@router.post("/p/{partnership_id}/cases/{family_id}/sharing")
def sharing_decide(
    request: Request,
    partnership_id: int,
    family_id: int,
    viewer: Viewer = Depends(cases_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    def work() -> None:
        fid = _family_of(db, viewer, partnership_id, family_id)
        chosen = _chosen_practitioner(db, viewer, partnership_id, values, "recipient_person_id")
        fields = (
            "recipient_organisation_id",
            "recipient_person_id",
            "purpose",
            "decision",
            "reasons",
            "family_told",
            "not_told_reason",
            "family_views",
            "basis",
            "special_category",
            "condition",
            "access_until",
            "decided_on",
        )
        raw = {k: chosen.get(k, "") for k in fields}
        if not raw["recipient_person_id"].strip():
            raw.pop("recipient_person_id")
        data = cs.parse(cs.SharingDecisionCreate, {**raw, "kinds": _checked(values, "kind_")})
        sharing.record_decision(db, actor=viewer.actor, family_id=fid, data=data)

    return _write(request, db, viewer, partnership_id, family_id, values, work, "sharing-decided", "sharing")


def _family_of(db: Session, viewer: Viewer, partnership_id: int, family_id: int) -> int:
    """The family, reached through this partnership (another's is not found here)."""
    casework.access_to_family(db, viewer.actor, family_id, partnership_id)
    return family_id


# --- subject access requests (the data protection role) ---------------------------------------------------
sar_form = form_for(Can.HANDLE_SUBJECT_ACCESS)


def _sar_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        section="subject-access",
        requests=subject_access.register(db, actor=viewer.actor, partnership_id=partnership_id),
        values=values or {},
        errors=errors or {},
    )
    return render(request, "casework/subject_access.html", ctx, status_code=status_code)


def _date(values: dict[str, str], field: str, *, required: bool = True) -> date | None:
    text = values.get(field, "").strip()
    if not text and not required:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("is not a date (YYYY-MM-DD)" if text else "is required", field=field) from None


@router.get("/p/{partnership_id}/subject-access")
def sar_register(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The subject access request register: open requests soonest due first."""
    ensure_allowed(viewer.actor, Can.HANDLE_SUBJECT_ACCESS, partnership_id)
    return _sar_page(request, db, viewer, partnership_id)


@router.post("/p/{partnership_id}/subject-access")
def sar_receive(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(sar_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        received_on = _date(values, "received_on")
        assert received_on is not None
        subject_access.register_request(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            family_reference=values.get("family_reference", ""),
            surname=values.get("surname", ""),
            requester=values.get("requester", ""),
            received_on=received_on,
            identity_checked_on=_date(values, "identity_checked_on", required=False),
            forenames=values.get("forenames", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        return _sar_page(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    return redirect(f"/p/{partnership_id}/subject-access", "created")


def _bundle(
    request: Request, db: Session, viewer: Viewer, partnership_id: int, request_id: int, form: str
) -> sar.Bundle | Response:
    """The bundle, or the register with why it cannot be built yet (identity not confirmed, answered)."""
    try:
        return sar.build_bundle(
            db, actor=viewer.actor, partnership_id=partnership_id, request_id=request_id, form=form
        )
    except InputError as err:
        db.rollback()
        return _sar_page(
            request,
            db,
            viewer,
            partnership_id,
            errors={f"bundle_{request_id}": err.by_field().get("request", str(err))},
            status_code=422,
        )


@router.get("/p/{partnership_id}/subject-access/{request_id}/bundle")
def sar_bundle_page(
    request: Request,
    partnership_id: int,
    request_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    """The bundle on screen, for the data protection officer's review (opening it is audited)."""
    bundle = _bundle(request, db, viewer, partnership_id, request_id, "page")
    if isinstance(bundle, Response):
        return bundle
    db.commit()
    ctx = _context(db, viewer, partnership_id)
    ctx.update(section="subject-access", bundle=bundle)
    return render(request, "casework/subject_access_bundle.html", ctx)


@router.get("/p/{partnership_id}/subject-access/{request_id}/bundle.json")
def sar_bundle_json(
    request: Request,
    partnership_id: int,
    request_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    bundle = _bundle(request, db, viewer, partnership_id, request_id, "JSON")
    if isinstance(bundle, Response):
        return bundle
    db.commit()
    return Response(
        json.dumps(sar.bundle_json(bundle), indent=2, ensure_ascii=False).encode(),
        media_type="application/json; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="subject-access-{request_id}.json"'},
    )


@router.get("/p/{partnership_id}/subject-access/{request_id}/bundle.pdf")
def sar_bundle_pdf(
    request: Request,
    partnership_id: int,
    request_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    bundle = _bundle(request, db, viewer, partnership_id, request_id, "PDF")
    if isinstance(bundle, Response):
        return bundle
    pdf = bundle_pdf(bundle)
    db.commit()  # the audit row once the file is made
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="subject-access-{request_id}.pdf"'},
    )


@router.post("/p/{partnership_id}/subject-access/{request_id}/{step}")
def sar_step(
    request: Request,
    partnership_id: int,
    request_id: int,
    step: str,
    viewer: Viewer = Depends(sar_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    """identity (checked on), extend (with the reason), done (on)."""
    try:
        if step == "identity":
            checked = _date(values, f"identity_checked_on_{request_id}")
            assert checked is not None
            subject_access.identity_checked(
                db,
                actor=viewer.actor,
                partnership_id=partnership_id,
                request_id=request_id,
                checked_on=checked,
            )
        elif step == "extend":
            subject_access.extend(
                db,
                actor=viewer.actor,
                partnership_id=partnership_id,
                request_id=request_id,
                reason=values.get(f"extension_reason_{request_id}", ""),
            )
        elif step == "done":
            finished = _date(values, f"done_on_{request_id}")
            assert finished is not None
            subject_access.done(
                db, actor=viewer.actor, partnership_id=partnership_id, request_id=request_id, done_on=finished
            )
        else:
            raise NotFound("No such step.")
        db.commit()
    except InputError as err:
        db.rollback()
        errors = {
            (k if k.endswith(f"_{request_id}") else f"{k}_{request_id}"): v for k, v in err.by_field().items()
        }
        return _sar_page(request, db, viewer, partnership_id, values=values, errors=errors, status_code=422)
    return redirect(f"/p/{partnership_id}/subject-access", "changed")
