"""Issue 11's target for the audit log's hash chain: verify a chain of 5,000,000 rows on PostgreSQL in under
60 s, and hashing adds under 10% to a case note write.

1. A scratch PostgreSQL database with a partnership, a practitioner and a family (through the services),
   then 5,000,000 read events appended to the chain (hashed in order here, copied in with COPY).
2. ``chain.verify`` over the whole chain, with one process and with ``--workers`` processes; and, as the
   reference in the same run, the readable way (ORM rows, before/after parsed and written again) over
   the first ``--reference-rows`` rows, as rows per second.
3. Case notes written through ``casework.add_note`` (a note, its audit row, commit), in turns of 25 with
   the chain's ``before_flush`` listener on and off, on one connection; the median write of each.

Last line: ``audit verify: N rows: X s; hashing adds P% to a write``.

    .venv/bin/python benchmarks/audit_verify.py [--rows 5000000] [--workers 2] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date

from audit_rows import copy_chained_rows  # benchmarks/audit_rows.py
from scratch import scratch_database  # benchmarks/scratch.py
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

POSTGRES_ADMIN_URL = os.environ.get(
    "RETICULIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def setup(url: str) -> tuple[int, int, int]:
    """A partnership with one practitioner (a login linked to a register person) leading one family."""
    from reticulist.access import service as accounts
    from reticulist.access.policy import Role, cli_actor
    from reticulist.casework import schemas as cs
    from reticulist.casework import service as casework
    from reticulist.db.engine import make_engine, make_session_factory
    from reticulist.db.migrate import upgrade
    from reticulist.register import schemas as s
    from reticulist.register import service as register

    upgrade(url)
    engine = make_engine(url)
    root = cli_actor("audit benchmark")
    with make_session_factory(engine)() as session:
        partnership = register.create_partnership(
            session, actor=root, data=s.PartnershipCreate(name="County", kind="early_help")
        )
        organisation = register.create_organisation(
            session,
            actor=root,
            partnership_id=partnership.id,
            data=s.OrganisationCreate(name="Family Hubs", kind="childrens_social_care", tier="statutory"),
        )
        session.flush()
        person = register.create_person(
            session,
            actor=root,
            partnership_id=partnership.id,
            data=s.parse(
                s.PersonCreate,
                {
                    "full_name": "Pat Worker",
                    "email": "pat@county.example.org",
                    "organisation_id": organisation.id,
                    "hierarchy_tier": 5,
                },
            ),
        )
        user = accounts.create_user(
            session, actor=root, email="pat@county.example.org", display_name="Pat", password="x" * 20
        )
        accounts.set_role(
            session, actor=root, partnership_id=partnership.id, user_id=user.id, role=Role.PRACTITIONER
        )
        casework.link_practitioner(
            session, actor=root, partnership_id=partnership.id, user_id=user.id, person_id=person.id
        )
        today = date.today().isoformat()
        family = casework.record_family(
            session,
            actor=root,
            partnership_id=partnership.id,
            data=s.parse(
                cs.FamilyCreate,
                {
                    "reference": "EH-1",
                    "members": [
                        {
                            "kind": "child",
                            "forenames": "Sam",
                            "surname": "Lee",
                            "relationship_to_children": "child",
                        },
                        {
                            "kind": "adult",
                            "forenames": "Jo",
                            "surname": "Lee",
                            "relationship_to_children": "mother",
                            "parental_responsibility": "yes",
                        },
                    ],
                    "episode": {
                        "requested_by": "School",
                        "request_reason": "Attendance",
                        "requested_on": today,
                        "agreed_on": today,
                        "opened_on": today,
                        "lead_person_id": person.id,
                        "lead_role": "Family support worker",
                    },
                    "agreed_by": 2,
                },
            ),
        )
        session.commit()
        ids = (partnership.id, family.id, user.id)
    engine.dispose()
    return ids


def reference_rows_per_second(url: str, rows: int) -> float:
    """The readable verification: ORM rows, before and after parsed and written again, one process."""
    from reticulist.audit.chain import GENESIS, row_hash
    from reticulist.audit.models import AuditEvent
    from reticulist.db.engine import make_engine

    engine = make_engine(url)
    started = time.perf_counter()
    previous, seen = GENESIS, 0
    with Session(engine) as session:
        query = select(AuditEvent).where(AuditEvent.chain_seq <= rows).order_by(AuditEvent.chain_seq)
        for e in session.scalars(query.execution_options(yield_per=10_000)):
            computed = row_hash(
                previous,
                e.chain_seq,
                e.at,
                e.actor_user_id,
                e.actor_label,
                e.partnership_id,
                e.event,
                e.record_type,
                e.record_id,
                e.summary,
                e.before,
                e.after,
                e.via,
            )
            if computed != e.chain_hash:
                raise SystemExit(f"reference: row {e.chain_seq} does not verify")
            previous, seen = e.chain_hash, seen + 1
    engine.dispose()
    return seen / (time.perf_counter() - started)


def note_writes(
    url: str, partnership_id: int, family_id: int, user_id: int, turns: int
) -> tuple[float, float]:
    """Median seconds of one case note write (note, audit row, commit), chained and not."""
    from reticulist.access import service as accounts
    from reticulist.access.models import User
    from reticulist.audit import chain
    from reticulist.casework import schemas as cs
    from reticulist.casework import service as casework
    from reticulist.db.engine import make_engine, make_session_factory

    engine = make_engine(url)
    factory = make_session_factory(engine)
    times: dict[bool, list[float]] = {True: [], False: []}
    with factory() as session:
        actor = accounts.actor_for(session, session.get(User, user_id))
    note = cs.NoteCreate(happened_on=date.today(), kind="home_visit", text="Visited; the plan is on track.")
    for turn in range(turns):
        chained = turn % 2 == 0
        if not chained:
            event.remove(Session, "before_flush", chain._chain_new_rows)
        try:
            for _ in range(25):
                with factory() as session:
                    started = time.perf_counter()
                    casework.add_note(
                        session, actor=actor, family_id=family_id, data=note, partnership_id=partnership_id
                    )
                    session.commit()
                    times[chained].append(time.perf_counter() - started)
        finally:
            if not chained:
                event.listen(Session, "before_flush", chain._chain_new_rows)
    engine.dispose()
    return statistics.median(times[True]), statistics.median(times[False])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--reference-rows", type=int, default=500_000)
    parser.add_argument("--turns", type=int, default=16, help="turns of 25 note writes, alternately chained")
    parser.add_argument("--postgres", default=POSTGRES_ADMIN_URL)
    args = parser.parse_args()

    from reticulist.audit import chain
    from reticulist.db.engine import make_engine

    with scratch_database(args.postgres, name="audit") as url:
        pid, family_id, user_id = setup(url)
        seconds = copy_chained_rows(
            url, args.rows, partnership_id=pid, first_family=family_id, families=1, practitioners=20_000
        )
        print(f"appended {args.rows:,} chained rows in {seconds:.0f} s", flush=True)
        engine = make_engine(url)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE audit_event"))
        results = {}
        for workers in sorted({1, args.workers}):
            started = time.perf_counter()
            result = chain.verify(engine, workers=workers)
            results[workers] = time.perf_counter() - started
            if result.problem is not None:
                raise SystemExit(f"the chain does not verify: {result.problem}")
            print(
                f"verify with {workers} process(es): {result.rows:,} rows in {results[workers]:.1f} s "
                f"({result.rows / results[workers]:,.0f} rows/s)",
                flush=True,
            )
        rows = result.rows
        engine.dispose()
        reference = reference_rows_per_second(url, min(args.reference_rows, rows))
        fast = rows / results[args.workers]
        print(
            f"reference (ORM rows, JSON parsed and written again, 1 process): {reference:,.0f} rows/s; "
            f"verify is {fast / reference:.1f}x faster",
            flush=True,
        )
        with_chain, without = note_writes(url, pid, family_id, user_id, args.turns)
        added = (with_chain - without) / without * 100
        print(
            f"case note write, median: {with_chain * 1000:.2f} ms chained, {without * 1000:.2f} ms not",
            flush=True,
        )
        seconds = results[args.workers]
        print(f"audit verify: {rows} rows: {seconds:.1f} s; hashing adds {added:.1f}% to a write")


if __name__ == "__main__":
    main()
