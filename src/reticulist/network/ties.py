"""Ties as plain data: the sources a tie can come from, the values a tie holds, observed ties worked out
from who met whom, and the combination of several sources into one edge list for the metrics.

No database here. People are positions 0..n-1 in a list the caller keeps; every function takes and
returns NumPy arrays or plain Python values.

Sources (see docs/network.md, "Where ties come from"):

- ``reported``: a member rated their tie to someone in a barometer round's network section (directed).
- ``imported``: a tie loaded from a spreadsheet with ``reticulist network import`` (directed).
- ``co_attendance``: two people both at the same meeting, present or with a deputy attending for them
  (undirected; weight = number of meetings shared).
- ``shared_actions``: two people who each own an action raised at the same meeting (undirected; weight =
  number of such meetings).
- ``shared_cases`` and ``referrals`` come from casework (``reticulist.casework.network_sources``), which
  registers them with the service's ``register_observed_source``.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import numpy as np

# Frequency codes 0-4, as stored and as the import takes them in words.
FREQUENCIES: tuple[str, ...] = ("never", "yearly", "quarterly", "monthly", "weekly")
TRUST_FIELDS: tuple[str, ...] = ("trust_reliable", "trust_mission", "trust_open")
VALUE_FIELDS: tuple[str, ...] = ("value_influence", "value_involvement", "value_resources")
RATING_FIELDS: tuple[str, ...] = TRUST_FIELDS + VALUE_FIELDS
ATTRIBUTE_FIELDS: tuple[str, ...] = ("frequency", *RATING_FIELDS)

REPORTED = "reported"
IMPORTED = "imported"
CO_ATTENDANCE = "co_attendance"
SHARED_ACTIONS = "shared_actions"
STORED_SOURCES: tuple[str, ...] = (REPORTED, IMPORTED)
# Sources that casework will add; named here so asking for them gets a clear "not built yet".
PLANNED_SOURCES: dict[str, str] = {
    "shared_cases": "shared cases come from casework, which is not built yet",
    "referrals": "referrals come from casework, which is not built yet",
}


# --- values of one tie -------------------------------------------------------------------------------
def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: Any) -> int | None:
    """A whole number from a cell (7, 7.0, "7", " 7.0 "), or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number.is_integer() else None


def parse_frequency(value: Any) -> int | None:
    """How often two people work together, as 0-4: a word (never, yearly, quarterly, monthly, weekly, in
    any case) or the code itself. Blank is unknown (None). Raises ValueError with the words allowed.

    >>> parse_frequency("Monthly"), parse_frequency(4), parse_frequency("")
    (3, 4, None)
    """
    if _blank(value):
        return None
    text = str(value).strip().lower()
    if text in FREQUENCIES:
        return FREQUENCIES.index(text)
    code = _whole(value)
    if code is not None and 0 <= code <= 4:
        return code
    raise ValueError(f'"{str(value).strip()}" is not a frequency: give {", ".join(FREQUENCIES)}, or 0-4')


def parse_rating(value: Any) -> int | None:
    """A trust or value rating, 1-4 (blank is unknown). Raises ValueError naming the value."""
    if _blank(value):
        return None
    code = _whole(value)
    if code is None or not 1 <= code <= 4:
        raise ValueError(f'"{str(value).strip()}" is not a whole number from 1 to 4')
    return code


# Tie strengths and source weights are counts and multipliers: past this they are typing slips, and sums
# of numbers near 1e308 overflow to infinity in every figure.
MAX_WEIGHT = 1_000_000.0


def parse_weight(value: Any) -> float:
    """A tie's weight: a number above 0 and at most MAX_WEIGHT (blank is 1). Raises ValueError naming
    the value."""
    if _blank(value):
        return 1.0
    try:
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        number = float(str(value).strip()) if number is None else number
    except ValueError:
        number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise ValueError(f'"{str(value).strip()[:40]}" is not a number above 0')
    if number > MAX_WEIGHT:
        raise ValueError(f'"{str(value).strip()[:40]}" is more than {MAX_WEIGHT:,.0f}')
    return number


@dataclass(frozen=True)
class TieValues:
    """One directed tie to store, checked for shape (people ids, ranges) but not yet against the register.
    ``row`` is the spreadsheet row it came from, for messages."""

    from_person_id: int
    to_person_id: int
    observed_on: date
    weight: float = 1.0
    frequency: int | None = None
    trust_reliable: int | None = None
    trust_mission: int | None = None
    trust_open: int | None = None
    value_influence: int | None = None
    value_involvement: int | None = None
    value_resources: int | None = None
    row: int | None = None

    def attributes(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in ATTRIBUTE_FIELDS}


