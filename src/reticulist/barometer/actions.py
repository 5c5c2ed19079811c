"""From recommendations to actions: a manager ticks what helps for a weak construct, names an owner and a
due date, and each ticked suggestion becomes an action in the register, so that the overview's momentum
figures track it (003 on momentum).

Only the suggestions the round's results page offers (the weakest constructs' catalysts, recommendations
and tools) can be adopted; everything is checked before anything is created, so a bad pick changes
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import Construct
from reticulist.errors import FieldProblem, InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Action, Organisation, Person

Kind = Literal["catalyst", "recommendation", "tool"]
TITLE_MAX = 300  # register.schemas.Title
KIND_LABELS: dict[str, str] = {
    "catalyst": "Catalyst (002)",
    "recommendation": "Recommendation (003)",
    "tool": "Tool (004)",
}
# Catalysts and recommendations end with their source in brackets, e.g. "... (002, Table 1, row 1)".
_TRAILING_SOURCE = re.compile(r"^(?P<text>.*\S)\s*\((?P<source>\d{3}[^()]*(?:\([^()]*\)[^()]*)*)\)\s*$")


@dataclass(frozen=True)
class Suggestion:
    """One thing that helps a weak construct, as offered on the results page."""

    key: str  # "<construct key>-<kind>-<n>", stable for a given instrument version
    kind: Kind
    construct: Construct
    text: str  # the suggestion without its source
    source: str  # "002, Table 1, row 1"
    what_for: str | None = None  # tools: what the tool is for

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def title(self) -> str:
        """The action's title: the suggestion itself (a tool: "Use <tool>"), cut to a title's length."""
        title = f"Use {self.text}" if self.kind == "tool" else self.text
        return title if len(title) <= TITLE_MAX else title[: TITLE_MAX - 1].rstrip() + "…"


def _split_source(entry: str, construct: Construct) -> tuple[str, str]:
    found = _TRAILING_SOURCE.match(entry)
    if found:
        return found.group("text"), found.group("source")
    return entry, f"{construct.source.document}, {construct.source.section}"


def suggestions_for(construct: Construct) -> list[Suggestion]:
    """Every catalyst (002), recommendation (003) and tool (004) listed for a construct, in that order."""
    out = []
    for kind, entries in (("catalyst", construct.catalysts), ("recommendation", construct.recommendations)):
        for n, entry in enumerate(entries, start=1):
            text, source = _split_source(entry, construct)
            out.append(Suggestion(f"{construct.key}-{kind}-{n}", kind, construct, text, source))  # type: ignore[arg-type]
    for n, tool in enumerate(construct.tools, start=1):
        source = f"{tool.source.document}, {tool.source.section}"
        out.append(
            Suggestion(f"{construct.key}-tool-{n}", "tool", construct, tool.name, source, tool.what_for)
        )
    return out


def offered(report: results.RoundReport) -> dict[str, Suggestion]:
    """The suggestions a round's results page offers: those of its recommended (weakest) constructs."""
    return {
        suggestion.key: suggestion
        for recommendation in report.recommendations
        for suggestion in suggestions_for(recommendation.line.construct)
    }


@dataclass(frozen=True)
class Pick:
    """A ticked suggestion with its owner, organisation (optional) and due date, as sent by a form (text)
    or by code (ids and dates)."""

    suggestion: str
    owner_person_id: Any = None
    organisation_id: Any = None
    due_on: Any = None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _record_id(value: Any) -> int:
    number = s.record_id_or_none(value)
    if number is None:
        raise ValueError(f'"{str(value).strip()[:40]}" is not a record number')
    return number


def _due_date(value: Any, today: date) -> date:
    if _blank(value):
        raise ValueError("is required: choose when it should be done by")
    parsed = s.parse_date(value)
    assert parsed is not None
    if parsed < today:
        raise ValueError(f"{parsed.isoformat()} is in the past; choose today or a later date")
    return parsed


