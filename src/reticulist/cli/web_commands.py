"""`reticulist serve`: run the web app."""

from __future__ import annotations

import ipaddress

import typer

from reticulist.cli.common import DATABASE_OPTION, err_console, settings_for
from reticulist.cli.failures import outcome
from reticulist.db.migrate import SchemaNotCurrent
from reticulist.settings import Settings


def is_loopback(host: str) -> bool:
    """Only this machine can connect: localhost, 127.0.0.0/8 or ::1."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def refuse_public_development_secret(settings: Settings, host: str) -> None:
    """Exit (2) with a clear message when asked to listen beyond this machine with the public development
    secret, with which anyone could forge the keyed hashes."""
    if settings.uses_development_secret() and not is_loopback(host):
        err_console.print(
            f"[red]Refusing to serve on {host}:[/red] RETICULIST_SECRET_KEY is the public development "
            "secret, written in Reticulist's source, so anyone could forge sessions and survey links. Set "
            "RETICULIST_SECRET_KEY to a long random value (python -c 'import secrets; "
            "print(secrets.token_urlsafe(48))'), or serve on 127.0.0.1 only."
        )
        raise typer.Exit(2)


def serve_app(settings: Settings, host: str, port: int) -> None:
    """Serve the app with uvicorn: every server entry point comes through here."""
    refuse_public_development_secret(settings, host)
    import uvicorn

    from reticulist.web.app import create_app

    try:
        app = create_app(settings)
    except SchemaNotCurrent as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    # Forwarded headers are read by the app, from RETICULIST_TRUSTED_PROXIES only (web.deps.client_address).
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @outcome("serving", "the server stopped; requests it had finished are saved, the rest were not")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        database: str | None = DATABASE_OPTION,
    ) -> None:
        """Serve the web app and API (refuses a database whose schema is behind, and any address beyond
        this machine while the secret key is the development one)."""
        serve_app(settings_for(database), host, port)
