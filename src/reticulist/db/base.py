"""Declarative base with a naming convention so Alembic migrations name constraints the same on both
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, MetaData, TypeDecorator
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always returned timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


def canonical_json(value: Any) -> str:
    """The text a ``SortedJSON`` column stores for ``value``: keys sorted at every level, written by the
    standard ``json.dumps`` (as SQLAlchemy writes JSON), so it is the same whoever writes it."""
    return json.dumps(_sorted(value))


class SortedJSON(TypeDecorator[Any]):
    """JSON stored with its keys sorted, so that the stored text is a function of the value: the audit log's
    hash chain hashes that text (audit/chain.py). Other JSON columns keep their keys' order, which some
    rely on (a barometer release lists its breakdowns in order)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: object) -> Any:
        return None if value is None else _sorted(value)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
