"""The Retention page of the data protection role: the schedule (each record type, the period in force, the
default and its reason), changing a period (with why), what is due today, and legal holds. Erasing itself
is the command line's (`reticulist casework retention`), run by the operator on a schedule."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import NotFound, ensure_allowed
from reticulist.casework import retention
from reticulist.errors import InputError
from reticulist.web.deps import Viewer, form_for, get_db, page_viewer
from reticulist.web.pages import form_values, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)
retention_form = form_for(Can.MANAGE_RETENTION)


def _page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx: dict[str, Any] = partnership_context(db, viewer, partnership_id, "retention")
    ctx.update(
        schedule=retention.schedule(db, actor=viewer.actor, partnership_id=partnership_id),
        due=retention.due(db, actor=viewer.actor, partnership_id=partnership_id),
        holds=retention.holds(db, actor=viewer.actor, partnership_id=partnership_id),
        values=values or {},
        errors=errors or {},
    )
    return render(request, "casework/retention.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/retention")
def retention_page(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.MANAGE_RETENTION, partnership_id)
    return _page(request, db, viewer, partnership_id)


@router.post("/p/{partnership_id}/retention/rules/{record_type}")
def retention_rule(
    request: Request,
    partnership_id: int,
    record_type: str,
    viewer: Viewer = Depends(retention_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    """The partnership's own period for one record type (field names end with the type)."""
    if record_type not in retention.DEFAULTS:
        raise NotFound("No such record type.")
    try:
        retention.set_rule(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            record_type=record_type,
            years=values.get(f"years_{record_type}", ""),
            child_age=values.get(f"child_age_{record_type}"),
            note=values.get(f"note_{record_type}", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        errors = {f"{k}_{record_type}": v for k, v in err.by_field().items()}
        return _page(request, db, viewer, partnership_id, values=values, errors=errors, status_code=422)
    return redirect(f"/p/{partnership_id}/retention", "changed")


@router.post("/p/{partnership_id}/retention/holds")
def hold_place(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(retention_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        retention.place_hold(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            family_reference=values.get("family_reference", ""),
            reason=values.get("reason", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        return _page(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    return redirect(f"/p/{partnership_id}/retention", "created")


@router.post("/p/{partnership_id}/retention/holds/{hold_id}/lift")
def hold_lift(
    request: Request,
    partnership_id: int,
    hold_id: int,
    viewer: Viewer = Depends(retention_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        retention.lift_hold(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            hold_id=hold_id,
            reason=values.get(f"lift_reason_{hold_id}", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        errors = {f"lift_reason_{hold_id}": v for v in err.by_field().values()}
        return _page(request, db, viewer, partnership_id, values=values, errors=errors, status_code=422)
    return redirect(f"/p/{partnership_id}/retention", "changed")
