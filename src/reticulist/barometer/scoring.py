"""Scoring a barometer round: construct scores with confidence intervals and reliability, breakdowns by
group that never expose fewer than k respondents, and the trend between two rounds.

Pure computation: NumPy arrays in, plain dataclasses out; no database, no web. Every step is vectorised
over respondents (a national round of 100,000 responses x 60 items is scored in about 0.1 s, see
benchmarks/barometer_scoring.py); the only Python loops run over items, constructs and groups, which
are few.

Input layout
------------
``answers``
    int8 array, shape (respondents, items). 1..5 = strongly disagree .. strongly agree, 0 = don't know
    (``instrument.DONT_KNOW``), -1 = not answered (``NOT_ANSWERED``). Items in the instrument's order.
``item_construct``
    int array, shape (items,): the index into ``construct_keys`` of each item's construct.
``reverse``
    bool array, shape (items,): reverse-worded items, scored as 6 - answer.
``construct_keys``
    list of construct keys; results come back in this order.
``groups``
    ``{dimension: (codes, labels)}`` for the breakdowns, e.g. "organisation", "profession",
    "hierarchy_tier", "wt_tier". ``codes`` is an int array, shape (respondents,): an index into ``labels``,
    or -1 when the respondent did not tell.

Scores
------
A respondent's construct score is the mean of their substantive answers (1..5, reverse items reversed) on
the construct's items, when they gave a substantive answer to at least half of its items; otherwise they
have no score on it. "Don't know" and not answered are never counted as a value.

Per construct: mean, standard deviation (ddof=1), n, a 95% confidence interval from the t distribution
with n-1 degrees of freedom, the share of "don't know" among the answers given to its items, and
Cronbach's alpha on the respondents who answered every item substantively (listwise), flagged below 0.6.
Alpha is at most 1 but has no floor: it is negative when the items' covariances are negative on average
(the items pull against each other: typically a reverse-worded item that was not reversed, or items that
do not measure one thing), and then the construct's score is not one measure (``alpha_words``).
``lean`` reads the interval against the scale midpoint 3: "catalyst" when it lies wholly above, "obstacle"
when wholly below, "balanced" when it contains 3 (002 Table 1's pairs; defined for every construct).

Anonymity (threshold k, default 5)
----------------------------------
No published figure describes fewer than k respondents, directly or by subtraction from a published total.

* The round: a construct's figures are published only when at least k respondents have a score on it;
  otherwise the construct is suppressed ("fewer than k"). Alpha is published only when computed on at
  least k respondents, and the don't-know share only when at least k respondents answered any of the
  construct's items (it stays published for a suppressed construct: many "don't know"s is a finding).
* A dimension's cells are its groups plus "Not told" (respondents with code -1), which is a cell (the
  last row) whenever anyone did not tell. A group with fewer than k respondents, an empty one included,
  is suppressed with all its figures ("fewer than k"); a suppressed figure is ``None``, never 0, so an
  empty group and a small group look the same.
* Complementary suppression. The round's respondent count is published, so the suppressed groups
  together can be worked out as the total minus the visible groups. Rule: when exactly one cell is
  suppressed, or the suppressed cells together hold between 1 and k-1 respondents, the smallest visible
  cell (fewest respondents; the first of equals) is suppressed too ("complementary"). It holds at least k,
  so one pass is enough, and afterwards no suppressed cell stands alone and the suppressed cells pool
  either nobody or at least k people.
* The same rule per construct column, on the cell n (respondents in the group with a score on the
  construct), since the construct's n is published too: a cell is suppressed when its group is, or when
  its n < k, and then the rule above adds the smallest visible cell of the column.
* Means. With the construct's mean and n published, the pooled mean of the column's suppressed cells can
  be worked out as (n x mean - sum of visible n x mean) / (n - visible n), and nothing finer can. Because
  the column rule makes the suppressed cells pool nobody or at least k respondents, that derivable
  figure too describes at least k. A suppressed cell's mean is therefore never derivable on its own.

Not covered here: differencing between different publications (another round, another threshold, a
cross-tabulation of two dimensions). Publish one threshold per round and no cross-tabulations.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from statistics import NormalDist
from typing import Literal

import numpy as np

from reticulist import disclosure
from reticulist.barometer.instrument import DONT_KNOW, SCALE_POINTS

NOT_ANSWERED = -1
NOT_TOLD = -1  # group code of a respondent who did not say
NOT_TOLD_LABEL = "Not told"
DEFAULT_THRESHOLD = 5
ALPHA_FLAG_BELOW = 0.6  # the usual floor for a scale used to compare groups
ALPHA_LOW_WORDS = "items disagree: read with care"
ALPHA_NEGATIVE_WORDS = (
    "negative: the statements pull against each other (a reverse-worded statement not reversed, or "
    "statements that do not measure one thing); do not read the score as one measure"
)
MIDPOINT = 3.0
CONFIDENCE = 0.95
FEWER_THAN_K = "fewer than k"
COMPLEMENTARY = "complementary"  # kept for reading old releases; new breakdowns say PROTECTED
PROTECTED = "protected"
TOO_NOISY = "too noisy"  # open-link rounds: too few answers for a mean under the privacy noise
DIMENSIONS = ("organisation", "profession", "hierarchy_tier", "wt_tier")
# When a cell must be hidden to protect another, the least wanted breakdown gives it up first: the
# organisation heatmap is what boards read; profession cells are mostly small anyway.
KEEP = {"organisation": 3.0, "wt_tier": 2.0, "hierarchy_tier": 1.0, "profession": 0.0}

Lean = Literal["catalyst", "obstacle", "balanced"]
Reason = Literal["fewer than k", "complementary", "protected", "too noisy"]


# --- Student's t quantile ------------------------------------------------------------------------------
# A small exact implementation instead of a SciPy dependency (a large package for one function): the
# regularised incomplete beta function by its continued fraction (Lentz), inverted by Newton's method. It
# agrees with published tables to every printed digit and works for the non-integer degrees of freedom of
# Welch's interval.
def _beta_fraction(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((a - 1.0 + m2) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1.0 + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-16:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float, y: float) -> float:
    """I_x(a, b), with y = 1 - x passed in so that x close to 1 keeps its precision."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_fraction(a, b, x) / a
    return 1.0 - front * _beta_fraction(b, a, y) / b


