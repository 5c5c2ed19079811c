"""The board report's network section, "Who works with whom": the round's partnership as a network on the
round's closing date, built once here for the printable page and the PDF.

Which ties: the ties reported in this round's network section when there are any; otherwise the network
pages' default (``network.analysis.default_choice``: the last year of stored ties, else the ties worked
out from meetings and actions), as of the round's closing date. The section says which ties and which
dates it describes.

Names follow the network pages: ``network_for`` labels people by name only for VIEW_NETWORK_NAMES
(managers, admins); anyone else sees labels such as "Organisation · Profession #k" that never describe a
group smaller than the round's threshold (nor than 5). ``names=False`` gives pseudonyms
even to those who may see names (a board pack that circulates widely).

>>> section = network_section(session, actor=viewer.actor, report=report)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, Role, allowed
from reticulist.barometer import charts
from reticulist.barometer.results import RoundReport
from reticulist.network import analysis as a
from reticulist.network import map_image, metrics
from reticulist.network import ties as t
from reticulist.network.layout import network_layout
from reticulist.network.models import NetworkTie

HEADING = "Who works with whom"
SPANNERS = 5
KEY_RISKS = 5
SILOS = 6
MAP_MAX_PEOPLE = 1500  # beyond this a printed map is a blot: the tables say it instead
LAYOUT_SEED = 0  # the network map's own seed (network/map_routes.py), so both draw the same picture
LABEL_HEIGHT = 10  # the map's label boxes (map_image.network_map_chart)
SILO_EI = -0.5  # at or below: "ties stay inside: a silo" (network.analysis)

SILO_WORDS = (
    "The E-I index is (ties out - ties inside) / all their ties: -1 when every tie stays inside, +1 when "
    "every tie reaches out."
)
KEY_RISK_WORDS = (
    "What falls apart if one person leaves: the pairs of other people in different organisations who can "
    "reach each other now and could not without them, and the organisations that would lose their only "
    "path to another."
)
SPANNERS_SOURCE = (
    'Boundary spanners "need to be positively identified, recruited, supported and developed" (003, '
    "recommendation 5): these are the people who link the partnership's organisations now."
)
KEY_PEOPLE_SOURCE = (
    'Collaboration "is often dependent on relationships between key individuals (who move on ...)" (001), '
    "and 002 found effective work halted when a resourceful representative was replaced (Table 1, row 1: "
    "discontinued membership of the board): plan for these people's absence before it happens."
)


def _day(value: date) -> str:
    return value.strftime("%-d %B %Y")


@dataclass(frozen=True)
class SpannerLine:
    rank: int
    who: str  # the name, or "Organisation · Profession #k"
    where: str  # "Organisation · Profession" (with names only: a pseudonym already says it)
    reasons: list[str]  # plain words: organisations, then professions


@dataclass(frozen=True)
class SiloLine:
    organisation: str
    people: int
    inside: int
    outside: int
    ei: str  # "-0.82"
    reading: str


@dataclass(frozen=True)
class KeyRiskLine:
    who: str
    where: str
    cut_pairs: int
    lost: list[str]  # which organisations would lose their only path, in words


@dataclass(frozen=True)
class TrustLine:
    organisation: str
    trust: str
    value: str
    rated_ties: int


@dataclass(frozen=True)
class NetworkSection:
    """Everything the section shows. ``empty`` is the one sentence said when there are no ties at all."""

    ties_words: str
    names_shown: bool
    empty: str = ""
    figures_words: str = ""
    chart: charts.Chart | None = None
    map_note: str = ""
    spanners: list[SpannerLine] = field(default_factory=list)
    silos: list[SiloLine] = field(default_factory=list)
    silos_note: str = ""
    key_risks: list[KeyRiskLine] = field(default_factory=list)
    key_risks_more: int = 0
    trust: list[TrustLine] = field(default_factory=list)
    trust_words: str = ""
    spanners_source: str = SPANNERS_SOURCE
    silo_words: str = SILO_WORDS
    key_risk_words: str = KEY_RISK_WORDS
    key_people_source: str = KEY_PEOPLE_SOURCE

    @property
    def heading(self) -> str:
        return HEADING


# Each source of ties as a phrase: "... from ties reported in barometer rounds and ties imported ...".
SOURCE_WORDS = {
    t.REPORTED: "ties reported in barometer rounds' network sections",
    t.IMPORTED: "ties imported from spreadsheets",
    t.CO_ATTENDANCE: "co-attendance at meetings",
    t.SHARED_ACTIONS: "actions raised at the same meeting",
}


def _sources_words(sources: dict[str, float]) -> str:
    words = [SOURCE_WORDS.get(name, a.SOURCE_LABELS.get(name, name).lower()) for name in sources]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _round_ties(session: Session, round_id: int) -> int:
    return (
        session.scalar(
            select(func.count(NetworkTie.id)).where(
                NetworkTie.round_id == round_id,
                NetworkTie.source == t.REPORTED,
                NetworkTie.to_person_id.is_not(None),
            )
        )
        or 0
    )


def _other_rounds_ties(session: Session, report: RoundReport, since: date, as_of: date) -> int:
    """Ties reported in another round's network section over the same dates (rounds that overlap)."""
    return (
        session.scalar(
            select(func.count(NetworkTie.id)).where(
                NetworkTie.partnership_id == report.partnership_id,
                NetworkTie.source == t.REPORTED,
                NetworkTie.to_person_id.is_not(None),
                NetworkTie.round_id.is_distinct_from(report.round_id),
                NetworkTie.observed_on >= since,
                NetworkTie.observed_on <= as_of,
            )
        )
        or 0
    )


