"""The demo partnership's network: reported ties for its two barometer rounds, with a story to find.

Observed ties need nothing here: the demo's meetings give co-attendance and its actions shared actions.
The reported ties are drawn by a seeded generator from who is in post at each round (the people answering
the round's network section) and stored through ``service.store_ties`` as source "reported" with the
round's id, so the audit log holds them like any other.

The story (002):

- **The resourceful police representative.** Of the three police representatives, the middle one bridged:
  she names, and is named by, people across the board's organisations and the police practitioners
  behind her. Her successor names only police colleagues and no one outside names her. In the change
  view between the two rounds (a year's window each) the bridge is lost.
- **The Youth Offending Team as a buffer** (002 rows 5-6). One youth justice officer works with police
  officers, social workers, a mental health nurse, a substance misuse worker and an education welfare
  officer who do not name each other: a boundary spanner between professions as well as organisations.
- **A silo.** The GP practices name each other and hardly anyone else; no one else names them. Their ties
  stay inside (the most negative E-I index of any organisation) and hang on a single link: their
  representative's tie to the commissioners (a key-person risk).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor
from reticulist.barometer.models import BarometerRound
from reticulist.network import service as network
from reticulist.network import ties as t
from reticulist.register import service as register
from reticulist.register.models import Person, Seat

RESPONSE_RATE = 0.65  # share of people in post who fill in a round's network section
POLICE_KIND = "police"
SILO_NAME = "GP Practices"  # part of the GP practices' organisation name in the demo content
YOT_NAME = "Youth Offending Team"
BUFFER_PROFESSION = "Youth justice officer"
# The professions the buffer works with, and where they work (organisation name contains).
BUFFER_CONTACTS = (
    ("Police officer", "Police"),
    ("Police officer", "Police"),
    ("Police officer", "Police"),
    ("Social worker", "Children's Services"),
    ("Social worker", "Children's Services"),
    ("Social worker", "Children's Services"),
    ("Mental health nurse", "Mental Health"),
    ("Substance misuse worker", "Drug and Alcohol"),
    ("Education welfare officer", "Education and Skills"),
    ("Police officer", YOT_NAME),
    ("Social worker", YOT_NAME),
)
BRIDGE_CONTACTS = 11  # board-level people in other organisations the resourceful representative names


@dataclass(frozen=True)
class DemoNetwork:
    """What was added and who the story is about (register ids), for tests and the docs."""

    ties: tuple[int, int]  # reported ties stored per round, earlier round first
    round_ids: tuple[int, int]
    observed_on: tuple[date, date]
    bridge_id: int  # the resourceful police representative
    successor_id: int  # her successor, who does not bridge
    buffer_id: int  # the youth justice officer between professions
    silo_organisation_id: int


@dataclass(frozen=True)
class DemoStory:
    """Who the demo network's story is about, found in the register (see the module docstring)."""

    people: list[Person]
    seated: set[int]
    bridge: Seat  # the resourceful police representative's tenure
    successor: Seat  # her successor's
    buffer_id: int  # the youth justice officer between professions
    silo_organisation_id: int  # the GP practices

    @property
    def bridge_id(self) -> int:
        return self.bridge.person_id

    @property
    def successor_id(self) -> int:
        return self.successor.person_id


def demo_story(session: Session, *, actor: Actor, partnership_id: int) -> DemoStory:
    """The story's people in a demo partnership: the middle of the three police representatives and her
    successor, a youth justice officer of the youth offending team in post throughout (one without a
    seat where there is one), and the GP practices."""
    people = sorted(
        register.list_people(session, actor=actor, partnership_id=partnership_id), key=lambda p: p.id
    )
    seats = register.list_seats(session, actor=actor, partnership_id=partnership_id)
    seated = {s.person_id for s in seats}
    police_reps = sorted(
        (s for s in seats if s.organisation.kind == POLICE_KIND and s.role == "member"),
        key=lambda s: s.started_on,
    )
    if len(police_reps) < 3:
        raise ValueError("the demo network needs the three police representatives of the demo")
    yot = [p for p in people if YOT_NAME in p.organisation.name]
    officers = [p for p in yot if p.profession is not None and p.profession.name == BUFFER_PROFESSION]
    steady = [p for p in officers if p.ended_on is None]
    buffer = next((p for p in steady if p.id not in seated), (steady or officers or yot)[0])
    silo = next(p.organisation for p in people if SILO_NAME in p.organisation.name)
    return DemoStory(people, seated, police_reps[1], police_reps[2], buffer.id, silo.id)


