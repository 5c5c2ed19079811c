"""How long casework records are kept: the record types, their default periods with the reason for each,
and when a record falls due for erasure (pure: dates in, dates out).

A partnership may set its own period for any type (casework/retention.py keeps its rules); the defaults
follow common practice for children's services records in England, and docs/information-sharing.md gives
them in plain words. UK GDPR Article 5(1)(e): kept no longer than necessary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

FAMILY_RECORD = "family_record"
BREAK_GLASS = "break_glass"
SUBJECT_ACCESS = "subject_access_request"

YEARS_RANGE = (1, 50)
CHILD_AGE_RANGE = (18, 50)


@dataclass(frozen=True)
class Rule:
    record_type: str
    years: int
    child_age: int | None  # the family record only: kept until the youngest child reaches this age
    what: str  # the record type in words
    reason: str  # why the default is what it is

    @property
    def words(self) -> str:
        if self.child_age is not None:
            return (
                f"until the youngest child's {self.child_age}th birthday, and at least {self.years} years "
                "after the last episode closed"
            )
        return f"{self.years} years"


DEFAULTS: dict[str, Rule] = {
    FAMILY_RECORD: Rule(
        FAMILY_RECORD,
        years=6,
        child_age=25,
        what="A family's early help record (its people, episodes, assessments, plans, reviews, referrals, "
        "notes, consents and sharing decisions), once every episode is closed",
        reason="Children's records are commonly kept until the child's 25th birthday, so that a young adult "
        "can see their own record and a later inquiry or claim can be answered; and at least six years after "
        "the work ended, the time within which most claims can be brought (Limitation Act 1980).",
    ),
    BREAK_GLASS: Rule(
        BREAK_GLASS,
        years=6,
        child_age=None,
        what="A use of emergency access (break-glass) and its review, counted from when it was opened",
        reason="It shows who opened a record without being in the team and whether that was justified; kept "
        "for six years, the time within which a complaint or claim about that access can be brought.",
    ),
    SUBJECT_ACCESS: Rule(
        SUBJECT_ACCESS,
        years=6,
        child_age=None,
        what="An answered subject access request in the register, counted from when it was answered",
        reason="It shows how and when the request was answered, if the requester complains to the "
        "Information Commissioner or goes to court; six years, as for other claims.",
    ),
}


def anniversary(day: date, years: int) -> date:
    """The same date ``years`` later; 29 February falls on 1 March in a common year (the later day, so a
    record is never erased early)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def family_due_on(last_closed: date, youngest_child_born: date | None, rule: Rule) -> date:
    """When a closed family record falls due: the later of ``years`` after the last closure and the
    youngest child's ``child_age``th birthday (just the former when no child's birth date is known)."""
    due = anniversary(last_closed, rule.years)
    if youngest_child_born is not None and rule.child_age is not None:
        due = max(due, anniversary(youngest_child_born, rule.child_age))
    return due


def due_after(day: date, rule: Rule) -> date:
    """When a record counted from ``day`` falls due (break-glass uses, answered requests)."""
    return anniversary(day, rule.years)
