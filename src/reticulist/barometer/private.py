"""Whole-round figures of an open-link barometer round, released with differential privacy.

Why: anyone can answer through an open (shared) link, so counting people protects nothing there. Four
planted answers lift a hidden group of one over the threshold, and with one genuine respondent and k-1
planted ones the round's mean *is* the genuine person's answer. An open-link round therefore publishes no
breakdowns, and its whole-round construct figures come from here: noisy figures whose guarantee holds
whatever the other respondents are, planted or not.

Pure computation: NumPy arrays in, dataclasses out; no database, no web. The noise is drawn by OpenDP
(the library of the OpenDP project, whose mechanisms come with written proofs), from the operating
system's secure random source: it cannot be seeded, and each call draws fresh noise.

What is released, per construct
-------------------------------
Each respondent has at most one score per construct (``scoring.construct_scores``: the mean of their
answers to the construct's statements, 1..5). Per construct, OpenDP releases

* a noisy count of the respondents with a score (count, then Laplace noise; sensitivity 1), and
* a noisy sum of their scores, centred on the midpoint 3 and clamped to [-2, 2] (so one person moves it
  by at most 2 points), then Laplace noise.

The sum is computed on whole numbers: each centred score times ``GRID`` = 2520, rounded. 2520 is the
least common multiple of 1..10, so a construct's score (a whole sum over 1..10 answered statements) is
exact on this grid; OpenDP's integer sum has the plain sensitivity (its floating-point sum must allow for
rounding and costs twice the noise for data that straddle 0). The noise on whole numbers is the discrete
Laplace distribution, whose scale we state in score points (``sum_scale``) and people (``count_scale``).

The mean is 3 + noisy sum / noisy count, clamped to [1, 5]: post-processing of the two noisy figures,
which costs no privacy.

The budget
----------
``epsilon`` (default 1.0) is for the whole round. It is split evenly over the round's constructs, and
within each construct evenly between the count and the sum (basic, "sequential" composition: the
privacy losses add up). Adding or removing one respondent changes every construct's list of scores by at
most one entry, so the round's figures together are epsilon-differentially private for one respondent,
whatever the others answered. With the even split the same epsilon also holds when one respondent's
answers are *replaced* by others (the sum then moves by up to 4 points but the count does not move). The
library's own privacy map is asked for each construct's loss, and the release refuses to run when the
losses add up to more than ``epsilon``.

Release once. Every call draws new noise: someone who could see many releases of the same round would
average the noise away. Store a round's release when it closes and show the stored figures.

The 95% confidence interval
---------------------------
It holds both uncertainties, combined by a conservative sum of half-widths (the sum is wider than the
usual root of the sum of squares):

* privacy noise: noisy mean - sample mean = (sum noise - m x count noise) / noisy count exactly, where m
  is the centred sample mean. The half-width is the 95% quantile of |sum noise - m x count noise|
  (a sum of two independent Laplace variables, whose tail is known in closed form) divided by the noisy
  count. m is unknown; the released centred mean widened once by its own half-width (at most 2) stands
  in for it.
* sampling: a t interval whose standard deviation is the largest a 1-to-5 scale allows (2), so no
  budget is spent on the spread; with n-1 degrees of freedom, n being the noisy count less its one-sided
  97.5% noise bound (at least 2), so an inflated count does not narrow it.

No mean (``None``) when the noisy count is below 2, or when the interval is wider than the scale (4
points): the figures then say nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import opendp.prelude as dp

from reticulist.barometer.instrument import SCALE_POINTS
from reticulist.barometer.scoring import MIDPOINT, Lean, construct_scores, t_quantile

# "contrib" permits the library's components that have not completed OpenDP's vetting process (a written
# privacy proof accepted by its reviewers); in this version that is nearly all of the library, including
# the count, clamp, integer sum, Laplace mechanism and composition used here. Acceptable because these are
# the field's oldest and best understood mechanisms (Dwork, McSherry, Nissim and Smith 2006; Ghosh,
# Roughgarden and Sundararajan 2012 for the discrete Laplace), the Laplace mechanism's proof is published
# with the library, and our accounting is checked against the library's privacy maps in tests. Nothing
# else is switched on: not "honest-but-curious" (we hand the library no functions of our own to trust)
# and not "idealized-numerics" (the whole-number pipeline needs no idealised floating-point arithmetic).
# The flag is process-wide, which is harmless: it only permits.
dp.enable_features("contrib")

DEFAULT_EPSILON = 1.0  # for the whole round
CONFIDENCE = 0.95
SCALE_LOW, SCALE_HIGH = 1.0, float(SCALE_POINTS)
HALF_RANGE = SCALE_HIGH - MIDPOINT  # 2: how far one centred score can move the sum
SD_BOUND = (SCALE_HIGH - SCALE_LOW) / 2  # the widest spread a 1-to-5 scale allows
GRID = 2520  # least common multiple of 1..10: scores of constructs of up to 10 statements are exact
T_DF_CAP = 1000
COUNT_SHARE = 0.5  # of a construct's budget spent on its count; even is best when the mean is far from 3
# Scales are stretched by a billionth so that the library's own loss (computed in floating point) never
# comes out one rounding step above the share it was given.
_SAFETY = 1.0 + 1e-9


# --- the budget ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """How a round's epsilon is spent: evenly over its constructs, then evenly between count and sum."""

    epsilon: float  # the whole round
    constructs: int

    @property
    def per_construct(self) -> float:
        return self.epsilon / self.constructs

    @property
    def count_epsilon(self) -> float:
        return self.per_construct * COUNT_SHARE

    @property
    def sum_epsilon(self) -> float:
        return self.per_construct * (1.0 - COUNT_SHARE)

    @property
    def count_scale(self) -> float:
        """Laplace scale of the count's noise, in people (its standard deviation is sqrt(2) times it)."""
        return 1.0 / self.count_epsilon * _SAFETY

    @property
    def sum_scale(self) -> float:
        """Laplace scale of the sum's noise, in score points."""
        return HALF_RANGE / self.sum_epsilon * _SAFETY


