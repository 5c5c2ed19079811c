"""The built-in Partnership Barometer (its content, traced to the source documents) and custom instrument
files: a valid one loads, and every bad file gets an InputError that names the place of each problem."""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reticulist.barometer import builtin_instruments, default_instrument, parse_instrument
from reticulist.barometer.instrument import Instrument
from reticulist.errors import InputError

KEYS_002 = {
    1: "continuity",
    2: "free_debate",
    3: "personal_stake",
    4: "professional_ethos",
    5: "silos",
    6: "organisational_culture",
    7: "structural_rigidity",
    8: "hierarchy",
}
KEYS_003 = {"audacious_leadership", "selflessness", "trust", "momentum", "risk"}
KEYS_004 = {"structures", "professional_identity", "empowerment", "agency", "professional_learning"}
LENSES_002 = {
    1: ("individual",),
    2: ("individual",),
    3: ("individual",),
    4: ("individual", "profession"),
    5: ("profession",),
    6: ("organisation", "profession"),
    7: ("organisation",),
    8: ("organisation",),
}


@pytest.fixture(scope="module")
def barometer() -> Instrument:
    return default_instrument()


# --- the built-in instrument -------------------------------------------------------------------------


def test_builtin_instrument_loads_by_key_and_version(barometer: Instrument) -> None:
    assert builtin_instruments()[("partnership-barometer", "1.0")] is barometer
    assert barometer.title == "Partnership Barometer"
    assert barometer.label == "Partnership Barometer (version 1.0)"
    assert "anonymous" in barometer.description


def test_eighteen_constructs_from_the_three_frameworks(barometer: Instrument) -> None:
    by_framework: dict[str, set[str]] = {}
    for construct in barometer.constructs:
        by_framework.setdefault(construct.framework, set()).add(construct.key)
    assert len(barometer.constructs) == 18
    assert by_framework == {
        "002_table_1": set(KEYS_002.values()),
        "003_themes": KEYS_003,
        "004_collaborative_agency": KEYS_004,
    }


def test_sixty_items_at_least_three_per_construct(barometer: Instrument) -> None:
    assert len(barometer.items) == 60
    per_construct = Counter(i.construct_key for i in barometer.items)
    assert set(per_construct) == {c.key for c in barometer.constructs}
    assert min(per_construct.values()) >= 3
    assert sorted(Counter(per_construct.values()).items()) == [(3, 12), (4, 6)]


def test_about_a_quarter_of_items_are_reverse_worded(barometer: Instrument) -> None:
    share = sum(i.reverse for i in barometer.items) / len(barometer.items)
    assert 0.20 <= share <= 0.35


def test_every_table_1_row_is_a_whole_pair_with_its_lenses(barometer: Instrument) -> None:
    table = [c for c in barometer.constructs if c.framework == "002_table_1"]
    assert sorted(c.row for c in table if c.row) == list(range(1, 9))
    for construct in table:
        assert construct.row is not None
        assert construct.key == KEYS_002[construct.row]
        assert construct.lenses == LENSES_002[construct.row]
        assert construct.obstacle and construct.catalyst and construct.definition
        assert construct.source.document == "002"
        assert construct.source.section.startswith(f"Table 1, row {construct.row};")
    row_1 = barometer.construct_by_key("continuity")
    assert row_1.obstacle == "Discontinued membership to the partnership board"
    assert row_1.catalyst == "Continuing membership to the partnership board"


def test_other_constructs_carry_no_table_1_fields(barometer: Instrument) -> None:
    for construct in barometer.constructs:
        if construct.framework != "002_table_1":
            assert construct.row is None and not construct.lenses
            assert construct.obstacle is None and construct.catalyst is None


def test_every_construct_cites_its_source_document(barometer: Instrument) -> None:
    expected = {"002_table_1": "002", "003_themes": "003", "004_collaborative_agency": "004"}
    for construct in barometer.constructs:
        assert construct.source.document == expected[construct.framework], construct.key
        assert construct.source.section
        for tool in construct.tools:
            assert tool.source.document == "004" and "tools table" in tool.source.section
            assert tool.what_for.endswith(".")


def test_every_construct_has_catalysts_recommendations_and_tools_each_citing_its_document(
    barometer: Instrument,
) -> None:
    for construct in barometer.constructs:
        assert construct.catalysts and construct.recommendations and construct.tools, construct.key
        assert all("(002, " in c for c in construct.catalysts), construct.key
        assert all("(003, " in r for r in construct.recommendations), construct.key
    # A Table 1 construct's catalysts start with the table's own words.
    for construct in barometer.constructs:
        if construct.framework == "002_table_1":
            first_catalyst = construct.catalysts[0]
            assert first_catalyst.split(" (002, ")[0] in (construct.catalyst or "")


