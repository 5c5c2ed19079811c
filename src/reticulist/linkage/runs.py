"""Training a partnership's model, showing what a run would compare, and running: score every blocked pair,
keep those at or above the review threshold, and cluster them with the reviewers' decisions applied.

A run is recorded with its model, sources, thresholds, counts and time, and audited. Its pairs and clusters
are stored, so the review queue and the single view read them without running Splink again; a decision in
the queue re-clusters the run at once (linkage/clustering.py).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound
from reticulist.audit import service as audit
from reticulist.db.bulk import insert_rows
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.linkage import clustering, model
from reticulist.linkage.models import (
    LinkageClusterMember,
    LinkageLabel,
    LinkageModel,
    LinkagePair,
    LinkageRecord,
    LinkageRun,
    LinkageSource,
)
from reticulist.linkage.sources import CASEWORK, TRUTH, ensure, frames, refresh_casework

ENGINES = ("duckdb", "spark")
Step = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def _agency_sources(session: Session, partnership_id: int) -> list[LinkageSource]:
    return list(
        session.scalars(
            select(LinkageSource)
            .where(LinkageSource.partnership_id == partnership_id, LinkageSource.kind == "agency")
            .order_by(LinkageSource.name)
        )
    )


def check_engine(value: str) -> str:
    if value not in ENGINES:
        raise InputError(f"must be {' or '.join(ENGINES)}", field="engine")
    return value


def _linker(
    sources: dict[str, pl.DataFrame], *, engine: str, parameters: dict[str, Any] | None = None
) -> Any:
    return model.linker_for(sources, model=parameters, engine=engine)


# --- training ----------------------------------------------------------------------------------------------
def train(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    engine: str = "duckdb",
    max_pairs: float = 1e6,
    step: Step = _quiet,
) -> LinkageModel:
    """Train on every agency source and save the model as the partnership's next version."""
    ensure(actor, Can.LINK_RECORDS, partnership_id)
    engine = check_engine(engine)
    chosen = _agency_sources(session, partnership_id)
    if len(chosen) < 2:
        raise InputError("needs at least two agency sources loaded to learn from", field="sources")
    step("Standardising the sources")
    standardised = frames(session, chosen)
    step("Training (prior, u by sampling, m by expectation maximisation)")
    linker = _linker(standardised, engine=engine)
    parameters = model.train(linker, max_pairs=max_pairs)
    version = (
        session.scalar(
            select(func.max(LinkageModel.version)).where(LinkageModel.partnership_id == partnership_id)
        )
        or 0
    ) + 1
    saved = LinkageModel(
        partnership_id=partnership_id,
        version=version,
        parameters=parameters,
        trained_on={
            "sources": [
                {"source": s.name, "records": s.record_count, "loaded_at": s.added_at.isoformat()}
                for s in chosen
            ],
            "engine": engine,
            "u_pairs_sampled": int(max_pairs),
        },
        trained_by_label=actor.label,
    )
    session.add(saved)
    with refusing_duplicates(
        session, {"uq_linkage_model_version": ("model", "another training finished first; train again")}
    ):
        session.flush()
    audit.record(
        session,
        actor=actor,
        event="linkage.model_trained",
        record_type="linkage_model",
        record_id=saved.id,
        summary=f"Trained linkage model version {version} on {', '.join(s.name for s in chosen)}",
        partnership_id=partnership_id,
    )
    return saved


def models(session: Session, *, actor: Actor, partnership_id: int) -> list[LinkageModel]:
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    return list(
        session.scalars(
            select(LinkageModel)
            .where(LinkageModel.partnership_id == partnership_id)
            .order_by(LinkageModel.version.desc())
        )
    )


def model_version(
    session: Session, *, actor: Actor, partnership_id: int, version: int | None
) -> LinkageModel:
    """The model of that version, or the latest; InputError when there is none."""
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    query = select(LinkageModel).where(LinkageModel.partnership_id == partnership_id)
    if version is not None:
        query = query.where(LinkageModel.version == version)
    found = session.scalar(query.order_by(LinkageModel.version.desc()).limit(1))
    if found is None:
        raise InputError(
            f"no model version {version}"
            if version is not None
            else "no model is trained yet: train one first",
            field="model",
        )
    return found


def model_by_id(session: Session, *, actor: Actor, partnership_id: int, model_id: int) -> LinkageModel:
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    found = session.get(LinkageModel, model_id)
    if found is None or found.partnership_id != partnership_id:
        raise NotFound("No such model.")
    return found


