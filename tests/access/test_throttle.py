"""Throttles and the login backoff, on SQLite and PostgreSQL: counted atomically (racing requests cannot
all pass), backing off instead of locking, and never telling a guesser which emails have accounts."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from reticulist.access import service as accounts
from reticulist.access import throttle
from reticulist.access.models import Throttle
from tests.conftest import PASSWORD, World

T0 = 1_900_000_000.0  # a fixed "now": no test here depends on the clock
LIMITS = accounts.LoginLimits(per_client=5, per_address=50, per_account=200, max_wait=900)


def _login(db: Session, email: str, password: str, client: str, now: float = T0, limits=LIMITS):  # type: ignore[no-untyped-def]
    return accounts.login(
        db,
        email=email,
        password=password,
        client=client,
        secret_key="k" * 40,
        session_hours=1,
        limits=limits,
        now=now,
    )


def _refusal(db: Session, *args, **kw) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(accounts.LoginRefused) as refused:
        _login(db, *args, **kw)
    return str(refused.value)


WRONG = "not the password at all"
NO_MATCH = "That email and password do not match an active account."


# --- the counter itself -------------------------------------------------------------------------------
def test_a_limit_allows_so_many_tries_in_a_window_then_none_until_it_ends(db: Session) -> None:
    def hit(at: float) -> throttle.Verdict:
        verdict = throttle.hit(db, key="k", limit=3, window=3600, now=at)
        db.commit()
        return verdict

    assert [hit(T0 + s).allowed for s in (0, 10, 20)] == [True, True, True]
    refused = hit(T0 + 600)
    assert not refused.allowed and refused.retry_after == 3000 and refused.wait_words() == "50 minutes"
    assert not hit(T0 + 3599).allowed  # refused tries do not move the window
    assert hit(T0 + 3600).allowed  # a new window
    assert db.scalar(select(Throttle.hits).where(Throttle.key == "k")) == 1


def test_a_backoff_doubles_the_wait_up_to_the_cap_and_refused_tries_change_nothing(db: Session) -> None:
    def hit(at: float) -> throttle.Verdict:
        verdict = throttle.hit(db, key="b", limit=2, window=3600, backoff=True, max_wait=8, now=at)
        db.commit()
        return verdict

    assert hit(T0).allowed and hit(T0).allowed  # the free tries
    waits = []
    at = T0
    for _ in range(6):
        refused = hit(at)
        assert not refused.allowed
        waits.append(refused.retry_after)
        assert not hit(at + refused.retry_after - 0.5).allowed  # still too early; and not counted
        at += refused.retry_after
        assert hit(at).allowed
    assert waits == [1, 2, 4, 8, 8, 8]
    # Forgotten after a quiet window: free tries again.
    assert hit(at + 3600).allowed and hit(at + 3600).allowed


def test_a_throttle_key_is_unique_in_the_database(db: Session) -> None:
    db.add(Throttle(key="same", hits=1, quiet_until=0, next_at=0))
    db.commit()
    db.add(Throttle(key="same", hits=1, quiet_until=0, next_at=0))
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def _race(session_factory: sessionmaker[Session], n: int, work: Callable[[Session], object]) -> list[object]:
    """Run ``work`` in ``n`` threads at once, each with its own database session; their results (or the
    exceptions they raised)."""
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n

    def run(i: int) -> None:
        with session_factory() as session:
            barrier.wait()
            try:
                results[i] = work(session)
            except Exception as exc:  # collected and checked by the test
                session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_simultaneous_hits_are_counted_one_at_a_time(session_factory: sessionmaker[Session]) -> None:
    def work(session: Session) -> bool:
        verdict = throttle.hit(session, key="race", limit=3, window=3600, now=T0)
        session.commit()
        return verdict.allowed

    results = _race(session_factory, 16, work)
    assert results.count(True) == 3 and results.count(False) == 13
    with session_factory() as session:
        assert session.scalar(select(Throttle.hits).where(Throttle.key == "race")) == 3


def test_simultaneous_wrong_logins_are_checked_against_the_password_at_most_the_limit(
    world: World, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack that broke the old limit: 12 guesses sent at the same moment were all checked against a
    limit of 5. Each check here takes long enough for every request to be in flight at once."""
    checked = []
    lock = threading.Lock()
    real_verify = accounts.verify_password

    def counting_verify(password_hash: str, password: str) -> bool:
        with lock:
            checked.append(password)
        threading.Event().wait(0.05)  # widen the window in which a racy check-then-count lets others past
        return real_verify(password_hash, password)

    monkeypatch.setattr(accounts, "verify_password", counting_verify)

    def guess(session: Session) -> str:
        try:
            _login(session, world.emails["member"], WRONG, "203.0.113.9")
        except accounts.LoginRefused as refused:
            return str(refused)
        return "logged in"

    results = _race(session_factory, 12, guess)
    assert len(checked) == LIMITS.per_client == 5
    assert results.count(NO_MATCH) == 5
    assert all(r == "Too many tries. Wait 1 second and try again." for r in results if r != NO_MATCH)
    with session_factory() as session:
        hits = dict(session.execute(select(Throttle.key, Throttle.hits)).all())
    assert hits == {
        f"login|203.0.113.9|{world.emails['member']}": 5,
        "login|203.0.113.9": 5,
        f"login-account|{world.emails['member']}": 5,
    }


# --- logins -------------------------------------------------------------------------------------------
def test_failures_from_one_client_never_stop_the_holder_logging_in_from_another(
    db: Session, world: World
) -> None:
    member = world.emails["member"]
    for _ in range(5):
        assert _refusal(db, member, WRONG, "203.0.113.66") == NO_MATCH
    assert _refusal(db, member, PASSWORD, "203.0.113.66") == "Too many tries. Wait 1 second and try again."
    assert _login(db, member, PASSWORD, "198.51.100.20").user.email == member  # the holder, elsewhere
    # From the guesser's address: a growing wait, not a lock.
    assert _login(db, member, PASSWORD, "203.0.113.66", now=T0 + 1).user.email == member


