"""Casework figures for managers (SQLite and PostgreSQL): what each quarter counts, that what is published
cannot be combined to tell a family or a small group apart (the disclosure audit run as an attacker over
every published figure), that a second look and later records change nothing, who may see and publish,
and bad input at every door."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from reticulist import disclosure
from reticulist.access import service as accounts
from reticulist.access.policy import NotAllowed, NotFound
from reticulist.casework import figures, periods
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework.models import CaseworkRelease
from reticulist.casework.periods import Column, Dimension, protect_table
from reticulist.casework.working_days import working_days
from reticulist.errors import InputError
from tests.casework.conftest import ROOT, TODAY, CaseWorld, family_data, family_episode
from tests.conftest import APP_SECRET, Browser

# Two quarters back: wholly ended, and clear of the shared world's family (opened 30 days ago).
_this = figures.quarter_of(TODAY)
QUARTER = figures.quarter_of(figures.quarter_of(_this - timedelta(days=1)) - timedelta(days=1))
KEY = figures.quarter_key(QUARTER)


def day(offset: int) -> date:
    return QUARTER + timedelta(days=offset)


def _family(
    db: Session, cw: CaseWorld, n: int, lead: str, opened: int, had_say: bool = True
) -> tuple[int, int]:
    data = family_data(None, cw.person_ids[lead], reference=f"FIG-{n:03d}")
    data["members"][0]["nhs_number"] = ""
    data["members"][0]["forenames"] = f"Child{n}"
    for member in data["members"]:
        member["address"]["from_on"] = (QUARTER - timedelta(days=400)).isoformat()
    data["episode"].update(
        requested_on=day(opened).isoformat(),
        agreed_on=day(opened).isoformat(),
        opened_on=day(opened).isoformat(),
        family_had_say="yes" if had_say else "no",
    )
    family = casework.record_family(
        db, actor=ROOT, partnership_id=cw.world.partnership_id, data=cs.parse(cs.FamilyCreate, data)
    )
    db.flush()
    return family.id, family_episode(db, family.id)


@pytest.fixture
def quarter_world(db: Session, case_world: CaseWorld) -> dict[str, Any]:
    """Eight families start in the quarter: six led from the world's organisation (five had a say), two
    from Brempton Health. Five of the six end in it (needs met); the six have a review due on day 40:
    four held by then, one late, one not held. One referral to Brempton Health is decided."""
    led = [_family(db, case_world, n, "lead", n, had_say=n != 0) for n in range(6)]
    health = [_family(db, case_world, 10 + n, "team", 3 + n) for n in range(2)]
    for n, (_, episode_id) in enumerate(led):
        casework.record_review(
            db,
            actor=ROOT,
            episode_id=episode_id,
            data=cs.ReviewCreate(held_on=day(10 + n), next_review_on=day(40)),
        )
        if n < 4:
            casework.record_review(
                db, actor=ROOT, episode_id=episode_id, data=cs.ReviewCreate(held_on=day(38))
            )
        elif n == 4:
            casework.record_review(
                db, actor=ROOT, episode_id=episode_id, data=cs.ReviewCreate(held_on=day(50))
            )
    for n, (_, episode_id) in enumerate(led[:5]):
        casework.close_episode(
            db,
            actor=ROOT,
            episode_id=episode_id,
            data=cs.EpisodeClose(closed_on=day(60 + 7 * n), outcome="needs_met"),
        )
    family_id, _ = led[5]
    record = casework.family_record(db, actor=case_world.actors["lead"], family_id=family_id)
    referral = casework.send_referral(
        db,
        actor=case_world.actors["lead"],
        family_id=family_id,
        data=cs.ReferralCreate(
            to_organisation_id=case_world.health_id,
            child_member_id=record.members[0].id,
            reason="Health needs",
            sent_on=day(20),
        ),
    )
    casework.decide_referral(
        db,
        actor=case_world.actors["team"],
        referral_id=referral.id,
        data=cs.ReferralDecision(decision="accept", decided_on=day(24), role="School nurse"),
    )
    db.commit()
    return {"led": led, "health": health, "referral_days": working_days(day(20), day(24))}


def _rows(table: dict[str, Any], key: str) -> dict[Any, int | None]:
    breakdown = next(b for b in table["breakdowns"] if b["key"] == key)
    return {(r["label"], r["part"]) if "part" in r else r["label"]: r["count"] for r in breakdown["rows"]}


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What each table hands the protection: every family's cells (the attacker's unknowns)."""
    seen: list[dict[str, Any]] = []

    def spy(**kw: Any) -> dict[str, Any]:
        seen.append(kw)
        return protect_table(**kw)

    monkeypatch.setattr(figures, "protect_table", spy)
    return seen


