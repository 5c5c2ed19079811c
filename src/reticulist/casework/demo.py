"""The demo partnership's casework: about 400 families over three years, from a seeded generator.

Teams are drawn from the register's practitioners (people without a board seat, tier 4-5), led mostly
from family hubs and children's social care; episodes have assessments, plans with actions, reviews and
outcomes; some families are referred to children's social care, and some referrals are declined or
decided late; one adult's address is shielded. Two stories:

- 004's vignette: a family led by a social worker whose team includes a teacher, whose view carries the
  reviews (in the notes).
- A family support worker of the voluntary sector who bridges agencies in practice but never sits on the
  board: she is in the teams of many families with practitioners of every agency, so the casework network
  ("shared_cases") shows her between them.

Written with bulk inserts (the demo is built often, in tests too), with one audit entry per family and
one for the whole; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor
from reticulist.audit import service as audit
from reticulist.casework import figures
from reticulist.casework.identifiers import nhs_check_digit, upn_check_letter
from reticulist.casework.models import (
    Assessment,
    CaseNote,
    Episode,
    Family,
    FamilyMember,
    Involvement,
    LeadPractitioner,
    MemberAddress,
    PlanAction,
    PlanOutcome,
    PractitionerLink,
    Referral,
    Review,
    ReviewAttendee,
    ReviewProgress,
)
from reticulist.db.bulk import insert_rows
from reticulist.register.demo import load_content
from reticulist.register.models import Organisation, Person, Seat

DEMO_FAMILIES = 400
LEAD_KINDS = ("childrens_social_care",)  # children's services and the family hubs lead most teams
STREETS = (
    "Canal Row",
    "Mill Lane",
    "Station Road",
    "Church Street",
    "Victoria Terrace",
    "Moor Lane",
    "Albert Road",
    "Park View",
    "Weaver Close",
    "Chapel Street",
    "Hindle Road",
    "Market Street",
)
REASONS = (
    "Attendance has fallen and the child seems withdrawn.",
    "Parent asking for help with the child's behaviour at home.",
    "Domestic abuse notification; mother wants support.",
    "Housing arrears and a possible eviction.",
    "Young carer for a parent with poor mental health.",
    "Worries about the child's weight and missed health appointments.",
    "Parental drug and alcohol use; grandparent worried.",
    "Child excluded from school twice this term.",
)
REQUESTERS = (
    "School",
    "Health visitor",
    "GP practice",
    "Police",
    "Family (self-referral)",
    "Housing officer",
)
OUTCOMES = (
    "needs_met",
    "needs_met",
    "needs_met",
    "stepped_down",
    "stepped_up",
    "family_withdrew",
    "moved_away",
)
PLAN_OUTCOMES = (
    (
        "The children go to school every day",
        ("Walking bus place", "Morning routine chart", "Weekly check-in"),
    ),
    ("The family's home is secure", ("Housing benefit claim", "Debt advice appointment")),
    ("The children feel safe at home", ("Safety plan with mother", "Referral to the domestic abuse service")),
    ("Mum's mental health is looked after", ("GP appointment", "Talking therapies self-referral")),
)
NOTE_TEXTS = (
    ("home_visit", "Home visit. House calm; children at school. Talked through the plan."),
    ("phone_call", "Phone call with mum: the week has been better."),
    ("meeting", "Met the school's family liaison officer about attendance."),
    ("childs_voice", 'Asked what would help, the child said: "if mornings weren\'t so shouty".'),
    ("observation", "Children well presented; younger one more settled at nursery."),
    ("message", "Text from dad: cannot make Thursday, asked to move the review."),
)
DECLINE_REASONS = (
    "Does not meet the threshold for a statutory assessment; continue under early help.",
    "Already known; see the assessment in progress.",
)
BRIDGE_ORGANISATION_KIND = "voluntary"


@dataclass(frozen=True)
class DemoCasework:
    families: int
    lead_person_id: int  # the practitioner with the largest current caseload as lead (the demo login's)
    bridge_person_id: int
    vignette_family_id: int


def _nhs(rng: np.random.Generator) -> str:
    while True:
        first = "".join(str(d) for d in rng.integers(0, 10, 9))
        check = nhs_check_digit(first)
        if check is not None and first[0] != "0":
            return f"{first[:3]} {first[3:6]} {first[6:]}{check}"


def _upn(rng: np.random.Generator, year: int) -> str:
    body = f"888{int(rng.integers(2000, 3000)):04d}{year % 100:02d}{int(rng.integers(0, 1000)):03d}"
    return upn_check_letter(body) + body


def _postcode(rng: np.random.Generator) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    unit = "".join(str(rng.choice(list(letters))) for _ in range(2))
    return f"BN{int(rng.integers(1, 20))} {int(rng.integers(1, 10))}{unit}"


def add_demo_casework(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    seed: int,
    today: date,
    families: int = DEMO_FAMILIES,
) -> DemoCasework:
    rng = np.random.default_rng(seed + 7)  # a stream of its own: adding casework changes nothing else
    names = load_content()["people"]
    first_names, surnames = names["first_names"], names["surnames"]
    organisations = {
        o.id: o
        for o in session.scalars(select(Organisation).where(Organisation.partnership_id == partnership_id))
    }
    seated = set(session.scalars(select(Seat.person_id).where(Seat.partnership_id == partnership_id)))
    practitioners = [
        p
        for p in session.scalars(
            select(Person).where(Person.partnership_id == partnership_id).order_by(Person.id)
        )
        if p.id not in seated and p.hierarchy_tier >= 4 and p.ended_on is None
    ]
    if len(practitioners) < 20:
        raise ValueError("the casework demo needs the demo register's practitioners")
    kind = {p.id: organisations[p.organisation_id].kind for p in practitioners}
    leads = [p for p in practitioners if kind[p.id] in LEAD_KINDS] or practitioners[:10]
    others = [p for p in practitioners if kind[p.id] not in LEAD_KINDS]
    bridge = next((p for p in practitioners if kind[p.id] == BRIDGE_ORGANISATION_KIND), others[0])
    csc = next(
        o
        for o in organisations.values()
        if o.kind == "childrens_social_care" and "Children's Services" in o.name
    )
    csc_people = [p for p in practitioners if p.organisation_id == csc.id] or leads
    schools = [p for p in others if kind[p.id] == "education"] or others

    start = today - timedelta(days=3 * 365)
    opened = sorted(start + timedelta(days=int(d)) for d in rng.integers(0, 3 * 365 - 20, families))
    family_rows, member_plans = [], []
    for n, opened_on in enumerate(opened):
        surname = str(rng.choice(surnames))
        family_rows.append(
            {"partnership_id": partnership_id, "reference": f"EH-{opened_on.year}-{n + 1:04d}"}
        )
        children = int(rng.choice([1, 1, 2, 2, 3]))
        member_plans.append((surname, children, opened_on))
    family_ids = insert_rows(session, Family.__table__, family_rows)

    member_rows: list[dict[str, Any]] = []
    owner: list[tuple[int, str]] = []  # (family index, kind) per member row
    for i, (surname, children, opened_on) in enumerate(member_plans):
        for _ in range(children):
            born = opened_on - timedelta(days=int(rng.integers(365, 16 * 365)))
            school_age = (opened_on - born).days > 5 * 365
            member_rows.append(
                {
                    "family_id": family_ids[i],
                    "partnership_id": partnership_id,
                    "kind": "child",
                    "forenames": str(rng.choice(first_names)),
                    "surname": surname,
                    "surname_key": surname.casefold(),
                    "known_as": "",
                    "date_of_birth": born,
                    "sex": str(rng.choice(["female", "male"])),
                    "relationship_to_children": "child",
                    "parental_responsibility": False,
                    "nhs_number": _nhs(rng) if rng.random() < 0.8 else None,
                    "upn": _upn(rng, born.year + 5) if school_age and rng.random() < 0.7 else None,
                    "upn_temporary": False,
                    "shielded": False,
                }
            )
            owner.append((i, "child"))
        for relationship in ["mother", "father"][: int(rng.choice([1, 1, 2]))]:
            member_rows.append(
                {
                    "family_id": family_ids[i],
                    "partnership_id": partnership_id,
                    "kind": "adult",
                    "forenames": str(rng.choice(first_names)),
                    "surname": surname,
                    "surname_key": surname.casefold(),
                    "known_as": "",
                    "date_of_birth": None,
                    "sex": "female" if relationship == "mother" else "male",
                    "relationship_to_children": relationship,
                    "parental_responsibility": True,
                    "nhs_number": None,
                    "upn": None,
                    "upn_temporary": False,
                    "shielded": False,
                }
            )
            owner.append((i, "adult"))
    # One mother's location must not be disclosed (she has fled abuse): her person and her address.
    shielded_family = families // 3
    shielded_row = next(
        k for k, (i, member_kind) in enumerate(owner) if i == shielded_family and member_kind == "adult"
    )
    member_rows[shielded_row]["shielded"] = True
    member_ids = insert_rows(session, FamilyMember.__table__, member_rows)
    first_adult: dict[int, int] = {}
    children_of: dict[int, list[int]] = {}
    for member_id, (i, member_kind) in zip(member_ids, owner, strict=True):
        if member_kind == "adult":
            first_adult.setdefault(i, member_id)
        else:
            children_of.setdefault(i, []).append(member_id)
    addresses = []
    for member_id, (i, _kind) in zip(member_ids, owner, strict=True):
        street = STREETS[i % len(STREETS)]
        addresses.append(
            {
                "member_id": member_id,
                "lines": f"{i % 97 + 1} {street}, Brempton",
                "postcode": _postcode(rng),
                "from_on": member_plans[i][2] - timedelta(days=400),
                "to_on": None,
                "shielded": member_id == member_ids[shielded_row],
            }
        )
    if addresses:
        session.execute(insert(MemberAddress), addresses)

    # Episodes: most closed with an outcome; the recent ones open.
    episode_rows = []
    for i, (_surname, _children, opened_on) in enumerate(member_plans):
        age = (today - opened_on).days
        closes = age > 150 and rng.random() < 0.85
        closed_on = opened_on + timedelta(days=int(rng.integers(90, min(age, 400)))) if closes else None
        requested = opened_on - timedelta(days=int(rng.integers(3, 15)))
        episode_rows.append(
            {
                "family_id": family_ids[i],
                "partnership_id": partnership_id,
                "requested_by": str(rng.choice(REQUESTERS)),
                "request_reason": str(rng.choice(REASONS)),
                "requested_on": requested,
                "agreed_by_member_id": first_adult[i],
                "agreed_on": requested + timedelta(days=2),
                "opened_on": opened_on,
                "closed_on": closed_on,
                "outcome": str(rng.choice(OUTCOMES)) if closed_on else None,
            }
        )
    episode_ids = insert_rows(session, Episode.__table__, episode_rows)

    # Teams: a lead, and 1-3 others of other agencies; the bridge is in about one team in six.
    involvement_rows, lead_index, team_of = [], [], []
    vignette = families // 2
    for i, episode in enumerate(episode_rows):
        lead = leads[int(rng.integers(len(leads)))] if i != vignette else csc_people[0]
        members = [lead]
        pool = [p for p in others if p.id != lead.id]
        for p in rng.choice(len(pool), size=int(rng.integers(1, 4)), replace=False):
            members.append(pool[int(p)])
        if i == vignette and schools[0] not in members:
            members.append(schools[0])
        if rng.random() < 0.17 and bridge not in members:
            members.append(bridge)
        start_index = len(involvement_rows)
        for k, person in enumerate(members):
            role = (
                ("Lead practitioner" if k == 0 else "Team member")
                if person is not bridge
                else "Family support worker"
            )
            if i == vignette and person is lead:
                role = "Social worker"
            if i == vignette and person is schools[0]:
                role = "Class teacher"
            involvement_rows.append(
                {
                    "episode_id": episode_ids[i],
                    "person_id": person.id,
                    "organisation_id": person.organisation_id,
                    "role": role,
                    "from_on": episode["opened_on"]
                    + timedelta(days=0 if k == 0 else int(rng.integers(0, 20))),
                    "to_on": episode["closed_on"],
                }
            )
        lead_index.append(start_index)
        team_of.append(list(range(start_index, len(involvement_rows))))
    involvement_ids = insert_rows(session, Involvement.__table__, involvement_rows)
    session.execute(
        insert(LeadPractitioner),
        [
            {
                "episode_id": episode_ids[i],
                "involvement_id": involvement_ids[lead_index[i]],
                "from_on": episode_rows[i]["opened_on"],
                "to_on": episode_rows[i]["closed_on"],
                "family_had_say": bool(rng.random() < 0.6),
            }
            for i in range(families)
        ],
    )

    # Assessments, plans, reviews, notes and referrals.
    now = datetime.now(UTC)
    assessment_rows, outcome_rows, outcome_of = [], [], []
    for i, episode in enumerate(episode_rows):
        done = episode["closed_on"] is not None or (today - episode["opened_on"]).days > 20
        assessment_rows.append(
            {
                "episode_id": episode_ids[i],
                "version": 1,
                "status": "completed" if done else "draft",
                "development_strengths": "Curious and chatty; reads well.",
                "development_needs": "Attendance; sleep.",
                "parenting_strengths": "Warm; asks for help.",
                "parenting_needs": "Routines; boundaries.",
                "family_strengths": "Grandmother nearby.",
                "family_needs": str(rng.choice(REASONS)),
                "childs_words": "I want mornings to be calmer.",
                "family_view": "We want things to settle down.",
                "drafted_by_label": "demo",
                "changed_at": now,
                "completed_by_label": "demo" if done else None,
                "completed_at": now if done else None,
            }
        )
        for k in rng.choice(len(PLAN_OUTCOMES), size=int(rng.integers(1, 3)), replace=False):
            outcome_rows.append(
                {
                    "episode_id": episode_ids[i],
                    "text": PLAN_OUTCOMES[int(k)][0],
                    "created_on": episode["opened_on"],
                }
            )
            outcome_of.append((i, int(k)))
    session.execute(insert(Assessment), assessment_rows)
    outcome_ids = insert_rows(session, PlanOutcome.__table__, outcome_rows)
    action_rows, action_of = [], []
    for outcome_id, (i, k) in zip(outcome_ids, outcome_of, strict=True):
        episode = episode_rows[i]
        for text in PLAN_OUTCOMES[k][1]:
            due = episode["opened_on"] + timedelta(days=int(rng.integers(14, 120)))
            closed = episode["closed_on"] is not None
            status = (
                "done"
                if closed or (due < today - timedelta(days=30) and rng.random() < 0.8)
                else str(rng.choice(["open", "in_progress"]))
            )
            action_rows.append(
                {
                    "outcome_id": outcome_id,
                    "text": text,
                    "owner_involvement_id": involvement_ids[int(rng.choice(team_of[i]))],
                    "due_on": due,
                    "status": status,
                    "changed_on": min(today, due),
                }
            )
            action_of.append(i)
    action_ids = insert_rows(session, PlanAction.__table__, action_rows)
    actions_of: dict[int, list[int]] = {}
    for action_id, i in zip(action_ids, action_of, strict=True):
        actions_of.setdefault(i, []).append(action_id)
    review_rows, review_of = [], []
    late_rng = np.random.default_rng(seed + 11)  # its own stream, so the rest of the demo stays as it was
    for i, episode in enumerate(episode_rows):
        end = episode["closed_on"] or today
        held = episode["opened_on"] + timedelta(days=42)
        while held <= end:
            # Some reviews are set sooner than the team can meet again, so the next one is held late.
            late_review = rng.random() < 0.1 if episode["closed_on"] is None else late_rng.random() < 0.25
            review_rows.append(
                {
                    "episode_id": episode_ids[i],
                    "held_on": held,
                    "next_review_on": held + timedelta(days=42 if not late_review else 10),
                    "summary": "Progress reviewed with the family."
                    if i != vignette
                    else "The class teacher's account of the week carried the meeting; the social worker's "
                    "concerns about home were noted but not discussed.",
                    "attended": "Mother",
                }
            )
            review_of.append(i)
            held += timedelta(days=42)
    review_ids = insert_rows(session, Review.__table__, review_rows)
    attendee_rows, progress_rows = [], []
    for review_id, i in zip(review_ids, review_of, strict=True):
        for index in team_of[i][: 2 + int(rng.integers(0, 2))]:
            attendee_rows.append({"review_id": review_id, "involvement_id": involvement_ids[index]})
        for action_id in actions_of.get(i, [])[:2]:
            progress_rows.append(
                {"review_id": review_id, "action_id": action_id, "status": "in_progress", "note": ""}
            )
    if attendee_rows:
        session.execute(insert(ReviewAttendee), attendee_rows)
    if progress_rows:
        session.execute(insert(ReviewProgress), progress_rows)

    note_rows = []
    people = {p.id: p for p in practitioners}
    for i, episode in enumerate(episode_rows):
        end = episode["closed_on"] or today
        for _ in range(int(rng.integers(2, 6))):
            index = int(rng.choice(team_of[i]))
            author = people[involvement_rows[index]["person_id"]]
            kind_, text = NOTE_TEXTS[int(rng.integers(len(NOTE_TEXTS)))]
            happened = episode["opened_on"] + timedelta(
                days=int(rng.integers(0, max(1, (end - episode["opened_on"]).days)))
            )
            note_rows.append(
                {
                    "family_id": family_ids[i],
                    "episode_id": episode_ids[i],
                    "author_user_id": None,
                    "author_person_id": author.id,
                    "author_label": author.full_name,
                    "happened_on": happened,
                    "kind": kind_,
                    "text": text,
                    "sensitive": bool(rng.random() < 0.08),
                    "written_at": now,
                }
            )
        if i == vignette:
            note_rows.append(
                {
                    "family_id": family_ids[i],
                    "episode_id": episode_ids[i],
                    "author_user_id": None,
                    "author_person_id": csc_people[0].id,
                    "author_label": csc_people[0].full_name,
                    "happened_on": min(today, episode["opened_on"] + timedelta(days=50)),
                    "kind": "meeting",
                    "text": "Review: the teacher spoke first and longest and the plan followed her view of "
                    "school. I raised what I saw at home; it went into the notes but not into the actions.",
                    "sensitive": False,
                    "written_at": now,
                }
            )
    session.execute(insert(CaseNote), note_rows)

    referral_rows = []
    for i, episode in enumerate(episode_rows):
        if rng.random() >= 0.15 or not children_of.get(i):
            continue
        end = episode["closed_on"] or today
        sent = episode["opened_on"] + timedelta(
            days=int(rng.integers(5, max(6, (end - episode["opened_on"]).days)))
        )
        sent = min(sent, today)
        slow = rng.random() < 0.25
        decided = sent + timedelta(days=int(rng.integers(3, 8)) if slow else int(rng.integers(0, 2)))
        declined = rng.random() < 0.3
        waiting = decided > today
        sender_index = int(rng.choice(team_of[i]))
        referral_rows.append(
            {
                "family_id": family_ids[i],
                "episode_id": episode_ids[i],
                "partnership_id": partnership_id,
                "from_involvement_id": involvement_ids[sender_index],
                "to_organisation_id": csc.id,
                "child_member_id": children_of[i][0],
                "reason": "Escalating concerns: " + episode["request_reason"],
                "sent_on": sent,
                "status": "sent" if waiting else ("declined" if declined else "accepted"),
                "decided_on": None if waiting else decided,
                "decided_by_label": None if waiting else "demo",
                "decline_reason": str(rng.choice(DECLINE_REASONS)) if declined and not waiting else None,
                "accepted_involvement_id": None,
            }
        )
    # A few referrals are waiting today for children's social care, one of them past a working day.
    waiting_families = [
        i for i, e in enumerate(episode_rows) if e["closed_on"] is None and children_of.get(i)
    ][-3:]
    for days_ago, i in zip((4, 1, 0), waiting_families, strict=False):
        referral_rows.append(
            {
                "family_id": family_ids[i],
                "episode_id": episode_ids[i],
                "partnership_id": partnership_id,
                "from_involvement_id": involvement_ids[lead_index[i]],
                "to_organisation_id": csc.id,
                "child_member_id": children_of[i][0],
                "reason": "Escalating concerns: " + episode_rows[i]["request_reason"],
                "sent_on": max(episode_rows[i]["opened_on"], today - timedelta(days=days_ago)),
                "status": "sent",
                "decided_on": None,
                "decided_by_label": None,
                "decline_reason": None,
                "accepted_involvement_id": None,
            }
        )
    if referral_rows:
        # An accepted referral puts the deciding social worker in the team (as the service does).
        for row in referral_rows:
            if row["status"] != "accepted":
                continue
            i = family_ids.index(row["family_id"])
            worker = csc_people[int(rng.integers(len(csc_people)))]
            (new_id,) = insert_rows(
                session,
                Involvement.__table__,
                [
                    {
                        "episode_id": row["episode_id"],
                        "person_id": worker.id,
                        "organisation_id": worker.organisation_id,
                        "role": "Social worker (accepted the referral)",
                        "from_on": row["decided_on"],
                        "to_on": episode_rows[i]["closed_on"]
                        if episode_rows[i]["closed_on"] and episode_rows[i]["closed_on"] >= row["decided_on"]
                        else None,
                    }
                ],
            )
            row["accepted_involvement_id"] = new_id
        session.execute(insert(Referral), referral_rows)

    audit.record(
        session,
        actor=actor,
        event="created",
        record_type="family",
        record_id=None,
        partnership_id=partnership_id,
        summary=f"Demo casework generated: {families} families, {len(note_rows)} case notes, "
        f"{len(referral_rows)} referrals",
    )
    # Casework figures for the board: every ended quarter but the latest, which is left for the demo
    # manager to publish.
    for quarter in figures.publishable_quarters(
        session, actor=actor, partnership_id=partnership_id, today=today
    )[1:]:
        figures.publish_quarter(
            session, actor=actor, partnership_id=partnership_id, quarter=quarter, today=today
        )
    open_leads: dict[int, int] = {}
    for i, episode in enumerate(episode_rows):
        if episode["closed_on"] is None:
            person_id = involvement_rows[lead_index[i]]["person_id"]
            open_leads[person_id] = open_leads.get(person_id, 0) + 1
    busiest = max(open_leads, key=lambda p: (open_leads[p], -p)) if open_leads else leads[0].id
    return DemoCasework(families, busiest, bridge.id, family_ids[vignette])


def add_demo_sharing(session: Session, *, partnership_id: int, cases: DemoCasework, today: date) -> None:
    """After the demo logins exist: the demo practitioner records a consent, a decision to share with the
    police and one not to share on a family they lead, and once used emergency access to a family they are
    not in, waiting for the data protection officer's review (docs/information-sharing.md)."""
    from dataclasses import replace

    from reticulist.access import service as accounts
    from reticulist.access.models import User
    from reticulist.casework import break_glass, sharing
    from reticulist.casework import schemas as cs
    from reticulist.casework import service as casework

    user = session.scalar(
        select(User)
        .join(PractitionerLink, PractitionerLink.user_id == User.id)
        .where(PractitionerLink.person_id == cases.lead_person_id)
    )
    if user is None:
        return
    actor = replace(accounts.actor_for(session, user), via="demo")
    led = [
        line
        for line in casework.my_caseload(session, actor=actor, partnership_id=partnership_id)
        if line.leads
    ]
    if not led:
        return
    family_id = led[0].family_id
    record = casework.family_record(session, actor=actor, family_id=family_id)
    giver = next((m for m in record.members if m.parental_responsibility), None)
    police = session.scalar(
        select(Organisation).where(
            Organisation.partnership_id == partnership_id, Organisation.kind == "police"
        )
    )
    if giver is None or police is None:
        return
    officer = session.scalar(
        select(Person)
        .where(Person.organisation_id == police.id, Person.ended_on.is_(None))
        .order_by(Person.id)
    )
    sharing.record_consent(
        session,
        actor=actor,
        family_id=family_id,
        data=cs.ConsentCreate(
            given_by_member_id=giver.id, organisation_ids=[police.id], kinds=["people"], given_on=today
        ),
    )
    common = {
        "recipient_organisation_id": police.id,
        "family_told": True,
        "decided_on": today,
    }
    sharing.record_decision(
        session,
        actor=actor,
        family_id=family_id,
        data=cs.SharingDecisionCreate(
            kinds=["people", "plan"],
            recipient_person_id=officer.id if officer else None,
            purpose="Joint safety planning with the neighbourhood policing team.",
            decision="share",
            reasons="An adult outside the home poses a risk to the children; the plan needs police input.",
            family_views="The mother agreed; the eldest asked that school not be told.",
            basis="public_task",
            access_until=today + timedelta(days=90),
            **common,
        ),
    )
    sharing.record_decision(
        session,
        actor=actor,
        family_id=family_id,
        data=cs.SharingDecisionCreate(
            kinds=["notes"],
            purpose="The police asked for the case notes of the last month.",
            decision="not_share",
            reasons="Not needed for their purpose: the plan and the people are enough, and the notes hold "
            "health details.",
            **common,
        ),
    )
    other = session.scalar(
        select(Episode.family_id)
        .where(
            Episode.partnership_id == partnership_id,
            Episode.closed_on.is_(None),
            Episode.family_id.not_in(
                [
                    line.family_id
                    for line in casework.my_caseload(session, actor=actor, partnership_id=partnership_id)
                ]
            ),
        )
        .order_by(Episode.family_id)
        .limit(1)
    )
    if other is not None:
        break_glass.open_break_glass(
            session,
            actor=actor,
            partnership_id=partnership_id,
            family_id=other,
            reason="Called by the hospital at 11pm: a child of this family was brought in; I needed the "
            "lead's contact and the safety plan.",
        )
    # A parent has asked for what is held about them: the data protection officer has the request with the
    # identity confirmed, so the bundle can be built from the register (docs/information-sharing.md).
    from reticulist.access.policy import cli_actor
    from reticulist.casework import subject_access

    family = session.get(Family, family_id)
    if family is not None:
        from reticulist.casework import retention

        closed = session.scalar(
            select(Episode.family_id)
            .where(Episode.partnership_id == partnership_id, Episode.closed_on.is_not(None))
            .order_by(Episode.family_id)
            .limit(1)
        )
        closed_family = session.get(Family, closed) if closed is not None else None
        if closed_family is not None:  # the Retention page has a hold to show
            retention.place_hold(
                session,
                actor=replace(cli_actor("Demo data protection officer"), via="demo"),
                partnership_id=partnership_id,
                family_reference=closed_family.reference,
                reason="Safeguarding practice review SPR-2026-03: keep the record until the review is out.",
            )
        subject_access.register_request(
            session,
            actor=replace(cli_actor("Demo data protection officer"), via="demo"),
            partnership_id=partnership_id,
            family_reference=family.reference,
            surname=giver.surname,
            forenames=giver.forenames,
            requester=f"{giver.forenames} {giver.surname}, about themselves",
            received_on=today - timedelta(days=9),
            identity_checked_on=today - timedelta(days=6),
        )
