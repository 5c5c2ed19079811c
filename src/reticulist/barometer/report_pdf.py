"""The board report of a barometer round: what it says, and the same as a PDF laid out with fpdf2.

The first half is pure content built from a ``RoundReport`` (whose figures are already suppressed for
anonymity): the one-page summary for the board, the rows of the construct table, the charts and the
annex on method. The printable page (report_routes.py) and the PDF (``report_pdf``) both use it, so the
two cannot say different things. Nothing here reads answers or computes a figure that round_report did
not publish.

>>> pdf_bytes = report_pdf(report, "Brempton Safeguarding Children Partnership")  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from fpdf import FPDF
from fpdf.fonts import FontFace

from reticulist.barometer import charts, scoring
from reticulist.barometer.charts import pdf_text
from reticulist.barometer.report_network import NetworkSection

if TYPE_CHECKING:  # the comparison capability builds on the barometer, not the other way round
    from reticulist.comparison.report_section import ComparisonSection
from reticulist.barometer.results import (
    DIMENSION_LABELS,
    FRAMEWORK_LABELS,
    ConstructLine,
    Recommendation,
    RoundReport,
)

STRONGEST = 3
SUMMARY_CHANGES = 6  # clear changes listed on the summary page; the change section has them all
DIMENSION_PLURALS = {
    "organisation": "Organisations",
    "profession": "Professions",
    "hierarchy_tier": "Hierarchy tiers",
    "wt_tier": "Working Together tiers",
}
BY_HEADINGS = {
    "organisation": "By organisation",
    "profession": "By profession",
    "hierarchy_tier": "By hierarchy tier",
    "wt_tier": "By Working Together tier",
}
# The source documents (shared/seeds/README.md), by the number constructs cite them with.
SOURCE_DOCUMENTS = {
    "002": (
        "002_01430af27d3fa09b.txt",
        "Dudau, Fischbacher-Smith and McAllister (2016), The unsung heroes of welfare collaboration, "
        "Public Management Review: individuals in Local Safeguarding Children Boards; Table 1's eight "
        "obstacle/catalyst pairs and the proposal to use them as a barometer (Conclusion)",
    ),
    "003": (
        "003_0954ff4d4a0760d0.txt",
        "INLOGOV for the District Councils' Network, what makes district collaboration work: audacious "
        "leadership, selflessness, trust, momentum and attitudes to risk (section 3, Figure one)",
    ),
    "004": (
        "004_75ab2c940f341aa8.txt",
        "A practitioner presentation of a model of collaborative agency from action research with 196 "
        "participants: structures, professional identity, empowerment, agency, professional learning, "
        "at four levels (macro, meso, micro, clients), with practitioner tools",
    ),
}
GUIDE = "The Partnership Barometer guide (docs/barometer.md)"


# --- content shared by the page and the PDF ----------------------------------------------------------
def ci_words(line: ConstructLine) -> str:
    r = line.result
    return f"{r.ci_low:.2f} to {r.ci_high:.2f}" if r.ci_low is not None and r.ci_high is not None else ""


def figure_words(line: ConstructLine) -> str:
    """ "mean 3.42 (95% CI 3.20 to 3.64)", or why it is not shown."""
    r = line.result
    if r.mean is None:
        return "not shown: " + (r.reason_words or "too few answers")
    ci = ci_words(line)
    return f"mean {r.mean:.2f}" + (f" (95% CI {ci})" if ci else "")


def strongest(report: RoundReport, limit: int = STRONGEST) -> list[ConstructLine]:
    """The strongest constructs: leaning to the catalyst side first, then the highest means; never one
    the weakest list already names (a round with few constructs shown)."""
    weak = {rec.line.key for rec in report.recommendations}
    shown = [
        line
        for line in report.lines
        if line.result.mean is not None and not line.result.suppressed and line.key not in weak
    ]
    ranked = sorted(shown, key=lambda line: (line.result.lean != "catalyst", -(line.result.mean or 0.0)))
    return ranked[:limit]


def weakest(report: RoundReport) -> list[ConstructLine]:
    """The weakest constructs, as the recommendations rank them (obstacle side first, then lowest)."""
    return [rec.line for rec in report.recommendations]


def clear_changes(report: RoundReport) -> list[ConstructLine]:
    """Constructs whose change since the previous round is larger than the noise, largest first."""
    changed = [line for line in report.lines if line.trend is not None and line.trend.clear_change]
    return sorted(changed, key=lambda line: -abs(line.trend.difference or 0.0))  # type: ignore[union-attr]


def respondents_words(report: RoundReport) -> str:
    people = "1 person" if report.respondents == 1 else f"{report.respondents} people"
    words = f"{people} answered"
    if report.invited:
        words += f" ({report.invited} personal invitations were sent; others may have used the open link)"
    return words + "."


def anonymity_sentence(report: RoundReport) -> str:
    k = report.threshold
    return (
        f"Answers are anonymous: no figure in this report describes fewer than {k} respondents; smaller "
        "groups are hidden, and so is any group that would let a hidden one be worked out from the totals."
    )


def too_few_words(report: RoundReport) -> str:
    k = report.threshold
    return (
        f"Only {report.respondents} {'person' if report.respondents == 1 else 'people'} answered this "
        f"round, fewer than {k}, the round's anonymity threshold. No results are shown: with so few "
        "answers, someone's answers could be recognised. The annex explains the rules."
    )


def change_words(report: RoundReport) -> str:
    """The summary's sentence about change, when the clear changes cannot speak for themselves."""
    if report.previous_round_title is None:
        return (
            "This is the partnership's first round of this barometer: there is nothing to compare with yet."
        )
    if not clear_changes(report):
        return (
            f"Since {report.previous_round_title}, no construct has changed by more than the noise "
            "(every 95% interval of the change includes 0)."
        )
    return f"Changes since {report.previous_round_title} larger than the noise:"


