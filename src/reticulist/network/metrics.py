"""Network metrics: who bridges organisations and professions (boundary spanners), where the silos are, and
what falls apart if one person leaves (key-person risk).

Pure computation: NumPy arrays in, frozen dataclasses of arrays out; no database, no web. The shortest-path
and biconnected-component work runs in igraph's compiled core; everything else is vectorised NumPy over
ties or two-paths, with Python loops only over articulation points (few) and groups.

Input
-----
People are positions 0..n-1. ``organisation`` and ``profession`` are int arrays of shape (n,) holding a
code 0.. per person (an index into the caller's labels). Ties are parallel arrays ``source``, ``target``
and optionally ``weight`` (> 0, default 1; e.g. frequency or meetings shared), ``trust`` and ``value``
(1-4, NaN where not rated).

``directed=True``: reported ties, "``source`` says they work with ``target``". ``directed=False``:
observed ties (co-working, co-attendance), no direction. Rows naming the same tie (the same ordered pair
when directed, the same unordered pair when not) are merged into one tie: weights add up, trust and
value are averaged over the rows that rate them. A person tied to themself is refused.

Which graph each figure uses
----------------------------
* The *symmetrised* graph (an undirected tie wherever there is a tie either way; its weight is the sum of
  the weights both ways) gives components, degree centralisation, Burt's measures, organisations
  reached and key-person risk: who can reach whom does not depend on who reported the tie.
* The *directed* graph gives in/out degree, reciprocity and Gould-Fernandez brokerage, and betweenness
  when ``directed=True``. For an undirected network every tie is read as reported both ways.

Figures
-------
Whole network: people, ties, density (ties / possible ties: n(n-1) directed, n(n-1)/2 undirected),
components (weak for directed; an isolated person is a component) and the largest's share of people,
reciprocity (directed: the share of ties whose reverse tie exists), Freeman degree centralisation
(symmetrised: sum over people of (max degree - degree) / ((n-1)(n-2)), 1 for a star, 0 when all degrees
are equal; for directed networks also in- and out-degree centralisation with denominator (n-1)^2), the
share of ties crossing an organisation boundary and a profession boundary, Krackhardt's E-I index
(E - I) / (E + I) with E ties between groups and I ties within (overall; per group with E its members'
ties to other groups and I the ties among its members; -1 is a closed silo, +1 all outward), and mean
trust and value per organisation and overall (per organisation: ties reported by its members when
directed, ties touching it when undirected).

Per person: degree (distinct people tied either way) and weighted degree; in/out for directed networks;
normalised betweenness; Burt's effective size and constraint; Gould-Fernandez brokerage counts by
organisation and by profession; organisations and professions reached; key-person risk.

Betweenness: exact (Brandes, igraph), on the directed graph when ``directed`` else the undirected one,
weights ignored (tie weights here are strengths, not distances: treating frequency as length would make
the closest colleagues the farthest apart). Normalised as networkx does: divided by (n-1)(n-2) for
directed and (n-1)(n-2)/2 for undirected graphs, n counting everyone. On large graphs (``n x ties`` above
``EXACT_BETWEENNESS_LIMIT``, or when ``betweenness_sources`` is given) it is estimated from k sources drawn
without replacement with a seeded generator: shortest-path dependencies from those sources only (igraph's
``sources=``), scaled by n/k. The result then says so: ``betweenness_approximate`` and
``betweenness_sources``.

Burt's effective size and constraint are computed on the symmetrised weighted graph exactly as networkx
defines them (``nx.effective_size`` and ``nx.constraint`` with ``weight``): with p_ij = w_ij / sum_k w_ik
and m_jq = w_jq / max_k w_jk, constraint_i = sum_j (p_ij + sum_q p_iq p_qj)^2 and effective size_i =
sum_j (1 - sum_q p_iq m_jq), over i's contacts j and q. Both are NaN for a person with no ties. (For a
directed graph networkx itself uses the same both-ways weights, but gives NaN to anyone who sent no tie;
here everyone with a tie either way has a figure.)

Brokerage (Gould and Fernandez 1989), on the directed graph: every two-path a -> b -> c with a != c and no
tie a -> c is brokered by b. Its role depends on the groups of (a, b, c): coordinator A -> A -> A,
gatekeeper A -> B -> B (b lets an outsider into their group), representative A -> A -> B (b speaks for
their group outward), itinerant (consultant) A -> B -> A (an outsider linking two members of one group),
liaison A -> B -> C (three different groups). Counts are pairs (a, c) per broker, so a pair is counted
once per broker between them. For an undirected network each unordered pair {a, c} is counted once, in
one role: coordinator, itinerant and liaison counts are halved from the both-ways reading, and a pair of
one insider and one outsider, which the both-ways reading sees once as representative and once as
gatekeeper, is one *representative/gatekeeper* pair: without directions nothing says whether b speaks
for their group or lets the outsider in (Gould and Fernandez tell the two apart only by the direction of
flow). Its count is kept in the representative column and the gatekeeper column is 0; ``role_names``
gives the roles a network can tell apart. Cross-organisation brokerage = gatekeeper + representative +
itinerant + liaison by organisation: every brokered pair with an end outside b's group, once.

Key-person risk: the number of pairs of people in different organisations who can reach each other now
(in the symmetrised graph) and could not if this person left. It counts pairs between others (only an
articulation point has any) plus the person's own pairs with everyone in other organisations that they
reach, since those stop too: ``key_person_risk = cut_pairs + own_pairs``. The ranking and the change
between dates use ``cut_pairs``: one's own pairs only say how far one reaches. Computed in one pass, not by
removing each person and recounting: removing an articulation point v splits its component into the
pieces hanging off v in the block-cut tree (the subtrees of v's child blocks, plus the rest of the
component above v). With P_o the members of organisation o in piece P, the cross-organisation pairs
between pieces P and Q are |P||Q| - sum_o P_o Q_o, and summed over pairs of pieces that is
(S^2 - sum_P |P|^2) / 2 - (sum_o C_o^2 - sum_P sum_o P_o^2) / 2, with S the people in the component other
than v and C_o their organisation counts. The same pieces say which organisations would lose their only
path to another, in the whole network: organisations o and q reach each other when some component holds
members of both, so they lose that when no piece holds both and no other component does either (a count
per pair of organisations of the components holding both, made once, answers that). The loss is mutual:
``lost_paths`` lists it under each of the two as target, except towards v's organisation when v was its
only member in the whole network (it leaves with them); q may be v's own organisation when v is its only
member in the component.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import igraph as ig
import numpy as np

# Exact betweenness costs about n x ties shortest-path steps: 20,000 people with 200,000 ties take about
# two minutes; above this product the default is an estimate from sampled sources.
EXACT_BETWEENNESS_LIMIT = 500_000_000
# Sources sampled by default: on 20,000 people with 200,000 ties about 10 s, and the top 50 mostly right
# (benchmarks/network_analysis.py measures the error against the exact figure).
SAMPLED_SOURCES = 2_000
# Two-paths enumerated at a time (three int64 arrays of this length): bounds memory on large graphs.
TWO_PATH_CHUNK = 2_000_000

ROLES: tuple[str, ...] = ("coordinator", "gatekeeper", "representative", "itinerant", "liaison")
COORDINATOR, GATEKEEPER, REPRESENTATIVE, ITINERANT, LIAISON = range(5)
CROSS_ROLES = (GATEKEEPER, REPRESENTATIVE, ITINERANT, LIAISON)
# Undirected ties cannot tell a representative from a gatekeeper: one role, counted in REPRESENTATIVE.
REPRESENTATIVE_GATEKEEPER = "representative/gatekeeper"
ROLE_COLUMN: dict[str, int] = {name: k for k, name in enumerate(ROLES)} | {
    REPRESENTATIVE_GATEKEEPER: REPRESENTATIVE
}


def role_names(directed: bool) -> tuple[str, ...]:
    """The brokerage roles a network can tell apart, in column order (``ROLE_COLUMN`` gives each column).

    >>> role_names(False)
    ('coordinator', 'representative/gatekeeper', 'itinerant', 'liaison')
    """
    if directed:
        return ROLES
    return (ROLES[COORDINATOR], REPRESENTATIVE_GATEKEEPER, ROLES[ITINERANT], ROLES[LIAISON])


# (organisation q, the organisations that would lose their only path to q), most losers first.
LostPaths = tuple[tuple[int, tuple[int, ...]], ...]

# Weights of the boundary-spanner score (see rank_boundary_spanners).
SCORE_WEIGHTS = {"betweenness": 0.3, "brokerage": 0.3, "organisations_reached": 0.2, "key_person": 0.2}


# --- input -----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Ties:
    """Validated ties, one row per distinct tie (see the module docstring for merging)."""

    n: int
    source: np.ndarray  # int64
    target: np.ndarray  # int64; source < target when undirected
    weight: np.ndarray  # float64
    trust: np.ndarray | None  # float64, NaN where no row rated the tie
    value: np.ndarray | None
    directed: bool

    def __len__(self) -> int:
        return int(self.source.size)


def _codes(name: str, codes: np.ndarray | Sequence[int], n: int | None) -> np.ndarray:
    array = np.asarray(codes)
    if array.ndim != 1:
        raise ValueError(f"{name}: must be a one-dimensional array of codes")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name}: codes must be whole numbers")
    array = array.astype(np.int64)
    if n is not None and array.size != n:
        raise ValueError(f"{name}: has {array.size} entries for {n} people")
    if array.size and array.min() < 0:
        row = int(np.argmax(array < 0))
        raise ValueError(f"{name}: person {row} has code {int(array[row])}; codes start at 0")
    return array


def _ratings(name: str, values: np.ndarray | Sequence[float] | None, m: int) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (m,):
        raise ValueError(f"{name}: has {array.size} entries for {m} ties")
    bad = ~np.isnan(array) & ((array < 1) | (array > 4))
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"{name}: row {row}: {array[row]:g} is not on the 1-4 scale")
    return array


def _mean_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Mean of the non-NaN ``values`` per index (NaN where none)."""
    known = ~np.isnan(values)
    total = np.bincount(index[known], weights=values[known], minlength=size)
    count = np.bincount(index[known], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def prepare_ties(
    n: int,
    source: np.ndarray | Sequence[int],
    target: np.ndarray | Sequence[int],
    weight: np.ndarray | Sequence[float] | None = None,
    *,
    directed: bool,
    trust: np.ndarray | Sequence[float] | None = None,
    value: np.ndarray | Sequence[float] | None = None,
) -> Ties:
    """Check the tie rows against ``n`` people and merge rows naming the same tie.

    Raises ValueError naming the field and row of the first problem; nothing is changed.
    """
    s = _codes("source", source, None)
    t = _codes("target", target, None)
    if s.size != t.size:
        raise ValueError(f"target: has {t.size} entries for {s.size} sources")
    m = s.size
    for name, array in (("source", s), ("target", t)):
        if m and array.max() >= n:
            row = int(np.argmax(array >= n))
            raise ValueError(f"{name}: row {row}: {int(array[row])} is not a person (0..{n - 1})")
    if m and (s == t).any():
        row = int(np.argmax(s == t))
        raise ValueError(f"target: row {row}: person {int(s[row])} is tied to themself")
    w = np.ones(m) if weight is None else np.asarray(weight, dtype=np.float64)
    if w.shape != (m,):
        raise ValueError(f"weight: has {w.size} entries for {m} ties")
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"weight: row {row}: {w[row]:g} is not a number above 0")
    tr = _ratings("trust", trust, m)
    va = _ratings("value", value, m)

    if not directed:
        s, t = np.minimum(s, t), np.maximum(s, t)
    key, inverse = np.unique(s * n + t, return_inverse=True)
    inverse = inverse.reshape(-1)
    return Ties(
        n=n,
        source=key // n if n else key,
        target=key % n if n else key,
        weight=np.bincount(inverse, weights=w, minlength=key.size),
        trust=None if tr is None else _mean_by(inverse, tr, key.size),
        value=None if va is None else _mean_by(inverse, va, key.size),
        directed=directed,
    )


