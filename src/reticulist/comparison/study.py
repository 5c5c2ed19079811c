"""The study of 002's hypothesis: are late entrants more often boundary spanners, and is hierarchy unrelated?

002 observed in one partnership ("Brempton") that of four boundary spanners two had come to their
profession late, and detected "no relationship between the level of hierarchy of an individual and his or
her ability to span boundaries"; it asks for "a study based on a large sample of similar partnerships in an
explanatory, deductive fashion". This is that study, on the partnerships that opt in to the comparison.

Pure computation: one row per person in (a polars DataFrame, or a mapping of column name to array),
frozen dataclasses out; no database, no web. docs/research.md explains it for its readers.

Model
-----
For each outcome separately, a linear mixed model (statsmodels ``MixedLM``, restricted maximum likelihood)
with a random intercept per partnership:

    y_ij = b0 + b1 late_entry_ij + b2 training_ij + b3 years_ij + b4 tier_ij + u_j + e_ij,
    u_j ~ N(0, tau^2),  e_ij ~ N(0, sigma^2)

for person i in partnership j. Outcomes: the network capability's boundary-spanner score (0..1, as is)
and liaison brokerage (pairs of people in two other organisations, neither of them one's own, that the
person links) as log(1 + count), because counts are heavy-tailed: a few people broker hundreds of pairs.
Tier enters as a linear trend per tier (1 = top management / policy ... 5 = practitioner). The random
intercept takes out what differs between whole partnerships (size, density, how the score is scaled in
each), so the coefficients compare people within the same partnership.

Why these choices: the array interface of ``MixedLM`` (not formulas) because the benchmark fits 300,000
people in 150 partnerships; the outcome is divided by its standard deviation for fitting and the figures
scaled back (statsmodels' optimiser and its boundary check work on variances near 1, and a 0..1 score
has variances near 0.001), and years and tier are centred (the same coefficients, a better-conditioned
fit). Optimisers are tried in turn (L-BFGS, BFGS, conjugate gradient, Nelder-Mead) until one converges;
the result says which, and whether any did.

Small studies are refused (``StudyTooSmall``): fewer than 5 partnerships cannot separate partnership
from person, and a coefficient on a group smaller than the anonymity threshold is close to those few
people's own figures.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import statsmodels.api as sm
from scipy import stats

# Columns the study reads, one row per person.
COLUMNS = (
    "partnership",
    "spanner_score",
    "liaison",
    "late_entry",
    "interprofessional_training",
    "years_in_profession",
    "hierarchy_tier",
)
PREDICTORS = ("late_entry", "interprofessional_training", "years_in_profession", "hierarchy_tier")
OUTCOMES = ("spanner_score", "liaison")
OUTCOME_LABELS = {"spanner_score": "boundary-spanner score", "liaison": "liaison brokerage"}
OUTCOME_SCALES = {"spanner_score": "the score as it is, 0 to 1", "liaison": "log(1 + count)"}
# Optimisers tried in turn until one converges.
METHODS = ("bfgs", "lbfgs", "cg", "nm")
MIN_PARTNERSHIPS = 5
MIN_GROUP = 5  # the anonymity threshold
MIN_PEOPLE = 50  # ten per fixed coefficient


class StudyTooSmall(ValueError):
    """The data cannot answer the question without exposing a few people or guessing: the message says why
    in plain words."""


@dataclass(frozen=True)
class Estimate:
    """One predictor's coefficient in one outcome's model."""

    predictor: str  # one of PREDICTORS
    coefficient: float  # on the outcome's scale: per person (yes/no), per year, per tier
    low: float  # the interval at the study's level (95% by default)
    high: float
    p_value: float  # two-sided Wald test of no relationship
    words: str

    @property
    def clear(self) -> bool:
        """The interval excludes 0: a relationship the data can tell from none."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class OutcomeFit:
    """One outcome's model: its estimates and what they rest on."""

    outcome: str  # one of OUTCOMES
    label: str  # in users' words
    scale: str  # what the coefficients are changes of
    people: int
    partnerships: int
    estimates: tuple[Estimate, ...]  # in PREDICTORS order
    partnership_variance: float  # tau^2, on the outcome's scale
    person_variance: float  # sigma^2
    between_partnership_share: float  # tau^2 / (tau^2 + sigma^2): the intraclass correlation
    converged: bool
    method: str  # the optimiser whose result is used
    notes: tuple[str, ...]  # anything the reader should know about the fit, in plain words
    words: str

    def estimate(self, predictor: str) -> Estimate:
        for e in self.estimates:
            if e.predictor == predictor:
                return e
        raise KeyError(predictor)