def first_help(rec: Recommendation) -> str:
    """The one thing to try first for a weak construct: 003's recommendation, else 002's catalyst, else a
    004 tool."""
    c = rec.line.construct
    if c.recommendations:
        return c.recommendations[0]
    if c.catalysts:
        return c.catalysts[0]
    tool = c.tools[0]
    return f"{tool.name}: {tool.what_for} ({tool.source.document}, {tool.source.section})"


@dataclass(frozen=True)
class ProfileCells:
    """One row of the construct table, as text."""

    name: str
    mean: str
    ci: str
    n: str
    dont_know: str
    alpha: str
    alpha_flag: bool
    reading: str
    change: str
    hidden: bool


def alpha_tag(r: scoring.ConstructResult) -> str:
    """ " (negative)" or " (low)" after a flagged alpha (scoring.alpha_words says what each means)."""
    return " (negative)" if r.alpha_negative else " (low)" if r.alpha_flag else ""


def profile_cells(line: ConstructLine) -> ProfileCells:
    r = line.result
    hidden = r.mean is None
    alpha = "-" if r.alpha is None else f"{r.alpha:.2f}" + alpha_tag(r)
    change = "-" if line.trend is None else line.trend.reading
    return ProfileCells(
        name=line.construct.name,
        mean="hidden" if hidden else f"{r.mean:.2f}",
        ci=ci_words(line) or ("hidden" if hidden else "-"),
        n="hidden" if r.n is None else str(r.n),
        dont_know="-" if r.dont_know_share is None else f"{r.dont_know_share * 100:.0f}%",
        alpha=alpha,
        alpha_flag=r.alpha_flag,
        reading=line.reading,
        change=change,
        hidden=hidden,
    )


def profile_table(report: RoundReport) -> list[tuple[str, list[ProfileCells]]]:
    """The construct table by framework: (framework heading, rows)."""
    return [
        (FRAMEWORK_LABELS.get(framework, framework), [profile_cells(line) for line in lines])
        for framework, lines in report.by_framework().items()
    ]


def profile_chart(report: RoundReport) -> charts.Chart:
    rows = []
    for line in report.lines:
        r = line.result
        if r.mean is None:
            rows.append(
                charts.ProfileRow(line.construct.name, None, None, None, f"fewer than {report.threshold}")
            )
        else:
            note = f"alpha {r.alpha:.2f}{alpha_tag(r)}" if r.alpha_flag and r.alpha is not None else ""
            rows.append(charts.ProfileRow(line.construct.name, r.mean, r.ci_low, r.ci_high, note))
    return charts.construct_profile(rows, title="Construct profile: mean and 95% interval")


@dataclass(frozen=True)
class GroupLine:
    label: str
    respondents: str  # a number, or "hidden"
    note: str


@dataclass(frozen=True)
class BreakdownView:
    """One dimension of "where it differs": its heatmap (None when every named group is hidden) and the
    respondents per group."""

    dimension: str
    label: str  # plural: "Organisations"
    chart: charts.Chart | None
    groups: list[GroupLine]
    note: str
    columns: list[str]  # construct names, for the heatmap's figures as a table
    cells: list[list[str]]  # per group: "3.4" or "hidden"

    @property
    def heading(self) -> str:
        return BY_HEADINGS.get(self.dimension, f"By {self.dimension}")