def test_items_are_readable_on_a_phone(barometer: Instrument) -> None:
    for item in barometer.items:
        words = item.text.split()
        assert 6 <= len(words) <= 20, item.key
        assert len(item.text) <= 120, item.key
        assert item.text[0].isupper() and item.text.endswith("."), item.key
        assert not re.search(r"\byou(r|rs|rself)?\b", item.text, re.IGNORECASE), item.key
        assert not re.search(r"organiz|behavior|\bcenter\b|program\b", item.text), item.key
    texts = [i.text.casefold() for i in barometer.items]
    assert len(set(texts)) == len(texts)


def test_004_items_use_all_four_levels(barometer: Instrument) -> None:
    levels = {i.level for i in barometer.items if i.construct_key in KEYS_004} - {None}
    assert levels == {"macro", "meso", "micro", "clients"}
    assert all(i.level is None for i in barometer.items if i.construct_key not in KEYS_004)


def test_sections_are_pages_with_a_title_and_intro_and_hold_every_item(barometer: Instrument) -> None:
    assert 5 <= len(barometer.sections) <= 7
    placed = [k for s in barometer.sections for k in s.constructs]
    assert sorted(placed) == sorted(c.key for c in barometer.constructs)
    for section in barometer.sections:
        assert section.title and section.intro.endswith(".")
    on_pages = [i.key for s in barometer.sections for i in barometer.section_items(s.key)]
    assert sorted(on_pages) == sorted(i.key for i in barometer.items)


def test_scale_has_five_points_and_dont_know(barometer: Instrument) -> None:
    assert barometer.scale.points[0] == "Strongly disagree"
    assert barometer.scale.points[-1] == "Strongly agree"
    assert barometer.scale.dont_know == "Don't know"


# --- custom instrument files -------------------------------------------------------------------------


def _custom() -> dict[str, Any]:
    """A small valid custom instrument: one construct, three items, one section."""
    return {
        "key": "early-help-check",
        "version": "1.0",
        "title": "Early help check",
        "sections": [{"key": "page_1", "title": "Working together", "constructs": ["shared_plans"]}],
        "constructs": [
            {
                "key": "shared_plans",
                "framework": "custom",
                "name": "Shared plans",
                "definition": "Families have one plan that every agency works to.",
                "source": {"document": "local", "section": "Early help strategy 2025"},
                "recommendations": ["Agree one plan per family at the first team meeting."],
            }
        ],
        "items": [
            {
                "key": "sp_1",
                "construct": "shared_plans",
                "text": "Each family I work with has one shared plan.",
            },
            {
                "key": "sp_2",
                "construct": "shared_plans",
                "text": "Every agency here works to the family's plan.",
            },
            {
                "key": "sp_3",
                "construct": "shared_plans",
                "text": "Agencies here keep separate plans for the same family.",
                "reverse": True,
                "level": "meso",
            },
        ],
    }


def _error(data: Any, *, source: str = "custom.json") -> InputError:
    text = data if isinstance(data, (str, bytes)) else json.dumps(data)
    with pytest.raises(InputError) as caught:
        parse_instrument(text, source=source)
    return caught.value


def test_a_valid_custom_instrument_loads_with_the_default_scale() -> None:
    instrument = parse_instrument(json.dumps(_custom()).encode("utf-8"))
    assert instrument.label == "Early help check (version 1.0)"
    assert [i.key for i in instrument.items_of("shared_plans")] == ["sp_1", "sp_2", "sp_3"]
    assert instrument.items[2].reverse and instrument.items[2].level == "meso"
    assert instrument.scale.points[2] == "Neither agree nor disagree"


def test_invalid_json_names_the_line() -> None:
    text = '{\n  "key": "x",\n  "version": 1.0,,\n}'
    error = _error(text)
    assert error.by_field() == {"file": error.problems[0].message}
    assert "custom.json is not valid JSON" in str(error) and "line 3" in str(error)


def test_a_file_that_is_not_utf8_is_refused() -> None:
    error = _error(json.dumps(_custom()).replace("Shared plans", "Plans partagés").encode("latin-1"))
    assert str(error) == "file: custom.json is not UTF-8 text"


def test_a_missing_field_names_its_place() -> None:
    data = _custom()
    del data["constructs"][0]["name"]
    error = _error(data)
    assert str(error) == "custom.json constructs.0.name: is required"


def test_an_unknown_field_names_its_place() -> None:
    data = _custom()
    data["items"][1]["colour"] = "blue"
    assert str(_error(data)) == "custom.json items.1.colour: is not a field of the instrument schema"


