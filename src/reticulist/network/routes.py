"""Network pages: the whole network with its tables (boundary spanners, silos, key-person risks, trust and
value), one person's figures, the network at two dates side by side, and the per-person figures as CSV or
Excel. Thin: parse the query, call ``network.analysis``, render. The choice of ties (sources, weights,
dates, minimum strength) is a GET form in the map's parameters, so a link to the map keeps it.

Names: ``network_for`` labels people by name only for VIEW_NETWORK_NAMES (managers, admins). Members see
"Organisation · Profession #k" everywhere and reach a person's page by an opaque key (``n12``: the
person's position in the network shown), never by register number; a register number in that address
shows members a page saying so, the same for any number, so it reveals nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.access.policy import NotFound
from reticulist.errors import FieldProblem, InputError
from reticulist.network import analysis as a
from reticulist.network import export
from reticulist.network import service as network
from reticulist.register.schemas import whole_number
from reticulist.web.deps import Viewer, get_db, page_viewer
from reticulist.web.pages import partnership_context
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)

FIELD_LABELS = {
    "sources": "Ties from",
    "since": "From",
    "as_of": "Up to",
    "min_weight": "Minimum tie strength",
    "from": "Earlier date",
    "to": "Later date",
    "window": "Window",
    **{f"w_{name}": f"Weight of {label.split(' (')[0].lower()}" for name, label in a.SOURCE_LABELS.items()},
}


def _values(request: Request) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        values.setdefault(key, []).append(value)
    return values


def _form(choice: a.NetworkChoice | None, values: dict[str, list[str]]) -> dict[str, Any]:
    """What the choice form shows: the choice made, or on a bad choice exactly what was sent."""
    if choice is not None:
        shown = choice.form_values()
        chosen = set(choice.sources)
    else:

        def one(key: str) -> str:
            return (values.get(key) or [""])[-1]

        shown = {key: one(key) for key in ("since", "as_of", "min_weight")}
        shown |= {f"w_{name}": one(f"w_{name}") or "1" for name in network.known_sources()}
        chosen = {n.strip() for v in values.get("sources", []) for n in v.split(",") if n.strip()}
    return {
        "sources": [
            {
                "name": name,
                "label": a.SOURCE_LABELS.get(name, name),
                "checked": name in chosen,
                "weight": shown[f"w_{name}"],
            }
            for name in network.known_sources()
        ],
        "since": shown["since"],
        "as_of": shown["as_of"],
        "min_weight": shown["min_weight"],
    }


def _choice(
    db: Session, viewer: Viewer, partnership_id: int, values: dict[str, list[str]]
) -> a.NetworkChoice:
    default = a.default_choice(db, actor=viewer.actor, partnership_id=partnership_id, today=date.today())
    return a.parse_choice(values, default=default)


def _problems(err: InputError) -> list[tuple[str, str, str]]:
    """(field, label, message) for the error summary, in the users' words."""
    out = []
    for problem in err.problems:
        field = {"later": "to", "earlier": "from", "window_days": "window"}.get(problem.field, problem.field)
        if field.startswith("sources."):
            field = "w_" + field.split(".", 1)[1]
        out.append((field, FIELD_LABELS.get(field, field.replace("_", " ").capitalize()), problem.message))
    return out


# --- the network ---------------------------------------------------------------------------------------
@router.get("/p/{partnership_id}/network")
def network_page(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "network")
    values = _values(request)
    choice = view = None
    try:
        choice = _choice(db, viewer, partnership_id, values)
        view = a.network_view(db, actor=viewer.actor, partnership_id=partnership_id, choice=choice)
    except InputError as err:
        ctx.update(problems=_problems(err), form=_form(None, values), view=None, choice=None)
        return render(request, "network/network.html", ctx, status_code=422)
    ctx.update(
        problems=[],
        form=_form(choice, values),
        view=view,
        choice=choice,
        query=choice.query(),
        role_labels=a.ROLE_LABELS,
        roles=view.roles,
        key_risks_shown=a.KEY_RISKS_SHOWN,
    )
    return render(request, "network/network.html", ctx)


