"""The demo's comparison group: Brempton and generated peer partnerships, all opted in, with a planted
effect of late entry on boundary spanning (comparison.synthetic) that the study recovers.

``store_partnership`` writes one generated partnership as the register, the network and the barometer
hold a real one (organisations, professions, people, the board's seats, a year of board meetings with
attendance, imported ties, and a released barometer round), in bulk: the benchmark stores 150 of them
with the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from reticulist.access.models import User
from reticulist.access.policy import Actor
from reticulist.access.secrets import hash_password
from reticulist.barometer import results as barometer_results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import SCALE_POINTS, default_instrument
from reticulist.comparison import service
from reticulist.comparison.synthetic import PLACES, SyntheticPartnership, generate_partnerships
from reticulist.db.bulk import insert_rows
from reticulist.network.models import NetworkTie, random_id
from reticulist.register import models as r

PEERS = 11
GROUP_NAME = "North West safeguarding partnerships"
# The planted effect: late entrants' ties cross organisation boundaries this much more often.
LATE_ENTRY_EFFECT = 0.25
PEOPLE = (80, 260)  # people per peer partnership (Brempton has about 170)
TIES_PER_PERSON = (4.0, 8.0)
ANALYST_EMAIL = "analyst@northwest.example.org"
ANALYST_PASSWORD = "northwest-analyst-demo"  # demo only: printed by `reticulist demo`


def peer_names(peers: int = PEERS) -> set[str]:
    """The demo's generated partnerships' names (the generator names them by position, whatever the seed),
    so that a new demo knows an earlier one's peers as demo data."""
    return {f"{place} Safeguarding Children Partnership" for place in PLACES[:peers]}


@dataclass(frozen=True)
class DemoComparison:
    group_id: int
    partnership_ids: tuple[int, ...]  # the peers, Brempton not included


def _respondent_levels(
    rng: np.random.Generator, n: int, construct_count: int, shift: np.ndarray
) -> np.ndarray:
    base = 3.2 + shift
    return base[None, :] + rng.normal(0.0, 0.7, size=(n, construct_count))


def _release(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    respondents: int,
    rng: np.random.Generator,
    today: date,
    instrument_ref: str,
    shift_sd: float = 0.12,
) -> None:
    """A closed round of the built-in barometer with generated answers (no profiles: no breakdowns), and
    its released results, as a manager would release them."""
    instrument = default_instrument()
    closes_on = today - timedelta(days=int(rng.integers(20, 300)))
    opens_on = closes_on - timedelta(days=28)
    found = barometer.open_round(
        session,
        actor=actor,
        partnership_id=partnership_id,
        data=barometer.RoundCreate(
            instrument=instrument_ref,
            title=f"{instrument.title} {opens_on.year}",
            opens_on=opens_on,
            closes_on=closes_on,
        ),
    )
    keys = [c.key for c in instrument.constructs]
    shift = rng.normal(0.0, shift_sd, size=len(keys))
    levels = _respondent_levels(rng, respondents, len(keys), shift)
    column = np.array([keys.index(item.construct_key) for item in instrument.items])
    reverse = np.array([item.reverse for item in instrument.items])
    values = np.clip(np.rint(levels[:, column] + rng.normal(0.0, 0.6, size=(respondents, column.size))), 1, 5)
    codes = np.where(reverse[None, :], SCALE_POINTS + 1 - values, values).astype(int)
    item_keys = [item.key for item in instrument.items]
    rows = [({}, dict(zip(item_keys, row, strict=True))) for row in codes.tolist()]
    barometer.record_imported_responses(
        session, actor=actor, round_id=found.id, rows=rows, source_name="generated answers"
    )
    barometer_results.release_results(session, actor=actor, round_id=found.id)


