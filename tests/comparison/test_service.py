"""Comparison services on both databases: who may opt in and see what, opting out, stored figures that
follow the data, and the anonymity rules of every published cell."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reticulist.access.policy import NotAllowed, NotFound, cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.barometer.models import BarometerRelease, BarometerRound
from reticulist.comparison import figures, service
from reticulist.comparison.models import ComparisonMember, PartnershipFigures, PersonFigures
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Attendance, Meeting
from tests.comparison.conftest import PEERS, Compared
from tests.conftest import World

PSEUDONYM = re.compile(r"^Partnership [A-Z]+$")


def test_only_the_partnerships_admin_opts_it_in(db: Session, world: World) -> None:
    group = service.create_group(db, actor=cli_actor(), name="Group")
    with pytest.raises(NotAllowed):
        service.opt_in(db, actor=world.manager, partnership_id=world.partnership_id, group_id=group.id)
    with pytest.raises(NotFound):
        service.opt_in(db, actor=world.outsider, partnership_id=world.partnership_id, group_id=group.id)
    with pytest.raises(NotFound):
        service.opt_in(db, actor=world.admin, partnership_id=world.partnership_id, group_id=group.id + 999)
    service.opt_in(db, actor=world.admin, partnership_id=world.partnership_id, group_id=group.id)
    db.commit()
    # Its figures are stored at once, so the next comparison has it.
    assert db.scalar(
        select(PartnershipFigures).where(PartnershipFigures.partnership_id == world.partnership_id)
    )
    with pytest.raises(InputError) as twice:
        service.opt_in(db, actor=world.admin, partnership_id=world.partnership_id, group_id=group.id)
    assert twice.value.by_field() == {"group": "Brempton Test Partnership is already in Group"}
    db.rollback()
    said = db.scalars(select(AuditEvent.summary).where(AuditEvent.record_type == "comparison_member")).all()
    assert said == ["Brempton Test Partnership opted in to comparison group Group (under a pseudonym)"]


def test_groups_are_site_administrators_and_names_are_unique(db: Session, world: World) -> None:
    with pytest.raises(NotFound):
        service.create_group(db, actor=world.admin, name="Mine")
    service.create_group(db, actor=cli_actor(), name="North")
    with pytest.raises(InputError) as taken:
        service.create_group(db, actor=cli_actor(), name="NORTH")
    assert taken.value.by_field() == {"name": 'there is already a comparison group called "NORTH"'}
    for bad, field in [("", "name"), ("x" * 201, "name"), ("bell\x07", "name")]:
        with pytest.raises(InputError) as refused:
            service.create_group(db, actor=cli_actor(), name=bad)
        assert field in refused.value.by_field()
    with pytest.raises(InputError) as low:
        service.create_group(db, actor=cli_actor(), name="Low", threshold=2)
    assert "threshold" in low.value.by_field()


def test_a_manager_sees_their_partnership_by_name_and_the_others_under_pseudonyms(
    db: Session, compared: Compared
) -> None:
    w = compared.world
    seen = service.comparison(
        db, actor=w.manager, group_id=compared.group_id, partnership_id=w.partnership_id
    )
    assert seen.own is not None and seen.own.label == "Brempton Test Partnership"
    others = [p.label for p in seen.peers if not p.own]
    assert len(others) == PEERS and all(PSEUDONYM.match(label) for label in others)
    # Named peers agreed to be named to the analysts, not to the other partnerships.
    assert seen.headline  # words on where the manager's own partnership stands
    assert all(line.startswith(("Brempton Test Partnership", "Within the limits")) for line in seen.headline)
    assert not any("Partnership " in line.removeprefix("Brempton Test Partnership") for line in seen.headline)
    # The admin too; a member (no VIEW_COMPARISON) may not; an outsider and a stranger do not know it exists.
    service.comparison(db, actor=w.admin, group_id=compared.group_id, partnership_id=w.partnership_id)
    with pytest.raises(NotAllowed):
        service.comparison(db, actor=w.member, group_id=compared.group_id, partnership_id=w.partnership_id)
    for nobody in (w.outsider, compared.stranger):
        with pytest.raises(NotFound):
            service.comparison(db, actor=nobody, group_id=compared.group_id, partnership_id=w.partnership_id)
    # Nor can a partnership's managers read the group as its analysts do.
    with pytest.raises(NotFound):
        service.comparison(db, actor=w.manager, group_id=compared.group_id)


def test_the_analyst_sees_names_only_where_partnerships_agreed(db: Session, compared: Compared) -> None:
    seen = service.comparison(db, actor=compared.analyst, group_id=compared.group_id)
    members = {m.partnership_id: m.named for m in db.scalars(select(ComparisonMember))}
    names = {p.partnership_id: p for p in seen.peers}
    for pid, named in members.items():
        assert bool(PSEUDONYM.match(names[pid].label)) is not named
    assert not any(p.own for p in seen.peers)
    # Outsiders, strangers and the partnerships' own people get nothing of the analysts' view.
    for nobody in (compared.world.outsider, compared.stranger, compared.world.admin):
        with pytest.raises(NotFound):
            service.comparison(db, actor=nobody, group_id=compared.group_id)
        with pytest.raises(NotFound):
            service.run_study(db, actor=nobody, group_id=compared.group_id)
        with pytest.raises(NotFound):
            service.research_extract(db, actor=nobody, group_id=compared.group_id)


def test_pseudonyms_follow_a_keyed_order_not_ids_or_names(db: Session, compared: Compared) -> None:
    ids = [compared.world.partnership_id, *compared.peers]
    orders = []
    for k in range(6):
        labels = service.pseudonyms(db, 1000 + k, ids)
        orders.append(tuple(sorted(ids, key=lambda pid: labels[pid])))
        assert sorted(labels.values()) == [f"Partnership {chr(65 + i)}" for i in range(len(ids))]
    assert len(set(orders)) > 1  # another group, another order: nothing to line up with the register
    assert service.pseudonyms(db, 1000, ids) == service.pseudonyms(db, 1000, list(reversed(ids)))


def test_opting_out_removes_the_partnership_from_every_later_comparison(
    db: Session, compared: Compared
) -> None:
    w = compared.world
    before = service.comparison(db, actor=compared.analyst, group_id=compared.group_id)
    people_before = service.run_study(db, actor=compared.analyst, group_id=compared.group_id).people
    with pytest.raises(NotAllowed):
        service.opt_out(db, actor=w.manager, partnership_id=w.partnership_id, group_id=compared.group_id)
    service.opt_out(db, actor=w.admin, partnership_id=w.partnership_id, group_id=compared.group_id)
    db.commit()
    after = service.comparison(db, actor=compared.analyst, group_id=compared.group_id)
    assert len(after.peers) == len(before.peers) - 1
    assert w.partnership_id not in {p.partnership_id for p in after.peers}
    shown = {c.key: len(c.funnel.points) for c in before.constructs}
    assert {c.key: len(c.funnel.points) + 1 for c in after.constructs} == shown
    own_people = db.scalar(
        select(PersonFigures.id).where(PersonFigures.partnership_id == w.partnership_id).limit(1)
    )
    assert own_people is not None  # its own figures stay its own; the group no longer reads them
    remaining = service.run_study(db, actor=compared.analyst, group_id=compared.group_id)
    assert remaining.people < people_before and remaining.partnerships == PEERS
    extract = service.research_extract(db, actor=compared.analyst, group_id=compared.group_id)
    assert extract.frame["partnership"].n_unique() <= PEERS
    # Its managers no longer see the group, and opting out twice is refused by name.
    with pytest.raises(NotFound):
        service.comparison(db, actor=w.manager, group_id=compared.group_id, partnership_id=w.partnership_id)
    with pytest.raises(InputError):
        service.opt_out(db, actor=w.admin, partnership_id=w.partnership_id, group_id=compared.group_id)


def test_hidden_cells_stay_out_of_the_pooled_figures(db: Session, compared: Compared) -> None:
    """A construct figure from fewer respondents than the threshold is hidden, and the group's mean is made
    of shown cells only: else the pooled mean minus the others' would give the hidden one away."""
    group = db.get(service.ComparisonGroup, compared.group_id)
    assert group is not None
    group.threshold = 15  # every round here has 14 respondents
    db.commit()
    seen = service.comparison(db, actor=compared.analyst, group_id=compared.group_id)
    assert seen.constructs and all(not c.funnel.points for c in seen.constructs)
    assert all(c.hidden == PEERS + 1 for c in seen.constructs)
    assert all(c.funnel.target is None for c in seen.constructs)
    # Network figures of partnerships under the threshold's people are hidden too (all have 40 or more).
    group.threshold = 100
    db.commit()
    seen = service.comparison(db, actor=compared.analyst, group_id=compared.group_id)
    density = [m.key for m in seen.measures].index("network.density")
    assert all(row.cells[density] == "—" for row in seen.rows)
    assert seen.medians[density] == "—"

    group.threshold = 5
    db.commit()
    seen = service.comparison(db, actor=compared.analyst, group_id=compared.group_id)
    for c in seen.constructs:
        n = np.array([p.point.n for p in c.funnel.points], dtype=float)
        mean = np.array([p.point.mean for p in c.funnel.points])
        assert c.funnel.target == pytest.approx(float((n * mean).sum() / n.sum()))


