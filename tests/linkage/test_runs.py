"""Sources, training and runs, stored: a run over four agencies' extracts and the casework children."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.linkage.models import LinkageClusterMember, LinkagePair, LinkageRun

from .conftest import LinkWorld


def test_a_run_links_the_agencies_and_measures_itself(db: Session, linked_world: LinkWorld) -> None:
    run = db.scalar(select(LinkageRun))
    assert run is not None
    counts = run.counts
    assert counts["precision"] >= 0.98 and counts["recall"] >= 0.9
    assert counts["known_children"] >= 10
    assert db.scalar(select(func.count()).select_from(LinkagePair)) == counts["scored"]
    assert db.scalar(select(func.count()).select_from(LinkageClusterMember)) == counts["records_linked"]

