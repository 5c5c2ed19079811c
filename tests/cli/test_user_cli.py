"""`reticulist user add|role|token` on SQLite and PostgreSQL, good and bad paths."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from reticulist.access import service as accounts
from reticulist.access.models import ApiToken, Membership, Throttle, User
from reticulist.access.policy import cli_actor
from reticulist.cli.main import app
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.register import schemas as s
from reticulist.register import service as register

runner = CliRunner()
PASSWORD = "a long enough password"


def _setup(url: str) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        partnership = register.create_partnership(
            session, actor=cli_actor(), data=s.PartnershipCreate(name="Brempton Partnership")
        )
        session.commit()
        pid = partnership.id
    engine.dispose()
    return pid


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        n = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return n


def _run(*args: str, url: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [*args, "--database", url])


def test_add_a_manager_change_the_role_and_issue_a_token(database_url: str) -> None:
    pid = _setup(database_url)
    added = _run(
        "user",
        "add",
        "Chair@Brempton.example",
        "--name",
        "Pat Chair",
        "--password",
        PASSWORD,
        "--partnership",
        "Brempton Partnership",
        "--role",
        "manager",
        url=database_url,
    )
    assert added.exit_code == 0, added.output
    assert "Created account chair@brempton.example (manager of Brempton Partnership)" in added.output

    changed = _run("user", "role", "chair@brempton.example", str(pid), "admin", url=database_url)
    assert changed.exit_code == 0 and "admin in" in changed.output
    token = _run("user", "token", "chair@brempton.example", "--name", "board pack", url=database_url)
    assert token.exit_code == 0
    plain = token.output.strip().splitlines()[-1]
    assert plain.startswith("rtl_")

    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        user = session.scalars(select(User)).one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        assert session.scalars(select(Membership.role)).all() == ["admin"]
        stored = session.scalars(select(ApiToken)).one()
        assert stored.token_hash != plain and plain not in stored.token_hash  # only a keyed hash is kept
    engine.dispose()

    removed = _run("user", "role", "chair@brempton.example", "Brempton Partnership", url=database_url)
    assert removed.exit_code == 0 and "no role" in removed.output
    assert _count(database_url, Membership) == 0


def test_bad_input_is_refused_with_the_field_and_nothing_is_written(database_url: str) -> None:
    _setup(database_url)
    short = _run("user", "add", "a@example.org", "--name", "A", "--password", "short", url=database_url)
    assert short.exit_code == 1 and "password: must be at least 10 characters" in short.output
    not_email = _run("user", "add", "not-an-email", "--name", "A", "--password", PASSWORD, url=database_url)
    assert not_email.exit_code == 1 and 'email: "not-an-email" is not an email address' in not_email.output
    unknown = _run(
        "user",
        "add",
        "b@example.org",
        "--name",
        "B",
        "--password",
        PASSWORD,
        "--partnership",
        "Nowhere",
        url=database_url,
    )
    assert unknown.exit_code == 1 and 'partnership: no partnership "Nowhere"' in unknown.output
    assert _count(database_url, User) == 0  # the account is not left behind without its role

    assert (
        _run(
            "user", "add", "c@example.org", "--name", "C", "--password", PASSWORD, url=database_url
        ).exit_code
        == 0
    )
    twice = _run("user", "add", "C@example.org", "--name", "C", "--password", PASSWORD, url=database_url)
    assert twice.exit_code == 1 and "already exists" in twice.output
    no_account = _run(
        "user", "role", "nobody@example.org", "Brempton Partnership", "member", url=database_url
    )
    assert no_account.exit_code == 1 and "email: no account nobody@example.org" in no_account.output
    bad_role = _run("user", "role", "c@example.org", "Brempton Partnership", "boss", url=database_url)
    assert bad_role.exit_code == 2 and "boss" in bad_role.output
    assert _count(database_url, Membership) == 0
    assert _count(database_url, User) == 1


def test_token_for_an_account_that_can_log_in(database_url: str) -> None:
    _setup(database_url)
    _run("user", "add", "d@example.org", "--name", "D", "--password", PASSWORD, url=database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        result = accounts.login(
            session,
            email="D@example.org",
            password=PASSWORD,
            client="test",
            secret_key="k",
            session_hours=1,
        )
        assert result.user.email == "d@example.org"
    engine.dispose()


def test_unlock_clears_an_accounts_or_an_addresses_failed_logins(database_url: str) -> None:
    _setup(database_url)
    _run("user", "add", "e@example.org", "--name", "E", "--password", PASSWORD, url=database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)

    def login(client: str) -> str:
        with factory() as session:
            try:
                accounts.login(
                    session,
                    email="e@example.org",
                    password=PASSWORD if client.endswith("ok") else "wrong password!",
                    client=client.removesuffix(" ok"),
                    secret_key="k",
                    session_hours=1,
                    now=1_900_000_000.0,
                )
            except accounts.LoginRefused as refused:
                return str(refused)
            return "in"

    for _ in range(5):
        login("203.0.113.1")
    assert login("203.0.113.1 ok").startswith("Too many tries")
    unlocked = _run("user", "unlock", "E@example.org", url=database_url)
    assert unlocked.exit_code == 0 and "Cleared 2 throttles for e@example.org" in unlocked.output
    assert login("203.0.113.1 ok") == "in"
    for _ in range(5):
        login("203.0.113.2")
    assert login("203.0.113.2 ok").startswith("Too many tries")
    by_address = _run("user", "unlock", "--address", "203.0.113.2", url=database_url)
    assert by_address.exit_code == 0 and "for address 203.0.113.2" in by_address.output
    assert login("203.0.113.2 ok") == "in"
    with factory() as session:
        # Left: the failures each unlock did not cover (an address's, an account's); good logins not counted.
        left = dict(session.execute(select(Throttle.key, Throttle.hits)).all())
        assert left == {"login-account|e@example.org": 5, "login|203.0.113.1": 5, "login|203.0.113.2": 0}
    engine.dispose()
    nothing = _run("user", "unlock", url=database_url)
    assert nothing.exit_code == 2 and "give an EMAIL, --address ADDRESS, or both" in nothing.output
