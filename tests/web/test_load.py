"""Thirty at once: a real `reticulist serve` process, 30 respondents answering the whole built-in survey
through its pages and 30 API clients reading and adding people, all starting at the same moment, on SQLite
and on PostgreSQL.

Every answer must be stored (counted in the database, not trusted from the pages), no request may fail
(no 5xx, no timeout, no unexpected page), and afterwards the server must still log a manager in and stop on
SIGTERM. This is the check that would have caught the freeze of issue 9: survey routes that were
``async def`` and did blocking database work on the event loop, with a pool of 15 connections, stopped
answering everything about 2 s into a room of respondents.

The clients are plain HTTP clients (one connection each, as a browser tab), driving the real forms: each
page's hidden form token, its radio buttons and selects, its submit button's action.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.models import BarometerInvitation, BarometerResponse
from reticulist.register.models import Person
from tests.conftest import APP_SECRET, PASSWORD, World

RESPONDENTS = 30
API_CLIENTS = 30
REQUEST_TIMEOUT = 20.0  # seconds; a page slower than this has failed its respondent
START_TIMEOUT = 120.0  # a ceiling, not a wait: start-up takes seconds, far more on a loaded machine
RUN_LIMIT = 120.0  # seconds for the whole run; a sound server needs a fraction of it
STOP_TIMEOUT = 10.0
# One TLS context for every client (the server is plain http): building one per client costs 0.4-0.8 s of
# CPU, which thirty clients starting together would spend instead of sending requests.
TLS = ssl.create_default_context()
LOGIN_TIMEOUT = 10.0


# --- the server ----------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reticulist_command() -> list[str]:
    script = Path(sys.executable).with_name("reticulist")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from reticulist.cli.main import app; app()"]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> bool:
        """SIGTERM, as a service manager stops it; True if it exited in time (else it is killed)."""
        if self.process.poll() is not None:
            return True
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
            return True
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            return False


@contextmanager
def serving(database_url: str, log: Path) -> Iterator[Server]:
    """`reticulist serve` on a free port, as an operator starts it (one process, the default)."""
    port = _free_port()
    env = {
        **os.environ,
        "RETICULIST_SECRET_KEY": APP_SECRET,
        # Plain http on 127.0.0.1: a browser sends Secure cookies there, an HTTP client does not.
        "RETICULIST_COOKIE_SECURE": "false",
    }
    command = [*_reticulist_command(), "serve", "--port", str(port), "--database", database_url]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"reticulist serve exited with {process.returncode}:\n{server.log_tail()}")
            try:
                if httpx2.get(server.url + "/login", timeout=2, verify=TLS).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"reticulist serve did not answer within {START_TIMEOUT:.0f} s:\n{server.log_tail()}"
                )
            time.sleep(0.1)
        yield server
    finally:
        server.stop()


# --- a respondent, as a browser fills the forms ----------------------------------------------------------
class _Form(HTMLParser):
    """The page's POST form: hidden fields, radio groups and selects with their values, submit buttons."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.radios: dict[str, list[str]] = {}
        self.selects: dict[str, list[str]] = {}
        self.actions: list[str] = []
        self._select: str | None = None
        self._in_form = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "radio":
            self.radios.setdefault(a["name"], []).append(a["value"])
        elif tag == "select":
            self._select = a["name"]
            self.selects[a["name"]] = []
        elif tag == "option" and self._select:
            self.selects[self._select].append(a.get("value", ""))
        elif tag == "button" and a.get("name") == "action":
            self.actions.append(a["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False

    def filled(self, rng: random.Random) -> dict[str, str]:
        """What a respondent sends: an answer to most statements, a choice in each select, and the
        first action among send/next (the "Save and continue" or "Send my answers" button)."""
        data = dict(self.hidden)
        for name, values in self.radios.items():
            if rng.random() < 0.95:  # some statements left out, as people do
                data[name] = rng.choice(values)
        for name, values in self.selects.items():
            data[name] = rng.choice(values)
        for action in ("send", "next"):
            if action in self.actions:
                data["action"] = action
                break
        return data


class Failed(Exception):
    """One request of a client went wrong: the kind and where."""


def _expect(response: httpx2.Response, status: int, what: str) -> httpx2.Response:
    if response.status_code != status:
        raise Failed(f"{what}: {response.status_code} (expected {status})")
    return response


def answer_survey(base_url: str, token: str, seed: int) -> None:
    """Open the personal link, start, fill every page (about you, each section, check) and send."""
    rng = random.Random(seed)
    with httpx2.Client(
        base_url=base_url, timeout=REQUEST_TIMEOUT, follow_redirects=False, verify=TLS
    ) as client:
        welcome = _expect(client.get(f"/s/{token}"), 200, "welcome page")
        start = _Form(welcome.text)
        location = _expect(client.post(f"/s/{token}/start", data=start.hidden), 303, "start").headers[
            "location"
        ]
        pages = 0
        while not location.endswith("/thanks"):
            pages += 1
            if pages > 20:
                raise Failed(f"the survey never ended (last at {location})")
            page = _expect(client.get(location), 200, f"GET {location.rsplit('/', 1)[-1]}")
            sent = client.post(location, data=_Form(page.text).filled(rng))
            location = _expect(sent, 303, f"POST {location.rsplit('/', 1)[-1]}").headers["location"]
        _expect(client.get(location), 200, "thanks page")


def use_api(base_url: str, api_token: str, partnership_id: int, organisation_id: int, n: int) -> None:
    """An integration reading the register, adding one person and reading the overview."""
    headers = {"Authorization": f"Bearer {api_token}"}
    base = f"/api/v1/partnerships/{partnership_id}"
    with httpx2.Client(base_url=base_url, timeout=REQUEST_TIMEOUT, headers=headers, verify=TLS) as client:
        _expect(client.get(f"{base}/people"), 200, "API people")
        person = {
            "full_name": f"Load Person {n}",
            "email": f"load-{n}@example.org",
            "organisation_id": organisation_id,
            "hierarchy_tier": 1 + n % 5,
        }
        _expect(client.post(f"{base}/people", json=person), 201, "API add person")
        _expect(client.get(f"{base}/overview"), 200, "API overview")


@dataclass
class Run:
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, barrier: threading.Barrier, name: str, work) -> threading.Thread:  # type: ignore[no-untyped-def]
        def body() -> None:
            try:
                barrier.wait(timeout=30)
                work()
            except Failed as exc:
                self._record(f"{name}: {exc}")
            except httpx2.TimeoutException as exc:
                self._record(f"{name}: timed out after {REQUEST_TIMEOUT:.0f} s ({type(exc).__name__})")
            except Exception as exc:  # any other failure of a client is an error of the run, named
                self._record(f"{name}: {type(exc).__name__}: {exc}")

        return threading.Thread(target=body, name=name, daemon=True)

    def _record(self, error: str) -> None:
        with self.lock:
            self.errors.append(error)


def _by_kind(errors: list[str]) -> str:
    """Errors grouped by what went wrong, with the first few clients it happened to."""
    kinds: dict[str, list[str]] = {}
    for error in errors:
        client, _, what = error.partition(": ")
        kinds.setdefault(what, []).append(client)
    return "\n".join(
        f"{len(clients)} x {what} ({', '.join(clients[:4])}{', ...' if len(clients) > 4 else ''})"
        for what, clients in sorted(kinds.items(), key=lambda kv: -len(kv[1]))
    )


def login_works(base_url: str, email: str) -> bool:
    """The manager can still log in and see a page (within a short wait: a frozen server cannot)."""
    try:
        with httpx2.Client(
            base_url=base_url, timeout=LOGIN_TIMEOUT, follow_redirects=False, verify=TLS
        ) as client:
            page = client.get("/login")
            token = _Form(page.text).hidden.get("csrf_token", "")
            answer = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
            return answer.status_code == 303 and client.get("/account").status_code == 200
    except httpx2.TransportError:
        return False


# --- the test ----------------------------------------------------------------------------------------------
def _prepare(db: Session, world: World) -> tuple[int, list[str], str]:
    """A round on the built-in survey open today, a personal link for each respondent, an API token."""
    instrument = default_instrument()
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument=f"{instrument.key}@{instrument.version}",
            title="Workshop round",
            opens_on=date.today() - timedelta(days=1),
            closes_on=date.today() + timedelta(days=14),
        ),
    )
    issued = barometer.issue_invitations(
        db,
        actor=world.manager,
        round_id=found.id,
        invitees=[f"respondent-{i}@example.org" for i in range(RESPONDENTS)],
        secret_key=APP_SECRET,
    )
    _, api_token = accounts.create_api_token(db, actor=world.manager, name="load test", secret_key=APP_SECRET)
    db.commit()
    return found.id, [i.token for i in issued], api_token


