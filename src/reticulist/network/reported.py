"""Reported ties: the optional network step of a barometer round.

A round's manager chooses whether the round has one (``BarometerRound.network_section``: none, people or
organisations). The step is NOT anonymous and is kept apart from the anonymous barometer:

- **Who may record ties, and as whom.** The step is bound to one register person by its credential, never
  by what a form says: either a personal *network link* (the second token of an invitation issued for a
  register person, ``step_for_link``) or a logged-in account whose email address is exactly one current
  person's in the register (``step_for_account``). A send replaces only that person's own ties for the
  round; nothing one person sends can change another's. The survey link (and the open link) cannot open
  the step: someone who answered through the open link records ties only by signing in.
- **Nothing lines the step up with a response.** The network link is a separate address that carries
  nothing of the survey draft or response, and the step does not depend on whether (or when) the survey
  was answered. A tie holds the round, the person, the person or organisation named, the ratings and the
  day (``created_at`` is midnight of that day); tie ids are random. The audit entry written when ties are
  sent names no one and holds no count (see ``record_reported_ties``): the ties say whose they are, with
  the day only.

Sending again replaces: the person's earlier ties for the same round are deleted and the new ones
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

from reticulist.access.models import User
from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.access.secrets import token_hash
from reticulist.audit import service as audit
from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerInvitation, BarometerRound
from reticulist.comparison import figures as comparison_figures
from reticulist.db.unique import refusing_duplicates
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
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
AUDIT_ACTOR = "network respondent (not named in the log)"

Unavailable = Literal[
    "unknown", "scheduled", "closed", "no-section", "not-in-register", "no-person", "ambiguous"
]


def today() -> date:
    return date.today()


class NetworkStepUnavailable(Exception):
    """The network step cannot open: ``reason`` is "unknown" (no such network link), "scheduled" or
    "closed" (the round is not open), "no-section" (the round has none), "not-in-register" (the person
    the link was issued for is no longer in the partnership), "no-person" (the signed-in account's email
    is no current person's in the register) or "ambiguous" (it is several people's). ``round`` is the
    round when known."""

    def __init__(self, reason: Unavailable, found: BarometerRound | None = None) -> None:
        self.reason = reason
        self.round = found
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
    """One person's network step in one round: the round, whether ties go to people or organisations,
    the person whose ties these are (fixed by the link or the account, never by a form), and what they
    may pick. Made only by ``step_for_link`` and ``step_for_account``."""

    round: BarometerRound
    mode: Literal["people", "organisations"]
    respondent: Choice
    targets: list[Choice]
    via: Literal["link", "account"]

    def target(self, target_id: int) -> Choice | None:
        return next((c for c in self.targets if c.id == target_id), None)


@dataclass(frozen=True)
class Chosen:
    """The respondent and their picks, checked, ready to be rated."""

    respondent: Choice
    targets: list[Choice]


@dataclass(frozen=True)
class Recorded:
    """What a send stored: the number of ties and how many earlier ties of the same person in the same
    round it replaced."""

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
    people = barometer.current_people(session, partnership_id, on)
    return _unique_labels([(p.id, p.full_name, p.organisation.name, p.organisation_id) for p in people])


def _current_organisations(session: Session, partnership_id: int, on: date) -> list[Choice]:
    organisations = session.scalars(
        select(Organisation).where(
            Organisation.partnership_id == partnership_id,
            Organisation.ended_on.is_(None) | (Organisation.ended_on >= on),
        )
    )
    return _unique_labels([(o.id, o.name, "", None) for o in organisations])


def _step(
    session: Session, found: BarometerRound, person_id: int, via: Literal["link", "account"]
) -> NetworkStep:
    status = found.status(today())
    if status != "open":
        raise NetworkStepUnavailable(status, found)  # type: ignore[arg-type]
    if found.network_section not in ("people", "organisations"):
        raise NetworkStepUnavailable("no-section", found)
    on = today()
    people = _current_people(session, found.partnership_id, on)
    me = next((c for c in people if c.id == person_id), None)
    if me is None:
        raise NetworkStepUnavailable("not-in-register", found)
    mode: Literal["people", "organisations"] = (
        "people" if found.network_section == "people" else "organisations"
    )
    targets = people if mode == "people" else _current_organisations(session, found.partnership_id, on)
    return NetworkStep(round=found, mode=mode, respondent=me, targets=targets, via=via)


def step_for_link(session: Session, *, token: str, secret_key: str) -> NetworkStep:
    """The network step of a personal network link (``/n/{token}``): the person the invitation was
    issued for, in its round. Raises NetworkStepUnavailable. A survey link or an open link is "unknown"
    here: only the network link opens the step."""
    if not _TOKEN.match(token or ""):
        raise NetworkStepUnavailable("unknown")
    invitation = session.scalar(
        select(BarometerInvitation).where(
            BarometerInvitation.network_token_hash == barometer.network_link_hash(secret_key, token)
        )
    )
    if invitation is None or invitation.person_id is None:
        raise NetworkStepUnavailable("unknown")
    found = session.get(BarometerRound, invitation.round_id)
    assert found is not None
    return _step(session, found, invitation.person_id, "link")


def account_person(session: Session, *, actor: Actor, partnership_id: int) -> Person | None:
    """The current register person the signed-in account is, by its email address: exactly one current
    person of the partnership with that address, else None. Raises NetworkStepUnavailable("ambiguous")
    when several people have it."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None or not user.email:
        return None
    email = user.email.strip().lower()
    matches = [
        p
        for p in barometer.current_people(session, partnership_id, today())
        if p.email and p.email.strip().lower() == email
    ]
    if len(matches) > 1:
        raise NetworkStepUnavailable("ambiguous")
    return matches[0] if matches else None


