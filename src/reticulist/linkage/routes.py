"""Linkage pages, for the linkage role only (to everyone else, managers included, they do not exist: 404):
the overview (sources, models, runs), a source's data quality, a model's match weights, the review queue
and a pair side by side, the known children and a child's single view, and linkage by group.

Loading, training and running are the command line's (`reticulist linkage ...`): they take minutes on a
county's extracts and belong to whoever holds the files. Every page that shows a child's records is an
audited read (linkage/review.py, linkage/single_view.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from reticulist.access.policy import Action as Can
from reticulist.barometer.charts import page_svg as _svg
from reticulist.errors import InputError
from reticulist.linkage import charts, model, review, runs, single_view, sources
from reticulist.linkage.extracts import FIELD_WORDS
from reticulist.linkage.models import LinkageModel
from reticulist.linkage.sources import ensure
from reticulist.web.deps import Viewer, check_form_csrf, get_db, page_viewer
from reticulist.web.pages import form_values, partnership_context, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)


async def linkage_form(request: Request, viewer: Viewer = Depends(page_viewer)) -> Viewer:
    """A review form: the linkage role only (everyone else gets 404 before the form is read), with the
    session's CSRF token."""
    ensure(viewer.actor, Can.REVIEW_LINKS, int(request.path_params["partnership_id"]))
    return await check_form_csrf(request, viewer)


def _context(db: Session, viewer: Viewer, partnership_id: int) -> dict[str, Any]:
    ensure(viewer.actor, Can.REVIEW_LINKS, partnership_id)
    return partnership_context(db, viewer, partnership_id, "linkage")


