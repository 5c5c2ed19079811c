"""Every page that shows a secret once (a new API token, survey links and their mail-merge CSV, an open
link) tells the browser to keep no copy: Cache-Control: no-store. For each persona, on both databases."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tests.barometer.barometer_fixtures import (
    open_test_round,
    small_builtin,  # noqa: F401  (autouse)
    small_instrument,  # noqa: F401
)
from tests.conftest import Browser, World


def test_pages_showing_a_secret_once_are_not_cached(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    round_id = open_test_round(db, world)
    url = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    for persona in ("manager", "member", "outsider"):
        browser = browsers[persona]
        token_page = browser.post("/account/tokens", {"name": "script"})
        assert token_page.status_code == 200 and re.search(r'id="new-token">rtl_', token_page.text)
        assert token_page.headers["cache-control"] == "no-store", persona
        assert browser.get("/account").headers["cache-control"] == "no-store"

        links = browser.post(f"{url}/invitations", {"invitees": "jo@example.org"})
        open_link = browser.post(f"{url}/open-link")
        expected = {"manager": 200, "member": 403, "outsider": 404}[persona]
        assert links.status_code == open_link.status_code == expected, persona
        if persona == "manager":
            assert "/s/" in links.text and "data:text/csv" in links.text  # the links and the CSV
            assert "/s/" in open_link.text
            assert links.headers["cache-control"] == open_link.headers["cache-control"] == "no-store"
        else:
            assert "/s/" not in links.text and "/s/" not in open_link.text
