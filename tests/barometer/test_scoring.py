"""Barometer scoring: hand-worked examples, Cronbach's alpha against its formula, the t quantile against
closed forms and tables, the vectorised engine against the plain-Python reference on random rounds, the
anonymity rules as properties, and the trend between rounds."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reticulist.barometer.scoring import (
    FEWER_THAN_K,
    NOT_TOLD_LABEL,
    PROTECTED,
    RoundResults,
    change,
    complementary,
    construct_results,
    construct_scores,
    describe_change,
    score_round,
    t_quantile,
    trend,
)
from tests.barometer.reference_scoring import differences, reference_score_round, respondent_scores

T3 = 3.182446305283708  # t(0.975, 3 df), as tabulated (3.182)
T4 = 2.7764451051977987  # t(0.975, 4 df) (2.776)


def one_construct(rows: list[list[int]], reverse: list[bool], threshold: int = 1):
    answers = np.array(rows, dtype=np.int8)
    [result] = construct_results(
        answers, np.zeros(answers.shape[1], dtype=int), np.array(reverse), ["trust"], threshold=threshold
    )
    return result


# --- hand-worked construct results -------------------------------------------------------------------------
# Three items, the second reverse-worded (scored 6 - answer); 0 = don't know, -1 = not answered.
#   r1: 4 2 5   -> 4, 4, 5        score 13/3
#   r2: 5 1 0   -> 5, 5, (dk)     2 of 3 substantive (at least half): score 5
#   r3: 3 3 -1  -> 3, 3, (blank)  score 3
#   r4: 2 0 0   -> 2, (dk), (dk)  1 of 3: fewer than half, no score
#   r5: 1 5 2   -> 1, 1, 2        score 4/3
# n = 4; mean = (13/3 + 5 + 3 + 4/3) / 4 = 41/12
# deviations 11/12, 19/12, -5/12, -25/12; squares sum 1132/144; variance 1132/432; sd = 1.6187...
# 95% CI = 41/12 -/+ t(0.975, 3) * sd / 2 = 0.8409 to 5.9925: contains 3, "balanced".
# Answers given: 3 + 3 + 2 + 3 + 3 = 14, of which 3 don't know: share 3/14.
HAND = [[4, 2, 5], [5, 1, 0], [3, 3, -1], [2, 0, 0], [1, 5, 2]]
HAND_REVERSE = [False, True, False]


def test_construct_scores_reverse_items_dont_know_and_the_half_rule() -> None:
    scores = construct_scores(
        np.array(HAND, dtype=np.int8), np.zeros(3, dtype=int), np.array(HAND_REVERSE), ["t"]
    )
    assert scores[:, 0].tolist()[:3] == [13 / 3, 5.0, 3.0]
    assert math.isnan(scores[3, 0])  # one substantive answer of three: no score
    assert scores[4, 0] == pytest.approx(4 / 3)


def test_construct_result_worked_by_hand() -> None:
    r = one_construct(HAND, HAND_REVERSE, threshold=4)
    sd = math.sqrt(1132 / 432)
    assert (r.n, r.items) == (4, 3)
    assert r.mean == pytest.approx(41 / 12)
    assert r.sd == pytest.approx(sd)
    assert r.ci_low == pytest.approx(41 / 12 - T3 * sd / 2)
    assert r.ci_high == pytest.approx(41 / 12 + T3 * sd / 2)
    assert (round(r.ci_low, 4), round(r.ci_high, 4)) == (0.8409, 5.9925)
    assert r.lean == "balanced"
    assert r.dont_know_share == pytest.approx(3 / 14)
    # Only r1 and r5 answered every item: 2 < 4 respondents, so no alpha (and its n is not published).
    assert (r.alpha, r.alpha_n, r.alpha_flag) == (None, None, False)
    assert not r.suppressed and r.reason is None


def test_half_rule_with_four_items_needs_two_answers() -> None:
    rows = [[5, -1, -1, 0], [4, 4, -1, -1], [2, 3, 4, -1]]
    scores = construct_scores(
        np.array(rows, dtype=np.int8), np.zeros(4, dtype=int), np.zeros(4, dtype=bool), ["t"]
    )
    assert math.isnan(scores[0, 0])  # 1 of 4
    assert scores[1:, 0].tolist() == [4.0, 3.0]  # 2 of 4 is half: scored


def test_lean_catalyst_and_obstacle() -> None:
    # Scores 4, 5, 4, 5, 4 (the second item reversed: answered 2 and 1): mean 4.4, sd sqrt(0.3);
    # CI 4.4 -/+ t(0.975, 4) * sqrt(0.3) / sqrt(5) = 3.72 to 5.08, above 3: the catalyst side.
    high = [[4, 2, 4], [5, 1, 5], [4, 2, 4], [5, 1, 5], [4, 2, 4]]
    r = one_construct(high, [False, True, False], threshold=5)
    half = T4 * math.sqrt(0.3) / math.sqrt(5)
    assert r.mean == pytest.approx(4.4) and r.sd == pytest.approx(math.sqrt(0.3))
    assert (r.ci_low, r.ci_high) == (pytest.approx(4.4 - half), pytest.approx(4.4 + half))
    assert r.lean == "catalyst"
    # The mirror image (6 - every answer): mean 1.6, CI 0.92 to 2.28, below 3: the obstacle side.
    low = one_construct([[6 - a for a in row] for row in high], [False, True, False], threshold=5)
    assert low.mean == pytest.approx(1.6) and low.lean == "obstacle"
    assert (low.ci_low, low.ci_high) == (pytest.approx(1.6 - half), pytest.approx(1.6 + half))


def test_a_construct_with_fewer_than_k_scores_is_suppressed_but_its_dont_know_share_is_not() -> None:
    # Six respondents answer; four of them only "don't know": two scores, below k = 5.
    rows = [[4, 4, 4], [5, 5, 4], [0, 0, 0], [0, 0, 0], [0, 0, 3], [0, 0, 0]]
    r = one_construct(rows, [False, False, False], threshold=5)
    assert r.suppressed and r.reason == FEWER_THAN_K
    assert (r.n, r.mean, r.sd, r.ci_low, r.ci_high, r.alpha, r.alpha_n, r.lean) == (None,) * 8
    assert r.dont_know_share == pytest.approx(11 / 18)  # six people stand behind it


# --- Cronbach's alpha --------------------------------------------------------------------------------------
# Worked example: 5 respondents, 3 items (no reverse items).
#            A  B  C   total
#       1    3  4  3   10
#       2    2  3  4    9
#       3    4  4  5   13
#       4    3  2  3    8
#       5    4  4  4   12
# Item variances (ddof=1): A: mean 3.2, squares 2.8 / 4 = 0.7; B: mean 3.4, 3.2 / 4 = 0.8;
# C: mean 3.8, 2.8 / 4 = 0.7; sum 2.2. Total: mean 10.4, squares 17.2 / 4 = 4.3.
# alpha = k/(k-1) * (1 - sum of item variances / total variance) = 3/2 * (1 - 2.2/4.3) = 63/86 = 0.73256
ALPHA_DATA = [[3, 4, 3], [2, 3, 4], [4, 4, 5], [3, 2, 3], [4, 4, 4]]


def test_alpha_matches_the_published_formula_on_a_worked_example() -> None:
    r = one_construct(ALPHA_DATA, [False, False, False], threshold=5)
    assert float(Fraction(3, 2) * (1 - Fraction(22, 10) / Fraction(43, 10))) == pytest.approx(63 / 86)
    assert r.alpha == pytest.approx(63 / 86, abs=1e-12)
    assert round(r.alpha, 4) == 0.7326
    assert r.alpha_n == 5 and not r.alpha_flag


def test_alpha_is_the_same_when_an_item_is_stored_reversed_and_flagged_reverse() -> None:
    stored = [[a, b, 6 - c] for a, b, c in ALPHA_DATA]
    assert one_construct(stored, [False, False, True], threshold=5).alpha == pytest.approx(63 / 86)


def test_alpha_is_listwise_and_flagged_below_point_six() -> None:
    # Items that disagree with each other: alpha is negative here, well below 0.6.
    rows = [[1, 5, 3], [5, 1, 3], [2, 4, 3], [4, 2, 3], [3, 3, 1], [3, 3, 5], [5, 0, 5]]
    r = one_construct(rows, [False, False, False], threshold=5)
    assert r.alpha_n == 6  # the last respondent said "don't know" once: left out of alpha only
    assert r.n == 7
    a = [[1, 5, 3], [5, 1, 3], [2, 4, 3], [4, 2, 3], [3, 3, 1], [3, 3, 5]]
    item_var = sum(np.var([row[j] for row in a], ddof=1) for j in range(3))
    total_var = np.var([sum(row) for row in a], ddof=1)
    assert r.alpha == pytest.approx(1.5 * (1 - item_var / total_var))
    assert r.alpha < 0.6 and r.alpha_flag


def test_a_negative_alpha_is_flagged_and_says_what_it_means() -> None:
    # Two statements of one construct, the second reverse-worded, but the answers arrive already reversed
    # (or the instrument forgot to mark it): people who agree with one disagree with the other.
    rows = [[1, 4], [2, 5], [5, 2], [4, 1], [3, 3], [2, 3], [4, 2]]
    r = one_construct(rows, [False, False], threshold=5)
    x, y = np.array(rows).T
    expected = 2 * (1 - (np.var(x, ddof=1) + np.var(y, ddof=1)) / np.var(x + y, ddof=1))
    assert r.alpha == pytest.approx(expected) and r.alpha < 0  # about -4.8: alpha has no floor
    assert r.alpha_flag and r.alpha_negative
    assert r.alpha_words is not None and r.alpha_words.startswith(
        "negative: the statements pull against each other (a reverse-worded statement not reversed"
    )
    # Marking the second statement reverse-worded (what the answers mean) makes the statements agree.
    fixed = one_construct(rows, [False, True], threshold=5)
    assert fixed.alpha is not None and fixed.alpha > 0.6 and not fixed.alpha_flag
    assert fixed.alpha_words is None and not fixed.alpha_negative
    # Low but positive: flagged, with the milder words.
    low = one_construct([[1, 3], [2, 1], [3, 4], [4, 3], [5, 4], [2, 4], [4, 2]], [False, False], threshold=5)
    assert low.alpha == pytest.approx(1 / 3) and low.alpha_flag and not low.alpha_negative
    assert low.alpha_words == "items disagree: read with care"


# --- the t quantile ----------------------------------------------------------------------------------------
def test_t_quantile_closed_forms_and_tables() -> None:
    # 1 df is the Cauchy distribution: tan(pi (p - 1/2)); 2 df: (2p - 1) / sqrt(2 p (1 - p)).
    assert t_quantile(0.975, 1) == pytest.approx(math.tan(math.pi * 0.475), rel=1e-12)
    assert t_quantile(0.975, 2) == pytest.approx(0.95 / math.sqrt(2 * 0.975 * 0.025), rel=1e-12)
    assert t_quantile(0.9, 2) == pytest.approx(0.8 / math.sqrt(2 * 0.9 * 0.1), rel=1e-12)
    # Printed tables (two-sided 95%): 3 df 3.182, 5 df 2.571, 10 df 2.228, 30 df 2.042, 120 df 1.980.
    table = {3: 3.182, 5: 2.571, 10: 2.228, 30: 2.042, 120: 1.980}
    assert {df: round(t_quantile(0.975, df), 3) for df in table} == table
    # Large samples tend to the normal 1.95996; the lower tail mirrors the upper.
    assert t_quantile(0.975, 1_000_000) == pytest.approx(1.959966, abs=1e-6)
    assert t_quantile(0.025, 7.5) == -t_quantile(0.975, 7.5)
    with pytest.raises(ValueError, match="df"):
        t_quantile(0.975, 0)


# --- the engine against the reference ----------------------------------------------------------------------
@st.composite
def rounds(draw: st.DrawFn) -> tuple:
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    item_construct = np.repeat(np.arange(len(sizes)), sizes)
    draw_order = draw(st.permutations(list(range(len(item_construct)))))
    item_construct = item_construct[np.array(draw_order, dtype=int)]
    items = len(item_construct)
    reverse = np.array(draw(st.lists(st.booleans(), min_size=items, max_size=items)))
    respondents = draw(st.integers(0, 40))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Mostly substantive answers, with blanks and don't-knows in proportions that vary by round.
    blank, dont_know = draw(st.sampled_from([(0.0, 0.0), (0.1, 0.1), (0.3, 0.2), (0.5, 0.3)]))
    answers = rng.integers(1, 6, size=(respondents, items)).astype(np.int8)
    u = rng.random((respondents, items))
    answers[u < dont_know] = 0
    answers[u > 1 - blank] = -1
    groups = {}
    for dimension in draw(st.lists(st.sampled_from(["organisation", "profession", "wt_tier"]), unique=True)):
        labels = [f"{dimension} {i}" for i in range(draw(st.integers(1, 6)))]
        not_told = draw(st.sampled_from([0.0, 0.05, 0.3]))
        weights = rng.random(len(labels)) ** 3 + 0.01  # uneven groups, some tiny
        codes = rng.choice(len(labels), size=respondents, p=weights / weights.sum())
        codes[rng.random(respondents) < not_told] = -1
        groups[dimension] = (codes, labels)
    threshold = draw(st.integers(1, 7))
    keys = [f"c{i}" for i in range(len(sizes))]
    return answers, item_construct, reverse, keys, groups, threshold


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_engine_equals_the_reference_on_random_rounds(data: tuple) -> None:
    """Whole-round figures equal the reference's exactly; in the breakdowns every figure the engine shows
    equals the reference's unsuppressed figure, and every cell of fewer than k is hidden (which further
    cells are hidden to protect them is the disclosure audit's business, tested in test_disclosure)."""
    answers, item_construct, reverse, keys, groups, threshold = data
    engine = score_round(answers, item_construct, reverse, keys, groups, threshold)
    reference = reference_score_round(answers, item_construct, reverse, keys, groups, threshold)
    assert differences(engine.constructs, reference.constructs) == []
    scores = respondent_scores(answers.tolist(), item_construct.tolist(), reverse.tolist(), len(keys))
    for dimension, breakdown in engine.breakdowns.items():
        codes = [int(code) for code in groups[dimension][0]]
        for group in breakdown.groups:
            members = [r for r, code in enumerate(codes) if code == group.code]
            if group.suppressed:
                assert group.respondents is None and group.reason == PROTECTED
            else:
                assert group.respondents == len(members) >= threshold
            assert len(members) >= threshold or group.suppressed
            for c, cell in enumerate(group.cells):
                values = [scores[r][c] for r in members if scores[r][c] is not None]
                if cell.suppressed:
                    assert (cell.n, cell.mean, cell.reason) == (None, None, PROTECTED)
                else:
                    assert cell.n == len(values) >= threshold
                    assert differences(cell.mean, statistics.fmean(values)) == []
                assert len(values) >= threshold or cell.suppressed


