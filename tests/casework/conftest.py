"""Casework personas on top of the shared world: practitioners linked to register people (the lead, a team
member, a colleague of the lead's organisation who is not involved), the early help coordinator and the
data protection role; the world's manager, member and outsider see no case records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Actor, Role, cli_actor
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import PASSWORD, World

ROOT = cli_actor("test set-up")
TODAY = date.today()


@dataclass
class CaseWorld:
    world: World
    actors: dict[str, Actor]  # lead, team, colleague, coordinator, dpo, manager, member, outsider
    emails: dict[str, str]
    person_ids: dict[str, int]  # register people of the practitioners
    health_id: int
    family_id: int
    episode_id: int


def family_data(world: CaseWorld | None, lead_person_id: int, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reference": "EH-0001",
        "members": [
            {
                "kind": "child",
                "forenames": "Ellie",
                "surname": "Marsh",
                "date_of_birth": (TODAY - timedelta(days=9 * 365)).isoformat(),
                "sex": "female",
                "relationship_to_children": "child",
                "nhs_number": "943 476 5919",
                "address": {"lines": "1 Canal Row, Brempton", "postcode": "bn1 1aa", "from_on": "2024-01-01"},
            },
            {
                "kind": "adult",
                "forenames": "Jo",
                "surname": "Marsh",
                "relationship_to_children": "mother",
                "parental_responsibility": "yes",
                "shielded": "yes",
                "address": {"lines": "Refuge, somewhere", "postcode": "BN2 9ZZ", "from_on": "2025-06-01"},
            },
        ],
        "episode": {
            "requested_by": "Brempton Primary School",
            "request_reason": "Attendance has fallen and Ellie seems withdrawn.",
            "requested_on": (TODAY - timedelta(days=40)).isoformat(),
            "agreed_on": (TODAY - timedelta(days=35)).isoformat(),
            "opened_on": (TODAY - timedelta(days=30)).isoformat(),
            "lead_person_id": lead_person_id,
            "lead_role": "Family support worker",
            "family_had_say": "yes",
        },
        "agreed_by": 2,
    }
    data.update(extra)
    return data


@pytest.fixture
def case_world(db: Session, world: World) -> CaseWorld:
    health = register.create_organisation(
        db,
        actor=ROOT,
        partnership_id=world.partnership_id,
        data=s.OrganisationCreate(name="Brempton Health", kind="health", tier="statutory"),
    )
    db.flush()
    emails, actors, person_ids = {}, {}, {}
    for persona, role, organisation_id in [
        ("lead", Role.PRACTITIONER, world.organisation_id),
        ("team", Role.PRACTITIONER, health.id),
        ("colleague", Role.PRACTITIONER, world.organisation_id),
        ("coordinator", Role.COORDINATOR, None),
        ("dpo", Role.DATA_PROTECTION, None),
    ]:
        email = f"{persona}@case.example.org"
        user = accounts.create_user(
            db, actor=ROOT, email=email, display_name=persona.title(), password=PASSWORD
        )
        accounts.set_role(db, actor=ROOT, partnership_id=world.partnership_id, user_id=user.id, role=role)
        if organisation_id is not None:
            person = register.create_person(
                db,
                actor=ROOT,
                partnership_id=world.partnership_id,
                data=s.parse(
                    s.PersonCreate,
                    {
                        "full_name": f"{persona.title()} Practitioner",
                        "email": email,
                        "organisation_id": organisation_id,
                        "hierarchy_tier": 5,
                    },
                ),
            )
            casework.link_practitioner(
                db, actor=ROOT, partnership_id=world.partnership_id, user_id=user.id, person_id=person.id
            )
            person_ids[persona] = person.id
        emails[persona] = email
        actors[persona] = accounts.actor_for(db, user)
    for persona in ("manager", "member", "outsider", "admin"):
        actors[persona] = getattr(world, persona)
        emails[persona] = world.emails[persona]
    family = casework.record_family(
        db,
        actor=actors["lead"],
        partnership_id=world.partnership_id,
        data=s.parse(cs.FamilyCreate, family_data(None, person_ids["lead"])),
    )
    db.flush()
    episode_id = family_episode(db, family.id)
    casework.add_to_team(
        db,
        actor=actors["lead"],
        episode_id=episode_id,
        data=cs.InvolvementCreate(
            person_id=person_ids["team"], role="School nurse", from_on=TODAY - timedelta(days=20)
        ),
    )
    db.commit()
    return CaseWorld(world, actors, emails, person_ids, health.id, family.id, episode_id)


def family_episode(db: Session, family_id: int) -> int:
    from sqlalchemy import select

    from reticulist.casework.models import Episode

    found = db.scalar(select(Episode.id).where(Episode.family_id == family_id, Episode.closed_on.is_(None)))
    assert found is not None
    return found
