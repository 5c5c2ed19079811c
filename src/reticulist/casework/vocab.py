"""Casework's controlled vocabularies: stored values and the words pages show."""

from __future__ import annotations

from reticulist.register.vocab import _Labelled


class _Words(_Labelled):
    @property
    def label(self) -> str:
        return LABELS.get(self.value, self.value.replace("_", " ").capitalize())


class MemberKind(_Words):
    CHILD = "child"
    ADULT = "adult"


class Sex(_Words):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    NOT_KNOWN = "not_known"


class Relationship(_Words):
    """An adult's (or another child's) relationship to the family's children."""

    CHILD = "child"
    MOTHER = "mother"
    FATHER = "father"
    STEP_PARENT = "step_parent"
    GRANDPARENT = "grandparent"
    KINSHIP_CARER = "kinship_carer"
    FOSTER_CARER = "foster_carer"
    SIBLING = "sibling"
    OTHER = "other"


class EpisodeOutcome(_Words):
    """How an early help episode ended."""

    NEEDS_MET = "needs_met"
    STEPPED_UP = "stepped_up"  # to children's social care
    STEPPED_DOWN = "stepped_down"  # to universal services
    FAMILY_WITHDREW = "family_withdrew"
    MOVED_AWAY = "moved_away"


LABELS: dict[str, str] = {
    "not_known": "Not known",
    "step_parent": "Step-parent",
    "stepped_up": "Stepped up to children's social care",
    "stepped_down": "Stepped down to universal services",
    "needs_met": "Needs met",
    "family_withdrew": "Family withdrew",
}


class NoteKind(_Words):
    HOME_VISIT = "home_visit"
    MEETING = "meeting"
    PHONE_CALL = "phone_call"
    MESSAGE = "message"
    OBSERVATION = "observation"
    CHILDS_VOICE = "childs_voice"  # what the child said, in their words
    OTHER = "other"


class PlanActionStatus(_Words):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


OPEN_ACTION_STATUSES = (PlanActionStatus.OPEN.value, PlanActionStatus.IN_PROGRESS.value)
LABELS.update({"childs_voice": "The child's voice", "phone_call": "Phone call", "home_visit": "Home visit"})


class ReferralStatus(_Words):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


# Working Together 2023: children's social care decides on a referral within one working day.
CHILDRENS_SOCIAL_CARE_DECISION_DAYS = 1


class ReferralChoice(_Words):
    """What the receiving organisation decides."""

    ACCEPT = "accept"
    DECLINE = "decline"
