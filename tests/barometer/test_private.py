"""Open-link rounds released with differential privacy: the budget against the library's own accounting,
the published figures from chosen noisy values, and, since OpenDP's noise cannot be seeded, the noise,
the intervals and an attacker who planted answers, tested over many releases.

The statistical tests are sized so that a correct module fails them far less than once in ten thousand
runs (each bound sits four or more standard errors from what the method promises)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from reticulist.barometer.private import (
    GRID,
    Budget,
    answers_needed,
    budget,
    construct_measurement,
    describe_release,
    expected_accuracy,
    noise_quantile,
    release_round,
    release_scores,
)
from reticulist.barometer.scoring import construct_results, t_quantile

LN20 = math.log(20.0)
KEYS3 = ["trust", "leadership", "momentum"]


# --- the budget -------------------------------------------------------------------------------------------
def test_the_round_budget_is_split_evenly_over_constructs_then_count_and_sum() -> None:
    b = budget(1.0, 18)
    assert b.per_construct == pytest.approx(1 / 18)
    assert b.count_epsilon == b.sum_epsilon == pytest.approx(1 / 36)
    assert b.count_scale == pytest.approx(36.0, rel=1e-6)  # sensitivity 1 (one person) / (1/36)
    assert b.sum_scale == pytest.approx(72.0, rel=1e-6)  # sensitivity 2 (a centred score) / (1/36)


@pytest.mark.parametrize(("epsilon", "constructs"), [(1.0, 18), (0.1, 1), (3.0, 7), (8.0, 60)])
def test_the_library_confirms_a_round_spends_at_most_its_epsilon(epsilon: float, constructs: int) -> None:
    measurement = construct_measurement(budget(epsilon, constructs))
    # Adding or removing one respondent = symmetric distance 1 on each construct's list of scores.
    spent = float(measurement.map(1)) * constructs
    assert spent <= epsilon
    assert spent == pytest.approx(epsilon, rel=1e-6)  # and the budget is used, not wasted


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: budget(0.0, 3), "epsilon"),
        (lambda: budget(-1.0, 3), "epsilon"),
        (lambda: budget(math.nan, 3), "epsilon"),
        (lambda: budget(math.inf, 3), "epsilon"),
        (lambda: budget(True, 3), "epsilon"),  # type: ignore[arg-type]
        (lambda: budget(1.0, 0), "constructs"),
        (lambda: release_scores(np.full((4, 2), 3.0), KEYS3), "scores"),
        (lambda: release_scores(np.full((4, 3), 6.0), KEYS3), "scores"),
        (lambda: release_scores(np.full((4, 3), 0.5), KEYS3), "scores"),
        (lambda: release_scores(np.full(4, 3.0), KEYS3[:1]), "scores"),
        (lambda: release_scores(np.full((4, 3), 3.0), KEYS3, epsilon=0), "epsilon"),
        (lambda: expected_accuracy(0), "n"),
        (lambda: expected_accuracy(10, epsilon=-2), "epsilon"),
        (lambda: answers_needed(0.0), "half_width"),
    ],
)
def test_bad_input_is_refused_naming_the_field(call, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}:"):
        call()


# --- the noise's distribution -----------------------------------------------------------------------------
def test_noise_quantile_of_one_laplace_is_its_closed_form() -> None:
    assert noise_quantile(1.0, 0.0) == pytest.approx(LN20, rel=1e-10)  # P(|X| > t) = exp(-t / scale)
    assert noise_quantile(0.0, 3.0) == pytest.approx(3 * LN20, rel=1e-10)  # order does not matter
    assert noise_quantile(0.0, 0.0) == 0.0


@pytest.mark.parametrize(("a", "b"), [(1.0, 0.5), (2.0, 1.9), (1.0, 1.0), (1.0, 1.0 - 1e-7), (72.0, 18.0)])
def test_noise_quantile_of_two_laplaces_matches_simulation(a: float, b: float) -> None:
    rng = np.random.default_rng(20240601)
    draws = np.abs(rng.laplace(0, a, 400_000) + rng.laplace(0, b, 400_000))
    assert noise_quantile(a, b) == pytest.approx(np.quantile(draws, 0.95), rel=0.015)
    assert noise_quantile(b, a) == noise_quantile(a, b)


# --- from noisy figures to published ones (chosen values, no randomness) ----------------------------------
SCALES = budget(1.0, 18)


@pytest.mark.parametrize(("noisy", "n"), [(-7.0, 0), (0.0, 0), (1.4, 1), (1.99, 2)])
def test_a_count_below_two_gives_a_count_never_below_zero_and_no_mean(noisy: float, n: int) -> None:
    r = describe_release("trust", noisy, 3.0, SCALES)
    assert r.n == n
    assert (r.mean, r.ci_low, r.ci_high, r.lean) == (None, None, None, None)
    assert r.accuracy == "too few answers to publish a mean with this privacy budget"
    assert r.epsilon == pytest.approx(1 / 18)
    assert (r.count_scale, r.sum_scale) == (SCALES.count_scale, SCALES.sum_scale)


def test_the_interval_adds_the_noise_and_sampling_half_widths() -> None:
    count, centred = 4000.0, 0.5
    r = describe_release("trust", count, centred * count, SCALES)
    assert r.n == 4000
    assert r.mean == pytest.approx(3.5)
    assert r.noise_half_width is not None and r.ci_low is not None and r.ci_high is not None
    # The privacy part: (sum noise - m x count noise) / count, m between the released 0.5 and the end 2.
    least = noise_quantile(SCALES.sum_scale, centred * SCALES.count_scale) / count
    most = noise_quantile(SCALES.sum_scale, 2 * SCALES.count_scale) / count
    assert least < r.noise_half_width < most
    # The sampling part: t with the count less its 97.5% noise bound, sd 2 (the widest the scale allows);
    # whole degrees of freedom, at most 1000 (both only widen it).
    n = count - SCALES.count_scale * LN20
    sampling = t_quantile(0.975, min(math.floor(n - 1), 1000)) * 2 / math.sqrt(n)
    assert r.ci_high - r.mean == pytest.approx(r.noise_half_width + sampling)
    assert r.mean - r.ci_low == pytest.approx(r.noise_half_width + sampling)
    assert r.lean == "catalyst"
    assert r.accuracy == "plus or minus 0.06 from the privacy noise at 95%"


def test_means_and_intervals_stay_on_the_scale() -> None:
    high = describe_release("trust", 5000.0, 5000.0 * 2.6, SCALES)  # noise pushed the sum past the top
    assert high.mean == 5.0 and high.ci_high == 5.0 and high.ci_low is not None and high.ci_low < 5.0
    low = describe_release("trust", 5000.0, -5000.0 * 9, SCALES)
    assert low.mean == 1.0 and low.ci_low == 1.0
    assert low.lean == "obstacle"


def test_an_interval_wider_than_the_scale_publishes_no_mean() -> None:
    r = describe_release("trust", 150.0, 40.0, SCALES)  # 150 answers under 18 constructs' budget of 1
    assert r.n == 150 and r.mean is None and r.ci_low is None and r.lean is None
    assert r.noise_half_width is not None and r.noise_half_width > 1.4
    assert re.fullmatch(
        r"too few answers to publish a mean with this privacy budget: "
        r"the privacy noise alone would be plus or minus \d\.\d at 95%",
        r.accuracy,
    )


def test_accuracy_words_read_one_or_two_decimals() -> None:
    for count, words in ((400.0, r"\d\.\d"), (20000.0, r"0\.0\d"), (1e9, r"less than 0\.01")):
        r = describe_release("trust", count, 0.0, SCALES)
        assert re.fullmatch(rf"plus or minus {words} from the privacy noise at 95%", r.accuracy), r.accuracy


# --- the release ------------------------------------------------------------------------------------------
def random_answers(rng: np.random.Generator, respondents: int) -> tuple:
    item_construct = np.array([0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    reverse = np.array([False, True, False, False, False, True, False, False, False, True])
    answers = rng.integers(1, 6, size=(respondents, 10)).astype(np.int8)
    answers[rng.random(answers.shape) < 0.05] = 0  # don't know
    answers[rng.random(answers.shape) < 0.05] = -1  # not answered
    return answers, item_construct, reverse


def test_release_round_scores_as_scoring_does() -> None:
    answers, item_construct, reverse = random_answers(np.random.default_rng(8), 400)
    exact = construct_results(answers, item_construct, reverse, KEYS3)
    # An enormous budget makes the noise vanish: what is left is the scoring.
    released = release_round(answers, item_construct, reverse, KEYS3, epsilon=1e5)
    assert [r.key for r in released.constructs] == KEYS3
    for plain, private in zip(exact, released.constructs, strict=True):
        assert private.n == plain.n
        assert private.mean == pytest.approx(plain.mean, abs=1e-3)
    assert released.epsilon == 1e5
    assert released.construct("momentum").key == "momentum"
    with pytest.raises(KeyError):
        released.construct("nonsense")


def test_every_release_draws_fresh_noise() -> None:
    scores = np.full((500, 18), 3.0)
    keys = [f"c{i}" for i in range(18)]
    first, second = release_scores(scores, keys), release_scores(scores, keys)
    assert [c.n for c in first.constructs] != [c.n for c in second.constructs]


def test_the_noise_matches_its_stated_scales() -> None:
    # Everyone scores 3, so the released mean's distance from 3 times the noisy count is the sum's noise.
    respondents, releases = 2000, 1000
    scores = np.full((respondents, 3), 3.0)
    count_noise, sum_noise = [], []
    for _ in range(releases):
        for c in release_scores(scores, KEYS3, epsilon=1.0).constructs:
            assert c.mean is not None
            count_noise.append(c.n - respondents)
            sum_noise.append((c.mean - 3.0) * c.n)
    b = budget(1.0, 3)
    # A Laplace variable's standard deviation is sqrt(2) times its scale; 3000 draws each.
    assert np.std(count_noise) == pytest.approx(math.sqrt(2) * b.count_scale, rel=0.2)
    assert np.std(sum_noise) == pytest.approx(math.sqrt(2) * b.sum_scale, rel=0.2)
    # and the noise is centred: no bias to the published figures
    assert abs(np.mean(count_noise)) < 4 * math.sqrt(2) * b.count_scale / math.sqrt(len(count_noise))
    assert abs(np.mean(sum_noise)) < 4 * math.sqrt(2) * b.sum_scale / math.sqrt(len(sum_noise))


def test_the_interval_covers_the_true_mean() -> None:
    # Respondents drawn from known populations: the true means are exact.
    rng = np.random.default_rng(11)
    shares = np.array(
        [[0.05, 0.1, 0.2, 0.4, 0.25], [0.2, 0.35, 0.25, 0.15, 0.05], [0.0, 0.02, 0.08, 0.3, 0.6]]
    )
    true_means = shares @ np.arange(1, 6)
    covered = noise_covered = published = 0
    for _ in range(200):
        scores = np.stack([rng.choice(np.arange(1.0, 6.0), size=1500, p=p) for p in shares], axis=1)
        sample_means = scores.mean(axis=0)
        for c, r in enumerate(release_scores(scores, KEYS3, epsilon=1.0).constructs):
            if r.mean is None or r.ci_low is None or r.ci_high is None or r.noise_half_width is None:
                continue
            published += 1
            covered += r.ci_low <= true_means[c] <= r.ci_high
            noise_covered += abs(r.mean - sample_means[c]) <= r.noise_half_width
    assert published == 600
    assert covered / published >= 0.93
    # The privacy part alone is a 95% statement, neither wildly wide nor too narrow (4+ standard errors).
    assert 0.90 <= noise_covered / published <= 0.99


# --- an attacker who planted answers ---------------------------------------------------------------------
def test_four_planted_answers_do_not_reveal_the_genuine_one() -> None:
    """The attack that beats counting people: four answers planted through the open link (all 5) and
    one genuine respondent. Unprotected, the round's mean gives the genuine answer exactly (1 -> 4.2,
    5 -> 5.0). Here the whole budget goes on the one construct, the attacker's best case."""
    planted = [5.0] * 4
    releases = 300
    outputs: dict[float, list] = {1.0: [], 5.0: []}
    for genuine in outputs:
        scores = np.array([[genuine], *[[p] for p in planted]])
        for _ in range(releases):
            outputs[genuine].append(release_scores(scores, ["trust"], epsilon=1.0).construct("trust"))
    # Nothing on the page: five answers under this budget never make a mean.
    shown = [r for rs in outputs.values() for r in rs if r.mean is not None]
    assert len(shown) <= 0.02 * 2 * releases

    # The attacker's best use of what is published: guess 5 when a mean above 4.6 is shown, or when the
    # count looks high; differential privacy bounds any rule's success by e^eps / (1 + e^eps) = 0.73.
    def guess_high(r) -> bool:
        return (r.mean is not None and r.mean > 4.6) or r.n > 5

    right = sum(guess_high(r) for r in outputs[5.0]) + sum(not guess_high(r) for r in outputs[1.0])
    assert right / (2 * releases) <= math.e / (1 + math.e) + 4 * math.sqrt(0.25 / (2 * releases))
    # Underneath, the sum's noise alone is broader than anything one answer can do to it (4 points).
    measurement = construct_measurement(budget(1.0, 1))
    on_grid = np.array([(s - 3) * GRID for s in [1.0, *planted]], dtype=np.int64)
    sums = [measurement(on_grid)[1] / GRID for _ in range(1000)]
    assert np.std(sums) >= 0.8 * math.sqrt(2) * budget(1.0, 1).sum_scale  # 4.5 points at least
    assert np.std(sums) > 4.0