def _owner(session: Session, partnership_id: int, value: Any, today: date) -> Person:
    if _blank(value):
        raise ValueError("is required: choose who owns this action")
    person = session.get(Person, _record_id(value))
    if person is None or person.partnership_id != partnership_id:
        raise ValueError("no such person in this partnership")
    if person.ended_on is not None and person.ended_on <= today:
        raise ValueError(f"{person.full_name} has left the partnership; choose a current person")
    return person


def _organisation(session: Session, partnership_id: int, value: Any, today: date) -> Organisation | None:
    if _blank(value):
        return None
    organisation = session.get(Organisation, _record_id(value))
    if organisation is None or organisation.partnership_id != partnership_id:
        raise ValueError("no such organisation in this partnership")
    if organisation.ended_on is not None and organisation.ended_on <= today:
        raise ValueError(f"{organisation.name} has ended; choose a current organisation or none")
    return organisation


def describe(suggestion: Suggestion, report: results.RoundReport, why: str) -> str:
    """The action's description: the construct, the round and the source, so the action explains itself."""
    construct = suggestion.construct
    lines = [
        f'From the Partnership Barometer round "{report.round_title}" '
        f"({report.opens_on.isoformat()} to {report.closes_on.isoformat()}, "
        f"{report.instrument.title} version {report.instrument.version}).",
        f"Construct: {construct.name}. {construct.definition}",
        f"Why: {why}",
        f"{suggestion.kind_label}: {suggestion.text}"
        + (f" ({suggestion.what_for})" if suggestion.what_for else ""),
        f"Source: {suggestion.source}.",
    ]
    return "\n".join(lines)


def adopt_recommendations(
    session: Session, *, actor: Actor, round_id: int, picks: Sequence[Pick]
) -> list[Action]:
    """Turn ticked suggestions of a round's recommendations into register actions (audited), all or none.

    Each problem names its field as ``picks.<suggestion key>[.owner_person_id|.organisation_id|.due_on]``.
    Needs both run-barometer and edit-register. The caller commits.
    """
    found = barometer.get_round(session, actor=actor, round_id=round_id)
    ensure_allowed(actor, Can.RUN_BAROMETER, found.partnership_id)
    ensure_allowed(actor, Can.EDIT_REGISTER, found.partnership_id)
    if not picks:
        raise InputError("tick at least one suggestion to make it an action", field="picks")
    report = results.round_report(session, actor=actor, round_id=round_id)
    available = offered(report)
    why = {r.line.key: r.why for r in report.recommendations}
    today = register.today()
    problems: list[FieldProblem] = []
    ready: list[s.ActionCreate] = []
    seen: set[str] = set()
    for pick in picks:
        where = f"picks.{pick.suggestion}"
        suggestion = available.get(pick.suggestion)
        if suggestion is None:
            problems.append(FieldProblem(where, "is not one of this round's suggestions"))
            continue
        if pick.suggestion in seen:
            problems.append(FieldProblem(where, "is ticked twice"))
            continue
        seen.add(pick.suggestion)
        values: dict[str, Any] = {}
        for name, check in (
            ("owner_person_id", lambda v: _owner(session, found.partnership_id, v, today).id),
            ("organisation_id", lambda v: _id_of(_organisation(session, found.partnership_id, v, today))),
            ("due_on", lambda v: _due_date(v, today)),
        ):
            try:
                values[name] = check(getattr(pick, name))
            except ValueError as err:
                problems.append(FieldProblem(f"{where}.{name}", str(err)))
        if len(values) == 3:
            ready.append(
                s.ActionCreate(
                    title=suggestion.title,
                    description=describe(suggestion, report, why[suggestion.construct.key]),
                    **values,
                )
            )
    if problems:
        raise InputError(problems=problems)
    return [
        register.create_action(session, actor=actor, partnership_id=found.partnership_id, data=data)
        for data in ready
    ]


def _id_of(record: Organisation | None) -> int | None:
    return record.id if record is not None else None
