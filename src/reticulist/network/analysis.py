"""The network pages' service: a partnership's network (``service.network_for``) run through the metrics
(``metrics.analyse_network``, ``rank_boundary_spanners``, ``compare_networks``) and put in the users' words.

Who sees names is decided once, by ``network_for``: with VIEW_NETWORK_NAMES people carry their names and
register ids; otherwise they are "Organisation · Profession #k" and carry only an opaque key (their
position in the network shown, ``n12``), never a register id. Every view here passes that on unchanged,
so no page, export or table built from it can show a name to someone who may not see names.

Settings (sources and weights, dates, minimum tie strength) come in as text from a form or the command
line and are checked by ``parse_choice``: every bad value is named by its field and nothing is computed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.errors import FieldProblem, InputError
from reticulist.network import metrics as m
from reticulist.network import service as network
from reticulist.network import ties as t
from reticulist.network.models import NetworkTie
from reticulist.register.schemas import check_date_range, record_id_or_none

SOURCE_LABELS: dict[str, str] = {
    t.REPORTED: "Reported (barometer network section)",
    t.IMPORTED: "Imported (spreadsheet)",
    t.CO_ATTENDANCE: "Co-attendance at meetings",
    t.SHARED_ACTIONS: "Shared actions",
}
ROLE_LABELS: dict[str, str] = {
    "coordinator": "Coordinator (within one group)",
    "gatekeeper": "Gatekeeper (lets an outsider into their group)",
    "representative": "Representative (speaks for their group outward)",
    # Undirected ties (mixed or observed sources) cannot tell the two apart: one pair, one role.
    m.REPRESENTATIVE_GATEKEEPER: "Representative/gatekeeper (links someone of their group with an outsider)",
    "itinerant": "Itinerant (an outsider linking two members of one group)",
    "liaison": "Liaison (links two other groups)",
}
DEFAULT_WINDOW_DAYS = 365  # "who works with whom now": the last year of ties, unless the user widens it
SPANNERS_SHOWN = 20
KEY_RISKS_SHOWN = 20
TIES_SHOWN_ON_CHANGE = 60
_KEY = re.compile(r"^n(\d{1,7})$")


# --- the user's choice of sources, weights and dates ----------------------------------------------------
@dataclass(frozen=True)
class NetworkChoice:
    """Which ties make the network: sources with their multipliers, the window [since, as_of] and the
    minimum combined tie strength."""

    sources: dict[str, float]
    since: date | None
    as_of: date
    min_weight: float = 0.0

    def query(self, dates: bool = True) -> str:
        """The same choice as a query string, so links between pages (and to the map) keep it. The
        parameters are the map's: ``sources=a,b``, ``w_<source>`` where not 1, ``min_weight``, ``since``,
        ``as_of``; ``dates=False`` leaves the dates out (the change page has its own)."""
        pairs = [("sources", ",".join(self.sources))]
        pairs += [(f"w_{name}", f"{value:g}") for name, value in self.sources.items() if value != 1]
        if self.min_weight:
            pairs.append(("min_weight", f"{self.min_weight:g}"))
        if dates and self.since:
            pairs.append(("since", self.since.isoformat()))
        if dates:
            pairs.append(("as_of", self.as_of.isoformat()))
        return urlencode(pairs)

    def form_values(self) -> dict[str, str]:
        values = {
            "since": self.since.isoformat() if self.since else "",
            "as_of": self.as_of.isoformat(),
            "min_weight": f"{self.min_weight:g}" if self.min_weight else "",
        }
        for name in network.known_sources():
            values[f"use_{name}"] = "yes" if name in self.sources else ""
            values[f"w_{name}"] = f"{self.sources.get(name, 1.0):g}"
        return values


def parse_date(text: str, field_name: str) -> date | None:
    """A date as YYYY-MM-DD (what a browser's date field sends) or DD/MM/YYYY; blank is None.

    >>> parse_date("2026-03-31", "as_of"), parse_date(" ", "since")
    (datetime.date(2026, 3, 31), None)
    """
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        try:
            return check_date_range(day)
        except ValueError as exc:
            raise InputError(str(exc), field=field_name) from None
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{4}", text):
        raise InputError(f'"{text}" is not a real date: that day does not exist', field=field_name)
    raise InputError(f'"{text}" is not a date: give YYYY-MM-DD, e.g. 2026-03-31', field=field_name)


def _number(text: str, field_name: str, *, above_zero: bool) -> float:
    try:
        value = float((text or "").strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (value <= 0 if above_zero else value < 0):
        need = "a number above 0" if above_zero else "a number, 0 or more"
        raise InputError(f'"{(text or "").strip()[:40]}" is not {need}', field=field_name)
    if value > t.MAX_WEIGHT:
        raise InputError(f'"{(text or "").strip()[:40]}" is more than {t.MAX_WEIGHT:,.0f}', field=field_name)
    return value


def default_choice(session: Session, *, actor: Actor, partnership_id: int, today: date) -> NetworkChoice:
    """The last year of ties: the stored ones (reported, imported) when the partnership has any, as they
    say who works with whom; otherwise the ties worked out from meetings and actions."""
    ensure_allowed(actor, Can.VIEW_NETWORK, partnership_id)
    stored = session.scalar(
        select(func.count(NetworkTie.id)).where(
            NetworkTie.partnership_id == partnership_id, NetworkTie.to_person_id.is_not(None)
        )
    )
    names = t.STORED_SOURCES if stored else (t.CO_ATTENDANCE, t.SHARED_ACTIONS)
    return NetworkChoice(
        sources={name: 1.0 for name in names},
        since=today - timedelta(days=DEFAULT_WINDOW_DAYS - 1),
        as_of=today,
    )


CHOICE_FIELDS = ("sources", "since", "as_of", "min_weight")


def parse_choice(values: Mapping[str, Sequence[str]], *, default: NetworkChoice) -> NetworkChoice:
    """The choice from the page's query (the map's parameters, so links work both ways), or ``default``
    when the query chooses nothing.

    ``values`` maps each parameter to its values (a query may repeat ``sources``). ``sources``: source
    names, repeated or comma-separated (given but empty is refused: choose at least one); absent, the
    default's. ``w_<source>``: its weight, above 0 (blank is 1). ``since`` and ``as_of``: YYYY-MM-DD or
    DD/MM/YYYY (blank since is the beginning, blank as_of today). ``min_weight``: 0 or more. Raises
    InputError naming every bad field; nothing is computed from a bad choice.
    """
    if not any(key in CHOICE_FIELDS or key.startswith("w_") for key in values):
        return default

    def one(key: str) -> str:
        found = values.get(key) or [""]
        return str(found[-1])

    problems: list[FieldProblem] = []
    if "sources" in values:
        names = [n.strip() for value in values["sources"] for n in str(value).split(",") if n.strip()]
    else:
        names = list(default.sources)
    sources: dict[str, float] = {}
    known = network.known_sources()
    for name in dict.fromkeys(names):
        if name not in known:
            problems.append(
                FieldProblem("sources", f'"{name}" is not a source of ties; use {", ".join(known)}')
            )
            continue
        raw = one(f"w_{name}")
        try:
            sources[name] = _number(raw, f"w_{name}", above_zero=True) if raw.strip() else 1.0
        except InputError as exc:
            problems.extend(exc.problems)
    if not names:
        problems.append(FieldProblem("sources", "tick at least one source of ties"))
    dates: dict[str, date | None] = {}
    for field_name in ("since", "as_of"):
        try:
            dates[field_name] = parse_date(one(field_name), field_name)
        except InputError as exc:
            problems.extend(exc.problems)
    min_weight = 0.0
    if one("min_weight").strip():
        try:
            min_weight = _number(one("min_weight"), "min_weight", above_zero=False)
        except InputError as exc:
            problems.extend(exc.problems)
    since, as_of = dates.get("since"), dates.get("as_of") or default.as_of
    if "as_of" in dates and as_of > default.as_of:
        problems.append(FieldProblem("as_of", f"{as_of.isoformat()} is in the future"))
    if since and "as_of" in dates and since > as_of:
        problems.append(FieldProblem("since", f"{since.isoformat()} is after the end, {as_of.isoformat()}"))
    if problems:
        raise InputError(problems=problems)
    return NetworkChoice(sources=sources, since=since, as_of=as_of, min_weight=min_weight)


# --- people ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonFigures:
    """One person's figures, labelled as the viewer may see them."""

    index: int  # position in the network
    key: str  # what the person page is reached by: the register id with names, else "n<position>"
    label: str  # the name, or "Organisation · Profession #k"
    person_id: int | None  # register id, only with names
    organisation: str
    profession: str
    tier: int | None  # only with names: beside a label it would pick one person out of their group
    degree: int
    in_degree: int
    out_degree: int
    weighted_degree: float
    betweenness: float
    effective_size: float | None
    constraint: float | None
    brokerage_organisation: dict[str, int]
    brokerage_profession: dict[str, int]
    cross_organisation_brokerage: int
    cross_profession_brokerage: int
    organisations_reached: int
    professions_reached: int
    cut_pairs: int
    own_pairs: int
    key_person_risk: int
    organisations_cut_off: int


