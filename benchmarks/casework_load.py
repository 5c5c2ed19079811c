"""Benchmark: casework under a county's data and a team's use (issue 10; target: p95 under 250 ms, no
errors, every read audited).

1. A fresh PostgreSQL database holding 100,000 children in 60,000 families, 20,000 practitioners,
   1,000,000 case notes and 5,000,000 audit rows, generated in the database (INSERT ... SELECT over
   generate_series: a few minutes, not hours of Python); 50 practitioner logins, each leading about 30
   open families;
2. `reticulist serve --workers N` (one per core by default) serves it, as docs/operating.md says;
3. a load generator in another process (this script with --client; threads with one HTTP connection each,
   httpx) logs in the 50 practitioners and for 60 s sends a mix of caseload views, family record views,
   "is this child known?" searches and case note writes, each user pausing about a second between
   actions;
4. afterwards the audit log is counted: every successful read (caseload, record, search) must have its
   audit row.

    .venv/bin/python benchmarks/casework_load.py [--seconds 60] [--users 50] [--workers N]
        [--families 60000] [--children 100000] [--practitioners 20000] [--notes 1000000]
        [--audit-rows 5000000] [--postgres URL]

The last line printed is
``casework: N requests, 50 users: p50 X ms, p95 Y ms, errors E, reads audited R of S``.
"""

# ruff: noqa: E501  (the generating SQL reads better with its lines whole)
from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from audit_rows import copy_chained_rows  # benchmarks/audit_rows.py
from scratch import scratch_database  # benchmarks/scratch.py
from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get(
    "RETICULIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "casework-bench-password"
P95_TARGET_MS = 250
SURNAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Hughes",
    "Edwards",
    "Ali",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
]
FORENAMES = [
    "Olivia",
    "Noah",
    "Amelia",
    "Muhammad",
    "Isla",
    "George",
    "Ava",
    "Oliver",
    "Mia",
    "Leo",
    "Ivy",
    "Arthur",
    "Freya",
    "Oscar",
    "Lily",
    "Theo",
    "Florence",
    "Harry",
    "Willow",
    "Archie",
    "Rosie",
    "Jack",
    "Sophia",
    "Finley",
    "Isabella",
    "Henry",
    "Grace",
    "Charlie",
    "Evie",
    "Alfie",
]


def reticulist() -> list[str]:
    script = Path(sys.executable).with_name("reticulist")
    return (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from reticulist.cli.main import app; app()"]
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 100)) - 1))]


# --- data ------------------------------------------------------------------------------------------------
def _array(words: list[str]) -> str:
    return "(ARRAY[" + ",".join(f"'{w}'" for w in words) + "])"