def test_refusals_are_the_same_whether_or_not_the_email_has_an_account(db: Session, world: World) -> None:
    def story(email: str, client: str) -> list[str]:
        told = [_refusal(db, email, WRONG, client) for _ in range(6)]
        told.append(_refusal(db, email, WRONG, client, now=T0 + 1))
        told.append(_refusal(db, email, WRONG, client, now=T0 + 1))
        return told

    real = story(world.emails["member"], "203.0.113.1")
    unknown = story("nobody@example.org", "203.0.113.2")
    assert real == unknown
    assert real[-1] == "Too many tries. Wait 2 seconds and try again."


def test_the_per_account_limit_backs_off_and_the_holder_gets_in_when_the_wait_is_over(
    db: Session, world: World
) -> None:
    limits = accounts.LoginLimits(per_client=5, per_address=50, per_account=12, max_wait=900)
    member = world.emails["member"]
    for n in range(12):  # a botnet: one guess from each of many addresses
        assert _refusal(db, member, WRONG, f"192.0.2.{n}", limits=limits) == NO_MATCH
    told = _refusal(db, member, PASSWORD, "198.51.100.20", limits=limits)
    assert told == "Too many tries. Wait 1 second and try again."
    assert _login(db, member, PASSWORD, "198.51.100.20", now=T0 + 1, limits=limits).user.email == member
    # The refused try from the holder's own address was not counted against it.
    assert db.scalar(select(Throttle).where(Throttle.key == f"login|198.51.100.20|{member}")) is None


def test_one_address_spraying_many_accounts_is_slowed_but_good_logins_there_are_never_counted(
    db: Session, world: World
) -> None:
    limits = accounts.LoginLimits(per_client=5, per_address=4, per_account=200, max_wait=900)
    office = "203.0.113.50"
    # An office behind one address: everyone logs in at nine, more people than the address limit.
    for _ in range(3):
        for persona in ("admin", "manager", "member", "outsider"):
            assert _login(db, world.emails[persona], PASSWORD, office, limits=limits)
    for n in range(4):
        assert _refusal(db, f"guess{n}@example.org", WRONG, office, limits=limits) == NO_MATCH
    told = _refusal(db, "guess9@example.org", WRONG, office, limits=limits)
    assert told == "Too many tries. Wait 1 second and try again."


def test_ipv6_clients_are_counted_by_their_64_network(db: Session, world: World) -> None:
    member = world.emails["member"]
    for n in range(5):
        assert _refusal(db, member, WRONG, f"2001:db8:1:2::{n + 1}") == NO_MATCH
    assert _refusal(db, member, WRONG, "2001:db8:1:2:ffff::9").startswith("Too many tries")
    assert _login(db, member, PASSWORD, "2001:db8:1:3::1").user.email == member
    assert throttle.address_group("::ffff:198.51.100.4") == "198.51.100.4"


def test_clearing_an_accounts_or_an_addresses_throttles(db: Session, world: World) -> None:
    member, manager = world.emails["member"], world.emails["manager"]
    for _ in range(5):
        _refusal(db, member, WRONG, "203.0.113.7")
        _refusal(db, manager, WRONG, "203.0.113.8")
    assert accounts.clear_login_throttles(db, email=member.upper()) == 2  # its pair and account-wide rows
    db.commit()
    assert _login(db, member, PASSWORD, "203.0.113.7").user.email == member
    assert _refusal(db, manager, PASSWORD, "203.0.113.8").startswith("Too many tries")
    assert accounts.clear_login_throttles(db, address="203.0.113.8") == 2  # its pair and address rows
    db.commit()
    assert _login(db, manager, PASSWORD, "203.0.113.8").user.email == manager


def test_spent_throttles_are_swept_and_live_ones_kept(db: Session) -> None:
    throttle.hit(db, key="old", limit=1, window=60, now=T0)
    throttle.hit(db, key="backed-off", limit=1, window=60, backoff=True, max_wait=900, now=T0 + 30)
    throttle.hit(db, key="live", limit=1, window=3600, now=T0)
    db.commit()
    throttle.sweep(db, now=T0 + 61)
    db.commit()
    assert sorted(db.scalars(select(Throttle.key))) == ["backed-off", "live"]
    assert throttle.hit(db, key="old", limit=1, window=60, now=T0 + 62).allowed  # comes back as new


def test_simultaneous_good_and_bad_logins_from_one_office_all_get_an_answer(
    world: World, session_factory: sessionmaker[Session]
) -> None:
    """Good logins (which clear, take back and sweep) racing wrong ones over the same rows: every request
    is answered, none fails with a database error or deadlock."""
    people = [world.emails[p] for p in ("admin", "manager", "member", "outsider")]

    def attempt(i: int) -> Callable[[Session], str]:
        def work(session: Session) -> str:
            email = people[i % 4]
            try:
                _login(session, email, PASSWORD if i % 2 else WRONG, "203.0.113.50", now=T0 + i)
            except accounts.LoginRefused:
                return "refused"
            return "in"

        return work

    jobs = [attempt(i) for i in range(16)]
    counter = iter(range(16))
    lock = threading.Lock()

    def next_job(session: Session) -> str:
        with lock:
            job = jobs[next(counter)]
        return job(session)

    results = _race(session_factory, 16, next_job)
    assert all(r in ("in", "refused") for r in results), results
    assert results.count("in") == 8  # every good password got in; each account had at most 2 wrong ones
