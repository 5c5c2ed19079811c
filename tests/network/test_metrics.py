"""Network metrics: hand-worked graphs for every figure, networkx for betweenness and Burt's measures, and
brute force (remove each person, recount) for key-person risk."""

from __future__ import annotations

import itertools
import re

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reticulist.network import metrics
from reticulist.network.analysis import LostPath, lost_paths_words
from reticulist.network.metrics import (
    COORDINATOR,
    GATEKEEPER,
    ITINERANT,
    LIAISON,
    REPRESENTATIVE,
    analyse_network,
    compare_networks,
    rank_boundary_spanners,
)


def analyse(org, ties, *, directed, profession=None, **kwargs):
    source = [a for a, _ in ties]
    target = [b for _, b in ties]
    profession = [0] * len(org) if profession is None else profession
    return analyse_network(org, profession, source, target, directed=directed, **kwargs)


def random_network(rng: np.random.Generator, n: int, m: int, groups: int = 4):
    source, target = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = source != target
    return (
        rng.integers(0, groups, n),
        rng.integers(0, 3, n),
        source[keep],
        target[keep],
        rng.uniform(0.5, 4.0, int(keep.sum())),
    )


def symmetrised(a) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(a.organisation.size))
    for x, y, w in zip(a.ties.source.tolist(), a.ties.target.tolist(), a.ties.weight.tolist(), strict=True):
        if graph.has_edge(x, y):
            graph[x][y]["weight"] += w
        else:
            graph.add_edge(x, y, weight=w)
    return graph


# --- brokerage -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("groups", "role"),
    [
        ([0, 0, 0], COORDINATOR),  # A -> A -> A
        ([0, 1, 1], GATEKEEPER),  # A -> B -> B
        ([0, 0, 1], REPRESENTATIVE),  # A -> A -> B
        ([0, 1, 0], ITINERANT),  # A -> B -> A
        ([0, 1, 2], LIAISON),  # A -> B -> C
    ],
)
def test_each_brokerage_role_on_a_directed_two_path(groups, role):
    a = analyse(groups, [(0, 1), (1, 2)], directed=True)
    expected = np.zeros((3, 5), dtype=np.int64)
    expected[1, role] = 1
    assert (a.people.brokerage_organisation == expected).all()
    # The same figures by profession when professions are the groups.
    b = analyse([0, 0, 0], [(0, 1), (1, 2)], directed=True, profession=groups)
    assert (b.people.brokerage_profession == expected).all()


def test_a_tie_from_a_to_c_closes_the_two_path_but_one_from_c_to_a_does_not():
    closed = analyse([0, 1, 2], [(0, 1), (1, 2), (0, 2)], directed=True)
    assert closed.people.brokerage_organisation.sum() == 0
    reverse = analyse([0, 1, 2], [(0, 1), (1, 2), (2, 0)], directed=True)
    # Now every person brokers one liaison pair: 0 -> 1 -> 2, 1 -> 2 -> 0, 2 -> 0 -> 1, none closed.
    assert reverse.people.brokerage_organisation[:, LIAISON].tolist() == [1, 1, 1]


def test_there_and_back_is_no_brokerage():
    a = analyse([0, 1], [(0, 1), (1, 0)], directed=True)
    assert a.people.brokerage_organisation.sum() == 0


def test_mixed_brokerage_by_hand():
    # Broker 2 (Health) receives from 0 (Police) and 1 (Health), sends to 3 (Health), 4 (Education) and
    # 0 (Police). 1 -> 3 is tied, so 1 -> 2 -> 3 is closed.
    org = [0, 1, 1, 1, 2]
    a = analyse(org, [(0, 2), (1, 2), (2, 3), (2, 4), (2, 0), (1, 3)], directed=True)
    # Open pairs through 2: 0->3 gatekeeper (P, H, H); 0->4 liaison (P, H, E); 1->4 representative
    # (H, H, E); 1->0 representative (H, H, P); 0->0 is the same person.
    assert a.people.brokerage_organisation[2].tolist() == [0, 1, 2, 0, 1]
    assert a.people.cross_organisation_brokerage[2] == 4
    # 1 -> 3 brokers nothing; 1 brokers nothing either (no one sends to 1).
    assert a.people.brokerage_organisation[[0, 1, 3, 4]].sum() == 0