def generate(url: str, args: argparse.Namespace) -> dict[str, int]:
    """The county's casework, written by the database itself; returns the load users' register ids."""
    from reticulist.access import service as accounts
    from reticulist.access.policy import Role, cli_actor
    from reticulist.casework import service as casework
    from reticulist.db.engine import make_engine, make_session_factory
    from reticulist.db.migrate import upgrade
    from reticulist.register import schemas as s
    from reticulist.register import service as register

    upgrade(url)
    engine = make_engine(url)
    root = cli_actor("casework benchmark")
    kinds = ["childrens_social_care", "education", "health", "police", "voluntary", "housing"]
    with make_session_factory(engine)() as session:
        partnership = register.create_partnership(
            session,
            actor=root,
            data=s.PartnershipCreate(name="County Early Help Partnership", kind="early_help"),
        )
        for n in range(30):
            register.create_organisation(
                session,
                actor=root,
                partnership_id=partnership.id,
                data=s.OrganisationCreate(
                    name=f"Agency {n + 1:02d}", kind=kinds[n % len(kinds)], tier="statutory"
                ),
            )
        session.commit()
        pid = partnership.id
    f, c, p = args.families, args.children, args.practitioners
    surnames, forenames = _array(SURNAMES), _array(FORENAMES)
    steps = [
        (
            "practitioners",
            f"""
            INSERT INTO person (partnership_id, full_name, email, organisation_id, hierarchy_tier, late_entry,
                                interprofessional_training)
            SELECT {pid}, {forenames}[1 + g % 30] || ' ' || {surnames}[1 + (g * 7) % 50] || ' ' || g,
                   'p' || g || '@county.example.org', (SELECT min(id) FROM organisation) + g % 30, 5, false, false
            FROM generate_series(1, {p}) g""",
        ),
        (
            "families",
            f"""
            INSERT INTO family (partnership_id, reference, created_at)
            SELECT {pid}, 'F-' || g, now() FROM generate_series(1, {f}) g""",
        ),
        (
            "children",
            f"""
            INSERT INTO family_member (family_id, partnership_id, kind, forenames, surname, surname_key, known_as,
                date_of_birth, sex, relationship_to_children, parental_responsibility, nhs_number, upn,
                upn_temporary, shielded)
            SELECT (SELECT min(id) FROM family) + (g - 1) % {f}, {pid}, 'child', {forenames}[1 + g % 30],
                   {surnames}[1 + ((g - 1) % {f}) % 50], lower({surnames}[1 + ((g - 1) % {f}) % 50]), '',
                   date '2009-01-01' + (g * 37) % 5800, CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END,
                   'child', false, NULL, NULL, false, false
            FROM generate_series(1, {c}) g""",
        ),
        (
            "adults",
            f"""
            INSERT INTO family_member (family_id, partnership_id, kind, forenames, surname, surname_key, known_as,
                date_of_birth, sex, relationship_to_children, parental_responsibility, nhs_number, upn,
                upn_temporary, shielded)
            SELECT id, {pid}, 'adult', {forenames}[1 + id % 30], {surnames}[1 + (id - (SELECT min(id) FROM family)) % 50],
                   lower({surnames}[1 + (id - (SELECT min(id) FROM family)) % 50]), '', NULL, 'female', 'mother',
                   true, NULL, NULL, false, false
            FROM family""",
        ),
        (
            "addresses",
            """
            INSERT INTO member_address (member_id, lines, postcode, from_on, to_on, shielded)
            SELECT id, (id % 200) || ' High Street, Countytown', 'CT' || (1 + id % 20) || ' ' || (id % 9) || 'AB',
                   date '2020-01-01', NULL, false
            FROM family_member""",
        ),
        (
            "episodes",
            """
            INSERT INTO episode (family_id, partnership_id, requested_by, request_reason, requested_on,
                agreed_by_member_id, agreed_on, opened_on, closed_on, outcome)
            SELECT f.id, f.partnership_id, 'School', 'Attendance and behaviour', date '2025-01-01' + f.id % 300,
                   m.id, date '2025-01-03' + f.id % 300, date '2025-01-05' + f.id % 300,
                   CASE WHEN f.id % 10 < 3 THEN NULL ELSE date '2025-08-01' + f.id % 300 END,
                   CASE WHEN f.id % 10 < 3 THEN NULL ELSE 'needs_met' END
            FROM family f JOIN family_member m ON m.family_id = f.id AND m.kind = 'adult'""",
        ),
        # Three practitioners per episode. The load users (the first 50 people) lead about 30 open families
        # each; everything else is led and staffed by the other practitioners.
        (
            "teams",
            f"""
            INSERT INTO involvement (episode_id, person_id, organisation_id, role, from_on, to_on)
            SELECT e.id, pr.id, pr.organisation_id, CASE WHEN j = 0 THEN 'Lead practitioner' ELSE 'Team member' END,
                   e.opened_on, e.closed_on
            FROM episode e CROSS JOIN generate_series(0, 2) j
            JOIN LATERAL (
                SELECT id, organisation_id FROM person
                WHERE id = (SELECT min(id) FROM person) + CASE
                    WHEN j = 0 AND e.closed_on IS NULL AND (e.id - (SELECT min(id) FROM episode)) < {args.users * 30 * 10 // 3}
                        THEN ((e.id - (SELECT min(id) FROM episode)) / 10) % {args.users}
                    ELSE {args.users} + (e.id * (7 + j * 6)) % ({p} - {args.users}) END
            ) pr ON true""",
        ),
        (
            "leads",
            """
            INSERT INTO lead_practitioner (episode_id, involvement_id, from_on, to_on, family_had_say)
            SELECT i.episode_id, min(i.id), min(i.from_on), max(e.closed_on), true
            FROM involvement i JOIN episode e ON e.id = i.episode_id
            WHERE i.role = 'Lead practitioner' GROUP BY i.episode_id""",
        ),
        (
            "notes",
            f"""
            INSERT INTO case_note (family_id, episode_id, author_user_id, author_person_id, author_label, happened_on,
                kind, text, sensitive, written_at)
            SELECT e.family_id, e.id, NULL, NULL, 'A practitioner', e.opened_on + g % 200,
                   (ARRAY['home_visit','meeting','phone_call','observation'])[1 + g % 4],
                   'Visited the family; the children were at school. Talked through the plan and the next steps. '
                   || g, g % 20 = 0, now()
            FROM generate_series(1, {args.notes}) g
            JOIN episode e ON e.id = (SELECT min(id) FROM episode) + (g - 1) % {f}""",
        ),
    ]
    with engine.begin() as connection:
        for what, sql in steps:
            started = time.perf_counter()
            connection.execute(text(sql))
            print(f"  generated {what} in {time.perf_counter() - started:.1f} s", flush=True)
    # The audit rows, chained as the app chains them (benchmarks/audit_rows.py).
    with engine.connect() as connection:
        first_family = connection.scalar(text("SELECT min(id) FROM family"))
    seconds = copy_chained_rows(
        url, args.audit_rows, partnership_id=pid, first_family=first_family, families=f, practitioners=p
    )
    print(f"  generated audit rows (chained) in {seconds:.1f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        started = time.perf_counter()
        connection.execute(text("VACUUM ANALYZE"))
        print(f"  VACUUM ANALYZE in {time.perf_counter() - started:.1f} s", flush=True)
    users: dict[str, int] = {}
    with make_session_factory(engine)() as session:
        first_person = session.scalar(text("SELECT min(id) FROM person"))
        for n in range(args.users):
            email = f"worker{n:02d}@county.example.org"
            user = accounts.create_user(
                session, actor=root, email=email, display_name=f"Worker {n}", password=PASSWORD
            )
            accounts.set_role(
                session, actor=root, partnership_id=pid, user_id=user.id, role=Role.PRACTITIONER
            )
            casework.link_practitioner(
                session, actor=root, partnership_id=pid, user_id=user.id, person_id=first_person + n
            )
            users[email] = first_person + n
        session.commit()
    engine.dispose()
    return {"partnership_id": pid, **users}


# --- the load generator (another process) ---------------------------------------------------------------
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
_FAMILY = re.compile(r'href="/p/\d+/cases/(\d+)"')


def client(base_url: str, pid: int, emails: list[str], seconds: float, out: Path) -> None:
    import httpx2

    samples: list[tuple[str, float, str | None]] = []
    lock = threading.Lock()
    reads = Counter()

    def user(email: str, seed: int) -> None:
        rng = random.Random(seed)
        with httpx2.Client(base_url=base_url, timeout=30, follow_redirects=False) as http:

            def timed(what: str, send):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                error = None
                response = None
                try:
                    response = send()
                    if response.status_code >= 400:
                        error = f"{response.status_code} at {what}"
                except httpx2.HTTPError as exc:
                    error = f"{type(exc).__name__} at {what}"
                with lock:
                    samples.append((what, (time.perf_counter() - started) * 1000, error))
                return response if error is None else None

            page = http.get("/login")
            token = dict(_HIDDEN.findall(page.text)).get("csrf_token", "")
            if (
                http.post(
                    "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
                ).status_code
                != 303
            ):
                with lock:
                    samples.append(("login", 0.0, "login refused"))
                return
            csrf = dict(_HIDDEN.findall(http.get("/account").text)).get("csrf_token", "")
            families: list[str] = []
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                roll = rng.random()
                if roll < 0.3 or not families:
                    response = timed("caseload", lambda: http.get(f"/p/{pid}/cases"))
                    if response is not None:
                        families = _FAMILY.findall(response.text) or families
                        with lock:
                            reads["caseload"] += 1
                elif roll < 0.7:
                    family = rng.choice(families)
                    if timed("record", lambda f=family: http.get(f"/p/{pid}/cases/{f}")) is not None:
                        with lock:
                            reads["record"] += 1
                elif roll < 0.9:
                    surname = rng.choice(SURNAMES)
                    born = f"{2009 + rng.randint(0, 15)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    query = {"surname": surname, "date_of_birth": born}
                    if (
                        timed("search", lambda q=query: http.get(f"/p/{pid}/cases/search", params=q))
                        is not None
                    ):
                        with lock:
                            reads["search"] += 1
                else:
                    family = rng.choice(families)
                    form = {
                        "csrf_token": csrf,
                        "happened_on": time.strftime("%Y-%m-%d"),
                        "kind": "phone_call",
                        "text": "Phone call with the family: the week went better.",
                        "sensitive": "no",
                    }
                    timed("note", lambda f=family, d=form: http.post(f"/p/{pid}/cases/{f}/notes", data=d))
                time.sleep(rng.uniform(0.5, 1.5))

    threads = [threading.Thread(target=user, args=(email, n)) for n, email in enumerate(emails)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.write_text(json.dumps({"samples": samples, "reads": dict(reads)}))


# --- the run ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--families", type=int, default=60_000)
    parser.add_argument("--children", type=int, default=100_000)
    parser.add_argument("--practitioners", type=int, default=20_000)
    parser.add_argument("--notes", type=int, default=1_000_000)
    parser.add_argument("--audit-rows", type=int, default=5_000_000)
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL)
    parser.add_argument("--client", nargs=4, metavar=("URL", "PID", "EMAILS", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        url, pid, emails, out = args.client
        client(url, int(pid), emails.split(","), args.seconds, Path(out))
        return

    with scratch_database(args.postgres, name="casework") as url:
        started = time.perf_counter()
        plan = generate(url, args)
        pid = plan.pop("partnership_id")
        print(f"data generated in {time.perf_counter() - started:.0f} s", flush=True)
        secret = secrets.token_urlsafe(48)
        env = {
            **os.environ,
            "RETICULIST_ENVIRONMENT": "production",
            "RETICULIST_SECRET_KEY": secret,
            "RETICULIST_COOKIE_SECURE": "false",  # plain http to 127.0.0.1, as behind a reverse proxy
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(f"/tmp/casework-serve-{port}.log")
        server = subprocess.Popen(
            [
                *reticulist(),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--database",
                url,
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            import httpx2

            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx2.get(base + "/login", timeout=5).status_code == 200:
                        break
                except httpx2.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the server did not start; see {log}")
                time.sleep(0.3)
            engine = create_engine(url)
            with engine.connect() as connection:
                before = connection.scalar(text("SELECT max(id) FROM audit_event"))
            out = Path(f"/tmp/casework-load-{port}.json")
            print(
                f"serving with --workers {args.workers}; {args.users} users for {args.seconds:.0f} s",
                flush=True,
            )
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--seconds",
                    str(args.seconds),
                    "--client",
                    base,
                    str(pid),
                    ",".join(plan),
                    str(out),
                ],
                check=True,
            )
            result = json.loads(out.read_text())
            with engine.connect() as connection:
                audited = connection.scalar(
                    text(
                        "SELECT count(*) FROM audit_event WHERE id > :before AND via = 'web' "
                        "AND ((record_type = 'family' AND event = 'viewed') OR record_type IN ('caseload', 'child_search'))"
                    ),
                    {"before": before},
                )
            engine.dispose()
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
    samples = result["samples"]
    latencies = [ms for _what, ms, _error in samples]
    errors = Counter(error for _what, _ms, error in samples if error)
    reads = sum(result["reads"].values())
    by_kind: dict[str, list[float]] = {}
    for what, ms, _error in samples:
        by_kind.setdefault(what, []).append(ms)
    print(
        "by kind: "
        + ", ".join(f"{k} {len(v)} p95 {percentile(v, 95):.0f} ms" for k, v in sorted(by_kind.items()))
    )
    for kind, count in errors.most_common():
        print(f"  {count} x {kind}")
    print(
        f"casework: {len(samples)} requests, {args.users} users: p50 {percentile(latencies, 50):.0f} ms, "
        f"p95 {percentile(latencies, 95):.0f} ms, errors {sum(errors.values())}, reads audited {audited} of {reads}"
    )


if __name__ == "__main__":
    main()
