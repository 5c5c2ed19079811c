"""Reported ties: the optional, named network section offered after the anonymous barometer is sent, on
both databases. The barometer response must stay unlinked; the ties carry the round and the person."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit.models import AuditEvent
from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerResponse
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
    """Ann and Ben of Brempton Police, Cat of Brempton Health, and Dee who left last year."""
    health = register.create_organisation(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.OrganisationCreate(name="Brempton Health", kind="health", tier="statutory"),
    )
    ids = {"health": health.id}
    for key, name, organisation, ended in (
        ("ann", "Ann Able", world.organisation_id, None),
        ("ben", "Ben Best", world.organisation_id, None),
        ("cat", "Cat Cole", health.id, None),
        ("dee", "Dee Dunn", health.id, date.today() - timedelta(days=400)),
    ):
        person = register.create_person(
            db,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.PersonCreate(
                full_name=name,
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


def _invite(db: Session, world: World, round_id: int, who: str = "ann@example.org") -> str:
    (issued,) = barometer.issue_invitations(
        db, actor=world.manager, round_id=round_id, invitees=who, secret_key=SECRET
    )
    db.commit()
    return issued.token


def _send_barometer(db: Session, token: str) -> None:
    barometer.start_or_resume(db, token=token, secret_key=SECRET)
    barometer.save_page(db, token=token, secret_key=SECRET, page="working_together", answers={"trust_1": "4"})
    barometer.submit(db, token=token, secret_key=SECRET)
    db.commit()


def _form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def _ties(db: Session) -> list[NetworkTie]:
    db.expire_all()
    return list(db.scalars(select(NetworkTie).order_by(NetworkTie.id)))


def _rate_form(html: str) -> dict[str, str]:
    """The hidden fields of the rating page, as the browser would send them back."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


