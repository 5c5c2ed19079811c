"""The demo partnership's two barometer rounds (SQLite and PostgreSQL): reproducible, anonymous, stored
through the import path, and telling their story in the same figures the results pages show."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.audit.models import AuditEvent
from reticulist.barometer import results
from reticulist.barometer.demo import (
    THRESHOLD,
    TRAINING_ACTION_TITLE,
    TRAINING_DAY_TITLE,
    add_demo_barometer,
    round_dates,
)
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.models import BarometerResponse, BarometerRound
from reticulist.cli.main import app
from reticulist.register.demo import build_demo, demo_actor
from reticulist.register.metrics import months_before
from reticulist.register.models import Action, Attendance, Meeting, Organisation, Person, Profession
from reticulist.register.overview import partnership_overview
from tests.conftest import Demo

TODAY = date.today()
POLICE = "North West Police, Brempton Division"


def _rounds(db: Session, partnership_id: int) -> list[BarometerRound]:
    return list(
        db.scalars(
            select(BarometerRound)
            .where(BarometerRound.partnership_id == partnership_id)
            .order_by(BarometerRound.opens_on, BarometerRound.id)
        )
    )


def _responses(db: Session, round_id: int) -> list[tuple[Any, ...]]:
    """A round's responses by value (organisation and profession by name), so two builds compare."""
    rows = db.execute(
        select(
            Organisation.name,
            Profession.name,
            BarometerResponse.hierarchy_tier,
            BarometerResponse.wt_tier,
            BarometerResponse.answers,
            BarometerResponse.source,
        )
        .outerjoin(Organisation, Organisation.id == BarometerResponse.organisation_id)
        .outerjoin(Profession, Profession.id == BarometerResponse.profession_id)
        .where(BarometerResponse.round_id == round_id)
    ).all()
    return sorted(((*row[:4], tuple(sorted(row[4].items())), row[5]) for row in rows), key=str)


def _line(report: results.RoundReport, key: str) -> results.ConstructLine:
    return next(line for line in report.lines if line.key == key)


def test_same_seed_gives_the_same_answers_and_another_seed_does_not(demo: Demo) -> None:
    # The shared demo is the first build; a second with the same seed is made beside it.
    db, first = demo.db, demo.partnership_id
    second = build_demo(db, today=TODAY, name="Brempton B", barometer=True)
    db.commit()
    a, b = _rounds(db, first), _rounds(db, second)
    assert [r.title for r in a] == [r.title for r in b] and len(a) == 2
    for x, y in zip(a, b, strict=True):
        assert _responses(db, x.id) == _responses(db, y.id) and _responses(db, x.id)
    other = add_demo_barometer(db, actor=demo_actor(), partnership_id=first, seed=7, today=TODAY)
    db.commit()
    assert _responses(db, other.round_ids[1]) != _responses(db, a[1].id)


def test_two_closed_rounds_a_year_apart_answered_by_some_of_the_people_in_post(demo: Demo) -> None:
    db, pid = demo.db, demo.partnership_id
    rounds = _rounds(db, pid)
    assert len(rounds) == 2
    earlier, latest = rounds
    assert ((earlier.opens_on, earlier.closes_on), (latest.opens_on, latest.closes_on)) == round_dates(TODAY)
    assert earlier.title.startswith("Partnership Barometer ") and earlier.title.endswith(
        str(earlier.opens_on.year)
    )
    assert latest.title == f"Partnership Barometer {latest.opens_on.year}"
    assert earlier.opens_on == months_before(latest.opens_on, 12)  # a year apart
    assert 25 <= (TODAY - latest.opens_on).days <= 45  # the latest opened about a month ago
    for found in rounds:
        assert found.status(TODAY) == "closed" and found.closed_early_on is None
        assert found.closes_on - found.opens_on == timedelta(days=13)  # two weeks
        assert found.anonymity_threshold == THRESHOLD == 5
        assert found.instrument.key == "partnership-barometer" and found.instrument.version == "1.0"

    people = list(db.scalars(select(Person).where(Person.partnership_id == pid)))
    item_keys = {item.key for item in default_instrument().items}
    board_items = {
        i.key for i in default_instrument().items if i.construct_key in {"hierarchy", "free_debate"}
    }
    for found in rounds:
        in_post = [
            p
            for p in people
            if (p.joined_on is None or p.joined_on <= found.opens_on)
            and (p.ended_on is None or p.ended_on >= found.opens_on)
        ]
        responses = list(db.scalars(select(BarometerResponse).where(BarometerResponse.round_id == found.id)))
        assert 0.5 <= len(responses) / len(in_post) <= 0.7, (len(responses), len(in_post))
        assert {r.source for r in responses} == {"import"}  # stored through record_imported_responses
        for field in ("organisation_id", "profession_id", "hierarchy_tier"):
            blank = sum(getattr(r, field) is None for r in responses) / len(responses)
            assert 0.03 <= blank <= 0.2, (field, blank)  # about one in ten prefers not to say
        # A named organisation brings its Working Together tier from the register (check_profile).
        assert all(r.wt_tier is not None for r in responses if r.organisation_id is not None)
        codes = [code for r in responses for code in r.answers.values()]
        assert set(codes) == {0, 1, 2, 3, 4, 5} and all(r.answers for r in responses)
        assert all(set(r.answers) <= item_keys for r in responses)
        assert sum(len(r.answers) < len(item_keys) for r in responses) >= 5  # some left items blank

        # Practitioners more often don't know how the board table works than senior managers do.
        def dont_know(tiers: set[int], responses: list[BarometerResponse] = responses) -> float:
            given = [
                c
                for r in responses
                if r.hierarchy_tier in tiers
                for k, c in r.answers.items()
                if k in board_items
            ]
            return sum(c == 0 for c in given) / len(given)

        assert dont_know({5}) > 2 * dont_know({1, 2, 3})

    # The rounds went in through the audited service, as the demo.
    events = list(
        db.scalars(
            select(AuditEvent).where(
                AuditEvent.record_type == "barometer_round", AuditEvent.partnership_id == pid
            )
        )
    )
    assert {e.event for e in events} == {"opened", "imported", "released"}
    assert {e.via for e in events} == {"demo"}