def _ids_by_name(session: Session, model: type, partnership_id: int, rows: list[dict]) -> list[int]:
    """Each row's id: the partnership's record of that name (ignoring case) where it has one, else a new
    one (written in bulk)."""
    have = {
        name.lower(): i
        for i, name in session.execute(
            select(model.id, model.name).where(model.partnership_id == partnership_id)  # type: ignore[attr-defined]
        ).all()
    }
    new = [row for row in rows if row["name"].lower() not in have]
    made = insert_rows(session, model.__table__, [{"partnership_id": partnership_id, **row} for row in new])  # type: ignore[attr-defined]
    have.update({row["name"].lower(): i for row, i in zip(new, made, strict=True)})
    return [have[row["name"].lower()] for row in rows]


def store_partnership(
    session: Session,
    partnership: SyntheticPartnership,
    *,
    actor: Actor,
    today: date,
    rng: np.random.Generator,
    respondents: int | None = None,
    release: Callable[..., None] | None = None,
    into: int | None = None,
) -> int:
    """Write a generated partnership to the database (not committed); its id. ``respondents``: the
    barometer round's answers (default: about 40% of its people, at least 12; 0 for no round). ``into``:
    an existing partnership to write the people, board, meetings, ties and round into."""
    if into is None:
        p = r.Partnership(
            name=partnership.name, kind="safeguarding_children", area=partnership.name.split(" Safeg")[0]
        )
        session.add(p)
        session.flush()
    else:
        found = session.get(r.Partnership, into)
        assert found is not None
        p = found
    joined = today - timedelta(days=900)
    org_ids = _ids_by_name(
        session,
        r.Organisation,
        p.id,
        [
            {
                "name": name,
                "kind": kind,
                "tier": "statutory" if k < 3 else "other_member",
                "joined_on": joined,
            }
            for k, (name, kind) in enumerate(
                zip(partnership.organisation_names, partnership.organisation_kinds, strict=True)
            )
        ],
    )
    profession_ids = _ids_by_name(
        session, r.Profession, p.id, [{"name": n} for n in partnership.profession_names]
    )
    n = partnership.organisation.size
    years = partnership.years_in_profession
    person_ids = insert_rows(
        session,
        r.Person.__table__,  # type: ignore[arg-type]
        [
            {
                "partnership_id": p.id,
                "full_name": f"Person {i + 1}",
                "email": None,
                "organisation_id": org_ids[int(partnership.organisation[i])],
                "profession_id": profession_ids[int(partnership.profession[i])],
                "hierarchy_tier": int(partnership.hierarchy_tier[i]),
                "years_in_profession": None if np.isnan(years[i]) else int(years[i]),
                "late_entry": bool(partnership.late_entry[i]),
                "interprofessional_training": bool(partnership.interprofessional_training[i]),
                "joined_on": joined,
                "ended_on": None,
            }
            for i in range(n)
        ],
    )
    ids = np.array(person_ids, dtype=np.int64)

    # The board: each organisation's most senior person holds its seat; some seats changed hands (the
    # earlier holder's tenure ended), so continuity differs between partnerships.
    seats = []
    board = []
    for k, org_id in enumerate(org_ids):
        members = np.flatnonzero(partnership.organisation == k)
        if members.size == 0:
            continue
        members = members[np.argsort(partnership.hierarchy_tier[members], kind="stable")]
        changes = int(rng.choice([0, 0, 1, 2, 3], p=[0.35, 0.15, 0.25, 0.15, 0.1]))
        holders = members[: min(changes + 1, members.size)]
        start = today - timedelta(days=700)
        step = 700 // (holders.size)
        for h, holder in enumerate(holders.tolist()):
            began = start + timedelta(days=h * step)
            ended = None if h == holders.size - 1 else began + timedelta(days=step - 1)
            seats.append(
                {
                    "partnership_id": p.id,
                    "organisation_id": org_id,
                    "person_id": int(ids[holder]),
                    "role": "chair" if k == 0 and h == holders.size - 1 else "member",
                    "started_on": began,
                    "ended_on": ended,
                }
            )
        board.append((org_id, int(ids[holders[-1]])))
    insert_rows(session, r.Seat.__table__, seats)  # type: ignore[arg-type]

    # A board meeting a month for the last year, each organisation there or not.
    meetings = insert_rows(
        session,
        r.Meeting.__table__,  # type: ignore[arg-type]
        [
            {
                "partnership_id": p.id,
                "kind": "board",
                "title": f"Board {today.year}-{m + 1:02d}",
                "held_on": today - timedelta(days=30 * (m + 1)),
                "notes": "",
                "cancelled": False,
            }
            for m in range(12)
        ],
    )
    presence = rng.uniform(0.6, 0.97)
    insert_rows(
        session,
        r.Attendance.__table__,  # type: ignore[arg-type]
        [
            {
                "meeting_id": meeting_id,
                "person_id": person_id,
                "organisation_id": org_id,
                "status": "present" if rng.random() < presence else "absent",
            }
            for meeting_id in meetings
            for org_id, person_id in board
        ],
    )

    # Imported ties, observed in the last year (each stored once per pair and day).
    observed = today - timedelta(days=int(rng.integers(10, 200)))
    made = datetime.combine(observed, time(0), tzinfo=UTC)
    tie_rows = [
        {
            "id": random_id(),
            "partnership_id": p.id,
            "source": "imported",
            "from_person_id": int(a),
            "to_person_id": int(b),
            "weight": 1.0,
            "observed_on": observed,
            "created_at": made,
        }
        for a, b in zip(ids[partnership.source].tolist(), ids[partnership.target].tolist(), strict=True)
    ]
    for start in range(0, len(tie_rows), 5000):
        session.execute(insert(NetworkTie), tie_rows[start : start + 5000])

    answered = respondents if respondents is not None else max(12, int(n * 0.4))
    if not answered:
        return p.id
    (release or _release)(
        session,
        actor=actor,
        partnership_id=p.id,
        respondents=answered,
        rng=rng,
        today=today,
        instrument_ref=f"{default_instrument().key}@{default_instrument().version}",
    )
    return p.id


