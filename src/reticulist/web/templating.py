"""One Jinja2 environment for every capability's templates (each capability has its own folder)."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, FileSystemLoader

from reticulist.register import vocab
from reticulist.web.idempotency import new_form_key

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [
    PACKAGE_DIR / name / "templates"
    for name in (
        "web",
        "register",
        "audit",
        "access",
        "barometer",
        "network",
        "casework",
        "linkage",
        "comparison",
    )
]

# Messages shown after a redirect, by code, so a URL cannot put arbitrary words on the page.
DONE_MESSAGES = {
    "created": "Saved: the record was added.",
    "changed": "Saved: your changes were recorded.",
    "ended": "Done: the record was ended; its history is kept.",
    "handed-over": "Done: the seat was handed over; the previous tenure is kept in the history.",
    "attendance": "Saved: attendance recorded.",
    "cancelled": "Done: the meeting was cancelled; its record is kept.",
    "closed": "Done: the action was closed; its history is kept.",
    "token": "Your new API token is shown once below. Copy it now.",
    "revoked": "The token was revoked.",
    "role": "Saved: the role was changed.",
    "role-added": "Saved: the account was given the role.",
    "invited": "Invitation recorded. If that email has an account, its holder sees the invitation when they "
    "log in and joins when they accept it; if not, the invitation waits for a site administrator to create "
    "the account. It lasts 30 days.",
    "invitation-withdrawn": "Done: the invitation was withdrawn.",
    "joined": "Welcome: you have joined the partnership.",
    "declined": "Done: you declined the invitation.",
    "role-removed": "Done: the role was removed; that account no longer sees this partnership.",
    "logged-out": "You have logged out.",
    "round-opened": "Done: the round is set up. Invite people or create an open link below.",
    "round-closed": "Done: the round is closed; answers already sent are kept.",
    "results-released": "Done: the results are released as they stand; the round takes no more answers.",
    "link-removed": "Done: the open link was removed and no longer works.",
    "instrument-loaded": "Loaded: the instrument can now be chosen when opening a round.",
    "actions-adopted": "Done: the ticked suggestions are now actions in the register.",
    "family-recorded": "Saved: the family is recorded and its early help episode is open.",
    "team-joined": "Saved: the practitioner is now in the team around the family.",
    "lead-changed": "Saved: the lead practitioner was changed; the previous lead is kept in the history.",
    "episode-closed": "Done: the episode is closed; the team no longer sees the record.",
    "note-added": "Saved: the note is in the family's chronology.",
    "decided": "Saved: the decision is recorded, and the run's clusters follow it.",
    "refreshing": "Recomputing the figures that were due: each partnership's appear here as it is done (a "
    "large group takes a few minutes).",
    "plan-changed": "Saved: the family plan was changed.",
    "reviewed": "Saved: the review is recorded and the actions' progress updated.",
    "referred": "Sent: the referral is waiting for the receiving organisation's decision.",
    "withdrawn": "Done: the referral was withdrawn.",
    "accepted": "Accepted: you are now in the team around the family and can see its record.",
    "declined-referral": "Done: the referral was declined; the sender sees your reason.",
    "published": "Published. These figures will not change.",
    "break-glass": "Emergency access opened. It is recorded and will be reviewed.",
    "use-reviewed": "Saved: the review of that use of emergency access.",
    "consent-recorded": "Saved: the consent to share.",
    "consent-withdrawn": "Done: the consent is withdrawn; access that rested on it has ended.",
    "sharing-decided": "Saved: the sharing decision, with its reasons.",
    "assessment-started": "Started: a draft of the assessment is open below.",
    "assessment-saved": "Saved: the draft of the assessment.",
    "assessment-completed": "Completed: this version of the assessment is locked; a change is a new version.",
}


def _label(value: Any) -> str:
    """The users' words for a stored vocabulary value, e.g. "childrens_social_care"."""
    if value is None:
        return ""
    for enum in (
        vocab.OrganisationKind,
        vocab.WorkingTogetherTier,
        vocab.SeatRole,
        vocab.MeetingKind,
        vocab.AttendanceStatus,
        vocab.ActionKind,
        vocab.ActionStatus,
        vocab.PartnershipKind,
    ):
        try:
            return enum(value).label
        except ValueError:
            continue
    return str(value)


def _date(value: date | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


try:
    UK_TIME: tzinfo = ZoneInfo("Europe/London")
except ZoneInfoNotFoundError:  # a machine without the time zone database: UTC, an hour out in summer
    UK_TIME = UTC


def _uktime(value: datetime | None) -> str:
    """A moment as the clock on the wall in the UK shows it: 14:05."""
    return value.astimezone(UK_TIME).strftime("%H:%M") if value else ""


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATE_DIRS[0]))
    templates.env.loader = ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS])
    templates.env.filters["label"] = _label
    templates.env.filters["ukdate"] = _date
    templates.env.filters["uktime"] = _uktime
    templates.env.globals["vocab"] = vocab
    templates.env.globals["done_messages"] = DONE_MESSAGES
    templates.env.globals["new_form_key"] = new_form_key  # forms done once (web/idempotency.py)
    return templates


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    ctx = {
        "viewer": getattr(request.state, "viewer", None),
        "done": DONE_MESSAGES.get(request.query_params.get("done", "")),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
