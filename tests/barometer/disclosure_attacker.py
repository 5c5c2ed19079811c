"""An attacker on a barometer round's published results, written independently of reticulist.disclosure.

The attacker is a member who sees everything one release publishes (``Release``: the round's respondent
count, each construct's n, mean and sd, every visible group count and every visible cell's n and mean)
and knows the register generously (``Register``: each respondent's organisation, profession, hierarchy
tier and Working Together tier, so which cross-classified groups, the *atoms*, hold anybody and how the
published groups nest and cross), but not anybody's answers. They try three things:

(a) ``subtraction``: one published cell minus another nested in it, and a cell (or the whole round)
    minus any set of disjoint published cells nested in it (a tier minus its visible organisations; a
    hierarchy-tier cell minus an organisation whose respondents all sit in that tier);
(b) ``linear_algebra``: every union of up to k-1 small atoms whose indicator lies in the row space of
    the published cells (orthogonal to the null space, from an SVD), so its count, or its n and sum in a
    construct, follows exactly from what is published;
(c) ``count_ranges`` and ``mean_ranges``: integer and linear programs over everything published (all
    systems at once for the counts, with n <= people per atom), giving each hidden small cell the range
    its count could take and, every count taken as known, the range its mean could take.

Nothing here imports reticulist.disclosure: the point is a second, independent reading of the promise.
Ground truth (the people, n and sums per atom) is used only to say whether a recovered group is small
and to check that what the attacker recovers is right.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csc_matrix, csr_matrix

from reticulist.barometer.scoring import Breakdown, ConstructResult, RoundResults

LOW, HIGH = 1.0, 5.0  # the scale: a construct score lies in [1, 5]
MIN_MEAN_WIDTH = 2.0  # the promise: a hidden small group's mean stays at least this uncertain
EXACT = 1e-9


@dataclass(frozen=True)
class Register:
    """What the attacker knows of who answered: each respondent's code in each dimension (-1: not told).
    ``scores`` (respondents, constructs; NaN = no score) is the ground truth, never shown to the attack
    functions' published side: used only to judge what they recover."""

    dimensions: tuple[str, ...]
    codes: np.ndarray  # (respondents, dimensions) int
    scores: np.ndarray  # (respondents, constructs) float, NaN for no score

    def atoms(self) -> Atoms:
        return Atoms.of(self)


@dataclass(frozen=True)
class Atoms:
    keys: np.ndarray  # (m, dimensions): the codes of each atom
    people: np.ndarray  # (m,) respondents per atom
    n: np.ndarray  # (m, constructs) respondents with a score per atom
    sums: np.ndarray  # (m, constructs) sum of scores per atom
    dimensions: tuple[str, ...]

    @staticmethod
    def of(register: Register) -> Atoms:
        keys, atom_of = np.unique(register.codes, axis=0, return_inverse=True)
        atom_of = atom_of.reshape(-1)
        m = keys.shape[0]
        has = ~np.isnan(register.scores)
        columns = register.scores.shape[1]
        n = np.zeros((m, columns), dtype=np.int64)
        sums = np.zeros((m, columns))
        for c in range(columns):
            n[:, c] = np.bincount(atom_of, weights=has[:, c], minlength=m).astype(np.int64)
            sums[:, c] = np.bincount(
                atom_of, weights=np.where(has[:, c], register.scores[:, c], 0.0), minlength=m
            )
        return Atoms(keys, np.bincount(atom_of, minlength=m), n, sums, register.dimensions)

    @property
    def m(self) -> int:
        return self.keys.shape[0]

    def mask(self, dimension: str, code: int) -> np.ndarray:
        return self.keys[:, self.dimensions.index(dimension)] == code

    def weights(self, column: int | None) -> np.ndarray:
        return self.people if column is None else self.n[:, column]


@dataclass(frozen=True)
class Figure:
    """One published figure over a set of atoms: a count (column None) or a column's n and sum."""

    label: str
    mask: np.ndarray  # (m,) bool: the atoms it covers
    n: int
    total: float | None  # the column's sum (n x mean); None for a people count