# --- a run -------------------------------------------------------------------------------------------------
def thresholds(linked: Any, review: Any) -> tuple[float, float]:
    """Both thresholds as probabilities: 0 < review <= linked < 1."""
    values = []
    for field, value in (("linked", linked), ("review", review)):
        try:
            number = float(str(value).strip())
        except ValueError:
            raise InputError("must be a probability such as 0.7", field=field) from None
        if not math.isfinite(number) or not 0 < number < 1:
            raise InputError("must be more than 0 and less than 1", field=field)
        values.append(number)
    if values[1] > values[0]:
        raise InputError("must not be above the threshold for linked", field="review")
    return values[0], values[1]


@dataclass(frozen=True)
class Plan:
    sources: list[tuple[str, int]]  # name, records
    rules: list[tuple[str, int, int]]  # blocking rule, comparisons it adds, cumulative
    model: LinkageModel


def _prepare(
    session: Session, actor: Actor, partnership_id: int, version: int | None, step: Step
) -> tuple[LinkageModel, list[LinkageSource], dict[str, pl.DataFrame]]:
    chosen_model = model_version(session, actor=actor, partnership_id=partnership_id, version=version)
    step("Refreshing the casework children")
    refresh_casework(session, partnership_id, actor=actor)
    every = _agency_sources(session, partnership_id) + [
        s
        for s in session.scalars(
            select(LinkageSource).where(
                LinkageSource.partnership_id == partnership_id, LinkageSource.kind == "casework"
            )
        )
        if s.record_count
    ]
    if len([s for s in every if s.record_count]) < 2:
        raise InputError("needs at least two sources with records", field="sources")
    step("Standardising the sources")
    return chosen_model, every, frames(session, every)


def _comparisons(linker: Any) -> list[tuple[str, int, int]]:
    counts = linker.blocking_analysis.count_comparisons_from_blocking_rules(record_sample_proportion=1.0)
    return [
        (
            rule_words(str(row["blocking_rule"])),
            int(row["marginal_comparison_count"]),
            int(row["cumulative_comparison_count"]),
        )
        for row in counts
    ]


_FIELD_WORDS = {
    "nhs_number": "NHS number",
    "upn": "unique pupil number",
    "dob": "date of birth",
    "dob_swapped": "date of birth with day and month swapped",
    "forename": "forename",
    "surname": "surname",
    "forename_soundex": "forename's sound",
    "surname_soundex": "surname's sound",
    "postcode": "postcode",
}
_EQUALS = re.compile(r'l\."?(\w+)"?\s*=\s*r\."?(\w+)"?')


def rule_words(sql: str) -> str:
    """A blocking rule in words: ``l.dob = r.dob AND l.surname_soundex = r.surname_soundex`` is "the same
    date of birth and surname's sound"."""
    same, crossed = [], []
    for mine, theirs in _EQUALS.findall(sql):
        if mine == theirs:
            same.append(_FIELD_WORDS.get(mine, mine))
        else:
            crossed.append(
                f"one's {_FIELD_WORDS.get(mine, mine)} is the other's {_FIELD_WORDS.get(theirs, theirs)}"
            )
    words = (["the same " + " and ".join(same)] if same else []) + crossed
    return "; ".join(words) if words else sql


def plan(
    session: Session, *, actor: Actor, partnership_id: int, version: int | None = None, engine: str = "duckdb"
) -> Plan:
    """What a run would compare: each blocking rule and the comparisons it generates (no run is made,
    nothing is stored: the casework source refresh is rolled back by the caller)."""
    ensure(actor, Can.LINK_RECORDS, partnership_id)
    chosen_model, every, standardised = _prepare(session, actor, partnership_id, version, _quiet)
    linker = _linker(standardised, engine=check_engine(engine), parameters=chosen_model.parameters)
    return Plan([(s.name, s.record_count) for s in every], _comparisons(linker), chosen_model)


def _ordered_pairs(predictions: pl.DataFrame, comparisons: list[str]) -> pl.DataFrame:
    a = pl.col("record_id_l").cast(pl.Int64)
    b = pl.col("record_id_r").cast(pl.Int64)
    return predictions.select(
        pl.min_horizontal(a, b).alias("left_id"),
        pl.max_horizontal(a, b).alias("right_id"),
        pl.col("match_probability").alias("probability"),
        pl.col("match_weight"),
        *[pl.col(f"gamma_{c}") for c in comparisons],
        *[pl.col(f"mw_{c}") for c in comparisons],
    )