def _view(session: Session, actor: Actor, report: RoundReport, today: date) -> tuple[a.NetworkView, str]:
    """The network the section describes, and the sentence saying which ties over which dates: this
    round's reported ties; else the network pages' default as of the closing date; else, when that
    default (stored ties) has none in its year, the ties worked out from meetings and actions."""
    pid = report.partnership_id
    as_of = min(report.closes_on, today)

    def view(choice: a.NetworkChoice) -> a.NetworkView:
        # Labels never describe fewer people than the round's own threshold (nor than the network's).
        return a.network_view(
            session,
            actor=actor,
            partnership_id=pid,
            choice=choice,
            spanners=SPANNERS,
            label_threshold=report.threshold,
        )

    if _round_ties(session, report.round_id):
        since = min(report.opens_on, as_of)
        words = (
            f"Ties reported in this round's network section, {_day(since)} to {_day(as_of)}: who each "
            "respondent said they work with."
        )
        others = _other_rounds_ties(session, report, since, as_of)
        if others:
            words += f" They include {others} ties reported in another round over the same dates."
        return view(a.NetworkChoice(sources={t.REPORTED: 1.0}, since=since, as_of=as_of)), words
    choice = a.default_choice(session, actor=actor, partnership_id=pid, today=as_of)
    found = view(choice)
    observed = {name: 1.0 for name in (t.CO_ATTENDANCE, t.SHARED_ACTIONS)}
    if found.analysis.whole.ties == 0 and set(choice.sources) != set(observed):
        choice = replace(choice, sources=observed)
        found = view(choice)
    since = choice.since or as_of
    words = (
        "No ties were reported in this round's network section, so this section describes the "
        f"partnership's network over the year {_day(since)} to {_day(as_of)}, from "
        f"{_sources_words(choice.sources)}."
    )
    return found, words


def _where(person: a.PersonFigures, names_shown: bool) -> str:
    return f"{person.organisation} · {person.profession}" if names_shown else ""