def test_undirected_brokerage_counts_each_pair_once():
    # A path Police - Police - Health: one unordered pair {0, 2}, one insider and one outsider: without
    # directions 1 is its representative/gatekeeper, counted once (in the representative column).
    a = analyse([0, 0, 1], [(0, 1), (1, 2)], directed=False)
    assert a.people.brokerage_organisation[1].tolist() == [0, 0, 1, 0, 0]
    assert a.people.cross_organisation_brokerage[1] == 1
    b = analyse([0, 1, 2, 1], [(0, 1), (1, 2), (1, 3)], directed=False)
    # Pairs through 1: {0, 2} liaison; {0, 3} and {2, 3} each have one end in 1's group (3).
    assert b.people.brokerage_organisation[1].tolist() == [0, 0, 2, 0, 1]
    # Three pairs, three across boundaries: a liaison pair and an insider-outsider pair weigh the same.
    assert b.people.cross_organisation_brokerage[1] == 3
    assert metrics.brokerage_words(b.people.brokerage_organisation[1], directed=False) == (
        "representative/gatekeeper broker for 2 pairs, liaison for 1"
    )
    assert metrics.role_names(False) == ("coordinator", "representative/gatekeeper", "itinerant", "liaison")


def test_brokerage_against_brute_force_on_random_graphs():
    rng = np.random.default_rng(7)
    for trial in range(12):
        org, prof, s, t, w = random_network(rng, int(rng.integers(4, 30)), int(rng.integers(5, 90)))
        directed = bool(trial % 2)
        a = analyse_network(org, prof, s, t, w, directed=directed)
        arcs = set(zip(a.ties.source.tolist(), a.ties.target.tolist(), strict=True))
        if not directed:
            arcs |= {(y, x) for x, y in arcs}
        for groups, got in ((org, a.people.brokerage_organisation), (prof, a.people.brokerage_profession)):
            want = np.zeros_like(got)
            for (x, b), (b2, c) in itertools.product(arcs, arcs):
                if b != b2 or x == c or (x, c) in arcs:
                    continue
                ga, gb, gc = groups[x], groups[b], groups[c]
                if ga == gb == gc:
                    role = COORDINATOR
                elif ga == gb:
                    role = REPRESENTATIVE
                elif gb == gc:
                    role = GATEKEEPER
                else:
                    role = ITINERANT if ga == gc else LIAISON
                want[b, role] += 1
            if not directed:
                continue  # undirected: see test_undirected_brokerage_against_every_pair
            assert (got == want).all(), trial


def test_undirected_brokerage_against_every_pair():
    """Undirected ties: every unordered pair of a broker's contacts who are not tied to each other is
    counted once, in one role (networkx graph, all pairs)."""
    rng = np.random.default_rng(11)
    for trial in range(20):
        org, prof, s, t, w = random_network(rng, int(rng.integers(3, 30)), int(rng.integers(2, 90)))
        a = analyse_network(org, prof, s, t, w, directed=False)
        graph = symmetrised(a)
        for groups, got in ((org, a.people.brokerage_organisation), (prof, a.people.brokerage_profession)):
            want = np.zeros_like(got)
            across = np.zeros(len(org), dtype=np.int64)
            for b in graph:
                for x, c in itertools.combinations(sorted(graph[b]), 2):
                    if graph.has_edge(x, c):
                        continue
                    inside = int(groups[x] == groups[b]) + int(groups[c] == groups[b])
                    if inside == 2:
                        role = COORDINATOR
                    elif inside == 1:
                        role = REPRESENTATIVE  # one insider, one outsider: representative/gatekeeper
                    else:
                        role = ITINERANT if groups[x] == groups[c] else LIAISON
                    want[b, role] += 1
                    across[b] += inside < 2
            assert (got == want).all(), trial
            assert (got[:, list(metrics.CROSS_ROLES)].sum(axis=1) == across).all(), trial


def test_brokerage_in_small_chunks_gives_the_same_counts(monkeypatch):
    rng = np.random.default_rng(3)
    org, prof, s, t, w = random_network(rng, 40, 200)
    whole = analyse_network(org, prof, s, t, w, directed=True)
    monkeypatch.setattr(metrics, "TWO_PATH_CHUNK", 7)
    monkeypatch.setattr(metrics._two_paths, "__defaults__", (7,))
    chunked = analyse_network(org, prof, s, t, w, directed=True)
    assert (whole.people.brokerage_organisation == chunked.people.brokerage_organisation).all()
    assert np.allclose(whole.people.constraint, chunked.people.constraint, equal_nan=True)


