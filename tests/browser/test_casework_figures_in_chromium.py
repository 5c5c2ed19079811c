"""In real Chromium on a phone-sized screen: a partnership manager publishes an ended quarter's casework
figures and reads them; nothing on the page names a family, and nothing is wider than the screen."""

from __future__ import annotations

from typing import Any

import pytest

from reticulist.casework import figures
from tests.browser.conftest import screenshot
from tests.casework.conftest import CaseWorld
from tests.casework.test_figures import KEY, QUARTER, quarter_world  # noqa: F401  (a fixture)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_manager_publishes_a_quarter_on_a_phone(  # type: ignore[no-untyped-def]
    chromium,
    live_url: str,
    case_world: CaseWorld,
    quarter_world: dict[str, Any],  # noqa: F811
) -> None:
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_url}/login")
        page.get_by_label("Email address").fill(case_world.emails["manager"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/p/**")
        page.get_by_role("link", name="Casework figures").click()
        page.wait_for_url("**/casework-figures")
        assert page.get_by_role("heading", name="Publish a quarter").is_visible()
        page.get_by_label("Quarter", exact=True).select_option(KEY)
        page.get_by_label("Smallest group shown (families)").fill("3")
        page.get_by_role("button", name="Publish").click()
        page.wait_for_url(f"**/casework-figures/{KEY}?done=published")
        words = figures.quarter_words(QUARTER)
        assert page.get_by_role("heading", name=f"Casework figures: {words}", level=1).is_visible()
        assert page.get_by_text("Published. These figures will not change.").is_visible()
        assert page.get_by_role("heading", name="Families starting early help: 8 families").is_visible()
        assert page.get_by_role("heading", name="Referrals decided: hidden").is_visible()
        content = page.content()
        for secret in ("FIG-0", "Marsh", "Refuge", "Health needs"):
            assert secret not in content
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"the page is {overflow}px wider than the screen"
        screenshot(page, "casework-figures-phone")
    finally:
        context.close()
