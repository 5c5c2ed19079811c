"""In real Chromium on a phone-sized screen: a practitioner asks "is this child known?", opens the family's
record, adds a case note and a plan action; the lead adds a colleague to the team; the keyboard reaches
the search."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import screenshot
from tests.casework.conftest import TODAY, CaseWorld
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def _log_in(page, live_url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/p/**")


def test_a_practitioner_finds_a_child_and_opens_the_record_on_a_phone(  # type: ignore[no-untyped-def]
    phone, live_url: str, case_world: CaseWorld
) -> None:
    page = phone
    _log_in(page, live_url, case_world.emails["team"])
    page.goto(f"{live_url}/p/{case_world.world.partnership_id}/cases")
    assert page.get_by_role("heading", name="My caseload", level=1).is_visible()
    assert page.get_by_role("link", name="EH-0001").is_visible()
    page.get_by_label("Surname").fill("marsh")
    page.get_by_label("Date of birth").fill((TODAY - timedelta(days=9 * 365)).isoformat())
    page.get_by_label("Date of birth").press("Enter")  # the keyboard sends the search
    page.wait_for_url("**/cases/search**")
    assert page.get_by_text("Known to early help.").is_visible()
    assert page.get_by_text("Lead Practitioner").first.is_visible()
    screenshot(page, "casework-search-phone")
    page.get_by_role("link", name="Open the family's record").click()
    page.wait_for_url(f"**/cases/{case_world.family_id}")
    assert page.get_by_role("heading", name="Family EH-0001", level=1).is_visible()
    assert page.get_by_role("cell", name="Ellie Marsh").first.is_visible()
    assert page.get_by_text("Not shown: do not disclose location.").is_visible()
    assert "Refuge" not in page.content()
    # Nothing on the page is wider than the phone's screen (tables stack into cards).
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the screen"
    screenshot(page, "casework-family-phone")

    note = page.get_by_role("form", name="Add a case note")
    note.get_by_label("Kind").select_option(label="The child's voice")
    note.get_by_label("Note").fill("Ellie said school is better since the walking bus.")
    note.get_by_role("button", name="Add the note").click()
    page.wait_for_url("**#chronology")
    assert page.get_by_text("Ellie said school is better since the walking bus.").is_visible()

    page.get_by_role("form", name="Add an outcome").get_by_label("What the family and the team want").fill(
        "Ellie is at school every day"
    )
    page.get_by_role("button", name="Add the outcome").click()
    page.wait_for_url("**#plan")
    action = page.get_by_role("form", name="Add an action")
    action.get_by_label("Towards").select_option(label="Ellie is at school every day")
    action.get_by_label("Action", exact=True).fill("Join the walking bus")
    action.get_by_label("Owner").select_option(label="Team Practitioner")
    action.get_by_label("Due by").fill((TODAY + timedelta(days=14)).isoformat())
    action.get_by_role("button", name="Add the action").click()
    page.wait_for_url("**#plan")
    assert page.get_by_role("cell", name="Join the walking bus").is_visible()
    screenshot(page, "casework-plan-phone")


def test_the_lead_adds_a_colleague_to_the_team_on_a_phone(  # type: ignore[no-untyped-def]
    phone, live_url: str, case_world: CaseWorld
) -> None:
    page = phone
    _log_in(page, live_url, case_world.emails["lead"])
    page.goto(f"{live_url}/p/{case_world.world.partnership_id}/cases/{case_world.family_id}")
    assert page.get_by_text("Refuge, somewhere").is_visible()  # the lead sees the shielded address
    form = page.get_by_role("form", name="Add to the team")
    form.get_by_label("Practitioner").select_option(label="Colleague Practitioner (Brempton Police)")
    form.get_by_label("Role in the team").fill("Youth worker")
    form.get_by_role("button", name="Add to the team").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").is_visible()
    assert page.get_by_role("cell", name="Youth worker").is_visible()
    screenshot(page, "casework-team-phone")


def test_a_referral_is_sent_and_accepted_in_the_browser(  # type: ignore[no-untyped-def]
    chromium, live_url: str, case_world: CaseWorld, db
) -> None:
    from reticulist.access import service as accounts
    from reticulist.access.policy import Role
    from reticulist.casework import service as casework
    from reticulist.register import schemas as s
    from reticulist.register import service as register
    from tests.casework.conftest import ROOT

    pid = case_world.world.partnership_id
    csc = register.create_organisation(
        db,
        actor=ROOT,
        partnership_id=pid,
        data=s.OrganisationCreate(
            name="Brempton Children's Social Care", kind="childrens_social_care", tier="statutory"
        ),
    )
    db.flush()
    user = accounts.create_user(
        db, actor=ROOT, email="sw@case.example.org", display_name="Sol", password=PASSWORD
    )
    accounts.set_role(db, actor=ROOT, partnership_id=pid, user_id=user.id, role=Role.PRACTITIONER)
    person = register.create_person(
        db,
        actor=ROOT,
        partnership_id=pid,
        data=s.parse(
            s.PersonCreate, {"full_name": "Sol Worker", "organisation_id": csc.id, "hierarchy_tier": 5}
        ),
    )
    casework.link_practitioner(db, actor=ROOT, partnership_id=pid, user_id=user.id, person_id=person.id)
    db.commit()
    sender = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    _log_in(sender, live_url, case_world.emails["team"])
    sender.goto(f"{live_url}/p/{pid}/cases/{case_world.family_id}")
    form = sender.get_by_role("form", name="Send a referral")
    form.get_by_label("To").select_option(label="Brempton Children's Social Care")
    form.get_by_label("Child").select_option(label="Ellie Marsh")
    form.get_by_label("Why").fill("Ellie told her teacher she is frightened at home.")
    form.get_by_role("button", name="Send the referral").click()
    sender.wait_for_url("**#referrals")
    assert sender.get_by_text("Sent: the referral is waiting").is_visible()
    receiver = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    _log_in(receiver, live_url, "sw@case.example.org")
    receiver.goto(f"{live_url}/p/{pid}/referrals")
    receiver.get_by_role("link", name="Ellie Marsh").click()
    assert receiver.get_by_text("Ellie told her teacher she is frightened at home.").is_visible()
    assert "Canal Row" not in receiver.content()
    screenshot(receiver, "casework-referral-phone")
    decision = receiver.get_by_role("form", name="Decide on the referral")
    decision.get_by_label("Decision").select_option("accept")
    decision.get_by_label("Your role in the team").fill("Social worker")
    decision.get_by_role("button", name="Record the decision").click()
    receiver.wait_for_url(f"**/cases/{case_world.family_id}**")
    assert receiver.get_by_role("heading", name="Family EH-0001").is_visible()
    assert receiver.get_by_text("1 Canal Row", exact=False).is_visible()
    sender.context.close()
    receiver.context.close()


def test_with_many_practitioners_the_lead_finds_a_colleague_by_search_on_a_phone(  # type: ignore[no-untyped-def]
    phone, live_url: str, case_world: CaseWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reticulist.casework import routes

    monkeypatch.setattr(routes, "PICK_FROM_LIST", 1)  # as with hundreds of practitioners
    page = phone
    _log_in(page, live_url, case_world.emails["lead"])
    page.goto(f"{live_url}/p/{case_world.world.partnership_id}/cases/{case_world.family_id}")
    form = page.get_by_role("form", name="Add to the team")
    form.get_by_label("Practitioner: name or email").fill("practitioner")
    form.get_by_label("Role in the team").fill("Youth worker")
    form.get_by_label("From").fill(TODAY.isoformat())
    form.get_by_role("button", name="Add to the team").click()
    assert page.locator("#e-person_id").get_by_text("3 practitioners match: choose one").is_visible()
    form = page.get_by_role("form", name="Add to the team")
    form.get_by_label("Practitioner", exact=True).select_option(str(case_world.person_ids["colleague"]))
    screenshot(page, "casework-team-search-phone")
    form.get_by_role("button", name="Add to the team").click()
    page.wait_for_url("**done=team-joined**")
    assert page.get_by_role("cell", name="Colleague Practitioner").first.is_visible()