def breakdown_views(report: RoundReport) -> list[BreakdownView]:
    names = {line.key: line.construct.name for line in report.lines}
    k = report.threshold
    out = []
    for dimension, breakdown in report.breakdowns.items():
        plural = DIMENSION_PLURALS.get(dimension, DIMENSION_LABELS.get(dimension, dimension))
        groups = [
            GroupLine(
                g.label,
                "hidden" if g.suppressed or g.respondents is None else str(g.respondents),
                scoring.hidden_words(g.reason, k) if g.suppressed else "",
            )
            for g in breakdown.groups
        ]
        columns = [names.get(key, key) for key in breakdown.construct_keys]
        cells = [
            ["hidden" if cell.suppressed or cell.mean is None else f"{cell.mean:.1f}" for cell in g.cells]
            for g in breakdown.groups
        ]
        named_visible = [
            g for g in breakdown.groups if not g.suppressed and g.label != scoring.NOT_TOLD_LABEL
        ]
        if not named_visible:
            out.append(
                BreakdownView(
                    dimension,
                    plural,
                    None,
                    groups,
                    f"{plural} cannot be shown separately in this round: every group has fewer than {k} "
                    "respondents, or is hidden to protect one that has.",
                    columns,
                    cells,
                )
            )
            continue
        chart = charts.heatmap(
            breakdown.row_labels,
            columns,
            [[charts.Cell(cell.mean, cell.suppressed) for cell in g.cells] for g in breakdown.groups],
            title=f"{plural} by construct",
            threshold=k,
        )
        out.append(BreakdownView(dimension, plural, chart, groups, "", columns, cells))
    return out


@dataclass(frozen=True)
class TrendLine:
    name: str
    before: str
    after: str
    words: str
    clear: bool


def _before(line: ConstructLine) -> float | None:
    """The previous round's mean, as published there: this round's mean less the published change."""
    if line.trend is None or line.trend.difference is None or line.result.mean is None:
        return None
    return line.result.mean - line.trend.difference


def trend_lines(report: RoundReport) -> list[TrendLine]:
    out = []
    for line in report.lines:
        if line.trend is None:
            continue
        before = _before(line)
        after = line.result.mean
        out.append(
            TrendLine(
                line.construct.name,
                "-" if before is None else f"{before:.2f}",
                "-" if after is None else f"{after:.2f}",
                line.trend.reading,
                line.trend.clear_change,
            )
        )
    return out


def trend_chart(report: RoundReport) -> charts.Chart | None:
    if report.previous_round_title is None:
        return None
    rows = [
        charts.TrendRow(
            line.construct.name,
            _before(line),
            line.result.mean,
            line.trend.clear_change,
            line.trend.reading,
        )
        for line in report.lines
        if line.trend is not None
    ]
    if not rows:
        return None
    return charts.trend(rows, before_label=report.previous_round_title, after_label=report.round_title)


def _source(document: str, section: str) -> str:
    """The document's file when it is one of the source documents, then the section."""
    file = SOURCE_DOCUMENTS[document][0] if document in SOURCE_DOCUMENTS else document
    return f"{file}: {section}"


@dataclass(frozen=True)
class SourceLine:
    name: str
    framework: str
    source: str


def source_lines(report: RoundReport) -> list[SourceLine]:
    out = []
    for c in report.instrument.constructs:
        section = c.source.section
        if c.framework == "002_table_1" and c.lenses:
            section += f" (lens: {' / '.join(c.lenses)})"
        out.append(
            SourceLine(
                c.name, FRAMEWORK_LABELS.get(c.framework, c.framework), _source(c.source.document, section)
            )
        )
    return out