@dataclass
class Release:
    """Everything one release publishes, as the attacker reads it off ``RoundResults``."""

    respondents: int
    threshold: int
    construct_n: list[int | None]
    construct_mean: list[float | None]
    construct_sd: list[float | None]
    # (dimension, code) -> count, for each visible group
    counts: dict[tuple[str, int], int] = field(default_factory=dict)
    # (dimension, code, column) -> (n, mean), for each visible cell
    cells: dict[tuple[str, int, int], tuple[int, float]] = field(default_factory=dict)
    # (dimension, code) of every group the breakdowns list, hidden or not
    listed: list[tuple[str, int]] = field(default_factory=list)

    @staticmethod
    def read(results: RoundResults) -> Release:
        return Release.of(results.respondents, results.threshold, results.constructs, results.breakdowns)

    @staticmethod
    def of(
        respondents: int,
        threshold: int,
        constructs: Sequence[ConstructResult],
        breakdowns: Mapping[str, Breakdown],
    ) -> Release:
        """From the figures as the scoring engine or a round report (``report.lines``' results) gives them."""
        out = Release(
            respondents=respondents,
            threshold=threshold,
            construct_n=[c.n for c in constructs],
            construct_mean=[c.mean for c in constructs],
            construct_sd=[c.sd for c in constructs],
        )
        for dimension, breakdown in breakdowns.items():
            for group in breakdown.groups:
                out.listed.append((dimension, group.code))
                if group.respondents is not None:
                    out.counts[(dimension, group.code)] = group.respondents
                for c, cell in enumerate(group.cells):
                    if cell.n is not None and cell.mean is not None:
                        out.cells[(dimension, group.code, c)] = (cell.n, cell.mean)
        return out

    @staticmethod
    def naive(register: Register, threshold: int) -> Release:
        """What per-dimension suppression alone would publish (every group and cell of at least k, nothing
        hidden to protect the small ones): the release the issue's attacks broke. For testing the
        attacker: it must find them here."""
        k = threshold
        has = ~np.isnan(register.scores)
        n = has.sum(axis=0)
        means = [float(np.nanmean(register.scores[:, c])) if n[c] >= k else None for c in range(n.size)]
        out = Release(
            respondents=register.codes.shape[0],
            threshold=k,
            construct_n=[int(x) if x >= k else None for x in n],
            construct_mean=means,
            construct_sd=[None] * n.size,
        )
        for d, dimension in enumerate(register.dimensions):
            for code in sorted(set(register.codes[:, d].tolist())):
                members = register.codes[:, d] == code
                out.listed.append((dimension, code))
                if members.sum() < k:
                    continue
                out.counts[(dimension, code)] = int(members.sum())
                for c in range(n.size):
                    values = register.scores[members, c]
                    values = values[~np.isnan(values)]
                    if values.size >= k and out.construct_n[c] is not None:
                        out.cells[(dimension, code, c)] = (int(values.size), float(values.mean()))
        return out

    def rounded(self, decimals: int = 3) -> Release:
        """The same release with every mean rounded as the CSV writes it."""
        return Release(
            self.respondents,
            self.threshold,
            list(self.construct_n),
            [None if m is None else round(m, decimals) for m in self.construct_mean],
            [None if s is None else round(s, decimals) for s in self.construct_sd],
            dict(self.counts),
            {key: (n, round(mean, decimals)) for key, (n, mean) in self.cells.items()},
            list(self.listed),
        )

    @property
    def columns(self) -> int:
        return len(self.construct_n)

    def figures(self, atoms: Atoms, column: int | None) -> list[Figure]:
        """The published figures of one system: the whole round (or construct) first, then the cells."""
        everyone = np.ones(atoms.m, dtype=bool)
        if column is None:
            out = [Figure("whole round", everyone, self.respondents, None)]
            for (dimension, code), count in self.counts.items():
                out.append(Figure(f"{dimension} {code}", atoms.mask(dimension, code), count, None))
            return out
        out = []
        n, mean = self.construct_n[column], self.construct_mean[column]
        if n is not None and mean is not None:
            out.append(Figure(f"construct {column}", everyone, n, n * mean))
        for (dimension, code, c), (cell_n, cell_mean) in self.cells.items():
            if c == column:
                out.append(
                    Figure(
                        f"{dimension} {code} / construct {column}",
                        atoms.mask(dimension, code),
                        cell_n,
                        cell_n * cell_mean,
                    )
                )
        return out


@dataclass(frozen=True)
class Finding:
    """Something the attacker worked out about a group of 1..k-1 respondents."""

    attack: str
    column: int | None  # None: the people count; else a construct column
    group: str  # how the attacker describes the group
    size: int  # true respondents (with a score, for a column) in the group
    recovered: str  # what they learnt

    def __str__(self) -> str:
        what = "count" if self.column is None else f"construct {self.column}"
        return f"[{self.attack}] {what}: {self.group} ({self.size} people): {self.recovered}"


