"""The `reticulist` command. One module per capability adds its commands here."""

from __future__ import annotations

import typer

from reticulist.cli import db_commands, failures, user_commands, web_commands

app = typer.Typer(
    help="Reticulist: the register, barometer and network of a multi-agency partnership.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def everywhere(
    debug: bool = typer.Option(
        False,
        "--debug",
        envvar="RETICULIST_DEBUG",
        help="When a command fails unexpectedly, print the full traceback too (it can show personal data "
        "from the database: names, emails).",
    ),
) -> None:
    # Without it, an unexpected failure is one sentence (reticulist.cli.failures).
    failures.set_debug(debug)


app.add_typer(db_commands.app, name="db", help="Database schema: upgrade, show the current revision.")
app.add_typer(user_commands.app, name="user", help="Accounts: add users, grant roles, issue API tokens.")
web_commands.register(app)

for _module in (
    "reticulist.cli.demo_commands",
    "reticulist.cli.transfer_commands",
    "reticulist.cli.barometer_commands",
    "reticulist.cli.network_commands",
    "reticulist.cli.casework_commands",
    "reticulist.cli.linkage_commands",
    "reticulist.cli.comparison_commands",
    "reticulist.cli.audit_commands",
):
    # Capability command modules register themselves when present.
    try:
        __import__(_module, fromlist=["register"]).register(app)
    except ModuleNotFoundError as _missing:
        if _missing.name != _module:
            raise

if __name__ == "__main__":
    app()
