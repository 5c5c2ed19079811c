"""every uniqueness rule the services check is kept by the database too

Eight "add person" requests at the same moment with the same email stored duplicates: the rule was checked
and then written, with nothing in the database to stop the second writer. Now:

- a person's email is unique in their partnership, ignoring case (people without an email are many);
- an organisation's and a profession's names are unique in their partnership ignoring case (they were
  unique with case; imports match names ignoring case, so names differing only in case were ambiguous);
- a built-in instrument is stored once (its copies have no partnership, which the old constraint let
  through); identical copies stored twice are merged, the rounds keep their questions;
- an imported network tie is stored once per pair of people and day, and a round's network step names
  each person or organisation once per respondent.

Records that already break a rule are not changed or deleted: the upgrade stops before changing anything
and names them (partnership, email or name, record numbers), so they can be fixed first.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from alembic import op

from reticulist.db.migrate import UpgradeRefused

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_PARTIAL_EMAIL = sa.text("email IS NOT NULL")
_BUILT_IN = sa.text("partnership_id IS NULL")
_IMPORTED = sa.text("source = 'imported'")
_REPORTED = sa.text("source = 'reported'")


def _rows(sql: str) -> list[Any]:
    return list(op.get_bind().execute(sa.text(sql)))


def _partnerships() -> dict[int, str]:
    return {row.id: row.name for row in _rows("SELECT id, name FROM partnership")}


def _numbers(ids: list[int]) -> str:
    return ", ".join(f"#{i}" for i in sorted(ids))


def _register_duplicates(names: dict[int, str]) -> list[str]:
    """Each group of people sharing an email, and of organisations or professions sharing a name, in one
    partnership (ignoring case, as the new indexes do on this database)."""
    problems: list[str] = []
    groups: dict[tuple[str, int, str], list[tuple[int, str]]] = defaultdict(list)
    for row in _rows(
        "SELECT p.id, p.partnership_id, p.email AS value, lower(p.email) AS k FROM person p "
        "JOIN (SELECT partnership_id, lower(email) AS k FROM person WHERE email IS NOT NULL "
        "GROUP BY partnership_id, lower(email) HAVING count(*) > 1) d "
        "ON d.partnership_id = p.partnership_id AND d.k = lower(p.email) ORDER BY p.id"
    ):
        groups[("person", row.partnership_id, row.k)].append((row.id, row.value))
    for table in ("organisation", "profession"):
        for row in _rows(
            f"SELECT t.id, t.partnership_id, t.name AS value, lower(t.name) AS k FROM {table} t "
            f"JOIN (SELECT partnership_id, lower(name) AS k FROM {table} "
            "GROUP BY partnership_id, lower(name) HAVING count(*) > 1) d "
            "ON d.partnership_id = t.partnership_id AND d.k = lower(t.name) ORDER BY t.id"
        ):
            groups[(table, row.partnership_id, row.k)].append((row.id, row.value))
    for (table, partnership_id, key), records in sorted(groups.items()):
        where = f'partnership "{names.get(partnership_id, "?")}" (#{partnership_id})'
        ids = [i for i, _ in records]
        if table == "person":
            problems.append(
                f"{where}: {len(records)} people have the email {key} (person {_numbers(ids)}); "
                "give all but one of them another email, or none"
            )
        else:
            written = ", ".join(f'"{value}"' for _, value in records)
            problems.append(
                f"{where}: {len(records)} {table}s have the same name ignoring case ({written}; "
                f"{table} {_numbers(ids)}); rename all but one of them"
            )
    return problems


def _tie_duplicates(names: dict[int, str]) -> list[str]:
    problems: list[str] = []
    for row in _rows(
        "SELECT partnership_id, from_person_id, to_person_id, observed_on, count(*) AS n FROM network_tie "
        "WHERE source = 'imported' GROUP BY partnership_id, from_person_id, to_person_id, observed_on "
        "HAVING count(*) > 1 ORDER BY 1, 2, 3, 4"
    ):
        problems.append(
            f'partnership "{names.get(row.partnership_id, "?")}" (#{row.partnership_id}): the imported tie '
            f"from person #{row.from_person_id} to person #{row.to_person_id} on {row.observed_on} is "
            f"stored {row.n} times; delete all but one"
        )
    for target in ("to_person_id", "to_organisation_id"):
        for row in _rows(
            f"SELECT round_id, from_person_id, {target} AS target, count(*) AS n FROM network_tie "
            f"WHERE source = 'reported' AND {target} IS NOT NULL "
            f"GROUP BY round_id, from_person_id, {target} HAVING count(*) > 1 ORDER BY 1, 2, 3"
        ):
            what = "person" if target == "to_person_id" else "organisation"
            problems.append(
                f"barometer round #{row.round_id}: person #{row.from_person_id} named {what} "
                f"#{row.target} {row.n} times in the network step; delete all but one of those ties"
            )
    return problems


def _merge_built_in_copies() -> list[str]:
    """A built-in instrument copied in twice (two rounds started it at the same moment): identical
    copies are merged, the rounds pointing at the first; differing ones are named, not touched."""
    problems: list[str] = []
    copies: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in _rows(
        "SELECT id, key, version, content FROM barometer_instrument WHERE partnership_id IS NULL ORDER BY id"
    ):
        copies[(row.key, row.version)].append(row)
    bind = op.get_bind()
    for (key, version), rows in copies.items():
        if len(rows) < 2:
            continue

        def content(row: Any) -> Any:
            return json.loads(row.content) if isinstance(row.content, str) else row.content

        keep, others = rows[0], rows[1:]
        if any(content(r) != content(keep) for r in others):
            problems.append(
                f"the built-in instrument {key} version {version} is stored {len(rows)} times with different "
                f"questions (barometer_instrument {_numbers([r.id for r in rows])}); keep one"
            )
            continue
        ids = [r.id for r in others]
        many = sa.bindparam("ids", expanding=True)
        repoint = sa.text("UPDATE barometer_round SET instrument_id = :keep WHERE instrument_id IN :ids")
        bind.execute(repoint.bindparams(many), {"keep": keep.id, "ids": ids})
        bind.execute(
            sa.text("DELETE FROM barometer_instrument WHERE id IN :ids").bindparams(many), {"ids": ids}
        )
    return problems


def upgrade() -> None:
    names = _partnerships()
    problems = _register_duplicates(names) + _tie_duplicates(names) + _merge_built_in_copies()
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        raise UpgradeRefused(
            "This upgrade makes the database keep every uniqueness rule (one email per person in a "
            "partnership, one name per organisation and profession, ignoring case...), and these records "
            f"break them:\n{listed}\nNothing was changed. Fix them (on their pages, or with the API), "
            "then run `reticulist db upgrade` again."
        )

    # The case-sensitive name constraints give way to the case-insensitive indexes.
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_organisation_partnership_id"), type_="unique")
    with op.batch_alter_table("profession", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_profession_partnership_id"), type_="unique")
    # Expression indexes are created outside batch mode: a later batch rebuild of these tables on SQLite
    # must create them again (SQLite's reflection skips indexes on expressions).
    op.create_index(
        "uq_organisation_partnership_name",
        "organisation",
        ["partnership_id", sa.text("lower(name)")],
        unique=True,
    )
    op.create_index(
        "uq_profession_partnership_name",
        "profession",
        ["partnership_id", sa.text("lower(name)")],
        unique=True,
    )
    op.create_index(
        "uq_person_partnership_email",
        "person",
        ["partnership_id", sa.text("lower(email)")],
        unique=True,
        sqlite_where=_PARTIAL_EMAIL,
        postgresql_where=_PARTIAL_EMAIL,
    )
    op.create_index(
        "uq_barometer_instrument_built_in",
        "barometer_instrument",
        ["key", "version"],
        unique=True,
        sqlite_where=_BUILT_IN,
        postgresql_where=_BUILT_IN,
    )
    op.create_index(
        "uq_network_tie_imported",
        "network_tie",
        ["partnership_id", "from_person_id", "to_person_id", "observed_on"],
        unique=True,
        sqlite_where=_IMPORTED,
        postgresql_where=_IMPORTED,
    )
    for name, target in (
        ("uq_network_tie_reported_person", "to_person_id"),
        ("uq_network_tie_reported_organisation", "to_organisation_id"),
    ):
        op.create_index(
            name,
            "network_tie",
            ["round_id", "from_person_id", target],
            unique=True,
            sqlite_where=_REPORTED,
            postgresql_where=_REPORTED,
        )


def downgrade() -> None:
    for name, table in (
        ("uq_network_tie_reported_organisation", "network_tie"),
        ("uq_network_tie_reported_person", "network_tie"),
        ("uq_network_tie_imported", "network_tie"),
        ("uq_barometer_instrument_built_in", "barometer_instrument"),
        ("uq_person_partnership_email", "person"),
        ("uq_profession_partnership_name", "profession"),
        ("uq_organisation_partnership_name", "organisation"),
    ):
        op.drop_index(name, table_name=table)
    # Names unique ignoring case are unique with case too, so the old constraints always fit.
    with op.batch_alter_table("profession", schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f("uq_profession_partnership_id"), ["partnership_id", "name"])
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f("uq_organisation_partnership_id"), ["partnership_id", "name"])
