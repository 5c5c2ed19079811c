"""The comparison's JSON API, for the group's analyst, a partnership's manager and member, an outsider and
a stranger: what the pages show, nothing more; strange input answered 422 or 404, never 500."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Actor
from tests.comparison.conftest import PEERS, Compared
from tests.conftest import Browser

PSEUDONYM = re.compile(r"^Partnership [A-Z]+$")
SECRET = "test-secret-key-" + "x" * 20


def _token(db: Session, actor: Actor) -> dict[str, str]:
    _, token = accounts.create_api_token(db, actor=actor, name="api", secret_key=SECRET)
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_the_analyst_reads_the_group_and_the_study(app, db: Session, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    client = Browser(app, None).client
    headers = _token(db, compared.analyst)
    groups = client.get("/api/v1/comparison-groups", headers=headers).json()
    assert [g["id"] for g in groups] == [compared.group_id]
    body = client.get(f"/api/v1/comparison-groups/{compared.group_id}", headers=headers).json()
    assert len(body["partnerships"]) == PEERS + 1 and body["instrument"] == "partnership-barometer@1.0"
    assert all("network.density" in p["figures"] for p in body["partnerships"])
    assert body["constructs"] and all(c["points"] for c in body["constructs"])
    for construct in body["constructs"]:
        n = [p["respondents"] for p in construct["points"]]
        assert min(n) >= 5  # no cell under the group's threshold
    study = client.get(f"/api/v1/comparison-groups/{compared.group_id}/study", headers=headers).json()
    assert study["partnerships"] == PEERS + 1
    assert [o["outcome"] for o in study["outcomes"]] == ["spanner_score", "liaison"]


def test_a_manager_sees_their_partnership_and_pseudonyms(app, db: Session, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    client = Browser(app, None).client
    w = compared.world
    url = f"/api/v1/partnerships/{w.partnership_id}/comparison-groups/{compared.group_id}"
    body = client.get(url, headers=_token(db, w.manager)).json()
    own = [p for p in body["partnerships"] if p["own"]]
    assert [p["label"] for p in own] == ["Brempton Test Partnership"]
    assert all(PSEUDONYM.match(p["label"]) for p in body["partnerships"] if not p["own"])
    assert client.get(url, headers=_token(db, w.member)).status_code == 403
    assert client.get(url, headers=_token(db, w.outsider)).status_code == 404
    # The manager is no analyst; the analyst has no partnership.
    manager = _token(db, w.manager)
    assert client.get("/api/v1/comparison-groups", headers=manager).json() == []
    assert client.get(f"/api/v1/comparison-groups/{compared.group_id}", headers=manager).status_code == 404
    assert (
        client.get(f"/api/v1/comparison-groups/{compared.group_id}/study", headers=manager).status_code == 404
    )
    assert client.get(url, headers=_token(db, compared.analyst)).status_code == 404
    for who in (compared.stranger, w.outsider):
        assert (
            client.get(f"/api/v1/comparison-groups/{compared.group_id}", headers=_token(db, who)).status_code
            == 404
        )
    assert client.get("/api/v1/comparison-groups").status_code == 401


def test_strange_input_and_a_study_too_small(app, db: Session, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    from reticulist.access.policy import cli_actor
    from reticulist.comparison import service

    client = Browser(app, None).client
    headers = _token(db, compared.analyst)
    base = f"/api/v1/comparison-groups/{compared.group_id}"
    for query in (
        "since=yesterday",
        "until=2026-02-30",
        "since=2026-05-01&until=2026-01-01",
        "instrument=" + "x" * 201,
    ):
        assert client.get(f"{base}?{query}", headers=headers).status_code == 422, query
    assert client.get(f"{base}?instrument=nothing@1", headers=headers).json()["constructs"] == []
    for group in ("0", "-3", "99999999999999999999", "abc"):
        assert client.get(f"/api/v1/comparison-groups/{group}", headers=headers).status_code in (404, 422)
    tiny = service.create_group(db, actor=cli_actor(), name="Tiny")
    service.add_analyst(db, actor=cli_actor(), group_id=tiny.id, email=compared.analyst_email)
    db.commit()
    refused = client.get(f"/api/v1/comparison-groups/{tiny.id}/study", headers=headers)
    assert refused.status_code == 422 and "partnerships" in refused.json()["detail"][0]["message"]