# --- anonymity: properties ---------------------------------------------------------------------------------
def check_anonymity(results: RoundResults) -> None:
    k = results.threshold
    for c in results.constructs:
        assert (c.n is None) == c.suppressed
        if c.suppressed:
            assert (c.n, c.mean, c.sd, c.ci_low, c.ci_high, c.alpha, c.alpha_n) == (None,) * 7
        else:
            assert c.n >= k
    for breakdown in results.breakdowns.values():
        groups = breakdown.groups
        # (d) suppressed figures are None, never 0, and say why.
        for g in groups:
            if g.suppressed:
                assert g.respondents is None and g.reason == PROTECTED
                assert all(cell.suppressed for cell in g.cells)
            else:
                assert g.reason is None
            for cell in g.cells:
                if cell.suppressed:
                    assert cell.n is None and cell.mean is None and cell.reason == PROTECTED
                else:
                    assert cell.reason is None and cell.n is not None
        # (a) every visible cell describes at least k respondents.
        assert all(g.respondents >= k for g in groups if not g.suppressed)
        assert all(cell.n >= k for g in groups for cell in g.cells if not cell.suppressed)
        # (b) what the total minus the visible groups gives away (the hidden groups pooled) is nobody or
        # at least k people, so no hidden small group is the difference of published counts.
        hidden = [g for g in groups if g.suppressed]
        if len(hidden) < len(groups):
            pooled = results.respondents - sum(g.respondents for g in groups if not g.suppressed)
            assert pooled == 0 or pooled >= k
        # (c) the same per construct column, against the construct's published n.
        for j, construct in enumerate(results.constructs):
            column = [g.cells[j] for g in groups]
            if construct.n is not None and any(cell.suppressed for cell in column):
                pooled = construct.n - sum(cell.n for cell in column if not cell.suppressed)
                assert pooled == 0 or pooled >= k


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(-1, 7), min_size=0, max_size=80),
    st.integers(1, 8),
    st.integers(0, 2**32 - 1),
    st.floats(0.0, 0.9),
)
def test_suppression_properties_on_random_groups(
    codes: list[int], threshold: int, seed: int, blank: float
) -> None:
    rng = np.random.default_rng(seed)
    respondents = len(codes)
    answers = rng.integers(1, 6, size=(respondents, 6)).astype(np.int8)
    answers[rng.random((respondents, 6)) < blank] = -1  # some people skip a construct: smaller columns
    labels = [f"organisation {i}" for i in range(8)]
    results = score_round(
        answers,
        np.array([0, 0, 0, 1, 1, 1]),
        np.zeros(6, dtype=bool),
        ["trust", "leadership"],
        {"organisation": (np.array(codes, dtype=int), labels)},
        threshold=threshold,
    )
    check_anonymity(results)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rounds())