def test_figures_are_marked_behind_when_the_data_change_and_refreshed(
    db: Session, compared: Compared
) -> None:
    w = compared.world
    assert figures.due(db, today=figures.network.today()) == []
    register.create_person(
        db,
        actor=w.manager,
        partnership_id=w.partnership_id,
        data=s.PersonCreate(full_name="New Person", organisation_id=w.organisation_id, hierarchy_tier=5),
    )
    db.commit()
    assert figures.due(db, today=figures.network.today()) == [w.partnership_id]
    seen = service.comparison(
        db, actor=w.manager, group_id=compared.group_id, partnership_id=w.partnership_id
    )
    assert seen.own is not None and seen.own.behind
    done = figures.refresh(db)
    assert done.partnerships == 1
    assert figures.due(db, today=figures.network.today()) == []
    seen = service.comparison(
        db, actor=w.manager, group_id=compared.group_id, partnership_id=w.partnership_id
    )
    assert seen.own is not None and not seen.own.behind
    # A change in another partnership marks only that one.
    register.create_person(
        db,
        actor=cli_actor(),
        partnership_id=w.other_partnership_id,
        data=s.PersonCreate(
            full_name="Elsewhere", organisation_id=_organisation(db, w.other_partnership_id), hierarchy_tier=5
        ),
    )
    db.commit()
    assert figures.due(db, today=figures.network.today()) == []


