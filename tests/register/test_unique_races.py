"""Uniqueness rules hold when requests race: eight "add person" requests with the same email at the same
moment store one person, and the other seven get the same words the service's own check gives (a form
error, never a server error). On SQLite and PostgreSQL, through the service and through the web form."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from tests.conftest import Browser, World

from reticulist.access import service as accounts
from reticulist.access.policy import cli_actor
from reticulist.errors import InputError
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Organisation, Person

AT_ONCE = 8
ROUNDS = 4


def all_at_once(work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in AT_ONCE threads released together; each result or exception, in order."""
    start = threading.Barrier(AT_ONCE)
    results: list[Any] = [None] * AT_ONCE

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the race's loser: kept to be checked, not raised in the thread
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _one_stored_and_the_rest_told(results: list[Any], message: str) -> None:
    stored = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(stored) == 1, results
    assert all(isinstance(r, InputError) for r in refused), refused
    assert {str(r) for r in refused} == {message}


def test_eight_people_added_with_one_email_at_once_store_one(
    session_factory: sessionmaker[Session], world: World
) -> None:
    for round_number in range(ROUNDS):
        email = f"race{round_number}@police.example"

        def add(i: int, email: str = email) -> int:
            with session_factory() as session:
                person = register.create_person(
                    session,
                    actor=world.manager,
                    partnership_id=world.partnership_id,
                    # The same address typed in different cases is the same address.
                    data=s.PersonCreate(
                        full_name=f"Racer {i}",
                        email=email.upper() if i % 2 else email,
                        organisation_id=world.organisation_id,
                        hierarchy_tier=3,
                    ),
                )
                session.commit()
                return person.id

        _one_stored_and_the_rest_told(
            all_at_once(add), f"email: {email} is already someone else's email in this partnership"
        )
        with session_factory() as session:
            stored = session.scalar(select(func.count()).where(func.lower(Person.email) == email))
        assert stored == 1


def test_eight_organisations_with_one_name_at_once_store_one(
    session_factory: sessionmaker[Session], world: World
) -> None:
    for round_number in range(ROUNDS):
        name = f"Brempton Health {round_number}"

        def add(i: int, name: str = name) -> int:
            with session_factory() as session:
                organisation = register.create_organisation(
                    session,
                    actor=world.manager,
                    partnership_id=world.partnership_id,
                    data=s.OrganisationCreate(
                        name=name.upper() if i % 2 else name, kind="health", tier="statutory"
                    ),
                )
                session.commit()
                return organisation.id

        results = all_at_once(add)
        stored = [r for r in results if not isinstance(r, Exception)]
        assert len(stored) == 1, results
        # The loser is told in the words of the name it typed.
        assert all(
            isinstance(r, InputError)
            and "is already in this partnership" in str(r)
            and name.lower() in str(r).lower()
            for r in results
            if isinstance(r, Exception)
        ), results
        with session_factory() as session:
            found = session.scalar(
                select(func.count()).where(
                    Organisation.partnership_id == world.partnership_id,
                    func.lower(Organisation.name) == name.lower(),
                )
            )
        assert found == 1


def test_eight_accounts_with_one_email_at_once_store_one(session_factory: sessionmaker[Session]) -> None:
    def add(i: int) -> int:
        with session_factory() as session:
            user = accounts.create_user(
                session,
                actor=cli_actor("test"),
                email="same@example.org",
                display_name=f"Same {i}",
                password="long enough password",
            )
            session.commit()
            return user.id

    _one_stored_and_the_rest_told(all_at_once(add), "email: an account for same@example.org already exists")


