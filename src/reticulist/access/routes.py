"""The roles page: a partnership's admins see who has which role, change or remove roles, and invite
people to join (the account holder accepts on their account page). Thin: the service checks MANAGE_ROLES,
refuses an admin's own demotion, and answers an invitation the same whether or not the email has an
account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import NotFound, Role
from reticulist.errors import InputError
from reticulist.web.deps import Viewer, get_db, page_viewer, roles_form
from reticulist.web.pages import form_values, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)

ROLE_CHOICES = [
    (Role.MEMBER.value, "Member — reads the register"),
    (Role.MANAGER.value, "Manager — edits the register, reads the audit log, imports and exports"),
    (Role.ADMIN.value, "Admin — everything a manager does, and decides who has which role"),
    (Role.PRACTITIONER.value, "Practitioner — works with families; sees a family's record only in its team"),
    (Role.COORDINATOR.value, "Early help coordinator — sees every family's record (each read is recorded)"),
    (Role.DATA_PROTECTION.value, "Data protection — sees who has read each family's record; not the records"),
    (Role.LINKAGE.value, "Linkage — links agency extracts and reviews matches; sees known children only"),
]


def _roles_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    row_errors: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    roles = accounts.list_roles(db, actor=viewer.actor, partnership_id=partnership_id)
    ctx = partnership_context(db, viewer, partnership_id, "roles")
    ctx.update(
        roles=roles,
        invitations=accounts.list_invitations(db, actor=viewer.actor, partnership_id=partnership_id),
        role_choices=ROLE_CHOICES,
        values=values or {"role": Role.MEMBER.value},
        errors=errors or {},
        row_errors=row_errors or {},
    )
    return render(request, "access/roles.html", ctx, status_code=status_code)


def _member_of(db: Session, viewer: Viewer, partnership_id: int, user_id: int) -> None:
    """Changing a role here is for accounts that already have one in this partnership."""
    roles = accounts.list_roles(db, actor=viewer.actor, partnership_id=partnership_id)
    if all(user.id != user_id for user, _ in roles):
        raise NotFound("No such role in this partnership.")


@router.get("/p/{partnership_id}/roles")
def roles(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _roles_page(request, db, viewer, partnership_id)


@router.post("/p/{partnership_id}/roles")
def role_grant(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(roles_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        outcome = accounts.grant_role(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            email=values.get("email", ""),
            role=values.get("role", ""),
        )
    except InputError as err:
        db.rollback()
        return _roles_page(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(
        f"/p/{partnership_id}/roles", {"changed": "role", "added": "role-added"}.get(outcome, "invited")
    )


@router.post("/p/{partnership_id}/roles/invitations/{invitation_id}/withdraw")
def invitation_withdraw(
    partnership_id: int,
    invitation_id: int,
    viewer: Viewer = Depends(roles_form),
    db: Session = Depends(get_db),
) -> Response:
    accounts.withdraw_invitation(
        db, actor=viewer.actor, partnership_id=partnership_id, invitation_id=invitation_id
    )
    db.commit()
    return redirect(f"/p/{partnership_id}/roles", "invitation-withdrawn")


@router.post("/p/{partnership_id}/roles/{user_id}")
def role_change(
    request: Request,
    partnership_id: int,
    user_id: int,
    viewer: Viewer = Depends(roles_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    _member_of(db, viewer, partnership_id, user_id)
    try:
        role = accounts.parse_role(values.get("role", ""))
        accounts.set_role(db, actor=viewer.actor, partnership_id=partnership_id, user_id=user_id, role=role)
    except InputError as err:
        db.rollback()
        return _roles_page(
            request,
            db,
            viewer,
            partnership_id,
            row_errors={user_id: str(err.problems[0].message)},
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/roles", "role")


@router.post("/p/{partnership_id}/roles/{user_id}/remove")
def role_remove(
    request: Request,
    partnership_id: int,
    user_id: int,
    viewer: Viewer = Depends(roles_form),
    db: Session = Depends(get_db),
) -> Response:
    _member_of(db, viewer, partnership_id, user_id)
    try:
        accounts.set_role(db, actor=viewer.actor, partnership_id=partnership_id, user_id=user_id, role=None)
    except InputError as err:
        db.rollback()
        return _roles_page(
            request,
            db,
            viewer,
            partnership_id,
            row_errors={user_id: str(err.problems[0].message)},
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/roles", "role-removed")
