"""Funnel plots: each partnership's construct mean against its number of respondents, with control limits.

Pure computation (Spiegelhalter, "Funnel plots for comparing institutional performance", 2005): the
target is the respondent-weighted mean of the partnerships shown; a partnership of n respondents lies
inside the p-limits when its mean is within target ± z_p x sigma / sqrt(n), sigma being the pooled
within-partnership standard deviation of people's scores. 95% limits (z = 1.96) flag a difference worth a
look; 99.8% limits (z = 3.09) one that chance alone would make about once in 500. Small partnerships get
wide limits, so a small partnership is not called an outlier for the noise of a few answers.

Partnerships differ for real, not only by sampling error: with hundreds of respondents each, limits from
sampling error alone are so narrow that most partnerships fall outside them. Where the spread of the
points is larger than sampling error explains (a chi-squared test of the winsorised z-scores at 5%, with
at least ``MIN_FOR_SPREAD`` partnerships), the limits are widened by the real spread between partnerships
tau, estimated as in Spiegelhalter's "Handling over-dispersion of performance indicators" (2005,
additive random effects on z-scores winsorised at 10%): target ± z x sqrt(sigma^2 / n + tau^2).

Only cells the group may show enter the target and sigma: a partnership whose figure is hidden (too few
respondents) is left out of the pooled figures too, else the pooled mean minus the others' would give it
away.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from reticulist.barometer.charts import GRID, HIGH, INK, LOW, MUTED, PAPER, Chart, Dot, Line, Text, _fit

Z95, Z998 = 1.959964, 3.090232
MIN_FOR_SPREAD = 10  # fewer partnerships cannot tell a real spread between them from chance
WINSORISE = 0.10  # z-scores beyond the 10th and 90th percentiles count as those, so outliers do not widen


@dataclass(frozen=True)
class FunnelPoint:
    label: str  # the partnership as this viewer may see it
    n: int
    mean: float
    sd: float | None
    own: bool = False  # the viewer's own partnership (drawn filled and named)


@dataclass(frozen=True)
class PlacedPoint:
    point: FunnelPoint
    band: str  # "above 99.8%", "above 95%", "within", "below 95%", "below 99.8%"
    z: float | None  # (mean - target) / sqrt(sigma^2 / n + tau^2)

    @property
    def outside95(self) -> bool:
        return self.band != "within"


@dataclass(frozen=True)
class Funnel:
    construct: str  # the construct's name
    target: float | None  # respondent-weighted mean of the points
    sigma: float | None  # pooled within-partnership sd; None when no point has an sd
    points: tuple[PlacedPoint, ...]
    tau: float = 0.0  # the real spread between partnerships the limits allow for (0: none found)
    outside_without_spread: int = 0  # points outside the 95% limits of sampling error alone

    def limits(self, n: float, z: float) -> tuple[float, float]:
        assert self.target is not None and self.sigma is not None
        half = z * math.sqrt(self.sigma**2 / n + self.tau**2)
        return self.target - half, self.target + half

    @property
    def spread_words(self) -> str:
        """What the limits allow for, in words ("" when sampling error alone explains the spread)."""
        if not self.tau:
            return ""
        return (
            "The partnerships differ more than sampling error explains, so the limits allow for a real "
            f"spread between partnerships (tau {self.tau:.2f} on the 1 to 5 scale). From sampling error "
            f"alone, {self.outside_without_spread} of {len(self.points)} would be outside the 95% limits."
        )


def pooled_sd(ns: Sequence[int], sds: Sequence[float | None]) -> float | None:
    """The within-partnership standard deviation of people's scores, pooled over partnerships with an sd.

    >>> round(pooled_sd([10, 30], [1.0, 0.5]), 4)
    0.6539
    """
    n = np.array([k for k, s in zip(ns, sds, strict=True) if s is not None and k > 1], dtype=float)
    s = np.array([s for k, s in zip(ns, sds, strict=True) if s is not None and k > 1], dtype=float)
    if n.size == 0 or (n - 1).sum() <= 0:
        return None
    return float(math.sqrt(((n - 1) * s**2).sum() / (n - 1).sum()))


def place(construct: str, points: Sequence[FunnelPoint]) -> Funnel:
    """Each point's band against the limits drawn from all the points.

    >>> f = place("Trust", [FunnelPoint("A", 20, 3.0, 0.6), FunnelPoint("B", 20, 3.2, 0.6),
    ...                     FunnelPoint("C", 100, 3.6, 0.6)])
    >>> [p.band for p in f.points]
    ['below 99.8%', 'within', 'above 95%']
    """
    if not points:
        return Funnel(construct, None, None, ())
    n = np.array([p.n for p in points], dtype=float)
    mean = np.array([p.mean for p in points], dtype=float)
    target = float((n * mean).sum() / n.sum())
    sigma = pooled_sd([p.n for p in points], [p.sd for p in points])
    if sigma is None or sigma == 0:
        return Funnel(construct, target, sigma, tuple(PlacedPoint(p, "within", None) for p in points))
    tau = between_spread(mean, n, target, sigma)
    z = (mean - target) / np.sqrt(sigma**2 / n + tau**2)
    plain = np.abs((mean - target) / (sigma / np.sqrt(n))) > Z95
    placed = [PlacedPoint(p, _band(float(zi)), float(zi)) for p, zi in zip(points, z, strict=True)]
    return Funnel(construct, target, sigma, tuple(placed), tau, int(plain.sum()))


def _band(z: float) -> str:
    if z > Z998:
        return "above 99.8%"
    if z > Z95:
        return "above 95%"
    if z < -Z998:
        return "below 99.8%"
    if z < -Z95:
        return "below 95%"
    return "within"


def between_spread(mean: np.ndarray, n: np.ndarray, target: float, sigma: float) -> float:
    """tau, the standard deviation of partnerships' true means around the target beyond sampling error
    (Spiegelhalter 2005, additive random effects, z-scores winsorised at 10%); 0 when the chi-squared
    test finds no more spread than chance, or there are fewer than MIN_FOR_SPREAD partnerships.

    >>> rng = np.random.default_rng(1)
    >>> n = np.full(40, 400.0)
    >>> between_spread(3 + rng.normal(0, 0.05, 40), n, 3.0, 1.0)  # sampling error alone (sd 0.05)
    0.0
    >>> 0.15 < between_spread(3 + rng.normal(0, 0.3, 40), n, 3.0, 1.0) < 0.35  # a real spread of 0.3
    True
    """
    k = mean.size
    if k < MIN_FOR_SPREAD:
        return 0.0
    s2 = sigma**2 / n
    z = (mean - target) / np.sqrt(s2)
    low, high = np.quantile(z, [WINSORISE, 1 - WINSORISE])
    phi = float(np.mean(np.clip(z, low, high) ** 2))
    if k * phi <= chi2.ppf(0.95, k - 1):
        return 0.0
    w = 1 / s2
    tau2 = (k * phi - (k - 1)) / (w.sum() - (w**2).sum() / w.sum())
    return float(math.sqrt(max(tau2, 0.0)))


def words(placed: PlacedPoint, construct: str) -> str:
    """Plain words for one partnership on one construct.

    >>> words(PlacedPoint(FunnelPoint("Brempton", 40, 2.6, 0.9), "below 95%", -2.4), "continuity")
    'Brempton is below the lower 95% limit on continuity (mean 2.60 from 40 respondents).'
    """
    p = placed.point
    where = {
        "above 99.8%": "above the upper 99.8% limit",
        "above 95%": "above the upper 95% limit",
        "below 95%": "below the lower 95% limit",
        "below 99.8%": "below the lower 99.8% limit",
        "within": "within the limits",
    }[placed.band]
    return f"{p.label} is {where} on {construct} (mean {p.mean:.2f} from {p.n} respondents)."


_WHERE = {
    "above 99.8%": "above the upper 99.8% limit",
    "above 95%": "above the upper 95% limit",
    "below 95%": "below the lower 95% limit",
    "below 99.8%": "below the lower 99.8% limit",
}


def _listing(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def grouped_words(label: str, placed: Sequence[tuple[str, PlacedPoint]]) -> list[str]:
    """One partnership's place on every construct in a few sentences, outside the limits first.

    >>> grouped_words("Brempton", [("continuity", PlacedPoint(FunnelPoint("Brempton", 40, 2.6, 0.9),
    ...   "below 95%", -2.4)), ("trust", PlacedPoint(FunnelPoint("Brempton", 40, 3.1, 0.9), "within", 0.3))])
    ['Brempton is below the lower 95% limit on continuity (mean 2.60).', 'Within the limits on trust.']
    """
    out = []
    for band in ("below 99.8%", "below 95%", "above 95%", "above 99.8%"):
        named = [f"{name} (mean {p.point.mean:.2f})" for name, p in placed if p.band == band]
        if named:
            out.append(f"{label} is {_WHERE[band]} on {_listing(named)}.")
    within = [name for name, p in placed if p.band == "within"]
    if within:
        other = "other " if out else ""
        out.append(
            f"Within the limits on {_listing(within)}."
            if len(within) <= 3
            else f"Within the limits on the {len(within)} {other}constructs."
        )
    return out


def chart(funnel: Funnel, *, scale: tuple[float, float] = (1.0, 5.0), label_others: bool = True) -> Chart:
    """The funnel plot as chart shapes (barometer.charts draws them as SVG and on a PDF page).

    The mean axis is zoomed to the points and the limits (within the scale ``scale``), since means of a
    1-5 scale sit close together; the limits start at half the smallest partnership's respondents.
    ``label_others``: name the partnerships outside the 95% limits (the analysts' view); the viewer's own
    partnership is always named."""
    left, top, plot_w, plot_h = 46.0, 26.0, 420.0, 220.0
    width, height = left + plot_w + 20, top + plot_h + 40
    c = Chart(
        width,
        height,
        f"Funnel plot: {funnel.construct}",
        f"Each partnership's mean on {funnel.construct} (1 to 5) against its number of respondents. The "
        "solid lines are the 95% control limits, the dashed ones 99.8%, around the group's mean. The table "
        "below the chart gives every figure.",
    )
    s = c.shapes
    points = [p.point for p in funnel.points]
    n_max = max([p.n for p in points], default=10)
    n_top = max(10, math.ceil(n_max * 1.1))
    n_min = max(3.0, min([p.n for p in points], default=6) / 2)
    values = [p.mean for p in points]
    if funnel.target is not None and funnel.sigma:
        values += list(funnel.limits(n_min, Z998))
    lo = max(scale[0], math.floor((min(values, default=scale[0]) - 0.1) * 2) / 2)
    hi = min(scale[1], math.ceil((max(values, default=scale[1]) + 0.1) * 2) / 2)
    if hi - lo < 1.0:
        lo, hi = max(scale[0], lo - 0.5), min(scale[1], hi + 0.5)

    def x(n: float) -> float:
        return left + (n / n_top) * plot_w

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    tick = lo
    while tick <= hi + 1e-9:
        s.append(Line(left, y(tick), left + plot_w, y(tick), GRID, 0.6))
        s.append(Text(left - 6, y(tick) + 3, f"{tick:g}", 8, "end", fill=MUTED))
        tick += 0.5 if hi - lo <= 2.5 else 1.0
    step = next(k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10**9) if n_top / k <= 8)
    for tick_n in range(0, n_top + 1, step):
        s.append(Line(x(tick_n), top + plot_h, x(tick_n), top + plot_h + 4, MUTED, 0.6))
        s.append(Text(x(tick_n), top + plot_h + 14, str(tick_n), 8, "middle", fill=MUTED))
    s.append(Text(left + plot_w / 2, height - 6, "Respondents", 8, "middle", fill=MUTED))
    s.append(Text(left, 12, "Mean (1 to 5)", 8, fill=MUTED))
    if funnel.target is not None and funnel.sigma:
        s.append(Line(x(n_min), y(funnel.target), x(n_top), y(funnel.target), INK, 1.0))
        for z, dashed in ((Z95, False), (Z998, True)):
            previous: tuple[float, float, float] | None = None
            for k in np.linspace(n_min, n_top, 60):
                low, high = funnel.limits(float(k), z)
                low, high = max(low, lo), min(high, hi)
                if previous is not None:
                    s.append(Line(x(previous[0]), y(previous[1]), x(k), y(low), MUTED, 0.9, dashed))
                    s.append(Line(x(previous[0]), y(previous[2]), x(k), y(high), MUTED, 0.9, dashed))
                previous = (float(k), low, high)
    # The viewer's own partnership last, so it is drawn over the others.
    for placed in sorted(funnel.points, key=lambda p: p.point.own):
        p = placed.point
        colour = (
            LOW if placed.band.startswith("below") else HIGH if placed.band.startswith("above") else PAPER
        )
        s.append(Dot(x(p.n), y(p.mean), 5.0 if p.own else 3.5, INK if p.own else colour))
        if p.own or (label_others and placed.outside95):
            # Labels near the right edge go to the left of their point, so they stay inside the chart.
            right = x(p.n) > left + plot_w * 0.65
            label = _fit(p.label, 8, 150)
            s.append(
                Text(
                    x(p.n) + (-8 if right else 8),
                    y(p.mean) + 3,
                    label,
                    8,
                    "end" if right else "start",
                    bold=p.own,
                )
            )
    return c
