"""What people do with the barometer: managers load instruments, open, change and close rounds and issue
survey links; respondents answer through a link; the results side reads the answers of a round.

Managers' operations take the acting ``Actor`` and check it here. Respondents have no account: their
token is the credential, so the respondent functions take the token (and the application's secret, to
hash it) instead. Tokens are never stored, only keyed hashes. Changes to rounds, invitations and
instruments are audited in the same transaction; responses are not (an import records only a count).
The caller commits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, ConfigDict
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from reticulist import tabular
from reticulist.access import throttle
from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, NotFound, ensure_allowed
from reticulist.access.secrets import new_token, token_hash
from reticulist.audit import service as audit
from reticulist.barometer import instrument as spec
from reticulist.barometer.instrument import DONT_KNOW, SCALE_POINTS, Instrument
from reticulist.barometer.models import (
    DEFAULT_THRESHOLD,
    MIN_THRESHOLD,
    NETWORK_SECTIONS,
    BarometerDraft,
    BarometerInstrument,
    BarometerInvitation,
    BarometerRelease,
    BarometerResponse,
    BarometerRound,
    random_id,
)
from reticulist.db.bulk import BATCH_ROWS
from reticulist.db.unique import add_unless_taken
from reticulist.errors import FieldProblem, InputError
from reticulist.network.models import NetworkTie
from reticulist.register import schemas as s
from reticulist.register.models import Organisation, Person, Profession
from reticulist.register.vocab import HIERARCHY_TIERS, WorkingTogetherTier
from reticulist.text import TextModel, clean

STATUS_LABELS = {"scheduled": "Not yet open", "open": "Open", "closed": "Closed"}
MAX_INVITATIONS_AT_ONCE = 5000
PROFILE_FIELDS = ("organisation_id", "profession_id", "hierarchy_tier", "wt_tier")
ABOUT_PAGE = "about"
CHECK_PAGE = "check"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def today() -> date:
    return date.today()


# --- instruments -------------------------------------------------------------------------------------
def instrument_content(instrument: Instrument) -> dict[str, Any]:
    """The instrument as stored: the JSON of the file (item constructs under their file name)."""
    return instrument.model_dump(mode="json", by_alias=True)


# A stored instrument never changes (see BarometerInstrument), so a process parses each one once: every
# page of the survey needs it, and turning its JSON into the model was a large part of a page's work.
# The key holds the row's creation time as well as its id, so another database's row of the same id (a
# restored copy, a test's) is never mistaken for it. Frozen models: safe to share between threads.
_PARSED_LIMIT = 64
_parsed: dict[tuple[int, int | None, str, str, datetime], Instrument] = {}
_parsed_lock = threading.Lock()


def instrument_of(record: BarometerInstrument) -> Instrument:
    if record.id is None or record.created_at is None:  # not stored yet: nothing to know it by
        return Instrument.model_validate(record.content)
    identity = (record.id, record.partnership_id, record.key, record.version, record.created_at)
    parsed = _parsed.get(identity)
    if parsed is None:
        parsed = Instrument.model_validate(record.content)  # the content is loaded only here (deferred)
        with _parsed_lock:
            if len(_parsed) >= _PARSED_LIMIT:
                _parsed.clear()
            _parsed[identity] = parsed
    return parsed


@dataclass(frozen=True)
class InstrumentChoice:
    """An instrument a round may use: built-in (stored once used) or loaded for this partnership."""

    ref: str  # "key@version", unique within a partnership
    key: str
    version: str
    title: str
    built_in: bool
    stored_id: int | None

    @property
    def label(self) -> str:
        kind = "built-in" if self.built_in else "loaded for this partnership"
        return f"{self.title} (version {self.version}, {kind})"


def _ref(key: str, version: str) -> str:
    return f"{key}@{version}"


def list_instruments(session: Session, *, actor: Actor, partnership_id: int) -> list[InstrumentChoice]:
    """Built-in instruments (shipped, or stored because a round used a version no longer shipped) and the
    partnership's own, newest versions first."""
    ensure_allowed(actor, Can.VIEW_RESULTS, partnership_id)
    stored = session.scalars(
        select(BarometerInstrument).where(
            (BarometerInstrument.partnership_id == partnership_id)
            | BarometerInstrument.partnership_id.is_(None)
        )
    ).all()
    by_ref: dict[str, InstrumentChoice] = {}
    for (key, version), instrument in spec.builtin_instruments().items():
        by_ref[_ref(key, version)] = InstrumentChoice(
            _ref(key, version), key, version, instrument.title, True, None
        )
    for row in stored:
        by_ref[_ref(row.key, row.version)] = InstrumentChoice(
            _ref(row.key, row.version), row.key, row.version, row.title, row.built_in, row.id
        )

    def order(choice: InstrumentChoice) -> tuple[bool, str, tuple[int, ...]]:
        return (not choice.built_in, choice.key, tuple(-int(p) for p in choice.version.split(".")))

    return sorted(by_ref.values(), key=order)


def get_instrument(session: Session, *, actor: Actor, partnership_id: int, ref: str) -> Instrument:
    """An instrument available to the partnership, by "key@version", without storing anything."""
    ensure_allowed(actor, Can.VIEW_RESULTS, partnership_id)
    key, _, version = ref.partition("@")
    row = _stored(session, partnership_id, key, version)
    if row is not None:
        return instrument_of(row)
    builtin = spec.builtin_instruments().get((key, version))
    if builtin is None:
        raise NotFound("No such instrument.")
    return builtin


def _stored(session: Session, partnership_id: int, key: str, version: str) -> BarometerInstrument | None:
    return session.scalar(
        select(BarometerInstrument)
        .where(
            BarometerInstrument.key == key,
            BarometerInstrument.version == version,
            (BarometerInstrument.partnership_id == partnership_id)
            | BarometerInstrument.partnership_id.is_(None),
        )
        .order_by(BarometerInstrument.id)
    )


