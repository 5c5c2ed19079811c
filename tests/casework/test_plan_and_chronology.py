"""The chronology, the family plan and reviews (SQLite and PostgreSQL): sensitive notes for their author,
the lead and the coordinator only; actions owned by the team; reviews that move actions on; overdue
reviews and actions flagged; bad input refused at its field with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import NotFound
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import CaseNote, PlanAction, Review
from reticulist.errors import InputError
from tests.casework.conftest import TODAY, CaseWorld
from tests.conftest import Browser


def _note(text: str, *, sensitive: bool = False, days_ago: int = 1) -> cs.NoteCreate:
    return cs.parse(
        cs.NoteCreate,
        {
            "happened_on": (TODAY - timedelta(days=days_ago)).isoformat(),
            "kind": "home_visit",
            "text": text,
            "sensitive": "yes" if sensitive else "no",
        },
    )


def test_sensitive_notes_are_for_their_author_the_lead_and_the_coordinator(
    db: Session, case_world: CaseWorld
) -> None:
    a, fid = case_world.actors, case_world.family_id
    casework.add_note(
        db, actor=a["team"], family_id=fid, data=_note("Ellie said she is scared at home.", sensitive=True)
    )
    casework.add_note(db, actor=a["team"], family_id=fid, data=_note("Seen at school, cheerful.", days_ago=2))
    casework.add_note(
        db, actor=a["lead"], family_id=fid, data=_note("Mother disclosed a new partner.", sensitive=True)
    )
    db.commit()
    expected = {
        "lead": (
            {
                "Ellie said she is scared at home.",
                "Seen at school, cheerful.",
                "Mother disclosed a new partner.",
            },
            0,
        ),
        "coordinator": (
            {
                "Ellie said she is scared at home.",
                "Seen at school, cheerful.",
                "Mother disclosed a new partner.",
            },
            0,
        ),
        "team": ({"Ellie said she is scared at home.", "Seen at school, cheerful."}, 1),
    }
    for persona, (texts, withheld) in expected.items():
        record = casework.family_record(db, actor=a[persona], family_id=fid)
        assert {n.text for n in record.notes} == texts and record.sensitive_notes_withheld == withheld, (
            persona
        )
    assert casework.family_record(db, actor=a["lead"], family_id=fid).notes[-1].author == "Team Practitioner"
    for persona in ("colleague", "manager", "dpo", "outsider"):
        with pytest.raises(NotFound):
            casework.add_note(db, actor=a[persona], family_id=fid, data=_note("nosy"))


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"happened_on": "", "kind": "home_visit", "text": "x"}, "happened_on", "is required"),
        ({"happened_on": "2199-01-01", "kind": "home_visit", "text": "x"}, "happened_on", "is in the future"),
        ({"happened_on": "2026-01-01", "kind": "gossip", "text": "x"}, "kind", "is not one of"),
        ({"happened_on": "2026-01-01", "kind": "home_visit", "text": "  \n "}, "text", "is required"),
        (
            {"happened_on": "2026-01-01", "kind": "home_visit", "text": "x" * 10_001},
            "text",
            "longer than 10000",
        ),
    ],
)
def test_bad_notes_are_refused_at_their_field(data: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(InputError) as refused:
        cs.parse(cs.NoteCreate, data)
    assert words in refused.value.by_field().get(field, ""), refused.value.by_field()


def test_a_note_keeps_its_lines() -> None:
    note = cs.parse(cs.NoteCreate, {"happened_on": "2026-01-01", "kind": "other", "text": " a  b \n\n\n\nc "})
    assert note.text == "a b\n\nc"


def _plan(db: Session, case_world: CaseWorld) -> tuple[int, int, dict[str, int]]:
    a, eid = case_world.actors, case_world.episode_id
    outcome = casework.add_outcome(
        db, actor=a["team"], episode_id=eid, data=cs.OutcomeCreate(text="Ellie is at school every day")
    )
    record = casework.family_record(db, actor=a["lead"], family_id=case_world.family_id)
    team = {t.name: t.involvement_id for t in record.episodes[0].team}
    action = casework.add_plan_action(
        db,
        actor=a["lead"],
        episode_id=eid,
        data=cs.PlanActionCreate(
            outcome_id=outcome.id,
            text="Walk to school together",
            owner_involvement_id=team["Team Practitioner"],
            due_on=TODAY - timedelta(days=2),
        ),
    )
    db.commit()
    return outcome.id, action.id, team


def test_plan_actions_and_reviews_with_overdue_flags(db: Session, case_world: CaseWorld) -> None:
    a, eid, fid, pid = (
        case_world.actors,
        case_world.episode_id,
        case_world.family_id,
        case_world.world.partnership_id,
    )
    _outcome_id, action_id, team = _plan(db, case_world)
    record = casework.family_record(db, actor=a["team"], family_id=fid)
    (outcome,) = record.plan
    (action,) = outcome.actions
    assert action.owner == "Team Practitioner" and action.overdue and record.overdue_actions == 1
    (line,) = casework.my_caseload(db, actor=a["lead"], partnership_id=pid)
    assert line.overdue_actions == 1 and not line.review_overdue
    casework.record_review(
        db,
        actor=a["lead"],
        episode_id=eid,
        data=cs.parse(
            cs.ReviewCreate,
            {
                "held_on": (TODAY - timedelta(days=10)).isoformat(),
                "next_review_on": (TODAY - timedelta(days=1)).isoformat(),
                "summary": "Attendance up.\nKeep going.",
                "attended": "Jo Marsh (mother)",
                "attendee_involvement_ids": [team["Lead Practitioner"], team["Team Practitioner"]],
                "progress": [{"action_id": action_id, "status": "done", "note": "every day this week"}],
            },
        ),
    )
    db.commit()
    record = casework.family_record(db, actor=a["team"], family_id=fid)
    (review,) = record.reviews
    assert (
        review.team_present == ["Lead Practitioner", "Team Practitioner"]
        and review.attended == "Jo Marsh (mother)"
    )
    assert review.progress == [("Walk to school together", "done", "every day this week")]
    assert record.plan[0].actions[0].status == "done" and record.overdue_actions == 0
    assert record.review_overdue  # the next review was due yesterday
    (line,) = casework.my_caseload(db, actor=a["team"], partnership_id=pid)
    assert line.review_overdue and line.overdue_actions == 0


def test_bad_plans_and_reviews_are_refused_and_write_nothing(db: Session, case_world: CaseWorld) -> None:
    a, eid = case_world.actors, case_world.episode_id
    outcome_id, action_id, team = _plan(db, case_world)
    counts = (
        db.scalar(select(func.count()).select_from(PlanAction)),
        db.scalar(select(func.count()).select_from(Review)),
    )
    opened = TODAY - timedelta(days=30)
    bad_actions = [
        ({"owner_involvement_id": 999_999}, "owner_involvement_id", "is not a current member of the team"),
        ({"outcome_id": 999_999}, "outcome_id", "is not an outcome of this family's plan"),
        ({"due_on": opened - timedelta(days=1)}, "due_on", "is before the episode opened"),
    ]
    for change, field, words in bad_actions:
        data = {
            "outcome_id": outcome_id,
            "text": "x",
            "owner_involvement_id": team["Lead Practitioner"],
            "due_on": TODAY,
            **change,
        }
        with pytest.raises(InputError) as refused:
            casework.add_plan_action(db, actor=a["lead"], episode_id=eid, data=cs.PlanActionCreate(**data))
        assert words in refused.value.by_field()[field]
        db.rollback()
    bad_reviews = [
        ({"held_on": (opened - timedelta(days=1)).isoformat()}, "held_on", "is before the episode opened"),
        ({"held_on": (TODAY + timedelta(days=1)).isoformat()}, "held_on", "is in the future"),
        (
            {"next_review_on": (TODAY - timedelta(days=5)).isoformat()},
            "next_review_on",
            "must be after the review",
        ),
        (
            {"attendee_involvement_ids": [999_999]},
            "attendee_involvement_ids.0",
            "is not a member of this family's team",
        ),
        (
            {"progress": [{"action_id": 999_999, "status": "done"}]},
            "progress.0.action_id",
            "is not an action",
        ),
        (
            {
                "progress": [
                    {"action_id": action_id, "status": "done"},
                    {"action_id": action_id, "status": "open"},
                ]
            },
            "progress.1.action_id",
            "is reported twice",
        ),
        (
            {"progress": [{"action_id": action_id, "status": "finished"}]},
            "progress.0.status",
            "is not one of",
        ),
    ]
    for change, field, words in bad_reviews:
        raw = {"held_on": (TODAY - timedelta(days=3)).isoformat(), **change}
        with pytest.raises(InputError) as refused:
            casework.record_review(db, actor=a["lead"], episode_id=eid, data=cs.parse(cs.ReviewCreate, raw))
        assert words in refused.value.by_field().get(field, ""), (change, refused.value.by_field())
        db.rollback()
    assert (
        db.scalar(select(func.count()).select_from(PlanAction)),
        db.scalar(select(func.count()).select_from(Review)),
    ) == counts
    assert db.get(PlanAction, action_id).status == "open"  # type: ignore[union-attr]


@pytest.fixture
def people(app, case_world: CaseWorld) -> dict[str, Browser]:  # type: ignore[no-untyped-def]
    return {
        p: Browser(app, case_world.emails[p]) for p in ("lead", "team", "colleague", "manager", "coordinator")
    }


def test_the_record_page_writes_notes_plans_and_reviews(
    people: dict[str, Browser], case_world: CaseWorld, db: Session
) -> None:
    url = f"/p/{case_world.world.partnership_id}/cases/{case_world.family_id}"
    note = {
        "happened_on": TODAY.isoformat(),
        "kind": "childs_voice",
        "text": "“I like Mrs Patel.”\nDrew a picture.",
        "sensitive": "no",
    }
    assert people["colleague"].post(f"{url}/notes", note).status_code == 404
    assert people["manager"].post(f"{url}/notes", note).status_code == 403
    bad = people["team"].post(f"{url}/notes", {**note, "kind": ""})
    assert bad.status_code == 422 and "Kind" in bad.text
    assert db.scalar(select(func.count()).select_from(CaseNote)) == 0
    assert people["team"].post(f"{url}/notes", note).status_code == 303
    secret = {
        **note,
        "kind": "home_visit",
        "text": "Bruise on arm, explanation consistent.",
        "sensitive": "yes",
    }
    assert people["lead"].post(f"{url}/notes", secret).status_code == 303
    team_page = people["team"].get(url).text
    assert "I like Mrs Patel." in team_page and "Bruise on arm" not in team_page
    assert "1 sensitive note is not shown to you" in team_page
    assert "Bruise on arm" in people["coordinator"].get(url).text
    assert people["team"].post(f"{url}/outcomes", {"outcome_text": "Ellie feels safe"}).status_code == 303
    record = casework.family_record(db, actor=case_world.actors["lead"], family_id=case_world.family_id)
    db.commit()
    owner = record.episodes[0].team[0].involvement_id
    action = {
        "outcome_id": str(record.plan[0].id),
        "action_text": "Weekly check-in",
        "owner_involvement_id": str(owner),
        "due_on": "1999-01-01",
    }
    refused = people["lead"].post(f"{url}/actions", action)
    assert refused.status_code == 422 and "is before the episode opened" in refused.text
    assert (
        people["lead"]
        .post(f"{url}/actions", {**action, "due_on": (TODAY + timedelta(days=7)).isoformat()})
        .status_code
        == 303
    )
    action_id = (
        casework.family_record(db, actor=case_world.actors["lead"], family_id=case_world.family_id)
        .plan[0]
        .actions[0]
        .id
    )
    db.commit()
    review = {
        "held_on": TODAY.isoformat(),
        f"attendee_{owner}": "yes",
        f"status_{action_id}": "in_progress",
        f"note_{action_id}": "started",
        "next_review_on": (TODAY + timedelta(days=42)).isoformat(),
    }
    too_early = people["lead"].post(f"{url}/reviews", {**review, "held_on": "2001-01-01"})
    assert too_early.status_code == 422 and "is before the episode opened" in too_early.text
    assert people["lead"].post(f"{url}/reviews", review).status_code == 303
    page = people["team"].get(url).text
    assert f"Review of {TODAY.day} " in page and "Weekly check-in: In progress (started)" in page
