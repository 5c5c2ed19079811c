"""The survey that respondents answer, at /s/{token}. No login: the token in the address is the
credential. No cookie is set. Every form carries a token bound to the link (``service.form_token``),
checked on each POST, so a page made for one link cannot post into another. Pages are not cached (a
shared phone must not show someone's answers) and send no referrer (the address holds the token)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from reticulist.access import throttle
from reticulist.access.policy import NotFound
from reticulist.barometer import service as barometer
from reticulist.errors import InputError
from reticulist.register.models import Organisation, Profession
from reticulist.register.vocab import HIERARCHY_TIERS, WorkingTogetherTier
from reticulist.settings import Settings
from reticulist.web.deps import client_address, get_db, get_settings, same_token
from reticulist.web.pages import posted_form
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
    """What the thanks page says of the optional, named network step, when the round has one. It only
    says where the step is (a personal network link, or the round's page after signing in): it never
    links to it, so the step is not taken from here, in the same visit as the anonymous answers."""
    if survey is None or survey.round.network_section == "none":
        return {}
    invitation = survey.invitation
    has_link = invitation is not None and invitation.network_token_hash is not None
    return {"network": survey.round.network_section, "network_link": has_link}


def _limit(request: Request, settings: Settings) -> barometer.OpenLinkLimit:
    return barometer.OpenLinkLimit(client=client_address(request), per_hour=settings.open_link_uses_per_hour)


def _too_many(request: Request, exc: barometer.TooManyFromHere, token: str | None = None) -> Response:
    response = _page(
        request,
        "survey_busy.html",
        {"wait": throttle.wait_words(exc.retry_after), "sending": exc.sending, "token": token},
        429,
    )
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _go(url: str) -> Response:
    return _private(RedirectResponse(url, status_code=303))


def _form(form: FormData, secret_key: str, token: str) -> dict[str, str] | None:
    """The posted fields, or None if the form token does not match the link."""
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
def start(
    request: Request,
    token: str,
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    if _form(form, settings.secret_key, token) is None:
        return _expired(request, token)
    try:
        survey, resume = barometer.start_or_resume(
            db, token=token, secret_key=settings.secret_key, limit=_limit(request, settings)
        )
    except barometer.SurveyUnavailable as exc:
        return _unavailable(request, exc)
    except barometer.TooManyFromHere as exc:
        return _too_many(request, exc)
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
def survey_save(
    request: Request,
    token: str,
    page: str,
    form: FormData = Depends(posted_form),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    secret = settings.secret_key
    values = _form(form, secret, token)
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
                barometer.submit(
                    db, token=token, secret_key=secret, limit=_limit(request, settings), found=survey
                )
            except barometer.TooManyFromHere as exc:
                db.rollback()
                return _too_many(request, exc, token)
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
                barometer.save_page(
                    db, token=token, secret_key=secret, page=page, profile=fields, found=survey
                )
            else:
                barometer.save_page(
                    db, token=token, secret_key=secret, page=page, answers=fields, found=survey
                )
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
