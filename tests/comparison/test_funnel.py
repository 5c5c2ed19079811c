"""Funnel plots (pure): control limits, the real spread between partnerships, words and the chart."""

from __future__ import annotations

import numpy as np

from reticulist.barometer.charts import Text, to_svg
from reticulist.comparison import funnel
from reticulist.comparison.funnel import FunnelPoint, place


def _points(rng: np.random.Generator, k: int, n: int, tau: float, sigma: float = 0.8) -> list[FunnelPoint]:
    true = 3.2 + rng.normal(0, tau, k)
    means = true + rng.normal(0, sigma / np.sqrt(n), k)
    return [FunnelPoint(f"P{i}", n, float(m), sigma) for i, m in enumerate(means)]


def test_with_sampling_error_alone_about_one_in_twenty_is_outside_the_95_limits() -> None:
    rng = np.random.default_rng(3)
    outside = [sum(p.outside95 for p in place("c", _points(rng, 60, 300, tau=0.0)).points) for _ in range(40)]
    assert 0.02 < np.mean(outside) / 60 < 0.09
    spread = [place("c", _points(rng, 60, 300, tau=0.0)).tau for _ in range(40)]
    assert np.mean([t == 0 for t in spread]) > 0.8  # no spread found, most of the time


def test_a_real_spread_widens_the_limits_instead_of_flagging_everyone() -> None:
    rng = np.random.default_rng(4)
    f = place("Trust", _points(rng, 150, 1333, tau=0.15))
    assert f.tau > 0.08
    assert f.outside_without_spread > 100  # sampling error alone: nearly everyone "outside"
    outside = sum(p.outside95 for p in f.points)
    assert outside < 25  # with the spread allowed for, the expected few (about 5%, winsorising widens it)
    assert "differ more than sampling error explains" in f.spread_words
    low, high = f.limits(1_000_000, funnel.Z95)
    assert high - low > 2 * 1.9 * f.tau  # the limits never narrow below the real spread


def test_few_partnerships_get_no_spread_and_a_hidden_sd_no_limits() -> None:
    rng = np.random.default_rng(5)
    assert place("c", _points(rng, 9, 1000, tau=0.5)).tau == 0.0
    f = place("c", [FunnelPoint("A", 10, 3.0, None), FunnelPoint("B", 20, 4.0, None)])
    assert f.sigma is None and all(p.band == "within" for p in f.points)
    assert place("c", []).target is None


def test_words_and_the_chart() -> None:
    points = [
        FunnelPoint("Brempton", 100, 2.6, 0.8, own=True),
        FunnelPoint("Partnership A", 40, 3.2, 0.8),
        FunnelPoint("Partnership B", 60, 3.3, 0.8),
    ]
    f = place("Continuity of membership", points)
    mine = [("Continuity of membership", p) for p in f.points if p.point.own]
    assert funnel.grouped_words("Brempton", mine) == [
        "Brempton is below the lower 99.8% limit on Continuity of membership (mean 2.60)."
    ]
    chart = funnel.chart(f, label_others=False)
    labels = [s for s in chart.shapes if isinstance(s, Text) and s.text in ("Brempton", "Partnership A")]
    assert [s.text for s in labels] == ["Brempton"]  # a manager's view names only their own
    assert all(0 <= s.x <= chart.width for s in chart.shapes if isinstance(s, Text))
    svg = to_svg(chart, chart_id="f")
    assert svg.startswith("<svg") and "Funnel plot: Continuity of membership" in svg
    named = funnel.chart(f, label_others=True)
    assert (
        "Partnership A" not in [s.text for s in named.shapes if isinstance(s, Text)] or f.points[1].outside95
    )
