"""Synthetic peer partnerships: made-up partnerships to compare Brempton with, and to test the study on.

Real partnerships cannot be shipped with the software, yet the comparison needs peers for its demo, the
study of 002's hypothesis needs data where the answer is known (to show it finds a planted effect, and
finds none when there is none), and the benchmark needs 150 partnerships of 2,000 people. This module
makes them. Pure computation: a NumPy generator in, plain arrays out; no database, no web.

What a generated partnership holds
----------------------------------
Organisations (names and kinds from ``reticulist.register.vocab.OrganisationKind``: a core of the Working
Together members, then schools, GP practices and community groups as the partnership grows), professions
(names), and people: their organisation and profession (codes into those names), hierarchy tier
(1 = top management / policy ... 5 = practitioner; few at the top, most practitioners), years in
profession (whole years; NaN for people whose years are not recorded, if asked for), late entry into
the profession (about a quarter) and inter-professional training (about a third), each drawn
independently of everything else except that late entrants have fewer years in their profession and
people higher up have more. Ties are undirected: unique pairs ``source < target``, no self ties.

How ties are made, and where the planted effect sits
----------------------------------------------------
Every person has an *activity* (log-normal, independent of everything else) that sets how many ties
they take part in. A tie starts from a person drawn in proportion to activity; with probability
``cross`` it goes to someone in another organisation, otherwise to someone in the same organisation
(either drawn in proportion to activity). For each person

    cross = base_cross + late_entry_effect x late entry + training_effect x inter-professional training

(clipped to 0..1). So late entry changes *where* a person's ties go, not how many they have: late entrants'
ties cross organisation boundaries more often, which raises their boundary-spanner score and their
liaison brokerage. With ``late_entry_effect=0`` late entry has no effect at all. Hierarchy tier and
years have none either (002 found no relationship between hierarchy and boundary spanning); training has
one unless ``training_effect=0``. Duplicate pairs and self ties are dropped and drawn again until the
partnership has its number of ties (or no more distinct ones can be found quickly, in very small and
dense partnerships).

``late_entry_effect`` is a change in the chance that a tie crosses a boundary, not a change in the
study's outcomes: what it does to the spanner score depends on the whole network (the score is scaled
within each partnership). The figure the study should recover is the study's own coefficient on a very
large sample from the same generator (see tests/comparison/test_study.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reticulist.network.metrics import LIAISON, analyse_network, spanner_scores
from reticulist.register.vocab import OrganisationKind

K = OrganisationKind

# The core of a partnership (the Working Together members, after 002's Annex), biggest first: name
# template, kind, professions, relative size.
CORE_ORGANISATIONS: tuple[tuple[str, OrganisationKind, tuple[str, ...], float], ...] = (
    (
        "{place} Council Children's Services",
        K.CHILDRENS_SOCIAL_CARE,
        (
            "Social worker",
            "Family support worker",
            "Independent reviewing officer",
            "Early help practitioner",
        ),
        5.0,
    ),
    ("{place} Police", K.POLICE, ("Police officer", "Police staff investigator"), 3.0),
    (
        "{place} NHS Foundation Trust",
        K.HEALTH,
        ("Health visitor", "School nurse", "Paediatrician", "Midwife"),
        4.0,
    ),
    (
        "{place} Integrated Care Board",
        K.HEALTH,
        ("Designated nurse", "Designated doctor", "Commissioner"),
        1.0,
    ),
    (
        "{place} Council Adult Social Care",
        K.ADULT_SOCIAL_CARE,
        ("Social worker", "Occupational therapist"),
        2.0,
    ),
    ("{place} Youth Justice Service", K.YOUTH_JUSTICE, ("Youth justice officer",), 1.0),
    ("{place} Probation Service", K.PROBATION, ("Probation officer",), 1.0),
    ("{place} Council Education Services", K.EDUCATION, ("Education welfare officer", "Teacher"), 2.0),
    ("{place} Mental Health Trust", K.HEALTH, ("Mental health nurse", "Psychologist", "Psychiatrist"), 1.5),
    ("{place} Homes", K.HOUSING, ("Housing officer", "Tenancy support worker"), 1.0),
    ("{place} Council for Voluntary Service", K.VOLUNTARY, ("Youth worker", "Volunteer coordinator"), 1.0),
    ("{place} District Council", K.DISTRICT_COUNCIL, ("Housing officer", "Community safety officer"), 1.0),
    ("{place} Diocese Safeguarding Team", K.FAITH, ("Safeguarding adviser",), 0.5),
    ("Cafcass {place}", K.OTHER, ("Family court adviser",), 0.5),
)
# Added in turn, once the core is used up, named after local streets: schools, practices, groups.
EXTRA_ORGANISATIONS: tuple[tuple[str, OrganisationKind, tuple[str, ...], float], ...] = (
    ("{street} Primary School", K.EDUCATION, ("Teacher", "Designated safeguarding lead"), 1.0),
    ("{street} Medical Practice", K.HEALTH, ("GP", "Practice nurse"), 0.7),
    ("{street} Academy", K.EDUCATION, ("Teacher", "Designated safeguarding lead", "Pastoral lead"), 1.2),
    (
        "{street} Family Hub",
        K.CHILDRENS_SOCIAL_CARE,
        ("Family support worker", "Early help practitioner"),
        0.8,
    ),
    ("{street} Community Project", K.VOLUNTARY, ("Youth worker", "Family support worker"), 0.5),
)
PLACES: tuple[str, ...] = (
    "Ashby Vale",
    "Calderford",
    "Dunhollow",
    "Fernley",
    "Gorsemoor",
    "Hallowby",
    "Kettlewick",
    "Lowmarsh",
    "Millbrook",
    "Northerby",
    "Otterhaven",
    "Pelworth",
    "Quarrington",
    "Redcastle",
    "Saltmere",
    "Thornbury Edge",
    "Upperdale",
    "Westhollow",
)
STREETS: tuple[str, ...] = (
    "Albert Road",
    "Beech Hill",
    "Church Lane",
    "Dale Street",
    "Elm Grove",
    "Forge Lane",
    "Green Street",
    "High Street",
    "Kings Road",
    "Long Lane",
    "Mill Lane",
    "New Road",
    "Oak Avenue",
    "Park Road",
    "Queens Drive",
    "Station Road",
    "Victoria Street",
    "Water Lane",
)
# Hierarchy tiers 1..5: few at the top, most practitioners.
TIER_SHARES = (0.03, 0.07, 0.15, 0.20, 0.55)


@dataclass(frozen=True, eq=False)
class SyntheticPartnership:
    """One generated partnership. People are positions 0..n-1; codes index the name tuples."""

    name: str
    organisation_names: tuple[str, ...]
    organisation_kinds: tuple[str, ...]  # OrganisationKind values
    profession_names: tuple[str, ...]
    organisation: np.ndarray  # (n,) int64 code into organisation_names
    profession: np.ndarray  # (n,) int64 code into profession_names
    hierarchy_tier: np.ndarray  # (n,) int64, 1 = top management / policy ... 5 = practitioner
    years_in_profession: np.ndarray  # (n,) float64 whole years, NaN when not recorded
    late_entry: np.ndarray  # (n,) bool
    interprofessional_training: np.ndarray  # (n,) bool
    source: np.ndarray  # (m,) int64, source < target: undirected ties, each pair once
    target: np.ndarray  # (m,) int64

    @property
    def people(self) -> int:
        return int(self.organisation.size)

    @property
    def ties(self) -> int:
        return int(self.source.size)


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _organisations(count: int, place: str) -> list[tuple[str, OrganisationKind, tuple[str, ...], float]]:
    """The first ``count`` organisations of a partnership in ``place``: the core first, then extras in turn,
    each extra named after the next street (numbered once the streets run out)."""
    chosen = [(name.format(place=place), kind, profs, size) for name, kind, profs, size in CORE_ORGANISATIONS]
    chosen = chosen[:count]
    k = 0
    while len(chosen) < count:
        name, kind, profs, size = EXTRA_ORGANISATIONS[k % len(EXTRA_ORGANISATIONS)]
        street = STREETS[(k // len(EXTRA_ORGANISATIONS)) % len(STREETS)]
        lap = k // (len(EXTRA_ORGANISATIONS) * len(STREETS))
        label = name.format(street=street) + (f" ({lap + 1})" if lap else "")
        chosen.append((label, kind, profs, size))
        k += 1
    return chosen


def _draw_within(rng: np.random.Generator, cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Positions drawn in proportion to activity among positions lo..hi-1 (people sorted by organisation;
    ``cum`` the cumulative activity with a leading 0)."""
    u = cum[lo] + rng.random(lo.size) * (cum[hi] - cum[lo])
    return np.clip(np.searchsorted(cum, u, side="right") - 1, lo, hi - 1)