def budget(epsilon: float = DEFAULT_EPSILON, constructs: int = 1) -> Budget:
    """The split of ``epsilon`` (whole round) over ``constructs``. Raises ValueError naming the field."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not 0 < epsilon < math.inf:
        raise ValueError(f"epsilon: must be a positive number, not {epsilon!r}")
    if isinstance(constructs, bool) or not isinstance(constructs, int | np.integer) or constructs < 1:
        raise ValueError(f"constructs: must be a whole number, at least 1, not {constructs!r}")
    return Budget(float(epsilon), int(constructs))


# --- results ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrivateConstruct:
    """One construct over a whole open-link round, with differential privacy."""

    key: str
    n: int  # noisy count of respondents with a score, rounded, never below 0
    mean: float | None  # noisy mean in [1, 5]; None when the figures say nothing (see the module notes)
    ci_low: float | None  # 95% interval: sampling and privacy noise together
    ci_high: float | None
    noise_half_width: float | None  # the privacy noise's part of the interval (plus or minus, at 95%)
    lean: Lean | None  # the interval against the midpoint 3, as in scoring
    count_scale: float  # Laplace scale of the count's noise (people)
    sum_scale: float  # Laplace scale of the sum's noise (score points)
    epsilon: float  # spent on this construct: count and sum together
    accuracy: str  # plain words, e.g. "plus or minus 0.3 from the privacy noise at 95%"


@dataclass(frozen=True)
class PrivateRound:
    """A round's release: per construct, in the order of the construct keys."""

    epsilon: float  # the whole round
    constructs: tuple[PrivateConstruct, ...]

    def construct(self, key: str) -> PrivateConstruct:
        for c in self.constructs:
            if c.key == key:
                return c
        raise KeyError(key)


@dataclass(frozen=True)
class Accuracy:
    """What to expect before a round: the 95% half-widths for ``n`` answers per construct."""

    n: int
    epsilon: float
    constructs: int
    noise_half_width: float  # from the privacy noise alone, whatever the mean
    sampling_half_width: float  # from who happened to answer, at the widest spread the scale allows
    half_width: float  # both, as the released interval adds them
    publishable: bool  # False when the interval would be wider than the scale: no mean would be shown
    words: str


# --- the noise's distribution ----------------------------------------------------------------------------
def _two_laplace_tail(t: float, a: float, b: float) -> float:
    """P(|X + Y| > t) for independent Laplace X, Y with scales a >= b >= 0 (closed form)."""
    if b == 0.0:
        return math.exp(-t / a)
    if a - b <= 1e-6 * a:  # equal scales (the general form divides 0 by 0 there)
        s = (a + b) / 2
        return math.exp(-t / s) * (1.0 + t / (2.0 * s))
    return (a * a * math.exp(-t / a) - b * b * math.exp(-t / b)) / (a * a - b * b)