def _systems(release: Release) -> list[int | None]:
    return [None, *[c for c in range(release.columns) if release.construct_n[c] is not None]]


# --- (a) subtraction ------------------------------------------------------------------------------------
def _disjoint_families(cells: list[Figure], live: np.ndarray, limit: int) -> Iterator[list[Figure]]:
    """Non-empty families of pairwise disjoint cells (over live atoms), at most ``limit`` of them."""
    produced = 0

    def walk(start: int, used: np.ndarray, chosen: list[Figure]) -> Iterator[list[Figure]]:
        nonlocal produced
        for i in range(start, len(cells)):
            if produced >= limit:
                return
            here = cells[i].mask & live
            if (here & used).any():
                continue
            family = [*chosen, cells[i]]
            produced += 1
            yield family
            yield from walk(i + 1, used | here, family)

    yield from walk(0, np.zeros(live.shape, dtype=bool), [])


def subtraction(release: Release, atoms: Atoms, *, limit: int = 20_000) -> list[Finding]:
    """Every published figure minus any family of disjoint published figures nested in it."""
    k = release.threshold
    found: list[Finding] = []
    for column in _systems(release):
        weights = atoms.weights(column)
        live = weights > 0
        figures = release.figures(atoms, column)
        for outer in figures:
            inside = [
                f
                for f in figures
                if f is not outer
                and not ((f.mask & live) & ~(outer.mask & live)).any()
                and (f.mask & live).any()
                and ((outer.mask & live) & ~(f.mask & live)).any()
            ]
            for family in _disjoint_families(inside, live, limit):
                taken = np.zeros(atoms.m, dtype=bool)
                for f in family:
                    taken |= f.mask
                rest = outer.mask & ~taken & live
                size = int(weights[rest].sum())
                count = outer.n - sum(f.n for f in family)
                assert count == size, "the attacker's arithmetic disagrees with the truth"
                if 1 <= size <= k - 1:
                    recovered = f"count {count}"
                    if column is not None:
                        total = outer.total - sum(f.total for f in family)
                        recovered += (
                            f", mean {total / count:.6f} (true {atoms.sums[rest, column].sum() / size:.6f})"
                        )
                    names = " - ".join([outer.label, *(f.label for f in family)])
                    found.append(Finding("subtraction", column, names, size, recovered))
    return found


# --- (b) linear algebra ----------------------------------------------------------------------------------
def null_space(rows: np.ndarray) -> np.ndarray:
    """An orthonormal basis (columns) of the null space of ``rows``, from its SVD."""
    if rows.shape[0] == 0:
        return np.eye(rows.shape[1])
    _, singular, vt = np.linalg.svd(rows, full_matrices=True)
    tol = max(rows.shape) * np.finfo(float).eps * (singular[0] if singular.size else 0.0)
    rank = int((singular > tol).sum())
    return vt[rank:].T


def small_unions(weights: np.ndarray, candidates: np.ndarray, k: int) -> Iterator[np.ndarray]:
    """Every set of ``candidates`` (atom indices, each of weight 1..k-1) holding 1..k-1 in total, level by
    level, as arrays of shape (sets, size) of indices."""
    w = weights[candidates]
    level = candidates[:, None]
    level_w = w.copy()
    level_last = np.arange(candidates.size)
    while level.shape[0]:
        yield level
        grow, grow_w, grow_last = [], [], []
        for j in range(candidates.size):
            keep = (level_last < j) & (level_w + w[j] <= k - 1)
            if keep.any():
                grow.append(np.column_stack([level[keep], np.full(int(keep.sum()), candidates[j])]))
                grow_w.append(level_w[keep] + w[j])
                grow_last.append(np.full(int(keep.sum()), j))
        if not grow:
            return
        level = np.concatenate(grow)
        level_w = np.concatenate(grow_w)
        level_last = np.concatenate(grow_last)


