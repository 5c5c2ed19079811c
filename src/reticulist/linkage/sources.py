"""Sources: loading an agency's extract (all or nothing), its data quality report, the casework source
(the partnership's own children, refreshed before each run) and the standardised frames a run links.

Loading a source again under the same name (``replace``) keeps the records whose ids it still has, with
the reviewers' decisions about them, changes their details, adds the new ones and removes the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, allowed
from reticulist.audit import service as audit
from reticulist.casework.models import FamilyMember, MemberAddress
from reticulist.db.base import utcnow
from reticulist.db.bulk import insert_rows
from reticulist.db.unique import refusing_duplicates
from reticulist.errors import InputError
from reticulist.linkage.extracts import FIELDS, Extract
from reticulist.linkage.models import LinkageRecord, LinkageSource
from reticulist.linkage.standardise import standardise
from reticulist.register.models import Organisation

CASEWORK = "casework"  # the casework source's name, kept for it
# Splink names its tables after the sources: a space or a hyphen there breaks its SQL.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
TRUTH = "synthetic_person_id"  # a group field only synthetic extracts carry: the run measures itself by it


def ensure(actor: Actor, action: Can, partnership_id: int) -> None:
    """Linkage is seen by the linkage role only: to everyone else (managers too) it does not exist."""
    if not allowed(actor, action, partnership_id):
        raise NotFound("No such page.")


def source_name(value: str) -> str:
    name = (value or "").strip()
    if not _NAME.match(name):
        raise InputError(
            "must be 1 to 40 letters, digits or underscores (family_action, not family action), starting "
            "with a letter",
            field="name",
        )
    if name.lower() == CASEWORK:
        raise InputError(
            '"casework" is the name of the partnership\'s own children; choose another', field="name"
        )
    return name


def _organisation(session: Session, partnership_id: int, value: str) -> Organisation:
    text = (value or "").strip()
    found = session.scalar(
        select(Organisation).where(
            Organisation.partnership_id == partnership_id, func.lower(Organisation.name) == text.lower()
        )
    )
    if found is None and text.isdigit():
        found = session.scalar(
            select(Organisation).where(
                Organisation.partnership_id == partnership_id, Organisation.id == int(text)
            )
        )
    if found is None:
        raise InputError(f'no organisation "{text}" in the partnership\'s register', field="agency")
    return found


def _rows(extract: Extract) -> list[dict[str, Any]]:
    groups = [f"group:{g}" for g in extract.group_fields]
    frame = extract.records.select(
        pl.col("record_id").alias("record_key"),
        *[pl.col(f) for f in FIELDS if f != "record_id"],
        pl.struct(groups).alias("groups") if groups else pl.lit(None).alias("groups"),
    )
    rows = frame.to_dicts()
    for row in rows:
        raw = row["groups"] or {}
        row["groups"] = {k.removeprefix("group:"): v for k, v in raw.items() if v is not None}
    return rows


@dataclass(frozen=True)
class Loaded:
    source: LinkageSource
    added: int
    changed: int
    removed: int


def add_source(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    name: str,
    agency: str,
    extract: Extract,
    file_name: str,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Loaded:
    """Store an agency's checked extract as a source of the partnership (``replace``: load it again)."""
    ensure(actor, Can.LINK_RECORDS, partnership_id)
    name = source_name(name)
    organisation = _organisation(session, partnership_id, agency)
    quality = standardise(extract.records).quality.to_dicts()
    source = session.scalar(
        select(LinkageSource).where(
            LinkageSource.partnership_id == partnership_id, LinkageSource.name == name
        )
    )
    if source is not None and not replace:
        raise InputError(f'a source "{name}" is already loaded; load it again with --replace', field="name")
    if source is None:
        source = LinkageSource(
            partnership_id=partnership_id, name=name, kind="agency", added_by_label=actor.label
        )
        session.add(source)
    source.organisation_id = organisation.id
    source.file_name = file_name[:255]
    source.record_count = extract.records.height
    source.group_fields = list(extract.group_fields)
    source.quality = quality
    source.added_by_label = actor.label
    source.added_at = utcnow()
    with refusing_duplicates(
        session, {"uq_linkage_source_name": ("name", "another load of this source came first")}
    ):
        session.flush()
    added, changed, removed = _store(session, source.id, _rows(extract), progress)
    audit.record(
        session,
        actor=actor,
        event="linkage.source_loaded",
        record_type="linkage_source",
        record_id=source.id,
        summary=f"Loaded linkage source {name} ({organisation.name}): {extract.records.height:,} records "
        f"from {file_name} ({added:,} new, {changed:,} kept, {removed:,} removed)",
        partnership_id=partnership_id,
    )
    return Loaded(source, added, changed, removed)


def _store(
    session: Session, source_id: int, rows: list[dict[str, Any]], progress: Callable[[int], None] | None
) -> tuple[int, int, int]:
    """Make the source's records those of ``rows``, matched by ``record_key``: a record kept keeps its id
    (and so the decisions about it). Returns how many were added, changed and removed."""
    existing = dict(
        session.execute(
            select(LinkageRecord.record_key, LinkageRecord.id).where(LinkageRecord.source_id == source_id)
        ).all()
    )
    new = [
        {**r, "source_id": source_id, "family_member_id": r.get("family_member_id")}
        for r in rows
        if r["record_key"] not in existing
    ]
    kept = [{**r, "id": existing[r["record_key"]]} for r in rows if r["record_key"] in existing]
    gone = set(existing.values()) - {r["id"] for r in kept}
    if gone:
        ids = sorted(gone)
        for start in range(0, len(ids), 1000):
            session.execute(delete(LinkageRecord).where(LinkageRecord.id.in_(ids[start : start + 1000])))
    if kept:
        session.execute(
            update(LinkageRecord), [{k: v for k, v in r.items() if k != "record_key"} for r in kept]
        )
    if progress:
        progress(len(kept))
    insert_rows(
        session,
        LinkageRecord.__table__,  # type: ignore[arg-type]
        new,
        progress=(lambda n: progress(len(kept) + n)) if progress else None,
    )
    return len(new), len(kept), len(gone)


