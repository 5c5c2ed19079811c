"""Barometer services on both databases: instruments, rounds, invitations, the respondent's draft and
submit, imports and the answers matrix; anonymity checked on the tables themselves."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session, sessionmaker

from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit.models import AuditEvent
from reticulist.barometer import service as barometer
from reticulist.barometer.models import (
    BarometerDraft,
    BarometerInstrument,
    BarometerInvitation,
    BarometerResponse,
    BarometerRound,
)
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.barometer.barometer_fixtures import (
    ITEM_KEYS,
    REF,
    SECRET,
    open_test_round,
    small_builtin,  # noqa: F401  (autouse)
    small_instrument,  # noqa: F401
    small_instrument_json,
)
from tests.conftest import World


def _count(db: Session, model: type) -> int:
    return len(db.scalars(select(model)).all())


def _answer_everything(db: Session, token: str, code: int = 4) -> None:
    barometer.save_page(db, token=token, secret_key=SECRET, page="about", profile={})
    barometer.save_page(
        db,
        token=token,
        secret_key=SECRET,
        page="working_together",
        answers={k: str(code) for k in ITEM_KEYS[:3]},
    )
    barometer.save_page(
        db,
        token=token,
        secret_key=SECRET,
        page="getting_things_done",
        answers={k: str(code) for k in ITEM_KEYS[3:]},
    )


# --- rounds ------------------------------------------------------------------------------------------
def test_opening_rounds_copies_the_builtin_instrument_in_once_and_audits(db: Session, world: World) -> None:
    first = open_test_round(db, world)
    second = open_test_round(db, world, title="Autumn 2026")
    rows = db.scalars(select(BarometerInstrument)).all()
    assert len(rows) == 1 and rows[0].built_in and rows[0].partnership_id is None
    assert rows[0].content["items"][0]["construct"] == "trust"  # stored as the file spells it
    assert {db.get(BarometerRound, i).instrument_id for i in (first, second)} == {rows[0].id}
    events = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "barometer_round")).all()
    assert [e.event for e in events] == ["opened", "opened"]
    summary = barometer.round_summary(db, actor=world.member, round_id=first)
    assert summary.status == "open" and summary.responses == 0 and summary.response_rate is None


def test_bad_round_input_is_refused_naming_the_field_and_nothing_is_stored(db: Session, world: World) -> None:
    with pytest.raises(InputError) as err:
        s.parse(
            barometer.RoundCreate,
            {"instrument": "", "title": "", "opens_on": "soon", "closes_on": "", "anonymity_threshold": "2"},
        )
    fields = err.value.by_field()
    assert fields["instrument"] == "is required" and fields["title"] == "is required"
    assert "is not a date" in fields["opens_on"] and "at least 3" in fields["anonymity_threshold"]
    data = barometer.RoundCreate(
        instrument=REF, title="X", opens_on=date(2026, 5, 1), closes_on=date(2026, 4, 1)
    )
    with pytest.raises(InputError, match="closes_on: 2026-04-01 is before the opening day"):
        barometer.open_round(db, actor=world.manager, partnership_id=world.partnership_id, data=data)
    data = barometer.RoundCreate(
        instrument="nope@9", title="X", opens_on=date(2026, 5, 1), closes_on=date(2026, 6, 1)
    )
    with pytest.raises(InputError, match="not an instrument available"):
        barometer.open_round(db, actor=world.manager, partnership_id=world.partnership_id, data=data)
    db.rollback()
    assert _count(db, BarometerRound) == 0 and _count(db, BarometerInstrument) == 0


def test_who_may_do_what_with_rounds(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    data = barometer.RoundCreate(
        instrument=REF, title="X", opens_on=date(2026, 5, 1), closes_on=date(2026, 6, 1)
    )
    with pytest.raises(NotAllowed):
        barometer.open_round(db, actor=world.member, partnership_id=world.partnership_id, data=data)
    with pytest.raises(NotFound):
        barometer.open_round(db, actor=world.outsider, partnership_id=world.partnership_id, data=data)
    assert [
        r.round.id for r in barometer.list_rounds(db, actor=world.member, partnership_id=world.partnership_id)
    ] == [round_id]
    with pytest.raises(NotFound):
        barometer.list_rounds(db, actor=world.outsider, partnership_id=world.partnership_id)
    with pytest.raises(NotFound):
        barometer.get_round(db, actor=world.outsider, round_id=round_id)
    with pytest.raises(NotAllowed):
        barometer.issue_invitations(
            db, actor=world.member, round_id=round_id, invitees="a@example.org", secret_key=SECRET
        )
    with pytest.raises(NotAllowed):
        barometer.close_round(db, actor=world.member, round_id=round_id)
    with pytest.raises(NotFound):
        barometer.round_answers(db, actor=world.outsider, round_id=round_id)
    barometer.round_answers(db, actor=world.member, round_id=round_id)  # members read results


def test_update_and_close_a_round(db: Session, world: World) -> None:
    round_id = open_test_round(db, world, threshold=6)
    issued = barometer.issue_invitations(
        db, actor=world.manager, round_id=round_id, invitees="a@example.org", secret_key=SECRET
    )
    _answer_everything(db, issued[0].token)
    barometer.submit(db, token=issued[0].token, secret_key=SECRET)
    db.commit()
    found = barometer.get_round(db, actor=world.manager, round_id=round_id)
    change = barometer.RoundUpdate(
        title="Spring 2026 (extended)",
        opens_on=found.opens_on,
        closes_on=found.closes_on + timedelta(days=7),
        anonymity_threshold=5,
    )
    with pytest.raises(InputError, match="cannot go below 6 now that people have answered"):
        barometer.update_round(db, actor=world.manager, round_id=round_id, data=change)
    db.rollback()
    barometer.update_round(
        db, actor=world.manager, round_id=round_id, data=change.model_copy(update={"anonymity_threshold": 8})
    )
    db.commit()
    assert db.get(BarometerRound, round_id).anonymity_threshold == 8

    # An open-link draft in progress is discarded when the round closes early.
    link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    barometer.start_or_resume(db, token=link, secret_key=SECRET)
    db.commit()
    barometer.close_round(db, actor=world.manager, round_id=round_id)
    db.commit()
    assert barometer.round_summary(db, actor=world.member, round_id=round_id).status == "closed"
    assert _count(db, BarometerDraft) == 0
    with pytest.raises(InputError, match="already closed"):
        barometer.close_round(db, actor=world.manager, round_id=round_id)
    with pytest.raises(InputError, match="closed early and cannot be changed"):
        barometer.update_round(db, actor=world.manager, round_id=round_id, data=change)
    db.rollback()
    events = [
        e.event
        for e in db.scalars(
            select(AuditEvent).where(AuditEvent.record_type == "barometer_round").order_by(AuditEvent.id)
        )
    ]
    assert events == ["opened", "invited", "changed", "open-link", "closed"]


# --- invitations -------------------------------------------------------------------------------------
def test_invitations_store_only_hashes_and_the_csv_carries_the_links(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    issued = barometer.issue_invitations(
        db,
        actor=world.manager,
        round_id=round_id,
        invitees="Jo Bloggs <JO@police.example>\n\n  sam@health.example\nAlex Reed, alex@school.example\nPat",
        secret_key=SECRET,
    )
    db.commit()
    assert [(i.label, i.email) for i in issued] == [
        ("Jo Bloggs", "jo@police.example"),
        ("sam@health.example", "sam@health.example"),
        ("Alex Reed", "alex@school.example"),
        ("Pat", None),
    ]
    assert len({i.token for i in issued}) == 4
    stored = db.scalars(select(BarometerInvitation).order_by(BarometerInvitation.id)).all()
    assert len(stored) == 4 and not any(row.used for row in stored)
    # Only keyed hashes: no column of any barometer table holds a plain token.
    dump = " ".join(
        str(value)
        for table in ("barometer_invitation", "barometer_round", "barometer_draft", "audit_event")
        for row in db.execute(text(f"SELECT * FROM {table}"))
        for value in row
    )
    for invitation in issued:
        assert invitation.token not in dump
    assert {row.token_hash for row in stored} == {barometer.token_hash(SECRET, i.token) for i in issued}
    rows = list(csv.DictReader(io.StringIO(barometer.invitations_csv(issued, "https://ret.example/"))))
    assert rows[0] == {
        "name": "Jo Bloggs",
        "email": "jo@police.example",
        "link": f"https://ret.example/s/{issued[0].token}",
        "network_link": "",  # not a person of the register, and the round has no network section
    }
    assert rows[3]["email"] == ""
    audit = db.scalars(select(AuditEvent).where(AuditEvent.event == "invited")).one()
    assert audit.summary == "4 survey invitations issued for barometer round Spring 2026"


def test_bad_invitee_lines_are_named_and_nothing_is_issued(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    with pytest.raises(InputError) as err:
        barometer.issue_invitations(
            db,
            actor=world.manager,
            round_id=round_id,
            invitees="a@example.org\nBad <not-an-email>\nA@example.org",
            secret_key=SECRET,
        )
    assert [p.message for p in err.value.problems] == [
        'line 2: "not-an-email" is not an email address',
        "line 3: a@example.org is already on line 1",
    ]
    with pytest.raises(InputError, match="one email address or name per line"):
        barometer.issue_invitations(
            db, actor=world.manager, round_id=round_id, invitees=" \n", secret_key=SECRET
        )
    db.rollback()
    assert _count(db, BarometerInvitation) == 0


# --- answering ---------------------------------------------------------------------------------------
def test_invitation_answer_save_resume_and_submit_once(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    (issued,) = barometer.issue_invitations(
        db, actor=world.manager, round_id=round_id, invitees="jo@example.org", secret_key=SECRET
    )
    db.commit()
    survey, resume = barometer.start_or_resume(db, token=issued.token, secret_key=SECRET)
    assert resume == issued.token and survey.kind == "invitation"
    barometer.save_page(
        db,
        token=issued.token,
        secret_key=SECRET,
        page="about",
        profile={"organisation_id": str(world.organisation_id), "profession_id": "", "hierarchy_tier": "5"},
    )
    barometer.save_page(
        db,
        token=issued.token,
        secret_key=SECRET,
        page="working_together",
        answers={"trust_1": "5", "trust_2": "0"},
    )
    db.commit()
    # Later, the same link: the same draft, where they left off.
    again, _ = barometer.start_or_resume(db, token=issued.token, secret_key=SECRET)
    assert again.draft is not None and again.draft.id == survey.draft.id
    assert again.draft.page == "getting_things_done"
    assert again.draft.answers == {"trust_1": 5, "trust_2": 0}
    assert again.draft.profile == {
        "organisation_id": world.organisation_id,
        "profession_id": None,
        "hierarchy_tier": 5,
        "wt_tier": "statutory",  # from the register, because the organisation was named
    }
    assert _count(db, BarometerDraft) == 1
    # The draft cannot be joined to its invitation: its hash is derived differently.
    invitation = db.scalars(select(BarometerInvitation)).one()
    assert again.draft.token_hash != invitation.token_hash

    barometer.save_page(
        db, token=issued.token, secret_key=SECRET, page="getting_things_done", answers={"momentum_1": "2"}
    )
    response = barometer.submit(db, token=issued.token, secret_key=SECRET)
    db.commit()
    assert response is not None and response.source == "web" and response.submitted_on == date.today()
    assert response.answers == {"trust_1": 5, "trust_2": 0, "momentum_1": 2}
    assert (response.organisation_id, response.hierarchy_tier, response.wt_tier) == (
        world.organisation_id,
        5,
        "statutory",
    )
    assert db.get(BarometerInvitation, invitation.id).used
    draft = db.scalars(select(BarometerDraft)).one()
    assert draft.submitted and draft.answers == {} and draft.profile == {}  # answers gone from the draft

    for attempt in (
        lambda: barometer.submit(db, token=issued.token, secret_key=SECRET),
        lambda: barometer.start_or_resume(db, token=issued.token, secret_key=SECRET),
        lambda: barometer.save_page(
            db, token=issued.token, secret_key=SECRET, page="working_together", answers={"trust_1": "1"}
        ),
    ):
        with pytest.raises(barometer.AlreadyReceived):
            attempt()
    db.rollback()
    assert _count(db, BarometerResponse) == 1
    # Nothing about the response is audited.
    assert not db.scalars(select(AuditEvent).where(AuditEvent.record_type == "barometer_response")).all()


def test_two_submits_racing_record_one_response(
    db: Session, world: World, session_factory: sessionmaker[Session]
) -> None:
    round_id = open_test_round(db, world)
    link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    _, resume = barometer.start_or_resume(db, token=link, secret_key=SECRET)
    _answer_everything(db, resume)
    db.commit()
    with session_factory() as first, session_factory() as second:
        # Both have read the draft as not yet sent before either writes.
        barometer.find_survey(first, token=resume, secret_key=SECRET)
        barometer.find_survey(second, token=resume, secret_key=SECRET)
        barometer.submit(first, token=resume, secret_key=SECRET)
        first.commit()
        with pytest.raises(barometer.AlreadyReceived):
            barometer.submit(second, token=resume, secret_key=SECRET)
        second.rollback()
    assert _count(db, BarometerResponse) == 1


def test_open_link_gives_each_starter_their_own_resume_link(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    db.commit()
    assert link not in db.get(BarometerRound, round_id).open_link_hash
    survey_a, resume_a = barometer.start_or_resume(db, token=link, secret_key=SECRET)
    survey_b, resume_b = barometer.start_or_resume(db, token=link, secret_key=SECRET)
    assert len({link, resume_a, resume_b}) == 3 and survey_a.draft.id != survey_b.draft.id
    barometer.save_page(
        db, token=resume_a, secret_key=SECRET, page="working_together", answers={"trust_3": "1"}
    )
    db.commit()
    resumed, again = barometer.start_or_resume(db, token=resume_a, secret_key=SECRET)
    assert again == resume_a and resumed.draft.answers == {"trust_3": 1}
    # Replacing the open link: the old one stops working, answers already begun carry on.
    new_link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    db.commit()
    with pytest.raises(barometer.SurveyUnavailable) as gone:
        barometer.find_survey(db, token=link, secret_key=SECRET)
    assert gone.value.reason == "unknown"
    assert barometer.find_survey(db, token=new_link, secret_key=SECRET).kind == "open"
    barometer.submit(db, token=resume_a, secret_key=SECRET)
    db.commit()
    with pytest.raises(barometer.AlreadyReceived):
        barometer.submit(db, token=resume_a, secret_key=SECRET)
    with pytest.raises(InputError, match="answer at least one statement"):
        barometer.submit(db, token=resume_b, secret_key=SECRET)
    db.rollback()
    assert _count(db, BarometerResponse) == 1


def test_bad_answers_and_profiles_are_refused_and_change_nothing(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    _, resume = barometer.start_or_resume(db, token=link, secret_key=SECRET)
    barometer.save_page(
        db, token=resume, secret_key=SECRET, page="working_together", answers={"trust_1": "3"}
    )
    db.commit()
    with pytest.raises(InputError) as err:
        barometer.save_page(
            db,
            token=resume,
            secret_key=SECRET,
            page="working_together",
            answers={"trust_1": "1", "trust_2": "7", "made_up": "3", "trust_3": "-1"},
        )
    assert err.value.by_field() == {
        "trust_2": '"7" is not one of the answers (1 to 5, or 0 for don\'t know)',
        "made_up": "is not a statement of this survey",
        "trust_3": '"-1" is not one of the answers (1 to 5, or 0 for don\'t know)',
    }
    db.rollback()
    other_org = register.create_organisation(
        db,
        actor=world.outsider,
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    db.commit()
    with pytest.raises(InputError) as err:
        barometer.save_page(
            db,
            token=resume,
            secret_key=SECRET,
            page="about",
            profile={"organisation_id": str(other_org.id), "hierarchy_tier": "6", "wt_tier": "boss"},
        )
    assert err.value.by_field() == {
        "organisation_id": "is not an organisation of this partnership",
        "hierarchy_tier": '"6" is not 1-5',
        "wt_tier": '"boss" is not one of: statutory, other_member, involved',
    }
    with pytest.raises(InputError, match="not a page of this survey"):
        barometer.save_page(db, token=resume, secret_key=SECRET, page="elsewhere", answers={})
    db.rollback()
    draft = db.scalars(select(BarometerDraft)).one()
    db.refresh(draft)
    assert draft.answers == {"trust_1": 3} and draft.profile == {}
    assert _count(db, BarometerResponse) == 0


def test_unknown_tokens_and_rounds_not_open_are_refused(db: Session, world: World) -> None:
    for token in ("", "short", "x" * 43, "../../etc/passwd" + "a" * 30):
        with pytest.raises(barometer.SurveyUnavailable) as err:
            barometer.find_survey(db, token=token, secret_key=SECRET)
        assert err.value.reason == "unknown"
    later = open_test_round(
        db, world, opens_on=date.today() + timedelta(days=3), closes_on=date.today() + timedelta(days=9)
    )
    past = open_test_round(
        db, world, opens_on=date.today() - timedelta(days=30), closes_on=date.today() - timedelta(days=1)
    )
    for round_id, reason in ((later, "scheduled"), (past, "closed")):
        (issued,) = (
            barometer.issue_invitations(
                db, actor=world.manager, round_id=later, invitees="a@example.org", secret_key=SECRET
            )
            if round_id == later
            else (None,)
        )
        if issued is None:
            found = db.get(BarometerRound, past)
            token = "p" * 43
            found.open_link_hash = barometer.token_hash(SECRET, token)  # as if made while it was open
            db.flush()
        else:
            token = issued.token
        with pytest.raises(barometer.SurveyUnavailable) as err:
            barometer.start_or_resume(db, token=token, secret_key=SECRET)
        assert err.value.reason == reason and err.value.round.id == round_id
    with pytest.raises(InputError, match="this round is closed"):
        barometer.issue_invitations(
            db, actor=world.manager, round_id=past, invitees="b@x.org", secret_key=SECRET
        )
    db.rollback()
    assert _count(db, BarometerDraft) == 0


def test_a_response_row_cannot_be_traced_to_anyone(engine) -> None:  # type: ignore[no-untyped-def]
    columns = {c["name"]: c for c in inspect(engine).get_columns("barometer_response")}
    assert set(columns) == {
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
    assert "DATE" in str(columns["submitted_on"]["type"]).upper()
    assert "TIME" not in str(columns["submitted_on"]["type"]).upper()
    foreign = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("barometer_response")}
    assert foreign == {"barometer_round", "organisation", "profession"}
    invitation_columns = {c["name"] for c in inspect(engine).get_columns("barometer_invitation")}
    # The invitation knows its person (who was invited is no secret) but not its response, nor when used.
    assert invitation_columns == {
        "id",
        "round_id",
        "token_hash",
        "label",
        "email",
        "used",
        "person_id",
        "network_token_hash",
    }
    draft_foreign = {fk["referred_table"] for fk in inspect(engine).get_foreign_keys("barometer_draft")}
    assert draft_foreign == {"barometer_round"}


def test_response_ids_do_not_give_away_the_order_of_arrival(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    rows = [({}, {"trust_1": 1 + n % 5}) for n in range(40)]
    barometer.record_imported_responses(db, actor=world.manager, round_id=round_id, rows=rows)
    db.commit()
    ids = [r.id for r in db.scalars(select(BarometerResponse))]
    assert len(set(ids)) == 40 and all(0 < i < 2**53 for i in ids)
    # Random, not a sequence: 40 ids in a row, or sorted as they were written, would be no accident.
    assert max(ids) - min(ids) > 10**9


# --- custom instruments ------------------------------------------------------------------------------
def test_loading_a_custom_instrument(db: Session, world: World) -> None:
    pid = world.partnership_id
    text_v1 = small_instrument_json(key="our-barometer", version="1.0")
    row = barometer.load_instrument(
        db, actor=world.manager, partnership_id=pid, text=text_v1, filename="ours.json"
    )
    db.commit()
    assert (row.partnership_id, row.built_in, row.title) == (pid, False, "Test Barometer")
    assert barometer.load_instrument(db, actor=world.manager, partnership_id=pid, text=text_v1).id == row.id
    changed = text_v1.replace("Statement 1 about trust.", "Statement one about trust.")
    with pytest.raises(InputError, match="already loaded with different content; change the version"):
        barometer.load_instrument(db, actor=world.manager, partnership_id=pid, text=changed)
    with pytest.raises(InputError, match="is a built-in instrument"):
        barometer.load_instrument(db, actor=world.manager, partnership_id=pid, text=small_instrument_json())
    db.rollback()
    row_v2 = barometer.load_instrument(
        db, actor=world.manager, partnership_id=pid, text=changed.replace('"1.0"', '"1.1"')
    )
    db.commit()
    refs = [c.ref for c in barometer.list_instruments(db, actor=world.member, partnership_id=pid)]
    assert refs == [REF, "our-barometer@1.1", "our-barometer@1.0"]
    # Another partnership does not see it; the same key there is its own.
    assert [
        c.ref
        for c in barometer.list_instruments(
            db, actor=world.outsider, partnership_id=world.other_partnership_id
        )
    ] == [REF]
    round_data = barometer.RoundCreate(
        instrument="our-barometer@1.1", title="Ours", opens_on=date.today(), closes_on=date.today()
    )
    found = barometer.open_round(db, actor=world.manager, partnership_id=pid, data=round_data)
    assert found.instrument_id == row_v2.id
    with pytest.raises(InputError, match="not an instrument available"):
        barometer.open_round(
            db,
            actor=world.outsider,
            partnership_id=world.other_partnership_id,
            data=round_data,
        )
    db.rollback()
    events = db.scalars(select(AuditEvent).where(AuditEvent.record_type == "barometer_instrument")).all()
    assert [e.event for e in events] == ["loaded", "loaded"]


def test_a_bad_instrument_file_lists_its_problems_by_place_and_stores_nothing(
    db: Session, world: World
) -> None:
    pid = world.partnership_id
    bad = small_instrument_json(key="ours").replace('"construct": "momentum"', '"construct": "nothing"', 1)
    bad = bad.replace('"title": "Test Barometer"', '"title": "", "colour": "blue"')
    with pytest.raises(InputError) as err:
        barometer.load_instrument(db, actor=world.manager, partnership_id=pid, text=bad, filename="ours.json")
    places = {p.field for p in err.value.problems}
    assert {"title", "colour"} <= places
    assert all(p.source == "ours.json" for p in err.value.problems)
    with pytest.raises(InputError, match="not valid JSON"):
        barometer.load_instrument(db, actor=world.manager, partnership_id=pid, text=b"{not json")
    with pytest.raises(InputError) as err:
        barometer.load_instrument(
            db,
            actor=world.manager,
            partnership_id=pid,
            text=small_instrument_json(key="ours").replace(
                '"construct": "momentum"', '"construct": "nothing"', 1
            ),
        )
    assert 'no construct "nothing"' in str(err.value)
    with pytest.raises(NotAllowed):
        barometer.load_instrument(
            db, actor=world.member, partnership_id=pid, text=small_instrument_json(key="ours")
        )
    db.rollback()
    assert _count(db, BarometerInstrument) == 0
    assert not db.scalars(select(AuditEvent).where(AuditEvent.event == "loaded")).all()


# --- imports and the answers matrix ------------------------------------------------------------------
def test_imported_responses_all_or_nothing(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    good = [
        ({"organisation_id": world.organisation_id, "hierarchy_tier": 2}, {"trust_1": 5, "momentum_2": "0"}),
        ({}, {"trust_2": "3"}),
    ]
    bad = [
        *good,
        ({"profession_id": 99999}, {"trust_1": 7}),
        ({"shoe_size": 9}, {}),
    ]
    with pytest.raises(InputError) as err:
        barometer.record_imported_responses(
            db, actor=world.manager, round_id=round_id, rows=bad, source_name="responses.csv"
        )
    assert [str(p) for p in err.value.problems] == [
        "responses.csv row 4, profession_id: is not a profession of this partnership",
        "responses.csv row 5, shoe_size: is not a question of this survey",
    ]
    bad_answer = [({}, {"trust_1": 7})]
    with pytest.raises(InputError, match="row 2, trust_1"):
        barometer.record_imported_responses(db, actor=world.manager, round_id=round_id, rows=bad_answer)
    with pytest.raises(NotAllowed):
        barometer.record_imported_responses(db, actor=world.member, round_id=round_id, rows=good)
    db.rollback()
    assert _count(db, BarometerResponse) == 0
    assert barometer.record_imported_responses(db, actor=world.manager, round_id=round_id, rows=good) == 2
    db.commit()
    # Ids are random (arrival order must not show), so find the row by what it holds.
    stored = sorted(db.scalars(select(BarometerResponse)).all(), key=lambda r: "trust_1" not in r.answers)
    assert [r.source for r in stored] == ["import", "import"]
    assert stored[0].wt_tier == "statutory" and stored[0].answers == {"trust_1": 5, "momentum_2": 0}
    event = db.scalars(select(AuditEvent).where(AuditEvent.event == "imported")).one()
    assert event.summary == "2 barometer responses imported into round Spring 2026"
    assert event.before is None and event.after is None  # a count, nothing about any response


def test_round_answers_matrix_and_groups(db: Session, world: World) -> None:
    round_id = open_test_round(db, world)
    barometer.record_imported_responses(
        db,
        actor=world.manager,
        round_id=round_id,
        rows=[
            (
                {"organisation_id": world.organisation_id, "hierarchy_tier": 5},
                {"trust_1": 5, "momentum_3": 0},
            ),
            ({"profession_id": world.profession_id, "wt_tier": "involved"}, {"trust_2": 1}),
        ],
    )
    db.commit()
    result = barometer.round_answers(db, actor=world.member, round_id=round_id)
    assert result.item_keys == tuple(ITEM_KEYS) and result.anonymity_threshold == 5
    assert result.answers.dtype == np.int8 and result.answers.shape == (2, 6)
    # Rows come in the order of the (random) ids: find each respondent by their answers.
    p = 0 if result.answers[0, 0] == 5 else 1  # the police practitioner
    q = 1 - p
    assert result.answers[[p, q]].tolist() == [[5, -1, -1, -1, -1, 0], [-1, 1, -1, -1, -1, -1]]
    organisation = result.groups["organisation"]
    assert organisation.labels == ("Brempton Police",) and organisation.codes[[p, q]].tolist() == [0, -1]
    assert result.groups["profession"].codes[[p, q]].tolist() == [-1, 0]
    tiers = result.groups["hierarchy_tier"]
    assert tiers.codes[[p, q]].tolist() == [4, -1] and tiers.labels[4] == "5 – practitioner"
    wt = result.groups["wt_tier"]
    assert [wt.values[c] for c in wt.codes[[p, q]].tolist()] == ["statutory", "involved"]
    assert wt.labels[0] == "Statutory member"