def test_a_bad_key_names_its_place_and_every_problem_is_reported() -> None:
    data = _custom()
    data["constructs"][0]["key"] = "Shared Plans"
    data["items"][0]["level"] = "national"
    error = _error(data)
    fields = error.by_field()
    assert set(fields) == {"constructs.0.key", "items.0.level"}
    assert fields["constructs.0.key"] == (
        "'Shared Plans' is not allowed: use lower-case letters, digits and _, starting with a letter "
        "(for example shared_plans)"
    )
    assert "macro" in fields["items.0.level"]


def test_an_item_pointing_at_an_unknown_construct_is_named() -> None:
    data = _custom()
    data["items"].append({"key": "sp_4", "construct": "shared_plan", "text": "Plans are reviewed together."})
    assert 'item sp_4: no construct "shared_plan"' in str(_error(data))


def test_a_construct_with_fewer_than_three_items_is_named() -> None:
    data = _custom()
    data["items"].pop()
    error = _error(data)
    assert error.by_field() == {"instrument": "constructs with fewer than 3 items: shared_plans"}


def test_a_construct_in_no_section_and_a_section_naming_no_construct_are_named() -> None:
    data = _custom()
    extra = copy.deepcopy(data["constructs"][0]) | {"key": "joint_visits", "name": "Joint visits"}
    data["constructs"].append(extra)
    data["items"] += [
        {"key": f"jv_{n}", "construct": "joint_visits", "text": f"Joint visit statement number {n} here."}
        for n in (1, 2, 3)
    ]
    data["sections"][0]["constructs"].append("joint_visit")
    message = str(_error(data))
    assert "construct joint_visits is in no section" in message
    assert 'a section lists "joint_visit", which is not a construct' in message


def test_duplicate_keys_are_named() -> None:
    data = _custom()
    data["items"][2]["key"] = "sp_1"
    data["constructs"].append(copy.deepcopy(data["constructs"][0]))
    message = str(_error(data))
    assert "construct keys used twice: shared_plans" in message
    assert "item keys used twice: sp_1" in message


def test_a_construct_in_two_sections_is_named() -> None:
    data = _custom()
    data["sections"].append({"key": "page_2", "title": "Again", "constructs": ["shared_plans"]})
    assert "construct shared_plans is in more than one section" in str(_error(data))


def test_the_same_item_text_twice_is_named() -> None:
    data = _custom()
    data["items"].append(
        {"key": "sp_4", "construct": "shared_plans", "text": "Each family I work with  has one shared PLAN."}
    )
    assert "items sp_1, sp_4 have the same text" in str(_error(data))


def _table_1_construct(key: str, row: int) -> dict[str, Any]:
    return {
        "key": key,
        "framework": "002_table_1",
        "name": key,
        "definition": "The same people keep coming.",
        "source": {"document": "002", "section": f"Table 1, row {row}"},
        "row": row,
        "lenses": ["individual"],
        "obstacle": "Discontinued membership to the partnership board",
        "catalyst": "Continuing membership to the partnership board",
        "catalysts": ["Continuing membership to the partnership board"],
    }


def test_a_table_1_row_used_twice_is_named() -> None:
    data = _custom()
    data["constructs"] = [_table_1_construct("continuity", 1), _table_1_construct("stability", 1)]
    data["sections"][0]["constructs"] = ["continuity", "stability"]
    data["items"] = [
        {"key": f"{c}_{n}", "construct": c, "text": f"Statement {n} about {c} in this partnership."}
        for c in ("continuity", "stability")
        for n in (1, 2, 3)
    ]
    assert "002 Table 1 row 1 is used by more than one construct" in str(_error(data))


def test_a_table_1_construct_without_its_pair_is_named() -> None:
    data = _custom()
    construct = _table_1_construct("shared_plans", 1)
    del construct["obstacle"]
    data["constructs"] = [construct]
    error = _error(data)
    assert error.by_field() == {
        "constructs.0": "a 002 Table 1 construct needs its row, lenses, obstacle and catalyst"
    }


def test_a_construct_with_nothing_that_helps_is_named() -> None:
    data = _custom()
    data["constructs"][0]["recommendations"] = []
    error = _error(data)
    assert error.by_field() == {
        "constructs.0": "needs at least one catalyst, recommendation or tool for when it scores low"
    }


def test_a_bad_version_and_an_unknown_framework_are_named() -> None:
    data = _custom()
    data["version"] = "one"
    data["constructs"][0]["framework"] = "005_new"
    fields = _error(data).by_field()
    assert set(fields) == {"version", "constructs.0.framework"}
    assert fields["version"] == "'one' is not allowed: use numbers separated by dots (for example 1.0 or 2.1)"
    assert "'custom'" in fields["constructs.0.framework"]


def test_whole_file_problems_are_listed_one_by_one() -> None:
    data = _custom()
    data["items"][2]["construct"] = "shared_plan"
    data["sections"][0]["constructs"].append("joint_visits")
    error = _error(data)
    assert [str(p) for p in error.problems] == [
        'custom.json instrument: item sp_3: no construct "shared_plan"',
        "custom.json instrument: constructs with fewer than 3 items: shared_plans",
        'custom.json instrument: a section lists "joint_visits", which is not a construct',
    ]


