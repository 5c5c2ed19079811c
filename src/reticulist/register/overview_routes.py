"""The partnership overview page: continuity, attendance, hierarchy mix and momentum at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.register.overview import partnership_overview
from reticulist.register.vocab import HIERARCHY_TIERS
from reticulist.web.deps import Viewer, get_db, page_viewer
from reticulist.web.pages import partnership_context
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)

TIER_HEADINGS = {
    "statutory": "Statutory members",
    "other_member": "Other members",
    "involved": "Involved agencies",
}


@router.get("/p/{partnership_id}")
def overview(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "overview")
    ctx["overview"] = partnership_overview(db, actor=viewer.actor, partnership_id=partnership_id)
    ctx["hierarchy_labels"] = HIERARCHY_TIERS
    ctx["tier_headings"] = TIER_HEADINGS
    return render(request, "register/overview.html", ctx)
