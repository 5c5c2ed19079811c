"""Where each person sits on the network map: one force-directed layout, computed on the server, that the
interactive map and the printable image both draw, so they always agree.

Pure computation: people are positions 0..n-1, ties are NumPy arrays; the result is an (n, 2) array of
positions in the unit square (x to the right, y downwards, as on a screen and a PDF page). The layout is
seeded, so the same network gives the same map on every visit.

People with ties are placed by igraph's Fruchterman-Reingold layout (tie weights pull harder, on a log
scale so that one very heavy tie does not collapse a pair onto each other). People with no ties in the
chosen view would otherwise be pushed to the far edges and squeeze everyone else into the middle, so
they sit in rows along the bottom of the square instead.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence

import igraph as ig
import numpy as np

# Share of the square's height kept for people with no ties, when there are any.
ISOLATED_BAND = 0.1
# igraph draws its random numbers from one process-wide generator: a lock keeps a seeded run seeded.
_RNG_LOCK = threading.Lock()
# How much more one axis may be stretched than the other to fill the square.
MAX_STRETCH = 2.0
# Above this many people igraph's grid approximation keeps the layout well under a second.
GRID_FROM = 1000


def _fit_unit_square(points: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """Scale ``points`` to fill the box x=0..1, y=top..bottom, centred. Each axis is stretched on its own
    (a long thin layout would leave most of the square empty) but at most ``MAX_STRETCH`` times the other,
    so distances keep roughly their proportions."""
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-12)
    height = bottom - top
    scale_x, scale_y = 1.0 / span[0], height / span[1]
    scale_x, scale_y = min(scale_x, scale_y * MAX_STRETCH), min(scale_y, scale_x * MAX_STRETCH)
    scaled = (points - low) * np.array([scale_x, scale_y])
    offset = np.array([(1.0 - span[0] * scale_x) / 2, top + (height - span[1] * scale_y) / 2])
    return scaled + offset


def _isolated_rows(count: int, top: float, bottom: float) -> np.ndarray:
    """``count`` points in evenly spaced rows filling the band from y=top to y=bottom."""
    per_row = max(int(np.ceil(np.sqrt(count * 8))), 1)  # rows about eight times wider than tall
    rows = int(np.ceil(count / per_row))
    index = np.arange(count)
    row, column = index // per_row, index % per_row
    in_row = np.minimum(per_row, count - row * per_row)
    x = (column + 0.5) / in_row
    y = top + (bottom - top) * ((row + 0.5) / rows)
    return np.stack([x, y], axis=1)


def network_layout(
    n: int,
    source: np.ndarray | Sequence[int],
    target: np.ndarray | Sequence[int],
    weight: np.ndarray | Sequence[float] | None = None,
    *,
    seed: int = 0,
    iterations: int = 500,
) -> np.ndarray:
    """Positions of ``n`` people in the unit square, shape (n, 2), from undirected ties source-target.

    Deterministic: the same people, ties and seed give the same positions. Ties may repeat or come in
    either direction; a tie from a person to themself is ignored.

    >>> p = network_layout(3, [0, 1], [1, 2])
    >>> p.shape, bool((p >= 0).all() and (p <= 1).all())
    ((3, 2), True)
    """
    s = np.asarray(source, dtype=np.int64).reshape(-1)
    t = np.asarray(target, dtype=np.int64).reshape(-1)
    if s.size != t.size:
        raise ValueError(f"target: has {t.size} entries for {s.size} sources")
    w = np.ones(s.size) if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
    if w.size != s.size:
        raise ValueError(f"weight: has {w.size} entries for {s.size} ties")
    if s.size and (min(s.min(), t.min()) < 0 or max(s.max(), t.max()) >= n):
        raise ValueError(f"source, target: every person must be in 0..{n - 1}")
    if n == 0:
        return np.zeros((0, 2))
    keep = s != t
    a, b = np.minimum(s[keep], t[keep]), np.maximum(s[keep], t[keep])
    pair, inverse = np.unique(a * n + b, return_inverse=True)
    pair_weight = np.bincount(inverse.reshape(-1), weights=w[keep], minlength=pair.size)

    tied = np.zeros(n, bool)
    tied[pair // n] = True
    tied[pair % n] = True
    positions = np.zeros((n, 2))
    lonely = np.flatnonzero(~tied)
    members = np.flatnonzero(tied)
    band_top = 1.0 - ISOLATED_BAND if lonely.size and members.size else 1.0
    if lonely.size:
        positions[lonely] = _isolated_rows(lonely.size, band_top if members.size else 0.0, 1.0)
    if not members.size:
        return positions

    local = np.full(n, -1, np.int64)
    local[members] = np.arange(members.size)
    graph = ig.Graph(n=members.size, edges=np.stack([local[pair // n], local[pair % n]], axis=1).tolist())
    start = np.random.default_rng(seed).random((members.size, 2)) * np.sqrt(members.size)
    with _RNG_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            coords = graph.layout_fruchterman_reingold(
                weights=np.log1p(np.maximum(pair_weight, 0.0)).tolist(),
                seed=start.tolist(),
                niter=iterations,
                grid=members.size >= GRID_FROM,
            ).coords
        finally:
            ig.set_random_number_generator(random)
    placed = np.asarray(coords, dtype=np.float64).reshape(members.size, 2)
    if members.size == 1:
        positions[members] = [0.5, band_top / 2]
    else:
        positions[members] = _fit_unit_square(placed, 0.0, band_top - (0.02 if lonely.size else 0.0))
    return np.clip(positions, 0.0, 1.0)


__all__ = ["network_layout"]
