"""Each partnership's figures for comparison, stored when its data change and read by every comparison.

``refresh`` computes a partnership's whole figures (register, network, released barometer rounds) and
one row per person for the study, and stores them (``PartnershipFigures``, ``PersonFigures``). A
comparison of 150 partnerships then reads 150 rows instead of analysing 150 networks.

What "changed" means is watched in one place: every flush that adds, changes or deletes a record the
figures are made of (people, organisations, professions, seats, meetings, attendance, actions, ties,
barometer releases) marks that partnership's figures as behind (``changed_at``), and so do the two bulk
writers that bypass the ORM (the register import and a network step's replaced ties), by calling
``mark_changed``. A refresh recomputes the figures that are missing, behind, or older than
``MAX_AGE_DAYS`` (the network's window and the register's continuity window move with the calendar).

Every network is read the same way for comparison, whatever a partnership's network page shows: the
default sources of the last year (``network.analysis.default_choice``), ties taken both ways
(symmetrised), so that density and brokerage mean the same in every partnership.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session

from reticulist.access.policy import cli_actor
from reticulist.barometer.models import BarometerInstrument, BarometerRelease, BarometerRound
from reticulist.comparison.models import ComparisonMember, PartnershipFigures, PersonFigures
from reticulist.db.base import utcnow
from reticulist.db.bulk import insert_rows
from reticulist.network import metrics as m
from reticulist.network import service as network
from reticulist.network.analysis import default_choice
from reticulist.network.models import NetworkTie
from reticulist.register import models as r
from reticulist.register.overview import partnership_overview

FIGURES_VERSION = 1
# Figures older than this are recomputed by the next refresh even if nothing changed: the network's
# last-year window and the continuity window move with the calendar.
MAX_AGE_DAYS = 7
# Below this many partnerships to compute, one process does it: starting worker processes costs several
# seconds (each imports the application), more than a few small partnerships take.
PARALLEL_FROM = 16
# Brokerage concentration: the share of all cross-organisation brokerage held by this top share of people.
TOP_SHARE = 0.10


# --- what changed ---------------------------------------------------------------------------------------
_WATCHED_WITH_PARTNERSHIP: tuple[type, ...] = (
    r.Person,
    r.Organisation,
    r.Profession,
    r.Seat,
    r.Meeting,
    r.Action,
    NetworkTie,
)


def mark_changed(session: Session, partnership_ids: Iterable[int]) -> None:
    """Say that these partnerships' stored figures are behind their data (bulk writers call this)."""
    ids = sorted(set(partnership_ids))
    if ids:
        session.execute(
            update(PartnershipFigures)
            .where(PartnershipFigures.partnership_id.in_(ids), PartnershipFigures.changed_at.is_(None))
            .values(changed_at=utcnow())
            .execution_options(synchronize_session=False)
        )


@dataclass
class _Changed:
    """What a flush changes, collected before it without a query of its own (on SQLite a read before the
    flush's first write would make the transaction a reader that cannot become a writer once another
    connection has written: "database is locked" at once instead of a wait)."""

    partnerships: set[int]
    meetings: set[int]  # attendance names its partnership through its meeting
    rounds: set[int]  # a release through its round


