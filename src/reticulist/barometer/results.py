"""A round's results as the dashboard, the printed report, the PDF and the exports all show them.

Results are released once, by a manager, after the round has closed (``release_results``): the answers
are scored with the anonymity rules of barometer.scoring (breakdowns protected jointly by
reticulist.disclosure) and the published figures are stored as they are (``BarometerRelease``). While a
round is open, or closed but not released, only its response count is shown anywhere: results read
before and after one response would give that response away. ``round_report`` reads the release (never
the answers), compares it with the partnership's previous released round of the same instrument, and
picks the weakest constructs with what helps. Nothing downstream needs to (or may) look at raw answers.

A round that ever had an open link publishes no breakdowns: anyone can send answers through it, so a
hidden group of one could be lifted over the threshold with planted answers. Its whole-round construct
figures are released with differential privacy (barometer.private), whose protection holds whatever
the other answers are, planted or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.audit import service as audit
from reticulist.barometer import private, scoring
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import Construct, Instrument
from reticulist.barometer.models import BarometerRelease, BarometerRound
from reticulist.db.unique import add_unless_taken
from reticulist.errors import InputError

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
        noise = (
            f" (n is approximate; the interval includes privacy noise of plus or minus {r.noise:.2f})"
            if r.noise is not None
            else ""
        )
        if r.lean == "catalyst":
            return f"Leans to the catalyst side{': ' + c.catalyst if c.catalyst else ''}.{noise}"
        if r.lean == "obstacle":
            return f"Leans to the obstacle side{': ' + c.obstacle if c.obstacle else ''}.{noise}"
        return f"Balanced: neither side is clearly stronger.{noise}"


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
    released_on: date | None = None
    cost: scoring.ProtectionCost | None = None
    open_link: bool = False  # breakdowns withheld: the round had an open link

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


class NotReleased(Exception):
    """The round's results have not been released: only its response count may be shown."""

    def __init__(self, found: BarometerRound, status: str, responses: int) -> None:
        self.round = found
        self.status = status
        self.responses = responses
        if status == "closed":
            message = (
                f"The results of {found.title} have not been released yet ({responses} responses). "
                "A manager releases them from the round's page."
            )
        else:
            message = (
                f"{found.title} is {status}: results are released once it has closed "
                f"({responses} responses so far). Figures read while answers arrive would give answers away."
            )
        super().__init__(message)


def publishes_breakdowns(open_link: bool) -> bool:
    """Whether a round's results may be broken down by group. Not when the round ever had an open link:
    anyone could have planted answers to lift a small group over the threshold, and the planted answers
    are known to whoever planted them, so they can be subtracted again."""
    return not open_link


# Open-link rounds: the privacy budget per construct (count and sum together). 0.5 keeps each figure's
# privacy loss moderate while a round of about 100 answers still gets means within about 0.3 of noise
# (docs/barometer.md has the table); a round's budget is this times its number of constructs.
OPEN_LINK_EPSILON_PER_CONSTRUCT = 0.5


def _private_results(answers: barometer.RoundAnswers) -> scoring.RoundResults:
    """The whole-round figures of an open-link round, with differential privacy; nothing else (no sd,
    alpha or don't-know share, which would each need a share of the budget)."""
    instrument = answers.instrument
    keys = [c.key for c in instrument.constructs]
    index = {key: i for i, key in enumerate(keys)}
    item_construct = np.array([index[item.construct_key] for item in instrument.items], dtype=np.int64)
    reverse = np.array([item.reverse for item in instrument.items], dtype=bool)
    released = private.release_round(
        answers.answers, item_construct, reverse, keys, epsilon=OPEN_LINK_EPSILON_PER_CONSTRUCT * len(keys)
    )
    items = np.bincount(item_construct, minlength=len(keys))
    constructs = tuple(
        scoring.ConstructResult(
            key=c.key,
            items=int(items[i]),
            n=c.n,
            mean=c.mean,
            sd=None,
            ci_low=c.ci_low,
            ci_high=c.ci_high,
            dont_know_share=None,
            alpha=None,
            alpha_n=None,
            alpha_flag=False,
            lean=c.lean,
            suppressed=c.mean is None,
            reason=scoring.TOO_NOISY if c.mean is None else None,
            noise=c.noise_half_width,
        )
        for i, c in enumerate(released.constructs)
    )
    respondents = int(answers.answers.shape[0])
    return scoring.RoundResults(respondents, answers.anonymity_threshold, constructs)


def _release_of(session: Session, round_id: int) -> BarometerRelease | None:
    return session.scalar(select(BarometerRelease).where(BarometerRelease.round_id == round_id))


