"""Families and their people to and from spreadsheets (`reticulist casework import|export`).

One row per person, grouped into families by ``family_reference``. The family's episode (the request for
support, the agreement, the lead practitioner) is given on the family's first row; later rows of the same
family leave those columns blank or repeat them exactly. The person who agreed to early help has "yes"
in ``agreed``. The lead practitioner is a person of the register, named by email.

Imports are all or nothing: every row is checked first, every problem is named by row and column, and
only a file with none is written. Exports leave out what shielding hides: a shielded person's addresses,
and any shielded address, are never written to a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.audit import service as audit
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import (
    Episode,
    Family,
    FamilyMember,
    Involvement,
    LeadPractitioner,
    MemberAddress,
)
from reticulist.errors import FieldProblem, InputError
from reticulist.register.models import Person
from reticulist.register.transfer import FileFormat, Table, read_table, write_table

PERSON_COLUMNS = [
    "family_reference",
    "kind",
    "forenames",
    "surname",
    "known_as",
    "date_of_birth",
    "sex",
    "relationship_to_children",
    "parental_responsibility",
    "nhs_number",
    "upn",
    "shielded",
    "address",
    "postcode",
    "address_from",
    "address_shielded",
    "agreed",
]
EPISODE_COLUMNS = [
    "requested_by",
    "request_reason",
    "requested_on",
    "agreed_on",
    "opened_on",
    "lead_email",
    "lead_role",
    "family_had_say",
]
COLUMNS = PERSON_COLUMNS + EPISODE_COLUMNS
REQUIRED = {"family_reference", "kind", "forenames", "surname", *EPISODE_COLUMNS} - {"family_had_say"}
MAX_FAMILIES = 20_000


@dataclass(frozen=True)
class ImportResult:
    families: int
    people: int


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _check_header(table: Table) -> None:
    problems = [
        FieldProblem(name, "column is missing from the header", source=table.source)
        for name in sorted(REQUIRED - set(table.columns))
    ]
    problems += [
        FieldProblem(table.label(name), "is not a column of the families file", source=table.source)
        for name in table.columns
        if name not in COLUMNS
    ]
    if problems:
        raise InputError(problems=problems)


def _member(record: dict[str, Any], opened_on: Any) -> dict[str, Any]:
    member: dict[str, Any] = {
        k: record.get(k)
        for k in (
            "kind",
            "forenames",
            "surname",
            "known_as",
            "date_of_birth",
            "sex",
            "relationship_to_children",
            "parental_responsibility",
            "nhs_number",
            "upn",
            "shielded",
        )
        if _text(record.get(k))
    }
    if _text(record.get("address")) or _text(record.get("postcode")):
        member["address"] = {
            "lines": record.get("address"),
            "postcode": record.get("postcode"),
            "from_on": record.get("address_from") or opened_on,
            "shielded": record.get("address_shielded") or "",
        }
    return member


def check_families(
    session: Session,
    *,
    partnership_id: int,
    table: Table,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[int, cs.FamilyCreate]]:
    """Every family of the file as it would be recorded, each with its first row; InputError naming every
    bad row and column otherwise. Writes nothing."""
    _check_header(table)
    problems: list[FieldProblem] = []

    def problem(row: int, field: str, message: str) -> None:
        problems.append(FieldProblem(table.label(field), message, row=row, source=table.source))

    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, record in table.rows:
        reference = _text(record.get("family_reference"))
        if not reference:
            problem(number, "family_reference", "is required")
            continue
        groups.setdefault(reference, []).append((number, record))
    if len(groups) > MAX_FAMILIES:
        raise InputError(
            f"has {len(groups):,} families; import at most {MAX_FAMILIES:,} at once", field="file"
        )
    taken = set(
        session.scalars(
            select(Family.reference).where(
                Family.partnership_id == partnership_id, Family.reference.in_(list(groups))
            )
        )
    )
    leads = {
        email.lower(): person_id
        for email, person_id in session.execute(
            select(func.lower(Person.email), Person.id).where(
                Person.partnership_id == partnership_id, Person.email.is_not(None), Person.ended_on.is_(None)
            )
        )
    }
    checked: list[tuple[int, cs.FamilyCreate]] = []
    done = 0
    for reference, rows in groups.items():
        first_row, first = rows[0]
        if reference in taken:
            problem(first_row, "family_reference", f"{reference} is already a family of this partnership")
        episode = {k: first.get(k) for k in EPISODE_COLUMNS}
        for number, record in rows[1:]:
            for key in EPISODE_COLUMNS:
                if _text(record.get(key)) and _text(record.get(key)) != _text(first.get(key)):
                    problem(
                        number, key, f"differs from row {first_row}, the family's first row; leave it blank"
                    )
        lead_email = _text(episode.pop("lead_email")).lower()
        lead_id = leads.get(lead_email)
        if not lead_email:
            problem(first_row, "lead_email", "is required: the lead practitioner's email in the register")
        elif lead_id is None:
            problem(
                first_row,
                "lead_email",
                f"{lead_email} is not a current person of this partnership's register",
            )
        agreed = [
            i
            for i, (_, record) in enumerate(rows)
            if _text(record.get("agreed")).lower() in ("yes", "y", "true", "1")
        ]
        if len(agreed) != 1:
            problem(
                first_row,
                "agreed",
                'say who agreed to early help: "yes" on exactly one person of the family '
                f"({len(agreed)} have it)",
            )
        data = {
            "reference": reference,
            "members": [_member(record, first.get("opened_on")) for _, record in rows],
            # A stand-in id where the lead is missing: that problem is already said, by email, and the
            # family is not written (any problem stops the whole import).
            "episode": {**episode, "lead_person_id": lead_id or 1},
            "agreed_by": (agreed[0] + 1) if len(agreed) == 1 else 1,
        }
        try:
            parsed = cs.parse(cs.FamilyCreate, data)
            checked.append((first_row, parsed))
        except InputError as err:
            for p in err.problems:
                parts = p.field.split(".")
                if parts[0] == "members" and len(parts) >= 3 and parts[1].isdigit():
                    row = rows[int(parts[1])][0]
                    field = {
                        "address.lines": "address",
                        "address.postcode": "postcode",
                        "address.from_on": "address_from",
                    }.get(".".join(parts[2:]), ".".join(parts[2:]))
                elif parts[0] == "episode" and len(parts) == 2:
                    row, field = first_row, parts[1]
                    if field == "lead_person_id":
                        continue  # said above, by email
                else:
                    row, field = first_row, {"agreed_by": "agreed", "members": "kind"}.get(p.field, p.field)
                problem(row, field, p.message)
        done += len(rows)
        if progress:
            progress(done, len(table.rows))
    if problems:
        problems.sort(key=lambda p: p.row or 0)
        raise InputError(problems=problems)
    return checked


def import_families(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    path: Path,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Check the whole file, then record every family (through the same service as the pages) in the
    caller's transaction: the caller commits, and nothing is written if anything is refused."""
    ensure_allowed(actor, Can.VIEW_ALL_CASES, partnership_id)
    table = read_table(path)
    checked = check_families(session, partnership_id=partnership_id, table=table, progress=progress)
    people = 0
    for first_row, data in checked:
        try:
            casework.record_family(session, actor=actor, partnership_id=partnership_id, data=data)
        except InputError as err:  # a rule only the service knows (agreement, the lead's partnership)
            raise InputError(
                problems=[
                    FieldProblem(table.label(p.field), p.message, row=first_row, source=table.source)
                    for p in err.problems
                ]
            ) from None
        people += len(data.members)
    return ImportResult(len(checked), people)


