"""The network map in real Chromium: circles drawn by the site's own script under its CSP, a person's
figures on click and on Enter, colour by profession, filters that reload the map, and the static image
without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, World
from tests.network.test_map import ALL, _cast

pytestmark = pytest.mark.browser


def _log_in(page, live_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/p/**")


def _problems(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Console errors and failed requests (a CSP refusal shows up as a console error)."""
    found: list[str] = []
    # A refused request is reported below with its address; the console repeats it without one.
    page.on(
        "console",
        lambda m: (
            found.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("pageerror", lambda e: found.append(str(e)))
    page.on(
        "response",
        lambda r: (
            found.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    return found


def test_manager_explores_the_map_with_mouse_and_keyboard(
    page, live_url: str, db: Session, world: World
) -> None:  # type: ignore[no-untyped-def]
    cast = _cast(db, world)
    errors = _problems(page)
    _log_in(page, live_url, world.emails["manager"])
    page.goto(f"{live_url}/p/{world.partnership_id}/network/map?as_of=2025-03-31&{ALL}")
    circles = page.locator("svg.network-map-svg circle.map-node")
    circles.first.wait_for()
    assert circles.count() == 8
    assert page.locator("svg.network-map-svg line.map-edge").count() == 13
    assert page.get_by_role("button", name="Zoom in").is_visible()
    legend = page.locator("#map-legend")
    assert "Children's Services (2)" in legend.inner_text()
    screenshot(page, "network-map")

    # Click a person: the panel shows their figures and a link to their network page.
    page.locator('circle.map-node[aria-label^="Eudora Pennyfeather"]').click()
    panel = page.locator("#map-panel")
    assert panel.get_by_role("heading", name="Eudora Pennyfeather").is_visible()
    text = panel.inner_text()
    assert "Boundary-spanner score" in text and "(1st of 8)" in text and "Children's Services" in text
    assert "Griselda Achterberg" in text  # works with
    link = panel.get_by_role("link", name="Open Eudora Pennyfeather's network page")
    assert link.get_attribute("href") == (
        f"/p/{world.partnership_id}/network/people/{cast.ids['Eudora Pennyfeather']}"
    )
    assert page.locator("line.map-edge.linked").count() == 6
    screenshot(page, "network-map-person")

    # Colour by profession: the circles and the legend change without a reload.
    before = page.locator('circle.map-node[aria-label^="Cordelia"]').get_attribute("fill")
    page.get_by_label("Profession", exact=True).check()
    after = page.locator('circle.map-node[aria-label^="Cordelia"]').get_attribute("fill")
    assert before != after and "Health visitor (1)" in legend.inner_text()
    assert "colour_by=profession" in page.url

    # Keyboard: Tab from the Fit button reaches the first (largest) person; Enter opens their figures.
    page.get_by_role("button", name="Fit to view", exact=True).focus()
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused.startswith("Eudora Pennyfeather, Children's Services, Social worker")
    page.keyboard.press("Tab")
    second = page.evaluate("document.activeElement.getAttribute('aria-label')").split(",")[0]
    page.keyboard.press("Enter")
    assert panel.get_by_role("heading", name=second).is_visible()
    screenshot(page, "network-map-keyboard")

    # Zoom changes the view, Fit restores it.
    page.get_by_role("button", name="Zoom in").click()
    assert "scale(1.4)" in page.locator("g.map-viewport").get_attribute("transform")
    page.get_by_role("button", name="Fit to view", exact=True).click()
    assert "scale(1)" in page.locator("g.map-viewport").get_attribute("transform")

    # Filters reload map.json: imported ties only.
    for name in ("Reported by members", "At the same meetings", "Actions from the same meeting"):
        page.get_by_label(name).uncheck()
    page.get_by_role("button", name="Show").click()
    expect(page.locator("line.map-edge")).to_have_count(
        4
    )  # wait_for_function would need eval: the CSP refuses
    assert "8 people and 4 ties" in page.locator("#map-status").inner_text()
    assert "sources=imported&as_of=2025-03-31&colour_by=profession" in page.url  # a short address
    # A refused filter is named and the map stays.
    # (The browser itself stops a negative number; 0 passes it and the server refuses it.)
    page.locator("#f-w_imported").fill("0")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("alert").wait_for()
    assert 'Weight of imported: "0" is not a number above 0' in page.get_by_role("alert").inner_text()
    assert page.locator("line.map-edge").count() == 4
    assert [e for e in errors if "/map.json?" not in e or not e.startswith("422 ")] == [], errors


def test_member_sees_no_names_and_the_map_works_without_javascript(
    chromium, live_url: str, db: Session, world: World
) -> None:  # type: ignore[no-untyped-def]
    _cast(db, world)
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    try:
        _log_in(page, live_url, world.emails["member"])
        page.goto(f"{live_url}/p/{world.partnership_id}/network/map?as_of=2025-03-31&{ALL}")
        image = page.locator("#network-map svg.chart")
        assert image.is_visible() and image.locator("circle").count() >= 8
        assert page.locator("#map-tools").is_hidden() and page.locator("#map-panel").is_hidden()
        body = page.locator("main").inner_text()
        assert "Eudora" not in body and "Pennyfeather" not in body
        # Eight people, no group of five: every label is "Person #k", never the reversible old label.
        assert "Person #1" in page.content() and "Social worker #" not in page.content()
        # The filter form still works: it reloads the page with the static image coloured by profession.
        page.get_by_label("Profession", exact=True).check()
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**colour_by=profession**")
        assert "coloured by profession" in page.locator("#network-map svg title").text_content()
        screenshot(page, "network-map-no-javascript")
    finally:
        context.close()


def test_on_a_phone_the_map_fits_and_a_tap_shows_the_figures_below_it(
    page, live_url: str, db: Session, world: World
) -> None:  # type: ignore[no-untyped-def]
    _cast(db, world)
    page.set_viewport_size({"width": 390, "height": 844})
    _log_in(page, live_url, world.emails["member"])
    page.goto(f"{live_url}/p/{world.partnership_id}/network/map?as_of=2025-03-31&{ALL}")
    circles = page.locator("svg.network-map-svg circle.map-node")
    circles.first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    circles.first.click()
    heading = page.locator("#map-panel h3")
    assert heading.inner_text().startswith("Person #")  # no group of five here to name
    assert "Not shown" in page.locator("#map-panel").inner_text()
    assert page.locator("#map-panel").get_by_role("link").count() == 0  # members: no person pages
    screenshot(page, "network-map-phone")