def linear_algebra(release: Release, atoms: Atoms, *, seed: int = 0) -> list[Finding]:
    """Every union of small atoms whose count (or n and sum in a construct) the published cells determine."""
    k = release.threshold
    found: list[Finding] = []
    rng = np.random.default_rng(seed)
    for column in _systems(release):
        weights = atoms.weights(column)
        live = np.flatnonzero(weights > 0)
        figures = release.figures(atoms, column)
        rows = np.array([f.mask[live] for f in figures], dtype=float).reshape(len(figures), live.size)
        values = np.array([f.n for f in figures], dtype=float)
        null = null_space(rows)  # (L, r)
        small = np.flatnonzero((weights[live] >= 1) & (weights[live] <= k - 1))
        if small.size == 0:
            continue
        if null.shape[1] == 0:
            projected = np.zeros((live.size, 1))
        else:
            # A union is determined when the sum of its atoms' null-space coordinates is 0; a random
            # projection finds candidates fast, the full vector confirms them.
            projected = null @ rng.standard_normal((null.shape[1], 3))
        whole = live.size
        for level in small_unions(weights[live], small, k):
            sums = projected[level].sum(axis=1)
            hits = np.flatnonzero(np.abs(sums).max(axis=1) < 1e-7)
            for h in hits:
                union = level[h]
                if null.shape[1] and np.abs(null[union].sum(axis=0)).max() > 1e-8:
                    continue
                if column is None and union.size == whole:
                    continue  # the whole round's own count is public by design
                indicator = np.zeros(live.size)
                indicator[union] = 1.0
                # The attacker's recovery: the combination of published rows that gives the indicator.
                y, *_ = np.linalg.lstsq(rows.T, indicator, rcond=None)
                assert np.allclose(rows.T @ y, indicator, atol=1e-8)
                count = float(y @ values)
                size = int(weights[live][union].sum())
                assert abs(count - size) < 1e-6, "the attacker's algebra disagrees with the truth"
                recovered = f"count {count:.9f}"
                if column is not None:
                    totals = np.array([f.total for f in figures], dtype=float)
                    total = float(y @ totals)
                    true = float(atoms.sums[live[union], column].sum())
                    assert abs(total - true) < 1e-6
                    recovered += f", sum {total:.9f} (true {true:.9f})"
                keys = "; ".join(
                    "(" + ", ".join(f"{d}={atoms.keys[a, i]}" for i, d in enumerate(atoms.dimensions)) + ")"
                    for a in live[union]
                )
                used = [figures[r].label for r in np.flatnonzero(np.abs(y) > 1e-9)]
                found.append(Finding("linear algebra", column, f"atoms {keys} from {used}", size, recovered))
    return found


