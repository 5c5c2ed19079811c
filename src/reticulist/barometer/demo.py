"""Two completed rounds of the Partnership Barometer for the demo partnership, a year apart.

Respondents are drawn from the demo's register (board-level people and practitioners in post when each
round opened) and their answers come from a seeded NumPy model: a respondent's latent level on a construct
is the partnership's baseline for that round, plus their organisation's effect, plus their hierarchy
tier's effect, plus a personal mood and noise; each item's answer is that level plus item noise, rounded
onto 1..5 (reverse-worded items mirrored), with some "don't know" (more among practitioners on what
happens at the board table) and some items left unanswered. The answers are stored anonymously through
``record_imported_responses``, so they pass the same checks as any imported file; the register records
drawn on are never stored with them.

The story a reader should find in the results (002, 003, 004):

* the police, whose seat changed hands twice, score lowest of all organisations on continuity of
  membership (002 Table 1 row 1);
* trust and professional learning are clearly up in the second round, after a joint inter-professional
  training day for practitioners, which is in the register as a development day and a done action (004);
* hierarchy stays on the obstacle side: practitioners hold back in front of directors (002 row 8);
* momentum dips a little, as the stalled actions on the overview suggest (003);
* small organisations have fewer respondents than the anonymity threshold and are hidden in the heatmap.

>>> round_ids = add_demo_barometer(session, actor=demo_actor(), partnership_id=pid)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor
from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import DONT_KNOW, SCALE_POINTS, Instrument, default_instrument
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.metrics import months_before
from reticulist.register.models import Organisation, Person
from reticulist.register.vocab import ActionKind, ActionStatus, AttendanceStatus, MeetingKind, SeatRole

THRESHOLD = 5
ROUND_DAYS = 14  # each round is open for two weeks
TRAINING_DAY_TITLE = "Joint inter-professional training day"
TRAINING_ACTION_TITLE = "Run joint inter-professional training for practitioners"
PREFER_NOT_TO_SAY = 0.10  # each "about you" question is left blank by about one respondent in ten

# How likely someone in post is to answer. The police answer in numbers: their churn is the story, and a
# group below the threshold would hide it.
RESPONSE_RATE = {"board": 0.70, "practitioner": 0.56, "police": 0.90}

# The partnership's level on each construct in the first round (1..5, 3 = balanced).
BASELINE = {
    "continuity": 3.2,
    "free_debate": 3.2,
    "personal_stake": 3.7,
    "professional_ethos": 3.2,
    "silos": 3.0,
    "organisational_culture": 3.2,
    "structural_rigidity": 2.9,
    "hierarchy": 2.4,  # 002 row 8: juniors defer to directors
    "audacious_leadership": 3.3,
    "selflessness": 3.3,
    "trust": 2.9,
    "momentum": 3.2,
    "risk": 3.0,
    "structures": 3.0,
    "professional_identity": 3.6,
    "empowerment": 3.1,
    "agency": 3.2,
    "professional_learning": 2.7,
}
# What changed by the second round: the joint training lifted trust and learning (and working across
# professions a little); momentum slipped as actions stalled.
CHANGE = {"trust": 0.55, "professional_learning": 0.7, "silos": 0.2, "momentum": -0.15}
# Seniority colours how the table looks: directors see open debate, practitioners feel the hierarchy.
TIER_EFFECT = {
    1: {"hierarchy": 0.6, "free_debate": 0.3, "empowerment": 0.4, "structures": 0.2},
    2: {"hierarchy": 0.4, "free_debate": 0.2, "empowerment": 0.3},
    3: {"hierarchy": 0.1},
    4: {"hierarchy": -0.1, "empowerment": -0.1},
    5: {"hierarchy": -0.3, "free_debate": -0.2, "empowerment": -0.3},
}
POLICE_EFFECT = {"continuity": -1.4}  # 002: three police delegates in three years
ORGANISATION_SPREAD = 0.12  # each organisation's own lean on each construct
MOOD_SPREAD, CONSTRUCT_NOISE, ITEM_NOISE = 0.3, 0.45, 0.6
# Practitioners rarely sit at the board table, so they more often don't know how it works.
BOARD_CONSTRUCTS = {"continuity", "free_debate", "personal_stake", "hierarchy", "audacious_leadership"}
DONT_KNOW_RATE = {"board": 0.02, "practitioner": 0.03, "practitioner_board_construct": 0.22}
SKIPPED_ITEM, BROKE_OFF = 0.02, 0.07  # items left blank; respondents who stopped after a few sections


@dataclass(frozen=True)
class _Respondent:
    """Someone in the register who answers: only their profile is ever stored, never who they are."""

    organisation_id: int
    organisation_tier: str
    police: bool
    profession_id: int | None
    hierarchy_tier: int
    board: bool


@dataclass(frozen=True)
class DemoRounds:
    """What was added: the two rounds (earlier first) and the training between them."""

    round_ids: tuple[int, int]
    training_meeting_id: int
    training_action_id: int


def round_dates(today: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """The rounds' opening and closing days: the latest opened about five weeks before ``today`` and
    closed two weeks later; the earlier one a year before it."""
    latest_opens = today - timedelta(days=36)
    earlier_opens = months_before(latest_opens, 12)
    return (
        (earlier_opens, earlier_opens + timedelta(days=ROUND_DAYS - 1)),
        (latest_opens, latest_opens + timedelta(days=ROUND_DAYS - 1)),
    )


def _in_post(person: Person, day: date) -> bool:
    return (person.joined_on is None or person.joined_on <= day) and (
        person.ended_on is None or person.ended_on >= day
    )


def _people(
    session: Session, actor: Actor, partnership_id: int
) -> tuple[list[Person], set[int], dict[int, Organisation]]:
    people = sorted(
        register.list_people(session, actor=actor, partnership_id=partnership_id), key=lambda p: p.id
    )
    seated = {
        seat.person_id for seat in register.list_seats(session, actor=actor, partnership_id=partnership_id)
    }
    organisations = {
        o.id: o for o in register.list_organisations(session, actor=actor, partnership_id=partnership_id)
    }
    return people, seated, organisations


def _respondents(
    rng: np.random.Generator,
    people: list[Person],
    seated: set[int],
    organisations: dict[int, Organisation],
    day: date,
) -> list[_Respondent]:
    out = []
    in_post = [p for p in people if _in_post(p, day)]
    draws = rng.random(len(in_post))
    for person, draw in zip(in_post, draws, strict=True):
        organisation = organisations[person.organisation_id]
        # Board level: anyone who holds or held a seat, and senior managers; the rest are practitioners.
        board = person.id in seated or person.hierarchy_tier <= 3
        police = organisation.kind == "police"
        rate = RESPONSE_RATE["police" if police else "board" if board else "practitioner"]
        if draw < rate:
            out.append(
                _Respondent(
                    organisation_id=organisation.id,
                    organisation_tier=organisation.tier,
                    police=police,
                    profession_id=person.profession_id,
                    hierarchy_tier=person.hierarchy_tier,
                    board=board,
                )
            )
    return out


def _levels(
    rng: np.random.Generator,
    respondents: list[_Respondent],
    construct_keys: list[str],
    baseline: np.ndarray,
    organisation_effect: dict[int, np.ndarray],
) -> np.ndarray:
    """Respondents x constructs: baseline + organisation + tier + mood + noise."""
    tier = np.array(
        [[TIER_EFFECT.get(r.hierarchy_tier, {}).get(key, 0.0) for key in construct_keys] for r in respondents]
    ).reshape(len(respondents), len(construct_keys))
    organisation = np.array([organisation_effect[r.organisation_id] for r in respondents]).reshape(
        len(respondents), len(construct_keys)
    )
    mood = rng.normal(0.0, MOOD_SPREAD, size=(len(respondents), 1))
    noise = rng.normal(0.0, CONSTRUCT_NOISE, size=(len(respondents), len(construct_keys)))
    return baseline[None, :] + organisation + tier + mood + noise


def _answers(
    rng: np.random.Generator, instrument: Instrument, respondents: list[_Respondent], levels: np.ndarray
) -> np.ndarray:
    """Respondents x items of codes: 1..5, 0 don't know, -1 left blank."""
    construct_keys = [c.key for c in instrument.constructs]
    column = np.array([construct_keys.index(item.construct_key) for item in instrument.items])
    reverse = np.array([item.reverse for item in instrument.items])
    section_of = {key: n for n, section in enumerate(instrument.sections) for key in section.constructs}
    item_section = np.array([section_of[item.construct_key] for item in instrument.items])
    shape = (len(respondents), len(instrument.items))

    values = np.clip(np.rint(levels[:, column] + rng.normal(0.0, ITEM_NOISE, size=shape)), 1, SCALE_POINTS)
    codes = np.where(reverse[None, :], SCALE_POINTS + 1 - values, values).astype(np.int8)

    board_item = np.array([item.construct_key in BOARD_CONSTRUCTS for item in instrument.items])
    practitioner = np.array([not r.board for r in respondents])
    dont_know = np.where(
        practitioner[:, None],
        np.where(
            board_item[None, :],
            DONT_KNOW_RATE["practitioner_board_construct"],
            DONT_KNOW_RATE["practitioner"],
        ),
        DONT_KNOW_RATE["board"],
    )
    # The police know their seat's churn first-hand, practitioners included.
    police = np.array([r.police for r in respondents])
    continuity_item = np.array([item.construct_key == "continuity" for item in instrument.items])
    dont_know = np.where(police[:, None] & continuity_item[None, :], DONT_KNOW_RATE["board"], dont_know)
    codes[rng.random(shape) < dont_know] = DONT_KNOW

    blank = rng.random(shape) < SKIPPED_ITEM
    stops_after = np.where(
        rng.random(len(respondents)) < BROKE_OFF,
        rng.integers(1, len(instrument.sections), size=len(respondents)),
        len(instrument.sections),
    )
    blank |= item_section[None, :] >= stops_after[:, None]
    blank[:, 0] = False  # everyone answers (or says "don't know" to) the first statement
    codes[blank] = barometer.NOT_ANSWERED
    return codes