def test_suppression_properties_on_random_rounds(data: tuple) -> None:
    answers, item_construct, reverse, keys, groups, threshold = data
    check_anonymity(score_round(answers, item_construct, reverse, keys, groups, threshold))


def test_complementary_rule_by_example() -> None:
    k = 5
    # One small group beside visible ones: the smallest visible group goes too.
    counts = np.array([7, 6, 2])
    assert complementary(counts, counts < k, k).tolist() == [False, True, False]
    # Two small groups pooling 6 >= k: neither can be worked out; nothing more to hide.
    counts = np.array([10, 3, 3])
    assert not complementary(counts, counts < k, k).any()
    # Two small groups pooling 3 < k: together they would describe 3 people, so one more goes.
    counts = np.array([10, 9, 2, 1])
    assert complementary(counts, counts < k, k).tolist() == [False, True, False, False]
    # A lone empty group is hidden too ("fewer than k" never shows as 0), and not alone.
    counts = np.array([10, 8, 0])
    assert complementary(counts, counts < k, k).tolist() == [False, True, False]
    # Ties: the first of the smallest visible.
    counts = np.array([6, 6, 1])
    assert complementary(counts, counts < k, k).tolist() == [True, False, False]


def breakdown_round(codes: list[int], labels: list[str], answers: np.ndarray | None = None) -> RoundResults:
    if answers is None:
        answers = np.full((len(codes), 3), 4, dtype=np.int8)
    return score_round(
        answers,
        np.array([0, 0, 0]),
        np.zeros(3, dtype=bool),
        ["trust"],
        {"organisation": (np.array(codes), labels)},
        threshold=5,
    )


