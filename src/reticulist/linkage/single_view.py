"""The single view of a child: only children the partnership already works with (a casework child whose
record the latest run linked to agency records, or that a reviewer attached). A child's page shows each
agency's record, and the evidence and confidence of each link; a linkage analyst can attach an agency
record to a casework child (a "same child" decision) or take one off ("different children").

ContactPoint's lesson: no index of every child. Agency records that link to no casework child appear
nowhere but the review queue, and then only as pairs.

Linkage by group: the share of each agency's records that the run linked, by agency and by each group
field the extracts carry (ethnicity, area...), because linkage misses some groups more than others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound
from reticulist.audit import service as audit
from reticulist.casework.models import Family, FamilyMember
from reticulist.errors import InputError
from reticulist.linkage import review
from reticulist.linkage.models import (
    LinkageClusterMember,
    LinkageLabel,
    LinkageModel,
    LinkagePair,
    LinkageRecord,
    LinkageRun,
    LinkageSource,
)
from reticulist.linkage.runs import latest_run
from reticulist.linkage.sources import CASEWORK, TRUTH, ensure


@dataclass(frozen=True)
class KnownChild:
    member_id: int
    reference: str
    name: str
    date_of_birth: str | None
    agencies: list[str]  # the sources of the child's linked records, casework left out
    weakest: float | None  # the least sure link in the child's cluster (None: only decisions join it)


def _casework_records(session: Session, partnership_id: int) -> dict[int, tuple[int, int | None]]:
    """family member id -> (linkage record id, its cluster in the latest run or None)."""
    run_ = latest_run(session, partnership_id)
    rows = session.execute(
        select(LinkageRecord.family_member_id, LinkageRecord.id)
        .join(LinkageSource, LinkageSource.id == LinkageRecord.source_id)
        .where(LinkageSource.partnership_id == partnership_id, LinkageSource.name == CASEWORK)
    ).all()
    clusters: dict[int, int] = {}
    if run_ is not None:
        clusters = dict(
            session.execute(  # type: ignore[arg-type]
                select(LinkageClusterMember.record_id, LinkageClusterMember.cluster).where(
                    LinkageClusterMember.run_id == run_.id,
                    LinkageClusterMember.record_id.in_([r[1] for r in rows]),
                )
            ).all()
        )
    return {int(m): (rid, clusters.get(rid)) for m, rid in rows if m is not None}


def known_children(
    session: Session, *, actor: Actor, partnership_id: int
) -> tuple[list[KnownChild], list[KnownChild]]:
    """The casework children the latest run linked to agency records, and those it did not."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    run_ = latest_run(session, partnership_id)
    records = _casework_records(session, partnership_id)
    members = {
        m.id: (m, ref)
        for m, ref in session.execute(
            select(FamilyMember, Family.reference)
            .join(Family, Family.id == FamilyMember.family_id)
            .where(FamilyMember.id.in_(list(records)))
        ).all()
    }
    cluster_ids = {c for _r, c in records.values() if c is not None}
    in_clusters: dict[int, list[str]] = {}
    weakest: dict[int, float] = {}
    if run_ is not None and cluster_ids:
        for cluster, source in session.execute(
            select(LinkageClusterMember.cluster, LinkageSource.name)
            .join(LinkageRecord, LinkageRecord.id == LinkageClusterMember.record_id)
            .join(LinkageSource, LinkageSource.id == LinkageRecord.source_id)
            .where(LinkageClusterMember.run_id == run_.id, LinkageClusterMember.cluster.in_(cluster_ids))
        ).all():
            if source != CASEWORK:
                in_clusters.setdefault(cluster, []).append(source)
        weakest = _weakest_links(session, run_, cluster_ids)
    linked, unlinked = [], []
    for member_id, (_rid, cluster) in records.items():
        if member_id not in members:
            continue
        member, reference = members[member_id]
        line = KnownChild(
            member_id,
            reference,
            f"{member.forenames} {member.surname}",
            member.date_of_birth.isoformat() if member.date_of_birth else None,
            sorted(in_clusters.get(cluster, [])) if cluster is not None else [],
            weakest.get(cluster) if cluster is not None else None,
        )
        (linked if line.agencies else unlinked).append(line)
    key = lambda c: (c.name.lower(), c.member_id)  # noqa: E731
    return sorted(linked, key=key), sorted(unlinked, key=key)


