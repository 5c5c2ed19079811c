"""Releasing a round's results: once, after it closes, stored as published; before that, every interface
shows the response count and nothing else (reading results before and after one response would give that
response away); nothing is added after a release; a round that had an open link publishes no breakdowns.
On both databases, with the three personas."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.models import BarometerRelease
from reticulist.errors import InputError
from tests.barometer.test_results_pages import REALISTIC, organisation_ids
from tests.conftest import Browser, World

TODAY = date.today()
SECRET = "test-secret-key-" + "x" * 20


def _rows(db: Session, world: World, groups: list[tuple[str | None, int]], seed: int = 1) -> list:
    rng = np.random.default_rng(seed)
    ids = organisation_ids(db, world)
    instrument = default_instrument()
    rows = []
    for name, count in groups:
        for _ in range(count):
            answers = {item.key: int(rng.integers(1, 6)) for item in instrument.items}
            rows.append(({"organisation_id": ids[name]} if name else {}, answers))
    return rows


def _round(db: Session, world: World, *, closes_in: int) -> int:
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title="Barometer 2026",
            opens_on=TODAY - timedelta(days=20),
            closes_on=TODAY + timedelta(days=closes_in),
        ),
    )
    db.commit()
    return found.id


def _interfaces(world: World, round_id: int) -> list[str]:
    base = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    return [
        f"{base}/results",
        f"{base}/results.csv",
        f"{base}/results.xlsx",
        f"{base}/report",
        f"{base}/report.pdf",
        f"/api/v1/partnerships/{world.partnership_id}/barometer/rounds/{round_id}/results",
    ]


def _count_as_60(page: str) -> str:
    """The page with its count read as 60 and the session's form tokens left out (a token can hold "61")."""
    page = re.sub(r'(name="(?:csrf_token|form_key)" value=")[^"]*"', r"\1", page)
    return re.sub(r"\b61\b", "60", page)


def test_an_open_round_shows_its_count_and_nothing_else_before_and_after_one_response(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    round_id = _round(db, world, closes_in=10)
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=round_id, rows=_rows(db, world, REALISTIC)
    )
    db.commit()
    seen: dict[tuple[str, str], str] = {}
    for persona in ("manager", "member"):
        for url in _interfaces(world, round_id):
            response = browsers[persona].get(url)
            assert response.status_code == 409, (persona, url, response.status_code)
            body = response.text
            assert "60" in body and "released" in body
            seen[persona, url] = body
    # One more response: the attacker reads everything again. Only the count may differ.
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=round_id, rows=_rows(db, world, [("Brempton Youth Justice", 1)])
    )
    db.commit()
    for (persona, url), before in seen.items():
        after = browsers[persona].get(url)
        assert after.status_code == 409
        assert _count_as_60(after.text) == _count_as_60(before), (persona, url)
    with pytest.raises(results.NotReleased, match="results are released once it has closed"):
        results.round_report(db, actor=world.manager, round_id=round_id)
    # A manager cannot release an open round either.
    with pytest.raises(InputError, match="released once the round has closed"):
        results.release_results(db, actor=world.manager, round_id=round_id)


