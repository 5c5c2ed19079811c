"""The network map as a static image: the server's layout drawn as chart shapes, so ``charts.to_svg``
gives the map page's image without JavaScript and ``charts.draw_on_pdf`` puts the same map in a printed
report. The interactive map (web/static/network-map.js) takes its colours and sizes from here too.

Each person is a dot coloured by organisation or profession (a colour-blind-safe palette; beyond its
colours the smaller groups share a grey "other") and sized by their boundary-spanner score; ties are
lines, thicker for stronger ties; only the strongest boundary spanners are labelled, so the labels stay
readable and members see no more than the pseudonyms the network gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reticulist.barometer import charts
from reticulist.barometer.charts import GRID, INK, MUTED, PAPER, Chart, Dot, Line, Rect, Text
from reticulist.network import metrics
from reticulist.network.ties import Network, symmetrise

# Paul Tol's "muted" qualitative palette: told apart with the common kinds of colour blindness.
PALETTE: tuple[str, ...] = (
    "#cc6677",
    "#332288",
    "#ddcc77",
    "#117733",
    "#88ccee",
    "#882255",
    "#44aa99",
    "#999933",
    "#aa4499",
)
OTHER_COLOUR = "#dddddd"
EDGE_COLOUR = "#aab4be"
COLOUR_BY: tuple[str, ...] = ("organisation", "profession")
MIN_RADIUS, MAX_RADIUS = 3.5, 11.0  # points, for a map 600 points wide
TOP_LABELS = 5  # boundary spanners named on the image


@dataclass(frozen=True)
class Group:
    """One entry of the legend: an organisation or profession (``codes`` holds one code), or "other"
    (several codes) once the palette's colours are used up."""

    label: str
    colour: str
    people: int
    codes: tuple[int, ...]


def group_colours(codes: np.ndarray, labels: Sequence[str], kind: str = "organisation") -> list[Group]:
    """A colour for each group in ``labels`` that has people: the largest groups first (then by label);
    when there are more groups than colours, the smallest share a grey "other" entry.

    >>> [g.label for g in group_colours(np.array([1, 1, 0]), ["Health", "Police"])]
    ['Police', 'Health']
    """
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(labels))
    present = [c for c in range(len(labels)) if counts[c] > 0]
    present.sort(key=lambda c: (-int(counts[c]), labels[c]))
    if len(present) <= len(PALETTE):
        coloured, rest = present, []
    else:
        coloured, rest = present[: len(PALETTE) - 1], present[len(PALETTE) - 1 :]
    groups = [Group(labels[c], PALETTE[i], int(counts[c]), (c,)) for i, c in enumerate(coloured)]
    if rest:
        plural = "organisations" if kind == "organisation" else "professions"
        groups.append(
            Group(f"{len(rest)} other {plural}", OTHER_COLOUR, int(sum(counts[c] for c in rest)), tuple(rest))
        )
    return groups


def colour_of_each(codes: np.ndarray, groups: Sequence[Group]) -> list[str]:
    """Each person's colour, from their group code."""
    by_code = {c: g.colour for g in groups for c in g.codes}
    return [by_code.get(int(c), OTHER_COLOUR) for c in codes]