def t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with ``df`` degrees of freedom, t >= 0."""
    return 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t), t * t / (df + t * t))


def _t_density(t: float, df: float) -> float:
    return math.exp(
        math.lgamma((df + 1.0) / 2.0)
        - math.lgamma(df / 2.0)
        - 0.5 * math.log(df * math.pi)
        - (df + 1.0) / 2.0 * math.log1p(t * t / df)
    )


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with ``df`` (> 0, need not be whole) degrees of freedom.

    >>> round(t_quantile(0.975, 10), 4)
    2.2281
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p: must be between 0 and 1, not {p}")
    if not df > 0:
        raise ValueError(f"df: must be positive, not {df}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    q = 1.0 - p
    # Start at the normal quantile, which lies below t's: the upper tail is convex for t > 0, so Newton's
    # steps from the left climb to the root without overshooting.
    t = NormalDist().inv_cdf(p)
    for _ in range(1000):
        step = (t_upper_tail(t, df) - q) / _t_density(t, df)
        t += step
        if abs(step) <= 1e-14 * t:
            break
    return t


# --- results ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConstructResult:
    """One construct over the whole round. Figures are ``None`` when suppressed or not computable."""

    key: str
    items: int  # number of items measuring the construct
    n: int | None  # respondents with a score
    mean: float | None
    sd: float | None  # ddof=1; None with fewer than two scores
    ci_low: float | None  # 95% confidence interval of the mean (t, n-1 df)
    ci_high: float | None
    dont_know_share: float | None  # "don't know" among the answers given to the construct's items
    alpha: float | None  # Cronbach's alpha, listwise
    alpha_n: int | None  # respondents alpha was computed on (answered every item substantively)
    alpha_flag: bool  # alpha below 0.6: the items do not hang together well enough to trust the score
    lean: Lean | None  # the confidence interval against the midpoint 3
    suppressed: bool = False
    reason: Reason | None = None
    # Open-link rounds (differential privacy): the privacy noise's part of the interval, plus or minus at
    # 95%; n is then a noisy count. None for every other round.
    noise: float | None = None

    @property
    def alpha_negative(self) -> bool:
        """Alpha below 0: the items are negatively related on average (flagged too, and worse than low)."""
        return self.alpha is not None and self.alpha < 0

    @property
    def alpha_words(self) -> str | None:
        """The alpha flag in words for pages and reports; None when alpha is not flagged."""
        if self.alpha_negative:
            return ALPHA_NEGATIVE_WORDS
        return ALPHA_LOW_WORDS if self.alpha_flag else None

    @property
    def reason_words(self) -> str | None:
        return _reason_words(self.reason)


@dataclass(frozen=True)
class Cell:
    """One construct in one group of a breakdown."""

    n: int | None  # respondents in the group with a score on the construct
    mean: float | None
    suppressed: bool = False
    reason: Reason | None = None

    @property
    def value(self) -> float | None:
        return self.mean

    @property
    def reason_words(self) -> str | None:
        return _reason_words(self.reason)


@dataclass(frozen=True)
class GroupResult:
    """One group of a dimension (an organisation, a profession, ... or "Not told")."""

    code: int  # index into the dimension's labels; -1 for "Not told"
    label: str
    respondents: int | None
    cells: tuple[Cell, ...]  # in the order of the construct keys
    suppressed: bool = False
    reason: Reason | None = None

    @property
    def reason_words(self) -> str | None:
        return _reason_words(self.reason)


@dataclass(frozen=True)
class Breakdown:
    """A dimension's groups by construct. Read as a table (the organisation x construct heatmap):
    ``row_labels`` down, ``construct_keys`` across, ``cells[row][column]``; or ``cell(label, key)``."""

    dimension: str
    threshold: int
    construct_keys: tuple[str, ...]
    groups: tuple[GroupResult, ...]

    @property
    def row_labels(self) -> list[str]:
        return [g.label for g in self.groups]

    @property
    def cells(self) -> list[list[Cell]]:
        return [list(g.cells) for g in self.groups]

    @property
    def means(self) -> list[list[float | None]]:
        """The heatmap's values: ``None`` where a cell is suppressed or empty."""
        return [[c.mean for c in g.cells] for g in self.groups]

    def group(self, label: str) -> GroupResult:
        for g in self.groups:
            if g.label == label:
                return g
        raise KeyError(f"{self.dimension}: no group {label!r}")

    def cell(self, label: str, construct_key: str) -> Cell:
        return self.group(label).cells[self.construct_keys.index(construct_key)]


