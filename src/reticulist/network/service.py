"""What users do with the network: store ties, read them, and get a partnership's network as plain data
for the metrics.

Ties name people, so they are not anonymous. VIEW_NETWORK (members, managers, admins) gives the network
with people labelled by ``ties.pseudonyms`` (no names, no group under 5); VIEW_NETWORK_NAMES (managers,
admins) gives names and person ids, and the stored and observed ties themselves; EDIT_NETWORK stores
ties. Outsiders get NotFound. Writes are audited in the same transaction; the caller commits (imports
commit themselves).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.barometer.models import BarometerRound
from reticulist.db.engine import session_secret
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import FieldProblem, InputError
from reticulist.network import ties as t
from reticulist.network.models import NetworkTie
from reticulist.register.models import Action, Attendance, Meeting, Organisation, Person, Profession
from reticulist.register.vocab import REPRESENTED_STATUSES

NO_PROFESSION = "No profession recorded"


def today() -> date:
    return date.today()


# --- observed sources --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObservedSource:
    """A kind of tie worked out from records when asked, never stored. ``ties`` returns the source's ties
    in the window [since, as_of] (since None = from the beginning) as Edges between person ids."""

    name: str
    directed: bool
    description: str
    ties: Callable[[Session, int, date | None, date], t.Edges]


OBSERVED_SOURCES: dict[str, ObservedSource] = {}


def register_observed_source(source: ObservedSource) -> None:
    """Where casework will add shared cases and referrals: a source registered here can be asked for by
    name in ``network_for`` like the built-in ones."""
    OBSERVED_SOURCES[source.name] = source
    t.PLANNED_SOURCES.pop(source.name, None)


def _in_window(query, column, since: date | None, as_of: date):  # type: ignore[no-untyped-def]
    query = query.where(column <= as_of)
    return query.where(column >= since) if since else query


def _co_attendance(session: Session, partnership_id: int, since: date | None, as_of: date) -> t.Edges:
    # Deputy attended counts for the person recorded: the register does not name the deputy, and the
    # person's organisation was at the table through them.
    query = (
        select(Attendance.meeting_id, Attendance.person_id)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(
            Meeting.partnership_id == partnership_id,
            Meeting.cancelled.is_(False),
            Attendance.status.in_(REPRESENTED_STATUSES),
        )
    )
    return t.co_membership(
        (m, p) for m, p in session.execute(_in_window(query, Meeting.held_on, since, as_of))
    )


def _shared_actions(session: Session, partnership_id: int, since: date | None, as_of: date) -> t.Edges:
    query = (
        select(Action.meeting_id, Action.owner_person_id)
        .join(Meeting, Meeting.id == Action.meeting_id)
        .where(
            Action.partnership_id == partnership_id,
            Action.owner_person_id.is_not(None),
            Meeting.cancelled.is_(False),
        )
    )
    rows = session.execute(_in_window(query, Meeting.held_on, since, as_of)).all()
    return t.co_membership((meeting_id, int(owner)) for meeting_id, owner in rows if owner is not None)


register_observed_source(
    ObservedSource(
        t.CO_ATTENDANCE,
        False,
        "both at the same meeting (present, or a deputy attended for them); weight = meetings shared",
        _co_attendance,
    )
)
register_observed_source(
    ObservedSource(
        t.SHARED_ACTIONS,
        False,
        "each owns an action raised at the same meeting; weight = such meetings",
        _shared_actions,
    )
)


def _stored(session: Session, partnership_id: int, source: str, since: date | None, as_of: date) -> t.Edges:
    """Stored ties of one source in the window; where a pair was observed more than once, the latest
    observation stands (a tie rated again replaces the earlier rating). Pairs come in the order they were
    first observed.

    Read as plain columns into arrays, not as ORM objects: a comparison refreshes 150 partnerships of
    20,000 ties each, and building an object per tie took most of the reading time."""
    columns = [
        NetworkTie.from_person_id,
        NetworkTie.to_person_id,
        NetworkTie.weight,
        *(getattr(NetworkTie, name) for name in t.ATTRIBUTE_FIELDS),
    ]
    query = select(*columns).where(NetworkTie.partnership_id == partnership_id, NetworkTie.source == source)
    # Ties to an organisation (an organisation-level round) are not ties between people.
    query = query.where(NetworkTie.to_person_id.is_not(None))
    query = _in_window(query, NetworkTie.observed_on, since, as_of)
    rows = session.execute(query.order_by(NetworkTie.observed_on, NetworkTie.id)).all()
    # None (an unknown rating) becomes NaN in a float array.
    data = np.array(list(map(tuple, rows)), dtype=np.float64).reshape(len(rows), len(columns))
    tail, head = data[:, 0].astype(np.int64), data[:, 1].astype(np.int64)
    key = tail * (int(head.max()) + 1 if head.size else 1) + head
    # np.unique sorts the keys; the first and the last observation of each pair line up key by key.
    _, first = np.unique(key, return_index=True)
    _, from_end = np.unique(key[::-1], return_index=True)
    last = key.size - 1 - from_end
    pick = last[np.argsort(first, kind="stable")]
    return t.Edges(
        tail[pick],
        head[pick],
        data[pick, 2],
        directed=True,
        attributes={name: data[pick, 3 + k] for k, name in enumerate(t.ATTRIBUTE_FIELDS)},
    )


def _source_ties(
    session: Session, partnership_id: int, source: str, since: date | None, as_of: date
) -> t.Edges:
    if source in t.STORED_SOURCES:
        return _stored(session, partnership_id, source, since, as_of)
    return OBSERVED_SOURCES[source].ties(session, partnership_id, since, as_of)


def _check_window(since: date | None, as_of: date | None) -> tuple[date | None, date]:
    as_of = as_of or today()
    if since and since > as_of:
        raise InputError(f"{since.isoformat()} is after as_of {as_of.isoformat()}", field="since")
    return since, as_of


def known_sources() -> tuple[str, ...]:
    return (*t.STORED_SOURCES, *OBSERVED_SOURCES)


def _check_source(name: str) -> None:
    if name in t.PLANNED_SOURCES:
        raise InputError(f"{name}: {t.PLANNED_SOURCES[name]}", field="sources")
    if name not in known_sources():
        raise InputError(
            f'"{name}" is not a source of ties; use {", ".join(known_sources())}', field="sources"
        )


@dataclass(frozen=True)
class PersonTie:
    """One tie between two people by id (for managers: names come with it)."""

    person_a: int
    person_b: int
    weight: float
    directed: bool


def ties_from(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    source: str,
    since: date | None = None,
    as_of: date | None = None,
) -> list[PersonTie]:
    """One source's ties in the window, by person id: observed ties as worked out now from the register,
    stored ties as their latest observation. Needs VIEW_NETWORK_NAMES (ids lead to names).

    Example: ``ties_from(session, actor=a, partnership_id=1, source="co_attendance")``.
    """
    ensure_allowed(actor, Can.VIEW_NETWORK_NAMES, partnership_id)
    _check_source(source)
    since, as_of = _check_window(since, as_of)
    edges = _source_ties(session, partnership_id, source, since, as_of)
    return [
        PersonTie(int(a), int(b), float(w), edges.directed)
        for a, b, w in zip(edges.source, edges.target, edges.weight, strict=True)
    ]


# --- the network for the metrics ---------------------------------------------------------------------
def _check_multipliers(sources: Mapping[str, float]) -> dict[str, float]:
    if not sources:
        raise InputError(f"choose at least one source of ties: {', '.join(known_sources())}", field="sources")
    problems = []
    for name, multiplier in sources.items():
        try:
            _check_source(name)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if isinstance(multiplier, bool) or not isinstance(multiplier, int | float):
            problems.append(FieldProblem(f"sources.{name}", f'"{multiplier}" is not a number'))
        elif not math.isfinite(multiplier) or multiplier <= 0:
            problems.append(FieldProblem(f"sources.{name}", f"{multiplier} is not a number above 0"))
    if problems:
        raise InputError(problems=problems)
    # Stored sources first, so a reported rating wins over an imported one for the same tie.
    order = known_sources()
    return {name: float(sources[name]) for name in sorted(sources, key=order.index)}


def _people_in_window(session: Session, partnership_id: int, since: date | None, as_of: date) -> set[int]:
    """Everyone in the partnership at some time in the window: joined by as_of and not left before it
    began (people with no dates are always in)."""
    query = select(Person.id).where(
        Person.partnership_id == partnership_id,
        Person.joined_on.is_(None) | (Person.joined_on <= as_of),
    )
    if since is not None:
        query = query.where(Person.ended_on.is_(None) | (Person.ended_on >= since))
    return set(session.scalars(query))


def _parts(
    session: Session, partnership_id: int, names: Sequence[str], since: date | None, as_of: date
) -> dict[str, t.Edges]:
    return {name: _source_ties(session, partnership_id, name, since, as_of) for name in names}


def pseudonym_keys(session: Session, partnership_id: int, person_ids: Sequence[int]) -> list[str]:
    """Each person's keyed hash (HMAC-SHA256 with the application's secret, over the partnership and the
    person): the order pseudonyms are numbered in. Stable for a partnership, and not derivable from the
    register by anyone without the secret, unlike the order people were added in."""
    secret = session_secret(session).encode("utf-8")
    return [
        hmac.new(secret, f"network-pseudonym:{partnership_id}:{pid}".encode(), hashlib.sha256).hexdigest()
        for pid in person_ids
    ]


def _assemble(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    person_ids: set[int],
    parts: Mapping[str, t.Edges],
    multipliers: dict[str, float],
    since: date | None,
    as_of: date,
    min_weight: float,
    label_threshold: int = t.LABEL_THRESHOLD,
) -> t.Network:
    people = (
        sorted(session.scalars(select(Person).where(Person.id.in_(person_ids))).unique(), key=lambda p: p.id)
        if person_ids
        else []
    )
    ids = np.array([p.id for p in people], np.int64)

    def positions(values: np.ndarray) -> np.ndarray:
        return np.searchsorted(ids, values).astype(np.int64)

    mapped = {
        name: t.Edges(positions(e.source), positions(e.target), e.weight, e.directed, e.attributes)
        for name, e in parts.items()
    }
    organisations = {
        o.id: o.name
        for o in session.scalars(select(Organisation).where(Organisation.partnership_id == partnership_id))
    }
    professions: dict[int | None, str] = {
        p.id: p.name
        for p in session.scalars(select(Profession).where(Profession.partnership_id == partnership_id))
    }
    professions[None] = NO_PROFESSION
    organisation_ids = tuple(sorted({p.organisation_id for p in people}, key=lambda i: organisations[i]))
    profession_ids = tuple(
        sorted({p.profession_id for p in people}, key=lambda i: (i is None, professions[i]))
    )
    organisation_code = {i: n for n, i in enumerate(organisation_ids)}
    profession_code = {i: n for n, i in enumerate(profession_ids)}
    names_shown = allowed(actor, Can.VIEW_NETWORK_NAMES, partnership_id)
    shown: t.Pseudonyms | None = None
    if not names_shown:
        shown = t.pseudonyms(
            [organisations[p.organisation_id] for p in people],
            [professions[p.profession_id] for p in people],
            pseudonym_keys(session, partnership_id, [p.id for p in people]),
            threshold=label_threshold,
        )
    labels = tuple(p.full_name for p in people) if shown is None else shown.labels
    return t.Network(
        partnership_id=partnership_id,
        as_of=as_of,
        since=since,
        names_shown=names_shown,
        person_ids=ids if names_shown else None,
        labels=labels,
        organisation=np.array([organisation_code[p.organisation_id] for p in people], np.int64),
        organisation_ids=organisation_ids,
        organisation_labels=tuple(organisations[i] for i in organisation_ids),
        profession=np.array([profession_code[p.profession_id] for p in people], np.int64),
        profession_ids=profession_ids,
        profession_labels=tuple(professions[i] for i in profession_ids),
        tier=np.array([p.hierarchy_tier for p in people], np.int64),
        edges=t.combine(len(people), mapped, multipliers, min_weight),
        multipliers=dict(multipliers),
        shown_organisation=() if shown is None else shown.organisation,
        shown_profession=() if shown is None else shown.profession,
    )


def _tied_people(parts: Mapping[str, t.Edges]) -> set[int]:
    return {int(i) for e in parts.values() for i in np.concatenate([e.source, e.target])}


def network_for(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    sources: Mapping[str, float],
    as_of: date | None = None,
    since: date | None = None,
    min_weight: float = 0.0,
    label_threshold: int = t.LABEL_THRESHOLD,
) -> t.Network:
    """The partnership's network: everyone in the partnership at some time in [since, as_of] (and anyone
    with a tie in it), and the ties of the chosen sources in that window, each source's weight times the
    multiplier the manager chose.

    ``sources`` maps source names (reported, imported, co_attendance, shared_actions) to multipliers
    above 0; ``as_of`` defaults to today and ``since`` to the beginning; ties weighing less than
    ``min_weight`` in all are left out. Stored ties count by their latest observation in the window,
    observed ties by the meetings in it. People are labelled by name only with VIEW_NETWORK_NAMES,
    otherwise by ``ties.pseudonyms``: no label, nor the organisation or profession shown beside it,
    describes fewer than ``label_threshold`` people (at least ``ties.LABEL_THRESHOLD``), and the numbers
    follow a keyed order (``pseudonym_keys``), not the register's.

    Example: ``network_for(session, actor=a, partnership_id=1, sources={"reported": 1.0,
    "co_attendance": 0.5})``.
    """
    ensure_allowed(actor, Can.VIEW_NETWORK, partnership_id)
    multipliers = _check_multipliers(sources)
    since, as_of = _check_window(since, as_of)
    parts = _parts(session, partnership_id, list(multipliers), since, as_of)
    people = _people_in_window(session, partnership_id, since, as_of) | _tied_people(parts)
    return _assemble(
        session,
        actor=actor,
        partnership_id=partnership_id,
        person_ids=people,
        parts=parts,
        multipliers=multipliers,
        since=since,
        as_of=as_of,
        min_weight=min_weight,
        label_threshold=max(label_threshold, t.LABEL_THRESHOLD),
    )


@dataclass(frozen=True)
class NetworksAtTwoDates:
    """The network on two dates over the same people (same positions, labels and codes in both), so
    ties can be compared position by position."""

    earlier: t.Network
    later: t.Network


def network_at_two_dates(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    sources: Mapping[str, float],
    earlier: date,
    later: date,
    window_days: int | None = None,
    min_weight: float = 0.0,
) -> NetworksAtTwoDates:
    """The network as of ``earlier`` and as of ``later``, for change over time. Each covers the
    ``window_days`` up to its date (``None``: all history up to it). The people are everyone either
    network would include, so both share positions.

    Example: ``network_at_two_dates(session, actor=a, partnership_id=1, sources={"co_attendance": 1},
    earlier=date(2024, 3, 31), later=date(2025, 3, 31), window_days=365)``.
    """
    ensure_allowed(actor, Can.VIEW_NETWORK, partnership_id)
    multipliers = _check_multipliers(sources)
    if earlier >= later:
        raise InputError(f"{later.isoformat()} is not after earlier {earlier.isoformat()}", field="later")
    if window_days is not None and window_days < 1:
        raise InputError(f"{window_days} is not a number of days above 0", field="window_days")

    def start(on: date) -> date | None:
        return on - timedelta(days=window_days - 1) if window_days is not None else None

    windows = [(start(earlier), earlier), (start(later), later)]
    parts = [_parts(session, partnership_id, list(multipliers), s, on) for s, on in windows]
    people: set[int] = set()
    for (since, on), found in zip(windows, parts, strict=True):
        people |= _people_in_window(session, partnership_id, since, on) | _tied_people(found)
    first, second = (
        _assemble(
            session,
            actor=actor,
            partnership_id=partnership_id,
            person_ids=people,
            parts=found,
            multipliers=multipliers,
            since=since,
            as_of=on,
            min_weight=min_weight,
        )
        for (since, on), found in zip(windows, parts, strict=True)
    )
    return NetworksAtTwoDates(earlier=first, later=second)


# --- stored ties -------------------------------------------------------------------------------------
def list_ties(
    session: Session, *, actor: Actor, partnership_id: int, source: str | None = None
) -> list[NetworkTie]:
    """The partnership's stored ties, oldest observation first. Needs VIEW_NETWORK_NAMES."""
    ensure_allowed(actor, Can.VIEW_NETWORK_NAMES, partnership_id)
    query = select(NetworkTie).where(NetworkTie.partnership_id == partnership_id)
    if source is not None:
        query = query.where(NetworkTie.source == source)
    return list(session.scalars(query.order_by(NetworkTie.observed_on, NetworkTie.id)))


