"""A round's results as the dashboard, the printed report, the PDF and the exports all show them.

``round_report`` reads the round's answers (barometer.service.round_answers checks VIEW_RESULTS), scores
them with the anonymity rules of barometer.scoring, compares them with the partnership's previous round
of the same instrument, and picks the weakest constructs with what helps. Every figure here has already
been through suppression: nothing downstream needs to (or may) look at raw answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor
from reticulist.barometer import scoring
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import Construct, Instrument
from reticulist.barometer.models import BarometerRound

DIMENSION_LABELS = {
    "organisation": "Organisation",
    "profession": "Profession",
    "hierarchy_tier": "Hierarchy tier",
    "wt_tier": "Working Together tier",
}
FRAMEWORK_LABELS = {
    "002_table_1": "Obstacles and catalysts (002 Table 1)",
    "003_themes": "What makes collaboration work (003)",
    "004_collaborative_agency": "Collaborative agency (004)",
    "custom": "Other constructs",
}
WEAKEST = 3  # recommendations: at most this many constructs, weakest first


@dataclass(frozen=True)
class ConstructLine:
    """One construct's published figures next to what it is and where it comes from."""

    construct: Construct
    result: scoring.ConstructResult
    trend: scoring.ConstructTrend | None

    @property
    def key(self) -> str:
        return self.construct.key

    @property
    def reading(self) -> str:
        """Plain words on which side the partnership leans (Table 1 pairs name both sides)."""
        r, c = self.result, self.construct
        if r.suppressed or r.lean is None:
            return f"Not shown: {r.reason_words or 'too few answers'}."
        if r.lean == "catalyst":
            return f"Leans to the catalyst side{': ' + c.catalyst if c.catalyst else ''}."
        if r.lean == "obstacle":
            return f"Leans to the obstacle side{': ' + c.obstacle if c.obstacle else ''}."
        return "Balanced: neither side is clearly stronger."


@dataclass(frozen=True)
class Recommendation:
    """A weak construct and what helps: catalysts (002), recommendations (003), tools (004)."""

    line: ConstructLine
    why: str


@dataclass(frozen=True)
class RoundReport:
    partnership_id: int
    round_id: int
    round_title: str
    opens_on: date
    closes_on: date
    instrument: Instrument
    threshold: int
    respondents: int
    invited: int | None
    lines: tuple[ConstructLine, ...]  # in the instrument's order
    breakdowns: dict[str, scoring.Breakdown]
    previous_round_title: str | None
    recommendations: tuple[Recommendation, ...]

    @property
    def too_few(self) -> bool:
        """Fewer respondents than the threshold: nothing but the count may be shown."""
        return self.respondents < self.threshold

    def by_framework(self) -> dict[str, list[ConstructLine]]:
        out: dict[str, list[ConstructLine]] = {}
        for line in self.lines:
            out.setdefault(line.construct.framework, []).append(line)
        return out

    def construct_names(self) -> list[str]:
        return [line.construct.name for line in self.lines]


def _previous_round(session: Session, found: BarometerRound) -> BarometerRound | None:
    """The partnership's latest earlier round of the same instrument (any version with the same key)."""
    rounds = session.scalars(
        select(BarometerRound)
        .where(
            BarometerRound.partnership_id == found.partnership_id,
            BarometerRound.id != found.id,
            BarometerRound.opens_on < found.opens_on,
        )
        .order_by(BarometerRound.opens_on.desc())
    )
    return next((r for r in rounds if r.instrument.key == found.instrument.key), None)


def _score(answers: barometer.RoundAnswers) -> scoring.RoundResults:
    instrument = answers.instrument
    construct_keys = [c.key for c in instrument.constructs]
    index = {key: i for i, key in enumerate(construct_keys)}
    item_construct = np.array([index[item.construct_key] for item in instrument.items], dtype=np.int64)
    reverse = np.array([item.reverse for item in instrument.items], dtype=bool)
    groups = {name: (g.codes, list(g.labels)) for name, g in answers.groups.items()}
    return scoring.score_round(
        answers.answers,
        item_construct,
        reverse,
        construct_keys,
        groups,
        threshold=answers.anonymity_threshold,
    )


def weakest(lines: list[ConstructLine], limit: int = WEAKEST) -> list[Recommendation]:
    """The weakest constructs: those leaning to the obstacle side first, then the lowest means. Suppressed
    constructs are never recommended on (that would describe a small group)."""
    shown = [line for line in lines if not line.result.suppressed and line.result.mean is not None]
    ranked = sorted(shown, key=lambda line: (line.result.lean != "obstacle", line.result.mean or 0.0))
    out = []
    for line in ranked[:limit]:
        r = line.result
        if r.lean == "obstacle":
            where = "leans to the obstacle side: the whole interval is below the midpoint 3"
        elif (r.mean or 0.0) < scoring.MIDPOINT:
            where = "is below the midpoint 3"
        else:
            where = "is among the lowest in this round"
        why = f"Mean {r.mean:.2f} (95% CI {r.ci_low:.2f} to {r.ci_high:.2f}) {where}."
        out.append(Recommendation(line, why))
    return out


def round_report(session: Session, *, actor: Actor, round_id: int) -> RoundReport:
    """Everything the results pages show for one round, already suppressed for anonymity."""
    answers = barometer.round_answers(session, actor=actor, round_id=round_id)
    found = barometer.get_round(session, actor=actor, round_id=round_id)
    results = _score(answers)
    previous = _previous_round(session, found)
    trends: dict[str, scoring.ConstructTrend] = {}
    if previous is not None:
        before = _score(barometer.round_answers(session, actor=actor, round_id=previous.id))
        trends = {t.key: t for t in scoring.trend(before.constructs, results.constructs)}
    lines = [
        ConstructLine(construct, results.construct(construct.key), trends.get(construct.key))
        for construct in answers.instrument.constructs
    ]
    summary = barometer.round_summary(session, actor=actor, round_id=round_id)
    return RoundReport(
        partnership_id=found.partnership_id,
        round_id=found.id,
        round_title=found.title,
        opens_on=found.opens_on,
        closes_on=found.closes_on,
        instrument=answers.instrument,
        threshold=answers.anonymity_threshold,
        respondents=results.respondents,
        invited=summary.invitations or None,
        lines=tuple(lines),
        breakdowns=results.breakdowns,
        previous_round_title=previous.title if previous else None,
        recommendations=tuple(weakest(lines)),
    )
