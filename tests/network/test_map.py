"""The network map: the server's layout, the static image, map.json / the map page / map.svg per persona
(names only for managers), filters, and a partnership of 200 people and 2,000 ties in well under a
second; web tests on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from reticulist.access.policy import cli_actor
from reticulist.barometer import charts
from reticulist.errors import InputError
from reticulist.network import map_image, metrics
from reticulist.network import map_routes as mr
from reticulist.network import service as network
from reticulist.network import ties as t
from reticulist.network.analysis import NetworkChoice
from reticulist.network.layout import ISOLATED_BAND, network_layout
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import Browser, World


# --- pure: layout ------------------------------------------------------------------------------------
def _random_ties(n: int, m: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    return a[keep], b[keep], rng.integers(1, 5, int(keep.sum())).astype(float)


def test_layout_is_deterministic_and_inside_the_unit_square() -> None:
    a, b, w = _random_ties(60, 150)
    first = network_layout(60, a, b, w)
    assert first.shape == (60, 2)
    assert (first >= 0).all() and (first <= 1).all()
    assert np.array_equal(first, network_layout(60, a, b, w)), "same network, same seed: same map"
    # The layout fills the square in at least one direction (scaled by one factor, centred).
    span = first.max(axis=0) - first.min(axis=0)
    assert span.max() == pytest.approx(1.0) and span.min() > 0.5
    assert not np.array_equal(first, network_layout(60, a, b, w, seed=5))


def test_layout_keeps_people_without_ties_in_rows_along_the_bottom() -> None:
    # People 0-3 are tied in a chain; 4-9 have no ties.
    positions = network_layout(10, [0, 1, 2], [1, 2, 3], [1.0, 5.0, 1.0])
    lonely, tied = positions[4:], positions[:4]
    assert (lonely[:, 1] >= 1 - ISOLATED_BAND).all()
    assert (tied[:, 1] < 1 - ISOLATED_BAND).all()
    assert len({tuple(p) for p in lonely.round(6)}) == 6, "no two lonely people on the same spot"
    # A heavy tie pulls its pair closer than a light one.
    gap = np.linalg.norm(tied[1:] - tied[:-1], axis=1)
    assert gap[1] < gap[0] and gap[1] < gap[2]
    only_lonely = network_layout(3, [], [])
    assert ((only_lonely >= 0) & (only_lonely <= 1)).all() and network_layout(0, [], []).shape == (0, 2)
    assert network_layout(2, [0], [1]).shape == (2, 2)


def test_layout_refuses_ties_to_people_who_are_not_there() -> None:
    with pytest.raises(ValueError, match=r"every person must be in 0..2"):
        network_layout(3, [0], [3])
    with pytest.raises(ValueError, match="target: has 2 entries for 1 sources"):
        network_layout(3, [0], [1, 2])
    with pytest.raises(ValueError, match="weight: has 1 entries for 2 ties"):
        network_layout(3, [0, 1], [1, 2], [1.0])


# --- pure: the static image ----------------------------------------------------------------------------
def _network(n: int, m: int, *, names: bool = True, organisations: int = 4, seed: int = 1) -> t.Network:
    a, b, w = _random_ties(n, m, seed)
    rng = np.random.default_rng(seed + 1)
    reported = t.Edges(a, b, w, directed=True)
    observed = t.co_membership(
        [(g, int(p)) for g in range(max(n // 10, 1)) for p in rng.choice(n, min(5, n), replace=False)]
    )
    edges = t.combine(
        n, {"reported": reported, "co_attendance": observed}, {"reported": 1, "co_attendance": 1}
    )
    org_labels = tuple(f"Organisation {k}" for k in range(organisations))
    organisation = np.sort(rng.integers(0, organisations, n))
    organisation[:organisations] = np.arange(organisations)  # every organisation has someone
    profession = rng.integers(0, 3, n)
    profession[:3] = np.arange(3)
    shown = t.pseudonyms(
        [org_labels[o] for o in organisation],
        [f"Job {p}" for p in profession],
        [f"{(k * 7919) % 101:03d}" for k in range(n)],
    )
    labels = tuple(f"Person {k}" for k in range(n)) if names else shown.labels
    return t.Network(
        partnership_id=7,
        as_of=date(2025, 3, 31),
        since=None,
        names_shown=names,
        person_ids=np.arange(100, 100 + n) if names else None,
        labels=labels,
        organisation=organisation,
        organisation_ids=tuple(range(organisations)),
        organisation_labels=org_labels,
        profession=profession,
        profession_ids=(1, 2, 3),
        profession_labels=("Job 0", "Job 1", "Job 2"),
        tier=np.full(n, 3),
        edges=edges,
        multipliers={"reported": 1.0, "co_attendance": 1.0},
        shown_organisation=() if names else shown.organisation,
        shown_profession=() if names else shown.profession,
    )


def test_the_static_image_has_a_dot_per_person_a_line_per_tie_and_labels_for_the_top_spanners() -> None:
    net = _network(30, 60)
    found = mr.map_of(net)
    assert found.analysis is not None
    chart = map_image.network_map_chart(net, found.analysis, found.positions, spanners=found.spanners)
    legend = map_image.group_colours(net.organisation, net.organisation_labels)
    dots = [x for x in chart.shapes if isinstance(x, charts.Dot)]
    lines = [x for x in chart.shapes if isinstance(x, charts.Line)]
    texts = [x.text for x in chart.shapes if isinstance(x, charts.Text)]
    assert len(dots) == net.n_people + len(legend)  # a dot per person, and one per legend entry
    assert len(lines) == len(found.edges)
    top = [net.labels[x.person] for x in found.spanners[: map_image.TOP_LABELS]]
    people_named = [x for x in texts if x in net.labels]
    assert sorted(people_named) == sorted(top), "only the strongest boundary spanners are labelled"
    assert all(f"{g.label} ({g.people})" in texts for g in legend)
    # Dots are sized by the boundary-spanner score: the top spanner's dot is the largest person dot.
    person_dots = dots[: net.n_people]
    biggest = max(person_dots, key=lambda d: d.r)
    first = found.spanners[0].person
    size = chart.width
    assert biggest.r == pytest.approx(float(map_image.radius(found.spanners[0].score)), abs=0.01)
    assert biggest.cx == pytest.approx(
        map_image.MAX_RADIUS + 4 + found.positions[first, 0] * (size - 30), abs=0.01
    )
    # Coloured by profession: the legend lists professions, and dots take their colours.
    by_profession = map_image.network_map_chart(
        net, found.analysis, found.positions, colour_by="profession", spanners=found.spanners
    )
    assert by_profession.title == "Network map, coloured by profession"
    profession_texts = {x.text for x in by_profession.shapes if isinstance(x, charts.Text)}
    assert {"Job 0", "Job 1", "Job 2"} <= {re.sub(r" \(\d+\)$", "", x) for x in profession_texts}
    svg = charts.to_svg(chart, chart_id="m")
    assert svg.count("<circle") == len(dots) and "Network map, coloured by organisation" in svg
    with pytest.raises(ValueError, match='colour_by: "tier" is not organisation or profession'):
        map_image.network_map_chart(net, found.analysis, found.positions, colour_by="tier")
    with pytest.raises(ValueError, match="positions: has 2 rows for 30 people"):
        map_image.network_map_chart(net, found.analysis, found.positions[:2])


def test_the_static_image_goes_on_a_pdf_page() -> None:
    from fpdf import FPDF

    net = _network(20, 30)
    found = mr.map_of(net)
    assert found.analysis is not None
    pdf = FPDF(unit="mm", format="A4")
    pdf.add_page()
    used = charts.draw_on_pdf(
        map_image.network_map_chart(net, found.analysis, found.positions), pdf, x=10, y=10, width=190
    )
    assert 190 < used < 277 and bytes(pdf.output()).startswith(b"%PDF")


def test_colours_are_from_the_palette_and_small_groups_share_other_beyond_it() -> None:
    codes = np.repeat(np.arange(12), np.arange(12, 0, -1))  # organisation 0 largest ... 11 smallest
    labels = [f"Org {k}" for k in range(12)]
    groups = map_image.group_colours(codes, labels)
    assert [g.label for g in groups[:3]] == ["Org 0", "Org 1", "Org 2"]
    assert len(groups) == len(map_image.PALETTE)
    assert groups[-1].label == "4 other organisations" and groups[-1].colour == map_image.OTHER_COLOUR
    assert groups[-1].people == 4 + 3 + 2 + 1 and groups[-1].codes == (8, 9, 10, 11)
    assert len({g.colour for g in groups}) == len(groups)
    colours = map_image.colour_of_each(codes, groups)
    assert colours[0] == map_image.PALETTE[0] and colours[-1] == map_image.OTHER_COLOUR
    few = map_image.group_colours(np.array([0, 2, 2]), ["A", "B", "C"], "profession")
    assert [g.label for g in few] == ["C", "A"]  # nobody in B: not in the legend


def test_two_hundred_people_and_two_thousand_ties_make_a_whole_map() -> None:
    # How long this takes is measured by benchmarks/network_map.py, not asserted here.
    net = _network(200, 2000, organisations=12)
    found = mr.map_of(net)
    data = mr.map_json(found, mr.MapChoice(NetworkChoice({"reported": 1.0}, None, date(2025, 3, 31))))
    svg = mr.map_svg(found, "organisation")
    assert len(data["nodes"]) == 200 and len(data["edges"]) == len(found.edges) > 1500
    assert svg.count("<circle") >= 200


def test_beyond_the_cap_the_map_says_so_instead_of_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mr, "MAX_MAP_PEOPLE", 10)
    found = mr.map_of(_network(12, 20))
    assert found.too_many and found.analysis is None
    data = mr.map_json(found, mr.MapChoice(NetworkChoice({"reported": 1.0}, None, date(2025, 3, 31))))
    assert data["too_many"] and data["nodes"] == [] and "12 people" in data["message"]
    assert "more than the 10 a map can show" in data["message"]


def test_the_map_choice_reads_the_network_pages_parameters_and_names_bad_ones() -> None:
    from starlette.datastructures import QueryParams

    default = NetworkChoice({"imported": 1.0}, date(2024, 4, 1), date(2025, 3, 31))
    choice = mr.parse_choice(
        QueryParams(
            "sources=reported,co_attendance&w_co_attendance=0.5&min_weight=2&since=2025-01-01"
            "&as_of=2025-03-31&colour_by=profession"
        ),
        default=default,
    )
    assert choice.network == NetworkChoice(
        {"reported": 1.0, "co_attendance": 0.5}, date(2025, 1, 1), date(2025, 3, 31), 2.0
    )
    assert choice.colour_by == "profession"
    again = mr.parse_choice(QueryParams(choice.query(colour_by="profession")), default=default)
    assert again == choice, "the map's links keep the choice"
    # No choice at all: the network pages' default; colour alone is not a choice of ties.
    assert mr.parse_choice(QueryParams("colour_by=profession"), default=default).network == default
    assert mr.parse_choice(QueryParams(""), default=default) == mr.MapChoice(default)
    with pytest.raises(InputError) as caught:
        mr.parse_choice(
            QueryParams("sources=reported&w_reported=0&min_weight=lots&colour_by=tier"), default=default
        )
    assert caught.value.by_field() == {
        "w_reported": '"0" is not a number above 0',
        "min_weight": '"lots" is not a number, 0 or more',
        "colour_by": '"tier" is not organisation or profession',
    }


# --- a small partnership in the register -------------------------------------------------------------
@dataclass
class Cast:
    ids: dict[str, int]  # full name -> person id


FULL_NAMES = [
    ("Abigail Trenwith", "police", "officer", 2),
    ("Barnaby Quayle", "police", "officer", 4),
    ("Cordelia Vantongeren", "health", "nurse", 3),
    ("Desmond Okonkwo-Hale", "health", "health visitor", 4),
    ("Eudora Pennyfeather", "social", "social worker", 1),
    ("Fitzgerald Marchbanks", "social", "social worker", 3),
    ("Griselda Achterberg", "school", "teacher", 4),
    ("Hyacinth Polgreen", "school", None, 5),  # no ties in any source
]


def _cast(db: Session, world: World) -> Cast:
    """Eight people in four organisations: co-attendance at two meetings and imported ties; Eudora links
    the police and health side with the school."""
    root = cli_actor("test set-up")
    pid = world.partnership_id
    organisations = {"police": world.organisation_id}
    for key, name, kind in [
        ("health", "Brempton Health", "health"),
        ("social", "Children's Services", "childrens_social_care"),
        ("school", "Brempton Academy", "education"),
    ]:
        organisations[key] = register.create_organisation(
            db,
            actor=root,
            partnership_id=pid,
            data=s.OrganisationCreate(name=name, kind=kind, tier="statutory"),
        ).id
    professions: dict[str | None, int | None] = {"officer": world.profession_id, None: None}
    for name in ("nurse", "health visitor", "social worker", "teacher"):
        professions[name] = register.create_profession(
            db, actor=root, partnership_id=pid, data=s.ProfessionCreate(name=name.capitalize())
        ).id
    ids = {}
    for name, organisation, profession, tier in FULL_NAMES:
        ids[name] = register.create_person(
            db,
            actor=root,
            partnership_id=pid,
            data=s.PersonCreate(
                full_name=name,
                organisation_id=organisations[organisation],
                profession_id=professions[profession],
                hierarchy_tier=tier,
            ),
        ).id
    first = {name.split()[0]: person for name, person in ids.items()}
    for held_on, present in [
        (date(2025, 1, 10), ["Abigail", "Barnaby", "Cordelia", "Eudora"]),
        (date(2025, 2, 10), ["Abigail", "Cordelia", "Desmond", "Eudora"]),
    ]:
        meeting = register.create_meeting(
            db, actor=root, partnership_id=pid, data=s.MeetingCreate(title="Board", held_on=held_on)
        )
        register.set_attendance(
            db,
            actor=root,
            meeting_id=meeting.id,
            entries=[s.AttendanceEntry(person_id=first[n], status="present") for n in present],
        )
    network.store_ties(
        db,
        actor=root,
        partnership_id=pid,
        ties=[
            t.TieValues(first[a], first[b], date(2025, 2, 1), weight=w)
            for a, b, w in [
                ("Eudora", "Griselda", 3.0),
                ("Eudora", "Fitzgerald", 1.0),
                ("Fitzgerald", "Griselda", 1.0),
                ("Barnaby", "Desmond", 1.0),
            ]
        ],
        source="imported",
    )
    db.commit()
    return Cast(ids)


ALL = "sources=reported,imported,co_attendance,shared_actions"


def _url(world: World, what: str = "map.json", query: str = "") -> str:
    return f"/p/{world.partnership_id}/network/{what}" + (f"?{query}" if query else "")


def _no_full_names(text: str) -> None:
    for name, *_ in FULL_NAMES:
        assert name not in text
        assert name.split()[1] not in text, f"{name}'s surname shows"


def test_map_json_for_a_manager_names_people_and_links_their_network_page(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    cast = _cast(db, world)
    response = browsers["manager"].get(_url(world, query=f"as_of=2025-03-31&{ALL}"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert data["names_shown"] and data["people"] == 8 and data["as_of"] == "2025-03-31"
    by_label = {node["label"]: node for node in data["nodes"]}
    assert set(by_label) == set(cast.ids)
    eudora = by_label["Eudora Pennyfeather"]
    assert eudora["href"] == f"/p/{world.partnership_id}/network/people/{cast.ids['Eudora Pennyfeather']}"
    assert eudora["organisation"] == "Children's Services" and eudora["profession"] == "Social worker"
    assert eudora["rank"] == 1 and eudora["score"] == max(n["score"] for n in data["nodes"])
    assert eudora["reason"].startswith("links Children's Services with")
    assert eudora["brokerage"] > 0 and eudora["betweenness"] > 0 and eudora["degree"] == 6
    assert by_label["Hyacinth Polgreen"]["degree"] == 0
    for node in data["nodes"]:
        assert 0 <= node["x"] <= 1 and 0 <= node["y"] <= 1 and node["colour"]["organisation"].startswith("#")
        assert isinstance(node["id"], int) and set(node) >= {"key_person_risk", "cut_pairs", "r"}
    assert [n["id"] for n in data["nodes"]] == list(range(8))
    # Ties: the two sources kept apart, between positions of the node list.
    pairs = {
        frozenset({data["nodes"][e["source"]]["label"], data["nodes"][e["target"]]["label"]}): e
        for e in data["edges"]
    }
    assert pairs[frozenset({"Eudora Pennyfeather", "Griselda Achterberg"})]["sources"] == ["imported"]
    both = pairs[frozenset({"Abigail Trenwith", "Cordelia Vantongeren"})]
    assert both["sources"] == ["co_attendance"] and both["weight"] == 2.0
    assert {g["label"] for g in data["groups"]["organisation"]} == {
        "Brempton Police",
        "Brempton Health",
        "Children's Services",
        "Brempton Academy",
    }
    assert "No profession recorded" in {g["label"] for g in data["groups"]["profession"]}
    # The same positions on every visit.
    assert (
        browsers["manager"].get(_url(world, query=f"as_of=2025-03-31&{ALL}")).json()["nodes"] == data["nodes"]
    )
    # With no choice, the network pages' default: the last year of stored ties (there are some here).
    default = browsers["manager"].get(_url(world)).json()
    assert default["sources"] == {"reported": 1.0, "imported": 1.0}
    assert default["since"] == (date.fromisoformat(default["as_of"]) - timedelta(days=364)).isoformat()


def test_members_see_the_map_without_names_everywhere(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    _cast(db, world)
    member = browsers["member"]
    data = member.get(_url(world, query=f"as_of=2025-03-31&{ALL}")).json()
    assert not data["names_shown"] and len(data["nodes"]) == 8
    assert all("href" not in node for node in data["nodes"])
    # Eight people in four organisations: no organisation or profession holds five, so every label,
    # organisation, profession and colour says only "a person" (a smaller group would single people out).
    assert sorted(n["label"] for n in data["nodes"]) == sorted(f"Person #{k}" for k in range(1, 9))
    assert {(n["organisation"], n["profession"]) for n in data["nodes"]} == {("Not shown", "Not shown")}
    assert [g["label"] for g in data["groups"]["organisation"]] == ["Not shown"]
    assert len({n["colour"]["organisation"] for n in data["nodes"]}) == 1
    for what in ("map.json", "map", "map.svg"):
        for colour in ("organisation", "profession"):
            response = member.get(_url(world, what, f"as_of=2025-03-31&{ALL}&colour_by={colour}"))
            assert response.status_code == 200, what
            _no_full_names(response.text)
    page = member.get(_url(world, "map", "as_of=2025-03-31")).text
    assert "shown by labels that name no one and describe no group smaller than 5" in page
    assert "/network/people/" not in page


def test_the_map_page_has_the_static_image_the_data_and_the_script_from_this_site(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    _cast(db, world)
    response = browsers["manager"].get(_url(world, "map", "as_of=2025-03-31"))
    assert response.status_code == 200
    page = response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.count("<circle cx=") >= 8 and "Eudora Pennyfeather" in page
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert [attrs for attrs, body in scripts if body.strip() and "application/json" not in attrs] == []
    assert any('src="/static/network-map.js"' in attrs for attrs, _ in scripts)
    embedded = next(body for attrs, body in scripts if 'id="network-map-data"' in attrs)
    assert len(json.loads(embedded)["nodes"]) == 8
    assert " style=" not in page and "<style" not in page  # the CSP allows no inline style either
    assert f'href="/p/{world.partnership_id}/network?sources=' in page  # the list view
    assert browsers["manager"].get("/static/network-map.js").status_code == 200


def test_map_svg_is_the_static_image(db: Session, world: World, browsers: dict[str, Browser]) -> None:
    _cast(db, world)
    response = browsers["manager"].get(_url(world, "map.svg", "as_of=2025-03-31&colour_by=profession"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert svg.startswith("<svg") and "coloured by profession" in svg
    assert svg.count("<circle") == 8 + 6  # people, and the six professions (one is none) in the legend
    assert "Eudora Pennyfeather" in svg


def test_filters_change_the_ties(db: Session, world: World, browsers: dict[str, Browser]) -> None:
    _cast(db, world)
    manager = browsers["manager"]

    def ties(query: str) -> set[tuple[str, ...]]:
        if "sources=" not in query:  # every source, not the pages' default (stored ties only, here)
            query += "&sources=reported,imported,co_attendance,shared_actions"
        data = manager.get(_url(world, query="as_of=2025-03-31&" + query)).json()
        labels = [n["label"].split()[0] for n in data["nodes"]]
        return {tuple(sorted((labels[e["source"]], labels[e["target"]]))) for e in data["edges"]}

    everything = ties("")
    imported = ties("sources=imported")
    attended = ties("sources=co_attendance")
    assert imported == {
        ("Eudora", "Griselda"),
        ("Eudora", "Fitzgerald"),
        ("Fitzgerald", "Griselda"),
        ("Barnaby", "Desmond"),
    }
    assert ("Abigail", "Cordelia") in attended and not attended & imported
    assert everything == imported | attended
    # Minimum strength: only ties of combined weight 2 or more (two meetings; the weight-3 import).
    assert ties("min_weight=2") == {
        ("Abigail", "Cordelia"),
        ("Abigail", "Eudora"),
        ("Cordelia", "Eudora"),
        ("Eudora", "Griselda"),
    }
    # A source's multiplier: co-attendance at half makes one shared meeting too light.
    assert ("Abigail", "Barnaby") not in ties("w_co_attendance=0.5&min_weight=1")
    assert ties("as_of=2025-01-31&sources=co_attendance") == {
        ("Abigail", "Barnaby"),
        ("Abigail", "Cordelia"),
        ("Abigail", "Eudora"),
        ("Barnaby", "Cordelia"),
        ("Barnaby", "Eudora"),
        ("Cordelia", "Eudora"),
    }


def test_bad_filters_are_named_and_show_on_the_page(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    manager = browsers["manager"]
    response = manager.get(_url(world, query="sources=gossip"))
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "field": "sources",
            "message": '"gossip" is not a source of ties; use '
            "reported, imported, co_attendance, shared_actions, shared_cases, referrals",
        }
    ]
    response = manager.get(_url(world, query="sources="))
    assert response.status_code == 422 and "tick at least one source of ties" in response.text
    response = manager.get(_url(world, query="sources=imported&min_weight=-1&w_imported=x"))
    assert response.status_code == 422
    assert {p["field"] for p in response.json()["detail"]} == {"min_weight", "w_imported"}
    page = manager.get(_url(world, "map", "min_weight=-1&as_of=2025-13-01"))
    assert page.status_code == 422
    assert "Minimum tie strength: &#34;-1&#34; is not a number, 0 or more" in page.text
    assert "As of: &#34;2025-13-01&#34; is not a real date" in page.text
    assert 'value="2025-13-01"' in page.text  # the refused value is shown back to be corrected
    assert manager.get(_url(world, "map.svg", "colour_by=tier")).status_code == 422


def test_outsiders_find_nothing_and_anonymous_visitors_are_sent_to_log_in(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    _cast(db, world)
    for what in ("map", "map.json", "map.svg"):
        response = browsers["outsider"].get(_url(world, what))
        assert response.status_code == 404, what
        _no_full_names(response.text)
        response = browsers["anonymous"].get(_url(world, what))
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), what
    other = f"/p/{world.other_partnership_id}/network/map.json"
    assert browsers["manager"].get(other).status_code == 404
    admin = browsers["admin"].get(_url(world, query="as_of=2025-03-31")).json()
    assert admin["names_shown"]


def test_an_empty_partnership_has_an_empty_map(world: World, browsers: dict[str, Browser]) -> None:
    data = browsers["member"].get(_url(world)).json()
    assert data["people"] == 0 and data["nodes"] == [] and data["edges"] == []
    assert browsers["member"].get(_url(world, "map")).status_code == 200
    assert browsers["member"].get(_url(world, "map.svg")).status_code == 200


def test_metrics_used_are_the_public_ones() -> None:
    # The map's figures are those of analyse_network and rank_boundary_spanners, not a copy of them.
    net = _network(25, 50)
    found = mr.map_of(net)
    direct = metrics.analyse_network(**net.for_metrics())
    assert found.analysis is not None
    assert np.allclose(found.analysis.people.betweenness, direct.people.betweenness)
    ranked = metrics.rank_boundary_spanners(direct, net.organisation_labels, limit=None)
    assert [x.person for x in found.spanners] == [x.person for x in ranked]


def test_the_docs_map_examples_are_messages_the_map_gives() -> None:
    from pathlib import Path

    from starlette.datastructures import QueryParams

    doc = (Path(__file__).resolve().parents[2] / "docs" / "network.md").read_text(encoding="utf-8")
    section = doc.split("### The map", 1)[1]
    examples = re.findall(r"`((?:min_weight|w_\w+): [^`]+)`", section)
    assert len(examples) == 2
    with pytest.raises(InputError) as caught:
        mr.parse_choice(
            QueryParams("sources=reported&min_weight=-1&w_reported=0"),
            default=NetworkChoice({"reported": 1.0}, None, date(2025, 3, 31)),
        )
    given = {f"{field}: {message}" for field, message in caught.value.by_field().items()}
    assert set(examples) <= given
    assert "sources=reported,co_attendance&w_co_attendance=0.5&min_weight=2" in section
    assert f"Above {mr.MAX_MAP_PEOPLE:,} people" in " ".join(section.split())