# --- observed ties -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Edges:
    """The ties of one source among n people: parallel arrays of person positions and weights, plus,
    for stored ties, the frequency and ratings per tie (float, NaN where unknown)."""

    source: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    directed: bool
    attributes: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.source.size)


def empty_edges(directed: bool) -> Edges:
    return Edges(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64), directed)


def co_membership(memberships: Iterable[tuple[Hashable, int]]) -> Edges:
    """Undirected ties between people who share a group, weighted by the number of groups shared.

    ``memberships`` are (group, person position) pairs, e.g. (meeting id, person) for everyone present
    at a meeting; a person listed twice in one group counts once. Pairs come out with source < target.

    >>> e = co_membership([("m1", 0), ("m1", 1), ("m2", 0), ("m2", 1), ("m2", 2)])
    >>> list(zip(e.source.tolist(), e.target.tolist(), e.weight.tolist()))
    [(0, 1, 2.0), (0, 2, 1.0), (1, 2, 1.0)]
    """
    groups: dict[Hashable, set[int]] = {}
    for group, person in memberships:
        groups.setdefault(group, set()).add(int(person))
    chunks: list[np.ndarray] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        people = np.fromiter(sorted(members), np.int64, len(members))
        upper_a, upper_b = np.triu_indices(people.size, 1)
        chunks.append(np.stack([people[upper_a], people[upper_b]], axis=1))
    if not chunks:
        return empty_edges(directed=False)
    pairs, counts = np.unique(np.concatenate(chunks), axis=0, return_counts=True)
    return Edges(pairs[:, 0].copy(), pairs[:, 1].copy(), counts.astype(np.float64), directed=False)


# --- combining sources -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CombinedEdges:
    """Ties from several sources in one edge list, with the sources kept apart.

    ``weight`` is the sum over sources of (the source's weight for the tie x the source's multiplier);
    ``by_source[name]`` is that source's part (0 where it has no such tie); bit ``i`` of ``sources`` is
    set when ``source_names[i]`` contributed. A directed tie (reported, imported) and an undirected one
    (observed) between the same two people are separate edges unless symmetrised.
    """

    source: np.ndarray  # int64 person positions
    target: np.ndarray
    weight: np.ndarray  # float64
    directed: np.ndarray  # bool, per tie
    sources: np.ndarray  # uint16 bitmask over source_names
    source_names: tuple[str, ...]
    by_source: dict[str, np.ndarray]
    attributes: dict[str, np.ndarray]  # frequency and ratings, float64, NaN where unknown

    def __len__(self) -> int:
        return int(self.source.size)

    def from_source(self, name: str) -> np.ndarray:
        """A boolean mask of the ties ``name`` contributed to."""
        return (self.sources & np.uint16(1 << self.source_names.index(name))) != 0

    def _mean_of(self, names: Sequence[str]) -> np.ndarray:
        stacked = np.stack([self.attributes[n] for n in names]) if len(self) else np.zeros((len(names), 0))
        known = ~np.isnan(stacked)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(known.any(axis=0), np.nansum(stacked, axis=0) / known.sum(axis=0), np.nan)

    @property
    def trust(self) -> np.ndarray:
        """Per tie, the mean of the trust ratings given (reliable, mission, open); NaN where none is."""
        return self._mean_of(TRUST_FIELDS)

    @property
    def value(self) -> np.ndarray:
        """Per tie, the mean of the value ratings given (influence, involvement, resources); NaN if none."""
        return self._mean_of(VALUE_FIELDS)