# --- betweenness and Burt against networkx ---------------------------------------------------------------
@pytest.mark.parametrize("directed", [False, True])
def test_betweenness_effective_size_and_constraint_match_networkx(directed):
    rng = np.random.default_rng(11 + directed)
    for _ in range(10):
        n = int(rng.integers(3, 40))
        org, prof, s, t, w = random_network(rng, n, int(rng.integers(0, 4 * n)))
        a = analyse_network(org, prof, s, t, w, directed=directed)
        graph = nx.DiGraph() if directed else nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(zip(a.ties.source.tolist(), a.ties.target.tolist(), strict=True))
        want = nx.betweenness_centrality(graph)
        assert np.abs(a.people.betweenness - [want[i] for i in range(n)]).max() <= 1e-9
        assert not a.people.betweenness_approximate and a.people.betweenness_sources == n

        undirected = symmetrised(a)
        size = nx.effective_size(undirected, weight="weight")
        constraint = nx.constraint(undirected, weight="weight")
        assert np.allclose(a.people.effective_size, [size[i] for i in range(n)], equal_nan=True)
        assert np.allclose(a.people.constraint, [constraint[i] for i in range(n)], equal_nan=True)
        assert np.isnan(a.people.constraint[a.people.degree == 0]).all()


def test_unweighted_effective_size_is_borgatti():
    # A person tied to three people, two of whom are tied: effective size 3 - 2 x 1 / 3.
    a = analyse([0, 0, 0, 0], [(0, 1), (0, 2), (0, 3), (1, 2)], directed=False)
    assert a.people.effective_size[0] == pytest.approx(3 - 2 / 3)
    assert a.people.constraint[0] == pytest.approx(nx.constraint(symmetrised(a))[0])


# --- sampled betweenness ---------------------------------------------------------------------------------
def test_sampled_betweenness_says_it_is_approximate():
    rng = np.random.default_rng(5)
    org, prof, s, t, w = random_network(rng, 300, 1500)
    exact = analyse_network(org, prof, s, t, w, directed=False)
    sampled = analyse_network(org, prof, s, t, w, directed=False, betweenness_sources=100, seed=1)
    assert sampled.people.betweenness_approximate and sampled.people.betweenness_sources == 100
    assert not exact.people.betweenness_approximate and exact.people.betweenness_sources == 300
    # An unbiased estimate (dependencies from k sources scaled by n/k): close in total and in order.
    assert sampled.people.betweenness.sum() == pytest.approx(exact.people.betweenness.sum(), rel=0.1)
    assert np.corrcoef(sampled.people.betweenness, exact.people.betweenness)[0, 1] > 0.9
    # The same seed gives the same estimate; all sources give the exact figure.
    again = analyse_network(org, prof, s, t, w, directed=False, betweenness_sources=100, seed=1)
    assert (again.people.betweenness == sampled.people.betweenness).all()
    every = analyse_network(org, prof, s, t, w, directed=False, betweenness_sources=300)
    assert np.allclose(every.people.betweenness, exact.people.betweenness, atol=1e-12)
    assert "(estimated)" in rank_boundary_spanners(sampled, [str(i) for i in range(4)], limit=1)[0].reason


def test_large_networks_are_sampled_automatically(monkeypatch):
    rng = np.random.default_rng(6)
    org, prof, s, t, w = random_network(rng, 200, 800)
    monkeypatch.setattr(metrics, "EXACT_BETWEENNESS_LIMIT", 1000)
    monkeypatch.setattr(metrics, "SAMPLED_SOURCES", 50)
    a = analyse_network(org, prof, s, t, w, directed=True)
    assert a.people.betweenness_approximate and a.people.betweenness_sources == 50


# --- whole network ---------------------------------------------------------------------------------------
def test_density_centralisation_components_undirected():
    star = analyse([0, 1, 1, 2, 2, 3], [(0, 1), (0, 2), (0, 3), (0, 4)], directed=False)
    whole = star.whole
    assert (whole.people, whole.ties) == (6, 4)
    assert whole.density == pytest.approx(4 / 15)
    # Person 5 is isolated: components {0..4} and {5}.
    assert (whole.components, whole.isolated) == (2, 1)
    assert whole.largest_component_share == pytest.approx(5 / 6)
    # Freeman: (4 - 1) x 4 + (4 - 0) = 16 over (n-1)(n-2) = 20.
    assert whole.degree_centralisation == pytest.approx(16 / 20)
    assert whole.reciprocity is None and whole.in_degree_centralisation is None
    pure_star = analyse([0] * 5, [(0, 1), (0, 2), (0, 3), (0, 4)], directed=False)
    assert pure_star.whole.degree_centralisation == pytest.approx(1.0)
    ring = analyse([0] * 5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)], directed=False)
    assert ring.whole.degree_centralisation == 0.0


