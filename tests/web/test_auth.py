"""Logging in and out, sessions, CSRF, rate limiting, API tokens; on SQLite and PostgreSQL."""

from __future__ import annotations

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


def test_login_is_rate_limited(app, world: World) -> None:
    browser = Browser(app, None)
    for _ in range(5):
        assert browser.login(world.emails["member"], "guess " * 3).status_code == 401
    blocked = browser.login(world.emails["member"], PASSWORD)
    assert blocked.status_code == 401 and "Too many failed attempts" in blocked.text


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