# --- (c) linear programs ---------------------------------------------------------------------------------
class Programme:
    """min and max of target.x subject to a_eq x = b_eq, a_ub x <= b_ub, low <= x <= high: the linear
    program linprog(method="highs") would solve, kept in one HiGHS model and re-solved from the last basis
    for each new target (hundreds of ranges per round in a fraction of the time)."""

    def __init__(
        self,
        a_eq: np.ndarray,
        b_eq: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        a_ub: np.ndarray | None = None,
        b_ub: np.ndarray | None = None,
    ) -> None:
        a_ub = np.zeros((0, a_eq.shape[1])) if a_ub is None else a_ub
        b_ub = np.zeros(0) if b_ub is None else b_ub
        matrix = csc_matrix(np.vstack([a_eq, a_ub]))
        self.size = a_eq.shape[1]
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
        lp.col_cost_ = np.zeros(self.size)
        lp.col_lower_ = np.asarray(low, dtype=float)
        lp.col_upper_ = np.where(np.isinf(high), highspy.kHighsInf, high).astype(float)
        lp.row_lower_ = np.concatenate([b_eq, np.full(b_ub.size, -highspy.kHighsInf)]).astype(float)
        lp.row_upper_ = np.concatenate([b_eq, b_ub]).astype(float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data.astype(float)
        self.highs.passModel(lp)
        self.columns = np.arange(self.size, dtype=np.int32)

    def extent(self, target: np.ndarray) -> tuple[float, float]:
        ends = []
        for sign in (1.0, -1.0):
            self.highs.changeColsCost(self.size, self.columns, sign * np.asarray(target, dtype=float))
            self.highs.run()
            status = self.highs.getModelStatus()
            if status == highspy.HighsModelStatus.kUnbounded:
                ends.append(sign * np.inf)
                continue
            assert status == highspy.HighsModelStatus.kOptimal, self.highs.modelStatusToString(status)
            ends.append(sign * self.highs.getInfo().objective_function_value)
        return ends[0], ends[1]


@dataclass(frozen=True)
class Range:
    """What the linear programs allow for one hidden small cell."""

    kind: str  # "count" or "mean"
    column: int | None
    cell: tuple[str, int]
    size: int  # true people (column None) or true n in the column
    low: float
    high: float
    baseline: tuple[float, float] | None  # the same range from the whole round's own figures alone

    def __str__(self) -> str:
        if self.kind == "mean":
            what = f"mean of construct {self.column}"
        else:
            what = "count" if self.column is None else f"n in construct {self.column}"
        return (
            f"{what} of {self.cell[0]} {self.cell[1]} ({self.size} people): {self.low:.6g}..{self.high:.6g}"
            + (
                ""
                if self.baseline is None
                else f" (whole round alone: {self.baseline[0]:.4g}..{self.baseline[1]:.4g})"
            )
        )


def _hidden_small(release: Release, atoms: Atoms, column: int | None) -> list[tuple[str, int]]:
    k = release.threshold
    weights = atoms.weights(column)
    out = []
    for dimension, code in release.listed:
        shown = (
            (dimension, code) in release.counts
            if column is None
            else (dimension, code, column) in release.cells
        )
        size = int(weights[atoms.mask(dimension, code)].sum())
        if not shown and 1 <= size <= k - 1:
            out.append((dimension, code))
    return out


def count_ranges(
    release: Release, atoms: Atoms, *, atoms_known_nonempty: bool = False, integer: bool = False
) -> list[Range]:
    """The range of each hidden small cell's count (people, or n in a column) over everything published
    at once: people p_a and n_{a,c} per atom, 0 <= n_{a,c} <= p_a, every count equation; rounded inwards
    (counts are whole), or solved as an integer program with ``integer``. ``atoms_known_nonempty``: the
    attacker also takes every atom that holds anybody to hold at least one (being generous: the register
    tells which combinations of organisation, profession and tiers exist). ``baseline`` is filled, for a
    range that breaks the promise, with the range from the whole round's own figures alone."""
    k = release.threshold
    m = atoms.m
    columns = [c for c in range(release.columns) if release.construct_n[c] is not None]
    variables = m * (1 + len(columns))
    offset = {None: 0, **{c: m * (i + 1) for i, c in enumerate(columns)}}

    def system(whole_only: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rows, values = [], []
        for column in [None, *columns]:
            figures = release.figures(atoms, column)
            for f in figures[:1] if whole_only else figures:
                row = np.zeros(variables)
                row[offset[column] : offset[column] + m] = f.mask
                rows.append(row)
                values.append(f.n)
        under = np.zeros((m * len(columns), variables))  # n_{a,c} - p_a <= 0
        for i, c in enumerate(columns):
            under[i * m + np.arange(m), offset[c] + np.arange(m)] = 1.0
            under[i * m + np.arange(m), np.arange(m)] = -1.0
        return (
            csr_matrix(np.array(rows)),
            np.array(values, dtype=float),
            csr_matrix(under),
            np.zeros(under.shape[0]),
        )

    lower = np.zeros(variables)
    if atoms_known_nonempty:
        lower[:m] = (atoms.people > 0).astype(float)

    systems = {False: system(False)}
    programmes: dict[bool, Programme] = {}

    def extent(column: int | None, mask: np.ndarray, whole_only: bool) -> tuple[float, float]:
        if whole_only not in systems:
            systems[whole_only] = system(whole_only)
        a_eq, b_eq, a_ub, b_ub = systems[whole_only]
        target = np.zeros(variables)
        target[offset[column] : offset[column] + m] = mask
        if not integer:
            if whole_only not in programmes:
                programmes[whole_only] = Programme(
                    a_eq.toarray(), b_eq, lower, np.full(variables, np.inf), a_ub.toarray(), b_ub
                )
            low, high = programmes[whole_only].extent(target)
            return math.ceil(low - 1e-7), (math.floor(high + 1e-7) if math.isfinite(high) else math.inf)
        ends = []
        for sign in (1.0, -1.0):
            if integer:
                result = milp(
                    sign * target,
                    constraints=[LinearConstraint(a_eq, b_eq, b_eq), LinearConstraint(a_ub, -np.inf, b_ub)],
                    integrality=np.ones(variables),
                    bounds=Bounds(lower, np.inf),
                )
            else:
                result = linprog(
                    sign * target,
                    A_ub=a_ub,
                    b_ub=b_ub,
                    A_eq=a_eq,
                    b_eq=b_eq,
                    bounds=np.column_stack([lower, np.full(variables, np.inf)]),
                    method="highs",
                )
            assert result.status in (0, 3), result.message  # optimal, or unbounded (nothing caps it)
            ends.append(sign * result.fun if result.status == 0 else sign * np.inf)
        low, high = ends
        return math.ceil(low - 1e-7), (math.floor(high + 1e-7) if math.isfinite(high) else math.inf)

    out = []
    for column in [None, *columns]:
        weights = atoms.weights(column)
        for cell in _hidden_small(release, atoms, column):
            mask = atoms.mask(*cell)
            low, high = extent(column, mask, False)
            wide = high >= k and high - low >= k - 1
            baseline = None if wide else extent(column, mask, True)
            out.append(Range("count", column, cell, int(weights[mask].sum()), low, high, baseline))
    return out


def mean_ranges(release: Release, atoms: Atoms) -> list[Range]:
    """The range of each hidden small cell's mean per construct, every count taken as known: sums s_a in
    [n_a, 5 n_a], every published sum an equation. ``baseline`` as for counts."""
    out = []
    for column in range(release.columns):
        if release.construct_n[column] is None:
            continue
        n = atoms.n[:, column].astype(float)
        live = n > 0
        figures = release.figures(atoms, column)
        a_eq = np.array([f.mask[live] for f in figures], dtype=float)
        b_eq = np.array([f.total for f in figures], dtype=float)
        published = Programme(a_eq, b_eq, LOW * n[live], HIGH * n[live])
        whole: list[Programme] = []

        for cell in _hidden_small(release, atoms, column):
            mask = atoms.mask(*cell)[live].astype(float)
            size = int(n[live] @ mask)
            low, high = published.extent(mask)
            baseline = None
            if (high - low) / size < MIN_MEAN_WIDTH - 1e-7:
                if not whole:
                    whole.append(Programme(a_eq[:1], b_eq[:1], LOW * n[live], HIGH * n[live]))
                base_low, base_high = whole[0].extent(mask)
                baseline = (base_low / size, base_high / size)
            out.append(Range("mean", column, cell, size, low / size, high / size, baseline))
    return out


# --- the promise -----------------------------------------------------------------------------------------
@dataclass
class Verdict:
    findings: list[Finding]
    narrow_counts: list[Range]
    narrow_means: list[Range]
    exempt: list[tuple[Range, str]]

    @property
    def broken(self) -> list[str]:
        return [str(f) for f in self.findings] + [str(r) for r in self.narrow_counts + self.narrow_means]


def count_range_is_wide(low: float, high: float, k: int) -> bool:
    """The promise for a hidden small cell's count: its range reaches k and is at least k-1 wide."""
    return high >= k and high - low >= k - 1


def mean_range_is_wide(low: float, high: float) -> bool:
    """The promise for a hidden small cell's mean: at least 2 points of the 1-5 scale wide."""
    return high - low >= MIN_MEAN_WIDTH - 1e-7


def attack(
    release: Release, register: Register, *, atoms_known_nonempty: bool = False, integer: bool = False
) -> Verdict:
    """Every attack. A range that is narrow only because the whole round's own figures make it so (the
    same programs with nothing but the round's count and each construct's n and mean published) is
    exempt: no choice of hidden cells could widen it."""
    atoms = register.atoms()
    k = release.threshold
    findings = subtraction(release, atoms) + linear_algebra(release, atoms)
    narrow_counts, narrow_means, exempt = [], [], []
    for r in count_ranges(release, atoms, atoms_known_nonempty=atoms_known_nonempty, integer=integer):
        if count_range_is_wide(r.low, r.high, k):
            continue
        assert r.baseline is not None
        if not count_range_is_wide(*r.baseline, k):
            exempt.append((r, "the whole round's count (or the construct's n) alone makes it narrow"))
        else:
            narrow_counts.append(r)
    for r in mean_ranges(release, atoms):
        if mean_range_is_wide(r.low, r.high):
            continue
        assert r.baseline is not None
        if not mean_range_is_wide(*r.baseline):
            exempt.append((r, "the construct's own n and mean alone make it narrow"))
        else:
            narrow_means.append(r)
    return Verdict(findings, narrow_counts, narrow_means, exempt)


def register_of(groups: Mapping[str, tuple[np.ndarray, Sequence[str]]], scores: np.ndarray) -> Register:
    names = tuple(groups)
    codes = np.column_stack([np.asarray(groups[d][0], dtype=np.int64) for d in names])
    return Register(names, codes, np.asarray(scores, dtype=float))
