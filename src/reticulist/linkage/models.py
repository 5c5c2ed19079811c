"""Linkage records: agency extracts (sources) and their records as loaded, the partnership's trained models
(versioned, with what each was trained on), runs, the pairs each run scored and the clusters it made, and
reviewers' decisions (labels) that outlive runs.

A source's records are stored as the agency gave them (after the column mapping), not standardised:
standardising is redone at each run from the same code, so a better standardiser needs no reload. The
casework source (``kind = "casework"``) is the partnership's own casework children, refreshed at each run:
it is how a linked child is known to be one the partnership already works with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from reticulist.db.base import Base, UTCDateTime, utcnow

DECISIONS = ("same", "different", "unsure")


class LinkageSource(Base):
    """One agency's extract, loaded whole (all or nothing), with its data quality report."""

    __tablename__ = "linkage_source"
    __table_args__ = (
        UniqueConstraint("partnership_id", "name", name="uq_linkage_source_name"),
        CheckConstraint("kind IN ('agency', 'casework')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10), default="agency")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True)
    file_name: Mapped[str] = mapped_column(String(255), default="")
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    # Extra columns kept for "linkage by group" (ethnicity, area...), in the file's own words.
    group_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    # One row a standard field: records, given, valid, invalid (linkage/standardise.py).
    quality: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    added_by_label: Mapped[str] = mapped_column(String(320))


class LinkageRecord(Base):
    """A record of a source as the agency gave it. ``record_key`` is the agency's own id (unique in its
    source); ``family_member_id`` is set for the casework source only."""

    __tablename__ = "linkage_record"
    __table_args__ = (
        UniqueConstraint("source_id", "record_key", name="uq_linkage_record_key"),
        UniqueConstraint("source_id", "family_member_id", name="uq_linkage_record_member"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("linkage_source.id", ondelete="CASCADE"), index=True)
    record_key: Mapped[str] = mapped_column(String(100))
    forenames: Mapped[str | None] = mapped_column(String(200), nullable=True)
    surname: Mapped[str | None] = mapped_column(String(200), nullable=True)
    other_names: Mapped[str | None] = mapped_column(String(200), nullable=True)
    date_of_birth: Mapped[str | None] = mapped_column(String(40), nullable=True)  # as written
    sex: Mapped[str | None] = mapped_column(String(20), nullable=True)
    postcode: Mapped[str | None] = mapped_column(String(20), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    earlier_postcodes: Mapped[str | None] = mapped_column(Text, nullable=True)
    nhs_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    upn: Mapped[str | None] = mapped_column(String(20), nullable=True)
    groups: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    family_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("family_member.id", ondelete="CASCADE"), nullable=True, index=True
    )


class LinkageModel(Base):
    """A trained model: Splink's settings with every m and u probability and the prior, as the JSON Splink
    saves, numbered per partnership, with what it was trained on."""

    __tablename__ = "linkage_model"
    __table_args__ = (UniqueConstraint("partnership_id", "version", name="uq_linkage_model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"source": name, "records": n}], and how: the engine and the pairs sampled for u.
    trained_on: Mapped[dict[str, Any]] = mapped_column(JSON)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    trained_by_label: Mapped[str] = mapped_column(String(320))


class LinkageRun(Base):
    """One run: a model over the sources, with the thresholds the manager chose and what came out."""

    __tablename__ = "linkage_run"
    __table_args__ = (
        CheckConstraint("review_threshold > 0 AND review_threshold <= linked_threshold", name="bands"),
        CheckConstraint("linked_threshold < 1", name="linked_below_one"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("linkage_model.id"))
    engine: Mapped[str] = mapped_column(String(10))
    linked_threshold: Mapped[float] = mapped_column(Float)
    review_threshold: Mapped[float] = mapped_column(Float)
    one_per_source: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"source": name, "records": n}] and the counts: compared, linked, to review, clusters, ...
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    run_by_label: Mapped[str] = mapped_column(String(320))


class LinkagePair(Base):
    """A scored pair at or above the run's review threshold (after the household rule), the lower record id
    first, with each comparison's level and weight (the waterfall)."""

    __tablename__ = "linkage_pair"
    __table_args__ = (
        UniqueConstraint("run_id", "left_id", "right_id", name="uq_linkage_pair"),
        CheckConstraint("left_id < right_id", name="ordered"),
        Index("ix_linkage_pair_run_probability", "run_id", "probability"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_run.id", ondelete="CASCADE"))
    left_id: Mapped[int] = mapped_column(ForeignKey("linkage_record.id", ondelete="CASCADE"), index=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("linkage_record.id", ondelete="CASCADE"), index=True)
    probability: Mapped[float] = mapped_column(Float)
    match_weight: Mapped[float] = mapped_column(Float)
    # {comparison output column: [gamma level, match weight]}
    evidence: Mapped[dict[str, list[float]]] = mapped_column(JSON)


class LinkageClusterMember(Base):
    """Which child (cluster) a record belongs to in a run, once labels are applied. A record in no
    linked pair is a cluster of its own and has no row."""

    __tablename__ = "linkage_cluster_member"
    __table_args__ = (
        UniqueConstraint("run_id", "record_id", name="uq_linkage_cluster_member"),
        Index("ix_linkage_cluster_member_cluster", "run_id", "cluster"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("linkage_run.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(ForeignKey("linkage_record.id", ondelete="CASCADE"), index=True)
    cluster: Mapped[int] = mapped_column(Integer)  # the smallest record id in the cluster


class LinkageLabel(Base):
    """A reviewer's decision about two records (the lower id first): "same" child (must link),
    "different" children (cannot link) or "unsure". Kept by record, not by run, so it survives re-runs;
    the latest decision is the one in force (one row per pair, overwritten, each change audited)."""

    __tablename__ = "linkage_label"
    __table_args__ = (
        UniqueConstraint("left_id", "right_id", name="uq_linkage_label_pair"),
        CheckConstraint("left_id < right_id", name="ordered"),
        CheckConstraint("decision IN ('same', 'different', 'unsure')", name="decision_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partnership_id: Mapped[int] = mapped_column(ForeignKey("partnership.id"), index=True)
    left_id: Mapped[int] = mapped_column(ForeignKey("linkage_record.id", ondelete="CASCADE"), index=True)
    right_id: Mapped[int] = mapped_column(ForeignKey("linkage_record.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    # The model's probability when decided: the measured precision of a band comes from these.
    probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    decided_by_label: Mapped[str] = mapped_column(String(320))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