def _float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _key(net: t.Network, index: int) -> str:
    return str(int(net.person_ids[index])) if net.person_ids is not None else f"n{index}"


def _person(net: t.Network, analysis: m.NetworkAnalysis, i: int) -> PersonFigures:
    p = analysis.people
    cross = list(m.CROSS_ROLES)
    roles = m.role_names(analysis.ties.directed)
    return PersonFigures(
        index=i,
        key=_key(net, i),
        label=net.labels[i],
        person_id=int(net.person_ids[i]) if net.person_ids is not None else None,
        organisation=net.organisation_of(i),
        profession=net.profession_of(i),
        tier=net.tier_of(i),
        degree=int(p.degree[i]),
        in_degree=int(p.in_degree[i]),
        out_degree=int(p.out_degree[i]),
        weighted_degree=float(p.weighted_degree[i]),
        betweenness=float(p.betweenness[i]),
        effective_size=_float(p.effective_size[i]),
        constraint=_float(p.constraint[i]),
        brokerage_organisation={r: int(p.brokerage_organisation[i, m.ROLE_COLUMN[r]]) for r in roles},
        brokerage_profession={r: int(p.brokerage_profession[i, m.ROLE_COLUMN[r]]) for r in roles},
        cross_organisation_brokerage=int(p.brokerage_organisation[i, cross].sum()),
        cross_profession_brokerage=int(p.brokerage_profession[i, cross].sum()),
        organisations_reached=int(p.organisations_reached[i]),
        professions_reached=int(p.professions_reached[i]),
        cut_pairs=int(p.cut_pairs[i]),
        own_pairs=int(p.own_pairs[i]),
        key_person_risk=int(p.cut_pairs[i] + p.own_pairs[i]),
        organisations_cut_off=int(p.organisations_cut_off[i]),
    )


