"""The early help assessment (SQLite and PostgreSQL): drafted, completed only when whole, then locked; a
change is a new version and the old one is kept; one draft at a time, in the database too."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import Assessment
from reticulist.errors import InputError
from tests.casework.conftest import CaseWorld
from tests.conftest import Browser

WHOLE = {
    "development_strengths": "Reads well for her age.",
    "development_needs": "Misses school; withdrawn.",
    "parenting_strengths": "Mother is warm and keen to get help.",
    "parenting_needs": "",
    "family_strengths": "",
    "family_needs": "Rent arrears; a move is likely.",
    "childs_words": "I don't like mornings.",
    "family_view": "We want things to calm down.",
}


def test_draft_complete_lock_and_a_new_version(db: Session, case_world: CaseWorld) -> None:
    a, eid, fid = case_world.actors, case_world.episode_id, case_world.family_id
    draft = casework.start_assessment(db, actor=a["team"], episode_id=eid)
    assert draft.version == 1
    with pytest.raises(InputError) as twice:
        casework.start_assessment(db, actor=a["lead"], episode_id=eid)
    assert twice.value.by_field() == {"assessment": "a draft of this assessment is already open"}
    casework.save_assessment(
        db,
        actor=a["team"],
        assessment_id=draft.id,
        data=cs.parse(cs.AssessmentDraft, {**WHOLE, "childs_words": "", "family_needs": ""}),
    )
    with pytest.raises(InputError) as incomplete:
        casework.complete_assessment(db, actor=a["lead"], assessment_id=draft.id)
    assert incomplete.value.by_field() == {
        "family_needs": "write the strengths or the needs for family and environmental factors",
        "childs_words": "the child's own words are part of the assessment",
    }
    casework.save_assessment(
        db, actor=a["team"], assessment_id=draft.id, data=cs.parse(cs.AssessmentDraft, WHOLE)
    )
    casework.complete_assessment(db, actor=a["lead"], assessment_id=draft.id)
    db.commit()
    assert draft.status == "completed" and draft.completed_by_label == "lead@case.example.org"
    with pytest.raises(InputError) as locked:
        casework.save_assessment(
            db, actor=a["lead"], assessment_id=draft.id, data=cs.parse(cs.AssessmentDraft, {})
        )
    assert "locked" in locked.value.by_field()["assessment"]
    db.rollback()
    second = casework.start_assessment(db, actor=a["lead"], episode_id=eid)
    assert second.version == 2 and second.childs_words == "I don't like mornings."  # a copy to change
    casework.save_assessment(
        db,
        actor=a["lead"],
        assessment_id=second.id,
        data=cs.parse(cs.AssessmentDraft, {**WHOLE, "family_needs": "Moved; settled."}),
    )
    casework.complete_assessment(db, actor=a["lead"], assessment_id=second.id)
    db.commit()
    versions = casework.family_record(db, actor=a["team"], family_id=fid).assessments
    assert [(v.version, v.family_needs) for v in versions] == [
        (2, "Moved; settled."),
        (1, "Rent arrears; a move is likely."),
    ]
    for persona in ("colleague", "manager", "dpo"):
        with pytest.raises(Exception) as refused:
            casework.start_assessment(db, actor=a[persona], episode_id=eid)
        assert type(refused.value).__name__ in ("NotFound", "NotAllowed")


def test_one_draft_at_a_time_is_a_database_rule(db: Session, case_world: CaseWorld) -> None:
    casework.start_assessment(db, actor=case_world.actors["lead"], episode_id=case_world.episode_id)
    db.commit()
    db.add(Assessment(episode_id=case_world.episode_id, version=2, status="draft", drafted_by_label="x"))
    with pytest.raises(IntegrityError):
        db.flush()
    db.rollback()
    assert len(db.scalars(select(Assessment)).all()) == 1


def test_the_assessment_on_the_record_page(app, case_world: CaseWorld, db: Session) -> None:  # type: ignore[no-untyped-def]
    url = f"/p/{case_world.world.partnership_id}/cases/{case_world.family_id}"
    team, colleague = Browser(app, case_world.emails["team"]), Browser(app, case_world.emails["colleague"])
    assert colleague.post(f"{url}/assessment", {}).status_code == 404
    assert team.post(f"{url}/assessment", {}).status_code == 303
    draft_id = db.scalar(select(Assessment.id))
    assert 'aria-label="Assessment draft"' in team.get(url).text
    refused = team.post(f"{url}/assessment/{draft_id}", {**WHOLE, "childs_words": "", "action": "complete"})
    assert (
        refused.status_code == 422 and "the child&#39;s own words are part of the assessment" in refused.text
    )
    db.rollback()
    assert db.get(Assessment, draft_id).status == "draft"  # type: ignore[union-attr]
    assert db.get(Assessment, draft_id).development_needs == ""  # type: ignore[union-attr]  # all or nothing
    assert team.post(f"{url}/assessment/{draft_id}", {**WHOLE, "action": "complete"}).status_code == 303
    page = team.get(url).text
    assert "Version 1, completed by team@case.example.org" in page and "I don&#39;t like mornings." in page
    assert team.post(f"{url}/assessment/{draft_id + 999}", {**WHOLE, "action": "save"}).status_code == 404
