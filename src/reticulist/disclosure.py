"""Publishing aggregates safely: joint cell suppression over linked tables, proven by an audit.

Every capability that publishes counts and means of people (the barometer's breakdowns now; casework
figures and comparisons between partnerships later) hands this module the people cross-classified by
every dimension it publishes and gets back which cells to hide. Pure computation: NumPy in, NumPy out.

The attacker
------------
They see every published figure of one release at once: the total, every group's count, and per column
(a construct) every visible cell's n and mean, so its sum. They know how groups nest and cross (which
organisation is in which tier; the register) and which combinations of dimensions exist. For the exact
search they are also credited with knowing which combinations hold anybody (the safe side); for the
ranges, not who answered nor who skipped a construct. They subtract, add and solve linear programs. Each
group is a union of *atoms*: the cross-classified groups (organisation x profession x hierarchy tier x
...), the finest groups anything published can describe.

What is proven (k = threshold)
------------------------------
1. Exact: no union of atoms holding 1..k-1 people (or, per column, 1..k-1 people with a value) has its
   count or its sum determined by what is published. A union's figure is determined exactly when its
   indicator lies in the row space of the published cells; a mixed integer program (HiGHS, through
   SciPy) searches every union of small atoms for one that does and proves that none exists. Only the
   whole round's own count is public by design.
2. Intervals: for every hidden cell that holds 1..k-1 people, linear programs over everything published
   give the range its count could take, which must reach k (hidden does not tell small) and be at least
   k-1 wide (1 cannot be told from k-1); for hidden groups over the people counts and every column's n
   joined (n <= people in every atom); and the range its mean could take, with every count taken as
   known, must be at least ``min_mean_width`` wide on the scale (default 2 points of 1..5: agreeing
   cannot be told from disagreeing), unless the column's own whole figures already pin it.

Cells are hidden first because they are small (fewer than k), then, while the audit finds anything, one
more visible cell is hidden for each finding: one the attacker's combination uses (exact findings), else a
cell of the same dimension (the classic complement), else one that overlaps the exposed group, else any
other visible cell of the column; the least wanted dimension (``keep``) and the fewest people first.
Hiding only ever grows, so this ends; what it cannot fix is reported as ``residual``.

Known gap: a cell hidden inside a visible group has its n range audited within its own column; joined
with the other columns' counts it can be narrower (its sums stay protected: the mean ranges take every
count as known).

Not protected: a visible group of k or more whose members all gave the same answer (its mean says what
each of them answered), and anything outside the release (a later release of the same people must be
audited together with this one; the barometer releases a round once).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
from scipy.sparse import csc_matrix, csr_matrix, vstack


def _quiet_first_highs() -> None:
    """HiGHS prints a banner on standard output the first time a solver is made in a process, which would
    land in the middle of a CLI command's output: make that first one here, at import, with the output
    file descriptor pointed at /dev/null for the moment."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_quiet_first_highs()

# A search that neither finds a small determined union nor proves there is none within this time counts as
# a finding (the safe side); it is rare, and hiding one more cell makes the next search easier.
MILP_SECONDS = 1.0
# The joined count check (people and every column's n at once) grows with atoms x columns; beyond this
# many variables its linear programs take minutes, so it is left out (docs/barometer.md says so). A
# partnership's round is far below it (the demo: about 1,700).
JOINT_MAX_VARIABLES = 6_000
MIN_MEAN_WIDTH = 2.0  # points on the 1-5 scale: a hidden small group's mean stays this uncertain at least
_EPS = 1e-7


@dataclass(frozen=True)
class Finding:
    """Something the audit could work out: a group of 1..k-1 people whose count, sum or range is exposed.

    ``column`` is None for the count of people, else the column (construct) index. ``cell`` is the
    (dimension, cell) of a hidden cell for interval findings, None for an exact finding, where ``atoms``
    lists the atoms of the exposed union."""

    kind: str  # "exact", "count range" or "mean range"
    column: int | None
    atoms: tuple[int, ...]
    cell: tuple[int, int] | None = None
    detail: str = ""
    used: tuple[tuple[int, int], ...] = ()  # exact: the visible cells the attacker combines


