"""The network step of a barometer round: the named, NOT anonymous questions "who do you work with?".

Two doors, each bound to one register person by its credential (never by a form field):

- ``/n/{token}``: a personal network link, the second link of an invitation issued for a register person.
  No login, no cookie; every form carries a token bound to the link. Pages are not cached and send no
  referrer (the address holds the token).
- ``/p/{id}/barometer/rounds/{round}/network``: a signed-in account whose email address is a current
  person's in the register (for example someone who answered through the open link).

The survey's own pages (``/s/{token}``) never link here, so the step is not taken in the same visit as
the anonymous answers. Stateless between the two pages: the picks travel in the form.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from reticulist.access.policy import Action as Can
from reticulist.errors import InputError
from reticulist.network import reported
from reticulist.register.schemas import record_id_or_none, whole_number
from reticulist.settings import Settings
from reticulist.web.deps import Viewer, form_for, get_db, get_settings, page_viewer
from reticulist.web.pages import in_partnership, posted_form
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)
step_form = form_for(Can.VIEW_RESULTS)
UNAVAILABLE_STATUS = {
    "unknown": 404,
    "closed": 410,
    "scheduled": 403,
    "no-section": 404,
    "not-in-register": 403,
    "no-person": 403,
    "ambiguous": 409,
}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _go(url: str) -> Response:
    return _private(RedirectResponse(url, status_code=303))


def _unavailable(
    request: Request,
    exc: reported.NetworkStepUnavailable,
    extra: dict | None = None,
    status_code: int | None = None,
) -> Response:
    return _private(
        render(
            request,
            "network/step_unavailable.html",
            {"reason": exc.reason, "round": exc.round, **(extra or {})},
            status_code=status_code or UNAVAILABLE_STATUS[exc.reason],
        )
    )


class _Door:
    """Where a step's pages post to and what their forms carry: the link's form token, or the session's
    CSRF token (and the viewer, for the page header)."""

    def __init__(self, base: str, hidden: dict[str, str], extra: dict | None = None, back: str = "") -> None:
        self.base = base
        self.hidden = hidden
        self.extra = extra or {}
        self.back = back

    def page(
        self,
        request: Request,
        step: reported.NetworkStep,
        name: str,
        status_code: int = 200,
        **values: object,
    ) -> Response:
        ctx = {
            "step": step,
            "round": step.round,
            "base": self.base,
            "hidden": self.hidden,
            "back": self.back,
            "what": "person" if step.mode == "people" else "organisation",
            "max_picks": reported.MAX_PICKS,
            "questions": reported.QUESTIONS,
            "errors": {},
            **self.extra,
            **values,
        }
        return _private(render(request, f"network/{name}", ctx, status_code=status_code))

    def choose_page(
        self,
        request: Request,
        step: reported.NetworkStep,
        *,
        picks: list[str] | None = None,
        errors: dict | None = None,
        status_code: int = 200,
    ) -> Response:
        picks = list(picks or [])
        rows = min(reported.MAX_PICKS, max(reported.PICK_ROWS, len(picks)))
        picks += [""] * (rows - len(picks))
        return self.page(request, step, "step_choose.html", status_code, picks=picks, errors=errors or {})


def _picks(fields: dict[str, str]) -> list[str]:
    numbered = sorted(
        (number, v)
        for k, v in fields.items()
        if k.startswith("pick-") and (number := whole_number(k[5:], 10**6)) is not None
    )
    return [v for _, v in numbered]


def _chosen(door: _Door, request: Request, step: reported.NetworkStep, values: dict[str, str]) -> Response:
    """The choose page posted: more rows, or the picks checked and the rating page."""
    picks = _picks(values)
    if values.get("action") == "more":
        filled = [p for p in picks if p.strip()]
        picks = filled + [""] * min(reported.PICK_ROWS, reported.MAX_PICKS - len(filled))
        return door.choose_page(request, step, picks=picks)
    try:
        chosen = reported.choose(step=step, picks=picks)
    except InputError as err:
        return door.choose_page(request, step, picks=picks, errors=err.by_field(), status_code=422)
    return door.page(request, step, "step_rate.html", chosen=chosen, values={})


def _rated(
    door: _Door,
    request: Request,
    db: Session,
    step: reported.NetworkStep,
    values: dict[str, str],
) -> Response:
    """The rating page posted: back to the choice, or the ties stored for the step's own person."""
    count_text = values.get("count", "")
    count = min(whole_number(count_text, reported.MAX_PICKS + 1) or 0, reported.MAX_PICKS + 1)
    ties = [
        {"to": values.get(f"tie-{n}-to", ""), **{f: values.get(f"tie-{n}-{f}", "") for f in reported.FIELDS}}
        for n in range(1, count + 1)
    ]
    targets = [step.target(to) if (to := record_id_or_none(x["to"])) is not None else None for x in ties]
    if values.get("action") == "back":
        return door.choose_page(request, step, picks=[c.label for c in targets if c is not None])
    try:
        reported.record_reported_ties(db, step=step, ties=ties)
    except InputError as err:
        db.rollback()
        if not ties or any(c is None for c in targets):
            # The hidden picks were tampered with or have gone: start the choice again.
            return door.choose_page(request, step, errors=err.by_field(), status_code=422)
        chosen = reported.Chosen(respondent=step.respondent, targets=[c for c in targets if c is not None])
        return door.page(
            request, step, "step_rate.html", 422, chosen=chosen, values=values, errors=err.by_field()
        )
    db.commit()
    return _go(f"{door.base}/sent")