# --- accuracy in advance ----------------------------------------------------------------------------------
def test_expected_accuracy_before_a_round() -> None:
    a = expected_accuracy(1000)  # the default round: epsilon 1 over 18 constructs
    # Worst case: the mean at an end of the scale, where the count's noise weighs as much as the sum's.
    assert a.noise_half_width == pytest.approx(noise_quantile(72.0, 72.0) / 1000, rel=1e-6)
    assert a.sampling_half_width == pytest.approx(t_quantile(0.975, 999) * 2 / math.sqrt(1000))
    assert a.half_width == pytest.approx(a.noise_half_width + a.sampling_half_width)
    assert a.publishable
    assert a.words == (
        "with 1000 answers, each mean is accurate to about plus or minus 0.3 from the privacy noise, "
        "0.4 with sampling (95%)"
    )
    small = expected_accuracy(30)
    assert not small.publishable
    assert small.words == "with 30 answers, the privacy noise is too large to publish means"
    # More answers or more budget, better accuracy; more constructs, worse.
    assert expected_accuracy(2000).noise_half_width < a.noise_half_width
    assert expected_accuracy(1000, epsilon=2.0).noise_half_width < a.noise_half_width
    assert expected_accuracy(1000, constructs=30).noise_half_width > a.noise_half_width


