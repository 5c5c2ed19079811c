"""The straightforward implementation of barometer scoring: loops over respondents, lists and the
statistics module, written from the rules in the docstring of ``reticulist.barometer.scoring`` without
looking at its arrays. The tests check that the vectorised engine gives the same results on random
data; the benchmark times both on the same national-size round.

Only the t quantile is shared (``scoring.t_quantile``, tested on its own against closed forms and tables);
results come back in the engine's dataclasses so that they can be compared field by field.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from reticulist.barometer.scoring import (
    COMPLEMENTARY,
    FEWER_THAN_K,
    NOT_TOLD_LABEL,
    Breakdown,
    Cell,
    ConstructResult,
    GroupResult,
    RoundResults,
    t_quantile,
)


def respondent_scores(
    rows: list[list[int]], item_construct: list[int], reverse: list[bool], constructs: int
) -> list[list[float | None]]:
    items_of = [
        [i for i, c in enumerate(item_construct) if c == construct] for construct in range(constructs)
    ]
    out = []
    for row in rows:
        per = []
        for items in items_of:
            values = [6 - row[i] if reverse[i] else row[i] for i in items if 1 <= row[i] <= 5]
            per.append(statistics.fmean(values) if values and 2 * len(values) >= len(items) else None)
        out.append(per)
    return out


def lean(low: float | None, high: float | None) -> str | None:
    if low is None or high is None:
        return None
    if low > 3:
        return "catalyst"
    if high < 3:
        return "obstacle"
    return "balanced"


def construct_result(
    key: str,
    items: list[int],
    rows: list[list[int]],
    reverse: list[bool],
    scores: list[float | None],
    threshold: int,
) -> ConstructResult:
    given = [row[i] for row in rows for i in items if row[i] >= 0]
    answered_any = sum(1 for row in rows if any(row[i] >= 0 for i in items))
    share = None
    if answered_any >= threshold and given:
        share = sum(1 for a in given if a == 0) / len(given)
    values = [s for s in scores if s is not None]
    if len(values) < threshold:
        return ConstructResult(
            key, len(items), None, None, None, None, None, share, None, None, False, None, True, FEWER_THAN_K
        )
    mean = statistics.fmean(values)
    sd = low = high = None
    if len(values) >= 2:
        sd = statistics.stdev(values)
        half = t_quantile(0.975, len(values) - 1) * sd / math.sqrt(len(values))
        low, high = mean - half, mean + half
    # Cronbach's alpha on the respondents who answered every item substantively.
    complete = [
        [6 - row[i] if reverse[i] else row[i] for i in items]
        for row in rows
        if all(1 <= row[i] <= 5 for i in items)
    ]
    alpha = None
    if len(items) >= 2 and len(complete) >= max(threshold, 2):
        item_variances = [statistics.variance([r[j] for r in complete]) for j in range(len(items))]
        total_variance = statistics.variance([sum(r) for r in complete])
        if total_variance > 0:
            k = len(items)
            alpha = k / (k - 1) * (1 - sum(item_variances) / total_variance)
    return ConstructResult(
        key=key,
        items=len(items),
        n=len(values),
        mean=mean,
        sd=sd,
        ci_low=low,
        ci_high=high,
        dont_know_share=share,
        alpha=alpha,
        alpha_n=len(complete) if len(complete) >= threshold else None,
        alpha_flag=alpha is not None and alpha < 0.6,
        lean=lean(low, high),  # type: ignore[arg-type]
    )


def complementary(counts: list[int], suppressed: list[bool], threshold: int) -> int | None:
    """The position of the one extra cell to suppress, or None."""
    hidden = [n for n, s in zip(counts, suppressed, strict=True) if s]
    visible = [(n, position) for position, (n, s) in enumerate(zip(counts, suppressed, strict=True)) if not s]
    if not hidden or not visible:
        return None
    if len(hidden) == 1 or 0 < sum(hidden) < threshold:
        return min(visible)[1]
    return None


def breakdown(
    dimension: str,
    codes: list[int],
    labels: Sequence[str],
    scores: list[list[float | None]],
    construct_keys: Sequence[str],
    threshold: int,
) -> Breakdown:
    cells = [(code, str(label)) for code, label in enumerate(labels)]
    if any(code == -1 for code in codes):
        cells.append((-1, NOT_TOLD_LABEL))
    members = {code: [r for r, c in enumerate(codes) if c == code] for code, _ in cells}
    counts = [len(members[code]) for code, _ in cells]
    group_reason: list[str | None] = [FEWER_THAN_K if n < threshold else None for n in counts]
    extra = complementary(counts, [r is not None for r in group_reason], threshold)
    if extra is not None:
        group_reason[extra] = COMPLEMENTARY

    # columns[c][g]: (n, mean, reason) of construct c in group g
    columns = []
    for c in range(len(construct_keys)):
        column: list[list[Any]] = []
        for g, (code, _) in enumerate(cells):
            values = [scores[r][c] for r in members[code] if scores[r][c] is not None]
            reason = group_reason[g] or (FEWER_THAN_K if len(values) < threshold else None)
            column.append([len(values), statistics.fmean(values) if values else None, reason])
        extra = complementary([n for n, _, _ in column], [r is not None for _, _, r in column], threshold)
        if extra is not None:
            column[extra][2] = COMPLEMENTARY
        columns.append(column)

    groups = []
    for g, (code, label) in enumerate(cells):
        row = []
        for c in range(len(construct_keys)):
            n, mean, reason = columns[c][g]
            row.append(Cell(None, None, True, reason) if reason else Cell(n, mean))
        if group_reason[g]:
            groups.append(GroupResult(code, label, None, tuple(row), True, group_reason[g]))  # type: ignore[arg-type]
        else:
            groups.append(GroupResult(code, label, counts[g], tuple(row)))
    return Breakdown(dimension, threshold, tuple(construct_keys), tuple(groups))


def reference_score_round(
    answers: Any,
    item_construct: Any,
    reverse: Any,
    construct_keys: Sequence[str],
    groups: Mapping[str, tuple[Any, Sequence[str]]] | None = None,
    threshold: int = 5,
) -> RoundResults:
    rows = [[int(a) for a in row] for row in answers.tolist()]
    item_c = [int(c) for c in item_construct.tolist()]
    rev = [bool(r) for r in reverse.tolist()]
    scores = respondent_scores(rows, item_c, rev, len(construct_keys))
    constructs = []
    for c, key in enumerate(construct_keys):
        items = [i for i, ic in enumerate(item_c) if ic == c]
        constructs.append(construct_result(key, items, rows, rev, [s[c] for s in scores], threshold))
    breakdowns = {
        dimension: breakdown(
            dimension, [int(x) for x in codes.tolist()], labels, scores, construct_keys, threshold
        )
        for dimension, (codes, labels) in (groups or {}).items()
    }
    return RoundResults(len(rows), threshold, tuple(constructs), breakdowns)


def differences(engine: Any, reference: Any, place: str = "results") -> list[str]:
    """Where two results differ: floats within 1e-9 (relative) count as equal, everything else exactly."""
    if isinstance(engine, float) and isinstance(reference, float):
        same = math.isclose(engine, reference, rel_tol=1e-9, abs_tol=1e-12) or (
            math.isnan(engine) and math.isnan(reference)
        )
        return [] if same else [f"{place}: {engine!r} != {reference!r}"]
    if type(engine) is not type(reference):
        return [f"{place}: {engine!r} != {reference!r}"]
    if isinstance(engine, dict):
        if engine.keys() != reference.keys():
            return [f"{place}: keys {sorted(engine)} != {sorted(reference)}"]
        return [d for key in engine for d in differences(engine[key], reference[key], f"{place}[{key!r}]")]
    if isinstance(engine, tuple | list):
        if len(engine) != len(reference):
            return [f"{place}: length {len(engine)} != {len(reference)}"]
        return [
            d
            for i, (a, b) in enumerate(zip(engine, reference, strict=True))
            for d in differences(a, b, f"{place}[{i}]")
        ]
    if dataclasses.is_dataclass(engine):
        return [
            d
            for f in dataclasses.fields(engine)
            for d in differences(getattr(engine, f.name), getattr(reference, f.name), f"{place}.{f.name}")
        ]
    return [] if engine == reference else [f"{place}: {engine!r} != {reference!r}"]