@dataclass
class Protection:
    """Which cells to hide. ``group_hidden[d][i]``: the whole group i of dimension d (its count and every
    column); ``cell_hidden[d][i, c]``: its figures in column c. ``primary`` counts cells hidden for being
    small, ``secondary`` those hidden to protect them (groups, and single cells of visible groups)."""

    group_hidden: list[np.ndarray]
    cell_hidden: list[np.ndarray]
    primary_groups: int = 0
    secondary_groups: int = 0
    primary_cells: int = 0
    secondary_cells: int = 0
    rounds: int = 0  # audit passes until nothing was found
    residual: list[Finding] = field(default_factory=list)
    joined: bool = True  # whether hidden groups' counts were also checked with every column's n joined


@dataclass(frozen=True)
class _System:
    """One published linear system: visible cells (rows over atoms) with their true weights."""

    column: int | None
    weights: np.ndarray  # (m,) people (or people with a value) per atom
    visible: list[tuple[int, int]]  # (dimension, cell) of each visible non-total row
    hidden: list[tuple[int, int]]  # hidden cells with 1..k-1 people: protected by intervals
    total_visible: bool


class _Tables:
    """The atoms and which atoms each cell of each dimension covers."""

    def __init__(self, cells: np.ndarray, sizes: Sequence[int], scored: np.ndarray, values: np.ndarray):
        self.sizes = list(sizes)
        if cells.shape[0]:
            self.atoms, atom_of = np.unique(cells, axis=0, return_inverse=True)
            atom_of = atom_of.reshape(-1)
        else:
            self.atoms, atom_of = np.zeros((0, len(sizes)), dtype=np.int64), np.zeros(0, dtype=np.int64)
        m = self.atoms.shape[0]
        self.m = m
        self.people = np.bincount(atom_of, minlength=m).astype(np.int64)
        columns = scored.shape[1]
        self.n = np.zeros((m, columns), dtype=np.int64)
        self.sums = np.zeros((m, columns))
        for c in range(columns):
            self.n[:, c] = np.bincount(atom_of, weights=scored[:, c], minlength=m).astype(np.int64)
            self.sums[:, c] = np.bincount(
                atom_of, weights=np.where(scored[:, c], values[:, c], 0.0), minlength=m
            )
        # member[d]: (cells_d, m) bool, atom j in cell i of dimension d
        self.member = [self.atoms[:, d][None, :] == np.arange(size)[:, None] for d, size in enumerate(sizes)]

    def row(self, cell: tuple[int, int]) -> np.ndarray:
        return self.member[cell[0]][cell[1]]


def _in_row_space_search(
    rows: np.ndarray, weights: np.ndarray, threshold: int, exempt_total: bool
) -> tuple[list[int], list[int]]:
    """A union of atoms with 1..k-1 weight whose indicator is a combination of ``rows``, and the rows
    that combination uses; ([], []) if there is none.

    Atoms with no weight are left out (their figures are 0 whatever is published). The search is a mixed
    integer program: binary g over the small atoms, free y over the rows, rows^T y = g, 1 <= w.g <= k-1.
    """
    live = np.flatnonzero(weights > 0)
    if live.size == 0 or rows.shape[0] == 0:
        return [], []
    w = weights[live].astype(float)
    small = np.flatnonzero(w <= threshold - 1)
    if small.size == 0:
        return [], []
    a = rows[:, live].astype(float)  # (p, L)
    p, L = a.shape
    s = small.size
    # Variables: g (s binary), then y (p free). Per live atom j: sum_r a[r, j] y_r - [j small] g_j = 0.
    eq = np.zeros((L, s + p))
    eq[:, s:] = a.T
    eq[small, np.arange(s)] = -1.0
    weight_row = np.zeros((1, s + p))
    weight_row[0, :s] = w[small]
    matrix = [eq, weight_row]
    low = [np.zeros(L), [1.0]]
    high = [np.zeros(L), [threshold - 1.0]]
    if exempt_total and small.size == live.size:
        # The whole round's count is public by design: ask for a proper subset.
        whole = np.zeros((1, s + p))
        whole[0, :s] = 1.0
        matrix.append(whole)
        low.append([1.0])
        high.append([s - 1.0])
    solved = _solve_binary_feasibility(np.vstack(matrix), np.concatenate(low), np.concatenate(high), binary=s)
    if solved is None:  # infeasible: proven that no such union exists
        return [], []
    if isinstance(solved, str):
        # Not settled in time: no proof, so treat every small atom as exposed; hiding a cell over them
        # shrinks the row space and the next search is easier.
        return [int(j) for j in live[small]], []
    chosen = small[np.flatnonzero(solved[:s] > 0.5)]
    used = np.flatnonzero(np.abs(solved[s:]) > 1e-6)
    return [int(j) for j in live[chosen]], [int(r) for r in used]


