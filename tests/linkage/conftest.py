"""A partnership with linkage in use: four agencies' synthetic extracts loaded as sources (with the truth
as a group field, so runs measure themselves), casework children some of whom the agencies know, a linkage
analyst, and a trained model. Built once per backend and copied for each test would be ideal; it is quick
enough (a few seconds) to build per test that asks for it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Actor, Role, cli_actor
from reticulist.casework.models import Family, FamilyMember, MemberAddress
from reticulist.linkage import extracts, model, runs, sources, synthetic
from reticulist.linkage.models import LinkageModel
from reticulist.linkage.sources import TRUTH
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import PASSWORD, World

ROOT = cli_actor("test set-up")
AGENCIES = {"health": "Brempton Health", "school": "Brempton Schools", "police": "Brempton Police"}
AGENCIES["voluntary"] = "Brempton Family Action"


@dataclass
class LinkWorld:
    world: World
    actors: dict[str, Actor]  # analyst (the linkage role), manager, member, outsider, admin
    emails: dict[str, str]
    files: dict[str, Path]
    extracts: synthetic.Extracts
    member_ids: dict[int, int]  # synthetic person id -> casework family member id


def _organisations(db: Session, world: World) -> None:
    for name in AGENCIES.values():
        if name == "Brempton Police":
            continue  # the world has it already
        register.create_organisation(
            db,
            actor=ROOT,
            partnership_id=world.partnership_id,
            data=s.OrganisationCreate(name=name, kind="other", tier="statutory"),
        )
    db.flush()


def _casework_children(
    db: Session, world: World, population: pl.DataFrame, known: list[int]
) -> dict[int, int]:
    """Casework records (family and child, with the current address) for some of the synthetic children."""
    out = {}
    rows = population.filter(pl.col("person_id").is_in(known)).to_dicts()
    for number, person in enumerate(rows, start=1):
        family = Family(partnership_id=world.partnership_id, reference=f"EH-{number:04d}")
        db.add(family)
        db.flush()
        child = FamilyMember(
            family_id=family.id,
            partnership_id=world.partnership_id,
            kind="child",
            forenames=person["forename"],
            surname=person["surname"],
            surname_key=person["surname"].lower(),
            date_of_birth=person["date_of_birth"] if isinstance(person["date_of_birth"], date) else None,
            sex=person["sex"] or "not-known",
            nhs_number=person["nhs_number"],
        )
        db.add(child)
        db.flush()
        db.add(
            MemberAddress(
                member_id=child.id,
                lines=person["address"],
                postcode=person["postcode"],
                from_on=date(2024, 1, 1),
            )
        )
        out[person["person_id"]] = child.id
    db.flush()
    return out


PER_AGENCY, SEED = 250, 11


def build(
    db: Session, world: World, folder: Path, *, per_agency: int = PER_AGENCY, seed: int = SEED
) -> LinkWorld:
    _organisations(db, world)
    emails, actors = {}, {}
    user = accounts.create_user(
        db, actor=ROOT, email="analyst@link.example.org", display_name="Analyst", password=PASSWORD
    )
    accounts.set_role(db, actor=ROOT, partnership_id=world.partnership_id, user_id=user.id, role=Role.LINKAGE)
    emails["analyst"] = "analyst@link.example.org"
    actors["analyst"] = accounts.actor_for(db, user)
    for persona in ("manager", "member", "outsider", "admin"):
        actors[persona] = getattr(world, persona)
        emails[persona] = world.emails[persona]
    made = synthetic.extracts(per_agency, seed=seed)
    files = synthetic.as_files(made, folder)
    for agency, path in files.items():
        extract = extracts.read_extract(path, groups=(TRUTH,))
        sources.add_source(
            db,
            actor=actors["analyst"],
            partnership_id=world.partnership_id,
            name=agency,
            agency=AGENCIES[agency],
            extract=extract,
            file_name=path.name,
        )
    health = made.sources["health"]
    children = made.population.filter(pl.col("is_child"))
    known = children.filter(pl.col("person_id").is_in(health.get_column("person_id").to_list())).head(12)
    member_ids = _casework_children(db, world, made.population, known.get_column("person_id").to_list())
    db.commit()
    return LinkWorld(world, actors, emails, files, made, member_ids)


@pytest.fixture
def link_world(db: Session, world: World, tmp_path: Path) -> LinkWorld:
    return build(db, world, tmp_path / "extracts")


@pytest.fixture(scope="session")
def trained_parameters() -> dict[str, Any]:
    """A model trained once per test session on the same extracts (``runs.train`` has its own tests):
    training is the slow part, and it needs no database."""
    standardised = synthetic.standardised(synthetic.extracts(PER_AGENCY, seed=SEED))
    return model.train(model.linker_for(standardised), max_pairs=1e5)


@pytest.fixture
def linked_world(db: Session, link_world: LinkWorld, trained_parameters: dict[str, Any]) -> LinkWorld:
    """The same, with a model (version 1) and one run made."""
    analyst = link_world.actors["analyst"]
    pid = link_world.world.partnership_id
    db.add(
        LinkageModel(
            partnership_id=pid,
            version=1,
            parameters=trained_parameters,
            trained_on={"sources": [], "engine": "duckdb", "u_pairs_sampled": 100_000},
            trained_by_label="test set-up",
        )
    )
    db.flush()
    runs.run(db, actor=analyst, partnership_id=pid)
    db.commit()
    return link_world
