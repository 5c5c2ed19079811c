"""The survey that respondents answer, at /s/{token}. No login: the token in the address is the
credential. No cookie is set. Every form carries a token bound to the link (``service.form_token``),
checked on each POST, so a page made for one link cannot post into another. Pages are not cached (a
shared phone must not show someone's answers) and send no referrer (the address holds the token)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from reticulist.access.policy import NotFound
from reticulist.barometer import service as barometer
from reticulist.errors import InputError
from reticulist.network import reported
from reticulist.register.models import Organisation, Profession
from reticulist.register.schemas import record_id_or_none, whole_number
from reticulist.register.vocab import HIERARCHY_TIERS, WorkingTogetherTier
from reticulist.settings import Settings
from reticulist.web.deps import get_db, get_settings, same_token
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)
SECONDS_PER_STATEMENT = 12
CONTROL_FIELDS = {"form_token", "action"}


def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(request: Request, name: str, context: dict, status_code: int = 200) -> Response:
    return _private(render(request, f"barometer/{name}", context, status_code=status_code))


def _unavailable(request: Request, exc: barometer.SurveyUnavailable) -> Response:
    status = {"unknown": 404, "closed": 410, "scheduled": 403}[exc.reason]
    return _page(request, "survey_unavailable.html", {"reason": exc.reason, "round": exc.round}, status)


def _received(request: Request, survey: barometer.Survey | None = None, token: str | None = None) -> Response:
    return _page(request, "survey_thanks.html", {"again": True, **_network_offer(survey, token)})


def _network_offer(survey: barometer.Survey | None, token: str | None) -> dict:
    """The thanks page's offer of the optional, named network step, when the round has one."""
    if survey is None or token is None or survey.round.network_section == "none":
        return {}
    return {"network": survey.round.network_section, "token": token}


def _go(url: str) -> Response:
    return _private(RedirectResponse(url, status_code=303))


async def _form(request: Request, secret_key: str, token: str) -> dict[str, str] | None:
    """The posted fields without the control fields, or None if the form token does not match."""
    form = await request.form()
    sent = str(form.get("form_token", ""))
    if not same_token(sent, barometer.form_token(secret_key, token)):
        return None
    values = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    values["action"] = str(form.get("action", "next"))
    return values


def _expired(request: Request, token: str) -> Response:
    return _page(request, "survey_form_expired.html", {"token": token}, 403)


def _minutes(survey: barometer.Survey) -> int:
    return max(5, math.ceil(len(survey.instrument.items) * SECONDS_PER_STATEMENT / 60 / 5) * 5)


def _context(survey: barometer.Survey, token: str, secret_key: str) -> dict:
    sections = list(survey.instrument.sections)
    return {
        "survey": survey,
        "round": survey.round,
        "instrument": survey.instrument,
        "token": token,
        "form_token": barometer.form_token(secret_key, token),
        "sections": sections,
        "title": survey.instrument.title,
    }


