"""`reticulist serve`: run the web app."""

from __future__ import annotations

import ipaddress
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import typer

from reticulist.cli.common import DATABASE_OPTION, err_console, settings_for
from reticulist.cli.failures import now, outcome
from reticulist.db.engine import make_engine
from reticulist.db.migrate import SchemaNotCurrent, ensure_schema_current
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


APP_FACTORY = "reticulist.web.app:app_from_environment"
# How long a worker process may take to answer its supervisor before it is replaced. uvicorn's 5 s is
# shorter than a new worker takes to import Reticulist on a busy machine (measured: 14 s on 2 cores at load
# 10), and a worker killed while starting is started again, endlessly.
WORKER_ANSWER_SECONDS = 60


@contextmanager
def database_for_workers(url: str) -> Iterator[None]:
    """RETICULIST_DATABASE_URL set to ``url`` while the server runs: each worker process builds the app
    from the environment, so --database reaches them this way. Put back afterwards (tests serve in-process).
    """
    before = os.environ.get("RETICULIST_DATABASE_URL")
    os.environ["RETICULIST_DATABASE_URL"] = url
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("RETICULIST_DATABASE_URL", None)
        else:
            os.environ["RETICULIST_DATABASE_URL"] = before


@contextmanager
def stopping_cleanly() -> Iterator[None]:
    """Exit 0 once a SIGTERM has been handled. uvicorn finishes the requests in flight and then raises the
    signal again with the handler it found, which by default kills the process (exit -15) and makes a
    supervisor or a test see a crash. A SIGTERM before uvicorn listens stops the command at once, cleanly."""

    def stop(_signal: int, _frame: FrameType | None) -> None:
        raise SystemExit(0)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def serve_app(
    settings: Settings, host: str, port: int, *, workers: int = 1, graceful_seconds: int = 30
) -> None:
    """Serve the app with uvicorn: every server entry point comes through here. The checks run once, here,
    before any worker starts; each worker then builds the app from the environment (APP_FACTORY)."""
    refuse_public_development_secret(settings, host)
    import uvicorn

    engine = make_engine(settings.database_url)
    try:
        ensure_schema_current(engine)
    except SchemaNotCurrent as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    now(
        "while serving",
        "the server stopped; every request it had answered is saved, any it was answering is not",
    )
    with database_for_workers(settings.database_url), stopping_cleanly():
        # Forwarded headers are read by the app, from RETICULIST_TRUSTED_PROXIES only
        # (web.deps.client_address). On SIGTERM or Ctrl+C uvicorn stops accepting, gives the requests in
        # flight graceful_seconds to finish, then exits.
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=graceful_seconds,
            timeout_worker_healthcheck=WORKER_ANSWER_SECONDS,
            log_level="info",
            proxy_headers=False,
        )


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @outcome("while starting the server", "the server did not start")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, help="Port to listen on."),
        workers: int = typer.Option(
            1,
            "--workers",
            min=1,
            max=64,
            help="Processes serving requests: about one per CPU core (see docs/operating.md).",
        ),
        graceful_seconds: int = typer.Option(
            30,
            "--graceful-seconds",
            min=0,
            max=3600,
            help="On SIGTERM or Ctrl+C, how long requests in flight may take to finish before the server "
            "exits.",
        ),
        database: str | None = DATABASE_OPTION,
    ) -> None:
        """Serve the web app and API (refuses a database whose schema is behind, and any address beyond
        this machine while the secret key is the development one)."""
        serve_app(settings_for(database), host, port, workers=workers, graceful_seconds=graceful_seconds)
