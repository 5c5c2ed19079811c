"""Casework figures for managers: how early help is going, by organisation, without names.

Live figures would leak: a manager who looked on Monday and again on Tuesday would see one family's
referral decided, or one episode ended, by subtracting. So the figures are published a quarter at a time
(the board's rhythm; and a quarter's groups are larger than a month's, so fewer figures are hidden), after
the quarter has ended, once, and stored as published (``CaseworkRelease``): a second look shows the same
figures, and a quarter cannot be published twice (a database rule, so two managers at once cannot both
do it). Each quarter counts only its own events: families starting early help, episodes ending, referrals
decided and reviews falling due. Every family's event belongs to one quarter, so no two quarters can be
subtracted either. Within a quarter each table is protected with ``disclosure.protect`` (every breakdown
and mean of the table together), with families as the units: a family counts once per table (its first
such event of the quarter).

The register's organisations are every table's rows, whether or not they had a family that quarter, so
that which rows appear says nothing. How many families are open at the quarter's end (a count at a date: two
quarter ends could be subtracted to show a handful of families) is published with noise instead of
hiding (``periods.noisy_table``, differential privacy), drawn once and kept with the rest.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.audit import service as audit
from reticulist.barometer.models import DEFAULT_THRESHOLD, MIN_THRESHOLD
from reticulist.casework.models import (
    CaseworkRelease,
    Episode,
    Involvement,
    LeadPractitioner,
    Referral,
    Review,
)
from reticulist.casework.periods import Column, Dimension, noisy_table, protect_table
from reticulist.casework.vocab import CHILDRENS_SOCIAL_CARE_DECISION_DAYS, EpisodeOutcome, ReferralStatus
from reticulist.casework.working_days import working_days_between
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.register.models import Organisation

ONE_RELEASE_RULE = "uq_casework_release_quarter"
MAX_THRESHOLD = 50
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.I)

WEEKS_OPEN = Column("weeks_open", "Weeks in early help", 0, 104, min_width=12)
DAYS_TO_DECISION = Column("working_days", "Working days to decision", 0, 20, min_width=3)
REVIEW_STATUSES = ("Held by the due date", "Held late", "Not held yet")
# A share (a mean of yes/no) would tell a small group's count (1 of 25 overdue): two-way counts instead,
# organisation by yes/no, protected with the rest of the table.
ON_TIME_OR_LATE = ("On time", "Late")


def parse_quarter(text: str, *, field: str = "quarter") -> date:
    """'2026-Q3' to its first day (1 July 2026); InputError naming ``field`` otherwise."""
    found = _QUARTER.match(text.strip()) if isinstance(text, str) else None
    if not found or not 2000 <= int(found.group(1)) <= 2999:
        raise InputError("give a quarter as YYYY-Qn, for example 2026-Q3", field=field)
    return date(int(found.group(1)), 3 * int(found.group(2)) - 2, 1)


def quarter_of(day: date) -> date:
    """The first day of the quarter holding ``day``."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter(first: date) -> date:
    return date(first.year + (first.month == 10), (first.month + 2) % 12 + 1, 1)


def quarter_key(first: date) -> str:
    return f"{first.year}-Q{(first.month + 2) // 3}"


def quarter_words(first: date) -> str:
    """'July to September 2026'."""
    last = date(first.year, first.month + 2, 1)
    return f"{first.strftime('%B')} to {last.strftime('%B %Y')}"


# --- what is published --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReleaseSummary:
    quarter: str  # 2026-Q3
    title: str  # "July to September 2026"
    published_on: date
    published_by: str


@dataclass(frozen=True)
class Release:
    quarter: str
    title: str
    threshold: int
    published_on: date
    published_by: str
    tables: list[dict[str, Any]]


def _summary(row: CaseworkRelease) -> ReleaseSummary:
    return ReleaseSummary(
        quarter_key(row.quarter), quarter_words(row.quarter), row.published_at.date(), row.published_by_label
    )


def releases(session: Session, *, actor: Actor, partnership_id: int) -> list[ReleaseSummary]:
    """The quarters published, latest first."""
    ensure_allowed(actor, Can.VIEW_CASEWORK_FIGURES, partnership_id)
    rows = session.scalars(
        select(CaseworkRelease)
        .where(CaseworkRelease.partnership_id == partnership_id)
        .order_by(CaseworkRelease.quarter.desc())
    )
    return [_summary(r) for r in rows]


