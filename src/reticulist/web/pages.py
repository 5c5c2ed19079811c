"""Helpers that every capability's page routes share."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from reticulist.access.policy import Action, NotFound, allowed
from reticulist.register import service as register
from reticulist.web.deps import Viewer


async def form_data(request: Request) -> dict[str, str]:
    """The submitted form as plain strings, without the CSRF token and form key. A repeated key keeps its
    last value (a ticked checkbox follows its hidden "no")."""
    form = await request.form()
    data: dict[str, str] = {}
    for key, value in form.multi_items():
        if key not in ("csrf_token", "form_key") and isinstance(value, str):
            data[key] = value
    return data


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
    }


def redirect(url: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?done={done}", status_code=303)


def in_partnership(record: Any, partnership_id: int) -> Any:
    """A record reached through another partnership's URL is not found there."""
    if record.partnership_id != partnership_id:
        raise NotFound("Not in this partnership.")
    return record
