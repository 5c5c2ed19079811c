"""Audit rows in bulk for the benchmarks, chained as the app chains them (audit/chain.py): hashed here in
order and copied into PostgreSQL with COPY, then the chain's head set. Used by casework_load.py and
audit_verify.py."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy.engine import make_url

from reticulist.audit.chain import GENESIS, row_hash
from reticulist.db.base import canonical_json

SUMMARY = "Viewed the family's record as team member"
AFTER = canonical_json({"access": "team member", "involvement_id": None, "what": "the family's record"})


def copy_chained_rows(
    url: str, rows: int, *, partnership_id: int, first_family: int, families: int, practitioners: int
) -> float:
    """Append ``rows`` read events to the chain; seconds taken."""
    started = time.perf_counter()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as connection:
        head = connection.execute("SELECT last_seq, last_hash FROM audit_chain WHERE id = 1").fetchone()
        seq, previous = (int(head[0]), str(head[1])) if head else (0, GENESIS)
        at0 = datetime.now(UTC) - timedelta(seconds=rows + 10)
        columns = (
            "at, actor_user_id, actor_label, partnership_id, event, record_type, record_id, summary, "
            "before, after, via, chain_seq, chain_hash"
        )
        with connection.cursor().copy(f"COPY audit_event ({columns}) FROM STDIN") as copy:
            for g in range(1, rows + 1):
                seq += 1
                at = at0 + timedelta(seconds=g)
                label = f"p{g % practitioners}@county.example.org"
                # The row's columns in the table's order, hashed as the app hashes them, then written.
                row = (
                    at,
                    None,
                    label,
                    partnership_id,
                    "viewed",
                    "family",
                    first_family + g % families,
                    SUMMARY,
                    None,
                    AFTER,
                    "web",
                )
                previous = row_hash(previous, seq, *row)
                copy.write_row((*row, seq, previous))
        connection.execute(
            "INSERT INTO audit_chain (id, last_seq, last_hash) VALUES (1, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET last_seq = EXCLUDED.last_seq, last_hash = EXCLUDED.last_hash",
            (seq, previous),
        )
        connection.commit()
    return time.perf_counter() - started
