"""The network map: the interactive page, its data (map.json) and the same map as an SVG image.

Thin: the network comes from ``service.network_for`` (which checks the viewer may see it and labels
people by name only for those who may see names), the figures from ``metrics``, the positions from
``layout`` and the image from ``map_image``. The page, map.json and map.svg take the network pages'
query parameters, read by the network pages' own ``analysis.parse_choice`` (so both show the same
network for the same address, and the same default when none is given): ``sources=reported,co_attendance``
(or repeated), ``w_<source>`` (each source's multiplier, default 1), ``min_weight``, ``since``,
``as_of``; and ``colour_by`` (organisation or profession).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from reticulist.access.policy import Action as Can
from reticulist.access.policy import Actor, ensure_allowed
from reticulist.barometer import charts
from reticulist.errors import FieldProblem, InputError
from reticulist.network import analysis, map_image, metrics
from reticulist.network import service as network_service
from reticulist.network.analysis import NetworkChoice
from reticulist.network.layout import network_layout
from reticulist.network.ties import CombinedEdges, Network, symmetrise
from reticulist.web.deps import Viewer, get_db, page_viewer
from reticulist.web.pages import partnership_context
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)

# Beyond this many people a map is a hairball that takes the browser seconds to draw: the tables serve.
MAX_MAP_PEOPLE = 3_000
LAYOUT_SEED = 0  # one fixed seed: the same network gives the same map on every visit
SOURCE_LABELS = {
    "reported": "Reported by members",
    "imported": "Imported from a spreadsheet",
    "co_attendance": "At the same meetings",
    "shared_actions": "Actions from the same meeting",
    "shared_cases": "In the same family's team",
    "referrals": "Referrals accepted",
}


# --- the viewer's choices ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MapChoice:
    """What the viewer asked to see: the network pages' choice of ties (``analysis.NetworkChoice``) and
    what the circles are coloured by."""

    network: NetworkChoice
    colour_by: str = "organisation"

    def query(self, **extra: str) -> str:
        """The choice as a query string, for links between the map, its image and the tables."""
        query = self.network.query()
        return query + ("&" + urlencode(extra) if extra else "")


def parse_choice(params: QueryParams, *, default: NetworkChoice) -> MapChoice:
    """The map's query parameters, read exactly as the network pages read theirs (``analysis.
    parse_choice``: no choice at all gives ``default``), plus ``colour_by``. Raises InputError naming
    every bad field."""
    problems: list[FieldProblem] = []
    colour_by = params.get("colour_by", "organisation").strip() or "organisation"
    if colour_by not in map_image.COLOUR_BY:
        problems.append(FieldProblem("colour_by", f'"{colour_by}" is not organisation or profession'))
    try:
        chosen = analysis.parse_choice({k: params.getlist(k) for k in params}, default=default)
    except InputError as exc:
        problems = exc.problems + problems
    if problems:
        raise InputError(problems=problems)
    return MapChoice(chosen, colour_by)


def choice_for(session: Session, *, actor: Actor, partnership_id: int, params: QueryParams) -> MapChoice:
    """The viewer's choice, with the network pages' default (the last year of ties) where they made
    none. Outsiders get NotFound before any parameter is read."""
    default = analysis.default_choice(
        session, actor=actor, partnership_id=partnership_id, today=network_service.today()
    )
    return parse_choice(params, default=default)


# --- the map -----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class NetworkMap:
    """A network with its figures and positions, ready to draw; ``analysis`` is None when there are too
    many people to draw (``too_many``)."""

    network: Network
    edges: CombinedEdges  # undirected: one line per pair of people
    analysis: metrics.NetworkAnalysis | None
    spanners: tuple[metrics.BoundarySpanner, ...]
    positions: np.ndarray

    @property
    def too_many(self) -> bool:
        return self.analysis is None

    @property
    def message(self) -> str | None:
        if not self.too_many:
            return None
        return (
            f"This network has {self.network.n_people:,} people: more than the {MAX_MAP_PEOPLE:,} a map can "
            "show readably. Choose fewer sources, a higher minimum strength or a shorter time window, or use "
            "the tables."
        )


def build_map(session: Session, *, actor: Actor, partnership_id: int, choice: MapChoice) -> NetworkMap:
    """The map of the partnership's network for ``choice``. Needs VIEW_NETWORK (names need
    VIEW_NETWORK_NAMES, as in ``network_for``)."""
    ensure_allowed(actor, Can.VIEW_NETWORK, partnership_id)
    network = network_service.network_for(
        session,
        actor=actor,
        partnership_id=partnership_id,
        sources=choice.network.sources,
        as_of=choice.network.as_of,
        since=choice.network.since,
        min_weight=choice.network.min_weight,
    )
    return map_of(network)


def map_of(network: Network) -> NetworkMap:
    """The figures, boundary-spanner ranking and positions of a network (no database: the part of
    ``build_map`` after the network is read)."""
    edges = symmetrise(network.edges, network.n_people)
    if network.n_people > MAX_MAP_PEOPLE:
        return NetworkMap(network, edges, None, (), np.zeros((0, 2)))
    analysis = metrics.analyse_network(**network.for_metrics())
    spanners = metrics.rank_boundary_spanners(analysis, network.organisation_labels, limit=None)
    positions = network_layout(network.n_people, edges.source, edges.target, edges.weight, seed=LAYOUT_SEED)
    return NetworkMap(network, edges, analysis, spanners, positions)


def _groups(groups: list[map_image.Group]) -> list[dict[str, Any]]:
    return [{"label": g.label, "colour": g.colour, "people": g.people} for g in groups]


def map_json(found: NetworkMap, choice: MapChoice) -> dict[str, Any]:
    """The map as plain JSON: people (an opaque index, label, organisation, profession, position,
    figures) and ties (the two indexes, weight, sources). Names and register links only when the network
    shows names."""
    network = found.network
    pid = network.partnership_id
    out: dict[str, Any] = {
        "partnership_id": pid,
        "as_of": network.as_of.isoformat(),
        "since": network.since.isoformat() if network.since else None,
        "names_shown": network.names_shown,
        "sources": network.multipliers,
        "min_weight": choice.network.min_weight,
        "people": network.n_people,
        "ties": len(found.edges),
        "too_many": found.too_many,
        "message": found.message,
        "list_url": f"/p/{pid}/network?{choice.query()}",
        "image_url": f"/p/{pid}/network/map.svg?{choice.query(colour_by=choice.colour_by)}",
        "groups": {},
        "nodes": [],
        "edges": [],
    }
    if found.analysis is None:
        return out
    people = found.analysis.people
    # Coloured by the groups the viewer may see: beside a label, never a group smaller than 5.
    shown = {kind: network.colour_groups(kind) for kind in ("organisation", "profession")}
    by_kind = {kind: map_image.group_colours(codes, labels, kind) for kind, (codes, labels) in shown.items()}
    out["groups"] = {kind: _groups(groups) for kind, groups in by_kind.items()}
    colours = {kind: map_image.colour_of_each(shown[kind][0], by_kind[kind]) for kind in by_kind}
    spanner = {s.person: s for s in found.spanners}
    score = map_image.spanner_scores(found.spanners, network.n_people)
    radii = map_image.radius(score)
    brokerage = people.cross_organisation_brokerage
    risk = people.key_person_risk
    nodes = []
    for i in range(network.n_people):
        s = spanner.get(i)
        node: dict[str, Any] = {
            "id": i,
            "label": network.labels[i],
            "organisation": network.organisation_of(i),
            "profession": network.profession_of(i),
            "colour": {kind: colours[kind][i] for kind in colours},
            "x": round(float(found.positions[i, 0]), 4),
            "y": round(float(found.positions[i, 1]), 4),
            "r": round(float(radii[i]), 2),
            "score": round(float(score[i]), 4),
            "rank": s.rank if s else None,
            "betweenness": round(float(people.betweenness[i]), 4),
            "degree": int(people.degree[i]),
            "brokerage": int(brokerage[i]),
            "organisations_reached": int(people.organisations_reached[i]),
            "key_person_risk": int(risk[i]),
            "cut_pairs": int(people.cut_pairs[i]),
            "reason": s.reason if s else "",
        }
        if network.person_ids is not None:
            node["href"] = f"/p/{pid}/network/people/{int(network.person_ids[i])}"
        nodes.append(node)
    out["nodes"] = nodes
    out["betweenness_estimated"] = bool(people.betweenness_approximate)
    edges = found.edges
    widths = map_image.edge_width(edges.weight, network.n_people) if len(edges) else np.zeros(0)
    names = edges.source_names
    out["edges"] = [
        {
            "source": int(edges.source[k]),
            "target": int(edges.target[k]),
            "weight": round(float(edges.weight[k]), 4),
            "width": round(float(widths[k]), 2),
            "sources": [name for b, name in enumerate(names) if int(edges.sources[k]) & (1 << b)],
        }
        for k in range(len(edges))
    ]
    return out


def map_svg(found: NetworkMap, colour_by: str) -> str:
    """The map as a standalone SVG image (the page's image without JavaScript, and map.svg)."""
    assert found.analysis is not None
    chart = map_image.network_map_chart(
        found.network, found.analysis, found.positions, colour_by=colour_by, spanners=found.spanners
    )
    return charts.to_svg(chart, chart_id="network-map")


# --- routes ------------------------------------------------------------------------------------------
def _form(params: QueryParams, choice: MapChoice | None) -> dict[str, Any]:
    """The filter form: the choice shown (the default when none was made), or on a refused choice the
    values as the viewer filled them in, to be corrected."""
    if choice is not None:
        chosen = choice.network
        return {
            "sources": [
                {
                    "name": name,
                    "label": SOURCE_LABELS.get(name, name.replace("_", " ")),
                    "checked": name in chosen.sources,
                    "weight": f"{chosen.sources.get(name, 1.0):g}",
                }
                for name in network_service.known_sources()
            ],
            "min_weight": f"{chosen.min_weight:g}" if chosen.min_weight else "",
            "since": chosen.since.isoformat() if chosen.since else "",
            "as_of": chosen.as_of.isoformat(),
            "colour_by": choice.colour_by,
        }
    asked = "sources" in params
    ticked = {n.strip() for value in params.getlist("sources") for n in value.split(",")}
    return {
        "sources": [
            {
                "name": name,
                "label": SOURCE_LABELS.get(name, name.replace("_", " ")),
                "checked": name in ticked or not asked,
                "weight": params.get(f"w_{name}", "1"),
            }
            for name in network_service.known_sources()
        ],
        "min_weight": params.get("min_weight", ""),
        "since": params.get("since", ""),
        "as_of": params.get("as_of", ""),
        "colour_by": params.get("colour_by", "organisation"),
    }


@router.get("/p/{partnership_id}/network/map")
def map_page(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
):  # type: ignore[no-untyped-def]
    ctx = partnership_context(db, viewer, partnership_id, "network")
    ensure_allowed(viewer.actor, Can.VIEW_NETWORK, partnership_id)
    ctx.update(choice=None, errors={}, data=None, svg="", form=_form(request.query_params, None))
    try:
        choice = choice_for(
            db, actor=viewer.actor, partnership_id=partnership_id, params=request.query_params
        )
        found = build_map(db, actor=viewer.actor, partnership_id=partnership_id, choice=choice)
    except InputError as err:
        ctx["errors"] = err.by_field()
        return render(request, "network/map.html", ctx, status_code=422)
    ctx.update(
        choice=choice,
        form=_form(request.query_params, choice),
        data=map_json(found, choice),
        svg="" if found.too_many else map_svg(found, choice.colour_by),
    )
    return render(request, "network/map.html", ctx)


@router.get("/p/{partnership_id}/network/map.json")
def map_data(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> JSONResponse:
    ensure_allowed(viewer.actor, Can.VIEW_NETWORK, partnership_id)
    # InputError: 422 with each field's problem.
    choice = choice_for(db, actor=viewer.actor, partnership_id=partnership_id, params=request.query_params)
    found = build_map(db, actor=viewer.actor, partnership_id=partnership_id, choice=choice)
    return JSONResponse(map_json(found, choice))


@router.get("/p/{partnership_id}/network/map.svg")
def map_image_route(
    request: Request,
    partnership_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ensure_allowed(viewer.actor, Can.VIEW_NETWORK, partnership_id)
    choice = choice_for(db, actor=viewer.actor, partnership_id=partnership_id, params=request.query_params)
    found = build_map(db, actor=viewer.actor, partnership_id=partnership_id, choice=choice)
    if found.too_many:
        return Response(found.message or "", status_code=422, media_type="text/plain")
    return Response(map_svg(found, choice.colour_by), media_type="image/svg+xml")