def test_reciprocity_and_directed_centralisation():
    a = analyse([0, 0, 1], [(0, 1), (1, 0), (1, 2)], directed=True)
    assert a.whole.density == pytest.approx(3 / 6)
    assert a.whole.reciprocity == pytest.approx(2 / 3)
    # Out-degrees 1, 2, 0: (1 + 0 + 2) / (n-1)^2 = 3 / 4. In-degrees 1, 1, 1: 0.
    assert a.whole.out_degree_centralisation == pytest.approx(3 / 4)
    assert a.whole.in_degree_centralisation == 0.0
    assert a.people.in_degree.tolist() == [1, 1, 1] and a.people.out_degree.tolist() == [1, 2, 0]
    assert a.people.degree.tolist() == [1, 2, 1]  # distinct people either way


def test_ei_index_and_crossing_shares():
    # Police 0, 1; Health 2, 3. Ties 0-1 (inside Police), 1-2 (across), 2-3 (inside Health), 3-0 across.
    a = analyse([0, 0, 1, 1], [(0, 1), (1, 2), (2, 3), (3, 0)], directed=False, profession=[0, 1, 1, 1])
    organisations = a.whole.organisations
    assert organisations.crossing_share == pytest.approx(0.5)
    assert organisations.ei_index == pytest.approx(0.0)
    assert organisations.external.tolist() == [2, 2] and organisations.internal.tolist() == [1, 1]
    assert organisations.group_ei.tolist() == pytest.approx([1 / 3, 1 / 3])
    professions = a.whole.professions
    # Profession 0 is person 0 alone: ties 0-1 and 3-0 cross; 1-2 and 2-3 stay inside profession 1.
    assert professions.crossing_share == pytest.approx(0.5)
    assert professions.group_ei.tolist() == pytest.approx([1.0, 0.0])
    silo = analyse([0, 0, 1, 1], [(0, 1), (2, 3)], directed=False)
    assert silo.whole.organisations.ei_index == -1.0
    assert silo.whole.reachable_cross_organisation_pairs == 0


def test_trust_and_value_means():
    # Directed: an organisation's mean is over the ties its members reported.
    a = analyse(
        [0, 0, 1],
        [(0, 1), (0, 2), (2, 0)],
        directed=True,
        trust=[4, 2, np.nan],
        value=[1, 1, 3],
    )
    assert a.whole.mean_trust == pytest.approx(3.0)
    assert a.whole.trust_by_organisation[0] == pytest.approx(3.0)
    assert np.isnan(a.whole.trust_by_organisation[1])
    assert a.whole.value_by_organisation.tolist() == pytest.approx([1.0, 3.0])
    # Undirected: every tie counts for each organisation it touches.
    b = analyse([0, 0, 1], [(0, 1), (1, 2)], directed=False, trust=[4, 2])
    assert b.whole.trust_by_organisation.tolist() == pytest.approx([3.0, 2.0])
    assert b.whole.value_by_organisation is None and b.whole.mean_value is None


@pytest.mark.parametrize("directed", [False, True])
def test_empty_and_tiny_networks(directed):
    empty = analyse_network([], [], [], [], directed=directed)
    assert (empty.whole.people, empty.whole.ties, empty.whole.components) == (0, 0, 0)
    assert rank_boundary_spanners(empty, LABELS) == ()
    alone = analyse_network([0, 1, 2], [0, 0, 0], [], [], directed=directed)
    assert alone.whole.density == 0.0 and alone.whole.isolated == 3 and alone.whole.components == 3
    assert np.isnan(alone.people.constraint).all() and alone.people.betweenness.tolist() == [0, 0, 0]
    pair = analyse_network([0, 1], [0, 0], [0], [1], directed=directed)
    assert pair.people.cut_pairs.tolist() == [0, 0] and pair.people.own_pairs.tolist() == [1, 1]
    reasons = [r.reason for r in rank_boundary_spanners(pair, LABELS, limit=None)]
    assert reasons[0] == (
        "links Police with Children's Social Care; "
        "if they left, Children's Social Care would lose its only path to Police"
    )


