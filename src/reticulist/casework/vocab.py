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


# --- lawful information sharing (casework/sharing.py) ----------------------------------------------------
class InformationKind(_Words):
    """The parts of a family's record a consent or a sharing decision can cover."""

    PEOPLE = "people"  # names, dates of birth, relationships, identifiers; addresses (never shielded ones)
    EPISODES = "episodes"  # the early help episodes and the team around the family
    ASSESSMENT = "assessment"
    PLAN = "plan"  # the family plan and its reviews
    REFERRALS = "referrals"
    NOTES = "notes"  # the chronology (never sensitive notes)


class LawfulBasis(_Words):
    """UK GDPR Article 6(1), with the recognised legitimate interest added by the Data (Use and Access)
    Act 2025 (Article 6(1)(ea), Annex 1: safeguarding vulnerable individuals)."""

    CONSENT = "consent"  # 6(1)(a)
    LEGAL_OBLIGATION = "legal_obligation"  # 6(1)(c)
    VITAL_INTERESTS = "vital_interests"  # 6(1)(d)
    PUBLIC_TASK = "public_task"  # 6(1)(e)
    RECOGNISED_LEGITIMATE_INTEREST = "recognised_legitimate_interest"  # 6(1)(ea): safeguarding
    LEGITIMATE_INTERESTS = "legitimate_interests"  # 6(1)(f)


class SpecialCategoryCondition(_Words):
    """UK GDPR Article 9(2) conditions (with the Data Protection Act 2018 Schedule 1) for special category
    data such as health."""

    EXPLICIT_CONSENT = "explicit_consent"  # 9(2)(a)
    VITAL_INTERESTS = "vital_interests_9"  # 9(2)(c)
    HEALTH_OR_SOCIAL_CARE = "health_or_social_care"  # 9(2)(h), DPA 2018 Sch 1 para 2
    SAFEGUARDING = "safeguarding_children"  # 9(2)(g), DPA 2018 Sch 1 para 18
    SUBSTANTIAL_PUBLIC_INTEREST = "statutory_purposes"  # 9(2)(g), DPA 2018 Sch 1 para 6


class SharingChoice(_Words):
    SHARE = "share"
    NOT_SHARE = "not_share"


LABELS.update(
    {
        "people": "People (names, dates of birth, relationships, identifiers, addresses)",
        "episodes": "Episodes and the team around the family",
        "assessment": "The early help assessment",
        "plan": "The family plan and reviews",
        "referrals": "Referrals",
        "notes": "Case notes (not sensitive ones)",
        "consent": "Consent (Article 6(1)(a))",
        "legal_obligation": "Legal obligation (Article 6(1)(c))",
        "vital_interests": "Vital interests (Article 6(1)(d))",
        "public_task": "Public task (Article 6(1)(e))",
        "recognised_legitimate_interest": "Recognised legitimate interest: safeguarding (Article 6(1)(ea))",
        "legitimate_interests": "Legitimate interests (Article 6(1)(f))",
        "explicit_consent": "Explicit consent (Article 9(2)(a))",
        "vital_interests_9": "Vital interests (Article 9(2)(c))",
        "health_or_social_care": "Health or social care (Article 9(2)(h); DPA 2018 Sch. 1 para. 2)",
        "safeguarding_children": "Safeguarding children and people at risk (DPA 2018 Sch. 1 para. 18)",
        "statutory_purposes": "Statutory and government purposes (DPA 2018 Sch. 1 para. 6)",
        "share": "Share",
        "not_share": "Not share",
    }
)

# Public authorities, by the organisation's kind in the register: they may not rely on legitimate interests
# (Article 6(1)(f) last sentence) nor on a recognised legitimate interest for their own tasks. Housing is
# left out (housing associations are private bodies), as are voluntary, faith and other organisations.
PUBLIC_AUTHORITY_KINDS = frozenset(
    {
        "police",
        "health",
        "education",
        "childrens_social_care",
        "adult_social_care",
        "youth_justice",
        "probation",
        "district_council",
    }
)
