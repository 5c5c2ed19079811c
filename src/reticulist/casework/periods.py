"""A period's casework figures for managers, protected: pure computation (NumPy in, plain dicts out).

Each figure table counts one kind of event of one period (families starting early help, episodes ending,
referrals decided, reviews falling due), one row per family, with every breakdown and the table's column
(a mean, such as working days to decision) published together. ``disclosure.protect`` hides cells until
no family or group of fewer than the threshold can be worked out from the table's figures, however they
are combined. A family's event belongs to exactly one period, so one period's tables cannot be subtracted
from another's; each period is published once and never recomputed (see casework/figures.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reticulist import disclosure


@dataclass(frozen=True)
class Dimension:
    """A breakdown of a table: every family falls in exactly one of its ``labels``. ``keep``: how much
    its figures are wanted (higher: hidden last when a cell must go to protect another). With ``parts``,
    each label is split in those parts (a two-way table, such as organisation by whether the decision was
    late): the family's cell is label index x len(parts) + part index."""

    key: str
    title: str
    labels: Sequence[str]
    keep: float = 0.0
    parts: Sequence[str] = ()

    @property
    def size(self) -> int:
        return len(self.labels) * max(1, len(self.parts))

    def cell_names(self) -> list[dict[str, str]]:
        if not self.parts:
            return [{"label": label} for label in self.labels]
        return [{"label": label, "part": part} for label in self.labels for part in self.parts]


@dataclass(frozen=True)
class Column:
    """A figure averaged over each group, such as working days to decision. Values outside ``low``..``high``
    are counted at the nearer end (the page says so). A hidden small group's mean must stay at least
    ``min_width`` uncertain whatever else is published."""

    key: str
    title: str
    low: float
    high: float
    min_width: float
    decimals: int = 1


def protect_table(
    *,
    key: str,
    title: str,
    cells: np.ndarray,
    dimensions: Sequence[Dimension],
    threshold: int,
    column: Column | None = None,
    values: np.ndarray | None = None,
) -> dict[str, Any]:
    """The table as it may be published: each breakdown's counts (None where hidden) and, with a column,
    each group's mean (None where hidden) and the whole table's.

    ``cells``: int (families, dimensions), each family's label index in each dimension; ``values``: float
    (families,), the column's value for each family."""
    cells = np.asarray(cells, dtype=np.int64).reshape(-1, len(dimensions))
    families = cells.shape[0]
    if column is not None:
        if values is None or len(values) != families:
            raise ValueError("values: one per family when the table has a column")
        clipped = np.clip(np.asarray(values, dtype=float), column.low, column.high)
        scored = np.ones((families, 1), dtype=bool)
        value_matrix = clipped.reshape(-1, 1)
        value_range = (column.low, column.high)
        min_width = column.min_width
    else:
        clipped = np.zeros(0)
        scored = np.zeros((families, 0), dtype=bool)
        value_matrix = np.zeros((families, 0))
        value_range, min_width = (0.0, 1.0), disclosure.MIN_MEAN_WIDTH
    sizes = [d.size for d in dimensions]
    protection = disclosure.protect(
        cells,
        sizes,
        scored,
        value_matrix,
        threshold,
        value_range=value_range,
        min_mean_width=min_width,
        keep=[d.keep for d in dimensions],
    )
    column_shown = column is not None and families >= threshold  # (so never for too few)
    # A table of fewer families than the threshold is itself a small group: nothing of it is published,
    # not even how many (an empty table says 0). What the audit could not settle by hiding more is not
    # published at all either, but for the table's total.
    too_few = 0 < families < threshold
    everything_hidden = too_few or bool(protection.residual)
    breakdowns = []
    for d, dimension in enumerate(dimensions):
        counts = np.bincount(cells[:, d], minlength=sizes[d]) if families else np.zeros(sizes[d], np.int64)
        sums = (
            np.bincount(cells[:, d], weights=clipped, minlength=sizes[d])
            if column is not None and families
            else np.zeros(sizes[d])
        )
        rows = []
        for i, names in enumerate(dimension.cell_names()):
            hidden = everything_hidden or bool(protection.group_hidden[d][i])
            mean = None
            # Two-way cells' means are audited but not published: the page has no room for them.
            if (
                column_shown
                and not dimension.parts
                and not hidden
                and counts[i]
                and not protection.cell_hidden[d][i, 0]
            ):
                mean = round(float(sums[i] / counts[i]), column.decimals if column else 1)
            rows.append({**names, "count": None if hidden else int(counts[i]), "mean": mean})
        breakdowns.append({"key": dimension.key, "title": dimension.title, "rows": rows})
    return {
        "key": key,
        "title": title,
        "total": None if too_few else families,
        "column": (
            None
            if column is None
            else {"key": column.key, "title": column.title, "low": column.low, "high": column.high}
        ),
        "mean": round(float(clipped.mean()), column.decimals) if column_shown and column else None,
        "breakdowns": breakdowns,
    }


