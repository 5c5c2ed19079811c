"""The register's controlled vocabularies, in the users' words.

Each enum's value is what is stored and what imports/exports use; ``label`` is what pages show.
Sources: organisation kinds and Working Together tiers from 002 Annex; hierarchy tiers from 002
(1 = top management / policy ... 5 = practitioner).
"""

from __future__ import annotations

from enum import StrEnum


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return _LABELS.get(self.value, self.value.replace("_", " ").capitalize())

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]


class OrganisationKind(_Labelled):
    POLICE = "police"
    HEALTH = "health"
    EDUCATION = "education"
    CHILDRENS_SOCIAL_CARE = "childrens_social_care"
    ADULT_SOCIAL_CARE = "adult_social_care"
    YOUTH_JUSTICE = "youth_justice"
    PROBATION = "probation"
    DISTRICT_COUNCIL = "district_council"
    HOUSING = "housing"
    VOLUNTARY = "voluntary"
    FAITH = "faith"
    OTHER = "other"


class WorkingTogetherTier(_Labelled):
    """Membership tiers of Working Together (002 Annex)."""

    STATUTORY = "statutory"
    OTHER_MEMBER = "other_member"
    INVOLVED = "involved"


class SeatRole(_Labelled):
    CHAIR = "chair"
    MEMBER = "member"
    DEPUTY = "deputy"
    ADVISER = "adviser"
    PARTNERSHIP_MANAGER = "partnership_manager"


class MeetingKind(_Labelled):
    BOARD = "board"
    SUB_GROUP = "sub_group"
    AWAY_DAY = "away_day"
    DEVELOPMENT_DAY = "development_day"


class AttendanceStatus(_Labelled):
    PRESENT = "present"
    APOLOGIES = "apologies"
    ABSENT = "absent"
    DEPUTY_ATTENDED = "deputy_attended"


# The organisation was at the table: someone came, or a deputy came in their place.
REPRESENTED_STATUSES = (AttendanceStatus.PRESENT.value, AttendanceStatus.DEPUTY_ATTENDED.value)


class ActionKind(_Labelled):
    ACTION = "action"
    DECISION = "decision"


class ActionStatus(_Labelled):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"

    @property
    def is_open(self) -> bool:
        return self in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


class PartnershipKind(_Labelled):
    SAFEGUARDING_CHILDREN = "safeguarding_children"
    EARLY_HELP = "early_help"
    FAMILY_HUBS = "family_hubs"
    DISTRICT_COLLABORATION = "district_collaboration"
    OTHER = "other"


HIERARCHY_TIERS: dict[int, str] = {
    1: "1 – top management / policy",
    2: "2 – senior management",
    3: "3 – middle management",
    4: "4 – team leader / supervisor",
    5: "5 – practitioner",
}

_LABELS: dict[str, str] = {
    "childrens_social_care": "Children's social care",
    "adult_social_care": "Adult social care",
    "youth_justice": "Youth justice",
    "district_council": "District council",
    "statutory": "Statutory member",
    "other_member": "Other member",
    "involved": "Involved agency",
    "partnership_manager": "Partnership manager",
    "sub_group": "Sub-group",
    "away_day": "Away day",
    "development_day": "Development day",
    "deputy_attended": "Deputy attended",
    "in_progress": "In progress",
    "safeguarding_children": "Safeguarding children partnership",
    "early_help": "Early help partnership",
    "family_hubs": "Family hub network",
    "district_collaboration": "District council collaboration",
}