@dataclass(frozen=True)
class ProtectionCost:
    """What anonymity cost in a round's breakdowns: groups and single cells hidden for being small, and
    those hidden to keep the small ones from being worked out; ``residual`` findings the audit could not
    fix by hiding more (0 unless the whole round's own figures pin a group)."""

    small_groups: int
    groups_hidden_to_protect: int
    small_cells: int
    cells_hidden_to_protect: int
    audit_passes: int
    residual: int


@dataclass(frozen=True)
class RoundResults:
    """Everything the results pages, exports and the benchmark show for one round."""

    respondents: int
    threshold: int
    constructs: tuple[ConstructResult, ...]
    breakdowns: dict[str, Breakdown] = field(default_factory=dict)
    cost: ProtectionCost | None = None

    def construct(self, key: str) -> ConstructResult:
        for c in self.constructs:
            if c.key == key:
                return c
        raise KeyError(f"no construct {key!r}")

    @property
    def heatmap(self) -> Breakdown | None:
        """The organisation x construct heatmap (the organisation breakdown), when there is one."""
        return self.breakdowns.get("organisation")


@dataclass(frozen=True)
class ConstructTrend:
    """The change in a construct's mean from one round (A) to the next (B)."""

    key: str
    difference: float | None  # mean B - mean A
    ci_low: float | None  # Welch 95% confidence interval of the difference
    ci_high: float | None
    clear_change: bool  # the interval excludes 0
    reading: str