# --- counts at a date, with noise -----------------------------------------------------------------------
# How many families are open at the end of each quarter cannot be protected by hiding cells: two quarter
# ends could be subtracted, and the difference is a handful of families. So these counts get noise instead
# (differential privacy, as the barometer's open-link rounds): the discrete Laplace mechanism of OpenDP
# (see barometer/private.py for why its "contrib" components are used), once per quarter, kept.
OPEN_EPSILON = 1.0  # per quarter, half on the total and half on the organisations' counts
_CONFIDENCE = 0.95


def _laplace(epsilon: float, bins: int | None) -> Any:
    """OpenDP's discrete Laplace for a count (``bins`` None) or a histogram of ``bins`` counts. A family
    moves one count by 1 (L1 distance 1), so scale 1/epsilon spends epsilon."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    scale = (1.0 / epsilon) * (1.0 + 1e-9)  # a billionth over, as barometer/private.py, for rounding
    if bins is None:
        return dp.m.make_laplace(dp.atom_domain(T="i64"), dp.absolute_distance(T="i64"), scale=scale)
    domain = dp.vector_domain(dp.atom_domain(T="i64"), size=bins)
    return dp.m.make_laplace(domain, dp.l1_distance(T="i64"), scale=scale)


def noise_half_width(epsilon: float, confidence: float = _CONFIDENCE) -> int:
    """The smallest t with P(|noise| <= t) >= confidence for the discrete Laplace of scale 1/epsilon."""
    r = float(np.exp(-epsilon))
    t = 0
    while 2 * r ** (t + 1) / (1 + r) > 1 - confidence:  # P(|X| > t) = 2 r^(t+1) / (1 + r)
        t += 1
    return t


def noisy_table(
    *, key: str, title: str, rows: np.ndarray, labels: Sequence[str], epsilon: float = OPEN_EPSILON
) -> dict[str, Any]:
    """How many families per label (``rows``: each family's label index) and in all, each with noise
    drawn once. A noisy count below 0 is shown as 0 (after the noise, so the guarantee is unchanged)."""
    counts = np.bincount(np.asarray(rows, dtype=np.int64), minlength=len(labels)).astype(np.int64)
    half = epsilon / 2
    total, histogram = _laplace(half, None), _laplace(half, len(labels))
    # The library's own accounting, not ours.
    if float(total.map(1)) + float(histogram.map(1)) > epsilon:
        raise RuntimeError("the noise would spend more than its epsilon")
    noisy = np.maximum(np.asarray(histogram(counts.tolist()), dtype=np.int64), 0)
    return {
        "key": key,
        "title": title,
        "total": max(int(total(int(counts.sum()))), 0),
        "column": None,
        "mean": None,
        "noise": {"epsilon": epsilon, "within": noise_half_width(half), "confidence": _CONFIDENCE},
        "breakdowns": [
            {
                "key": "organisation",
                "title": "By the lead practitioner's organisation",
                "rows": [
                    {"label": label, "count": int(n), "mean": None}
                    for label, n in zip(labels, noisy, strict=True)
                ],
            }
        ],
    }
