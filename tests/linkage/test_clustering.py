"""Clustering scored pairs with reviewers' decisions (linkage/clustering.py): pure, on arrays."""

from __future__ import annotations

import numpy as np

from reticulist.linkage.clustering import cluster


def _clusters(result) -> set[frozenset[int]]:  # type: ignore[no-untyped-def]
    groups: dict[int, set[int]] = {}
    for record, name in zip(result.record.tolist(), result.cluster.tolist(), strict=True):
        groups.setdefault(name, set()).add(record)
    return {frozenset(g) for g in groups.values()}


def _run(pairs, *, sources=None, same=(), different=(), one_per_source=True, linked=0.7):  # type: ignore[no-untyped-def]
    ids = {i for a, b, _ in pairs for i in (a, b)} | {i for p in (*same, *different) for i in p}
    return cluster(
        left=np.array([a for a, _, _ in pairs], dtype=np.int64),
        right=np.array([b for _, b, _ in pairs], dtype=np.int64),
        probability=np.array([p for _, _, p in pairs], dtype=np.float64),
        linked=linked,
        source_of=sources or {i: i for i in ids},
        one_per_source=one_per_source,
        same=list(same),
        different=list(different),
    )


def test_linked_pairs_join_and_the_rest_do_not() -> None:
    result = _run([(1, 2, 0.99), (2, 3, 0.8), (4, 5, 0.5)])
    assert _clusters(result) == {frozenset({1, 2, 3})}
    assert set(result.cluster.tolist()) == {1}  # named by the smallest record


def test_a_same_child_decision_joins_a_pair_the_model_scored_low() -> None:
    result = _run([(4, 5, 0.3)], same=[(4, 5)])
    assert _clusters(result) == {frozenset({4, 5})}


def test_a_different_children_decision_holds_through_a_third_record() -> None:
    # 1-3 and 2-3 are both linked, but 1 and 2 are different children: 3 goes with the surer link only.
    result = _run([(1, 3, 0.95), (2, 3, 0.9)], different=[(1, 2)])
    assert _clusters(result) == {frozenset({1, 3})}
    assert result.refused == 1


def test_one_record_per_source_keeps_the_surer_link() -> None:
    sources = {1: 10, 2: 20, 3: 20}  # 2 and 3 are both school records
    result = _run([(1, 3, 0.8), (1, 2, 0.99)], sources=sources)
    assert _clusters(result) == {frozenset({1, 2})}
    # Without the rule, all three join.
    assert _clusters(_run([(1, 3, 0.8), (1, 2, 0.99)], sources=sources, one_per_source=False)) == {
        frozenset({1, 2, 3})
    }


def test_a_decision_may_join_two_records_of_one_source() -> None:
    sources = {1: 10, 2: 10}  # a duplicate in one agency's extract, found by a reviewer
    assert _clusters(_run([], sources=sources, same=[(1, 2)])) == {frozenset({1, 2})}


def test_contradicting_decisions_are_reported_not_applied() -> None:
    # 1 same as 2, 2 same as 3, but 1 and 3 different: the last "same" cannot be applied.
    result = _run([], same=[(1, 2), (2, 3)], different=[(1, 3)])
    assert _clusters(result) == {frozenset({1, 2})}
    assert result.conflicts == [(2, 3)]
