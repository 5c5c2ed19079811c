"""`reticulist serve` and `reticulist demo` refuse to listen beyond this machine with the public
development secret, and hand forwarded headers to the app's own trusted-proxy rule."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reticulist.cli import web_commands
from reticulist.cli.main import app
from reticulist.settings import DEVELOPMENT_SECRET

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """uvicorn.run replaced by a recorder: the tests check what would be served, without serving."""
    import uvicorn

    calls: list[dict] = []

    def run(app: str, **kw: object) -> None:
        calls.append({"app": app, **kw, "database_env": os.environ.get("RETICULIST_DATABASE_URL")})

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.delenv("RETICULIST_SECRET_KEY", raising=False)
    monkeypatch.delenv("RETICULIST_ENVIRONMENT", raising=False)
    return calls


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.0.2.10", "reticulist.example", "localhost.evil.example"]
)
def test_serve_refuses_beyond_loopback_with_the_development_secret(
    host: str, served: list[dict], tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'never-opened.sqlite3'}"
    for secret in (None, DEVELOPMENT_SECRET, "change-me"):
        env = {"RETICULIST_SECRET_KEY": secret} if secret else {}
        result = runner.invoke(app, ["serve", "--host", host, "--database", database], env=env)
        said = " ".join(result.output.split())
        assert result.exit_code == 2, said
        assert f"Refusing to serve on {host}" in said
        assert "RETICULIST_SECRET_KEY is the public development secret" in said
        assert "or serve on 127.0.0.1 only" in said
    assert served == []


def test_demo_refuses_before_building_anything(served: list[dict], tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "Refusing to serve on 0.0.0.0" in result.output
    assert list(tmp_path.iterdir()) == [] and served == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_serve_on_loopback_with_the_development_secret(
    host: str, served: list[dict], database_url: str
) -> None:
    result = runner.invoke(app, ["serve", "--host", host, "--database", database_url])
    assert result.exit_code == 0, result.output
    assert served == [
        {
            "app": "reticulist.web.app:app_from_environment",
            "factory": True,
            "host": host,
            "port": 8000,
            "workers": 1,
            "timeout_graceful_shutdown": 30,
            "timeout_worker_healthcheck": web_commands.WORKER_ANSWER_SECONDS,
            "log_level": "info",
            "proxy_headers": False,
            "database_env": database_url,
        }
    ]


def test_serve_anywhere_with_a_real_secret(served: list[dict], database_url: str) -> None:
    result = runner.invoke(
        app,
        ["serve", "--host", "0.0.0.0", "--database", database_url],
        env={"RETICULIST_SECRET_KEY": "s" * 40},
    )
    assert result.exit_code == 0, result.output
    assert served[0]["host"] == "0.0.0.0" and served[0]["proxy_headers"] is False
    assert web_commands.is_loopback("127.255.0.1") and not web_commands.is_loopback("10.0.0.1")


def test_workers_and_graceful_seconds_reach_uvicorn_and_the_database_reaches_the_workers(
    served: list[dict], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETICULIST_DATABASE_URL", "sqlite:///somewhere-else.sqlite3")
    args = ["serve", "--workers", "3", "--graceful-seconds", "5", "--database", database_url]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert (served[0]["workers"], served[0]["timeout_graceful_shutdown"]) == (3, 5)
    # The workers read --database from the environment; put back once the server has stopped.
    assert served[0]["database_env"] == database_url
    assert os.environ["RETICULIST_DATABASE_URL"] == "sqlite:///somewhere-else.sqlite3"
    for bad in (["--workers", "0"], ["--graceful-seconds", "-1"]):
        refused = runner.invoke(app, ["serve", *bad, "--database", database_url])
        assert refused.exit_code == 2 and len(served) == 1


def test_a_schema_behind_is_refused_once_before_any_worker(served: list[dict], tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    result = runner.invoke(app, ["serve", "--workers", "4", "--database", empty])
    assert result.exit_code == 1 and served == []
    said = " ".join(result.stderr.split())
    assert "has no Reticulist schema" in said and "Run: reticulist db upgrade" in said


# --- a real `reticulist serve` process -----------------------------------------------------------------
STARTS_WITHIN = 240  # seconds; a new process imports all of Reticulist, slow on a busy test machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def get(self, path: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start `reticulist serve` in its own process group (its workers too) and wait until it answers; any
    left running when the test ends are killed."""
    started: list[Server] = []

    def start(database_url: str, *args: str) -> Server:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("RETICULIST_")}
        command = ["serve", "--port", str(port), "--database", database_url, *args]
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "reticulist.cli.main", *command],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=environment,
                cwd=tmp_path,  # without --database reaching the workers they would find no schema here
                start_new_session=True,
            )
        server = Server(process, port, log)
        started.append(server)
        deadline = time.monotonic() + STARTS_WITHIN
        while True:
            assert process.poll() is None, f"serve exited with {process.returncode}:\n{server.output()}"
            try:
                if server.get("/login") == 200:
                    return server
            except OSError:
                pass
            assert time.monotonic() < deadline, (
                f"serve did not answer in {STARTS_WITHIN} s:\n{server.output()}"
            )
            time.sleep(0.5)

    yield start
    for server in started:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()


