"""In real Chromium, on a phone and on a desktop: the data protection officer follows "Retention" in the
menu, reads the schedule, sets how long uses of emergency access are kept (0 years refused at its field,
with the form left open; 3 years saved), places a legal hold on a family, cannot lift it without saying
why, and lifts it with a reason. The page never scrolls sideways."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from tests.casework.conftest import CaseWorld
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCREENS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
HELD_FOR = "Claim CL-2031 against the partnership: keep everything until it is settled."
LIFTED_FOR = "Claim CL-2031 settled on 3 March; the solicitor confirmed in writing."
BREAK_GLASS_NOTE = "The partnership's own policy: three years, agreed at the board."
# How far the page is wider than the window (scrolling sideways), in CSS pixels.
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def _log_in(page, url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/p/**")


def _no_sideways_scroll(page, when: str) -> None:  # type: ignore[no-untyped-def]
    overflow = page.evaluate(OVERFLOW)
    assert overflow <= 1, f"{when}: the page is {overflow}px wider than the window"


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_officer_changes_a_period_and_places_and_lifts_a_hold(  # type: ignore[no-untyped-def]
    chromium,
    live_url: str,
    db: Session,
    case_world: CaseWorld,
    screen: str,
) -> None:
    pid = case_world.world.partnership_id
    retention_url = f"{live_url}/p/{pid}/retention"
    context = chromium.new_context(**SCREENS[screen])
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        _log_in(page, live_url, case_world.emails["dpo"])

        # The menu takes the officer there.
        page.locator("nav.section-nav").get_by_role("link", name="Retention", exact=True).click()
        page.wait_for_url(retention_url)
        assert page.get_by_role("heading", name="Retention", level=1).is_visible()
        assert page.get_by_role("heading", name="Due to be erased today", level=2).is_visible()
        assert page.get_by_role("heading", name="The schedule", level=2).is_visible()
        assert page.get_by_role("heading", name="Legal holds", level=2).is_visible()
        family = page.locator("section.bundle-item").filter(has_text="A family's early help record")
        assert "until the youngest child's 25th birthday" in family.inner_text()
        _no_sideways_scroll(page, "the page as it opens")

        # Emergency access: 0 years is refused at its field, and the form is shown again, open.
        break_glass = page.locator("section.bundle-item").filter(has_text="A use of emergency access")
        assert break_glass.count() == 1
        assert break_glass.get_by_text("Kept 6 years.").is_visible()
        break_glass.get_by_text("Change how long this is kept").click()
        years = break_glass.get_by_label("Years", exact=True)
        years.fill("0")
        break_glass.get_by_label("Why the partnership keeps it for this time").fill(BREAK_GLASS_NOTE)
        # The browser itself would stop 0 (min="1"); the server must refuse it too, so send it anyway.
        assert years.evaluate("e => e.validity.rangeUnderflow") is True
        form = break_glass.locator("form")
        form.evaluate("f => { f.noValidate = true; }")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            form.get_by_role("button", name="Save").click()
        assert answer.value.status == 422
        page.wait_for_load_state()
        assert page.get_by_role("alert").is_visible()  # the error summary
        assert break_glass.locator("details").evaluate("d => d.open") is True
        error = break_glass.locator("#e-years_break_glass")
        assert error.is_visible() and error.inner_text() == "must be from 1 to 50"
        years = break_glass.get_by_label("Years", exact=True)
        assert years.get_attribute("aria-invalid") == "true"
        assert years.input_value() == "0"
        assert (
            break_glass.get_by_label("Why the partnership keeps it for this time").input_value()
            == BREAK_GLASS_NOTE
        )
        _no_sideways_scroll(page, "the page with the error")
        page.screenshot(path=f"/tmp/retention_{screen}_error.png", full_page=True)

        # 3 years, with the note: saved.
        years.fill("3")
        break_glass.get_by_label("Why the partnership keeps it for this time").fill(BREAK_GLASS_NOTE)
        break_glass.get_by_role("button", name="Save").click()
        page.wait_for_url(re.compile(re.escape(retention_url) + r"(\?.*)?$"))
        assert page.get_by_role("status").inner_text() == "Saved: your changes were recorded."
        assert break_glass.get_by_text("Kept 3 years.").is_visible()
        assert BREAK_GLASS_NOTE in break_glass.inner_text()
        assert "The default is 6 years." in break_glass.inner_text()
        assert page.get_by_role("alert").count() == 0

        # A legal hold on the family.
        holds = page.locator("table.stack")
        assert "No legal holds." in holds.inner_text()
        place = page.get_by_role("form", name="Place a legal hold")
        place.get_by_label("The family's reference").fill("EH-0001")
        place.get_by_label("Held for").fill(HELD_FOR)
        place.get_by_role("button", name="Place the hold").click()
        page.wait_for_url(re.compile(re.escape(retention_url) + r"(\?.*)?$"))
        row = holds.locator("tbody tr").filter(has_text="EH-0001")
        assert row.count() == 1
        assert HELD_FOR in row.inner_text()
        assert holds.locator("caption").inner_text() == "1 in place"
        _no_sideways_scroll(page, "the page with a hold in place")

        # Lifting it without saying why: the browser's `required` stops it, and the server would refuse it.
        lift = row.get_by_role("form", name=re.compile(r"^Lift hold \d+$"))
        reason = lift.get_by_label("Lift because")
        assert reason.get_attribute("required") is not None
        assert reason.evaluate("e => e.validity.valueMissing") is True
        lift.get_by_role("button", name="Lift the hold").click()
        assert page.url.split("?")[0] == retention_url  # still here, no post
        assert row.get_by_role("button", name="Lift the hold").is_visible()
        lift.evaluate("f => { f.noValidate = true; }")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            lift.get_by_role("button", name="Lift the hold").click()
        assert answer.value.status == 422
        page.wait_for_load_state()
        reason = row.get_by_label("Lift because")
        assert reason.get_attribute("aria-invalid") == "true"
        assert "is required: why the record need no longer be held" in row.inner_text()
        assert holds.locator("caption").inner_text() == "1 in place"
        _no_sideways_scroll(page, "the page with a hold and an error")
        # The whole page with a hold in place and the changed period's form open.
        page.locator("details").nth(0).evaluate("d => { d.open = true; }")
        page.screenshot(path=f"/tmp/retention_{screen}.png", full_page=True)

        # Lifted, with the reason shown.
        reason.fill(LIFTED_FOR)
        row.get_by_role("button", name="Lift the hold").click()
        page.wait_for_url(re.compile(re.escape(retention_url) + r"(\?.*)?$"))
        assert page.get_by_role("status").inner_text() == "Saved: your changes were recorded."
        lifted = row.locator("td[data-label='Lifted']")
        assert f"by {case_world.emails['dpo']}: {LIFTED_FOR}" in lifted.inner_text()
        assert row.get_by_role("button", name="Lift the hold").count() == 0
        assert holds.locator("caption").inner_text() == "0 in place"
        _no_sideways_scroll(page, "the page with the hold lifted")
        page.screenshot(path=f"/tmp/retention_{screen}_lifted.png", full_page=True)
    finally:
        context.close()
