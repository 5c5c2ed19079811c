"""Run Alembic migrations from code, and check that a database's schema is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class SchemaNotCurrent(RuntimeError):
    """The database schema is behind the code; the message says what to run."""


class UpgradeRefused(RuntimeError):
    """A migration found data it cannot carry forward as it is (records that break a rule the new schema
    keeps). Nothing was changed; the message names the records to fix before upgrading again."""


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision`` (default: the newest)."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_schema_current(engine: Engine) -> None:
    """Refuse to run on a database whose schema is behind (or ahead of) this version of Reticulist."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "has no Reticulist schema" if current is None else f"is at schema revision {current}"
        raise SchemaNotCurrent(
            f"The database {where} {state}, but this version of Reticulist needs revision {head}. "
            f"Run: reticulist db upgrade"
        )
