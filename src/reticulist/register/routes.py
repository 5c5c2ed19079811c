"""Register pages: list, read, create, change and end each record type. Thin: parse the form, call one
service function, render. Validation and authorisation live in the service."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.access.policy import ensure_allowed
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.vocab import OrganisationKind, WorkingTogetherTier
from reticulist.web.deps import Viewer, get_db, page_viewer, register_form
from reticulist.web.pages import form_values, in_partnership, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)


# --- organisations -----------------------------------------------------------------------------------
def _organisation_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict,
    errors: dict,
    organisation: object | None = None,
    status_code: int = 200,
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "organisations")
    ctx.update(
        values=values,
        errors=errors,
        organisation=organisation,
        kinds=OrganisationKind.choices(),
        tiers=WorkingTogetherTier.choices(),
    )
    return render(request, "register/organisation_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/organisations")
def organisations(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "organisations")
    ctx["organisations"] = register.list_organisations(db, actor=viewer.actor, partnership_id=partnership_id)
    return render(request, "register/organisations.html", ctx)


@router.get("/p/{partnership_id}/organisations/new")
def organisation_new(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    return _organisation_form(request, db, viewer, partnership_id, values={}, errors={})


@router.post("/p/{partnership_id}/organisations/new")
def organisation_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        organisation = register.create_organisation(
            db, actor=viewer.actor, partnership_id=partnership_id, data=s.parse(s.OrganisationCreate, values)
        )
    except InputError as err:
        return _organisation_form(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/organisations/{organisation.id}", "created")


@router.get("/p/{partnership_id}/organisations/{organisation_id}")
def organisation_page(
    request: Request,
    partnership_id: int,
    organisation_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    organisation = in_partnership(
        register.get_organisation(db, actor=viewer.actor, organisation_id=organisation_id), partnership_id
    )
    ctx = partnership_context(db, viewer, organisation.partnership_id, "organisations")
    ctx.update(
        organisation=organisation,
        people=register.list_people(
            db,
            actor=viewer.actor,
            partnership_id=organisation.partnership_id,
            organisation_id=organisation.id,
        ),
        seats=register.list_seats(
            db,
            actor=viewer.actor,
            partnership_id=organisation.partnership_id,
            organisation_id=organisation.id,
        ),
        attendance=register.organisation_attendance(db, actor=viewer.actor, organisation_id=organisation.id),
    )
    return render(request, "register/organisation.html", ctx)


@router.get("/p/{partnership_id}/organisations/{organisation_id}/edit")
def organisation_edit(
    request: Request,
    partnership_id: int,
    organisation_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    organisation = in_partnership(
        register.get_organisation(db, actor=viewer.actor, organisation_id=organisation_id), partnership_id
    )
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    values = s.OrganisationUpdate.model_validate(organisation, from_attributes=True).model_dump()
    return _organisation_form(
        request, db, viewer, organisation.partnership_id, values=values, errors={}, organisation=organisation
    )


@router.post("/p/{partnership_id}/organisations/{organisation_id}/edit")
def organisation_update(
    request: Request,
    partnership_id: int,
    organisation_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    organisation = in_partnership(
        register.get_organisation(db, actor=viewer.actor, organisation_id=organisation_id), partnership_id
    )
    try:
        register.update_organisation(
            db,
            actor=viewer.actor,
            organisation_id=organisation_id,
            data=s.parse(s.OrganisationUpdate, values),
        )
    except InputError as err:
        return _organisation_form(
            request,
            db,
            viewer,
            organisation.partnership_id,
            values=values,
            errors=err.by_field(),
            organisation=organisation,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{organisation.partnership_id}/organisations/{organisation_id}", "changed")


@router.post("/p/{partnership_id}/organisations/{organisation_id}/end")
def organisation_end(
    request: Request,
    partnership_id: int,
    organisation_id: int,
    viewer: Viewer = Depends(register_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    organisation = in_partnership(
        register.get_organisation(db, actor=viewer.actor, organisation_id=organisation_id), partnership_id
    )
    try:
        ended_on = s.parse(s.EndRecord, values).ended_on
        register.end_organisation(db, actor=viewer.actor, organisation_id=organisation_id, ended_on=ended_on)
    except InputError as err:
        ctx = partnership_context(db, viewer, organisation.partnership_id, "organisations")
        ctx.update(organisation=organisation, errors=err.by_field(), people=[], seats=[])
        return render(request, "register/organisation.html", ctx, status_code=422)
    db.commit()
    return redirect(f"/p/{organisation.partnership_id}/organisations/{organisation_id}", "ended")
