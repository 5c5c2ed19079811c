"""The review queue and the single view, on a stored run (SQLite and PostgreSQL): decisions override the
model at once and survive a new run, the band's precision is measured from them, only casework children
have a single view, and every look is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import NotFound
from reticulist.audit.models import AuditEvent
from reticulist.errors import InputError
from reticulist.linkage import review, runs, single_view
from reticulist.linkage.models import (
    LinkageClusterMember,
    LinkageLabel,
    LinkagePair,
    LinkageRun,
)

from .conftest import LinkWorld


def _cluster_of(db: Session, record_id: int) -> int | None:
    run = runs.latest_run(db, db.scalar(select(LinkageRun.partnership_id)))  # type: ignore[arg-type]
    return db.scalar(
        select(LinkageClusterMember.cluster).where(
            LinkageClusterMember.run_id == run.id,  # type: ignore[union-attr]
            LinkageClusterMember.record_id == record_id,
        )
    )


def test_the_queue_holds_the_band_and_a_decision_overrides_the_model(
    db: Session, linked_world: LinkWorld
) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    queue = review.queue(db, actor=analyst, partnership_id=pid)
    run = queue.run
    assert run is not None and queue.waiting == run.counts["review_pairs"] > 0
    assert all(run.review_threshold <= line.probability < run.linked_threshold for line in queue.lines)
    assert [line.probability for line in queue.lines] == sorted(
        (line.probability for line in queue.lines), reverse=True
    )
    # A pair in the band whose records the run did not join (some are joined through a third record).
    pair = next(
        p
        for p in (db.get(LinkagePair, line.pair_id) for line in queue.lines)
        if p is not None
        and (_cluster_of(db, p.left_id) is None or _cluster_of(db, p.left_id) != _cluster_of(db, p.right_id))
    )
    first = next(line for line in queue.lines if line.pair_id == pair.id)

    view = review.pair_view(db, actor=analyst, partnership_id=pid, pair_id=pair.id)
    assert {view.left.record_id, view.right.record_id} == {pair.left_id, pair.right_id}
    assert abs(view.prior + sum(e.weight for e in view.evidence) - pair.match_weight) < 1e-6
    review.decide_pair(
        db, actor=analyst, partnership_id=pid, pair_id=pair.id, decision="same", note="The school confirmed."
    )
    joined = _cluster_of(db, pair.left_id)
    assert joined is not None and joined == _cluster_of(db, pair.right_id)
    after = review.queue(db, actor=analyst, partnership_id=pid)
    assert after.waiting == queue.waiting - 1 and after.decided == 1
    assert first.pair_id not in {line.pair_id for line in after.lines}
    band = next(b for b in after.bands if b.low <= pair.probability < b.high)
    assert (band.decided, band.same, band.precision) == (1, 1, 1.0)

    # Changed to "different children": apart at once, and the change is audited as a diff.
    review.decide_pair(db, actor=analyst, partnership_id=pid, pair_id=pair.id, decision="different")
    assert _cluster_of(db, pair.left_id) is None or _cluster_of(db, pair.left_id) != _cluster_of(
        db, pair.right_id
    )
    changes = db.scalars(select(AuditEvent).where(AuditEvent.event == "linkage.decided")).all()
    assert len(changes) == 2 and changes[1].before == {
        "id": changes[1].after["id"],
        "decision": "same",
        "note": "The school confirmed.",
    } | {k: v for k, v in changes[1].before.items() if k not in ("id", "decision", "note")}
    viewed = db.scalar(select(AuditEvent).where(AuditEvent.event == "linkage.pair_viewed"))
    assert viewed is not None and viewed.record_id == pair.id


def test_decisions_survive_a_new_run(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    line = review.queue(db, actor=analyst, partnership_id=pid).lines[0]
    pair = db.get(LinkagePair, line.pair_id)
    assert pair is not None
    review.decide_pair(db, actor=analyst, partnership_id=pid, pair_id=pair.id, decision="same")
    # A stricter run would not even link what the model alone scored: the decision still joins them.
    second = runs.run(db, actor=analyst, partnership_id=pid, linked="0.95", review="0.5")
    assert runs.latest_run(db, pid) is second
    joined = _cluster_of(db, pair.left_id)
    assert joined is not None and joined == _cluster_of(db, pair.right_id)
    assert pair.left_id not in {
        p.left_id
        for p in db.scalars(
            select(LinkagePair).where(LinkagePair.run_id == second.id, LinkagePair.probability < 0.5)
        )
    }


BAD_DECISIONS = (
    ("maybe", "", "decision"),
    ("", "", "decision"),
    ("unsure", "", "note"),
    ("same", "x" * 2001, "note"),
    ("same", "bad\x00", "note"),
)


def test_a_decision_is_checked(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    line = review.queue(db, actor=analyst, partnership_id=pid).lines[0]
    for decision, note, field in BAD_DECISIONS:
        with pytest.raises(InputError) as caught:
            review.decide_pair(
                db, actor=analyst, partnership_id=pid, pair_id=line.pair_id, decision=decision, note=note
            )
        assert field in caught.value.by_field(), (decision, note)
    assert db.scalar(select(LinkageLabel)) is None


def test_only_casework_children_have_a_single_view(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    known, unlinked = single_view.known_children(db, actor=analyst, partnership_id=pid)
    assert len(known) + len(unlinked) == len(linked_world.member_ids)
    assert len(known) >= 10
    child = known[0]
    view = single_view.child_view(db, actor=analyst, partnership_id=pid, member_id=child.member_id)
    assert view.records[0].source == "casework" and len(view.records) == len(child.agencies) + 1
    assert sorted(r.source for r in view.records[1:]) == child.agencies
    assert all(link.probability is None or link.probability >= 0.2 for link in view.links)
    seen = db.scalar(select(AuditEvent).where(AuditEvent.event == "linkage.child_viewed"))
    assert seen is not None and seen.record_id == child.member_id and "Ellie" not in seen.summary
    # A child of no casework family here is not found (a number is not a way in).
    for member_id in (0, -1, 10_000_000):
        with pytest.raises(NotFound):
            single_view.child_view(db, actor=analyst, partnership_id=pid, member_id=member_id)  # type: ignore[arg-type]


def test_taking_a_record_off_and_attaching_it_again(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    child = single_view.known_children(db, actor=analyst, partnership_id=pid)[0][0]
    view = single_view.child_view(db, actor=analyst, partnership_id=pid, member_id=child.member_id)
    agency = view.records[1]
    single_view.attach(
        db,
        actor=analyst,
        partnership_id=pid,
        member_id=child.member_id,
        record_id=agency.record_id,
        same=False,
        note="A cousin.",
    )
    view = single_view.child_view(db, actor=analyst, partnership_id=pid, member_id=child.member_id)
    assert agency.record_id not in {r.record_id for r in view.records}
    single_view.attach(
        db,
        actor=analyst,
        partnership_id=pid,
        member_id=child.member_id,
        record_id=agency.record_id,
        same=True,
    )
    view = single_view.child_view(db, actor=analyst, partnership_id=pid, member_id=child.member_id)
    assert agency.record_id in {r.record_id for r in view.records}
    assert any(link.decision == "same" for link in view.links)


def test_linkage_by_group(db: Session, linked_world: LinkWorld) -> None:
    analyst, pid = linked_world.actors["analyst"], linked_world.world.partnership_id
    tables = {t.field: t for t in single_view.by_group(db, actor=analyst, partnership_id=pid)}
    assert set(tables) == {"Agency", "Area", "Ethnicity"}  # the truth is never a group shown
    agencies = {line.value: line for line in tables["Agency"].lines}
    assert set(agencies) == {"health", "school", "police", "voluntary"}
    assert all(line.records == 250 and 0.7 < line.share <= 1 for line in agencies.values())
    assert sum(line.records for line in tables["Ethnicity"].lines) == 1000


def test_other_roles_find_no_linkage(db: Session, linked_world: LinkWorld) -> None:
    pid = linked_world.world.partnership_id
    pair_id = db.scalar(select(LinkagePair.id))
    for persona in ("manager", "admin", "member", "outsider"):
        actor = linked_world.actors[persona]
        calls = (
            (review.queue, {}),
            (review.pair_view, {"pair_id": pair_id}),
            (review.decide_pair, {"pair_id": pair_id, "decision": "same"}),
            (single_view.known_children, {}),
            (single_view.by_group, {}),
            (runs.run, {}),
        )
        for call, extra in calls:
            with pytest.raises(NotFound):
                call(db, actor=actor, partnership_id=pid, **extra)  # type: ignore[operator]
    # The analyst of one partnership finds nothing of another's.
    other = linked_world.world.other_partnership_id
    with pytest.raises(NotFound):
        review.pair_view(db, actor=linked_world.actors["analyst"], partnership_id=other, pair_id=pair_id)  # type: ignore[arg-type]
