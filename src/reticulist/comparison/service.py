"""Comparing partnerships: groups, opting in and out, and the comparison each viewer may see.

Who sees what (authorisation as data, checked here, not in templates):

- A site administrator creates groups and names their analysts (command line).
- A partnership's admin opts it in to a group (JOIN_COMPARISON), chooses whether the group's analysts
  may see its name, and opts it out; opting out deletes the membership, so every later comparison, the
  study and the research extract leave the partnership out.
- A partnership's managers and admins (VIEW_COMPARISON) see their partnership, by name, against the
  others of a group it belongs to, each under a pseudonym.
- A group's analysts (``ComparisonAnalyst``) see the group's aggregates: every opted-in partnership's
  figures (by name only where it agreed), the study and the research extract. Never a person, a response
  or a tie. Anyone else gets NotFound, for the group as for its partnerships.

Every cell keeps the barometer's anonymity rule: a partnership's construct figure is shown only when at
least the group's threshold (and the round's) answered; register and network figures only for a
partnership of at least the threshold's people (a board's tier mix only for a board that large). Pooled
figures (the funnel's target, the group median) are made of shown cells only, so that no hidden cell
can be worked out by subtraction.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.models import User
from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, allowed, ensure_allowed
from reticulist.audit import service as audit
from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerInstrument
from reticulist.comparison import extract, funnel, study
from reticulist.comparison import figures as stored_figures
from reticulist.comparison.models import (
    ComparisonAnalyst,
    ComparisonGroup,
    ComparisonMember,
    PartnershipFigures,
    PersonFigures,
)
from reticulist.db.engine import session_secret
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.register.models import Partnership
from reticulist.text import clean_field, clean_writing_field

PREDICTOR_LABELS = {
    "late_entry": "Late entry into the profession",
    "interprofessional_training": "Inter-professional training",
    "years_in_profession": "Years in the profession (per year)",
    "hierarchy_tier": "Hierarchy tier (per tier, 1 = top)",
}
DEFAULT_PERIOD_MONTHS = 24  # rounds closed in the last two years, unless the viewer picks a period
MAX_NAME = 200


# --- groups ---------------------------------------------------------------------------------------------
def _site_admin(actor: Actor) -> None:
    if not actor.is_site_admin:
        raise NotFound("No such comparison group.")


def _group(session: Session, group_id: int) -> ComparisonGroup:
    found = session.get(ComparisonGroup, group_id) if 0 < group_id < 2**31 else None
    if found is None:
        raise NotFound("No such comparison group.")
    return found


def find_group(session: Session, *, actor: Actor, name: str) -> ComparisonGroup:
    """A group by name (ignoring case), for the command line."""
    _site_admin(actor)
    found = session.scalar(select(ComparisonGroup).where(func.lower(ComparisonGroup.name) == name.lower()))
    if found is None:
        raise InputError(f'there is no comparison group "{name}"', field="group")
    return found


def create_group(
    session: Session, *, actor: Actor, name: str, description: str = "", threshold: int = 5
) -> ComparisonGroup:
    """A new comparison group (site administrators only)."""
    _site_admin(actor)
    name = clean_field((name or "").strip(), "name")
    if not name:
        raise InputError("a comparison group needs a name", field="name")
    if len(name) > MAX_NAME:
        raise InputError(f"at most {MAX_NAME} characters", field="name")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 3 <= threshold <= 100:
        raise InputError("the anonymity threshold is a whole number from 3 to 100", field="threshold")
    group = ComparisonGroup(
        name=name,
        description=clean_writing_field(description, "description", limit=2000),
        threshold=threshold,
        created_by_label=actor.label,
    )
    taken = f'there is already a comparison group called "{name}"'
    with refusing_duplicates(session, {"uq_comparison_group_name": ("name", taken)}):
        session.add(group)
    audit.record(
        session,
        actor=actor,
        event="created",
        record_type="comparison_group",
        record_id=group.id,
        partnership_id=None,
        summary=f"Comparison group {name} created (anonymity threshold {threshold})",
    )
    return group


def add_analyst(session: Session, *, actor: Actor, group_id: int, email: str) -> ComparisonAnalyst:
    """Let the account with this email analyse the group (site administrators only)."""
    _site_admin(actor)
    group = _group(session, group_id)
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None:
        raise InputError(f'there is no account with the email "{email}"', field="email")
    analyst = ComparisonAnalyst(group_id=group.id, user_id=user.id)
    taken = f"{user.email} already analyses {group.name}"
    with refusing_duplicates(session, {"uq_comparison_analyst": ("email", taken)}):
        session.add(analyst)
    audit.record(
        session,
        actor=actor,
        event="granted",
        record_type="comparison_analyst",
        record_id=analyst.id,
        partnership_id=None,
        summary=f"{user.email} may analyse comparison group {group.name}",
    )
    return analyst


def remove_analyst(session: Session, *, actor: Actor, group_id: int, email: str) -> None:
    _site_admin(actor)
    group = _group(session, group_id)
    found = session.scalar(
        select(ComparisonAnalyst)
        .join(User, User.id == ComparisonAnalyst.user_id)
        .where(
            ComparisonAnalyst.group_id == group.id, func.lower(User.email) == (email or "").strip().lower()
        )
    )
    if found is None:
        raise InputError(f"{email} does not analyse {group.name}", field="email")
    session.delete(found)
    audit.record(
        session,
        actor=actor,
        event="revoked",
        record_type="comparison_analyst",
        record_id=found.id,
        partnership_id=None,
        summary=f"{email} no longer analyses comparison group {group.name}",
    )


def is_analyst(session: Session, actor: Actor, group_id: int) -> bool:
    if actor.is_site_admin:
        return True
    if actor.user_id is None:
        return False
    return (
        session.scalar(
            select(ComparisonAnalyst.id).where(
                ComparisonAnalyst.group_id == group_id, ComparisonAnalyst.user_id == actor.user_id
            )
        )
        is not None
    )


def ensure_analyst(session: Session, actor: Actor, group_id: int) -> ComparisonGroup:
    """The group, for its analysts (and site administrators); NotFound for everyone else."""
    group = _group(session, group_id)
    if not is_analyst(session, actor, group.id):
        raise NotFound("No such comparison group.")
    return group


def analysed_groups(session: Session, *, actor: Actor) -> list[ComparisonGroup]:
    """The groups this user analyses (every group for a site administrator)."""
    query = select(ComparisonGroup).order_by(ComparisonGroup.name)
    if not actor.is_site_admin:
        if actor.user_id is None:
            return []
        query = query.join(ComparisonAnalyst, ComparisonAnalyst.group_id == ComparisonGroup.id).where(
            ComparisonAnalyst.user_id == actor.user_id
        )
    return list(session.scalars(query))


def list_groups(session: Session, *, actor: Actor) -> list[tuple[ComparisonGroup, int, int]]:
    """Every group with its number of partnerships and analysts (site administrators)."""
    _site_admin(actor)
    members = dict(
        session.execute(
            select(ComparisonMember.group_id, func.count(ComparisonMember.id)).group_by(
                ComparisonMember.group_id
            )
        ).all()
    )
    analysts = dict(
        session.execute(
            select(ComparisonAnalyst.group_id, func.count(ComparisonAnalyst.id)).group_by(
                ComparisonAnalyst.group_id
            )
        ).all()
    )
    groups = session.scalars(select(ComparisonGroup).order_by(ComparisonGroup.name))
    return [(g, members.get(g.id, 0), analysts.get(g.id, 0)) for g in groups]


# --- opting in and out ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupChoice:
    """A group as a partnership's page shows it: whether the partnership is in it, and how."""

    group: ComparisonGroup
    member: ComparisonMember | None
    partnerships: int

    @property
    def joined(self) -> bool:
        return self.member is not None


