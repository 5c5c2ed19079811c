"""The study of 002's hypothesis on synthetic partnerships, where the answer is known.

What "the true effect" is: the generator plants ``late_entry_effect`` as a change in the chance that a
late entrant's tie crosses an organisation boundary; what that does to the boundary-spanner score (scaled
within each partnership) and to liaison brokerage depends on the whole network, so it has no formula.
The study's estimand is the coefficient its own model converges to on ever more partnerships drawn from
the same generator with the same settings (same sizes, densities and shares). The test estimates it on a
large sample (``TRUTH_PARTNERSHIPS`` partnerships, about 55,000 people, its own seed) and checks that the
demo-sized study's interval contains it, once for the demo's seed and as a coverage rate over many
demo-sized draws.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy import stats

from reticulist.comparison.study import (
    COLUMNS,
    OUTCOMES,
    StudyTooSmall,
    study_boundary_spanning,
)
from reticulist.comparison.synthetic import (
    generate_partnerships,
    study_rows,
)
from reticulist.register.vocab import OrganisationKind

EFFECT = 0.15  # late entrants' ties cross an organisation boundary 15 points more often
DEMO = {"people": (60, 400), "ties_per_person": (5.0, 10.0), "late_entry_effect": EFFECT}
TRUTH_PARTNERSHIPS = 240
COVERAGE_DRAWS = 20
NULL_SEEDS = 200
CAUSAL_WORDS = ("cause", "because", "leads to", "makes", "effect", "due to", "drives")


@pytest.fixture(scope="module")
def truth() -> dict[str, float]:
    """The late-entry coefficient on a large sample from the demo's generator: the study's estimand."""
    rows = study_rows(generate_partnerships(TRUTH_PARTNERSHIPS, seed=90_210, **DEMO))
    study = study_boundary_spanning(rows)
    return {o.outcome: o.estimate("late_entry").coefficient for o in study.outcomes}


def demo_study(seed: int):
    return study_boundary_spanning(pl.DataFrame(study_rows(generate_partnerships(12, seed=seed, **DEMO))))


def test_planted_effect_is_recovered_within_its_interval(truth):
    study = demo_study(seed=12)
    assert study.partnerships == 12
    assert study.people == sum(p.people for p in generate_partnerships(12, seed=12, **DEMO))
    for outcome in OUTCOMES:
        fit = study.outcome(outcome)
        late = fit.estimate("late_entry")
        assert fit.converged
        assert late.low <= truth[outcome] <= late.high, (outcome, truth[outcome], late)
        assert late.low > 0, (outcome, late)
        assert late.clear and late.p_value < 0.05
        assert "supports 002's finding" in late.words
        assert 0 <= fit.between_partnership_share < 1
    # The truth is on each outcome's own scale: a spanner score difference of a few hundredths, and
    # log(1 + liaison pairs) about 0.4-0.5 (roughly 55-65% more pairs).
    assert 0.01 < truth["spanner_score"] < 0.1
    assert 0.2 < truth["liaison"] < 1.0


def test_intervals_cover_the_truth_about_95_times_in_100(truth):
    covered = {outcome: 0 for outcome in OUTCOMES}
    excluded_zero = {outcome: 0 for outcome in OUTCOMES}
    for seed in range(1000, 1000 + COVERAGE_DRAWS):
        study = demo_study(seed)
        for outcome in OUTCOMES:
            late = study.outcome(outcome).estimate("late_entry")
            covered[outcome] += late.low <= truth[outcome] <= late.high
            excluded_zero[outcome] += late.low > 0
    # 95% intervals: fewer covers than the 0.1% quantile of Binomial(draws, 0.95) would be a real fault.
    least = stats.binom.ppf(0.001, COVERAGE_DRAWS, 0.95)
    for outcome in OUTCOMES:
        assert covered[outcome] >= least, (outcome, covered)
        # The planted effect is large enough for a demo-sized study to see it nearly every time.
        assert excluded_zero[outcome] >= COVERAGE_DRAWS - 1, (outcome, excluded_zero)


def test_without_an_effect_the_study_reports_one_no_more_often_than_its_error_rate():
    """200 seeds of 6 small partnerships with no planted effect of late entry and none of hierarchy (the
    generator never plants one): p < 0.05 should come about 5% of the time, within Binomial bounds."""
    hits = {(o, p): 0 for o in OUTCOMES for p in ("late_entry", "hierarchy_tier")}
    for seed in range(NULL_SEEDS):
        rows = study_rows(generate_partnerships(6, people=(60, 80), late_entry_effect=0.0, seed=seed))
        study = study_boundary_spanning(rows)
        for outcome in OUTCOMES:
            fit = study.outcome(outcome)
            for predictor in ("late_entry", "hierarchy_tier"):
                hits[outcome, predictor] += fit.estimate(predictor).p_value < 0.05
    most = stats.binom.ppf(0.999, NULL_SEEDS, 0.05)
    # Not absurdly cautious either (intervals far too wide would also pass the upper bound).
    least = stats.binom.ppf(0.001, NULL_SEEDS, 0.05)
    for key, count in hits.items():
        assert least <= count <= most, (key, count, least, most)


# --- refusing small studies ------------------------------------------------------------------------------
def small_rows(partnerships: int = 6, seed: int = 3) -> dict[str, np.ndarray]:
    return study_rows(generate_partnerships(partnerships, people=(60, 80), seed=seed))


def test_fewer_than_five_partnerships_is_refused():
    with pytest.raises(StudyTooSmall, match="at least 5 partnerships") as refused:
        study_boundary_spanning(small_rows(4))
    assert "it has 4" in str(refused.value)


def test_a_group_below_the_anonymity_threshold_is_refused():
    rows = small_rows()
    late = np.zeros(rows["late_entry"].size, dtype=bool)
    late[:4] = True
    with pytest.raises(StudyTooSmall, match="Only 4 late entrants"):
        study_boundary_spanning(rows | {"late_entry": late})
    # min_group is the threshold: 4 late entrants pass a threshold of 4 (the figures are then theirs).
    study_boundary_spanning(rows | {"late_entry": late}, min_group=4)
    training = np.ones(rows["late_entry"].size, dtype=bool)
    training[:2] = False
    with pytest.raises(StudyTooSmall, match="Only 2 people without it"):
        study_boundary_spanning(rows | {"interprofessional_training": training})


def test_too_few_people_and_no_variety_are_refused():
    rows = small_rows()
    take = np.concatenate([np.flatnonzero(rows["partnership"] == k)[:8] for k in range(6)])
    with pytest.raises(StudyTooSmall, match="at least 50 people"):
        study_boundary_spanning({k: v[take] for k, v in rows.items()})
    with pytest.raises(StudyTooSmall, match="same hierarchy tier"):
        study_boundary_spanning(rows | {"hierarchy_tier": np.full(rows["late_entry"].size, 5)})


def test_malformed_data_are_refused_plainly():
    rows = small_rows()
    with pytest.raises(ValueError, match="needs a column 'liaison'"):
        study_boundary_spanning({k: v for k, v in rows.items() if k != "liaison"})
    with pytest.raises(ValueError, match="tier 1 to 5"):
        study_boundary_spanning(rows | {"hierarchy_tier": rows["hierarchy_tier"] + 1})
    late = pl.Series([*rows["late_entry"].tolist()[:-1], None], dtype=pl.Boolean)
    with pytest.raises(ValueError, match="Late entry is not recorded for 1 person"):
        study_boundary_spanning(pl.DataFrame(rows).with_columns(late_entry=late))


# --- missing years, inputs, words ------------------------------------------------------------------------
def test_people_without_recorded_years_are_left_out_and_counted():
    rows = small_rows()
    n = rows["late_entry"].size
    years = rows["years_in_profession"].copy()
    years[::10] = np.nan
    left_out = int(np.isnan(years).sum())
    study = study_boundary_spanning(rows | {"years_in_profession": years})
    assert study.left_out_missing_years == left_out > 0
    assert study.people == n - left_out
    assert all(o.people == n - left_out for o in study.outcomes)
    assert (
        f"{left_out} people left out because their years in the profession are not recorded" in study.words[0]
    )
    # The same from polars with nulls in an integer column (as the register stores years).
    frame = pl.DataFrame(rows).with_columns(
        years_in_profession=pl.Series([None if np.isnan(y) else int(y) for y in years], dtype=pl.Int64)
    )
    again = study_boundary_spanning(frame)
    assert again.left_out_missing_years == left_out
    for a, b in zip(study.outcomes, again.outcomes, strict=True):
        assert [e.coefficient for e in a.estimates] == pytest.approx([e.coefficient for e in b.estimates])


def test_a_frame_and_a_mapping_give_the_same_study():
    rows = small_rows()
    assert set(rows) == set(COLUMNS)
    named = rows | {"partnership": np.array([f"P{k}" for k in rows["partnership"]], dtype=object)}
    a, b = study_boundary_spanning(rows), study_boundary_spanning(pl.DataFrame(named))
    assert a.words == b.words
    assert (a.people, a.partnerships) == (b.people, b.partnerships) == (rows["late_entry"].size, 6)


def made_up(seed: int, *, late: float = 0.0, tier: float = 0.0) -> dict[str, np.ndarray]:
    """Rows with outcomes drawn directly (no network), to put the words on known sides of 0."""
    rng = np.random.default_rng(seed)
    n, groups = 3000, 10
    partnership = rng.integers(0, groups, n)
    late_entry = rng.random(n) < 0.25
    training = rng.random(n) < 0.35
    hierarchy = rng.integers(1, 6, n)
    years = rng.integers(0, 30, n).astype(float)
    level = rng.normal(0, 0.03, groups)[partnership]
    score = np.clip(0.2 + level + late * late_entry + tier * hierarchy + rng.normal(0, 0.1, n), 0, 1)
    liaison = rng.poisson(np.exp(1.5 + 10 * level + 10 * late * late_entry + 10 * tier * hierarchy))
    return {
        "partnership": partnership,
        "spanner_score": score,
        "liaison": liaison,
        "late_entry": late_entry,
        "interprofessional_training": training,
        "years_in_profession": years,
        "hierarchy_tier": hierarchy,
    }


def test_words_follow_the_evidence_and_never_claim_cause():
    none = study_boundary_spanning(made_up(1))
    score = none.outcome("spanner_score")
    late, tier = score.estimate("late_entry"), score.estimate("hierarchy_tier")
    assert not late.clear and late.words.startswith("No clear difference in the boundary-spanner score")
    assert "does not support 002's finding" in late.words
    assert not tier.clear
    assert tier.words.startswith("No clear relationship between hierarchy tier and boundary spanning")
    assert tier.words.endswith("as 002 found.")

    against = study_boundary_spanning(made_up(2, late=-0.05, tier=0.02))
    for outcome in OUTCOMES:
        fit = against.outcome(outcome)
        assert "contrary to 002's finding that late entrants" in fit.estimate("late_entry").words
        words = fit.estimate("hierarchy_tier").words
        assert "higher towards practitioners (tier 5)" in words
        assert "contrary to 002's finding of no relationship between hierarchy" in words
    assert "Late entrants broker about" in against.outcome("liaison").estimate("late_entry").words
    assert "less liaison pairs" in against.outcome("liaison").estimate("late_entry").words

    for study in (none, against, demo_study(12)):
        for fit in study.outcomes:
            for estimate in fit.estimates:
                assert "95% interval" in estimate.words
                assert not any(word in estimate.words.lower() for word in CAUSAL_WORDS), estimate.words
        assert "do not show" in study.words[-1]


# --- the generator -------------------------------------------------------------------------------------
def test_generated_partnerships_look_like_partnerships():
    partnerships = generate_partnerships(4, seed=7, late_entry_effect=EFFECT)
    again = generate_partnerships(4, seed=7, late_entry_effect=EFFECT)
    kinds = {k.value for k in OrganisationKind}
    for p, q in zip(partnerships, again, strict=True):
        assert 60 <= p.people <= 400
        assert np.array_equal(p.source, q.source) and np.array_equal(p.late_entry, q.late_entry)
        assert (p.source < p.target).all()
        assert np.unique(p.source * p.people + p.target).size == p.ties
        assert 10 <= 2 * p.ties / p.people <= 20  # mean degree
        inside = (p.organisation[p.source] == p.organisation[p.target]).mean()
        assert inside > 0.5  # most ties inside an organisation
        assert set(p.organisation_kinds) <= kinds
        assert len(p.organisation_names) == len(set(p.organisation_names)) == p.organisation.max() + 1
        assert p.profession.max() < len(p.profession_names)
        tiers = np.bincount(p.hierarchy_tier, minlength=6)[1:]
        assert tiers[4] == tiers.max() and tiers[0] < tiers[4] / 5  # few at the top, most practitioners
    people = np.concatenate([p.late_entry for p in partnerships])
    trained = np.concatenate([p.interprofessional_training for p in partnerships])
    assert 0.2 <= people.mean() <= 0.3 and 0.3 <= trained.mean() <= 0.4