def _profile(rng: np.random.Generator, respondent: _Respondent) -> dict[str, object]:
    # A told organisation brings its Working Together tier anyway (check_profile); a blank tier counts
    # only where the organisation is blank too.
    told = rng.random(4) >= PREFER_NOT_TO_SAY
    return {
        "organisation_id": respondent.organisation_id if told[0] else None,
        "profession_id": respondent.profession_id if told[1] else None,
        "hierarchy_tier": respondent.hierarchy_tier if told[2] else None,
        "wt_tier": respondent.organisation_tier if told[3] else None,
    }


def _add_training(
    session: Session,
    actor: Actor,
    partnership_id: int,
    people: list[Person],
    seated: set[int],
    rng: np.random.Generator,
    after: date,
    before: date,
) -> tuple[int, int]:
    """The joint training between the rounds: a development day with practitioners from every agency,
    and the board's action that set it up, done on the day."""
    held = after + (before - after) / 2
    held -= timedelta(days=max(0, held.weekday() - 4))  # Saturday/Sunday -> Friday
    meeting = register.create_meeting(
        session,
        actor=actor,
        partnership_id=partnership_id,
        data=s.MeetingCreate(
            kind=MeetingKind.DEVELOPMENT_DAY.value,
            title=TRAINING_DAY_TITLE,
            held_on=held,
            notes=(
                "Practitioners from every agency trained together on shared cases, after the first "
                "barometer round showed low trust and little learning across professions (004: a "
                "neutral space to learn together as equals)."
            ),
        ),
    )
    practitioners = [p for p in people if _in_post(p, held) and p.id not in seated and p.hierarchy_tier >= 4]
    chosen = sorted(rng.choice(len(practitioners), size=min(40, len(practitioners)), replace=False))
    manager_seat = next(
        seat
        for seat in register.seats_held_on(session, actor=actor, partnership_id=partnership_id, on=held)
        if seat.role == SeatRole.PARTNERSHIP_MANAGER.value
    )
    entries = [s.AttendanceEntry(person_id=manager_seat.person_id, status=AttendanceStatus.PRESENT.value)]
    entries += [
        s.AttendanceEntry(
            person_id=practitioners[int(i)].id,
            status=(AttendanceStatus.PRESENT if rng.random() < 0.9 else AttendanceStatus.APOLOGIES).value,
        )
        for i in chosen
    ]
    register.set_attendance(session, actor=actor, meeting_id=meeting.id, entries=entries)

    # The board agreed it at its first meeting after the first round's results.
    boards = [
        m
        for m in register.list_meetings(session, actor=actor, partnership_id=partnership_id)
        if m.kind == MeetingKind.BOARD.value and after < m.held_on < held
    ]
    agreed_at = min(boards, key=lambda m: m.held_on) if boards else meeting
    action = register.create_action(
        session,
        actor=actor,
        partnership_id=partnership_id,
        data=s.ActionCreate(
            kind=ActionKind.ACTION.value,
            title=TRAINING_ACTION_TITLE,
            description=(
                "Agreed on the first barometer round's results: trust and professional learning were the "
                "weakest constructs. One day, practitioners from every agency, real cases."
            ),
            owner_person_id=manager_seat.person_id,
            organisation_id=manager_seat.organisation_id,
            meeting_id=agreed_at.id,
            opened_on=agreed_at.held_on,
            due_on=held,
            status=ActionStatus.DONE.value,
            closed_on=held,
            last_changed_on=held,
        ),
    )
    return meeting.id, action.id