def ensure_sees_groups(actor: Actor, partnership_id: int) -> None:
    """The partnership's groups are for those who see its comparison or opt it in (404 to outsiders,
    403 to its other people)."""
    if not (
        allowed(actor, Can.VIEW_COMPARISON, partnership_id)
        or allowed(actor, Can.JOIN_COMPARISON, partnership_id)
    ):
        ensure_allowed(actor, Can.VIEW_COMPARISON, partnership_id)


def member_ids(session: Session, group_id: int) -> list[int]:
    """The partnerships in the group."""
    return list(
        session.scalars(select(ComparisonMember.partnership_id).where(ComparisonMember.group_id == group_id))
    )


def groups_for_partnership(session: Session, *, actor: Actor, partnership_id: int) -> list[GroupChoice]:
    """Every group, with whether this partnership is in it (managers see; admins may opt in or out)."""
    ensure_sees_groups(actor, partnership_id)
    counts = dict(
        session.execute(
            select(ComparisonMember.group_id, func.count(ComparisonMember.id)).group_by(
                ComparisonMember.group_id
            )
        ).all()
    )
    mine = {
        m.group_id: m
        for m in session.scalars(
            select(ComparisonMember).where(ComparisonMember.partnership_id == partnership_id)
        )
    }
    groups = session.scalars(select(ComparisonGroup).order_by(ComparisonGroup.name))
    return [GroupChoice(g, mine.get(g.id), counts.get(g.id, 0)) for g in groups]


