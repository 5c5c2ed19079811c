"""The barometer's JSON API: rounds and results, suppressed like the pages (null with a reason, never 0)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from tests.barometer.test_results import two_rounds  # noqa: F401  (the fixture)
from tests.conftest import Browser, World

SECRET = "test-secret-key-" + "x" * 20


def _bearer(db: Session, world: World, persona: str) -> dict[str, str]:
    _, token = accounts.create_api_token(
        db, actor=getattr(world, persona), name="api test", secret_key=SECRET
    )
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def test_member_reads_rounds_and_suppressed_results(
    db: Session,
    world: World,
    browsers: dict[str, Browser],
    two_rounds: tuple[int, int, int],  # noqa: F811
) -> None:
    first, second, _ = two_rounds
    client, headers = browsers["anonymous"].client, _bearer(db, world, "member")
    base = f"/api/v1/partnerships/{world.partnership_id}/barometer/rounds"

    rounds = client.get(base, headers=headers)
    assert rounds.status_code == 200
    assert {r["id"]: r["responses"] for r in rounds.json()} == {first: 40, second: 40}

    body = client.get(f"{base}/{second}/results", headers=headers).json()
    assert body["respondents"] == 40 and body["previous_round"] == "Barometer 2025"
    trust = next(c for c in body["constructs"] if c["key"] == "trust")
    assert trust["trend"]["clear_change"] and trust["hidden"] is None and trust["n"] >= 5
    health = next(g for g in body["breakdowns"]["organisation"] if g["label"] == "Brempton NHS Trust")
    assert health["respondents"] is None and health["hidden"] == "protects small groups"
    assert all(cell["mean"] is None and cell["n"] is None for cell in health["cells"])
    for groups in body["breakdowns"].values():
        for group in groups:
            assert group["hidden"] or group["respondents"] >= 5
            for cell in group["cells"]:
                assert cell["hidden"] or cell["n"] >= 5
    assert body["recommendations"] and body["recommendations"][0]["catalysts"]
    assert body["recommendations"][0]["construct"] == "continuity"
    assert [c["construct"] for c in health["cells"]][:2] == ["continuity", "free_debate"]


def test_outsiders_and_strangers_get_nothing(
    db: Session,
    world: World,
    browsers: dict[str, Browser],
    two_rounds: tuple[int, int, int],  # noqa: F811
) -> None:
    _, second, _ = two_rounds
    client = browsers["anonymous"].client
    url = f"/api/v1/partnerships/{world.partnership_id}/barometer/rounds/{second}/results"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=_bearer(db, world, "outsider")).status_code == 404
    other = f"/api/v1/partnerships/{world.other_partnership_id}/barometer/rounds/{second}/results"
    # A manager of the other partnership cannot reach this round through their own partnership's URL.
    assert client.get(other, headers=_bearer(db, world, "outsider")).status_code == 404