def _organisation(db: Session, partnership_id: int) -> int:
    made = register.create_organisation(
        db,
        actor=cli_actor(),
        partnership_id=partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    return made.id


def test_the_study_and_extract_are_audited_and_name_nobody(db: Session, compared: Compared) -> None:
    result = service.run_study(db, actor=compared.analyst, group_id=compared.group_id)
    assert result.partnerships == PEERS + 1 and result.people > 200
    extract = service.research_extract(db, actor=compared.analyst, group_id=compared.group_id)
    db.commit()
    columns = set(extract.frame.columns)
    assert not columns & {"person_id", "partnership_id", "full_name", "email", "years_in_profession"}
    assert extract.smallest_cell >= 5
    # Partnerships are pseudonyms in the extract even where they agreed to be named on the pages.
    assert all(PSEUDONYM.match(v) for v in extract.frame["partnership"].unique().to_list())
    said = db.scalars(
        select(AuditEvent.event).where(AuditEvent.record_type == "comparison_group").order_by(AuditEvent.id)
    ).all()
    assert said[-2:] == ["studied", "exported"]


def test_a_refresh_in_worker_processes_stores_what_one_process_does(
    db: Session, compared: Compared, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly refresh computes partnerships in several processes (each on its own connection): the
    stored figures are the same as one process computes."""
    one = figures.refresh(db, everything=True)
    before = {f.partnership_id: f.figures for f in db.scalars(select(PartnershipFigures))}
    people = sorted(db.execute(select(PersonFigures.person_id, PersonFigures.spanner_score)).all())
    monkeypatch.setattr(figures, "PARALLEL_FROM", 2)
    two = figures.refresh(db, everything=True, workers=2)
    db.expire_all()
    assert two.partnerships == one.partnerships == PEERS + 1 and two.people == one.people
    assert {f.partnership_id: f.figures for f in db.scalars(select(PartnershipFigures))} == before
    assert sorted(db.execute(select(PersonFigures.person_id, PersonFigures.spanner_score)).all()) == people


def test_people_with_no_recorded_tie_are_left_out_of_the_study(db: Session, compared: Compared) -> None:
    """Their score is 0 because nobody recorded their ties, not because they span nothing."""
    w = compared.world
    before = service.run_study(db, actor=compared.analyst, group_id=compared.group_id)
    for k in range(3):
        register.create_person(
            db,
            actor=w.manager,
            partnership_id=w.partnership_id,
            data=s.PersonCreate(
                full_name=f"Unsurveyed {k}",
                organisation_id=w.organisation_id,
                hierarchy_tier=5,
                late_entry=True,
            ),
        )
    db.commit()
    figures.refresh(db)
    after = service.run_study(db, actor=compared.analyst, group_id=compared.group_id)
    assert after.people == before.people
    assert after.left_out_no_ties == before.left_out_no_ties + 3
    assert after.words[0].endswith(
        "with no recorded tie left out: no tie recorded is not the same as no boundary spanning."
    )
    extract = service.research_extract(db, actor=compared.analyst, group_id=compared.group_id)
    assert extract.frame.filter(extract.frame["ties"] == 0).height + extract.suppressed >= 3


def test_bulk_imports_attendance_and_releases_mark_figures_behind(
    db: Session, compared: Compared, tmp_path: Path
) -> None:
    """The writers that bypass the ORM's flush (the register import) and the records that name their
    partnership through another (attendance through its meeting, a release through its round) mark it too."""
    from reticulist.register import transfer
    from reticulist.register.transfer import RecordType

    w = compared.world
    today = figures.network.today()
    path = tmp_path / "meetings.csv"
    path.write_text(
        "held_on,kind,title,notes,cancelled\n2026-01-10,board,Imported board,,no\n", encoding="utf-8"
    )
    transfer.import_file(
        db, actor=w.manager, partnership_id=w.partnership_id, kind=RecordType.MEETINGS, path=path
    )
    assert figures.due(db, today=today) == [w.partnership_id]
    figures.refresh(db)

    peer = compared.peers[0]
    meeting = db.scalar(select(Meeting).where(Meeting.partnership_id == peer))
    attended = db.scalar(select(Attendance).where(Attendance.meeting_id == meeting.id))  # type: ignore[union-attr]
    attended.status = "apologies" if attended.status != "apologies" else "present"  # type: ignore[union-attr]
    db.commit()
    assert figures.due(db, today=today) == [peer]
    figures.refresh(db)

    release = db.scalar(
        select(BarometerRelease)
        .join(BarometerRound)
        .where(BarometerRound.partnership_id == compared.peers[1])
    )
    db.delete(release)
    db.commit()
    assert figures.due(db, today=today) == [compared.peers[1]]


def test_a_server_keeps_the_figures_following_the_data(
    session_factory: sessionmaker[Session], db: Session, compared: Compared
) -> None:
    """The web server's follower recomputes what changed within its period, on its own sessions."""
    import time

    from reticulist.comparison.follow import FiguresFollower

    w = compared.world
    register.create_person(
        db,
        actor=w.manager,
        partnership_id=w.partnership_id,
        data=s.PersonCreate(full_name="Followed", organisation_id=w.organisation_id, hierarchy_tier=3),
    )
    db.commit()
    assert figures.due(db, today=figures.network.today()) == [w.partnership_id]
    follower = FiguresFollower(session_factory, 0.2)
    follower.start()
    try:
        deadline = time.monotonic() + 30
        while figures.due(db, today=figures.network.today()) and time.monotonic() < deadline:
            db.rollback()  # a new snapshot for the next look
            time.sleep(0.2)
    finally:
        follower.stop()
    assert figures.due(db, today=figures.network.today()) == []
    assert follower.once() == 0  # nothing left to do
