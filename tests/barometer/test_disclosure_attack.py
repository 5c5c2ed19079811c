"""Attacking the barometer's published results (issue 8, section 1), as a member who sees everything one
release publishes and knows the register would.

The attacker (tests/barometer/disclosure_attacker.py) is written independently of reticulist.disclosure:
(a) subtraction of nested and crossing cells, (b) linear algebra over the cross-classified groups (every
union of up to k-1 small atoms whose count or sum the published cells determine), (c) linear programs
for each hidden small cell's count range and mean range. It reads only what ``score_round`` (or
``round_report``) publishes; the ground truth is used to judge what it recovers.

The promise checked (reticulist.disclosure's docstring): no group of 1..k-1 respondents has its count or
any construct sum determined; every hidden cell holding 1..k-1 people has a count range that reaches k
and is at least k-1 wide, and a mean range (every count taken as known) at least 2 points wide, except
where the whole round's own figures (its count, each construct's n and mean) already force it: those are
exempt, and counted, because no choice of hidden cells could widen them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from sqlalchemy.orm import Session

from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.scoring import PROTECTED, RoundResults, construct_scores, score_round
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.barometer.disclosure_attacker import (
    Atoms,
    Programme,
    Range,
    Register,
    Release,
    attack,
    count_ranges,
    linear_algebra,
    mean_ranges,
    register_of,
    subtraction,
)
from tests.conftest import World

TODAY = date.today()
DIMENSIONS = ("organisation", "profession", "hierarchy_tier", "wt_tier")
WT_TIERS = ["Statutory members", "Other members", "Involved agencies"]


# --- random rounds with a partnership's structure -----------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """A round's structure; ``seed`` draws the respondents' details and answers from it.

    Organisations have the given sizes (the first is large; the others include small ones of 1-4); each
    has a Working Together tier (``wt_tier`` is a function of the organisation, as the register makes
    it); ``one_tier`` organisations have all their respondents in one hierarchy tier (crossing cells);
    professions sit mostly (80%) inside a home organisation; ``not_told`` is each "about you" answer's
    chance of being left blank (a respondent who does not name their organisation may still name a Working
    Together tier); ``agreeing`` makes one construct one that nearly everyone rates 4 or 5."""

    threshold: int
    constructs: int
    organisations: tuple[int, ...]
    organisation_tiers: tuple[int, ...]
    one_tier: tuple[bool, ...]
    professions: int
    not_told: float
    dont_know: float
    agreeing: bool
    seed: int


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    big = draw(st.integers(5, 25))
    others = draw(st.lists(st.one_of(st.integers(1, 4), st.integers(5, 15)), min_size=1, max_size=6))
    organisations = (big, *others)
    assume(10 <= sum(organisations) <= 60)
    count = len(organisations)
    tiers = draw(st.lists(st.integers(0, 2), min_size=count, max_size=count))
    if draw(st.booleans()):
        # A Working Together tier that one organisation fills on its own.
        lonely = draw(st.integers(0, count - 1))
        tiers = [2 if o == lonely else min(t, 1) for o, t in enumerate(tiers)]
    return Shape(
        threshold=draw(st.integers(3, 6)),
        constructs=draw(st.integers(3, 6)),
        organisations=organisations,
        organisation_tiers=tuple(tiers),
        one_tier=tuple(draw(st.lists(st.booleans(), min_size=count, max_size=count))),
        professions=draw(st.integers(2, 5)),
        not_told=draw(st.sampled_from([0.0, 0.05, 0.15])),
        dont_know=draw(st.sampled_from([0.0, 0.1, 0.3])),
        agreeing=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@dataclass(frozen=True)
class Round:
    answers: np.ndarray
    item_construct: np.ndarray
    reverse: np.ndarray
    keys: list[str]
    groups: dict[str, tuple[np.ndarray, list[str]]]
    threshold: int

    def score(self) -> RoundResults:
        return score_round(
            self.answers, self.item_construct, self.reverse, self.keys, self.groups, self.threshold
        )

    def register(self) -> Register:
        scores = construct_scores(self.answers, self.item_construct, self.reverse, self.keys)
        return register_of(self.groups, scores)


def build(shape: Shape) -> Round:
    rng = np.random.default_rng(shape.seed)
    sizes = np.array(shape.organisations)
    organisation = np.repeat(np.arange(sizes.size), sizes)
    people = organisation.size
    organisation[rng.random(people) < shape.not_told] = -1
    tiers = np.array(shape.organisation_tiers)
    told_tier = rng.integers(-1, 3, people)  # those who do not name their organisation may name a tier
    wt_tier = np.where(organisation >= 0, tiers[np.maximum(organisation, 0)], told_tier)
    home = rng.integers(0, shape.professions, sizes.size)
    profession = np.where(
        (rng.random(people) < 0.8) & (organisation >= 0),
        home[np.maximum(organisation, 0)],
        rng.integers(0, shape.professions, people),
    )
    profession[rng.random(people) < shape.not_told] = -1
    hierarchy = rng.integers(0, 5, people)
    own_tier = rng.integers(0, 5, sizes.size)
    for o in np.flatnonzero(shape.one_tier):
        hierarchy[organisation == o] = own_tier[o]
    hierarchy[rng.random(people) < shape.not_told] = -1
    # Answers: a person's level, their organisation's and the construct's, plus item noise.
    items = rng.integers(2, 5, shape.constructs)
    item_construct = np.repeat(np.arange(shape.constructs), items)
    level = (
        rng.normal(3.4, 0.6, (people, 1))
        + rng.normal(0.0, 0.4, (sizes.size + 1, shape.constructs))[organisation]
        + rng.normal(0.0, 0.4, (people, shape.constructs))
    )
    if shape.agreeing:
        level[:, -1] = 4.6
    raw = level[:, item_construct] + rng.normal(0.0, 0.5, (people, item_construct.size))
    answers = np.clip(np.rint(raw), 1, 5).astype(np.int8)
    dont_know = np.full(shape.constructs, shape.dont_know)
    dont_know[0] = 0.5  # a construct many cannot rate: its columns are smaller than the groups
    answers[rng.random(answers.shape) < dont_know[item_construct]] = 0
    answers[rng.random(answers.shape) < 0.04] = -1
    reverse = rng.random(item_construct.size) < 0.2
    answers = np.where(reverse & (answers > 0), 6 - answers, answers).astype(np.int8)
    groups = {
        "organisation": (organisation, [f"Organisation {o}" for o in range(sizes.size)]),
        "profession": (profession, [f"Profession {p}" for p in range(shape.professions)]),
        "hierarchy_tier": (hierarchy, [f"Tier {t + 1}" for t in range(5)]),
        "wt_tier": (wt_tier, list(WT_TIERS)),
    }
    keys = [f"construct_{c}" for c in range(shape.constructs)]
    return Round(answers, item_construct, reverse, keys, groups, shape.threshold)


@functools.lru_cache(maxsize=64)
def scored(shape: Shape) -> tuple[Release, Register]:
    """What one round publishes and what the attacker knows of it (cached: several tests attack the same
    rounds)."""
    data = build(shape)
    return Release.read(data.score()), data.register()


# Rounds found by the property tests below (hypothesis's shrunk output), kept as explicit examples so the
# failures stay in view until the audit is fixed.
#
# A hidden group's count capped below k: the "Small" organisation 1 (one respondent) could hold 0..4 by the
# people counts alone, but each construct's published n (with n <= people in every cross-classified
# group) forces people into the other hidden organisations, and its count can then be at most 3 < k = 4.
COUNT_CAPPED = Shape(
    threshold=4,
    constructs=4,
    organisations=(7, 1, 2, 5, 3),
    organisation_tiers=(0, 0, 0, 0, 0),
    one_tier=(False, False, False, False, True),
    professions=2,
    not_told=0.0,
    dont_know=0.1,
    agreeing=False,
    seed=4,
)
# A hidden column cell's n narrowed: hierarchy tier 5 shows its count (3) but hides its n in construct 1
# (2 people with a score); the published counts put that n in 2..3, not a range of at least k-1 = 2.
COLUMN_N_NARROWED = Shape(
    threshold=3,
    constructs=3,
    organisations=(5, 5),
    organisation_tiers=(0, 0),
    one_tier=(False, False),
    professions=2,
    not_told=0.0,
    dont_know=0.3,
    agreeing=False,
    seed=1,
)
# A mean narrowed to 1.5 points: the one respondent of organisation 1 shares profession 0 (3 people, k = 3)
# with two others; profession 0 is the whole round minus profession 1 (published), mean 4.5 on a construct
# nearly everyone rated high, so that respondent scored at least 3.5. Every organisation cell is hidden
# and no visible cell of the column overlaps theirs, so the audit gives up (``residual``) although hiding
# profession 1 as well would leave only the whole round, which allows 1..5.
MEAN_NARROWED = Shape(
    threshold=3,
    constructs=3,
    organisations=(25, 1),
    organisation_tiers=(0, 0),
    one_tier=(False, False),
    professions=2,
    not_told=0.0,
    dont_know=0.0,
    agreeing=True,
    seed=0,
)

# About 0.2-0.5 s a round (scoring with its audit, then the attacks): the two properties that hold get 25
# rounds each, the three known to fail stop at their explicit example.
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _explain(findings: list) -> str:
    return "\n".join(str(f) for f in findings)


def _count_narrow(ranges: list[Range], k: int) -> list[Range]:
    """The ranges that break the promise (reach k, at least k-1 wide), less those the whole round's own
    figures already make narrow (exempt: nothing hidden could widen them)."""
    wide = lambda low, high: high >= k and high - low >= k - 1  # noqa: E731
    return [r for r in ranges if not wide(r.low, r.high) and not (r.baseline and not wide(*r.baseline))]


def _mean_narrow(ranges: list[Range]) -> list[Range]:
    wide = lambda low, high: high - low >= 2.0 - 1e-7  # noqa: E731
    return [r for r in ranges if not wide(r.low, r.high) and not (r.baseline and not wide(*r.baseline))]


@PROPERTY
@given(shapes())
def test_no_subtraction_of_published_cells_gives_a_small_group(shape: Shape) -> None:
    """(a) Every published cell (and the whole round) minus any family of disjoint published cells nested
    in it: a tier minus its visible organisations, a hierarchy-tier cell minus an organisation all of
    whose respondents sit in that tier, the total minus everything visible. Nothing left over may hold
    1..k-1 people, in the counts or in any construct's column."""
    release, known = scored(shape)
    found = subtraction(release, known.atoms())
    assert not found, _explain(found)