# --- one person ----------------------------------------------------------------------------------------
@router.get("/p/{partnership_id}/network/people/{person_id}")
def person_page(
    request: Request,
    partnership_id: int,
    person_id: str,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "network")
    values = _values(request)
    try:
        choice = _choice(db, viewer, partnership_id, values)
        view = a.network_view(db, actor=viewer.actor, partnership_id=partnership_id, choice=choice)
    except InputError as err:
        ctx.update(problems=_problems(err), form=_form(None, values), view=None, choice=None)
        return render(request, "network/network.html", ctx, status_code=422)
    try:
        index = a.find_person(view, person_id)
    except a.NoSuchPerson:
        if person_id.isdigit() and not view.names_shown:
            # A register number: members reach people here only from the tables, by their place in them.
            ctx.update(query=choice.query())
            return render(request, "network/person_by_number.html", ctx)
        raise NotFound("No such person in this network.") from None
    ctx.update(
        page=a.person_view(view, index),
        view=view,
        choice=choice,
        query=choice.query(),
        role_labels=a.ROLE_LABELS,
        roles=view.roles,
        source_labels=a.SOURCE_LABELS,
    )
    return render(request, "network/person.html", ctx)


# --- change between two dates --------------------------------------------------------------------------
def _change_dates(values: dict[str, list[str]], today: date) -> tuple[date, date, int | None]:
    def one(key: str) -> str:
        return (values.get(key) or [""])[-1].strip()

    problems: list[FieldProblem] = []
    found: dict[str, date | None] = {}
    for field in ("from", "to"):
        try:
            found[field] = a.parse_date(one(field), field)
        except InputError as exc:
            problems.extend(exc.problems)
    window: int | None = a.DEFAULT_WINDOW_DAYS
    if "window" in values:
        text = one("window")
        if not text:
            window = None
        elif not whole_number(text, 365 * 200):
            problems.append(
                FieldProblem("window", f'"{text[:40]}" is not a number of days above 0 (blank: all history)')
            )
        else:
            window = int(text)
    later = found.get("to") or today
    earlier = found.get("from") or later - timedelta(days=365)
    if "to" in found and later > today:
        problems.append(FieldProblem("to", f"{later.isoformat()} is in the future"))
    if "from" in found and "to" in found and earlier >= later:
        problems.append(
            FieldProblem("from", f"{earlier.isoformat()} is not before the later date {later.isoformat()}")
        )
    if problems:
        raise InputError(problems=problems)
    return earlier, later, window


@router.get("/p/{partnership_id}/network/change")
def change_page(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "network")
    values = _values(request)
    raw = {key: (values.get(key) or [""])[-1] for key in ("from", "to", "window")}
    try:
        earlier, later, window = _change_dates(values, date.today())
        # The change page takes the sources, weights and minimum strength of the choice; its own dates.
        choice = _choice(
            db, viewer, partnership_id, {k: v for k, v in values.items() if k not in ("since", "as_of")}
        )
        change = a.change_view(
            db,
            actor=viewer.actor,
            partnership_id=partnership_id,
            sources=choice.sources,
            earlier=earlier,
            later=later,
            window_days=window,
            min_weight=choice.min_weight,
        )
    except InputError as err:
        ctx.update(problems=_problems(err), change=None, raw=raw, form=_form(None, values))
        return render(request, "network/change.html", ctx, status_code=422)
    ctx.update(
        problems=[],
        change=change,
        choice=choice,
        form=_form(choice, values),
        raw={
            "from": earlier.isoformat(),
            "to": later.isoformat(),
            "window": "" if window is None else str(window),
        },
        query=choice.query(),
        source_labels=a.SOURCE_LABELS,
    )
    return render(request, "network/change.html", ctx)


# --- downloads -----------------------------------------------------------------------------------------
def _download(request: Request, db: Session, viewer: Viewer, partnership_id: int, kind: str) -> Response:
    partnership_context(db, viewer, partnership_id, "network")
    values = _values(request)
    try:
        choice = _choice(db, viewer, partnership_id, values)
        view = a.network_view(
            db, actor=viewer.actor, partnership_id=partnership_id, choice=choice, spanners=None
        )
    except InputError as err:
        message = "; ".join(f"{label}: {text}" for _, label, text in _problems(err))
        return render(
            request,
            "error.html",
            {"title": "Nothing to download", "message": f"The figures were not computed: {message}"},
            status_code=422,
        )
    table = a.people_table(view)
    name = f"network-people-{view.choice.as_of.isoformat()}.{kind}"
    if kind == "csv":
        content, media = export.to_csv(table), "text/csv; charset=utf-8"
    else:
        content = export.to_xlsx(table, export.about(view))
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.get("/p/{partnership_id}/network/people.csv")
def people_csv(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _download(request, db, viewer, partnership_id, "csv")


@router.get("/p/{partnership_id}/network/people.xlsx")
def people_xlsx(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _download(request, db, viewer, partnership_id, "xlsx")