def score(linker: Any, review: float) -> pl.DataFrame:
    """Every blocked pair at or above ``review``, without those the household rule keeps apart (on the
    linker's engine: linkage/model.scored)."""
    return pl.from_arrow(model.scored(linker, review=review).as_pyarrow_table())  # type: ignore[return-value]


def run(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    linked: Any = model.LINKED,
    review: Any = model.REVIEW,
    one_per_source: bool = True,
    version: int | None = None,
    engine: str = "duckdb",
    step: Step = _quiet,
) -> LinkageRun:
    """Link every source of the partnership (its casework children included) with a trained model."""
    ensure(actor, Can.LINK_RECORDS, partnership_id)
    linked_at, review_at = thresholds(linked, review)
    engine = check_engine(engine)
    started = time.perf_counter()
    chosen_model, every, standardised = _prepare(session, actor, partnership_id, version, step)
    linker = _linker(standardised, engine=engine, parameters=chosen_model.parameters)
    step("Counting the comparisons of each blocking rule")
    rules = _comparisons(linker)
    step("Scoring the pairs")
    names = [c["output_column_name"] for c in chosen_model.parameters["comparisons"]]
    pairs = _ordered_pairs(score(linker, review_at), names).unique(["left_id", "right_id"])
    record = LinkageRun(
        partnership_id=partnership_id,
        model_id=chosen_model.id,
        engine=engine,
        linked_threshold=linked_at,
        review_threshold=review_at,
        one_per_source=one_per_source,
        sources=[{"source": s.name, "records": s.record_count} for s in every],
        counts={},
        run_by_label=actor.label,
    )
    session.add(record)
    session.flush()
    step("Storing the pairs")
    rows = [
        {
            "run_id": record.id,
            "left_id": p["left_id"],
            "right_id": p["right_id"],
            "probability": float(p["probability"]),
            "match_weight": float(p["match_weight"]),
            "evidence": {c: [int(p[f"gamma_{c}"]), float(p[f"mw_{c}"])] for c in names},
        }
        for p in pairs.iter_rows(named=True)
    ]
    insert_rows(session, LinkagePair.__table__, rows)  # type: ignore[arg-type]
    step("Clustering, with the reviewers' decisions")
    made = recluster(session, record)
    linked_pairs = int((pairs.get_column("probability") >= linked_at).sum())
    record.counts = {
        "records": sum(s.record_count for s in every),
        "compared": rules[-1][2] if rules else 0,
        "blocking_rules": [{"rule": r, "comparisons": n} for r, n, _ in rules],
        "scored": pairs.height,
        "linked_pairs": linked_pairs,
        "review_pairs": pairs.height - linked_pairs,
        **made,
        **_measured(session, record, every),
    }
    record.seconds = round(time.perf_counter() - started, 2)
    audit.record(
        session,
        actor=actor,
        event="linkage.run",
        record_type="linkage_run",
        record_id=record.id,
        summary=f"Linkage run {record.id} with model version {chosen_model.version}: "
        f"{record.counts['records']:,} records, {linked_pairs:,} linked pairs, "
        f"{record.counts['review_pairs']:,} to review, linked at "
        f"{linked_at}, review from {review_at}",
        partnership_id=partnership_id,
    )
    return record


