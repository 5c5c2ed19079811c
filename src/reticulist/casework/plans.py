"""The family plan (outcomes and actions owned by the team) and team around the family reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor
from reticulist.casework import schemas as cs
from reticulist.casework.models import (
    Involvement,
    PlanAction,
    PlanOutcome,
    Review,
    ReviewAttendee,
    ReviewProgress,
)
from reticulist.casework.need_to_know import audit_change, open_episode_of
from reticulist.casework.vocab import (
    OPEN_ACTION_STATUSES,
)
from reticulist.errors import InputError
from reticulist.register.models import Person


@dataclass(frozen=True)
class ActionView:
    id: int
    text: str
    owner: str
    owner_involvement_id: int
    due_on: date
    status: str
    overdue: bool


@dataclass(frozen=True)
class OutcomeView:
    id: int
    text: str
    actions: list[ActionView]


@dataclass(frozen=True)
class ReviewView:
    id: int
    held_on: date
    next_review_on: date | None
    summary: str
    attended: str
    team_present: list[str]
    progress: list[tuple[str, str, str]]  # action, status, note


def plan_and_reviews(session: Session, episode_id: int) -> tuple[list[OutcomeView], list[ReviewView]]:
    today = date.today()
    names = dict(
        session.execute(
            select(Involvement.id, Person.full_name)
            .join(Person, Person.id == Involvement.person_id)
            .where(Involvement.episode_id == episode_id)
        ).all()
    )
    outcomes = list(
        session.scalars(
            select(PlanOutcome).where(PlanOutcome.episode_id == episode_id).order_by(PlanOutcome.id)
        )
    )
    actions = list(
        session.scalars(
            select(PlanAction)
            .where(PlanAction.outcome_id.in_([o.id for o in outcomes]))
            .order_by(PlanAction.due_on, PlanAction.id)
        )
    )
    plan = [
        OutcomeView(
            o.id,
            o.text,
            [
                ActionView(
                    a.id,
                    a.text,
                    names.get(a.owner_involvement_id, "?"),
                    a.owner_involvement_id,
                    a.due_on,
                    a.status,
                    a.status in OPEN_ACTION_STATUSES and a.due_on < today,
                )
                for a in actions
                if a.outcome_id == o.id
            ],
        )
        for o in outcomes
    ]
    action_text = {a.id: a.text for a in actions}
    reviews = list(
        session.scalars(
            select(Review)
            .where(Review.episode_id == episode_id)
            .order_by(Review.held_on.desc(), Review.id.desc())
        )
    )
    review_ids = [r.id for r in reviews]
    present: dict[int, list[str]] = {}
    for review_id, involvement_id in session.execute(
        select(ReviewAttendee.review_id, ReviewAttendee.involvement_id).where(
            ReviewAttendee.review_id.in_(review_ids)
        )
    ):
        present.setdefault(review_id, []).append(names.get(involvement_id, "?"))
    progress: dict[int, list[tuple[str, str, str]]] = {}
    for entry in session.scalars(
        select(ReviewProgress).where(ReviewProgress.review_id.in_(review_ids)).order_by(ReviewProgress.id)
    ):
        progress.setdefault(entry.review_id, []).append(
            (action_text.get(entry.action_id, "?"), entry.status, entry.note)
        )
    return plan, [
        ReviewView(
            r.id,
            r.held_on,
            r.next_review_on,
            r.summary,
            r.attended,
            present.get(r.id, []),
            progress.get(r.id, []),
        )
        for r in reviews
    ]


def add_outcome(session: Session, *, actor: Actor, episode_id: int, data: cs.OutcomeCreate) -> PlanOutcome:
    """An outcome in the family plan; anyone in the team may write the plan the team agreed."""
    episode, access = open_episode_of(session, actor, episode_id)
    outcome = PlanOutcome(episode_id=episode.id, text=data.text, created_on=date.today())
    session.add(outcome)
    session.flush()
    audit_change(
        session, actor, access, "plan-changed", "Added an outcome to the family plan", outcome_id=outcome.id
    )
    return outcome


def add_plan_action(
    session: Session, *, actor: Actor, episode_id: int, data: cs.PlanActionCreate
) -> PlanAction:
    """An action towards one of the plan's outcomes, owned by a current member of the team."""
    episode, access = open_episode_of(session, actor, episode_id)
    outcome = session.get(PlanOutcome, data.outcome_id)
    if outcome is None or outcome.episode_id != episode.id:
        raise InputError("is not an outcome of this family's plan", field="outcome_id")
    owner = session.get(Involvement, data.owner_involvement_id)
    if owner is None or owner.episode_id != episode.id or owner.to_on is not None:
        raise InputError(
            "is not a current member of the team around the family", field="owner_involvement_id"
        )
    if data.due_on < episode.opened_on:
        raise InputError("is before the episode opened", field="due_on")
    action = PlanAction(
        outcome_id=outcome.id,
        text=data.text,
        owner_involvement_id=owner.id,
        due_on=data.due_on,
        status="open",
        changed_on=date.today(),
    )
    session.add(action)
    session.flush()
    audit_change(
        session, actor, access, "plan-changed", "Added an action to the family plan", action_id=action.id
    )
    return action


def record_review(session: Session, *, actor: Actor, episode_id: int, data: cs.ReviewCreate) -> Review:
    """A team around the family review: who came, progress on each action (which sets its status), and
    when the next one is due."""
    episode, access = open_episode_of(session, actor, episode_id)
    if data.held_on < episode.opened_on:
        raise InputError("is before the episode opened", field="held_on")
    team = {i.id for i in session.scalars(select(Involvement).where(Involvement.episode_id == episode.id))}
    for n, involvement_id in enumerate(data.attendee_involvement_ids):
        if involvement_id not in team:
            raise InputError("is not a member of this family's team", field=f"attendee_involvement_ids.{n}")
    actions = {
        a.id: a
        for a in session.scalars(
            select(PlanAction).join(PlanOutcome).where(PlanOutcome.episode_id == episode.id)
        )
    }
    seen: set[int] = set()
    for n, entry in enumerate(data.progress):
        if entry.action_id not in actions:
            raise InputError("is not an action of this family's plan", field=f"progress.{n}.action_id")
        if entry.action_id in seen:
            raise InputError("is reported twice in this review", field=f"progress.{n}.action_id")
        seen.add(entry.action_id)
    review = Review(
        episode_id=episode.id,
        held_on=data.held_on,
        next_review_on=data.next_review_on,
        summary=data.summary,
        attended=data.attended,
    )
    session.add(review)
    session.flush()
    for involvement_id in dict.fromkeys(data.attendee_involvement_ids):
        session.add(ReviewAttendee(review_id=review.id, involvement_id=involvement_id))
    for entry in data.progress:
        session.add(
            ReviewProgress(
                review_id=review.id, action_id=entry.action_id, status=entry.status, note=entry.note
            )
        )
        action = actions[entry.action_id]
        action.status = entry.status
        action.changed_on = data.held_on
    session.flush()
    audit_change(
        session, actor, access, "reviewed", "Recorded a team around the family review", review_id=review.id
    )
    return review