def radius(score: float | np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Dot radius for a boundary-spanner score 0..1: by its square root, so the dot's area follows the
    score."""
    value = np.sqrt(np.clip(np.nan_to_num(np.asarray(score, dtype=np.float64)), 0.0, 1.0))
    return (MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * value) * scale


def spanner_scores(spanners: Sequence[metrics.BoundarySpanner], n: int) -> np.ndarray:
    score = np.zeros(n)
    for spanner in spanners:
        score[spanner.person] = spanner.score
    return score


def edge_width(weight: np.ndarray, people: int = 0) -> np.ndarray:
    """Line width for tie weights: from 0.4 for the lightest to 2.4 for the heaviest of the map, thinner
    in a dense map (over four ties a person) so the lines do not hide the people."""
    weight = np.asarray(weight, dtype=np.float64)
    top = float(weight.max()) if weight.size else 1.0
    dense = 0.6 if people and weight.size > 4 * people else 1.0
    return (0.4 + 2.0 * np.sqrt(weight / top if top > 0 else weight)) * dense


def _plural(k: int, word: str, words: str) -> str:
    return f"{k} {word if k == 1 else words}"


def network_map_chart(
    network: Network,
    analysis: metrics.NetworkAnalysis,
    positions: np.ndarray,
    *,
    colour_by: str = "organisation",
    spanners: Sequence[metrics.BoundarySpanner] | None = None,
    labels: int = TOP_LABELS,
    size: float = 600.0,
) -> Chart:
    """The map as a chart: a line per tie, a dot per person (coloured by ``colour_by``, organisation or
    profession, sized by boundary-spanner score), the names or labels of the ``labels`` strongest
    boundary spanners, and a legend below. ``positions`` come from ``layout.network_layout`` (unit
    square); ``spanners`` from ``metrics.rank_boundary_spanners`` with ``limit=None`` (computed when not
    given).

    Example: ``charts.to_svg(network_map_chart(network, analysis, positions), chart_id="map")``.
    """
    if colour_by not in COLOUR_BY:
        raise ValueError(f'colour_by: "{colour_by}" is not organisation or profession')
    n = network.n_people
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    if positions.shape[0] != n:
        raise ValueError(f"positions: has {positions.shape[0]} rows for {n} people")
    if spanners is None:
        spanners = metrics.rank_boundary_spanners(analysis, network.organisation_labels, limit=None)
    codes, group_labels = network.colour_groups(colour_by)  # as the viewer may see them
    groups = group_colours(codes, group_labels, colour_by)
    colours = colour_of_each(codes, groups)
    score = spanner_scores(spanners, n)
    radii = radius(score)

    margin = MAX_RADIUS + 4
    side = size - 2 * margin
    legend_columns = 3
    legend_rows = -(-len(groups) // legend_columns)
    legend_top = size + 8
    height = legend_top + 18 * legend_rows + 30
    edges = symmetrise(network.edges, n) if len(network.edges) else network.edges
    named = [s for s in spanners[:labels] if s.score > 0]
    labelled = ""
    if named:
        who = "; ".join(network.labels[s.person] for s in named)
        spanners_words = _plural(len(named), "strongest boundary spanner", "strongest boundary spanners")
        labelled = f"Labelled: the {spanners_words} ({who}). "
    chart = Chart(
        size,
        height,
        f"Network map, coloured by {colour_by}",
        f"{_plural(n, 'person', 'people')} and {_plural(len(edges), 'tie', 'ties')}. Each dot is a person, "
        f"coloured by {colour_by}; larger dots have a higher boundary-spanner score (they link "
        f"organisations more). Lines are ties, thicker for stronger ties. {labelled}"
        "The network tables give every person's figures.",
    )
    x = margin + positions[:, 0] * side
    y = margin + positions[:, 1] * side
    shapes = chart.shapes
    shapes.append(Rect(0, 0, size, size, PAPER, stroke=GRID))
    widths = edge_width(edges.weight, n) if len(edges) else np.zeros(0)
    for a, b, w in zip(edges.source.tolist(), edges.target.tolist(), widths.tolist(), strict=True):
        shapes.append(Line(float(x[a]), float(y[a]), float(x[b]), float(y[b]), EDGE_COLOUR, round(w, 2)))
    # Smaller dots last, so a large dot never hides a small one behind it.
    for i in np.lexsort((np.arange(n), -radii)).tolist():
        shapes.append(Dot(float(x[i]), float(y[i]), round(float(radii[i]), 2), colours[i]))
    for spanner in named:
        i = spanner.person
        text = charts._fit(network.labels[i], 8, 170)
        width = charts.text_width(text, 8)
        right = x[i] + radii[i] + 3 + width + 4 > size
        tx = float(x[i] - radii[i] - 3) if right else float(x[i] + radii[i] + 3)
        left_edge = tx - width - 2 if right else tx - 2
        shapes.append(Rect(left_edge, float(y[i]) - 7, width + 4, 10, PAPER, stroke=GRID))
        shapes.append(Text(tx, float(y[i]) + 1, text, 8, "end" if right else "start", bold=True))
    column_width = size / legend_columns
    for k, group in enumerate(groups):
        lx = 8 + column_width * (k % legend_columns)
        ly = legend_top + 18 * (k // legend_columns) + 9
        shapes.append(Dot(lx + 5, ly - 3, 5, group.colour))
        label = charts._fit(f"{group.label} ({group.people})", 8, column_width - 24)
        shapes.append(Text(lx + 14, ly, label, 8))
    note_y = legend_top + 18 * legend_rows + 16
    shapes.append(
        Text(8, note_y, "Dot size: boundary-spanner score. Line width: tie strength.", 8, fill=MUTED)
    )
    shapes.append(Text(size - 8, note_y, f"as of {network.as_of.isoformat()}", 8, "end", fill=INK))
    return chart


__all__ = [
    "COLOUR_BY",
    "OTHER_COLOUR",
    "PALETTE",
    "Group",
    "colour_of_each",
    "edge_width",
    "group_colours",
    "network_map_chart",
    "radius",
    "spanner_scores",
]