def _range_problems(tie: t.TieValues, problem: Callable[[str, str], None]) -> None:
    if isinstance(tie.weight, bool) or not math.isfinite(tie.weight) or tie.weight <= 0:
        problem("weight", f'"{tie.weight}" is not a number above 0')
    if tie.frequency is not None and not 0 <= tie.frequency <= 4:
        problem("frequency", f'"{tie.frequency}" is not a frequency: give {", ".join(t.FREQUENCIES)}, or 0-4')
    for name in t.RATING_FIELDS:
        value = getattr(tie, name)
        if value is not None and not 1 <= value <= 4:
            problem(name, f'"{value}" is not a whole number from 1 to 4')


def check_ties(
    session: Session,
    *,
    partnership_id: int,
    ties: Sequence[t.TieValues],
    source: str,
    round_id: int | None = None,
    source_name: str | None = None,
) -> list[FieldProblem]:
    """Every problem with storing ``ties`` (fields "from", "to", "date", "weight", "frequency", trust_*,
    value_*; each with the tie's row), without writing: people of this partnership, no self-ties, values
    in range, no date in the future, no tie twice in the list, none already stored (same source, people
    and date)."""
    problems: list[FieldProblem] = []
    if source not in t.STORED_SOURCES:
        problems.append(FieldProblem("source", f'"{source}" is not reported or imported', source=source_name))
    if source == t.REPORTED:
        found = session.get(BarometerRound, round_id) if round_id is not None else None
        if found is None or found.partnership_id != partnership_id:
            problems.append(FieldProblem("round", "reported ties need a round of this partnership"))
    elif round_id is not None:
        problems.append(FieldProblem("round", "only reported ties come from a round"))
    ids = {x.from_person_id for x in ties} | {x.to_person_id for x in ties}
    members = set(
        session.scalars(select(Person.id).where(Person.partnership_id == partnership_id, Person.id.in_(ids)))
    )
    stored = {
        (x.from_person_id, x.to_person_id, x.observed_on)
        for x in session.scalars(
            select(NetworkTie).where(
                NetworkTie.partnership_id == partnership_id,
                NetworkTie.source == source,
                NetworkTie.from_person_id.in_(ids),
            )
        )
    }
    seen: dict[tuple[int, int, date], str] = {}
    on = today()
    for index, tie in enumerate(ties):

        def problem(field: str, message: str, tie: t.TieValues = tie) -> None:
            problems.append(FieldProblem(field, message, row=tie.row, source=source_name))

        for field, person in (("from", tie.from_person_id), ("to", tie.to_person_id)):
            if person not in members:
                problem(field, "no such person in this partnership")
        if tie.from_person_id == tie.to_person_id:
            problem("to", 'is the same person as "from": a tie needs two people')
        _range_problems(tie, problem)
        if tie.observed_on > on:
            problem("date", f"{tie.observed_on.isoformat()} is in the future")
        key = (tie.from_person_id, tie.to_person_id, tie.observed_on)
        where = f"row {tie.row}" if tie.row is not None else f"tie {index + 1}"
        if key in seen:
            problem("to", f"this tie on {tie.observed_on.isoformat()} appears twice (first on {seen[key]})")
        else:
            seen[key] = where
            if key in stored:
                problem("date", f"this tie on {tie.observed_on.isoformat()} is already stored ({source})")
    return problems