@pytest.mark.parametrize(
    ("half_width", "epsilon", "constructs"), [(0.2, 1.0, 18), (0.1, 3.0, 18), (0.3, 1.0, 1)]
)
def test_answers_needed_is_the_fewest_that_reach_the_accuracy(
    half_width: float, epsilon: float, constructs: int
) -> None:
    n = answers_needed(half_width, epsilon=epsilon, constructs=constructs)
    assert expected_accuracy(n, epsilon=epsilon, constructs=constructs).noise_half_width <= half_width
    assert expected_accuracy(n - 1, epsilon=epsilon, constructs=constructs).noise_half_width > half_width


def test_the_promise_made_in_advance_holds_for_a_worst_case_round() -> None:
    # Everyone answers 5 (the end of the scale, where the promise is tightest), 1200 answers.
    scores = np.full((1200, 3), 5.0)
    promise = expected_accuracy(1200, epsilon=1.0, constructs=3).noise_half_width
    within = sum(
        abs(c.mean - 5.0) <= promise
        for _ in range(300)
        for c in release_scores(scores, KEYS3, epsilon=1.0).constructs
        if c.mean is not None
    )
    assert within / 900 >= 0.93


def test_a_budget_is_a_plain_value() -> None:
    assert budget(2, 4) == Budget(2.0, 4)


def test_a_round_nobody_answered_releases_noisy_counts_only() -> None:
    released = release_scores(np.empty((0, 3)), KEYS3)
    assert all(c.n >= 0 for c in released.constructs)
    assert all(c.mean is None for c in released.constructs)  # no answers, no mean: the noise is all there is