def test_breakdown_hides_a_small_group_and_its_complement() -> None:
    # Police 7, Health 6, School 2, nobody "not told": School is hidden (fewer than 5), and Health with it,
    # since School = 15 respondents - 7 - 6 otherwise.
    results = breakdown_round([0] * 7 + [1] * 6 + [2] * 2, ["Police", "Health", "School"])
    b = results.breakdowns["organisation"]
    assert b.row_labels == ["Police", "Health", "School"]  # no "Not told" row: nobody left it blank
    police, health, school = b.groups
    assert (police.respondents, police.suppressed) == (7, False)
    # Both say the same: telling which was hidden for being small would point at School.
    assert (health.respondents, health.suppressed, health.reason) == (None, True, PROTECTED)
    assert (school.respondents, school.suppressed, school.reason) == (None, True, PROTECTED)
    assert b.cell("Police", "trust").mean == 4.0 and b.cell("Police", "trust").n == 7
    assert b.cell("School", "trust").suppressed and b.cell("School", "trust").mean is None
    assert b.means == [[4.0], [None], [None]]
    assert results.heatmap is b


def test_not_told_is_a_cell_of_the_dimension() -> None:
    # Police 8, Health 8, 2 not told: "Not told" is hidden, and the smaller of the rest (Police, first of
    # equals) with it, or the 2 could be worked out as 18 - 8 - 8.
    results = breakdown_round([0] * 8 + [1] * 8 + [-1] * 2, ["Police", "Health"])
    b = results.breakdowns["organisation"]
    assert b.row_labels == ["Police", "Health", NOT_TOLD_LABEL]
    assert [(g.code, g.reason) for g in b.groups] == [(0, PROTECTED), (1, None), (-1, PROTECTED)]


