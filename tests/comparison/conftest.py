"""A comparison group on the test world: the world's partnership (with generated people, board, meetings,
ties and a released round) and five generated peers, all opted in, the odd ones by name; an analyst.
Built on both databases (the ``world`` fixture's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pytest
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Actor, cli_actor
from reticulist.comparison import service
from reticulist.comparison.demo import store_partnership
from reticulist.comparison.synthetic import generate_partnerships
from tests.conftest import PASSWORD, World

PEERS = 5


@dataclass
class Compared:
    world: World
    group_id: int
    peers: tuple[int, ...]
    analyst: Actor
    analyst_email: str
    stranger: Actor  # an account with no role anywhere and no group


@pytest.fixture
def compared(db: Session, world: World) -> Compared:
    root = cli_actor("test set-up")
    today = date.today()
    rng = np.random.default_rng(7)
    made = generate_partnerships(
        PEERS + 1, people=(40, 60), ties_per_person=(3.0, 5.0), late_entry_effect=0.3, seed=rng
    )
    store_partnership(
        db, made[0], actor=root, today=today, rng=rng, respondents=14, into=world.partnership_id
    )
    peers = tuple(
        store_partnership(db, p, actor=root, today=today, rng=rng, respondents=14) for p in made[1:]
    )
    group = service.create_group(db, actor=root, name="North West test group", threshold=5)
    analyst = accounts.create_user(
        db, actor=root, email="analyst@example.org", display_name="Analyst", password=PASSWORD
    )
    stranger = accounts.create_user(
        db, actor=root, email="stranger@example.org", display_name="Stranger", password=PASSWORD
    )
    service.add_analyst(db, actor=root, group_id=group.id, email=analyst.email)
    for k, pid in enumerate((world.partnership_id, *peers)):
        service.opt_in(db, actor=root, partnership_id=pid, group_id=group.id, named=k % 2 == 1)
    db.commit()
    world.emails["analyst"] = analyst.email
    world.emails["stranger"] = stranger.email
    return Compared(
        world,
        group.id,
        peers,
        accounts.actor_for(db, analyst),
        analyst.email,
        accounts.actor_for(db, stranger),
    )
