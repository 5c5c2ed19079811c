"""In real Chromium, on a phone and on a desktop: the linkage analyst follows "Linkage" in the menu, opens
the review queue, reads a pair side by side with its waterfall of evidence, decides (an empty decision
refused at its field) and goes on to the next pair; then opens a known child's single view and takes an
agency's record off. The page never scrolls sideways (wide tables and charts scroll inside themselves)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.linkage.models import LinkageLabel
from tests.browser.conftest import SCREENS, no_sideways_scroll, screenshot
from tests.conftest import PASSWORD
from tests.linkage.conftest import LinkWorld

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_analyst_reviews_a_pair_and_a_childs_single_view(  # type: ignore[no-untyped-def]
    chromium, live_url: str, db: Session, linked_world: LinkWorld, screen: str
) -> None:
    pid = linked_world.world.partnership_id
    context = chromium.new_context(**SCREENS[screen])
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_url}/login")
        page.get_by_label("Email address").fill(linked_world.emails["analyst"])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/p/**")

        page.locator("nav.section-nav").get_by_role("link", name="Linkage", exact=True).click()
        page.wait_for_url(f"{live_url}/p/{pid}/linkage")
        assert page.get_by_role("heading", name="The latest run").is_visible()
        no_sideways_scroll(page, "overview")
        screenshot(page, f"linkage-overview-{screen}")

        page.get_by_role("link", name="waiting").click()
        page.wait_for_url(f"{live_url}/p/{pid}/linkage/review")
        page.locator("table.stack a").first.click()
        page.wait_for_url("**/linkage/review/*")
        first_pair = page.url
        assert page.get_by_role("heading", name="Are these the same child?").is_visible()
        assert page.locator("svg.chart title").first.text_content() == "Waterfall of evidence"
        no_sideways_scroll(page, "a pair")
        screenshot(page, f"linkage-pair-{screen}")

        # Saving without a decision: the browser's own check stops it; past it, the server names the field.
        page.evaluate("document.querySelector('form.decision-form').noValidate = true")
        page.get_by_role("button", name="Save and go to the next pair").click()
        assert page.locator(".error-summary, .error").first.is_visible()
        assert db.scalar(select(LinkageLabel)) is None

        page.get_by_label("Different children").check()
        page.get_by_label("Note (what you checked; required when unsure)").fill("Twins: the school has both.")
        page.get_by_role("button", name="Save and go to the next pair").click()
        page.wait_for_url("**/linkage/review/*?done=decided")
        assert page.url.split("?")[0] != first_pair
        assert page.get_by_text("Saved: the decision is recorded").is_visible()
        db.expire_all()
        label = db.scalar(select(LinkageLabel))
        assert label is not None and label.decision == "different"
        assert label.decided_by_label == "analyst@link.example.org"

        page.goto(f"{live_url}/p/{pid}/linkage/children")
        page.locator("table.stack a").first.click()
        page.wait_for_url("**/linkage/children/*")
        assert page.get_by_role("heading", name="The links and how sure each is").is_visible()
        no_sideways_scroll(page, "a child's single view")
        screenshot(page, f"linkage-child-{screen}")
        summary = page.locator("details summary").first
        summary.click()
        page.locator("details[open] textarea").fill("A cousin with the same name.")
        page.locator("details[open]").get_by_role("button", name="Not this child").click()
        page.wait_for_url("**/linkage/children/*?done=decided")
        db.expire_all()
        assert (
            db.scalar(select(LinkageLabel).where(LinkageLabel.note == "A cousin with the same name."))
            is not None
        )
    finally:
        context.close()