def combine(
    n_people: int, parts: Mapping[str, Edges], multipliers: Mapping[str, float], min_weight: float = 0.0
) -> CombinedEdges:
    """One edge list from several sources' ties (see CombinedEdges). Ties whose combined weight is below
    ``min_weight`` are left out. Where two stored sources rate the same tie, the first in ``parts``
    order gives its frequency and ratings (the service passes reported before imported).

    >>> a = Edges(np.array([0]), np.array([1]), np.array([1.0]), directed=True)
    >>> b = co_membership([("m", 0), ("m", 1)])
    >>> c = combine(2, {"reported": a, "co_attendance": b}, {"reported": 1.0, "co_attendance": 0.5})
    >>> c.weight.tolist(), c.directed.tolist(), c.sources.tolist()
    ([0.5, 1.0], [False, True], [2, 1])
    """
    if len(parts) > 16:
        raise ValueError("at most 16 sources can be combined")
    names = tuple(parts)
    keys_list, weights_list, bits_list = [], [], []
    for index, name in enumerate(names):
        edges = parts[name]
        a, b = edges.source.astype(np.int64), edges.target.astype(np.int64)
        if not edges.directed:
            a, b = np.minimum(a, b), np.maximum(a, b)
        keys_list.append((a * n_people + b) * 2 + int(edges.directed))
        weights_list.append(edges.weight.astype(np.float64) * float(multipliers[name]))
        bits_list.append(np.full(a.size, index, np.int64))
    keys = np.concatenate(keys_list) if keys_list else np.zeros(0, np.int64)
    unique, inverse = np.unique(keys, return_inverse=True)
    inverse = inverse.reshape(-1)
    which = np.concatenate(bits_list) if bits_list else np.zeros(0, np.int64)
    weights = np.concatenate(weights_list) if weights_list else np.zeros(0)
    by_source: dict[str, np.ndarray] = {}
    for index, name in enumerate(names):
        part = np.zeros(unique.size)
        np.add.at(part, inverse[which == index], weights[which == index])
        by_source[name] = part
    total = np.sum(list(by_source.values()), axis=0) if names else np.zeros(0)
    mask = np.zeros(unique.size, np.uint16)
    np.bitwise_or.at(mask, inverse, (np.uint16(1) << which.astype(np.uint16)).astype(np.uint16))
    attributes = {name: np.full(unique.size, np.nan) for name in ATTRIBUTE_FIELDS}
    for index in reversed(range(len(names))):  # earlier sources overwrite later ones
        edges = parts[names[index]]
        rows = inverse[which == index]
        for attribute, values in edges.attributes.items():
            known = ~np.isnan(values)
            attributes[attribute][rows[known]] = values[known]
    keep = total >= min_weight if min_weight > 0 else np.ones(unique.size, bool)
    pair, directed = np.divmod(unique, 2)
    source, target = np.divmod(pair, max(n_people, 1))
    return CombinedEdges(
        source=source[keep],
        target=target[keep],
        weight=total[keep],
        directed=directed[keep].astype(bool),
        sources=mask[keep],
        source_names=names,
        by_source={k: v[keep] for k, v in by_source.items()},
        attributes={k: v[keep] for k, v in attributes.items()},
    )


