"""Pure computations behind the overview: continuity of representation, attendance, hierarchy mix and
momentum of actions. Plain records in, plain records out; no database, no web.

Each figure, and the source document it comes from, is explained in docs/figures.md. Dates become day
numbers (``date.toordinal``) in NumPy arrays so that a partnership of thousands of seats, meetings and
actions is handled in a few vectorised passes.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from reticulist.register.vocab import REPRESENTED_STATUSES, ActionStatus

CONTINUITY_WINDOW_MONTHS = 24
ATTENDANCE_WINDOW_MONTHS = 12
# Three different representatives in 24 months means the seat changed hands at least twice: the
# "discontinued membership" of 002 Table 1 row 1 (the police seat in Brempton changed hands twice).
DISCONTINUED_AT = 3
STALLED_AFTER_DAYS = 60  # 003 on momentum: an open action untouched this long has lost it
TOP_TIER, PRACTITIONER_TIER = 1, 5
MIDDLE_TIERS = (3, 4)

_OPEN = tuple(s.value for s in ActionStatus if s.is_open)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier, clamped to the month's end.

    >>> months_before(date(2024, 3, 31), 1)
    datetime.date(2024, 2, 29)
    """
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _days(values: Iterable[date | None], missing: int) -> np.ndarray:
    return np.fromiter((v.toordinal() if v else missing for v in values), dtype=np.int64)


# --- continuity of representation (002 Table 1 row 1) -------------------------------------------------
@dataclass(frozen=True)
class SeatTenure:
    organisation_id: int
    person_id: int
    role: str
    started_on: date
    ended_on: date | None


@dataclass(frozen=True)
class Continuity:
    organisation_id: int
    representatives_in_window: int  # different people holding the seat at any time in the window
    tenures_in_window: int
    mean_tenure_days: float | None  # mean length of those tenures, ongoing ones counted to today
    discontinued: bool
    window_months: int

    @property
    def reading(self) -> str:
        months = ""
        if self.mean_tenure_days is not None:
            months = f", mean tenure {self.mean_tenure_days / 30.44:.0f} months"
        verdict = (
            "discontinued membership: the seat changed hands at least twice (002 Table 1 row 1)."
            if self.discontinued
            else "continuing membership."
        )
        return (
            f"{self.representatives_in_window} different representatives in the last "
            f"{self.window_months} months{months}; {verdict}"
        )


def representation_continuity(
    tenures: Sequence[SeatTenure],
    *,
    today: date,
    roles: Sequence[str],
    window_months: int = CONTINUITY_WINDOW_MONTHS,
    discontinued_at: int = DISCONTINUED_AT,
) -> dict[int, Continuity]:
    """Per organisation: how many different people represented it in the window and for how long.

    Only tenures in ``roles`` count (an adviser attends but does not speak for the organisation); a
    tenure counts when it overlaps the window and has started by ``today``.
    """
    kept = [t for t in tenures if t.role in roles]
    if not kept:
        return {}
    start = _days((t.started_on for t in kept), 0)
    end = np.minimum(_days((t.ended_on for t in kept), today.toordinal()), today.toordinal())
    window_start = months_before(today, window_months).toordinal()
    overlaps = (start <= today.toordinal()) & (end >= window_start)
    organisation = np.fromiter((t.organisation_id for t in kept), dtype=np.int64)[overlaps]
    person = np.fromiter((t.person_id for t in kept), dtype=np.int64)[overlaps]
    length = (end - start)[overlaps] + 1  # a seat held for one day was held

    out: dict[int, Continuity] = {}
    organisations, index = np.unique(organisation, return_inverse=True)
    tenure_count = np.bincount(index, minlength=len(organisations))
    length_sum = np.bincount(index, weights=length, minlength=len(organisations))
    # Distinct (organisation, person) pairs, counted per organisation.
    pairs = np.unique(np.stack([index, person]), axis=1)
    people_count = np.bincount(pairs[0], minlength=len(organisations))
    for i, organisation_id in enumerate(organisations.tolist()):
        out[organisation_id] = Continuity(
            organisation_id=organisation_id,
            representatives_in_window=int(people_count[i]),
            tenures_in_window=int(tenure_count[i]),
            mean_tenure_days=float(length_sum[i] / tenure_count[i]),
            discontinued=bool(people_count[i] >= discontinued_at),
            window_months=window_months,
        )
    return out


# --- attendance ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AttendanceRecord:
    meeting_id: int
    held_on: date
    organisation_id: int
    status: str


@dataclass(frozen=True)
class AttendanceRate:
    organisation_id: int
    meetings_expected: int  # meetings in the window at which the organisation had someone expected
    meetings_represented: int  # ... at which someone was present, or a deputy attended
    window_months: int

    @property
    def rate(self) -> float | None:
        return self.meetings_represented / self.meetings_expected if self.meetings_expected else None


