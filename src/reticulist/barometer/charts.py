"""The barometer's charts, laid out once and drawn twice: as SVG for the browser and onto a PDF page.

Layout is pure: each chart function takes plain rows and returns a ``Chart`` of shapes in its own
coordinate space (points). ``to_svg`` and ``draw_on_pdf`` only translate shapes, so the dashboard and the
printed report cannot disagree. Colours are from a colour-blind-safe palette and every chart carries a
title and a text description for screen readers; the pages also show the numbers in a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

SCALE_MIN, SCALE_MAX, MIDPOINT = 1.0, 5.0, 3.0
INK, MUTED, GRID, PAPER = "#1b1f23", "#4a5560", "#c9d1d9", "#ffffff"
LOW, HIGH, NEUTRAL = "#b35806", "#2166ac", "#f7f7f7"  # diverging around the midpoint (orange - blue)
SUPPRESSED = "#d9d9d9"
FONT = "Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    stroke: str | None = None
    hatched: bool = False  # suppressed cells: grey with diagonal lines, so they never read as a value


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = INK
    width: float = 1.0
    dashed: bool = False


@dataclass(frozen=True)
class Dot:
    cx: float
    cy: float
    r: float
    fill: str
    stroke: str = INK


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float = 9.0
    anchor: str = "start"  # start / middle / end
    bold: bool = False
    fill: str = INK
    rotate: float = 0.0  # degrees, anticlockwise, about (x, y): for column headings


Shape = Rect | Line | Dot | Text


@dataclass
class Chart:
    width: float
    height: float
    title: str
    description: str
    shapes: list[Shape] = field(default_factory=list)


def text_width(text: str, size: float) -> float:
    """A close enough estimate of Helvetica's width, for laying out labels."""
    return len(text) * size * 0.52


def _fit(text: str, size: float, width: float) -> str:
    if text_width(text, size) <= width:
        return text
    keep = max(int(width / (size * 0.52)) - 1, 1)
    return text[:keep].rstrip() + "…"


def _mix(a: str, b: str, share: float) -> str:
    share = min(max(share, 0.0), 1.0)
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(ca, cb, strict=True))


def score_colour(value: float) -> str:
    """Orange below the midpoint, blue above, paler near it (1 = deep orange, 5 = deep blue)."""
    if value >= MIDPOINT:
        return _mix(NEUTRAL, HIGH, (value - MIDPOINT) / (SCALE_MAX - MIDPOINT))
    return _mix(NEUTRAL, LOW, (MIDPOINT - value) / (MIDPOINT - SCALE_MIN))


def _ink_on(fill: str) -> str:
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return PAPER if (0.299 * r + 0.587 * g + 0.114 * b) < 140 else INK


# --- construct profile: mean and 95% interval per construct -------------------------------------------
@dataclass(frozen=True)
class ProfileRow:
    label: str
    mean: float | None
    low: float | None
    high: float | None
    note: str = ""  # e.g. "alpha 0.52" or "n < 5"


