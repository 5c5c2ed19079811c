"""A round's results: the dashboard page, its CSV and XLSX exports, and turning recommendations into
actions. Thin: every figure comes from ``results.round_report`` (already suppressed for anonymity), the
charts from ``barometer.charts``; the write is ``actions.adopt_recommendations``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from reticulist.access.policy import Action as Can
from reticulist.access.policy import allowed, ensure_allowed
from reticulist.barometer import charts, results, results_export, scoring
from reticulist.barometer import service as barometer
from reticulist.barometer.actions import KIND_LABELS, Pick, adopt_recommendations, offered, suggestions_for
from reticulist.errors import InputError
from reticulist.register import service as register
from reticulist.web.deps import Viewer, check_form_csrf, get_db, page_viewer
from reticulist.web.pages import in_partnership, partnership_context, posted_form, redirect
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)
DEFAULT_DUE_DAYS = 90  # a suggested due date: one quarter, the usual gap between board meetings


async def adopt_form(request: Request, viewer: Viewer = Depends(page_viewer)) -> Viewer:
    """Adopting makes register actions: run-barometer and edit-register, checked before the form is read
    (outsiders 404, members 403), then the form's CSRF token. The service checks again."""
    partnership_id = int(request.path_params["partnership_id"])
    ensure_allowed(viewer.actor, Can.RUN_BAROMETER, partnership_id)
    ensure_allowed(viewer.actor, Can.EDIT_REGISTER, partnership_id)
    return await check_form_csrf(request, viewer)


def _hidden_words(reason: str | None, threshold: int) -> str:
    return scoring.hidden_words(reason, threshold)


# The page scaling of charts lives with the chart shapes (charts.page_svg), for every capability.
_svg = charts.page_svg


def _profile_svg(report: results.RoundReport) -> str:
    rows = []
    for line in report.lines:
        r = line.result
        if r.suppressed:
            note = f"fewer than {report.threshold}"
        elif r.alpha_flag and r.alpha is not None:
            note = f"alpha {r.alpha:.2f}" + (" (negative)" if r.alpha_negative else "")
        else:
            note = ""
        rows.append(charts.ProfileRow(line.construct.name, r.mean, r.ci_low, r.ci_high, note))
    return _svg(charts.construct_profile(rows), "profile")


def _heatmap_svg(report: results.RoundReport, by: str) -> str:
    breakdown = report.breakdowns[by]
    label = results.DIMENSION_LABELS.get(by, by)
    chart = charts.heatmap(
        breakdown.row_labels,
        report.construct_names(),
        breakdown.cells,  # type: ignore[arg-type]  # scoring.Cell has the .value and .suppressed it reads
        title=f"{label} by construct",
        threshold=report.threshold,
    )
    return _svg(chart, "heatmap").replace('class="chart"', 'class="chart wide"', 1)


def _trend_svg(report: results.RoundReport) -> str | None:
    if report.previous_round_title is None:
        return None
    rows = []
    for line in report.lines:
        t, after = line.trend, line.result.mean
        before = after - t.difference if t and t.difference is not None and after is not None else None
        rows.append(
            charts.TrendRow(
                line.construct.name,
                before,
                after,
                bool(t and t.clear_change),
                t.reading if t else "not in the previous round",
            )
        )
    chart = charts.trend(rows, before_label=report.previous_round_title, after_label=report.round_title)
    return _svg(chart, "trend")


def _check_round(db: Session, viewer: Viewer, partnership_id: int, round_id: int) -> None:
    """Outsiders and rounds of another partnership's URL: not found."""
    in_partnership(barometer.get_round(db, actor=viewer.actor, round_id=round_id), partnership_id)


def _report(db: Session, viewer: Viewer, partnership_id: int, round_id: int) -> results.RoundReport:
    _check_round(db, viewer, partnership_id, round_id)
    return results.round_report(db, actor=viewer.actor, round_id=round_id)