def test_the_loser_of_a_race_can_go_on_using_its_session(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """The refused write is undone alone: what the session did before it stays, and it can still read."""
    with session_factory() as first, session_factory() as second:
        data = s.PersonCreate(
            full_name="Kim",
            email="kim@police.example",
            organisation_id=world.organisation_id,
            hierarchy_tier=2,
        )
        register.create_person(first, actor=world.manager, partnership_id=world.partnership_id, data=data)
        first.commit()
        kept = register.create_profession(
            second,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.ProfessionCreate(name="GP"),
        )
        # As if its check had run before the first session's commit: only the database can refuse it.
        person = Person(partnership_id=world.partnership_id, **data.model_dump())
        with pytest.raises(InputError, match="already someone else's email"):
            register._create(
                second,
                world.manager,
                person,
                "Kim",
                {register.PERSON_EMAIL_RULE: ("email", register.email_taken("kim@police.example"))},
            )
        assert register.get_profession(second, actor=world.manager, profession_id=kept.id).name == "GP"
        second.commit()
    with session_factory() as session:
        assert session.scalar(select(func.count()).where(Person.email == "kim@police.example")) == 1
        assert session.get(type(kept), kept.id) is not None


def test_eight_add_person_forms_sent_at_once_store_one(
    app: Any, world: World, session_factory: sessionmaker[Session]
) -> None:
    """The double-clicked form, eight times over: one person, seven forms shown again with the message."""
    from reticulist.register.models import Person as Stored

    browsers = [Browser(app, world.emails["manager"]) for _ in range(AT_ONCE)]
    url = f"/p/{world.partnership_id}/people/new"
    for round_number in range(ROUNDS):
        email = f"clicked{round_number}@police.example"
        form = {
            "full_name": "Double Click",
            "email": email,
            "organisation_id": str(world.organisation_id),
            "hierarchy_tier": "3",
        }
        results = all_at_once(lambda i, form=form: browsers[i].post(url, form))
        codes = sorted(r.status_code for r in results)
        assert codes == [303] + [422] * (AT_ONCE - 1), codes
        assert all(
            "already someone else&#39;s email in this partnership" in r.text
            for r in results
            if r.status_code == 422
        )
        with session_factory() as session:
            assert session.scalar(select(func.count()).where(Stored.email == email)) == 1


def test_eight_grants_of_a_first_role_at_once_give_one_role(
    session_factory: sessionmaker[Session], world: World
) -> None:
    """Each request finds no role and adds one: one is kept, the others are told to look again."""
    from reticulist.access.models import Membership
    from reticulist.access.policy import Role

    with session_factory() as session:
        user = accounts.create_user(
            session,
            actor=cli_actor("test"),
            email="newcomer@example.org",
            display_name="Newcomer",
            password="long enough password",
        )
        session.commit()

    def grant(i: int) -> None:
        with session_factory() as session:
            accounts.set_role(
                session,
                actor=cli_actor("test"),
                partnership_id=world.partnership_id,
                user_id=user.id,
                role=Role.MEMBER if i % 2 else Role.MANAGER,
            )
            session.commit()

    results = all_at_once(grant)
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(r, InputError) and "at the same moment" in str(r) for r in refused), refused
    with session_factory() as session:
        roles = session.scalar(select(func.count()).where(Membership.user_id == user.id))
    assert roles == 1


def test_eight_attendance_saves_at_once_record_a_person_once(
    session_factory: sessionmaker[Session], world: World
) -> None:
    from datetime import date

    from reticulist.register.models import Attendance

    with session_factory() as session:
        person = register.create_person(
            session,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.PersonCreate(full_name="Ash", organisation_id=world.organisation_id, hierarchy_tier=2),
        )
        meeting = register.create_meeting(
            session,
            actor=world.manager,
            partnership_id=world.partnership_id,
            data=s.MeetingCreate(title="Board", held_on=date(2026, 1, 14)),
        )
        session.commit()

    def save(i: int) -> None:
        with session_factory() as session:
            register.set_attendance(
                session,
                actor=world.manager,
                meeting_id=meeting.id,
                entries=[s.AttendanceEntry(person_id=person.id, status="present" if i % 2 else "apologies")],
            )
            session.commit()

    results = all_at_once(save)
    refused = [r for r in results if isinstance(r, Exception)]
    assert all(
        isinstance(r, InputError) and "Ash was recorded at this meeting by someone else" in str(r)
        for r in refused
    ), refused
    with session_factory() as session:
        assert session.scalar(select(func.count()).where(Attendance.meeting_id == meeting.id)) == 1
