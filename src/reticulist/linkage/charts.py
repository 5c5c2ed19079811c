"""Linkage's two charts, laid out with the barometer's chart shapes (barometer/charts.py): the match weights
of a model (every level of every comparison) and the waterfall of one pair (the prior, then what each
comparison added, to the pair's match weight). Match weights are log2 Bayes factors: above zero is
evidence for the same child (blue), below zero against (orange). The pages also give the numbers in a
table, so nothing is only in a picture.
"""

from __future__ import annotations

from dataclasses import dataclass

from reticulist.barometer.charts import GRID, HIGH, INK, LOW, MUTED, Chart, Line, Rect, Text, _fit

LABEL_W, PLOT_W, ROW_H, TOP = 250.0, 320.0, 17.0, 30.0


@dataclass(frozen=True)
class Bar:
    group: str  # the comparison
    label: str  # the level, or the step of the waterfall
    weight: float | None  # None: not trained (no bar)


def _scale(bars: list[Bar], cumulative: list[float] | None = None) -> tuple[float, float]:
    values = [0.0] + [b.weight for b in bars if b.weight is not None] + (cumulative or [])
    low, high = min(values), max(values)
    low, high = min(low, -2.0), max(high, 2.0)
    return low - 1.8, high + 1.2  # room for the value written beside the longest bars


def _axis(chart: Chart, low: float, high: float, bottom: float) -> None:
    def x(v: float) -> float:
        return LABEL_W + (v - low) / (high - low) * PLOT_W

    step = 5 if high - low > 25 else 2
    tick = int(low // step) * step
    while tick <= high:
        if tick >= low:
            chart.shapes.append(Line(x(tick), TOP - 6, x(tick), bottom, GRID, 0.6, dashed=tick != 0))
            chart.shapes.append(
                Text(x(tick), TOP - 10, f"{tick:+d}" if tick else "0", 8, "middle", fill=MUTED)
            )
        tick += step
    chart.shapes.append(Line(x(0), TOP - 6, x(0), bottom, MUTED, 1.0))


def match_weights_chart(bars: list[Bar], *, prior: float) -> Chart:
    """Each level's match weight, comparison by comparison (Splink's match weights chart)."""
    rows: list[tuple[str, Bar | None]] = [("Before any evidence (the prior)", Bar("", "prior", prior))]
    group = None
    for bar in bars:
        if bar.group != group:
            rows.append((bar.group, None))
            group = bar.group
        rows.append(("    " + bar.label, bar))
    low, high = _scale([b for _, b in rows if b is not None])
    height = TOP + ROW_H * len(rows) + 12
    chart = Chart(
        LABEL_W + PLOT_W + 60,
        height,
        "Match weights of the model",
        "For each comparison, the weight each of its levels adds to a pair's match weight: above zero is "
        "evidence that two records are the same child, below zero that they are not. The prior is where "
        "every pair starts.",
    )
    _axis(chart, low, high, height - 8)

    def x(v: float) -> float:
        return LABEL_W + (v - low) / (high - low) * PLOT_W

    for i, (label, bar) in enumerate(rows):
        y = TOP + ROW_H * i
        if bar is None:
            chart.shapes.append(Text(8, y + 12, _fit(label, 9.5, LABEL_W - 12), 9.5, bold=True))
            continue
        chart.shapes.append(Text(LABEL_W - 8, y + 12, _fit(label.strip(), 9, LABEL_W - 20), 9, "end"))
        if bar.weight is None:
            chart.shapes.append(Text(x(0) + 4, y + 12, "not seen in training", 8, fill=MUTED))
            continue
        start, end = sorted((x(0), x(bar.weight)))
        chart.shapes.append(
            Rect(start, y + 3, max(end - start, 1.0), ROW_H - 6, HIGH if bar.weight >= 0 else LOW)
        )
        chart.shapes.append(
            Text(
                end + 4 if bar.weight >= 0 else start - 4,
                y + 12,
                f"{bar.weight:+.1f}",
                8,
                "start" if bar.weight >= 0 else "end",
            )
        )
    return chart


def waterfall_chart(bars: list[Bar], *, prior: float) -> Chart:
    """The prior, then each comparison's weight stacked on it, ending at the pair's match weight."""
    steps = [Bar("", "Before any evidence (the prior)", prior), *bars]
    running, ends = 0.0, []
    for bar in steps:
        running += bar.weight or 0.0
        ends.append(running)
    total = ends[-1]
    rows = len(steps) + 1
    low, high = _scale(steps, ends)
    height = TOP + ROW_H * rows + 12
    chart = Chart(
        LABEL_W + PLOT_W + 60,
        height,
        "Waterfall of evidence",
        f"The pair starts at the prior, {prior:+.1f}; each comparison then adds its weight; the pair ends at "
        f"a match weight of {total:+.1f}.",
    )
    _axis(chart, low, high, height - 8)

    def x(v: float) -> float:
        return LABEL_W + (v - low) / (high - low) * PLOT_W

    before = 0.0
    for i, (bar, end) in enumerate(zip(steps, ends, strict=True)):
        y = TOP + ROW_H * i
        words = bar.label if not bar.group else f"{bar.group}: {bar.label}"
        chart.shapes.append(Text(LABEL_W - 8, y + 12, _fit(words, 9, LABEL_W - 12), 9, "end"))
        a, b = sorted((x(before), x(end)))
        colour = HIGH if (bar.weight or 0) >= 0 else LOW
        chart.shapes.append(Rect(a, y + 3, max(b - a, 1.0), ROW_H - 6, colour))
        chart.shapes.append(Text(b + 4, y + 12, f"{bar.weight or 0:+.1f}", 8))
        before = end
    y = TOP + ROW_H * len(steps)
    chart.shapes.append(Text(LABEL_W - 8, y + 12, "Match weight of the pair", 9, "end", bold=True))
    a, b = sorted((x(0), x(total)))
    chart.shapes.append(Rect(a, y + 3, max(b - a, 1.0), ROW_H - 6, INK))
    chart.shapes.append(Text(b + 4, y + 12, f"{total:+.1f}", 8, bold=True))
    return chart