# --- graph helpers ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _Arcs:
    """Directed arcs in compressed rows: the out-neighbours of a are ``head[start[a]:start[a+1]]``,
    sorted, with ``key = a * n + head`` sorted for membership tests."""

    n: int
    tail: np.ndarray
    head: np.ndarray
    weight: np.ndarray
    start: np.ndarray
    key: np.ndarray


def _arcs(n: int, tail: np.ndarray, head: np.ndarray, weight: np.ndarray) -> _Arcs:
    key = tail * n + head
    order = np.argsort(key, kind="stable")
    tail, head, weight, key = tail[order], head[order], weight[order], key[order]
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=start[1:])
    return _Arcs(n, tail, head, weight, start, key)


def _find(arcs: _Arcs, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    """Index of the arc tail -> head, or -1 where there is none."""
    if not arcs.key.size:
        return np.full(tail.size, -1, dtype=np.int64)
    query = tail * arcs.n + head
    pos = np.searchsorted(arcs.key, query)
    pos_clipped = np.minimum(pos, arcs.key.size - 1)
    return np.where(arcs.key[pos_clipped] == query, pos_clipped, -1)


def _two_paths(arcs: _Arcs, chunk: int = TWO_PATH_CHUNK):
    """Yield (first arc index, second arc index) of every two-path a -> b -> c, a chunk at a time.

    The first arc is a -> b, the second b -> c; a == c is included (the caller drops it). Chunks are cut
    between first arcs, so a chunk exceeds ``chunk`` only when one arc alone continues more ways.
    """
    onward = np.diff(arcs.start)[arcs.head]  # ways each arc a -> b continues: out-degree of b
    ends = np.cumsum(onward)
    first = 0
    while first < arcs.head.size:
        done = int(ends[first - 1]) if first else 0
        last = max(int(np.searchsorted(ends, done + chunk, side="right")), first + 1)
        counts = onward[first:last]
        total = int(counts.sum())
        if total:
            first_arc = np.repeat(np.arange(first, last), counts)
            offset = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
            second_arc = arcs.start[arcs.head[first_arc]] + offset
            yield first_arc, second_arc
        first = last


# --- results ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class GroupMixing:
    """Ties within and between the groups of one dimension (organisation or profession)."""

    crossing_share: float | None  # share of ties between different groups
    ei_index: float | None  # (E - I) / (E + I) over all ties
    external: np.ndarray  # per group: ties with exactly one end in the group
    internal: np.ndarray  # per group: ties with both ends in the group
    group_ei: np.ndarray  # per group: (E - I) / (E + I), NaN for a group with no ties


@dataclass(frozen=True, eq=False)
class WholeNetwork:
    people: int
    ties: int
    directed: bool
    density: float
    components: int  # weak components for directed networks; an isolated person counts as one
    largest_component_share: float  # share of people in the largest component
    isolated: int  # people with no ties
    reciprocity: float | None  # directed only
    degree_centralisation: float | None  # symmetrised; None under 3 people
    in_degree_centralisation: float | None  # directed only
    out_degree_centralisation: float | None
    organisations: GroupMixing
    professions: GroupMixing
    reachable_cross_organisation_pairs: int  # pairs in different organisations that can reach each other
    mean_trust: float | None
    mean_value: float | None
    trust_by_organisation: np.ndarray | None  # NaN where no rated tie
    value_by_organisation: np.ndarray | None


@dataclass(frozen=True, eq=False)
class PeopleMetrics:
    """Per-person figures, one array entry per person."""

    degree: np.ndarray  # distinct people tied either way
    weighted_degree: np.ndarray  # sum of tie weights either way
    in_degree: np.ndarray  # directed: ties received; undirected: equal to degree
    out_degree: np.ndarray
    in_weight: np.ndarray
    out_weight: np.ndarray
    betweenness: np.ndarray  # normalised; an estimate when betweenness_approximate
    betweenness_approximate: bool
    betweenness_sources: int  # sources the betweenness was computed from (n when exact)
    effective_size: np.ndarray  # NaN with no ties
    constraint: np.ndarray  # NaN with no ties
    # (n, 5) counts in ROLES order, groups = organisations; undirected: representative/gatekeeper pairs in
    # the representative column, gatekeeper 0 (see role_names)
    brokerage_organisation: np.ndarray
    brokerage_profession: np.ndarray  # (n, 5), groups = professions
    organisations_reached: np.ndarray  # distinct organisations among contacts, own excluded
    professions_reached: np.ndarray
    cut_pairs: np.ndarray  # cross-organisation pairs of others that would lose their last path
    own_pairs: np.ndarray  # cross-organisation people this person reaches
    organisations_cut_off: np.ndarray  # organisations that would lose their only path to another one

    @property
    def key_person_risk(self) -> np.ndarray:
        """All cross-organisation pairs that stop reaching each other if the person leaves, their own
        included."""
        return self.cut_pairs + self.own_pairs

    @property
    def cross_organisation_brokerage(self) -> np.ndarray:
        return self.brokerage_organisation[:, list(CROSS_ROLES)].sum(axis=1)


@dataclass(frozen=True, eq=False)
class NetworkAnalysis:
    organisation: np.ndarray
    profession: np.ndarray
    ties: Ties
    whole: WholeNetwork
    people: PeopleMetrics
    # person -> ((organisation q, the organisations that would lose their only path to q), ...), most first
    lost_paths: dict[int, LostPaths]
    # person -> organisations that would lose their only path to at least one other organisation
    cut_off: dict[int, tuple[int, ...]]
    # ties whose removal alone would cut cross-organisation pairs apart: (a, b, pairs cut), a < b
    bridge_ties: np.ndarray


# --- whole network ---------------------------------------------------------------------------------------
def _mixing(groups: np.ndarray, a: np.ndarray, b: np.ndarray) -> GroupMixing:
    size = int(groups.max()) + 1 if groups.size else 0
    ga, gb = groups[a], groups[b]
    cross = ga != gb
    m = a.size
    external = np.bincount(ga[cross], minlength=size) + np.bincount(gb[cross], minlength=size)
    internal = np.bincount(ga[~cross], minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        group_ei = (external - internal) / (external + internal)
    e = int(cross.sum())
    return GroupMixing(
        crossing_share=e / m if m else None,
        ei_index=(e - (m - e)) / m if m else None,
        external=external,
        internal=internal,
        group_ei=group_ei,
    )


def _centralisation(degree: np.ndarray, denominator: float) -> float | None:
    if degree.size < 3 or denominator <= 0:
        return None
    return float((degree.max() - degree).sum() / denominator)


def _cross_reachable(component: np.ndarray, organisation: np.ndarray) -> int:
    sizes = np.bincount(component)
    same = np.unique(component * (int(organisation.max()) + 1) + organisation, return_counts=True)[1]
    return int((np.sum(sizes.astype(np.int64) ** 2) - np.sum(same.astype(np.int64) ** 2)) // 2)


# --- brokerage -------------------------------------------------------------------------------------------
def _brokerage(arcs: _Arcs, groupings: Sequence[np.ndarray], undirected: bool) -> list[np.ndarray]:
    """Gould-Fernandez counts (n, 5) per grouping, from one pass over the open two-paths."""
    n = arcs.n
    counts = [np.zeros(5 * n, dtype=np.int64) for _ in groupings]
    for first, second in _two_paths(arcs):
        a, b, c = arcs.tail[first], arcs.head[first], arcs.head[second]
        keep = a != c
        keep[keep] = _find(arcs, a[keep], c[keep]) < 0  # a -> c tied: b brokers nothing for them
        a, b, c = a[keep], b[keep], c[keep]
        for total, groups in zip(counts, groupings, strict=True):
            ga, gb, gc = groups[a], groups[b], groups[c]
            ab, bc = ga == gb, gb == gc
            role = np.where(
                ab,
                np.where(bc, COORDINATOR, REPRESENTATIVE),
                np.where(bc, GATEKEEPER, np.where(ga == gc, ITINERANT, LIAISON)),
            )
            total += np.bincount(b * 5 + role, minlength=5 * n)
    out = [c.reshape(n, 5) for c in counts]
    if undirected:  # each unordered pair was seen both ways
        for c in out:
            c[:, [COORDINATOR, ITINERANT, LIAISON]] //= 2
            # An insider-outsider pair was seen once from each end: representative from the insider,
            # gatekeeper from the outsider. It is one pair in one (combined) role.
            c[:, GATEKEEPER] = 0
    return out


# --- Burt ------------------------------------------------------------------------------------------------
def _burt(sym: _Arcs) -> tuple[np.ndarray, np.ndarray]:
    """Effective size and constraint on the symmetrised weighted graph (networkx's definitions)."""
    n = sym.n
    strength = np.bincount(sym.tail, weights=sym.weight, minlength=n)
    strongest = np.zeros(n)
    np.maximum.at(strongest, sym.tail, sym.weight)
    p = sym.weight / strength[sym.tail]  # p_ij, by arc i -> j
    indirect = np.zeros(sym.tail.size)  # sum_q p_iq p_qj, by arc i -> j
    redundancy = np.zeros(n)
    for first, second in _two_paths(sym):
        i, j = sym.tail[first], sym.head[second]
        closing = _find(sym, i, j)  # arc i -> j: only contacts j of i count
        tied = closing >= 0
        first, second, closing = first[tied], second[tied], closing[tied]
        indirect += np.bincount(closing, weights=p[first] * p[second], minlength=indirect.size)
        # m_jq is the reverse of the second arc q -> j; the symmetric graph has the same weight both ways
        reverse_m = sym.weight[second] / strongest[sym.head[second]]
        redundancy += np.bincount(sym.tail[first], weights=p[first] * reverse_m, minlength=n)
    degree = np.diff(sym.start).astype(np.float64)
    has = degree > 0
    effective = np.where(has, degree - redundancy, np.nan)
    constraint = np.where(has, np.bincount(sym.tail, weights=(p + indirect) ** 2, minlength=n), np.nan)
    return effective, constraint


# --- betweenness -----------------------------------------------------------------------------------------
def _betweenness(
    graph: ig.Graph, directed: bool, sources: int | None, seed: int
) -> tuple[np.ndarray, bool, int]:
    n = graph.vcount()
    if n < 3:
        return np.zeros(n), False, n
    if sources is None and n * graph.ecount() > EXACT_BETWEENNESS_LIMIT:
        sources = SAMPLED_SOURCES
    if sources is not None and sources < n:
        if sources < 1:
            raise ValueError(f"betweenness_sources: must be at least 1, not {sources}")
        chosen = np.random.default_rng(seed).choice(n, size=sources, replace=False)
        raw = np.asarray(graph.betweenness(directed=directed, sources=chosen.tolist())) * (n / sources)
        approximate, used = True, sources
    else:
        raw = np.asarray(graph.betweenness(directed=directed))
        approximate, used = False, n
    scale = 1.0 / ((n - 1) * (n - 2)) if directed else 2.0 / ((n - 1) * (n - 2))
    return raw * scale, approximate, used


# --- key-person risk -------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class _KeyPeople:
    cut_pairs: np.ndarray
    own_pairs: np.ndarray
    organisations_cut_off: np.ndarray
    lost_paths: dict[int, LostPaths]
    cut_off: dict[int, tuple[int, ...]]
    bridge_ties: np.ndarray


def _between_pieces(piece_sizes: list[int], piece_square_sums: list[int], total: int, squares: int) -> int:
    """Cross-organisation pairs between different pieces (see the module docstring)."""
    pairs = (total * total - sum(s * s for s in piece_sizes)) // 2
    same = (squares - sum(piece_square_sums)) // 2
    return int(pairs - same)


def _lost_paths(
    presence: np.ndarray, orgs: np.ndarray, elsewhere: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[LostPaths, np.ndarray]:
    """From a (pieces x organisations) presence table: per organisation q, the organisations that share no
    piece with it and meet it in no other component (they lose their only path to q), and which
    organisations lose a path to any. ``elsewhere(a, b)`` says, pair by pair, whether organisations a and b
    both have members in another component of the network."""
    patterns, which = np.unique(presence.T, axis=0, return_inverse=True)  # pieces holding each org
    which = which.reshape(-1)
    union = (patterns.astype(np.float64) @ presence.astype(np.float64)) > 0  # orgs sharing a piece
    losing = ~union[which]  # (target, organisation): the organisation loses its only path to the target
    target, loser = np.nonzero(losing)
    if target.size:  # few pairs: only those split apart here can still meet in another component
        losing[target, loser] = ~elsewhere(orgs[target], orgs[loser])
    keep = np.nonzero(losing.any(axis=1))[0]
    lost = tuple((int(orgs[q]), tuple(orgs[losing[q]].tolist())) for q in keep)
    return lost, orgs[losing[keep].any(axis=0)]


def _most_first(lost: LostPaths) -> LostPaths:
    return tuple(sorted(lost, key=lambda item: (-len(item[1]), item[0])))


def _key_people(graph: ig.Graph, organisation: np.ndarray) -> _KeyPeople:
    n = graph.vcount()
    n_orgs = int(organisation.max()) + 1 if n else 0
    component = np.asarray(graph.connected_components().membership, dtype=np.int64)
    comp_size = np.bincount(component)
    same_key = component * n_orgs + organisation
    keys, same_index, same_count = np.unique(same_key, return_inverse=True, return_counts=True)
    same_in_comp = same_count[same_index.reshape(-1)]
    own_pairs = comp_size[component] - same_in_comp
    cut_pairs = np.zeros(n, dtype=np.int64)
    cut_off_count = np.zeros(n, dtype=np.int64)
    lost_paths: dict[int, LostPaths] = {}
    cut_off: dict[int, tuple[int, ...]] = {}

    # Organisation counts per component, as a sparse table (component, organisation) -> members.
    comp_of_key, org_of_key = keys // max(n_orgs, 1), keys % max(n_orgs, 1)
    comp_key_start = np.searchsorted(comp_of_key, np.arange(comp_size.size + 1))

    def comp_counts(c: int) -> np.ndarray:
        counts = np.zeros(n_orgs, dtype=np.int64)
        lo, hi = comp_key_start[c], comp_key_start[c + 1]
        counts[org_of_key[lo:hi]] = same_count[lo:hi]
        return counts

    # Two organisations split apart in one component may still meet in another: a claim that one loses its
    # only path to the other must hold for the whole network. Count, per pair of organisations, the
    # components holding both, leaving out the component with the most organisations (its pairs alone could
    # number organisations squared); that one is asked about through its presence row instead.
    comp_orgs = np.diff(comp_key_start)
    widest = int(np.argmax(comp_orgs)) if comp_orgs.size else -1
    in_widest = np.zeros(n_orgs, dtype=bool)
    if widest >= 0:
        in_widest[org_of_key[comp_key_start[widest] : comp_key_start[widest + 1]]] = True
    chosen = np.nonzero((comp_of_key != widest) & (comp_orgs[comp_of_key] >= 2))[0]
    # Each key pairs with the later keys of its component (keys sort by component, then organisation).
    later = comp_key_start[comp_of_key[chosen] + 1] - chosen - 1
    first = np.repeat(chosen, later)
    second = first + 1 + np.arange(first.size) - np.repeat(np.cumsum(later) - later, later)
    co_key, co_count = np.unique(org_of_key[first] * n_orgs + org_of_key[second], return_counts=True)

    def elsewhere_in(c: int) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """Whether organisations a and b (both with members in component c) meet in another component."""
        counted_here = int(c != widest and comp_orgs[c] >= 2)  # c's own pairs are in co_count

        def elsewhere(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            query = lo * n_orgs + hi
            times = np.zeros(query.size, dtype=np.int64)  # components holding both
            if co_key.size:
                pos = np.minimum(np.searchsorted(co_key, query), co_key.size - 1)
                times = np.where(co_key[pos] == query, co_count[pos], 0)
            met = times > counted_here
            if c != widest:
                met |= in_widest[lo] & in_widest[hi]
            return met

        return elsewhere

    # A person whose organisation has no one else in their component: every other organisation there
    # loses its only path to that organisation when they leave, unless the two meet in another component.
    sole = (same_in_comp == 1) & (comp_size[component] > 1)

    blocks, articulation = graph.biconnected_components(return_articulation_points=True)
    blocks = [np.asarray(b, dtype=np.int64) for b in blocks]
    articulation = np.asarray(sorted(articulation), dtype=np.int64)
    is_articulation = np.zeros(n, bool)
    is_articulation[articulation] = True

    org_total = np.bincount(organisation, minlength=n_orgs)

    def with_sole(
        v: int, lost: LostPaths, losers: np.ndarray, present: np.ndarray, elsewhere
    ) -> tuple[LostPaths, np.ndarray]:
        """Add what v's leaving does when v is their organisation's only member in the component: the
        organisations ``present`` there that meet it in no other component lose their only path to it,
        and it to them when it has members elsewhere (with none, it leaves the network with v)."""
        own = int(organisation[v])
        stranded = present[~elsewhere(np.full(present.size, own), present)]
        if not stranded.size:
            return lost, losers
        by_target = dict(lost)
        if org_total[own] > 1:
            for q in stranded.tolist():
                by_target[q] = tuple(sorted((*by_target.get(q, ()), own)))
            losers = np.union1d(losers, [own])
        by_target[own] = tuple(stranded.tolist())
        return tuple(by_target.items()), np.union1d(losers, stranded)

    for v in np.nonzero(sole & ~is_articulation)[0].tolist():
        others = np.nonzero(comp_counts(int(component[v])))[0]
        others = others[others != organisation[v]]
        lost, losers = with_sole(v, (), others[:0], others, elsewhere_in(int(component[v])))
        if lost:
            lost_paths[v] = _most_first(lost)
            cut_off[v] = tuple(losers.tolist())
            cut_off_count[v] = losers.size

    bridges: list[tuple[int, int, int]] = []
    if not blocks:
        return _KeyPeople(
            cut_pairs, own_pairs, cut_off_count, lost_paths, cut_off, np.zeros((0, 3), dtype=np.int64)
        )

    # Block-cut tree: nodes 0..B-1 are blocks, B..B+A-1 articulation points, B+A a root above every tree.
    n_blocks = len(blocks)
    ap_node = np.full(n, -1, dtype=np.int64)
    ap_node[articulation] = n_blocks + np.arange(articulation.size)
    block_of = np.repeat(np.arange(n_blocks), [b.size for b in blocks])
    members = np.concatenate(blocks)
    in_tree = ap_node[members] >= 0
    tree_edges = np.stack([block_of[in_tree], ap_node[members[in_tree]]], axis=1)
    root = n_blocks + articulation.size
    # Root each tree at its largest block, so that the pieces worked out one by one are the small ones.
    block_comp = component[np.array([b[0] for b in blocks])]
    block_size = np.array([b.size for b in blocks])
    order = np.lexsort((-block_size, block_comp))
    first_in_comp = order[np.r_[True, block_comp[order][1:] != block_comp[order][:-1]]]
    tree_edges = np.concatenate([tree_edges, np.stack([np.full(first_in_comp.size, root), first_in_comp], 1)])
    tree = ig.Graph(n=root + 1, edges=tree_edges.tolist())
    preorder = np.asarray(tree.dfs(root)[0], dtype=np.int64)
    position = np.empty(root + 1, dtype=np.int64)
    position[preorder] = np.arange(root + 1)
    # In a tree the end of an edge visited later is the child.
    x, y = tree_edges[:, 0], tree_edges[:, 1]
    later = position[x] > position[y]
    parent = np.full(root + 1, -1, dtype=np.int64)
    parent[np.where(later, x, y)] = np.where(later, y, x)
    subtree = np.ones(root + 1, dtype=np.int64)
    parent_list = parent.tolist()
    subtree_list = subtree.tolist()
    for node in preorder[::-1].tolist():
        if node != root:
            subtree_list[parent_list[node]] += subtree_list[node]
    subtree = np.asarray(subtree_list, dtype=np.int64)

    # Each person in a block lives at one tree node: their own if an articulation point, else their block.
    home = np.full(n, -1, dtype=np.int64)
    home[members] = block_of
    home[articulation] = ap_node[articulation]
    placed = np.nonzero(home >= 0)[0]
    by_position = placed[np.argsort(position[home[placed]], kind="stable")]
    home_position = position[home[by_position]]
    lo = np.searchsorted(home_position, position)
    hi = np.searchsorted(home_position, position + subtree)
    org_by_position = organisation[by_position]
    children_order = np.argsort(parent, kind="stable")
    children_start = np.searchsorted(parent[children_order], np.arange(root + 2))

    def piece(node: int) -> tuple[np.ndarray, np.ndarray]:
        return np.unique(org_by_position[lo[node] : hi[node]], return_counts=True)

    current_comp, counts = -1, np.zeros(0, dtype=np.int64)
    elsewhere = elsewhere_in(-1)  # replaced at the first person, with their component
    for v in articulation[np.argsort(component[articulation], kind="stable")].tolist():
        c = int(component[v])
        if c != current_comp:
            current_comp, counts, elsewhere = c, comp_counts(c), elsewhere_in(c)
        t = int(ap_node[v])
        others = counts.copy()
        others[organisation[v]] -= 1  # the component without v
        total = int(comp_size[c]) - 1
        child_nodes = children_order[children_start[t] : children_start[t + 1]].tolist()
        pieces = [piece(b) for b in child_nodes]
        below = np.zeros(n_orgs, dtype=np.int64)
        for orgs, cnt in pieces:
            below[orgs] += cnt
        above = others - below  # the rest of the component, above v in the tree
        above_orgs = np.nonzero(above)[0]
        pieces.append((above_orgs, above[above_orgs]))
        sizes = [int(cnt.sum()) for _, cnt in pieces]
        squares = [int((cnt * cnt).sum()) for _, cnt in pieces]
        cut_pairs[v] = _between_pieces(sizes, squares, total, int((others * others).sum()))

        present = np.nonzero(others)[0]
        local = np.full(n_orgs, -1, dtype=np.int64)
        local[present] = np.arange(present.size)
        presence = np.zeros((len(pieces), present.size), dtype=bool)
        for row, (orgs, _) in enumerate(pieces):
            presence[row, local[orgs]] = True
        lost, losers = _lost_paths(presence, present, elsewhere)
        if sole[v]:  # v's organisation is gone from the component altogether
            lost, losers = with_sole(v, lost, losers, present, elsewhere)
        if lost:
            lost_paths[v] = _most_first(lost)
            cut_off[v] = tuple(sorted(losers.tolist()))
            cut_off_count[v] = len(cut_off[v])

    # Bridge ties: blocks of two people. Cutting one splits the component into the block's lower side (the
    # subtree of its child node) and the rest.
    for b, people in enumerate(blocks):
        if people.size != 2:
            continue
        if parent[b] != root:  # the side below is the block's subtree: the end that is not its parent
            orgs, cnt = piece(b)
        elif ap_node[people[0]] >= 0:  # a root block: split off one end with what hangs below it
            orgs, cnt = piece(int(ap_node[people[0]]))
        else:
            orgs, cnt = organisation[people[:1]], np.ones(1, dtype=np.int64)
        c = int(component[people[0]])
        counts = comp_counts(c)
        size = int(cnt.sum())
        pairs = size * (int(comp_size[c]) - size) - int((cnt * (counts[orgs] - cnt)).sum())
        if pairs > 0:
            bridges.append((int(people.min()), int(people.max()), pairs))
    bridge_ties = np.array(sorted(bridges), dtype=np.int64).reshape(-1, 3)
    return _KeyPeople(cut_pairs, own_pairs, cut_off_count, lost_paths, cut_off, bridge_ties)


# --- everything ------------------------------------------------------------------------------------------
def analyse_network(
    organisation: np.ndarray | Sequence[int],
    profession: np.ndarray | Sequence[int],
    source: np.ndarray | Sequence[int],
    target: np.ndarray | Sequence[int],
    weight: np.ndarray | Sequence[float] | None = None,
    *,
    directed: bool,
    trust: np.ndarray | Sequence[float] | None = None,
    value: np.ndarray | Sequence[float] | None = None,
    betweenness_sources: int | None = None,
    seed: int = 0,
) -> NetworkAnalysis:
    """Every figure of the module docstring for one network.

    ``betweenness_sources``: estimate betweenness from this many sampled sources (seeded by ``seed``)
    instead of exactly; by default exact unless people x ties exceeds ``EXACT_BETWEENNESS_LIMIT``.

    >>> a = analyse_network([0, 1, 2], [0, 0, 0], [0, 1], [1, 2], directed=False)
    >>> a.people.cut_pairs.tolist(), a.people.brokerage_organisation[1].tolist()
    ([0, 1, 0], [0, 0, 0, 0, 1])
    """
    org = _codes("organisation", organisation, None)
    n = org.size
    prof = _codes("profession", profession, n)
    ties = prepare_ties(n, source, target, weight, directed=directed, trust=trust, value=value)
    s, t, w = ties.source, ties.target, ties.weight
    m = len(ties)

    # Directed arcs (every undirected tie both ways) and the symmetrised graph.
    if directed:
        arcs = _arcs(n, s, t, w)
        lo_end, hi_end = np.minimum(s, t), np.maximum(s, t)
        pair, pair_index = np.unique(lo_end * n + hi_end, return_inverse=True)
        pair_weight = np.bincount(pair_index.reshape(-1), weights=w, minlength=pair.size)
        sym_a, sym_b = (pair // n, pair % n) if n else (pair, pair)
    else:
        arcs = _arcs(n, np.concatenate([s, t]), np.concatenate([t, s]), np.concatenate([w, w]))
        sym_a, sym_b, pair_weight = s, t, w
    sym = _arcs(n, np.concatenate([sym_a, sym_b]), np.concatenate([sym_b, sym_a]), np.tile(pair_weight, 2))
    undirected_graph = ig.Graph(n=n, edges=np.stack([sym_a, sym_b], axis=1).tolist())

    # Degrees.
    degree = np.diff(sym.start)
    weighted_degree = np.bincount(sym.tail, weights=sym.weight, minlength=n)
    if directed:
        out_degree = np.bincount(s, minlength=n)
        in_degree = np.bincount(t, minlength=n)
        out_weight = np.bincount(s, weights=w, minlength=n)
        in_weight = np.bincount(t, weights=w, minlength=n)
    else:
        out_degree = in_degree = degree
        out_weight = in_weight = weighted_degree

    # Betweenness.
    path_graph = ig.Graph(n=n, edges=np.stack([s, t], axis=1).tolist(), directed=True) if directed else None
    betweenness, approximate, used = _betweenness(
        path_graph if directed else undirected_graph, directed, betweenness_sources, seed
    )

    effective_size, constraint = _burt(sym)
    brokerage_org, brokerage_prof = _brokerage(arcs, [org, prof], undirected=not directed)

    def reached(groups: np.ndarray) -> np.ndarray:
        other = groups[sym.head] != groups[sym.tail]
        distinct = np.unique(sym.tail[other] * (int(groups.max()) + 1) + groups[sym.head[other]])
        return np.bincount(distinct // (int(groups.max()) + 1), minlength=n)

    key = _key_people(undirected_graph, org)

    # Whole network.
    components = np.asarray(undirected_graph.connected_components().membership, dtype=np.int64)
    possible = n * (n - 1) if directed else n * (n - 1) / 2
    reciprocity = None
    if directed:
        reciprocity = float((_find(arcs, t, s) >= 0).mean()) if m else 0.0
    in_c = out_c = None
    if directed and n >= 2:
        in_c = _centralisation(in_degree, (n - 1) ** 2)
        out_c = _centralisation(out_degree, (n - 1) ** 2)
    n_orgs = int(org.max()) + 1 if n else 0
    rater = s  # directed: the organisation of the person who reported the tie
    whole = WholeNetwork(
        people=n,
        ties=m,
        directed=directed,
        density=m / possible if possible else 0.0,
        components=int(components.max()) + 1 if n else 0,
        largest_component_share=float(np.bincount(components).max() / n) if n else 0.0,
        isolated=int((degree == 0).sum()),
        reciprocity=reciprocity,
        degree_centralisation=_centralisation(degree, (n - 1) * (n - 2)),
        in_degree_centralisation=in_c,
        out_degree_centralisation=out_c,
        organisations=_mixing(org, s, t),
        professions=_mixing(prof, s, t),
        reachable_cross_organisation_pairs=_cross_reachable(components, org) if n else 0,
        mean_trust=_nanmean(ties.trust),
        mean_value=_nanmean(ties.value),
        trust_by_organisation=_by_organisation(ties.trust, org, s, t, rater, directed, n_orgs),
        value_by_organisation=_by_organisation(ties.value, org, s, t, rater, directed, n_orgs),
    )
    people = PeopleMetrics(
        degree=degree,
        weighted_degree=weighted_degree,
        in_degree=in_degree,
        out_degree=out_degree,
        in_weight=in_weight,
        out_weight=out_weight,
        betweenness=betweenness,
        betweenness_approximate=approximate,
        betweenness_sources=used,
        effective_size=effective_size,
        constraint=constraint,
        brokerage_organisation=brokerage_org,
        brokerage_profession=brokerage_prof,
        organisations_reached=reached(org) if n else degree,
        professions_reached=reached(prof) if n else degree,
        cut_pairs=key.cut_pairs,
        own_pairs=key.own_pairs,
        organisations_cut_off=key.organisations_cut_off,
    )
    return NetworkAnalysis(
        organisation=org,
        profession=prof,
        ties=ties,
        whole=whole,
        people=people,
        lost_paths=key.lost_paths,
        cut_off=key.cut_off,
        bridge_ties=key.bridge_ties,
    )


def _nanmean(values: np.ndarray | None) -> float | None:
    if values is None or np.isnan(values).all():
        return None
    return float(np.nanmean(values))


def _by_organisation(
    values: np.ndarray | None,
    org: np.ndarray,
    s: np.ndarray,
    t: np.ndarray,
    rater: np.ndarray,
    directed: bool,
    n_orgs: int,
) -> np.ndarray | None:
    if values is None:
        return None
    if directed:
        return _mean_by(org[rater], values, n_orgs)
    # Undirected: a tie counts for each organisation it touches, once when both ends are in one.
    both = org[s] == org[t]
    index = np.concatenate([org[s], org[t][~both]])
    return _mean_by(index, np.concatenate([values, values[~both]]), n_orgs)


# --- boundary spanners -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BoundarySpanner:
    person: int
    rank: int  # 1 = the strongest boundary spanner
    score: float  # 0..1, see rank_boundary_spanners
    betweenness: float
    cross_organisation_brokerage: int  # gatekeeper + representative + itinerant + liaison, by organisation
    organisations_reached: int
    cut_pairs: int
    reason: str


def _scaled(values: np.ndarray, log: bool) -> np.ndarray:
    values = np.nan_to_num(values.astype(np.float64))
    if log:
        values = np.log1p(values)
    top = values.max() if values.size else 0.0
    return values / top if top > 0 else np.zeros_like(values)


def _names(labels: Sequence[str], codes: Sequence[int], most: int = 3) -> str:
    words = [labels[c] for c in codes[:most]]
    rest = len(codes) - len(words)
    if rest:
        words.append(f"{rest} other organisation{'s' if rest != 1 else ''}")
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def spanner_scores(analysis: NetworkAnalysis) -> np.ndarray:
    """Each person's boundary-spanner score, 0..1 (the formula is rank_boundary_spanners'): the figure
    pages rank people by, and the comparison's study takes as its outcome.

    >>> spanner_scores(analyse_network([0, 1, 2], [0, 0, 0], [0, 1], [1, 2], directed=False)).tolist()
    [0.1, 1.0, 0.1]
    """
    people = analysis.people
    return (
        SCORE_WEIGHTS["betweenness"] * _scaled(people.betweenness, log=False)
        + SCORE_WEIGHTS["brokerage"] * _scaled(people.cross_organisation_brokerage, log=True)
        + SCORE_WEIGHTS["organisations_reached"] * _scaled(people.organisations_reached, log=False)
        + SCORE_WEIGHTS["key_person"] * _scaled(people.cut_pairs, log=True)
    )


def rank_boundary_spanners(
    analysis: NetworkAnalysis, organisation_labels: Sequence[str], *, limit: int | None = 20
) -> tuple[BoundarySpanner, ...]:
    """People ranked by how much they span organisation boundaries, each with the reason in plain words.

    score = 0.3 x betweenness / max betweenness
          + 0.3 x log(1 + cross-organisation brokerage) / log(1 + max)
          + 0.2 x organisations reached / max
          + 0.2 x log(1 + cut pairs) / log(1 + max)
    Each part is scaled to 0..1 by the network's largest value; the counts are heavy-tailed, so they are
    taken on a log scale so that one very large count does not flatten everyone else. Betweenness and
    brokerage carry most weight because they are the direct evidence of standing between groups; reach and
    key-person risk say how wide and how irreplaceable. Equal scores keep the lower person number first.

    >>> a = analyse_network([0, 1, 2], [0, 0, 0], [0, 1], [1, 2], directed=False)
    >>> rank_boundary_spanners(a, ["Police", "Health", "Education"], limit=1)[0].reason
    'links Health with Police and Education; liaison broker for 1 pair; betweenness 1.000, the highest; \
if they left, Police and Education would lose their only path to Health and 1 pair of people in different \
organisations would lose their last link'
    """
    people = analysis.people
    n = analysis.organisation.size
    org = analysis.organisation
    if n and int(org.max()) >= len(organisation_labels):
        raise ValueError(f"organisation_labels: {len(organisation_labels)} labels for code {int(org.max())}")
    score = spanner_scores(analysis)
    brokerage = people.cross_organisation_brokerage
    order = np.lexsort((np.arange(n), -score))[: n if limit is None else limit]
    betweenness_rank = np.empty(n, dtype=np.int64)
    betweenness_rank[np.lexsort((np.arange(n), -people.betweenness))] = np.arange(1, n + 1)

    # Ties to each other organisation, per person, most first: (person, organisation, ties) sorted.
    ties = analysis.ties
    ends = np.concatenate([ties.source, ties.target])
    others = org[np.concatenate([ties.target, ties.source])]
    outside = others != org[ends]
    n_orgs = int(org.max()) + 1 if n else 1
    pair, tie_count = np.unique(ends[outside] * n_orgs + others[outside], return_counts=True)
    pair_person, pair_org = pair // n_orgs, pair % n_orgs
    sort = np.lexsort((pair_org, -tie_count, pair_person))
    pair_person, pair_org = pair_person[sort], pair_org[sort]
    starts = np.searchsorted(pair_person, np.arange(n + 1))

    def plural(k: int, word: str) -> str:
        return f"{k} {word}{'' if k == 1 else 's'}"

    out: list[BoundarySpanner] = []
    for rank, v in enumerate(order.tolist(), start=1):
        own = organisation_labels[org[v]]
        parts: list[str] = []
        linked = pair_org[starts[v] : starts[v + 1]].tolist()
        if people.degree[v] == 0:
            parts.append(f"no recorded ties ({own})")
        elif not linked:
            parts.append(f"works only within {own}")
        else:
            parts.append(f"links {own} with {_names(organisation_labels, linked)}")
        words = brokerage_words(people.brokerage_organisation[v], analysis.ties.directed)
        if words:
            parts.append(words)
        if people.betweenness[v] > 0 and betweenness_rank[v] <= max(3, n // 20):
            place = "the highest" if betweenness_rank[v] == 1 else f"{_ordinal(betweenness_rank[v])} highest"
            estimated = " (estimated)" if people.betweenness_approximate else ""
            parts.append(f"betweenness {people.betweenness[v]:.3f}{estimated}, {place}")
        consequences: list[str] = []
        lost = analysis.lost_paths.get(v, ())
        if lost:
            target, losers = lost[0]
            cut_off = analysis.cut_off.get(v, ())
            if len(losers) <= 3:
                who = _names(organisation_labels, list(losers))
            else:
                who = f"{len(losers)} organisations"
            verb = "would lose its" if len(losers) == 1 else "would lose their"
            text = f"{who} {verb} only path to {organisation_labels[target]}"
            extra = sorted(set(cut_off) - set(losers))
            both_ways = extra == [target] and sum(target in others for _, others in lost) == len(losers)
            if both_ways:  # the target is cut off from exactly those organisations: say it once
                others = who if len(losers) <= 3 else f"{len(losers)} organisations it reaches now"
                text = f"{organisation_labels[target]} would be cut off from {others}"
            elif len(extra) == 1:  # usually the target's side, cut off from the losers in turn
                k = sum(extra[0] in others for _, others in lost)
                text += f" (and {organisation_labels[extra[0]]} its only path to {plural(k, 'organisation')})"
            elif extra:
                text += f" ({len(cut_off)} organisations in all would lose their only path to another)"
            consequences.append(text)
        if people.cut_pairs[v] > 0:
            k = int(people.cut_pairs[v])
            consequences.append(
                f"{plural(k, 'pair')} of people in different organisations would lose their last link"
            )
        if consequences:
            parts.append("if they left, " + " and ".join(consequences))
        out.append(
            BoundarySpanner(
                person=v,
                rank=rank,
                score=float(score[v]),
                betweenness=float(people.betweenness[v]),
                cross_organisation_brokerage=int(brokerage[v]),
                organisations_reached=int(people.organisations_reached[v]),
                cut_pairs=int(people.cut_pairs[v]),
                reason="; ".join(parts),
            )
        )
    return tuple(out)


def brokerage_words(counts: np.ndarray, directed: bool) -> str:
    """One person's brokerage across groups in words, most pairs first, e.g. "liaison broker for 3 pairs,
    representative/gatekeeper for 2" ("" when none). ``counts`` is their row of a brokerage table.

    >>> brokerage_words(np.array([4, 0, 2, 0, 3]), directed=False)
    'liaison broker for 3 pairs, representative/gatekeeper for 2'
    """
    roles = [(int(counts[ROLE_COLUMN[name]]), k, name) for k, name in enumerate(role_names(directed))]
    roles = sorted((r for r in roles if r[0] > 0 and r[2] != ROLES[COORDINATOR]), key=lambda r: (-r[0], r[1]))
    if not roles:
        return ""
    count, _, name = roles[0]
    words = [f"{name} broker for {count} pair{'' if count == 1 else 's'}"]
    return ", ".join(words + [f"{name} for {count}" for count, _, name in roles[1:]])


# --- change over time ------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NetworkChange:
    """What changed between two dates (two analyses over the same people)."""

    joined: np.ndarray  # people with no ties before and some after
    left: np.ndarray  # people with ties before and none after
    ties_gained: np.ndarray  # (k, 2) source, target (source < target when undirected)
    ties_lost: np.ndarray  # (k, 2)
    brokers_lost: np.ndarray  # people whose cross-organisation brokerage fell from above 0 to 0
    key_people_lost: np.ndarray  # people whose cut pairs fell from above 0 to 0 (their role is not covered)
    bridge_ties_lost: np.ndarray  # (k, 3) a, b, pairs cut before: cross-organisation bridge ties now gone
    bridge_ties_covered: np.ndarray  # (k, 3): bridge ties still there, now with another path beside them

    @property
    def reading(self) -> str:
        def count(k: int, one: str, many: str) -> str:
            return f"{k} {one if k == 1 else many}"

        return (
            f"{count(self.joined.size, 'person', 'people')} joined the network and {self.left.size} left; "
            f"{count(len(self.ties_gained), 'tie', 'ties')} gained and {len(self.ties_lost)} lost; "
            f"{count(self.brokers_lost.size, 'person no longer brokers', 'people no longer broker')} "
            f"across organisations; {count(len(self.bridge_ties_lost), 'tie', 'ties')} that alone linked "
            "people in different organisations ended."
        )


def _keys(ties: Ties) -> np.ndarray:
    return ties.source * ties.n + ties.target


def compare_networks(before: NetworkAnalysis, after: NetworkAnalysis) -> NetworkChange:
    """Compare the network at two dates: who joined or left, ties gained and lost, and bridges lost.

    Both analyses must be over the same people (same organisation codes) and of the same kind (directed or
    not). A person "left" when they had ties before and have none now; they may still be employed.
    """
    n = before.organisation.size
    if after.organisation.size != n:
        raise ValueError(f"after: has {after.organisation.size} people; before has {n}")
    if not np.array_equal(before.organisation, after.organisation):
        raise ValueError("after: the people's organisations differ from before; compare the same people")
    if before.ties.directed != after.ties.directed:
        raise ValueError("after: one network is directed and the other is not")
    was, now = before.people.degree > 0, after.people.degree > 0
    old, new = _keys(before.ties), _keys(after.ties)

    def pairs(keys: np.ndarray) -> np.ndarray:
        return np.stack([keys // max(n, 1), keys % max(n, 1)], axis=1)

    was_broker = before.people.cross_organisation_brokerage > 0
    is_broker = after.people.cross_organisation_brokerage > 0
    bridges = before.bridge_ties
    bridge_keys = bridges[:, 0] * n + bridges[:, 1]
    # A tie's own direction does not matter for a bridge: look for it either way in a directed network.
    present = np.isin(bridge_keys, new)
    if before.ties.directed:
        present |= np.isin(bridges[:, 1] * n + bridges[:, 0], new)
    still_bridge = np.isin(bridge_keys, after.bridge_ties[:, 0] * n + after.bridge_ties[:, 1])
    return NetworkChange(
        joined=np.nonzero(~was & now)[0],
        left=np.nonzero(was & ~now)[0],
        ties_gained=pairs(np.setdiff1d(new, old)),
        ties_lost=pairs(np.setdiff1d(old, new)),
        brokers_lost=np.nonzero(was_broker & ~is_broker)[0],
        key_people_lost=np.nonzero((before.people.cut_pairs > 0) & (after.people.cut_pairs == 0))[0],
        bridge_ties_lost=bridges[~present],
        bridge_ties_covered=bridges[present & ~still_bridge],
    )
