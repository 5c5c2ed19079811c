"""`reticulist serve`: run the web app."""

from __future__ import annotations

import typer

from reticulist.cli.common import DATABASE_OPTION, err_console, settings_for
from reticulist.db.migrate import SchemaNotCurrent


def serve_app(database_url_settings, host: str, port: int) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from reticulist.web.app import create_app

    try:
        app = create_app(database_url_settings)
    except SchemaNotCurrent as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    uvicorn.run(app, host=host, port=port, log_level="info")


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        database: str | None = DATABASE_OPTION,
    ) -> None:
        """Serve the web app and API (refuses a database whose schema is behind)."""
        serve_app(settings_for(database), host, port)