# --- what a quarter counts ------------------------------------------------------------------------------
def test_each_table_counts_the_quarters_events_once_per_family(
    db: Session, case_world: CaseWorld, quarter_world: dict[str, Any]
) -> None:
    """Unprotected (threshold 1, which no one can publish) to check the counting itself."""
    tables = {
        t["key"]: t
        for t in figures.quarter_tables(
            db, partnership_id=case_world.world.partnership_id, quarter=QUARTER, threshold=1
        )
    }
    assert tables["open"]["noise"]["within"] == periods.noise_half_width(periods.OPEN_EPSILON / 2)
    assert [r["label"] for r in tables["open"]["breakdowns"][0]["rows"]] == [
        r["label"] for r in tables["started"]["breakdowns"][0]["rows"]
    ]
    world_org = next(
        r["label"] for r in tables["started"]["breakdowns"][0]["rows"] if r["label"] != "Brempton Health"
    )
    started = tables["started"]
    assert started["total"] == 8
    by_org = _rows(started, "organisation")
    assert by_org["Brempton Health"] == 2 and by_org[world_org] == 6
    assert _rows(started, "had_say") == {"Yes": 7, "No": 1}

    ended = tables["ended"]
    assert ended["total"] == 5 and _rows(ended, "outcome")["Needs met"] == 5
    closed_days = [60 + 7 * n - n for n in range(5)]  # closed on 60 + 7n, opened on n
    assert ended["mean"] == pytest.approx(round(sum(d / 7 for d in closed_days) / 5, 1))

    reviews = tables["reviews"]
    assert reviews["total"] == 6
    assert _rows(reviews, "status") == {"Held by the due date": 4, "Held late": 1, "Not held yet": 1}
    assert _rows(reviews, "organisation_late")[(world_org, "Late")] == 2

    referrals = tables["referrals"]
    assert referrals["total"] == 1 and referrals["mean"] == quarter_world["referral_days"]
    assert _rows(referrals, "organisation")["Brempton Health"] == 1
    # The spare row for organisations outside the register is left out when empty.
    assert all(
        r["label"] != "Another organisation" for t in tables.values() for r in t["breakdowns"][0]["rows"]
    )