def test_rows_naming_the_same_tie_are_merged():
    a = analyse_network(
        [0, 1], [0, 0], [0, 1, 0], [1, 0, 1], [1.0, 2.0, 3.0], directed=False, trust=[4, np.nan, 2]
    )
    assert len(a.ties) == 1 and a.ties.weight.tolist() == [6.0] and a.ties.trust.tolist() == [3.0]
    d = analyse_network([0, 1], [0, 0], [0, 1, 0], [1, 0, 1], [1.0, 2.0, 3.0], directed=True)
    assert sorted(zip(d.ties.source.tolist(), d.ties.weight.tolist(), strict=True)) == [(0, 4.0), (1, 2.0)]
    assert d.people.weighted_degree.tolist() == [6.0, 6.0]
    assert d.people.out_weight.tolist() == [4.0, 2.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"target": [1, 1]}, "target: row 1: person 1 is tied to themself"),
        ({"target": [1, 5]}, r"target: row 1: 5 is not a person \(0..2\)"),
        ({"target": [1]}, "target: has 1 entries for 2 sources"),
        ({"weight": [1.0, 0.0]}, "weight: row 1: 0 is not a number above 0"),
        ({"trust": [4, 5]}, "trust: row 1: 5 is not on the 1-4 scale"),
        ({"value": [1]}, "value: has 1 entries for 2 ties"),
        ({"profession": [0, 0]}, "profession: has 2 entries for 3 people"),
        ({"organisation": [0, -1, 0]}, "organisation: person 1 has code -1"),
    ],
)
def test_bad_input_names_the_field_and_row(kwargs, message):
    arguments = {
        "organisation": [0, 1, 0],
        "profession": [0, 0, 0],
        "source": [0, 1],
        "target": [1, 2],
        "directed": True,
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        analyse_network(**arguments)


# --- key-person risk -------------------------------------------------------------------------------------
def test_key_person_on_a_path_through_a_bridge_person():
    # Police 0 - Police 1 - Health 2 - Education 3. Everyone is connected; 3 cross-organisation pairs among
    # people in different organisations: 5 of the 6 pairs (0-1 are both Police).
    a = analyse([0, 0, 1, 2], [(0, 1), (1, 2), (2, 3)], directed=False)
    assert a.whole.reachable_cross_organisation_pairs == 5
    # 1 leaving separates 0 from {2, 3}: pairs (0,2), (0,3). 2 leaving separates {0, 1} from 3.
    assert a.people.cut_pairs.tolist() == [0, 2, 2, 0]
    # Own pairs: everyone in other organisations they reach.
    assert a.people.own_pairs.tolist() == [2, 2, 3, 3]
    assert a.people.key_person_risk.tolist() == [2, 4, 5, 3]
    # Health's only member is 2: Police and Education lose their only path to Health, and to each other.
    assert a.lost_paths[2] == ((1, (0, 2)), (0, (2,)), (2, (0,)))
    assert a.cut_off[2] == (0, 2)
    # 1 leaving strands Police 0 from Health and Education.
    assert a.lost_paths[1] == ((0, (1, 2)), (1, (0,)), (2, (0,)))
    # 3 is Education's only member: Police and Health would lose their only path to Education.
    assert a.lost_paths[3] == ((2, (0, 1)),)
    assert a.people.organisations_cut_off.tolist() == [0, 3, 2, 2]
    # Bridge ties: every tie of a path; 0-1 joins two Police officers but still cuts 0 off from 2 and 3.
    assert a.bridge_ties.tolist() == [[0, 1, 2], [1, 2, 4], [2, 3, 3]]


def test_key_person_at_the_centre_of_a_star():
    # A Health hub with four leaves from Police, Police, Education and Health.
    a = analyse([1, 0, 0, 2, 1], [(0, 1), (0, 2), (0, 3), (0, 4)], directed=False)
    # Pairs of leaves in different organisations: 6 pairs minus Police-Police = 5.
    assert a.people.cut_pairs.tolist() == [5, 0, 0, 0, 0]
    assert a.people.own_pairs[0] == 3
    # Police and Education lose their only path to each other, and Education to Health (4 is Health, but
    # only the hub connects them); Police loses Health too.
    lost = dict(a.lost_paths[0])
    assert lost == {0: (1, 2), 1: (0, 2), 2: (0, 1)}


def test_no_one_is_critical_on_a_cycle():
    ring = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0)]
    a = analyse([0, 1, 2, 0, 1, 2], ring, directed=False)
    assert a.people.cut_pairs.tolist() == [0] * 6
    assert a.lost_paths == {} and a.bridge_ties.size == 0
    assert a.people.organisations_cut_off.tolist() == [0] * 6
    # Own pairs still stop when someone leaves: 0 (Police) reaches 1, 2, 4 and 5 in other organisations.
    assert a.people.own_pairs[0] == 4
    assert a.people.key_person_risk[0] == 4


