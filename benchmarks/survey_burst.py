"""Benchmark: a workshop's burst of respondents while a manager works (issue 9; target: every answer stored,
no errors, survey p95 under 2,000 ms, the import complete, on SQLite and on PostgreSQL).

For each backend, on a fresh database (a temporary SQLite file; a new PostgreSQL database on the local
server, dropped afterwards):

  1. `reticulist demo --no-serve --database URL` builds the Brempton demo partnership (its register, two
     released barometer rounds, the network, the demo logins);
  2. with the barometer's own services, a new round on the built-in survey opens today and 200 personal
     links are issued; a register file of 20,000 new people is written in the import's columns;
  3. `reticulist serve` serves the app as docs/operating.md says for production: several processes
     (`--workers N`, one per core by default) with a real secret key; when this version of `reticulist
     serve` has no `--workers` option yet, one process, and the output says so;
  4. at the same moment: 200 respondents answer the whole survey through its pages, 100 at a time (each
     opens their link, starts, fills "about you" and every section, checks and sends, as a browser does,
     with the form tokens); the demo manager, logged in, browses the partnership's main pages (overview,
     people, meetings, barometer rounds, a released round's results, the network) with half a second
     between pages; and `reticulist import people FILE` imports the 20,000 people into the same
     partnership.

Respondents do not retry: a request that fails (any 5xx, 503 included, a timeout after 60 s, a refused
connection, an unexpected page) is counted as an error by kind and that respondent gives up, as a person
in a workshop whose page fails would. Answers are counted in the database afterwards, not trusted from the
pages. A timed-out request counts at its timeout in the latency figures. Afterwards the manager must still
be able to log in, and the server must stop on SIGTERM.

    .venv/bin/python benchmarks/survey_burst.py [--only sqlite|postgresql] [--workers N]
        [--respondents 200] [--at-once 100] [--people 20000] [--postgres URL]

The clients run in this process (threads, one HTTP connection each), on the same machine as the server:
figures include the machine's other work, so the load average is printed with them.

The last line printed is
``survey burst: 200 respondents, 100 at once: sqlite stored S1/200, errors E1, p95 X1 ms; postgresql stored
S2/200, errors E2, p95 X2 ms``, where errors count every failed request (respondents' and the manager's).
"""

from __future__ import annotations

import argparse
import csv
import os
import queue
import random
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx2
from scratch import scratch_database  # benchmarks/scratch.py
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from reticulist.access.policy import Role
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.models import (
    BarometerInvitation,
    BarometerRelease,
    BarometerResponse,
    BarometerRound,
)
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.register.demo import DEMO_ACCOUNTS, demo_actor, demo_partnership_name
from reticulist.register.models import Organisation, Partnership, Person, Profession

POSTGRES_ADMIN_URL = os.environ.get(
    "RETICULIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TIMEOUT = 60.0  # seconds a respondent waits for a page before giving up on it
P95_TARGET_MS = 2000
MANAGER_PAUSE = 0.5  # seconds between the manager's pages
START_TIMEOUT = 120.0  # the app imports NumPy, SciPy and more: slow to start on a busy machine
STOP_TIMEOUT = 15.0
IMPORT_TIMEOUT = 1800.0
# One TLS context for every client (the server is plain http): building one per client costs 0.4-0.8 s of
# CPU, which would be spent in the middle of the burst.
TLS = ssl.create_default_context()
MANAGER = next(a for a in DEMO_ACCOUNTS if a.role == Role.MANAGER)


def reticulist() -> list[str]:
    script = Path(sys.executable).with_name("reticulist")
    return (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from reticulist.cli.main import app; app()"]
    )


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 100)) - 1))]


# --- databases -----------------------------------------------------------------------------------------
def postgres_problem(admin_url: str) -> str | None:
    try:
        engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect: skip PostgreSQL and say why
        first = str(exc).splitlines()[0] if str(exc) else ""
        return f"PostgreSQL not reachable at {admin_url}: {type(exc).__name__}: {first}"


