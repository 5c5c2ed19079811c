"""The demo's network on SQLite and PostgreSQL: reported ties stored for both barometer rounds, and each
point of its story found through the network pages' service (network.analysis), as a manager sees it
and as a member does (no names)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from reticulist.access.policy import Actor, Role
from reticulist.audit.models import AuditEvent
from reticulist.barometer.models import BarometerRound
from reticulist.network import analysis as a
from reticulist.network import ties as t
from reticulist.network.demo import demo_story
from reticulist.network.models import NetworkTie
from reticulist.register.demo import demo_actor
from tests.conftest import Demo

TODAY = date.today()
REPORTED = {t.REPORTED: 1.0}


def _member(partnership_id: int) -> Actor:
    return Actor(user_id=None, label="a member", roles={partnership_id: Role.MEMBER})


def test_reported_ties_are_stored_for_both_rounds_and_shown_by_default(demo: Demo) -> None:
    db, pid = demo.db, demo.partnership_id
    rounds = list(
        db.scalars(
            select(BarometerRound)
            .where(BarometerRound.partnership_id == pid)
            .order_by(BarometerRound.opens_on)
        )
    )
    counts = dict(
        db.execute(
            select(NetworkTie.round_id, func.count())
            .where(NetworkTie.partnership_id == pid, NetworkTie.source == t.REPORTED)
            .group_by(NetworkTie.round_id)
        ).all()
    )
    assert set(counts) == {r.id for r in rounds} and all(k > 300 for k in counts.values())
    for found in rounds:  # observed on the day each round closed, the 2026 round's in the last year
        days = set(db.scalars(select(NetworkTie.observed_on).where(NetworkTie.round_id == found.id)))
        assert days == {found.closes_on}
    assert rounds[-1].closes_on > TODAY - timedelta(days=a.DEFAULT_WINDOW_DAYS) > rounds[0].closes_on
    audited = db.scalars(
        select(AuditEvent.summary).where(
            AuditEvent.record_type == "network_tie", AuditEvent.partnership_id == pid
        )
    ).all()
    assert len(audited) == 2 and all("reported from demo network section of" in x for x in audited)
    # The pages open on the stored ties of the last year: the 2026 round.
    choice = a.default_choice(db, actor=demo_actor(), partnership_id=pid, today=TODAY)
    assert set(choice.sources) == {t.REPORTED, t.IMPORTED}
    view = a.network_view(db, actor=demo_actor(), partnership_id=pid, choice=choice)
    assert view.analysis.whole.ties == counts[rounds[-1].id] and view.trust


def test_the_resourceful_police_representative_bridges_and_her_successor_does_not(demo: Demo) -> None:
    db, pid = demo.db, demo.partnership_id
    story = demo_story(db, actor=demo_actor(), partnership_id=pid)
    assert story.bridge.ended_on is not None and story.successor.started_on > story.bridge.ended_on
    # The change page's defaults: a year apart, a year's window each; the reported ties.
    change = a.change_view(
        db,
        actor=demo_actor(),
        partnership_id=pid,
        sources=REPORTED,
        earlier=TODAY - timedelta(days=365),
        later=TODAY,
    )
    before = {s.person.person_id: s for s in change.earlier.spanners}
    assert story.bridge_id in before and before[story.bridge_id].rank <= 3
    assert "links North West Police, Brempton Division with" in before[story.bridge_id].reason
    after = {s.person.person_id: s for s in change.later.spanners}
    assert story.successor_id not in after
    assert story.bridge_id in {p.person_id for p, _ in change.brokers_lost}
    assert story.bridge_id in {p.person_id for p in change.left}
    assert story.successor_id in {p.person_id for p in change.joined}
    # The successor is in the later network, tied only within the police.
    later = a.network_view(
        db,
        actor=demo_actor(),
        partnership_id=pid,
        choice=a.NetworkChoice(sources=REPORTED, since=TODAY - timedelta(days=364), as_of=TODAY),
    )
    successor = next(p for p in later.people if p.person_id == story.successor_id)
    assert successor.degree > 0 and successor.organisations_reached == 0
    assert successor.cross_organisation_brokerage == 0
    # A member sees the same change without names: the bridge by organisation and profession.
    member = a.change_view(
        db,
        actor=_member(pid),
        partnership_id=pid,
        sources=REPORTED,
        earlier=TODAY - timedelta(days=365),
        later=TODAY,
    )
    assert not member.names_shown and member.reading == change.reading
    top = member.earlier.spanners[before[story.bridge_id].rank - 1]
    assert top.person.label.startswith("North West Police, Brempton Division · Police officer #")
    assert top.person.person_id is None


def test_the_youth_justice_officer_buffers_between_professions_and_the_gp_practices_are_a_silo(
    demo: Demo,
) -> None:
    db, pid = demo.db, demo.partnership_id
    story = demo_story(db, actor=demo_actor(), partnership_id=pid)
    choice = a.default_choice(db, actor=demo_actor(), partnership_id=pid, today=TODAY)
    view = a.network_view(db, actor=demo_actor(), partnership_id=pid, choice=choice)

    spanner = next(s for s in view.spanners if s.person.person_id == story.buffer_id)
    assert spanner.rank <= 3
    assert spanner.person.organisation == "Brempton Youth Offending Team"
    assert spanner.person.profession == "Youth justice officer"
    assert spanner.profession_reason.startswith("between professions: liaison broker for")
    assert spanner.person.cross_profession_brokerage >= 30 and spanner.person.professions_reached >= 4
    reached = a.person_view(view, spanner.person.index).professions_reached
    wanted = {"Police officer", "Social worker", "Mental health nurse", "Substance misuse worker"}
    assert wanted <= set(reached)

    silo = view.silos[0]
    assert silo.organisation == "Brempton GP Practices (Local Medical Committee)"
    assert silo.ei is not None and silo.ei <= -0.5 and silo.reading == "ties stay inside: a silo"
    assert all(row.ei is None or row.ei > silo.ei for row in view.silos[1:])
    # Their one link out is a key-person risk: without it they would be cut off.
    cut_off = [row for row in view.key_risks if any(silo.organisation in w for w in row.summary)]
    assert cut_off and any(row.person.organisation == silo.organisation for row in cut_off)
    assert f"{silo.organisation} would be cut off from 27 organisations" in " ".join(cut_off[0].summary)

    # The member's view tells the same story by organisation and profession.
    member = a.network_view(db, actor=_member(pid), partnership_id=pid, choice=choice)
    assert not member.names_shown
    assert member.silos[0].organisation == silo.organisation
    # Fewer than five youth justice officers in the team: members see the team, not the profession.
    buffer = member.spanners[spanner.rank - 1].person
    assert buffer.label.startswith("Brempton Youth Offending Team #")
    assert (buffer.organisation, buffer.profession, buffer.tier) == (
        "Brempton Youth Offending Team",
        "Not shown",
        None,
    )
    assert member.spanners[spanner.rank - 1].profession_reason == spanner.profession_reason
    names = {p.full_name for p in story.people}
    assert not names & {p.label for p in member.people}
