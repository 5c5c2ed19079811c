"""In real Chromium at phone size: a practitioner answers the barometer through their personal survey link;
the thank-you page says the network questions are on their personal network link, and does not link to
it. Later, on that separate link, the step already knows who they are: they pick two people, rate them
and send. The ties are stored with the round and the person; the response stays unlinked."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerResponse
from reticulist.network.models import NetworkTie
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.barometer.barometer_fixtures import (
    REF,
    SECRET,
    small_builtin,  # noqa: F401  (autouse)
    small_instrument,  # noqa: F401
)
from tests.browser.conftest import screenshot
from tests.conftest import World

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _set_up(db: Session, world: World) -> tuple[str, str, dict[str, int]]:
    health = register.create_organisation(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.OrganisationCreate(name="Brempton Health", kind="health", tier="statutory"),
    )
    ids = {}
    for key, name, organisation in (
        ("ann", "Ann Able", world.organisation_id),
        ("ben", "Ben Best", world.organisation_id),
        ("cat", "Cat Cole", health.id),
    ):
        ids[key] = register.create_person(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.PersonCreate(
                full_name=name,
                email=f"{key}@police.example",
                organisation_id=organisation,
                hierarchy_tier=4,
            ),
        ).id
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument=REF,
            title="Spring 2026",
            opens_on=date.today(),
            closes_on=date.today() + timedelta(days=21),
            network_section="people",
        ),
    )
    (issued,) = barometer.issue_invitations(
        db, actor=world.manager, round_id=found.id, person_ids=[ids["ann"]], secret_key=SECRET
    )
    db.commit()
    assert issued.network_token is not None
    return issued.token, issued.network_token, ids


def _fits_the_phone(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"


def test_barometer_then_two_people_rated_on_a_phone(  # type: ignore[no-untyped-def]
    page, live_url: str, world: World, db: Session
) -> None:
    token, network_link, ids = _set_up(db, world)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_url}/s/{token}")
    page.get_by_role("button", name="Start").click()
    page.wait_for_url(f"**/s/{token}/about")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**/s/{token}/working_together")
    page.get_by_role("group", name="Statement 1 about trust.").get_by_label("Agree", exact=True).click()
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**/s/{token}/getting_things_done")
    page.get_by_role("button", name="Save and continue").click()
    page.wait_for_url(f"**/s/{token}/check")
    page.get_by_role("button", name="Send my answers").click()

    # The thank-you page says where the named part is, that it is not anonymous, and links nowhere.
    expect(page.get_by_role("heading", name="One more, optional part: who do you work with?")).to_be_visible()
    assert page.get_by_text("That part is NOT anonymous", exact=False).is_visible()
    assert page.get_by_text("personal network link", exact=False).first.is_visible()
    assert page.locator("main a").count() == 0
    _fits_the_phone(page)
    screenshot(page, "network-thanks-phone")

    # Another day, another visit: the personal network link from the invitation.
    page.context.clear_cookies()
    page.goto(f"{live_url}/n/{network_link}")
    expect(page.get_by_role("heading", name="This part is NOT anonymous")).to_be_visible()
    expect(page.locator("#respondent")).to_have_text("Ann Able — Brempton Police")
    _fits_the_phone(page)
    assert page.get_by_label("Your name").count() == 0  # nobody says who they are: the link does
    first = page.get_by_label("Person 1", exact=True)
    first.focus()
    page.keyboard.type("Ben Best")
    page.keyboard.press("Tab")  # the keyboard moves on to the next pick
    assert page.evaluate("document.activeElement.id") == "f-pick-2"
    page.get_by_label("Person 2", exact=True).fill("Cat Cole — Brempton Health")
    screenshot(page, "network-choose-phone")
    # By keyboard: in headless Chromium a click while a field's list of suggestions is open only closes
    # the list.
    page.get_by_role("button", name="Continue").press("Enter")

    ben = page.get_by_role("group", name="1. Ben Best — Brempton Police")
    cat = page.get_by_role("group", name="2. Cat Cole — Brempton Health")
    expect(ben).to_be_visible()
    _fits_the_phone(page)
    ben.get_by_label("How often do you work with them?").select_option(label="Weekly")
    ben.get_by_label("They are reliable").select_option(label="4 – a great deal")
    ben.get_by_label("The resources they contribute").select_option(label="2 – a little")
    cat.get_by_label("How often do you work with them?").select_option(label="Monthly")
    cat.get_by_label("They share our mission").select_option(label="3 – a fair amount")
    screenshot(page, "network-rate-phone")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page.get_by_text("Who you work with has been recorded, with your name.")).to_be_visible()
    _fits_the_phone(page)
    db.expire_all()
    ties = db.scalars(select(NetworkTie).order_by(NetworkTie.to_person_id)).all()
    assert [(x.from_person_id, x.to_person_id, x.frequency) for x in ties] == [
        (ids["ann"], ids["ben"], 4),
        (ids["ann"], ids["cat"], 3),
    ]
    assert (ties[0].trust_reliable, ties[0].value_resources, ties[1].trust_mission) == (4, 2, 3)
    (response,) = db.scalars(select(BarometerResponse)).all()
    assert response.answers == {"trust_1": 4}