def test_the_builtin_file_itself_passes_the_same_validation() -> None:
    from importlib import resources

    folder = resources.files("reticulist.barometer") / "instruments"
    raw = (folder / "partnership-barometer-1.0.json").read_bytes()
    assert parse_instrument(raw) == default_instrument()


def test_an_empty_list_is_named_but_not_when_its_entries_are_the_problem() -> None:
    data = _custom()
    data["sections"] = []
    fields = _error(data).by_field()
    assert list(fields) == ["sections"] and "at least 1 item" in fields["sections"]
    data = _custom()
    data["items"] = [{"key": "sp_1", "construct": "shared_plans"}]
    assert _error(data).by_field() == {"items.0.text": "is required"}


# --- docs/barometer.md cannot drift from the instrument ----------------------------------------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "barometer.md"


def _doc_example() -> str:
    match = re.search(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match, "docs/barometer.md has no JSON example"
    return match.group(1)


def test_docs_table_lists_every_construct_with_its_definition(barometer: Instrument) -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert doc.startswith("# The Partnership Barometer\n") and "\n## The instrument\n" in doc
    for construct in barometer.constructs:
        assert f"| {construct.name} (`{construct.key}`) |" in doc, construct.key
        assert f"| {construct.definition} |" in doc, construct.key
    for section in barometer.sections:
        assert f"| {section.title} |" in doc, section.key
    assert f"({sum(i.reverse for i in barometer.items)} of {len(barometer.items)})" in doc


def test_docs_example_is_a_valid_instrument() -> None:
    instrument = parse_instrument(_doc_example())
    assert instrument.key == "early-help-check" and len(instrument.items) == 3


def test_docs_error_examples_are_what_the_validator_says() -> None:
    doc = DOC.read_text(encoding="utf-8")
    example = json.loads(_doc_example())

    broken = copy.deepcopy(example)
    broken["constructs"][0]["key"] = "Shared Plans"
    broken["sections"][0]["constructs"] = ["Shared Plans"]
    del broken["constructs"][0]["name"]
    broken["items"][1]["colour"] = "blue"
    broken["items"][2]["level"] = "national"
    problems = [str(p) for p in _error(broken, source="early-help.json").problems]
    assert len(problems) == 4
    for line in problems:
        assert f"\n{line}\n" in doc, line

    whole = copy.deepcopy(example)
    whole["sections"][0]["constructs"].append("shared_plan")
    whole["items"][1]["construct"] = "shared_plan"
    whole["constructs"].append(copy.deepcopy(whole["constructs"][0]) | {"key": "joint_visits"})
    whole["items"] += [
        {"key": f"jv_{n}", "construct": "joint_visits", "text": f"Joint visit statement number {n} here."}
        for n in (1, 2, 3)
    ]
    problems = [str(p) for p in _error(whole, source="early-help.json").problems]
    assert len(problems) == 4
    for line in problems:
        assert f"\n{line}\n" in doc, line

    no_comma = _doc_example().replace('"Early help check",', '"Early help check"')
    # Prose wraps lines, so compare with whitespace folded.
    assert f"`{_error(no_comma, source='early-help.json')}`" in " ".join(doc.split())


def test_a_stored_instrument_is_parsed_once_and_never_mistaken_for_another_databases() -> None:
    from datetime import datetime

    from reticulist.barometer.models import BarometerInstrument
    from reticulist.barometer.service import instrument_content, instrument_of

    built_in = default_instrument()
    retitled = built_in.model_copy(update={"title": "Another database's instrument"})

    def stored(instrument: Instrument, created_at: datetime) -> BarometerInstrument:
        return BarometerInstrument(
            id=7,
            partnership_id=None,
            key=instrument.key,
            version=instrument.version,
            title=instrument.title,
            content=instrument_content(instrument),
            created_at=created_at,
        )

    here = stored(built_in, datetime(2026, 11, 29, 9, 0, 0, 123456))
    first = instrument_of(here)
    assert first == built_in
    assert instrument_of(stored(built_in, here.created_at)) is first  # the same row read again: no parse
    # The same id, key and version in another database (a restored copy, another test's): told apart.
    elsewhere = instrument_of(stored(retitled, datetime(2026, 11, 29, 9, 0, 0, 654321)))
    assert elsewhere.title == "Another database's instrument"
    unsaved = BarometerInstrument(
        key=built_in.key, version=built_in.version, title="x", content=instrument_content(retitled)
    )
    assert instrument_of(unsaved).title == "Another database's instrument"  # no id yet: parsed, not kept
