"""Request and response shapes that only the JSON API needs: closing an action, and the overview figures.

Record bodies use the Create/Update/Public schemas of ``register.schemas``, the same ones forms use.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, Field

from reticulist.register import metrics
from reticulist.register.overview import LOW_ATTENDANCE, OrganisationRow, Overview
from reticulist.register.schemas import _choice, _Schema
from reticulist.register.vocab import ActionStatus


class ActionClose(_Schema):
    """Close an action: it was done, or it was dropped."""

    status: Annotated[str, _choice(ActionStatus)] = ActionStatus.DONE.value


class RepresentativeFigure(BaseModel):
    person_id: int
    full_name: str
    role: str
    hierarchy_tier: int
    since: date


class OrganisationFigures(BaseModel):
    """One organisation's continuity of representation and attendance."""

    organisation_id: int
    name: str
    kind: str
    tier: str = Field(description="Working Together tier")
    current_representatives: list[RepresentativeFigure] = Field(
        description="Who holds a seat for the organisation today (chair first)"
    )
    representatives_in_window: int = Field(
        description="Different people who represented it (chair or member) in the continuity window"
    )
    tenures_in_window: int
    mean_tenure_days: float | None = Field(description="Mean length of those tenures, ongoing ones to today")
    discontinued: bool = Field(description="The seat changed hands at least twice (002 Table 1 row 1)")
    continuity_reading: str | None
    meetings_expected: int = Field(description="Meetings in the attendance window it was expected at")
    meetings_represented: int = Field(description="... at which someone was present or a deputy attended")
    attendance_rate: float | None = Field(description="meetings_represented / meetings_expected")
    low_attendance: bool = Field(description=f"attendance_rate below {LOW_ATTENDANCE:.0%}")


class HierarchyFigures(BaseModel):
    """Hierarchy mix of today's seat holders, each person counted once (002 Table 1 row 8)."""

    counts: dict[int, int] = Field(description="Hierarchy tier 1-5 -> seat holders (every tier listed)")
    total: int
    top_and_practitioner_together: bool = Field(
        description="Tier 1 and tier 5 sit on the same board: the flag of 002 Table 1 row 8"
    )
    middle_share: float | None = Field(description="Share of the board in tiers 3 and 4")
    reading: str


class MomentumFigures(BaseModel):
    """Open, overdue and stalled actions (003)."""

    open_count: int
    overdue_count: int
    stalled_count: int
    stalled_after_days: int
    open_ids: list[int]
    overdue_ids: list[int]
    stalled_ids: list[int]
    reading: str


class OverviewFigures(BaseModel):
    """The figures of the partnership overview page, as of one day."""

    partnership_id: int
    name: str
    as_of: date
    continuity_window_months: int
    attendance_window_months: int
    people_count: int = Field(description="People in the partnership who have not left")
    meetings_last_12_months: int = Field(description="Meetings with attendance recorded in the window")
    organisations: list[OrganisationFigures] = Field(
        description="Organisations that have not left, statutory members first, then by name"
    )
    hierarchy: HierarchyFigures
    momentum: MomentumFigures

    @classmethod
    def from_overview(cls, overview: Overview) -> OverviewFigures:
        rows = [row for group in overview.tiers.values() for row in group]
        hierarchy, momentum = overview.hierarchy, overview.momentum
        return cls(
            partnership_id=overview.partnership_id,
            name=overview.name,
            as_of=overview.today,
            continuity_window_months=metrics.CONTINUITY_WINDOW_MONTHS,
            attendance_window_months=metrics.ATTENDANCE_WINDOW_MONTHS,
            people_count=overview.people_count,
            meetings_last_12_months=overview.meetings_last_12_months,
            organisations=[_organisation(row) for row in rows],
            hierarchy=HierarchyFigures(
                counts={tier: hierarchy.counts.get(tier, 0) for tier in range(1, 6)},
                total=hierarchy.total,
                top_and_practitioner_together=hierarchy.top_and_practitioner_together,
                middle_share=hierarchy.middle_share,
                reading=hierarchy.reading,
            ),
            momentum=MomentumFigures(
                open_count=momentum.open_count,
                overdue_count=momentum.overdue_count,
                stalled_count=momentum.stalled_count,
                stalled_after_days=momentum.stalled_after_days,
                open_ids=momentum.open_ids,
                overdue_ids=momentum.overdue_ids,
                stalled_ids=momentum.stalled_ids,
                reading=momentum.reading,
            ),
        )


def _organisation(row: OrganisationRow) -> OrganisationFigures:
    continuity, attendance = row.continuity, row.attendance
    rate = attendance.rate if attendance else None
    return OrganisationFigures(
        organisation_id=row.organisation_id,
        name=row.name,
        kind=row.kind,
        tier=row.tier,
        current_representatives=[
            RepresentativeFigure(
                person_id=r.person_id,
                full_name=r.full_name,
                role=r.role,
                hierarchy_tier=r.hierarchy_tier,
                since=r.since,
            )
            for r in row.representatives
        ],
        # No chair or member tenure in the window: nobody represented it, which is not discontinuity.
        representatives_in_window=continuity.representatives_in_window if continuity else 0,
        tenures_in_window=continuity.tenures_in_window if continuity else 0,
        mean_tenure_days=continuity.mean_tenure_days if continuity else None,
        discontinued=continuity.discontinued if continuity else False,
        continuity_reading=continuity.reading if continuity else None,
        meetings_expected=attendance.meetings_expected if attendance else 0,
        meetings_represented=attendance.meetings_represented if attendance else 0,
        attendance_rate=rate,
        low_attendance=rate is not None and rate < LOW_ATTENDANCE,
    )
