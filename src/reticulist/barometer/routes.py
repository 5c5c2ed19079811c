"""Barometer pages for the partnership: rounds, invitations, the open link and instruments. Thin: parse
the form, call one service function, render. Members read; managers run rounds (checked in the service,
and by ``barometer_form`` before a form is read)."""

from __future__ import annotations

import base64
from datetime import date, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from reticulist.access.policy import Action as Can
from reticulist.access.policy import allowed, ensure_allowed
from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.models import DEFAULT_THRESHOLD, MIN_THRESHOLD
from reticulist.errors import InputError
from reticulist.network import reported
from reticulist.register import schemas as s
from reticulist.settings import Settings
from reticulist.web.deps import Viewer, form_for, get_db, get_settings, page_viewer
from reticulist.web.pages import form_values, in_partnership, partnership_context, posted_form, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)
barometer_form = form_for(Can.RUN_BAROMETER)
MAX_INSTRUMENT_BYTES = 2 * 1024 * 1024


def _context(db: Session, viewer: Viewer, partnership_id: int) -> dict:
    ctx = partnership_context(db, viewer, partnership_id, "barometer")
    ctx.update(
        can_run=allowed(viewer.actor, Can.RUN_BAROMETER, partnership_id),
        status_labels=barometer.STATUS_LABELS,
        threshold_min=MIN_THRESHOLD,
    )
    return ctx


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _no_store(response: Response) -> Response:
    """Pages that show survey links once: not kept in the browser's cache or history."""
    response.headers["Cache-Control"] = "no-store"
    return response


# --- rounds ------------------------------------------------------------------------------------------
@router.get("/p/{partnership_id}/barometer")
def rounds(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        rounds=barometer.list_rounds(db, actor=viewer.actor, partnership_id=partnership_id),
        instruments=barometer.list_instruments(db, actor=viewer.actor, partnership_id=partnership_id),
    )
    return render(request, "barometer/rounds.html", ctx)


def _round_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    values: dict,
    errors: dict,
    found: object | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        values=values,
        errors=errors,
        round=found,
        network_sections=list(barometer.NETWORK_SECTION_LABELS.items()),
        instruments=[
            (c.ref, c.label)
            for c in barometer.list_instruments(db, actor=viewer.actor, partnership_id=partnership_id)
        ],
    )
    return render(request, "barometer/round_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/barometer/new")
def round_new(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.RUN_BAROMETER, partnership_id)
    choices = barometer.list_instruments(db, actor=viewer.actor, partnership_id=partnership_id)
    start = date.today()
    values = {
        "instrument": choices[0].ref if choices else "",
        "opens_on": start.isoformat(),
        "closes_on": (start + timedelta(days=28)).isoformat(),
        "anonymity_threshold": str(DEFAULT_THRESHOLD),
        "network_section": "none",
    }
    return _round_form(request, db, viewer, partnership_id, values=values, errors={})


