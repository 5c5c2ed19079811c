"""Text as Reticulist accepts it, from every input (forms, the JSON API, CSV/XLSX imports, the CLI).

Text is normalised to NFC (so "é" typed two ways is one name) and refused when it holds:

- control characters (NUL, escape, C1 controls ...): tab, newline and carriage return are the only ones
  taken, and single-line fields turn them into spaces;
- invisible bidirectional controls (U+202A-U+202E overrides and embeddings, U+2066-U+2069 isolates,
  U+200E/U+200F and U+061C marks): they make a name read differently from what it is (a "Trojan
  Source" name that shows one organisation and sorts as another);
- invisible zero-width characters (U+200B, U+2060, U+FEFF) that make two names look the same;
- unpaired surrogates and the non-characters U+FFFE/U+FFFF, which no file or database can hold.

A spreadsheet would choke on them, PostgreSQL refuses NUL, and a person could not see them to fix them.

The register's schemas, the barometer's and the network's apply ``TextModel``, so a new field gets the
rule without asking for it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, ValidationInfo, field_validator

from reticulist.errors import InputError

_REFUSED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # controls except tab, newline, carriage return
    "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"  # bidi and zero-width
    "\ud800-\udfff\ufffe\uffff]"  # unpaired surrogates, non-characters
)
_KINDS = {
    "\u061c": "ARABIC LETTER MARK",
    "\u200b": "ZERO WIDTH SPACE",
    "\u200e": "LEFT-TO-RIGHT MARK",
    "\u200f": "RIGHT-TO-LEFT MARK",
    "\u2060": "WORD JOINER",
    "\ufeff": "ZERO WIDTH NO-BREAK SPACE",
}


def _described(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if char in _KINDS:
        return f"an invisible character ({code} {_KINDS[char]})"
    if "\u202a" <= char <= "\u202e" or "\u2066" <= char <= "\u2069":
        return f"an invisible text-direction control ({code} {unicodedata.name(char, '')})"
    if "\ud800" <= char <= "\udfff" or char in "\ufffe\uffff":
        return f"a character that is not text ({code})"
    return f"a control character ({code})"


def refused_character(text: str) -> str | None:
    """The words for the first character ``text`` may not hold, or None when it is clean."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    return f"contains {_described(found.group())} at character {found.start() + 1}; remove it"


def clean(value: Any) -> Any:
    """``value`` normalised to NFC when it is text; ValueError (the message to show) when it holds a
    character that is refused. Anything that is not text is returned unchanged.

    >>> clean("Cafe\\u0301")
    'Café'
    """
    if not isinstance(value, str):
        return value
    problem = refused_character(value)
    if problem:
        raise ValueError(problem)
    return unicodedata.normalize("NFC", value)


def clean_field(value: str, field: str) -> str:
    """``clean`` for a service that takes text outside a schema: InputError naming ``field``."""
    try:
        return clean(value)
    except ValueError as exc:
        raise InputError(str(exc), field=field) from None


def clean_writing_field(value: str | None, field: str, *, limit: int) -> str:
    """``clean_field`` for free text that keeps its lines (a reason, a note): trimmed, line breaks allowed,
    at most ``limit`` characters; InputError naming ``field``."""
    text = (value or "").strip()
    if problem := refused_character(text.replace("\r", " ").replace("\n", " ")):
        raise InputError(problem, field=field)
    if len(text) > limit:
        raise InputError(f"is too long: at most {limit} characters", field=field)
    return unicodedata.normalize("NFC", text)


def printable(text: str) -> str:
    """``text`` with every refused character shown as U+FFFD: for what is written from text that was
    never checked (a login attempt's email, a file's name in an audit summary)."""
    return _REFUSED.sub("\ufffd", text)


def clean_or_none(value: Any) -> Any:
    """Like ``clean`` but for a place that only looks things up (a filter, a search): bad text finds
    nothing instead of being an error."""
    try:
        return clean(value)
    except ValueError:
        return None


class TextModel(BaseModel):
    """A schema whose every text input, in every field and list of texts, is checked by ``clean``."""

    @field_validator("*", mode="before")
    @classmethod
    def _clean_text(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str):
            return clean(value)
        if isinstance(value, list | tuple) and any(isinstance(v, str) for v in value):
            return type(value)(clean(v) for v in value)
        return value
