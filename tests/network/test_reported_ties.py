"""Reported ties: the optional, named network step of a barometer round, on both databases.

The step is bound to one register person by its credential (a personal network link, or a signed-in
account whose email is the person's): whatever a form says, nobody can record or replace another
person's ties. It has its own address, apart from the survey, and nothing it stores (ids, times, order)
lines it up with an anonymous response."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit.models import AuditEvent
from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerInvitation, BarometerResponse
from reticulist.errors import InputError
from reticulist.network import importers, reported
from reticulist.network import service as network
from reticulist.network.models import NetworkTie
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.barometer.barometer_fixtures import (
    REF,
    SECRET,
    small_builtin,  # noqa: F401  (autouse)
    small_instrument,  # noqa: F401
)
from tests.conftest import Browser, World


# --- set-up ------------------------------------------------------------------------------------------
def _people(db: Session, world: World) -> dict[str, int]:
    """Ann and Ben of Brempton Police, Cat of Brempton Health (her email is the member persona's account),
    and Dee who left last year."""
    health = register.create_organisation(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.OrganisationCreate(name="Brempton Health", kind="health", tier="statutory"),
    )
    ids = {"health": health.id}
    for key, name, organisation, email, ended in (
        ("ann", "Ann Able", world.organisation_id, "ann@example.org", None),
        ("ben", "Ben Best", world.organisation_id, "ben@example.org", None),
        ("cat", "Cat Cole", health.id, world.emails["member"], None),
        ("dee", "Dee Dunn", health.id, None, date.today() - timedelta(days=400)),
    ):
        person = register.create_person(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.PersonCreate(
                full_name=name,
                email=email,
                organisation_id=organisation,
                hierarchy_tier=3,
                joined_on=date.today() - timedelta(days=800),
            ),
        )
        if ended:
            register.end_person(db, actor=world.manager, person_id=person.id, ended_on=ended)
        ids[key] = person.id
    db.commit()
    return ids


def _round(db: Session, world: World, section: str = "people") -> int:
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument=REF,
            title="Spring 2026",
            opens_on=date.today() - timedelta(days=1),
            closes_on=date.today() + timedelta(days=30),
            network_section=section,
        ),
    )
    db.commit()
    return found.id


def _invite(db: Session, world: World, round_id: int, person_id: int) -> barometer.IssuedInvitation:
    (issued,) = barometer.issue_invitations(
        db, actor=world.manager, round_id=round_id, person_ids=[person_id], secret_key=SECRET
    )
    db.commit()
    return issued


def _link(db: Session, world: World, round_id: int, person_id: int) -> str:
    token = _invite(db, world, round_id, person_id).network_token
    assert token is not None
    return token


def _send_barometer(db: Session, token: str) -> None:
    barometer.start_or_resume(db, token=token, secret_key=SECRET)
    barometer.save_page(db, token=token, secret_key=SECRET, page="working_together", answers={"trust_1": "4"})
    barometer.submit(db, token=token, secret_key=SECRET)
    db.commit()


def _send(db: Session, token: str, ties: list[dict]) -> reported.Recorded:
    step = reported.step_for_link(db, token=token, secret_key=SECRET)
    recorded = reported.record_reported_ties(db, step=step, ties=ties)
    db.commit()
    return recorded


def _form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def _ties(db: Session) -> list[NetworkTie]:
    db.expire_all()
    return list(db.scalars(select(NetworkTie)))


def _pairs(db: Session) -> set[tuple[int, int | None]]:
    return {(x.from_person_id, x.to_person_id) for x in _ties(db)}


def _rate_form(html: str) -> dict[str, str]:
    """The hidden fields of the rating page, as the browser would send them back."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


# --- the respondent's journey --------------------------------------------------------------------------
def test_a_personal_network_link_records_its_own_persons_ties_apart_from_the_survey(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    issued = _invite(db, world, round_id, ids["ann"])
    assert (issued.label, issued.email, issued.person_id) == ("Ann Able", "ann@example.org", ids["ann"])
    survey, link = issued.token, issued.network_token
    assert link is not None and link != survey
    client = browsers["anonymous"].client

    # The survey: its thank-you page says where the network questions are, and does not link to them.
    _send_barometer(db, survey)
    thanks = client.get(f"/s/{survey}/thanks").text
    assert "One more, optional part: who do you work with?" in thanks
    assert "personal network link" in thanks and "NOT anonymous" in thanks
    assert link not in thanks and "/n/" not in thanks and "/network" not in thanks
    # The survey link does not open the step, at either address.
    old_address = client.get(f"/s/{survey}/network")  # the survey's "already received" page
    assert "You are answering as" not in old_address.text and link not in old_address.text
    unknown = client.get(f"/n/{survey}")
    assert unknown.status_code == 404 and "network link is not recognised" in unknown.text
    # ... and the network link does not open the survey.
    assert client.get(f"/s/{link}").status_code == 404

    choose = client.get(f"/n/{link}")
    assert choose.status_code == 200 and "set-cookie" not in choose.headers
    assert choose.headers["cache-control"] == "no-store"
    assert choose.headers["referrer-policy"] == "no-referrer"
    page = choose.text
    assert page.index("This part is NOT anonymous") < page.index("<form")
    assert 'You are answering as <strong id="respondent">Ann Able — Brempton Police</strong>' in page
    assert 'name="respondent"' not in page  # nobody says who they are: the link does
    assert "Dee Dunn" not in page  # left the partnership: not offered
    assert '<option value="Ann Able — Brempton Police">' not in page  # not herself
    assert page.count('list="choices-list"') == reported.PICK_ROWS
    assert survey not in page  # nothing of the survey link, draft or response

    rate = client.post(
        f"/n/{link}",
        data={
            "form_token": _form_token(page),
            "pick-1": "Ben Best",  # a name only one person has is enough
            "pick-2": "Cat Cole — Brempton Health",
            "pick-3": "",
            "action": "rate",
        },
    )
    assert rate.status_code == 200
    assert "recorded with your name, Ann Able — Brempton Police" in rate.text
    assert "<legend>1. Ben Best — Brempton Police</legend>" in rate.text
    assert "<legend>2. Cat Cole — Brempton Health</legend>" in rate.text
    hidden = _rate_form(rate.text)
    assert "respondent_id" not in hidden and hidden["count"] == "2"
    stored = client.post(
        f"/n/{link}/rate",
        data={
            **hidden,
            "respondent_id": str(ids["ben"]),  # an attacker's extra field: ignored
            "tie-1-frequency": "weekly",
            "tie-1-trust_reliable": "4",
            "tie-1-value_resources": "2",
            "tie-2-frequency": "quarterly",
            "action": "send",
        },
    )
    assert stored.status_code == 303 and stored.headers["location"] == f"/n/{link}/sent"
    assert "has been recorded, with your name" in client.get(stored.headers["location"]).text

    ties = sorted(_ties(db), key=lambda x: x.to_person_id or 0)
    assert [(x.from_person_id, x.to_person_id, x.round_id, x.source) for x in ties] == sorted(
        [(ids["ann"], ids["ben"], round_id, "reported"), (ids["ann"], ids["cat"], round_id, "reported")],
        key=lambda x: x[1],
    )
    by_target = {x.to_person_id: x for x in ties}
    ben, cat = by_target[ids["ben"]], by_target[ids["cat"]]
    assert (ben.frequency, ben.trust_reliable, ben.trust_mission, ben.value_resources) == (4, 4, None, 2)
    assert (cat.frequency, cat.trust_reliable) == (2, None)
    (response,) = db.scalars(select(BarometerResponse)).all()
    assert response.answers == {"trust_1": 4}

    # Managers see the ties through the network, by name.
    found = network.network_for(
        db, actor=world.manager, partnership_id=world.partnership_id, sources={"reported": 1.0}
    )
    assert found.person_ids is not None
    pairs = {
        (int(found.person_ids[a]), int(found.person_ids[b]))
        for a, b in zip(found.edges.source, found.edges.target, strict=True)
    }
    assert pairs == {(ids["ann"], ids["ben"]), (ids["ann"], ids["cat"])}


def test_nobody_can_record_or_replace_another_persons_ties(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    """The attack that worked before: a link whose answers were sent recorded ties "as" anyone, which
    deleted that person's own ties. Now whose ties they are comes from the credential only."""
    ids = _people(db, world)
    round_id = _round(db, world)
    ann, ben = _link(db, world, round_id, ids["ann"]), _link(db, world, round_id, ids["ben"])
    _send(db, ben, [{"to": ids["ann"], "frequency": "weekly"}, {"to": ids["cat"]}])
    before = _pairs(db)
    client = browsers["anonymous"].client
    page = client.get(f"/n/{ann}").text
    # Ann's link posts every field an attacker could think of naming Ben, on both pages.
    for url, extra in (
        (f"/n/{ann}", {"pick-1": "Cat Cole", "action": "rate"}),
        (f"/n/{ann}/rate", {"count": "1", "tie-1-to": str(ids["cat"]), "action": "send"}),
    ):
        client.post(
            url,
            data={
                "form_token": _form_token(page),
                "respondent": "Ben Best",
                "respondent_id": str(ids["ben"]),
                "from_person_id": str(ids["ben"]),
                "person_id": str(ids["ben"]),
                **extra,
            },
        )
    assert _pairs(db) == before | {(ids["ann"], ids["cat"])}  # Ben's ties untouched; Ann's recorded
    # Ann's form token does not open Ben's link, and Ben's ties are only his to replace.
    refused = client.post(
        f"/n/{ben}/rate",
        data={"form_token": _form_token(page), "count": "1", "tie-1-to": str(ids["cat"]), "action": "send"},
    )
    assert refused.status_code == 403 and "nothing was saved" in refused.text
    assert _pairs(db) == before | {(ids["ann"], ids["cat"])}
    # A survey link (of anyone), the open link and made-up tokens open nothing.
    survey = _invite(db, world, round_id, ids["ben"]).token
    open_link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    db.commit()
    for token in (survey, open_link, "x" * 43, "not a token", ""):
        with pytest.raises(reported.NetworkStepUnavailable) as err:
            reported.step_for_link(db, token=token, secret_key=SECRET)
        assert err.value.reason == "unknown"
    # The step never depended on the survey: Ben sent ties without ever answering it.
    assert not any(i.used for i in db.scalars(select(BarometerInvitation)))


def test_the_open_link_gives_no_network_step_but_a_signed_in_person_has_one(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    open_link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    db.commit()
    _, resume = barometer.start_or_resume(db, token=open_link, secret_key=SECRET)
    _send_barometer(db, resume)
    thanks = browsers["anonymous"].client.get(f"/s/{resume}/thanks").text
    assert "sign in" in thanks and "/network" not in thanks and "/n/" not in thanks

    # The member persona's account email is Cat's in the register: the round page offers her step.
    member = browsers["member"]
    round_url = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    assert "You are in the register as <strong>Cat Cole</strong>" in member.get(round_url).text
    page = member.get(f"{round_url}/network")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "You are answering as" in page.text and "Cat Cole — Brempton Health" in page.text
    rate = member.post(f"{round_url}/network", {"pick-1": "Ann Able", "action": "rate"})
    assert rate.status_code == 200
    hidden = {k: v for k, v in _rate_form(rate.text).items() if k != "csrf_token"}
    sent = member.post(
        f"{round_url}/network/rate",
        {**hidden, "respondent_id": str(ids["ben"]), "tie-1-trust_open": "3", "action": "send"},
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"{round_url}/network/sent"
    assert "has been recorded, with your name" in member.get(sent.headers["location"]).text
    (tie,) = _ties(db)
    assert (tie.from_person_id, tie.to_person_id, tie.trust_open) == (ids["cat"], ids["ann"], 3)
    # Without the session's CSRF token nothing is stored.
    forged = member.client.post(
        f"{round_url}/network/rate", data={**hidden, "tie-1-to": str(ids["ben"]), "action": "send"}
    )
    assert forged.status_code == 403 and len(_ties(db)) == 1

    # The manager's account is no one in the register: the page says so, a post changes nothing.
    manager = browsers["manager"]
    assert "Your network questions" not in manager.get(round_url).text
    no_one = manager.get(f"{round_url}/network")
    assert no_one.status_code == 200 and "Your account is not a person in the register" in no_one.text
    posted = manager.post(
        f"{round_url}/network/rate", {"count": "1", "tie-1-to": str(ids["ben"]), "action": "send"}
    )
    assert posted.status_code == 403 and len(_ties(db)) == 1
    # Outsiders find nothing.
    assert browsers["outsider"].get(f"{round_url}/network").status_code == 404
    with pytest.raises(NotFound):
        reported.step_for_account(db, actor=world.outsider, round_id=round_id)


def test_nothing_stored_lines_the_step_up_with_a_response(world: World, db: Session) -> None:
    """Ties carry the day only, random ids, and an audit entry that names no one."""
    ids = _people(db, world)
    round_id = _round(db, world)
    links = {key: _link(db, world, round_id, ids[key]) for key in ("ann", "ben")}
    for key in ("ann", "ben"):
        others = [p for p in ("ann", "ben", "cat") if p != key]
        _send(db, links[key], [{"to": ids[p]} for p in others])
    ties = _ties(db)
    assert {x.observed_on for x in ties} == {date.today()}
    assert {x.created_at for x in ties} == {datetime.combine(date.today(), time(0), tzinfo=UTC)}
    # Random ids: not the order the ties were sent in (four sequential ids would be 1, 2, 3, 4).
    sent_order = [x.id for x in ties]
    assert min(sent_order) > 10_000 and sorted(sent_order) != list(
        range(min(sent_order), min(sent_order) + 4)
    )
    # The columns say nothing links a tie to a response, nor a response to a person.
    assert {c.key for c in inspect(NetworkTie).columns} == {
        "id",
        "partnership_id",
        "source",
        "from_person_id",
        "to_person_id",
        "to_organisation_id",
        "round_id",
        "frequency",
        *reported.FIELDS[1:],
        "weight",
        "observed_on",
        "created_at",
    }
    assert {c.key for c in inspect(BarometerResponse).columns} == {
        "id",
        "round_id",
        "organisation_id",
        "profession_id",
        "hierarchy_tier",
        "wt_tier",
        "answers",
        "submitted_on",
        "source",
    }
    # The audit says that ties were sent, never by whom nor how many.
    events = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "network_tie")).all()
    assert len(events) == 2
    for event in events:
        assert event.summary == (
            "reported ties recorded for round Spring 2026 (who sent them is in the ties, by day)"
        )
        assert event.actor_label == reported.AUDIT_ACTOR and event.actor_user_id is None
        assert event.record_id is None and event.before is None and event.after is None
    dump = " ".join(str(v) for row in db.execute(text("SELECT * FROM audit_event")) for v in row)
    for name in ("Ann Able", "Ben Best"):
        assert f"by {name}" not in dump


def test_issuing_links_for_register_people(browsers: dict[str, Browser], world: World, db: Session) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    manager = browsers["manager"]
    round_url = f"/p/{world.partnership_id}/barometer/rounds/{round_id}"
    page = manager.get(round_url).text
    assert "Links for everyone in the register (3)" in page  # Dee has left
    assert f'name="people" value="{ids["ann"]}"' in page and f'value="{ids["dee"]}"' not in page
    issued = manager.post(
        f"{round_url}/invitations",
        {"people": [str(ids["ann"]), str(ids["ben"])], "invitees": "BEN@example.org\nsomeone@else.example"},
    )
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    assert "Personal network link" in issued.text
    data = re.search(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', issued.text)
    assert data
    import base64

    rows = list(csv.DictReader(io.StringIO(base64.b64decode(data.group(1)).decode("utf-8"))))
    # Ben ticked and pasted: one invitation. The unknown address gets a survey link only.
    assert [(r["name"], r["email"]) for r in rows] == [
        ("Ann Able", "ann@example.org"),
        ("Ben Best", "ben@example.org"),
        ("someone@else.example", "someone@else.example"),
    ]
    assert all(r["link"].startswith("https://testserver/s/") for r in rows)
    assert rows[0]["network_link"].startswith("https://testserver/n/") and rows[2]["network_link"] == ""
    db.expire_all()
    stored = {i.label: i for i in db.scalars(select(BarometerInvitation))}
    assert stored["Ann Able"].person_id == ids["ann"] and stored["someone@else.example"].person_id is None
    # Only fingerprints are stored, kept apart from the survey link's.
    token = rows[0]["network_link"].rsplit("/", 1)[1]
    assert stored["Ann Able"].network_token_hash == barometer.network_link_hash(SECRET, token)
    assert token not in " ".join(
        str(v) for r in db.execute(text("SELECT * FROM barometer_invitation")) for v in r
    )

    everyone = manager.post(f"{round_url}/invitations", {"everyone": "1"})
    assert everyone.status_code == 200 and "3 personal links created" in everyone.text
    # Someone of another partnership, someone who left, and no one: the same words.
    other = register.create_organisation(
        db,
        actor=world.outsider,
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    stranger = register.create_person(
        db,
        actor=world.outsider,
        partnership_id=world.other_partnership_id,
        data=s.PersonCreate(full_name="Stranger", organisation_id=other.id, hierarchy_tier=3),
    )
    db.commit()
    for person_id in (stranger.id, ids["dee"], 99999999, "x"):
        refused = manager.post(f"{round_url}/invitations", {"people": [str(person_id)]})
        assert refused.status_code == 422
        assert "is not one of the partnership&#39;s current people" in refused.text
    # A round without a network section issues no network links.
    plain = _round(db, world, section="none")
    (no_network,) = barometer.issue_invitations(
        db, actor=world.manager, round_id=plain, person_ids=[ids["ann"]], secret_key=SECRET
    )
    assert no_network.person_id == ids["ann"] and no_network.network_token is None
    with pytest.raises(NotFound):
        barometer.issue_invitations(
            db, actor=world.outsider, round_id=round_id, person_ids=[ids["ann"]], secret_key=SECRET
        )


def test_the_link_stops_with_the_round_and_with_the_person(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    ann, ben = _link(db, world, round_id, ids["ann"]), _link(db, world, round_id, ids["ben"])
    client = browsers["anonymous"].client
    register.end_person(
        db, actor=world.manager, person_id=ids["ben"], ended_on=date.today() - timedelta(days=1)
    )
    db.commit()
    gone = client.get(f"/n/{ben}")
    assert gone.status_code == 403 and "no longer in the partnership" in gone.text
    barometer.update_round(
        db,
        actor=world.manager,
        round_id=round_id,
        data=barometer.RoundUpdate(
            title="Spring 2026",
            opens_on=date.today() - timedelta(days=1),
            closes_on=date.today() + timedelta(days=30),
            network_section="none",
        ),
    )
    db.commit()
    assert "has no network questions" in client.get(f"/n/{ann}").text
    barometer.close_round(db, actor=world.manager, round_id=round_id)
    db.commit()
    closed = client.get(f"/n/{ann}")
    assert closed.status_code == 410 and "This round has closed" in closed.text
    assert _ties(db) == []


def test_skip_records_nothing(browsers: dict[str, Browser], world: World, db: Session) -> None:
    ids = _people(db, world)
    link = _link(db, world, _round(db, world), ids["ann"])
    client = browsers["anonymous"].client
    skipped = client.get(f"/n/{link}/skip")
    assert skipped.status_code == 200 and "Nothing about who you work with was recorded" in skipped.text
    assert _ties(db) == []
    assert f'href="/n/{link}/skip"' in client.get(f"/n/{link}").text


def test_forms_without_the_link_form_token_are_refused(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    link = _link(db, world, _round(db, world), ids["ann"])
    client = browsers["anonymous"].client
    data = {"count": "1", "tie-1-to": str(ids["ben"]), "action": "send"}
    for form_token in ("", "0" * 64, barometer.form_token(SECRET, link), "é" * 64):
        refused = client.post(f"/n/{link}/rate", data={**data, "form_token": form_token})
        assert refused.status_code == 403 and "nothing was saved" in refused.text
    assert _ties(db) == []


# --- bad input -----------------------------------------------------------------------------------------
def test_bad_input_is_refused_by_field_and_nothing_is_stored(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    link = _link(db, world, round_id, ids["ann"])

    def refused(ties: list) -> dict[str, str]:
        with pytest.raises(InputError) as err:
            _send(db, link, ties)
        db.rollback()
        return err.value.by_field()

    problems = refused(
        [
            {"to": 999999},  # unknown person
            {"to": ids["ann"]},  # herself
            {"to": ids["ben"], "trust_open": "5", "frequency": "often"},
            {"to": ids["dee"]},  # left the partnership
            {"to": ids["cat"]},
            {"to": ids["cat"]},  # twice
        ]
    )
    assert problems == {
        "tie-1-to": "is not one of the people you could pick",
        "tie-2-to": "Ann Able — Brempton Police is you: pick the people you work with",
        "tie-3-frequency": 'Ben Best — Brempton Police: "often" is not a frequency: give never, yearly, '
        "quarterly, monthly, weekly, or 0-4",
        "tie-3-trust_open": 'Ben Best — Brempton Police: "5" is not a whole number from 1 to 4',
        "tie-4-to": "is not one of the people you could pick",
        "tie-6-to": "Cat Cole — Brempton Health is picked twice",
    }
    produced = {f"{field}: {message}" for field, message in problems.items()}
    assert refused([]) == {"ties": "pick at least one person, or skip this part"}
    assert refused([{"to": ids["ben"]}] * 21)["ties"] == "at most 20 ties; 21 were sent"
    produced.add("ties: at most 20 ties; 21 were sent")

    step = reported.step_for_link(db, token=link, secret_key=SECRET)
    with pytest.raises(InputError) as err:
        reported.choose(step=step, picks=["Zed Nobody", "Ann Able — Brempton Police", "Ben Best", "ben best"])
    assert err.value.by_field() == {
        "pick-1": '"Zed Nobody" is not one of the people in the list',
        "pick-2": "Ann Able — Brempton Police is you: pick the people you work with",
        "pick-4": "Ben Best — Brempton Police is already picked (pick 3)",
    }
    for n in range(25):
        register.create_person(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.PersonCreate(full_name=f"Extra {n}", organisation_id=ids["health"], hierarchy_tier=5),
        )
    db.commit()
    step = reported.step_for_link(db, token=link, secret_key=SECRET)
    with pytest.raises(InputError) as err:
        reported.choose(step=step, picks=[f"Extra {n}" for n in range(21)])
    assert err.value.by_field() == {"picks": "pick at most 20; you picked 21"}

    # Through the pages: a rating of 5 comes back with the field named, and nothing is stored.
    client = browsers["anonymous"].client
    page = client.get(f"/n/{link}").text
    rate = client.post(
        f"/n/{link}", data={"form_token": _form_token(page), "pick-1": "Cat Cole", "action": "rate"}
    )
    again = client.post(
        f"/n/{link}/rate",
        data={
            **_rate_form(rate.text),
            "tie-1-trust_reliable": "5",
            "tie-1-frequency": "weekly",
            "action": "send",
        },
    )
    assert again.status_code == 422 and 'role="alert"' in again.text
    assert "Cat Cole — Brempton Health: &#34;5&#34; is not a whole number from 1 to 4" in again.text
    assert 'id="f-tie-1-trust_reliable" name="tie-1-trust_reliable" aria-describedby' in again.text
    assert re.search(r'<option value="weekly" selected>', again.text)  # what was chosen is kept
    nobody = client.post(
        f"/n/{link}", data={"form_token": _form_token(page), "pick-1": "Zed", "action": "rate"}
    )
    assert nobody.status_code == 422 and "&#34;Zed&#34; is not one of the people in the list" in nobody.text
    huge = client.post(
        f"/n/{link}/rate",
        data={**_rate_form(rate.text), "count": "9" * 30, "tie-1-to": "9" * 30, "action": "send"},
    )
    assert huge.status_code == 422
    assert _ties(db) == []
    assert db.scalars(select(AuditEvent).where(AuditEvent.record_type == "network_tie")).all() == []
    # The examples in docs/network.md are messages the service gives.
    doc = (Path(__file__).resolve().parents[2] / "docs" / "network.md").read_text(encoding="utf-8")
    section = doc.split("### Reported ties", 1)[1]
    examples = section.split("```", 2)[1].strip().splitlines()
    assert len(examples) == 5 and set(examples) <= produced


def test_sending_again_replaces_the_same_persons_ties_for_the_round(world: World, db: Session) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    ann, ben = _link(db, world, round_id, ids["ann"]), _link(db, world, round_id, ids["ben"])
    _send(db, ben, [{"to": ids["ann"]}])
    first = [{"to": ids["ben"], "frequency": "monthly"}, {"to": ids["cat"], "trust_open": "3"}]
    for _ in range(2):  # a double click: the same set, once
        recorded = _send(db, ann, first)
    assert (recorded.ties, recorded.replaced) == (2, 2)
    assert _pairs(db) == {(ids["ben"], ids["ann"]), (ids["ann"], ids["ben"]), (ids["ann"], ids["cat"])}
    # A second link for Ann (invited again) is still Ann: a change of mind replaces her set only.
    again = _link(db, world, round_id, ids["ann"])
    _send(db, again, [{"to": ids["cat"], "frequency": "weekly"}])
    assert {(x.from_person_id, x.to_person_id, x.frequency) for x in _ties(db)} == {
        (ids["ben"], ids["ann"], None),
        (ids["ann"], ids["cat"], 4),
    }
    assert reported.completed_count(db, actor=world.manager, round_id=round_id) == 2


# --- managers --------------------------------------------------------------------------------------------
def test_managers_choose_the_section_and_see_how_many_completed_it(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    manager = browsers["manager"]
    form = manager.get(f"/p/{world.partnership_id}/barometer/new").text
    assert 'name="network_section"' in form and "NOT anonymous" in form
    created = manager.post(
        f"/p/{world.partnership_id}/barometer/new",
        {
            "instrument": REF,
            "title": "Autumn",
            "opens_on": (date.today() - timedelta(days=1)).isoformat(),
            "closes_on": (date.today() + timedelta(days=9)).isoformat(),
            "anonymity_threshold": "5",
            "network_section": "people",
        },
    )
    assert created.status_code == 303
    round_url = created.headers["location"].split("?")[0]
    round_id = int(round_url.rsplit("/", 1)[1])
    bad = manager.post(
        f"{round_url}/edit",
        {
            "title": "Autumn",
            "opens_on": date.today().isoformat(),
            "closes_on": date.today().isoformat(),
            "network_section": "friends",
        },
    )
    assert (
        bad.status_code == 422 and "&#34;friends&#34; is not one of: none, people, organisations" in bad.text
    )

    page = manager.get(round_url).text
    assert "People: each respondent names the people they work with" in page
    assert "0 people completed it" in page and "personal network link" in page
    _send(db, _link(db, world, round_id, ids["ann"]), [{"to": ids["ben"]}])
    assert "1 person completed it" in manager.get(round_url).text
    assert "1 person completed it" in browsers["member"].get(round_url).text  # a count only
    assert browsers["outsider"].get(round_url).status_code == 404

    edit = {
        "title": "Autumn",
        "opens_on": (date.today() - timedelta(days=1)).isoformat(),
        "closes_on": (date.today() + timedelta(days=9)).isoformat(),
        "anonymity_threshold": "5",
    }
    swap = manager.post(f"{round_url}/edit", {**edit, "network_section": "organisations"})
    assert swap.status_code == 422
    assert "cannot change to organisations now that 1 person has named their ties to people" in swap.text
    assert manager.post(f"{round_url}/edit", {**edit, "network_section": "none"}).status_code == 303
    db.expire_all()
    assert barometer.get_round(db, actor=world.manager, round_id=round_id).network_section == "none"
    assert "1 person completed it" in manager.get(round_url).text

    assert [x.to_person_id for x in reported.reported_ties(db, actor=world.manager, round_id=round_id)] == [
        ids["ben"]
    ]
    with pytest.raises(NotAllowed):
        reported.reported_ties(db, actor=world.member, round_id=round_id)
    with pytest.raises(NotFound):
        reported.reported_ties(db, actor=world.outsider, round_id=round_id)
    with pytest.raises(NotFound):
        reported.completed_count(db, actor=world.outsider, round_id=round_id)


def test_an_organisation_round_stores_ties_to_organisations_kept_out_of_the_person_network(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    round_id = _round(db, world, section="organisations")
    link = _link(db, world, round_id, ids["ann"])
    client = browsers["anonymous"].client
    page = client.get(f"/n/{link}").text
    assert "the organisations you pick" in page
    assert '<option value="Brempton Health">' in page and "Organisation 1" in page
    own = client.post(
        f"/n/{link}", data={"form_token": _form_token(page), "pick-1": "Brempton Police", "action": "rate"}
    )
    assert own.status_code == 422 and "Brempton Police is your own organisation" in own.text
    rate = client.post(
        f"/n/{link}", data={"form_token": _form_token(page), "pick-1": "brempton health", "action": "rate"}
    )
    sent = client.post(
        f"/n/{link}/rate", data={**_rate_form(rate.text), "tie-1-value_influence": "3", "action": "send"}
    )
    assert sent.status_code == 303
    (tie,) = _ties(db)
    assert (tie.from_person_id, tie.to_person_id, tie.to_organisation_id, tie.value_influence) == (
        ids["ann"],
        None,
        ids["health"],
        3,
    )
    assert [x.id for x in reported.reported_ties(db, actor=world.manager, round_id=round_id)] == [tie.id]
    found = network.network_for(
        db, actor=world.manager, partnership_id=world.partnership_id, sources={"reported": 1.0}
    )
    assert len(found.edges) == 0
    assert importers.export_rows(db, actor=world.manager, partnership_id=world.partnership_id) == []