@router.get("/p/{partnership_id}/linkage")
def overview(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    every = runs.runs(db, actor=viewer.actor, partnership_id=partnership_id)
    queue = review.queue(db, actor=viewer.actor, partnership_id=partnership_id)
    known, unlinked = single_view.known_children(db, actor=viewer.actor, partnership_id=partnership_id)
    trained = runs.models(db, actor=viewer.actor, partnership_id=partnership_id)
    ctx.update(
        sources=sources.sources(db, actor=viewer.actor, partnership_id=partnership_id),
        models=trained,
        runs=every[:10],
        latest=every[0] if every else None,
        models_by_id={m.id: m.version for m in trained},
        waiting=queue.waiting,
        known=len(known),
        unlinked=len(unlinked),
    )
    return render(request, "linkage/overview.html", ctx)


@router.get("/p/{partnership_id}/linkage/sources/{source_id}")
def source_quality(
    request: Request,
    partnership_id: int,
    source_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx["source"] = sources.source(db, actor=viewer.actor, partnership_id=partnership_id, source_id=source_id)
    ctx["field_words"] = FIELD_WORDS
    return render(request, "linkage/source.html", ctx)


def _bars(trained: LinkageModel) -> list[charts.Bar]:
    return [charts.Bar(w.comparison, w.level, w.weight) for w in model.match_weights(trained.parameters)]


@router.get("/p/{partnership_id}/linkage/models/{model_id}")
def model_page(
    request: Request,
    partnership_id: int,
    model_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    trained = runs.model_by_id(db, actor=viewer.actor, partnership_id=partnership_id, model_id=model_id)
    prior = model.prior_weight(trained.parameters)
    ctx.update(
        model=trained,
        weights=model.match_weights(trained.parameters),
        prior=prior,
        prior_probability=trained.parameters["probability_two_random_records_match"],
        chart_svg=_svg(charts.match_weights_chart(_bars(trained), prior=prior), "weights"),
    )
    return render(request, "linkage/model.html", ctx)


@router.get("/p/{partnership_id}/linkage/review")
def review_queue(
    request: Request,
    partnership_id: int,
    page: int = Query(1, ge=1, le=1_000_000),
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx["queue"] = review.queue(db, actor=viewer.actor, partnership_id=partnership_id, page=page)
    return render(request, "linkage/queue.html", ctx)


def _pair_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    pair_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    view = review.pair_view(db, actor=viewer.actor, partnership_id=partnership_id, pair_id=pair_id)
    bars = [charts.Bar(e.comparison, e.level, e.weight) for e in view.evidence]
    ctx.update(
        view=view,
        waterfall_svg=_svg(charts.waterfall_chart(bars, prior=view.prior), "waterfall"),
        fields=review.SHOWN,
        field_words=FIELD_WORDS,
        decisions=review.DECISION_WORDS,
        values=values or {},
        errors=errors or {},
    )
    db.commit()  # the audited look
    return render(request, "linkage/pair.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/linkage/review/{pair_id}")
def pair_page(
    request: Request,
    partnership_id: int,
    pair_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _pair_page(request, db, viewer, partnership_id, pair_id)


@router.post("/p/{partnership_id}/linkage/review/{pair_id}")
def pair_decide(
    request: Request,
    partnership_id: int,
    pair_id: int,
    viewer: Viewer = Depends(linkage_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        review.decide_pair(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            pair_id=pair_id,
            decision=values.get("decision", ""),
            note=values.get("note", ""),
        )
        following = review.next_pair(db, partnership_id, pair_id)
        db.commit()
    except InputError as err:
        db.rollback()
        return _pair_page(
            request,
            db,
            viewer,
            partnership_id,
            pair_id,
            values=values,
            errors=err.by_field(),
            status_code=422,
        )
    if following is not None:
        return RedirectResponse(
            f"/p/{partnership_id}/linkage/review/{following}?done=decided", status_code=303
        )
    return redirect(f"/p/{partnership_id}/linkage/review", "decided")


@router.get("/p/{partnership_id}/linkage/children")
def children_page(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    known, unlinked = single_view.known_children(db, actor=viewer.actor, partnership_id=partnership_id)
    ctx.update(known=known, unlinked=unlinked)
    return render(request, "linkage/children.html", ctx)


def _child_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    member_id: int,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    view = single_view.child_view(db, actor=viewer.actor, partnership_id=partnership_id, member_id=member_id)
    source_of = {r.record_id: r.source for r in view.records}
    ctx.update(
        view=view,
        source_of=source_of,
        agencies=[
            (s.name, s.name)
            for s in sources.sources(db, actor=viewer.actor, partnership_id=partnership_id)
            if s.kind == "agency"
        ],
        fields=review.SHOWN,
        field_words=FIELD_WORDS,
        decisions=review.DECISION_WORDS,
        values=values or {},
        errors=errors or {},
    )
    db.commit()  # the audited look
    return render(request, "linkage/child.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/linkage/children/{member_id}")
def child_page(
    request: Request,
    partnership_id: int,
    member_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _child_page(request, db, viewer, partnership_id, member_id)


@router.post("/p/{partnership_id}/linkage/children/{member_id}/records/{record_id}")
def child_attach(
    request: Request,
    partnership_id: int,
    member_id: int,
    record_id: int,
    viewer: Viewer = Depends(linkage_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    """Attach an agency record to the child (``decision=same``) or take it off (``decision=different``)."""
    decision = values.get("decision", "")
    try:
        if decision not in ("same", "different"):
            raise InputError("choose to attach the record or to take it off", field="decision")
        single_view.attach(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            member_id=member_id,
            record_id=record_id,
            same=decision == "same",
            note=values.get(f"note_{record_id}", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        errors = {f"{k}_{record_id}": v for k, v in err.by_field().items()}
        return _child_page(
            request, db, viewer, partnership_id, member_id, values=values, errors=errors, status_code=422
        )
    return redirect(f"/p/{partnership_id}/linkage/children/{member_id}", "decided")


@router.post("/p/{partnership_id}/linkage/children/{member_id}/attach")
def child_attach_by_key(
    request: Request,
    partnership_id: int,
    member_id: int,
    viewer: Viewer = Depends(linkage_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    """Attach an agency record named by its source and the agency's own record id."""
    try:
        record_id = single_view.record_by_key(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            source=values.get("source", ""),
            record_key=values.get("record_key", ""),
        )
        single_view.attach(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            member_id=member_id,
            record_id=record_id,
            same=True,
            note=values.get("note", ""),
        )
        db.commit()
    except InputError as err:
        db.rollback()
        return _child_page(
            request,
            db,
            viewer,
            partnership_id,
            member_id,
            values=values,
            errors=err.by_field(),
            status_code=422,
        )
    return redirect(f"/p/{partnership_id}/linkage/children/{member_id}", "decided")


@router.get("/p/{partnership_id}/linkage/groups")
def groups_page(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx["tables"] = single_view.by_group(db, actor=viewer.actor, partnership_id=partnership_id)
    ctx["run"] = runs.latest_run(db, partnership_id)
    return render(request, "linkage/groups.html", ctx)
