"""The demo partnership: a generated "Brempton Safeguarding Children Partnership" after the LSCB of 002.

Nothing here is hand-typed data: a seeded random generator draws people, seats, meetings, attendance and
actions from the content in ``demo_partnership.json`` (the member organisations of 002 Annex, name pools,
meeting themes, action templates). The same seed and the same ``today`` give the same partnership. Every
record is written through ``register.service`` with a demo actor, so the audit log holds all of it
(``via="demo"``); the caller commits, so the whole partnership is one transaction.

The story the figures should tell (002): the police seat changed hands twice in three years; the first chair
came from a member organisation and was followed by an independent one; the board mixes directors (tier 1)
and practitioners (tier 5); two statutory members rarely attend; some actions are overdue or stalled (003).

>>> partnership_id = build_demo(session)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Actor, Role, cli_actor
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.metrics import months_before
from reticulist.register.vocab import (
    ActionKind,
    ActionStatus,
    AttendanceStatus,
    MeetingKind,
    SeatRole,
)

CONTENT_FILE = Path(__file__).with_name("demo_partnership.json")
DEMO_SEED = 2016  # the year 002 was published; any fixed value makes the demo the same every time
DEMO_PEOPLE = 190  # about 40 board-level people and 150 practitioners
DEMO_BOARD_PEOPLE = 40
STORY_MONTHS = 36  # 002 followed Brempton LSCB for three years; the story's dates are scaled into this

Progress = Callable[[str, int, int], None]  # (what is being built, units done, units in all)


@dataclass(frozen=True)
class DemoAccount:
    role: Role
    email: str
    password: str
    display_name: str
    practitioner: bool = False  # linked to the demo's busiest lead practitioner (casework)


# Demo-only accounts: the passwords are printed by `reticulist demo` and must never guard real data.
DEMO_ACCOUNTS = (
    DemoAccount(
        Role.MANAGER, "manager@brempton.example.org", "brempton-manager-demo", "Demo partnership manager"
    ),
    DemoAccount(Role.ADMIN, "admin@brempton.example.org", "brempton-admin-demo", "Demo administrator"),
    DemoAccount(Role.MEMBER, "member@brempton.example.org", "brempton-member-demo", "Demo board member"),
    DemoAccount(
        Role.PRACTITIONER,
        "practitioner@brempton.example.org",
        "brempton-practitioner-demo",
        "Demo lead practitioner",
        practitioner=True,
    ),
    DemoAccount(
        Role.COORDINATOR,
        "coordinator@brempton.example.org",
        "brempton-coordinator-demo",
        "Demo early help coordinator",
    ),
    DemoAccount(
        Role.DATA_PROTECTION, "dpo@brempton.example.org", "brempton-dpo-demo", "Demo data protection officer"
    ),
    DemoAccount(
        Role.LINKAGE, "linkage@brempton.example.org", "brempton-linkage-demo", "Demo linkage analyst"
    ),
)


def demo_actor() -> Actor:
    """The command line's authority, labelled so the audit log shows these records came from the demo."""
    return replace(cli_actor("demo"), via="demo")


@cache
def load_content() -> dict[str, Any]:
    return json.loads(CONTENT_FILE.read_text(encoding="utf-8"))


def demo_partnership_name() -> str:
    return str(load_content()["partnership"]["name"])


# --- the plan: people and tenures in memory before anything is written ----------------------------------
@dataclass(eq=False)
class _Org:
    key: str
    name: str
    domain: str
    kind: str
    tier: str
    spec: dict[str, Any]
    professions: list[str]
    weight: int
    low_attendance: bool
    seated: bool
    id: int = 0


@dataclass(eq=False)
class _Person:
    org: _Org
    full_name: str
    email: str
    profession: str | None
    tier: int
    years: int
    late_entry: bool
    training: bool
    joined_on: date
    ended_on: date | None = None
    board: bool = False
    id: int = 0

    def active_on(self, day: date) -> bool:
        return self.joined_on <= day and (self.ended_on is None or self.ended_on >= day)