def test_release_once_then_the_round_is_frozen(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    round_id = _round(db, world, closes_in=10)
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=round_id, rows=_rows(db, world, REALISTIC)
    )
    barometer.close_round(db, actor=world.manager, round_id=round_id)
    db.commit()
    base = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    # Closed, not released: the round page offers the release to managers only; results still 409.
    manager_page = browsers["manager"].get(base).text
    assert f'action="{base}/release"' in manager_page and "not released yet" in manager_page
    member_page = browsers["member"].get(base).text
    assert "/release" not in member_page and "not released yet" in member_page
    assert browsers["member"].get(f"{base}/results").status_code == 409
    # Members may not release; outsiders do not find the round.
    assert browsers["member"].post(f"{base}/release").status_code == 403
    assert browsers["outsider"].post(f"{base}/release").status_code == 404
    assert db.scalar(select(func.count()).select_from(BarometerRelease)) == 0

    released = browsers["manager"].post(f"{base}/release")
    assert released.status_code == 303 and released.headers["location"].startswith(f"{base}/results")
    page = browsers["member"].get(f"{base}/results")
    assert page.status_code == 200 and "<strong>60</strong>" in page.text
    again = browsers["manager"].post(f"{base}/release")
    assert again.status_code == 422 and "were released on" in again.text
    # No answers after a release: a second release of the same people could be differenced.
    with pytest.raises(InputError, match="answers cannot be added after that"):
        barometer.record_imported_responses(
            db, actor=world.manager, round_id=round_id, rows=_rows(db, world, [(None, 5)])
        )
    db.rollback()
    # The figures are read from the release, not recomputed: removing answers behind the application's
    # back changes nothing that is shown.
    first = results.round_report(db, actor=world.member, round_id=round_id)
    db.execute(text("DELETE FROM barometer_response WHERE round_id = :r"), {"r": round_id})
    db.commit()
    second = results.round_report(db, actor=world.member, round_id=round_id)
    assert second.respondents == first.respondents == 60
    assert [line.result for line in second.lines] == [line.result for line in first.lines]
    assert second.breakdowns == first.breakdowns


def test_two_managers_releasing_at_once_make_one_release(
    db: Session, world: World, session_factory: sessionmaker[Session]
) -> None:
    round_id = _round(db, world, closes_in=10)
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=round_id, rows=_rows(db, world, REALISTIC)
    )
    barometer.close_round(db, actor=world.manager, round_id=round_id)
    db.commit()
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def release() -> None:
        with session_factory() as session:
            start.wait()
            try:
                results.release_results(session, actor=world.manager, round_id=round_id)
                session.commit()
                outcomes.append("released")
            except InputError as exc:
                session.rollback()
                outcomes.append(str(exc.problems[0].message))
            except Exception as exc:  # a database refusal: the unique round_id did its job
                session.rollback()
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=release) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("released") == 1, outcomes
    assert db.scalar(select(func.count()).select_from(BarometerRelease)) == 1


def test_a_round_that_had_an_open_link_publishes_no_breakdowns(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    round_id = _round(db, world, closes_in=10)
    barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    barometer.remove_open_link(db, actor=world.manager, round_id=round_id)  # removing it changes nothing
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=round_id, rows=_rows(db, world, REALISTIC)
    )
    db.commit()
    base = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    round_page = browsers["manager"].get(base).text
    assert "the results will have no breakdowns by group" in round_page
    assert "publishes <strong>no breakdowns</strong>" in round_page
    barometer.close_round(db, actor=world.manager, round_id=round_id)
    results.release_results(db, actor=world.manager, round_id=round_id)
    db.commit()
    report = results.round_report(db, actor=world.member, round_id=round_id)
    assert report.open_link and report.breakdowns == {} and report.respondents == 60
    # Whole-round figures with differential privacy: noisy n, an interval that includes the noise, and
    # nothing that would need its own share of the budget (sd, alpha, don't know, trend).
    for line in report.lines:
        r = line.result
        assert r.noise is not None and r.noise > 0
        assert (r.sd, r.alpha, r.alpha_n, r.dont_know_share) == (None, None, None, None)
        assert r.suppressed or (r.ci_low <= r.mean <= r.ci_high and r.ci_high - r.ci_low >= 2 * r.noise)
        assert r.suppressed or "privacy noise" in line.reading
    assert report.cost is None
    page = browsers["member"].get(f"{base}/results").text
    assert "Brempton Police" not in page and "no breakdowns" in page
    csv_text = browsers["member"].get(f"{base}/results.csv").content.decode("utf-8-sig")
    assert "Breakdown by" not in csv_text and "Brempton Police" not in csv_text
    api = (
        browsers["member"]
        .get(f"/api/v1/partnerships/{world.partnership_id}/barometer/rounds/{round_id}/results")
        .json()
    )
    assert api["breakdowns"] == {}
    report_page = browsers["member"].get(f"{base}/report").text
    assert "Brempton Police" not in report_page
    assert re.search(r"no breakdowns", report_page)