def _changes(session: Session) -> _Changed:
    found = _Changed(set(), set(), set())
    dirty = [obj for obj in session.dirty if session.is_modified(obj, include_collections=False)]
    for obj in (*session.new, *dirty, *session.deleted):
        if isinstance(obj, _WATCHED_WITH_PARTNERSHIP):
            pid = getattr(obj, "partnership_id", None)
            if pid is not None:
                found.partnerships.add(pid)
        elif isinstance(obj, r.Attendance) and obj.meeting_id is not None:
            found.meetings.add(obj.meeting_id)
        elif isinstance(obj, BarometerRelease) and obj.round_id is not None:
            found.rounds.add(obj.round_id)
    return found


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Collect what this flush changes (before it: deleted objects still hold their keys, and changed ones
    are still known as changed)."""
    if session.new or session.dirty or session.deleted:
        found = _changes(session)
        if found.partnerships or found.meetings or found.rounds:
            session.info["comparison_changed"] = found


@event.listens_for(Session, "after_flush")
def _mark_changes(session: Session, flush_context: Any) -> None:
    """Mark the partnerships' figures behind, in the flush's transaction (its writes are done, so the
    queries here are a writer's)."""
    found: _Changed | None = session.info.pop("comparison_changed", None)
    if found is None:
        return
    ids = set(found.partnerships)
    connection = session.connection()
    if found.meetings:
        ids |= set(
            connection.scalars(select(r.Meeting.partnership_id).where(r.Meeting.id.in_(found.meetings)))
        )
    if found.rounds:
        ids |= set(
            connection.scalars(
                select(BarometerRound.partnership_id).where(BarometerRound.id.in_(found.rounds))
            )
        )
    mark_changed(session, ids)


# --- computing ------------------------------------------------------------------------------------------
def _share(part: float, whole: float) -> float | None:
    return float(part / whole) if whole else None


def _register_figures(session: Session, partnership_id: int, today: date) -> dict[str, Any]:
    overview = partnership_overview(
        session, actor=cli_actor("comparison figures"), partnership_id=partnership_id, today=today
    )
    rows = [row for group in overview.tiers.values() for row in group]
    continuity = [row.continuity for row in rows if row.continuity is not None]
    rates = [row.attendance.rate for row in rows if row.attendance and row.attendance.rate is not None]
    tenures = [c.mean_tenure_days for c in continuity if c.mean_tenure_days is not None]
    mix = overview.hierarchy
    return {
        "people": overview.people_count,
        "organisations": len(rows),
        "organisations_represented": len(continuity),
        # 002 Table 1 row 1: the share of represented organisations whose seat did not change hands twice.
        "continuity": _share(sum(not c.discontinued for c in continuity), len(continuity)),
        "mean_tenure_months": float(np.mean(tenures)) / 30.44 if tenures else None,
        "attendance": float(np.mean(rates)) if rates else None,
        "meetings": overview.meetings_last_12_months,
        "board": mix.total,
        # 002 Table 1 row 8: the board's hierarchy mix.
        "board_middle_share": mix.middle_share,
        "board_top_and_practitioner": mix.top_and_practitioner_together,
    }


@dataclass(frozen=True)
class _NetworkResult:
    figures: dict[str, Any]
    person_ids: np.ndarray
    spanner_score: np.ndarray
    liaison: np.ndarray
    brokerage: np.ndarray
    ties: np.ndarray


def _network_figures(session: Session, partnership_id: int, today: date) -> _NetworkResult:
    actor = cli_actor("comparison figures")
    choice = default_choice(session, actor=actor, partnership_id=partnership_id, today=today)
    net = network.network_for(
        session,
        actor=actor,
        partnership_id=partnership_id,
        sources=choice.sources,
        since=choice.since,
        as_of=choice.as_of,
    )
    analysis = m.analyse_network(**net.for_metrics(directed=False))
    people = analysis.people
    w = analysis.whole
    n = w.people
    brokerage = people.cross_organisation_brokerage
    top = max(1, int(np.ceil(n * TOP_SHARE))) if n else 0
    total_brokerage = float(brokerage.sum())
    figures = {
        "sources": sorted(choice.sources),
        "since": choice.since.isoformat() if choice.since else None,
        "people": n,
        "ties": w.ties,
        "density": w.density if n > 1 else None,
        "ei_organisation": w.organisations.ei_index,
        "ei_profession": w.professions.ei_index,
        # People whose leaving would cut some pair of people in different organisations apart.
        "key_person_share": _share(int((people.cut_pairs > 0).sum()), n),
        "brokerage_top_share": (
            float(np.sort(brokerage)[::-1][:top].sum() / total_brokerage) if total_brokerage else None
        ),
    }
    assert net.person_ids is not None  # the figures' actor sees names
    return _NetworkResult(
        figures=figures,
        person_ids=net.person_ids,
        spanner_score=np.clip(m.spanner_scores(analysis), 0.0, 1.0),
        liaison=people.brokerage_organisation[:, m.LIAISON],
        brokerage=brokerage,
        ties=people.degree,
    )


def _round_figures(session: Session, partnership_id: int) -> list[dict[str, Any]]:
    """Released rounds' whole-round construct figures, as published (never the answers)."""
    rows = session.execute(
        select(BarometerRound, BarometerInstrument.key, BarometerInstrument.version, BarometerRelease)
        .join(BarometerRelease, BarometerRelease.round_id == BarometerRound.id)
        .join(BarometerInstrument, BarometerInstrument.id == BarometerRound.instrument_id)
        .where(BarometerRound.partnership_id == partnership_id)
        .order_by(BarometerRound.closes_on)
    ).all()
    out = []
    for found, key, version, release in rows:
        constructs = {
            c["key"]: {"n": c["n"], "mean": c["mean"], "sd": c["sd"]}
            for c in release.results.get("constructs", [])
            if not c.get("suppressed") and c.get("mean") is not None and c.get("n")
        }
        out.append(
            {
                "round": found.id,
                "instrument": key,
                "version": version,
                "closes_on": (found.closed_early_on or found.closes_on).isoformat(),
                "respondents": release.respondents,
                "threshold": found.anonymity_threshold,
                "open_link": bool(found.had_open_link),
                "constructs": constructs,
            }
        )
    return out


def compute(
    session: Session, partnership_id: int, today: date
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One partnership's whole figures and its people's rows for the study (not stored)."""
    result = _network_figures(session, partnership_id, today)
    figures = {
        "version": FIGURES_VERSION,
        "register": _register_figures(session, partnership_id, today),
        "network": result.figures,
        "rounds": _round_figures(session, partnership_id),
    }
    people = (
        {
            p.id: p
            for p in session.scalars(
                select(r.Person).where(r.Person.id.in_(result.person_ids.tolist()))
            ).unique()
        }
        if result.person_ids.size
        else {}
    )
    rows = []
    for i, pid in enumerate(result.person_ids.tolist()):
        p = people[pid]
        rows.append(
            {
                "partnership_id": partnership_id,
                "person_id": pid,
                "organisation_kind": p.organisation.kind,
                "profession": p.profession.name if p.profession else network.NO_PROFESSION,
                "hierarchy_tier": p.hierarchy_tier,
                "years_in_profession": p.years_in_profession,
                "late_entry": bool(p.late_entry),
                "interprofessional_training": bool(p.interprofessional_training),
                "spanner_score": float(result.spanner_score[i]),
                "liaison": int(result.liaison[i]),
                "cross_organisation_brokerage": int(result.brokerage[i]),
                "ties": int(result.ties[i]),
            }
        )
    return figures, rows


def store(
    session: Session,
    partnership_id: int,
    figures: dict[str, Any],
    rows: Sequence[dict[str, Any]],
    today: date,
) -> None:
    """Replace the partnership's stored figures in the session's transaction. The partnership's row is
    locked first, so two refreshes of one partnership at once (PostgreSQL) run one after the other."""
    session.execute(select(r.Partnership.id).where(r.Partnership.id == partnership_id).with_for_update())
    session.execute(delete(PersonFigures).where(PersonFigures.partnership_id == partnership_id))
    insert_rows(session, PersonFigures.__table__, list(rows))  # type: ignore[arg-type]
    stored = session.scalar(
        select(PartnershipFigures).where(PartnershipFigures.partnership_id == partnership_id)
    )
    if stored is None:
        stored = PartnershipFigures(partnership_id=partnership_id)
        session.add(stored)
    stored.figures = figures
    stored.as_of = today
    stored.computed_at = utcnow()
    stored.changed_at = None


def due(session: Session, *, today: date, partnership_ids: Sequence[int] | None = None) -> list[int]:
    """Opted-in partnerships (or these) whose figures are missing, behind their data, or too old."""
    members = select(ComparisonMember.partnership_id).distinct()
    wanted = set(session.scalars(members)) if partnership_ids is None else set(partnership_ids)
    if not wanted:
        return []
    stored = {
        f.partnership_id: f
        for f in session.scalars(
            select(PartnershipFigures).where(PartnershipFigures.partnership_id.in_(sorted(wanted)))
        )
    }
    oldest = today - timedelta(days=MAX_AGE_DAYS)
    return sorted(
        pid
        for pid in wanted
        if pid not in stored
        or stored[pid].changed_at is not None
        or stored[pid].as_of < oldest
        or stored[pid].figures.get("version") != FIGURES_VERSION
    )


@dataclass(frozen=True)
class Refreshed:
    partnerships: int
    people: int
    seconds: float


# Per worker process: an engine on the parent's database, made once (see _compute_in_worker).
_worker_sessions: Any = None


def _start_worker(url: str) -> None:
    global _worker_sessions
    from reticulist.db.engine import make_engine, make_session_factory

    _worker_sessions = make_session_factory(make_engine(url))


def _compute_in_worker(partnership_id: int, today: date) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    with _worker_sessions() as session:
        figures, rows = compute(session, partnership_id, today)
    return partnership_id, figures, rows


def refresh(
    session: Session,
    *,
    today: date | None = None,
    partnership_ids: Sequence[int] | None = None,
    everything: bool = False,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Refreshed:
    """Recompute and store the figures that are due (``everything``: all of them, due or not), each
    partnership stored in its own transaction (committed as it goes, so a long refresh keeps what it has
    done).

    ``workers`` above 1 computes partnerships (when at least ``PARALLEL_FROM`` are due) in that many
    processes at once, each reading the database
    on its own connection (a network's betweenness runs on one core; a refresh of many partnerships
    uses them all); this process stores the results in turn. Processes are spawned, not forked, so no
    database connection of this process is shared with them."""
    started = datetime.now()
    today = today or network.today()
    if everything:
        ids = sorted(set(session.scalars(select(ComparisonMember.partnership_id).distinct())))
        if partnership_ids is not None:
            ids = sorted(set(partnership_ids))
    else:
        ids = due(session, today=today, partnership_ids=partnership_ids)
    people = 0

    def keep(k: int, pid: int, figures: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        nonlocal people
        store(session, pid, figures, rows, today)
        session.commit()
        people += len(rows)
        if progress:
            progress(k, len(ids))

    if workers > 1 and len(ids) >= PARALLEL_FROM:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        session.commit()  # the workers read what is committed
        url = session.get_bind().url.render_as_string(hide_password=False)
        with ProcessPoolExecutor(
            max_workers=min(workers, len(ids)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(url,),
        ) as pool:
            done = pool.map(_compute_in_worker, ids, [today] * len(ids))
            for k, (pid, figures, rows) in enumerate(done, start=1):
                keep(k, pid, figures, rows)
    else:
        for k, pid in enumerate(ids, start=1):
            figures, rows = compute(session, pid, today)
            keep(k, pid, figures, rows)
    return Refreshed(len(ids), people, (datetime.now() - started).total_seconds())