def construct_profile(rows: list[ProfileRow], *, title: str = "Construct profile") -> Chart:
    label_w, plot_w, row_h, top = 190.0, 300.0, 18.0, 28.0
    width = label_w + plot_w + 70
    height = top + row_h * len(rows) + 14
    chart = Chart(
        width,
        height,
        title,
        "Mean score of each construct on the 1 to 5 agreement scale, with its 95% confidence interval. "
        "Above 3 leans to the catalyst side, below 3 to the obstacle side.",
    )

    def x(v: float) -> float:
        return label_w + (v - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * plot_w

    s = chart.shapes
    for tick in range(1, 6):
        s.append(Line(x(tick), top - 6, x(tick), height - 12, GRID, 0.6, dashed=tick != 3))
        s.append(Text(x(tick), top - 10, str(tick), 8, "middle", fill=MUTED))
    s.append(Line(x(MIDPOINT), top - 6, x(MIDPOINT), height - 12, MUTED, 1.0))
    s.append(Text(x(1.2), 10, "obstacle side", 8, "start", fill=LOW))
    s.append(Text(x(4.8), 10, "catalyst side", 8, "end", fill=HIGH))
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        s.append(Text(label_w - 8, y + 3, _fit(row.label, 9, label_w - 12), 9, "end"))
        if row.mean is None:
            s.append(
                Text(x(SCALE_MIN) + 4, y + 3, "not shown: " + (row.note or "too few answers"), 8, fill=MUTED)
            )
            continue
        if row.low is not None and row.high is not None:
            s.append(Line(x(row.low), y, x(row.high), y, INK, 1.6))
            s.append(Line(x(row.low), y - 3, x(row.low), y + 3, INK, 1.2))
            s.append(Line(x(row.high), y - 3, x(row.high), y + 3, INK, 1.2))
        s.append(Dot(x(row.mean), y, 4.2, score_colour(row.mean)))
        s.append(
            Text(label_w + plot_w + 8, y + 3, f"{row.mean:.2f}" + (f"  {row.note}" if row.note else ""), 8)
        )
    return chart


# --- heatmap: groups x constructs, suppressed cells shown as such ---------------------------------------
@dataclass(frozen=True)
class Cell:
    value: float | None
    suppressed: bool = False


def heatmap(
    row_labels: list[str],
    column_labels: list[str],
    cells: list[list[Cell]],
    *,
    title: str = "Organisations by construct",
    threshold: int = 5,
) -> Chart:
    label_w, cell_w, cell_h, head_h = 170.0, 30.0, 18.0, 110.0
    legend = f"hidden: fewer than {threshold} respondents, or to protect a small group"
    width = max(label_w + cell_w * len(column_labels) + 70, label_w + 20 + text_width(legend, 8))
    height = head_h + cell_h * len(row_labels) + 30
    chart = Chart(
        width,
        height,
        title,
        f"Mean score per group and construct, coloured from orange (1, obstacle side) to blue (5, catalyst "
        f"side). Grey hatched cells are hidden because they would describe fewer than {threshold} "
        "respondents, or would let a hidden cell be worked out.",
    )
    s = chart.shapes
    for j, label in enumerate(column_labels):
        # Column headings at an angle, so that long construct names fit above narrow columns.
        s.append(
            Text(
                label_w + cell_w * j + cell_w / 2 + 3, head_h - 5, _fit(label, 8, head_h * 1.25), 8, rotate=50
            )
        )
    for i, label in enumerate(row_labels):
        y = head_h + cell_h * i
        s.append(Text(label_w - 6, y + cell_h / 2 + 3, _fit(label, 8.5, label_w - 10), 8.5, "end"))
        for j, cell in enumerate(cells[i]):
            x = label_w + cell_w * j
            if cell.suppressed or cell.value is None:
                s.append(Rect(x, y, cell_w - 1, cell_h - 1, SUPPRESSED, hatched=True))
                continue
            fill = score_colour(cell.value)
            s.append(Rect(x, y, cell_w - 1, cell_h - 1, fill))
            s.append(
                Text(
                    x + cell_w / 2, y + cell_h / 2 + 3, f"{cell.value:.1f}", 7.5, "middle", fill=_ink_on(fill)
                )
            )
    legend_y = head_h + cell_h * len(row_labels) + 16
    s.append(Rect(label_w, legend_y - 9, 12, 10, SUPPRESSED, hatched=True))
    s.append(Text(label_w + 16, legend_y, legend, 8, fill=MUTED))
    return chart


# --- trend: two rounds per construct --------------------------------------------------------------------
@dataclass(frozen=True)
class TrendRow:
    label: str
    before: float | None
    after: float | None
    clear_change: bool
    words: str  # "up 0.4 (95% CI 0.1 to 0.7)" or "no change larger than the noise"


def trend(
    rows: list[TrendRow], *, before_label: str, after_label: str, title: str = "Change between rounds"
) -> Chart:
    label_w, plot_w, row_h, top = 190.0, 240.0, 18.0, 30.0
    width = label_w + plot_w + 190
    height = top + row_h * len(rows) + 14
    chart = Chart(
        width,
        height,
        title,
        f"Mean score per construct in {before_label} (hollow) and {after_label} (filled). Changes larger "
        "than the noise are drawn in bold.",
    )

    def x(v: float) -> float:
        return label_w + (v - SCALE_MIN) / (SCALE_MAX - SCALE_MIN) * plot_w

    s = chart.shapes
    for tick in range(1, 6):
        s.append(Line(x(tick), top - 6, x(tick), height - 12, GRID, 0.6, dashed=tick != 3))
        s.append(Text(x(tick), top - 10, str(tick), 8, "middle", fill=MUTED))
    s.append(Dot(label_w + 4, 8, 3.5, PAPER))
    s.append(Text(label_w + 12, 11, before_label, 8, fill=MUTED))
    s.append(Dot(label_w + 20 + text_width(before_label, 8), 8, 3.5, INK))
    s.append(Text(label_w + 28 + text_width(before_label, 8), 11, after_label, 8, fill=MUTED))
    for i, row in enumerate(rows):
        y = top + row_h * i + row_h / 2
        s.append(Text(label_w - 8, y + 3, _fit(row.label, 9, label_w - 12), 9, "end", bold=row.clear_change))
        if row.before is not None and row.after is not None:
            colour = (HIGH if row.after > row.before else LOW) if row.clear_change else MUTED
            s.append(Line(x(row.before), y, x(row.after), y, colour, 2.2 if row.clear_change else 1.0))
        if row.before is not None:
            s.append(Dot(x(row.before), y, 3.5, PAPER))
        if row.after is not None:
            s.append(Dot(x(row.after), y, 3.8, INK))
        s.append(Text(label_w + plot_w + 10, y + 3, _fit(row.words, 8, 180), 8, bold=row.clear_change))
    return chart


# --- renderers ------------------------------------------------------------------------------------------
def to_svg(chart: Chart, *, chart_id: str = "chart") -> str:
    """Inline SVG with a title and description for screen readers; scales to its container."""
    w, h = chart.width, chart.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h:.0f}" width="{w:.0f}" '
        f'height="{h:.0f}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" class="chart" '
        f'font-family="{FONT}">',
        f'<title id="{chart_id}-t">{escape(chart.title)}</title>',
        f'<desc id="{chart_id}-d">{escape(chart.description)}</desc>',
        f'<defs><pattern id="{chart_id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{SUPPRESSED}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{MUTED}" stroke-width="1"/></pattern></defs>',
    ]
    for shape in chart.shapes:
        if isinstance(shape, Rect):
            fill = f"url(#{chart_id}-hatch)" if shape.hatched else shape.fill
            stroke = f' stroke="{shape.stroke}"' if shape.stroke else ""
            out.append(
                f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.w:.1f}" height="{shape.h:.1f}" '
                f'fill="{fill}"{stroke}/>'
            )
        elif isinstance(shape, Line):
            dash = ' stroke-dasharray="3 3"' if shape.dashed else ""
            out.append(
                f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" y2="{shape.y2:.1f}" '
                f'stroke="{shape.stroke}" stroke-width="{shape.width}"{dash}/>'
            )
        elif isinstance(shape, Dot):
            out.append(
                f'<circle cx="{shape.cx:.1f}" cy="{shape.cy:.1f}" r="{shape.r}" fill="{shape.fill}" '
                f'stroke="{shape.stroke}"/>'
            )
        else:
            weight = ' font-weight="bold"' if shape.bold else ""
            turn = f' transform="rotate({-shape.rotate} {shape.x:.1f} {shape.y:.1f})"' if shape.rotate else ""
            out.append(
                f'<text x="{shape.x:.1f}" y="{shape.y:.1f}" font-size="{shape.size}" '
                f'text-anchor="{shape.anchor}" fill="{shape.fill}"{weight}{turn}>{escape(shape.text)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


# --- on a page ------------------------------------------------------------------------------------------
CHART_MAX_WIDTH = 1080.0  # the page's content width, in CSS pixels
CHART_MAX_SCALE = 1.6  # the charts are laid out in points at 8-9 pt text: larger reads better on a screen


def page_svg(chart: Chart, chart_id: str) -> str:
    """The chart as inline SVG, drawn larger than its layout size (its viewBox keeps the shapes) so its
    text reads at the page's size; wide charts scroll sideways on a phone inside .table-scroll. Every
    capability's pages draw charts with this."""
    svg = to_svg(chart, chart_id=chart_id)
    scale = min(CHART_MAX_SCALE, CHART_MAX_WIDTH / chart.width)
    size = f'width="{chart.width:.0f}" height="{chart.height:.0f}"'
    return svg.replace(size, f'width="{chart.width * scale:.0f}" height="{chart.height * scale:.0f}"', 1)


def pdf_text(text: str) -> str:
    """PDF core fonts are Latin-1: keep the meaning of typographic characters they lack."""
    replacements = {
        "–": "-",
        "—": "-",
        "‘": "'",
        "’": "'",
        "“": '"',
        "”": '"',
        "…": "...",
        "≥": ">=",
        "≤": "<=",
    }
    for char, plain in replacements.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def draw_on_pdf(chart: Chart, pdf: Any, *, x: float, y: float, width: float) -> float:
    """Draw the chart on an fpdf2 page at (x, y) scaled to ``width`` (in the PDF's unit); returns the
    height used, so the caller can continue below it."""
    k = width / chart.width
    for shape in chart.shapes:
        if isinstance(shape, Rect):
            pdf.set_fill_color(*_rgb(shape.fill))
            pdf.rect(x + shape.x * k, y + shape.y * k, shape.w * k, shape.h * k, style="F")
            if shape.hatched:
                pdf.set_draw_color(*_rgb(MUTED))
                pdf.set_line_width(0.15)
                step = shape.h * k / 3
                for n in range(4):
                    x0 = x + shape.x * k + n * step
                    if x0 < x + (shape.x + shape.w) * k:
                        pdf.line(
                            x0,
                            y + (shape.y + shape.h) * k,
                            min(x0 + shape.h * k, x + (shape.x + shape.w) * k),
                            y + shape.y * k,
                        )
        elif isinstance(shape, Line):
            pdf.set_draw_color(*_rgb(shape.stroke))
            pdf.set_line_width(max(shape.width * k, 0.1))
            if shape.dashed:
                pdf.set_dash_pattern(dash=1.0, gap=1.0)
            pdf.line(x + shape.x1 * k, y + shape.y1 * k, x + shape.x2 * k, y + shape.y2 * k)
            if shape.dashed:
                pdf.set_dash_pattern()
        elif isinstance(shape, Dot):
            pdf.set_fill_color(*_rgb(shape.fill))
            pdf.set_draw_color(*_rgb(shape.stroke))
            pdf.set_line_width(0.2)
            r = shape.r * k
            pdf.ellipse(x + shape.cx * k - r, y + shape.cy * k - r, 2 * r, 2 * r, style="DF")
        else:
            size_pt = shape.size * k * pdf.k  # chart points -> page units -> font points
            pdf.set_font("Helvetica", "B" if shape.bold else "", size_pt)
            pdf.set_text_color(*_rgb(shape.fill))
            text = pdf_text(shape.text)
            tw = pdf.get_string_width(text)
            shift = {"middle": tw / 2, "end": tw}.get(shape.anchor, 0.0)
            tx, ty = x + shape.x * k, y + shape.y * k
            if shape.rotate:
                with pdf.rotation(shape.rotate, tx, ty):
                    pdf.text(tx - shift, ty, text)
            else:
                pdf.text(tx - shift, ty, text)
    pdf.set_text_color(*_rgb(INK))
    return chart.height * k