def _solve_binary_feasibility(
    matrix: np.ndarray, low: np.ndarray, high: np.ndarray, *, binary: int
) -> np.ndarray | str | None:
    """A point with low <= matrix x <= high, its first ``binary`` variables 0 or 1 and the rest free: the
    point, None when HiGHS proves there is none, or HiGHS's status in words when it could not settle it
    within MILP_SECONDS.

    highspy's own HiGHS, not scipy.optimize.milp: the HiGHS that SciPy 1.17 bundles never returned (time
    limit or not) on a 9-row search that highspy 1.16 proves infeasible in 5 ms
    (tests/barometer/test_union_search.py keeps that search)."""
    rows, columns = matrix.shape
    free = columns - binary
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = columns, rows
    model.col_cost_ = np.zeros(columns)
    model.col_lower_ = np.concatenate([np.zeros(binary), np.full(free, -highspy.kHighsInf)])
    model.col_upper_ = np.concatenate([np.ones(binary), np.full(free, highspy.kHighsInf)])
    model.row_lower_, model.row_upper_ = np.asarray(low, float), np.asarray(high, float)
    packed = csc_matrix(matrix)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = packed.indptr
    model.a_matrix_.index_ = packed.indices
    model.a_matrix_.value_ = packed.data.astype(float)
    model.integrality_ = [highspy.HighsVarType.kInteger] * binary + [highspy.HighsVarType.kContinuous] * free
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", MILP_SECONDS)
    solver.passModel(model)
    solver.run()
    status = solver.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status == highspy.HighsModelStatus.kOptimal:
        return np.asarray(solver.getSolution().col_value, dtype=float)
    return solver.modelStatusToString(status)


class _Extent:
    """Smallest and largest target.x over low <= x <= high with rows x = published: one HiGHS model per
    published system, re-solved from the last basis for each target (a few simplex steps each, instead
    of a fresh linear program per hidden cell)."""

    def __init__(
        self,
        rows: np.ndarray | csr_matrix,
        published: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        at_most_zero: csr_matrix | None = None,
    ):
        """``rows`` x = ``published``; ``at_most_zero`` x <= 0 (rows of inequalities), when given."""
        self.size = rows.shape[1]
        self.highs = highspy.Highs()
        self.highs.setOptionValue("output_flag", False)
        row_low = np.asarray(published, dtype=float)
        row_high = row_low.copy()
        if at_most_zero is not None and at_most_zero.shape[0]:
            rows = vstack([csr_matrix(rows), at_most_zero])
            row_low = np.concatenate([row_low, np.full(at_most_zero.shape[0], -highspy.kHighsInf)])
            row_high = np.concatenate([row_high, np.zeros(at_most_zero.shape[0])])
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = rows.shape[1], rows.shape[0]
        lp.col_cost_ = np.zeros(self.size)
        lp.col_lower_ = np.asarray(low, dtype=float)
        lp.col_upper_ = np.where(np.isinf(high), highspy.kHighsInf, high).astype(float)
        lp.row_lower_, lp.row_upper_ = row_low, row_high
        matrix = csc_matrix(rows)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data.astype(float)
        self.highs.passModel(lp)
        self.columns = np.arange(self.size, dtype=np.int32)

    def __call__(self, target: np.ndarray) -> tuple[float, float]:
        out = []
        for sign in (1.0, -1.0):
            self.highs.changeColsCost(self.size, self.columns, sign * np.asarray(target, dtype=float))
            self.highs.run()
            if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                # Cannot happen for true data with finite bounds; be safe: call it pinned, so the
                # cell is protected further.
                value = float(target @ self.highs.getSolution().col_value) if self.size else 0.0
                return value, value
            out.append(sign * self.highs.getInfo().objective_function_value)
        return out[0], out[1]


