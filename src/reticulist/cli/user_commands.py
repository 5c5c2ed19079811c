"""`reticulist user ...`: accounts, roles and API tokens from the command line."""

from __future__ import annotations

import typer
from sqlalchemy import select

from reticulist.access import service as accounts
from reticulist.access.models import User
from reticulist.access.policy import Role, cli_actor
from reticulist.cli.common import DATABASE_OPTION, console, database_session, err_console, settings_for
from reticulist.cli.common import partnership_id_for as _partnership_id
from reticulist.cli.failures import outcome

app = typer.Typer(no_args_is_help=True)


@app.command("add")
@outcome("while adding the account", "the account was not created", "run it again")
def add(
    email: str = typer.Argument(..., help="Login email address."),
    name: str = typer.Option(..., "--name", help="Name shown in the app."),
    password: str = typer.Option(
        ...,
        "--password",
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters. Prompted for when not given.",
    ),
    partnership: str | None = typer.Option(
        None, "--partnership", help="Partnership name or number to grant a role in."
    ),
    role: Role = typer.Option(Role.MEMBER, "--role", help="Role in that partnership."),
    site_admin: bool = typer.Option(
        False, "--site-admin", help="May create partnerships and see all of them."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Create an account (and optionally give it a role in a partnership)."""
    with database_session(database) as session:
        actor = cli_actor()
        user = accounts.create_user(
            session, actor=actor, email=email, display_name=name, password=password, is_site_admin=site_admin
        )
        if partnership:
            accounts.set_role(
                session,
                actor=actor,
                partnership_id=_partnership_id(session, partnership),
                user_id=user.id,
                role=role,
            )
        session.commit()
        console.print(
            f"Created account {user.email}" + (f" ({role.value} of {partnership})" if partnership else "")
        )


@app.command("role")
@outcome("while changing the role", "the role was not changed", "run it again")
def role(
    email: str = typer.Argument(...),
    partnership: str = typer.Argument(..., help="Partnership name or number."),
    role: Role | None = typer.Argument(
        None,
        help="admin, manager, member, practitioner, coordinator, data-protection or linkage; leave out to "
        "remove it.",
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Grant, change or remove a user's role in a partnership."""
    with database_session(database) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            err_console.print(f"[red]error:[/red] email: no account {email}")
            raise typer.Exit(1)
        accounts.set_role(
            session,
            actor=cli_actor(),
            partnership_id=_partnership_id(session, partnership),
            user_id=user.id,
            role=role,
        )
        session.commit()
        console.print(f"{user.email}: {role.value if role else 'no role'} in {partnership}")


@app.command("practitioner")
@outcome("while linking the account", "the account was not linked", "run it again")
def practitioner(
    email: str = typer.Argument(..., help="The account's email."),
    partnership: str = typer.Argument(..., help="Partnership name or number."),
    person: str = typer.Argument(..., help="The register person it is: their email in the register."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Link an account to the person it is in the partnership's register, so that it works as that
    practitioner in casework (it sees the families whose team that person is in)."""
    from reticulist.casework import service as casework
    from reticulist.register.models import Person

    with database_session(database) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            err_console.print(f"[red]error:[/red] email: no account {email}")
            raise typer.Exit(1)
        pid = _partnership_id(session, partnership)
        found = session.scalar(
            select(Person).where(Person.partnership_id == pid, Person.email == person.strip().lower())
        )
        if found is None:
            err_console.print(
                f"[red]error:[/red] person: no one in the register of {partnership} has {person}"
            )
            raise typer.Exit(1)
        casework.link_practitioner(
            session, actor=cli_actor(), partnership_id=pid, user_id=user.id, person_id=found.id
        )
        session.commit()
        console.print(f"{user.email} works as {found.full_name} in {partnership}")


@app.command("token")
@outcome("while issuing the token", "no token was issued", "run it again")
def token(
    email: str = typer.Argument(...),
    name: str = typer.Option("command line", "--name", help="What the token is for."),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Issue a personal API token for an account. Printed once; only its hash is stored."""
    with database_session(database) as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            err_console.print(f"[red]error:[/red] email: no account {email}")
            raise typer.Exit(1)
        actor = accounts.actor_for(session, user, via="cli")
        _, plain = accounts.create_api_token(
            session, actor=actor, name=name, secret_key=settings_for(database).secret_key
        )
        session.commit()
        console.print(plain)


@app.command("unlock")
@outcome("while clearing the throttles", "no throttle was cleared", "run it again")
def unlock(
    email: str | None = typer.Argument(
        None, help="Account whose failed logins to forget (from every address)."
    ),
    address: str | None = typer.Option(
        None, "--address", help="Client address whose failed logins (and open-link survey counts) to forget."
    ),
    database: str | None = DATABASE_OPTION,
) -> None:
    """Clear login throttles: an account's failed logins, or a client address's, so the next try is
    checked at once."""
    if email is None and address is None:
        err_console.print("[red]error:[/red] give an EMAIL, --address ADDRESS, or both")
        raise typer.Exit(2)
    with database_session(database) as session:
        cleared = accounts.clear_login_throttles(session, email=email, address=address)
        session.commit()
        what = " and ".join(
            x for x in (email and email.strip().lower(), address and f"address {address}") if x
        )
        console.print(f"Cleared {cleared} throttle{'s' if cleared != 1 else ''} for {what}.")
