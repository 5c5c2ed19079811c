"""Errors every interface turns into a clear message that names the row and field."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class FieldProblem:
    field: str
    message: str
    row: int | None = None  # 1-based data row in an import file (the header is row 1, so data starts at 2)
    source: str | None = None  # file name, for imports

    def __str__(self) -> str:
        where = ""
        if self.source:
            where = f"{self.source} "
        if self.row is not None:
            where += f"row {self.row}, "
        return f"{where}{self.field}: {self.message}"


class InputError(ValueError):
    """Bad input. Carries one or more problems; nothing has been changed."""

    def __init__(
        self, message: str | None = None, *, field: str = "", problems: list[FieldProblem] | None = None
    ):
        self.problems = list(problems or [])
        if message is not None:
            self.problems.insert(0, FieldProblem(field=field, message=message))
        super().__init__("; ".join(str(p) for p in self.problems))

    def by_field(self) -> dict[str, str]:
        return {p.field: p.message for p in self.problems}


_NAMED = re.compile(r"^([a-z_][a-z_0-9.]*): (.+)$", re.S)


def named_field(field: str, message: str) -> tuple[str, str]:
    """A rule over several fields says which one it is about first ("agreed_on: is before the request"):
    put the problem on that field (under ``field``'s path, unless that is the whole record)."""
    found = _NAMED.match(message)
    if not found:
        return field, message
    if field in ("", "record", "body"):
        return found.group(1), found.group(2)
    return f"{field}.{found.group(1)}", found.group(2)
