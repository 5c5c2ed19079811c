"""Comparison pages. Inside a partnership (its managers and admins): the groups, opting in and out, and the
partnership against the anonymised others. Outside any partnership (a group's analysts): the group's
aggregates, the study and the research extract. Everyone else gets 404, for groups as for partnerships.

Thin: parse, call comparison.service (which checks who may), render.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session, sessionmaker

from reticulist.access.policy import Action as Can
from reticulist.access.policy import NotFound, allowed, ensure_allowed
from reticulist.barometer.charts import page_svg
from reticulist.comparison import extract, funnel, service, study
from reticulist.comparison import figures as stored_figures
from reticulist.errors import InputError
from reticulist.network.analysis import parse_date
from reticulist.web.deps import Viewer, check_form_csrf, get_db, page_viewer
from reticulist.web.pages import form_values, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)


def _context(db: Session, viewer: Viewer, partnership_id: int) -> dict[str, Any]:
    service.ensure_sees_groups(viewer.actor, partnership_id)
    return partnership_context(db, viewer, partnership_id, "comparison")


def _choice(instrument: str | None, since: str | None, until: str | None) -> dict[str, Any]:
    return {
        "instrument": instrument or None,
        "since": parse_date(since or "", "since"),
        "until": parse_date(until or "", "until"),
    }


def _funnels(result: service.Comparison) -> list[tuple[service.ConstructComparison, str]]:
    analyst = result.viewer_partnership_id is None  # others' points are named for the analysts only
    return [
        (c, page_svg(funnel.chart(c.funnel, label_others=analyst), f"funnel-{c.key}"))
        for c in result.constructs
        if c.funnel.points
    ]


# --- inside a partnership -------------------------------------------------------------------------------
@router.get("/p/{partnership_id}/comparison")
def groups_page(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        choices=service.groups_for_partnership(db, actor=viewer.actor, partnership_id=partnership_id),
        can_join=allowed(viewer.actor, Can.JOIN_COMPARISON, partnership_id),
        can_view=allowed(viewer.actor, Can.VIEW_COMPARISON, partnership_id),
    )
    return render(request, "comparison/groups.html", ctx)


async def _join_form(request: Request, viewer: Viewer = Depends(page_viewer)) -> Viewer:
    """Opting in or out: the partnership's admins only (404 to outsiders, 403 to its other people),
    before the form is read; then the CSRF token."""
    ensure_allowed(viewer.actor, Can.JOIN_COMPARISON, int(request.path_params["partnership_id"]))
    return await check_form_csrf(request, viewer)


@router.post("/p/{partnership_id}/comparison/{group_id}/membership")
def membership(
    request: Request,
    partnership_id: int,
    group_id: int,
    viewer: Viewer = Depends(_join_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    """``choice``: join, leave or named (with ``named`` yes/no)."""
    choice = values.get("choice", "")
    named = values.get("named", "no") == "yes"
    try:
        if choice == "join":
            service.opt_in(
                db, actor=viewer.actor, partnership_id=partnership_id, group_id=group_id, named=named
            )
        elif choice == "leave":
            service.opt_out(db, actor=viewer.actor, partnership_id=partnership_id, group_id=group_id)
        elif choice == "named":
            service.set_named(
                db, actor=viewer.actor, partnership_id=partnership_id, group_id=group_id, named=named
            )
        else:
            raise InputError("choose to join the group, leave it or change how it shows you", field="choice")
        db.commit()
    except InputError as err:
        db.rollback()
        ctx = _context(db, viewer, partnership_id)
        ctx.update(
            choices=service.groups_for_partnership(db, actor=viewer.actor, partnership_id=partnership_id),
            can_join=True,
            can_view=allowed(viewer.actor, Can.VIEW_COMPARISON, partnership_id),
            errors=err.by_field(),
        )
        return render(request, "comparison/groups.html", ctx, status_code=422)
    return redirect(f"/p/{partnership_id}/comparison", "changed")


@router.get("/p/{partnership_id}/comparison/{group_id}")
def partnership_view(
    request: Request,
    partnership_id: int,
    group_id: int,
    instrument: str | None = Query(None, max_length=200),
    since: str | None = Query(None, max_length=20),
    until: str | None = Query(None, max_length=20),
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ensure_allowed(viewer.actor, Can.VIEW_COMPARISON, partnership_id)
    try:
        result = service.comparison(
            db,
            actor=viewer.actor,
            group_id=group_id,
            partnership_id=partnership_id,
            **_choice(instrument, since, until),
        )
    except InputError as err:
        result = service.comparison(db, actor=viewer.actor, group_id=group_id, partnership_id=partnership_id)
        ctx["errors"] = err.by_field()
    ctx.update(result=result, funnels=_funnels(result), base=f"/p/{partnership_id}/comparison/{group_id}")
    return render(request, "comparison/compare.html", ctx, status_code=422 if ctx.get("errors") else 200)


# --- a group's analysts ---------------------------------------------------------------------------------
@router.get("/comparison")
def analysed(
    request: Request, viewer: Viewer = Depends(page_viewer), db: Session = Depends(get_db)
) -> Response:
    groups = service.analysed_groups(db, actor=viewer.actor)
    if not groups:
        raise NotFound("No comparison groups.")
    return render(request, "comparison/analysed.html", {"groups": groups})


@router.get("/comparison/{group_id}")
def group_view(
    request: Request,
    group_id: int,
    instrument: str | None = Query(None, max_length=200),
    since: str | None = Query(None, max_length=20),
    until: str | None = Query(None, max_length=20),
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    errors: dict[str, str] = {}
    try:
        result = service.comparison(
            db, actor=viewer.actor, group_id=group_id, **_choice(instrument, since, until)
        )
    except InputError as err:
        result = service.comparison(db, actor=viewer.actor, group_id=group_id)
        errors = err.by_field()
    due = stored_figures.due(db, today=result.until, partnership_ids=[p.partnership_id for p in result.peers])
    ctx = {
        "result": result,
        "funnels": _funnels(result),
        "base": f"/comparison/{group_id}",
        "errors": errors,
        "due": len(due),
    }
    return render(request, "comparison/group.html", ctx, status_code=422 if errors else 200)


async def _analyst_form(request: Request, viewer: Viewer = Depends(page_viewer)) -> Viewer:
    return await check_form_csrf(request, viewer)


def _refresh_in_background(sessions: sessionmaker[Session], partnership_ids: list[int]) -> None:
    with sessions() as session:
        stored_figures.refresh(session, partnership_ids=partnership_ids)


@router.post("/comparison/{group_id}/refresh")
def group_refresh(
    request: Request,
    group_id: int,
    background: BackgroundTasks,
    viewer: Viewer = Depends(_analyst_form),
    db: Session = Depends(get_db),
) -> Response:
    """Recompute the group's figures that are due (missing, behind their data, or a week old), after the
    answer is sent: a large group takes minutes, and each partnership's figures appear as it is done."""
    service.ensure_analyst(db, viewer.actor, group_id)
    members = service.member_ids(db, group_id)
    due = stored_figures.due(db, today=stored_figures.network.today(), partnership_ids=members)
    if due:
        background.add_task(_refresh_in_background, request.app.state.session_factory, due)
    return redirect(f"/comparison/{group_id}", "refreshing")