@PROPERTY
@given(shapes())
def test_no_small_union_of_groups_is_determined_by_linear_algebra(shape: Shape) -> None:
    """(b) No union of up to k-1 small cross-classified groups, holding 1..k-1 people (or people with a
    score on a construct), lies in the row space of the published cells: its count, n and sum are not
    determined by any combination of published figures."""
    release, known = scored(shape)
    found = linear_algebra(release, known.atoms())
    assert not found, _explain(found)


JOINT_COUNTS = (
    "the audit solves the people counts and each construct's column apart; an attacker who joins them "
    "(n <= people in every cross-classified group) narrows hidden counts: "
)


@PROPERTY
@example(COUNT_CAPPED)
@given(shapes())
def test_hidden_small_groups_counts_could_be_anything_from_small_to_k(shape: Shape) -> None:
    """(c) For every hidden group of 1..k-1 people, the integer range its count could take given every
    published count at once (the round, the groups, each construct's n and each visible cell's n, with
    n <= people in every cross-classified group) reaches k and is at least k-1 wide: hidden does not tell
    small."""
    release, known = scored(shape)
    ranges = [r for r in count_ranges(release, known.atoms()) if r.column is None]
    narrow = _count_narrow(ranges, release.threshold)
    assert narrow == [], _explain(narrow)


