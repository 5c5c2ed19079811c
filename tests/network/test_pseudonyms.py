"""Member labels, attacked as a member who knows the register would attack them.

Before, "Organisation · Profession #k" numbered people in the order they were added to the register, so
rebuilding the numbering from the register named all 178 people of a partnership; and the only nurse of
an organisation was "Health · Nurse #1" to anyone. Now the numbers follow a keyed hash, and no label (nor
the organisation or profession shown beside it) describes fewer than five people."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from reticulist.db.engine import make_session_factory
from reticulist.network import analysis as a
from reticulist.network import service as network
from reticulist.network import ties as t
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import World

K = t.LABEL_THRESHOLD


def _stem(label: str) -> str:
    return label.rsplit(" #", 1)[0]


def _check_no_small_group(p: t.Pseudonyms, n: int, k: int) -> None:
    """Every label stem, and every (organisation, profession) shown beside a label, covers at least k
    people (or everyone, when fewer than k are given); numbers within a stem are 1..size."""
    assert len(set(p.labels)) == n
    stems: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(p.labels):
        stems[_stem(label)].append(i)
    for members in stems.values():
        assert len(members) >= min(k, n)
        assert sorted(int(p.labels[i].rsplit("#", 1)[1]) for i in members) == list(range(1, len(members) + 1))
        assert {(p.organisation[i], p.profession[i]) for i in members} == {
            (p.organisation[members[0]], p.profession[members[0]])
        }
        assert all(p.groups[i] == frozenset(members) for i in members)
    for column in (p.organisation, p.profession, tuple(zip(p.organisation, p.profession, strict=True))):
        assert min(Counter(column).values(), default=n) >= min(k, n)


@settings(max_examples=300, deadline=None)
@given(
    people=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 5)),  # (organisation, profession), skewed small
        min_size=0,
        max_size=80,
    ),
    k=st.integers(1, 12),
)
def test_no_label_describes_fewer_than_k_people(people: list[tuple[int, int]], k: int) -> None:
    organisations = [f"Org {o}" for o, _ in people]
    professions = [f"Job {p}" for _, p in people]
    keys = [f"{(i * 2654435761) % 4294967296:010d}" for i in range(len(people))]
    found = t.pseudonyms(organisations, professions, keys, threshold=k)
    _check_no_small_group(found, len(people), k)
    # Where a pair holds k or more, the label says both; nothing is coarser than it needs to be there.
    pairs = Counter(zip(organisations, professions, strict=True))
    for i, pair in enumerate(zip(organisations, professions, strict=True)):
        if pairs[pair] >= k and len(found.groups[i]) == pairs[pair]:
            assert found.labels[i].startswith(f"{pair[0]} · {pair[1]} #")


def test_the_smallest_groups_coarsen_step_by_step() -> None:
    organisations = ["Police"] * 7 + ["Health"] * 6 + ["School"] * 2 + ["Council"] * 3
    professions = (
        ["Officer"] * 6 + ["Analyst"] + ["Nurse"] * 5 + ["GP"] + ["Nurse", "Teacher"] + ["Clerk"] * 3
    )
    keys = [f"{i:02d}" for i in range(len(organisations))]
    found = t.pseudonyms(organisations, professions, keys)
    stems = Counter(_stem(label) for label in found.labels)
    # Six officers named as such; the analyst alone is not "Police · Analyst" nor "Police" (one person):
    # with the health GP, the school's nurse and teacher and the council's clerks they are "Person".
    assert stems == Counter({"Police · Officer": 6, "Health · Nurse": 5, "Person": 7}), stems
    assert found.labels[6].startswith("Person #") and found.profession[6] == t.NOT_SHOWN
    _check_no_small_group(found, len(organisations), K)


def _partnership(db: Session, world: World, size: int = 60) -> list[int]:
    """A partnership whose organisations and professions come in groups of every size, people added in
    an order anyone reading the register can see (their ids)."""
    root = world.manager
    pid = world.partnership_id
    organisations = [world.organisation_id] + [
        register.create_organisation(
            db,
            actor=root,
            partnership_id=pid,
            data=s.OrganisationCreate(name=f"Organisation {n}", kind="health", tier="statutory"),
        ).id
        for n in range(4)
    ]
    professions = [world.profession_id] + [
        register.create_profession(
            db, actor=root, partnership_id=pid, data=s.ProfessionCreate(name=f"Job {n}")
        ).id
        for n in range(3)
    ]
    ids = []
    for n in range(size):
        organisation = organisations[min(n % 9, 4)]  # the first organisations are the biggest
        profession = professions[(n * 7) % 4] if n % 11 else None
        ids.append(
            register.create_person(
                db,
                actor=root,
                partnership_id=pid,
                data=s.PersonCreate(
                    full_name=f"Person Number{n}",
                    organisation_id=organisation,
                    profession_id=profession,
                    hierarchy_tier=1 + n % 5,
                    joined_on=date.today() - timedelta(days=100),
                ),
            ).id
        )
    db.commit()
    return ids


def _old_rule(network_people: list[tuple[int, str, str]]) -> dict[str, int]:
    """The attack: number people per organisation and profession in register order, as the old labels
    did, giving label -> register id."""
    seen: Counter[tuple[str, str]] = Counter()
    out = {}
    for person_id, organisation, profession in sorted(network_people):
        seen[(organisation, profession)] += 1
        out[f"{organisation} · {profession} #{seen[(organisation, profession)]}"] = person_id
        out[f"{organisation} #{seen[(organisation, profession)]}"] = person_id  # and the coarser stems
    return out


def test_rebuilding_the_numbering_from_the_register_fails(db: Session, world: World, engine) -> None:  # type: ignore[no-untyped-def]
    _partnership(db, world)
    pid = world.partnership_id
    choice = {"partnership_id": pid, "sources": {"co_attendance": 1.0}}
    named = network.network_for(db, actor=world.manager, **choice)
    seen = network.network_for(db, actor=world.member, **choice)
    assert named.person_ids is not None and seen.person_ids is None
    truth = {seen.labels[i]: int(named.person_ids[i]) for i in range(seen.n_people)}
    # The attacker knows every person's organisation and profession from the register.
    register_rows = [
        (
            int(named.person_ids[i]),
            named.organisation_labels[named.organisation[i]],
            named.profession_labels[named.profession[i]],
        )
        for i in range(named.n_people)
    ]
    guess = _old_rule(register_rows)
    right = sum(1 for label, person in truth.items() if guess.get(label) == person)
    # Chance level in groups of five or more is one in five; the old rule got every one right.
    assert right <= seen.n_people // 3, f"{right} of {seen.n_people} people named by the old rule"
    # No label, organisation or profession shown describes fewer than five people.
    stems = Counter(_stem(label) for label in seen.labels)
    assert min(stems.values()) >= K
    assert min(Counter(zip(seen.shown_organisation, seen.shown_profession, strict=True)).values()) >= K
    assert min(Counter(seen.shown_organisation).values()) >= K
    assert min(Counter(seen.shown_profession).values()) >= K
    assert len(stems) > 3  # and still says something: not everyone is "Person"

    # Stable for the partnership: the same labels on every visit, and in the member's tables.
    again = network.network_for(db, actor=world.member, **choice)
    assert again.labels == seen.labels
    view = a.network_view(
        db,
        actor=world.member,
        partnership_id=pid,
        choice=a.NetworkChoice(sources={"co_attendance": 1.0}, since=None, as_of=date.today()),
    )
    assert {p.label for p in view.people} == set(seen.labels)
    assert {p.tier for p in view.people} == {None}  # a tier would pick one out of five
    # Not derivable without the secret: another secret numbers the same people differently.
    with make_session_factory(engine, secret_key="another-secret-" + "y" * 30)() as other:
        elsewhere = network.network_for(other, actor=world.member, **choice)
    assert elsewhere.labels != seen.labels
    assert sorted(map(_stem, elsewhere.labels)) == sorted(map(_stem, seen.labels))


def test_the_only_nurse_of_an_organisation_is_not_singled_out(db: Session, world: World) -> None:
    pid = world.partnership_id
    nurse = register.create_profession(
        db, actor=world.manager, partnership_id=pid, data=s.ProfessionCreate(name="Nurse")
    )
    for n in range(5):
        register.create_person(
            db,
            actor=world.manager,
            partnership_id=pid,
            data=s.PersonCreate(
                full_name=f"Officer {n}",
                organisation_id=world.organisation_id,
                profession_id=world.profession_id,
                hierarchy_tier=4,
            ),
        )
    register.create_person(
        db,
        actor=world.manager,
        partnership_id=pid,
        data=s.PersonCreate(
            full_name="Nora Nurse",
            organisation_id=world.organisation_id,
            profession_id=nurse.id,
            hierarchy_tier=4,
        ),
    )
    db.commit()
    seen = network.network_for(db, actor=world.member, partnership_id=pid, sources={"co_attendance": 1.0})
    assert not any("Nurse" in label for label in seen.labels)
    assert "Nurse" not in seen.shown_profession
    # Five officers and the nurse: naming the officers would leave the nurse as the one other person, so
    # all six are "Person".
    assert sorted(seen.labels) == [f"Person #{k}" for k in range(1, 7)]
