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
from reticulist.errors import InputError


@dataclass(frozen=True)
class GroupLines:
    group: str
    partnerships: int  # in the group, this one included
    outside: tuple[str, ...]  # constructs where the partnership is outside the 95% limits, in words
    within: int  # constructs where it is within the limits
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
        try:
            seen = service.comparison(
                session,
                actor=actor,
                group_id=group.id,
                partnership_id=partnership_id,
                instrument=ref,
                since=until - timedelta(days=730),
                until=until,
            )
        except InputError:  # no partnership of the group released a round of this version then
            seen = service.comparison(session, actor=actor, group_id=group.id, partnership_id=partnership_id)
        instrument = seen.instrument if seen.instrument and seen.instrument.ref == ref else None
        own = seen.own
        outside = []
        within = 0
        if instrument is not None:
            for construct in seen.constructs:
                mine = [p for p in construct.funnel.points if p.point.own]
                if not mine:
                    continue
                if mine[0].outside95:
                    outside.append(funnel.words(mine[0], construct.name))
                else:
                    within += 1
        own_row = next((row for row in seen.rows if row.peer.own), None)
        rows = tuple(
            (m.label, own_row.cells[k] if own_row else "—", seen.medians[k])
            for k, m in enumerate(seen.measures)
        )
        out.append(
            GroupLines(group.name, len(seen.peers), tuple(outside), within, rows, bool(own and own.behind))
        )
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