def step_for_account(session: Session, *, actor: Actor, round_id: int) -> NetworkStep:
    """The network step of a signed-in account in a round of a partnership where it has a role: the
    register person whose email address is the account's. Raises NotFound to outsiders and
    NetworkStepUnavailable ("no-person" when the account is no current person of the register)."""
    found = session.get(BarometerRound, round_id)
    if found is None:
        raise NotFound("No such round.")
    ensure_allowed(actor, Can.VIEW_RESULTS, found.partnership_id)
    try:
        person = account_person(session, actor=actor, partnership_id=found.partnership_id)
    except NetworkStepUnavailable as exc:
        raise NetworkStepUnavailable(exc.reason, found) from None
    if person is None:
        raise NetworkStepUnavailable("no-person", found)
    return _step(session, found, person.id, "account")


def network_form_token(secret_key: str, token: str) -> str:
    """The network link's form token, bound to the link: a page made for another link cannot post here."""
    return token_hash(secret_key, "network-form:" + token)


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


def choose(*, step: NetworkStep, picks: Sequence[str]) -> Chosen:
    """Check whom the respondent picked (labels from the list, or a name only one has); blank picks are
    left out. Fields: "pick-N" (N from 1), "picks". Nothing is stored."""
    what = "person" if step.mode == "people" else "organisation"
    me = step.respondent
    problems: list[FieldProblem] = []
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
        if _is_self(step, me, choice.id):
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
    session: Session, *, step: NetworkStep, ties: Sequence[Mapping[str, Any]]
) -> Recorded:
    """Store the step's person's rated ties for its round, all or nothing, replacing any they sent before
    for this round (and only theirs). Each tie is ``{"to": id, "frequency": ..., "trust_reliable": ...,
    ...}``: frequency a word (never ... weekly) or 0-4, the six ratings 1-4, each optional (blank = not
    said). Whose ties they are comes from ``step`` (the link or the account), never from the ties.

    Problems name the field as the form does: "ties", "tie-N-to", "tie-N-frequency",
    "tie-N-trust_reliable", ... (N from 1). The caller commits.

    The audit entry written with the ties names no one, holds no count and no id: its time is the only
    time stored about the step, and it cannot say whose step it was. Who sent which ties is in the ties
    themselves, dated by the day only (see docs/network.md, "What can and cannot be lined up").

    Example: ``record_reported_ties(session, step=step_for_link(session, token=link, secret_key=key),
    ties=[{"to": 9, "frequency": "monthly", "trust_reliable": "4"}])``.
    """
    found = step.round
    if found.status(today()) != "open":  # the round closed while the page was open
        raise NetworkStepUnavailable(found.status(today()), found)  # type: ignore[arg-type]
    what = "person" if step.mode == "people" else "organisation"
    me = step.respondent
    problems: list[FieldProblem] = []
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
        if _is_self(step, me, target.id):
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
    comparison_figures.mark_changed(session, [found.partnership_id])  # the delete above bypasses the flush
    on = today()
    midnight = datetime.combine(on, time(0), tzinfo=UTC)  # no stored time finer than the day
    target_column = "to_person_id" if step.mode == "people" else "to_organisation_id"
    # Two sends at once cannot both be stored (the lock above, and the database's rule behind it).
    raced = "these ties were sent twice at the same moment; look at the page again and send once"
    rules = {f"uq_network_tie_reported_{what}": ("ties", raced)}
    with refusing_duplicates(session, rules):
        for values in rows:
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
    # No name, no count, no account: a timed entry that says whose ties would time their network step.
    audit.record(
        session,
        actor=Actor(user_id=None, label=AUDIT_ACTOR, via="network"),
        event=t.REPORTED,
        record_type="network_tie",
        record_id=None,
        partnership_id=found.partnership_id,
        summary=f"reported ties recorded for round {found.title} (who sent them is in the ties, by day)",
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
            .order_by(NetworkTie.from_person_id, NetworkTie.to_person_id, NetworkTie.to_organisation_id)
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
    "NetworkStep",
    "NetworkStepUnavailable",
    "Recorded",
    "account_person",
    "choose",
    "completed_count",
    "network_form_token",
    "record_reported_ties",
    "reported_ties",
    "step_for_account",
    "step_for_link",
]
