"""Benchmark: the partnership overview on a big partnership (target: page under 200 ms median).

Builds a partnership of 2,000 people, 60 organisations and ten years of monthly board meetings (plus
quarterly sub-groups and yearly away/development days) with ``register.demo.build_demo``, i.e. through the
register services with their validation and audit log (no separate bulk loader: it takes seconds, not
minutes). Then times, as medians of repeated runs after a warm-up:

  (a) the overview computation, ``register.overview.partnership_overview``;
  (b) the overview page, GET /p/{id} through FastAPI's TestClient as a logged-in manager;
  (c) a reference implementation of the same continuity / attendance / hierarchy / momentum figures in
      plain Python over ORM objects (no NumPy, no column queries), checked to give the same answers.

SQLite (a temporary file) by default; with ``--database postgresql+psycopg://postgres@127.0.0.1:5432/test``
it creates a scratch database of its own on that server and drops it at the end.

    .venv/bin/python benchmarks/register_overview.py [--database URL] [--runs 15]

The last line printed is ``overview: N people, M meetings: compute X ms, page Y ms (median)``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from datetime import date
from typing import Any

from scratch import scratch_database  # benchmarks/scratch.py
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Actor, Role
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.db.migrate import upgrade
from reticulist.register.demo import build_demo, demo_actor
from reticulist.register.metrics import (
    CONTINUITY_WINDOW_MONTHS,
    DISCONTINUED_AT,
    STALLED_AFTER_DAYS,
    months_before,
)
from reticulist.register.models import Action, Attendance, Meeting, Organisation, Person, Seat
from reticulist.register.overview import LOW_ATTENDANCE, REPRESENTING_ROLES, Overview, partnership_overview
from reticulist.register.vocab import ActionStatus, AttendanceStatus

MANAGER_EMAIL = "bench-manager@example.org"
MANAGER_PASSWORD = "benchmark-manager-password"
SECRET = "benchmark-secret-" + "x" * 24
OPEN = {s.value for s in ActionStatus if s.is_open}
REPRESENTED = {AttendanceStatus.PRESENT.value, AttendanceStatus.DEPUTY_ATTENDED.value}


def median_ms(run: Callable[[], Any], runs: int) -> tuple[float, Any]:
    result = run()  # warm-up: caches, compiled statements, templates
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


# --- the reference: the same figures, plain Python over ORM objects -----------------------------------
def reference_overview(session: Session, *, partnership_id: int, today: date) -> dict[str, Any]:
    organisations = session.scalars(
        select(Organisation)
        .where(Organisation.partnership_id == partnership_id, Organisation.ended_on.is_(None))
        .order_by(Organisation.name)
    ).all()
    seats = session.scalars(select(Seat).where(Seat.partnership_id == partnership_id)).all()

    window_start = months_before(today, CONTINUITY_WINDOW_MONTHS)
    continuity: dict[int, dict[str, Any]] = {}
    for seat in seats:
        if seat.role not in REPRESENTING_ROLES:
            continue
        end = min(seat.ended_on or today, today)
        if seat.started_on > today or end < window_start:
            continue
        c = continuity.setdefault(seat.organisation_id, {"people": set(), "tenures": 0, "days": 0})
        c["people"].add(seat.person_id)
        c["tenures"] += 1
        c["days"] += (end - seat.started_on).days + 1

    board: dict[int, int] = {}
    for seat in seats:
        if seat.started_on <= today and (seat.ended_on is None or seat.ended_on >= today):
            board[seat.person_id] = seat.person.hierarchy_tier
    hierarchy: dict[int, int] = {}
    for tier in board.values():
        hierarchy[tier] = hierarchy.get(tier, 0) + 1

    meetings = session.scalars(
        select(Meeting).where(
            Meeting.partnership_id == partnership_id,
            Meeting.cancelled.is_(False),
            Meeting.held_on > months_before(today, 12),
            Meeting.held_on <= today,
        )
    ).all()
    expected: dict[int, set[int]] = {}
    represented: dict[int, set[int]] = {}
    if meetings:
        records = session.scalars(
            select(Attendance).where(Attendance.meeting_id.in_([m.id for m in meetings]))
        ).all()
        for record in records:
            expected.setdefault(record.organisation_id, set()).add(record.meeting_id)
            if record.status in REPRESENTED:
                represented.setdefault(record.organisation_id, set()).add(record.meeting_id)

    open_ids, overdue_ids, stalled_ids = [], [], []
    for action in session.scalars(select(Action).where(Action.partnership_id == partnership_id)):
        if action.status not in OPEN:
            continue
        open_ids.append(action.id)
        if action.due_on is not None and action.due_on < today:
            overdue_ids.append(action.id)
        if (today - action.last_changed_on).days >= STALLED_AFTER_DAYS:
            stalled_ids.append(action.id)

    people_count = session.scalar(
        select(func.count()).where(Person.partnership_id == partnership_id, Person.ended_on.is_(None))
    )
    rows = {}
    for organisation in organisations:
        c = continuity.get(organisation.id)
        seen = len(expected.get(organisation.id, ()))
        came = len(represented.get(organisation.id, ()))
        rows[organisation.id] = {
            "representatives": len(c["people"]) if c else None,
            "tenures": c["tenures"] if c else None,
            "mean_days": c["days"] / c["tenures"] if c else None,
            "discontinued": bool(c and len(c["people"]) >= DISCONTINUED_AT),
            "attendance": (came, seen) if seen else None,
            "low": bool(seen and came / seen < LOW_ATTENDANCE),
        }
    return {
        "rows": rows,
        "hierarchy": hierarchy,
        "open": sorted(open_ids),
        "overdue": sorted(overdue_ids),
        "stalled": sorted(stalled_ids),
        "people": people_count,
    }


def same_answers(overview: Overview, reference: dict[str, Any]) -> None:
    """The reference exists to be compared with: refuse to report a ratio between different answers."""
    rows = {r.organisation_id: r for group in overview.tiers.values() for r in group}
    assert set(rows) == set(reference["rows"]), "organisations differ"
    for organisation_id, row in rows.items():
        ref, c, a = reference["rows"][organisation_id], row.continuity, row.attendance
        assert (c.representatives_in_window if c else None) == ref["representatives"], row.name
        assert (c.tenures_in_window if c else None) == ref["tenures"], row.name
        assert c is None or abs((c.mean_tenure_days or 0) - ref["mean_days"]) < 1e-6, row.name
        assert (c.discontinued if c else False) == ref["discontinued"], row.name
        assert ((a.meetings_represented, a.meetings_expected) if a else None) == ref["attendance"], row.name
    assert {r.organisation_id for r in overview.low_attendance} == {
        k for k, v in reference["rows"].items() if v["low"]
    }
    assert overview.hierarchy.counts == reference["hierarchy"]
    assert overview.momentum.open_ids == reference["open"]
    assert overview.momentum.overdue_ids == reference["overdue"]
    assert overview.momentum.stalled_ids == reference["stalled"]
    assert overview.people_count == reference["people"]


# --- the run ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="PostgreSQL server URL to create a scratch database on.")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--organisations", type=int, default=60)
    parser.add_argument("--years", type=int, default=10)
    args = parser.parse_args(argv)

    with scratch_database(args.database) as url:
        where = make_url(url).render_as_string(hide_password=True)
        print(f"database: {where}")
        upgrade(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        today = date.today()

        start = time.perf_counter()
        with sessions() as session:
            partnership_id = build_demo(
                session,
                people=args.people,
                organisations=args.organisations,
                years=args.years,
                meetings_per_year=12,
                name="Benchmark Safeguarding Children Partnership",
                today=today,
            )
            user = accounts.create_user(
                session,
                actor=demo_actor(),
                email=MANAGER_EMAIL,
                display_name="Manager",
                password=MANAGER_PASSWORD,
            )
            accounts.set_role(
                session, actor=demo_actor(), partnership_id=partnership_id, user_id=user.id, role=Role.MANAGER
            )
            session.commit()
            actor: Actor = accounts.actor_for(session, user)
            counts = {
                name: session.scalar(
                    select(func.count()).select_from(model).where(model.partnership_id == partnership_id)
                )
                for name, model in (
                    ("people", Person),
                    ("organisations", Organisation),
                    ("seats", Seat),
                    ("meetings", Meeting),
                    ("actions", Action),
                )
            }
            counts["attendance records"] = session.scalar(
                select(func.count())
                .select_from(Attendance)
                .join(Meeting, Meeting.id == Attendance.meeting_id)
                .where(Meeting.partnership_id == partnership_id)
            )
        print(
            f"built through the register services (build_demo) in {time.perf_counter() - start:.1f} s: "
            + ", ".join(f"{n} {k}" for k, n in counts.items())
        )

        def compute() -> Overview:
            with sessions() as session:
                return partnership_overview(session, actor=actor, partnership_id=partnership_id, today=today)

        def reference() -> dict[str, Any]:
            with sessions() as session:
                return reference_overview(session, partnership_id=partnership_id, today=today)

        compute_ms, overview = median_ms(compute, args.runs)
        reference_ms, expected = median_ms(reference, args.runs)
        same_answers(overview, expected)

        # Starlette's notice about httpx would otherwise print after the figures.
        warnings.filterwarnings("ignore", message="Using `httpx` with")
        from fastapi.testclient import TestClient

        from reticulist.settings import Settings
        from reticulist.web.app import create_app

        app = create_app(Settings(database_url=url, secret_key=SECRET))
        # https, so the Secure session cookie is sent back as a browser would.
        with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
            token = re.search(r'name="csrf_token" value="([^"]*)"', client.get("/login").text)
            assert token, "no CSRF token on the login page"
            login = client.post(
                "/login",
                data={"email": MANAGER_EMAIL, "password": MANAGER_PASSWORD, "csrf_token": token.group(1)},
            )
            assert login.status_code == 303, f"login failed: {login.status_code}"

            def page() -> Any:
                response = client.get(f"/p/{partnership_id}")
                assert response.status_code == 200 and "Benchmark Safeguarding" in response.text
                return response

            page_ms, _ = median_ms(page, args.runs)
        app.state.engine.dispose()
        engine.dispose()

        momentum = overview.momentum
        print(
            f"flags: {len(overview.discontinued)} discontinued, {len(overview.low_attendance)} low "
            f"attendance, {momentum.open_count} open / {momentum.overdue_count} overdue / "
            f"{momentum.stalled_count} stalled actions"
        )
        print(
            f"reference (pure Python over ORM objects): {reference_ms:.1f} ms; "
            f"ratio {reference_ms / compute_ms:.1f} (reference / overview, same answers checked)"
        )
        target = "met" if page_ms < 200 else "MISSED"
        print(f"target page < 200 ms median: {target} ({args.runs} runs after a warm-up)")
        print(
            f"overview: {counts['people']} people, {counts['meetings']} meetings: "
            f"compute {compute_ms:.1f} ms, page {page_ms:.1f} ms (median)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
