"""Log in, log out, and the account page with personal API tokens."""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.secrets import new_token
from reticulist.comparison import service as comparison
from reticulist.errors import InputError
from reticulist.register import service as register
from reticulist.settings import Settings
from reticulist.web.deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Viewer,
    check_form_csrf,
    client_address,
    get_db,
    get_settings,
    optional_viewer,
    page_viewer,
    same_token,
)
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths, so the login form cannot be used to bounce users to another site."""
    if not target:
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _login_form(
    request: Request, settings: Settings, *, error: str | None = None, email: str = "", status_code: int = 200
) -> Response:
    token = new_token()
    response = render(
        request,
        "login.html",
        {
            "csrf_token": token,
            "error": error,
            "email": email,
            "next": _safe_next(request.query_params.get("next")),
        },
        status_code=status_code,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="strict",
        max_age=3600,
    )
    return response


@router.get("/login")
def login_page(
    request: Request,
    settings: Settings = Depends(get_settings),
    viewer: Viewer | None = Depends(optional_viewer),
) -> Response:
    if viewer is not None:
        return RedirectResponse("/", status_code=303)
    return _login_form(request, settings)


@router.post("/login")
def login_submit(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form("/"),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not same_token(cookie, csrf_token):
        return _login_form(
            request, settings, error="The form expired. Please try again.", email=email, status_code=403
        )
    try:
        result = accounts.login(
            db,
            email=email,
            password=password,
            client=client_address(request),
            secret_key=settings.secret_key,
            session_hours=settings.session_hours,
            limits=accounts.LoginLimits.from_settings(settings),
        )
    except accounts.LoginRefused as refused:
        return _login_form(request, settings, error=str(refused), email=email, status_code=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(
    request: Request,
    viewer: Viewer = Depends(check_form_csrf),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    accounts.logout(db, token=request.cookies.get(SESSION_COOKIE, ""), secret_key=settings.secret_key)
    response = RedirectResponse("/login?done=logged-out", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(request: Request, viewer: Viewer = Depends(page_viewer), db: Session = Depends(get_db)) -> Response:
    partnerships = register.list_partnerships(db, actor=viewer.actor)
    invitations = accounts.my_invitations(db, actor=viewer.actor)
    # Comparison groups this user analyses (site administrators see them on the command line).
    groups = [] if viewer.actor.is_site_admin else comparison.analysed_groups(db, actor=viewer.actor)
    if len(partnerships) == 1 and not invitations and not groups:
        return RedirectResponse(f"/p/{partnerships[0].id}", status_code=303)
    return render(
        request, "home.html", {"partnerships": partnerships, "invitations": invitations, "groups": groups}
    )


def _account_page(
    request: Request,
    db: Session,
    viewer: Viewer,
    *,
    new_token: str | None = None,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    response = render(
        request,
        "account.html",
        {
            "tokens": accounts.list_api_tokens(db, actor=viewer.actor),
            "invitations": accounts.my_invitations(db, actor=viewer.actor),
            "new_token": new_token,
            "errors": errors or {},
        },
        status_code=status_code,
    )
    # The page may show a new API token, once: keep no copy in the browser's cache or history.
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/account")
def account(
    request: Request, viewer: Viewer = Depends(page_viewer), db: Session = Depends(get_db)
) -> Response:
    return _account_page(request, db, viewer)


@router.post("/account/tokens")
def create_token(
    request: Request,
    name: str = Form(""),
    viewer: Viewer = Depends(check_form_csrf),
    db: Session = Depends(get_db),
    settings: Settings = Depends(get_settings),
) -> Response:
    try:
        _, token = accounts.create_api_token(
            db, actor=viewer.actor, name=name, secret_key=settings.secret_key
        )
    except InputError as err:
        return _account_page(request, db, viewer, errors=err.by_field(), status_code=422)
    db.commit()
    # Shown once, on this response only; never stored in plain text or put in a URL.
    return _account_page(request, db, viewer, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    token_id: int, viewer: Viewer = Depends(check_form_csrf), db: Session = Depends(get_db)
) -> Response:
    accounts.revoke_api_token(db, actor=viewer.actor, token_id=token_id)
    db.commit()
    return RedirectResponse("/account?done=revoked", status_code=303)


@router.post("/account/invitations/{invitation_id}/accept")
def accept_invitation(
    invitation_id: int, viewer: Viewer = Depends(check_form_csrf), db: Session = Depends(get_db)
) -> Response:
    partnership_id = accounts.accept_invitation(db, actor=viewer.actor, invitation_id=invitation_id)
    db.commit()
    return RedirectResponse(f"/p/{partnership_id}?done=joined", status_code=303)


@router.post("/account/invitations/{invitation_id}/decline")
def decline_invitation(
    invitation_id: int, viewer: Viewer = Depends(check_form_csrf), db: Session = Depends(get_db)
) -> Response:
    accounts.decline_invitation(db, actor=viewer.actor, invitation_id=invitation_id)
    db.commit()
    return RedirectResponse("/account?done=declined", status_code=303)