@pytest.mark.xfail(
    strict=True,
    reason="known gap, documented in docs/barometer.md: the number of people in a visible group who "
    "answered a construct, where that one cell is hidden, is audited within its construct only; joined "
    "with the other constructs' counts it can be narrowed (not its scores: see COLUMN_N_NARROWED)",
)
@PROPERTY
@example(COLUMN_N_NARROWED)
@given(shapes())
def test_hidden_small_cells_n_could_be_anything_from_small_to_k(shape: Shape) -> None:
    """(c) The same for each construct's column: a hidden cell of 1..k-1 people with a score has an n
    range, over every published count at once, that reaches k and is at least k-1 wide."""
    release, known = scored(shape)
    ranges = [r for r in count_ranges(release, known.atoms()) if r.column is not None]
    narrow = _count_narrow(ranges, release.threshold)
    assert narrow == [], _explain(narrow)


@PROPERTY
@example(MEAN_NARROWED)
@given(shapes())
def test_hidden_small_cells_means_stay_at_least_two_points_wide(shape: Shape) -> None:
    """(c) Every count taken as known, the range a hidden small cell's mean could take given every
    published sum is at least 2 points wide, unless the construct's own n and mean already force it
    (exempt: no choice of hidden cells widens that; for example a construct everyone rated 5)."""
    release, known = scored(shape)
    narrow = _mean_narrow(mean_ranges(release, known.atoms()))
    assert narrow == [], _explain(narrow)


