"""Sources, training and runs, stored: a run over four agencies' extracts and the casework children."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.errors import InputError
from reticulist.linkage import extracts, runs, sources
from reticulist.linkage.models import LinkageClusterMember, LinkagePair, LinkageRecord, LinkageRun
from reticulist.linkage.sources import TRUTH
from tests.conftest import World

from .conftest import AGENCIES, LinkWorld


def test_a_run_links_the_agencies_and_measures_itself(db: Session, linked_world: LinkWorld) -> None:
    run = db.scalar(select(LinkageRun))
    assert run is not None
    counts = run.counts
    assert counts["precision"] >= 0.98 and counts["recall"] >= 0.9
    assert counts["known_children"] >= 10
    assert db.scalar(select(func.count()).select_from(LinkagePair)) == counts["scored"]
    assert db.scalar(select(func.count()).select_from(LinkageClusterMember)) == counts["records_linked"]


def test_the_plan_counts_each_blocking_rule_before_a_run(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    plan = runs.plan(db, actor=analyst, partnership_id=pid)
    db.rollback()
    run = db.scalar(select(LinkageRun))
    assert run is not None
    assert [r[0] for r in plan.rules][:2] == ["the same NHS number", "the same unique pupil number"]
    assert plan.rules[-1][2] == run.counts["compared"] == sum(n for _, n, _ in plan.rules)
    assert dict(plan.sources)["casework"] == len(linked_world.member_ids)


def test_models_are_versioned_with_what_they_learnt_from(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    second = runs.train(db, actor=analyst, partnership_id=pid, max_pairs=1e5)
    assert second.version == 2
    assert {s["source"] for s in second.trained_on["sources"]} == {"health", "school", "police", "voluntary"}
    assert second.trained_on["engine"] == "duckdb"
    levels = {c["output_column_name"] for c in second.parameters["comparisons"]}
    assert levels == {"name", "date_of_birth", "postcode", "nhs_number", "upn", "sex"}
    assert runs.model_version(db, actor=analyst, partnership_id=pid, version=None).version == 2
    trained = db.scalar(select(AuditEvent).where(AuditEvent.event == "linkage.model_trained"))
    assert trained is not None and trained.summary.startswith("Trained linkage model version 2 on ")
    with pytest.raises(InputError, match="no model version 9"):
        runs.model_version(db, actor=analyst, partnership_id=pid, version=9)


def test_training_needs_two_agency_sources(db: Session, world: World) -> None:
    analyst = cli_actor()
    with pytest.raises(InputError, match="at least two agency sources"):
        runs.train(db, actor=analyst, partnership_id=world.partnership_id)


@pytest.mark.parametrize(
    ("linked", "review", "field", "message"),
    [
        ("1", "0.2", "linked", "must be more than 0 and less than 1"),
        ("0.7", "0", "review", "must be more than 0 and less than 1"),
        ("0.5", "0.6", "review", "must not be above the threshold for linked"),
        ("nan", "0.2", "linked", "must be more than 0 and less than 1"),
        ("seven", "0.2", "linked", "must be a probability such as 0.7"),
    ],
)
def test_thresholds_are_checked(linked: str, review: str, field: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        runs.thresholds(linked, review)
    assert caught.value.by_field() == {field: message}


def test_a_run_is_audited_with_its_counts(db: Session, linked_world: LinkWorld) -> None:
    events = db.scalars(select(AuditEvent).where(AuditEvent.record_type.like("linkage%"))).all()
    kinds = [e.event for e in events]
    assert kinds.count("linkage.source_loaded") == 4
    assert "linkage.run" in kinds
    run_event = next(e for e in events if e.event == "linkage.run")
    assert "linked pairs" in run_event.summary and "Ellie" not in run_event.summary


def test_loading_a_source_again_keeps_the_records_it_still_has(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    police = linked_world.files["police"]
    frame = pl.read_csv(police, infer_schema=False)
    kept_key = frame.get_column("Record ID")[1]
    kept_id = db.scalar(select(LinkageRecord.id).where(LinkageRecord.record_key == kept_key))
    shorter = police.with_name("police-2.csv")
    frame.slice(1).write_csv(shorter)  # the first record is gone from the new extract
    loaded = sources.add_source(
        db,
        actor=analyst,
        partnership_id=pid,
        name="police",
        agency=AGENCIES["police"],
        extract=extracts.read_extract(shorter, groups=(TRUTH,)),
        file_name=shorter.name,
        replace=True,
    )
    assert (loaded.added, loaded.changed, loaded.removed) == (0, frame.height - 1, 1)
    assert db.scalar(select(LinkageRecord.id).where(LinkageRecord.record_key == kept_key)) == kept_id
    with pytest.raises(InputError, match="already loaded"):
        sources.add_source(
            db,
            actor=analyst,
            partnership_id=pid,
            name="police",
            agency=AGENCIES["police"],
            extract=extracts.read_extract(shorter),
            file_name=shorter.name,
        )


@pytest.mark.parametrize(
    ("name", "agency", "field"),
    [
        ("casework", "Brempton Police", "name"),
        ("", "Brempton Police", "name"),
        ("x" * 41, "Brempton Police", "name"),
        ("new", "No Such Agency", "agency"),
        ("a;drop", "Brempton Police", "name"),
        ("family action", "Brempton Police", "name"),
        ("family-action", "Brempton Police", "name"),
        ("1st", "Brempton Police", "name"),
    ],
)
def test_a_source_needs_a_name_and_an_agency_in_the_register(
    db: Session, world: World, tmp_path: Path, name: str, agency: str, field: str
) -> None:
    path = tmp_path / "police.csv"
    path.write_text("Record ID,Forename,Surname\nP1,Ellie,Marsh\n")
    with pytest.raises(InputError) as caught:
        sources.add_source(
            db,
            actor=cli_actor(),
            partnership_id=world.partnership_id,
            name=name,
            agency=agency,
            extract=extracts.read_extract(path),
            file_name="police.csv",
        )
    assert field in caught.value.by_field()
    # "Brempton Police" in any case is the register's organisation.
    sources.add_source(
        db,
        actor=cli_actor(),
        partnership_id=world.partnership_id,
        name="police",
        agency="BREMPTON POLICE",
        extract=extracts.read_extract(path),
        file_name="police.csv",
    )