def add_demo_barometer(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    seed: int,
    today: date | None = None,
) -> DemoRounds:
    """Add two closed rounds of the built-in barometer a year apart, their answers, and the training day
    between them to a demo partnership (not committed). The same seed and register give the same answers.
    """
    today = today or date.today()
    instrument = default_instrument()
    construct_keys = [c.key for c in instrument.constructs]
    rng = np.random.default_rng(seed)
    people, seated, organisations = _people(session, actor, partnership_id)

    effects: dict[int, np.ndarray] = {}
    for organisation_id in sorted(organisations):
        effect = rng.normal(0.0, ORGANISATION_SPREAD, size=len(construct_keys))
        if organisations[organisation_id].kind == "police":
            effect += np.array([POLICE_EFFECT.get(key, 0.0) for key in construct_keys])
        effects[organisation_id] = effect
    baseline = np.array([BASELINE.get(key, 3.0) for key in construct_keys])
    change = np.array([CHANGE.get(key, 0.0) for key in construct_keys])

    round_ids: list[int] = []
    dates = round_dates(today)
    for number, (opens_on, closes_on) in enumerate(dates):
        found = barometer.open_round(
            session,
            actor=actor,
            partnership_id=partnership_id,
            data=barometer.RoundCreate(
                instrument=f"{instrument.key}@{instrument.version}",
                title=f"{instrument.title} {opens_on.year}",
                opens_on=opens_on,
                closes_on=closes_on,
                anonymity_threshold=THRESHOLD,
            ),
        )
        respondents = _respondents(rng, people, seated, organisations, opens_on)
        levels = _levels(rng, respondents, construct_keys, baseline + number * change, effects)
        codes = _answers(rng, instrument, respondents, levels)
        item_keys = [item.key for item in instrument.items]
        rows = [
            (
                _profile(rng, respondent),
                {key: int(code) for key, code in zip(item_keys, row, strict=True) if code >= DONT_KNOW},
            )
            for respondent, row in zip(respondents, codes.tolist(), strict=True)
        ]
        barometer.record_imported_responses(
            session, actor=actor, round_id=found.id, rows=rows, source_name="demo answers"
        )
        # Both rounds have closed: their results are released, as a manager would from the round page.
        results.release_results(session, actor=actor, round_id=found.id)
        round_ids.append(found.id)

    meeting_id, action_id = _add_training(
        session, actor, partnership_id, people, seated, rng, after=dates[0][1], before=dates[1][0]
    )
    session.flush()
    return DemoRounds((round_ids[0], round_ids[1]), meeting_id, action_id)