def export_families(
    session: Session, *, actor: Actor, partnership_id: int, path: Path, file_format: FileFormat
) -> int:
    """Every family with an open episode, one row per person, in the columns the import reads back.
    Shielded addresses are left out. The export is audited (how many families, where to)."""
    ensure_allowed(actor, Can.VIEW_ALL_CASES, partnership_id)
    episodes = {
        e.family_id: e
        for e in session.scalars(
            select(Episode).where(Episode.partnership_id == partnership_id, Episode.closed_on.is_(None))
        )
    }
    leads = dict(
        session.execute(
            select(LeadPractitioner.episode_id, Person.email)
            .join(Involvement, Involvement.id == LeadPractitioner.involvement_id)
            .join(Person, Person.id == Involvement.person_id)
            .where(
                LeadPractitioner.to_on.is_(None),
                LeadPractitioner.episode_id.in_([e.id for e in episodes.values()]),
            )
        ).all()
    )
    lead_roles = dict(
        session.execute(
            select(LeadPractitioner.episode_id, Involvement.role)
            .join(Involvement, Involvement.id == LeadPractitioner.involvement_id)
            .where(LeadPractitioner.to_on.is_(None))
        ).all()
    )
    had_say = dict(
        session.execute(
            select(LeadPractitioner.episode_id, LeadPractitioner.family_had_say).where(
                LeadPractitioner.to_on.is_(None)
            )
        ).all()
    )
    families = session.scalars(
        select(Family).where(Family.id.in_(list(episodes))).order_by(Family.reference)
    ).all()
    members = session.scalars(
        select(FamilyMember).where(FamilyMember.family_id.in_(list(episodes))).order_by(FamilyMember.id)
    ).all()
    current: dict[int, MemberAddress] = {}
    for address in session.scalars(
        select(MemberAddress)
        .where(MemberAddress.member_id.in_([m.id for m in members]), MemberAddress.to_on.is_(None))
        .order_by(MemberAddress.from_on)
    ):
        current[address.member_id] = address
    by_family: dict[int, list[FamilyMember]] = {}
    for member in members:
        by_family.setdefault(member.family_id, []).append(member)
    rows: list[dict[str, Any]] = []
    for family in families:
        episode = episodes[family.id]
        for n, m in enumerate(by_family.get(family.id, [])):
            address = current.get(m.id)
            shown = address is not None and not (m.shielded or address.shielded)
            row: dict[str, Any] = {
                "family_reference": family.reference,
                "kind": m.kind,
                "forenames": m.forenames,
                "surname": m.surname,
                "known_as": m.known_as,
                "date_of_birth": m.date_of_birth,
                "sex": m.sex,
                "relationship_to_children": m.relationship_to_children,
                "parental_responsibility": "yes" if m.parental_responsibility else "no",
                "nhs_number": m.nhs_number,
                "upn": m.upn,
                "shielded": "yes" if m.shielded else "no",
                "address": address.lines if shown and address else "",
                "postcode": address.postcode if shown and address else "",
                "address_from": address.from_on if shown and address else "",
                "address_shielded": "no",
                "agreed": "yes" if m.id == episode.agreed_by_member_id else "no",
            }
            if n == 0:
                row.update(
                    requested_by=episode.requested_by,
                    request_reason=episode.request_reason,
                    requested_on=episode.requested_on,
                    agreed_on=episode.agreed_on,
                    opened_on=episode.opened_on,
                    lead_email=leads.get(episode.id) or "",
                    lead_role=lead_roles.get(episode.id) or "",
                    family_had_say="yes" if had_say.get(episode.id) else "no",
                )
            rows.append(row)
    write_table(path, COLUMNS, rows, file_format)
    audit.record(
        session,
        actor=actor,
        event="exported",
        record_type="family",
        record_id=None,
        partnership_id=partnership_id,
        summary=f"Exported {len(families)} families ({len(rows)} people) to {path.name}, no shielded address",
        after={"families": len(families), "file": path.name},
    )
    return len(families)
