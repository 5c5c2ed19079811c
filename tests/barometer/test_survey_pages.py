"""The survey as a respondent meets it: no login, the link is the credential, on both databases."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerDraft, BarometerInvitation, BarometerResponse
from tests.barometer.barometer_fixtures import (
    ITEM_KEYS,
    SECRET,
    open_test_round,
    small_builtin,  # noqa: F401  (autouse)
    small_instrument,  # noqa: F401
)
from tests.conftest import Browser, World


def _invite(db: Session, world: World, round_id: int, who: str = "jo@example.org") -> str:
    (issued,) = barometer.issue_invitations(
        db, actor=world.manager, round_id=round_id, invitees=who, secret_key=SECRET
    )
    db.commit()
    return issued.token


def _form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def _post(browser: Browser, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    """Post a survey form as the browser would: with the form token from the page at ``url``."""
    token = _form_token(browser.client.get(url).text)
    return browser.client.post(url, data={**data, "form_token": token})


def _responses(db: Session) -> list[BarometerResponse]:
    db.expire_all()
    return list(db.scalars(select(BarometerResponse)))


def test_welcome_page_explains_anonymity_and_sets_no_cookie(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    token = _invite(db, world, open_test_round(db, world, threshold=7))
    page = browsers["anonymous"].client.get(f"/s/{token}")
    assert page.status_code == 200
    text = page.text
    assert "Test Barometer" in text and "Spring 2026" in text
    assert "no one in the partnership can see your individual answers" in text
    assert "groups of at least 7 people" in text and "About 5 minutes" in text
    assert "6 short statements in 2 sections" in text
    assert "set-cookie" not in page.headers
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert "Log out" not in text  # no account navigation on the survey


def test_answer_save_and_resume_then_send_once(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    token = _invite(db, world, open_test_round(db, world))
    client = browsers["anonymous"].client
    started = client.post(
        f"/s/{token}/start", data={"form_token": _form_token(client.get(f"/s/{token}").text)}
    )
    assert started.status_code == 303 and started.headers["location"] == f"/s/{token}/about"
    assert "set-cookie" not in started.headers

    about = client.get(f"/s/{token}/about")
    assert (
        "Prefer not to say" in about.text
        and "Brempton Police" in about.text
        and "Police officer" in about.text
    )
    saved = _post(
        browsers["anonymous"],
        f"/s/{token}/about",
        {
            "organisation_id": "",
            "profession_id": str(world.profession_id),
            "hierarchy_tier": "4",
            "wt_tier": "",
        },
    )
    assert saved.headers["location"] == f"/s/{token}/working_together"

    section = client.get(f"/s/{token}/working_together")
    assert "Section 1 of 2" in section.text and "<legend>" in section.text
    later = _post(
        browsers["anonymous"],
        f"/s/{token}/working_together",
        {"trust_1": "5", "trust_2": "0", "action": "later"},
    )
    assert later.status_code == 200 and "Your link to come back" in later.text
    assert f"/s/{token}</code>" in later.text and "set-cookie" not in later.headers

    # Coming back later with the link: it offers to continue where they left off, with answers kept.
    welcome = client.get(f"/s/{token}")
    assert f'href="/s/{token}/getting_things_done"' in welcome.text
    again = client.get(f"/s/{token}/working_together")
    assert re.search(r'value="5" checked', again.text) and re.search(
        r'id="a-trust_2-0"[^>]*checked', again.text
    )

    # Back from section 2 returns to section 1 (saving what was chosen).
    back = _post(
        browsers["anonymous"], f"/s/{token}/getting_things_done", {"momentum_1": "2", "action": "back"}
    )
    assert back.headers["location"] == f"/s/{token}/working_together"
    forward = _post(browsers["anonymous"], f"/s/{token}/getting_things_done", {"momentum_2": "3"})
    assert forward.headers["location"] == f"/s/{token}/check"
    check = client.get(f"/s/{token}/check")
    assert "Working together: 2 of 3" in check.text and "Getting things done: 2 of 3" in check.text
    assert "4 – team leader / supervisor" in check.text and "Police officer" in check.text

    form_token = _form_token(check.text)
    sent = client.post(f"/s/{token}/check", data={"form_token": form_token, "action": "send"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/s/{token}/thanks"
    thanks = client.get(sent.headers["location"])
    assert "Your answers have been received" in thanks.text
    # The second click, the back button, a retry: nothing more is recorded.
    resent = client.post(f"/s/{token}/check", data={"form_token": form_token, "action": "send"})
    assert resent.status_code == 200 and "already been received" in resent.text
    resaved = client.post(
        f"/s/{token}/working_together", data={"form_token": form_token, "trust_1": "1", "action": "next"}
    )
    assert "already been received" in resaved.text
    assert "already been received" in client.get(f"/s/{token}").text

    (response,) = _responses(db)
    assert response.answers == {"trust_1": 5, "trust_2": 0, "momentum_1": 2, "momentum_2": 3}
    assert (response.profession_id, response.hierarchy_tier, response.organisation_id) == (
        world.profession_id,
        4,
        None,
    )
    assert db.scalars(select(BarometerInvitation)).one().used


def test_open_link_starts_a_new_draft_for_each_person(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    round_id = open_test_round(db, world)
    link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    db.commit()
    client = browsers["anonymous"].client
    form_token = _form_token(client.get(f"/s/{link}").text)
    first = client.post(f"/s/{link}/start", data={"form_token": form_token})
    second = client.post(f"/s/{link}/start", data={"form_token": form_token})
    resume_1 = first.headers["location"].split("/")[2]
    resume_2 = second.headers["location"].split("/")[2]
    assert len({link, resume_1, resume_2}) == 3
    saved = _post(
        browsers["anonymous"], f"/s/{resume_1}/working_together", {"trust_1": "2", "action": "later"}
    )
    assert f"/s/{resume_1}</code>" in saved.text
    assert len(db.scalars(select(BarometerDraft)).all()) == 2


def test_forms_without_the_link_form_token_are_refused(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    round_id = open_test_round(db, world)
    token = _invite(db, world, round_id)
    other = _invite(db, world, round_id, "sam@example.org")
    client = browsers["anonymous"].client
    client.post(f"/s/{token}/start", data={"form_token": _form_token(client.get(f"/s/{token}").text)})
    other_token = _form_token(client.get(f"/s/{other}").text)
    for data in ({}, {"form_token": "0" * 64}, {"form_token": other_token}):
        refused = client.post(f"/s/{token}/working_together", data={**data, "trust_1": "1"})
        assert refused.status_code == 403 and "nothing was saved" in refused.text
        assert client.post(f"/s/{token}/check", data={**data, "action": "send"}).status_code == 403
    assert client.post(f"/s/{other}/start", data={}).status_code == 403
    draft = db.scalars(select(BarometerDraft)).one()
    assert draft.answers == {} and _responses(db) == []


def test_bad_answers_are_refused_with_the_statement_named_and_nothing_saved(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    token = _invite(db, world, open_test_round(db, world))
    client = browsers["anonymous"].client
    client.post(f"/s/{token}/start", data={"form_token": _form_token(client.get(f"/s/{token}").text)})
    _post(browsers["anonymous"], f"/s/{token}/working_together", {"trust_1": "4"})
    page = _post(browsers["anonymous"], f"/s/{token}/working_together", {"trust_1": "7", "not_an_item": "3"})
    assert page.status_code == 422
    assert 'role="alert"' in page.text and "Please correct 2 answers" in page.text
    assert "&#34;7&#34; is not one of the answers" in page.text
    assert "is not a statement of this survey" in page.text
    bad_profile = _post(browsers["anonymous"], f"/s/{token}/about", {"organisation_id": "99999"})
    assert bad_profile.status_code == 422 and "is not an organisation of this partnership" in bad_profile.text
    db.expire_all()
    draft = db.scalars(select(BarometerDraft)).one()
    assert draft.answers == {"trust_1": 4} and draft.profile == {}
    sent = _post(browsers["anonymous"], f"/s/{token}/check", {"action": "send"})
    assert sent.status_code == 303  # one answer is enough to send
    assert [r.answers for r in _responses(db)] == [{"trust_1": 4}]

    # Nothing answered at all: the check page says so and nothing is sent.
    other = _invite(db, world, draft.round_id, "sam@example.org")
    client.post(f"/s/{other}/start", data={"form_token": _form_token(client.get(f"/s/{other}").text)})
    nothing = _post(browsers["anonymous"], f"/s/{other}/check", {"action": "send"})
    assert nothing.status_code == 422 and "Answer at least one statement before sending" in nothing.text
    assert len(_responses(db)) == 1


def test_unknown_links_and_rounds_not_open_get_a_polite_page(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    client = browsers["anonymous"].client
    for bad in ("nonsense", "A" * 43, "%3Cscript%3E"):
        page = client.get(f"/s/{bad}")
        assert page.status_code == 404 and "This link does not work" in page.text
        assert client.get(f"/s/{bad}/working_together").status_code == 404
    closed = open_test_round(
        db, world, opens_on=date.today() - timedelta(days=20), closes_on=date.today() + timedelta(days=1)
    )
    token = _invite(db, world, closed)
    client.post(f"/s/{token}/start", data={"form_token": _form_token(client.get(f"/s/{token}").text)})
    barometer.close_round(db, actor=world.manager, round_id=closed)
    db.commit()
    for response in (
        client.get(f"/s/{token}"),
        client.get(f"/s/{token}/working_together"),
        _post_blind(client, f"/s/{token}/working_together", token),
    ):
        assert response.status_code == 410 and "This survey has closed" in response.text
        assert f"closed on {date.today().strftime('%-d %b %Y')}" in response.text
    later = open_test_round(
        db, world, opens_on=date.today() + timedelta(days=2), closes_on=date.today() + timedelta(days=9)
    )
    early = client.get(f"/s/{_invite(db, world, later)}")
    assert early.status_code == 403 and "not open yet" in early.text
    assert _responses(db) == []


def _post_blind(client, url: str, token: str):  # type: ignore[no-untyped-def]
    """A post with the right form token, made without reading the page first (the page is gone)."""
    return client.post(url, data={"form_token": barometer.form_token(SECRET, token), "trust_1": "3"})


def test_section_page_is_accessible_markup(browsers: dict[str, Browser], world: World, db: Session) -> None:
    token = _invite(db, world, open_test_round(db, world))
    client = browsers["anonymous"].client
    client.post(f"/s/{token}/start", data={"form_token": _form_token(client.get(f"/s/{token}").text)})
    page = client.get(f"/s/{token}/getting_things_done").text
    assert "Section 2 of 2" in page and '<progress max="2" value="2"' in page
    assert page.count("<fieldset") == 3 and page.count("<legend>") == 3
    for key in ITEM_KEYS[3:]:
        radios = re.findall(rf'<input type="radio" id="(a-{key}-\d)" name="{key}"', page)
        assert len(radios) == 6
        for radio_id in radios:
            assert f'<label for="{radio_id}">' in page
    assert ">Don&#39;t know</label>" in page and ">Strongly agree</label>" in page
    buttons = re.findall(r'<button type="submit"[^>]*value="(\w+)">([^<]+)</button>', page)
    assert buttons == [("next", "Save and continue"), ("back", "Back"), ("later", "Save and finish later")]