def request_in_flight(port: int) -> socket.socket:
    """A form post that the app has started on and that waits for its body: with "Expect: 100-continue"
    the server says "100 Continue" only once the route asks for the body, so the request is in flight."""
    client = socket.create_connection(("127.0.0.1", port), timeout=60)
    client.sendall(
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(LOGIN_BODY)
    )
    assert client.recv(100).startswith(b"HTTP/1.1 100 Continue"), "the route never asked for the body"
    return client


LOGIN_BODY = b"email=someone%40example.org&password=not-the-password&csrf_token=stale"


def finish(client: socket.socket) -> int:
    """Send the body, read the whole answer; its status."""
    client.sendall(LOGIN_BODY)
    answer = b""
    while chunk := client.recv(65536):
        answer += chunk  # the server closes the connection after answering, as it is shutting down
    client.close()
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split()[1])


def worker_pids(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spawn_main" in command:
            found.add(int(entry.name))
    return found


def test_sigterm_finishes_the_request_in_flight_then_exits_0(
    database_url: str, start_server: Callable[..., Server]
) -> None:
    server = start_server(database_url, "--graceful-seconds", "30")
    client = request_in_flight(server.port)
    server.process.send_signal(signal.SIGTERM)
    # It stops accepting at once ...
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
        except ConnectionRefusedError:
            break
        assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
        time.sleep(0.2)
    assert server.process.poll() is None, "exited with a request in flight"
    # ... answers the request in flight (a stale form: refused, not a server error), then exits 0.
    assert finish(client) < 500
    assert server.process.wait(timeout=60) == 0, server.output()
    assert "Finished server process" in server.output()


def test_several_workers_serve_and_stop_on_sigterm(
    database_url: str, start_server: Callable[..., Server]
) -> None:
    server = start_server(database_url, "--workers", "2", "--graceful-seconds", "30")
    deadline = time.monotonic() + STARTS_WITHIN
    while len(workers := worker_pids(server.process.pid)) < 2:
        assert time.monotonic() < deadline, f"workers: {workers}\n{server.output()}"
        time.sleep(0.5)
    assert len(workers) == 2
    assert [server.get("/login") for _ in range(10)] == [200] * 10
    client = request_in_flight(server.port)
    server.process.send_signal(signal.SIGTERM)
    assert finish(client) < 500
    assert server.process.wait(timeout=60) == 0, server.output()
    assert worker_pids(server.process.pid) == set()
    assert server.output().count("Finished server process") == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_that_never_finishes_is_given_up_after_the_graceful_seconds(
    database_url: str, start_server: Callable[..., Server]
) -> None:
    server = start_server(database_url, "--graceful-seconds", "1")
    client = request_in_flight(server.port)  # its body never comes
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0, server.output()
    assert "timeout graceful shutdown exceeded" in server.output()
    client.close()