class _Auditor:
    def __init__(
        self, tables: _Tables, threshold: int, value_range: tuple[float, float], min_mean_width: float
    ):
        self.t = tables
        self.k = threshold
        self.lo, self.hi = value_range
        self.min_mean_width = min_mean_width

    def system(
        self, column: int | None, group_hidden: list[np.ndarray], cell_hidden: list[np.ndarray]
    ) -> _System:
        """The published system of the people count (column None) or of one column."""
        t = self.t
        weights = t.people if column is None else t.n[:, column]
        hidden_now = group_hidden if column is None else [h[:, column] for h in cell_hidden]
        visible, hidden = [], []
        for d, size in enumerate(t.sizes):
            in_cell = t.member[d].astype(np.int64) @ weights
            for i in range(size):
                if not hidden_now[d][i]:
                    visible.append((d, i))
                elif in_cell[i] <= self.k - 1 and in_cell[i] >= 1:
                    hidden.append((d, i))
        return _System(column, weights, visible, hidden, True)

    def _forced_by_total(self, system: _System, cell: tuple[int, int], cache: dict) -> bool:
        """Whether the column's own n and mean already narrow a hidden cell's mean (every answer near one
        end of the scale): no choice of hidden cells could widen it, so it is not a finding to fix."""
        t = self.t
        column = system.column
        assert column is not None
        n = t.n[:, column].astype(float)
        live = n > 0
        key = ("whole", column)
        if key not in cache:
            total = np.ones((1, int(live.sum())))
            cache[key] = _Extent(total, total @ t.sums[live, column], self.lo * n[live], self.hi * n[live])
        target = t.row(cell)[live].astype(float)
        low, high = cache[key](target)
        return (high - low) / float(target @ n[live]) < self.min_mean_width - _EPS

    def joint(
        self,
        group_hidden: list[np.ndarray],
        cell_hidden: list[np.ndarray],
        column_visible: np.ndarray,
        cache: dict,
    ) -> tuple[_Extent, dict[int | None, tuple[int, np.ndarray]]]:
        """Every published count at once, as the attacker joins them: people per atom p, and per visible
        column the people with a score per atom n_c, with n_c <= p; each block over the atoms that hold
        anybody. Returns the model and, per block (None = people), its offset and atoms."""
        t = self.t
        columns = np.flatnonzero(column_visible).tolist()
        systems = [self.system(c, group_hidden, cell_hidden) for c in [None, *columns]]
        key = ("joint", tuple(tuple(sy.visible) for sy in systems))
        if key in cache:
            return cache[key]
        blocks: dict[int | None, tuple[int, np.ndarray]] = {}
        offset = 0
        # Every block spans the atoms that hold anybody: who skipped a construct is not known to the
        # attacker, so n_c may be anything from 0 to the people of the atom.
        people_live = np.flatnonzero(t.people > 0)
        for sy in systems:
            blocks[sy.column] = (offset, people_live)
            offset += people_live.size
        eq_rows, eq_values, under = [], [], []
        people_offset, people_atoms = blocks[None]
        where_person = {int(a): people_offset + i for i, a in enumerate(people_atoms)}
        for sy in systems:
            start, atoms = blocks[sy.column]
            for cell in [None, *sy.visible]:
                member = np.ones(t.m, dtype=bool) if cell is None else t.row(cell)
                row = np.zeros(offset)
                row[start : start + atoms.size] = member[atoms]
                eq_rows.append(row)
                eq_values.append(float(member @ sy.weights))
            if sy.column is not None:
                for i, a in enumerate(atoms.tolist()):
                    under.append((start + i, where_person[a]))
        inequality = None
        if under:
            pairs = np.array(under)
            count = pairs.shape[0]
            data = np.concatenate([np.ones(count), -np.ones(count)])
            rows_index = np.concatenate([np.arange(count), np.arange(count)])
            cols_index = np.concatenate([pairs[:, 0], pairs[:, 1]])
            inequality = csr_matrix((data, (rows_index, cols_index)), shape=(count, offset))
        model = _Extent(
            csr_matrix(np.array(eq_rows)),
            np.array(eq_values),
            np.zeros(offset),
            np.full(offset, np.inf),
            at_most_zero=inequality,
        )
        cache[key] = (model, blocks)
        return cache[key]

    def check(
        self,
        system: _System,
        exact_cache: dict,
        first_only: bool = False,
        joint: tuple[_Extent, dict[int | None, tuple[int, np.ndarray]]] | None = None,
    ) -> list[Finding]:
        """What the attacker can work out in one published system. With ``joint``, the hidden cells'
        count ranges are taken over every published count at once."""
        t = self.t
        w = system.weights
        rows = np.vstack([np.ones(t.m, dtype=bool)] + [t.row(cell) for cell in system.visible]).astype(float)
        findings: list[Finding] = []
        key = (tuple(system.visible), w.tobytes())
        if key not in exact_cache:
            exact_cache[key] = _in_row_space_search(rows, w, self.k, exempt_total=system.column is None)
        exposed, used = exact_cache[key]
        if exposed:
            # Row 0 is the total, public by design; the others are the visible cells.
            cells_used = tuple(system.visible[r - 1] for r in used if r > 0)
            findings.append(Finding("exact", system.column, tuple(exposed), used=cells_used))
            if first_only:
                return findings
        live = w > 0
        r_live = rows[:, live]
        count_key = (key, "count")
        if system.hidden and count_key not in exact_cache:
            size = int(live.sum())
            exact_cache[count_key] = _Extent(r_live, rows @ w, np.zeros(size), np.full(size, np.inf))
        for cell in system.hidden:
            target = t.row(cell)[live].astype(float)
            true = float(target @ w[live])
            if joint is not None:
                # Counts over every published count at once (n <= people in every atom).
                model, blocks = joint
                start, atoms = blocks[system.column]
                joint_target = np.zeros(model.size)
                joint_target[start : start + atoms.size] = t.row(cell)[atoms]
                range_key = ("joint", id(model), system.column, cell)
                if range_key not in exact_cache:
                    exact_cache[range_key] = model(joint_target)
            else:
                range_key = (key, cell)
                if range_key not in exact_cache:
                    exact_cache[range_key] = exact_cache[count_key](target)
            low_count, high_count = exact_cache[range_key]
            low_count, high_count = np.ceil(low_count - _EPS), np.floor(high_count + _EPS)
            if high_count < self.k or high_count - low_count < self.k - 1:
                findings.append(
                    Finding(
                        "count range",
                        system.column,
                        (),
                        cell,
                        f"{low_count:.0f}..{high_count:.0f} of {true:.0f}",
                    )
                )
                if first_only:
                    return findings
                continue
            if system.column is None:
                continue
            mean_key = (key, cell, system.column)
            if mean_key not in exact_cache:
                model_key = (key, "sums", system.column)
                if model_key not in exact_cache:
                    n_live = w[live].astype(float)
                    sums = rows @ t.sums[:, system.column]
                    exact_cache[model_key] = _Extent(r_live, sums, self.lo * n_live, self.hi * n_live)
                exact_cache[mean_key] = exact_cache[model_key](target)
            low_sum, high_sum = exact_cache[mean_key]
            width = (high_sum - low_sum) / true
            if width < self.min_mean_width - _EPS and not self._forced_by_total(system, cell, exact_cache):
                findings.append(Finding("mean range", system.column, (), cell, f"width {width:.2f}"))
                if first_only:
                    return findings
        return findings