# --- the attacks, as concrete rounds ---------------------------------------------------------------
INSTRUMENT = default_instrument()  # the Partnership Barometer: 18 constructs
KEYS = [c.key for c in INSTRUMENT.constructs]
ITEM_CONSTRUCT = np.array([KEYS.index(item.construct_key) for item in INSTRUMENT.items])
REVERSE = np.array([item.reverse for item in INSTRUMENT.items])
K = 5


def _answers(rng: np.random.Generator, people: int, level: float = 3.6) -> np.ndarray:
    """Answers around ``level`` (reverse-worded items mirrored, so the scores sit around ``level``)."""
    raw = np.clip(np.rint(rng.normal(level, 0.8, (people, len(INSTRUMENT.items)))), 1, 5)
    return np.where(REVERSE, 6 - raw, raw).astype(np.int8)


@dataclass(frozen=True)
class Person:
    organisation: int
    profession: int
    hierarchy: int  # 0..4 = tiers 1..5


def _round(people: list[Person], answers: np.ndarray, organisations: list[tuple[str, int]]) -> Round:
    """A round of the full instrument; ``organisations`` are (name, Working Together tier 0..2)."""
    tier_of = np.array([tier for _, tier in organisations])
    organisation = np.array([p.organisation for p in people])
    groups = {
        "organisation": (organisation, [name for name, _ in organisations]),
        "profession": (np.array([p.profession for p in people]), [f"Profession {i}" for i in range(6)]),
        "hierarchy_tier": (np.array([p.hierarchy for p in people]), [f"Tier {t + 1}" for t in range(5)]),
        "wt_tier": (tier_of[organisation], list(WT_TIERS)),
    }
    return Round(answers, ITEM_CONSTRUCT, REVERSE, list(KEYS), groups, K)


# The nested-cells round: the Statutory members tier holds the NHS trust (6) and the schools (1 respondent);
# the tier's 7 minus the trust's 6 was the schools' one respondent, with all 18 of their scores.
NESTED_ORGANISATIONS = [
    ("Brempton NHS Trust", 0),
    ("Brempton Schools", 0),
    ("Voluntary Action Brempton", 1),
    ("Youth Justice Service", 1),
    ("Brempton District Council", 2),
]
SCHOOLS = 1


def nested_round(seed: int = 8) -> tuple[Round, int]:
    """The round and the index of the schools' one respondent."""
    rng = np.random.default_rng(seed)
    people = (
        [Person(0, 0, int(t)) for t in rng.integers(1, 5, 6)]
        + [Person(SCHOOLS, 1, 2)]
        + [Person(2, 2, int(t)) for t in rng.integers(2, 5, 12)]
        + [Person(3, 3, int(t)) for t in rng.integers(1, 5, 8)]
        + [Person(4, 4, int(t)) for t in rng.integers(0, 5, 9)]
    )
    answers = _answers(rng, len(people))
    target = 6
    answers[target] = np.where(REVERSE, 5, 1)  # the schools' respondent disagrees with everything
    return _round(people, answers, NESTED_ORGANISATIONS), target