def release(session: Session, *, actor: Actor, partnership_id: int, quarter: str) -> Release:
    """A published quarter's figures, exactly as published. NotFound for a quarter not published."""
    ensure_allowed(actor, Can.VIEW_CASEWORK_FIGURES, partnership_id)
    try:
        first = parse_quarter(quarter)
    except InputError:
        raise NotFound("No figures for that quarter.") from None
    row = session.scalar(
        select(CaseworkRelease).where(
            CaseworkRelease.partnership_id == partnership_id, CaseworkRelease.quarter == first
        )
    )
    if row is None:
        raise NotFound("No figures for that quarter.")
    summary = _summary(row)
    return Release(
        summary.quarter,
        summary.title,
        row.threshold,
        summary.published_on,
        summary.published_by,
        json.loads(row.figures)["tables"],
    )


def publishable_quarters(
    session: Session, *, actor: Actor, partnership_id: int, today: date | None = None
) -> list[str]:
    """Ended quarters not yet published, latest first, from the quarter of the partnership's first episode
    or referral."""
    ensure_allowed(actor, Can.PUBLISH_CASEWORK_FIGURES, partnership_id)
    today = today or date.today()
    firsts = [
        session.scalar(select(func.min(Episode.opened_on)).where(Episode.partnership_id == partnership_id)),
        session.scalar(select(func.min(Referral.sent_on)).where(Referral.partnership_id == partnership_id)),
    ]
    known = [d for d in firsts if d is not None]
    if not known:
        return []
    done = set(
        session.scalars(
            select(CaseworkRelease.quarter).where(CaseworkRelease.partnership_id == partnership_id)
        )
    )
    first, current, out = quarter_of(min(known)), quarter_of(today), []
    while first < current:
        if first not in done:
            out.append(quarter_key(first))
        first = next_quarter(first)
    return out[::-1]


def _already(first: date) -> str:
    return f"{quarter_words(first)} is already published; its figures do not change"


def publish_quarter(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    quarter: str,
    threshold: int = DEFAULT_THRESHOLD,
    today: date | None = None,
) -> Release:
    """Work out, protect and store one ended quarter's figures. Refused (InputError) for a quarter that
    has not ended, one already published, or a threshold outside 3..50. The caller commits."""
    ensure_allowed(actor, Can.PUBLISH_CASEWORK_FIGURES, partnership_id)
    first = parse_quarter(quarter)
    today = today or date.today()
    if first >= quarter_of(today):
        raise InputError(
            "a quarter's figures are published once the quarter has ended (live figures would let a "
            "second look tell one family apart)",
            field="quarter",
        )
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int)
        or not (MIN_THRESHOLD <= threshold <= MAX_THRESHOLD)
    ):
        raise InputError(f"must be a whole number from {MIN_THRESHOLD} to {MAX_THRESHOLD}", field="threshold")
    if session.scalar(
        select(CaseworkRelease.id).where(
            CaseworkRelease.partnership_id == partnership_id, CaseworkRelease.quarter == first
        )
    ):
        raise InputError(_already(first), field="quarter")
    tables = quarter_tables(session, partnership_id=partnership_id, quarter=first, threshold=threshold)
    _store(session, actor, partnership_id, first, threshold, tables)
    return release(session, actor=actor, partnership_id=partnership_id, quarter=quarter_key(first))


def _store(
    session: Session,
    actor: Actor,
    partnership_id: int,
    first: date,
    threshold: int,
    tables: list[dict[str, Any]],
) -> CaseworkRelease:
    """Store a quarter's tables; the database refuses a second release of one quarter (two managers at
    once who both passed the check) with the check's words."""
    row = CaseworkRelease(
        partnership_id=partnership_id,
        quarter=first,
        threshold=threshold,
        figures=json.dumps({"tables": tables}),
        published_by_label=actor.label,
    )
    with refusing_duplicates(session, {ONE_RELEASE_RULE: ("quarter", _already(first))}):
        session.add(row)
    audit.record(
        session,
        actor=actor,
        event="published",
        record_type="casework_release",
        record_id=row.id,
        partnership_id=partnership_id,
        summary=f"Published the casework figures for {quarter_words(first)}",
        after={"quarter": quarter_key(first), "threshold": threshold},
    )
    return row