def _weakest_links(session: Session, run_: LinkageRun, cluster_ids: set[int]) -> dict[int, float]:
    members = session.execute(
        select(LinkageClusterMember.record_id, LinkageClusterMember.cluster).where(
            LinkageClusterMember.run_id == run_.id, LinkageClusterMember.cluster.in_(cluster_ids)
        )
    ).all()
    cluster_of = dict(members)  # type: ignore[arg-type]
    out: dict[int, float] = {}
    for left, right, probability in session.execute(
        select(LinkagePair.left_id, LinkagePair.right_id, LinkagePair.probability).where(
            LinkagePair.run_id == run_.id,
            LinkagePair.left_id.in_(list(cluster_of)),
            LinkagePair.probability >= run_.linked_threshold,
        )
    ).all():
        if cluster_of.get(left) is not None and cluster_of.get(left) == cluster_of.get(right):
            c = cluster_of[left]
            out[c] = min(out.get(c, 1.0), probability)
    return out


@dataclass(frozen=True)
class Link:
    pair_id: int | None
    left: int
    right: int
    probability: float | None
    decision: str | None
    evidence: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class ChildView:
    member: FamilyMember
    reference: str
    casework_record_id: int
    run: LinkageRun | None
    records: list[review.Side]  # the agencies' records linked to the child (casework first)
    links: list[Link]  # the pairs and decisions that join them
    candidates: list[tuple[review.Side, Link]]  # records the run scored near the child but did not link


def child_view(session: Session, *, actor: Actor, partnership_id: int, member_id: int) -> ChildView:
    """A known child's single view; the look is audited."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    records = _casework_records(session, partnership_id)
    member = session.get(FamilyMember, member_id)
    if member is None or member.partnership_id != partnership_id or member_id not in records:
        raise NotFound("No such child.")
    family = session.get(Family, member.family_id)
    assert family is not None
    own_id, cluster = records[member_id]
    run_ = latest_run(session, partnership_id)
    in_cluster = [own_id]
    if run_ is not None and cluster is not None:
        in_cluster = list(
            session.scalars(
                select(LinkageClusterMember.record_id)
                .where(LinkageClusterMember.run_id == run_.id, LinkageClusterMember.cluster == cluster)
                .order_by(LinkageClusterMember.record_id)
            )
        )
        in_cluster = [own_id] + [r for r in in_cluster if r != own_id]
    parameters = session.get(LinkageModel, run_.model_id).parameters if run_ is not None else {}  # type: ignore[union-attr]
    links: list[Link] = []
    candidates: list[tuple[review.Side, Link]] = []
    if run_ is not None:
        labels = {
            (lab.left_id, lab.right_id): lab.decision
            for lab in session.scalars(
                select(LinkageLabel).where(
                    or_(LinkageLabel.left_id.in_(in_cluster), LinkageLabel.right_id.in_(in_cluster))
                )
            )
        }
        inside = set(in_cluster)
        seen: set[tuple[int, int]] = set()
        for pair in session.scalars(
            select(LinkagePair)
            .where(
                LinkagePair.run_id == run_.id,
                or_(LinkagePair.left_id.in_(in_cluster), LinkagePair.right_id.in_(in_cluster)),
            )
            .order_by(LinkagePair.probability.desc())
        ):
            key = (pair.left_id, pair.right_id)
            seen.add(key)
            link = Link(
                pair.id, *key, pair.probability, labels.get(key), review.evidence_of(parameters, pair)
            )
            if pair.left_id in inside and pair.right_id in inside:
                links.append(link)
            elif own_id in key and labels.get(key) != "different":
                # Near the child itself, not linked: a record a reviewer may attach.
                other = pair.right_id if pair.left_id == own_id else pair.left_id
                candidates.append((review.side(session, other), link))
        for key, decision in labels.items():
            if key not in seen and key[0] in inside and key[1] in inside:
                links.append(Link(None, *key, None, decision))
    audit.record(
        session,
        actor=actor,
        event="linkage.child_viewed",
        record_type="linkage_child",
        record_id=member.id,
        summary=f"Looked at the single view of casework child {member.id} (family {family.id})",
        partnership_id=partnership_id,
    )
    return ChildView(
        member,
        family.reference,
        own_id,
        run_,
        review.sides(session, in_cluster),
        links,
        candidates,
    )


def attach(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    member_id: int,
    record_id: int,
    same: bool,
    note: str = "",
) -> LinkageLabel:
    """Attach an agency record to a casework child (``same``), or take it off (different children)."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    records = _casework_records(session, partnership_id)
    if member_id not in records:
        raise NotFound("No such child.")
    own_id, _cluster = records[member_id]
    a, b = min(own_id, record_id), max(own_id, record_id)
    run_ = latest_run(session, partnership_id)
    probability = None
    if run_ is not None:
        probability = session.scalar(
            select(LinkagePair.probability).where(
                LinkagePair.run_id == run_.id, LinkagePair.left_id == a, LinkagePair.right_id == b
            )
        )
    return review.decide(
        session,
        actor=actor,
        partnership_id=partnership_id,
        left_id=own_id,
        right_id=record_id,
        decision="same" if same else "different",
        note=note,
        probability=probability,
    )