# The crossing round: the directorate's 5 respondents are all in hierarchy tier 1, and so is one police
# officer; tier 1's 6 minus the directorate's 5 was that officer.
CROSSING_ORGANISATIONS = [
    ("Children's Services Directorate", 0),
    ("North West Police", 0),
    ("Brempton NHS Trust", 0),
    ("Voluntary Action Brempton", 1),
]


def crossing_round(seed: int = 9) -> tuple[Round, int]:
    rng = np.random.default_rng(seed)
    people = (
        [Person(0, 0, 0) for _ in range(5)]
        + [Person(1, 1, 0)]
        + [Person(1, 1, int(t)) for t in rng.integers(2, 5, 11)]
        + [Person(2, 2, int(t)) for t in rng.integers(1, 5, 10)]
        + [Person(3, 3, int(t)) for t in rng.integers(1, 5, 8)]
    )
    answers = _answers(rng, len(people))
    target = 5
    answers[target] = np.where(REVERSE, 1, 5)  # the officer agrees with everything
    return _round(people, answers, CROSSING_ORGANISATIONS), target


def _minus(group: str, outer: str, inner: str) -> bool:
    """Whether the attacker's group is ``outer`` minus ``inner`` (in the counts or in one column)."""
    parts = [part.split(" / ")[0] for part in group.split(" - ")]
    return parts == [outer, inner]


def _true_scores(data: Round, person: int) -> np.ndarray:
    return construct_scores(data.answers, data.item_construct, data.reverse, data.keys)[person]


def _assert_protected(release: Release, known: Register) -> None:
    verdict = attack(release, known)
    assert verdict.findings == [], _explain(verdict.findings)
    assert verdict.narrow_counts == [], _explain(verdict.narrow_counts)
    assert verdict.narrow_means == [], _explain(verdict.narrow_means)


def _hidden_cells_say_the_same(results_: RoundResults) -> None:
    for breakdown in results_.breakdowns.values():
        for group in breakdown.groups:
            assert group.reason in (None, PROTECTED)
            assert all(cell.reason in (None, PROTECTED) for cell in group.cells)


def test_the_attacker_breaks_per_dimension_suppression_with_nested_cells() -> None:
    """The attacker is not toothless: on what per-dimension suppression alone published, the Working
    Together tier minus the visible statutory organisation gives the schools' one respondent (7 - 6 = 1)
    and all 18 of their construct scores, exactly."""
    data, target = nested_round()
    known = data.register()
    naive = Release.naive(known, K)
    assert naive.counts[("wt_tier", 0)] == 7 and naive.counts[("organisation", 0)] == 6
    found = subtraction(naive, known.atoms())
    exposed = [f for f in found if _minus(f.group, "wt_tier 0", "organisation 0")]
    assert len(exposed) == 1 + 18 and all(f.size == 1 for f in exposed)
    # The arithmetic, spelled out: every construct's score of the one respondent, exact to 1e-9.
    truth = _true_scores(data, target)
    for c in range(18):
        (tier_n, tier_mean), (trust_n, trust_mean) = (
            naive.cells[("wt_tier", 0, c)],
            naive.cells[("organisation", 0, c)],
        )
        assert tier_n - trust_n == 1
        assert abs(tier_n * tier_mean - trust_n * trust_mean - truth[c]) < 1e-9
    assert linear_algebra(naive, known.atoms())


def test_nested_cells_statutory_tier_minus_its_visible_organisations_gives_nobody_away() -> None:
    data, _ = nested_round()
    published = data.score()
    _hidden_cells_say_the_same(published)
    release, known = Release.read(published), data.register()
    # The attack: the tier minus every visible statutory organisation, counts and sums.
    statutory = [code for code, (_, tier) in enumerate(NESTED_ORGANISATIONS) if tier == 0]
    if ("wt_tier", 0) in release.counts:
        rest = release.counts[("wt_tier", 0)] - sum(
            release.counts.get(("organisation", o), 0) for o in statutory
        )
        assert rest == 0 or rest >= K
    for c in range(18):
        if ("wt_tier", 0, c) in release.cells:
            rest = release.cells[("wt_tier", 0, c)][0] - sum(
                release.cells.get(("organisation", o, c), (0, 0.0))[0] for o in statutory
            )
            assert rest == 0 or rest >= K
    _assert_protected(release, known)


