"""The uniqueness rules the services name exist in the schema, so a lost race is told in the service's
words rather than passed on as a server error."""

from __future__ import annotations

import re
from pathlib import Path

import reticulist.db.models  # noqa: F401
from reticulist.db.base import Base

SOURCE = Path(__file__).resolve().parents[2] / "src" / "reticulist"


def _rule_names() -> set[str]:
    names: set[str] = set()
    for table in Base.metadata.tables.values():
        names |= {str(c.name) for c in table.constraints if c.name}
        names |= {str(i.name) for i in table.indexes if i.unique}
        # Plain indexes named in models (ix_...) are no rules, but a name in the code must still exist.
        names |= {str(i.name) for i in table.indexes if str(i.name).startswith("ix_")}
    return names


def test_every_rule_a_service_names_is_in_the_schema() -> None:
    named: dict[str, str] = {}
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for name in re.findall(r"\"((?:uq|ix)_[a-z_]+)\"", path.read_text(encoding="utf-8")):
            named[name] = path.name
    assert "uq_person_partnership_email" in named  # the scan finds them
    missing = {name: where for name, where in named.items() if name not in _rule_names()}
    assert not missing, f"rules named in the services but not in the schema: {missing}"
