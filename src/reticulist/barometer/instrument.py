"""The barometer's instrument: constructs from the source documents, the items that measure them, and what
helps when a construct scores low. Instruments are versioned JSON files; the built-in ones ship in
``barometer/instruments/``, and a manager may load a custom file in the same schema.

A file is validated completely before use; every problem is reported with its place in the file
(``constructs.3.key: ...``), as for any other input. See docs/barometer.md for the schema in full.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from reticulist.errors import FieldProblem, InputError
from reticulist.text import TextModel

KEY = r"^[a-z][a-z0-9_]*$"  # item and construct keys: also the column names of response imports
INSTRUMENT_KEY = r"^[a-z][a-z0-9_-]*$"
VERSION = r"^\d+(\.\d+)*$"
# What each pattern asks for, in words a manager writing a file can act on.
PATTERN_WORDS = {
    KEY: "use lower-case letters, digits and _, starting with a letter (for example shared_plans)",
    INSTRUMENT_KEY: "use lower-case letters, digits, _ and -, starting with a letter (e.g. early-help)",
    VERSION: "use numbers separated by dots (for example 1.0 or 2.1)",
}
Lens = Literal["individual", "profession", "organisation"]
Level = Literal["macro", "meso", "micro", "clients"]
Framework = Literal["002_table_1", "003_themes", "004_collaborative_agency", "custom"]

# Answers are stored as these codes: 1 = strongly disagree ... 5 = strongly agree; 0 = don't know.
DONT_KNOW = 0
SCALE_POINTS = 5


class _Strict(TextModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, populate_by_name=True)


class Source(_Strict):
    """Where a construct, catalyst or tool comes from: a source document and its section."""

    document: str = Field(min_length=1, description='e.g. "002" (file 002_... in shared/seeds)')
    section: str = Field(min_length=1, description='e.g. "Table 1, row 5"')


class Tool(_Strict):
    """A practitioner tool (004) and what it is for."""

    name: str = Field(min_length=1)
    what_for: str = Field(min_length=1)
    source: Source


class Construct(_Strict):
    key: str = Field(pattern=KEY)
    framework: Framework
    name: str = Field(min_length=1, max_length=120)
    definition: str = Field(min_length=1, description="Plain words: what a high score means.")
    source: Source
    # 002 Table 1 pairs: the row, its analytic lenses and the two sides of the pair.
    row: int | None = Field(default=None, ge=1, le=8)
    lenses: tuple[Lens, ...] = ()
    obstacle: str | None = None
    catalyst: str | None = None
    # What helps when the construct scores low.
    catalysts: tuple[str, ...] = ()
    recommendations: tuple[str, ...] = ()
    tools: tuple[Tool, ...] = ()

    @model_validator(mode="after")
    def _pairs_are_whole(self) -> Construct:
        if self.framework == "002_table_1" and not (
            self.row and self.lenses and self.obstacle and self.catalyst
        ):
            raise ValueError("a 002 Table 1 construct needs its row, lenses, obstacle and catalyst")
        if not (self.catalysts or self.recommendations or self.tools):
            raise ValueError("needs at least one catalyst, recommendation or tool for when it scores low")
        return self


class Item(_Strict):
    """One statement on the five-point agreement scale. A reverse-worded item agrees with the obstacle,
    so its answers are reversed (6 - answer) before scoring."""

    key: str = Field(pattern=KEY)
    # "construct" in the file; a different name in Python because BaseModel.construct exists.
    construct_key: str = Field(alias="construct")
    text: str = Field(min_length=1, max_length=160)
    reverse: bool = False
    level: Level | None = None  # 004's levels, where an item speaks to one


class Section(_Strict):
    """One page of the survey form."""

    key: str = Field(pattern=KEY)
    title: str = Field(min_length=1)
    intro: str = ""
    constructs: tuple[str, ...] = Field(min_length=1)


class Scale(_Strict):
    points: tuple[str, str, str, str, str] = (
        "Strongly disagree",
        "Disagree",
        "Neither agree nor disagree",
        "Agree",
        "Strongly agree",
    )
    dont_know: str = "Don't know"


class Instrument(_Strict):
    key: str = Field(pattern=INSTRUMENT_KEY)
    version: str = Field(pattern=VERSION)
    title: str = Field(min_length=1)
    description: str = ""
    scale: Scale = Scale()
    sections: tuple[Section, ...] = Field(min_length=1)
    constructs: tuple[Construct, ...] = Field(min_length=1)
    items: tuple[Item, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Instrument:
        problems: list[str] = []
        for what, keys in (
            ("construct", [c.key for c in self.constructs]),
            ("item", [i.key for i in self.items]),
            ("section", [s.key for s in self.sections]),
        ):
            repeated = sorted({k for k in keys if keys.count(k) > 1})
            if repeated:
                problems.append(f"{what} keys used twice: {', '.join(repeated)}")
        # The same statement twice would count double in its construct's score.
        texts: dict[str, list[str]] = {}
        for item in self.items:
            texts.setdefault(" ".join(item.text.casefold().split()), []).append(item.key)
        for keys in texts.values():
            if len(keys) > 1:
                problems.append(f"items {', '.join(keys)} have the same text")
        # Each row of 002 Table 1 is one obstacle/catalyst pair, so one construct.
        rows = [c.row for c in self.constructs if c.framework == "002_table_1"]
        for row in sorted({r for r in rows if r is not None and rows.count(r) > 1}):
            problems.append(f"002 Table 1 row {row} is used by more than one construct")
        construct_keys = {c.key for c in self.constructs}
        for item in self.items:
            if item.construct_key not in construct_keys:
                problems.append(f'item {item.key}: no construct "{item.construct_key}"')
        counts = {k: sum(1 for i in self.items if i.construct_key == k) for k in construct_keys}
        too_few = sorted(k for k, n in counts.items() if n < 3)
        if too_few:
            problems.append(f"constructs with fewer than 3 items: {', '.join(too_few)}")
        placed = [k for s in self.sections for k in s.constructs]
        for key in sorted(set(placed) - construct_keys):
            problems.append(f'a section lists "{key}", which is not a construct')
        for key in sorted(construct_keys - set(placed)):
            problems.append(f"construct {key} is in no section")
        for key in sorted({k for k in placed if placed.count(k) > 1}):
            problems.append(f"construct {key} is in more than one section")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def label(self) -> str:
        return f"{self.title} (version {self.version})"

    def construct_by_key(self, key: str) -> Construct:
        return next(c for c in self.constructs if c.key == key)

    def items_of(self, construct_key: str) -> list[Item]:
        return [i for i in self.items if i.construct_key == construct_key]

    def section_items(self, section_key: str) -> list[Item]:
        section = next(s for s in self.sections if s.key == section_key)
        return [i for key in section.constructs for i in self.items_of(key)]


# An instrument is nested six levels deep (instrument, constructs, a construct, its tools, a tool, its
# source); a file nested far deeper is not an instrument, and would exhaust the parser's stack.
MAX_DEPTH = 20


def _too_deep(text: str | bytes) -> bool:
    """Whether the JSON text nests lists or objects deeper than MAX_DEPTH (brackets inside strings are
    not counted)."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def parse_instrument(text: str | bytes, *, source: str = "instrument file") -> Instrument:
    """Validate an instrument file's JSON text, or raise InputError naming every problem and its place."""
    if _too_deep(text):
        raise InputError(
            f"{source} nests lists or objects more than {MAX_DEPTH} levels deep; an instrument file is "
            "never that deep (see docs/barometer.md for its shape)",
            field="file",
        )
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise InputError(f"{source} is not UTF-8 text", field="file") from None
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        where = f": {exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise InputError(f"{source} is not valid JSON{where}", field="file") from None
    try:
        return Instrument.model_validate(data)
    except ValidationError as exc:
        problems = []
        errors = exc.errors()
        for err in errors:
            # A list whose entries were all invalid also counts as too short: their own errors say why.
            if err["type"] == "too_short" and any(
                len(other["loc"]) > len(err["loc"]) and other["loc"][: len(err["loc"])] == err["loc"]
                for other in errors
            ):
                continue
            place = ".".join(str(p) for p in err["loc"]) or "instrument"
            message = re.sub(r"^(Value error|Assertion failed), ", "", str(err["msg"]))
            if err["type"] == "missing":
                message = "is required"
            elif err["type"] == "extra_forbidden":
                message = "is not a field of the instrument schema"
            elif err["type"] == "string_pattern_mismatch":
                pattern = (err.get("ctx") or {}).get("pattern", "")
                message = f"{err['input']!r} is not allowed: {PATTERN_WORDS.get(pattern, message)}"
            # The whole-file checks come as one message; one problem each reads better in a list.
            for part in message.split("; ") if place == "instrument" else [message]:
                problems.append(FieldProblem(field=place, message=part, source=source))
        raise InputError(problems=problems) from None


@cache
def builtin_instruments() -> dict[tuple[str, str], Instrument]:
    """The instruments shipped with Reticulist, by (key, version)."""
    folder = resources.files("reticulist.barometer") / "instruments"
    found: dict[tuple[str, str], Instrument] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            instrument = parse_instrument(entry.read_bytes(), source=entry.name)
            found[(instrument.key, instrument.version)] = instrument
    return found


def default_instrument() -> Instrument:
    """The newest version of the built-in Partnership Barometer."""
    versions = [i for (key, _), i in builtin_instruments().items() if key == "partnership-barometer"]
    return max(versions, key=lambda i: tuple(int(p) for p in i.version.split(".")))