@router.get("/s/{token}")
def welcome(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    try:
        survey = barometer.find_survey(db, token=token, secret_key=settings.secret_key)
    except barometer.SurveyUnavailable as exc:
        return _unavailable(request, exc)
    if survey.received:
        return _received(request, survey, token)
    ctx = _context(survey, token, settings.secret_key)
    ctx.update(minutes=_minutes(survey), continue_page=survey.draft.page if survey.draft else None)
    return _page(request, "survey_welcome.html", ctx)


@router.post("/s/{token}/start")
async def start(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    if await _form(request, settings.secret_key, token) is None:
        return _expired(request, token)
    try:
        survey, resume = barometer.start_or_resume(db, token=token, secret_key=settings.secret_key)
    except barometer.SurveyUnavailable as exc:
        return _unavailable(request, exc)
    except barometer.AlreadyReceived:
        return _received(request)
    db.commit()
    page = survey.draft.page if survey.draft and survey.draft.page in survey.pages else barometer.ABOUT_PAGE
    return _go(f"/s/{resume}/{page}")


@router.get("/s/{token}/thanks")
def thanks(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    try:
        survey = barometer.find_survey(db, token=token, secret_key=settings.secret_key)
    except barometer.SurveyUnavailable as exc:
        return _unavailable(request, exc)
    if not survey.received:
        return _go(f"/s/{token}")
    return _page(request, "survey_thanks.html", {"again": False, **_network_offer(survey, token)})


def _about_choices(db: Session, partnership_id: int) -> dict:
    organisations = db.query(Organisation).filter_by(partnership_id=partnership_id, ended_on=None)
    professions = db.query(Profession).filter_by(partnership_id=partnership_id, ended_on=None)
    return {
        "organisations": [(o.id, o.name) for o in organisations.order_by(Organisation.name)],
        "professions": [(p.id, p.name) for p in professions.order_by(Profession.name)],
        "hierarchy_tiers": list(HIERARCHY_TIERS.items()),
        "wt_tiers": WorkingTogetherTier.choices(),
    }


def _render_page(
    request: Request,
    db: Session,
    survey: barometer.Survey,
    token: str,
    secret_key: str,
    page: str,
    *,
    values: dict | None = None,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    ctx = _context(survey, token, secret_key)
    draft = survey.draft
    assert draft is not None
    ctx.update(page=page, errors=errors or {}, back=survey.page_before(page))
    if page == barometer.ABOUT_PAGE:
        ctx.update(_about_choices(db, survey.round.partnership_id))
        ctx["values"] = (
            values if values is not None else {k: draft.profile.get(k) for k in barometer.PROFILE_FIELDS}
        )
        return _page(request, "survey_about.html", ctx, status_code)
    if page == barometer.CHECK_PAGE:
        profile = draft.profile or {}
        names = _about_choices(db, survey.round.partnership_id)
        ctx.update(
            answers=draft.answers,
            profile_lines=_profile_lines(db, profile, names),
            section_counts=[
                (
                    section,
                    sum(1 for i in survey.instrument.section_items(section.key) if i.key in draft.answers),
                    len(survey.instrument.section_items(section.key)),
                )
                for section in survey.instrument.sections
            ],
        )
        return _page(request, "survey_check.html", ctx, status_code)
    section_keys = [s.key for s in survey.instrument.sections]
    section = survey.instrument.sections[section_keys.index(page)]
    ctx.update(
        section=section,
        number=section_keys.index(page) + 1,
        items=survey.instrument.section_items(page),
        values=values if values is not None else {k: str(v) for k, v in draft.answers.items()},
    )
    return _page(request, "survey_section.html", ctx, status_code)


def _profile_lines(db: Session, profile: dict, names: dict) -> list[tuple[str, str]]:
    not_said = "Prefer not to say"
    organisations = dict(names["organisations"])
    professions = dict(names["professions"])
    wt = dict(names["wt_tiers"])
    organisation = profile.get("organisation_id")
    if organisation is not None and organisation not in organisations:
        found = db.get(Organisation, organisation)  # ended since: still named
        organisations[organisation] = found.name if found else not_said
    profession = profile.get("profession_id")
    if profession is not None and profession not in professions:
        found_p = db.get(Profession, profession)
        professions[profession] = found_p.name if found_p else not_said
    return [
        ("Organisation", organisations.get(organisation, not_said)),
        ("Profession", professions.get(profession, not_said)),
        ("Level in your organisation", HIERARCHY_TIERS.get(profile.get("hierarchy_tier") or 0, not_said)),
        ("Working Together tier of your organisation", wt.get(profile.get("wt_tier") or "", not_said)),
    ]


def _survey_for_page(db: Session, token: str, secret_key: str, page: str) -> barometer.Survey:
    survey = barometer.find_survey(db, token=token, secret_key=secret_key)
    if survey.received:
        raise barometer.AlreadyReceived()
    if survey.draft is None:
        raise NotFound("Not begun.")
    if page not in survey.pages:
        raise NotFound("No such page.")
    return survey


# --- the optional network section (named, NOT anonymous; stored by network.reported) -----------------
# Stateless between its two pages: the picks travel in the form, so nothing is kept against the link.
def _network_page(
    request: Request,
    step: reported.NetworkStep,
    token: str,
    secret_key: str,
    name: str,
    status_code: int = 200,
    **extra: object,
) -> Response:
    ctx = {
        "step": step,
        "round": step.round,
        "token": token,
        "form_token": barometer.form_token(secret_key, token),
        "what": "person" if step.mode == "people" else "organisation",
        "max_picks": reported.MAX_PICKS,
        "questions": reported.QUESTIONS,
        "errors": {},
        **extra,
    }
    return _page(request, name, ctx, status_code)


def _choose_page(
    request: Request,
    step: reported.NetworkStep,
    token: str,
    secret_key: str,
    *,
    respondent: str = "",
    picks: list[str] | None = None,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    picks = list(picks or [])
    rows = min(reported.MAX_PICKS, max(reported.PICK_ROWS, len(picks)))
    picks += [""] * (rows - len(picks))
    return _network_page(
        request,
        step,
        token,
        secret_key,
        "survey_network.html",
        status_code,
        respondent=respondent,
        picks=picks,
        errors=errors or {},
    )


def _network_unavailable(request: Request, token: str, exc: Exception) -> Response:
    if isinstance(exc, barometer.SurveyUnavailable):
        return _unavailable(request, exc)
    return _go(f"/s/{token}")  # no section, or answers not sent yet: back to the survey itself


@router.get("/s/{token}/network")
def network_choose(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    try:
        step = reported.open_step(db, token=token, secret_key=settings.secret_key)
    except (barometer.SurveyUnavailable, reported.NetworkSectionUnavailable) as exc:
        return _network_unavailable(request, token, exc)
    return _choose_page(request, step, token, settings.secret_key)


@router.get("/s/{token}/network/skip")
def network_skip(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    try:
        step = reported.open_step(db, token=token, secret_key=settings.secret_key)
    except (barometer.SurveyUnavailable, reported.NetworkSectionUnavailable) as exc:
        return _network_unavailable(request, token, exc)
    return _network_page(request, step, token, settings.secret_key, "survey_network_done.html", sent=False)


@router.get("/s/{token}/network/sent")
def network_sent(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    try:
        step = reported.open_step(db, token=token, secret_key=settings.secret_key)
    except (barometer.SurveyUnavailable, reported.NetworkSectionUnavailable) as exc:
        return _network_unavailable(request, token, exc)
    return _network_page(request, step, token, settings.secret_key, "survey_network_done.html", sent=True)


def _picks(fields: dict[str, str]) -> list[str]:
    numbered = sorted(
        (number, v)
        for k, v in fields.items()
        if k.startswith("pick-") and (number := whole_number(k[5:], 10**6)) is not None
    )
    return [v for _, v in numbered]


@router.post("/s/{token}/network")
async def network_chosen(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    secret = settings.secret_key
    values = await _form(request, secret, token)
    if values is None:
        return _expired(request, token)
    try:
        step = reported.open_step(db, token=token, secret_key=secret)
    except (barometer.SurveyUnavailable, reported.NetworkSectionUnavailable) as exc:
        return _network_unavailable(request, token, exc)
    respondent, picks = values.get("respondent", ""), _picks(values)
    if values["action"] == "more":
        filled = [p for p in picks if p.strip()]
        picks = filled + [""] * min(reported.PICK_ROWS, reported.MAX_PICKS - len(filled))
        return _choose_page(request, step, token, secret, respondent=respondent, picks=picks)
    try:
        chosen = reported.choose(db, token=token, secret_key=secret, respondent=respondent, picks=picks)
    except InputError as err:
        return _choose_page(
            request,
            step,
            token,
            secret,
            respondent=respondent,
            picks=picks,
            errors=err.by_field(),
            status_code=422,
        )
    return _network_page(request, step, token, secret, "survey_network_rate.html", chosen=chosen, values={})


@router.post("/s/{token}/network/rate")
async def network_rated(
    request: Request, token: str, db: Session = Depends(get_db), settings: Settings = Depends(get_settings)
) -> Response:
    secret = settings.secret_key
    values = await _form(request, secret, token)
    if values is None:
        return _expired(request, token)
    try:
        step = reported.open_step(db, token=token, secret_key=secret)
    except (barometer.SurveyUnavailable, reported.NetworkSectionUnavailable) as exc:
        return _network_unavailable(request, token, exc)
    count = min(whole_number(values.get("count"), reported.MAX_PICKS + 1) or 0, reported.MAX_PICKS + 1)
    ties = [
        {"to": values.get(f"tie-{n}-to", ""), **{f: values.get(f"tie-{n}-{f}", "") for f in reported.FIELDS}}
        for n in range(1, count + 1)
    ]
    respondent = record_id_or_none(values.get("respondent_id"))
    me = step.person(respondent) if respondent is not None else None
    targets = [step.target(to) if (to := record_id_or_none(x["to"])) is not None else None for x in ties]
    if values["action"] == "back":
        labels = [c.label for c in targets if c is not None]
        who = me.label if me is not None else ""
        return _choose_page(request, step, token, secret, respondent=who, picks=labels)
    try:
        reported.record_reported_ties(
            db, token=token, secret_key=secret, respondent_id=values.get("respondent_id"), ties=ties
        )
    except InputError as err:
        db.rollback()
        if me is None or any(c is None for c in targets):
            # The hidden picks were tampered with or have gone: start the choice again.
            return _choose_page(request, step, token, secret, errors=err.by_field(), status_code=422)
        chosen = reported.Chosen(respondent=me, targets=[c for c in targets if c is not None])
        return _network_page(
            request,
            step,
            token,
            secret,
            "survey_network_rate.html",
            status_code=422,
            chosen=chosen,
            values=values,
            errors=err.by_field(),
        )
    db.commit()
    return _go(f"/s/{token}/network/sent")


@router.get("/s/{token}/{page}")
def survey_page(
    request: Request,
    token: str,
    page: str,
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    try:
        survey = _survey_for_page(db, token, settings.secret_key, page)
    except barometer.SurveyUnavailable as exc:
        return _unavailable(request, exc)
    except barometer.AlreadyReceived:
        return _received(request)
    except NotFound:
        return _go(f"/s/{token}")
    return _render_page(request, db, survey, token, settings.secret_key, page)


@router.post("/s/{token}/{page}")
async def survey_save(
    request: Request,
    token: str,
    page: str,
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    secret = settings.secret_key
    values = await _form(request, secret, token)
    if values is None:
        return _expired(request, token)
    action = values.pop("action")
    fields = {k: v for k, v in values.items() if k not in CONTROL_FIELDS}
    try:
        survey = _survey_for_page(db, token, secret, page)
        if page == barometer.CHECK_PAGE:
            if action == "back":
                return _go(f"/s/{token}/{survey.page_before(page)}")
            try:
                barometer.submit(db, token=token, secret_key=secret)
            except InputError as err:
                db.rollback()
                survey = _survey_for_page(db, token, secret, page)
                return _render_page(
                    request, db, survey, token, secret, page, errors=err.by_field(), status_code=422
                )
            db.commit()
            return _go(f"/s/{token}/thanks")
        try:
            if page == barometer.ABOUT_PAGE:
                barometer.save_page(db, token=token, secret_key=secret, page=page, profile=fields)
            else:
                barometer.save_page(db, token=token, secret_key=secret, page=page, answers=fields)
        except InputError as err:
            db.rollback()
            survey = _survey_for_page(db, token, secret, page)
            return _render_page(
                request,
                db,
                survey,
                token,
                secret,
                page,
                values=fields,
                errors=err.by_field(),
                status_code=422,
            )
        db.commit()
    except barometer.SurveyUnavailable as exc:
        return _unavailable(request, exc)
    except barometer.AlreadyReceived:
        return _received(request)
    except NotFound:
        return _go(f"/s/{token}")
    if action == "later":
        ctx = _context(survey, token, secret)
        ctx.update(resume_url=barometer.survey_url(str(request.base_url), token))
        return _page(request, "survey_saved.html", ctx)
    if action == "back":
        return _go(f"/s/{token}/{survey.page_before(page) or page}")
    return _go(f"/s/{token}/{survey.page_after(page)}")