def _results_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    round_id: int,
    *,
    by: str = "organisation",
    errors: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    report = _report(db, viewer, partnership_id, round_id)
    summary = barometer.round_summary(db, actor=viewer.actor, round_id=round_id)
    ctx = partnership_context(db, viewer, partnership_id, "barometer")
    can_adopt = allowed(viewer.actor, Can.RUN_BAROMETER, partnership_id) and allowed(
        viewer.actor, Can.EDIT_REGISTER, partnership_id
    )
    by = by if by in report.breakdowns else next(iter(report.breakdowns), "")
    ctx.update(
        report=report,
        round=summary.round,
        summary=summary,
        k=report.threshold,
        base=f"/p/{partnership_id}/barometer/rounds/{round_id}",
        dimension_labels=results.DIMENSION_LABELS,
        framework_labels=results.FRAMEWORK_LABELS,
        hidden_words=_hidden_words,
        can_adopt=can_adopt,
        errors=errors or {},
        error_items=_error_items(report, errors or {}),
        values=values or {},
    )
    if not report.too_few:
        ctx.update(
            by=by,
            by_label=results.DIMENSION_LABELS.get(by, by),
            by_words=results_export.dimension_words(by),
            breakdown=report.breakdowns.get(by),
            profile_svg=_profile_svg(report),
            heatmap_svg=_heatmap_svg(report, by) if by else None,
            trend_svg=_trend_svg(report),
            suggestions={r.line.key: suggestions_for(r.line.construct) for r in report.recommendations},
            kind_labels=KIND_LABELS,
        )
        if can_adopt:
            ctx.update(
                owners=[
                    (p.id, f"{p.full_name} ({p.organisation.name})")
                    for p in register.list_people(
                        db, actor=viewer.actor, partnership_id=partnership_id, include_ended=False
                    )
                ],
                organisations=[
                    (o.id, o.name)
                    for o in register.list_organisations(
                        db, actor=viewer.actor, partnership_id=partnership_id, include_ended=False
                    )
                ],
                default_due=(date.today() + timedelta(days=DEFAULT_DUE_DAYS)).isoformat(),
            )
    return render(request, "barometer/results.html", ctx, status_code=status_code)


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/results")
def results_page(
    request: Request,
    partnership_id: int,
    round_id: int,
    by: str = "organisation",
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _results_page(request, db, viewer, partnership_id, round_id, by=by)


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/results.csv")
def results_csv(
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    report = _report(db, viewer, partnership_id, round_id)
    content = results_export.to_csv(results_export.export_tables(report))
    return _download(content, "text/csv; charset=utf-8", f"barometer-round-{round_id}-results.csv")


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/results.xlsx")
def results_xlsx(
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    report = _report(db, viewer, partnership_id, round_id)
    content = results_export.to_xlsx(results_export.export_tables(report))
    return _download(
        content,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"barometer-round-{round_id}-results.xlsx",
    )


FIELD_WORDS = {
    "suggestion": ("pick", "Suggestion"),
    "owner_person_id": ("owner", "Owner"),
    "organisation_id": ("organisation", "Organisation"),
    "due_on": ("due", "Due date"),
}


def _error_items(report: results.RoundReport, errors: dict[str, Any]) -> list[tuple[str, str]]:
    """The error summary's links: each names the suggestion and the field, and jumps to its control."""
    suggestions = offered(report)
    items = []
    for key, problems in errors.items():
        for name, message in problems.items():
            found = suggestions.get(key)
            if key == "_form" or found is None:
                what = "Suggestions" if key == "_form" else f"Suggestion {key}"
                items.append(("#recommendations", f"{what}: {message}"))
                continue
            control, words = FIELD_WORDS.get(name, ("pick", name))
            text = found.text if len(found.text) <= 60 else found.text[:59].rstrip() + "…"
            items.append((f"#f-{control}-{key}", f"{words} for “{text}”: {message}"))
    return items


def _problems_by_pick(err: InputError) -> dict[str, Any]:
    """Problems named picks.<key>[.<field>] as {key: {field: message}}; others under "_form"."""
    out: dict[str, Any] = {}
    for problem in err.problems:
        parts = problem.field.split(".")
        if parts[0] == "picks" and len(parts) >= 2:
            out.setdefault(parts[1], {})[parts[2] if len(parts) > 2 else "suggestion"] = problem.message
        else:
            out.setdefault("_form", {})[problem.field or "picks"] = problem.message
    return out


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/results/actions")
def adopt(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(adopt_form),
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
) -> Response:
    ticked = [str(v) for v in form.getlist("pick")]
    values = {key: str(value) for key, value in form.multi_items() if key not in ("csrf_token", "pick")}
    picks = [
        Pick(
            suggestion=key,
            owner_person_id=values.get(f"owner-{key}"),
            organisation_id=values.get(f"organisation-{key}"),
            due_on=values.get(f"due-{key}"),
        )
        for key in ticked
    ]
    _check_round(db, viewer, partnership_id, round_id)
    try:
        adopt_recommendations(db, actor=viewer.actor, round_id=round_id, picks=picks)
    except InputError as err:
        db.rollback()
        values["picks"] = ticked
        return _results_page(
            request,
            db,
            viewer,
            partnership_id,
            round_id,
            errors=_problems_by_pick(err),
            values=values,
            status_code=422,
        )
    db.commit()
    return redirect(f"/p/{partnership_id}/barometer/rounds/{round_id}/results", "actions-adopted")
