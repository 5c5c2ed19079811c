"""The register's JSON API at /api/v1. Thin: validate, call one service function, return Public schemas."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.web.deps import Viewer, api_viewer, get_db

router = APIRouter(tags=["register"])


@router.get("/partnerships", response_model=list[s.PartnershipPublic])
def list_partnerships(viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)) -> list:
    """Partnerships in which you have a role."""
    return register.list_partnerships(db, actor=viewer.actor)


@router.get("/partnerships/{partnership_id}/organisations", response_model=list[s.OrganisationPublic])
def list_organisations(
    partnership_id: int, viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)
) -> list:
    return register.list_organisations(db, actor=viewer.actor, partnership_id=partnership_id)


@router.post(
    "/partnerships/{partnership_id}/organisations", response_model=s.OrganisationPublic, status_code=201
)
def create_organisation(
    partnership_id: int,
    data: s.OrganisationCreate,
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> object:
    organisation = register.create_organisation(
        db, actor=viewer.actor, partnership_id=partnership_id, data=data
    )
    db.commit()
    return organisation