def _map(view: a.NetworkView) -> tuple[charts.Chart | None, str]:
    net = view.network
    if net.n_people > MAP_MAX_PEOPLE:
        return None, (
            f"The network has {net.n_people:,} people: too many to draw readably on a page. The tables "
            "below and the network pages say who links whom."
        )
    edges = t.symmetrise(net.edges, net.n_people)
    positions = network_layout(net.n_people, edges.source, edges.target, edges.weight, seed=LAYOUT_SEED)
    ranked = metrics.rank_boundary_spanners(view.analysis, net.organisation_labels, limit=None)
    chart = map_image.network_map_chart(
        net, view.analysis, positions, colour_by="organisation", spanners=ranked, labels=SPANNERS
    )
    # The report lists only the strongest: every person's figures are on the network pages.
    chart.description = chart.description.replace("The network tables give", "The network pages give")
    chart.description = chart.description.replace("Labelled: the", "Labelled with their rank below: the")
    named = [s for s in ranked[:SPANNERS] if s.score > 0]
    _number_labels(chart, [f"{s.rank}. {_short(net.labels[s.person], net.names_shown)}" for s in named])
    _separate_labels(chart)
    return chart, ""


def _short(label: str, names_shown: bool) -> str:
    """A name, or a pseudonym without its organisation (the dot's colour says it): "Nurse #2"."""
    return label if names_shown else label.split(" · ", 1)[-1]


def _label_pairs(chart: charts.Chart) -> list[int]:
    """Where the spanners' labels are: each is the map's small outlined box followed by the bold text on
    it (network_map_chart), in the order of the ranking."""
    shapes = chart.shapes
    return [
        i
        for i in range(len(shapes) - 1)
        if isinstance(shapes[i], charts.Rect)
        and shapes[i].stroke is not None  # type: ignore[union-attr]
        and shapes[i].h == LABEL_HEIGHT  # type: ignore[union-attr]
        and isinstance(shapes[i + 1], charts.Text)
        and shapes[i + 1].bold  # type: ignore[union-attr]
    ]


def _number_labels(chart: charts.Chart, texts: list[str]) -> None:
    """Label each spanner with their rank in the table and a short label: a long pseudonym cut short on
    the map would lose the "#k" that tells people of one profession apart."""
    shapes = chart.shapes
    for i, words in zip(_label_pairs(chart), texts, strict=False):
        box, text = shapes[i], shapes[i + 1]
        assert isinstance(box, charts.Rect) and isinstance(text, charts.Text)
        width = charts.text_width(words, text.size)
        left = text.x - width - 2 if text.anchor == "end" else text.x - 2
        shapes[i], shapes[i + 1] = replace(box, x=left, w=width + 4), replace(text, text=words)


def _separate_labels(chart: charts.Chart) -> None:
    """Move the spanners' labels apart where they would overlap (close spanners in a dense map), each by
    the smallest step up or down, with a thin line back to where it belonged."""
    shapes = chart.shapes
    pairs = _label_pairs(chart)
    placed: list[charts.Rect] = []
    leaders: list[tuple[int, charts.Line]] = []
    for i in pairs:
        box, text = shapes[i], shapes[i + 1]
        assert isinstance(box, charts.Rect) and isinstance(text, charts.Text)

        def clashes(y: float, box: charts.Rect = box) -> bool:
            return any(
                box.x < p.x + p.w and p.x < box.x + box.w and y < p.y + p.h + 1 and p.y < y + box.h + 1
                for p in placed
            )

        # Nearest free place first: 0, down 6, up 6, down 12, ... (half a label and a point at a time).
        offsets = [0.0] + [sign * k * (LABEL_HEIGHT / 2 + 1) for k in range(1, 30) for sign in (1, -1)]
        shift = next((dy for dy in offsets if not clashes(box.y + dy)), 0.0)
        moved = replace(box, y=box.y + shift)
        placed.append(moved)
        if shift:
            shapes[i], shapes[i + 1] = moved, replace(text, y=text.y + shift)
            edge = text.x + (1 if text.anchor == "end" else -1)
            leaders.append((i, charts.Line(edge, text.y - 1, edge, text.y + shift - 4, charts.MUTED, 0.5)))
    for i, line in reversed(leaders):
        shapes.insert(i, line)  # under its box


