"""Who may do what, as data: named actions, the roles that grant them, one check.

Every service calls ``ensure_allowed`` before it reads or changes anything; templates only use
``allowed`` to hide buttons a user could not use anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything a manager can, plus who has which role in the partnership
    MANAGER = "manager"  # edits the register, reads the audit log, imports and exports
    MEMBER = "member"  # reads the register
    # Casework roles. None of the three above sees a child's record: managing the register is not a reason
    # to read case files (need-to-know).
    PRACTITIONER = "practitioner"  # works with families; sees a record only while involved in it
    COORDINATOR = "coordinator"  # the early help coordinator: sees every family's record, audited as such
    DATA_PROTECTION = "data-protection"  # who has seen which record, and the casework figures; not records
    # The partnership's linkage analyst: loads agency extracts, runs linkage, reviews uncertain matches and
    # reads the single view of children the partnership works with. No other role sees linkage at all.
    LINKAGE = "linkage"


class Action(StrEnum):
    VIEW_REGISTER = "view-register"
    EDIT_REGISTER = "edit-register"
    VIEW_AUDIT = "view-audit"
    IMPORT_REGISTER = "import-register"
    EXPORT_REGISTER = "export-register"
    MANAGE_ROLES = "manage-roles"
    RUN_BAROMETER = "run-barometer"  # open and close rounds, issue survey links, load instruments
    VIEW_RESULTS = "view-results"  # barometer rounds and their results (never below the threshold)
    VIEW_NETWORK = "view-network"  # network figures; people shown only by organisation and profession
    VIEW_NETWORK_NAMES = "view-network-names"  # who is tied to whom, by name
    EDIT_NETWORK = "edit-network"  # import and store ties
    WORK_CASES = "work-cases"  # record families, open episodes, join teams (what is seen: involvement)
    VIEW_ALL_CASES = "view-all-cases"  # every family's record in the partnership, without an involvement
    VIEW_CASE_ACCESS = "view-case-access"  # who has seen a family's record, and why
    VIEW_CASEWORK_FIGURES = "view-casework-figures"  # counts without names, under disclosure control
    PUBLISH_CASEWORK_FIGURES = "publish-casework-figures"  # publish an ended quarter's figures, once
    REVIEW_BREAK_GLASS = "review-break-glass"  # review emergency access to records; set its time limit
    HANDLE_SUBJECT_ACCESS = "handle-subject-access"  # the subject access request register
    MANAGE_RETENTION = "manage-retention"  # retention periods and legal holds (erasing is the command line's)
    LINK_RECORDS = "link-records"  # load agency extracts, train models, run linkage
    REVIEW_LINKS = "review-links"  # the review queue and the single view of known children
    # Comparison between partnerships (comparison/). A group's analysts are not a partnership role: they
    # are listed per group (ComparisonAnalyst) and see aggregates of opted-in partnerships only.
    JOIN_COMPARISON = "join-comparison"  # opt the partnership in to a comparison group, or out
    VIEW_COMPARISON = "view-comparison"  # the partnership against the anonymised others of its groups


GRANTS: dict[Role, frozenset[Action]] = {
    Role.MEMBER: frozenset({Action.VIEW_REGISTER, Action.VIEW_RESULTS, Action.VIEW_NETWORK}),
    Role.MANAGER: frozenset(
        {
            Action.VIEW_REGISTER,
            Action.EDIT_REGISTER,
            Action.VIEW_AUDIT,
            Action.IMPORT_REGISTER,
            Action.EXPORT_REGISTER,
            Action.RUN_BAROMETER,
            Action.VIEW_RESULTS,
            Action.VIEW_NETWORK,
            Action.VIEW_NETWORK_NAMES,
            Action.EDIT_NETWORK,
        }
    ),
}
GRANTS[Role.MANAGER] |= {
    Action.VIEW_CASEWORK_FIGURES,
    Action.PUBLISH_CASEWORK_FIGURES,
    Action.VIEW_COMPARISON,
}
GRANTS[Role.ADMIN] = GRANTS[Role.MANAGER] | {Action.MANAGE_ROLES, Action.JOIN_COMPARISON}
GRANTS[Role.PRACTITIONER] = frozenset({Action.VIEW_REGISTER, Action.WORK_CASES})
GRANTS[Role.COORDINATOR] = frozenset(
    {Action.VIEW_REGISTER, Action.WORK_CASES, Action.VIEW_ALL_CASES, Action.VIEW_CASEWORK_FIGURES}
)
GRANTS[Role.DATA_PROTECTION] = frozenset(
    {
        Action.VIEW_REGISTER,
        Action.VIEW_AUDIT,
        Action.VIEW_CASE_ACCESS,
        Action.VIEW_CASEWORK_FIGURES,
        Action.REVIEW_BREAK_GLASS,
        Action.HANDLE_SUBJECT_ACCESS,
        Action.MANAGE_RETENTION,
    }
)

GRANTS[Role.LINKAGE] = frozenset({Action.VIEW_REGISTER, Action.LINK_RECORDS, Action.REVIEW_LINKS})


@dataclass(frozen=True)
class Actor:
    """Whoever is acting: a logged-in user, an API token's owner, or the command line (a site admin)."""

    user_id: int | None
    label: str
    is_site_admin: bool = False
    roles: dict[int, Role] = field(default_factory=dict)  # partnership id -> role
    via: str = "web"

    def role_in(self, partnership_id: int) -> Role | None:
        return self.roles.get(partnership_id)


class NotAllowed(Exception):
    """The actor may see the resource but not do this to it (HTTP 403)."""


class NotFound(Exception):
    """The record does not exist, or the actor may not know that it does (HTTP 404)."""


def allowed(actor: Actor, action: Action, partnership_id: int) -> bool:
    if actor.is_site_admin:
        return True
    role = actor.role_in(partnership_id)
    return role is not None and action in GRANTS[role]


def ensure_allowed(actor: Actor, action: Action, partnership_id: int) -> None:
    """Raise NotFound to outsiders (so they cannot probe which partnerships exist) and NotAllowed to
    members who lack this action."""
    if allowed(actor, action, partnership_id):
        return
    if actor.is_site_admin or actor.role_in(partnership_id) is not None:
        raise NotAllowed(f"Your role does not allow {action.value}.")
    raise NotFound("No such partnership.")


def cli_actor(label: str = "command line") -> Actor:
    """The command line runs with the operator's full authority (they hold the database credentials)."""
    return Actor(user_id=None, label=label, is_site_admin=True, via="cli")
