"""Recommendations become register actions (audited, all or nothing), through the service and the results
page, on both databases; members see the recommendations but cannot adopt them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor, NotAllowed, NotFound, cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.barometer import results
from reticulist.barometer.actions import Pick, adopt_recommendations, offered
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Action
from reticulist.register.overview import partnership_overview
from tests.barometer.test_results_pages import REALISTIC, make_round
from tests.conftest import Browser, World

DUE = date.today() + timedelta(days=60)


@pytest.fixture
def setting(db: Session, world: World) -> dict[str, int]:
    """A round whose weakest construct is continuity, a current person, a person who has left, and a
    person of the other partnership."""
    round_id = make_round(db, world, groups=REALISTIC)
    jo = register.create_person(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.PersonCreate(full_name="Jo Bloggs", organisation_id=world.organisation_id, hierarchy_tier=2),
    )
    gone = register.create_person(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=s.PersonCreate(
            full_name="Former Member", organisation_id=world.organisation_id, hierarchy_tier=2
        ),
    )
    register.end_person(db, actor=world.manager, person_id=gone.id, ended_on=date.today() - timedelta(days=3))
    elsewhere_org = register.create_organisation(
        db,
        actor=_root(),
        partnership_id=world.other_partnership_id,
        data=s.OrganisationCreate(name="Elsewhere Police", kind="police", tier="statutory"),
    )
    stranger = register.create_person(
        db,
        actor=_root(),
        partnership_id=world.other_partnership_id,
        data=s.PersonCreate(full_name="Stranger", organisation_id=elsewhere_org.id, hierarchy_tier=3),
    )
    db.commit()
    return {
        "round": round_id,
        "jo": jo.id,
        "gone": gone.id,
        "stranger": stranger.id,
        "elsewhere_org": elsewhere_org.id,
    }


def _root() -> Actor:
    return cli_actor("test set-up")


def _actions(db: Session, partnership_id: int) -> int:
    return (
        db.scalar(select(func.count()).select_from(Action).where(Action.partnership_id == partnership_id))
        or 0
    )


def test_adopting_creates_audited_actions_tracked_on_the_overview(
    db: Session, world: World, setting: dict[str, int]
) -> None:
    before = partnership_overview(
        db, actor=world.member, partnership_id=world.partnership_id
    ).momentum.open_count
    report = results.round_report(db, actor=world.manager, round_id=setting["round"])
    assert report.recommendations[0].line.key == "continuity"
    created = adopt_recommendations(
        db,
        actor=world.manager,
        round_id=setting["round"],
        picks=[
            Pick("continuity-catalyst-1", setting["jo"], world.organisation_id, DUE),
            Pick("continuity-tool-1", str(setting["jo"]), "", DUE.isoformat()),  # as a form sends them
        ],
    )
    db.commit()
    assert len(created) == 2
    first, second = created
    assert first.title == "Continuing membership to the partnership board"
    assert first.owner_person_id == setting["jo"] and first.organisation_id == world.organisation_id
    assert first.due_on == DUE and first.status == "open" and first.opened_on == date.today()
    assert 'round "Barometer 2026"' in first.description
    assert "Construct: Continuity of membership." in first.description
    assert "Source: 002, Table 1, row 1." in first.description
    assert second.title == "Use Group processes (Tuckman)" and second.organisation_id is None
    assert "Tool (004): Group processes (Tuckman) (The forming, storming" in second.description

    events = db.scalars(
        select(AuditEvent).where(AuditEvent.record_type == "action", AuditEvent.event == "created")
    ).all()
    assert {e.record_id for e in events} == {first.id, second.id}
    assert all(e.actor_user_id == world.manager.user_id for e in events)

    listed = register.list_actions(db, actor=world.member, partnership_id=world.partnership_id, status="open")
    assert {a.id for a in listed} == {first.id, second.id}
    after = partnership_overview(
        db, actor=world.member, partnership_id=world.partnership_id
    ).momentum.open_count
    assert after == before + 2


def test_bad_picks_are_refused_and_nothing_is_created(
    db: Session, world: World, setting: dict[str, int]
) -> None:
    audited = db.scalar(select(func.count()).select_from(AuditEvent))
    bad = [
        Pick("continuity-catalyst-1", setting["jo"], None, DUE),  # fine on its own
        Pick("trust-catalyst-9", setting["jo"], None, DUE),  # not offered
        Pick("continuity-catalyst-2", setting["stranger"], None, DUE),  # another partnership's person
        Pick("continuity-recommendation-1", setting["jo"], None, date.today() - timedelta(days=1)),
        Pick("continuity-recommendation-2", "", setting["elsewhere_org"], ""),
        Pick("continuity-tool-1", setting["gone"], "abc", "31/02/2027"),
    ]
    with pytest.raises(InputError) as caught:
        adopt_recommendations(db, actor=world.manager, round_id=setting["round"], picks=bad)
    db.rollback()
    problems = caught.value.by_field()
    assert problems["picks.trust-catalyst-9"] == "is not one of this round's suggestions"
    assert problems["picks.continuity-catalyst-2.owner_person_id"] == "no such person in this partnership"
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    assert problems["picks.continuity-recommendation-1.due_on"] == (
        f"{yesterday} is in the past; choose today or a later date"
    )
    assert problems["picks.continuity-recommendation-2.owner_person_id"].startswith("is required")
    assert (
        problems["picks.continuity-recommendation-2.organisation_id"]
        == "no such organisation in this partnership"
    )
    assert problems["picks.continuity-recommendation-2.due_on"].startswith("is required")
    assert "has left the partnership" in problems["picks.continuity-tool-1.owner_person_id"]
    assert problems["picks.continuity-tool-1.organisation_id"] == '"abc" is not a record number'
    assert "is not a date" in problems["picks.continuity-tool-1.due_on"]
    assert not any(key.startswith("picks.continuity-catalyst-1") for key in problems)
    assert _actions(db, world.partnership_id) == 0
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == audited

    with pytest.raises(InputError) as caught:
        adopt_recommendations(db, actor=world.manager, round_id=setting["round"], picks=[])
    assert caught.value.by_field() == {"picks": "tick at least one suggestion to make it an action"}
    twice = [Pick("continuity-catalyst-1", setting["jo"], None, DUE)] * 2
    with pytest.raises(InputError) as caught:
        adopt_recommendations(db, actor=world.manager, round_id=setting["round"], picks=twice)
    assert caught.value.by_field() == {"picks.continuity-catalyst-1": "is ticked twice"}
    assert _actions(db, world.partnership_id) == 0


def test_only_managers_adopt(db: Session, world: World, setting: dict[str, int]) -> None:
    pick = [Pick("continuity-catalyst-1", setting["jo"], None, DUE)]
    with pytest.raises(NotAllowed):
        adopt_recommendations(db, actor=world.member, round_id=setting["round"], picks=pick)
    with pytest.raises(NotFound):
        adopt_recommendations(db, actor=world.outsider, round_id=setting["round"], picks=pick)
    assert _actions(db, world.partnership_id) == 0


def test_only_the_weakest_constructs_suggestions_are_offered(
    db: Session, world: World, setting: dict[str, int]
) -> None:
    report = results.round_report(db, actor=world.member, round_id=setting["round"])
    keys = offered(report)
    weak = {r.line.key for r in report.recommendations}
    assert keys and {suggestion.construct.key for suggestion in keys.values()} == weak
    assert "continuity-catalyst-1" in keys and "trust" not in weak
    assert not any(key.startswith("trust-") for key in keys)


def _form(setting: dict[str, int], **rows: tuple[object, object, object]) -> dict[str, object]:
    data: dict[str, object] = {"pick": list(rows)}
    for key, (owner, organisation, due) in rows.items():
        data.update({f"owner-{key}": owner, f"organisation-{key}": organisation, f"due-{key}": due})
    return data


def test_the_results_page_adopts_for_managers_only(
    db: Session, world: World, setting: dict[str, int], browsers: dict[str, Browser]
) -> None:
    pid = world.partnership_id
    url = f"/p/{pid}/barometer/rounds/{setting['round']}/results/actions"
    due = DUE.isoformat()
    refused = browsers["manager"].post(
        url,
        _form(
            setting,
            **{
                "continuity-catalyst-1": (setting["jo"], "", due),
                "continuity-catalyst-2": ("", "", (date.today() - timedelta(days=2)).isoformat()),
            },
        ),
    )
    assert refused.status_code == 422
    assert "Nothing was added: please correct these 2 problems" in refused.text
    assert "Owner for “The continuous presence of some individuals in the board”: is required" in refused.text
    assert 'href="#f-owner-continuity-catalyst-2"' in refused.text and "is in the past" in refused.text
    # What was entered is kept: both rows stay ticked, Jo stays chosen.
    assert re.search(r'value="continuity-catalyst-1" checked', refused.text)
    assert re.search(rf'<option value="{setting["jo"]}" selected>Jo Bloggs', refused.text)
    assert _actions(db, pid) == 0

    for persona, status in (("member", 403), ("outsider", 404)):
        response = browsers[persona].post(
            url, _form(setting, **{"continuity-catalyst-1": (setting["jo"], "", due)})
        )
        assert response.status_code == status
    assert _actions(db, pid) == 0

    done = browsers["manager"].post(
        url,
        _form(
            setting,
            **{
                "continuity-catalyst-1": (setting["jo"], world.organisation_id, due),
                "continuity-recommendation-1": (setting["jo"], "", due),
            },
        ),
    )
    assert done.status_code == 303 and done.headers["location"].endswith("/results?done=actions-adopted")
    assert "now actions in the register" in browsers["manager"].get(done.headers["location"]).text
    listed = browsers["member"].get(f"/p/{pid}/actions?view=open").text
    assert "Continuing membership to the partnership board" in listed
    assert "Collaboration happens because individuals with the right skills" in listed
    overview = browsers["member"].get(f"/p/{pid}").text
    assert re.search(rf'<a href="/p/{pid}/actions\?view=open">2</a></span> actions open', overview)
