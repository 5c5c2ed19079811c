"""In real Chromium at phone size: a practitioner answers the built-in Partnership Barometer through a
personal link, saves, comes back on another device with the resume link, sends twice (double click,
then back and send again), and one response is recorded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.models import BarometerResponse
from tests.browser.conftest import screenshot
from tests.conftest import World

pytestmark = pytest.mark.browser
SECRET = "test-secret-key-" + "x" * 20  # the app fixture's secret
PHONE = {"width": 390, "height": 844}


def _round_and_link(db: Session, world: World) -> str:
    instrument = default_instrument()
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument=f"{instrument.key}@{instrument.version}",
            title="Spring 2026",
            opens_on=date.today(),
            closes_on=date.today() + timedelta(days=21),
        ),
    )
    (issued,) = barometer.issue_invitations(
        db, actor=world.manager, round_id=found.id, invitees="jo@police.example", secret_key=SECRET
    )
    db.commit()
    return issued.token


def _fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"


def test_answer_on_a_phone_save_resume_and_send_twice(  # type: ignore[no-untyped-def]
    chromium, page, live_url: str, world: World, db: Session
) -> None:
    token = _round_and_link(db, world)
    instrument = default_instrument()
    sections = instrument.sections
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/s/{token}")
    assert page.get_by_role("heading", name="Your answers are anonymous").is_visible()
    _fits_the_phone(page)
    page.get_by_role("button", name="Start").click()

    page.wait_for_url(f"**/s/{token}/about")
    page.get_by_label("Your profession").select_option(label="Police officer")
    page.get_by_label("Your level in your organisation").select_option("5")
    page.get_by_role("button", name="Save and continue").click()

    # Section 1: answer two statements by tapping their labels, one by keyboard.
    page.wait_for_url(f"**/s/{token}/{sections[0].key}")
    first_items = instrument.section_items(sections[0].key)
    first = page.get_by_role("group", name=first_items[0].text)
    first.get_by_label("Agree", exact=True).click()
    page.get_by_role("group", name=first_items[1].text).get_by_label("Don't know").click()
    third = page.get_by_role("group", name=first_items[2].text)
    third.get_by_label("Strongly disagree").focus()
    page.keyboard.press("Space")  # a radio chosen with the keyboard
    page.keyboard.press("ArrowDown")  # arrows move the choice within the statement
    assert third.get_by_label("Disagree", exact=True).is_checked()
    page.get_by_role("button", name="Save and continue").click()

    page.wait_for_url(f"**/s/{token}/{sections[1].key}")
    assert page.get_by_text(f"Section 2 of {len(sections)}").is_visible()
    _fits_the_phone(page)
    screenshot(page, "survey-section-phone")
    second_items = instrument.section_items(sections[1].key)
    page.get_by_role("group", name=second_items[0].text).get_by_label("Strongly agree").click()
    page.get_by_role("button", name="Save and finish later").click()
    resume_link = page.locator("#resume-link").inner_text()
    assert resume_link.endswith(f"/s/{token}")
    page.close()  # they put the phone away

    # Later, on another device: the resume link, where they left off, with their answers kept.
    context = chromium.new_context(viewport=PHONE)
    try:
        later = context.new_page()
        later.set_default_timeout(10_000)
        later.goto(resume_link.replace("http://testserver", live_url))
        later.get_by_role("link", name="Continue where you left off").click()
        later.wait_for_url(f"**/s/{token}/{sections[2].key}")
        later.get_by_role("button", name="Back").click()
        later.wait_for_url(f"**/s/{token}/{sections[1].key}")
        assert (
            later.get_by_role("group", name=second_items[0].text).get_by_label("Strongly agree").is_checked()
        )
        for _ in sections[1:]:
            later.get_by_role("button", name="Save and continue").click()
            later.wait_for_load_state()
        later.wait_for_url(f"**/s/{token}/check")
        assert later.get_by_text(f"{sections[0].title}: 3 of").is_visible()
        # The same check page left open in another tab: a stale form to send again later.
        stale = context.new_page()
        stale.goto(later.url)
        # A double click on send, then the back button, then the stale tab's send.
        later.get_by_role("button", name="Send my answers").dblclick()
        expect(later.get_by_role("heading", name="Thank you")).to_be_visible()
        later.go_back()
        expect(later.get_by_role("heading", name="Thank you")).to_be_visible()
        assert later.get_by_role("button", name="Send my answers").count() == 0
        stale.get_by_role("button", name="Send my answers").click()
        expect(stale.get_by_text("Your answers have already been received")).to_be_visible()
        screenshot(later, "survey-thanks-phone")
    finally:
        context.close()

    db.expire_all()
    responses = db.scalars(select(BarometerResponse)).all()
    assert len(responses) == 1
    first_key, second_key, third_key = (item.key for item in first_items[:3])
    assert responses[0].answers == {first_key: 4, second_key: 0, third_key: 2, second_items[0].key: 5}
    assert responses[0].hierarchy_tier == 5 and responses[0].profession_id == world.profession_id
