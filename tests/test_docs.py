"""Docs that cannot drift: every setting, command and API route is in the documentation."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from reticulist.cli.main import app as cli_app
from reticulist.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def _command_paths(command: object, prefix: str = "reticulist") -> list[str]:
    # Typer may build on its own copy of click, so look for sub-commands rather than a Group class.
    if hasattr(command, "commands"):
        paths = []
        for name, sub in command.commands.items():  # type: ignore[attr-defined]
            paths += _command_paths(sub, f"{prefix} {name}")
        return paths
    return [prefix]


def test_every_setting_is_documented() -> None:
    text = (DOCS / "operating.md").read_text(encoding="utf-8")
    missing = [
        f"RETICULIST_{name.upper()}"
        for name in Settings.model_fields
        if f"RETICULIST_{name.upper()}" not in text
    ]
    assert not missing, f"settings missing from docs/operating.md: {missing}"


def test_every_command_is_documented() -> None:
    text = _docs()
    commands = _command_paths(typer.main.get_command(cli_app))
    assert "reticulist demo" in commands and "reticulist import" in commands
    missing = [c for c in commands if f"`{c}" not in text]
    assert not missing, f"commands missing from docs/: {missing}"


def test_every_api_route_is_documented() -> None:
    from reticulist.web.app import create_app

    spec = create_app(Settings(database_url="sqlite://"), check_schema=False).openapi()
    text = (DOCS / "operating.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(?:GET|POST|PUT|DELETE|PATCH) (/api/v1/[^`\s]*)`", text))
    missing = sorted(path for path in spec["paths"] if path not in documented)
    assert not missing, f"API routes missing from docs/operating.md: {missing}"


def test_the_information_sharing_rules_are_told_as_the_code_keeps_them() -> None:
    """docs/information-sharing.md states the rules with their numbers and words: they must be the code's."""
    from reticulist.casework import break_glass
    from reticulist.casework.vocab import (
        LABELS,
        PUBLIC_AUTHORITY_KINDS,
        InformationKind,
        LawfulBasis,
        SpecialCategoryCondition,
    )
    from reticulist.register.models import Partnership
    from reticulist.register.vocab import OrganisationKind

    text = " ".join((DOCS / "information-sharing.md").read_text(encoding="utf-8").split())
    default_minutes = Partnership.__table__.c.break_glass_minutes.default.arg
    assert f"**{default_minutes} minutes**" in text
    low, high = break_glass.MINUTES_RANGE
    assert f"({low} to {high})" in text
    assert f"at least {break_glass.MIN_REASON} characters" in text
    assert f"{break_glass.REPEATED_USES} times or more in {break_glass.REPEAT_WINDOW.days} days" in text
    for basis in LawfulBasis:
        words = LABELS[basis.value].split(" (")[0]
        assert words in text, basis
    for condition in SpecialCategoryCondition:
        assert LABELS[condition.value].split(" (")[0] in text, condition
    for kind in InformationKind:
        assert kind.value.rstrip("s")[:5] in text.lower(), kind
    # The public authorities named are exactly the kinds the code treats as such.
    public_words = text.split("are; housing")[0].rsplit("register:", 1)[1]
    for kind in OrganisationKind:
        named = kind.label.lower() in public_words.lower()
        assert named == (kind.value in PUBLIC_AUTHORITY_KINDS), kind


def test_the_subject_access_examples_are_the_code_s() -> None:
    from datetime import date

    from reticulist.casework.subject_access_dates import due_on, months_after

    text = " ".join((DOCS / "information-sharing.md").read_text(encoding="utf-8").split())
    assert "a request of 3 September is due on 3 October" in text
    assert months_after(date(2025, 9, 3), 1) == date(2025, 10, 3)
    assert "(31 January: the end of February)" in text and months_after(date(2026, 1, 31), 1) == date(
        2026, 2, 28
    )
    assert "**one calendar month**" in text and "extended by two further months** (three in all)" in text
    assert due_on(date(2025, 9, 3), None, extended=True) == date(2025, 12, 3)


def test_the_retention_defaults_are_the_code_s() -> None:
    from reticulist.casework.retention import BATCH
    from reticulist.casework.retention_rules import (
        BREAK_GLASS,
        CHILD_AGE_RANGE,
        DEFAULTS,
        FAMILY_RECORD,
        SUBJECT_ACCESS,
        YEARS_RANGE,
    )

    text = " ".join((DOCS / "information-sharing.md").read_text(encoding="utf-8").split())
    assert f"**{DEFAULTS[FAMILY_RECORD].words}**" in text
    assert f"**{DEFAULTS[BREAK_GLASS].words}** from when it was opened" in text
    assert f"**{DEFAULTS[SUBJECT_ACCESS].words}** from the answer" in text
    assert f"Periods are from {YEARS_RANGE[0]} to {YEARS_RANGE[1]} years; the child's age from " in text
    assert f"{CHILD_AGE_RANGE[0]} to {CHILD_AGE_RANGE[1]}" in text
    assert f"(`--batch`, {BATCH} by default)" in text
