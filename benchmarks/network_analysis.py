"""Benchmark: the network metrics on county-scale co-working networks (targets: the 2,000-person network at
least 20x faster than plain networkx with betweenness equal within 1e-9; the 20,000-person network in
under 60 s).

Generates, with a seeded NumPy Generator, an undirected co-working network: people in organisations of
very uneven size (a few large agencies, many small ones), each organisation with a main profession that 60%
of its people share, and teams of about 12 inside each organisation. Ties: 60% within a team, 25% within
the organisation, 15% across organisations, most of those between the few people (about one in five, with
heavy-tailed activity) who work across boundaries. Tie ends favour sociable people (log-normal), so many
people have only a few ties and some hang on by one. Weights 1-4 (how often they work together).

1. Reference: 2,000 people in 30 organisations and 12 professions with 20,000 ties. Times
   ``analyse_network`` plus ``rank_boundary_spanners`` (best of 3 runs after a warm-up), then computes the
   same figures with plain networkx once: ``nx.betweenness_centrality``, ``nx.effective_size`` and
   ``nx.constraint`` (weighted), Gould-Fernandez brokerage by looping over every broker's pairs of
   contacts, key-person risk by brute force (remove each person, recount the cross-organisation pairs
   that can reach each other with ``nx.connected_components``), degree, organisations reached, density,
   components, E-I index and Freeman centralisation. Checks every figure agrees (betweenness within
   1e-9, Burt within 1e-9, counts exactly).
2. Network: 20,000 people in 300 organisations and 25 professions with 200,000 ties, at two dates (the
   second with 10% of ties ended and as many new ones). Times the analysis of both dates, the ranking of
   everyone with reasons, and the comparison. Betweenness there is estimated from 2,000 sampled sources
   (the analysis says so); its error is measured once against the exact figure on the same graph (about
   two minutes, not counted in the time): overlap of the top 50 and Spearman's rank correlation.

    .venv/bin/python benchmarks/network_analysis.py [--skip-exact] [--scale 0.25]

``--scale`` multiplies both networks' people, ties and organisations (0.25: 500 and 5,000 people), to check
the script quickly; the targets are for scale 1.

The last two lines printed are
``reference: 2000 people, 20000 ties: X s (networkx Y s, Z x faster), betweenness max error E`` and
``network: 20000 people, 200000 ties: X s``.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import Counter

import igraph as ig
import networkx as nx
import numpy as np

from reticulist.network.metrics import (
    COORDINATOR,
    GATEKEEPER,
    ITINERANT,
    LIAISON,
    REPRESENTATIVE,
    NetworkAnalysis,
    analyse_network,
    compare_networks,
    rank_boundary_spanners,
)


def generate(people: int, ties: int, organisations: int, professions: int, seed: int = 20240601) -> tuple:
    rng = np.random.default_rng(seed)
    size_weights = 1.0 / np.arange(1, organisations + 1) ** 0.9
    organisation = np.sort(rng.choice(organisations, size=people, p=size_weights / size_weights.sum()))
    main_profession = rng.integers(0, professions, size=organisations)
    profession = np.where(
        rng.random(people) < 0.6, main_profession[organisation], rng.integers(0, professions, size=people)
    )
    starts = np.searchsorted(organisation, np.arange(organisations))
    ends = np.r_[starts[1:], people]
    team = organisation * 100_000 + (np.arange(people) - starts[organisation]) // 12
    team_start = np.searchsorted(team, team)
    team_end = np.searchsorted(team, team, side="right")
    sociable = rng.lognormal(0.0, 1.0, size=people)  # many quiet people, a few very connected
    outward = rng.pareto(1.5, size=people) * (rng.random(people) < 0.2)  # the few who work across

    def pick(weights: np.ndarray, size: int) -> np.ndarray:
        return rng.choice(people, size=size, p=weights / weights.sum())

    def partner(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        # The more sociable of two draws in [lo, hi): quiet people get few ties.
        x = lo + (rng.random(lo.size) * (hi - lo)).astype(np.int64)
        y = lo + (rng.random(lo.size) * (hi - lo)).astype(np.int64)
        return np.where(sociable[x] >= sociable[y], x, y)

    candidates = ties * 3  # repeats and self-pairs are dropped, then the first ``ties`` kept
    a = pick(sociable, int(candidates * 0.6))
    b = partner(team_start[a], team_end[a])
    c = pick(sociable, int(candidates * 0.25))
    d = partner(starts[organisation[c]], ends[organisation[c]])
    e = pick(outward + 1e-3, candidates - a.size - c.size)
    f = pick(sociable * (outward + 0.05), e.size)
    source, target = np.concatenate([a, c, e]), np.concatenate([b, d, f])
    keep = source != target
    lo, hi = np.minimum(source[keep], target[keep]), np.maximum(source[keep], target[keep])
    key = rng.permutation(np.unique(lo * people + hi))[:ties]
    assert key.size == ties, "the generator made too few distinct ties"
    weight = rng.integers(1, 5, size=ties).astype(np.float64)
    return organisation, profession, key // people, key % people, weight


def full_analysis(org, prof, s, t, w, labels, **kwargs) -> tuple[NetworkAnalysis, tuple]:
    analysis = analyse_network(org, prof, s, t, w, directed=False, **kwargs)
    return analysis, rank_boundary_spanners(analysis, labels, limit=None)


# --- the plain networkx reference ------------------------------------------------------------------------
def networkx_reference(org: np.ndarray, prof: np.ndarray, s, t, w) -> dict:
    n = org.size
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(s.tolist(), t.tolist(), w.tolist(), strict=True))
    out: dict = {}
    out["betweenness"] = nx.betweenness_centrality(graph)
    out["effective_size"] = nx.effective_size(graph, weight="weight")
    out["constraint"] = nx.constraint(graph, weight="weight")
    out["degree"] = dict(graph.degree())
    out["density"] = nx.density(graph)
    components = list(nx.connected_components(graph))
    out["components"] = len(components)
    degrees = [d for _, d in graph.degree()]
    out["centralisation"] = sum(max(degrees) - d for d in degrees) / ((n - 1) * (n - 2))
    internal = sum(1 for a, b in graph.edges if org[a] == org[b])
    out["ei"] = (graph.number_of_edges() - 2 * internal) / graph.number_of_edges()
    out["reached"] = {v: len({org[u] for u in graph[v]} - {org[v]}) for v in graph}

    # Gould-Fernandez, undirected: every unordered pair of contacts not tied to each other, once, in one
    # role; one insider and one outsider is the combined representative/gatekeeper role (representative
    # column).
    for name, groups in (("brokerage_organisation", org), ("brokerage_profession", prof)):
        counts = np.zeros((n, 5), dtype=np.int64)
        for b in graph:
            gb = groups[b]
            contacts = sorted(graph[b])
            for i, a in enumerate(contacts):
                for c in contacts[i + 1 :]:
                    if graph.has_edge(a, c):
                        continue
                    inside = int(groups[a] == gb) + int(groups[c] == gb)
                    if inside == 2:
                        role = COORDINATOR
                    elif inside == 1:
                        role = REPRESENTATIVE
                    else:
                        role = ITINERANT if groups[a] == groups[c] else LIAISON
                    counts[b, role] += 1
        assert not counts[:, GATEKEEPER].any()
        out[name] = counts

    # Key-person risk by brute force: remove each person and recount the cross-organisation pairs of
    # people, and the pairs of organisations whose members can reach each other anywhere in the network.
    def cross_pairs(comps) -> tuple[int, set[tuple[int, int]]]:
        total, meeting = 0, set()
        for comp in comps:
            same = Counter(int(org[v]) for v in comp)
            total += (len(comp) ** 2 - sum(k * k for k in same.values())) // 2
            meeting.update(itertools.combinations(sorted(same), 2))
        return total, meeting

    base, base_meeting = cross_pairs(components)
    risk, lost = [], []
    for v in range(n):
        total, meeting = cross_pairs(nx.connected_components(nx.restricted_view(graph, [v], [])))
        risk.append(base - total)
        lost.append(base_meeting - meeting)
    out["key_person_risk"] = np.array(risk)
    out["organisations_lost"] = lost
    return out


def compare_with_reference(analysis: NetworkAnalysis, ref: dict) -> float:
    n = analysis.organisation.size
    people, whole = analysis.people, analysis.whole

    def as_array(d: dict) -> np.ndarray:
        return np.array([d[i] for i in range(n)], dtype=np.float64)

    error = float(np.abs(people.betweenness - as_array(ref["betweenness"])).max())
    assert error <= 1e-9, f"betweenness differs by {error}"
    for name in ("effective_size", "constraint"):
        diff = np.nanmax(np.abs(getattr(people, name) - as_array(ref[name])))
        assert diff <= 1e-9, f"{name} differs by {diff}"
        assert (np.isnan(getattr(people, name)) == np.isnan(as_array(ref[name]))).all()
    for name in ("brokerage_organisation", "brokerage_profession"):
        assert (getattr(people, name) == ref[name]).all(), f"{name} differs"
    assert (people.key_person_risk == ref["key_person_risk"]).all(), "key-person risk differs"
    for v, lost in enumerate(ref["organisations_lost"]):
        claimed = {(min(q, o), max(q, o)) for q, losers in analysis.lost_paths.get(v, ()) for o in losers}
        assert claimed == lost, f"person {v}: organisations said to lose their only path differ"
    assert (people.degree == as_array(ref["degree"])).all()
    assert (people.organisations_reached == as_array(ref["reached"])).all()
    assert abs(whole.density - ref["density"]) < 1e-12 and whole.components == ref["components"]
    assert abs(whole.degree_centralisation - ref["centralisation"]) < 1e-12
    assert abs(whole.organisations.ei_index - ref["ei"]) < 1e-12
    return error


# --- accuracy of sampled betweenness ---------------------------------------------------------------------
def spearman(x: np.ndarray, y: np.ndarray) -> float:
    def ranks(v: np.ndarray) -> np.ndarray:
        order = np.argsort(v, kind="stable")
        sorted_v = v[order]
        r = np.empty(v.size)
        r[order] = np.arange(v.size, dtype=np.float64)
        # Average ranks over ties (many people have betweenness 0).
        _, first, counts = np.unique(sorted_v, return_index=True, return_counts=True)
        mean = first + (counts - 1) / 2.0
        r[order] = np.repeat(mean, counts)
        return r

    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


def exact_betweenness(s: np.ndarray, t: np.ndarray, n: int) -> np.ndarray:
    graph = ig.Graph(n=n, edges=np.stack([s, t], axis=1).tolist())
    return np.asarray(graph.betweenness(directed=False)) * 2.0 / ((n - 1) * (n - 2))


def second_date(s, t, w, people: int, seed: int = 7) -> tuple:
    """The network some months later: 10% of ties ended, as many new ones (within organisations mostly)."""
    rng = np.random.default_rng(seed)
    keep = rng.random(s.size) >= 0.10
    new = int((~keep).sum())
    a = rng.integers(0, people, size=new * 2)
    b = np.clip(a + rng.integers(-30, 31, size=a.size), 0, people - 1)  # neighbours in the same organisation
    ok = a != b
    lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
    existing = s[keep] * people + t[keep]
    fresh = np.setdiff1d(np.unique(lo * people + hi), existing)[:new]
    key = np.concatenate([existing, fresh])
    weight = np.concatenate([w[keep], rng.integers(1, 5, size=fresh.size).astype(np.float64)])
    return key // people, key % people, weight


def reference(n_ref: int, m_ref: int, runs: int, organisations: int = 30) -> str:
    org, prof, s, t, w = generate(n_ref, m_ref, organisations=organisations, professions=12)
    labels = [f"Organisation {i}" for i in range(organisations)]
    full_analysis(org, prof, s, t, w, labels)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        analysis, ranking = full_analysis(org, prof, s, t, w, labels)
        times.append(time.perf_counter() - start)
    ours = min(times)
    print(
        f"reference network: {analysis.whole.ties} ties, {analysis.whole.components} components, "
        f"{int((analysis.people.cut_pairs > 0).sum())} people whose leaving cuts cross-organisation pairs"
    )
    print(f"top boundary spanner: {ranking[0].reason}")
    start = time.perf_counter()
    ref = networkx_reference(org, prof, s, t, w)
    theirs = time.perf_counter() - start
    error = compare_with_reference(analysis, ref)
    print("reference: every figure agrees with networkx (brokerage and key-person risk exactly)")
    reference_line = (
        f"reference: {n_ref} people, {m_ref} ties: {ours:.2f} s (networkx {theirs:.1f} s, "
        f"{theirs / ours:.0f} x faster), betweenness max error {error:.1e}"
    )
    return reference_line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-exact", action="store_true", help="do not measure the sampled error")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply people and ties (quick check)")
    parser.add_argument(
        "--skip-reference",
        action="store_true",
        help="only the 20,000-person network (networkx takes ~20 min)",
    )
    args = parser.parse_args()

    # 1. Reference.
    n_ref, m_ref = int(2_000 * args.scale), int(20_000 * args.scale)
    reference_line = "reference: skipped"
    if not args.skip_reference:
        reference_line = reference(n_ref, m_ref, args.runs, organisations=max(5, round(30 * args.scale)))

    # 2. County scale, two dates.
    n_big, m_big = int(20_000 * args.scale), int(200_000 * args.scale)
    n_orgs = max(5, round(300 * args.scale))
    org, prof, s, t, w = generate(n_big, m_big, organisations=n_orgs, professions=25)
    s2, t2, w2 = second_date(s, t, w, n_big)
    labels = [f"Organisation {i}" for i in range(n_orgs)]
    start = time.perf_counter()
    before, ranking = full_analysis(org, prof, s, t, w, labels)
    first = time.perf_counter() - start
    after, _ = full_analysis(org, prof, s2, t2, w2, labels)
    change = compare_networks(before, after)
    total = time.perf_counter() - start
    print(f"network: one date {first:.1f} s; both dates, rankings and the comparison {total:.1f} s")
    print(f"network: {change.reading}")
    print(f"top boundary spanner: {ranking[0].reason}")
    people = before.people
    note = (
        f"betweenness estimated from {people.betweenness_sources} sampled sources"
        if people.betweenness_approximate
        else "betweenness exact"
    )
    if people.betweenness_approximate and not args.skip_exact:
        start = time.perf_counter()
        exact = exact_betweenness(before.ties.source, before.ties.target, n_big)
        exact_time = time.perf_counter() - start
        top = 50
        overlap = np.intersect1d(np.argsort(-exact)[:top], np.argsort(-people.betweenness)[:top]).size
        rho = spearman(exact, people.betweenness)
        top_error = np.abs(people.betweenness - exact).max() / exact.max()
        print(
            f"network: {note}; against the exact figure (computed once, {exact_time:.0f} s, not counted): "
            f"top-{top} overlap {overlap}/{top}, Spearman {rho:.4f}, largest error {top_error:.1%} of the "
            "highest betweenness"
        )
    else:
        print(f"network: {note}")
    print(reference_line)
    print(f"network: {n_big} people, {m_big} ties: {total:.1f} s")


if __name__ == "__main__":
    main()