def store_ties(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    ties: Sequence[t.TieValues],
    source: str = t.IMPORTED,
    round_id: int | None = None,
    source_name: str | None = None,
) -> int:
    """Store ``ties`` all or none (see ``check_ties``), audited as one event with their count and who
    stored them. Needs EDIT_NETWORK. The caller commits. Returns the number stored."""
    ensure_allowed(actor, Can.EDIT_NETWORK, partnership_id)
    if not ties:
        raise InputError("there are no ties to store", field="ties")
    problems = check_ties(
        session,
        partnership_id=partnership_id,
        ties=ties,
        source=source,
        round_id=round_id,
        source_name=source_name,
    )
    if problems:
        raise InputError(problems=problems)
    raced = (
        "some of these ties were stored by someone else at the same moment; nothing was stored from these, "
        "so check the stored ties and try again"
    )
    rules = {
        "uq_network_tie_imported": ("date", raced),
        "uq_network_tie_reported_person": ("to", raced),
        "uq_network_tie_reported_organisation": ("to", raced),
    }
    with refusing_duplicates(session, rules):
        for tie in ties:
            values = {k: v for k, v in vars(tie).items() if k != "row"}
            session.add(NetworkTie(partnership_id=partnership_id, source=source, round_id=round_id, **values))
    origin = f" from {source_name}" if source_name else ""
    audit.record(
        session,
        actor=actor,
        event=source,
        record_type="network_tie",
        record_id=None,
        partnership_id=partnership_id,
        summary=f"{len(ties)} network ties {source}{origin} by {actor.label}",
    )
    return len(ties)


__all__ = [
    "NO_PROFESSION",
    "OBSERVED_SOURCES",
    "NetworksAtTwoDates",
    "ObservedSource",
    "PersonTie",
    "check_ties",
    "known_sources",
    "list_ties",
    "network_at_two_dates",
    "network_for",
    "register_observed_source",
    "store_ties",
    "ties_from",
]


# Casework's tie sources (shared cases, referrals) register themselves here; imported last, after
# register_observed_source exists, so that every process that asks for the network has them.
import reticulist.casework.network_sources  # noqa: E402, F401