def hidden_words(reason: str | None, threshold: int) -> str:
    """The short words written in place of a hidden figure, the same on every page and download. A
    breakdown cell never says whether it was hidden for being small or to protect a small one: that
    would tell which hidden groups are small."""
    if reason == FEWER_THAN_K:
        return f"hidden (fewer than {threshold})"
    if reason == TOO_NOISY:
        return "not shown (too few answers for the privacy noise)"
    return "hidden (protects small groups)"


def _reason_words(reason: str | None) -> str | None:
    if reason == FEWER_THAN_K:
        return "hidden: fewer respondents than the anonymity threshold"
    if reason in (COMPLEMENTARY, PROTECTED):
        return "hidden to protect small groups"
    if reason == TOO_NOISY:
        return "too few answers to publish a mean under the privacy noise of an open-link round"
    return None


# --- checking the input ----------------------------------------------------------------------------------
def _check(
    answers: np.ndarray, item_construct: np.ndarray, reverse: np.ndarray, construct_keys: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    answers = np.asarray(answers)
    item_construct = np.asarray(item_construct)
    reverse = np.asarray(reverse)
    if answers.ndim != 2:
        raise ValueError(f"answers: must be a 2-D array (respondents, items), not {answers.ndim}-D")
    if answers.size and not np.issubdtype(answers.dtype, np.integer):
        raise ValueError(f"answers: must hold integer codes, not {answers.dtype}")
    items = answers.shape[1]
    if item_construct.shape != (items,) or (items and not np.issubdtype(item_construct.dtype, np.integer)):
        raise ValueError(f"item_construct: must be {items} integers, one per item (column of answers)")
    if reverse.shape != (items,) or (items and reverse.dtype != np.bool_):
        raise ValueError(f"reverse: must be {items} booleans, one per item (column of answers)")
    if len(set(construct_keys)) != len(construct_keys):
        raise ValueError("construct_keys: a key is listed twice")
    if items and (item_construct.min() < 0 or item_construct.max() >= len(construct_keys)):
        raise ValueError(f"item_construct: values must be 0..{len(construct_keys) - 1} (construct_keys)")
    empty = sorted(set(range(len(construct_keys))) - set(item_construct.tolist()))
    if empty:
        raise ValueError(f"item_construct: construct {construct_keys[empty[0]]} has no items")
    if answers.size:
        bad = (answers < NOT_ANSWERED) | (answers > SCALE_POINTS)
        if bad.any():
            row, column = (int(v) for v in np.argwhere(bad)[0])
            raise ValueError(
                f"answers: row {row}, item {column}: {int(answers[row, column])} is not an answer code "
                f"(1..{SCALE_POINTS}, {DONT_KNOW} = don't know, {NOT_ANSWERED} = not answered)"
            )
    return answers.astype(np.int8, copy=False), item_construct.astype(np.intp), reverse


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or threshold < 1:
        raise ValueError(f"threshold: must be a whole number of respondents, at least 1, not {threshold!r}")


# --- construct scores -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Scored:
    """Per respondent and construct, the arrays every figure is computed from; and per construct, the
    sums behind Cronbach's alpha."""

    items: np.ndarray  # int (C,): items per construct
    has_score: np.ndarray  # bool (R, C)
    scores: np.ndarray  # float64 (R, C): NaN where no score
    filled: np.ndarray  # float64 (R, C): scores with 0 where none, for sums
    given: np.ndarray  # int (R, C): answers given (substantive or don't know)
    dont_know: np.ndarray  # int (R, C)
    alpha_n: np.ndarray  # int (C,): respondents who answered every item substantively
    item_spread: np.ndarray  # int (C,): sum over items of n * (n - 1) * item variance, listwise
    total_spread: np.ndarray  # int (C,): n * (n - 1) * variance of the construct total, listwise


def _score(answers: np.ndarray, item_construct: np.ndarray, reverse: np.ndarray, constructs: int) -> _Scored:
    respondents = answers.shape[0]
    substantive = answers >= 1
    scored = np.where(reverse, SCALE_POINTS + 1 - answers, answers).astype(np.int8)
    scored *= substantive  # 0 stands for "no value" from here on
    # Column-major copies, so that each item is one contiguous vector over respondents: the passes below
    # add whole columns (fast) instead of reducing along rows of three or four (slow in NumPy).
    scored = np.asfortranarray(scored, dtype=np.int32)
    raw = np.asfortranarray(answers)
    items = np.bincount(item_construct, minlength=constructs)
    sums = np.zeros((respondents, constructs), dtype=np.int32, order="F")
    count = np.zeros_like(sums)
    given = np.zeros_like(sums)
    dont_know = np.zeros_like(sums)
    alpha_n = np.zeros(constructs, dtype=np.int64)
    item_spread = np.zeros(constructs, dtype=np.int64)
    total_spread = np.zeros(constructs, dtype=np.int64)
    for c in range(constructs):
        columns = np.flatnonzero(item_construct == c).tolist()
        for j in columns:
            sums[:, c] += scored[:, j]
            count[:, c] += scored[:, j] > 0
            given[:, c] += raw[:, j] >= 0
            dont_know[:, c] += raw[:, j] == DONT_KNOW
        # Cronbach's alpha, listwise: n * sum(x^2) - sum(x)^2 is n * (n - 1) * variance, exactly.
        complete = count[:, c] == len(columns)
        m = int(np.count_nonzero(complete))
        for j in columns:
            x = scored[:, j] * complete
            first, second = int(x.sum(dtype=np.int64)), int((x * x).sum(dtype=np.int64))
            item_spread[c] += m * second - first * first
        total = sums[:, c] * complete
        alpha_n[c] = m
        total_spread[c] = m * int((total * total).sum(dtype=np.int64)) - int(total.sum(dtype=np.int64)) ** 2
    has_score = 2 * count >= items  # at least half of the construct's items (each construct has one)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(has_score, sums / np.maximum(count, 1), np.nan)
    filled = np.where(has_score, scores, 0.0)
    return _Scored(items, has_score, scores, filled, given, dont_know, alpha_n, item_spread, total_spread)


def construct_scores(
    answers: np.ndarray, item_construct: np.ndarray, reverse: np.ndarray, construct_keys: Sequence[str]
) -> np.ndarray:
    """Each respondent's score on each construct: float array (respondents, constructs), NaN for none.
    For analysis only: never publish it (it is per respondent)."""
    answers, item_construct, reverse = _check(answers, item_construct, reverse, construct_keys)
    return _score(answers, item_construct, reverse, len(construct_keys)).scores


def _lean(low: float | None, high: float | None) -> Lean | None:
    if low is None or high is None:
        return None
    if low > MIDPOINT:
        return "catalyst"
    if high < MIDPOINT:
        return "obstacle"
    return "balanced"


def _suppressed_construct(key: str, items: int, dont_know_share: float | None) -> ConstructResult:
    return ConstructResult(
        key=key,
        items=items,
        n=None,
        mean=None,
        sd=None,
        ci_low=None,
        ci_high=None,
        dont_know_share=dont_know_share,
        alpha=None,
        alpha_n=None,
        alpha_flag=False,
        lean=None,
        suppressed=True,
        reason=FEWER_THAN_K,
    )


def _construct_results(s: _Scored, construct_keys: Sequence[str], threshold: int) -> list[ConstructResult]:
    n = s.has_score.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s.filled.sum(axis=0) / n
        deviation = np.where(s.has_score, s.scores - mean, 0.0)
        sd = np.sqrt((deviation * deviation).sum(axis=0) / (n - 1))
    answered_any = (s.given > 0).sum(axis=0)
    given_total = s.given.sum(axis=0)
    dont_know_total = s.dont_know.sum(axis=0)

    out = []
    for c, key in enumerate(construct_keys):
        k_items = int(s.items[c])
        count = int(n[c])
        share = None
        if answered_any[c] >= threshold and given_total[c] > 0:
            # Published even when the construct is suppressed: many "don't know"s is a finding in itself.
            share = float(dont_know_total[c] / given_total[c])
        if count < threshold:
            out.append(_suppressed_construct(key, k_items, share))
            continue
        low = high = spread = None
        if count >= 2:
            spread = float(sd[c])
            half = t_quantile(0.5 + CONFIDENCE / 2, count - 1) * spread / math.sqrt(count)
            low, high = float(mean[c]) - half, float(mean[c]) + half
        alpha = None
        listwise = int(s.alpha_n[c])
        if k_items >= 2 and listwise >= max(threshold, 2) and s.total_spread[c] > 0:
            ratio = float(s.item_spread[c] / s.total_spread[c])
            alpha = k_items / (k_items - 1) * (1.0 - ratio)
        out.append(
            ConstructResult(
                key=key,
                items=k_items,
                n=count,
                mean=float(mean[c]),
                sd=spread,
                ci_low=low,
                ci_high=high,
                dont_know_share=share,
                alpha=alpha,
                alpha_n=listwise if listwise >= threshold else None,
                alpha_flag=alpha is not None and alpha < ALPHA_FLAG_BELOW,
                lean=_lean(low, high),
            )
        )
    return out


def construct_results(
    answers: np.ndarray,
    item_construct: np.ndarray,
    reverse: np.ndarray,
    construct_keys: Sequence[str],
    *,
    threshold: int = DEFAULT_THRESHOLD,
) -> list[ConstructResult]:
    """Per construct: mean, sd, n, 95% CI, don't-know share, Cronbach's alpha and lean.

    >>> answers = np.array([[4, 2, 5], [5, 1, 0], [3, 3, -1]], dtype=np.int8)
    >>> [r] = construct_results(answers, np.array([0, 0, 0]), np.array([False, True, False]), ["trust"],
    ...                         threshold=1)
    >>> r.n, r.mean  # scores (4+4+5)/3, (5+5)/2, (3+3)/2; 0 = don't know and -1 = unanswered are skipped
    (3, 4.111111111111111)
    """
    _check_threshold(threshold)
    answers, item_construct, reverse = _check(answers, item_construct, reverse, construct_keys)
    scored = _score(answers, item_construct, reverse, len(construct_keys))
    return _construct_results(scored, construct_keys, threshold)


# --- breakdowns with anonymity ---------------------------------------------------------------------------
def complementary(counts: np.ndarray, suppressed: np.ndarray, threshold: int) -> np.ndarray:
    """The cells to suppress as well, so that no suppressed cell can be worked out from a published total.

    ``counts``: respondents per cell; ``suppressed``: the cells already suppressed. When exactly one cell
    is suppressed, or the suppressed cells pool between 1 and k-1 respondents, the smallest visible cell
    (the first of equals) is added. Returns a bool mask of the added cells (all False when none is).
    """
    added = np.zeros(len(counts), dtype=bool)
    visible = ~suppressed
    if not suppressed.any() or not visible.any():
        return added
    pooled = int(counts[suppressed].sum())
    if suppressed.sum() == 1 or 0 < pooled < threshold:
        candidates = np.where(visible, counts, np.iinfo(np.int64).max)
        added[int(np.argmin(candidates))] = True
    return added


def _cell_index(dimension: str, codes: np.ndarray, labels: Sequence[str], respondents: int) -> np.ndarray:
    """Each respondent's row in the dimension's table: their group, or the last row ("Not told")."""
    codes = np.asarray(codes)
    if codes.shape != (respondents,) or (respondents and not np.issubdtype(codes.dtype, np.integer)):
        raise ValueError(f"groups.{dimension}: codes must be {respondents} integers, one per respondent")
    if respondents and (codes.min() < NOT_TOLD or codes.max() >= len(labels)):
        raise ValueError(f"groups.{dimension}: codes must be -1 (not told) or 0..{len(labels) - 1} (labels)")
    return np.where(codes < 0, len(labels), codes).astype(np.intp)


def _breakdown(
    dimension: str,
    index: np.ndarray,
    labels: Sequence[str],
    s: _Scored,
    construct_keys: Sequence[str],
    threshold: int,
    group_hidden: np.ndarray,
    cell_hidden: np.ndarray,
) -> Breakdown:
    cells_in = len(labels) + 1
    count = np.bincount(index, minlength=cells_in)
    constructs = len(construct_keys)
    n = np.empty((cells_in, constructs), dtype=np.int64)
    total = np.empty((cells_in, constructs))
    for c in range(constructs):
        n[:, c] = np.bincount(index, weights=s.has_score[:, c], minlength=cells_in)
        total[:, c] = np.bincount(index, weights=s.filled[:, c], minlength=cells_in)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    rows = range(cells_in) if count[-1] else range(cells_in - 1)  # "Not told" only when someone was
    groups = []
    for row in rows:
        label = NOT_TOLD_LABEL if row == len(labels) else str(labels[row])
        code = NOT_TOLD if row == len(labels) else row
        # Every hidden figure gives the same reason: saying which were hidden for being small and which to
        # protect them would tell an attacker which hidden groups are small.
        cells = tuple(
            Cell(None, None, True, PROTECTED)
            if cell_hidden[row, c]
            else Cell(int(n[row, c]), float(mean[row, c]))
            for c in range(constructs)
        )
        if group_hidden[row]:
            groups.append(GroupResult(code, label, None, cells, True, PROTECTED))
        else:
            groups.append(GroupResult(code, label, int(count[row]), cells))
    return Breakdown(dimension, threshold, tuple(construct_keys), tuple(groups))


def score_round(
    answers: np.ndarray,
    item_construct: np.ndarray,
    reverse: np.ndarray,
    construct_keys: Sequence[str],
    groups: Mapping[str, tuple[np.ndarray, Sequence[str]]] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> RoundResults:
    """Score one round: construct results and a breakdown per dimension in ``groups``, protected for
    anonymity at ``threshold`` respondents jointly, as linked tables (reticulist.disclosure). See the
    module docstring for the layout and the rules."""
    _check_threshold(threshold)
    answers, item_construct, reverse = _check(answers, item_construct, reverse, construct_keys)
    s = _score(answers, item_construct, reverse, len(construct_keys))
    constructs = _construct_results(s, construct_keys, threshold)
    respondents = answers.shape[0]
    dimensions = list((groups or {}).items())
    indexes = [_cell_index(name, codes, labels, respondents) for name, (codes, labels) in dimensions]
    breakdowns: dict[str, Breakdown] = {}
    protection = None
    if dimensions:
        protection = disclosure.protect(
            np.column_stack(indexes) if respondents else np.zeros((0, len(dimensions)), dtype=np.intp),
            [len(labels) + 1 for _, (_, labels) in dimensions],
            s.has_score,
            s.filled,
            threshold,
            column_visible=np.array([not c.suppressed for c in constructs], dtype=bool),
            keep=[KEEP.get(name, 0.0) for name, _ in dimensions],
        )
        for d, (name, (_, labels)) in enumerate(dimensions):
            breakdowns[name] = _breakdown(
                name,
                indexes[d],
                labels,
                s,
                construct_keys,
                threshold,
                protection.group_hidden[d],
                protection.cell_hidden[d],
            )
    return RoundResults(respondents, threshold, tuple(constructs), breakdowns, _cost(protection))


def _cost(protection: disclosure.Protection | None) -> ProtectionCost | None:
    if protection is None:
        return None
    return ProtectionCost(
        small_groups=protection.primary_groups,
        groups_hidden_to_protect=protection.secondary_groups,
        small_cells=protection.primary_cells,
        cells_hidden_to_protect=protection.secondary_cells,
        audit_passes=protection.rounds,
        residual=len(protection.residual),
    )


# --- trend between two rounds ----------------------------------------------------------------------------
def _number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text) == 0 else text


def describe_change(difference: float, low: float, high: float, clear: bool) -> str:
    """Plain words: "up 0.4 (95% CI 0.1 to 0.7)", or "no change larger than the noise"."""
    if not clear:
        return "no change larger than the noise"
    # One decimal reads best on a 1-5 scale; two when one would show a clear change as 0.0.
    decimals = 1 if min(abs(difference), abs(low), abs(high)) >= 0.05 else 2
    direction = "up" if difference > 0 else "down"
    return (
        f"{direction} {_number(abs(difference), decimals)} "
        f"(95% CI {_number(low, decimals)} to {_number(high, decimals)})"
    )


def change(
    mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int
) -> tuple[float, float, float]:
    """Difference of means B - A of two independent samples and its Welch 95% confidence interval."""
    difference = mean_b - mean_a
    va, vb = sd_a * sd_a / n_a, sd_b * sd_b / n_b
    se = math.sqrt(va + vb)
    if se == 0.0:
        return difference, difference, difference
    df = (va + vb) ** 2 / (va * va / (n_a - 1) + vb * vb / (n_b - 1))
    half = t_quantile(0.5 + CONFIDENCE / 2, df) * se
    return difference, difference - half, difference + half


def trend(before: Sequence[ConstructResult], after: Sequence[ConstructResult]) -> list[ConstructTrend]:
    """Per construct in both rounds (in ``after``'s order): the change in mean from ``before`` (round A)
    to ``after`` (round B). Rounds are independent samples (respondents are anonymous), hence Welch."""
    earlier = {r.key: r for r in before}
    out = []
    for b in after:
        a = earlier.get(b.key)
        if a is None:
            continue
        if a.sd is None or b.sd is None or a.mean is None or b.mean is None or a.n is None or b.n is None:
            out.append(
                ConstructTrend(b.key, None, None, None, False, "not enough answers in both rounds to compare")
            )
            continue
        difference, low, high = change(a.mean, a.sd, a.n, b.mean, b.sd, b.n)
        clear = low > 0.0 or high < 0.0
        out.append(
            ConstructTrend(b.key, difference, low, high, clear, describe_change(difference, low, high, clear))
        )
    return out


# --- a release, stored as published ----------------------------------------------------------------------
def results_to_json(results: RoundResults) -> dict:
    """The published figures as plain JSON (tuples as lists), for storing a release."""
    return dataclasses.asdict(results)


def results_from_json(data: Mapping) -> RoundResults:
    """A stored release back as the dataclasses every page, download and the API read."""

    def cells(items: Sequence[Mapping]) -> tuple[Cell, ...]:
        return tuple(Cell(**item) for item in items)

    breakdowns = {
        name: Breakdown(
            dimension=b["dimension"],
            threshold=b["threshold"],
            construct_keys=tuple(b["construct_keys"]),
            groups=tuple(
                GroupResult(**{**g, "cells": cells(g["cells"])})  # type: ignore[arg-type]
                for g in b["groups"]
            ),
        )
        for name, b in data.get("breakdowns", {}).items()
    }
    cost = data.get("cost")
    return RoundResults(
        respondents=data["respondents"],
        threshold=data["threshold"],
        constructs=tuple(ConstructResult(**c) for c in data["constructs"]),
        breakdowns=breakdowns,
        cost=ProtectionCost(**cost) if cost else None,
    )