def recluster(session: Session, run_: LinkageRun) -> dict[str, int]:
    """Cluster the run's stored pairs again with every decision now in force; replaces its clusters."""
    # Two decisions at once each re-cluster: the run's row lock (PostgreSQL) makes the second wait and then
    # read the first's clusters, so what it writes is against what is there.
    session.scalar(select(LinkageRun.id).where(LinkageRun.id == run_.id).with_for_update())
    pairs = session.execute(
        select(LinkagePair.left_id, LinkagePair.right_id, LinkagePair.probability).where(
            LinkagePair.run_id == run_.id
        )
    ).all()
    records = session.execute(
        select(LinkageRecord.id, LinkageRecord.source_id)
        .join(LinkageSource, LinkageSource.id == LinkageRecord.source_id)
        .where(LinkageSource.partnership_id == run_.partnership_id)
    ).all()
    source_of = dict(records)  # type: ignore[arg-type]
    labels = session.execute(
        select(LinkageLabel.left_id, LinkageLabel.right_id, LinkageLabel.decision).where(
            LinkageLabel.partnership_id == run_.partnership_id
        )
    ).all()
    left = np.array([p[0] for p in pairs], dtype=np.int64)
    right = np.array([p[1] for p in pairs], dtype=np.int64)
    probability = np.array([p[2] for p in pairs], dtype=np.float64)
    made = clustering.cluster(
        left=left,
        right=right,
        probability=probability,
        linked=run_.linked_threshold,
        source_of=source_of,
        one_per_source=run_.one_per_source,
        same=[(a, b) for a, b, d in labels if d == "same" and a in source_of and b in source_of],
        different=[(a, b) for a, b, d in labels if d == "different"],
    )
    # Write only what changed: a decision moves a handful of records, not the run's hundred thousand.
    before = dict(
        session.execute(  # type: ignore[arg-type]
            select(LinkageClusterMember.record_id, LinkageClusterMember.cluster).where(
                LinkageClusterMember.run_id == run_.id
            )
        ).all()
    )
    after = dict(zip(made.record.tolist(), made.cluster.tolist(), strict=True))
    moved = sorted(r for r, c in before.items() if after.get(r) != c)
    for start in range(0, len(moved), 1000):
        session.execute(
            delete(LinkageClusterMember).where(
                LinkageClusterMember.run_id == run_.id,
                LinkageClusterMember.record_id.in_(moved[start : start + 1000]),
            )
        )
    insert_rows(
        session,
        LinkageClusterMember.__table__,  # type: ignore[arg-type]
        [{"run_id": run_.id, "record_id": r, "cluster": c} for r, c in after.items() if before.get(r) != c],
    )
    casework = set(
        session.scalars(
            select(LinkageRecord.id)
            .join(LinkageSource, LinkageSource.id == LinkageRecord.source_id)
            .where(LinkageSource.partnership_id == run_.partnership_id, LinkageSource.name == CASEWORK)
        )
    )
    counts = {
        "clusters": len(set(made.cluster.tolist())),
        "records_linked": len(made.record),
        "known_children": len(
            {int(c) for r, c in zip(made.record, made.cluster, strict=True) if int(r) in casework}
        ),
        "links_refused": made.refused,
        "decision_conflicts": len(made.conflicts),
    }
    run_.counts = {**(run_.counts or {}), **counts}
    return counts


def _measured(session: Session, run_: LinkageRun, every: list[LinkageSource]) -> dict[str, Any]:
    """Precision, recall and F1 of the run's clusters where every agency source carries the synthetic
    truth (the demo's and the tests' extracts): pairwise, as linkage/model.accuracy."""
    agencies = [s for s in every if s.kind == "agency"]
    if not agencies or not all(TRUTH in s.group_fields for s in agencies):
        return {}
    rows = session.execute(
        select(LinkageRecord.id, LinkageRecord.groups).where(
            LinkageRecord.source_id.in_([s.id for s in agencies])
        )
    ).all()
    truth = pl.DataFrame(
        {"record_id": [r[0] for r in rows], "person_id": [str((r[1] or {}).get(TRUTH)) for r in rows]},
        schema={"record_id": pl.Int64, "person_id": pl.String},
    )
    members = session.execute(
        select(LinkageClusterMember.record_id, LinkageClusterMember.cluster).where(
            LinkageClusterMember.run_id == run_.id
        )
    ).all()
    clusters = pl.DataFrame(
        {"record_id": [m[0] for m in members], "cluster_id": [m[1] for m in members]},
        schema={"record_id": pl.Int64, "cluster_id": pl.Int64},
    )
    frame = truth.join(clusters, on="record_id", how="left").with_columns(
        pl.coalesce(pl.col("cluster_id"), -pl.col("record_id")).alias("cluster_id")
    )
    measured = model.accuracy(frame)
    return {
        "precision": round(measured.precision, 4),
        "recall": round(measured.recall, 4),
        "f1": round(measured.f1, 4),
    }


def runs(session: Session, *, actor: Actor, partnership_id: int) -> list[LinkageRun]:
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    return list(
        session.scalars(
            select(LinkageRun)
            .where(LinkageRun.partnership_id == partnership_id)
            .order_by(LinkageRun.id.desc())
        )
    )


def latest_run(session: Session, partnership_id: int) -> LinkageRun | None:
    return session.scalar(
        select(LinkageRun)
        .where(LinkageRun.partnership_id == partnership_id)
        .order_by(LinkageRun.id.desc())
        .limit(1)
    )
