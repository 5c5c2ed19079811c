"""The demo's comparison group: Brempton and 11 generated peers, all opted in, with a planted effect of
late entry on boundary spanning that the study recovers within its interval (on both databases)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from reticulist.access import service as accounts
from reticulist.comparison import demo as comparison_demo
from reticulist.comparison import service, study
from reticulist.comparison.models import ComparisonMember
from reticulist.comparison.synthetic import generate_partnerships, study_rows
from reticulist.register.demo import demo_actor
from tests.conftest import Demo


@pytest.fixture(scope="module")
def truth() -> dict[str, float]:
    """The study's coefficient of late entry on a very large sample from the demo's own generator (240
    partnerships of its sizes, its planted effect): what the demo's group estimates."""
    made = generate_partnerships(
        240,
        people=comparison_demo.PEOPLE,
        ties_per_person=comparison_demo.TIES_PER_PERSON,
        late_entry_effect=comparison_demo.LATE_ENTRY_EFFECT,
        seed=2026,
    )
    fitted = study.study_boundary_spanning(study_rows(made))
    return {fit.outcome: fit.estimate("late_entry").coefficient for fit in fitted.outcomes}


def test_the_demo_group_recovers_the_planted_effect(demo: Demo, truth: dict[str, float]) -> None:
    made = comparison_demo.add_demo_comparison(
        demo.db, actor=demo_actor(), partnership_id=demo.partnership_id, seed=1, today=date.today()
    )
    demo.db.commit()
    members = demo.db.scalars(select(ComparisonMember.partnership_id)).all()
    assert sorted(members) == sorted([demo.partnership_id, *made.partnership_ids])
    assert len(members) == 1 + comparison_demo.PEERS

    login = accounts.login(
        demo.db,
        email=comparison_demo.ANALYST_EMAIL,
        password=comparison_demo.ANALYST_PASSWORD,
        client="test",
        secret_key="test-secret",
        session_hours=1,
    )
    analyst = accounts.actor_for(demo.db, login.user)
    assert analyst.roles == {}  # the analyst has no partnership
    seen = service.comparison(demo.db, actor=analyst, group_id=made.group_id)
    assert len(seen.peers) == 12 and all(p.figures for p in seen.peers)
    assert seen.instrument is not None and any(c.funnel.points for c in seen.constructs)

    result = service.run_study(demo.db, actor=analyst, group_id=made.group_id)
    assert result.partnerships == 12
    for fit in result.outcomes:
        late = fit.estimate("late_entry")
        assert late.low > 0, (fit.outcome, late)  # the planted effect is found
        assert late.low <= truth[fit.outcome] <= late.high, (fit.outcome, late, truth)
        assert "supports 002's finding" in late.words
