"""Helpers that every capability's page routes share."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from reticulist.access.policy import Action, NotFound, allowed
from reticulist.casework import break_glass
from reticulist.register import service as register
from reticulist.web.deps import Viewer

CONTROLS = ("csrf_token", "form_key")  # what every form carries for the server, not for the route


async def posted_form(request: Request) -> FormData:
    """Dependency: the submitted form, parsed. Reading a body is asynchronous, so it happens here, on the
    event loop, with no database work; the route itself is a plain ``def`` and runs in the thread pool,
    where blocking database work belongs (tests/web/test_no_blocking.py enforces this)."""
    return await request.form()


def plain_values(form: FormData) -> dict[str, str]:
    """The form's text fields as plain strings, without the CSRF token and the form key. A repeated key
    keeps its last value (a ticked checkbox follows its hidden "no")."""
    return {key: value for key, value in form.multi_items() if key not in CONTROLS and isinstance(value, str)}


async def form_values(request: Request) -> dict[str, str]:
    """Dependency: the submitted form as plain strings (see ``plain_values``), read on the event loop."""
    return plain_values(await request.form())


def partnership_context(db: Session, viewer: Viewer, partnership_id: int, section: str) -> dict[str, Any]:
    """What a page inside a partnership needs for its navigation. Checks the viewer may see it."""
    partnership = register.get_partnership(db, actor=viewer.actor, partnership_id=partnership_id)
    return {
        "partnership": partnership,
        "section": section,
        "can_edit": allowed(viewer.actor, Action.EDIT_REGISTER, partnership_id),
        "can_audit": allowed(viewer.actor, Action.VIEW_AUDIT, partnership_id),
        "can_manage_roles": allowed(viewer.actor, Action.MANAGE_ROLES, partnership_id),
        "can_export": allowed(viewer.actor, Action.EXPORT_REGISTER, partnership_id),
        "can_casework": allowed(viewer.actor, Action.WORK_CASES, partnership_id),
        "can_case_access": allowed(viewer.actor, Action.VIEW_CASE_ACCESS, partnership_id),
        "can_casework_figures": allowed(viewer.actor, Action.VIEW_CASEWORK_FIGURES, partnership_id),
        "can_subject_access": allowed(viewer.actor, Action.HANDLE_SUBJECT_ACCESS, partnership_id),
        "can_retention": allowed(viewer.actor, Action.MANAGE_RETENTION, partnership_id),
        "can_linkage": allowed(viewer.actor, Action.REVIEW_LINKS, partnership_id),
        "can_compare": allowed(viewer.actor, Action.VIEW_COMPARISON, partnership_id)
        or allowed(viewer.actor, Action.JOIN_COMPARISON, partnership_id),
        # The data protection role's alert: uses of emergency access waiting for their review.
        "break_glass_waiting": break_glass.waiting_count(
            db, actor=viewer.actor, partnership_id=partnership_id
        ),
    }


def redirect(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={done}", status_code=303)


def in_partnership(record: Any, partnership_id: int) -> Any:
    """A record reached through another partnership's URL is not found there."""
    if record.partnership_id != partnership_id:
        raise NotFound("Not in this partnership.")
    return record
