"""In real Chromium, on a phone and on a desktop: the data protection officer opens the subject access
register, builds the bundle for a request about a child, sees other people's names and words suggesting
child abuse marked and the shielded mother's refuge address withheld, and downloads the PDF, which names
the child and not the refuge's postcode."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework import subject_access
from tests.casework.conftest import TODAY, CaseWorld
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SCREENS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
NOTE = "Home visit. Jo said they now live at Refuge, somewhere BN2 9ZZ. Ellie had bruising on her arm."
SHIELDED = ("BN2 9ZZ", "BN29ZZ", "Refuge, somewhere", "Refuge")
# How many lines an element's text takes on screen.
LINES = (
    "e => { const r = document.createRange(); r.selectNodeContents(e); return r.getClientRects().length; }"
)


def _log_in(page, url: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{url}/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/p/**")


def _a_request_with_a_note(db: Session, cw: CaseWorld) -> int:
    casework.add_note(
        db,
        actor=cw.actors["lead"],
        family_id=cw.family_id,
        data=cs.parse(
            cs.NoteCreate,
            {"happened_on": (TODAY - timedelta(days=4)).isoformat(), "kind": "home_visit", "text": NOTE},
        ),
    )
    db.commit()
    found = subject_access.register_request(
        db,
        actor=cw.actors["dpo"],
        partnership_id=cw.world.partnership_id,
        family_reference="EH-0001",
        surname="Marsh",
        forenames="Ellie",
        requester="Sam Marsh, her father",
        received_on=TODAY - timedelta(days=3),
        identity_checked_on=TODAY - timedelta(days=2),
    )
    db.commit()
    return found.id


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_officer_reviews_the_bundle_and_downloads_the_pdf(  # type: ignore[no-untyped-def]
    chromium,
    live_url: str,
    db: Session,
    case_world: CaseWorld,
    screen: str,
) -> None:
    from pypdf import PdfReader

    pid = case_world.world.partnership_id
    date_of_birth = (TODAY - timedelta(days=9 * 365)).strftime("%d %b %Y")
    request_id = _a_request_with_a_note(db, case_world)
    context = chromium.new_context(accept_downloads=True, **SCREENS[screen])
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        _log_in(page, live_url, case_world.emails["dpo"])
        page.goto(f"{live_url}/p/{pid}/subject-access")
        page.get_by_role("link", name="Build the bundle").click()
        page.wait_for_url(f"**/p/{pid}/subject-access/{request_id}/bundle")

        assert page.get_by_role("heading", name="Everything held about Ellie Marsh", level=1).is_visible()
        note = page.locator("article.bundle-item").filter(has_text="Home visit.")
        assert note.count() == 1
        jo = note.locator("mark.third-party", has_text="Jo")
        assert jo.count() >= 1 and jo.first.is_visible()
        assert jo.first.inner_text() == "Jo"
        bruising = note.locator("mark.child-abuse", has_text="bruising")
        assert bruising.count() == 1 and bruising.is_visible()
        withheld = note.locator("strong.withheld")
        assert withheld.count() >= 1 and withheld.first.inner_text() == "[shielded address withheld]"
        text, html = page.inner_text("body"), page.content()
        for detail in SHIELDED:
            assert detail.casefold() not in text.casefold(), f"{detail!r} is on the page"
            assert detail.casefold() not in html.casefold(), f"{detail!r} is in the page's HTML"
        # Nothing is wider than the screen (the phone has no sideways scrolling).
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"the page is {overflow}px wider than the screen"
        # A value is not broken over two lines by a long label beside it (an NHS number, a date).
        person = page.locator("article.bundle-item").filter(has_text="family member 1")
        for value in ("943 476 5919", date_of_birth):
            cell = person.locator("dd").filter(has_text=value)
            assert cell.evaluate(LINES) == 1, f"{value!r} is broken over lines"
        page.screenshot(path=f"/tmp/sar_bundle_{screen}.png", full_page=True)

        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download the PDF").click()
        download = download_info.value
        assert download.suggested_filename == f"subject-access-{request_id}.pdf"
        pdf = Path(download.path()).read_bytes()
        assert pdf.startswith(b"%PDF")
        words = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)
        assert "Ellie Marsh" in words
        for detail in ("BN2 9ZZ", "BN29ZZ", "Refuge, somewhere"):
            assert detail not in words, f"{detail!r} is in the PDF"
        assert "[shielded address withheld]" in words
    finally:
        context.close()
