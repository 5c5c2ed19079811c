"""The board report's comparison section: where the partnership stands in each comparison group it is in,
for readers who may see its comparison (managers, admins). Built once here for the page and the PDF.

For the report's round: each group's partnerships' latest released rounds of the same instrument version
that closed in the 24 months up to this round's close, so the board reads its round against its peers'
of the same time; and the register and network figures against the group's median.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, allowed
from reticulist.barometer.results import RoundReport
from reticulist.comparison import funnel, service


@dataclass(frozen=True)
class GroupLines:
    group: str
    partnerships: int  # in the group, this one included
    words: tuple[str, ...]  # where the partnership stands on the constructs, outside the limits first
    rows: tuple[tuple[str, str, str], ...]  # (figure, this partnership, the group's median)
    behind: bool  # the partnership's stored figures are behind its data


@dataclass(frozen=True)
class ComparisonSection:
    heading: str
    groups: tuple[GroupLines, ...]
    note: str


def comparison_section(
    session: Session, *, actor: Actor, partnership_id: int, report: RoundReport
) -> ComparisonSection | None:
    """None when the reader may not see the partnership's comparison or it is in no group."""
    if not allowed(actor, Can.VIEW_COMPARISON, partnership_id):
        return None
    groups = service.partnership_groups(session, actor=actor, partnership_id=partnership_id)
    if not groups:
        return None
    ref = f"{report.instrument.key}@{report.instrument.version}"
    until = report.closes_on
    out = []
    for group in groups:
        # The group's rounds of this round's instrument version in the two years to its close (none: no
        # funnel plots, and the section says so).
        seen = service.comparison(
            session,
            actor=actor,
            group_id=group.id,
            partnership_id=partnership_id,
            instrument=ref,
            since=until - timedelta(days=730),
            until=until,
        )
        instrument = seen.instrument
        own = seen.own
        mine = (
            [(c.name, p) for c in seen.constructs for p in c.funnel.points if p.point.own]
            if instrument is not None
            else []
        )
        words = tuple(funnel.grouped_words(own.label, mine)) if own and mine else ()
        own_row = next((row for row in seen.rows if row.peer.own), None)
        rows = tuple(
            (m.label, own_row.cells[k] if own_row else "—", seen.medians[k])
            for k, m in enumerate(seen.measures)
        )
        out.append(GroupLines(group.name, len(seen.peers), words, rows, bool(own and own.behind)))
    return ComparisonSection(
        heading="Against other partnerships",
        groups=tuple(out),
        note=(
            "Each construct is set against the group's partnerships' latest rounds of the same instrument in "
            "the two years to this round's close, with 95% control limits that widen for fewer respondents. "
            "Only figures of whole partnerships are compared, none from fewer people than the group's "
            "anonymity threshold; the other partnerships are not named."
        ),
    )