def _membership(session: Session, partnership_id: int, group_id: int) -> ComparisonMember | None:
    return session.scalar(
        select(ComparisonMember).where(
            ComparisonMember.group_id == group_id, ComparisonMember.partnership_id == partnership_id
        )
    )


def opt_in(
    session: Session, *, actor: Actor, partnership_id: int, group_id: int, named: bool = False
) -> ComparisonMember:
    """Join the group. The partnership's figures are computed now if they are not stored yet, so that it
    appears in the next comparison."""
    ensure_allowed(actor, Can.JOIN_COMPARISON, partnership_id)
    group = _group(session, group_id)
    partnership = session.get(Partnership, partnership_id)
    if partnership is None:  # only a site administrator gets this far with an unknown number
        raise NotFound("No such partnership.")
    member = ComparisonMember(
        group_id=group.id,
        partnership_id=partnership_id,
        named=bool(named),
        extract_secret=secrets.token_hex(32),
        joined_by_label=actor.label,
    )
    taken = f"{partnership.name} is already in {group.name}"
    with refusing_duplicates(session, {"uq_comparison_member": ("group", taken)}):
        session.add(member)
    audit.record(
        session,
        actor=actor,
        event="opted-in",
        record_type="comparison_member",
        record_id=member.id,
        partnership_id=partnership_id,
        summary=(
            f"{partnership.name} opted in to comparison group {group.name}"
            + (" (shown by name to the group's analysts)" if named else " (under a pseudonym)")
        ),
    )
    if stored_figures.due(session, today=barometer.today(), partnership_ids=[partnership_id]):
        figures, rows = stored_figures.compute(session, partnership_id, barometer.today())
        stored_figures.store(session, partnership_id, figures, rows, barometer.today())
    return member


def opt_out(session: Session, *, actor: Actor, partnership_id: int, group_id: int) -> None:
    """Leave the group: every later comparison, study and extract of the group leaves the partnership
    out, and its research keys for the group can no longer be made (the secret goes with the row)."""
    ensure_allowed(actor, Can.JOIN_COMPARISON, partnership_id)
    group = _group(session, group_id)
    member = _membership(session, partnership_id, group.id)
    if member is None:
        raise InputError(f"the partnership is not in {group.name}", field="group")
    session.delete(member)
    partnership = session.get(Partnership, partnership_id)
    audit.record(
        session,
        actor=actor,
        event="opted-out",
        record_type="comparison_member",
        record_id=member.id,
        partnership_id=partnership_id,
        summary=f"{partnership.name if partnership else 'The partnership'} opted out of {group.name}",
    )


def set_named(session: Session, *, actor: Actor, partnership_id: int, group_id: int, named: bool) -> None:
    """Whether the group's analysts see the partnership's name."""
    ensure_allowed(actor, Can.JOIN_COMPARISON, partnership_id)
    group = _group(session, group_id)
    member = _membership(session, partnership_id, group.id)
    if member is None:
        raise InputError(f"the partnership is not in {group.name}", field="group")
    if member.named == bool(named):
        return
    member.named = bool(named)
    audit.record(
        session,
        actor=actor,
        event="changed",
        record_type="comparison_member",
        record_id=member.id,
        partnership_id=partnership_id,
        summary=(
            f"Shown by name to the analysts of {group.name}"
            if named
            else f"Shown under a pseudonym in {group.name}"
        ),
    )