def _choose(
    finding: Finding, system: _System, tables: _Tables, keep: Sequence[float]
) -> tuple[int, int] | None:
    """The visible cell to hide for a finding. Exact: one of the cells the attacker's combination uses.
    Range: a cell of the hidden cell's own dimension (the classic complement), else one overlapping it.
    Among those, the least wanted dimension (``keep``) first, then the fewest people."""
    w = system.weights
    if finding.cell is not None:
        exposed = tables.row(finding.cell)
        same = [c for c in system.visible if c[0] == finding.cell[0]]
        overlapping = [c for c in system.visible if (tables.row(c) & exposed).any()]
        candidates = same or overlapping
        # A visible cell elsewhere in the column may pin the people the hidden cell is pooled with.
        candidates = candidates or list(system.visible)
    else:
        candidates = list(finding.used)
        if not candidates:
            exposed = np.zeros(tables.m, dtype=bool)
            exposed[list(finding.atoms)] = True
            candidates = [c for c in system.visible if (tables.row(c) & exposed).any()]
    candidates = [c for c in candidates if tables.row(c) @ w > 0] or candidates
    if not candidates:
        return None
    return min(candidates, key=lambda c: (keep[c[0]], int(tables.row(c) @ w), c))


def protect(
    cells: np.ndarray,
    sizes: Sequence[int],
    scored: np.ndarray,
    values: np.ndarray,
    threshold: int,
    *,
    column_visible: np.ndarray | None = None,
    value_range: tuple[float, float] = (1.0, 5.0),
    min_mean_width: float = MIN_MEAN_WIDTH,
    keep: Sequence[float] | None = None,
    max_rounds: int = 10_000,
) -> Protection:
    """Which cells of the linked tables to hide.

    ``cells``: int (people, dimensions), each person's cell in each dimension (0..sizes[d]-1; give "not
    told" a cell of its own). ``scored``: bool (people, columns), whether the person has a value in the
    column; ``values``: float (people, columns), the values. ``column_visible``: whether each column's
    whole-round figures are published (default: when at least k people have a value). ``keep``: per
    dimension, how much its cells are wanted (higher: hidden last when a cell must go to protect another).
    """
    cells = np.asarray(cells, dtype=np.int64)
    scored = np.asarray(scored, dtype=bool)
    values = np.asarray(values, dtype=float)
    if cells.ndim != 2 or cells.shape[1] != len(sizes):
        raise ValueError("cells: must be (people, dimensions), one column per size")
    if scored.shape != values.shape or scored.shape[0] != cells.shape[0]:
        raise ValueError("scored and values: must be (people, columns), one row per person")
    for d, size in enumerate(sizes):
        if cells.shape[0] and (cells[:, d].min() < 0 or cells[:, d].max() >= size):
            raise ValueError(f"cells: dimension {d} must hold 0..{size - 1}")
    tables = _Tables(cells, sizes, scored, values)
    k = threshold
    if column_visible is None:
        column_visible = scored.sum(axis=0) >= k
    column_visible = np.asarray(column_visible, dtype=bool)

    dims = range(len(sizes))
    counts = [tables.member[d].astype(np.int64) @ tables.people for d in dims]
    n_cells = [tables.member[d].astype(np.int64) @ tables.n for d in dims]  # (cells_d, columns)
    group_hidden = [counts[d] < k for d in dims]
    cell_hidden = [group_hidden[d][:, None] | (n_cells[d] < k) | ~column_visible[None, :] for d in dims]
    primary_groups = [g.copy() for g in group_hidden]
    primary_cells = [c.copy() for c in cell_hidden]

    keep = list(keep) if keep is not None else [0.0] * len(sizes)
    joint_size = int((tables.people > 0).sum()) * (1 + int(column_visible.sum()))
    auditor = _Auditor(tables, k, value_range, min_mean_width)
    cache: dict = {}
    residual: list[Finding] = []
    passes = 0
    # Hidden groups change every column, hidden cells of one column nothing else: settle the people
    # count first, then each column on its own, each within its own published system (fast). Then again
    # with the hidden groups' counts joined across systems (n <= people in every atom), as an attacker
    # would join them: hiding only ever widens ranges, so what passed stays passed.
    for joined in (False, True):
        for column in [None] if joined else [None, *np.flatnonzero(column_visible).tolist()]:
            for _ in range(max_rounds):
                passes += 1
                system = auditor.system(column, group_hidden, cell_hidden)
                # Joined counts for the hidden groups. (A cell hidden inside a visible group is capped
                # by the group's published count; its scores stay protected by the mean ranges, which
                # take every count as known.)
                joint = (
                    auditor.joint(group_hidden, cell_hidden, column_visible, cache)
                    if joined and column is None and joint_size <= JOINT_MAX_VARIABLES
                    else None
                )
                if joined and joint is None:
                    break
                findings = auditor.check(system, cache, first_only=True, joint=joint)
                if not findings:
                    break
                chosen = _choose(findings[0], system, tables, keep)
                if chosen is None:
                    residual.extend(auditor.check(system, cache, joint=joint))
                    break
                d, i = chosen
                if column is None:
                    group_hidden[d][i] = True
                    cell_hidden[d][i, :] = True
                else:
                    cell_hidden[d][i, column] = True
    secondary_groups = sum(int((group_hidden[d] & ~primary_groups[d]).sum()) for d in dims)
    shown_groups = [~primary_groups[d] for d in dims]
    return Protection(
        group_hidden=group_hidden,
        cell_hidden=cell_hidden,
        primary_groups=sum(int(g.sum()) for g in primary_groups),
        secondary_groups=secondary_groups,
        primary_cells=sum(int((primary_cells[d] & shown_groups[d][:, None]).sum()) for d in dims),
        secondary_cells=sum(
            int((cell_hidden[d] & ~primary_cells[d] & ~group_hidden[d][:, None]).sum()) for d in dims
        ),
        rounds=passes,
        residual=residual,
        joined=joint_size <= JOINT_MAX_VARIABLES,
    )


