"""Throttles kept in the database: how often something may be tried per key (an account from one client, a
client address, an open survey link from one address), shared by every process that serves the app.

Each try is counted by one conditional UPDATE that both checks and counts, so requests racing each other
cannot all pass: the database lets one update of a row happen at a time (SQLite locks the file, PostgreSQL
the row, and re-checks the condition on the row as the winner left it). A refused try changes nothing.

Two kinds:

- a **limit** (``backoff=False``): ``limit`` tries, then none until ``window`` seconds after the first;
- a **backoff** (``backoff=True``): ``limit`` tries, then each further try waits twice as long as the one
  before (1 s, 2 s, 4 s ... up to ``max_wait``) instead of being locked out; the count is forgotten after
  ``window`` seconds without a try, or when the caller clears it (a successful login).

Example::

    verdict = throttle.hit(session, key=f"open-link|{round_id}|{address}", limit=3, window=3600)
    session.commit()  # the try is counted whatever happens next
    if not verdict.allowed:
        ...  # answer 429, say to wait verdict.retry_after seconds
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, delete, or_, select, update
from sqlalchemy.orm import Session

from reticulist.access.models import Throttle
from reticulist.db.engine import insert_unless_present

FIRST_WAIT = 1.0  # seconds; each further try under a backoff waits twice as long as the one before


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds to wait when not allowed

    def wait_words(self) -> str:
        """ "1 second", "40 seconds", "3 minutes": how long to wait, in words for a page."""
        return wait_words(self.retry_after)


def wait_words(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def address_group(address: str) -> str:
    """The part of a client address a throttle counts by: the address itself for IPv4, the /64 network for
    IPv6 (one household or device is given a whole /64, so single IPv6 addresses are free to change)."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _wait_after(excess: ColumnElement[int], max_wait: float) -> ColumnElement[float]:
    """FIRST_WAIT * 2**excess, at most max_wait, written as a CASE: SQLite has no power() everywhere."""
    steps: list[tuple[ColumnElement[bool], float]] = []
    wait = FIRST_WAIT
    n = 0
    while wait < max_wait:
        steps.append((excess == n, wait))
        wait *= 2
        n += 1
    return case(*steps, else_=float(max_wait)) if steps else case((excess >= 0, float(max_wait)))


def hit(
    session: Session,
    *,
    key: str,
    limit: int,
    window: float,
    backoff: bool = False,
    max_wait: float = 900.0,
    account: str | None = None,
    address: str | None = None,
    now: float | None = None,
) -> Verdict:
    """Count one try under ``key`` if it is allowed now, in the caller's transaction; commit it before
    doing the work, so that the count stands whatever the work does. ``account`` and ``address`` label the
    row for ``clear``. ``now`` (seconds since the epoch) is for tests."""
    now = time.time() if now is None else now
    t = Throttle
    fresh = t.quiet_until <= now  # nothing counted for a window: start again
    hits_after = case((fresh, 1), else_=t.hits + 1)
    if backoff:
        allowed = or_(fresh, t.hits < limit, t.next_at <= now)
        values = {
            "hits": hits_after,
            "quiet_until": now + window,
            "next_at": case(
                (hits_after >= limit, now + _wait_after(hits_after - limit, max_wait)), else_=0.0
            ),
        }
    else:
        allowed = or_(fresh, t.hits < limit)
        values = {"hits": hits_after, "quiet_until": case((fresh, now + window), else_=t.quiet_until)}
    row = None
    for _ in range(3):  # again if a sweep removed the (spent) row between the insert and the update
        insert_unless_present(
            session,
            t,
            {
                "key": key,
                "hits": 0,
                "quiet_until": 0.0,
                "next_at": 0.0,
                "account": account,
                "address": address,
            },
            ["key"],
        )
        counted = session.execute(
            update(t)
            .where(t.key == key, allowed)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if counted.rowcount == 1:  # type: ignore[attr-defined]
            return Verdict(True)
        row = session.execute(select(t.next_at, t.quiet_until).where(t.key == key)).one_or_none()
        if row is not None:
            break
    if row is None:
        raise RuntimeError(f"throttle {key!r} vanished three times")  # pragma: no cover
    until = row.next_at if backoff else row.quiet_until
    return Verdict(False, max(1, math.ceil(until - now)))


def refund(session: Session, *, key: str) -> None:
    """Take back one counted try (it turned out to be a good one, such as a correct password)."""
    session.execute(
        update(Throttle)
        .where(Throttle.key == key, Throttle.hits > 0)
        .values(hits=Throttle.hits - 1)
        .execution_options(synchronize_session=False)
    )


def clear(
    session: Session, *, key: str | None = None, account: str | None = None, address: str | None = None
) -> int:
    """Forget the throttles of one key, or every one labelled with an account or an address. Returns how
    many were cleared."""
    if key is None and account is None and address is None:
        raise ValueError("say which throttles to clear")
    conditions = []
    if key is not None:
        conditions.append(Throttle.key == key)
    if account is not None:
        conditions.append(Throttle.account == account)
    if address is not None:
        conditions.append(Throttle.address == address)
    result = session.execute(
        delete(Throttle).where(or_(*conditions)).execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def sweep(session: Session, *, now: float | None = None) -> None:
    """Delete throttles that no longer hold anything back. Rows another request is counting right now are
    skipped (PostgreSQL's SKIP LOCKED; SQLite has no row locks), so a sweep never waits for, or deadlocks
    with, a login."""
    now = time.time() if now is None else now
    spent = (
        select(Throttle.key)
        .where(Throttle.quiet_until < now, Throttle.next_at < now)
        .with_for_update(skip_locked=True)
    )
    session.execute(
        delete(Throttle).where(Throttle.key.in_(spent)).execution_options(synchronize_session=False)
    )
