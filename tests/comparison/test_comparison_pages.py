"""Comparison pages through the app, for every persona: the partnership's admin, manager and member, an
outsider, the group's analyst and a stranger; forms, downloads and strange input."""

from __future__ import annotations

import html
import io
import re

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.comparison.models import ComparisonMember
from tests.comparison.conftest import PEERS, Compared
from tests.conftest import Browser

PSEUDONYM = re.compile(r"Partnership [A-Z]+\b")


def _as(app, compared: Compared, persona: str) -> Browser:  # type: ignore[no-untyped-def]
    return Browser(app, compared.world.emails[persona])


def test_the_partnership_pages_for_each_persona(app, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    pid, gid = compared.world.partnership_id, compared.group_id
    admin, manager, member, outsider = (
        _as(app, compared, p) for p in ("admin", "manager", "member", "outsider")
    )
    page = admin.get(f"/p/{pid}/comparison")
    assert page.status_code == 200
    assert "North West test group" in page.text and "Leave the group" in page.text
    assert f'href="/p/{pid}/comparison"' in page.text  # the section's link in the navigation
    page = manager.get(f"/p/{pid}/comparison")
    assert page.status_code == 200 and "Leave the group" not in page.text  # only admins opt in or out
    view = manager.get(f"/p/{pid}/comparison/{gid}")
    assert view.status_code == 200
    assert "Brempton Test Partnership" in view.text
    assert len(set(PSEUDONYM.findall(view.text))) == PEERS
    assert "<svg" in view.text and "Funnel plot" in view.text
    # No other partnership's name reaches a manager, named or not.
    assert "Safeguarding Children Partnership" not in view.text
    assert member.get(f"/p/{pid}/comparison").status_code == 403
    assert member.get(f"/p/{pid}/comparison/{gid}").status_code == 403
    assert f'href="/p/{pid}/comparison"' not in member.get(f"/p/{pid}").text
    for url in (f"/p/{pid}/comparison", f"/p/{pid}/comparison/{gid}"):
        assert outsider.get(url).status_code == 404
    # A group the partnership is not in, and one that does not exist.
    other = compared.peers[0]
    assert manager.get(f"/p/{pid}/comparison/{gid + 1}").status_code == 404
    assert manager.get(f"/p/{other}/comparison/{gid}").status_code == 404


def test_admins_opt_in_and_out_with_the_form(app, db: Session, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    pid, gid = compared.world.partnership_id, compared.group_id
    admin, manager = _as(app, compared, "admin"), _as(app, compared, "manager")
    url = f"/p/{pid}/comparison/{gid}/membership"
    assert manager.post(url, {"choice": "leave"}).status_code == 403
    assert _as(app, compared, "outsider").post(url, {"choice": "leave"}).status_code == 404
    # Without the CSRF token, nothing happens.
    assert admin.client.post(url, data={"choice": "leave"}).status_code == 403
    done = admin.post(url, {"choice": "named", "named": "yes"})
    assert done.status_code == 303
    assert db.scalar(select(ComparisonMember.named).where(ComparisonMember.partnership_id == pid)) is True
    assert admin.post(url, {"choice": "leave"}).status_code == 303
    db.expire_all()
    assert db.scalar(select(ComparisonMember).where(ComparisonMember.partnership_id == pid)) is None
    assert manager.get(f"/p/{pid}/comparison/{gid}").status_code == 404
    again = admin.post(url, {"choice": "leave"})
    assert again.status_code == 422 and "is not in North West test group" in again.text
    assert admin.post(url, {"choice": "join", "named": "no"}).status_code == 303
    for strange in ({"choice": "dance"}, {}, {"choice": "join\x00"}):
        response = admin.post(url, strange)
        assert response.status_code == 422, strange
    assert admin.post(f"/p/{pid}/comparison/99999999999999/membership", {"choice": "join"}).status_code == 404


def test_the_analyst_pages(app, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    gid = compared.group_id
    analyst = _as(app, compared, "analyst")
    home = analyst.get("/")
    assert home.status_code == 200 and f'href="/comparison/{gid}"' in home.text
    assert analyst.get("/comparison").status_code == 200
    view = analyst.get(f"/comparison/{gid}")
    assert view.status_code == 200
    assert "Group median" in view.text and "Funnel plot" in view.text
    study = analyst.get(f"/comparison/{gid}/study")
    assert study.status_code == 200 and "Late entry into the profession" in study.text
    csv = analyst.get(f"/comparison/{gid}/extract.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    frame = pl.read_csv(io.BytesIO(csv.content.removeprefix(b"\xef\xbb\xbf")))
    assert "person_key" in frame.columns and "full_name" not in frame.columns
    parquet = analyst.get(f"/comparison/{gid}/extract.parquet")
    assert parquet.status_code == 200 and pl.read_parquet(io.BytesIO(parquet.content)).height == frame.height
    # The analyst has no partnership: every partnership page is unknown to them.
    assert analyst.get(f"/p/{compared.world.partnership_id}/comparison/{gid}").status_code == 404
    assert analyst.get(f"/p/{compared.world.partnership_id}").status_code == 404


def test_nobody_else_finds_the_analysts_pages(app, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    gid = compared.group_id
    urls = [
        "/comparison",
        f"/comparison/{gid}",
        f"/comparison/{gid}/study",
        f"/comparison/{gid}/extract.csv",
        f"/comparison/{gid}/extract.parquet",
    ]
    for persona in ("admin", "manager", "member", "outsider", "stranger"):
        browser = _as(app, compared, persona)
        for url in urls:
            assert browser.get(url).status_code == 404, (persona, url)
        assert browser.post(f"/comparison/{gid}/refresh", {}).status_code == 404, persona
    anonymous = Browser(app, None)
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_strange_input_is_refused_not_a_server_error(app, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    gid, pid = compared.group_id, compared.world.partnership_id
    analyst, manager = _as(app, compared, "analyst"), _as(app, compared, "manager")
    for query in (
        "since=yesterday",
        "until=2026-02-30",
        "since=2026-01-01&until=2025-01-01",
        "instrument=" + "x" * 300,
        "since=%00",
    ):
        for browser, base in ((analyst, f"/comparison/{gid}"), (manager, f"/p/{pid}/comparison/{gid}")):
            response = browser.get(f"{base}?{query}")
            assert response.status_code == 422, (base, query, response.status_code)
    # An instrument no partnership released in the period: said in words, no plots.
    for browser, base in ((analyst, f"/comparison/{gid}"), (manager, f"/p/{pid}/comparison/{gid}")):
        response = browser.get(f"{base}?instrument=nothing@9")
        assert (
            response.status_code == 200 and "released a barometer round of that instrument" in response.text
        )
        assert "Funnel plot" not in response.text
    for url in (
        "/comparison/0",
        "/comparison/-1",
        "/comparison/99999999999999999999",
        f"/comparison/{gid}/extract.xlsx",
    ):
        assert analyst.get(url).status_code in (404, 422), url
    assert analyst.post(f"/comparison/{gid}/refresh", {}).status_code == 303


def test_two_opt_ins_at_once_store_one_membership(app, db: Session, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    """The admin's two sessions send "join" at the same moment: one joins, the other is told in words
    (422), never a server error; the database's rule holds one membership."""
    import threading

    from reticulist.access.policy import cli_actor
    from reticulist.comparison import service

    pid = compared.world.partnership_id
    group = service.create_group(db, actor=cli_actor(), name="Raced group")
    db.commit()
    url = f"/p/{pid}/comparison/{group.id}/membership"
    admins = [_as(app, compared, "admin") for _ in range(2)]
    start = threading.Barrier(len(admins))
    statuses: list[int] = []

    def join(browser: Browser) -> None:
        start.wait()
        statuses.append(browser.post(url, {"choice": "join", "named": "no"}).status_code)

    threads = [threading.Thread(target=join, args=(b,)) for b in admins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [303, 422]
    db.rollback()
    joined = db.scalars(select(ComparisonMember).where(ComparisonMember.group_id == group.id)).all()
    assert len(joined) == 1


def test_the_analyst_recomputes_what_is_due(app, db: Session, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    """The button appears when figures are behind; they are recomputed after the answer is sent."""
    from reticulist.comparison import figures
    from reticulist.register import schemas as s
    from reticulist.register import service as register

    w = compared.world
    register.create_person(
        db,
        actor=w.manager,
        partnership_id=w.partnership_id,
        data=s.PersonCreate(full_name="Newcomer", organisation_id=w.organisation_id, hierarchy_tier=4),
    )
    db.commit()
    analyst = _as(app, compared, "analyst")
    page = html.unescape(analyst.get(f"/comparison/{compared.group_id}").text)
    assert "1 partnership's figures are missing, behind their data or a week old" in page
    assert "data changed since" in page
    answer = analyst.post(f"/comparison/{compared.group_id}/refresh", {})
    assert answer.status_code == 303 and answer.headers["location"].endswith("?done=refreshing")
    db.expire_all()
    assert figures.due(db, today=figures.network.today()) == []
    page = analyst.get(f"/comparison/{compared.group_id}")
    assert "Recompute them now" not in page.text and "data changed since" not in page.text
