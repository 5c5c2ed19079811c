"""In real Chromium, on a phone and on a desktop: the partnership's admin follows "Comparison" in the menu,
agrees to be named to the group's analysts, and reads the partnership against the others (the table and
the funnel plots); the group's analyst opens the group from their home page and reads the study. The page
never scrolls sideways (wide tables and charts scroll inside themselves)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.comparison.models import ComparisonMember
from tests.browser.conftest import SCREENS, no_sideways_scroll, screenshot
from tests.comparison.conftest import Compared
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _log_in(page, live_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_admin_names_the_partnership_and_reads_the_comparison(  # type: ignore[no-untyped-def]
    chromium, live_url: str, db: Session, compared: Compared, screen: str
) -> None:
    pid = compared.world.partnership_id
    context = chromium.new_context(**SCREENS[screen])
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        _log_in(page, live_url, compared.world.emails["admin"])
        page.wait_for_url("**/p/**")
        page.locator("nav.section-nav").get_by_role("link", name="Comparison", exact=True).click()
        page.wait_for_url(f"{live_url}/p/{pid}/comparison")
        no_sideways_scroll(page, "the groups")
        screenshot(page, f"comparison-groups-{screen}")
        page.get_by_role("button", name="Show our name to the analysts").click()
        page.wait_for_url("**/comparison?done=changed")
        db.expire_all()
        assert db.scalar(select(ComparisonMember.named).where(ComparisonMember.partnership_id == pid)) is True
        assert page.get_by_text("shown by name to its analysts").is_visible()

        page.get_by_role("link", name="North West test group").click()
        page.wait_for_url(f"**/p/{pid}/comparison/{compared.group_id}")
        assert page.get_by_role("heading", name="Register and network").is_visible()
        assert page.locator("svg.chart title").first.text_content().startswith("Funnel plot: ")
        assert page.locator("tr.own").first.is_visible()
        no_sideways_scroll(page, "the comparison")
        screenshot(page, f"comparison-partnership-{screen}")

        # Another period: nothing released in it, said in words.
        page.get_by_label("Rounds closed from").fill("2001-01-01")
        page.get_by_label("to", exact=True).fill("2001-12-31")
        page.get_by_role("button", name="Compare").click()
        page.wait_for_url("**since=2001-01-01**")
        assert page.get_by_text("No partnership of the group released a barometer round").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_analyst_reads_the_group_and_the_study(  # type: ignore[no-untyped-def]
    chromium, live_url: str, compared: Compared, screen: str
) -> None:
    context = chromium.new_context(**SCREENS[screen])
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        _log_in(page, live_url, compared.analyst_email)
        page.wait_for_url(f"{live_url}/")
        page.get_by_role("link", name="North West test group").click()
        page.wait_for_url(f"**/comparison/{compared.group_id}")
        assert (
            page.get_by_role("cell", name="Group median")
            .or_(page.get_by_role("rowheader", name="Group median"))
            .first.is_visible()
        )
        no_sideways_scroll(page, "the group")
        screenshot(page, f"comparison-group-{screen}")
        page.get_by_role("link", name="The study of 002's hypotheses").click()
        page.wait_for_url(f"**/comparison/{compared.group_id}/study")
        assert page.get_by_role("heading", name="What it finds").is_visible()
        assert page.get_by_text("Late entrants").first.is_visible()
        no_sideways_scroll(page, "the study")
        screenshot(page, f"comparison-study-{screen}")
    finally:
        context.close()