@router.get("/comparison/{group_id}/study")
def study_page(
    request: Request, group_id: int, viewer: Viewer = Depends(page_viewer), db: Session = Depends(get_db)
) -> Response:
    group = service.ensure_analyst(db, viewer.actor, group_id)
    try:
        result = service.run_study(db, actor=viewer.actor, group_id=group_id)
        db.commit()
        too_small = None
    except study.StudyTooSmall as exc:
        result, too_small = None, str(exc)
    return render(
        request,
        "comparison/study.html",
        {"group": group, "study": result, "too_small": too_small, "labels": service.PREDICTOR_LABELS},
    )


@router.get("/comparison/{group_id}/extract.{suffix}")
def extract_download(
    group_id: int, suffix: str, viewer: Viewer = Depends(page_viewer), db: Session = Depends(get_db)
) -> Response:
    if suffix not in ("csv", "parquet"):
        raise NotFound("No such file.")
    group = service.ensure_analyst(db, viewer.actor, group_id)
    coarsened = service.research_extract(db, actor=viewer.actor, group_id=group_id)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"extract.{suffix}"
        extract.write_extract(coarsened, path, format=suffix)  # type: ignore[arg-type]
        body = path.read_bytes()
    db.commit()
    media = "text/csv; charset=utf-8" if suffix == "csv" else "application/vnd.apache.parquet"
    safe = "".join(c if c.isalnum() else "-" for c in group.name.lower()).strip("-")[:60] or "group"
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="research-extract-{safe}.{suffix}"',
            "Cache-Control": "no-store",
        },
    )
