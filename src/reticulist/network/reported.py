"""Reported ties: the optional network section of a barometer round.

A round's manager chooses whether the round has one (``BarometerRound.network_section``: none, people or
organisations). It is offered only after the respondent has sent their anonymous barometer answers, as a
separate step that is NOT anonymous: the respondent says who they are (picked from the partnership's
current people) and names up to ``MAX_PICKS`` people (or organisations) they work with, rating each tie.

Anonymity of the barometer is kept by what is *not* stored: the survey link is only the credential that
lets the step open (its answers must have been sent, its round must be open and have the section);
nothing derived from the link, the draft or the response is written here. A tie holds the round, the
respondent's person, the person or organisation named, the ratings and the day (``created_at`` is set
to midnight of that day, so no stored time is finer than the date).

Sending again replaces: the respondent's earlier ties for the same round are deleted and the new ones
stored, in one transaction (so a double click, a retry or a change of mind leaves one set).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.audit import service as audit
from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerRound
from reticulist.errors import FieldProblem, InputError
from reticulist.network import ties as t
from reticulist.network.models import NetworkTie
from reticulist.register.models import Organisation, Person

MAX_PICKS = 20
PICK_ROWS = 5  # empty rows shown at a time on the choose page; "add more" shows five more
RATING_WORDS: dict[int, str] = {1: "not at all", 2: "a little", 3: "a fair amount", 4: "a great deal"}
# The trust and value questions of established partnership network surveys, in plain words.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("trust_reliable", "They are reliable"),
    ("trust_mission", "They share our mission"),
    ("trust_open", "They are open to discussion"),
    ("value_influence", "Their influence"),
    ("value_involvement", "Their level of involvement"),
    ("value_resources", "The resources they contribute"),
)
FIELDS: tuple[str, ...] = ("frequency", *t.RATING_FIELDS)
PLURAL = {"person": "people", "organisation": "organisations"}
_DASHES = re.compile(r"\s+[-–—]+\s+")


def today() -> date:
    return date.today()


class NetworkSectionUnavailable(Exception):
    """The network step cannot open for this link: ``reason`` is "no-section" (the round has none) or
    "not-sent" (the barometer answers have not been sent yet)."""

    def __init__(self, reason: Literal["no-section", "not-sent"]) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Choice:
    """A person or organisation to pick: its id and the label shown (unique within the list)."""

    id: int
    label: str
    name: str
    organisation_id: int | None = None  # a person's organisation


@dataclass
class NetworkStep:
    """What the network step of one link shows: the round, whether ties go to people or organisations,
    the people a respondent may say they are, and what they may pick."""

    round: BarometerRound
    mode: Literal["people", "organisations"]
    people: list[Choice]
    targets: list[Choice]

    def person(self, person_id: int) -> Choice | None:
        return next((c for c in self.people if c.id == person_id), None)

    def target(self, target_id: int) -> Choice | None:
        return next((c for c in self.targets if c.id == target_id), None)


@dataclass(frozen=True)
class Chosen:
    """The respondent and their picks, checked, ready to be rated."""

    respondent: Choice
    targets: list[Choice]


@dataclass(frozen=True)
class Recorded:
    """What a send stored: the number of ties and how many earlier ties of the same respondent in the
    same round it replaced."""

    ties: int
    replaced: int


def _unique_labels(rows: Sequence[tuple[int, str, str, int | None]]) -> list[Choice]:
    """ "Name — Organisation", with " (2)", " (3)" after repeats (in id order) so every label is one."""
    seen: dict[str, int] = {}
    out = []
    for row_id, name, organisation, organisation_id in sorted(rows, key=lambda r: r[0]):
        label = f"{name} — {organisation}" if organisation else name
        seen[label.casefold()] = seen.get(label.casefold(), 0) + 1
        count = seen[label.casefold()]
        out.append(Choice(row_id, f"{label} ({count})" if count > 1 else label, name, organisation_id))
    return sorted(out, key=lambda c: (c.label.casefold(), c.id))


def _current_people(session: Session, partnership_id: int, on: date) -> list[Choice]:
    people = session.scalars(
        select(Person).where(
            Person.partnership_id == partnership_id,
            Person.joined_on.is_(None) | (Person.joined_on <= on),
            Person.ended_on.is_(None) | (Person.ended_on >= on),
        )
    ).unique()
    return _unique_labels([(p.id, p.full_name, p.organisation.name, p.organisation_id) for p in people])


def _current_organisations(session: Session, partnership_id: int, on: date) -> list[Choice]:
    organisations = session.scalars(
        select(Organisation).where(
            Organisation.partnership_id == partnership_id,
            Organisation.ended_on.is_(None) | (Organisation.ended_on >= on),
        )
    )
    return _unique_labels([(o.id, o.name, "", None) for o in organisations])


def open_step(session: Session, *, token: str, secret_key: str) -> NetworkStep:
    """The network step for a survey link whose answers have been sent, in an open round with a network
    section. Raises barometer.SurveyUnavailable (unknown link, round not open) or
    NetworkSectionUnavailable."""
    survey = barometer.find_survey(session, token=token, secret_key=secret_key)
    found = survey.round
    if found.network_section not in ("people", "organisations"):
        raise NetworkSectionUnavailable("no-section")
    if not survey.received:
        raise NetworkSectionUnavailable("not-sent")
    on = today()
    people = _current_people(session, found.partnership_id, on)
    mode: Literal["people", "organisations"] = (
        "people" if found.network_section == "people" else "organisations"
    )
    targets = people if mode == "people" else _current_organisations(session, found.partnership_id, on)
    return NetworkStep(round=found, mode=mode, people=people, targets=targets)


def _normal(text: str) -> str:
    return _DASHES.sub(" — ", " ".join(str(text).split())).casefold()


def _resolve(choices: Sequence[Choice], text: str, what: str) -> Choice:
    """The choice a typed or picked label means: the exact label, or a name only one choice has.
    Raises ValueError in words."""
    wanted = _normal(text)
    for choice in choices:
        if _normal(choice.label) == wanted:
            return choice
    by_name = [c for c in choices if _normal(c.name) == wanted]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise ValueError(f'more than one {what} is called "{text.strip()}": choose one from the list')
    raise ValueError(f'"{text.strip()}" is not one of the {PLURAL[what]} in the list')


def choose(session: Session, *, token: str, secret_key: str, respondent: str, picks: Sequence[str]) -> Chosen:
    """Check who the respondent says they are and whom they picked (labels from the lists, or a name
    only one has); blank picks are left out. Fields: "respondent", "pick-N" (N from 1), "picks".
    Nothing is stored."""
    step = open_step(session, token=token, secret_key=secret_key)
    what = "person" if step.mode == "people" else "organisation"
    problems: list[FieldProblem] = []
    me: Choice | None = None
    if not str(respondent or "").strip():
        problems.append(FieldProblem("respondent", "say who you are: choose your name from the list"))
    else:
        try:
            me = _resolve(step.people, respondent, "person")
        except ValueError as err:
            problems.append(FieldProblem("respondent", str(err)))
    chosen: list[Choice] = []
    seen: dict[int, int] = {}
    for number, text in enumerate(picks, start=1):
        if not str(text or "").strip():
            continue
        field = f"pick-{number}"
        try:
            choice = _resolve(step.targets, text, what)
        except ValueError as err:
            problems.append(FieldProblem(field, str(err)))
            continue
        if me is not None and _is_self(step, me, choice.id):
            problems.append(FieldProblem(field, _self_message(step, choice)))
        elif choice.id in seen:
            problems.append(FieldProblem(field, f"{choice.label} is already picked (pick {seen[choice.id]})"))
        else:
            seen[choice.id] = number
            chosen.append(choice)
    if not problems and not chosen:
        problems.append(FieldProblem("picks", f"pick at least one {what}, or skip this part"))
    if len(chosen) > MAX_PICKS:
        problems.append(FieldProblem("picks", f"pick at most {MAX_PICKS}; you picked {len(chosen)}"))
    if problems:
        raise InputError(problems=problems)
    assert me is not None
    return Chosen(respondent=me, targets=chosen)


def _is_self(step: NetworkStep, me: Choice, target_id: int) -> bool:
    return target_id == (me.id if step.mode == "people" else me.organisation_id)


def _self_message(step: NetworkStep, choice: Choice) -> str:
    if step.mode == "people":
        return f"{choice.label} is you: pick the people you work with"
    return f"{choice.label} is your own organisation: pick the others you work with"


def _whole_id(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    return int(text) if re.fullmatch(r"\d{1,12}", text) else None


def record_reported_ties(
    session: Session,
    *,
    token: str,
    secret_key: str,
    respondent_id: Any,
    ties: Sequence[Mapping[str, Any]],
) -> Recorded:
    """Store the respondent's rated ties for the link's round, all or nothing, replacing any they sent
    before for this round. Each tie is ``{"to": id, "frequency": ..., "trust_reliable": ..., ...}``:
    frequency a word (never ... weekly) or 0-4, the six ratings 1-4, each optional (blank = not said).

    Problems name the field as the form does: "respondent", "ties", "tie-N-to", "tie-N-frequency",
    "tie-N-trust_reliable", ... (N from 1). Audited as one event naming the round and the respondent
    (ties are not anonymous). The caller commits.

    Example: ``record_reported_ties(session, token=link, secret_key=key, respondent_id=7,
    ties=[{"to": 9, "frequency": "monthly", "trust_reliable": "4"}])``.
    """
    step = open_step(session, token=token, secret_key=secret_key)
    what = "person" if step.mode == "people" else "organisation"
    problems: list[FieldProblem] = []
    person_id = _whole_id(respondent_id)
    me = step.person(person_id) if person_id is not None else None
    if me is None:
        problems.append(FieldProblem("respondent", "is not one of the partnership's current people"))
    if not ties:
        problems.append(FieldProblem("ties", f"pick at least one {what}, or skip this part"))
    if len(ties) > MAX_PICKS:
        problems.append(FieldProblem("ties", f"at most {MAX_PICKS} ties; {len(ties)} were sent"))
    rows: list[dict[str, Any]] = []
    seen: set[int] = set()
    for number, tie in enumerate(ties[:MAX_PICKS], start=1):
        prefix = f"tie-{number}-"
        target_id = _whole_id(tie.get("to"))
        target = step.target(target_id) if target_id is not None else None
        if target is None:
            problems.append(FieldProblem(prefix + "to", f"is not one of the {PLURAL[what]} you could pick"))
            continue
        if me is not None and _is_self(step, me, target.id):
            problems.append(FieldProblem(prefix + "to", _self_message(step, target)))
        elif target.id in seen:
            problems.append(FieldProblem(prefix + "to", f"{target.label} is picked twice"))
        seen.add(target.id)
        values: dict[str, Any] = {"to": target.id}
        for name in FIELDS:
            try:
                parse = t.parse_frequency if name == "frequency" else t.parse_rating
                values[name] = parse(tie.get(name))
            except ValueError as err:
                problems.append(FieldProblem(prefix + name, f"{target.label}: {err}"))
        rows.append(values)
    if problems:
        raise InputError(problems=problems)
    assert me is not None
    found = step.round
    # Two sends for the same person at once wait for each other here (PostgreSQL), so one set remains.
    session.execute(select(Person.id).where(Person.id == me.id).with_for_update())
    replaced = session.execute(
        delete(NetworkTie)
        .where(
            NetworkTie.round_id == found.id,
            NetworkTie.source == t.REPORTED,
            NetworkTie.from_person_id == me.id,
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    on = today()
    midnight = datetime.combine(on, time(0), tzinfo=UTC)  # no stored time finer than the day
    for values in rows:
        target_column = "to_person_id" if step.mode == "people" else "to_organisation_id"
        session.add(
            NetworkTie(
                partnership_id=found.partnership_id,
                source=t.REPORTED,
                round_id=found.id,
                from_person_id=me.id,
                **{target_column: values["to"]},
                **{name: values[name] for name in FIELDS},
                weight=1.0,
                observed_on=on,
                created_at=midnight,
            )
        )
    session.flush()
    name = me.name
    again = f", replacing {replaced} sent before" if replaced else ""
    audit.record(
        session,
        actor=Actor(user_id=None, label=f"{name} (survey respondent)", via="survey"),
        event=t.REPORTED,
        record_type="network_tie",
        record_id=None,
        partnership_id=found.partnership_id,
        summary=f"reported ties recorded for round {found.title} by {name}: {len(rows)} ties to "
        f"{step.mode}{again}",
    )
    return Recorded(ties=len(rows), replaced=replaced or 0)


# --- for managers ------------------------------------------------------------------------------------
def _fetch_round(session: Session, actor: Actor, round_id: int, action: Can) -> BarometerRound:
    found = session.get(BarometerRound, round_id)
    if found is None:
        raise NotFound("No such round.")
    ensure_allowed(actor, action, found.partnership_id)
    return found


def completed_count(session: Session, *, actor: Actor, round_id: int) -> int:
    """How many people have sent the round's network section (a count only: needs VIEW_RESULTS)."""
    found = _fetch_round(session, actor, round_id, Can.VIEW_RESULTS)
    return (
        session.scalar(
            select(func.count(NetworkTie.from_person_id.distinct())).where(
                NetworkTie.round_id == found.id, NetworkTie.source == t.REPORTED
            )
        )
        or 0
    )


def reported_ties(session: Session, *, actor: Actor, round_id: int) -> list[NetworkTie]:
    """The round's reported ties, to people and to organisations, by respondent. Needs
    VIEW_NETWORK_NAMES (they name people). Ties to people are also in ``network_for`` (source
    "reported"); ties to organisations only here."""
    found = _fetch_round(session, actor, round_id, Can.VIEW_NETWORK_NAMES)
    return list(
        session.scalars(
            select(NetworkTie)
            .where(NetworkTie.round_id == found.id, NetworkTie.source == t.REPORTED)
            .order_by(NetworkTie.from_person_id, NetworkTie.id)
        )
    )


__all__ = [
    "FIELDS",
    "MAX_PICKS",
    "PICK_ROWS",
    "QUESTIONS",
    "RATING_WORDS",
    "Choice",
    "Chosen",
    "NetworkSectionUnavailable",
    "NetworkStep",
    "Recorded",
    "choose",
    "completed_count",
    "open_step",
    "record_reported_ties",
    "reported_ties",
]