@dataclass(frozen=True)
class SpanningStudy:
    """The study's answer: both outcomes, the numbers they rest on and a summary in plain words."""

    people: int  # in the models
    partnerships: int
    left_out_missing_years: int  # people left out because their years in profession are not recorded
    level: float
    outcomes: tuple[OutcomeFit, ...]  # in OUTCOMES order
    words: tuple[str, ...]
    # People the caller left out before the study because no tie of theirs is recorded (see
    # comparison.service.run_study): not being in the network data is not the same as not spanning.
    left_out_no_ties: int = 0

    def outcome(self, name: str) -> OutcomeFit:
        for o in self.outcomes:
            if o.outcome == name:
                return o
        raise KeyError(name)


# --- input -----------------------------------------------------------------------------------------------
def _column(data: Any, name: str) -> np.ndarray:
    columns = getattr(data, "columns", None)
    present = name in list(columns) if columns is not None else name in data
    if not present:
        raise ValueError(f"the study needs a column {name!r}")
    column = data[name]
    to_numpy = getattr(column, "to_numpy", None)
    return np.asarray(to_numpy() if callable(to_numpy) else column)


def _missing(value: Any) -> bool:
    """None (polars' null), NaN, or pandas' NA."""
    return (
        value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NAType"
    )


def _yes_no(name: str, words: str, values: np.ndarray) -> np.ndarray:
    if values.dtype == bool:
        return values
    if values.dtype == object and any(_missing(v) for v in values):
        missing = sum(_missing(v) for v in values)
        raise ValueError(
            f"{words} is not recorded for {missing} {_people(missing)}: record it (yes or no) first"
        )
    numbers = values.astype(np.float64)
    if np.isnan(numbers).any() or not np.isin(numbers, (0.0, 1.0)).all():
        raise ValueError(f"{name}: {words} must be yes or no (true/false or 1/0) for everyone")
    return numbers.astype(bool)


