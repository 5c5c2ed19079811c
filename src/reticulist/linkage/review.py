"""The review queue: pairs the latest run scored between the two thresholds, shown side by side with the
waterfall of evidence, and the reviewer's decision kept as a label (same child, different children, or
unsure, with a note). A decision overrides the model at once (the run is clustered again) and in every
later run; decisions within the band give its measured precision.

Every look at a pair is audited, as is every decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound
from reticulist.audit import service as audit
from reticulist.db.base import utcnow
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.linkage import model
from reticulist.linkage.models import (
    DECISIONS,
    LinkageLabel,
    LinkageModel,
    LinkagePair,
    LinkageRecord,
    LinkageRun,
    LinkageSource,
)
from reticulist.linkage.runs import latest_run, recluster
from reticulist.linkage.sources import ensure
from reticulist.linkage.standardise import STANDARD_FIELDS, standardise
from reticulist.text import clean_writing_field

PAGE = 50
DECISION_WORDS = {"same": "The same child", "different": "Different children", "unsure": "Unsure"}
SHOWN = (
    "forenames",
    "surname",
    "other_names",
    "date_of_birth",
    "sex",
    "postcode",
    "address",
    "earlier_postcodes",
    "nhs_number",
    "upn",
)


@dataclass(frozen=True)
class QueueLine:
    pair_id: int
    probability: float
    left_source: str
    right_source: str
    decision: str | None  # "unsure" pairs stay in the queue, marked


@dataclass(frozen=True)
class Band:
    low: float
    high: float
    decided: int  # "same" or "different"
    same: int

    @property
    def precision(self) -> float | None:
        return self.same / self.decided if self.decided else None


@dataclass(frozen=True)
class Queue:
    run: LinkageRun | None
    lines: list[QueueLine]
    waiting: int  # pairs in the band with no "same"/"different" decision
    decided: int
    page: int
    pages: int
    bands: list[Band]


def _band_filter(run_: LinkageRun) -> Any:
    return and_(
        LinkagePair.run_id == run_.id,
        LinkagePair.probability >= run_.review_threshold,
        LinkagePair.probability < run_.linked_threshold,
    )


def queue(session: Session, *, actor: Actor, partnership_id: int, page: int = 1) -> Queue:
    """The latest run's pairs in the review band that no one has decided, surest first."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    run_ = latest_run(session, partnership_id)
    if run_ is None:
        return Queue(None, [], 0, 0, 1, 1, [])
    label = aliased(LinkageLabel)
    left, right = aliased(LinkageRecord), aliased(LinkageRecord)
    ls, rs = aliased(LinkageSource), aliased(LinkageSource)
    joined = (
        select(LinkagePair.id, LinkagePair.probability, ls.name, rs.name, label.decision)
        .join(left, left.id == LinkagePair.left_id)
        .join(right, right.id == LinkagePair.right_id)
        .join(ls, ls.id == left.source_id)
        .join(rs, rs.id == right.source_id)
        .outerjoin(label, and_(label.left_id == LinkagePair.left_id, label.right_id == LinkagePair.right_id))
        .where(_band_filter(run_))
    )
    open_ = joined.where((label.decision.is_(None)) | (label.decision == "unsure"))
    waiting = session.scalar(select(func.count()).select_from(open_.subquery())) or 0
    in_band = session.scalar(select(func.count()).select_from(joined.subquery())) or 0
    pages = max(1, -(-waiting // PAGE))
    page = min(max(1, page), pages)
    rows = session.execute(
        open_.order_by(label.decision.is_not(None), LinkagePair.probability.desc(), LinkagePair.id)
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    ).all()
    lines = [QueueLine(r[0], r[1], r[2], r[3], r[4]) for r in rows]
    return Queue(run_, lines, waiting, in_band - waiting, page, pages, bands(session, partnership_id, run_))


def bands(session: Session, partnership_id: int, run_: LinkageRun, width: float = 0.1) -> list[Band]:
    """The measured precision of the review band in steps of ``width``: of the pairs decided "same" or
    "different", the share that were the same child (by the model's probability when decided)."""
    rows = session.execute(
        select(LinkageLabel.probability, LinkageLabel.decision).where(
            LinkageLabel.partnership_id == partnership_id,
            LinkageLabel.decision.in_(("same", "different")),
            LinkageLabel.probability.is_not(None),
        )
    ).all()
    edges = []
    low = run_.review_threshold
    while low < run_.linked_threshold - 1e-9:
        high = min(run_.linked_threshold, round(low + width, 6))
        edges.append((low, high))
        low = high
    out = []
    for low, high in edges:
        inside = [d for p, d in rows if low <= p < high]
        out.append(Band(low, high, len(inside), sum(1 for d in inside if d == "same")))
    return out


@dataclass(frozen=True)
class Side:
    record_id: int
    source: str
    record_key: str
    fields: dict[str, str | None]  # as the agency wrote them
    keys: dict[str, str | None]  # as the model compares them: "differs" means these differ, not the spelling


_KEYS = {"forenames": "forenames", "surname": "surname", "date_of_birth": "dob", "sex": "sex"}
_KEYS |= {"postcode": "postcode", "nhs_number": "nhs_number", "upn": "upn"}


def sides(session: Session, record_ids: list[int]) -> list[Side]:
    """Records as shown side by side: each field as written, and as the model compares it."""
    records = {
        r.id: r for r in session.scalars(select(LinkageRecord).where(LinkageRecord.id.in_(record_ids)))
    }
    names = dict(
        session.execute(
            select(LinkageSource.id, LinkageSource.name).where(
                LinkageSource.id.in_({r.source_id for r in records.values()})
            )
        ).all()
    )
    raw = pl.DataFrame(
        [
            {"record_id": str(i), **{f: getattr(records[i], f) for f in STANDARD_FIELDS if f != "record_id"}}
            for i in record_ids
        ],
        schema={f: pl.String for f in STANDARD_FIELDS},
        orient="row",
    )
    compared = standardise(raw).records.to_dicts()
    out = []
    for record_id, std in zip(record_ids, compared, strict=True):
        record = records[record_id]
        key = "casework child" if record.family_member_id is not None else record.record_key
        fields = {f: getattr(record, f) for f in SHOWN}
        keys = {
            f: (std.get(_KEYS[f]) if f in _KEYS else (fields[f] or "").strip().lower() or None) for f in SHOWN
        }
        out.append(Side(record.id, names[record.source_id], key, fields, keys))
    return out


def side(session: Session, record_id: int) -> Side:
    return sides(session, [record_id])[0]


@dataclass(frozen=True)
class PairView:
    pair: LinkagePair
    run: LinkageRun
    left: Side
    right: Side
    prior: float
    evidence: list[model.Evidence]
    label: LinkageLabel | None


def _pair(session: Session, partnership_id: int, pair_id: int) -> tuple[LinkagePair, LinkageRun]:
    pair = session.get(LinkagePair, pair_id)
    run_ = session.get(LinkageRun, pair.run_id) if pair is not None else None
    if pair is None or run_ is None or run_.partnership_id != partnership_id:
        raise NotFound("No such pair.")
    return pair, run_


def evidence_of(parameters: dict[str, Any], pair: LinkagePair) -> list[model.Evidence]:
    """The stored pair's waterfall: each comparison's level and the weight it added."""
    flat: dict[str, Any] = {}
    for name, (gamma, weight) in pair.evidence.items():
        flat[f"gamma_{name}"] = gamma
        flat[f"mw_{name}"] = weight
    return model.waterfall(parameters, flat)


def label_for(session: Session, left_id: int, right_id: int) -> LinkageLabel | None:
    a, b = min(left_id, right_id), max(left_id, right_id)
    return session.scalar(select(LinkageLabel).where(LinkageLabel.left_id == a, LinkageLabel.right_id == b))


def pair_view(session: Session, *, actor: Actor, partnership_id: int, pair_id: int) -> PairView:
    """Both records side by side with the evidence; the look is audited."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    pair, run_ = _pair(session, partnership_id, pair_id)
    trained = session.get(LinkageModel, run_.model_id)
    assert trained is not None
    audit.record(
        session,
        actor=actor,
        event="linkage.pair_viewed",
        record_type="linkage_pair",
        record_id=pair.id,
        summary=f"Looked at linkage pair {pair.id} (records {pair.left_id} and {pair.right_id}) in the "
        "review queue",
        partnership_id=partnership_id,
    )
    return PairView(
        pair,
        run_,
        *sides(session, [pair.left_id, pair.right_id]),
        model.prior_weight(trained.parameters),
        evidence_of(trained.parameters, pair),
        label_for(session, pair.left_id, pair.right_id),
    )


def decide(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    left_id: int,
    right_id: int,
    decision: str,
    note: str = "",
    probability: float | None = None,
) -> LinkageLabel:
    """Record (or change) the decision about two records, and cluster the latest run again with it."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    if decision not in DECISIONS:
        raise InputError("choose the same child, different children or unsure", field="decision")
    note = clean_writing_field(note, "note", limit=2000)
    if decision == "unsure" and not note:
        raise InputError("say what would settle it", field="note")
    a, b = min(left_id, right_id), max(left_id, right_id)
    owned = session.scalars(
        select(LinkageRecord.id)
        .join(LinkageSource, LinkageSource.id == LinkageRecord.source_id)
        .where(LinkageRecord.id.in_((a, b)), LinkageSource.partnership_id == partnership_id)
    ).all()
    if a == b or len(set(owned)) != 2:
        raise NotFound("No such records.")
    label = label_for(session, a, b)
    before = audit.snapshot(label) if label is not None else None
    if label is None:
        label = LinkageLabel(
            partnership_id=partnership_id, left_id=a, right_id=b, decided_by_label=actor.label
        )
        session.add(label)
    label.decision = decision
    label.note = note
    label.probability = probability
    label.decided_by_label = actor.label
    label.decided_at = utcnow()
    with refusing_duplicates(
        session,
        {"uq_linkage_label_pair": ("decision", "another decision about this pair came first; look again")},
    ):
        session.flush()
    audit.record(
        session,
        actor=actor,
        event="linkage.decided",
        record_type="linkage_label",
        record_id=label.id,
        summary=f"Decided records {a} and {b}: {DECISION_WORDS[decision].lower()}",
        partnership_id=partnership_id,
        before=before,
        after=audit.snapshot(label),
    )
    run_ = latest_run(session, partnership_id)
    if run_ is not None:
        recluster(session, run_)
    return label


def decide_pair(
    session: Session, *, actor: Actor, partnership_id: int, pair_id: int, decision: str, note: str = ""
) -> LinkageLabel:
    """A decision from the review queue: about the pair's two records, at the pair's probability."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    pair, _run = _pair(session, partnership_id, pair_id)
    return decide(
        session,
        actor=actor,
        partnership_id=partnership_id,
        left_id=pair.left_id,
        right_id=pair.right_id,
        decision=decision,
        note=note,
        probability=pair.probability,
    )


def next_pair(session: Session, partnership_id: int, after: int) -> int | None:
    """The next undecided pair of the latest run's band, for "decide and go on"."""
    run_ = latest_run(session, partnership_id)
    if run_ is None:
        return None
    decided = select(LinkageLabel.left_id, LinkageLabel.right_id).where(
        LinkageLabel.partnership_id == partnership_id, LinkageLabel.decision != "unsure"
    )
    return session.scalar(
        select(LinkagePair.id)
        .where(_band_filter(run_), LinkagePair.id != after)
        .where(tuple_(LinkagePair.left_id, LinkagePair.right_id).not_in(decided))
        .order_by(LinkagePair.probability.desc(), LinkagePair.id)
        .limit(1)
    )