def audit(
    cells: np.ndarray,
    sizes: Sequence[int],
    scored: np.ndarray,
    values: np.ndarray,
    threshold: int,
    group_hidden: Sequence[np.ndarray],
    cell_hidden: Sequence[np.ndarray],
    *,
    column_visible: np.ndarray | None = None,
    value_range: tuple[float, float] = (1.0, 5.0),
    min_mean_width: float = MIN_MEAN_WIDTH,
) -> list[Finding]:
    """Everything an attacker could work out from a given pattern of hidden cells (empty: nothing).
    The same checks ``protect`` runs, for tests and for auditing a release after the fact."""
    tables = _Tables(
        np.asarray(cells, dtype=np.int64), sizes, np.asarray(scored, bool), np.asarray(values, float)
    )
    if column_visible is None:
        column_visible = np.asarray(scored, bool).sum(axis=0) >= threshold
    auditor = _Auditor(tables, threshold, value_range, min_mean_width)
    found: list[Finding] = []
    cache: dict = {}
    column_visible = np.asarray(column_visible, bool)
    joint = auditor.joint(list(group_hidden), list(cell_hidden), column_visible, cache)
    for column in [None, *np.flatnonzero(column_visible).tolist()]:
        system = auditor.system(column, list(group_hidden), list(cell_hidden))
        found.extend(auditor.check(system, cache, joint=joint if column is None else None))
    return found