def _in_post(person: Person, day: date) -> bool:
    return (person.joined_on is None or person.joined_on <= day) and (
        person.ended_on is None or person.ended_on >= day
    )


class _Draw:
    """The ties of one round, drawn person by person; a tie is kept once per (from, to)."""

    def __init__(self, rng: np.random.Generator, day: date) -> None:
        self.rng = rng
        self.day = day
        self.ties: dict[tuple[int, int], t.TieValues] = {}

    def pick(self, pool: list[Person], k: int, leave_out: set[int]) -> list[Person]:
        choices = [p for p in pool if p.id not in leave_out]
        if not choices or k <= 0:
            return []
        index = self.rng.choice(len(choices), size=min(k, len(choices)), replace=False)
        return [choices[int(i)] for i in sorted(index)]

    def tie(self, a: Person, b: Person, *, close: bool, trust: int) -> None:
        if a.id == b.id or (a.id, b.id) in self.ties:
            return
        rng = self.rng
        frequency = int(rng.choice((3, 4) if close else (1, 2, 3)))
        ratings = np.clip(trust + rng.integers(-1, 2, size=6), 1, 4).tolist()
        self.ties[(a.id, b.id)] = t.TieValues(
            from_person_id=a.id,
            to_person_id=b.id,
            observed_on=self.day,
            frequency=frequency,
            trust_reliable=ratings[0],
            trust_mission=ratings[1],
            trust_open=ratings[2],
            value_influence=ratings[3],
            value_involvement=ratings[4],
            value_resources=ratings[5],
        )