def test_the_only_member_of_an_organisation_is_a_key_person_without_being_an_articulation_point():
    # A triangle: 0 is the only Education person; no one is an articulation point.
    a = analyse([2, 0, 1], [(0, 1), (1, 2), (2, 0)], directed=False)
    assert a.people.cut_pairs.tolist() == [0, 0, 0]
    assert a.lost_paths[0] == ((2, (0, 1)),)


def organisations_meeting(graph: nx.Graph, org: np.ndarray) -> set[frozenset[int]]:
    """Pairs of organisations with members who can reach each other in ``graph``, anywhere in it."""
    pairs: set[frozenset[int]] = set()
    for component in nx.connected_components(graph):
        present = sorted({int(org[x]) for x in component})
        pairs |= {frozenset((p, q)) for p, q in itertools.combinations(present, 2)}
    return pairs


def brute_force_key_people(a):
    """Remove each person and recount (the definition, slowly). Organisations A and B lose their only path
    to each other when some member of one reaches some member of the other now, anywhere in the network,
    and no one left does once the person is removed. Under each target q the losers are the organisations A
    with such a loss that still have someone left (an organisation whose only member leaves loses nothing:
    it is gone, and the entry under it as target says what the others lose)."""
    org = a.organisation
    graph = symmetrised(a)

    def cross_pairs(h):
        total = 0
        for component in nx.connected_components(h):
            counts = np.bincount(org[list(component)])
            total += (len(component) ** 2 - int((counts**2).sum())) // 2
        return total

    base = cross_pairs(graph)
    meeting = organisations_meeting(graph, org)
    lost_pairs, lost_paths = [], []
    for v in graph.nodes:
        h = graph.copy()
        h.remove_node(v)
        lost_pairs.append(base - cross_pairs(h))
        gone = meeting - organisations_meeting(h, org)
        component = nx.node_connected_component(graph, v)
        here = {int(org[x]) for x in component}
        left = {int(org[x]) for x in h.nodes}  # organisations with someone left
        lost = {}
        for q in here:
            losers = tuple(sorted(o for o in (here & left) - {q} if frozenset((o, q)) in gone))
            if losers:
                lost[q] = losers
        lost_paths.append(lost)
    bridges = {}
    for x, y in nx.bridges(graph):
        h = graph.copy()
        h.remove_edge(x, y)
        if base - cross_pairs(h):
            bridges[(min(x, y), max(x, y))] = base - cross_pairs(h)
    return np.array(lost_pairs), lost_paths, bridges


def test_key_person_risk_against_removing_each_person():
    rng = np.random.default_rng(2024)
    for trial in range(40):
        n = int(rng.integers(2, 26))
        org, prof, s, t, w = random_network(
            rng, n, int(rng.integers(0, 2 * n)), groups=int(rng.integers(1, 5))
        )
        a = analyse_network(org, prof, s, t, w, directed=bool(trial % 2))
        lost_pairs, lost_paths, bridges = brute_force_key_people(a)
        assert a.people.key_person_risk.tolist() == lost_pairs.tolist(), trial
        for v in range(n):
            assert dict(a.lost_paths.get(v, ())) == lost_paths[v], (trial, v)
            losers = set().union(*lost_paths[v].values()) if lost_paths[v] else set()
            assert set(a.cut_off.get(v, ())) == losers
            assert a.people.organisations_cut_off[v] == len(losers)
        assert {(x, y): p for x, y, p in a.bridge_ties.tolist()} == bridges, trial


@st.composite
def networks_in_pieces(draw):
    """Two to five groups of people with ties only inside each group (so at least two components, more
    when a group's ties leave someone out), and organisations drawn from one short list for every group,
    so most organisations have members in several components."""
    sizes = draw(st.lists(st.integers(1, 7), min_size=2, max_size=5))
    organisations = draw(st.integers(1, 5))
    org: list[int] = []
    ties: list[tuple[int, int]] = []
    for size in sizes:
        people = range(len(org), len(org) + size)
        org += draw(st.lists(st.integers(0, organisations - 1), min_size=size, max_size=size))
        if size > 1:
            pairs = list(itertools.combinations(people, 2))
            ties += draw(st.lists(st.sampled_from(pairs), max_size=2 * size))
    return org, ties, draw(st.booleans())


NAMES = ["Police", "Health", "Education", "Probation", "Housing"]


