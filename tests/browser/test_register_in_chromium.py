"""In real Chromium: log in, open the overview, add a person, see them appear; keyboard and phone use."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.browser


def _log_in(page, live_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/p/**")


def test_manager_logs_in_sees_overview_and_adds_a_person(page, live_url: str, world: World) -> None:  # type: ignore[no-untyped-def]
    _log_in(page, live_url, world.emails["manager"])
    # One partnership: the start page goes straight to its overview.
    assert page.url.endswith(f"/p/{world.partnership_id}")
    assert page.get_by_role("heading", name="Brempton Test Partnership", level=1).is_visible()
    assert page.get_by_role("heading", name="Members and their representation").is_visible()
    screenshot(page, "overview-small")

    page.get_by_role("navigation", name="Brempton Test Partnership").get_by_role(
        "link", name="People"
    ).click()
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Full name").fill("Priya Shah")
    page.get_by_label("Email", exact=False).first.fill("priya.shah@police.example")
    page.locator("#f-organisation_id").select_option(label="Brempton Police")
    tier = page.locator("#f-hierarchy_tier")
    if tier.evaluate("e => e.tagName") == "SELECT":
        tier.select_option("4")
    else:
        tier.fill("4")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Priya Shah", level=1).is_visible()
    assert page.get_by_role("status").is_visible()  # "Saved: the record was added."

    page.get_by_role("navigation", name="Brempton Test Partnership").get_by_role(
        "link", name="People"
    ).click()
    assert page.get_by_role("link", name="Priya Shah").is_visible()
    page.goto(f"{live_url}/p/{world.partnership_id}")
    assert page.get_by_role("link", name="1", exact=True).first.is_visible()  # people in the register


def test_bad_person_form_shows_the_problem_at_the_field(page, live_url: str, world: World) -> None:  # type: ignore[no-untyped-def]
    _log_in(page, live_url, world.emails["manager"])
    page.goto(f"{live_url}/p/{world.partnership_id}/people/new")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    summary = page.get_by_role("alert")
    assert summary.is_visible() and "Full name" in summary.inner_text()
    assert page.locator("#f-full_name").get_attribute("aria-invalid") == "true"
    screenshot(page, "person-form-errors")


def test_keyboard_and_phone(page, live_url: str, world: World) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_url}/login")
    # Keyboard only: the email field has focus, Tab moves to the password, Enter submits.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'f-email'")
    page.keyboard.type(world.emails["member"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/p/**")
    # On every page the first Tab reaches the skip link, so keyboard users can jump past the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    screenshot(page, "overview-phone")