# --- preparing the round and the import ------------------------------------------------------------------
@dataclass
class Plan:
    partnership_id: int
    partnership: str
    round_id: int
    released_round_id: int | None
    tokens: list[str]
    people_before: int
    import_file: Path


def run_logged(command: list[str], env: dict[str, str], log: Path, what: str) -> float:
    started = time.perf_counter()
    with log.open("wb") as out:
        done = subprocess.run(command, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise SystemExit(f"{what} failed (exit {done.returncode}):\n{tail}")
    return time.perf_counter() - started


def prepare(url: str, secret: str, respondents: int, people: int, workdir: Path) -> Plan:
    """A round on the built-in survey opening today with a personal link per respondent (the barometer's
    services, as the round's page does), and a register file of new people for `reticulist import`."""
    engine = make_engine(url)
    actor = demo_actor()
    try:
        with make_session_factory(engine, secret_key=secret)() as session:
            partnership = session.scalar(
                select(Partnership).where(Partnership.name == demo_partnership_name())
            )
            assert partnership is not None, "the demo partnership was not built"
            pid = partnership.id
            released = session.scalars(
                select(BarometerRound.id)
                .join(BarometerRelease, BarometerRelease.round_id == BarometerRound.id)
                .where(BarometerRound.partnership_id == pid)
                .order_by(BarometerRound.opens_on.desc())
            ).first()
            instrument = default_instrument()
            found = barometer.open_round(
                session,
                actor=actor,
                partnership_id=pid,
                data=barometer.RoundCreate(
                    instrument=f"{instrument.key}@{instrument.version}",
                    title="Workshop burst",
                    opens_on=date.today(),
                    closes_on=date.today() + timedelta(days=14),
                ),
            )
            issued = barometer.issue_invitations(
                session,
                actor=actor,
                round_id=found.id,
                invitees=[f"workshop-{n:04d}@burst.example.org" for n in range(respondents)],
                secret_key=secret,
            )
            session.commit()
            organisations = [
                o.name
                for o in session.scalars(select(Organisation).where(Organisation.partnership_id == pid))
                if o.ended_on is None
            ]
            professions = [
                p.name
                for p in session.scalars(select(Profession).where(Profession.partnership_id == pid))
                if p.ended_on is None
            ]
            people_before = session.scalar(
                select(func.count()).select_from(Person).where(Person.partnership_id == pid)
            )
            plan = Plan(
                pid,
                partnership.name,
                found.id,
                released,
                [i.token for i in issued],
                int(people_before or 0),
                workdir / f"people-{people}.csv",
            )
    finally:
        engine.dispose()
    rng = random.Random(20)
    with plan.import_file.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["full_name", "email", "organisation", "profession", "hierarchy_tier", "joined_on"])
        for n in range(people):
            writer.writerow(
                [
                    f"Imported Person {n:05d}",
                    f"imported-{n:05d}@register.example.org",
                    rng.choice(organisations),
                    rng.choice(professions) if professions and rng.random() < 0.9 else "",
                    rng.randint(1, 5),
                    (date.today() - timedelta(days=rng.randint(30, 3000))).isoformat(),
                ]
            )
    return plan


# --- the server -----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_options(env: dict[str, str]) -> set[str]:
    """Which of the production options this version of `reticulist serve` has."""
    shown = subprocess.run(
        [*reticulist(), "serve", "--help"], env={**env, "COLUMNS": "200"}, capture_output=True, text=True
    ).stdout
    return {option for option in ("--workers", "--graceful-seconds") if option in shown}


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> str:
        """SIGTERM, as a service manager stops it; says whether it stopped in time (else it is killed)."""
        if self.process.poll() is not None:
            return f"had already exited ({self.process.returncode})"
        started = time.perf_counter()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
            return f"stopped {time.perf_counter() - started:.1f} s after SIGTERM"
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own process group: the server and its workers
            self.process.wait(timeout=10)
            return f"did NOT stop within {STOP_TIMEOUT:.0f} s of SIGTERM (killed)"