# --- what an attacker can work out ------------------------------------------------------------------------
def test_published_figures_pass_the_disclosure_audit_however_combined(
    db: Session, case_world: CaseWorld, quarter_world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _spy(monkeypatch)
    published = figures.publish_quarter(
        db, actor=case_world.actors["manager"], partnership_id=case_world.world.partnership_id, quarter=KEY
    )
    db.commit()
    noisy, *protected = published.tables
    assert noisy["key"] == "open" and noisy["noise"]["epsilon"] == periods.OPEN_EPSILON  # not hiding: noise
    assert len(seen) == len(protected) == 4
    for given, table in zip(seen, protected, strict=True):
        k = given["threshold"]
        cells, dims = given["cells"], given["dimensions"]
        if 0 < len(cells) < k:  # a table of too few families is a small group itself: nothing published
            assert table["total"] is None and table["mean"] is None
            assert all(r["count"] is None for b in table["breakdowns"] for r in b["rows"])
            continue
        # Rebuild the pattern of hidden cells from what was published, and audit it as an attacker would.
        group_hidden = []
        for d, dimension in enumerate(dims):
            rows = table["breakdowns"][d]["rows"]
            hidden = np.ones(dimension.size, dtype=bool)  # a row left out (the spare one) is hidden too
            names = dimension.cell_names()
            for row in rows:
                i = names.index({x: row[x] for x in ("label", "part") if x in row})
                hidden[i] = row["count"] is None
            group_hidden.append(hidden)
        n = len(cells)
        if given.get("column") is not None:
            column: Column = given["column"]
            values = np.clip(given["values"], column.low, column.high).reshape(-1, 1)
            scored = np.ones((n, 1), dtype=bool)
            # Means: a published mean is a published sum; hidden ones are not.
            cell_hidden = []
            for d, dimension in enumerate(dims):
                hidden = group_hidden[d].copy()
                names = dimension.cell_names()
                for row in table["breakdowns"][d]["rows"]:
                    i = names.index({x: row[x] for x in ("label", "part") if x in row})
                    hidden[i] = hidden[i] or row["mean"] is None
                cell_hidden.append(hidden[:, None])
            findings = disclosure.audit(
                cells,
                [d.size for d in dims],
                scored,
                values,
                k,
                group_hidden,
                cell_hidden,
                column_visible=np.array([table["mean"] is not None]),
                value_range=(column.low, column.high),
                min_mean_width=column.min_width,
            )
        else:
            findings = disclosure.audit(
                cells,
                [d.size for d in dims],
                np.zeros((n, 0), bool),
                np.zeros((n, 0)),
                k,
                group_hidden,
                [g[:, None][:, :0] for g in group_hidden],
            )
        assert findings == [], (table["key"], findings)
        # The plainest attack: the total less every visible row of a breakdown.
        for breakdown in table["breakdowns"]:
            if breakdown["key"] == "organisation_late":
                continue
            rest = table["total"] - sum(r["count"] or 0 for r in breakdown["rows"])
            assert rest == 0 or rest >= k, (table["key"], breakdown["key"], rest)
        for row in (r for b in table["breakdowns"] for r in b["rows"]):
            assert row["count"] is None or row["count"] >= k
    # Here: Brempton Health's two families cannot be shown, so neither can the other organisation's six.
    started = _rows(protected[0], "organisation")
    assert all(count is None for count in started.values())


def test_a_second_look_shows_the_same_figures_and_later_records_do_not_change_them(
    db: Session, case_world: CaseWorld, quarter_world: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    manager, pid = case_world.actors["manager"], case_world.world.partnership_id
    first = figures.publish_quarter(db, actor=manager, partnership_id=pid, quarter=KEY, threshold=3)
    db.commit()
    assert KEY not in figures.publishable_quarters(db, actor=manager, partnership_id=pid)
    # A family recorded late for that quarter changes nothing published.
    _family(db, case_world, 99, "lead", 15)
    db.commit()
    again = figures.release(db, actor=manager, partnership_id=pid, quarter=KEY)
    assert again == first and again.tables[1]["total"] == 8
    with pytest.raises(InputError) as twice:
        figures.publish_quarter(db, actor=manager, partnership_id=pid, quarter=KEY)
    assert twice.value.by_field() == {
        "quarter": f"{figures.quarter_words(QUARTER)} is already published; its figures do not change"
    }
    db.rollback()
    # Two managers at once who both passed the check: the database keeps one, in the same words.
    with session_factory() as other:
        with pytest.raises(InputError) as raced:
            figures._store(other, manager, pid, QUARTER, 5, [])
        assert raced.value.by_field() == twice.value.by_field()
        other.rollback()
    assert db.scalar(select(func.count()).select_from(CaseworkRelease)) == 1


@pytest.mark.parametrize(
    "quarter, threshold, field",
    [
        ("now", 5, "quarter"),  # the quarter under way: live figures
        ("next", 5, "quarter"),
        ("2026-Q5", 5, "quarter"),
        ("2026-13", 5, "quarter"),
        ("1999-Q1", 5, "quarter"),
        ("'; drop table casework_release; --", 5, "quarter"),
        ("2026-Q1\x00", 5, "quarter"),
        ("Q" * 10_000, 5, "quarter"),
        ("past", 2, "threshold"),
        ("past", 51, "threshold"),
        ("past", True, "threshold"),
        ("past", 10**30, "threshold"),
    ],
)
def test_bad_quarters_and_thresholds_are_refused_and_nothing_is_published(
    db: Session, case_world: CaseWorld, quarter: str, threshold: Any, field: str
) -> None:
    named = {
        "now": figures.quarter_key(_this),
        "next": figures.quarter_key(figures.next_quarter(_this)),
        "past": KEY,
    }
    with pytest.raises(InputError) as refused:
        figures.publish_quarter(
            db,
            actor=case_world.actors["manager"],
            partnership_id=case_world.world.partnership_id,
            quarter=named.get(quarter, quarter),
            threshold=threshold,
        )
    assert list(refused.value.by_field()) == [field]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseworkRelease)) == 0