@router.post("/p/{partnership_id}/barometer/new")
def round_create(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(barometer_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    try:
        found = barometer.open_round(
            db, actor=viewer.actor, partnership_id=partnership_id, data=s.parse(barometer.RoundCreate, values)
        )
    except InputError as err:
        return _round_form(
            request, db, viewer, partnership_id, values=values, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/barometer/rounds/{found.id}", "round-opened")


def _round_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    round_id: int,
    *,
    errors: dict | None = None,
    values: dict | None = None,
    status_code: int = 200,
) -> Response:
    summary = barometer.round_summary(db, actor=viewer.actor, round_id=round_id)
    in_partnership(summary.round, partnership_id)
    ctx = _context(db, viewer, partnership_id)
    ctx.update(summary=summary, round=summary.round, errors=errors or {}, values=values or {})
    try:
        me = reported.account_person(db, actor=viewer.actor, partnership_id=partnership_id)
    except reported.NetworkStepUnavailable:
        me = None  # several people have the account's address: the step itself says so
    ctx.update(
        network_section_label=barometer.NETWORK_SECTION_LABELS.get(summary.round.network_section, ""),
        network_completed=reported.completed_count(db, actor=viewer.actor, round_id=round_id),
        release=results.release_summary(db, actor=viewer.actor, round_id=round_id),
        breakdowns_published=results.publishes_breakdowns(summary.round.had_open_link),
        me=me,
        register_people=barometer.current_people(db, partnership_id)
        if allowed(viewer.actor, Can.RUN_BAROMETER, partnership_id)
        else [],
        ticked={n for v in (values or {}).get("people", []) if (n := s.record_id_or_none(v)) is not None},
    )
    return render(request, "barometer/round.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}")
def round_page(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _round_page(request, db, viewer, partnership_id, round_id)


def _fetch(db: Session, viewer: Viewer, partnership_id: int, round_id: int):  # type: ignore[no-untyped-def]
    return in_partnership(barometer.get_round(db, actor=viewer.actor, round_id=round_id), partnership_id)


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/edit")
def round_edit(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    found = _fetch(db, viewer, partnership_id, round_id)
    ensure_allowed(viewer.actor, Can.RUN_BAROMETER, partnership_id)
    values = barometer.RoundUpdate.model_validate(found, from_attributes=True).model_dump(mode="json")
    return _round_form(request, db, viewer, partnership_id, values=values, errors={}, found=found)


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/edit")
def round_update(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(barometer_form),
    values: dict[str, str] = Depends(form_values),
    db: Session = Depends(get_db),
) -> Response:
    found = _fetch(db, viewer, partnership_id, round_id)
    try:
        barometer.update_round(
            db, actor=viewer.actor, round_id=round_id, data=s.parse(barometer.RoundUpdate, values)
        )
    except InputError as err:
        db.rollback()
        return _round_form(
            request,
            db,
            viewer,
            partnership_id,
            values=values,
            errors=err.by_field(),
            found=found,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/barometer/rounds/{round_id}", "changed")


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/close")
def round_close(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(barometer_form),
    db: Session = Depends(get_db),
) -> Response:
    _fetch(db, viewer, partnership_id, round_id)
    try:
        barometer.close_round(db, actor=viewer.actor, round_id=round_id)
    except InputError as err:
        db.rollback()
        return _round_page(
            request, db, viewer, partnership_id, round_id, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/barometer/rounds/{round_id}", "round-closed")


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/release")
def round_release(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(barometer_form),
    db: Session = Depends(get_db),
) -> Response:
    """Release a closed round's results, once (plain def: scoring and the audit run in a worker thread)."""
    _fetch(db, viewer, partnership_id, round_id)
    try:
        results.release_results(db, actor=viewer.actor, round_id=round_id)
    except InputError as err:
        db.rollback()
        return _round_page(
            request, db, viewer, partnership_id, round_id, errors=err.by_field(), status_code=422
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/barometer/rounds/{round_id}/results", "results-released")


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/invitations")
def invitations_issue(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(barometer_form),
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    values: dict = {"invitees": str(form.get("invitees", "") or "")}
    values["people"] = [str(v) for v in form.getlist("people")]
    if form.get("everyone"):  # "Links for everyone in the register"
        values["people"] = [str(p.id) for p in barometer.current_people(db, partnership_id)]
    found = _fetch(db, viewer, partnership_id, round_id)
    try:
        issued = barometer.issue_invitations(
            db,
            actor=viewer.actor,
            round_id=round_id,
            invitees=values["invitees"],
            person_ids=values["people"],
            secret_key=settings.secret_key,
        )
    except InputError as err:
        db.rollback()
        problems: dict[str, str] = {}
        for problem in err.problems:
            key = "people" if problem.field == "people" else "invitees"
            problems[key] = "; ".join(x for x in (problems.get(key), problem.message) if x)
        return _round_page(
            request, db, viewer, partnership_id, round_id, errors=problems, values=values, status_code=422
        )
    db.commit()
    base = _base_url(request)
    # The mail-merge file is made now, from the tokens in hand, and travels inside this page.
    data = base64.b64encode(barometer.invitations_csv(issued, base).encode("utf-8")).decode("ascii")
    ctx = _context(db, viewer, partnership_id)
    ctx.update(
        round=found,
        issued=[
            (
                i,
                barometer.survey_url(base, i.token),
                barometer.network_url(base, i.network_token) if i.network_token else "",
            )
            for i in issued
        ],
        any_network=any(i.network_token for i in issued),
        csv_href=f"data:text/csv;charset=utf-8;base64,{data}",
        csv_name=f"barometer-round-{found.id}-invitations.csv",
    )
    return _no_store(render(request, "barometer/invitations_issued.html", ctx))


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/open-link")
def open_link_set(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(barometer_form),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    found = _fetch(db, viewer, partnership_id, round_id)
    replaced = found.open_link_hash is not None
    try:
        token = barometer.set_open_link(
            db, actor=viewer.actor, round_id=round_id, secret_key=settings.secret_key
        )
    except InputError as err:
        db.rollback()
        return _round_page(
            request, db, viewer, partnership_id, round_id, errors=err.by_field(), status_code=422
        )
    db.commit()
    ctx = _context(db, viewer, partnership_id)
    ctx.update(round=found, link=barometer.survey_url(_base_url(request), token), replaced=replaced)
    return _no_store(render(request, "barometer/open_link.html", ctx))


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/open-link/remove")
def open_link_remove(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(barometer_form),
    db: Session = Depends(get_db),
) -> Response:
    _fetch(db, viewer, partnership_id, round_id)
    barometer.remove_open_link(db, actor=viewer.actor, round_id=round_id)
    db.commit()
    return redirect(f"/p/{partnership_id}/barometer/rounds/{round_id}", "link-removed")


# --- instruments -------------------------------------------------------------------------------------
def _instrument_form(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    *,
    problems: list,
    status_code: int = 200,
) -> Response:
    ctx = _context(db, viewer, partnership_id)
    ctx.update(problems=problems, errors={"file": "see the problems listed above"} if problems else {})
    return render(request, "barometer/instrument_form.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/barometer/instruments/new")
def instrument_new(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.RUN_BAROMETER, partnership_id)
    return _instrument_form(request, db, viewer, partnership_id, problems=[])


@router.post("/p/{partnership_id}/barometer/instruments/new")
def instrument_load(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(barometer_form),
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
) -> Response:
    upload = form.get("file")
    content = b""
    filename = "instrument file"
    if upload is not None and not isinstance(upload, str):
        filename = upload.filename or filename
        content = upload.file.read(MAX_INSTRUMENT_BYTES + 1)  # a spooled file, read in this worker thread
    try:
        if len(content) > MAX_INSTRUMENT_BYTES:
            raise InputError(
                f"{filename} is larger than 2 MB; an instrument file is much smaller", field="file"
            )
        row = barometer.load_instrument(
            db, actor=viewer.actor, partnership_id=partnership_id, text=content, filename=filename
        )
    except InputError as err:
        db.rollback()
        return _instrument_form(request, db, viewer, partnership_id, problems=err.problems, status_code=422)
    db.commit()
    return redirect(f"/p/{partnership_id}/barometer/instruments/{row.key}@{row.version}", "instrument-loaded")


@router.get("/p/{partnership_id}/barometer/instruments/{instrument_ref}")
def instrument_page(
    request: Request,
    partnership_id: int,
    instrument_ref: str,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    instrument = barometer.get_instrument(
        db, actor=viewer.actor, partnership_id=partnership_id, ref=instrument_ref
    )
    ctx = _context(db, viewer, partnership_id)
    ctx.update(instrument=instrument)
    return render(request, "barometer/instrument.html", ctx)