def attendance_rates(
    records: Sequence[AttendanceRecord], *, today: date, window_months: int = ATTENDANCE_WINDOW_MONTHS
) -> dict[int, AttendanceRate]:
    """Per organisation, the share of meetings in the window (after ``today`` minus the window, up to and
    including ``today``) at which it was represented. Several people from one organisation at one meeting
    count once: the question is whether the organisation was at the table."""
    if not records:
        return {}
    held = _days((r.held_on for r in records), 0)
    in_window = (held > months_before(today, window_months).toordinal()) & (held <= today.toordinal())
    meeting = np.fromiter((r.meeting_id for r in records), dtype=np.int64)[in_window]
    organisation = np.fromiter((r.organisation_id for r in records), dtype=np.int64)[in_window]
    represented = np.fromiter((r.status in REPRESENTED_STATUSES for r in records), dtype=bool)[in_window]

    expected_pairs = np.unique(np.stack([organisation, meeting]), axis=1)
    present_pairs = np.unique(np.stack([organisation[represented], meeting[represented]]), axis=1)
    organisations, expected = np.unique(expected_pairs[0], return_counts=True)
    present_orgs, present = np.unique(present_pairs[0], return_counts=True)
    present_by_org = dict(zip(present_orgs.tolist(), present.tolist(), strict=True))
    return {
        org: AttendanceRate(org, int(n), int(present_by_org.get(org, 0)), window_months)
        for org, n in zip(organisations.tolist(), expected.tolist(), strict=True)
    }


# --- hierarchy mix of the board (002 Table 1 row 8) ----------------------------------------------------
@dataclass(frozen=True)
class HierarchyMix:
    counts: dict[int, int]  # hierarchy tier (1-5) -> board members

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def top_and_practitioner_together(self) -> bool:
        return self.counts.get(TOP_TIER, 0) > 0 and self.counts.get(PRACTITIONER_TIER, 0) > 0

    @property
    def middle_share(self) -> float | None:
        return sum(self.counts.get(t, 0) for t in MIDDLE_TIERS) / self.total if self.total else None

    @property
    def reading(self) -> str:
        if not self.total:
            return "No one holds a seat on the board today."
        if self.top_and_practitioner_together:
            return (
                f"Top management ({self.counts[TOP_TIER]}) and practitioners "
                f"({self.counts[PRACTITIONER_TIER]}) sit on the same board. In Brempton, members from lower "
                "tiers deferred to those from top management and spoke less (002 Table 1 row 8); "
                "representation from middle management is the catalyst."
            )
        share = self.middle_share or 0.0
        return (
            f"No mix of top-management and practitioner tiers; {share:.0%} of the board is middle management."
        )


def hierarchy_mix(tiers: Iterable[int]) -> HierarchyMix:
    """Count board members by hierarchy tier (each person once)."""
    values = np.fromiter(tiers, dtype=np.int64)
    counts = np.bincount(values, minlength=6) if values.size else np.zeros(6, dtype=np.int64)
    return HierarchyMix({tier: int(counts[tier]) for tier in range(1, 6) if counts[tier]})


# --- momentum of actions (003) -------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionRecord:
    id: int
    status: str
    due_on: date | None
    opened_on: date
    closed_on: date | None
    last_changed_on: date


@dataclass(frozen=True)
class Momentum:
    open_ids: list[int]
    overdue_ids: list[int]  # open and past the due date
    stalled_ids: list[int]  # open and unchanged for ``stalled_after_days`` or more
    stalled_after_days: int

    @property
    def open_count(self) -> int:
        return len(self.open_ids)

    @property
    def overdue_count(self) -> int:
        return len(self.overdue_ids)

    @property
    def stalled_count(self) -> int:
        return len(self.stalled_ids)

    @property
    def reading(self) -> str:
        if not self.open_ids:
            return "No open actions."
        return (
            f"{self.stalled_count} of {self.open_count} open actions have had no change for "
            f"{self.stalled_after_days} days or more; momentum is what keeps a partnership going (003)."
        )


def action_momentum(
    actions: Sequence[ActionRecord], *, today: date, stalled_after_days: int = STALLED_AFTER_DAYS
) -> Momentum:
    """Which actions are open, overdue and stalled on ``today``."""
    if not actions:
        return Momentum([], [], [], stalled_after_days)
    ids = np.fromiter((a.id for a in actions), dtype=np.int64)
    is_open = np.fromiter((a.status in _OPEN for a in actions), dtype=bool)
    never = np.iinfo(np.int64).max
    due = _days((a.due_on for a in actions), never)
    changed = _days((a.last_changed_on for a in actions), 0)
    day = today.toordinal()
    overdue = is_open & (due < day)
    stalled = is_open & (day - changed >= stalled_after_days)
    return Momentum(
        open_ids=sorted(ids[is_open].tolist()),
        overdue_ids=sorted(ids[overdue].tolist()),
        stalled_ids=sorted(ids[stalled].tolist()),
        stalled_after_days=stalled_after_days,
    )