def _previous_round(session: Session, found: BarometerRound) -> BarometerRound | None:
    """The partnership's latest earlier released round of the same instrument (any version, same key)."""
    rounds = session.scalars(
        select(BarometerRound)
        .join(BarometerRelease, BarometerRelease.round_id == BarometerRound.id)
        .where(
            BarometerRound.partnership_id == found.partnership_id,
            BarometerRound.id != found.id,
            BarometerRound.opens_on < found.opens_on,
        )
        .order_by(BarometerRound.opens_on.desc())
    )
    return next((r for r in rounds if r.instrument.key == found.instrument.key), None)


def _score(answers: barometer.RoundAnswers, *, breakdowns: bool = True) -> scoring.RoundResults:
    instrument = answers.instrument
    construct_keys = [c.key for c in instrument.constructs]
    index = {key: i for i, key in enumerate(construct_keys)}
    item_construct = np.array([index[item.construct_key] for item in instrument.items], dtype=np.int64)
    reverse = np.array([item.reverse for item in instrument.items], dtype=bool)
    groups = {name: (g.codes, list(g.labels)) for name, g in answers.groups.items()} if breakdowns else {}
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


def release_results(session: Session, *, actor: Actor, round_id: int) -> BarometerRelease:
    """Score a closed round and store its published figures, once. After this the round takes no more
    answers (imports included): a second release of the same people could be differenced."""
    found = barometer.get_round(session, actor=actor, round_id=round_id)
    ensure_allowed(actor, Can.RUN_BAROMETER, found.partnership_id)
    status = found.status(barometer.today())
    if status != "closed":
        raise InputError(
            f"{found.title} is {status}: results are released once the round has closed "
            "(close it early from its page if everyone has answered)",
            field="round",
        )
    existing = _release_of(session, found.id)
    if existing is not None:
        raise InputError(
            f"the results of {found.title} were released on {existing.released_on.isoformat()}", field="round"
        )
    answers = barometer.round_answers(session, actor=actor, round_id=found.id)
    breakdowns = publishes_breakdowns(found.had_open_link)
    published = _score(answers) if breakdowns else _private_results(answers)
    release = BarometerRelease(
        round_id=found.id,
        released_on=barometer.today(),
        respondents=published.respondents,
        results=scoring.results_to_json(published),
    )
    if not add_unless_taken(session, release, "ix_barometer_release_round_id"):
        # Another manager released it a moment ago: the unique round_id says so.
        raise InputError(f"the results of {found.title} have just been released", field="round")
    cost = published.cost
    hidden = (
        f"; {cost.small_groups + cost.groups_hidden_to_protect} groups and "
        f"{cost.small_cells + cost.cells_hidden_to_protect} single figures hidden for anonymity"
        if cost
        else ""
    )
    audit.record(
        session,
        actor=actor,
        event="released",
        record_type="barometer_round",
        record_id=found.id,
        partnership_id=found.partnership_id,
        summary=(
            f"Results of barometer round {found.title} released ({published.respondents} responses{hidden})"
        ),
    )
    return release


@dataclass(frozen=True)
class ReleaseSummary:
    released_on: date
    respondents: int


def release_summary(session: Session, *, actor: Actor, round_id: int) -> ReleaseSummary | None:
    """When a round's results were released and on how many responses; None before."""
    barometer.get_round(session, actor=actor, round_id=round_id)  # checks VIEW_RESULTS
    release = _release_of(session, round_id)
    return ReleaseSummary(release.released_on, release.respondents) if release else None


def round_report(session: Session, *, actor: Actor, round_id: int) -> RoundReport:
    """Everything the results pages show for one released round, as published. Raises NotReleased for a
    round whose results have not been released (only its response count may be shown)."""
    found = barometer.get_round(session, actor=actor, round_id=round_id)
    release = _release_of(session, found.id)
    summary = barometer.round_summary(session, actor=actor, round_id=round_id)
    if release is None:
        raise NotReleased(found, summary.status, summary.responses)
    results = scoring.results_from_json(release.results)
    instrument = barometer.instrument_of(found.instrument)
    previous = _previous_round(session, found)
    trends: dict[str, scoring.ConstructTrend] = {}
    if previous is not None:
        earlier = _release_of(session, previous.id)
        assert earlier is not None  # _previous_round picks released rounds only
        before = scoring.results_from_json(earlier.results)
        trends = {t.key: t for t in scoring.trend(before.constructs, results.constructs)}
    lines = [
        ConstructLine(construct, results.construct(construct.key), trends.get(construct.key))
        for construct in instrument.constructs
    ]
    return RoundReport(
        partnership_id=found.partnership_id,
        round_id=found.id,
        round_title=found.title,
        opens_on=found.opens_on,
        closes_on=found.closes_on,
        instrument=instrument,
        threshold=results.threshold,
        respondents=results.respondents,
        invited=summary.invitations or None,
        lines=tuple(lines),
        breakdowns=results.breakdowns,
        previous_round_title=previous.title if previous else None,
        recommendations=tuple(weakest(lines)),
        released_on=release.released_on,
        cost=results.cost,
        open_link=not publishes_breakdowns(found.had_open_link),
    )