@dataclass(eq=False)
class _Tenure:
    org: _Org
    person: _Person
    role: str
    started_on: date
    ended_on: date | None = None
    seat_id: int = 0

    def active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on >= day)


@dataclass(eq=False)
class _Meeting:
    kind: str
    title: str
    held_on: date
    notes: str
    topic: str
    lead: str | None = None  # sub-groups: the organisation whose representative chairs it
    roster: list[_Person] = field(default_factory=list)


class _Builder:
    def __init__(
        self,
        session: Session,
        *,
        actor: Actor,
        seed: int,
        today: date,
        people: int,
        board_people: int,
        organisations: int | None,
        years: int,
        meetings_per_year: int,
        name: str | None,
        progress: Progress | None,
    ) -> None:
        if years < 1:
            raise ValueError("years must be at least 1")
        if meetings_per_year not in (1, 2, 3, 4, 6, 12):
            raise ValueError("meetings_per_year must divide the year: 1, 2, 3, 4, 6 or 12")
        if today > date.today():
            raise ValueError("today cannot be in the future (actions cannot have changed in the future)")
        self.session = session
        self.actor = actor
        self.rng = random.Random(seed)
        self.today = today
        self.content = load_content()
        self.years = years
        self.meetings_per_year = meetings_per_year
        self.name = name or self.content["partnership"]["name"]
        self.progress = progress
        self.start = months_before(today, 12 * years)
        self.story_months = min(STORY_MONTHS, 12 * years)
        self.orgs = self._plan_organisations(organisations)
        self.by_key = {o.key: o for o in self.orgs}
        self.people: list[_Person] = []
        self.tenures: list[_Tenure] = []
        self.chains: list[list[_Tenure]] = []  # successive holders of one seat, handed over in turn
        self.chair_change: date | None = None
        self._names: set[str] = set()
        self._emails: set[str] = set()
        self._low_counter: dict[str, int] = {}
        self._cooldown: dict[_Person, int] = {}
        self._records: list[Any] = []
        self.target_people = people
        self.target_board = board_people
        self._done = 0
        self._total = 1

    # --- dates ----------------------------------------------------------------------------------------
    def ago(self, months: int) -> date:
        """``months`` before today on the 002 story's three-year scale, shrunk for shorter histories."""
        scaled = max(1, round(months * self.story_months / STORY_MONTHS))
        return months_before(self.today, scaled)

    @staticmethod
    def weekday(day: date) -> date:
        return day - timedelta(days=max(0, day.weekday() - 4))  # Saturday/Sunday -> Friday

    # --- organisations and people -----------------------------------------------------------------------
    def _plan_organisations(self, wanted: int | None) -> list[_Org]:
        specs = list(self.content["organisations"])
        orgs = [self._org(spec) for spec in specs]
        if wanted is None:
            return orgs
        essential = {"childrens_services", "police", "independent_chair"}
        if wanted < len(essential) + 2:
            raise ValueError(f"organisations must be at least {len(essential) + 2}")
        if wanted <= len(orgs):
            keep = [o for o in orgs if o.key in essential]
            rest = [o for o in orgs if o.key not in essential]
            return sorted(keep + rest[: wanted - len(keep)], key=orgs.index)
        extra = self.content["extra_organisations"]
        places = list(extra["places"])
        self.rng.shuffle(places)
        for index in range(wanted - len(orgs)):
            template = extra["templates"][index % len(extra["templates"])]
            place = places[index % len(places)] + (
                "" if index < len(places) else f" {index // len(places) + 1}"
            )
            org_name = template["name"].format(place=place)
            orgs.append(
                self._org(
                    {
                        "key": f"extra_{index}",
                        "name": org_name,
                        "domain": "".join(c for c in org_name.lower() if c.isalnum()) + ".example.org",
                        "kind": template["kind"],
                        "tier": template["tier"],
                        "seat": template["tier"] != "involved",
                        "representative": {
                            "profession": template["professions"][0],
                            "hierarchy_tier": self.rng.choice((2, 3, 3, 4)),
                        },
                        "practitioner_professions": template["professions"],
                        "practitioner_weight": 4,
                    }
                )
            )
        return orgs

    @staticmethod
    def _org(spec: dict[str, Any]) -> _Org:
        return _Org(
            key=spec["key"],
            name=spec["name"],
            domain=spec["domain"],
            kind=spec["kind"],
            tier=spec["tier"],
            spec=spec,
            professions=list(spec.get("practitioner_professions", [])),
            weight=int(spec.get("practitioner_weight", 0)),
            low_attendance=float(spec.get("attendance", 1.0)) < 0.6,
            seated=bool(spec.get("seat", True)),
        )

    def _new_person(
        self,
        org: _Org,
        profession: str | None,
        tier: int,
        *,
        joined_on: date,
        board: bool,
        late_entry: bool | None = None,
        training: bool | None = None,
    ) -> _Person:
        pools = self.content["people"]
        while True:
            first, last = self.rng.choice(pools["first_names"]), self.rng.choice(pools["surnames"])
            if f"{first} {last}" not in self._names:
                break
        self._names.add(f"{first} {last}")
        local = "".join(c for c in f"{first}.{last}".lower() if c.isalnum() or c == ".")
        email, n = f"{local}@{org.domain}", 2
        while email in self._emails:
            email, n = f"{local}{n}@{org.domain}", n + 1
        self._emails.add(email)
        late = self.rng.random() < 0.15 if late_entry is None else late_entry
        years = self.rng.randint(1, 12) if late else self.rng.randint(2, 32)
        person = _Person(
            org=org,
            full_name=f"{first} {last}",
            email=email,
            profession=profession,
            tier=tier,
            years=years,
            late_entry=late,
            training=self.rng.random() < (0.6 if board else 0.35) if training is None else training,
            joined_on=joined_on,
            board=board,
        )
        self.people.append(person)
        return person

    def _role_person(self, org: _Org, role_spec: dict[str, Any], joined_on: date) -> _Person:
        return self._new_person(
            org,
            role_spec["profession"],
            int(role_spec["hierarchy_tier"]),
            joined_on=joined_on,
            board=True,
            late_entry=role_spec.get("late_entry"),
            training=role_spec.get("interprofessional_training"),
        )

    # --- seats -------------------------------------------------------------------------------------------
    def _chain(self, org: _Org, role: str, spec: dict[str, Any], changes: Iterable[date]) -> list[_Tenure]:
        """A seat held from the partnership's start, handed to a new person on each change date."""
        chain: list[_Tenure] = []
        begin = self.start
        for change in [*sorted(changes), None]:
            person = self._role_person(org, spec, begin)
            chain.append(_Tenure(org, person, role, begin, change))
            if change is not None:
                person.ended_on = change  # the one who hands over moves on (001: key people move on)
                begin = change + timedelta(days=1)
        self.chains.append(chain)
        self.tenures.extend(chain)
        return chain

    def _earlier_changes(self) -> list[date]:
        """Before the three-year story, long histories (the benchmark) change hands every 2-5 years."""
        story_start = months_before(self.today, STORY_MONTHS)
        out, day = [], self.start
        while True:
            day = months_before(day, -self.rng.randint(24, 60))
            if day >= story_start:
                return out
            out.append(day)

    def plan_seats(self) -> None:
        rng = self.rng
        police = self.by_key["police"]
        seated = [o for o in self.orgs if o.seated]
        candidates = [
            o for o in seated if o.key not in ("police", "childrens_services", "lay") and not o.low_attendance
        ]
        changed = rng.sample(candidates, k=min(3, len(candidates)))
        story_changes = {o.key: [self.ago(m)] for o, m in zip(changed, (30, 16, 6), strict=False)}
        # 002: "over the three years of our research, three police delegates were observed".
        story_changes["police"] = [self.ago(20), self.ago(8)]
        self.chair_change = self.ago(14)

        for org in seated:
            spec = org.spec.get("representative")
            if spec is None:
                continue
            changes = story_changes.get(org.key, [])
            if org.key != "childrens_services":
                changes = self._earlier_changes() + changes
                self._chain(org, SeatRole.MEMBER.value, spec, changes)
            else:
                # 002 row 2: the first chair came from a member organisation (here its director), then an
                # independent chair took over; the director stayed on the board as a member.
                director = self._role_person(org, spec, self.start)
                first = _Tenure(org, director, SeatRole.CHAIR.value, self.start, self.chair_change)
                after = _Tenure(org, director, SeatRole.MEMBER.value, self.chair_change + timedelta(days=1))
                self.tenures += [first, after]
            if "second_representative" in org.spec:
                self._chain(org, SeatRole.MEMBER.value, org.spec["second_representative"], [])
            if "deputy" in org.spec:
                self._chain(org, SeatRole.DEPUTY.value, org.spec["deputy"], [])
        for org in self.orgs:
            if "adviser" in org.spec:
                self._chain(org, SeatRole.ADVISER.value, org.spec["adviser"], [])

        chair_spec = self.content["chair"]["second"]
        chair_org = self.by_key[chair_spec["organisation"]]
        begin = self.chair_change + timedelta(days=1)
        chair = self._role_person(chair_org, chair_spec, begin)
        self.tenures.append(_Tenure(chair_org, chair, SeatRole.CHAIR.value, begin))
        manager_spec = self.content["partnership_manager"]
        # 002: the partnership manager had a generalist training and spanned boundaries.
        manager = self._role_person(
            self.by_key[manager_spec["organisation"]],
            {**manager_spec, "late_entry": False, "interprofessional_training": True},
            self.start,
        )
        self.tenures.append(_Tenure(manager.org, manager, SeatRole.PARTNERSHIP_MANAGER.value, self.start))
        # 002: all three police delegates were middle management; the third came to the police late.
        police_reps = [t.person for t in self.tenures if t.org is police and t.role == SeatRole.MEMBER.value]
        for person in police_reps:
            person.tier = 3
            person.late_entry = False
            person.years = rng.randint(14, 26)
        police_reps[-1].late_entry, police_reps[-1].years, police_reps[-1].training = True, 6, True

    def plan_people(self) -> None:
        # Board-level people without a seat: senior managers who come to away days and own actions.
        spare = max(0, self.target_board - len(self.people))
        weighted = [o for o in self.orgs if o.weight > 0 and not o.low_attendance]
        for _ in range(spare):
            org = self.rng.choice(weighted)
            self._new_person(
                org,
                self.rng.choice(org.professions),
                self.rng.choice((2, 3, 4)),
                joined_on=self.start,
                board=True,
            )
        practitioners = max(0, self.target_people - len(self.people))
        pool = [o for o in self.orgs if o.weight > 0]
        weights = [o.weight for o in pool]
        span = (self.today - self.start).days
        for org in self.rng.choices(pool, weights=weights, k=practitioners):
            tier = self.rng.choices((5, 4, 3), weights=(70, 25, 5))[0]
            joined = self.start
            if self.rng.random() < 0.25:  # some joined along the way
                joined = self.start + timedelta(days=self.rng.randint(30, max(31, span - 60)))
            person = self._new_person(
                org, self.rng.choice(org.professions), tier, joined_on=joined, board=False
            )
            if self.rng.random() < 0.08 and (self.today - joined).days > 90:  # and a few have moved on
                person.ended_on = joined + timedelta(
                    days=self.rng.randint(60, (self.today - joined).days - 30)
                )

    # --- meetings ------------------------------------------------------------------------------------------
    def plan_meetings(self) -> list[_Meeting]:
        content, rng = self.content, self.rng
        meetings: list[_Meeting] = []
        themes = list(content["board_meeting_themes"])
        interval = 12 // self.meetings_per_year
        last_board = self.today - timedelta(days=9)
        for i in reversed(range(self.years * self.meetings_per_year)):
            held = self.weekday(months_before(last_board, i * interval))
            theme = themes[i % len(themes)]
            meetings.append(
                _Meeting(
                    MeetingKind.BOARD.value,
                    f"Board meeting, {held:%B %Y}",
                    held,
                    f"Theme: {theme}.",
                    theme[0].lower() + theme[1:] if not theme[:2].isupper() else theme,
                )
            )
        for index, group in enumerate(content["sub_groups"]):
            kinds = set(group["kinds"])
            pool = [
                p for p in self.people if not p.board and p.org.kind in kinds and not p.org.low_attendance
            ]
            roster = rng.sample(pool, k=min(len(pool), 9))
            anchor = self.today - timedelta(days=20 + 9 * index)
            for k in range(self.years * 4):
                held = self.weekday(months_before(anchor, 3 * k))
                if held <= self.start:
                    continue
                meetings.append(
                    _Meeting(
                        MeetingKind.SUB_GROUP.value,
                        f"{group['name']}, {held:%B %Y}",
                        held,
                        f"Quarterly meeting of the {group['name']}.",
                        group["topic"],
                        lead=group["lead"],
                        roster=roster,
                    )
                )
        away, development = list(content["away_days"]), list(content["development_days"])
        for year in range(self.years):
            held = self.weekday(months_before(self.today, 12 * year + 5))
            kind = MeetingKind.DEVELOPMENT_DAY if year % 3 == 1 else MeetingKind.AWAY_DAY
            titles = development if kind is MeetingKind.DEVELOPMENT_DAY else away
            title = titles[(year // 3) % len(titles)]
            practitioners = [p for p in self.people if not p.board and not p.org.low_attendance]
            roster = rng.sample(
                practitioners, k=min(len(practitioners), 30 if kind is MeetingKind.DEVELOPMENT_DAY else 12)
            )
            meetings.append(
                _Meeting(
                    kind.value,
                    title,
                    held,
                    "A day away from the agenda to build relationships (002 row 7).",
                    rng.choice(themes).lower(),
                    roster=roster,
                )
            )
        meetings.sort(key=lambda m: (m.held_on, m.kind, m.title))
        return meetings

    def holders(self, day: date, roles: Iterable[str]) -> list[_Tenure]:
        wanted = set(roles)
        return [t for t in self.tenures if t.role in wanted and t.active_on(day)]

    def expected(self, meeting: _Meeting) -> list[_Person]:
        day = meeting.held_on
        if meeting.kind == MeetingKind.SUB_GROUP.value:
            leads = self.holders(day, (SeatRole.CHAIR.value, SeatRole.MEMBER.value))
            chair = [t.person for t in leads if t.org.key == meeting.lead][:1]
            people = chair + [p for p in meeting.roster if p.active_on(day)]
        else:
            roles = [
                SeatRole.CHAIR.value,
                SeatRole.MEMBER.value,
                SeatRole.ADVISER.value,
                SeatRole.PARTNERSHIP_MANAGER.value,
            ]
            if meeting.kind != MeetingKind.BOARD.value:
                roles.append(SeatRole.DEPUTY.value)
            people = [t.person for t in self.holders(day, roles)]
            people += [p for p in meeting.roster if p.active_on(day)]
        return list(dict.fromkeys(people))  # someone expected twice (a seat and a roster) is listed once

    def attendance(self, meeting: _Meeting) -> tuple[list[s.AttendanceEntry], list[_Person]]:
        rng = self.rng
        people = self.expected(meeting)
        deputies = {t.org.key: t.person for t in self.holders(meeting.held_on, (SeatRole.DEPUTY.value,))}
        entries: list[s.AttendanceEntry] = []
        present: list[_Person] = []
        decided: dict[str, bool] = {}
        for person in people:
            org = person.org
            if org.low_attendance:
                # Two meetings in five, in turn: below 60% in any year whatever the seed, so it is flagged.
                if org.key not in decided:
                    count = self._low_counter.get(org.key, 0)
                    self._low_counter[org.key] = count + 1
                    decided[org.key] = count % 5 in (0, 2)
                came = decided[org.key] and rng.random() < 0.9
            elif self._cooldown.get(person, 0) > 0:
                # Someone who missed a meeting makes the next three, so only the designed few fall below 60%.
                came, self._cooldown[person] = True, self._cooldown[person] - 1
            else:
                came = rng.random() < 0.85
                if not came:
                    self._cooldown[person] = 3
            if came:
                status = AttendanceStatus.PRESENT.value
                present.append(person)
            elif (
                meeting.kind == MeetingKind.BOARD.value
                and org.key in deputies
                and deputies[org.key] is not person
                and rng.random() < 0.6
            ):
                status = AttendanceStatus.DEPUTY_ATTENDED.value
                deputy = deputies.pop(org.key)
                entries.append(s.AttendanceEntry(person_id=deputy.id, status=AttendanceStatus.PRESENT.value))
                present.append(deputy)
            else:
                status = (AttendanceStatus.APOLOGIES if rng.random() < 0.8 else AttendanceStatus.ABSENT).value
            entries.append(s.AttendanceEntry(person_id=person.id, status=status))
        return entries, present

    def actions(self, meeting: _Meeting, meeting_id: int, present: list[_Person]) -> None:
        rng, content, today = self.rng, self.content, self.today
        owners = [p for p in present if p.ended_on is None or p.ended_on > meeting.held_on] or present
        if not owners:
            return
        if meeting.kind == MeetingKind.BOARD.value:
            n_actions, n_decisions = rng.randint(3, 6), rng.randint(1, 2)
        elif meeting.kind == MeetingKind.SUB_GROUP.value:
            n_actions, n_decisions = rng.randint(1, 2), 0
        else:
            n_actions, n_decisions = rng.randint(2, 4), 1
        opened = meeting.held_on
        age = (today - opened).days
        for index in range(n_actions + n_decisions):
            owner = rng.choice(owners)
            is_decision = index >= n_actions
            template = rng.choice(content["decision_templates" if is_decision else "action_templates"])
            title = template.format(topic=meeting.topic, organisation=owner.org.name)
            values: dict[str, Any] = {
                "kind": (ActionKind.DECISION if is_decision else ActionKind.ACTION).value,
                "title": title[0].upper() + title[1:],
                "owner_person_id": owner.id,
                "organisation_id": owner.org.id,
                "meeting_id": meeting_id,
                "opened_on": opened,
            }
            if is_decision:
                values |= {"status": ActionStatus.DONE.value, "closed_on": opened, "last_changed_on": opened}
            else:
                due = opened + timedelta(days=rng.choice((28, 42, 56, 90, 120)))
                still_open = rng.random() < (0.85 if age < 60 else 0.35 if age < 200 else 0.1)
                values["due_on"] = due
                if still_open:
                    stalled = age >= 75 and rng.random() < 0.5
                    changed = (
                        opened + timedelta(days=rng.randint(0, min(30, age - 61)))
                        if stalled
                        else today - timedelta(days=rng.randint(0, min(age, 45)))
                    )
                    values |= {
                        "status": rng.choice((ActionStatus.OPEN, ActionStatus.IN_PROGRESS)).value,
                        "last_changed_on": changed,
                    }
                else:
                    latest = max(1, min(age, (due - opened).days + 40))
                    closed = opened + timedelta(days=rng.randint(min(7, latest), latest))
                    status = ActionStatus.DONE if rng.random() < 0.9 else ActionStatus.DROPPED
                    values |= {"status": status.value, "closed_on": closed, "last_changed_on": closed}
            register.create_action(
                self.session, actor=self.actor, partnership_id=self.pid, data=s.ActionCreate(**values)
            )

    # --- writing ----------------------------------------------------------------------------------------
    def keep(self, record: Any) -> int:
        # The session's identity map holds records weakly; holding them here turns the services'
        # session.get() checks into lookups instead of one SELECT per row.
        self._records.append(record)
        return int(record.id)

    def step(self, what: str, amount: int = 1) -> None:
        self._done += amount
        if self.progress:
            self.progress(what, min(self._done, self._total), self._total)

    def build(self) -> int:
        session, actor = self.session, self.actor
        self.plan_seats()
        self.plan_people()
        meetings = self.plan_meetings()
        self._total = len(self.orgs) + len(self.people) + len(self.tenures) + len(meetings)
        partnership_spec = self.content["partnership"]
        self.pid = self.keep(
            register.create_partnership(
                session,
                actor=actor,
                data=s.PartnershipCreate(
                    name=self.name, kind=partnership_spec["kind"], area=partnership_spec["area"]
                ),
            )
        )
        pid = self.pid

        profession_ids: dict[str, int] = {}
        for profession in sorted({p.profession for p in self.people if p.profession}):
            profession_ids[profession] = self.keep(
                register.create_profession(
                    session, actor=actor, partnership_id=pid, data=s.ProfessionCreate(name=profession)
                )
            )
        for org in self.orgs:
            org.id = self.keep(
                register.create_organisation(
                    session,
                    actor=actor,
                    partnership_id=pid,
                    data=s.OrganisationCreate(
                        name=org.name, kind=org.kind, tier=org.tier, joined_on=self.start
                    ),
                )
            )
            self.step("Organisations")
        for person in self.people:
            person.id = self.keep(
                register.create_person(
                    session,
                    actor=actor,
                    partnership_id=pid,
                    data=s.PersonCreate(
                        full_name=person.full_name,
                        email=person.email,
                        organisation_id=person.org.id,
                        profession_id=profession_ids.get(person.profession or ""),
                        hierarchy_tier=person.tier,
                        years_in_profession=person.years,
                        late_entry=person.late_entry,
                        interprofessional_training=person.training,
                        joined_on=person.joined_on,
                    ),
                )
            )
            self.step("People")

        chained = {id(t) for chain in self.chains for t in chain}
        for chain in self.chains:
            first = chain[0]
            first.seat_id = self._create_seat(first, first.started_on)
            for previous, current in pairwise(chain):
                assert previous.ended_on is not None
                current.seat_id = self.keep(
                    register.hand_over_seat(
                        session,
                        actor=actor,
                        seat_id=previous.seat_id,
                        data=s.SeatHandOver(person_id=current.person.id, on=previous.ended_on),
                    )
                )
                self.step("Seats")
            self.step("Seats")
        for tenure in self.tenures:
            if id(tenure) in chained:
                continue
            tenure.seat_id = self._create_seat(tenure, tenure.started_on)
            if tenure.ended_on is not None:
                register.end_seat(session, actor=actor, seat_id=tenure.seat_id, ended_on=tenure.ended_on)
            self.step("Seats")
        for person in self.people:
            if person.ended_on is not None:
                register.end_person(session, actor=actor, person_id=person.id, ended_on=person.ended_on)

        for meeting in meetings:
            meeting_id = self.keep(
                register.create_meeting(
                    session,
                    actor=actor,
                    partnership_id=pid,
                    data=s.MeetingCreate(
                        kind=meeting.kind, title=meeting.title, held_on=meeting.held_on, notes=meeting.notes
                    ),
                )
            )
            entries, present = self.attendance(meeting)
            if entries:
                register.set_attendance(session, actor=actor, meeting_id=meeting_id, entries=entries)
            self.actions(meeting, meeting_id, present)
            self.step("Meetings, attendance and actions")
        # The next board meeting is in the diary, so the demo looks alive.
        next_board = self.weekday(
            months_before(self.today - timedelta(days=9), -(12 // self.meetings_per_year))
        )
        register.create_meeting(
            session,
            actor=actor,
            partnership_id=pid,
            data=s.MeetingCreate(
                kind=MeetingKind.BOARD.value, title=f"Board meeting, {next_board:%B %Y}", held_on=next_board
            ),
        )
        session.flush()
        return pid

    def _create_seat(self, tenure: _Tenure, started_on: date) -> int:
        return self.keep(
            register.create_seat(
                self.session,
                actor=self.actor,
                partnership_id=self.pid,
                data=s.SeatCreate(
                    organisation_id=tenure.org.id,
                    person_id=tenure.person.id,
                    role=tenure.role,
                    started_on=started_on,
                ),
            )
        )


def build_demo(
    session: Session,
    *,
    seed: int = DEMO_SEED,
    today: date | None = None,
    people: int = DEMO_PEOPLE,
    board_people: int = DEMO_BOARD_PEOPLE,
    organisations: int | None = None,
    years: int = 3,
    meetings_per_year: int = 6,
    name: str | None = None,
    actor: Actor | None = None,
    progress: Progress | None = None,
    barometer: bool = False,
) -> int:
    """Generate the demo partnership in ``session`` (not committed) and return its id.

    ``organisations`` None takes the member organisations of 002 Annex; more adds generated schools, hubs,
    practices and community groups (the benchmark asks for 60). ``people`` is the total; about
    ``board_people`` of them hold or held seats, the rest are practitioners. Board meetings are held
    ``meetings_per_year`` times a year for ``years`` years up to ``today``, with quarterly sub-groups and an
    away day or development day each year. ``barometer`` adds two closed barometer rounds a year apart and
    the joint training day between them (barometer.demo), and the ties reported in them (network.demo); the
    register alone (the benchmark) leaves them out.
    """
    actor = actor or demo_actor()
    today = today or date.today()
    partnership_id = _Builder(
        session,
        actor=actor,
        seed=seed,
        today=today,
        people=people,
        board_people=board_people,
        organisations=organisations,
        years=years,
        meetings_per_year=meetings_per_year,
        name=name,
        progress=progress,
    ).build()
    if barometer:
        from reticulist.barometer.demo import add_demo_barometer  # the barometer builds on the register

        if progress:
            progress("Barometer rounds", 0, 1)
        rounds = add_demo_barometer(
            session, actor=actor, partnership_id=partnership_id, seed=seed, today=today
        )
        from reticulist.network.demo import add_demo_network  # reported ties belong to the rounds

        add_demo_network(
            session, actor=actor, partnership_id=partnership_id, seed=seed, round_ids=rounds.round_ids
        )
    return partnership_id


def create_demo_accounts(
    session: Session,
    *,
    partnership_id: int,
    actor: Actor | None = None,
    practitioner_person_id: int | None = None,
) -> list[DemoAccount]:
    """The demo's logins: a partnership manager, an admin, a (read-only) member, and for casework a lead
    practitioner (linked to ``practitioner_person_id``), the early help coordinator and the data
    protection officer. Without casework the practitioner login is left out."""
    actor = actor or demo_actor()
    made = []
    for account in DEMO_ACCOUNTS:
        if account.practitioner and practitioner_person_id is None:
            continue
        user = accounts.create_user(
            session,
            actor=actor,
            email=account.email,
            display_name=account.display_name,
            password=account.password,
        )
        accounts.set_role(
            session, actor=actor, partnership_id=partnership_id, user_id=user.id, role=account.role
        )
        if account.practitioner and practitioner_person_id is not None:
            from reticulist.casework import service as casework  # casework builds on the register

            casework.link_practitioner(
                session,
                actor=actor,
                partnership_id=partnership_id,
                user_id=user.id,
                person_id=practitioner_person_id,
            )
        made.append(account)
    return made