@contextmanager
def serving(url: str, env: dict[str, str], workers: int | None, log: Path) -> Iterator[Server]:
    port = free_port()
    command = [*reticulist(), "serve", "--host", "127.0.0.1", "--port", str(port), "--database", url]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise SystemExit(f"reticulist serve exited ({process.returncode}); see {log}")
            try:
                if httpx2.get(server.url + "/login", timeout=5, verify=TLS).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"reticulist serve did not answer within {START_TIMEOUT:.0f} s; see {log}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            server.stop()


# --- clients --------------------------------------------------------------------------------------------
@dataclass
class Sample:
    who: str  # "survey" or "manager"
    what: str  # the page and method
    at: float  # seconds since the burst began
    ms: float
    error: str | None  # the kind of failure, None when the page was as expected


@dataclass
class Recorder:
    t0: float
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Failed(Exception):
    pass


def timed(
    recorder: Recorder, who: str, what: str, send: Callable[[], httpx2.Response], expect: int
) -> httpx2.Response:
    """Send one request and record how long it took and whether it failed, and how."""
    started = time.perf_counter()
    error: str | None = None
    response: httpx2.Response | None = None
    try:
        response = send()
        if response.status_code != expect:
            error = f"{response.status_code} {response.reason_phrase} at {what}"
    except httpx2.TimeoutException:
        error = f"timeout ({TIMEOUT:.0f} s)"
    except httpx2.TransportError as exc:
        error = f"connection: {type(exc).__name__}"
    took = time.perf_counter() - started
    recorder.add(Sample(who, what, started - recorder.t0, took * 1000, error))
    if error is not None:
        raise Failed(error)
    assert response is not None
    return response


_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_RADIO = re.compile(r'<input type="radio"[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"')
_SELECT = re.compile(r'<select[^>]*\bname="([^"]+)"[^>]*>(.*?)</select>', re.S)
_OPTION = re.compile(r'<option value="([^"]*)"')
_ACTION = re.compile(r'name="action" value="([^"]+)"')


def filled_form(html: str, rng: random.Random) -> dict[str, str]:
    """What a respondent sends from a survey page: its hidden form token, an answer to most statements,
    a choice in each select ("prefer not to say" among them), and the send or continue button."""
    data = dict(_HIDDEN.findall(html))
    radios: dict[str, list[str]] = {}
    for name, value in _RADIO.findall(html):
        radios.setdefault(name, []).append(value)
    for name, values in radios.items():
        if rng.random() < 0.95:
            data[name] = rng.choice(values)
    for name, options in _SELECT.findall(html):
        data[name] = rng.choice(_OPTION.findall(options))
    actions = _ACTION.findall(html)
    data["action"] = "send" if "send" in actions else "next"
    return data


def page_name(location: str) -> str:
    last = location.rstrip("/").rsplit("/", 1)[-1]
    return last if last in ("about", "check", "thanks", "start") else "section"


def respondent(base_url: str, token: str, recorder: Recorder, seed: int) -> bool:
    """One respondent through the whole survey; True when the thanks page came."""
    rng = random.Random(seed)
    with httpx2.Client(base_url=base_url, timeout=TIMEOUT, follow_redirects=False, verify=TLS) as client:
        try:
            welcome = timed(recorder, "survey", "GET welcome", lambda: client.get(f"/s/{token}"), 200)
            form = dict(_HIDDEN.findall(welcome.text))
            start = timed(
                recorder, "survey", "POST start", lambda: client.post(f"/s/{token}/start", data=form), 303
            )
            location = start.headers["location"]
            for _ in range(30):
                name = page_name(location)
                page = timed(recorder, "survey", f"GET {name}", lambda u=location: client.get(u), 200)
                if name == "thanks":
                    return True
                data = filled_form(page.text, rng)
                sent = timed(
                    recorder, "survey", f"POST {name}", lambda u=location, d=data: client.post(u, data=d), 303
                )
                location = sent.headers["location"]
            raise Failed("the survey never ended")
        except Failed:
            return False