def _instrument_for_round(session: Session, partnership_id: int, ref: str) -> BarometerInstrument:
    """The stored row for ``ref``, copying a built-in instrument in the first time a round uses it."""
    key, _, version = ref.partition("@")
    row = _stored(session, partnership_id, key, version)
    if row is not None:
        return row
    builtin = spec.builtin_instruments().get((key, version))
    if builtin is None:
        raise InputError(f'"{ref}" is not an instrument available to this partnership', field="instrument")
    row = BarometerInstrument(
        partnership_id=None,
        key=key,
        version=version,
        title=builtin.title,
        content=instrument_content(builtin),
        built_in=True,
    )
    if not add_unless_taken(session, row, "uq_barometer_instrument_built_in"):
        # Another round started this instrument at the same moment: its copy serves both.
        return _stored(session, partnership_id, key, version)  # type: ignore[return-value]
    return row


def load_instrument(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    text: str | bytes,
    filename: str = "instrument file",
) -> BarometerInstrument:
    """Store a custom instrument file for the partnership, after validating all of it. Loading the same
    file again changes nothing; a different file with a key and version already in use is refused."""
    ensure_allowed(actor, Can.RUN_BAROMETER, partnership_id)
    if not text:
        raise InputError("choose an instrument file (JSON) to load", field="file")
    instrument = spec.parse_instrument(text, source=filename)
    content = instrument_content(instrument)
    if (instrument.key, instrument.version) in spec.builtin_instruments():
        raise InputError(
            f"{instrument.key} version {instrument.version} is a built-in instrument; "
            "give your file its own key, or change the version",
            field="version",
        )

    def loaded_already() -> BarometerInstrument | None:
        existing = _stored(session, partnership_id, instrument.key, instrument.version)
        if existing is not None and existing.content != content:
            raise InputError(
                f"{instrument.key} version {instrument.version} is already loaded with different content; "
                "change the version",
                field="version",
            )
        return existing

    if (existing := loaded_already()) is not None:
        return existing
    row = BarometerInstrument(
        partnership_id=partnership_id,
        key=instrument.key,
        version=instrument.version,
        title=instrument.title,
        content=content,
        built_in=False,
    )
    if not add_unless_taken(session, row, "uq_barometer_instrument_partnership_id"):
        # Loaded by someone else at the same moment: the same answer as loading it just after them.
        return loaded_already()  # type: ignore[return-value]
    audit.record(
        session,
        actor=actor,
        event="loaded",
        record_type="barometer_instrument",
        record_id=row.id,
        partnership_id=partnership_id,
        summary=f"Barometer instrument {instrument.label} loaded from {filename}",
        after={"id": row.id, "key": row.key, "version": row.version, "title": row.title},
    )
    return row


# --- rounds ------------------------------------------------------------------------------------------
def _parse_threshold(value: Any) -> int:
    if s._blank(value):
        return DEFAULT_THRESHOLD
    text = str(value).strip()
    try:
        number = int(text)
    except ValueError:
        raise ValueError(f'"{text}" is not a whole number') from None
    if number < MIN_THRESHOLD:
        raise ValueError(f"must be at least {MIN_THRESHOLD}, so that no one can be singled out")
    if number > 1000:
        raise ValueError("must be at most 1000")
    return number


Threshold = Annotated[int, BeforeValidator(_parse_threshold)]

NETWORK_SECTION_LABELS = {
    "none": "No network section",
    "people": "People: each respondent names the people they work with",
    "organisations": "Organisations: each respondent names the organisations they work with",
}


def _parse_network_section(value: Any) -> str:
    if s._blank(value):
        return "none"
    text = str(value).strip().lower()
    if text not in NETWORK_SECTIONS:
        raise ValueError(f'"{str(value).strip()}" is not one of: {", ".join(NETWORK_SECTIONS)}')
    return text


NetworkSection = Annotated[str, BeforeValidator(_parse_network_section)]