def test_thirty_respondents_and_thirty_api_clients_at_once(
    database_url: str, db: Session, world: World, tmp_path: Path
) -> None:
    round_id, tokens, api_token = _prepare(db, world)
    people_before = db.scalar(select(func.count()).select_from(Person))
    db.close()  # the server, not this session, is under test; hold no transaction open

    run = Run()
    barrier = threading.Barrier(RESPONDENTS + API_CLIENTS)
    with serving(database_url, tmp_path / "server.log") as server:
        threads = [
            run.client(barrier, f"respondent {i}", lambda t=token, i=i: answer_survey(server.url, t, i))
            for i, token in enumerate(tokens)
        ] + [
            run.client(
                barrier,
                f"API client {n}",
                lambda n=n: use_api(server.url, api_token, world.partnership_id, world.organisation_id, n),
            )
            for n in range(API_CLIENTS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            # Each client gives up after its first failure; a frozen server costs one timeout each.
            thread.join(timeout=max(1.0, RUN_LIMIT - (time.monotonic() - started)))
        still_waiting = [t.name for t in threads if t.is_alive()]
        took = time.monotonic() - started
        logs_in = login_works(server.url, world.emails["manager"])
        stopped = server.stop()
        tail = server.log_tail(15)

    with db.get_bind().connect() as connection:
        stored = connection.scalar(
            select(func.count()).select_from(BarometerResponse).where(BarometerResponse.round_id == round_id)
        )
        used = connection.scalar(
            select(func.count())
            .select_from(BarometerInvitation)
            .where(BarometerInvitation.round_id == round_id, BarometerInvitation.used.is_(True))
        )
        people_after = connection.scalar(select(func.count()).select_from(Person))

    summary = (
        f"{RESPONDENTS} respondents and {API_CLIENTS} API clients at once, {took:.1f} s: "
        f"{stored} answers stored, {people_after - people_before} people added through the API, "
        f"{len(run.errors)} errors, {len(still_waiting)} clients still waiting; "
        f"login afterwards {'works' if logs_in else 'FAILS'}; "
        f"{'stopped' if stopped else 'did NOT stop'} on SIGTERM"
    )
    print(summary)
    assert not run.errors and not still_waiting, (
        f"{summary}\n{_by_kind(run.errors)}\n--- server log ---\n{tail}"
    )
    assert stored == RESPONDENTS and used == RESPONDENTS, summary
    assert people_after - people_before == API_CLIENTS, summary
    assert logs_in, f"the server no longer logs in after the load\n--- server log ---\n{tail}"
    assert stopped, f"the server did not stop within {STOP_TIMEOUT:.0f} s of SIGTERM\n{tail}"