def _plural(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else (many or one + 's')}"


def _listing(words: Sequence[str], most: int = 4) -> str:
    shown = list(words[:most])
    if len(words) > most:
        shown.append(f"{len(words) - most} more")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _contacts(analysis: m.NetworkAnalysis, i: int) -> np.ndarray:
    ties = analysis.ties
    return np.unique(np.concatenate([ties.target[ties.source == i], ties.source[ties.target == i]]))


def _groups_reached(net: t.Network, analysis: m.NetworkAnalysis, i: int, by: str) -> list[str]:
    codes, labels = (
        (net.organisation, net.organisation_labels)
        if by == "organisation"
        else (net.profession, net.profession_labels)
    )
    found = np.unique(codes[_contacts(analysis, i)])
    return [labels[c] for c in found.tolist() if c != codes[i]]


def profession_reason(net: t.Network, analysis: m.NetworkAnalysis, i: int) -> str:
    """The profession side of a boundary spanner's reason (the metrics' reason speaks of organisations):
    the Gould-Fernandez roles by profession and the professions reached.

    For example: "between professions: liaison broker for 12 pairs, itinerant for 3; works with Police
    officer, Social worker and Mental health nurse".
    """
    parts = []
    if words := m.brokerage_words(analysis.people.brokerage_profession[i], analysis.ties.directed):
        parts.append("between professions: " + words)
    reached = _groups_reached(net, analysis, i, "profession")
    if reached:
        parts.append(f"works with {_listing(reached)} (other professions)")
    return "; ".join(parts)