def symmetrise(edges: CombinedEdges, n_people: int) -> CombinedEdges:
    """Every tie made undirected: a->b, b->a and a-b between the same two people become one tie whose
    weight (and each source's part) is their sum, whose sources are all of theirs, and whose frequency
    and ratings are the mean of those known."""
    a, b = np.minimum(edges.source, edges.target), np.maximum(edges.source, edges.target)
    unique, inverse = np.unique(a * n_people + b, return_inverse=True)
    inverse = inverse.reshape(-1)

    def summed(values: np.ndarray) -> np.ndarray:
        out = np.zeros(unique.size)
        np.add.at(out, inverse, values)
        return out

    mask = np.zeros(unique.size, np.uint16)
    np.bitwise_or.at(mask, inverse, edges.sources)
    attributes = {}
    for name, values in edges.attributes.items():
        known = ~np.isnan(values)
        count = summed(known.astype(np.float64))
        total = summed(np.where(known, values, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            attributes[name] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    source, target = np.divmod(unique, max(n_people, 1))
    return CombinedEdges(
        source=source,
        target=target,
        weight=summed(edges.weight),
        directed=np.zeros(unique.size, bool),
        sources=mask,
        source_names=edges.source_names,
        by_source={k: summed(v) for k, v in edges.by_source.items()},
        attributes=attributes,
    )


# --- the network handed to the metrics ---------------------------------------------------------------
@dataclass(frozen=True)
class Network:
    """A partnership's network on a date, as plain data for ``reticulist.network.metrics``.

    People are positions 0..n-1. ``organisation[i]`` is a code into ``organisation_ids`` /
    ``organisation_labels`` (likewise ``profession``; a person with no profession recorded gets the
    code of the label "No profession recorded", whose id is None); ``tier[i]`` is the hierarchy tier 1-5.
    ``labels[i]`` is the full name when ``names_shown``, otherwise a label from ``pseudonyms`` (never a
    group smaller than ``LABEL_THRESHOLD``, numbered in a keyed order); ``person_ids`` is None when names
    are not shown, since an id leads to the register page. ``shown_organisation`` and
    ``shown_profession`` are what pages show beside a label (``NOT_SHOWN`` where that would single out a
    small group; empty when names are shown: then the real ones). The codes stay real for the figures.
    ``edges`` holds the ties (see CombinedEdges); ``multipliers`` the weight given to each source.
    """

    partnership_id: int
    as_of: date
    since: date | None
    names_shown: bool
    person_ids: np.ndarray | None
    labels: tuple[str, ...]
    organisation: np.ndarray
    organisation_ids: tuple[int, ...]
    organisation_labels: tuple[str, ...]
    profession: np.ndarray
    profession_ids: tuple[int | None, ...]
    profession_labels: tuple[str, ...]
    tier: np.ndarray
    edges: CombinedEdges
    multipliers: dict[str, float]
    shown_organisation: tuple[str, ...] = ()
    shown_profession: tuple[str, ...] = ()

    @property
    def n_people(self) -> int:
        return len(self.labels)

    def organisation_of(self, i: int) -> str:
        """Person i's organisation as the viewer may see it."""
        if self.shown_organisation:
            return self.shown_organisation[i]
        return self.organisation_labels[self.organisation[i]]

    def profession_of(self, i: int) -> str:
        """Person i's profession as the viewer may see it."""
        if self.shown_profession:
            return self.shown_profession[i]
        return self.profession_labels[self.profession[i]]

    def tier_of(self, i: int) -> int | None:
        """Person i's hierarchy tier, only for those who may see names: with a label, a tier would pick
        one person out of their group (the one director among five officers)."""
        return int(self.tier[i]) if self.names_shown else None

    def colour_groups(self, kind: str) -> tuple[np.ndarray, tuple[str, ...]]:
        """Codes and labels to colour people by (``kind``: organisation or profession) as the viewer may
        see them: the real groups with names, else the groups shown beside labels, "Not shown" last."""
        codes, labels = (
            (self.organisation, self.organisation_labels)
            if kind == "organisation"
            else (self.profession, self.profession_labels)
        )
        shown = self.shown_organisation if kind == "organisation" else self.shown_profession
        if not shown:
            return codes, labels
        order = [label for label in labels if label in set(shown)]
        if NOT_SHOWN in shown and NOT_SHOWN not in order:
            order.append(NOT_SHOWN)
        code_of = {label: n for n, label in enumerate(order)}
        return np.array([code_of[x] for x in shown], np.int64), tuple(order)

    def symmetrised(self) -> Network:
        """The same network with every tie undirected (see ``symmetrise``)."""
        return replace(self, edges=symmetrise(self.edges, self.n_people))

    def for_metrics(self, directed: bool | None = None) -> dict[str, Any]:
        """Keyword arguments for ``reticulist.network.metrics.analyse_network``: organisation, profession,
        source, target, weight, directed, trust and value (the mean of a tie's trust and of its value
        ratings; None when no tie has any).

        The metrics take one direction for all ties. ``directed=None`` (default): directed when every tie
        is, otherwise every tie is symmetrised (see ``symmetrise``). ``directed=False``: symmetrised.
        ``directed=True``: stored ties keep their direction and each observed tie becomes two ties, one
        each way, with its full weight (as the metrics read an undirected tie: reported both ways).

        Example: ``analyse_network(**network_for(...).for_metrics())``.
        """
        edges = self.edges
        if directed is None:
            directed = bool(edges.directed.all()) if len(edges) else False
        if not directed:
            edges = symmetrise(edges, self.n_people) if edges.directed.any() else edges
            source, target, weight = edges.source, edges.target, edges.weight
            trust, value = edges.trust, edges.value
        else:
            both = ~edges.directed
            source = np.concatenate([edges.source, edges.target[both]])
            target = np.concatenate([edges.target, edges.source[both]])
            weight = np.concatenate([edges.weight, edges.weight[both]])
            trust = np.concatenate([edges.trust, edges.trust[both]])
            value = np.concatenate([edges.value, edges.value[both]])
        return {
            "organisation": self.organisation,
            "profession": self.profession,
            "source": source,
            "target": target,
            "weight": weight,
            "directed": directed,
            "trust": None if np.isnan(trust).all() else trust,
            "value": None if np.isnan(value).all() else value,
        }


# --- labels for people who may not see names ----------------------------------------------------------
LABEL_THRESHOLD = 5  # no label (nor organisation or profession shown beside it) describes fewer people
NOT_SHOWN = "Not shown"
ANOTHER_ORGANISATION = "Another organisation"


@dataclass(frozen=True)
class Pseudonyms:
    """Each person's label and the organisation and profession shown beside it (``NOT_SHOWN`` where the
    group would be too small). ``groups[i]`` is the set of positions sharing person i's label before its
    number: what the label says about them."""

    labels: tuple[str, ...]
    organisation: tuple[str, ...]
    profession: tuple[str, ...]
    groups: tuple[frozenset[int], ...]


def pseudonyms(
    organisation_labels: Sequence[str],
    profession_labels: Sequence[str],
    keys: Sequence[str],
    *,
    threshold: int = LABEL_THRESHOLD,
) -> Pseudonyms:
    """Labels that name no one and single out no small group, for people who may not see names.

    Each person is put in the finest group of at least ``threshold`` people among those given:
    "Organisation · Profession", else (the rest of their organisation) "Organisation", else (the rest
    of their profession, across organisations) "Another organisation · Profession", else "Person". If
    that last group is smaller than ``threshold`` the smallest other groups join it until it is not, so
    every label describes at least ``threshold`` people (or everyone, when fewer are given).

    Within a group people are numbered #1, #2, ... in the order of ``keys``: keyed hashes the caller
    makes from a secret, so the numbers follow no order the register gives away (not the order people
    were added, nor names, nor ids).

    >>> organisations = ["Police"] * 3 + ["Health"] * 3
    >>> p = pseudonyms(organisations, ["Officer"] * 3 + ["Nurse"] * 2 + ["GP"], list("cabfed"), threshold=3)
    >>> p.labels[:3]
    ('Police · Officer #3', 'Police · Officer #1', 'Police · Officer #2')
    >>> p.labels[3:]
    ('Health #3', 'Health #2', 'Health #1')
    >>> p.profession[3:]
    ('Not shown', 'Not shown', 'Not shown')
    """
    n = len(organisation_labels)
    if not (len(profession_labels) == len(keys) == n):
        raise ValueError("organisation_labels, profession_labels and keys must have one entry per person")
    k = max(int(threshold), 1)
    # (organisation shown, profession shown) -> positions; None means not shown.
    groups: dict[tuple[str | None, str | None], list[int]] = {}

    def settle(buckets: dict[tuple[str | None, str | None], list[int]]) -> list[int]:
        left: list[int] = []
        for shown, members in buckets.items():
            if len(members) >= k:
                groups[shown] = members
            else:
                left.extend(members)
        return left

    def by(members: Sequence[int], key: Any) -> dict[tuple[str | None, str | None], list[int]]:
        out: dict[tuple[str | None, str | None], list[int]] = {}
        for i in members:
            out.setdefault(key(i), []).append(i)
        return out

    everyone = range(n)
    left = settle(by(everyone, lambda i: (organisation_labels[i], profession_labels[i])))
    left = settle(by(left, lambda i: (organisation_labels[i], None)))
    left = settle(by(left, lambda i: (None, profession_labels[i])))
    if left:
        rest = list(left)
        # Too few left for a "Person" group of their own: fold the smallest groups in with them.
        while len(rest) < k and groups:
            smallest = min(groups, key=lambda g: (len(groups[g]), str(g)))
            rest.extend(groups.pop(smallest))
        groups[(None, None)] = rest
    labels = [""] * n
    organisation = [NOT_SHOWN] * n
    profession = [NOT_SHOWN] * n
    member_sets: list[frozenset[int]] = [frozenset()] * n
    for (org, prof), members in groups.items():
        if org is not None and prof is not None:
            stem = f"{org} · {prof}"
        elif org is not None:
            stem = org
        elif prof is not None:
            stem = f"{ANOTHER_ORGANISATION} · {prof}"
        else:
            stem = "Person"
        together = frozenset(members)
        for rank, i in enumerate(sorted(members, key=lambda i: (keys[i], i)), start=1):
            labels[i] = f"{stem} #{rank}"
            organisation[i] = org if org is not None else NOT_SHOWN
            profession[i] = prof if prof is not None else NOT_SHOWN
            member_sets[i] = together
    return Pseudonyms(tuple(labels), tuple(organisation), tuple(profession), tuple(member_sets))