def sources(session: Session, *, actor: Actor, partnership_id: int) -> list[LinkageSource]:
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    return list(
        session.scalars(
            select(LinkageSource)
            .where(LinkageSource.partnership_id == partnership_id)
            .order_by(LinkageSource.kind, LinkageSource.name)
        )
    )


def source(session: Session, *, actor: Actor, partnership_id: int, source_id: int) -> LinkageSource:
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    found = session.get(LinkageSource, source_id)
    if found is None or found.partnership_id != partnership_id:
        raise NotFound("No such source.")
    return found


def source_named(session: Session, *, actor: Actor, partnership_id: int, name: str) -> LinkageSource:
    ensure(actor, Can.REVIEW_LINKS, partnership_id)
    found = session.scalar(
        select(LinkageSource).where(
            LinkageSource.partnership_id == partnership_id, LinkageSource.name == name
        )
    )
    if found is None:
        raise InputError(f'no source "{name}" is loaded', field="source")
    return found


def remove_source(session: Session, *, actor: Actor, partnership_id: int, name: str) -> int:
    """Remove a source with its records (and the decisions and run results about them)."""
    ensure(actor, Can.LINK_RECORDS, partnership_id)
    found = source_named(session, actor=actor, partnership_id=partnership_id, name=name)
    count = found.record_count
    session.delete(found)
    audit.record(
        session,
        actor=actor,
        event="linkage.source_removed",
        record_type="linkage_source",
        record_id=found.id,
        summary=f"Removed linkage source {name} ({count:,} records)",
        partnership_id=partnership_id,
    )
    return count


# --- the casework source -----------------------------------------------------------------------------------
def refresh_casework(session: Session, partnership_id: int, *, actor: Actor) -> LinkageSource:
    """The partnership's casework children as a source: added, changed and removed to match casework now.
    A shielded child's addresses are left out (their location is not to travel, even into linkage)."""
    source = session.scalar(
        select(LinkageSource).where(
            LinkageSource.partnership_id == partnership_id, LinkageSource.name == CASEWORK
        )
    )
    if source is None:
        source = LinkageSource(
            partnership_id=partnership_id, name=CASEWORK, kind="casework", added_by_label=actor.label
        )
        session.add(source)
        session.flush()
    children = session.scalars(
        select(FamilyMember).where(
            FamilyMember.partnership_id == partnership_id, FamilyMember.kind == "child"
        )
    ).all()
    addresses: dict[int, list[MemberAddress]] = {}
    for address in session.scalars(
        select(MemberAddress)
        .join(FamilyMember, FamilyMember.id == MemberAddress.member_id)
        .where(FamilyMember.partnership_id == partnership_id, FamilyMember.kind == "child")
        .order_by(MemberAddress.from_on.desc())
    ):
        addresses.setdefault(address.member_id, []).append(address)
    rows = []
    for child in children:
        lived = [] if child.shielded else addresses.get(child.id, [])
        current = next((a for a in lived if a.to_on is None), None)
        rows.append(
            {
                "record_key": f"member-{child.id}",
                "forenames": child.forenames,
                "surname": child.surname,
                "other_names": child.known_as or None,
                "date_of_birth": child.date_of_birth.isoformat()
                if isinstance(child.date_of_birth, date)
                else None,
                "sex": child.sex if child.sex in ("male", "female") else None,
                "postcode": current.postcode if current else None,
                "address": None,
                "earlier_postcodes": ";".join(a.postcode for a in lived if a is not current) or None,
                "nhs_number": child.nhs_number,
                "upn": None if child.upn_temporary else child.upn,
                "groups": {},
                "family_member_id": child.id,
            }
        )
    _store(session, source.id, rows, None)
    source.record_count = len(rows)
    session.flush()
    source.quality = standardise(raw_frame(session, source.id)).quality.to_dicts()
    source.added_at = utcnow()
    return source


# --- the frames a run links --------------------------------------------------------------------------------
def raw_frame(session: Session, source_id: int) -> pl.DataFrame:
    """A source's records as stored, ``record_id`` being the record's id in the database (as text)."""
    fields = [f for f in FIELDS if f != "record_id"]
    rows = session.execute(
        select(LinkageRecord.id, *[getattr(LinkageRecord, f) for f in fields])
        .where(LinkageRecord.source_id == source_id)
        .order_by(LinkageRecord.id)
    ).all()
    schema = {"record_id": pl.String, **{f: pl.String for f in fields}}
    return pl.DataFrame([(str(r[0]), *r[1:]) for r in rows], schema=schema, orient="row")


def frames(session: Session, sources_: list[LinkageSource]) -> dict[str, pl.DataFrame]:
    """Each source's records standardised for the model, ``record_id`` being the database id as text."""
    out = {}
    for s in sources_:
        out[s.name] = standardise(raw_frame(session, s.id)).records
    return out
