"""Logging in and out, sessions, CSRF, rate limiting, API tokens; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from reticulist.access import throttle
from reticulist.access.models import Throttle
from reticulist.settings import Settings
from reticulist.web.app import create_app
from reticulist.web.deps import client_address
from tests.conftest import PASSWORD, Browser, World


def test_login_sets_secure_httponly_cookie_and_logout_ends_session(app, world: World) -> None:
    browser = Browser(app, None)
    page = browser.get("/login")
    assert page.status_code == 200 and 'autocomplete="current-password"' in page.text
    response = browser.login(world.emails["manager"])
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "reticulist_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert "samesite=lax" in cookie.lower()
    assert browser.get("/account").status_code == 200
    assert browser.post("/logout").status_code == 303
    assert browser.get("/account").status_code == 303  # back to the login form


def test_wrong_password_is_refused_with_one_message(app, world: World) -> None:
    browser = Browser(app, None)
    wrong = browser.login(world.emails["manager"], "not the password")
    unknown = browser.login("nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "do not match an active account" in wrong.text and "do not match an active account" in unknown.text


class FrozenClock:
    """Stands in for the throttles' clock, so no test depends on how fast the machine is."""

    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    frozen = FrozenClock()
    monkeypatch.setattr(throttle, "time", frozen)
    return frozen


def _client_at(app, address: str) -> Browser:  # type: ignore[no-untyped-def]
    browser = Browser(app, None)
    browser.client = TestClient(
        app, base_url="https://testserver", follow_redirects=False, client=(address, 5)
    )
    return browser


def test_wrong_passwords_back_off_for_that_client_only(app, world: World, clock: FrozenClock) -> None:
    guesser = _client_at(app, "203.0.113.66")
    for _ in range(5):
        assert guesser.login(world.emails["member"], "guess " * 3).status_code == 401
    blocked = guesser.login(world.emails["member"], PASSWORD)
    assert blocked.status_code == 401 and "Too many tries. Wait 1 second and try again." in blocked.text
    # The account holder, at their own desk, is not held back by someone else's guesses.
    assert _client_at(app, "198.51.100.20").login(world.emails["member"], PASSWORD).status_code == 303
    clock.now += 1  # a wait, not a lock
    assert guesser.login(world.emails["member"], PASSWORD).status_code == 303


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    database_url: str, world: World, db: Session
) -> None:
    settings = Settings(
        database_url=database_url, secret_key="test-secret-key-" + "x" * 20, trusted_proxies="10.0.0.0/8, ::1"
    )
    app = create_app(settings)

    def failed_from(peer: str, forwarded: str) -> set[str | None]:
        browser = _client_at(app, peer)
        browser.client.headers["X-Forwarded-For"] = forwarded
        assert browser.login(world.emails["member"], "guess " * 3).status_code == 401
        db.rollback()
        addresses = set(db.scalars(select(Throttle.address).where(Throttle.address.is_not(None))))
        db.execute(delete(Throttle))
        db.commit()
        return addresses

    # Behind the proxy: the address the proxy saw, not the proxy's, and not what the client wrote.
    assert failed_from("10.1.2.3", "6.6.6.6, 198.51.100.7") == {"198.51.100.7"}
    assert failed_from("10.1.2.3", "198.51.100.7, 10.9.9.9") == {"198.51.100.7"}  # two proxies deep
    assert failed_from("10.1.2.3", "not-an-address") == {"10.1.2.3"}
    # Straight from the internet, X-Forwarded-For is anyone's to write: ignored.
    assert failed_from("203.0.113.5", "198.51.100.7") == {"203.0.113.5"}
    # Without the setting, no proxy is trusted.
    assert client_address(_request(app_without_proxies(database_url), "127.0.0.1", "1.2.3.4")) == "127.0.0.1"


def app_without_proxies(database_url: str):  # type: ignore[no-untyped-def]
    return create_app(Settings(database_url=database_url, secret_key="test-secret-key-" + "x" * 20))


def _request(app, peer: str, forwarded: str) -> Request:  # type: ignore[no-untyped-def]
    return Request(
        {
            "type": "http",
            "app": app,
            "client": (peer, 1),
            "headers": [(b"x-forwarded-for", forwarded.encode())],
            "method": "GET",
            "path": "/",
        }
    )


def test_a_bad_trusted_proxy_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="is not an address or network"):
        Settings(trusted_proxies="10.0.0.0/8, proxy.example")


def test_login_form_needs_its_csrf_token(app, world: World) -> None:
    browser = Browser(app, None)
    browser.get("/login")
    response = browser.client.post(
        "/login", data={"email": world.emails["manager"], "password": PASSWORD, "csrf_token": "forged"}
    )
    assert response.status_code == 403


def test_form_post_without_csrf_token_is_refused(browsers: dict[str, Browser], world: World) -> None:
    manager = browsers["manager"]
    response = manager.client.post(
        f"/p/{world.partnership_id}/organisations/new",
        data={"name": "Brempton Housing", "kind": "housing", "tier": "involved"},
    )
    assert response.status_code == 403 and "Form expired" in response.text


def test_login_next_only_goes_to_local_paths(app, world: World) -> None:
    browser = Browser(app, None)
    page = browser.get("/login?next=https://evil.example/")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    response = browser.client.post(
        "/login",
        data={
            "email": world.emails["manager"],
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/"


def test_pages_need_login(browsers: dict[str, Browser], world: World) -> None:
    response = browsers["anonymous"].get(f"/p/{world.partnership_id}/organisations")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_api_token_created_once_and_works_until_revoked(browsers: dict[str, Browser], world: World) -> None:
    manager = browsers["manager"]
    page = manager.post("/account/tokens", {"name": "board pack script"})
    assert page.status_code == 200
    token = page.text.split('id="new-token">')[1].split("<")[0]
    assert token.startswith("rtl_")
    api = manager.client
    anonymous = browsers["anonymous"].client
    headers = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/v1/partnerships").status_code == 401
    listed = anonymous.get("/api/v1/partnerships", headers=headers)
    assert listed.status_code == 200 and [p["id"] for p in listed.json()] == [world.partnership_id]
    assert token not in manager.get("/account").text  # shown once only
    token_id = manager.get("/account").text.split("/account/tokens/")[1].split("/")[0]
    assert manager.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    assert api.get("/api/v1/partnerships", headers=headers).status_code == 401