def method_notes(report: RoundReport) -> list[tuple[str, list[str]]]:
    """The annex's text: (heading, paragraphs). Wording follows docs/barometer.md and scoring.py."""
    instrument = report.instrument
    k = report.threshold
    points = "; ".join(f"{p} ({i})" for i, p in enumerate(instrument.scale.points, start=1))
    reverse = [item for item in instrument.items if item.reverse]
    return [
        (
            "The instrument",
            [
                f"{instrument.label}: {len(instrument.constructs)} constructs measured by "
                f"{len(instrument.items)} statements. {instrument.description}",
                "Its constructs come from three research documents, cited by file and section below: the "
                "obstacle/catalyst pairs of 002 Table 1 under the individual, professional and "
                "organisational lenses; the themes of 003; and the collaborative agency model of 004. What "
                "helps a weak construct comes from the same documents: catalysts from 002, recommendations "
                "from 003 and practitioner tools from 004.",
            ],
        ),
        (
            "The scale and reverse-worded items",
            [
                f"Every statement is answered on a five-point agreement scale: {points}; or "
                f'"{instrument.scale.dont_know}", which is never counted as a value (the share of '
                '"don\'t know" answers is reported, because many of them is a finding in itself).',
                f"{len(reverse)} of the {len(instrument.items)} statements are reverse-worded: they state "
                "the obstacle rather than the catalyst, so agreeing is a bad sign and the answer is reversed "
                "before scoring (5 counts as 1, 4 as 2, and so on). On every chart and in every score a high "
                "number means the catalyst side: better partnership working.",
            ],
        ),
        (
            "How the figures are computed",
            [
                "Score: a respondent's score on a construct is the mean of their answers to its statements, "
                "when they answered at least half of them; the construct's mean is the mean of those scores "
                "and n is how many people have one.",
                "95% CI: the confidence interval of the mean from Student's t distribution with n - 1 "
                "degrees of freedom. Roughly: the range the partnership's true mean is likely to lie in, "
                "given how many answered and how much they differed.",
                "Alpha: Cronbach's alpha, computed listwise: on the respondents who answered every "
                "statement of the construct. It says how well the statements hang together and is at most 1; "
                "below 0.6 it is flagged (low), and the construct's score should be read with care. It can "
                "be negative (flagged negative): the statements pull against each other on average, usually "
                "because a reverse-worded statement was not reversed or the statements do not measure one "
                "thing, and the score is then not one measure.",
                "Reading (lean): the interval against the midpoint 3. Wholly above 3 leans to the catalyst "
                "side, wholly below to the obstacle side (002 Table 1's pairs); an interval containing 3 is "
                "balanced.",
                "Change: the difference between this round's mean and the previous round's of the same "
                "instrument, with Welch's 95% interval (rounds are independent samples: answers are "
                "anonymous). A change is clear only when its interval excludes 0; otherwise it is "
                '"no change larger than the noise".',
                "What would help: the weakest constructs, those leaning to the obstacle side first, then the "
                "lowest means; a hidden construct is never recommended on.",
                f"The same rules in full: {GUIDE}.",
            ],
        ),
        (
            "Anonymity",
            [
                f"Threshold: this round's anonymity threshold is {k} respondents. No figure describes "
                f"fewer than {k} people: a construct that fewer than {k} people have a score on is hidden, "
                f"and a round with fewer than {k} respondents shows only its count.",
                f"Hidden cells: in the breakdowns, a group with fewer than {k} respondents is hidden with "
                f"all its figures, and so is any cell that fewer than {k} people in the group have a score "
                "on. Every hidden cell says the same words, whatever the reason it is hidden.",
                "Complementary suppression: the breakdowns are protected together, as linked tables "
                "(organisations nest in Working Together tiers, and every breakdown crosses the others), "
                "so more cells are hidden until an audit by linear programming proves that no group of "
                f"1 to {k - 1} people has its count or any score worked out, or narrowed to less than "
                "2 points of the 1-5 scale, by adding and subtracting everything published.",
                "No cross-tabulation: each breakdown is by one dimension only (organisation, profession, "
                "hierarchy tier, Working Together tier), never two together; results are released once, "
                "when the round has closed, and one threshold is published per round.",
                "Identities are never stored with answers: a response keeps its answers, the optional "
                "profile and the day it was sent. Invitation links are stored only as fingerprints and are "
                "not linked to the answers; identity columns of imported files are never read.",
            ],
        ),
    ]


# The annex's paragraphs that define a term start with it; pages and the PDF set it in bold.
TERMS = (
    "Score",
    "95% CI",
    "Alpha",
    "Reading (lean)",
    "Change",
    "What would help",
    "Threshold",
    "Hidden cells",
    "Complementary suppression",
    "No cross-tabulation",
    "Identities are never stored with answers",
)


def split_term(paragraph: str) -> tuple[str, str]:
    """("Alpha", "Cronbach's alpha, ...") for a paragraph defining a term; ("", paragraph) otherwise."""
    for term in TERMS:
        if paragraph.startswith(term + ": "):
            return term, paragraph[len(term) + 2 :]
    return "", paragraph