# --- the quarter's tables ---------------------------------------------------------------------------------
def _lead_organisations(session: Session, episode_ids: list[int]) -> dict[int, list[tuple[date, int, bool]]]:
    """Each episode's leads in order: (from, organisation id, whether the family had a say)."""
    out: dict[int, list[tuple[date, int, bool]]] = {}
    if not episode_ids:
        return out
    for episode_id, from_on, organisation_id, had_say in session.execute(
        select(
            LeadPractitioner.episode_id,
            LeadPractitioner.from_on,
            Involvement.organisation_id,
            LeadPractitioner.family_had_say,
        )
        .join(Involvement, Involvement.id == LeadPractitioner.involvement_id)
        .where(LeadPractitioner.episode_id.in_(episode_ids))
        .order_by(LeadPractitioner.episode_id, LeadPractitioner.from_on, LeadPractitioner.id)
    ):
        out.setdefault(episode_id, []).append((from_on, organisation_id, had_say))
    return out


def _lead_on(leads: list[tuple[date, int, bool]], day: date) -> tuple[date, int, bool] | None:
    """The lead on ``day``: the last to start on or before it (else the first)."""
    if not leads:
        return None
    started = [lead for lead in leads if lead[0] <= day]
    return started[-1] if started else leads[0]


def _first_per_family(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """One row per family (the first element), keeping the first in the given order."""
    seen: set[int] = set()
    out = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            out.append(row)
    return out


def quarter_tables(
    session: Session, *, partnership_id: int, quarter: date, threshold: int
) -> list[dict[str, Any]]:
    """The four protected tables of one quarter (no permission check: callers check)."""
    start, end = quarter, next_quarter(quarter)  # end exclusive
    organisations = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.partnership_id == partnership_id)
        .order_by(Organisation.name, Organisation.id)
    ).all()
    row_of = {org_id: i for i, (org_id, _) in enumerate(organisations)}
    # An organisation outside the register's list (it cannot happen today) gets a row of its own.
    labels = [name for _, name in organisations] + ["Another organisation"]
    other = len(organisations)

    def org_cell(organisation_id: int | None) -> int:
        return row_of.get(organisation_id, other) if organisation_id is not None else other

    def by_organisation(title: str) -> Dimension:
        return Dimension("organisation", title, labels, keep=1.0)

    tables: list[dict[str, Any]] = []

    # Families starting early help, by the lead practitioner's organisation at the start.
    started = _first_per_family(
        session.execute(
            select(Episode.family_id, Episode.id)
            .where(
                Episode.partnership_id == partnership_id, Episode.opened_on >= start, Episode.opened_on < end
            )
            .order_by(Episode.family_id, Episode.opened_on, Episode.id)
        ).all()
    )
    leads = _lead_organisations(session, [e for _, e in started])
    cells = []
    for _, episode_id in started:
        first = leads.get(episode_id, [None])[0]
        cells.append((org_cell(first[1] if first else None), 0 if first and first[2] else 1))
    tables.append(
        protect_table(
            key="started",
            title="Families starting early help",
            cells=np.array(cells, dtype=np.int64).reshape(-1, 2),
            dimensions=[
                by_organisation("By the lead practitioner's organisation"),
                Dimension("had_say", "Whether the family had a say in choosing the lead", ["Yes", "No"]),
            ],
            threshold=threshold,
        )
    )

    # Episodes ending, by the last lead's organisation and by outcome, with the weeks they lasted.
    outcomes = list(EpisodeOutcome)
    ended = _first_per_family(
        session.execute(
            select(Episode.family_id, Episode.id, Episode.opened_on, Episode.closed_on, Episode.outcome)
            .where(
                Episode.partnership_id == partnership_id,
                Episode.closed_on.is_not(None),
                Episode.closed_on >= start,
                Episode.closed_on < end,
            )
            .order_by(Episode.family_id, Episode.closed_on, Episode.id)
        ).all()
    )
    leads = _lead_organisations(session, [e[1] for e in ended])
    outcome_cell = {o.value: i for i, o in enumerate(outcomes)}
    cells, weeks = [], []
    for _, episode_id, opened_on, closed_on, outcome in ended:
        last = leads.get(episode_id, [None])[-1]
        cells.append((org_cell(last[1] if last else None), outcome_cell.get(outcome or "", len(outcomes))))
        weeks.append((closed_on - opened_on).days / 7)
    tables.append(
        protect_table(
            key="ended",
            title="Early help episodes ending",
            cells=np.array(cells, dtype=np.int64).reshape(-1, 2),
            dimensions=[
                by_organisation("By the lead practitioner's organisation at the end"),
                Dimension("outcome", "By outcome", [o.label for o in outcomes] + ["Not recorded"]),
            ],
            threshold=threshold,
            column=WEEKS_OPEN,
            values=np.array(weeks, dtype=float),
        )
    )

    # Referrals decided, by the organisation referred to and by decision, with working days to decision.
    decided = _first_per_family(
        session.execute(
            select(
                Referral.family_id,
                Referral.to_organisation_id,
                Referral.status,
                Referral.sent_on,
                Referral.decided_on,
            )
            .where(
                Referral.partnership_id == partnership_id,
                Referral.status.in_((ReferralStatus.ACCEPTED.value, ReferralStatus.DECLINED.value)),
                Referral.decided_on.is_not(None),
                Referral.decided_on >= start,
                Referral.decided_on < end,
            )
            .order_by(Referral.family_id, Referral.decided_on, Referral.id)
        ).all()
    )
    days = working_days_between([r[3] for r in decided], [r[4] for r in decided])
    cells = []
    for r, n in zip(decided, days, strict=True):
        late = 0 if int(n) <= CHILDRENS_SOCIAL_CARE_DECISION_DAYS else 1
        cells.append(
            (
                org_cell(r[1]),
                0 if r[2] == ReferralStatus.ACCEPTED.value else 1,
                late,
                org_cell(r[1]) * 2 + late,
            )
        )
    tables.append(
        protect_table(
            key="referrals",
            title="Referrals decided",
            cells=np.array(cells, dtype=np.int64).reshape(-1, 4),
            dimensions=[
                by_organisation("By the organisation referred to"),
                Dimension("decision", "By decision", ["Accepted", "Declined"]),
                Dimension("timeliness", "Decided within one working day", ["Yes", "No"], keep=0.8),
                Dimension(
                    "organisation_late",
                    "Decided after more than one working day, by the organisation referred to",
                    labels,
                    keep=0.5,
                    parts=ON_TIME_OR_LATE,
                ),
            ],
            threshold=threshold,
            column=DAYS_TO_DECISION,
            values=days.astype(float),
        )
    )

    # Reviews falling due this quarter in episodes still open on the due date: held by then, late or not yet.
    due_rows = session.execute(
        select(Episode.family_id, Review.episode_id, Review.id, Review.held_on, Review.next_review_on)
        .join(Episode, Episode.id == Review.episode_id)
        .where(
            Episode.partnership_id == partnership_id,
            Review.next_review_on.is_not(None),
            Review.next_review_on >= start,
            Review.next_review_on < end,
            (Episode.closed_on.is_(None)) | (Episode.closed_on > Review.next_review_on),
        )
        .order_by(Episode.family_id, Review.next_review_on, Review.id)
    ).all()
    due_rows = _first_per_family(due_rows)
    episode_ids = list({r[1] for r in due_rows})
    held: dict[int, list[tuple[date, int]]] = {}
    for episode_id, review_id, held_on in session.execute(
        select(Review.episode_id, Review.id, Review.held_on)
        .where(Review.episode_id.in_(episode_ids))
        .order_by(Review.held_on, Review.id)
    ):
        held.setdefault(episode_id, []).append((held_on, review_id))
    leads = _lead_organisations(session, episode_ids)
    cells = []
    for _, episode_id, review_id, held_on, due_on in due_rows:
        later = [h for h in held.get(episode_id, []) if (h[0], h[1]) > (held_on, review_id)]
        status = 2 if not later else (0 if later[0][0] <= due_on else 1)
        lead = _lead_on(leads.get(episode_id, []), due_on)
        org = org_cell(lead[1] if lead else None)
        cells.append((org, status, org * 2 + (0 if status == 0 else 1)))
    tables.append(
        protect_table(
            key="reviews",
            title="Team around the family reviews falling due",
            cells=np.array(cells, dtype=np.int64).reshape(-1, 3),
            dimensions=[
                by_organisation("By the lead practitioner's organisation on the due date"),
                Dimension("status", "By whether the review was held", list(REVIEW_STATUSES), keep=0.8),
                Dimension(
                    "organisation_late",
                    "Not held by the due date, by the lead practitioner's organisation",
                    labels,
                    keep=0.5,
                    parts=ON_TIME_OR_LATE,
                ),
            ],
            threshold=threshold,
        )
    )
    # Families open on the quarter's last day, by the lead's organisation then: with noise, not hiding
    # (see periods.noisy_table). Only the register's organisations are bins (every lead's is one).
    last_day = end - timedelta(days=1)
    open_rows = _first_per_family(
        session.execute(
            select(Episode.family_id, Episode.id)
            .where(
                Episode.partnership_id == partnership_id,
                Episode.opened_on <= last_day,
                (Episode.closed_on.is_(None)) | (Episode.closed_on > last_day),
            )
            .order_by(Episode.family_id, Episode.opened_on, Episode.id)
        ).all()
    )
    leads = _lead_organisations(session, [e for _, e in open_rows])
    bins = []
    for _, episode_id in open_rows:
        lead = _lead_on(leads.get(episode_id, []), last_day)
        if lead is not None and lead[1] in row_of:
            bins.append(row_of[lead[1]])
    tables.insert(
        0,
        noisy_table(
            key="open",
            title="Families in early help at the end of the quarter",
            rows=np.array(bins, dtype=np.int64),
            labels=[name for _, name in organisations],
        ),
    )
    # The spare row is for leads whose organisation is not in the register: left out when it shows nothing
    # (it is hidden or empty), as it always is today.
    spare = labels[other]
    for table in tables[1:]:
        by_org = table["breakdowns"][0]["rows"]
        if not by_org[other]["count"]:
            for breakdown in table["breakdowns"]:
                if breakdown["key"].startswith("organisation"):
                    breakdown["rows"] = [r for r in breakdown["rows"] if r["label"] != spare]
    return tables