def _analyst(session: Session) -> User:
    found = session.scalar(select(User).where(User.email == ANALYST_EMAIL))
    if found is None:
        found = User(
            email=ANALYST_EMAIL,
            display_name="Demo regional analyst",
            password_hash=hash_password(ANALYST_PASSWORD),
        )
        session.add(found)
        session.flush()
    return found


def add_demo_comparison(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    seed: int,
    today: date,
    peers: int = PEERS,
    step: Callable[[str], None] | None = None,
) -> DemoComparison:
    """The demo's comparison group with Brempton and ``peers`` generated partnerships, all opted in (the
    odd ones by name), their figures stored, and the demo's regional analyst (not committed)."""
    rng = np.random.default_rng(seed + 13)
    generated = generate_partnerships(
        peers, people=PEOPLE, ties_per_person=TIES_PER_PERSON, late_entry_effect=LATE_ENTRY_EFFECT, seed=rng
    )
    ids = []
    for k, partnership in enumerate(generated):
        if step:
            step(f"Comparison: peer partnership {k + 1} of {peers}")
        ids.append(store_partnership(session, partnership, actor=actor, today=today, rng=rng))
    group = service.create_group(
        session,
        actor=actor,
        name=GROUP_NAME,
        description="The region's safeguarding children partnerships: a demo of comparing partnerships.",
    )
    service.add_analyst(session, actor=actor, group_id=group.id, email=_analyst(session).email)
    for k, pid in enumerate([partnership_id, *ids]):
        if step:
            step(f"Comparison: figures of partnership {k + 1} of {peers + 1}")
        service.opt_in(session, actor=actor, partnership_id=pid, group_id=group.id, named=k % 2 == 0)
    return DemoComparison(group.id, tuple(ids))