def noise_quantile(a: float, b: float, confidence: float = CONFIDENCE) -> float:
    """The ``confidence`` quantile of |X + Y|, X and Y independent Laplace with scales ``a`` and ``b``.

    >>> round(noise_quantile(1.0, 0.0), 4)  # one Laplace: ln 20
    2.9957
    """
    a, b = max(a, b), min(a, b)
    if a <= 0.0:
        return 0.0
    level = 1.0 - confidence
    low, high = 0.0, (a + b) * math.log(2.0 / level)  # each tail below level / 2 there: high is enough
    for _ in range(200):
        middle = (low + high) / 2
        if _two_laplace_tail(middle, a, b) > level:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * high:
            break
    return high


def _noise_half_width(count: float, centred: float, scales: Budget) -> float:
    """The privacy noise's 95% half-width for a mean of ``count`` scores whose centred mean is
    ``centred``: (sum noise - centred x count noise) / count."""
    return noise_quantile(scales.sum_scale, abs(centred) * scales.count_scale) / count


def _sampling_half_width(n: float) -> float:
    n = max(n, 2.0)
    # Whole degrees of freedom, rounded down and capped at 1000: t's quantile falls as they grow, so both
    # only widen the interval (by 0.1% at most), and the few distinct values stay in t_quantile's cache
    # (an uncached quantile for thousands of degrees of freedom takes tens of milliseconds).
    df = min(math.floor(n - 1.0), T_DF_CAP)
    return t_quantile(0.5 + CONFIDENCE / 2, df) * SD_BOUND / math.sqrt(n)


def _number(value: float) -> str:
    """One decimal reads best on a 1-5 scale; two when one decimal would show 0.0."""
    if value < 0.005:
        return "less than 0.01"
    return f"{value:.1f}" if value >= 0.095 else f"{value:.2f}"


# --- post-processing (no privacy cost) -------------------------------------------------------------------
def describe_release(key: str, noisy_count: float, noisy_sum: float, scales: Budget) -> PrivateConstruct:
    """Turn one construct's noisy count and noisy centred sum (score points, each score minus 3) into the
    published figures. Pure arithmetic on released figures: it costs no privacy, and tests call it with
    chosen values."""
    n = max(0, round(noisy_count))
    common = {
        "key": key,
        "n": n,
        "count_scale": scales.count_scale,
        "sum_scale": scales.sum_scale,
        "epsilon": scales.per_construct,
    }
    if noisy_count < 2:
        return PrivateConstruct(
            mean=None,
            ci_low=None,
            ci_high=None,
            noise_half_width=None,
            lean=None,
            accuracy="too few answers to publish a mean with this privacy budget",
            **common,
        )
    centred = min(HALF_RANGE, max(-HALF_RANGE, noisy_sum / noisy_count))
    # The count noise's weight is the true centred mean, unknown: take the released one widened by its
    # own half-width, so a released mean near 3 does not hide a count noise that matters.
    noise = _noise_half_width(noisy_count, centred, scales)
    noise = _noise_half_width(noisy_count, min(HALF_RANGE, abs(centred) + noise), scales)
    # The count can be inflated by its noise: the sampling part uses the count less its one-sided
    # 97.5% noise bound (scale x ln 20), so a lucky draw does not narrow the interval.
    sampling = _sampling_half_width(noisy_count - scales.count_scale * math.log(20.0))
    half = noise + sampling
    if 2 * half > SCALE_HIGH - SCALE_LOW:
        return PrivateConstruct(
            mean=None,
            ci_low=None,
            ci_high=None,
            noise_half_width=noise,
            lean=None,
            accuracy=(
                "too few answers to publish a mean with this privacy budget: the privacy noise alone "
                f"would be plus or minus {_number(noise)} at 95%"
            ),
            **common,
        )
    mean = MIDPOINT + centred
    low, high = max(SCALE_LOW, mean - half), min(SCALE_HIGH, mean + half)
    lean: Lean = "catalyst" if low > MIDPOINT else "obstacle" if high < MIDPOINT else "balanced"
    return PrivateConstruct(
        mean=mean,
        ci_low=low,
        ci_high=high,
        noise_half_width=noise,
        lean=lean,
        accuracy=f"plus or minus {_number(noise)} from the privacy noise at 95%",
        **common,
    )


# --- the release -----------------------------------------------------------------------------------------
def construct_measurement(scales: Budget) -> dp.Measurement:
    """OpenDP's measurement for one construct: [noisy count, noisy sum] of a list of centred scores on
    the grid (whole numbers, each score minus 3 times ``GRID``); one entry per respondent with a score."""
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.symmetric_distance()
    count = space >> dp.t.then_count() >> dp.m.then_laplace(scale=scales.count_scale)
    bound = int(HALF_RANGE) * GRID
    total = (
        space
        >> dp.t.then_clamp((-bound, bound))
        >> dp.t.then_sum()
        >> dp.m.then_laplace(scale=scales.sum_scale * GRID)
    )
    return dp.c.make_composition([count, total])