def test_who_may_see_and_publish(db: Session, case_world: CaseWorld, quarter_world: dict[str, Any]) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    for persona in ("lead", "team", "member"):
        with pytest.raises(NotAllowed):
            figures.releases(db, actor=a[persona], partnership_id=pid)
    with pytest.raises(NotFound):
        figures.releases(db, actor=a["outsider"], partnership_id=pid)
    for persona in ("coordinator", "dpo", "lead", "member"):
        with pytest.raises(NotAllowed):
            figures.publish_quarter(db, actor=a[persona], partnership_id=pid, quarter=KEY)
    figures.publish_quarter(db, actor=a["admin"], partnership_id=pid, quarter=KEY)
    db.commit()
    for persona in ("manager", "admin", "coordinator", "dpo"):
        assert [r.quarter for r in figures.releases(db, actor=a[persona], partnership_id=pid)] == [KEY]
    with pytest.raises(NotFound):
        figures.release(db, actor=a["manager"], partnership_id=pid, quarter="2001-Q1")


# --- pages and API ----------------------------------------------------------------------------------------
PERSONAS = ("lead", "coordinator", "dpo", "manager", "member", "admin", "outsider")


def test_the_pages_for_every_persona_and_what_they_never_show(
    app,
    db: Session,
    case_world: CaseWorld,
    quarter_world: dict[str, Any],  # type: ignore[no-untyped-def]
) -> None:
    pid = case_world.world.partnership_id
    people = {p: Browser(app, case_world.emails[p]) for p in PERSONAS}
    url = f"/p/{pid}/casework-figures"
    expected_get = {
        "lead": 403,
        "coordinator": 200,
        "dpo": 200,
        "manager": 200,
        "member": 403,
        "admin": 200,
        "outsider": 404,
    }
    assert {p: b.get(url).status_code for p, b in people.items()} == expected_get
    expected_post = {"lead": 403, "coordinator": 403, "dpo": 403, "member": 403, "outsider": 404}
    for persona, status in expected_post.items():
        assert people[persona].post(url, {"quarter": KEY, "threshold": "5"}).status_code == status
    assert db.scalar(select(func.count()).select_from(CaseworkRelease)) == 0

    manager = people["manager"]
    page = manager.get(url).text
    assert "Publish a quarter" in page and f'value="{KEY}"' in page
    for bad in (
        {"quarter": figures.quarter_key(_this), "threshold": "5"},
        {"quarter": KEY, "threshold": "two"},
        {"quarter": "\x00", "threshold": "5"},
        {"quarter": KEY, "threshold": "9" * 400},
        {},
    ):
        refused = manager.post(url, bad)
        assert refused.status_code == 422 and 'class="field-error"' in refused.text, bad
    assert (
        manager.client.post(url, data={"quarter": KEY, "threshold": "5"}).status_code == 403
    )  # no CSRF token
    done = manager.post(url, {"quarter": KEY, "threshold": "3"})
    assert done.status_code == 303 and done.headers["location"].startswith(f"{url}/{KEY}")
    shown = manager.get(f"{url}/{KEY}")
    assert shown.status_code == 200 and figures.quarter_words(QUARTER) in shown.text
    for persona in ("coordinator", "dpo", "admin"):
        assert people[persona].get(f"{url}/{KEY}").status_code == 200
    assert people["outsider"].get(f"{url}/{KEY}").status_code == 404
    assert people["member"].get(f"{url}/{KEY}").status_code == 403
    for missing in ("2001-Q1", "nonsense", "%00", "2026-Q9"):
        assert manager.get(f"{url}/{missing}").status_code == 404
    # No name, reference or family detail on any figures page.
    for text in (shown.text, manager.get(url).text):
        for secret in ("FIG-0", "Child1", "Marsh", "Refuge", "Health needs"):
            assert secret not in text


