"""`reticulist demo --no-serve`: builds a migrated, usable demo database and prints the logins; refuses to
replace a database that holds anything but an earlier demo."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from reticulist.access import service as accounts
from reticulist.access.models import User
from reticulist.access.policy import Role, cli_actor
from reticulist.cli.main import app
from reticulist.comparison.demo import PEERS, peer_names
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.db.migrate import ensure_schema_current
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.demo import DEMO_ACCOUNTS, demo_partnership_name
from reticulist.register.models import Partnership
from reticulist.register.overview import partnership_overview
from tests.conftest import Demo

runner = CliRunner()


def _login_and_look(url: str) -> None:
    engine = make_engine(url)
    try:
        ensure_schema_current(engine)
        with make_session_factory(engine)() as session:
            for account in DEMO_ACCOUNTS:
                result = accounts.login(
                    session,
                    email=account.email,
                    password=account.password,
                    client="test",
                    secret_key="test-secret",
                    session_hours=1,
                )
                actor = accounts.actor_for(session, result.user)
                partnership_id = session.scalar(
                    select(Partnership.id).where(Partnership.name == demo_partnership_name())
                )
                assert partnership_id is not None
                assert actor.roles == {partnership_id: account.role}
                overview = partnership_overview(session, actor=actor, partnership_id=partnership_id)
                assert overview.discontinued and overview.people_count > 100
    finally:
        engine.dispose()


def test_demo_builds_a_migrated_database_and_prints_the_logins(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    result = runner.invoke(app, ["demo", "--no-serve", "--database", url])
    assert result.exit_code == 0, result.output
    assert demo_partnership_name() in result.output
    for account in DEMO_ACCOUNTS:
        assert account.email in result.output and account.password in result.output
    assert "http://127.0.0.1:8000/p/1" in result.output
    assert {a.role for a in DEMO_ACCOUNTS} == {
        Role.MANAGER,
        Role.ADMIN,
        Role.MEMBER,
        Role.PRACTITIONER,
        Role.COORDINATOR,
        Role.DATA_PROTECTION,
        Role.LINKAGE,
    }
    assert "http://127.0.0.1:8000/p/1/cases" in result.output
    assert "http://127.0.0.1:8000/p/1/linkage" in result.output
    _login_and_look(url)
    _casework_logins(url)


def _casework_logins(url: str) -> None:
    """The practitioner login has a caseload it leads; the manager's login opens no family's record."""
    from reticulist.access.policy import NotFound
    from reticulist.casework import service as casework

    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            by_role = {a.role: a for a in DEMO_ACCOUNTS}
            pid = session.scalar(select(Partnership.id).where(Partnership.name == demo_partnership_name()))
            assert pid is not None

            def actor(role: Role):  # type: ignore[no-untyped-def]
                user = session.scalar(select(User).where(User.email == by_role[role].email))
                return accounts.actor_for(session, user)

            lines = casework.my_caseload(session, actor=actor(Role.PRACTITIONER), partnership_id=pid)
            assert lines and any(line.leads for line in lines)
            # Information sharing to show: a consent, decisions to share and not to, and an emergency
            # access waiting for the data protection officer; the audit log verifies.
            from reticulist.audit import chain
            from reticulist.casework import break_glass, sharing

            decisions, consents = sharing.family_sharing(
                session,
                actor=actor(Role.PRACTITIONER),
                family_id=next(li.family_id for li in lines if li.leads),
            )
            assert {d.decision for d in decisions} == {"share", "not_share"} and len(consents) == 1
            assert (
                break_glass.waiting_count(session, actor=actor(Role.DATA_PROTECTION), partnership_id=pid) == 1
            )
            assert chain.verify(engine).problem is None
            with pytest.raises(NotFound):
                casework.family_record(session, actor=actor(Role.MANAGER), family_id=lines[0].family_id)
    finally:
        engine.dispose()


def test_demo_without_database_rebuilds_its_own_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _demo_sqlite: tuple[Path, int]
) -> None:
    monkeypatch.chdir(tmp_path)
    # An earlier demo in the way (a copy of the tests' shared build, to save building one here): the run
    # starts from scratch instead of finding it in the way.
    shutil.copy(_demo_sqlite[0], tmp_path / "reticulist-demo.sqlite3")
    result = runner.invoke(app, ["demo", "--no-serve", "--seed", "11"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "reticulist-demo.sqlite3").exists()
    _login_and_look(f"sqlite:///{tmp_path / 'reticulist-demo.sqlite3'}")


def test_demo_replaces_an_earlier_demo_but_refuses_other_data(demo: Demo) -> None:
    demo.db.close()
    database_url = demo.url  # holds an earlier demo (a copy of the tests' shared build)
    result = runner.invoke(app, ["demo", "--no-serve", "--database", database_url])
    assert result.exit_code == 0, result.output
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            # Brempton and its generated peers in the comparison group.
            assert session.scalar(select(func.count()).select_from(Partnership)) == 1 + PEERS
            register.create_partnership(
                session, actor=cli_actor(), data=s.PartnershipCreate(name="Real Partnership")
            )
            session.commit()
        result = runner.invoke(app, ["demo", "--no-serve", "--database", database_url])
        assert result.exit_code == 1
        message = " ".join(result.output.split())  # Rich wraps long lines
        assert "already holds other data" in message and "Real Partnership" in message
        with make_session_factory(engine)() as session:
            names = set(session.scalars(select(Partnership.name)))
            assert (
                names == {"Real Partnership", demo_partnership_name()} | peer_names()
            )  # nothing was touched
    finally:
        engine.dispose()
