"""Where ties come from: observed ties worked out from the register, stored ties, and the edge list for
the metrics (sources combined with the manager's weights and kept apart), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import NotAllowed, NotFound, cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.barometer import service as barometer
from reticulist.errors import InputError
from reticulist.network import service as network
from reticulist.network import ties as t
from reticulist.network.models import NetworkTie
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import World


# --- pure: values and sources ------------------------------------------------------------------------
def test_values_of_a_tie_are_read_in_the_users_words() -> None:
    assert [t.parse_frequency(v) for v in ("never", "Yearly", " QUARTERLY ", "monthly", "weekly")] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert t.parse_frequency(3) == 3 and t.parse_frequency("4.0") == 4 and t.parse_frequency(" ") is None
    with pytest.raises(ValueError, match='"often" is not a frequency: give never, yearly'):
        t.parse_frequency("often")
    with pytest.raises(ValueError, match='"5" is not a frequency'):
        t.parse_frequency(5)
    assert t.parse_rating("4") == 4 and t.parse_rating(None) is None
    for bad in ("5", "0", "2.5", "high", True):
        with pytest.raises(ValueError, match="is not a whole number from 1 to 4"):
            t.parse_rating(bad)
    assert t.parse_weight("") == 1.0 and t.parse_weight("0.25") == 0.25 and t.parse_weight(3) == 3.0
    for bad in ("-1", "0", "nan", "inf", "heavy"):
        with pytest.raises(ValueError, match="is not a number above 0"):
            t.parse_weight(bad)


def test_co_membership_counts_groups_shared_once_per_group() -> None:
    edges = t.co_membership([("m1", 5), ("m1", 2), ("m1", 2), ("m2", 2), ("m2", 5), ("m3", 9)])
    assert not edges.directed
    assert list(zip(edges.source.tolist(), edges.target.tolist(), edges.weight.tolist(), strict=True)) == [
        (2, 5, 2.0)
    ]
    assert len(t.co_membership([])) == 0


def test_combine_keeps_sources_apart_and_symmetrise_folds_directions() -> None:
    reported = t.Edges(
        np.array([0, 1]),
        np.array([1, 0]),
        np.array([2.0, 1.0]),
        directed=True,
        attributes={"frequency": np.array([4.0, np.nan]), "trust_open": np.array([3.0, 1.0])},
    )
    imported = t.Edges(
        np.array([0]),
        np.array([1]),
        np.array([5.0]),
        directed=True,
        attributes={"frequency": np.array([1.0]), "trust_open": np.array([2.0])},
    )
    observed = t.co_membership([("m", 1), ("m", 0), ("m", 2)])
    combined = t.combine(
        3,
        {"reported": reported, "imported": imported, "co_attendance": observed},
        {"reported": 1.0, "imported": 0.1, "co_attendance": 0.5},
    )
    rows = {
        (int(a), int(b), bool(d)): i
        for i, (a, b, d) in enumerate(zip(combined.source, combined.target, combined.directed, strict=True))
    }
    assert set(rows) == {(0, 1, True), (1, 0, True), (0, 1, False), (0, 2, False), (1, 2, False)}
    both = rows[(0, 1, True)]
    assert combined.weight[both] == pytest.approx(2.5)
    assert combined.by_source["reported"][both] == 2.0 and combined.by_source["imported"][both] == 0.5
    assert combined.sources[both] == 0b011 and combined.from_source("imported").sum() == 1
    assert combined.attributes["frequency"][both] == 4.0  # the reported rating wins over the imported one
    assert combined.attributes["trust_open"][both] == 3.0
    back = rows[(1, 0, True)]
    assert np.isnan(combined.attributes["frequency"][back]) and combined.attributes["trust_open"][back] == 1
    assert np.isnan(combined.attributes["frequency"][rows[(0, 2, False)]])
    assert combined.weight[rows[(0, 2, False)]] == 0.5 and combined.sources[rows[(0, 2, False)]] == 0b100

    heavy = t.combine(
        3, {"reported": reported, "co_attendance": observed}, {"reported": 1, "co_attendance": 1}, 1.5
    )
    assert heavy.weight.tolist() == [2.0]

    folded = t.symmetrise(combined, 3)
    assert not folded.directed.any()
    pairs = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(folded.source, folded.target, strict=True))}
    assert set(pairs) == {(0, 1), (0, 2), (1, 2)}
    one = pairs[(0, 1)]
    assert folded.weight[one] == pytest.approx(2.5 + 1.0 + 0.5)
    assert folded.sources[one] == 0b111
    assert folded.attributes["trust_open"][one] == pytest.approx(2.0)  # mean of 3 (0->1) and 1 (1->0)
    assert folded.attributes["frequency"][one] == 4.0


# --- a register with meetings, attendance and actions ------------------------------------------------
@dataclass
class Cast:
    ids: dict[str, int]  # first name -> person id
    meetings: dict[str, int]

    def name_of(self, person_id: int) -> str:
        return next(k for k, v in self.ids.items() if v == person_id)


def _cast(db: Session, world: World) -> Cast:
    """Six people in three organisations, four meetings (one cancelled) and actions raised at them."""
    root = cli_actor("test set-up")
    pid = world.partnership_id
    health = register.create_organisation(
        db,
        actor=root,
        partnership_id=pid,
        data=s.OrganisationCreate(name="Brempton Health", kind="health", tier="statutory"),
    ).id
    social = register.create_organisation(
        db,
        actor=root,
        partnership_id=pid,
        data=s.OrganisationCreate(name="Children's Services", kind="childrens_social_care", tier="statutory"),
    ).id
    nurse = register.create_profession(
        db, actor=root, partnership_id=pid, data=s.ProfessionCreate(name="Nurse")
    ).id
    social_worker = register.create_profession(
        db, actor=root, partnership_id=pid, data=s.ProfessionCreate(name="Social worker")
    ).id
    ids = {}
    for name, organisation, profession, tier in [
        ("Ann", world.organisation_id, world.profession_id, 2),
        ("Ben", world.organisation_id, world.profession_id, 5),
        ("Cat", health, nurse, 3),
        ("Dev", social, social_worker, 1),
        ("Eve", social, social_worker, 4),
        ("Fay", health, None, 5),
    ]:
        ids[name] = register.create_person(
            db,
            actor=root,
            partnership_id=pid,
            data=s.PersonCreate(
                full_name=f"{name} Example",
                email=f"{name.lower()}@example.org",
                organisation_id=organisation,
                profession_id=profession,
                hierarchy_tier=tier,
            ),
        ).id
    meetings = {}
    for key, held_on, attendance in [
        (
            "m1",
            date(2025, 1, 10),
            {"Ann": "present", "Cat": "present", "Dev": "deputy_attended", "Eve": "apologies"},
        ),
        ("m2", date(2025, 2, 10), {"Ann": "present", "Cat": "present", "Ben": "present", "Eve": "absent"}),
        ("m3", date(2025, 3, 10), {"Ann": "present", "Dev": "present", "Fay": "apologies"}),
        ("m4", date(2025, 4, 10), {"Ann": "present", "Cat": "present", "Eve": "present"}),
    ]:
        meeting = register.create_meeting(
            db,
            actor=world.manager,
            partnership_id=pid,
            data=s.MeetingCreate(title=f"Board {key}", held_on=held_on),
        )
        register.set_attendance(
            db,
            actor=world.manager,
            meeting_id=meeting.id,
            entries=[s.AttendanceEntry(person_id=ids[n], status=status) for n, status in attendance.items()],
        )
        meetings[key] = meeting.id
    register.cancel_meeting(db, actor=world.manager, meeting_id=meetings["m4"])  # it did not happen
    for meeting, owner in [
        ("m1", "Ann"),
        ("m1", "Dev"),
        ("m1", "Dev"),
        ("m2", "Cat"),
        ("m2", "Ann"),
        ("m3", "Ann"),
        ("m4", "Cat"),
        ("m4", "Eve"),
        (None, "Eve"),
        (None, "Ben"),
    ]:
        register.create_action(
            db,
            actor=world.manager,
            partnership_id=pid,
            data=s.ActionCreate(
                title=f"Action for {owner}",
                owner_person_id=ids[owner],
                meeting_id=meetings[meeting] if meeting else None,
                opened_on=date(2025, 1, 10),
            ),
        )
    db.commit()
    return Cast(ids, meetings)


def _by_name(cast: Cast, found: list[network.PersonTie]) -> dict[frozenset[str], float]:
    return {frozenset({cast.name_of(x.person_a), cast.name_of(x.person_b)}): x.weight for x in found}


def _pair(*names: str) -> frozenset[str]:
    return frozenset(names)


def test_co_attendance_counts_meetings_shared_present_or_deputy_only(db: Session, world: World) -> None:
    cast = _cast(db, world)
    found = network.ties_from(
        db, actor=world.manager, partnership_id=world.partnership_id, source="co_attendance"
    )
    assert all(not x.directed for x in found)
    # Eve (apologies, absent) and Fay (apologies) share nothing; the cancelled m4 counts for no one.
    assert _by_name(cast, found) == {
        _pair("Ann", "Cat"): 2.0,
        _pair("Ann", "Dev"): 2.0,
        _pair("Cat", "Dev"): 1.0,
        _pair("Ann", "Ben"): 1.0,
        _pair("Ben", "Cat"): 1.0,
    }
    february = network.ties_from(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        source="co_attendance",
        since=date(2025, 2, 1),
        as_of=date(2025, 2, 28),
    )
    assert _by_name(cast, february) == {
        _pair("Ann", "Cat"): 1.0,
        _pair("Ann", "Ben"): 1.0,
        _pair("Ben", "Cat"): 1.0,
    }
    up_to_january = network.ties_from(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        source="co_attendance",
        as_of=date(2025, 1, 31),
    )
    assert _by_name(cast, up_to_january) == {
        _pair("Ann", "Cat"): 1.0,
        _pair("Ann", "Dev"): 1.0,
        _pair("Cat", "Dev"): 1.0,
    }


def test_shared_actions_pair_owners_of_actions_raised_at_the_same_meeting(db: Session, world: World) -> None:
    cast = _cast(db, world)
    found = network.ties_from(
        db, actor=world.manager, partnership_id=world.partnership_id, source="shared_actions"
    )
    # Dev's two actions at m1 count once; actions raised at no meeting, or at the cancelled m4, count not.
    assert _by_name(cast, found) == {_pair("Ann", "Dev"): 1.0, _pair("Ann", "Cat"): 1.0}
    assert network.ties_from(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        source="shared_actions",
        since=date(2025, 2, 1),
    ) == [
        network.PersonTie(
            min(cast.ids["Ann"], cast.ids["Cat"]), max(cast.ids["Ann"], cast.ids["Cat"]), 1.0, False
        )
    ]


def _tie(cast: Cast, a: str, b: str, on: date, **values: object) -> t.TieValues:
    return t.TieValues(cast.ids[a], cast.ids[b], on, **values)  # type: ignore[arg-type]


def test_network_for_combines_sources_with_the_managers_weights_and_keeps_them_apart(
    db: Session, world: World
) -> None:
    cast = _cast(db, world)
    pid = world.partnership_id
    network.store_ties(
        db,
        actor=world.manager,
        partnership_id=pid,
        ties=[
            _tie(cast, "Ann", "Cat", date(2025, 2, 15), weight=2.0, frequency=4, trust_reliable=3),
            _tie(cast, "Eve", "Fay", date(2025, 1, 20), value_resources=2),
        ],
    )
    db.commit()
    result = network.network_for(
        db,
        actor=world.manager,
        partnership_id=pid,
        sources={"shared_actions": 2.0, "co_attendance": 0.5, "imported": 1.0},
        as_of=date(2025, 12, 31),
    )
    assert result.names_shown and result.person_ids is not None
    assert list(result.multipliers) == ["imported", "co_attendance", "shared_actions"]
    assert result.edges.source_names == ("imported", "co_attendance", "shared_actions")
    position = {cast.name_of(int(i)): n for n, i in enumerate(result.person_ids)}
    assert set(position) == set(cast.ids)
    assert result.labels[position["Ann"]] == "Ann Example"
    assert result.tier[position["Dev"]] == 1
    assert result.organisation_labels[result.organisation[position["Cat"]]] == "Brempton Health"
    assert result.profession_labels[result.profession[position["Fay"]]] == network.NO_PROFESSION
    assert result.profession_ids[result.profession[position["Fay"]]] is None

    edges = result.edges
    found = {
        (cast.name_of(int(result.person_ids[a])), cast.name_of(int(result.person_ids[b])), bool(d)): i
        for i, (a, b, d) in enumerate(zip(edges.source, edges.target, edges.directed, strict=True))
    }
    reported_by_ann = found[("Ann", "Cat", True)]
    assert edges.weight[reported_by_ann] == 2.0 and edges.sources[reported_by_ann] == 0b001
    assert edges.attributes["frequency"][reported_by_ann] == 4
    assert edges.attributes["trust_reliable"][reported_by_ann] == 3
    assert np.isnan(edges.attributes["trust_open"][reported_by_ann])
    first, second = sorted(("Ann", "Cat"), key=lambda n: position[n])
    met = found[(first, second, False)]
    assert edges.by_source["co_attendance"][met] == 1.0  # 2 meetings x 0.5
    assert edges.by_source["shared_actions"][met] == 2.0  # 1 meeting x 2
    assert edges.weight[met] == 3.0 and edges.sources[met] == 0b110
    assert np.isnan(edges.attributes["frequency"][met])
    assert edges.attributes["value_resources"][found[("Eve", "Fay", True)]] == 2
    assert len(edges) == 7  # 2 stored + 5 co-attendance pairs (both shared-action pairs met too)
    assert edges.from_source("shared_actions").sum() == 2

    folded = result.symmetrised()
    assert len(folded.edges) == 6 and not folded.edges.directed.any()
    strong = network.network_for(
        db,
        actor=world.manager,
        partnership_id=pid,
        sources={"co_attendance": 0.5, "imported": 1.0},
        min_weight=1.0,
    )
    assert sorted(strong.edges.weight.tolist()) == [1.0, 1.0, 1.0, 2.0]


def test_reported_ties_come_from_a_round_and_their_ratings_win(db: Session, world: World) -> None:
    cast = _cast(db, world)
    pid = world.partnership_id
    ref = barometer.list_instruments(db, actor=world.manager, partnership_id=pid)[0].ref
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=pid,
        data=barometer.RoundCreate(
            instrument=ref, title="Spring", opens_on=date.today() - timedelta(days=3), closes_on=date.today()
        ),
    )
    on = date.today()
    with pytest.raises(InputError, match="reported ties need a round of this partnership"):
        network.store_ties(
            db,
            actor=world.manager,
            partnership_id=pid,
            ties=[_tie(cast, "Ann", "Cat", on)],
            source="reported",
        )
    network.store_ties(
        db,
        actor=world.manager,
        partnership_id=pid,
        ties=[_tie(cast, "Ann", "Cat", on, trust_open=4)],
        source="reported",
        round_id=found.id,
    )
    network.store_ties(
        db, actor=world.manager, partnership_id=pid, ties=[_tie(cast, "Ann", "Cat", on, trust_open=1)]
    )
    db.commit()
    assert {x.source: x.round_id for x in network.list_ties(db, actor=world.manager, partnership_id=pid)} == {
        "reported": found.id,
        "imported": None,
    }
    result = network.network_for(
        db, actor=world.manager, partnership_id=pid, sources={"imported": 1, "reported": 1}
    )
    assert result.edges.source_names == ("reported", "imported")
    assert len(result.edges) == 1 and result.edges.weight[0] == 2.0 and result.edges.sources[0] == 0b11
    assert result.edges.attributes["trust_open"][0] == 4


def test_a_tie_rated_again_counts_by_its_latest_rating_up_to_as_of(db: Session, world: World) -> None:
    cast = _cast(db, world)
    pid = world.partnership_id
    network.store_ties(
        db,
        actor=world.manager,
        partnership_id=pid,
        ties=[
            _tie(cast, "Ann", "Cat", date(2024, 6, 1), weight=1.0, frequency=1),
            _tie(cast, "Ann", "Cat", date(2025, 6, 1), weight=3.0, frequency=4),
        ],
    )
    db.commit()
    later = network.network_for(db, actor=world.manager, partnership_id=pid, sources={"imported": 1})
    assert later.edges.weight.tolist() == [3.0] and later.edges.attributes["frequency"].tolist() == [4.0]
    earlier = network.network_for(
        db, actor=world.manager, partnership_id=pid, sources={"imported": 1}, as_of=date(2024, 12, 31)
    )
    assert earlier.edges.weight.tolist() == [1.0] and earlier.edges.attributes["frequency"].tolist() == [1.0]


def test_members_see_organisation_and_profession_not_names_and_outsiders_nothing(
    db: Session, world: World
) -> None:
    cast = _cast(db, world)
    pid = world.partnership_id
    seen = network.network_for(db, actor=world.member, partnership_id=pid, sources={"co_attendance": 1})
    assert not seen.names_shown and seen.person_ids is None
    assert not any("Example" in label for label in seen.labels)
    # Six people, no organisation or profession with five of them: a label says only "a person".
    assert sorted(seen.labels) == [f"Person #{k}" for k in range(1, 7)]
    assert set(seen.shown_organisation) == set(seen.shown_profession) == {"Not shown"}
    managed = network.network_for(db, actor=world.manager, partnership_id=pid, sources={"co_attendance": 1})
    assert np.array_equal(seen.edges.weight, managed.edges.weight)  # same ties, only the labels differ
    assert network.network_for(
        db, actor=world.admin, partnership_id=pid, sources={"co_attendance": 1}
    ).names_shown
    with pytest.raises(NotAllowed):
        network.ties_from(db, actor=world.member, partnership_id=pid, source="co_attendance")
    with pytest.raises(NotAllowed):
        network.list_ties(db, actor=world.member, partnership_id=pid)
    with pytest.raises(NotAllowed):
        network.store_ties(
            db, actor=world.member, partnership_id=pid, ties=[_tie(cast, "Ann", "Cat", date(2025, 1, 1))]
        )
    for call in (
        lambda: network.network_for(
            db, actor=world.outsider, partnership_id=pid, sources={"co_attendance": 1}
        ),
        lambda: network.network_at_two_dates(
            db,
            actor=world.outsider,
            partnership_id=pid,
            sources={"co_attendance": 1},
            earlier=date(2025, 1, 1),
            later=date(2025, 6, 1),
        ),
        lambda: network.ties_from(db, actor=world.outsider, partnership_id=pid, source="co_attendance"),
        lambda: network.list_ties(db, actor=world.outsider, partnership_id=pid),
        lambda: network.store_ties(
            db, actor=world.outsider, partnership_id=pid, ties=[_tie(cast, "Ann", "Cat", date(2025, 1, 1))]
        ),
    ):
        with pytest.raises(NotFound):
            call()
    assert db.scalar(select(func.count()).select_from(NetworkTie)) == 0


def test_network_at_two_dates_shares_the_people_and_compares_windows(db: Session, world: World) -> None:
    cast = _cast(db, world)
    change = network.network_at_two_dates(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        sources={"co_attendance": 1},
        earlier=date(2025, 1, 31),
        later=date(2025, 3, 31),
        window_days=31,
    )
    before, after = change.earlier, change.later
    assert before.as_of == date(2025, 1, 31) and before.since == date(2025, 1, 1)
    assert after.since == date(2025, 3, 1)
    assert before.person_ids is not None and after.person_ids is not None
    assert np.array_equal(before.person_ids, after.person_ids) and before.labels == after.labels
    assert np.array_equal(before.organisation, after.organisation)

    def named(found: t.Network) -> set[frozenset[str]]:
        assert found.person_ids is not None
        return {
            frozenset({cast.name_of(int(found.person_ids[a])), cast.name_of(int(found.person_ids[b]))})
            for a, b in zip(found.edges.source, found.edges.target, strict=True)
        }

    assert named(before) == {_pair("Ann", "Cat"), _pair("Ann", "Dev"), _pair("Cat", "Dev")}
    assert named(after) == {_pair("Ann", "Dev")}
    with pytest.raises(InputError, match="is not after earlier"):
        network.network_at_two_dates(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            sources={"co_attendance": 1},
            earlier=date(2025, 3, 31),
            later=date(2025, 1, 31),
        )


def test_people_are_those_in_the_partnership_during_the_window(db: Session, world: World) -> None:
    cast = _cast(db, world)
    root = cli_actor("test set-up")
    register.end_person(db, actor=root, person_id=cast.ids["Fay"], ended_on=date(2025, 1, 31))
    newcomer = register.create_person(
        db,
        actor=root,
        partnership_id=world.partnership_id,
        data=s.PersonCreate(
            full_name="Gus Example",
            organisation_id=world.organisation_id,
            hierarchy_tier=4,
            joined_on=date(2025, 6, 1),
        ),
    ).id
    db.commit()

    def names(**window: date) -> set[str]:
        found = network.network_for(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            sources={"co_attendance": 1},
            **window,
        )
        return set(found.labels)

    spring = names(since=date(2025, 3, 1), as_of=date(2025, 5, 31))
    assert "Fay Example" not in spring and "Gus Example" not in spring and "Eve Example" in spring
    assert "Gus Example" in names(as_of=date(2025, 6, 30)) and "Fay Example" in names(as_of=date(2025, 6, 30))
    assert newcomer


def test_bad_choices_are_named(db: Session, world: World) -> None:
    pid = world.partnership_id

    def refused(match: str, **kw: object) -> None:
        with pytest.raises(InputError, match=match):
            network.network_for(
                db, actor=world.manager, partnership_id=pid, **{"sources": {"reported": 1}, **kw}
            )  # type: ignore[arg-type]

    refused("choose at least one source", sources={})
    refused(
        '"gossip" is not a source of ties; use reported, imported, co_attendance, shared_actions, '
        "shared_cases, referrals",
        sources={"gossip": 1},
    )
    refused("sources.reported: 0 is not a number above 0", sources={"reported": 0})
    refused("sources.reported: -1.5 is not a number above 0", sources={"reported": -1.5})
    refused("is after as_of", since=date(2025, 2, 1), as_of=date(2025, 1, 1))
    with pytest.raises(InputError, match="is not a source"):
        network.ties_from(db, actor=world.manager, partnership_id=pid, source="gossip")


def test_storing_ties_refuses_every_bad_tie_and_writes_nothing(db: Session, world: World) -> None:
    cast = _cast(db, world)
    pid = world.partnership_id
    root = cli_actor("test set-up")
    organisation = register.create_organisation(
        db,
        actor=root,
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    stranger = register.create_person(
        db,
        actor=root,
        partnership_id=world.other_partnership_id,
        data=s.PersonCreate(full_name="Sid Stranger", organisation_id=organisation.id, hierarchy_tier=3),
    )
    network.store_ties(
        db, actor=world.manager, partnership_id=pid, ties=[_tie(cast, "Ben", "Cat", date(2025, 1, 1))]
    )
    db.commit()
    bad = [
        t.TieValues(cast.ids["Ann"], cast.ids["Ann"], date(2025, 1, 1), row=2),
        t.TieValues(cast.ids["Ann"], stranger.id, date(2025, 1, 1), row=3),
        t.TieValues(cast.ids["Ann"], cast.ids["Cat"], date.today() + timedelta(days=1), row=4),
        t.TieValues(
            cast.ids["Ann"], cast.ids["Dev"], date(2025, 1, 1), weight=-1, frequency=7, trust_open=5, row=5
        ),
        t.TieValues(cast.ids["Ann"], cast.ids["Eve"], date(2025, 1, 1), row=6),
        t.TieValues(cast.ids["Ann"], cast.ids["Eve"], date(2025, 1, 1), row=7),
        t.TieValues(cast.ids["Ben"], cast.ids["Cat"], date(2025, 1, 1), row=8),
        t.TieValues(cast.ids["Cat"], cast.ids["Ann"], date(2025, 1, 1), row=9),  # fine on its own
    ]
    with pytest.raises(InputError) as refused:
        network.store_ties(db, actor=world.manager, partnership_id=pid, ties=bad, source_name="ties.csv")
    problems = {(p.row, p.field): p.message for p in refused.value.problems}
    assert problems == {
        (2, "to"): 'is the same person as "from": a tie needs two people',
        (3, "to"): "no such person in this partnership",
        (4, "date"): f"{(date.today() + timedelta(days=1)).isoformat()} is in the future",
        (5, "weight"): '"-1" is not a number above 0',
        (5, "frequency"): '"7" is not a frequency: give never, yearly, quarterly, monthly, weekly, or 0-4',
        (5, "trust_open"): '"5" is not a whole number from 1 to 4',
        (7, "to"): "this tie on 2025-01-01 appears twice (first on row 6)",
        (8, "date"): "this tie on 2025-01-01 is already stored (imported)",
    }
    assert all(p.source == "ties.csv" for p in refused.value.problems)
    db.rollback()
    assert db.scalar(select(func.count()).select_from(NetworkTie)) == 1
    with pytest.raises(InputError, match="there are no ties to store"):
        network.store_ties(db, actor=world.manager, partnership_id=pid, ties=[])


def test_storing_ties_is_audited_as_one_count_with_who_did_it(db: Session, world: World) -> None:
    cast = _cast(db, world)
    stored = network.store_ties(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        ties=[_tie(cast, "Ann", "Cat", date(2025, 1, 1)), _tie(cast, "Cat", "Ann", date(2025, 1, 1))],
        source_name="ties.csv",
    )
    db.commit()
    assert stored == 2
    event = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "network_tie")).one()
    assert event.event == "imported" and event.partnership_id == world.partnership_id
    assert event.actor_label == world.emails["manager"]
    assert event.summary == f"2 network ties imported from ties.csv by {world.emails['manager']}"


def test_the_network_goes_straight_into_the_metrics(db: Session, world: World) -> None:
    from reticulist.network.metrics import analyse_network

    cast = _cast(db, world)
    pid = world.partnership_id
    network.store_ties(
        db,
        actor=world.manager,
        partnership_id=pid,
        ties=[_tie(cast, "Eve", "Fay", date(2025, 1, 20), trust_reliable=4, trust_open=2, value_influence=3)],
    )
    db.commit()
    stored_only = network.network_for(db, actor=world.member, partnership_id=pid, sources={"imported": 1})
    arguments = stored_only.for_metrics()
    assert arguments["directed"] is True
    assert arguments["trust"].tolist() == [3.0] and arguments["value"].tolist() == [3.0]
    assert analyse_network(**arguments).organisation.size == 6

    mixed = network.network_for(
        db, actor=world.member, partnership_id=pid, sources={"imported": 1, "co_attendance": 1}
    )
    folded = mixed.for_metrics()
    assert folded["directed"] is False and folded["source"].size == 6  # 5 met + Eve-Fay
    assert np.array_equal(folded["profession"], mixed.profession)
    both_ways = mixed.for_metrics(directed=True)
    assert both_ways["source"].size == 1 + 2 * 5
    assert both_ways["trust"][~np.isnan(both_ways["trust"])].tolist() == [3.0]  # only Eve's tie is rated
    for kwargs in (folded, both_ways):
        analysis = analyse_network(**kwargs)
        assert analysis.organisation.size == mixed.n_people
    observed_only = network.network_for(
        db, actor=world.member, partnership_id=pid, sources={"co_attendance": 1}
    )
    assert observed_only.for_metrics()["trust"] is None