def manager_pages(plan: Plan) -> list[tuple[str, str]]:
    p = f"/p/{plan.partnership_id}"
    pages = [
        ("overview", p),
        ("people", f"{p}/people"),
        ("meetings", f"{p}/meetings"),
        ("barometer rounds", f"{p}/barometer"),
        ("round", f"{p}/barometer/rounds/{plan.round_id}"),
    ]
    if plan.released_round_id:
        pages.append(("results", f"{p}/barometer/rounds/{plan.released_round_id}/results"))
    pages.append(("network", f"{p}/network"))
    return pages


def log_in(client: httpx2.Client, recorder: Recorder | None = None) -> bool:
    def send(what: str, request: Callable[[], httpx2.Response], expect: int) -> httpx2.Response:
        if recorder is None:
            response = request()
            if response.status_code != expect:
                raise Failed(f"{response.status_code} at {what}")
            return response
        return timed(recorder, "manager", what, request, expect)

    try:
        page = send("GET login", lambda: client.get("/login"), 200)
        token = dict(_HIDDEN.findall(page.text)).get("csrf_token", "")
        data = {"email": MANAGER.email, "password": MANAGER.password, "csrf_token": token}
        send("POST login", lambda: client.post("/login", data=data), 303)
        return True
    except (Failed, httpx2.TransportError):
        return False


def manager(base_url: str, plan: Plan, recorder: Recorder, stop: threading.Event) -> int:
    """The manager browsing the partnership's main pages until the burst is over; page views."""
    views = 0
    with httpx2.Client(base_url=base_url, timeout=TIMEOUT, follow_redirects=False, verify=TLS) as client:
        logged_in = log_in(client, recorder)
        while not stop.is_set():
            for name, path in manager_pages(plan):
                if stop.is_set():
                    break
                if not logged_in:
                    logged_in = log_in(client, recorder)
                    continue
                try:
                    timed(recorder, "manager", name, lambda u=path: client.get(u), 200)
                    views += 1
                except Failed:
                    pass  # counted; the manager goes on to the next page
                stop.wait(MANAGER_PAUSE)
    return views


# --- one backend ----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    backend: str
    stored: int | None = None
    errors: int | None = None
    p95: float | None = None
    skipped: str | None = None


