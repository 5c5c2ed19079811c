"""The overview's pure computations on hand-worked examples (no database)."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from reticulist.register import metrics as m

TODAY = date(2025, 12, 31)
MEMBER = ("chair", "member")


def test_months_before_clamps_to_the_end_of_the_month() -> None:
    assert m.months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert m.months_before(date(2025, 12, 31), 24) == date(2023, 12, 31)
    assert m.months_before(date(2025, 1, 15), 13) == date(2023, 12, 15)


def test_police_seat_changing_hands_twice_is_discontinued() -> None:
    # Police: three representatives in two years (the Brempton story); health: one for six years.
    tenures = [
        m.SeatTenure(1, 10, "member", date(2024, 1, 1), date(2024, 6, 30)),  # 182 days
        m.SeatTenure(1, 11, "member", date(2024, 7, 1), date(2025, 3, 31)),  # 274 days
        m.SeatTenure(1, 12, "member", date(2025, 4, 1), None),  # to today: 275 days
        m.SeatTenure(2, 20, "member", date(2020, 1, 1), None),
        m.SeatTenure(2, 21, "deputy", date(2024, 1, 1), None),  # deputies stand in; not counted
    ]
    result = m.representation_continuity(tenures, today=TODAY, roles=MEMBER)
    police, health = result[1], result[2]
    assert police.representatives_in_window == 3
    assert police.mean_tenure_days == (182 + 274 + 275) / 3
    assert police.discontinued
    assert "discontinued membership" in police.reading and "002 Table 1 row 1" in police.reading
    assert health.representatives_in_window == 1
    assert health.mean_tenure_days == (TODAY - date(2020, 1, 1)).days + 1
    assert not health.discontinued


def test_continuity_window_leaves_out_old_tenures_and_future_ones() -> None:
    tenures = [
        m.SeatTenure(1, 1, "member", date(2019, 1, 1), date(2023, 12, 30)),  # ended before the window
        m.SeatTenure(1, 2, "member", date(2023, 12, 31), date(2025, 12, 31)),
        m.SeatTenure(1, 3, "member", date(2026, 1, 1), None),  # starts tomorrow
    ]
    result = m.representation_continuity(tenures, today=TODAY, roles=MEMBER)
    assert result[1].representatives_in_window == 1
    assert result[1].tenures_in_window == 1


def test_one_person_holding_two_successive_tenures_counts_once() -> None:
    tenures = [
        m.SeatTenure(1, 1, "member", date(2024, 1, 1), date(2024, 12, 31)),
        m.SeatTenure(1, 1, "chair", date(2025, 1, 1), None),
    ]
    result = m.representation_continuity(tenures, today=TODAY, roles=MEMBER)[1]
    assert (result.representatives_in_window, result.tenures_in_window) == (1, 2)
    assert m.representation_continuity([], today=TODAY, roles=MEMBER) == {}


def test_attendance_counts_meetings_at_which_the_organisation_was_represented() -> None:
    records = [
        # Meeting 1: police present twice (two people), health apologies.
        m.AttendanceRecord(1, date(2025, 2, 1), 1, "present"),
        m.AttendanceRecord(1, date(2025, 2, 1), 1, "present"),
        m.AttendanceRecord(1, date(2025, 2, 1), 2, "apologies"),
        # Meeting 2: police absent, health sent a deputy.
        m.AttendanceRecord(2, date(2025, 4, 1), 1, "absent"),
        m.AttendanceRecord(2, date(2025, 4, 1), 2, "deputy_attended"),
        # Meeting 3: police apologies, only police expected.
        m.AttendanceRecord(3, date(2025, 6, 1), 1, "apologies"),
        # Outside the window (on the boundary day, which is excluded) and in the future.
        m.AttendanceRecord(4, date(2024, 12, 31), 1, "present"),
        m.AttendanceRecord(5, date(2026, 1, 5), 2, "present"),
    ]
    rates = m.attendance_rates(records, today=TODAY)
    assert (rates[1].meetings_represented, rates[1].meetings_expected) == (1, 3)
    assert rates[1].rate == 1 / 3
    assert (rates[2].meetings_represented, rates[2].meetings_expected) == (1, 2)
    assert m.attendance_rates([], today=TODAY) == {}


def test_hierarchy_mix_flags_top_and_practitioner_on_one_board() -> None:
    mixed = m.hierarchy_mix([1, 1, 2, 3, 3, 4, 5])
    assert mixed.counts == {1: 2, 2: 1, 3: 2, 4: 1, 5: 1}
    assert mixed.top_and_practitioner_together
    assert "002 Table 1 row 8" in mixed.reading
    middle = m.hierarchy_mix([2, 3, 3, 4])
    assert not middle.top_and_practitioner_together
    assert middle.middle_share == 0.75 and "75%" in middle.reading
    assert m.hierarchy_mix([]).reading == "No one holds a seat on the board today."


def test_momentum_open_overdue_and_stalled() -> None:
    actions = [
        m.ActionRecord(1, "open", date(2025, 12, 1), date(2025, 1, 1), None, date(2025, 12, 30)),  # overdue
        m.ActionRecord(2, "in_progress", None, date(2025, 1, 1), None, date(2025, 11, 1)),  # stalled: 60 d
        m.ActionRecord(3, "open", date(2026, 3, 1), date(2025, 1, 1), None, date(2025, 11, 2)),  # 59 days
        m.ActionRecord(4, "done", date(2025, 2, 1), date(2025, 1, 1), date(2025, 3, 1), date(2025, 3, 1)),
        m.ActionRecord(5, "dropped", None, date(2025, 1, 1), date(2025, 2, 1), date(2025, 2, 1)),
    ]
    result = m.action_momentum(actions, today=TODAY)
    assert result.open_ids == [1, 2, 3]
    assert result.overdue_ids == [1]
    assert result.stalled_ids == [2]
    assert "1 of 3 open actions" in result.reading
    assert m.action_momentum([], today=TODAY).reading == "No open actions."


@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.integers(1, 6), st.dates(date(2020, 1, 1), date(2027, 1, 1))),
        max_size=30,
    )
)
def test_continuity_never_counts_more_people_than_tenures(rows: list[tuple[int, int, date]]) -> None:
    tenures = [m.SeatTenure(org, person, "member", start, None) for org, person, start in rows]
    for result in m.representation_continuity(tenures, today=TODAY, roles=MEMBER).values():
        assert 1 <= result.representatives_in_window <= result.tenures_in_window
        assert result.mean_tenure_days is not None and result.mean_tenure_days >= 1