# --- what the page shows ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrganisationLine:
    label: str
    count: int
    mean: float | None  # None: hidden, or the table has no column
    late: int | None  # reviews overdue or referrals decided late; None: hidden
    has_late: bool  # whether the table counts late ones at all


@dataclass(frozen=True)
class TableView:
    key: str
    title: str
    total: int | None  # None: fewer families than the threshold
    mean: float | None
    column_title: str | None
    late_title: str | None
    by_organisation_title: str
    organisations: list[OrganisationLine]
    organisations_not_shown: list[str]  # hidden (too few, none, or to protect another figure)
    breakdowns: list[dict[str, Any]]  # the others, as published
    noise_within: int | None = None  # counts with noise: give or take this, 95 times in 100


def table_view(table: dict[str, Any]) -> TableView:
    """A published table arranged for the page: organisations with a figure first, the rest named in one
    line (a hidden row says nothing about how many it holds, so they are listed together)."""
    breakdowns = {b["key"]: b for b in table["breakdowns"]}
    by_org = breakdowns.pop("organisation")
    late = breakdowns.pop("organisation_late", None)
    late_of = (
        {r["label"]: r["count"] for r in late["rows"] if r["part"] == ON_TIME_OR_LATE[1]} if late else {}
    )
    within = table["noise"]["within"] if table.get("noise") else None

    def shown(count: int | None) -> bool:  # noisy counts no larger than the noise say little: listed apart
        return count is not None and (within is None or count > within)

    lines = [
        OrganisationLine(r["label"], r["count"], r["mean"], late_of.get(r["label"]), late is not None)
        for r in by_org["rows"]
        if shown(r["count"])
    ]
    return TableView(
        table["key"],
        table["title"],
        table["total"],
        table["mean"],
        table["column"]["title"] if table["column"] else None,
        late["title"] if late else None,
        by_org["title"],
        lines,
        [r["label"] for r in by_org["rows"] if not shown(r["count"])],
        list(breakdowns.values()),
        within,
    )
