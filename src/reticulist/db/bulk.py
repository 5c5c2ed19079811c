"""Writing many rows at once (imports): few round trips, and the new rows' ids back, on both databases.

SQLite takes a multi-row INSERT ... RETURNING id. On PostgreSQL that statement is slow from Python (the
driver parses a query with tens of thousands of parameters in pure Python, ten seconds for 20,000 people),
so the ids are taken from the table's sequence first, in one query, and the rows are sent with them as a
pipelined executemany of one short statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

# Rows per statement or pipeline: few round trips, within both databases' parameter limits.
BATCH_ROWS = 1000


def insert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Insert ``rows`` (dicts with the same keys, no id) into ``table`` in the session's transaction and
    return the new rows' ids, in the rows' order (so that rows of another table can point at them).
    ``progress(rows written so far)`` is told after each batch."""
    if not rows:
        return []
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        ids = list(
            session.execute(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
                {"table": table.name, "n": len(rows)},
            ).scalars()
        )
        statement = insert(table)
    else:
        ids = []
        # Not sort_by_parameter_order: on SQLite that sends the rows one statement each. SQLite gives the
        # rows of one INSERT increasing ids in the order they are inserted, but RETURNING may list them in
        # any order: sorting each batch's ids puts them back in the rows' order.
        statement = insert(table).returning(table.c.id)
    for start in range(0, len(rows), BATCH_ROWS):
        batch = rows[start : start + BATCH_ROWS]
        if postgresql:
            session.execute(statement, [{**row, "id": i} for row, i in zip(batch, ids[start:], strict=False)])
        else:
            ids += sorted(session.execute(statement, list(batch)).scalars())
        if progress:
            progress(start + len(batch))
    return ids