# --- a personal network link ---------------------------------------------------------------------------
def _link_door(token: str, secret_key: str) -> _Door:
    return _Door(f"/n/{token}", {"form_token": reported.network_form_token(secret_key, token)})


def _link_form(form: FormData, secret_key: str, token: str) -> dict[str, str] | None:
    """The posted fields, or None if the form token does not match the link."""
    sent = str(form.get("form_token", ""))
    if not hmac.compare_digest(sent.encode(), reported.network_form_token(secret_key, token).encode()):
        return None
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def _expired(request: Request, token: str) -> Response:
    return _private(
        render(request, "barometer/survey_form_expired.html", {"token": token, "again": f"/n/{token}"}, 403)
    )


def _with_link_step(
    request: Request,
    db: Session,
    token: str,
    secret_key: str,
    then: Callable[[reported.NetworkStep], Response],
) -> Response:
    try:
        step = reported.step_for_link(db, token=token, secret_key=secret_key)
    except reported.NetworkStepUnavailable as exc:
        return _unavailable(request, exc)
    return then(step)


@router.get("/n/{token}")
def link_choose(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    door = _link_door(token, settings.secret_key)
    return _with_link_step(
        request, db, token, settings.secret_key, lambda step: door.choose_page(request, step)
    )


@router.get("/n/{token}/skip")
def link_skip(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    door = _link_door(token, settings.secret_key)
    return _with_link_step(
        request,
        db,
        token,
        settings.secret_key,
        lambda step: door.page(request, step, "step_done.html", sent=False),
    )


@router.get("/n/{token}/sent")
def link_sent(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    door = _link_door(token, settings.secret_key)
    return _with_link_step(
        request,
        db,
        token,
        settings.secret_key,
        lambda step: door.page(request, step, "step_done.html", sent=True),
    )


@router.post("/n/{token}")
def link_chosen(
    request: Request,
    token: str,
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    values = _link_form(form, settings.secret_key, token)
    if values is None:
        return _expired(request, token)
    door = _link_door(token, settings.secret_key)
    return _with_link_step(
        request, db, token, settings.secret_key, lambda step: _chosen(door, request, step, values)
    )


@router.post("/n/{token}/rate")
def link_rated(
    request: Request,
    token: str,
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    values = _link_form(form, settings.secret_key, token)
    if values is None:
        return _expired(request, token)
    door = _link_door(token, settings.secret_key)
    try:
        return _with_link_step(
            request, db, token, settings.secret_key, lambda step: _rated(door, request, db, step, values)
        )
    except reported.NetworkStepUnavailable as exc:  # the round closed while the page was open
        db.rollback()
        return _unavailable(request, exc)


# --- a signed-in account --------------------------------------------------------------------------------
def _account_door(viewer: Viewer, partnership_id: int, round_id: int) -> _Door:
    round_url = f"/p/{partnership_id}/barometer/rounds/{round_id}"
    return _Door(
        f"{round_url}/network", {"csrf_token": viewer.csrf_token or ""}, {"viewer": viewer}, back=round_url
    )


def _with_account_step(
    request: Request,
    db: Session,
    viewer: Viewer,
    partnership_id: int,
    round_id: int,
    then: Callable[[reported.NetworkStep], Response],
) -> Response:
    try:
        step = reported.step_for_account(db, actor=viewer.actor, round_id=round_id)
    except reported.NetworkStepUnavailable as exc:
        if exc.round is not None:
            in_partnership(exc.round, partnership_id)
        # To a signed-in viewer of the round the reason is a page to read; a post changed nothing.
        status = 200 if request.method == "GET" else 403
        return _unavailable(request, exc, {"viewer": viewer}, status)
    in_partnership(step.round, partnership_id)
    return then(step)


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/network")
def account_choose(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    door = _account_door(viewer, partnership_id, round_id)
    return _with_account_step(
        request, db, viewer, partnership_id, round_id, lambda step: door.choose_page(request, step)
    )


def _account_done(
    request: Request, db: Session, viewer: Viewer, partnership_id: int, round_id: int, *, sent: bool
) -> Response:
    door = _account_door(viewer, partnership_id, round_id)
    return _with_account_step(
        request,
        db,
        viewer,
        partnership_id,
        round_id,
        lambda step: door.page(request, step, "step_done.html", sent=sent),
    )


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/network/sent")
def account_sent(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _account_done(request, db, viewer, partnership_id, round_id, sent=True)


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/network/skip")
def account_skip(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    return _account_done(request, db, viewer, partnership_id, round_id, sent=False)


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/network")
def account_chosen(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(step_form),
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
) -> Response:
    values = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    door = _account_door(viewer, partnership_id, round_id)
    return _with_account_step(
        request, db, viewer, partnership_id, round_id, lambda step: _chosen(door, request, step, values)
    )


@router.post("/p/{partnership_id}/barometer/rounds/{round_id}/network/rate")
def account_rated(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(step_form),
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
) -> Response:
    values = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    door = _account_door(viewer, partnership_id, round_id)
    try:
        return _with_account_step(
            request,
            db,
            viewer,
            partnership_id,
            round_id,
            lambda step: _rated(door, request, db, step, values),
        )
    except reported.NetworkStepUnavailable as exc:
        db.rollback()
        return _unavailable(request, exc, {"viewer": viewer}, 403)