def test_the_api_for_every_persona(
    app, db: Session, case_world: CaseWorld, quarter_world: dict[str, Any]
) -> None:  # type: ignore[no-untyped-def]
    tokens = {}
    for persona in PERSONAS:
        _, tokens[persona] = accounts.create_api_token(
            db, actor=case_world.actors[persona], name="figures", secret_key=APP_SECRET
        )
    db.commit()
    client = TestClient(app, base_url="https://testserver")
    base = f"/api/v1/partnerships/{case_world.world.partnership_id}/casework/figures"

    def call(persona: str, method: str, url: str = "", **kw: Any) -> Any:
        return client.request(
            method, base + url, headers={"Authorization": f"Bearer {tokens[persona]}"}, **kw
        )

    expected = {
        "lead": 403,
        "coordinator": 200,
        "dpo": 200,
        "manager": 200,
        "member": 403,
        "admin": 200,
        "outsider": 404,
    }
    assert {p: call(p, "GET").status_code for p in PERSONAS} == expected
    assert call("manager", "GET").json()["publishable"][0] == figures.quarter_key(
        figures.quarter_of(_this - timedelta(days=1))
    )
    assert call("coordinator", "GET").json()["publishable"] == []
    for persona, status in {"coordinator": 403, "member": 403, "outsider": 404}.items():
        assert call(persona, "POST", json={"quarter": KEY}).status_code == status
    for bad in (
        {"quarter": KEY, "threshold": 2},
        {"quarter": "soon"},
        {"quarter": KEY, "threshold": "x"},
        {},
        [],
        {"quarter": "Q" * 30},
    ):
        assert call("manager", "POST", json=bad).status_code == 422, bad
    published = call("manager", "POST", json={"quarter": KEY, "threshold": 3})
    assert published.status_code == 201 and published.json()["quarter"] == KEY
    assert call("manager", "POST", json={"quarter": KEY}).status_code == 422
    got = call("dpo", "GET", f"/{KEY}")
    assert got.status_code == 200 and got.json() == published.json()
    assert call("outsider", "GET", f"/{KEY}").status_code == 404
    assert call("manager", "GET", "/2001-Q1").status_code == 404