def _numbers(name: str, values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        values = np.array([np.nan if _missing(v) else v for v in values], dtype=np.float64)
    return values.astype(np.float64)


def _people(k: int) -> str:
    return "person" if k == 1 else "people"


# --- words -----------------------------------------------------------------------------------------------
def _number(x: float, digits: int = 3) -> str:
    text = f"{x:.{digits}f}"
    return f"{0:.{digits}f}" if float(text) == 0 else text


def _digits(low: float, high: float) -> int:
    """Decimals that show an interval's width to about two figures, at least 3 (0.018 to 0.064; a very
    large study's 0.0230 to 0.0254 rather than 0.023 to 0.025)."""
    width = high - low
    if not math.isfinite(width) or width <= 0:
        return 3
    return int(min(max(3, 1 - math.floor(math.log10(width))), 8))


def _pct(b: float) -> str:
    change = abs(math.expm1(b)) * 100
    return f"{change:.1f}%" if change < 10 else f"{change:.0f}%"


def _pct_signed(b: float) -> str:
    return f"{_pct(b)} {'more' if b >= 0 else 'less'}"


SAME = {
    "late_entry": "the same training, years and tier",
    "interprofessional_training": "the same late entry, years and tier",
    "years_in_profession": "the same late entry, training and tier",
    "hierarchy_tier": "the same late entry, training and years",
}
GROUPS = {
    "late_entry": ("Late entrants", "late entrants"),
    "interprofessional_training": ("People with inter-professional training", "people with that training"),
}
VERDICTS = {
    "late_entry": (
        "this supports 002's finding",
        "contrary to 002's finding that late entrants are more often boundary spanners",
        "this does not support 002's finding, though a difference within the interval cannot be ruled out",
    ),
    "interprofessional_training": (
        "in line with 002, which counts inter-professional training among the catalysts of collaboration "
        "(Table 1, row 5)",
        "unlike what 002's Table 1 (row 5) would lead one to expect",
        "002's Table 1 (row 5) would lead one to expect a difference; the data can neither show nor rule one "
        "out",
    ),
}


def _words(outcome: str, e: Estimate, level: float) -> str:
    """One estimate in plain words: the size, the interval, and what it says about 002's claims. Words of
    association only ("score higher than", "goes with"), never of cause."""
    label = OUTCOME_LABELS[outcome]
    the_label = f"the {label}" if outcome == "spanner_score" else label
    interval = f"{level * 100:.0f}% interval"
    log = outcome == "liaison"
    on_scale = " on log(1 + count)" if log else ""
    digits = _digits(e.low, e.high)

    def _n(x: float) -> str:
        return _number(x, digits)

    bounds = f"{interval} {_n(e.low)} to {_n(e.high)}"
    if e.predictor in GROUPS:
        who, others_word = GROUPS[e.predictor]
        supports, contrary, unclear = VERDICTS[e.predictor]
        same = f"others in the same partnership with {SAME[e.predictor]}"
        if not e.clear:
            return (
                f"No clear difference in {the_label} between {others_word} and {same} "
                f"({_n(e.coefficient)}{on_scale}, {bounds}): {unclear}."
            )
        verdict = supports if e.coefficient > 0 else contrary
        if log:
            return (
                f"{who} broker about {_pct_signed(e.coefficient)} liaison pairs than {same} "
                f"({interval} {_pct_signed(e.low)} to {_pct_signed(e.high)}; log(1 + count) "
                f"{_n(e.coefficient)}, {_n(e.low)} to {_n(e.high)}): {verdict}."
            )
        more = "higher" if e.coefficient > 0 else "lower"
        return (
            f"{who} score {_n(abs(e.coefficient))} {more} on {the_label} than {same} ({bounds}): {verdict}."
        )

    unit = "year" if e.predictor == "years_in_profession" else "tier"
    figure = f"{_n(e.coefficient)} per {unit}{on_scale}"
    if e.predictor == "years_in_profession":
        if not e.clear:
            return (
                f"No clear relationship between years in the profession and {the_label} "
                f"({figure}, {bounds}), among people in the same partnership with {SAME[e.predictor]}."
            )
        if log:
            size = f"about {_pct(e.coefficient)} {'more' if e.coefficient > 0 else 'less'} liaison brokerage"
        else:
            size = f"a {_n(abs(e.coefficient))} {'higher' if e.coefficient > 0 else 'lower'} {label}"
        return (
            f"Each further year in the profession goes with {size} ({figure}, {bounds}), among people in the "
            f"same partnership with {SAME[e.predictor]}."
        )
    # Hierarchy: tier 1 is the top, so a positive coefficient means more spanning towards practitioners.
    if not e.clear:
        return (
            f"No clear relationship between hierarchy tier and boundary spanning "
            f"({label}: {figure}, {bounds}), as 002 found."
        )
    towards = "practitioners (tier 5)" if e.coefficient > 0 else "top management (tier 1)"
    size = f"about {_pct(e.coefficient)} per tier" if log else f"{_n(abs(e.coefficient))} per tier"
    return (
        f"{label[0].upper() + label[1:]} is higher towards {towards}: {size} ({figure}, {bounds}), among "
        f"people in the same partnership with {SAME[e.predictor]}; contrary to 002's finding of no "
        f"relationship between hierarchy and boundary spanning."
    )


# --- the study -------------------------------------------------------------------------------------------
def _moment_start(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> float:
    """The ratio tau^2 / sigma^2 by the method of moments (one-way analysis of variance of the least-squares
    residuals), as the optimisers' starting point.

    Starting from statsmodels' default (a ratio of 1) L-BFGS can slide onto a ratio of exactly 0, where the
    gradient of its square-root parametrisation vanishes, and stop there though partnerships clearly
    differ; from a sensible start it does not. Never 0 for the same reason."""
    residual = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    sizes = np.bincount(groups).astype(np.float64)
    means = np.bincount(groups, weights=residual) / sizes
    n, j = float(y.size), float(sizes.size)
    within = float(((residual - means[groups]) ** 2).sum()) / max(n - j, 1.0)
    between = float((sizes * (means - residual.mean()) ** 2).sum()) / max(j - 1.0, 1.0)
    n0 = (n - float((sizes**2).sum()) / n) / max(j - 1.0, 1.0)
    ratio = (between - within) / n0 / within if within > 0 and n0 > 0 else 0.0
    return max(ratio, 0.01)


def _fit(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> tuple[Any, str, bool, list[str]]:
    """Fit with each optimiser in turn until one converges with usable standard errors (the last result if
    none does)."""
    model = sm.MixedLM(y, x, groups)
    start = np.array([math.sqrt(_moment_start(y, x, groups))])
    result = None
    method = METHODS[0]
    notes: list[str] = []
    for method in METHODS:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = model.fit(start_params=start, reml=True, method=method)
            se = np.asarray(result.bse_fe)
        messages = [str(w.message) for w in caught]
        if result.converged and np.all(np.isfinite(se)):
            if any("not positive definite" in m for m in messages):
                notes.append("the fit's curvature at its answer is unusual: treat the intervals with care")
            return result, method, True, notes
    notes.append("no optimiser converged: the figures are the last attempt's and should not be relied on")
    return result, method, False, notes


def study_boundary_spanning(
    data: Any,
    *,
    min_group: int = MIN_GROUP,
    min_partnerships: int = MIN_PARTNERSHIPS,
    min_people: int = MIN_PEOPLE,
    level: float = 0.95,
) -> SpanningStudy:
    """Fit 002's hypothesis to one row per person (columns ``COLUMNS``, see the module docstring).

    ``data``: a polars (or pandas) DataFrame, or a mapping of column name to array. ``partnership`` is any
    code or name per partnership; ``years_in_profession`` may be missing (null/NaN): such people are left
    out and counted. ``min_group``: the fewest people allowed in either group of late entry and of
    inter-professional training (the anonymity threshold). Raises ``StudyTooSmall`` when the data cannot
    answer, ``ValueError`` when they are malformed.
    """
    if not 0 < level < 1:
        raise ValueError("level: between 0 and 1, e.g. 0.95")
    if isinstance(data, Mapping):
        data = dict(data)
    partnership = _column(data, "partnership")
    n_all = partnership.size
    score = _numbers("spanner_score", _column(data, "spanner_score"))
    liaison = _numbers("liaison", _column(data, "liaison"))
    late = _yes_no("late_entry", "Late entry", _column(data, "late_entry"))
    training = _yes_no(
        "interprofessional_training",
        "Inter-professional training",
        _column(data, "interprofessional_training"),
    )
    years = _numbers("years_in_profession", _column(data, "years_in_profession"))
    tier = _numbers("hierarchy_tier", _column(data, "hierarchy_tier"))
    for name, values in (
        ("spanner_score", score),
        ("liaison", liaison),
        ("late_entry", late),
        ("interprofessional_training", training),
        ("years_in_profession", years),
        ("hierarchy_tier", tier),
    ):
        if values.size != n_all:
            raise ValueError(f"{name}: {values.size} rows, partnership has {n_all}")
    if not np.isfinite(score).all() or not np.isfinite(liaison).all():
        raise ValueError("spanner_score and liaison must be recorded for everyone")
    if (liaison < 0).any():
        raise ValueError("liaison: counts cannot be negative")
    if np.isnan(tier).any() or not np.isin(tier, (1, 2, 3, 4, 5)).all():
        raise ValueError("hierarchy_tier: a tier 1 to 5 for everyone (1 = top management / policy)")
    if (years[~np.isnan(years)] < 0).any():
        raise ValueError("years_in_profession: cannot be negative")
    if any(_missing(v) for v in partnership.tolist()):
        raise ValueError("partnership: every person needs a partnership")

    keep = ~np.isnan(years)
    left_out = int(n_all - keep.sum())
    partnership, score, liaison = partnership[keep], score[keep], liaison[keep]
    late, training, years, tier = late[keep], training[keep], years[keep], tier[keep]
    _, groups = np.unique(partnership, return_inverse=True)
    groups = groups.reshape(-1)
    n = int(keep.sum())
    n_partnerships = int(groups.max()) + 1 if n else 0

    # Refuse what cannot be answered, in plain words.
    missing = (
        f" ({left_out} {_people(left_out)} left out because their years in the profession are not recorded)"
        if left_out
        else ""
    )
    if n_partnerships < min_partnerships:
        raise StudyTooSmall(
            f"The study needs people from at least {min_partnerships} partnerships, to tell differences "
            f"between partnerships from differences between people; it has {n_partnerships}{missing}."
        )
    if n < max(min_people, n_partnerships + len(PREDICTORS) + 2):
        raise StudyTooSmall(
            f"The study needs at least {max(min_people, n_partnerships + len(PREDICTORS) + 2)} people to "
            f"estimate four relationships at once; it has {n}{missing}."
        )
    for flags, yes, no in (
        (late, "late entrants", "people who entered their profession directly"),
        (training, "people with inter-professional training", "people without it"),
    ):
        for count, who in ((int(flags.sum()), yes), (int((~flags).sum()), no)):
            if count < min_group:
                raise StudyTooSmall(
                    f"Only {count} {who} (fewer than {min_group}): a figure for so few would be close to "
                    f"their own, and too uncertain to mean anything. The study needs at least {min_group} "
                    f"{yes} and {min_group} {no}{missing}."
                )
    if np.ptp(years) == 0:
        raise StudyTooSmall(
            "Everyone has the same years in the profession, so the study cannot allow for them."
        )
    if np.ptp(tier) == 0:
        raise StudyTooSmall(
            "Everyone is in the same hierarchy tier, so the study cannot relate tier to boundary spanning."
        )

    x = np.column_stack(
        [
            np.ones(n),
            late.astype(np.float64),
            training.astype(np.float64),
            years - years.mean(),
            tier - tier.mean(),
        ]
    )
    z = stats.norm.ppf(0.5 + level / 2)
    fits = []
    for outcome, y in (("spanner_score", score), ("liaison", np.log1p(liaison))):
        spread = float(y.std())
        if spread == 0:
            raise StudyTooSmall(
                f"Everyone has the same {OUTCOME_LABELS[outcome]}: there is nothing to explain."
            )
        result, method, converged, notes = _fit(y / spread, x, groups)
        coefficient = np.asarray(result.fe_params) * spread
        se = np.asarray(result.bse_fe) * spread
        tau2 = float(np.asarray(result.cov_re)[0, 0]) * spread**2
        sigma2 = float(result.scale) * spread**2
        estimates = []
        for k, predictor in enumerate(PREDICTORS, start=1):
            b, s = float(coefficient[k]), float(se[k])
            p = float(2 * stats.norm.sf(abs(b / s))) if s > 0 else float("nan")
            estimate = Estimate(predictor, b, b - z * s, b + z * s, p, "")
            estimates.append(replace(estimate, words=_words(outcome, estimate, level)))
        share = tau2 / (tau2 + sigma2) if tau2 + sigma2 > 0 else 0.0
        if share < 1e-4:
            notes.append(
                "partnerships hardly differ on this outcome once people are allowed for: the model is close "
                "to one without partnerships"
            )
        label = OUTCOME_LABELS[outcome]
        words = (
            f"{label[0].upper() + label[1:]} ({OUTCOME_SCALES[outcome]}): {n:,} people in {n_partnerships} "
            f"partnerships; {share * 100:.0f}% of the variation lies between partnerships, the rest between "
            f"people in the same partnership."
            + ("" if converged else " The model did not converge: do not rely on these figures.")
        )
        fits.append(
            OutcomeFit(
                outcome=outcome,
                label=label,
                scale=OUTCOME_SCALES[outcome],
                people=n,
                partnerships=n_partnerships,
                estimates=tuple(estimates),
                partnership_variance=tau2,
                person_variance=sigma2,
                between_partnership_share=share,
                converged=converged,
                method=method,
                notes=tuple(notes),
                words=words,
            )
        )

    summary = [
        f"{n:,} people in {n_partnerships} partnerships{'; ' + missing.strip(' ()') if left_out else ''}."
    ]
    for fit in fits:
        summary.append(fit.words)
        summary.extend(e.words for e in fit.estimates)
    summary.append(
        "These are associations in partnerships that chose to take part, at one point in time: they do not "
        "show that late entry, training, years or tier make anyone a boundary spanner."
    )
    return SpanningStudy(
        people=n,
        partnerships=n_partnerships,
        left_out_missing_years=left_out,
        level=level,
        outcomes=tuple(fits),
        words=tuple(summary),
    )