def _check_scores(scores: np.ndarray, construct_keys: Sequence[str]) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[1] != len(construct_keys):
        raise ValueError(
            f"scores: must be a (respondents, {len(construct_keys)}) array, one column a construct"
        )
    if not len(construct_keys):
        raise ValueError("construct_keys: a round has at least one construct")
    given = scores[~np.isnan(scores)]
    if given.size and (given.min() < SCALE_LOW or given.max() > SCALE_HIGH):
        raise ValueError(f"scores: must lie between {SCALE_LOW:g} and {SCALE_HIGH:g}, or be NaN for none")
    return scores


def release_scores(
    scores: np.ndarray, construct_keys: Sequence[str], *, epsilon: float = DEFAULT_EPSILON
) -> PrivateRound:
    """Release every construct of a round from its per-respondent scores (respondents, constructs), NaN
    where a respondent has no score; ``epsilon`` for the whole round. Draws fresh noise at each call."""
    scores = _check_scores(scores, construct_keys)
    scales = budget(epsilon, len(construct_keys))
    measurement = construct_measurement(scales)
    # The library's own accounting, not ours: a respondent adds at most one entry to each construct's
    # list (symmetric distance 1), and the constructs' losses add up (basic composition).
    spent = float(measurement.map(1)) * len(construct_keys)
    if spent > scales.epsilon:
        raise RuntimeError(f"privacy loss {spent} would exceed the round's epsilon {scales.epsilon}")
    released = []
    for c, key in enumerate(construct_keys):
        column = scores[:, c]
        on_grid = np.rint((column[~np.isnan(column)] - MIDPOINT) * GRID).astype(np.int64)
        noisy_count, noisy_total = measurement(on_grid)
        released.append(describe_release(key, float(noisy_count), noisy_total / GRID, scales))
    return PrivateRound(scales.epsilon, tuple(released))


def release_round(
    answers: np.ndarray,
    item_construct: np.ndarray,
    reverse: np.ndarray,
    construct_keys: Sequence[str],
    *,
    epsilon: float = DEFAULT_EPSILON,
) -> PrivateRound:
    """Score a round (as ``scoring`` does) and release its construct figures with differential privacy.

    Same inputs as ``scoring.construct_results``; ``epsilon`` is the budget of the whole round. Release
    once, when the round closes, and keep the result: each call draws new noise.
    """
    scores = construct_scores(answers, item_construct, reverse, construct_keys)
    return release_scores(scores, construct_keys, epsilon=epsilon)


# --- accuracy in advance ---------------------------------------------------------------------------------
def expected_accuracy(n: int, *, epsilon: float = DEFAULT_EPSILON, constructs: int = 18) -> Accuracy:
    """The 95% accuracy of each construct's mean when ``n`` people have a score on it, for a round of
    ``constructs`` constructs and a budget of ``epsilon``. The privacy part assumes the least favourable
    mean (at an end of the scale, where the count's noise weighs most), so it is a promise that holds.

    >>> a = expected_accuracy(1000)
    >>> round(a.noise_half_width, 2), round(a.half_width, 2)
    (0.3, 0.42)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n: must be a whole number of answers, at least 1, not {n!r}")
    scales = budget(epsilon, constructs)
    noise = _noise_half_width(float(n), HALF_RANGE, scales)
    sampling = _sampling_half_width(float(n))
    half = noise + sampling
    publishable = n >= 2 and 2 * half <= SCALE_HIGH - SCALE_LOW
    if publishable:
        words = (
            f"with {n} answers, each mean is accurate to about plus or minus {_number(noise)} from the "
            f"privacy noise, {_number(half)} with sampling (95%)"
        )
    else:
        words = f"with {n} answers, the privacy noise is too large to publish means"
    return Accuracy(int(n), scales.epsilon, scales.constructs, noise, sampling, half, publishable, words)


def answers_needed(half_width: float, *, epsilon: float = DEFAULT_EPSILON, constructs: int = 18) -> int:
    """The fewest answers per construct for which the privacy noise alone is within ``half_width``
    (plus or minus, 95%, whatever the mean)."""
    if not 0 < half_width < math.inf:
        raise ValueError(f"half_width: must be a positive number, not {half_width!r}")
    scales = budget(epsilon, constructs)
    return max(2, math.ceil(noise_quantile(scales.sum_scale, HALF_RANGE * scales.count_scale) / half_width))