def _figures_words(view: a.NetworkView) -> str:
    w = view.analysis.whole
    words = f"{w.people} {'person' if w.people == 1 else 'people'}"
    if w.isolated:
        words += f" ({w.isolated} with no ties here)"
    pairs = len(t.symmetrise(view.network.edges, view.network.n_people))
    words += f" and {pairs} {'tie' if pairs == 1 else 'ties'} between them"
    if w.directed and w.ties != pairs:
        words += f" ({w.ties} named in all: some pairs named each other)"
    crossing = w.organisations.crossing_share
    if crossing is not None:
        words += f"; {crossing * 100:.0f}% of ties link people of different organisations"
    return words + "."


def _silos(view: a.NetworkView) -> tuple[list[SiloLine], str]:
    inward = [row for row in view.silos if row.ei is not None and row.ei < 0]
    lines = [
        SiloLine(row.organisation, row.people, row.inside, row.outside, f"{row.ei:+.2f}", row.reading)
        for row in inward[:SILOS]
        if row.ei is not None
    ]
    if not lines:
        return [], "No organisation has more ties inside than out: every organisation's people reach out."
    silos = sum(1 for row in inward if row.ei is not None and row.ei <= SILO_EI)
    note = (
        f"{silos} {'organisation keeps its' if silos == 1 else 'organisations keep their'} ties inside (E-I "
        f"index {SILO_EI:+.1f} or below)"
        if silos
        else "No organisation keeps its ties inside (E-I index -0.5 or below)"
    )
    if len(inward) > SILOS:
        note += f"; the {SILOS} most inward of {len(inward)} with more ties inside than out are listed"
    return lines, note + "."


def network_section(
    session: Session, *, actor: Actor, report: RoundReport, names: bool = True, today: date | None = None
) -> NetworkSection | None:
    """The section for ``report``'s partnership, as ``actor`` may see it; None when the actor may not see
    the network. ``names=False`` labels people by organisation and profession even for those who may see
    names. ``today`` (default: today) caps the closing date of a round still open."""
    pid = report.partnership_id
    if not allowed(actor, Can.VIEW_NETWORK, pid):
        return None
    if not names:
        # Seen as a member sees it: the network service then gives pseudonyms, never names.
        actor = replace(actor, is_site_admin=False, roles={pid: Role.MEMBER})
    view, ties_words = _view(session, actor, report, today or date.today())
    shown = view.names_shown
    if view.analysis.whole.ties == 0:
        choice = view.choice
        return NetworkSection(
            ties_words=ties_words,
            names_shown=shown,
            empty=(
                f"No ties between people were reported, imported or recorded at meetings from "
                f"{_day(choice.since or choice.as_of)} to {_day(choice.as_of)}, so there is no network to "
                "describe for this round."
            ),
        )
    chart, map_note = _map(view)
    silos, silos_note = _silos(view)
    trust = [
        TrustLine(
            row.organisation,
            "-" if row.trust is None else f"{row.trust:.2f}",
            "-" if row.value is None else f"{row.value:.2f}",
            row.rated_ties,
        )
        for row in view.trust
    ]
    directed = view.analysis.whole.directed
    return NetworkSection(
        ties_words=ties_words,
        names_shown=shown,
        figures_words=_figures_words(view),
        chart=chart,
        map_note=map_note,
        spanners=[
            SpannerLine(
                s.rank,
                s.person.label,
                _where(s.person, shown),
                [r for r in (s.reason, s.profession_reason) if r],
            )
            for s in view.spanners[:SPANNERS]
        ],
        silos=silos,
        silos_note=silos_note,
        key_risks=[
            KeyRiskLine(r.person.label, _where(r.person, shown), r.cut_pairs, r.summary)
            for r in view.key_risks[:KEY_RISKS]
        ],
        key_risks_more=max(len(view.key_risks) - KEY_RISKS, 0),
        trust=trust,
        trust_words=(
            "The mean of the ratings on ties "
            + ("reported by each organisation's people" if directed else "touching each organisation")
            + ": trust (reliable, shares the mission, open) and value (influence, involvement, resources), "
            "each 1 (low) to 4 (high). Lowest trust first."
        )
        if trust
        else "",
    )


__all__ = ["HEADING", "KEY_RISK_WORDS", "SILO_WORDS", "NetworkSection", "network_section"]
