"""Benchmark: what doing writes once costs. Times API writes (add a profession) through FastAPI's
TestClient with a bearer token: without an Idempotency-Key, with a new key each time (the claim inserted
with the work, the answer stored after), and sent again with a used key (the answer replayed, no work);
then the meeting form without and with its form_key. Medians of ``--runs`` requests after a warm-up.

SQLite (a temporary file) and PostgreSQL (a scratch database of its own on ``--postgres``, dropped at the
end; ``--postgres none`` skips it).

    .venv/bin/python benchmarks/idempotent_writes.py [--runs 200] [--postgres URL|none]

The last line printed is
``idempotent writes (median ms): sqlite api A/B/C, form D/E; postgresql api A/B/C, form D/E``
with A without a key, B with a new key, C a replay, D the form without a key, E with one.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

from fastapi.testclient import TestClient
from scratch import scratch_database  # benchmarks/scratch.py

from reticulist.access import service as accounts
from reticulist.access.policy import Role, cli_actor
from reticulist.db.engine import make_engine, make_session_factory
from reticulist.db.migrate import upgrade
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.settings import Settings
from reticulist.web.app import create_app

SECRET = "benchmark-secret-" + "x" * 24
EMAIL = "bench-manager@example.org"
PASSWORD = "benchmark-manager-password"


def median_ms(runs: int, send: Callable[[int], int], expected: int) -> float:
    for i in range(5):  # warm-up
        send(-1 - i)
    times = []
    for i in range(runs):
        start = time.perf_counter()
        status = send(i)
        times.append((time.perf_counter() - start) * 1000)
        assert status == expected, f"got {status}, expected {expected}"
    return statistics.median(times)


def measure(url: str, runs: int) -> str:
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine, secret_key=SECRET)() as db:
        root = cli_actor("benchmark")
        partnership = register.create_partnership(db, actor=root, data=s.PartnershipCreate(name="Bench"))
        user = accounts.create_user(db, actor=root, email=EMAIL, display_name="Bench", password=PASSWORD)
        accounts.set_role(db, actor=root, partnership_id=partnership.id, user_id=user.id, role=Role.MANAGER)
        db.flush()
        _, token = accounts.create_api_token(
            db, actor=accounts.actor_for(db, user), name="bench", secret_key=SECRET
        )
        db.commit()
        pid = partnership.id
    engine.dispose()
    client = TestClient(
        create_app(Settings(database_url=url, secret_key=SECRET)),
        base_url="https://testserver",
        follow_redirects=False,
    )
    api = f"/api/v1/partnerships/{pid}/professions"
    bearer = {"Authorization": f"Bearer {token}"}

    def plain(i: int) -> int:
        return client.post(api, json={"name": f"Plain {i}"}, headers=bearer).status_code

    def keyed(i: int) -> int:
        headers = {**bearer, "Idempotency-Key": f"new-{i}"}
        return client.post(api, json={"name": f"Keyed {i}"}, headers=headers).status_code

    client.post(api, json={"name": "Once"}, headers={**bearer, "Idempotency-Key": "once"})

    def replay(_: int) -> int:
        headers = {**bearer, "Idempotency-Key": "once"}
        return client.post(api, json={"name": "Once"}, headers=headers).status_code

    figures = [median_ms(runs, plain, 201), median_ms(runs, keyed, 201), median_ms(runs, replay, 201)]

    login_page = client.get("/login").text
    login_csrf = re.search(r'name="csrf_token" value="([^"]*)"', login_page).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": login_csrf})
    form_page = client.get(f"/p/{pid}/meetings/new").text
    csrf = re.search(r'name="csrf_token" value="([^"]*)"', form_page).group(1)  # type: ignore[union-attr]
    meeting = {"kind": "board", "held_on": "2025-03-27", "notes": "", "csrf_token": csrf}
    form = f"/p/{pid}/meetings/new"

    def form_plain(i: int) -> int:
        return client.post(form, data={**meeting, "title": f"Plain {i}"}).status_code

    def form_keyed(i: int) -> int:
        return client.post(form, data={**meeting, "title": f"Keyed {i}", "form_key": f"k{i}"}).status_code

    figures += [median_ms(runs, form_plain, 303), median_ms(runs, form_keyed, 303)]
    client.close()
    api_ms, form_ms = ("/".join(f"{f:.1f}" for f in part) for part in (figures[:3], figures[3:]))
    return f"api {api_ms}, form {form_ms}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    parts = []
    for kind in ("sqlite", "postgresql"):
        if kind == "postgresql" and args.postgres == "none":
            continue
        with scratch_database(None if kind == "sqlite" else args.postgres) as url:
            result = measure(url, args.runs)
        print(f"{kind}: {result}", flush=True)
        parts.append(f"{kind} {result}")
    print("idempotent writes (median ms): " + "; ".join(parts))


if __name__ == "__main__":
    main()