def test_the_attacker_breaks_per_dimension_suppression_with_crossing_cells() -> None:
    data, target = crossing_round()
    known = data.register()
    naive = Release.naive(known, K)
    found = subtraction(naive, known.atoms())
    exposed = [f for f in found if _minus(f.group, "hierarchy_tier 0", "organisation 0")]
    assert len(exposed) == 1 + 18 and all(f.size == 1 for f in exposed)
    truth = _true_scores(data, target)
    (tier_n, tier_mean), (dir_n, dir_mean) = (
        naive.cells[("hierarchy_tier", 0, 3)],
        naive.cells[("organisation", 0, 3)],
    )
    assert abs(tier_n * tier_mean - dir_n * dir_mean - truth[3]) < 1e-9


def test_crossing_cells_hierarchy_tier_minus_an_organisation_all_in_it_gives_nobody_away() -> None:
    data, _ = crossing_round()
    published = data.score()
    _hidden_cells_say_the_same(published)
    release, known = Release.read(published), data.register()
    if ("hierarchy_tier", 0) in release.counts and ("organisation", 0) in release.counts:
        rest = release.counts[("hierarchy_tier", 0)] - release.counts[("organisation", 0)]
        assert rest == 0 or rest >= K
    _assert_protected(release, known)


def test_rounding_to_three_decimals_is_not_protection_and_the_protection_does_not_rely_on_it() -> None:
    """The CSV writes means to 3 decimals. From the rounded figures of the per-dimension release the
    attacker still gets the schools' respondent's scores exactly (a score is a mean of at most 4 answers,
    so a multiple of 1/12: the rounding error, at most 13 x 0.0005, is far below half a step). The
    protected release is attacked with exact figures, so nothing it withholds depends on rounding."""
    data, target = nested_round()
    known = data.register()
    rounded = Release.naive(known, K).rounded(3)
    truth = _true_scores(data, target)
    for c in range(18):
        (tier_n, tier_mean), (trust_n, trust_mean) = (
            rounded.cells[("wt_tier", 0, c)],
            rounded.cells[("organisation", 0, c)],
        )
        estimate = tier_n * tier_mean - trust_n * trust_mean
        assert abs(estimate - truth[c]) <= (tier_n + trust_n) * 0.0005 + 1e-12
        assert round(estimate * 12) / 12 == pytest.approx(truth[c], abs=1e-12)
    exact = Release.read(data.score())
    _assert_protected(exact, known)
    # The rounded protected release is a coarsening of the exact one: the same cells, the same counts.
    assert exact.rounded(3).counts == exact.counts
    assert exact.rounded(3).cells.keys() == exact.cells.keys()


# --- padding through the open link -------------------------------------------------------------------------
def padded_round() -> tuple[Round, int, np.ndarray]:
    """25 genuine respondents in three organisations, one genuine respondent of a small charity, and four
    answers planted through the open link claiming the charity, all 3s (the attacker knows them)."""
    rng = np.random.default_rng(10)
    organisations = [
        ("Brempton NHS Trust", 0),
        ("Brempton Police", 0),
        ("Voluntary Action", 1),
        ("Small charity", 2),
    ]
    people = (
        [Person(0, 0, int(t)) for t in rng.integers(1, 5, 10)]
        + [Person(1, 1, int(t)) for t in rng.integers(1, 5, 8)]
        + [Person(2, 2, int(t)) for t in rng.integers(1, 5, 7)]
        + [Person(3, 3, 4)]
        + [Person(3, 3, 4) for _ in range(4)]
    )
    answers = _answers(rng, len(people))
    answers[25] = np.where(REVERSE, 5, 1)  # the genuine respondent of the charity
    answers[26:] = 3
    planted = np.arange(26, 30)
    return _round(people, answers, organisations), 25, planted