# --- the whole network in words ----------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    meaning: str


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _ei_reading(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "no ties"
    if value <= -0.5:
        return "ties stay inside: a silo"
    if value < 0:
        return "more ties inside than out"
    if value < 0.5:
        return "more ties out than inside"
    return "ties mostly reach out"


def _whole_figures(net: t.Network, analysis: m.NetworkAnalysis) -> list[Figure]:
    w = analysis.whole
    kind = "directed: who named whom" if w.directed else "both ways"
    figures = [
        Figure(
            "People",
            str(w.people),
            f"{_plural(w.isolated, 'person has', 'people have')} no ties in this view",
        ),
        Figure("Ties", str(w.ties), f"pairs of people who work together ({kind})"),
        Figure("Density", _share(w.density), "the share of all possible ties that exist"),
        Figure(
            "Components",
            str(w.components),
            f"groups that cannot reach each other (a person with no ties counts as one); the largest holds "
            f"{_share(w.largest_component_share)} of the people",
        ),
    ]
    if w.reciprocity is not None:
        figures.append(
            Figure("Reciprocity", _share(w.reciprocity), "the share of ties the other person also named")
        )
    figures.append(
        Figure(
            "Centralisation",
            "—" if w.degree_centralisation is None else f"{w.degree_centralisation:.2f}",
            "Freeman's degree centralisation: 1 when one person holds every tie (a star), 0 when everyone "
            "has as many ties",
        )
    )
    figures += [
        Figure(
            "Ties crossing organisations",
            _share(w.organisations.crossing_share),
            "the share of ties between people of different organisations",
        ),
        Figure(
            "Ties crossing professions",
            _share(w.professions.crossing_share),
            "the share of ties between people of different professions",
        ),
        Figure(
            "E-I index by organisation",
            "—" if w.organisations.ei_index is None else f"{w.organisations.ei_index:+.2f}",
            "from −1 (every tie stays inside an organisation) to +1 (every tie crosses): "
            + _ei_reading(w.organisations.ei_index),
        ),
        Figure(
            "E-I index by profession",
            "—" if w.professions.ei_index is None else f"{w.professions.ei_index:+.2f}",
            "from −1 (every tie stays inside a profession) to +1 (every tie crosses): "
            + _ei_reading(w.professions.ei_index),
        ),
    ]
    if w.mean_trust is not None:
        figures.append(
            Figure("Mean trust", f"{w.mean_trust:.2f}", "rated 1 (low) to 4 (high), over rated ties")
        )
    if w.mean_value is not None:
        figures.append(
            Figure("Mean value", f"{w.mean_value:.2f}", "rated 1 (low) to 4 (high), over rated ties")
        )
    return figures


# --- tables ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpannerRow:
    rank: int
    person: PersonFigures
    score: float
    reason: str  # organisations (from the metrics)
    profession_reason: str
    organisations_reached: list[str]


@dataclass(frozen=True)
class SiloRow:
    organisation: str
    people: int
    inside: int
    outside: int
    ei: float | None
    reading: str


@dataclass(frozen=True)
class LostPath:
    organisation: str  # loses its only path ...
    losers: list[str]  # ... these organisations would lose their only path to it

    @property
    def words(self) -> str:
        verb = "would lose its" if len(self.losers) == 1 else "would lose their"
        return f"{_listing(self.losers)} {verb} only path to {self.organisation}"


def lost_paths_words(lost: Sequence[LostPath], most: int = 3) -> list[str]:
    """The organisations cut off if someone left, in a few lines: an organisation cut off from every
    other one is said once ("X would be cut off from 27 organisations it reaches now") rather
    than once per organisation it would lose."""
    if not lost:
        return []
    first, rest = lost[0], list(lost[1:])
    if rest and all(x.losers == [first.organisation] for x in rest):
        return [
            f"{first.organisation} would be cut off from {_plural(len(first.losers), 'organisation')} it "
            "reaches now"
        ]
    words = [x.words for x in lost[:most]]
    if len(lost) > most:
        words.append(f"and {len(lost) - most} more")
    return words


@dataclass(frozen=True)
class KeyRiskRow:
    person: PersonFigures
    cut_pairs: int
    lost_paths: list[LostPath]

    @property
    def summary(self) -> list[str]:
        return lost_paths_words(self.lost_paths)


@dataclass(frozen=True)
class TrustRow:
    organisation: str
    trust: float | None
    value: float | None
    rated_ties: int


def _spanners(net: t.Network, analysis: m.NetworkAnalysis, people: list[PersonFigures], limit: int | None):
    rows = []
    for s in m.rank_boundary_spanners(analysis, net.organisation_labels, limit=limit):
        if s.score <= 0:
            break
        rows.append(
            SpannerRow(
                rank=s.rank,
                person=people[s.person],
                score=s.score,
                reason=s.reason,
                profession_reason=profession_reason(net, analysis, s.person),
                organisations_reached=_groups_reached(net, analysis, s.person, "organisation"),
            )
        )
    return rows


def _silos(net: t.Network, analysis: m.NetworkAnalysis) -> list[SiloRow]:
    mixing = analysis.whole.organisations
    members = np.bincount(net.organisation, minlength=len(net.organisation_labels))
    rows = []
    for o, label in enumerate(net.organisation_labels):
        ei = _float(mixing.group_ei[o]) if o < mixing.group_ei.size else None
        inside = int(mixing.internal[o]) if o < mixing.internal.size else 0
        outside = int(mixing.external[o]) if o < mixing.external.size else 0
        rows.append(SiloRow(label, int(members[o]), inside, outside, ei, _ei_reading(ei)))
    # Most inward first; organisations with no ties at all go last (no E-I to speak of).
    return sorted(rows, key=lambda r: (r.ei is None, r.ei if r.ei is not None else 0.0, r.organisation))


def _lost_paths(net: t.Network, analysis: m.NetworkAnalysis, i: int) -> list[LostPath]:
    labels = net.organisation_labels
    return [LostPath(labels[q], [labels[o] for o in losers]) for q, losers in analysis.lost_paths.get(i, ())]


def _key_risks(net: t.Network, analysis: m.NetworkAnalysis, people: list[PersonFigures]) -> list[KeyRiskRow]:
    cut = analysis.people.cut_pairs
    at_risk = [i for i in range(cut.size) if cut[i] > 0 or analysis.lost_paths.get(i)]
    at_risk.sort(key=lambda i: (-int(cut[i]), -int(analysis.people.organisations_cut_off[i]), i))
    return [KeyRiskRow(people[i], int(cut[i]), _lost_paths(net, analysis, i)) for i in at_risk]


def _trust(net: t.Network, analysis: m.NetworkAnalysis) -> list[TrustRow]:
    w = analysis.whole
    if w.trust_by_organisation is None and w.value_by_organisation is None:
        return []
    ties, org = analysis.ties, net.organisation
    rated = np.zeros(len(net.organisation_labels), np.int64)
    known = ~np.isnan(ties.trust) if ties.trust is not None else np.zeros(len(ties), bool)
    if ties.value is not None:
        known |= ~np.isnan(ties.value)
    if ties.directed:
        np.add.at(rated, org[ties.source[known]], 1)
    else:
        a, b = org[ties.source[known]], org[ties.target[known]]
        np.add.at(rated, a, 1)
        np.add.at(rated, b[a != b], 1)
    rows = []
    for o, label in enumerate(net.organisation_labels):
        trust = _float(w.trust_by_organisation[o]) if w.trust_by_organisation is not None else None
        value = _float(w.value_by_organisation[o]) if w.value_by_organisation is not None else None
        if trust is not None or value is not None:
            rows.append(TrustRow(label, trust, value, int(rated[o])))
    return sorted(rows, key=lambda r: (r.trust if r.trust is not None else 9.0, r.organisation))


# --- the network page -------------------------------------------------------------------------------
@dataclass(frozen=True)
class NetworkView:
    choice: NetworkChoice
    network: t.Network
    analysis: m.NetworkAnalysis
    figures: list[Figure]
    people: list[PersonFigures]
    spanners: list[SpannerRow]
    silos: list[SiloRow]
    key_risks: list[KeyRiskRow]
    trust: list[TrustRow]

    @property
    def names_shown(self) -> bool:
        return self.network.names_shown

    @property
    def approximate(self) -> bool:
        return self.analysis.people.betweenness_approximate

    @property
    def roles(self) -> tuple[str, ...]:
        """The brokerage roles this network can tell apart (undirected: representative/gatekeeper is one)."""
        return m.role_names(self.analysis.ties.directed)

    def rank_of(self) -> dict[int, SpannerRow]:
        return {row.person.index: row for row in self.spanners}


def _analyse(net: t.Network, directed: bool | None = None) -> m.NetworkAnalysis:
    return m.analyse_network(**net.for_metrics(directed))


def network_view(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    choice: NetworkChoice,
    spanners: int | None = SPANNERS_SHOWN,
    label_threshold: int = t.LABEL_THRESHOLD,
) -> NetworkView:
    """Every figure of the network page for ``choice``; names only for VIEW_NETWORK_NAMES (network_for;
    ``label_threshold`` is the smallest group a label may describe, never below ``t.LABEL_THRESHOLD``).

    Example: ``network_view(session, actor=a, partnership_id=1, choice=default_choice(...))``.
    """
    net = network.network_for(
        session,
        actor=actor,
        partnership_id=partnership_id,
        sources=choice.sources,
        since=choice.since,
        as_of=choice.as_of,
        min_weight=choice.min_weight,
        label_threshold=label_threshold,
    )
    analysis = _analyse(net)
    people = [_person(net, analysis, i) for i in range(net.n_people)]
    return NetworkView(
        choice=choice,
        network=net,
        analysis=analysis,
        figures=_whole_figures(net, analysis),
        people=people,
        spanners=_spanners(net, analysis, people, spanners),
        silos=_silos(net, analysis),
        key_risks=_key_risks(net, analysis, people),
        trust=_trust(net, analysis),
    )


# --- one person ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TieLine:
    other: PersonFigures
    direction: str  # "named by this person", "named this person", "both named", "observed"
    weight: float
    by_source: dict[str, float]  # the source's part of the weight, sources with a part only


@dataclass(frozen=True)
class PersonView:
    view: NetworkView
    person: PersonFigures
    spanner: SpannerRow | None
    organisations_reached: list[str]
    professions_reached: list[str]
    lost_paths: list[LostPath]
    ties: list[TieLine]

    @property
    def lost_paths_summary(self) -> list[str]:
        return lost_paths_words(self.lost_paths, most=len(self.lost_paths))

    @property
    def key_person_meaning(self) -> str:
        p = self.person
        if p.degree == 0:
            return "No ties in this view, so no one would lose a connection if this person left."
        if p.cut_pairs == 0:
            return (
                f"If this person left, everyone else in different organisations who can reach each other now "
                f"still could: there is another path around them. Their own links to "
                f"{_plural(p.own_pairs, 'person', 'people')} in other organisations would go with them."
            )
        return (
            f"If this person left, {_plural(p.cut_pairs, 'pair')} of other people in different organisations "
            f"would lose their last connection, and their own links to "
            f"{_plural(p.own_pairs, 'person', 'people')} in other organisations would go too: "
            f"{p.key_person_risk} in all."
        )


class NoSuchPerson(LookupError):
    """The key names no one in the network shown."""


def find_person(view: NetworkView, key: str) -> int:
    """The position of the person ``key`` names: ``n<position>`` for anyone, a register id only where
    names are shown. Raises NoSuchPerson otherwise (a member giving a register id included)."""
    found = _KEY.match(key)
    if found:
        index = int(found.group(1))
        if index < view.network.n_people:
            return index
        raise NoSuchPerson(key)
    if (number := record_id_or_none(key)) is not None and view.network.person_ids is not None:
        hits = np.nonzero(view.network.person_ids == number)[0]
        if hits.size:
            return int(hits[0])
    raise NoSuchPerson(key)


def person_view(view: NetworkView, index: int) -> PersonView:
    """One person's figures and ties in an already computed view."""
    net, analysis = view.network, view.analysis
    edges = net.edges
    touching = np.nonzero((edges.source == index) | (edges.target == index))[0]
    lines: dict[tuple[int, str], TieLine] = {}
    for e in touching.tolist():
        a, b = int(edges.source[e]), int(edges.target[e])
        other = b if a == index else a
        if not edges.directed[e]:
            direction = "observed"
        else:
            direction = "named by this person" if a == index else "named this person"
        parts = {name: float(part[e]) for name, part in edges.by_source.items() if part[e] > 0}
        key = (other, "named" if edges.directed[e] else "observed")
        if key in lines:  # both named each other: one line
            old = lines[key]
            merged = {k: old.by_source.get(k, 0.0) + parts.get(k, 0.0) for k in {*old.by_source, *parts}}
            lines[key] = TieLine(old.other, "both named", old.weight + float(edges.weight[e]), merged)
        else:
            lines[key] = TieLine(view.people[other], direction, float(edges.weight[e]), parts)
    ties = sorted(lines.values(), key=lambda x: (-x.weight, x.other.organisation, x.other.label))
    return PersonView(
        view=view,
        person=view.people[index],
        spanner=view.rank_of().get(index),
        organisations_reached=_groups_reached(net, analysis, index, "organisation"),
        professions_reached=_groups_reached(net, analysis, index, "profession"),
        lost_paths=_lost_paths(net, analysis, index),
        ties=ties,
    )


# --- change between two dates ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ChangeTie:
    a: str
    b: str
    pairs: int = 0


@dataclass(frozen=True)
class ChangeSide:
    on: date
    since: date | None
    figures: list[Figure]
    spanners: list[SpannerRow]


@dataclass(frozen=True)
class ChangeView:
    earlier: ChangeSide
    later: ChangeSide
    window_days: int | None
    sources: dict[str, float]
    names_shown: bool
    reading: str
    joined: list[PersonFigures]
    left: list[PersonFigures]
    ties_gained: list[ChangeTie]
    ties_lost: list[ChangeTie]
    ties_gained_count: int
    ties_lost_count: int
    brokers_lost: list[tuple[PersonFigures, int]]  # person (as before), cross-organisation brokerage before
    key_people_lost: list[PersonFigures]
    bridges_lost: list[ChangeTie]
    bridges_covered: list[ChangeTie]


def change_view(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    sources: Mapping[str, float],
    earlier: date,
    later: date,
    window_days: int | None = DEFAULT_WINDOW_DAYS,
    min_weight: float = 0.0,
    spanners: int = 10,
) -> ChangeView:
    """The network as of two dates over the same people, side by side, and what changed between them
    (``metrics.compare_networks``): who joined and left, ties gained and lost, brokers and bridges lost.

    Each date's network covers the ``window_days`` up to it (None: all history up to it).
    """
    both = network.network_at_two_dates(
        session,
        actor=actor,
        partnership_id=partnership_id,
        sources=sources,
        earlier=earlier,
        later=later,
        window_days=window_days,
        min_weight=min_weight,
    )
    nets = (both.earlier, both.later)
    # One kind of graph for both dates, so the two can be compared tie by tie.
    directed = all(len(n.edges) == 0 or bool(n.edges.directed.all()) for n in nets) and any(
        len(n.edges) for n in nets
    )
    before, after = (_analyse(n, directed) for n in nets)
    change = m.compare_networks(before, after)
    people_before = [_person(both.earlier, before, i) for i in range(both.earlier.n_people)]
    people_after = [_person(both.later, after, i) for i in range(both.later.n_people)]
    labels = both.later.labels

    def ties(rows: np.ndarray, limit: int = TIES_SHOWN_ON_CHANGE) -> list[ChangeTie]:
        out = [ChangeTie(labels[int(r[0])], labels[int(r[1])], int(r[2]) if r.size > 2 else 0) for r in rows]
        return sorted(out, key=lambda x: (-x.pairs, x.a, x.b))[:limit]

    brokerage_before = before.people.cross_organisation_brokerage
    return ChangeView(
        earlier=ChangeSide(
            earlier,
            both.earlier.since,
            _whole_figures(both.earlier, before),
            _spanners(both.earlier, before, people_before, spanners),
        ),
        later=ChangeSide(
            later,
            both.later.since,
            _whole_figures(both.later, after),
            _spanners(both.later, after, people_after, spanners),
        ),
        window_days=window_days,
        sources=dict(both.later.multipliers),
        names_shown=both.later.names_shown,
        reading=change.reading,
        joined=[people_after[int(i)] for i in change.joined],
        left=[people_before[int(i)] for i in change.left],
        ties_gained=ties(change.ties_gained),
        ties_lost=ties(change.ties_lost),
        ties_gained_count=len(change.ties_gained),
        ties_lost_count=len(change.ties_lost),
        brokers_lost=sorted(
            ((people_before[int(i)], int(brokerage_before[i])) for i in change.brokers_lost),
            key=lambda x: (-x[1], x[0].label),
        ),
        key_people_lost=[people_before[int(i)] for i in change.key_people_lost],
        bridges_lost=ties(change.bridge_ties_lost),
        bridges_covered=ties(change.bridge_ties_covered),
    )


# --- per-person figures for export ---------------------------------------------------------------------
def people_columns(directed: bool) -> tuple[str, ...]:
    """The download's columns: one per brokerage role the network can tell apart (``metrics.role_names``;
    undirected: ``representative_or_gatekeeper_by_organisation`` for the combined role)."""
    roles = [r.replace("/", "_or_") for r in m.role_names(directed)]
    return (
        "person",
        "organisation",
        "profession",
        "hierarchy_tier",
        "degree",
        "in_degree",
        "out_degree",
        "weighted_degree",
        "betweenness",
        "effective_size",
        "constraint",
        *(f"{r}_by_organisation" for r in roles),
        "cross_organisation_brokerage",
        *(f"{r}_by_profession" for r in roles),
        "cross_profession_brokerage",
        "organisations_reached",
        "professions_reached",
        "cut_pairs",
        "key_person_risk",
        "organisations_cut_off",
        "spanner_rank",
        "spanner_score",
    )


PEOPLE_COLUMNS = people_columns(directed=True)  # a directed network's (reported or imported ties)


@dataclass(frozen=True)
class PeopleTable:
    columns: list[str]
    rows: list[list[object]] = field(default_factory=list)


def people_table(view: NetworkView) -> PeopleTable:
    """One row per person with every figure; names (and the register's person id) only where shown."""
    ranked = {s.person.index: s for s in _spanners(view.network, view.analysis, view.people, None)}
    columns = list(people_columns(view.analysis.ties.directed))
    if view.names_shown:
        columns.insert(1, "person_id")
    rows: list[list[object]] = []
    for p in view.people:
        spanner = ranked.get(p.index)
        row: list[object] = [p.label]
        if view.names_shown:
            row.append(p.person_id)
        row += [
            p.organisation,
            p.profession,
            p.tier,
            p.degree,
            p.in_degree,
            p.out_degree,
            round(p.weighted_degree, 6),
            round(p.betweenness, 6),
            None if p.effective_size is None else round(p.effective_size, 6),
            None if p.constraint is None else round(p.constraint, 6),
            *p.brokerage_organisation.values(),
            p.cross_organisation_brokerage,
            *p.brokerage_profession.values(),
            p.cross_profession_brokerage,
            p.organisations_reached,
            p.professions_reached,
            p.cut_pairs,
            p.key_person_risk,
            p.organisations_cut_off,
            spanner.rank if spanner else None,
            round(spanner.score, 6) if spanner else None,
        ]
        rows.append(row)
    return PeopleTable(columns, rows)


__all__ = [
    "DEFAULT_WINDOW_DAYS",
    "ROLE_LABELS",
    "SOURCE_LABELS",
    "ChangeView",
    "NetworkChoice",
    "NetworkView",
    "NoSuchPerson",
    "PersonView",
    "change_view",
    "default_choice",
    "find_person",
    "network_view",
    "parse_choice",
    "parse_date",
    "people_columns",
    "people_table",
    "person_view",
    "profession_reason",
]