def _named(text: str) -> tuple[list[str], int]:
    """A list of organisations as the reasons write it ("Police, Health and 2 more", "4 organisations"):
    the names given and how many organisations it stands for."""
    if m := re.fullmatch(r"(\d+) (?:other )?organisations?(?: it reaches now)?", text):
        return [], int(m[1])
    names = re.split(r", | and ", text)
    more = [int(m[1]) for x in names if (m := re.fullmatch(r"(\d+) (?:more|other organisations?)", x))]
    names = [x for x in names if x in NAMES]
    return names, len(names) + sum(more)


def _sentences_hold(text: str, gone: set[frozenset[str]], left: set[str]) -> None:
    """Every claim of one sentence about organisations is true: ``gone`` holds the pairs of organisations
    (by name) that can reach each other now and could not without the person, ``left`` the organisations
    with someone left."""

    def loses(x: str, y: str) -> bool:
        return x in left and frozenset((x, y)) in gone

    if m := re.fullmatch(r"(.+?) would be cut off from (.+?)", text):
        target, (names, count) = m[1], _named(m[2])
        assert all(loses(target, o) for o in names), text
        assert count == sum(loses(target, o) for o in NAMES), text
        return
    m = re.fullmatch(
        r"(.+?) would lose (?:its|their) only path to (\w+)"
        r"(?: \(and (\w+) its only path to (\d+) organisations?\)"
        r"| \((\d+) organisations in all would lose their only path to another\))?",
        text,
    )
    assert m, text
    (names, count), target = _named(m[1]), m[2]
    assert all(loses(o, target) for o in names), text
    assert count == sum(loses(o, target) for o in NAMES), text
    if m[3]:
        assert int(m[4]) == sum(loses(m[3], o) for o in NAMES), text
    if m[5]:
        assert int(m[5]) == sum(any(loses(o, q) for q in NAMES) for o in NAMES), text


@settings(max_examples=300, deadline=None)
@given(networks_in_pieces())
def test_every_key_person_claim_holds_for_the_whole_network(case):
    """Remove each person from the graph (networkx) and recount which organisations' members can still
    reach each other, anywhere in the network. Direction checked: the claim "A would lose its only path
    to B" (A listed under target B) is true exactly when some member of A reaches some member of B now,
    none does without the person, and A has someone left; the loss is mutual, so each lost pair is
    claimed both ways except towards an organisation whose only member leaves. The reasons' sentences
    ("... would be cut off from ...", "... would lose their only path to ...") are checked the same way."""
    org, ties, directed = case
    a = analyse(org, ties, directed=directed)
    graph = symmetrised(a)
    meeting = organisations_meeting(graph, a.organisation)
    reasons = {r.person: r.reason for r in rank_boundary_spanners(a, NAMES, limit=None)}
    for v in range(len(org)):
        h = graph.copy()
        h.remove_node(v)
        gone = meeting - organisations_meeting(h, a.organisation)
        left = {int(a.organisation[x]) for x in h.nodes}
        claimed = {(q, o) for q, losers in a.lost_paths.get(v, ()) for o in losers}
        assert claimed == {(q, o) for pair in gone for q, o in itertools.permutations(pair) if o in left}
        assert set(a.cut_off.get(v, ())) == {o for _, o in claimed}
        assert a.people.organisations_cut_off[v] == len({o for _, o in claimed})

        by_name = {frozenset(NAMES[o] for o in pair) for pair in gone}
        names_left = {NAMES[o] for o in left}
        said = reasons[v].split("if they left, ", 1)
        if len(said) == 2:
            sentence = re.sub(r" and \d+ pairs? of people in different .*$", "", said[1])
            if "only path" in sentence or "cut off" in sentence:
                _sentences_hold(sentence, by_name, names_left)
        else:
            assert not claimed and a.people.cut_pairs[v] == 0
        lost = [LostPath(NAMES[q], [NAMES[o] for o in losers]) for q, losers in a.lost_paths.get(v, ())]
        for line in lost_paths_words(lost, most=len(lost)):
            _sentences_hold(line, by_name, names_left)


# --- boundary-spanner ranking ----------------------------------------------------------------------------
LABELS = ["Police", "Children's Social Care", "Health", "Education", "Probation"]


def partnership():
    """Two Police officers, three social workers, two health visitors and a school (Education): 2 (social
    care) knows Police, Health and Education; 8 (Education) is known only through 2."""
    org = [0, 0, 1, 1, 1, 2, 2, 3, 3]
    ties = [(0, 1), (2, 3), (3, 4), (2, 4), (5, 6), (2, 0), (2, 5), (2, 7), (7, 8), (1, 3), (6, 4)]
    return analyse(org, ties, directed=False)