def test_a_construct_column_is_protected_on_its_own() -> None:
    # Police 6 and Health 9 are both shown, but only 3 in Health have a score on the construct: that cell is
    # hidden, and Police's with it, or Health's 3 (and their mean) could be worked out from the
    # construct's n of 9 and mean.
    answers = np.full((15, 3), 4, dtype=np.int8)
    answers[6:12] = -1  # six of Health's nine answered nothing
    results = breakdown_round([0] * 6 + [1] * 9, ["Police", "Health"], answers)
    b = results.breakdowns["organisation"]
    assert [g.respondents for g in b.groups] == [6, 9]
    assert results.construct("trust").n == 9
    assert [(c.n, c.mean, c.reason) for g in b.groups for c in g.cells] == [
        (None, None, PROTECTED),
        (None, None, PROTECTED),
    ]


def test_bad_input_names_the_argument() -> None:
    good = dict(item_construct=np.array([0, 0, 0]), reverse=np.zeros(3, dtype=bool), construct_keys=["trust"])
    with pytest.raises(ValueError, match=r"answers: row 1, item 2: 7 is not an answer code"):
        score_round(np.array([[1, 2, 3], [1, 2, 7]], dtype=np.int8), **good)
    with pytest.raises(ValueError, match="reverse"):
        score_round(np.ones((2, 3), dtype=np.int8), np.array([0, 0, 0]), np.zeros(2, dtype=bool), ["trust"])
    with pytest.raises(ValueError, match="item_construct"):
        score_round(np.ones((2, 3), dtype=np.int8), np.array([0, 0, 1]), np.zeros(3, dtype=bool), ["trust"])
    with pytest.raises(ValueError, match=r"groups\.organisation: codes must be -1"):
        score_round(
            np.ones((2, 3), dtype=np.int8), **good, groups={"organisation": (np.array([0, 2]), ["A", "B"])}
        )
    with pytest.raises(ValueError, match="threshold"):
        score_round(np.ones((2, 3), dtype=np.int8), **good, threshold=0)


