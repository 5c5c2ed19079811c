"""A small instrument and a round for the barometer tests (the survey, round and page tests share them).

The tests do not depend on the built-in instrument file: ``small_builtin`` makes the small instrument
the only built-in one for the test's duration.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from reticulist.barometer import instrument as spec
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import Instrument, parse_instrument
from tests.conftest import World

SECRET = "test-secret-key-" + "x" * 20  # the app fixture's secret, so services and pages agree


def _construct(key: str, name: str) -> dict[str, Any]:
    return {
        "key": key,
        "framework": "003_themes",
        "name": name,
        "definition": f"People see {name.lower()} in the partnership.",
        "source": {"document": "003", "section": "Themes"},
        "recommendations": [f"Talk about {name.lower()} at the board."],
    }


def small_instrument_data(version: str = "1.0", key: str = "test-barometer") -> dict[str, Any]:
    items = []
    for construct, words in (("trust", "trust"), ("momentum", "momentum")):
        for n in range(1, 4):
            items.append(
                {"key": f"{construct}_{n}", "construct": construct, "text": f"Statement {n} about {words}."}
            )
    items[2]["reverse"] = True
    return {
        "key": key,
        "version": version,
        "title": "Test Barometer",
        "description": "A small instrument for tests.",
        "sections": [
            {
                "key": "working_together",
                "title": "Working together",
                "intro": "How you work.",
                "constructs": ["trust"],
            },
            {"key": "getting_things_done", "title": "Getting things done", "constructs": ["momentum"]},
        ],
        "constructs": [_construct("trust", "Trust"), _construct("momentum", "Momentum")],
        "items": items,
    }


def small_instrument_json(**kw: str) -> str:
    return json.dumps(small_instrument_data(**kw))


ITEM_KEYS = [f"{c}_{n}" for c in ("trust", "momentum") for n in range(1, 4)]
REF = "test-barometer@1.0"


@pytest.fixture
def small_instrument() -> Instrument:
    return parse_instrument(small_instrument_json())


@pytest.fixture(autouse=True)
def small_builtin(monkeypatch: pytest.MonkeyPatch, small_instrument: Instrument) -> Instrument:
    monkeypatch.setattr(spec, "builtin_instruments", lambda: {("test-barometer", "1.0"): small_instrument})
    return small_instrument


def open_test_round(
    db: Session,
    world: World,
    *,
    opens_on: date | None = None,
    closes_on: date | None = None,
    threshold: int = 5,
    title: str = "Spring 2026",
) -> int:
    found = barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument=REF,
            title=title,
            opens_on=opens_on or date.today() - timedelta(days=1),
            closes_on=closes_on or date.today() + timedelta(days=30),
            anonymity_threshold=threshold,
        ),
    )
    db.commit()
    return found.id