def _padding_recovers(published: RoundResults, data: Round, planted: np.ndarray) -> list[str]:
    """Every published figure holding planted answers, minus them: whatever is left of 1..k-1 genuine
    respondents is exposed (the attacker knows the planted answers exactly)."""
    scores = construct_scores(data.answers, data.item_construct, data.reverse, data.keys)
    exposed = []
    figures: list[tuple[str, np.ndarray, int | None, list]] = [
        ("whole round", np.ones(len(scores), dtype=bool), published.respondents, list(published.constructs))
    ]
    for dimension, breakdown in published.breakdowns.items():
        codes = data.groups[dimension][0]
        for group in breakdown.groups:
            figures.append(
                (f"{dimension} {group.label}", codes == group.code, group.respondents, list(group.cells))
            )
    for label, members, count, cells in figures:
        genuine = members.copy()
        genuine[planted] = False
        left = int(genuine.sum())
        if count is not None and 1 <= left <= K - 1:
            exposed.append(f"{label}: count {count - int(members[planted].sum())}")
        for c, cell in enumerate(cells):
            if cell.n is None or cell.mean is None:
                continue
            known_part = planted[members[planted] & ~np.isnan(scores[planted, c])]
            rest_n = cell.n - known_part.size
            if 1 <= rest_n <= K - 1:
                value = (cell.n * cell.mean - scores[known_part, c].sum()) / rest_n
                exposed.append(f"{label}, {data.keys[c]}: {rest_n} genuine, mean {value:.6f}")
    return exposed


def test_padding_reveals_the_genuine_respondent_when_breakdowns_are_published() -> None:
    """Why open-link rounds may not publish breakdowns: cell suppression counts planted answers like any
    others, so four planted answers lift the charity's one genuine respondent over the threshold and the
    charity's published means minus the planted 3s are that respondent's scores, exactly."""
    data, genuine, planted = padded_round()
    published = data.score()
    exposed = _padding_recovers(published, data, planted)
    truth = _true_scores(data, genuine)
    charity = published.breakdowns["organisation"].group("Small charity")
    assert charity.respondents == 5
    recovered = [5 * cell.mean - 4 * 3.0 for cell in charity.cells]
    assert np.allclose(recovered, truth, atol=1e-9)
    assert len(exposed) >= 18


def test_padding_is_harmless_when_open_link_rounds_publish_no_breakdowns() -> None:
    assert results.publishes_breakdowns(open_link=True) is False
    assert results.publishes_breakdowns(open_link=False) is True
    data, _, planted = padded_round()
    published = score_round(data.answers, data.item_construct, data.reverse, data.keys, None, data.threshold)
    assert published.breakdowns == {}
    # The whole round minus the planted answers is the 26 genuine respondents: nobody small.
    assert _padding_recovers(published, data, planted) == []


def test_programme_agrees_with_linprog() -> None:
    """The attacker's re-solving HiGHS model gives the same ranges as scipy's linprog."""
    data, _ = nested_round()
    release, known = Release.read(data.score()), data.register()
    atoms: Atoms = known.atoms()
    n = atoms.n[:, 2].astype(float)
    figures = release.figures(atoms, 2)
    a_eq = np.array([f.mask for f in figures], dtype=float)
    b_eq = np.array([f.total for f in figures])
    programme = Programme(a_eq, b_eq, 1.0 * n, 5.0 * n)
    for target in np.eye(atoms.m)[:8]:
        low, high = programme.extent(target)
        bounds = list(zip(1.0 * n, 5.0 * n, strict=True))
        assert low == pytest.approx(linprog(target, A_eq=a_eq, b_eq=b_eq, bounds=bounds).fun, abs=1e-7)
        assert high == pytest.approx(-linprog(-target, A_eq=a_eq, b_eq=b_eq, bounds=bounds).fun, abs=1e-7)


