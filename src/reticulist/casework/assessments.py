"""The early help assessment: drafted, completed and locked; a later change is a new version."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor, NotFound
from reticulist.casework import schemas as cs
from reticulist.casework.models import (
    Assessment,
    Episode,
)
from reticulist.casework.need_to_know import Access, audit_change, open_episode_id, open_episode_of
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import FieldProblem, InputError

ASSESSMENT_RULES = {
    "uq_assessment_one_draft": ("assessment", "a draft of this assessment is already open"),
    "uq_assessment_version": ("assessment", "another version was started at the same moment"),
}


# Completing needs each domain looked at (strengths or needs written) and the child's own words.
_DOMAINS = {
    "development": "the child's developmental needs",
    "parenting": "parenting capacity",
    "family": "family and environmental factors",
}


@dataclass(frozen=True)
class AssessmentView:
    id: int
    episode_id: int
    version: int
    status: str  # draft / completed
    development_strengths: str
    development_needs: str
    parenting_strengths: str
    parenting_needs: str
    family_strengths: str
    family_needs: str
    childs_words: str
    family_view: str
    drafted_by_label: str
    changed_at: datetime
    completed_by_label: str | None
    completed_at: datetime | None


def assessments(session: Session, access: Access) -> list[AssessmentView]:
    """The family's assessment versions, newest first (part of the record's read)."""
    found = session.scalars(
        select(Assessment)
        .join(Episode, Episode.id == Assessment.episode_id)
        .where(Episode.family_id == access.family_id)
        .order_by(Assessment.episode_id.desc(), Assessment.version.desc())
    )
    return [
        AssessmentView(
            a.id,
            a.episode_id,
            a.version,
            a.status,
            *(getattr(a, k) for k in cs.ASSESSMENT_FIELDS),
            a.drafted_by_label,
            a.changed_at,
            a.completed_by_label,
            a.completed_at,
        )
        for a in found
    ]


def start_assessment(session: Session, *, actor: Actor, episode_id: int) -> Assessment:
    """A new draft: the first version, or a copy of the latest completed one to change (which stays)."""
    episode, access = open_episode_of(session, actor, episode_id)
    latest = session.scalar(
        select(Assessment)
        .where(Assessment.episode_id == episode.id)
        .order_by(Assessment.version.desc())
        .limit(1)
    )
    if latest is not None and latest.status == "draft":
        raise InputError("a draft of this assessment is already open", field="assessment")
    draft = Assessment(
        episode_id=episode.id,
        version=(latest.version + 1) if latest else 1,
        status="draft",
        drafted_by_label=actor.label,
        **({k: getattr(latest, k) for k in cs.ASSESSMENT_FIELDS} if latest else {}),
    )
    with refusing_duplicates(session, ASSESSMENT_RULES):
        session.add(draft)
    audit_change(
        session,
        actor,
        access,
        "assessment-started",
        f"Started version {draft.version} of the assessment",
        assessment_id=draft.id,
    )
    return draft


def save_family_assessment(
    session: Session,
    *,
    actor: Actor,
    family_id: int,
    assessment_id: int,
    data: cs.AssessmentDraft,
    complete: bool = False,
    partnership_id: int | None = None,
) -> Assessment:
    """Save a draft of the family's open episode (NotFound for an assessment of another family or an
    earlier episode), and with ``complete`` lock it; the caller commits, so both or neither are kept."""
    episode_id = open_episode_id(session, actor=actor, family_id=family_id, partnership_id=partnership_id)
    if session.scalar(select(Assessment.episode_id).where(Assessment.id == assessment_id)) != episode_id:
        raise NotFound("No such assessment.")
    assessment = save_assessment(session, actor=actor, assessment_id=assessment_id, data=data)
    return complete_assessment(session, actor=actor, assessment_id=assessment_id) if complete else assessment


def _draft(session: Session, actor: Actor, assessment_id: int) -> tuple[Assessment, Access]:
    assessment = session.get(Assessment, assessment_id)
    if assessment is None:
        raise NotFound("No such assessment.")
    _episode, access = open_episode_of(session, actor, assessment.episode_id)
    if assessment.status != "draft":
        raise InputError(
            "this version is completed and locked: start a new version to change it", field="assessment"
        )
    return assessment, access


def save_assessment(
    session: Session, *, actor: Actor, assessment_id: int, data: cs.AssessmentDraft
) -> Assessment:
    """Change a draft (a completed version is never changed)."""
    assessment, access = _draft(session, actor, assessment_id)
    for key in cs.ASSESSMENT_FIELDS:
        setattr(assessment, key, getattr(data, key))
    assessment.drafted_by_label = actor.label
    assessment.changed_at = datetime.now(UTC)
    session.flush()
    audit_change(
        session,
        actor,
        access,
        "assessment-saved",
        f"Saved the draft of version {assessment.version}",
        assessment_id=assessment.id,
    )
    return assessment


def complete_assessment(session: Session, *, actor: Actor, assessment_id: int) -> Assessment:
    """Lock the draft as completed (who, when); it must cover the three domains and the child's words."""
    assessment, access = _draft(session, actor, assessment_id)
    problems = [
        FieldProblem(f"{key}_needs", f"write the strengths or the needs for {words}")
        for key, words in _DOMAINS.items()
        if not (getattr(assessment, f"{key}_strengths") or getattr(assessment, f"{key}_needs"))
    ]
    if not assessment.childs_words:
        problems.append(FieldProblem("childs_words", "the child's own words are part of the assessment"))
    if problems:
        raise InputError(problems=problems)
    assessment.status = "completed"
    assessment.completed_by_label = actor.label
    assessment.completed_at = datetime.now(UTC)
    session.flush()
    audit_change(
        session,
        actor,
        access,
        "assessment-completed",
        f"Completed version {assessment.version} of the assessment",
        assessment_id=assessment.id,
    )
    return assessment
