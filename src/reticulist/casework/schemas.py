"""What casework accepts, for forms, the API and imports alike: a value is refused the same way, with the
same words, wherever it comes from."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, model_validator

from reticulist.casework.identifiers import (
    nhs_number_problem,
    normalise_nhs_number,
    normalise_postcode,
    postcode_problem,
    upn_problem,
)
from reticulist.casework.vocab import (
    EpisodeOutcome,
    InformationKind,
    LawfulBasis,
    MemberKind,
    NoteKind,
    PlanActionStatus,
    ReferralChoice,
    Relationship,
    Sex,
    SharingChoice,
    SpecialCategoryCondition,
)
from reticulist.errors import FieldProblem, InputError, named_field
from reticulist.register import schemas as register_schemas
from reticulist.register.schemas import (
    Name,
    OptionalDate,
    RecordId,
    RequiredDate,
    YesNo,
    _choice,
    _Schema,
    _text,
)

M = TypeVar("M", bound=BaseModel)


def parse(schema: type[M], data: dict[str, Any], *, row: int | None = None, source: str | None = None) -> M:
    """``register.schemas.parse``, with a rule over several fields ("agreed_on: is before ...") put on the
    field it names, so forms and imports show it at that field."""
    try:
        return register_schemas.parse(schema, data, row=row, source=source)
    except InputError as err:
        problems = [
            FieldProblem(*named_field(p.field, p.message), row=p.row, source=p.source) for p in err.problems
        ]
        raise InputError(problems=problems) from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _nhs_number(value: Any) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if problem := nhs_number_problem(text):
        raise ValueError(f'"{text[:20]}" {problem}' if problem.startswith("is ") else problem)
    return normalise_nhs_number(text)


def _upn(value: Any) -> str | None:
    if _blank(value):
        return None
    text = str(value).strip()
    if problem := upn_problem(text):
        raise ValueError(f'"{text[:20]}" {problem}' if problem.startswith("is ") else problem)
    return text.upper().replace(" ", "")


def _postcode(value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError("is required")
    if problem := postcode_problem(text):
        raise ValueError(f'"{text[:20]}" {problem}')
    return normalise_postcode(text)


NhsNumber = Annotated[str | None, BeforeValidator(_nhs_number)]
Upn = Annotated[str | None, BeforeValidator(_upn)]
Postcode = Annotated[str, BeforeValidator(_postcode)]
OptionalName = Annotated[str, _text(200, required=False)]
Reference = Annotated[str, _text(40)]
Role = Annotated[str, _text(200)]


class AddressCreate(_Schema):
    lines: Annotated[str, _text(500)]
    postcode: Postcode
    from_on: RequiredDate
    shielded: YesNo = False


class MemberCreate(_Schema):
    kind: Annotated[str, _choice(MemberKind)]
    forenames: Name
    surname: Name
    known_as: OptionalName = ""
    date_of_birth: OptionalDate = None
    sex: Annotated[str, _choice(Sex)] = Sex.NOT_KNOWN.value
    relationship_to_children: Annotated[str, _choice(Relationship)] = Relationship.OTHER.value
    parental_responsibility: YesNo = False
    nhs_number: NhsNumber = None
    upn: Upn = None
    shielded: YesNo = False
    address: AddressCreate | None = None

    @model_validator(mode="after")
    def _children_only(self) -> MemberCreate:
        if self.kind == MemberKind.ADULT.value and self.upn:
            raise ValueError("upn: only a child has a unique pupil number")
        if self.kind == MemberKind.CHILD.value and self.parental_responsibility:
            raise ValueError("parental_responsibility: a child of the family does not hold it here")
        if self.date_of_birth and self.date_of_birth > date.today():
            raise ValueError("date_of_birth: is in the future")
        return self


class EpisodeRequest(_Schema):
    """The request for support, when the family agreed to take part, and who leads the team."""

    requested_by: Name
    request_reason: Annotated[str, _text(2000)]
    requested_on: RequiredDate
    agreed_on: RequiredDate
    opened_on: RequiredDate
    lead_person_id: RecordId
    lead_role: Role
    family_had_say: YesNo = False

    @model_validator(mode="after")
    def _in_order(self) -> EpisodeRequest:
        if self.agreed_on < self.requested_on:
            raise ValueError("agreed_on: is before the request for support")
        if self.opened_on < self.requested_on:
            raise ValueError("opened_on: is before the request for support")
        return self


class EpisodeOpen(EpisodeRequest):
    """A new episode for a family already recorded: who agreed is one of its people."""

    agreed_by_member_id: RecordId


class FamilyCreate(_Schema):
    """A new family record with its people and its first episode (a record nobody is involved in would
    be seen by nobody but the coordinator). ``agreed_by`` is the position (1, 2, ...) in ``members`` of
    the person who agreed to early help."""

    reference: Reference
    members: list[MemberCreate]
    episode: EpisodeRequest
    agreed_by: int

    @model_validator(mode="after")
    def _agreed_by_one_of_them(self) -> FamilyCreate:
        if not self.members:
            raise ValueError("members: a family record needs at least one person")
        if len(self.members) > 50:
            raise ValueError("members: at most 50 people in one family record")
        if not any(m.kind == MemberKind.CHILD.value for m in self.members):
            raise ValueError("members: early help is for a family with at least one child")
        if not 1 <= self.agreed_by <= len(self.members):
            raise ValueError(f"agreed_by: is not one of the family's {len(self.members)} people")
        return self


class InvolvementCreate(_Schema):
    person_id: RecordId
    role: Role
    from_on: RequiredDate


class LeadChange(_Schema):
    involvement_id: RecordId
    from_on: RequiredDate
    family_had_say: YesNo = False


class EpisodeClose(_Schema):
    closed_on: RequiredDate
    outcome: Annotated[str, _choice(EpisodeOutcome)]


class ChildSearch(_Schema):
    """ "Is this child known?": surname and date of birth, forenames optional."""

    surname: Name
    date_of_birth: RequiredDate
    forenames: OptionalName = ""


def _writing(max_length: int) -> BeforeValidator:
    """Free text that keeps its lines (a case note, a review's summary): each line trimmed, runs of blank
    lines kept to one, at most ``max_length`` characters."""

    def parse(value: Any) -> str:
        lines = [" ".join(line.split()) for line in ("" if value is None else str(value)).splitlines()]
        text = "\n".join(lines).strip()
        while "\n\n\n" in text:
            text = text.replace("\n\n\n", "\n\n")
        if len(text) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return text

    return BeforeValidator(parse)


Writing = Annotated[str, _writing(10_000)]


class NoteCreate(_Schema):
    happened_on: RequiredDate
    kind: Annotated[str, _choice(NoteKind)]
    text: Writing
    sensitive: YesNo = False

    @model_validator(mode="after")
    def _said_something(self) -> NoteCreate:
        if not self.text:
            raise ValueError("text: is required")
        if self.happened_on > date.today():
            raise ValueError("happened_on: is in the future")
        return self


class OutcomeCreate(_Schema):
    text: Annotated[str, _text(1000)]


class PlanActionCreate(_Schema):
    outcome_id: RecordId
    text: Annotated[str, _text(1000)]
    owner_involvement_id: RecordId
    due_on: RequiredDate


class ActionProgress(_Schema):
    action_id: RecordId
    status: Annotated[str, _choice(PlanActionStatus)]
    note: Annotated[str, _text(2000, required=False)] = ""


class ReviewCreate(_Schema):
    held_on: RequiredDate
    next_review_on: OptionalDate = None
    summary: Writing = ""
    attended: Annotated[str, _text(1000, required=False)] = ""
    attendee_involvement_ids: list[RecordId] = []
    progress: list[ActionProgress] = []

    @model_validator(mode="after")
    def _dates(self) -> ReviewCreate:
        if self.held_on > date.today():
            raise ValueError("held_on: is in the future: record a review once it has been held")
        if self.next_review_on is not None and self.next_review_on <= self.held_on:
            raise ValueError("next_review_on: must be after the review")
        if len(self.progress) > 200 or len(self.attendee_involvement_ids) > 200:
            raise ValueError("progress: too many entries for one review")
        return self


class ReferralCreate(_Schema):
    to_organisation_id: RecordId
    child_member_id: RecordId
    reason: Writing
    sent_on: RequiredDate

    @model_validator(mode="after")
    def _check(self) -> ReferralCreate:
        if not self.reason:
            raise ValueError("reason: is required")
        if self.sent_on > date.today():
            raise ValueError("sent_on: is in the future")
        return self


class ReferralDecision(_Schema):
    decision: Annotated[str, _choice(ReferralChoice)]
    decided_on: RequiredDate
    reason: Writing = ""
    role: Annotated[str, _text(200, required=False)] = ""

    @model_validator(mode="after")
    def _check(self) -> ReferralDecision:
        if self.decision == ReferralChoice.DECLINE.value and not self.reason:
            raise ValueError("reason: say why the referral is declined")
        if self.decided_on > date.today():
            raise ValueError("decided_on: is in the future")
        return self


ASSESSMENT_FIELDS = (
    "development_strengths",
    "development_needs",
    "parenting_strengths",
    "parenting_needs",
    "family_strengths",
    "family_needs",
    "childs_words",
    "family_view",
)


class AssessmentDraft(_Schema):
    """What a draft holds; every part may be empty while drafting (completing checks it is whole)."""

    development_strengths: Writing = ""
    development_needs: Writing = ""
    parenting_strengths: Writing = ""
    parenting_needs: Writing = ""
    family_strengths: Writing = ""
    family_needs: Writing = ""
    childs_words: Writing = ""
    family_view: Writing = ""


# --- consent and sharing decisions (casework/sharing.py) ----------------------------------------------------
def _kinds(value: Any) -> list[str]:
    """Kinds of information: a list, or words separated by commas (forms, imports)."""
    items = value if isinstance(value, list | tuple) else ("" if value is None else str(value)).split(",")
    out: list[str] = []
    allowed = [k.value for k in InformationKind]
    for item in items:
        word = str(item).strip()
        if not word:
            continue
        if word not in allowed:
            raise ValueError(f'"{word[:40]}" is not one of: {", ".join(allowed)}')
        if word not in out:
            out.append(word)
    if not out:
        raise ValueError("choose at least one kind of information")
    return out


Kinds = Annotated[list[str], BeforeValidator(_kinds)]


def _optional_choice(enum: type) -> BeforeValidator:
    """As ``_choice``, with nothing given allowed (as "")."""
    strict = _choice(enum).func

    def parse(value: Any) -> str:
        return "" if _blank(value) else strict(value)

    return BeforeValidator(parse)


def _record_ids(value: Any) -> list[int]:
    items = value if isinstance(value, list | tuple) else ("" if value is None else str(value)).split(",")
    out: list[int] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        if isinstance(item, bool) or not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
            raise ValueError(f'"{text[:20]}" is not a record number')
        if int(text) not in out:
            out.append(int(text))
    if not out:
        raise ValueError("choose at least one organisation")
    return out


RecordIds = Annotated[list[int], BeforeValidator(_record_ids)]


class ConsentCreate(_Schema):
    """Consent to share: who gave it (a child of sufficient understanding, or a person with parental
    responsibility), to which organisations, for which kinds of information."""

    given_by_member_id: RecordId
    organisation_ids: RecordIds
    kinds: Kinds
    given_on: RequiredDate

    @model_validator(mode="after")
    def _not_future(self) -> ConsentCreate:
        if self.given_on > date.today():
            raise ValueError("given_on: is in the future")
        return self


class ConsentWithdraw(_Schema):
    withdrawn_on: RequiredDate

    @model_validator(mode="after")
    def _not_future(self) -> ConsentWithdraw:
        if self.withdrawn_on > date.today():
            raise ValueError("withdrawn_on: is in the future")
        return self


class SharingDecisionCreate(_Schema):
    """A decision to share information outside the team, or not to, with its reasons (recorded either way)."""

    kinds: Kinds
    recipient_organisation_id: RecordId
    recipient_person_id: RecordId | None = None
    purpose: Writing
    decision: Annotated[str, _choice(SharingChoice)]
    reasons: Writing
    family_told: YesNo = False
    not_told_reason: Writing = ""
    family_views: Writing = ""
    basis: Annotated[str, _optional_choice(LawfulBasis)] = ""
    special_category: YesNo = False
    condition: Annotated[str, _optional_choice(SpecialCategoryCondition)] = ""
    access_until: OptionalDate = None
    decided_on: RequiredDate

    @model_validator(mode="after")
    def _complete(self) -> SharingDecisionCreate:
        if not self.purpose:
            raise ValueError("purpose: say what the information is for")
        if not self.reasons:
            raise ValueError("reasons: record the reasons for the decision, whichever it is")
        if self.decided_on > date.today():
            raise ValueError("decided_on: is in the future")
        if not self.family_told and not self.not_told_reason:
            raise ValueError("not_told_reason: say why the child and family were not told")
        if self.decision == SharingChoice.SHARE.value:
            if not self.basis:
                raise ValueError("basis: choose the lawful basis (UK GDPR Article 6) for sharing")
            if self.special_category and not self.condition:
                raise ValueError("condition: special category data needs an Article 9 condition as well")
            if self.access_until is None:
                raise ValueError("access_until: say until when the recipient may see it")
            if self.access_until < self.decided_on:
                raise ValueError("access_until: is before the decision")
            if (self.access_until - self.decided_on).days > 366:
                raise ValueError("access_until: at most a year after the decision; decide again after that")
        return self