# --- the pure part ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
def test_random_tables_are_protected(seed: int) -> None:
    """Random quarters of 0..60 families over uneven organisations: whatever is published passes the audit."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(0, 60))
    orgs = int(rng.integers(2, 7))
    weights = rng.dirichlet(np.ones(orgs) * 0.5)
    org = rng.choice(orgs, size=n, p=weights)
    late = (rng.random(n) < 0.2).astype(np.int64)
    dims = [
        Dimension("organisation", "Org", [f"O{i}" for i in range(orgs)], keep=1.0),
        Dimension("timeliness", "Late", ["No", "Yes"], keep=0.8),
        Dimension(
            "organisation_late",
            "Org x late",
            [f"O{i}" for i in range(orgs)],
            keep=0.5,
            parts=("On time", "Late"),
        ),
    ]
    cells = np.stack([org, late, org * 2 + late], axis=1) if n else np.zeros((0, 3), np.int64)
    column = Column("days", "Days", 0, 20, min_width=3)
    values = rng.integers(0, 25, n).astype(float)
    table = protect_table(
        key="t", title="T", cells=cells, dimensions=dims, threshold=5, column=column, values=values
    )
    group_hidden = [np.array([r["count"] is None for r in b["rows"]]) for b in table["breakdowns"]]
    cell_hidden = [
        np.array([r["count"] is None or r["mean"] is None for r in b["rows"]])[:, None]
        for b in table["breakdowns"]
    ]
    if 0 < n < 5:
        assert all(r["count"] is None for b in table["breakdowns"] for r in b["rows"])
        return
    findings = disclosure.audit(
        cells,
        [d.size for d in dims],
        np.ones((n, 1), bool),
        np.clip(values, 0, 20).reshape(-1, 1),
        5,
        group_hidden,
        cell_hidden,
        column_visible=np.array([table["mean"] is not None]),
        value_range=(0, 20),
        min_mean_width=3,
    )
    assert findings == []
    assert table["total"] == (None if 0 < n < 5 else n)
    for b in table["breakdowns"]:
        assert all(r["count"] is None or r["count"] >= 5 for r in b["rows"])


def test_counts_at_a_date_get_noise_spending_no_more_than_their_epsilon() -> None:
    """The library's own privacy accounting, the stated 95% width against draws, and no bias (but for
    showing negatives as 0)."""
    epsilon = periods.OPEN_EPSILON
    assert (
        float(periods._laplace(epsilon / 2, None).map(1)) + float(periods._laplace(epsilon / 2, 3).map(1))
        <= epsilon
    )
    rows = np.array([0] * 40 + [1] * 25 + [2] * 10)
    draws = np.array(
        [
            [
                r["count"]
                for r in periods.noisy_table(key="k", title="t", rows=rows, labels=["a", "b", "c"])[
                    "breakdowns"
                ][0]["rows"]
            ]
            for _ in range(400)
        ]
    )
    errors = draws - np.array([40, 25, 10])
    within = periods.noise_half_width(epsilon / 2)
    assert np.mean(np.abs(errors) <= within) >= 0.93
    assert abs(errors.mean()) < 0.5
    assert (errors != 0).mean() > 0.5  # there is noise at all
    assert periods.noise_half_width(0.5) == 6 and periods.noise_half_width(1.0) == 3


def test_quarters_are_named_and_parsed_both_ways() -> None:
    assert figures.parse_quarter("2026-q3") == date(2026, 7, 1)
    assert figures.quarter_key(date(2026, 10, 1)) == "2026-Q4"
    assert figures.next_quarter(date(2026, 10, 1)) == date(2027, 1, 1)
    assert figures.quarter_of(date(2026, 11, 30)) == date(2026, 10, 1)
    assert figures.quarter_words(date(2026, 7, 1)) == "July to September 2026"


def test_two_managers_publishing_the_same_quarter_at_once_get_one_release(
    app,
    db: Session,
    case_world: CaseWorld,
    quarter_world: dict[str, Any],  # type: ignore[no-untyped-def]
) -> None:
    """Real concurrent requests: both pass the check; the database keeps one, the other gets the form's
    words (422), never a server error; and what was published is what both then see."""
    import threading

    url = f"/p/{case_world.world.partnership_id}/casework-figures"
    publishers = [Browser(app, case_world.emails[p]) for p in ("manager", "admin")]
    start = threading.Barrier(len(publishers))
    statuses: list[int] = []

    def publish(browser: Browser) -> None:
        start.wait()
        statuses.append(browser.post(url, {"quarter": KEY, "threshold": "5"}).status_code)

    threads = [threading.Thread(target=publish, args=(b,)) for b in publishers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [303, 422]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(CaseworkRelease)) == 1
    pages = [b.get(f"{url}/{KEY}").text for b in publishers]
    assert pages[0].count("hidden") == pages[1].count("hidden") > 0