def run_backend(backend: str, args: argparse.Namespace) -> Outcome:
    print(f"\n== {backend} ==", flush=True)
    if backend == "postgresql" and (problem := postgres_problem(args.postgres)):
        print(f"skipped: {problem}", flush=True)
        return Outcome(backend, skipped=problem)
    secret = secrets.token_urlsafe(48)
    env = {
        **os.environ,
        "RETICULIST_ENVIRONMENT": "production",
        "RETICULIST_SECRET_KEY": secret,
        # The clients speak plain http to 127.0.0.1, as a reverse proxy would; a browser would get the
        # Secure cookie over the proxy's https, an HTTP client here would not send it back.
        "RETICULIST_COOKIE_SECURE": "false",
    }
    with (
        scratch_database(None if backend == "sqlite" else args.postgres, name="burst") as url,
        tempfile.TemporaryDirectory(prefix="burst-") as tmp,
    ):
        workdir = Path(tmp)
        shown = make_url(url).render_as_string(hide_password=True)
        print(f"database: {shown}", flush=True)
        took = run_logged(
            [*reticulist(), "demo", "--no-serve", "--database", url],
            env,
            workdir / "demo.log",
            "reticulist demo",
        )
        print(f"demo partnership built with `reticulist demo --no-serve` in {took:.0f} s", flush=True)
        plan = prepare(url, secret, args.respondents, args.people, workdir)
        print(
            f"round {plan.round_id} open on the built-in survey with {len(plan.tokens)} personal links; "
            f"register of {plan.people_before} people; import file of {args.people:,} new people written",
            flush=True,
        )

        options = serve_options(env)
        workers = args.workers if "--workers" in options else None
        if workers:
            print(f"serving with `reticulist serve --workers {workers}` (production set-up)", flush=True)
        else:
            print(
                "`reticulist serve` has no --workers option in this version: serving with ONE process",
                flush=True,
            )
        with serving(url, env, workers, workdir / "serve.log") as server:
            warm = httpx2.Client(base_url=server.url, timeout=TIMEOUT, verify=TLS)
            for path in ("/login", f"/s/{plan.tokens[0]}"):  # templates compiled, first connections made
                warm.get(path)
            warm.close()
            load = os.getloadavg()[0]
            print(f"load average before the burst (1 min): {load:.1f} on {os.cpu_count()} cores", flush=True)

            recorder = Recorder(time.perf_counter())
            stop = threading.Event()
            views: list[int] = []
            manager_thread = threading.Thread(
                target=lambda: views.append(manager(server.url, plan, recorder, stop)), daemon=True
            )
            manager_thread.start()

            import_log = workdir / "import.log"
            import_started = time.perf_counter()
            with import_log.open("wb") as out:
                importer = subprocess.Popen(
                    [
                        *reticulist(),
                        "import",
                        "people",
                        str(plan.import_file),
                        "--partnership",
                        plan.partnership,
                        "--database",
                        url,
                    ],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            import_finished: list[float] = []
            threading.Thread(
                target=lambda: (importer.wait(), import_finished.append(time.perf_counter())), daemon=True
            ).start()

            todo: queue.Queue[tuple[int, str]] = queue.Queue()
            for n, token in enumerate(plan.tokens):
                todo.put((n, token))
            finished: list[bool] = []

            def worker() -> None:
                while True:
                    try:
                        n, token = todo.get_nowait()
                    except queue.Empty:
                        return
                    finished.append(respondent(server.url, token, recorder, n))

            burst_started = time.perf_counter()
            threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.at_once)]
            for thread in threads:
                thread.start()
            report_at = burst_started + 5
            while any(t.is_alive() for t in threads):
                time.sleep(0.2)
                if time.perf_counter() < report_at:
                    continue
                report_at += 5
                survey = [s for s in recorder.samples if s.who == "survey"]
                state = "running" if importer.poll() is None else f"done (exit {importer.returncode})"
                print(
                    f"  +{time.perf_counter() - burst_started:5.0f} s: {len(finished)}/{len(plan.tokens)} "
                    f"respondents finished, {len(survey)} survey requests, "
                    f"{sum(1 for s in recorder.samples if s.error)} errors; import {state}",
                    flush=True,
                )
            burst_took = time.perf_counter() - burst_started
            stop.set()
            manager_thread.join(timeout=TIMEOUT + 5)
            try:
                importer.wait(timeout=IMPORT_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(importer.pid, signal.SIGKILL)
                importer.wait()
            import_took = (import_finished[0] if import_finished else time.perf_counter()) - import_started

            with httpx2.Client(base_url=server.url, timeout=10, follow_redirects=False, verify=TLS) as client:
                logs_in = log_in(client)
            stopped = server.stop()

        engine = make_engine(url)
        with engine.connect() as connection:
            stored = connection.scalar(
                select(func.count())
                .select_from(BarometerResponse)
                .where(BarometerResponse.round_id == plan.round_id)
            )
            used = connection.scalar(
                select(func.count())
                .select_from(BarometerInvitation)
                .where(BarometerInvitation.round_id == plan.round_id, BarometerInvitation.used.is_(True))
            )
            people_after = connection.scalar(
                select(func.count()).select_from(Person).where(Person.partnership_id == plan.partnership_id)
            )
        engine.dispose()
        import_tail = [line for line in import_log.read_text(errors="replace").splitlines() if line.strip()]

    survey = [s for s in recorder.samples if s.who == "survey"]
    managed = [s for s in recorder.samples if s.who == "manager"]
    errors = Counter(s.error for s in recorder.samples if s.error)
    survey_ms = [s.ms for s in survey]
    added = int(people_after or 0) - plan.people_before
    import_ok = importer.returncode == 0 and added == args.people
    p95 = percentile(survey_ms, 95)

    print(f"{backend}: stored {stored}/{len(plan.tokens)} answers (invitations used: {used})")
    print(
        f"  survey: {len(survey)} requests by {len(plan.tokens)} respondents, {args.at_once} at once, "
        f"in {burst_took:.1f} s; {sum(finished)} reached the thanks page"
    )
    print(
        f"  survey latency: p50 {percentile(survey_ms, 50):.0f} ms, p95 {p95:.0f} ms, "
        f"max {max(survey_ms, default=0):.0f} ms (target p95 < {P95_TARGET_MS} ms)"
    )
    by_page: dict[str, list[float]] = {}
    for s in survey:
        by_page.setdefault(s.what, []).append(s.ms)
    print(
        "  survey p95 by page: "
        + ", ".join(f"{what} {percentile(v, 95):.0f} ms" for what, v in sorted(by_page.items()))
    )
    manager_ms = [s.ms for s in managed]
    print(
        f"  manager: {len(managed)} requests ({views[0] if views else 0} page views), "
        f"p95 {percentile(manager_ms, 95):.0f} ms, max {max(manager_ms, default=0):.0f} ms, "
        f"errors {sum(1 for s in managed if s.error)}"
    )
    by_manager_page: dict[str, list[float]] = {}
    for s in managed:
        by_manager_page.setdefault(s.what, []).append(s.ms)
    print(
        "  manager p95 by page: "
        + ", ".join(f"{what} {percentile(v, 95):.0f} ms" for what, v in sorted(by_manager_page.items()))
    )
    first = min((s.at for s in recorder.samples if s.error), default=None)
    print(
        f"  errors: {sum(errors.values())}"
        + (
            " (none)"
            if first is None
            else f"; the first failed request was sent {first:.1f} s into the burst"
        )
    )
    for kind, count in errors.most_common():
        print(f"    {count:5d} x {kind}")
    print(
        f"  import of {args.people:,} people: {'complete' if import_ok else 'FAILED'} in {import_took:.1f} s "
        f"(exit {importer.returncode}, {added:,} people added; the burst took {burst_took:.1f} s)"
    )
    if not import_ok:
        for line in import_tail[-5:]:
            print(f"    import said: {line[:200]}")
    print(f"  afterwards: login {'works' if logs_in else 'FAILS'}; the server {stopped}", flush=True)
    return Outcome(backend, stored=int(stored or 0), errors=sum(errors.values()), p95=p95)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["sqlite", "postgresql"], help="run one backend")
    parser.add_argument("--respondents", type=int, default=200)
    parser.add_argument("--at-once", type=int, default=100)
    parser.add_argument("--people", type=int, default=20_000, help="people in the register import")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (default: one per core)"
    )
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL, help="PostgreSQL server (admin URL)")
    args = parser.parse_args(argv)

    commit = subprocess.run(
        ["git", "-C", str(Path(__file__).parent), "log", "-1", "--format=%h %s"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"code under test: {commit[:100] or 'not a git checkout'}", flush=True)
    outcomes = {
        backend: run_backend(backend, args)
        if args.only in (None, backend)
        else Outcome(backend, skipped="--only")
        for backend in ("sqlite", "postgresql")
    }

    def part(o: Outcome) -> str:
        if o.skipped:
            return f"{o.backend} stored -/{args.respondents}, errors -, p95 - ms"
        return f"{o.backend} stored {o.stored}/{args.respondents}, errors {o.errors}, p95 {o.p95:.0f} ms"

    print(
        f"\nsurvey burst: {args.respondents} respondents, {args.at_once} at once: "
        f"{part(outcomes['sqlite'])}; {part(outcomes['postgresql'])}"
    )


if __name__ == "__main__":
    main()
