"""Charts: laid out once, drawn as SVG and on a PDF page; suppressed cells never show a number."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fpdf import FPDF

from reticulist.barometer import charts as c

SVG = "{http://www.w3.org/2000/svg}"


def _heatmap() -> c.Chart:
    return c.heatmap(
        ["Police", "Health"],
        ["Continuing membership", "Trust"],
        [[c.Cell(2.14), c.Cell(None, suppressed=True)], [c.Cell(4.2), c.Cell(3.0)]],
        threshold=5,
    )


def test_svg_is_well_formed_and_labelled_for_screen_readers() -> None:
    root = ET.fromstring(c.to_svg(_heatmap(), chart_id="hm"))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "hm-t hm-d"
    assert root.find(f"{SVG}title").text == "Organisations by construct"
    assert "fewer than 5" in root.find(f"{SVG}desc").text


def test_suppressed_cells_are_hatched_and_carry_no_number() -> None:
    chart = _heatmap()
    hatched = [s for s in chart.shapes if isinstance(s, c.Rect) and s.hatched]
    assert len(hatched) == 2  # the suppressed cell and the legend's swatch
    numbers = [s.text for s in chart.shapes if isinstance(s, c.Text) and s.text.replace(".", "").isdigit()]
    assert sorted(numbers) == ["2.1", "3.0", "4.2"]
    assert 'fill="url(#hm-hatch)"' in c.to_svg(chart, chart_id="hm")


def test_profile_places_means_on_the_scale_and_explains_hidden_rows() -> None:
    chart = c.construct_profile(
        [c.ProfileRow("Trust", 3.0, 2.5, 3.5), c.ProfileRow("Hierarchy", None, None, None, "fewer than 5")]
    )
    dot = next(s for s in chart.shapes if isinstance(s, c.Dot))
    one = next(s for s in chart.shapes if isinstance(s, c.Text) and s.text == "1")
    five = next(s for s in chart.shapes if isinstance(s, c.Text) and s.text == "5")
    assert abs(dot.cx - (one.x + five.x) / 2) < 0.01  # 3 is half way between 1 and 5
    assert any(isinstance(s, c.Text) and s.text == "not shown: fewer than 5" for s in chart.shapes)


def test_score_colours_run_from_orange_through_pale_to_blue() -> None:
    assert c.score_colour(1.0) == c.LOW and c.score_colour(5.0) == c.HIGH
    assert c.score_colour(3.0) == c.NEUTRAL


def test_the_same_chart_draws_on_a_pdf_page() -> None:
    pdf = FPDF()
    pdf.add_page()
    trend = c.trend(
        [c.TrendRow("Trust – joint", 3.1, 3.6, True, "up 0.5 (95% CI 0.2 to 0.8)")],
        before_label="2025",
        after_label="2026",
    )
    used = c.draw_on_pdf(trend, pdf, x=10, y=10, width=180)
    assert used == trend.height * 180 / trend.width
    c.draw_on_pdf(_heatmap(), pdf, x=10, y=20 + used, width=120)
    assert bytes(pdf.output()).startswith(b"%PDF")
    assert c.pdf_text("Trust – joint’s “view” …") == 'Trust - joint\'s "view" ...'