def add_demo_network(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    seed: int,
    round_ids: tuple[int, int] | None = None,
) -> DemoNetwork:
    """Store the demo's reported ties for its two barometer rounds (not committed); see the module
    docstring for the story. ``round_ids`` default to the partnership's two earliest rounds. The same
    seed and register give the same ties."""
    rng = np.random.default_rng(seed + 1)  # not the barometer's stream: adding ties changes no answer
    rounds = (
        [session.get(BarometerRound, i) for i in round_ids]
        if round_ids
        else list(
            session.scalars(
                select(BarometerRound)
                .where(BarometerRound.partnership_id == partnership_id)
                .order_by(BarometerRound.opens_on, BarometerRound.id)
                .limit(2)
            )
        )
    )
    if len(rounds) != 2 or any(r is None for r in rounds):
        raise ValueError("the demo network needs the demo's two barometer rounds")
    story = demo_story(session, actor=actor, partnership_id=partnership_id)
    people = story.people
    seated = story.seated
    bridge, successor = story.bridge, story.successor
    days = [r.closes_on for r in rounds]
    yot = [p for p in people if YOT_NAME in p.organisation.name]
    buffer = next(p for p in people if p.id == story.buffer_id)
    silo = next(p.organisation for p in people if p.organisation_id == story.silo_organisation_id)

    def board(person: Person, day: date) -> bool:
        return person.id in seated or person.hierarchy_tier <= 2

    stored: list[int] = []
    for found, day in zip(rounds, days, strict=True):
        draw = _Draw(rng, day)
        here = [p for p in people if _in_post(p, day)]
        by_org: dict[int, list[Person]] = {}
        for p in here:
            by_org.setdefault(p.organisation_id, []).append(p)
        police = [p for p in here if p.organisation.kind == POLICE_KIND]
        police_org = police[0].organisation_id if police else -1
        rep_now = next(
            (s.person for s in (bridge, successor) if s.started_on <= day <= (s.ended_on or day)), None
        )
        gp_rep = next((p for p in here if p.organisation_id == silo.id and p.id in seated), None)
        story = {buffer.id} | {p.id for p in (rep_now, gp_rep) if p is not None}
        answering = [p for p in here if p.id in story or rng.random() < RESPONSE_RATE]
        answered = {p.id for p in answering}
        # Generic partners: anyone outside the police and the GP practices (the story's two edges).
        outside = [p for p in here if p.organisation_id not in (police_org, silo.id)]
        board_outside = [p for p in outside if board(p, day)]

        for p in answering:
            colleagues = [q for q in by_org.get(p.organisation_id, []) if q.id != p.id]
            for q in draw.pick(colleagues, int(rng.integers(2, 5)), set()):
                draw.tie(p, q, close=True, trust=3)
            if p.id == buffer.id or (rep_now is not None and p.id == rep_now.id):
                continue  # drawn below
            if p.organisation_id == silo.id:
                if p is gp_rep:  # the practices' one link out: their representative and the commissioners
                    icb = [q for q in here if "Integrated Care" in q.organisation.name]
                    for q in draw.pick(icb, 1, set()):
                        draw.tie(p, q, close=False, trust=3)
                continue
            if p.organisation_id == police_org:
                # Police practitioners reach other agencies through the youth offending team.
                for q in draw.pick(yot, 1 + int(rng.random() < 0.4), {buffer.id}):
                    draw.tie(p, q, close=False, trust=2)
                continue
            pool = board_outside if board(p, day) else outside
            others = [q for q in pool if q.organisation_id != p.organisation_id]
            for q in draw.pick(others, 1 + int(rng.poisson(1.2)), set()):
                draw.tie(p, q, close=False, trust=3)

        # The buffer: professions that do not name each other meet through them (002 rows 5-6).
        taken: set[int] = {buffer.id}
        for profession, where in BUFFER_CONTACTS:
            pool = [
                q
                for q in here
                if where in q.organisation.name
                and q.profession is not None
                and q.profession.name == profession
            ]
            for q in draw.pick(pool, 1, taken):
                taken.add(q.id)
                draw.tie(buffer, q, close=True, trust=3)
                if q.id in answered:
                    draw.tie(q, buffer, close=True, trust=3)

        if rep_now is not None and rep_now.id == bridge.person_id:
            # The resourceful one: board colleagues across agencies and the practitioners behind her.
            chosen: set[int] = set()
            contacts = []
            for q in rng.permutation(len(board_outside)).tolist():
                candidate = board_outside[q]
                if candidate.organisation_id not in chosen and candidate.id != buffer.id:
                    chosen.add(candidate.organisation_id)
                    contacts.append(candidate)
                if len(contacts) == BRIDGE_CONTACTS:
                    break
            for q in contacts:
                draw.tie(rep_now, q, close=True, trust=4)
                if q.id in answered and rng.random() < 0.9:
                    draw.tie(q, rep_now, close=True, trust=4)
            for q in police:
                if q.id != rep_now.id and q.id in answered and rng.random() < 0.6:
                    draw.tie(q, rep_now, close=True, trust=3)
        # Her successor (rep_now otherwise) names only police colleagues, drawn with everyone's above.

        values = sorted(draw.ties.values(), key=lambda x: (x.from_person_id, x.to_person_id))
        stored.append(
            network.store_ties(
                session,
                actor=actor,
                partnership_id=partnership_id,
                ties=values,
                source=t.REPORTED,
                round_id=found.id,
                source_name=f"demo network section of {found.title}",
            )
        )
    session.flush()
    return DemoNetwork(
        ties=(stored[0], stored[1]),
        round_ids=(rounds[0].id, rounds[1].id),
        observed_on=(days[0], days[1]),
        bridge_id=bridge.person_id,
        successor_id=successor.person_id,
        buffer_id=buffer.id,
        silo_organisation_id=silo.id,
    )
