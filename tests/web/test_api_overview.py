"""The overview figures through the API, for a small partnership whose numbers were worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import cli_actor
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import Browser, World

AS_OF = "2025-06-30"


@pytest.fixture
def built(db: Session, world: World) -> dict[str, int]:
    """Three organisations, five people, their seats, five meetings and four actions (see the test)."""
    root = cli_actor("test set-up")
    pid = world.partnership_id

    def organisation(name: str, kind: str, tier: str) -> int:
        data = s.OrganisationCreate(name=name, kind=kind, tier=tier)
        return register.create_organisation(db, actor=root, partnership_id=pid, data=data).id

    def person(name: str, organisation_id: int, tier: int) -> int:
        data = s.PersonCreate(full_name=name, organisation_id=organisation_id, hierarchy_tier=tier)
        return register.create_person(db, actor=root, partnership_id=pid, data=data).id

    def seat(organisation_id: int, person_id: int, role: str, start: str, end: str | None = None) -> None:
        data = s.SeatCreate(
            organisation_id=organisation_id, person_id=person_id, role=role, started_on=start, ended_on=end
        )
        register.create_seat(db, actor=root, partnership_id=pid, data=data)

    def meeting(held_on: str, entries: list[tuple[int, str]], cancelled: bool = False) -> None:
        data = s.MeetingCreate(title=f"Board {held_on}", held_on=held_on)
        meeting_id = register.create_meeting(db, actor=root, partnership_id=pid, data=data).id
        register.set_attendance(
            db,
            actor=root,
            meeting_id=meeting_id,
            entries=[s.AttendanceEntry(person_id=p, status=status) for p, status in entries],
        )
        if cancelled:
            register.cancel_meeting(db, actor=root, meeting_id=meeting_id)

    def action(title: str, **values: Any) -> int:
        data = s.ActionCreate(title=title, **values)
        return register.create_action(db, actor=root, partnership_id=pid, data=data).id

    police = world.organisation_id
    health = organisation("Brempton Health", "health", "statutory")
    voices = organisation("Brempton Voices", "voluntary", "involved")
    p1 = person("Alex Police", police, 3)
    p2 = person("Bea Police", police, 3)
    p3 = person("Cal Police", police, 1)
    h1 = person("Dee Health", health, 5)
    v1 = person("Eve Voices", voices, 3)

    seat(police, p1, "member", "2023-01-01", "2023-12-31")  # 365 days, overlaps the 24-month window
    seat(police, p2, "member", "2024-01-01", "2024-12-31")  # 366 days (leap year)
    seat(police, p3, "member", "2025-01-01")  # 181 days to 30 June 2025
    seat(health, h1, "chair", "2024-07-01")  # 365 days
    seat(voices, v1, "adviser", "2025-01-01")  # advisers do not count for continuity

    meeting("2024-03-01", [(p1, "absent")])  # before the 12-month window
    meeting("2024-09-10", [(p2, "present"), (h1, "apologies")])
    meeting("2025-01-15", [(p3, "absent"), (h1, "present")])
    meeting("2025-05-20", [(p3, "deputy_attended"), (h1, "absent")])
    meeting("2025-06-01", [(p3, "absent")], cancelled=True)  # cancelled meetings do not count

    ids = {
        "overdue": action(
            "Overdue", due_on="2025-06-01", opened_on="2025-01-01", last_changed_on="2025-06-15"
        ),
        "stalled": action(
            "Stalled",
            status="in_progress",
            due_on="2025-12-31",
            opened_on="2025-01-01",
            last_changed_on="2025-03-01",
        ),
        "done": action(
            "Done",
            status="done",
            due_on="2025-01-15",
            opened_on="2025-01-01",
            closed_on="2025-02-01",
            last_changed_on="2025-02-01",
        ),
        "just_stalled": action("Just stalled", opened_on="2025-04-01", last_changed_on="2025-05-01"),
        "police": police,
        "health": health,
        "voices": voices,
        "p3": p3,
        "h1": h1,
        "v1": v1,
    }
    db.commit()
    return ids


def test_overview_figures_match_the_hand_worked_numbers(
    app: FastAPI, db: Session, world: World, browsers: dict[str, Browser], built: dict[str, int]
) -> None:
    _, token = accounts.create_api_token(
        db, actor=world.member, name="figures", secret_key=app.state.settings.secret_key
    )
    db.commit()
    response = browsers["anonymous"].client.get(
        f"/api/v1/partnerships/{world.partnership_id}/overview",
        params={"as_of": AS_OF},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    figures = response.json()
    assert figures["as_of"] == AS_OF and figures["partnership_id"] == world.partnership_id
    assert figures["people_count"] == 5
    assert figures["meetings_last_12_months"] == 3
    assert (figures["continuity_window_months"], figures["attendance_window_months"]) == (24, 12)

    by_name = {o["name"]: o for o in figures["organisations"]}
    # Statutory members first, then by name.
    assert list(by_name) == ["Brempton Health", "Brempton Police", "Brempton Voices"]

    police = by_name["Brempton Police"]
    assert [r["person_id"] for r in police["current_representatives"]] == [built["p3"]]
    assert police["current_representatives"][0]["since"] == "2025-01-01"
    assert police["representatives_in_window"] == 3 and police["tenures_in_window"] == 3
    assert police["mean_tenure_days"] == pytest.approx((365 + 366 + 181) / 3)  # 304.0
    assert police["discontinued"] is True
    assert "discontinued membership" in police["continuity_reading"]
    # Represented at 10 Sep (present) and 20 May (deputy), absent 15 Jan; March 2024 is outside.
    assert (police["meetings_expected"], police["meetings_represented"]) == (3, 2)
    assert police["attendance_rate"] == pytest.approx(2 / 3) and police["low_attendance"] is False

    health = by_name["Brempton Health"]
    assert [(r["person_id"], r["role"]) for r in health["current_representatives"]] == [
        (built["h1"], "chair")
    ]
    assert health["representatives_in_window"] == 1 and health["mean_tenure_days"] == pytest.approx(365)
    assert health["discontinued"] is False
    assert (health["meetings_expected"], health["meetings_represented"]) == (3, 1)
    assert health["attendance_rate"] == pytest.approx(1 / 3) and health["low_attendance"] is True

    voices = by_name["Brempton Voices"]
    assert [(r["person_id"], r["role"]) for r in voices["current_representatives"]] == [
        (built["v1"], "adviser")
    ]
    assert voices["representatives_in_window"] == 0 and voices["mean_tenure_days"] is None
    assert voices["discontinued"] is False and voices["continuity_reading"] is None
    assert (voices["meetings_expected"], voices["attendance_rate"]) == (0, None)

    # Today's seat holders: Cal (tier 1), Dee (tier 5), Eve (tier 3).
    hierarchy = figures["hierarchy"]
    assert hierarchy["counts"] == {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1}
    assert hierarchy["total"] == 3 and hierarchy["top_and_practitioner_together"] is True
    assert hierarchy["middle_share"] == pytest.approx(1 / 3)
    assert hierarchy["reading"].startswith("Top management (1) and practitioners (1) sit on the same board")

    # Stalled means unchanged for 60 days or more: 1 March is 121 days back, 1 May exactly 60.
    momentum = figures["momentum"]
    assert momentum["open_ids"] == sorted([built["overdue"], built["stalled"], built["just_stalled"]])
    assert momentum["overdue_ids"] == [built["overdue"]]
    assert momentum["stalled_ids"] == sorted([built["stalled"], built["just_stalled"]])
    assert (momentum["open_count"], momentum["overdue_count"], momentum["stalled_count"]) == (3, 1, 2)
    assert momentum["stalled_after_days"] == 60
    assert momentum["reading"].startswith("2 of 3 open actions")
