"""A round's report from storage (SQLite and PostgreSQL): scored, suppressed, compared with the previous
round, and the weakest constructs recommended on."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from reticulist.access.policy import NotFound
from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import World

TODAY = date.today()


def _round(db: Session, world: World, title: str, opens_ago: int, closes_ago: int) -> int:
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title=title,
            opens_on=TODAY - timedelta(days=opens_ago),
            closes_on=TODAY - timedelta(days=closes_ago),
        ),
    )
    return found.id


def _answers(rng: np.random.Generator, shift: dict[str, float]) -> dict[str, int]:
    """One respondent: agreeing (about 4) except where ``shift`` moves a construct; reverse items mirrored."""
    out = {}
    for item in default_instrument().items:
        level = 4.0 + shift.get(item.construct_key, 0.0)
        value = int(np.clip(round(rng.normal(level, 0.6)), 1, 5))
        out[item.key] = 6 - value if item.reverse else value
    return out


@pytest.fixture
def two_rounds(db: Session, world: World) -> tuple[int, int, int]:
    rng = np.random.default_rng(7)
    health = register.create_organisation(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.OrganisationCreate(name="Brempton NHS Trust", kind="health", tier="statutory"),
    ).id
    first = _round(db, world, "Barometer 2025", 400, 370)
    second = _round(db, world, "Barometer 2026", 30, 5)
    for round_id, trust in ((first, -1.5), (second, 0.0)):
        rows = []
        for n in range(40):
            # Police answer low on continuity; two health respondents only (a group to hide).
            organisation = world.organisation_id if n < 20 else health if n < 22 else None
            shift = {"trust": trust, "continuity": -2.0 if organisation == world.organisation_id else 0.0}
            rows.append(({"organisation_id": organisation} if organisation else {}, _answers(rng, shift)))
        barometer.record_imported_responses(db, actor=world.manager, round_id=round_id, rows=rows)
        results.release_results(db, actor=world.manager, round_id=round_id)
    db.commit()
    return first, second, health


def test_report_scores_compares_and_recommends(
    db: Session, world: World, two_rounds: tuple[int, int, int]
) -> None:
    first, second, _ = two_rounds
    report = results.round_report(db, actor=world.member, round_id=second)
    assert report.respondents == 40 and not report.too_few
    assert [line.key for line in report.lines] == [c.key for c in default_instrument().constructs]
    assert report.previous_round_title == "Barometer 2025"

    trust = next(line for line in report.lines if line.key == "trust")
    assert trust.trend is not None and trust.trend.clear_change and trust.trend.difference > 1.0
    assert trust.trend.reading.startswith("up ")
    momentum = next(line for line in report.lines if line.key == "momentum")
    assert momentum.trend is not None and not momentum.trend.clear_change

    assert report.recommendations[0].line.key == "continuity"
    assert report.recommendations[0].why.startswith("Mean 3.0")
    assert report.recommendations[0].line.construct.catalysts  # what helps comes with it

    assert results.round_report(db, actor=world.member, round_id=first).previous_round_title is None


def test_small_groups_are_hidden_in_every_breakdown(
    db: Session, world: World, two_rounds: tuple[int, int, int]
) -> None:
    _, second, _ = two_rounds
    report = results.round_report(db, actor=world.manager, round_id=second)
    organisations = report.breakdowns["organisation"]
    health = organisations.group("Brempton NHS Trust")
    assert health.suppressed and health.respondents is None
    assert all(cell.mean is None for cell in health.cells)
    # Health's two are hidden, so the smallest other cell is hidden with them (complementary).
    assert sum(1 for g in organisations.groups if g.suppressed) >= 2
    police = organisations.group("Brempton Police")
    assert not police.suppressed and police.respondents == 20
    for breakdown in report.breakdowns.values():
        for group in breakdown.groups:
            assert group.suppressed or (group.respondents or 0) >= report.threshold


def test_too_few_respondents_shows_nothing_but_the_count(db: Session, world: World) -> None:
    round_id = _round(db, world, "Tiny", 10, 1)
    rng = np.random.default_rng(1)
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=round_id, rows=[({}, _answers(rng, {})) for _ in range(4)]
    )
    results.release_results(db, actor=world.manager, round_id=round_id)
    db.commit()
    report = results.round_report(db, actor=world.manager, round_id=round_id)
    assert report.too_few
    assert all(line.result.suppressed and line.result.mean is None for line in report.lines)
    assert report.recommendations == ()


def test_outsider_gets_no_report(db: Session, world: World, two_rounds: tuple[int, int, int]) -> None:
    with pytest.raises(NotFound):
        results.round_report(db, actor=world.outsider, round_id=two_rounds[1])
