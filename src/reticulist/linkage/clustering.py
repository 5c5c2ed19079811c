"""Clustering scored pairs into children, with reviewers' decisions overriding the model.

Splink 5 clusters pairs but has no must-link or cannot-link: a pair removed from its input still ends up
in one cluster when a third record links to both. So clustering is done here, greedily over the pairs from
the surest down (as Splink's single-best-link clustering does), with three rules:

- a "same child" decision (must link) joins its two records first, whatever the model said;
- a "different children" decision (cannot link) is never broken: two clusters are not joined when one
  holds a record the other's records must not be linked with;
- with ``one_per_source``, a child has at most one record of each agency: a join that would give a cluster
  two records of one source is refused (the surer link came first and won). A must-link may still join two
  records of one source: the reviewer found a duplicate in the agency's extract.

The pairs arrive as NumPy arrays (sorted there); the join itself is a union-find over those edges, which
visits each once. Clusters are named by their smallest record id, so a cluster keeps its name when a run is
re-clustered and it gains or loses another record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Clusters:
    record: Ids  # every record in a cluster of two or more
    cluster: Ids  # its cluster (the smallest record id in it)
    refused: int  # linked pairs not joined (one record per source, or a "different children" decision)
    conflicts: list[tuple[int, int]]  # "same child" decisions that a "different children" one contradicts


def cluster(
    *,
    left: Ids,
    right: Ids,
    probability: npt.NDArray[np.float64],
    linked: float,
    source_of: dict[int, int],
    one_per_source: bool,
    same: list[tuple[int, int]] = (),  # type: ignore[assignment]
    different: list[tuple[int, int]] = (),  # type: ignore[assignment]
) -> Clusters:
    """Join ``left``-``right`` pairs at or above ``linked`` into clusters (see the module's docstring).
    ``source_of`` gives each record's source."""
    apart = {(min(a, b), max(a, b)) for a, b in different}
    keep = probability >= linked
    order = np.argsort(-probability[keep], kind="stable")
    lefts = np.concatenate([np.array([min(p) for p in same], dtype=np.int64), left[keep][order]])
    rights = np.concatenate([np.array([max(p) for p in same], dtype=np.int64), right[keep][order]])
    forced = len(same)

    parent: dict[int, int] = {}
    members: dict[int, set[int]] = {}
    sources: dict[int, set[int]] = {}
    cannot: dict[int, set[int]] = {}
    for a, b in apart:
        cannot.setdefault(a, set()).add(b)
        cannot.setdefault(b, set()).add(a)

    def root(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def grown(x: int) -> int:
        r = root(x)
        if r not in members:
            members[r] = {r}
            sources[r] = {source_of[r]}
        return r

    refused = 0
    conflicts: list[tuple[int, int]] = []
    for i, (a, b) in enumerate(zip(lefts.tolist(), rights.tolist(), strict=True)):
        ra, rb = grown(a), grown(b)
        if ra == rb:
            continue
        small, large = (ra, rb) if len(members[ra]) <= len(members[rb]) else (rb, ra)
        blocked = any(cannot.get(x, set()) & members[large] for x in members[small])
        if blocked:
            if i < forced:
                conflicts.append((a, b))
            else:
                refused += 1
            continue
        if i >= forced and one_per_source and sources[small] & sources[large]:
            refused += 1
            continue
        parent[small] = large
        members[large] |= members.pop(small)
        sources[large] |= sources.pop(small)
    record = []
    named = []
    for group in members.values():
        if len(group) > 1:
            name = min(group)
            record += group
            named += [name] * len(group)
    return Clusters(np.array(record, dtype=np.int64), np.array(named, dtype=np.int64), refused, conflicts)