class RoundUpdate(TextModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: s.Title
    opens_on: s.RequiredDate
    closes_on: s.RequiredDate
    anonymity_threshold: Threshold = DEFAULT_THRESHOLD
    # The optional, named (not anonymous) network part offered after the answers are sent.
    network_section: NetworkSection = "none"


def _required(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError("is required")
    return text


class RoundCreate(RoundUpdate):
    instrument: Annotated[str, BeforeValidator(_required)]  # "key@version", as list_instruments gives


@dataclass
class RoundSummary:
    round: BarometerRound
    status: str
    responses: int
    invitations: int
    invitations_used: int

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def response_rate(self) -> float | None:
        """Answered invitations over invitations; None when no one was invited personally."""
        return self.invitations_used / self.invitations if self.invitations else None


def _fetch_round(
    session: Session, actor: Actor, round_id: int, action: Can = Can.VIEW_RESULTS
) -> BarometerRound:
    found = session.get(BarometerRound, round_id)
    if found is None:
        raise NotFound("No such round.")
    ensure_allowed(actor, action, found.partnership_id)
    return found


def _check_round_dates(data: RoundUpdate) -> None:
    if data.closes_on < data.opens_on:
        raise InputError(
            f"{data.closes_on.isoformat()} is before the opening day {data.opens_on.isoformat()}",
            field="closes_on",
        )


def _audit_round(
    session: Session,
    actor: Actor,
    found: BarometerRound,
    event: str,
    summary: str,
    before: dict | None = None,
) -> None:
    audit.record(
        session,
        actor=actor,
        event=event,
        record_type="barometer_round",
        record_id=found.id,
        partnership_id=found.partnership_id,
        summary=summary,
        before=before,
        after=audit.snapshot(found),
    )


def open_round(session: Session, *, actor: Actor, partnership_id: int, data: RoundCreate) -> BarometerRound:
    """Open a round of the barometer on one instrument version (copied in if built-in)."""
    ensure_allowed(actor, Can.RUN_BAROMETER, partnership_id)
    _check_round_dates(data)
    instrument = _instrument_for_round(session, partnership_id, data.instrument)
    found = BarometerRound(
        partnership_id=partnership_id,
        instrument_id=instrument.id,
        title=data.title,
        opens_on=data.opens_on,
        closes_on=data.closes_on,
        anonymity_threshold=data.anonymity_threshold,
        network_section=data.network_section,
    )
    session.add(found)
    session.flush()
    _audit_round(
        session, actor, found, "opened", f"Barometer round {found.title} opened ({instrument.title})"
    )
    return found


def update_round(session: Session, *, actor: Actor, round_id: int, data: RoundUpdate) -> BarometerRound:
    """Change a round's title, dates or threshold. The threshold cannot go down once anyone has answered:
    they answered on the promise that no smaller group would be shown."""
    found = _fetch_round(session, actor, round_id, Can.RUN_BAROMETER)
    if found.closed_early_on is not None:
        raise InputError("this round was closed early and cannot be changed; open a new round", field="title")
    _check_round_dates(data)
    if data.anonymity_threshold < found.anonymity_threshold and _response_count(session, found.id):
        raise InputError(
            f"cannot go below {found.anonymity_threshold} now that people have answered on that promise",
            field="anonymity_threshold",
        )
    _check_network_section_change(session, found, data.network_section)
    before = audit.snapshot(found)
    for key, value in data.model_dump().items():
        setattr(found, key, value)
    session.execute(
        update(BarometerDraft).where(BarometerDraft.round_id == found.id).values(expires_on=found.closes_on)
    )
    session.flush()
    if audit.snapshot(found) != before:
        _audit_round(session, actor, found, "changed", f"Barometer round {found.title} changed", before)
    return found


def _check_network_section_change(session: Session, found: BarometerRound, wanted: str) -> None:
    """People and organisations cannot be swapped once anyone has named ties of the other kind: the round
    would hold two kinds of tie. Turning the section off is fine (stored ties stay)."""
    if wanted == "none":
        return
    other = NetworkTie.to_organisation_id if wanted == "people" else NetworkTie.to_person_id
    named = session.scalar(
        select(func.count(NetworkTie.from_person_id.distinct())).where(
            NetworkTie.round_id == found.id, other.is_not(None)
        )
    )
    if named:
        kind = "organisations" if wanted == "people" else "people"
        raise InputError(
            f"cannot change to {wanted} now that {named} {'person has' if named == 1 else 'people have'} "
            f"named their ties to {kind}; open a new round",
            field="network_section",
        )


def close_round(session: Session, *, actor: Actor, round_id: int) -> BarometerRound:
    """Close a round today, before its closing day. Answers still in progress are discarded."""
    found = _fetch_round(session, actor, round_id, Can.RUN_BAROMETER)
    if found.status(today()) == "closed":
        raise InputError("this round is already closed", field="round")
    before = audit.snapshot(found)
    found.closed_early_on = today()
    session.execute(delete(BarometerDraft).where(BarometerDraft.round_id == found.id))
    session.flush()
    _audit_round(session, actor, found, "closed", f"Barometer round {found.title} closed early", before)
    return found


def _response_count(session: Session, round_id: int) -> int:
    return session.scalar(select(func.count()).where(BarometerResponse.round_id == round_id)) or 0


def _summaries(session: Session, rounds: Sequence[BarometerRound]) -> list[RoundSummary]:
    ids = [r.id for r in rounds]
    responses = dict(
        session.execute(
            select(BarometerResponse.round_id, func.count())
            .where(BarometerResponse.round_id.in_(ids))
            .group_by(BarometerResponse.round_id)
        ).all()
    )
    invited: dict[int, tuple[int, int]] = {}
    for round_id, used, count in session.execute(
        select(BarometerInvitation.round_id, BarometerInvitation.used, func.count())
        .where(BarometerInvitation.round_id.in_(ids))
        .group_by(BarometerInvitation.round_id, BarometerInvitation.used)
    ):
        total, answered = invited.get(round_id, (0, 0))
        invited[round_id] = (total + count, answered + (count if used else 0))
    on = today()
    return [
        RoundSummary(
            round=r,
            status=r.status(on),
            responses=responses.get(r.id, 0),
            invitations=invited.get(r.id, (0, 0))[0],
            invitations_used=invited.get(r.id, (0, 0))[1],
        )
        for r in rounds
    ]


def list_rounds(session: Session, *, actor: Actor, partnership_id: int) -> list[RoundSummary]:
    """The partnership's rounds, newest first, with status and counts."""
    ensure_allowed(actor, Can.VIEW_RESULTS, partnership_id)
    rounds = session.scalars(
        select(BarometerRound)
        .where(BarometerRound.partnership_id == partnership_id)
        .order_by(BarometerRound.opens_on.desc(), BarometerRound.id.desc())
    ).all()
    return _summaries(session, rounds)


def get_round(session: Session, *, actor: Actor, round_id: int) -> BarometerRound:
    return _fetch_round(session, actor, round_id)


def round_summary(session: Session, *, actor: Actor, round_id: int) -> RoundSummary:
    return _summaries(session, [_fetch_round(session, actor, round_id)])[0]


# --- invitations and the open link -------------------------------------------------------------------
@dataclass(frozen=True)
class IssuedInvitation:
    """A personal link as issued: the plain tokens exist only here, in the page that shows them once.
    ``person_id`` is the register person it was issued for; ``network_token`` their network link's token
    (None without a register person, or when the round has no network section)."""

    label: str
    email: str | None
    token: str
    person_id: int | None = None
    network_token: str | None = None


def _invitee(line: str) -> tuple[str, str | None]:
    """ "Jo Bloggs <jo@x.org>", "Jo Bloggs, jo@x.org", "jo@x.org" or "Jo Bloggs" -> (label, email)."""
    text = " ".join(line.split())
    if match := re.fullmatch(r"(.*?)\s*<([^<>]+)>", text):
        name, email = match.group(1).strip(" ,;\"'"), match.group(2).strip()
    elif match := re.fullmatch(r"(.*?)\s*[,;\t]\s*(\S+@\S+)", text):
        name, email = match.group(1).strip(" \"'"), match.group(2).strip()
    elif "@" in text:
        name, email = "", text
    else:
        return text, None
    if not _EMAIL.match(email):
        raise ValueError(f'"{email}" is not an email address')
    return (name or email.lower()), email.lower()


def parse_invitees(text: str, *, allow_empty: bool = False) -> list[tuple[str, str | None]]:
    """One invitee per line; blank lines skipped. Raises InputError naming each bad line."""
    invitees: list[tuple[str, str | None]] = []
    problems: list[FieldProblem] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            label, email = _invitee(clean(line))
        except ValueError as err:
            problems.append(FieldProblem(field="invitees", message=f"line {number}: {err}"))
            continue
        if len(label) > 320:
            problems.append(
                FieldProblem(field="invitees", message=f"line {number}: is longer than 320 characters")
            )
            continue
        if email and email in seen:
            problems.append(
                FieldProblem(
                    field="invitees", message=f"line {number}: {email} is already on line {seen[email]}"
                )
            )
            continue
        if email:
            seen[email] = number
        invitees.append((label, email))
    if problems:
        raise InputError(problems=problems)
    if not invitees and not allow_empty:
        raise InputError("write one email address or name per line", field="invitees")
    if len(invitees) > MAX_INVITATIONS_AT_ONCE:
        raise InputError(f"at most {MAX_INVITATIONS_AT_ONCE} at once", field="invitees")
    return invitees


def current_people(session: Session, partnership_id: int, on: date | None = None) -> list[Person]:
    """The partnership's people in post on ``on`` (default today), by name: whom links can be issued for."""
    on = on or today()
    return sorted(
        session.scalars(
            select(Person).where(
                Person.partnership_id == partnership_id,
                Person.joined_on.is_(None) | (Person.joined_on <= on),
                Person.ended_on.is_(None) | (Person.ended_on >= on),
            )
        ).unique(),
        key=lambda p: (p.full_name.casefold(), p.id),
    )


def _whole_ids(values: Iterable[Any], field_name: str) -> list[int]:
    ids: list[int] = []
    for value in values:
        text = str(value).strip()
        if not re.fullmatch(r"\d{1,12}", text):
            raise InputError(
                f'"{text[:40]}" is not one of the partnership\'s current people', field=field_name
            )
        ids.append(int(text))
    return ids


def network_link_hash(secret_key: str, token: str) -> str:
    """The stored fingerprint of a network link; derived apart from the survey link's, so one kind of
    link never opens the other."""
    return token_hash(secret_key, "network-link:" + token)


def issue_invitations(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    invitees: str | Iterable[str] = "",
    person_ids: Iterable[Any] = (),
    secret_key: str,
) -> list[IssuedInvitation]:
    """Create one personal link per invitee: each line of ``invitees`` (an address or a name) and each
    register person in ``person_ids`` (their name and the register's email address). A pasted address
    that is exactly one current person's address in the register is issued for that person.

    An invitation issued for a person of the register also gets, when the round has a network section,
    a separate network link: the named network step, bound to that person (network.reported). The plain
    tokens are returned once and never stored; show or export them now. Inviting someone again gives
    them a second, separate pair of links."""
    found = _fetch_round(session, actor, round_id, Can.RUN_BAROMETER)
    if found.status(today()) == "closed":
        raise InputError("this round is closed; open a new round to invite people", field="invitees")
    text = invitees if isinstance(invitees, str) else "\n".join(invitees)
    wanted = _whole_ids(person_ids, "people")
    lines = parse_invitees(text, allow_empty=bool(wanted))
    people = {p.id: p for p in current_people(session, found.partnership_id)}
    by_email: dict[str, list[Person]] = {}
    for person in people.values():
        if person.email:
            by_email.setdefault(person.email.strip().lower(), []).append(person)
    # (label, email, person id); a person ticked twice, or ticked and pasted, gets one invitation.
    rows: list[tuple[str, str | None, int | None]] = []
    chosen: set[int] = set()
    for person_id in wanted:
        person = people.get(person_id)
        if person is None:  # another partnership's, someone who has left, or no one: the same words
            raise InputError(f"{person_id} is not one of the partnership's current people", field="people")
        if person_id in chosen:
            continue
        chosen.add(person_id)
        email = person.email.strip().lower() if person.email else None
        rows.append((person.full_name, email, person_id))
    for label, email in lines:
        matches = by_email.get(email or "", [])
        person_id = matches[0].id if len(matches) == 1 else None
        if person_id is not None and person_id in chosen:
            continue
        if person_id is not None:
            chosen.add(person_id)
        rows.append((label, email, person_id))
    if len(rows) > MAX_INVITATIONS_AT_ONCE:
        raise InputError(f"at most {MAX_INVITATIONS_AT_ONCE} at once", field="invitees")
    with_network = found.network_section != "none"
    issued: list[IssuedInvitation] = []
    for label, email, person_id in rows:
        token = new_token()
        network_token = new_token() if with_network and person_id is not None else None
        session.add(
            BarometerInvitation(
                round_id=found.id,
                token_hash=token_hash(secret_key, token),
                label=label,
                email=email,
                person_id=person_id,
                network_token_hash=network_link_hash(secret_key, network_token) if network_token else None,
            )
        )
        issued.append(IssuedInvitation(label, email, token, person_id, network_token))
    session.flush()
    bound = sum(1 for i in issued if i.person_id is not None)
    networked = sum(1 for i in issued if i.network_token is not None)
    audit.record(
        session,
        actor=actor,
        event="invited",
        record_type="barometer_round",
        record_id=found.id,
        partnership_id=found.partnership_id,
        summary=f"{len(issued)} survey invitations issued for barometer round {found.title}"
        + (f" ({bound} for people of the register, {networked} with a network link)" if bound else ""),
    )
    return issued


def survey_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/s/{token}"


def network_url(base_url: str, token: str) -> str:
    """The address of a personal network link (the named network step, apart from the survey)."""
    return f"{base_url.rstrip('/')}/n/{token}"


def invitations_csv(issued: Sequence[IssuedInvitation], base_url: str) -> str:
    """Name, email, personal survey link and personal network link (blank when none) per invitee, for a
    mail merge. Made from the issued tokens while they are in hand: there is no way to produce it
    later."""
    rows = [
        [
            invitation.label,
            invitation.email or "",
            survey_url(base_url, invitation.token),
            network_url(base_url, invitation.network_token) if invitation.network_token else "",
        ]
        for invitation in issued
    ]
    return tabular.csv_text([["name", "email", "link", "network_link"], *rows])


def set_open_link(session: Session, *, actor: Actor, round_id: int, secret_key: str) -> str:
    """Create (or replace) the round's open link, one link anyone may use; each person who starts gets
    their own resume link. A replaced link stops working; answers already begun carry on."""
    found = _fetch_round(session, actor, round_id, Can.RUN_BAROMETER)
    if found.status(today()) == "closed":
        raise InputError("this round is closed", field="open_link")
    replaced = found.open_link_hash is not None
    token = new_token()
    found.open_link_hash = token_hash(secret_key, token)
    found.had_open_link = True  # for good: its results will have no breakdowns (results.release_results)
    session.flush()
    audit.record(
        session,
        actor=actor,
        event="open-link",
        record_type="barometer_round",
        record_id=found.id,
        partnership_id=found.partnership_id,
        summary=f"Open survey link {'replaced' if replaced else 'created'} for barometer round {found.title}",
    )
    return token


def remove_open_link(session: Session, *, actor: Actor, round_id: int) -> BarometerRound:
    found = _fetch_round(session, actor, round_id, Can.RUN_BAROMETER)
    if found.open_link_hash is not None:
        found.open_link_hash = None
        session.flush()
        audit.record(
            session,
            actor=actor,
            event="open-link",
            record_type="barometer_round",
            record_id=found.id,
            partnership_id=found.partnership_id,
            summary=f"Open survey link removed from barometer round {found.title}",
        )
    return found


# --- the respondent's side ---------------------------------------------------------------------------
class SurveyUnavailable(Exception):
    """The link cannot be used now: ``reason`` is "unknown", "scheduled" or "closed"."""

    def __init__(
        self, reason: Literal["unknown", "scheduled", "closed"], found: BarometerRound | None = None
    ):
        self.reason = reason
        self.round = found
        super().__init__(reason)


class AlreadyReceived(Exception):
    """This link's answers were sent already; nothing more is recorded."""


@dataclass(frozen=True)
class OpenLinkLimit:
    """Who is using an open link, and how often one client address may start and send it in an hour:
    an open link is anyone's, so without a limit one person could plant many answers."""

    client: str
    per_hour: int


class TooManyFromHere(Exception):
    """This client address has started (or sent) the round's open-link survey as often as an hour
    allows; ``retry_after`` is in seconds. Nothing was recorded."""

    def __init__(self, retry_after: int, *, sending: bool) -> None:
        self.retry_after = retry_after
        self.sending = sending
        super().__init__(f"try again in {retry_after} seconds")


def _count_open_link_use(session: Session, limit: OpenLinkLimit, round_id: int, what: str) -> None:
    """Count one start or send through a round's open link, in the caller's transaction (a use that
    fails and is rolled back is not counted)."""
    address = throttle.address_group(limit.client)
    verdict = throttle.hit(
        session,
        key=f"open-link|{what}|{round_id}|{address}",
        limit=limit.per_hour,
        window=3600,
        address=address,
    )
    if not verdict.allowed:
        raise TooManyFromHere(verdict.retry_after, sending=what == "send")


def _draft_hash(secret_key: str, token: str) -> str:
    # Derived differently from the invitation's hash, so a draft cannot be joined to its invitation.
    return token_hash(secret_key, "barometer-draft:" + token)


def form_token(secret_key: str, token: str) -> str:
    """The survey form's CSRF token, bound to the link: a page made for another link cannot post here."""
    return token_hash(secret_key, "barometer-form:" + token)


@dataclass
class Survey:
    """A respondent's view of one link: the round, its instrument and their draft, if begun."""

    round: BarometerRound
    instrument: Instrument
    kind: Literal["invitation", "open", "resume"]
    draft: BarometerDraft | None
    received: bool
    invitation: BarometerInvitation | None = field(default=None, repr=False)

    @property
    def pages(self) -> list[str]:
        """The form's pages in order: about you, one per section, the check page."""
        return [ABOUT_PAGE, *(section.key for section in self.instrument.sections), CHECK_PAGE]

    def page_after(self, page: str) -> str:
        pages = self.pages
        return pages[min(pages.index(page) + 1, len(pages) - 1)] if page in pages else pages[0]

    def page_before(self, page: str) -> str | None:
        pages = self.pages
        return pages[pages.index(page) - 1] if page in pages and pages.index(page) > 0 else None


def find_survey(session: Session, *, token: str, secret_key: str) -> Survey:
    """Whatever the token opens: an invitation, a round's open link, or a resume link. Raises
    SurveyUnavailable when it is unknown or its round is not open."""
    if not _TOKEN.match(token):
        raise SurveyUnavailable("unknown")
    hashed = token_hash(secret_key, token)
    # Each lookup brings its round along in the same query: every page of the survey comes here first.
    drafted = session.execute(
        select(BarometerDraft, BarometerRound)
        .join(BarometerRound, BarometerRound.id == BarometerDraft.round_id)
        .where(BarometerDraft.token_hash == _draft_hash(secret_key, token))
    ).first()
    draft = drafted[0] if drafted is not None else None
    invited = session.execute(
        select(BarometerInvitation, BarometerRound)
        .join(BarometerRound, BarometerRound.id == BarometerInvitation.round_id)
        .where(BarometerInvitation.token_hash == hashed)
    ).first()
    invitation: BarometerInvitation | None = None
    kind: Literal["invitation", "open", "resume"]
    if invited is not None:
        invitation, found = invited
        kind, received = "invitation", invitation.used
    elif (
        found := session.scalar(select(BarometerRound).where(BarometerRound.open_link_hash == hashed))
    ) is not None:
        kind, received, draft = "open", False, None
    elif drafted is not None:
        draft, found = drafted
        kind, received = "resume", draft.submitted
    else:
        raise SurveyUnavailable("unknown")
    assert found is not None
    status = found.status(today())
    if status != "open":
        raise SurveyUnavailable(status, found)  # type: ignore[arg-type]
    return Survey(
        round=found,
        instrument=instrument_of(found.instrument),
        kind=kind,
        draft=draft,
        received=received or (draft is not None and draft.submitted),
        invitation=invitation,
    )


def start_or_resume(
    session: Session, *, token: str, secret_key: str, limit: OpenLinkLimit | None = None
) -> tuple[Survey, str]:
    """Begin (or carry on with) answering. Returns the survey and the resume token: for an invitation,
    the invitation's own token (one draft per invitation); for an open link, a new token for a new draft
    each time, which the respondent keeps as their link to come back. With ``limit`` (the web), a start
    through an open link is counted against the client's address and refused with TooManyFromHere past
    the limit."""
    session.execute(delete(BarometerDraft).where(BarometerDraft.expires_on < today()))
    survey = find_survey(session, token=token, secret_key=secret_key)
    if survey.received:
        raise AlreadyReceived()
    if survey.draft is not None:
        return survey, token
    if survey.kind == "open" and limit is not None:
        _count_open_link_use(session, limit, survey.round.id, "start")
    resume = token if survey.kind == "invitation" else new_token()
    survey.draft = BarometerDraft(
        round_id=survey.round.id,
        token_hash=_draft_hash(secret_key, resume),
        page=ABOUT_PAGE,
        profile={},
        answers={},
        submitted=False,
        expires_on=survey.round.closes_on,
    )
    session.add(survey.draft)
    session.flush()
    if survey.kind == "open":
        survey = Survey(survey.round, survey.instrument, "resume", survey.draft, False)
    return survey, resume


def _answer_code(value: Any) -> int | None:
    """A submitted answer as its code, None for blank; ValueError for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError
    text = str(value).strip()
    code = int(text) if re.fullmatch(r"\d{1,3}", text) else -1
    if not DONT_KNOW <= code <= SCALE_POINTS:
        raise ValueError
    return code


def check_answers(
    instrument: Instrument, answers: dict[str, Any], *, row: int | None = None
) -> dict[str, int]:
    """Only this instrument's items, each 1-5 or 0 (don't know); blanks dropped."""
    item_keys = {item.key for item in instrument.items}
    problems: list[FieldProblem] = []
    clean: dict[str, int] = {}
    for key, value in answers.items():
        if key not in item_keys:
            problems.append(
                FieldProblem(field=str(key), message="is not a statement of this survey", row=row)
            )
            continue
        try:
            code = _answer_code(value)
        except ValueError:
            problems.append(
                FieldProblem(
                    field=key,
                    message=f'"{value}" is not one of the answers (1 to {SCALE_POINTS}, or {DONT_KNOW} for '
                    "don't know)",
                    row=row,
                )
            )
            continue
        if code is not None:
            clean[key] = code
    if problems:
        raise InputError(problems=problems)
    return clean


def register_records(session: Session, partnership_id: int) -> dict[type, dict[int, Any]]:
    """The partnership's organisations and professions by id, read once for ``check_profile`` when many
    profiles are checked (an import), instead of a query per row."""
    return {
        model: {r.id: r for r in session.scalars(select(model).where(model.partnership_id == partnership_id))}
        for model in (Organisation, Profession)
    }


def check_profile(
    session: Session,
    partnership_id: int,
    profile: dict[str, Any],
    *,
    row: int | None = None,
    records: dict[type, dict[int, Any]] | None = None,
) -> dict[str, Any]:
    """The optional "about you" answers against the partnership's register; blank = prefer not to say.
    A named organisation brings its Working Together tier from the register. ``records``: the register
    as ``register_records`` reads it, when checking many."""
    problems: list[FieldProblem] = []
    clean: dict[str, Any] = dict.fromkeys(PROFILE_FIELDS)
    for key in profile:
        if key not in PROFILE_FIELDS:
            problems.append(FieldProblem(field=str(key), message="is not a question of this survey", row=row))
    organisation: Organisation | None = None
    for key, model, what in (
        ("organisation_id", Organisation, "an organisation"),
        ("profession_id", Profession, "a profession"),
    ):
        value = profile.get(key)
        if s._blank(value):
            continue
        number = int(value) if re.fullmatch(r"\d{1,12}", str(value).strip()) else None
        if number is None:
            record = None
        elif records is not None:
            record = records[model].get(number)
        else:
            record = session.get(model, number)
        if record is None or record.partnership_id != partnership_id:
            problems.append(FieldProblem(field=key, message=f"is not {what} of this partnership", row=row))
            continue
        clean[key] = record.id
        if isinstance(record, Organisation):
            organisation = record
    tier = profile.get("hierarchy_tier")
    if not s._blank(tier):
        text = str(tier).strip()
        if text not in {str(t) for t in HIERARCHY_TIERS}:
            problems.append(FieldProblem(field="hierarchy_tier", message=f'"{text}" is not 1-5', row=row))
        else:
            clean["hierarchy_tier"] = int(text)
    wt_tier = profile.get("wt_tier")
    if not s._blank(wt_tier):
        values = [t.value for t in WorkingTogetherTier]
        if str(wt_tier).strip() not in values:
            problems.append(
                FieldProblem(
                    field="wt_tier", message=f'"{wt_tier}" is not one of: {", ".join(values)}', row=row
                )
            )
        else:
            clean["wt_tier"] = str(wt_tier).strip()
    if problems:
        raise InputError(problems=problems)
    if organisation is not None:
        clean["wt_tier"] = organisation.tier
    return clean


def _open_draft(session: Session, token: str, secret_key: str, found: Survey | None = None) -> Survey:
    survey = found if found is not None else find_survey(session, token=token, secret_key=secret_key)
    if survey.received:
        raise AlreadyReceived()
    if survey.draft is None:
        if survey.kind != "invitation":
            raise NotFound("Start the survey from its first page.")
        survey, _ = start_or_resume(session, token=token, secret_key=secret_key)
    return survey


def save_page(
    session: Session,
    *,
    token: str,
    secret_key: str,
    page: str,
    answers: dict[str, Any] | None = None,
    profile: dict[str, Any] | None = None,
    found: Survey | None = None,
) -> Survey:
    """Save one page of the form: the "about you" answers, or a section's answers (merged with what was
    saved before). Bad values raise InputError naming the item and change nothing. ``found``: the survey
    as ``find_survey`` just returned it for this token in this session, to save looking it up again."""
    survey = _open_draft(session, token, secret_key, found)
    draft = survey.draft
    assert draft is not None
    if page not in survey.pages:
        raise InputError(f'"{page}" is not a page of this survey', field="page")
    if profile is not None:
        draft.profile = check_profile(session, survey.round.partnership_id, profile)
    if answers is not None:
        clean = check_answers(survey.instrument, answers)
        draft.answers = {**draft.answers, **clean}
    pages = survey.pages
    if pages.index(page) >= pages.index(draft.page if draft.page in pages else ABOUT_PAGE):
        draft.page = survey.page_after(page)
    session.flush()
    return survey


def submit(
    session: Session,
    *,
    token: str,
    secret_key: str,
    limit: OpenLinkLimit | None = None,
    found: Survey | None = None,
) -> BarometerResponse | None:
    """Send the draft's answers as one anonymous response. Idempotent: a second submit with the same link
    (double click, back button, retry) records nothing and raises AlreadyReceived. With ``limit`` (the
    web), answers begun through an open link are counted against the sending client's address and
    refused with TooManyFromHere past the limit (the draft is kept, to send later). ``found``: as for
    ``save_page``."""
    survey = _open_draft(session, token, secret_key, found)
    draft = survey.draft
    assert draft is not None
    answers = check_answers(survey.instrument, dict(draft.answers))
    if not answers:
        raise InputError("answer at least one statement before sending", field="answers")
    profile = check_profile(session, survey.round.partnership_id, dict(draft.profile))
    if survey.invitation is None and limit is not None:  # begun through the open link
        _count_open_link_use(session, limit, survey.round.id, "send")
    # The conditional update is the guard: of two concurrent submits, only one changes the row.
    claimed = session.execute(
        update(BarometerDraft)
        .where(BarometerDraft.id == draft.id, BarometerDraft.submitted.is_(False))
        .values(submitted=True, answers={}, profile={}, page=CHECK_PAGE)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyReceived()
    if survey.invitation is not None:
        session.execute(
            update(BarometerInvitation)
            .where(BarometerInvitation.id == survey.invitation.id)
            .values(used=True)
            .execution_options(synchronize_session=False)
        )
    response = BarometerResponse(
        round_id=survey.round.id, answers=answers, submitted_on=today(), source="web", **profile
    )
    session.add(response)
    session.flush()
    session.expire(draft)
    if survey.invitation is not None:
        session.expire(survey.invitation)
    return response


def check_round_takes_imports(found: BarometerRound, session: Session | None = None) -> None:
    """Responses gathered while a round was open may be imported during it or after it closed, until its
    results are released; a round that has not opened yet takes none."""
    if session is not None:
        released = session.scalar(
            select(BarometerRelease.released_on).where(BarometerRelease.round_id == found.id)
        )
        if released is not None:
            raise InputError(
                f'the results of "{found.title}" were released on {released.isoformat()}; answers cannot be '
                "added after that (a second release of the same people could be compared with the first "
                "to single someone out): open a new round for them",
                field="round",
            )
    if found.status(today()) == "scheduled":
        raise InputError(
            f'"{found.title}" has not opened yet (it opens on {found.opens_on.isoformat()}); responses '
            "can be imported into a round once it has opened, and after it has closed",
            field="round",
        )


def round_period(found: BarometerRound) -> tuple[date, date]:
    """The first and last day a round takes responses: it opens, and it closes (early, if it was)."""
    last = found.closes_on
    if found.closed_early_on is not None:
        last = max(found.opens_on, min(last, found.closed_early_on))
    return found.opens_on, last


def record_imported_responses(
    session: Session,
    *,
    actor: Actor,
    round_id: int,
    rows: Sequence[tuple[dict[str, Any], dict[str, Any]]],
    first_row: int = 2,
    source_name: str | None = None,
    row_numbers: Sequence[int] | None = None,
    completed_on: Sequence[date | None] | None = None,
) -> int:
    """Store responses collected elsewhere (profile, answers per row), all or nothing. Each problem names
    its row (``first_row`` is the file row of ``rows[0]``; ``row_numbers`` gives each row's own number
    when the file had rows left out) and field. Only the count is audited. A closed round still takes
    responses gathered while it was open; a round that has not opened yet takes none.

    ``completed_on`` gives each response's day (None where the file gave none): it must fall within the
    round's dates (``round_period``). A response without one is dated the round's closing day, or today
    while the round is still open (an imported response was completed by the day it is imported). Only
    the day is stored, as for a response sent through the survey."""
    found = _fetch_round(session, actor, round_id, Can.RUN_BAROMETER)
    check_round_takes_imports(found, session)
    if row_numbers is not None and len(row_numbers) != len(rows):
        raise ValueError("row_numbers must give one number per row")
    if completed_on is not None and len(completed_on) != len(rows):
        raise ValueError("completed_on must give one day (or None) per row")
    first_day, last_day = round_period(found)
    instrument = instrument_of(found.instrument)
    records = register_records(session, found.partnership_id)
    problems: list[FieldProblem] = []
    clean_rows: list[tuple[dict[str, Any], dict[str, int], date | None]] = []
    for index, (profile, answers) in enumerate(rows):
        row = row_numbers[index] if row_numbers is not None else first_row + index
        day = completed_on[index] if completed_on is not None else None
        try:
            clean_profile = check_profile(session, found.partnership_id, profile, row=row, records=records)
            clean_answers = check_answers(instrument, answers, row=row)
            if not clean_answers:
                raise InputError(problems=[FieldProblem(field="answers", message="has no answers", row=row)])
            if day is not None and not first_day <= day <= last_day:
                raise InputError(
                    problems=[
                        FieldProblem(
                            field="completed_on",
                            message=f"{day.isoformat()} is outside the round's dates "
                            f"({first_day.isoformat()} to {last_day.isoformat()})",
                            row=row,
                        )
                    ]
                )
        except InputError as err:
            problems.extend(err.problems)
            continue
        clean_rows.append((clean_profile, clean_answers, day))
    if problems:
        for problem in problems:
            problem.source = problem.source or source_name
        raise InputError(problems=problems)
    if not clean_rows:
        raise InputError("there are no responses to import", field="rows")
    # Not the import day: that would date every response by when the manager got round to the file.
    undated = min(last_day, today())
    # Written in bulk (a few multi-row statements), so SQLite's write lock is held briefly: thousands
    # of responses in well under a second.
    values = [
        {
            "id": random_id(),
            "round_id": found.id,
            "answers": answers,
            "submitted_on": day or undated,
            "source": "import",
            **profile,
        }
        for profile, answers, day in clean_rows
    ]
    for start in range(0, len(values), BATCH_ROWS):
        session.execute(insert(BarometerResponse.__table__), values[start : start + BATCH_ROWS])
    audit.record(
        session,
        actor=actor,
        event="imported",
        record_type="barometer_round",
        record_id=found.id,
        partnership_id=found.partnership_id,
        summary=f"{len(clean_rows)} barometer responses imported into round {found.title}",
    )
    return len(clean_rows)


# --- for the results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class GroupCodes:
    """One way of grouping respondents: a code per respondent (-1 = prefer not to say) and, per code,
    the stored value and its label."""

    codes: np.ndarray
    values: tuple[Any, ...]
    labels: tuple[str, ...]


@dataclass(frozen=True)
class RoundAnswers:
    """A round's answers for computation. ``answers`` is respondents x items (``item_keys`` order),
    np.int8: -1 not answered, 0 don't know, 1-5 the scale (not yet reversed). Row order carries no
    meaning. Anything shown from this must respect ``anonymity_threshold``."""

    round_id: int
    instrument: Instrument
    item_keys: tuple[str, ...]
    answers: np.ndarray
    groups: dict[str, GroupCodes]
    anonymity_threshold: int


NOT_ANSWERED = -1


def round_answers(session: Session, *, actor: Actor, round_id: int) -> RoundAnswers:
    found = _fetch_round(session, actor, round_id, Can.VIEW_RESULTS)
    instrument = instrument_of(found.instrument)
    item_keys = tuple(item.key for item in instrument.items)
    column = {key: i for i, key in enumerate(item_keys)}
    rows = session.execute(
        select(
            BarometerResponse.answers,
            BarometerResponse.organisation_id,
            BarometerResponse.profession_id,
            BarometerResponse.hierarchy_tier,
            BarometerResponse.wt_tier,
        )
        .where(BarometerResponse.round_id == found.id)
        .order_by(BarometerResponse.id)
    ).all()
    matrix = np.full((len(rows), len(item_keys)), NOT_ANSWERED, dtype=np.int8)
    for r, (answers, *_profile) in enumerate(rows):
        for key, code in answers.items():
            if key in column:
                matrix[r, column[key]] = code
    organisations = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.partnership_id == found.partnership_id)
        .order_by(Organisation.name)
    ).all()
    professions = session.execute(
        select(Profession.id, Profession.name)
        .where(Profession.partnership_id == found.partnership_id)
        .order_by(Profession.name)
    ).all()
    dimensions: dict[str, tuple[list[tuple[Any, str]], int]] = {
        "organisation": ([(i, n) for i, n in organisations], 1),
        "profession": ([(i, n) for i, n in professions], 2),
        "hierarchy_tier": (list(HIERARCHY_TIERS.items()), 3),
        "wt_tier": ([(t.value, t.label) for t in WorkingTogetherTier], 4),
    }
    groups: dict[str, GroupCodes] = {}
    for name, (options, position) in dimensions.items():
        code_of = {value: code for code, (value, _) in enumerate(options)}
        codes = np.array([code_of.get(row[position], -1) for row in rows], dtype=np.int16)
        groups[name] = GroupCodes(
            codes=codes, values=tuple(v for v, _ in options), labels=tuple(label for _, label in options)
        )
    return RoundAnswers(
        round_id=found.id,
        instrument=instrument,
        item_keys=item_keys,
        answers=matrix,
        groups=groups,
        anonymity_threshold=found.anonymity_threshold,
    )