# --- pseudonyms -----------------------------------------------------------------------------------------
def _letters(k: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA ..."""
    out = ""
    k += 1
    while k:
        k, rest = divmod(k - 1, 26)
        out = chr(65 + rest) + out
    return out


def pseudonyms(session: Session, group_id: int, partnership_ids: Sequence[int]) -> dict[int, str]:
    """Each member's pseudonym in the group: letters in a keyed order (HMAC with the application's
    secret), so neither the order partnerships joined in nor their ids nor their names can be read from
    them; stable while the membership lasts."""
    secret = session_secret(session).encode()
    keyed = sorted(
        partnership_ids,
        key=lambda pid: hmac.new(secret, f"comparison:{group_id}:{pid}".encode(), hashlib.sha256).hexdigest(),
    )
    return {pid: f"Partnership {_letters(k)}" for k, pid in enumerate(keyed)}


# --- the comparison -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """A register or network figure compared side by side."""

    key: str  # "register.continuity"
    label: str
    meaning: str
    kind: str  # "share", "index", "number", "months", "yes-no"
    needs: str  # "people" (network people) or "board" (board members) or "" : what must reach the threshold
    short: str = ""  # a column heading where space is short (the command line)

    def value(self, figures: dict[str, Any]) -> Any:
        part, name = self.key.split(".")
        return (figures.get(part) or {}).get(name)

    def text(self, value: Any) -> str:
        if value is None:
            return "—"
        if self.kind == "share":
            return f"{value * 100:.0f}%"
        if self.kind == "index":
            return f"{value:+.2f}"
        if self.kind == "yes-no":
            return "yes" if value else "no"
        if self.kind == "months":
            return f"{value:.0f}"
        return f"{value:,}"


MEASURES: tuple[Measure, ...] = (
    Measure("register.people", "People", "people in the register now", "number", "", short="People"),
    Measure(
        "register.continuity",
        "Continuity of representation",
        "represented organisations whose seat did not change hands twice in 24 months (002 Table 1 row 1)",
        "share",
        "",
        short="Continuity",
    ),
    Measure(
        "register.mean_tenure_months",
        "Mean tenure (months)",
        "how long representatives hold a seat",
        "months",
        "",
        short="Tenure (mo)",
    ),
    Measure(
        "register.attendance",
        "Attendance",
        "meetings each organisation was represented at, last 12 months",
        "share",
        "",
        short="Attendance",
    ),
    Measure(
        "register.board_middle_share",
        "Board from middle tiers",
        "board members from hierarchy tiers 3 and 4 (002 Table 1 row 8)",
        "share",
        "board",
        short="Board mid-tier",
    ),
    Measure(
        "register.board_top_and_practitioner",
        "Top and practitioner tiers on the board",
        "whether policy and practice sit at the same table",
        "yes-no",
        "board",
        short="Top + practice",
    ),
    Measure(
        "network.density",
        "Network density",
        "the share of all possible ties that exist",
        "share",
        "people",
        short="Density",
    ),
    Measure(
        "network.ei_organisation",
        "E-I index by organisation",
        "from −1 (every tie stays inside an organisation) to +1 (every tie crosses)",
        "index",
        "people",
        short="E-I",
    ),
    Measure(
        "network.key_person_share",
        "Key-person risks",
        "people whose leaving would cut two organisations' people apart",
        "share",
        "people",
        short="Key-person",
    ),
    Measure(
        "network.brokerage_top_share",
        "Brokerage concentration",
        "the share of all brokerage between organisations held by the top 10% of people",
        "share",
        "people",
        short="Brokerage top 10%",
    ),
)


@dataclass(frozen=True)
class Peer:
    partnership_id: int
    label: str  # the name for its own people and, if it agreed, the group's analysts; else a pseudonym
    own: bool
    figures: dict[str, Any] | None  # None: not computed yet
    as_of: date | None
    behind: bool  # its data changed since the figures were computed


@dataclass(frozen=True)
class MeasureRow:
    peer: Peer
    cells: tuple[str, ...]  # one per MEASURES entry, "—" where not shown
    values: tuple[Any, ...] = ()  # the same as numbers (None where not shown), for the API


@dataclass(frozen=True)
class InstrumentChoice:
    key: str
    version: str
    title: str
    partnerships: int

    @property
    def ref(self) -> str:
        return f"{self.key}@{self.version}"


@dataclass(frozen=True)
class ConstructComparison:
    key: str
    name: str
    funnel: funnel.Funnel
    hidden: int  # partnerships with a round whose figure on this construct is below the threshold
    words: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    group: ComparisonGroup
    viewer_partnership_id: int | None  # None: the group's analysts' view
    peers: tuple[Peer, ...]
    measures: tuple[Measure, ...]
    rows: tuple[MeasureRow, ...]
    medians: tuple[str, ...]
    instruments: tuple[InstrumentChoice, ...]
    instrument: InstrumentChoice | None
    since: date
    until: date
    constructs: tuple[ConstructComparison, ...]
    headline: tuple[str, ...] = field(default=())

    @property
    def own(self) -> Peer | None:
        return next((p for p in self.peers if p.own), None)


def _shown(measure: Measure, figures: dict[str, Any], threshold: int) -> Any:
    if measure.needs == "people" and (figures.get("network", {}).get("people") or 0) < threshold:
        return None
    if measure.needs == "board" and (figures.get("register", {}).get("board") or 0) < threshold:
        return None
    return measure.value(figures)


def _peers(
    session: Session, group: ComparisonGroup, viewer_partnership_id: int | None, analyst: bool
) -> list[Peer]:
    members = list(session.scalars(select(ComparisonMember).where(ComparisonMember.group_id == group.id)))
    ids = [m.partnership_id for m in members]
    names = dict(
        session.execute(select(Partnership.id, Partnership.name).where(Partnership.id.in_(ids))).all()
    )
    stored = {
        f.partnership_id: f
        for f in session.scalars(select(PartnershipFigures).where(PartnershipFigures.partnership_id.in_(ids)))
    }
    labels = pseudonyms(session, group.id, ids)
    peers = []
    for m in members:
        own = m.partnership_id == viewer_partnership_id
        label = names[m.partnership_id] if own or (analyst and m.named) else labels[m.partnership_id]
        f = stored.get(m.partnership_id)
        peers.append(
            Peer(
                partnership_id=m.partnership_id,
                label=label,
                own=own,
                figures=f.figures if f else None,
                as_of=f.as_of if f else None,
                behind=bool(f and f.changed_at is not None),
            )
        )
    # Own first, then by label (pseudonyms are in keyed order already).
    return sorted(peers, key=lambda p: (not p.own, p.label))


def _median(values: list[Any], measure: Measure) -> str:
    numbers = [float(v) for v in values if v is not None]
    if not numbers:
        return "—"
    if measure.kind == "yes-no":
        return f"yes in {sum(numbers) / len(numbers) * 100:.0f}%"
    return measure.text(float(np.median(numbers)) if measure.kind != "number" else int(np.median(numbers)))


def _instruments(session: Session, peers: Sequence[Peer], since: date, until: date) -> list[InstrumentChoice]:
    count: dict[tuple[str, str], int] = {}
    for p in peers:
        seen = {
            (rd["instrument"], rd["version"])
            for rd in (p.figures or {}).get("rounds", [])
            if since <= date.fromisoformat(rd["closes_on"]) <= until
        }
        for ref in seen:
            count[ref] = count.get(ref, 0) + 1
    titles = {
        (i.key, i.version): i.title
        for i in session.scalars(
            select(BarometerInstrument).where(BarometerInstrument.key.in_({k for k, _ in count}))
        )
    }
    choices = [InstrumentChoice(k, v, titles.get((k, v), k), n) for (k, v), n in count.items()]
    return sorted(choices, key=lambda c: (-c.partnerships, c.key, c.version))


def _constructs(
    session: Session,
    group: ComparisonGroup,
    peers: Sequence[Peer],
    choice: InstrumentChoice,
    since: date,
    until: date,
    analyst: bool,
) -> list[ConstructComparison]:
    # Each partnership's latest released round on this version in the period: one point per partnership.
    latest: dict[int, dict[str, Any]] = {}
    for p in peers:
        for rd in (p.figures or {}).get("rounds", []):
            closes = date.fromisoformat(rd["closes_on"])
            if (rd["instrument"], rd["version"]) != (
                choice.key,
                choice.version,
            ) or not since <= closes <= until:
                continue
            if p.partnership_id not in latest or closes >= date.fromisoformat(
                latest[p.partnership_id]["closes_on"]
            ):
                latest[p.partnership_id] = rd
    found = session.scalar(
        select(BarometerInstrument).where(
            BarometerInstrument.key == choice.key, BarometerInstrument.version == choice.version
        )
    )
    if found is None:
        return []
    instrument = barometer.instrument_of(found)
    by_id = {p.partnership_id: p for p in peers}
    out = []
    for construct in instrument.constructs:
        points, hidden = [], 0
        for pid, rd in latest.items():
            cell = rd["constructs"].get(construct.key)
            needed = max(group.threshold, int(rd.get("threshold") or 0))
            if cell is None or cell["mean"] is None or (cell["n"] or 0) < needed:
                hidden += 1
                continue
            peer = by_id[pid]
            points.append(
                funnel.FunnelPoint(peer.label, int(cell["n"]), float(cell["mean"]), cell["sd"], peer.own)
            )
        placed = funnel.place(construct.name, points)
        if analyst:
            said = [funnel.words(pp, construct.name) for pp in placed.points if pp.outside95]
        else:
            said = [funnel.words(pp, construct.name) for pp in placed.points if pp.point.own]
            outside = sum(1 for pp in placed.points if pp.outside95 and not pp.point.own)
            if outside:
                said.append(
                    f"{outside} of the other partnerships {'is' if outside == 1 else 'are'} outside the 95% "
                    "limits."
                )
        out.append(ConstructComparison(construct.key, construct.name, placed, hidden, tuple(said)))
    return out


def _period(since: date | None, until: date | None) -> tuple[date, date]:
    until = until or barometer.today()
    since = since or (until - timedelta(days=round(DEFAULT_PERIOD_MONTHS * 30.44)))
    if since > until:
        raise InputError("the period starts after it ends", field="since")
    return since, until


def comparison(
    session: Session,
    *,
    actor: Actor,
    group_id: int,
    partnership_id: int | None = None,
    instrument: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Comparison:
    """The group compared, as this viewer may see it: with ``partnership_id``, that partnership's view
    (its managers: itself by name against the others' pseudonyms); without, the analysts' view.

    ``instrument`` is "key@version" (default: the version most partnerships used in the period); the
    period is of rounds' closing dates (default: the last 24 months)."""
    if partnership_id is None:
        group = ensure_analyst(session, actor, group_id)
        analyst = True
    else:
        ensure_allowed(actor, Can.VIEW_COMPARISON, partnership_id)
        group = _group(session, group_id)
        if _membership(session, partnership_id, group.id) is None:
            raise NotFound("No such comparison group.")
        analyst = False
    since, until = _period(since, until)
    peers = _peers(session, group, partnership_id, analyst)
    measured = [p for p in peers if p.figures is not None]
    values = [[_shown(m, p.figures or {}, group.threshold) for m in MEASURES] for p in measured]
    rows = [
        MeasureRow(p, tuple(m.text(v) for m, v in zip(MEASURES, vs, strict=True)), tuple(vs))
        for p, vs in zip(measured, values, strict=True)
    ]
    medians = tuple(_median([vs[k] for vs in values], m) for k, m in enumerate(MEASURES))
    instruments = _instruments(session, measured, since, until)
    chosen = None
    if instrument:
        # Not released in this period (another period may have it): no funnel plots, said on the page.
        chosen = next((c for c in instruments if c.ref == instrument), None)
    elif instruments:
        chosen = instruments[0]
    constructs = _constructs(session, group, measured, chosen, since, until, analyst) if chosen else []
    headline: list[str] = []
    if not analyst:
        own = next((p for p in measured if p.own), None)
        if own is None:
            headline.append("Your partnership's figures have not been computed yet.")
        else:
            mine = [(c.name, p) for c in constructs for p in c.funnel.points if p.point.own]
            headline += funnel.grouped_words(own.label, mine)
    else:
        for c in constructs:
            below = sum(1 for p in c.funnel.points if p.band.startswith("below"))
            above = sum(1 for p in c.funnel.points if p.band.startswith("above"))
            if below or above:
                parts = [f"{k} below" for k in (below,) if k] + [f"{k} above" for k in (above,) if k]
                headline.append(
                    f"{c.name}: {' and '.join(parts)} the 95% limits, of {len(c.funnel.points)} partnerships."
                )
    return Comparison(
        group=group,
        viewer_partnership_id=partnership_id,
        peers=tuple(peers),
        measures=MEASURES,
        rows=tuple(rows),
        medians=medians,
        instruments=tuple(instruments),
        instrument=chosen,
        since=since,
        until=until,
        constructs=tuple(constructs),
        headline=tuple(headline),
    )


def partnership_groups(session: Session, *, actor: Actor, partnership_id: int) -> list[ComparisonGroup]:
    """The groups a partnership is in, for its managers (the board report's comparison section)."""
    if not allowed(actor, Can.VIEW_COMPARISON, partnership_id):
        return []
    return list(
        session.scalars(
            select(ComparisonGroup)
            .join(ComparisonMember, ComparisonMember.group_id == ComparisonGroup.id)
            .where(ComparisonMember.partnership_id == partnership_id)
            .order_by(ComparisonGroup.name)
        )
    )


# --- the study and the research extract -----------------------------------------------------------------
def _people_frame(session: Session, group: ComparisonGroup) -> tuple[pl.DataFrame, list[ComparisonMember]]:
    members = list(session.scalars(select(ComparisonMember).where(ComparisonMember.group_id == group.id)))
    ids = [m.partnership_id for m in members]
    columns = [
        PersonFigures.partnership_id,
        PersonFigures.person_id,
        PersonFigures.organisation_kind,
        PersonFigures.profession,
        PersonFigures.hierarchy_tier,
        PersonFigures.years_in_profession,
        PersonFigures.late_entry,
        PersonFigures.interprofessional_training,
        PersonFigures.spanner_score,
        PersonFigures.liaison,
        PersonFigures.cross_organisation_brokerage,
        PersonFigures.ties,
    ]
    result = session.execute(select(*columns).where(PersonFigures.partnership_id.in_(ids)))
    schema = {
        "partnership_id": pl.Int64,
        "person_id": pl.Int64,
        "organisation_kind": pl.String,
        "profession": pl.String,
        "hierarchy_tier": pl.Int64,
        "years_in_profession": pl.Int64,
        "late_entry": pl.Boolean,
        "interprofessional_training": pl.Boolean,
        "spanner_score": pl.Float64,
        "liaison": pl.Int64,
        "cross_organisation_brokerage": pl.Int64,
        "ties": pl.Int64,
    }
    frame = pl.DataFrame(result.all(), schema=schema, orient="row")
    return frame, members


def run_study(session: Session, *, actor: Actor, group_id: int) -> study.SpanningStudy:
    """002's hypotheses tested on the group's pooled people (analysts only). Raises study.StudyTooSmall
    when the group is too small to say anything without singling anyone out.

    People with no recorded tie are left out (and counted): their spanner score is 0 because nobody
    recorded their ties (they did not answer the network step, their meetings are not in the register),
    not because they do not span boundaries, and counting them as 0 would bias every estimate."""
    group = ensure_analyst(session, actor, group_id)
    frame, _ = _people_frame(session, group)
    tied = frame.filter(pl.col("ties") > 0)
    result = study.study_boundary_spanning(
        tied.rename({"partnership_id": "partnership"}), min_group=group.threshold
    )
    no_ties = frame.height - tied.height
    if no_ties:
        said = (
            f"{no_ties:,} {'person' if no_ties == 1 else 'people'} with no recorded tie left out: no tie "
            "recorded is not the same as no boundary spanning."
        )
        result = dataclasses.replace(result, left_out_no_ties=no_ties, words=(said, *result.words))
    audit.record(
        session,
        actor=actor,
        event="studied",
        record_type="comparison_group",
        record_id=group.id,
        partnership_id=None,
        summary=(
            f"Study of 002's hypotheses run on {group.name} ({result.people} people, "
            f"{result.partnerships} partnerships)"
        ),
    )
    return result


def research_extract(session: Session, *, actor: Actor, group_id: int) -> extract.Coarsened:
    """The pseudonymised, coarsened extract of the group's people (analysts only; audited)."""
    group = ensure_analyst(session, actor, group_id)
    frame, members = _people_frame(session, group)
    secrets_by = {m.partnership_id: m.extract_secret.encode() for m in members}
    labels = pseudonyms(session, group.id, list(secrets_by))
    keys = [
        extract.person_key(secrets_by[pid], pid, person)
        for pid, person in zip(frame["partnership_id"].to_list(), frame["person_id"].to_list(), strict=True)
    ]
    frame = frame.with_columns(
        pl.Series("person_key", keys, dtype=pl.String),
        pl.col("partnership_id").replace_strict(labels, return_dtype=pl.String).alias("partnership"),
    ).drop("partnership_id", "person_id")
    coarsened = extract.coarsen(frame, k=group.threshold)
    audit.record(
        session,
        actor=actor,
        event="exported",
        record_type="comparison_group",
        record_id=group.id,
        partnership_id=None,
        summary=(
            f"Research extract of {group.name}: {coarsened.frame.height} people "
            f"({coarsened.suppressed} left out to keep every cell at {group.threshold} or more)"
        ),
    )
    return coarsened