# --- the respondent's journey --------------------------------------------------------------------------
def test_barometer_then_network_section_stores_named_ties_unlinked_to_the_response(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    token = _invite(db, world, round_id)
    client = browsers["anonymous"].client
    client.post(f"/s/{token}/start", data={"form_token": _form_token(client.get(f"/s/{token}").text)})
    check = client.get(f"/s/{token}/working_together")
    client.post(f"/s/{token}/working_together", data={"form_token": _form_token(check.text), "trust_1": "5"})
    sent = client.post(f"/s/{token}/check", data={"form_token": _form_token(check.text), "action": "send"})
    assert sent.headers["location"] == f"/s/{token}/thanks"

    thanks = client.get(f"/s/{token}/thanks").text
    assert "One more, optional part: who do you work with?" in thanks
    assert "This part is NOT anonymous: it records your name with the people you pick." in thanks
    assert f'href="/s/{token}/network"' in thanks and f'href="/s/{token}/network/skip"' in thanks
    # Coming back to the link later still offers it.
    assert f'href="/s/{token}/network"' in client.get(f"/s/{token}").text

    choose = client.get(f"/s/{token}/network")
    assert choose.status_code == 200 and "set-cookie" not in choose.headers
    assert choose.headers["cache-control"] == "no-store"
    text = choose.text
    # The warning comes before the form starts; the invitation's address is not filled in anywhere.
    assert text.index("This part is NOT anonymous") < text.index("<form")
    assert "ann@example.org" not in text and 'value=""' in text
    assert '<option value="Ann Able — Brempton Police">' in text
    assert "Dee Dunn" not in text  # left the partnership: not offered
    assert text.count('list="people-list"') == 1 + reported.PICK_ROWS

    rate = client.post(
        f"/s/{token}/network",
        data={
            "form_token": _form_token(text),
            "respondent": "ann able — brempton police",
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
    assert ">1 – not at all</option>" in rate.text and ">4 – a great deal</option>" in rate.text
    hidden = _rate_form(rate.text)
    assert hidden["respondent_id"] == str(ids["ann"]) and hidden["count"] == "2"
    stored = client.post(
        f"/s/{token}/network/rate",
        data={
            **hidden,
            "tie-1-frequency": "weekly",
            "tie-1-trust_reliable": "4",
            "tie-1-value_resources": "2",
            "tie-2-frequency": "quarterly",
            "action": "send",
        },
    )
    assert stored.status_code == 303 and stored.headers["location"] == f"/s/{token}/network/sent"
    assert "has been recorded, with your name" in client.get(stored.headers["location"]).text

    ties = _ties(db)
    assert [(x.from_person_id, x.to_person_id, x.round_id, x.source) for x in ties] == [
        (ids["ann"], ids["ben"], round_id, "reported"),
        (ids["ann"], ids["cat"], round_id, "reported"),
    ]
    ben, cat = ties
    assert (ben.frequency, ben.trust_reliable, ben.trust_mission, ben.value_resources) == (4, 4, None, 2)
    assert (cat.frequency, cat.trust_reliable) == (2, None)
    # No time finer than the day is stored with a tie.
    assert {x.observed_on for x in ties} == {date.today()}
    assert {x.created_at for x in ties} == {datetime.combine(date.today(), time(0), tzinfo=UTC)}
    # Nothing links a tie to the response, nor the response to a person: the columns say so.
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
    (response,) = db.scalars(select(BarometerResponse)).all()
    assert response.answers == {"trust_1": 5} and response.organisation_id is None

    # Managers see the ties through the network, by name; the audit names the round and the person.
    found = network.network_for(
        db, actor=world.manager, partnership_id=world.partnership_id, sources={"reported": 1.0}
    )
    assert found.person_ids is not None
    pairs = {
        (int(found.person_ids[a]), int(found.person_ids[b]))
        for a, b in zip(found.edges.source, found.edges.target, strict=True)
    }
    assert pairs == {(ids["ann"], ids["ben"]), (ids["ann"], ids["cat"])}
    event = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "network_tie")).one()
    assert event.summary == "reported ties recorded for round Spring 2026 by Ann Able: 2 ties to people"
    assert event.actor_label == "Ann Able (survey respondent)" and event.via == "survey"


def test_skip_records_nothing_and_the_step_waits_for_the_barometer(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    _people(db, world)
    token = _invite(db, world, _round(db, world))
    client = browsers["anonymous"].client
    # Before the anonymous answers are sent there is no network step.
    assert client.get(f"/s/{token}/network").headers["location"] == f"/s/{token}"
    with pytest.raises(reported.NetworkSectionUnavailable) as refused:
        reported.open_step(db, token=token, secret_key=SECRET)
    assert refused.value.reason == "not-sent"
    _send_barometer(db, token)
    skipped = client.get(f"/s/{token}/network/skip")
    assert skipped.status_code == 200 and "Nothing about who you work with was recorded" in skipped.text
    assert _ties(db) == []
    # The pages of the step offer the skip before and after choosing.
    assert f'href="/s/{token}/network/skip"' in client.get(f"/s/{token}/network").text


def test_a_round_without_the_section_never_offers_it(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    token = _invite(db, world, _round(db, world, section="none"))
    _send_barometer(db, token)
    client = browsers["anonymous"].client
    thanks = client.get(f"/s/{token}/thanks").text
    assert "Your answers have been received" in thanks
    assert "who do you work with" not in thanks and "/network" not in thanks
    assert client.get(f"/s/{token}/network").headers["location"] == f"/s/{token}"
    assert client.get(f"/s/{token}/network/skip").headers["location"] == f"/s/{token}"
    posted = client.post(
        f"/s/{token}/network/rate",
        data={
            "form_token": barometer.form_token(SECRET, token),
            "respondent_id": str(ids["ann"]),
            "count": "1",
            "tie-1-to": str(ids["ben"]),
            "action": "send",
        },
    )
    assert posted.status_code == 303 and posted.headers["location"] == f"/s/{token}"
    with pytest.raises(reported.NetworkSectionUnavailable) as refused:
        reported.record_reported_ties(
            db, token=token, secret_key=SECRET, respondent_id=ids["ann"], ties=[{"to": ids["ben"]}]
        )
    assert refused.value.reason == "no-section"
    assert _ties(db) == []


def test_forms_without_the_link_form_token_are_refused(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    token = _invite(db, world, _round(db, world))
    _send_barometer(db, token)
    client = browsers["anonymous"].client
    data = {"respondent_id": str(ids["ann"]), "count": "1", "tie-1-to": str(ids["ben"]), "action": "send"}
    for form_token in ("", "0" * 64):
        refused = client.post(f"/s/{token}/network/rate", data={**data, "form_token": form_token})
        assert refused.status_code == 403 and "nothing was saved" in refused.text
    assert _ties(db) == []


# --- bad input -----------------------------------------------------------------------------------------
def test_bad_input_is_refused_by_field_and_nothing_is_stored(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    token = _invite(db, world, round_id)
    _send_barometer(db, token)

    def refused(**kw: object) -> dict[str, str]:
        with pytest.raises(InputError) as err:
            reported.record_reported_ties(db, token=token, secret_key=SECRET, **kw)  # type: ignore[arg-type]
        db.rollback()
        return err.value.by_field()

    problems = refused(
        respondent_id=ids["ann"],
        ties=[
            {"to": 999999},  # unknown person
            {"to": ids["ann"]},  # herself
            {"to": ids["ben"], "trust_open": "5", "frequency": "often"},
            {"to": ids["dee"]},  # left the partnership
            {"to": ids["cat"]},
            {"to": ids["cat"]},  # twice
        ],
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
    assert refused(respondent_id="nobody", ties=[{"to": ids["ben"]}]) == {
        "respondent": "is not one of the partnership's current people"
    }
    produced |= {
        "respondent: is not one of the partnership's current people",
        "ties: at most 20 ties; 21 were sent",
    }
    assert refused(respondent_id=ids["ann"], ties=[]) == {
        "ties": "pick at least one person, or skip this part"
    }
    assert refused(respondent_id=ids["ann"], ties=[{"to": ids["ben"]}] * 21)["ties"] == (
        "at most 20 ties; 21 were sent"
    )

    # Choosing: unknown names, herself and more than 20 picks, each named by its field.
    with pytest.raises(InputError) as err:
        reported.choose(
            db,
            token=token,
            secret_key=SECRET,
            respondent="Ann Able",
            picks=["Zed Nobody", "Ann Able — Brempton Police", "Ben Best", "ben best"],
        )
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
    with pytest.raises(InputError) as err:
        reported.choose(
            db, token=token, secret_key=SECRET, respondent="", picks=[f"Extra {n}" for n in range(21)]
        )
    assert err.value.by_field() == {
        "respondent": "say who you are: choose your name from the list",
        "picks": "pick at most 20; you picked 21",
    }

    # Through the pages: a rating of 5 comes back with the field named, and nothing is stored.
    client = browsers["anonymous"].client
    page = client.get(f"/s/{token}/network").text
    rate = client.post(
        f"/s/{token}/network",
        data={
            "form_token": _form_token(page),
            "respondent": "Ann Able",
            "pick-1": "Cat Cole",
            "action": "rate",
        },
    )
    again = client.post(
        f"/s/{token}/network/rate",
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
    no_one = client.post(
        f"/s/{token}/network", data={"form_token": _form_token(page), "respondent": "Ann", "action": "rate"}
    )
    assert no_one.status_code == 422 and "&#34;Ann&#34; is not one of the people in the list" in no_one.text
    assert _ties(db) == []
    assert db.scalars(select(AuditEvent).where(AuditEvent.record_type == "network_tie")).all() == []
    # The examples in docs/network.md are messages the service gives.
    doc = (Path(__file__).resolve().parents[2] / "docs" / "network.md").read_text(encoding="utf-8")
    section = doc.split("### Reported ties", 1)[1]
    examples = section.split("```", 2)[1].strip().splitlines()
    assert len(examples) == 5 and set(examples) <= produced


def test_sending_again_replaces_the_same_respondents_ties_for_the_round(world: World, db: Session) -> None:
    ids = _people(db, world)
    round_id = _round(db, world)
    token = _invite(db, world, round_id)
    _send_barometer(db, token)
    other = _invite(db, world, round_id, "ben@example.org")
    _send_barometer(db, other)
    reported.record_reported_ties(
        db, token=other, secret_key=SECRET, respondent_id=ids["ben"], ties=[{"to": ids["ann"]}]
    )
    first = [{"to": ids["ben"], "frequency": "monthly"}, {"to": ids["cat"], "trust_open": "3"}]
    for _ in range(2):  # a double click: the same set, once
        recorded = reported.record_reported_ties(
            db, token=token, secret_key=SECRET, respondent_id=ids["ann"], ties=first
        )
        db.commit()
    assert (recorded.ties, recorded.replaced) == (2, 2)
    assert sorted((x.from_person_id, x.to_person_id) for x in _ties(db)) == sorted(
        [(ids["ben"], ids["ann"]), (ids["ann"], ids["ben"]), (ids["ann"], ids["cat"])]
    )
    # A change of mind: the new set replaces Ann's ties for this round; Ben's stay.
    reported.record_reported_ties(
        db,
        token=token,
        secret_key=SECRET,
        respondent_id=ids["ann"],
        ties=[{"to": ids["cat"], "frequency": "weekly"}],
    )
    db.commit()
    assert sorted((x.from_person_id, x.to_person_id, x.frequency) for x in _ties(db)) == sorted(
        [(ids["ben"], ids["ann"], None), (ids["ann"], ids["cat"], 4)]
    )
    summaries = db.scalars(
        select(AuditEvent.summary).where(AuditEvent.record_type == "network_tie").order_by(AuditEvent.id)
    ).all()
    assert summaries[-1] == (
        "reported ties recorded for round Spring 2026 by Ann Able: 1 ties to people, replacing 2 sent before"
    )
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
    assert "0 people completed it" in page
    token = _invite(db, world, round_id)
    _send_barometer(db, token)
    reported.record_reported_ties(
        db, token=token, secret_key=SECRET, respondent_id=ids["ann"], ties=[{"to": ids["ben"]}]
    )
    db.commit()
    assert "1 person completed it" in manager.get(round_url).text
    assert "1 person completed it" in browsers["member"].get(round_url).text  # a count only
    assert browsers["outsider"].get(round_url).status_code == 404

    # Ties to people are in the round: it cannot become an organisation round; it can be turned off.
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

    # The ties by name: managers only.
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
    token = _invite(db, world, round_id)
    _send_barometer(db, token)
    client = browsers["anonymous"].client
    assert "records your name with the organisations you pick" in client.get(f"/s/{token}/thanks").text
    page = client.get(f"/s/{token}/network").text
    assert '<option value="Brempton Health">' in page and "Organisation 1" in page
    own = client.post(
        f"/s/{token}/network",
        data={
            "form_token": _form_token(page),
            "respondent": "Ann Able",
            "pick-1": "Brempton Police",
            "action": "rate",
        },
    )
    assert own.status_code == 422 and "Brempton Police is your own organisation" in own.text
    rate = client.post(
        f"/s/{token}/network",
        data={
            "form_token": _form_token(page),
            "respondent": "Ann Able",
            "pick-1": "brempton health",
            "action": "rate",
        },
    )
    sent = client.post(
        f"/s/{token}/network/rate",
        data={**_rate_form(rate.text), "tie-1-value_influence": "3", "action": "send"},
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