def test_the_ranking_puts_the_bridge_first_and_says_why():
    ranking = rank_boundary_spanners(partnership(), LABELS, limit=3)
    top = ranking[0]
    assert (top.person, top.rank) == (2, 1)
    # Its neighbours 0 (Police), 3 and 4 (Social Care, tied to each other), 5 (Health), 7 (Education):
    # 6 pairs of an insider and an outsider, 3 pairs of outsiders from different organisations.
    assert top.reason == (
        "links Children's Social Care with Police, Health and Education; representative/gatekeeper broker "
        "for 6 pairs, liaison for 3; betweenness 0.643, the highest; if they left, Education "
        "would be cut off from Police, Children's Social Care and Health and 12 pairs of people in "
        "different organisations would lose their last link"
    )
    assert top.organisations_reached == 3 and top.cut_pairs == 12  # 7 and 8 from the other six
    assert top.cross_organisation_brokerage == 9
    # 7 is the next bridge: Education's other member 8 is reached only through them.
    assert ranking[1].person == 7 and ranking[1].reason.startswith("links Education with Children's")
    assert [r.rank for r in ranking] == [1, 2, 3]
    assert ranking[0].score >= ranking[1].score >= ranking[2].score


def test_reasons_for_people_who_bridge_nothing():
    a = analyse([0, 0, 1], [(0, 1)], directed=False)
    reasons = {r.person: r.reason for r in rank_boundary_spanners(a, LABELS, limit=None)}
    assert reasons[0] == "works only within Police"
    assert reasons[2] == "no recorded ties (Children's Social Care)"
    with pytest.raises(ValueError, match="organisation_labels"):
        rank_boundary_spanners(a, ["Police"])


def test_a_sole_member_reason_names_the_organisation_that_would_be_lost():
    # 0 is the only Education person, in a ring of four: no articulation point, yet the ring's three
    # other organisations would lose their only path to Education.
    a = analyse([3, 0, 1, 2], [(0, 1), (1, 2), (2, 3), (3, 0)], directed=False)
    reason = next(r.reason for r in rank_boundary_spanners(a, LABELS, limit=None) if r.person == 0)
    assert reason.endswith(
        "if they left, Police, Children's Social Care and Health would lose their only path to Education"
    )


# --- change over time ------------------------------------------------------------------------------------
def test_change_between_two_dates():
    org = [0, 0, 1, 1, 2, 2]
    before = analyse(org, [(0, 1), (1, 2), (2, 3), (2, 4), (4, 5)], directed=False)
    # 4 drops out of the network, 0 finds another way to Health, 5 ties to 3 instead.
    after = analyse(org, [(0, 1), (1, 2), (2, 3), (0, 3), (3, 5)], directed=False)
    change = compare_networks(before, after)
    assert change.joined.tolist() == [] and change.left.tolist() == [4]
    assert change.ties_gained.tolist() == [[0, 3], [3, 5]]
    assert change.ties_lost.tolist() == [[2, 4], [4, 5]]
    # 4 brokered between 2 (Social Care) and 5 (Health) and now has no ties; 2 still brokers 1 and 3.
    assert change.brokers_lost.tolist() == [4]
    # The chain 0-1-2-3 is now a cycle: 1 and 2 are no longer anyone's only path; 4 left.
    assert change.key_people_lost.tolist() == [1, 2, 4]
    assert change.bridge_ties_lost.tolist() == [[2, 4, 8], [4, 5, 4]]
    assert [(x, y) for x, y, _ in change.bridge_ties_covered.tolist()] == [(0, 1), (1, 2), (2, 3)]
    assert change.reading == (
        "0 people joined the network and 1 left; 2 ties gained and 2 lost; 1 person no longer brokers "
        "across organisations; 2 ties that alone linked people in different organisations ended."
    )
    rejoined = compare_networks(after, before)
    assert rejoined.joined.tolist() == [4]


def test_change_refuses_different_people():
    a = analyse([0, 1], [(0, 1)], directed=False)
    b = analyse([0, 1, 1], [(0, 1)], directed=False)
    with pytest.raises(ValueError, match="after: has 3 people; before has 2"):
        compare_networks(a, b)
    c = analyse([0, 1], [(0, 1)], directed=True)
    with pytest.raises(ValueError, match="directed"):
        compare_networks(a, c)