def reverse_items(report: RoundReport) -> list[tuple[str, str]]:
    """(construct name, statement) of each reverse-worded item."""
    names = {c.key: c.name for c in report.instrument.constructs}
    return [(names[item.construct_key], item.text) for item in report.instrument.items if item.reverse]


def _day(value: date) -> str:
    return value.strftime("%-d %B %Y")


def round_facts(report: RoundReport) -> list[tuple[str, str]]:
    facts = [
        ("Round", report.round_title),
        ("Dates", f"{_day(report.opens_on)} to {_day(report.closes_on)}"),
        ("Instrument", report.instrument.label),
        ("Respondents", respondents_words(report)),
        ("Anonymity threshold", f"{report.threshold} respondents"),
    ]
    if report.previous_round_title and not report.too_few:
        facts.append(("Compared with", report.previous_round_title))
    return facts


# --- the PDF -----------------------------------------------------------------------------------------
MARGIN = 15.0
BODY, SMALL, TINY = 10.0, 8.5, 7.5
PT = 25.4 / 72  # millimetres per point: chart coordinates are points
INK = (27, 31, 35)
MUTED = (74, 85, 96)
RULE = (201, 209, 217)
WASH = (243, 245, 247)


class _ReportPDF(FPDF):
    """A4 pages with the partnership and round in the header and page numbers in the footer."""

    def __init__(self, partnership_name: str, round_title: str, threshold: int) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.partnership_name = partnership_name
        self.round_title = round_title
        self.threshold = threshold
        self.set_margins(MARGIN, MARGIN + 6, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 4)
        self.set_title(pdf_text(f"Board report: {round_title}"))
        self.set_author(pdf_text(partnership_name))
        self.set_creator("Reticulist")

    def header(self) -> None:
        self.set_font("Helvetica", "", TINY)
        self.set_text_color(*MUTED)
        self.set_xy(MARGIN, 8)
        self.cell(0, 4, pdf_text(self.partnership_name), align="L")
        self.set_xy(MARGIN, 8)
        self.cell(0, 4, pdf_text(f"Partnership Barometer: {self.round_title}"), align="R")
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, 13, self.w - MARGIN, 13)
        self.set_text_color(*INK)
        self.set_xy(MARGIN, MARGIN + 6)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", "", TINY)
        self.set_text_color(*MUTED)
        self.cell(0, 4, pdf_text(f"No figure describes fewer than {self.threshold} respondents."), align="L")
        self.set_x(MARGIN)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    # --- building blocks ---
    @property
    def usable(self) -> float:
        return self.w - 2 * MARGIN

    def room(self) -> float:
        return self.page_break_trigger - self.get_y()

    def heading(self, text: str, size: float = 16) -> None:
        self.set_font("Helvetica", "B", size)
        self.set_text_color(*INK)
        self.multi_cell(0, size * 0.5, pdf_text(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(size * 0.15)

    def subheading(self, text: str) -> None:
        if self.room() < 25:  # a heading never sits alone at the foot of a page
            self.add_page(same=True)
        self.ln(1.5)
        self.heading(text, 12)

    def para(
        self, text: str, size: float = BODY, style: str = "", colour: tuple[int, int, int] = INK
    ) -> None:
        self.set_font("Helvetica", style, size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.48, pdf_text(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)
        self.ln(size * 0.15)

    def bullets(self, items: list[str], size: float = BODY) -> None:
        self.set_font("Helvetica", "", size)
        for item in items:
            self.set_x(MARGIN + 2)
            self.cell(4, size * 0.48, "-")
            self.multi_cell(
                self.usable - 6, size * 0.48, pdf_text(item), align="L", new_x="LMARGIN", new_y="NEXT"
            )
            self.ln(size * 0.08)
        self.ln(size * 0.1)

    def chart(self, chart: charts.Chart, *, max_width: float | None = None) -> None:
        """Draw a chart at its natural size (shrunk to fit), on a new page when it would be split."""
        width = min(chart.width * PT, max_width or self.usable)
        height = chart.height * width / chart.width
        if height > self.room():
            self.add_page(same=True)
        if height > self.room():
            # Taller than a whole page (a heatmap of many organisations): shrink it to fit the page.
            width *= self.room() / height
            height = self.room()
        top = self.get_y()
        charts.draw_on_pdf(chart, self, x=MARGIN, y=top, width=width)
        self.set_xy(MARGIN, top + height + 2)

    def grid(
        self,
        headings: list[str],
        rows: list[list[str]],
        widths: list[float],
        *,
        size: float = SMALL,
        bold_rows: set[int] | None = None,
        muted_rows: set[int] | None = None,
    ) -> None:
        self.set_font("Helvetica", "", size)
        self.set_draw_color(*RULE)
        self.set_fill_color(255, 255, 255)  # charts leave their last colour behind
        self.set_line_width(0.2)
        heading_style = FontFace(emphasis="BOLD", fill_color=WASH)
        with super().table(
            col_widths=widths,
            width=sum(widths),
            align="LEFT",
            text_align="LEFT",
            line_height=size * 0.5,
            headings_style=heading_style,
            borders_layout="HORIZONTAL_LINES",
            padding=(0.8, 1.0),
            repeat_headings=1,
        ) as table:
            head = table.row()
            for text in headings:
                head.cell(pdf_text(text))
            for i, values in enumerate(rows):
                style = None
                if bold_rows and i in bold_rows:
                    style = FontFace(emphasis="BOLD")
                elif muted_rows and i in muted_rows:
                    style = FontFace(color=MUTED)
                row = table.row(style=style)
                for text in values:
                    row.cell(pdf_text(text))
        self.ln(3)


def _summary_page(pdf: _ReportPDF, report: RoundReport, partnership_name: str) -> None:
    pdf.add_page()
    pdf.heading(f"Board report: {report.round_title}", 18)
    pdf.para(partnership_name, 11, "B", MUTED)
    pdf.set_font("Helvetica", "", SMALL)
    for label, value in round_facts(report):
        pdf.set_font("Helvetica", "B", SMALL)
        pdf.cell(38, 4.3, pdf_text(label))
        pdf.set_font("Helvetica", "", SMALL)
        pdf.multi_cell(0, 4.3, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if report.too_few:
        pdf.subheading("Too few answers to report")
        pdf.para(too_few_words(report))
        pdf.para(anonymity_sentence(report), SMALL, "I", MUTED)
        return
    pdf.subheading("Where the partnership is strongest")
    pdf.bullets(
        [f"{line.construct.name}: {figure_words(line)}. {line.reading}" for line in strongest(report)]
    )
    pdf.subheading("Where it is weakest")
    pdf.bullets([f"{line.construct.name}: {figure_words(line)}. {line.reading}" for line in weakest(report)])
    pdf.subheading("Change since the previous round")
    pdf.para(change_words(report))
    changes = clear_changes(report)
    if changes:
        items = [f"{line.construct.name}: {line.trend.reading}" for line in changes[:SUMMARY_CHANGES]]  # type: ignore[union-attr]
        if len(changes) > SUMMARY_CHANGES:
            items.append(f"and {len(changes) - SUMMARY_CHANGES} more (see Change since the previous round)")
        pdf.bullets(items)
    pdf.subheading("What would help first")
    pdf.bullets([f"{rec.line.construct.name}: {first_help(rec)}" for rec in report.recommendations], SMALL)
    pdf.ln(1)
    pdf.para(anonymity_sentence(report), SMALL, "I", MUTED)


def _profile(pdf: _ReportPDF, report: RoundReport) -> None:
    pdf.add_page()
    pdf.heading("The profile")
    pdf.para(
        "Each construct's mean on the 1 to 5 scale with its 95% interval. Above 3 leans to the catalyst "
        "side, below 3 to the obstacle side.",
        SMALL,
        colour=MUTED,
    )
    pdf.chart(profile_chart(report))
    widths = [38, 11, 20, 9, 12, 14, 44, 32]
    headings = ["Construct", "Mean", "95% CI", "n", "Don't know", "Alpha", "Reading", "Change"]
    for framework, rows in profile_table(report):
        pdf.subheading(framework)
        pdf.grid(
            headings,
            [[r.name, r.mean, r.ci, r.n, r.dont_know, r.alpha, r.reading, r.change] for r in rows],
            widths,
            size=TINY,
            muted_rows={i for i, r in enumerate(rows) if r.hidden},
        )


OPEN_LINK_WORDS = (
    "This round had an open link, so its results have no breakdowns by organisation, profession or tier: "
    "anyone can send answers through an open link, and planted answers could lift a small group over the "
    "threshold and then be subtracted again. The figures are for the whole partnership, released with "
    "differential privacy: noise was added on purpose so that no one's answers can be worked out, whatever "
    "else was sent. Each n is approximate, and each interval includes the noise."
)


def _differs(pdf: _ReportPDF, report: RoundReport) -> None:
    views = breakdown_views(report)
    pdf.add_page(orientation="L")
    pdf.heading("Where it differs")
    if report.open_link:
        pdf.para(OPEN_LINK_WORDS)
        return
    pdf.para(
        "Mean score per group and construct, from orange (1, obstacle side) to blue (5, catalyst side). "
        f"Grey hatched cells are hidden: they would describe fewer than {report.threshold} respondents, or "
        "let a small group be worked out from the other figures.",
        SMALL,
        colour=MUTED,
    )
    for i, view in enumerate(views):
        # Two breakdowns share a page when both fit: a chart and its table are never apart.
        chart_height = view.chart.height * min(PT, pdf.usable / view.chart.width) if view.chart else 10.0
        if i and pdf.room() < 20 + chart_height + 4.5 * (len(view.groups) + 1):
            pdf.add_page(orientation="L")
        pdf.subheading(view.heading)
        if view.chart is not None:
            pdf.chart(view.chart)
        else:
            pdf.para(view.note)
        pdf.grid(
            ["Group", "Respondents", "Note"],
            [[g.label, g.respondents, g.note] for g in view.groups],
            [80, 25, 90],
            size=TINY,
        )


def _change(pdf: _ReportPDF, report: RoundReport) -> None:
    pdf.add_page(orientation="P")
    pdf.heading("Change since the previous round")
    pdf.para(
        f"{report.previous_round_title} (hollow dots) against {report.round_title} (filled). A change is "
        "clear when its 95% interval excludes 0; clear changes are in bold.",
        SMALL,
        colour=MUTED,
    )
    chart = trend_chart(report)
    if chart is not None:
        pdf.chart(chart)
    lines = trend_lines(report)
    pdf.grid(
        ["Construct", report.previous_round_title or "Before", report.round_title, "Change"],
        [[t.name, t.before, t.after, t.words] for t in lines],
        [60, 28, 28, 64],
        bold_rows={i for i, t in enumerate(lines) if t.clear},
    )


def _help(pdf: _ReportPDF, report: RoundReport) -> None:
    pdf.add_page(orientation="P")
    pdf.heading("What would help")
    if not report.recommendations:
        pdf.para("No construct can be recommended on: every construct is hidden in this round.")
        return
    pdf.para(
        "The weakest constructs, with what the source documents say helps: catalysts (002), "
        "recommendations (003) and practitioner tools (004).",
        SMALL,
        colour=MUTED,
    )
    for number, rec in enumerate(report.recommendations, start=1):
        c = rec.line.construct
        pdf.subheading(f"{number}. {c.name}")
        pdf.para(f"{rec.why} {rec.line.reading}", SMALL)
        pdf.para(f"A high score means: {c.definition}", SMALL, "I", MUTED)
        for title, items in (
            ("Catalysts (002)", list(c.catalysts)),
            ("Recommendations (003)", list(c.recommendations)),
            (
                "Tools (004)",
                [f"{t.name}: {t.what_for} ({t.source.document}, {t.source.section})" for t in c.tools],
            ),
        ):
            if items:
                pdf.para(title, SMALL, "B")
                pdf.bullets(items, SMALL)


def _network(pdf: _ReportPDF, section: NetworkSection) -> None:
    pdf.add_page(orientation="P")
    pdf.heading(section.heading)
    if section.empty:
        pdf.para(section.empty)
        return
    pdf.para(section.ties_words, SMALL, colour=MUTED)
    pdf.para(section.figures_words, SMALL)
    if section.chart is not None:
        pdf.chart(section.chart)
        pdf.para(section.chart.description, TINY, colour=MUTED)
    else:
        pdf.para(section.map_note, SMALL)
    pdf.subheading("Boundary spanners")
    pdf.para(section.spanners_source, SMALL, "I", MUTED)
    if section.spanners:
        pdf.grid(
            ["", "Person", "Why"],
            [
                [str(s.rank), s.who + (f"\n{s.where}" if s.where else ""), "\n".join(s.reasons)]
                for s in section.spanners
            ],
            [7, 48, 125],
            size=TINY,
        )
    else:
        pdf.para("No one links organisations in this network.", SMALL)
    pdf.subheading("Silos")
    pdf.para(
        f"Organisations whose ties stay inside, most inward first. {section.silo_words} {section.silos_note}",
        SMALL,
    )
    if section.silos:
        pdf.grid(
            ["Organisation", "People", "Ties inside", "Ties out", "E-I", "Reading"],
            [
                [r.organisation, str(r.people), str(r.inside), str(r.outside), r.ei, r.reading]
                for r in section.silos
            ],
            [70, 14, 18, 16, 12, 50],
            size=TINY,
        )
    pdf.subheading("Key-person risks")
    pdf.para(section.key_risk_words, SMALL)
    pdf.para(section.key_people_source, SMALL, "I", MUTED)
    if section.key_risks:
        pdf.grid(
            ["Person", "Pairs cut", "Organisations that would lose their only path"],
            [
                [
                    r.who + (f"\n{r.where}" if r.where else ""),
                    str(r.cut_pairs),
                    "; ".join(r.lost) or "none: each organisation keeps another path",
                ]
                for r in section.key_risks
            ],
            [60, 16, 104],
            size=TINY,
        )
        if section.key_risks_more:
            pdf.para(f"And {section.key_risks_more} more on the network pages.", SMALL, colour=MUTED)
    else:
        pdf.para("No one: every link in this network has another path around it.", SMALL)
    if section.trust:
        pdf.subheading("Trust and value by organisation")
        pdf.para(section.trust_words, SMALL)
        pdf.grid(
            ["Organisation", "Mean trust", "Mean value", "Rated ties"],
            [[r.organisation, r.trust, r.value, str(r.rated_ties)] for r in section.trust],
            [90, 25, 25, 25],
            size=TINY,
        )


def _annex(pdf: _ReportPDF, report: RoundReport) -> None:
    pdf.add_page(orientation="P")
    pdf.heading("Annex: method and anonymity")
    for title, paragraphs in method_notes(report):
        pdf.subheading(title)
        for text in paragraphs:
            term, rest = split_term(text)
            if term:
                pdf.set_font("Helvetica", "B", SMALL)
                pdf.write(SMALL * 0.48, pdf_text(term + ": "))
                pdf.set_font("Helvetica", "", SMALL)
                pdf.write(SMALL * 0.48, pdf_text(rest))
                pdf.ln(SMALL * 0.48 + SMALL * 0.15)
            else:
                pdf.para(text, SMALL)
        if title == "The instrument":
            pdf.para("Source documents", SMALL, "B")
            pdf.bullets([f"{doc}: {file}. {what}." for doc, (file, what) in SOURCE_DOCUMENTS.items()], SMALL)
            pdf.grid(
                ["Construct", "Framework", "Source (document, file, section)"],
                [[s.name, s.framework, s.source] for s in source_lines(report)],
                [45, 45, 90],
                size=TINY,
            )
        if title == "The scale and reverse-worded items":
            pdf.grid(
                ["Construct", "Reverse-worded statement"],
                [list(r) for r in reverse_items(report)],
                [50, 130],
                size=TINY,
            )


def _comparison(pdf: _ReportPDF, section: ComparisonSection) -> None:
    pdf.add_page(orientation="P")
    pdf.heading(section.heading)
    pdf.para(section.note, SMALL, colour=MUTED)
    for group in section.groups:
        pdf.subheading(f"{group.group} ({group.partnerships} partnerships)")
        if group.words:
            pdf.bullets(list(group.words), SMALL)
        else:
            pdf.para("No round of this instrument to compare with in the two years to this round.", SMALL)
        pdf.grid(
            ["Figure", "This partnership", "Group median"],
            [list(row) for row in group.rows],
            [90, 45, 45],
            size=TINY,
        )
        if group.behind:
            pdf.para(
                "The partnership's data changed since its figures were last computed.", TINY, colour=MUTED
            )


def report_pdf(
    report: RoundReport,
    partnership_name: str,
    network: NetworkSection | None = None,
    comparison: ComparisonSection | None = None,
) -> bytes:
    """The board report as an A4 PDF: page 1 the summary for the board, then the profile, where it
    differs, change since the previous round, what would help, who works with whom (``network``, from
    ``report_network.network_section`` for the reader) and the annex. A round with too few respondents
    gives the count and the annex only."""
    pdf = _ReportPDF(partnership_name, report.round_title, report.threshold)
    _summary_page(pdf, report, partnership_name)
    if not report.too_few:
        _profile(pdf, report)
        _differs(pdf, report)
        if report.previous_round_title is not None:
            _change(pdf, report)
        _help(pdf, report)
        if network is not None:
            _network(pdf, network)
        if comparison is not None:
            _comparison(pdf, comparison)
    _annex(pdf, report)
    return bytes(pdf.output())