def record_by_key(
    session: Session, *, actor: Actor, partnership_id: int, source: str, record_key: str
) -> int:
    """An agency record named by its source and the agency's own id (from the agency's system), for
    attaching a record the run never scored near the child."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    source_id = session.scalar(
        select(LinkageSource.id).where(
            LinkageSource.partnership_id == partnership_id,
            LinkageSource.name == (source or "").strip(),
            LinkageSource.kind == "agency",
        )
    )
    if source_id is None:
        raise InputError("choose one of the agencies' sources", field="source")
    found = session.scalar(
        select(LinkageRecord.id).where(
            LinkageRecord.source_id == source_id, LinkageRecord.record_key == (record_key or "").strip()
        )
    )
    if found is None:
        raise InputError(f"no record with that id in {source}", field="record_key")
    return found


# --- linkage by group --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupLine:
    value: str
    records: int
    linked: int

    @property
    def share(self) -> float:
        return self.linked / self.records if self.records else 0.0


@dataclass(frozen=True)
class GroupTable:
    field: str  # "Agency" or the extract's column
    lines: list[GroupLine]


def by_group(session: Session, *, actor: Actor, partnership_id: int) -> list[GroupTable]:
    """Of each agency's records, how many the latest run linked to another record: by agency, then by each
    group field (a record's value as its extract gave it; "not recorded" where it had none)."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    run_ = latest_run(session, partnership_id)
    if run_ is None:
        return []
    linked_ids = select(LinkageClusterMember.record_id).where(LinkageClusterMember.run_id == run_.id)
    rows = session.execute(
        select(LinkageSource.name, LinkageRecord.groups, LinkageRecord.id.in_(linked_ids))
        .join(LinkageSource, LinkageSource.id == LinkageRecord.source_id)
        .where(LinkageSource.partnership_id == partnership_id, LinkageSource.kind == "agency")
    ).all()
    if not rows:
        return []
    fields = sorted({k for _s, g, _l in rows for k in (g or {}) if k != TRUTH})
    frame = pl.DataFrame(
        {
            "Agency": [r[0] for r in rows],
            "_linked": [bool(r[2]) for r in rows],
            **{f: [str((r[1] or {}).get(f) or "not recorded") for r in rows] for f in fields},
        }
    )
    tables = []
    for column in ["Agency", *fields]:
        summary = (
            frame.group_by(column)
            .agg(pl.len().alias("records"), pl.col("_linked").sum().alias("linked"))
            .sort(column)
        )
        tables.append(
            GroupTable(column, [GroupLine(str(v), int(n), int(k)) for v, n, k in summary.iter_rows()])
        )
    return tables