def test_no_response_row_links_to_a_person(demo: Demo) -> None:
    db, pid = demo.db, demo.partnership_id
    columns = {c["name"] for c in inspect(db.get_bind()).get_columns("barometer_response")}
    assert columns == {
        "id",
        "round_id",
        "organisation_id",
        "profession_id",
        "hierarchy_tier",
        "wt_tier",
        "answers",
        "submitted_on",
        "source",
    }
    referred = {fk["referred_table"] for fk in inspect(db.get_bind()).get_foreign_keys("barometer_response")}
    assert referred == {"barometer_round", "organisation", "profession"}  # no person, user, invitation
    round_ids = [r.id for r in _rounds(db, pid)]
    responses = list(db.scalars(select(BarometerResponse).where(BarometerResponse.round_id.in_(round_ids))))
    assert len(responses) > 150
    item_keys = {item.key for item in default_instrument().items}
    assert all(set(r.answers) <= item_keys for r in responses)  # nothing but answers in the answers


def test_the_story_is_in_the_results(demo: Demo) -> None:
    db, pid = demo.db, demo.partnership_id
    actor = demo_actor()
    earlier, latest = _rounds(db, pid)
    reports = [results.round_report(db, actor=actor, round_id=r.id) for r in (earlier, latest)]
    before, after = reports
    assert after.previous_round_title == earlier.title

    # The police, whose seat changed hands twice, score lowest of all organisations on continuity, in
    # a group large enough to be shown.
    for report in reports:
        heatmap = report.breakdowns["organisation"]
        police = heatmap.group(POLICE)
        assert not police.suppressed and police.respondents is not None and police.respondents >= THRESHOLD
        police_cell = heatmap.cell(POLICE, "continuity")
        assert police_cell.mean is not None and not police_cell.suppressed
        others = [
            heatmap.cell(g.label, "continuity").mean
            for g in heatmap.groups
            if g.label not in (POLICE, "Not told") and heatmap.cell(g.label, "continuity").mean is not None
        ]
        assert others and police_cell.mean < min(others)
        # At least one organisation is too small to show: the reader sees a hidden cell.
        hidden = [g for g in heatmap.groups if g.suppressed and g.reason == "protected"]
        assert hidden and all(c.mean is None and c.suppressed for g in hidden for c in g.cells)

    # Trust and professional learning are clearly up after the joint training.
    for key in ("trust", "professional_learning"):
        trend = _line(after, key).trend
        assert trend is not None and trend.clear_change and trend.reading.startswith("up "), (key, trend)
        assert trend.difference is not None and trend.difference > 0.3
        assert _line(before, key).trend is None  # the first round has nothing to compare with

    # Hierarchy stays on the obstacle side, as the overview's hierarchy flag says of the board.
    overview = partnership_overview(db, actor=actor, partnership_id=pid, today=TODAY)
    assert overview.hierarchy.top_and_practitioner_together
    for report in reports:
        hierarchy = _line(report, "hierarchy")
        assert hierarchy.result.lean == "obstacle" and hierarchy.reading.startswith(
            "Leans to the obstacle side"
        )
        assert "hierarchy" in {r.line.key for r in report.recommendations}

    # Momentum dips a little, as the stalled actions on the overview suggest.
    assert overview.momentum.stalled_count > 0
    momentum = _line(after, "momentum").trend
    assert momentum is not None and momentum.difference is not None and -0.5 < momentum.difference < 0

    # The training that explains the rise is in the register, between the rounds.
    day = db.scalar(select(Meeting).where(Meeting.partnership_id == pid, Meeting.title == TRAINING_DAY_TITLE))
    assert day is not None and day.kind == "development_day"
    assert earlier.closes_on < day.held_on < latest.opens_on
    present = db.scalars(
        select(Attendance).where(Attendance.meeting_id == day.id, Attendance.status == "present")
    ).all()
    assert len(present) >= 20
    action = db.scalar(
        select(Action).where(Action.partnership_id == pid, Action.title == TRAINING_ACTION_TITLE)
    )
    assert action is not None and action.kind == "action" and action.status == "done"
    assert action.closed_on == day.held_on == action.due_on
    assert action.owner_person_id and action.organisation_id and action.meeting_id
    agreed_at = db.get(Meeting, action.meeting_id)
    assert agreed_at is not None and agreed_at.kind == "board"
    assert earlier.closes_on < agreed_at.held_on == action.opened_on < day.held_on


def test_the_demo_command_says_where_the_latest_results_are(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--database", url])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    year = round_dates(TODAY)[1][0].year
    assert f"Partnership Barometer {year - 1} (" in output and f"Partnership Barometer {year} (" in output
    assert "Latest results: http://127.0.0.1:8000/p/1/barometer/rounds/2/results" in output