# --- the same attacks on a real round in the database (SQLite and PostgreSQL) ------------------------------
def _stored_round(
    db: Session, world: World, data: Round, title: str, opens_ago: int = 30, closes_ago: int = 5
) -> int:
    """Store ``data``'s people and answers as an imported round of the partnership (the register gets the
    organisations with their tiers and the professions), and return the round's id."""
    organisations = {}
    for code, label in enumerate(data.groups["organisation"][1]):
        tier = data.groups["wt_tier"][0][data.groups["organisation"][0] == code][0]
        organisations[code] = register.create_organisation(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.OrganisationCreate(
                name=label, kind="other", tier=["statutory", "other_member", "involved"][tier]
            ),
        ).id
    professions = {
        code: register.create_profession(
            db, actor=world.manager, partnership_id=world.partnership_id, data=s.ProfessionCreate(name=label)
        ).id
        for code, label in enumerate(data.groups["profession"][1])
    }
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title=title,
            opens_on=TODAY - timedelta(days=opens_ago),
            closes_on=TODAY - timedelta(days=closes_ago),
        ),
    )
    rows = []
    for r in range(data.answers.shape[0]):
        profile = {
            "organisation_id": organisations[int(data.groups["organisation"][0][r])],
            "profession_id": professions[int(data.groups["profession"][0][r])],
            "hierarchy_tier": int(data.groups["hierarchy_tier"][0][r]) + 1,
        }
        answers = {item.key: int(data.answers[r, i]) for i, item in enumerate(INSTRUMENT.items)}
        rows.append((profile, answers))
    barometer.record_imported_responses(db, actor=world.manager, round_id=found.id, rows=rows)
    if closes_ago > 0:  # a closed round: released, as a manager would
        results.release_results(db, actor=world.manager, round_id=found.id)
    db.commit()
    return found.id


def _report_release(db: Session, world: World, round_id: int) -> tuple[Release, Register]:
    """What a member sees of the round (``round_report``), and the register as the attacker knows it (each
    stored response's groups, read back the way the product reads them)."""
    report = results.round_report(db, actor=world.member, round_id=round_id)
    release = Release.of(
        report.respondents, report.threshold, [line.result for line in report.lines], report.breakdowns
    )
    stored = barometer.round_answers(db, actor=world.manager, round_id=round_id)
    item_construct = np.array([KEYS.index(item.construct_key) for item in stored.instrument.items])
    reverse = np.array([item.reverse for item in stored.instrument.items])
    scores = construct_scores(stored.answers, item_construct, reverse, KEYS)
    groups = {name: (g.codes, list(g.labels)) for name, g in stored.groups.items()}
    return release, register_of(groups, scores)


def test_nested_cells_attack_on_a_stored_round(db: Session, world: World) -> None:
    data, _ = nested_round()
    round_id = _stored_round(db, world, data, "Barometer 2026")
    release, known = _report_release(db, world, round_id)
    assert release.respondents == data.answers.shape[0]
    # The attacker's register agrees with the people stored: the schools hold one respondent.
    organisations = barometer.round_answers(db, actor=world.manager, round_id=round_id).groups["organisation"]
    schools = organisations.labels.index("Brempton Schools")
    assert int((known.codes[:, known.dimensions.index("organisation")] == schools).sum()) == 1
    naive = Release.naive(known, K)
    assert subtraction(naive, known.atoms()), "the stored round must be one the old rule gave away"
    _assert_protected(release, known)


def test_crossing_cells_attack_on_a_stored_round(db: Session, world: World) -> None:
    data, _ = crossing_round()
    round_id = _stored_round(db, world, data, "Barometer 2026")
    release, known = _report_release(db, world, round_id)
    naive = Release.naive(known, K)
    assert subtraction(naive, known.atoms())
    _assert_protected(release, known)


def test_live_results_read_before_and_after_one_response_give_nothing_away(db: Session, world: World) -> None:
    """An open round's results read before and after one more response must not differ by that response:
    while a round is open only the response count is shown, on every interface (tests/barometer/
    test_release.py reads each interface twice); here the service refuses both reads."""
    data, _ = nested_round()
    first = replace(
        data,
        answers=data.answers[:-1],
        groups={name: (codes[:-1], labels) for name, (codes, labels) in data.groups.items()},
    )
    round_id = _stored_round(db, world, first, "Barometer live", opens_ago=3, closes_ago=-10)
    with pytest.raises(results.NotReleased) as before:
        _report_release(db, world, round_id)
    last = {item.key: int(data.answers[-1, i]) for i, item in enumerate(INSTRUMENT.items)}
    barometer.record_imported_responses(db, actor=world.manager, round_id=round_id, rows=[({}, last)])
    db.commit()
    with pytest.raises(results.NotReleased) as after:
        _report_release(db, world, round_id)
    assert (before.value.responses, after.value.responses) == (first.answers.shape[0], data.answers.shape[0])