def _draw_outside(rng: np.random.Generator, cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Positions drawn in proportion to activity among everyone outside lo..hi-1."""
    total = cum[-1]
    inside = cum[hi] - cum[lo]
    u = rng.random(lo.size) * (total - inside)
    u = np.where(u >= cum[lo], u + inside, u)
    position = np.clip(np.searchsorted(cum, u, side="right") - 1, 0, cum.size - 2)
    # Rounding at the edge of the skipped range can land inside it: move such draws just outside.
    stuck = (position >= lo) & (position < hi)
    return np.where(stuck, np.where(hi < cum.size - 1, hi, lo - 1), position)


def generate_partnership(
    rng: np.random.Generator,
    *,
    people: int,
    ties: int,
    name: str = "Synthetic Safeguarding Children Partnership",
    place: str = "Synthetic",
    late_entry_effect: float = 0.0,
    training_effect: float = 0.1,
    base_cross: float = 0.15,
    late_entry_share: float = 0.25,
    training_share: float = 0.35,
    missing_years_share: float = 0.0,
    organisations: int | None = None,
) -> SyntheticPartnership:
    """One partnership of ``people`` people and (up to) ``ties`` undirected ties; see the module docstring.

    ``organisations`` defaults to about 0.8 x sqrt(people), at least 5 (60 people: 6 organisations, 400: 16,
    2,000: 36): more organisations would leave too few colleagues inside each for most ties to stay
    inside an organisation at a mean degree of 10-20."""
    if people < 2:
        raise ValueError("people: a partnership needs at least 2 people")
    n = people
    n_orgs = organisations if organisations is not None else max(5, round(0.8 * np.sqrt(n)))
    n_orgs = min(n_orgs, n)
    orgs = _organisations(n_orgs, place)

    # Organisation sizes: everyone's organisation has at least one person; the core is bigger.
    weight = np.array([o[3] for o in orgs]) * rng.lognormal(0.0, 0.5, n_orgs)
    sizes = 1 + rng.multinomial(n - n_orgs, weight / weight.sum())
    organisation = np.repeat(np.arange(n_orgs), sizes)  # sorted by organisation: ranges per organisation
    start = np.concatenate([[0], np.cumsum(sizes)])

    professions: list[str] = []
    profession_code: dict[str, int] = {}
    org_profs = []
    for o in orgs:
        codes = []
        for p in o[2]:
            if p not in profession_code:
                profession_code[p] = len(professions)
                professions.append(p)
            codes.append(profession_code[p])
        org_profs.append(np.array(codes))
    n_profs_per_org = np.array([c.size for c in org_profs])
    flat = np.concatenate(org_profs)
    flat_start = np.concatenate([[0], np.cumsum(n_profs_per_org)])[:-1]
    pick = (rng.random(n) * n_profs_per_org[organisation]).astype(np.int64)
    profession = flat[flat_start[organisation] + pick]

    tier = 1 + rng.choice(5, size=n, p=np.array(TIER_SHARES))
    late = rng.random(n) < late_entry_share
    training = rng.random(n) < training_share
    years = np.where(late, rng.gamma(2.0, 3.0, n), rng.gamma(3.0, 4.0, n)) + 2.0 * (5 - tier)
    years = np.minimum(np.floor(years), 45.0)
    if missing_years_share > 0:
        years[rng.random(n) < missing_years_share] = np.nan

    # Ties.
    activity = rng.lognormal(0.0, 0.6, n)
    cum = np.concatenate([[0.0], np.cumsum(activity)])
    cross = np.clip(base_cross + late_entry_effect * late + training_effect * training, 0.0, 1.0)
    if n_orgs == 1:
        cross[:] = 0.0
    wanted = min(int(ties), n * (n - 1) // 2)
    keys = np.empty(0, dtype=np.int64)
    for _ in range(20):
        short = wanted - keys.size
        if short <= 0:
            break
        k = int(short * 1.25) + 16
        a = np.clip(np.searchsorted(cum, rng.random(k) * cum[-1], side="right") - 1, 0, n - 1)
        lo, hi = start[organisation[a]], start[organisation[a] + 1]
        goes_out = rng.random(k) < cross[a]
        b = np.empty(k, dtype=np.int64)
        b[goes_out] = _draw_outside(rng, cum, lo[goes_out], hi[goes_out])
        b[~goes_out] = _draw_within(rng, cum, lo[~goes_out], hi[~goes_out])
        fine = a != b
        new = np.minimum(a, b)[fine] * n + np.maximum(a, b)[fine]
        both = np.concatenate([keys, new])
        _, first = np.unique(both, return_index=True)
        keys = both[np.sort(first)][:wanted]  # existing ties first, new ones in drawn (random) order
    keys = np.sort(keys)

    # Shuffle people so that positions do not give organisations away.
    order = rng.permutation(n)
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    s, t = position[keys // n], position[keys % n]
    source, target = np.minimum(s, t), np.maximum(s, t)
    tie_order = np.lexsort((target, source))
    return SyntheticPartnership(
        name=name,
        organisation_names=tuple(o[0] for o in orgs),
        organisation_kinds=tuple(o[1].value for o in orgs),
        profession_names=tuple(professions),
        organisation=organisation[order].astype(np.int64),
        profession=profession[order].astype(np.int64),
        hierarchy_tier=tier[order].astype(np.int64),
        years_in_profession=years[order],
        late_entry=late[order],
        interprofessional_training=training[order],
        source=source[tie_order],
        target=target[tie_order],
    )


def generate_partnerships(
    count: int,
    *,
    people: tuple[int, int] = (60, 400),
    ties_per_person: tuple[float, float] = (5.0, 10.0),
    late_entry_effect: float = 0.0,
    training_effect: float = 0.1,
    base_cross: float = 0.15,
    late_entry_share: float = 0.25,
    training_share: float = 0.35,
    missing_years_share: float = 0.0,
    seed: int | np.random.Generator = 0,
) -> list[SyntheticPartnership]:
    """``count`` peer partnerships, each with a number of people drawn uniformly from ``people`` (both ends
    included) and ties = people x a ``ties_per_person`` drawn uniformly from that range (each tie has two
    ends, so 5-10 ties per person is a mean degree of 10-20). Give a range with equal ends for a fixed
    size: the benchmark's ``people=(2000, 2000), ties_per_person=(10, 10)``.

    Each partnership is named after a made-up place (``PLACES``, then "Peer partnership 19", ...). The
    same seed gives the same partnerships."""
    rng = _rng(seed)
    made = []
    for k in range(count):
        n = int(rng.integers(people[0], people[1] + 1))
        per_person = float(rng.uniform(ties_per_person[0], ties_per_person[1]))
        place = PLACES[k] if k < len(PLACES) else f"Peer {k + 1}"
        made.append(
            generate_partnership(
                rng,
                people=n,
                ties=round(n * per_person),
                name=f"{place} Safeguarding Children Partnership",
                place=place,
                late_entry_effect=late_entry_effect,
                training_effect=training_effect,
                base_cross=base_cross,
                late_entry_share=late_entry_share,
                training_share=training_share,
                missing_years_share=missing_years_share,
            )
        )
    return made


def person_rows(partnership: SyntheticPartnership, code: int | str) -> dict[str, np.ndarray]:
    """The study's rows for one partnership: its register figures and each person's boundary-spanner
    score and liaison brokerage from the network capability's own analysis (``analyse_network`` on the
    undirected ties), so the study sees what it would see for a real partnership.

    ``code`` fills the ``partnership`` column."""
    analysis = analyse_network(
        partnership.organisation,
        partnership.profession,
        partnership.source,
        partnership.target,
        directed=False,
    )
    n = partnership.people
    return {
        "partnership": np.full(n, code, dtype=object if isinstance(code, str) else np.int64),
        "spanner_score": spanner_scores(analysis),
        "liaison": analysis.people.brokerage_organisation[:, LIAISON].astype(np.int64),
        "late_entry": partnership.late_entry.copy(),
        "interprofessional_training": partnership.interprofessional_training.copy(),
        "years_in_profession": partnership.years_in_profession.copy(),
        "hierarchy_tier": partnership.hierarchy_tier.copy(),
    }


def study_rows(partnerships: Sequence[SyntheticPartnership]) -> dict[str, np.ndarray]:
    """``person_rows`` of every partnership, partnership codes 0.., as one mapping of columns (the study
    takes it as it is, or ``polars.DataFrame(...)`` of it)."""
    parts = [person_rows(p, k) for k, p in enumerate(partnerships)]
    if not parts:
        raise ValueError("partnerships: none given")
    return {column: np.concatenate([part[column] for part in parts]) for column in parts[0]}