# --- trend -------------------------------------------------------------------------------------------------
def simulated_round(seed: int, shift: float, respondents: int = 400) -> RoundResults:
    rng = np.random.default_rng(seed)
    latent = rng.normal(3.0 + shift, 0.8, size=(respondents, 1)) + rng.normal(0, 0.6, size=(respondents, 4))
    answers = np.clip(np.rint(latent), 1, 5).astype(np.int8)
    return score_round(answers, np.array([0, 0, 0, 0]), np.zeros(4, dtype=bool), ["trust"])


def test_trend_finds_a_real_shift() -> None:
    [t] = trend(simulated_round(1, 0.0).constructs, simulated_round(2, 0.5).constructs)
    assert t.clear_change and t.ci_low > 0
    assert 0.3 < t.difference < 0.7
    assert t.reading.startswith("up ") and "(95% CI " in t.reading
    [down] = trend(simulated_round(2, 0.5).constructs, simulated_round(1, 0.0).constructs)
    assert down.clear_change and down.reading.startswith("down ")


def test_trend_is_quiet_on_identical_distributions() -> None:
    a = simulated_round(1, 0.0)
    [same] = trend(a.constructs, a.constructs)
    assert (same.difference, same.clear_change) == (0.0, False)
    assert same.reading == "no change larger than the noise"
    [t] = trend(a.constructs, simulated_round(3, 0.0).constructs)
    assert not t.clear_change and t.ci_low < 0 < t.ci_high


def test_welch_interval_worked_by_hand() -> None:
    # A: mean 3.0, sd 1, n 10; B: mean 3.5, sd 1, n 10. se = sqrt(0.1 + 0.1); Welch df = 0.04 / (2 * 0.01/9)
    # = 18; t(0.975, 18) = 2.101; CI 0.5 -/+ 2.101 * 0.4472 = -0.44 to 1.44: no clear change.
    difference, low, high = change(3.0, 1.0, 10, 3.5, 1.0, 10)
    half = t_quantile(0.975, 18) * math.sqrt(0.2)
    assert round(t_quantile(0.975, 18), 3) == 2.101
    assert (difference, low, high) == (0.5, pytest.approx(0.5 - half), pytest.approx(0.5 + half))


def test_change_in_plain_words() -> None:
    assert describe_change(0.4, 0.1, 0.7, True) == "up 0.4 (95% CI 0.1 to 0.7)"
    assert describe_change(-0.3, -0.5, -0.1, True) == "down 0.3 (95% CI -0.5 to -0.1)"
    assert describe_change(0.03, 0.01, 0.05, True) == "up 0.03 (95% CI 0.01 to 0.05)"
    assert describe_change(0.2, -0.1, 0.5, False) == "no change larger than the noise"


def test_trend_skips_suppressed_constructs_and_matches_by_key() -> None:
    big = simulated_round(1, 0.0)
    tiny = score_round(
        np.full((3, 4), 4, dtype=np.int8), np.array([0, 0, 0, 0]), np.zeros(4, dtype=bool), ["trust"]
    )
    [t] = trend(tiny.constructs, big.constructs)
    assert (t.difference, t.clear_change) == (None, False)
    assert t.reading == "not enough answers in both rounds to compare"
    assert trend(big.constructs, []) == []
