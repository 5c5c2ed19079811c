"""The subject access bundle as a readable PDF (fpdf2): a review copy for the data protection officer.

Names must print as written (Łukasz, Nguyễn, Zoë), so the text is set in DejaVu Sans, shipped with the
package (reticulist/fonts, Bitstream Vera licence), not in the PDF core fonts, which are Latin-1 only.
Marks are shown by style as well as colour, so they survive a black-and-white printer: other people's
details are underlined, words suggesting child abuse data are bold, withheld shielded details are bold in
brackets.
"""

from __future__ import annotations

from importlib import resources

from fpdf import FPDF

from reticulist.casework.redaction import CHILD_ABUSE, SHIELDED, THIRD_PARTY
from reticulist.casework.subject_access_bundle import Bundle, Field, Item

MARGIN = 16.0
BODY, SMALL, TINY = 9.5, 8.0, 7.0
INK = (27, 31, 35)
MUTED = (74, 85, 96)
RULE = (201, 209, 217)
WASH = (243, 245, 247)
MARK_COLOURS = {THIRD_PARTY: (176, 74, 0), CHILD_ABUSE: (110, 40, 140), SHIELDED: (90, 90, 90)}
FLAG_INK = (150, 40, 30)


class _BundlePDF(FPDF):
    def __init__(self, bundle: Bundle) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.bundle = bundle
        fonts = resources.files("reticulist") / "fonts"
        with resources.as_file(fonts / "DejaVuSans.ttf") as regular:
            self.add_font("Sans", "", str(regular))
        with resources.as_file(fonts / "DejaVuSans-Bold.ttf") as bold:
            self.add_font("Sans", "B", str(bold))
        self.set_margins(MARGIN, MARGIN + 6, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN + 4)
        self.set_title(f"Subject access request {bundle.request_id}: review copy")
        self.set_author(bundle.partnership_name)
        self.set_creator("Reticulist")

    def header(self) -> None:
        self.set_font("Sans", "", TINY)
        self.set_text_color(*MUTED)
        self.set_xy(MARGIN, 8)
        self.cell(0, 4, self.bundle.partnership_name, align="L")
        self.set_xy(MARGIN, 8)
        self.cell(
            0, 4, f"Subject access request {self.bundle.request_id}: REVIEW COPY, not for release", align="R"
        )
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(MARGIN, 13, self.w - MARGIN, 13)
        self.set_text_color(*INK)
        self.set_xy(MARGIN, MARGIN + 6)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Sans", "", TINY)
        self.set_text_color(*MUTED)
        self.cell(
            0, 4, f"Built {self.bundle.built_at:%d %b %Y %H:%M} UTC by {self.bundle.built_by}", align="L"
        )
        self.set_x(MARGIN)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(*INK)

    @property
    def usable(self) -> float:
        return self.w - 2 * MARGIN

    def heading(self, text: str, size: float = 15) -> None:
        if self.page_break_trigger - self.get_y() < 30:
            self.add_page()
        self.set_font("Sans", "B", size)
        self.set_text_color(*INK)
        self.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def para(
        self, text: str, size: float = BODY, colour: tuple[int, int, int] = INK, style: str = ""
    ) -> None:
        self.set_font("Sans", style, size)
        self.set_text_color(*colour)
        self.multi_cell(0, size * 0.48, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(*INK)
        self.ln(0.8)

    def field(self, f: Field) -> None:
        """The label in bold, then the text piece by piece, each piece in its mark's style."""
        height = BODY * 0.48
        self.set_text_color(*MUTED)
        self.set_font("Sans", "B", SMALL)
        self.write(height, f"{f.label}: ")
        for piece in f.pieces:
            if piece.mark == THIRD_PARTY:
                self.set_font("Sans", "U", BODY)
            elif piece.mark in (CHILD_ABUSE, SHIELDED):
                self.set_font("Sans", "B", BODY)
            else:
                self.set_font("Sans", "", BODY)
            self.set_text_color(*MARK_COLOURS.get(piece.mark or "", INK))
            self.write(height, piece.text)
        self.set_text_color(*INK)
        self.ln(height + 0.8)

    def item(self, item: Item) -> None:
        if self.page_break_trigger - self.get_y() < 18:
            self.add_page()
        self.set_fill_color(*WASH)
        self.set_font("Sans", "B", BODY)
        self.cell(self.usable, 6, f"{item.title}  ·  {item.record}", fill=True, new_x="LMARGIN", new_y="NEXT")
        self.ln(0.8)
        for flag in item.flags:
            self.para(f"Flag: {flag}", SMALL, FLAG_INK, "B")
        for f in item.fields:
            self.field(f)
        self.ln(2)


def bundle_pdf(bundle: Bundle) -> bytes:
    pdf = _BundlePDF(bundle)
    pdf.add_page()
    pdf.heading(f"Subject access request {bundle.request_id}: everything held about {bundle.subject}", 16)
    facts = [
        ("Family's case reference", bundle.family_reference),
        ("Asked for by", bundle.requester),
        ("Received", f"{bundle.received_on:%d %b %Y}"),
        ("Identity confirmed", f"{bundle.identity_checked_on:%d %b %Y}"),
        ("Answer due", f"{bundle.due:%d %b %Y}"),
    ]
    for label, value in facts:
        pdf.para(f"{label}: {value}")
    pdf.ln(2)
    pdf.para(
        "This is a review copy for the data protection officer, not the answer. Before anything is released, "
        "decide on every flag: other people's details (underlined) may need redacting; shielded addresses "
        "were withheld and never appear here; where the person is a child, words that may show child abuse "
        "data are in bold, and such records may be withheld from a person with parental responsibility "
        "when releasing them would not be in the child's best interests (DPA 2018 Schedule 3 Part 5).",
        SMALL,
        MUTED,
    )
    if bundle.flag_counts:
        pdf.para("Flags to decide:", BODY, INK, "B")
        for flag, count in sorted(bundle.flag_counts.items()):
            pdf.para(f"{count} × {flag}", SMALL, FLAG_INK)
    else:
        pdf.para("No flags: nothing in the bundle names anyone else or was withheld.", SMALL)
    for section in bundle.sections:
        pdf.ln(2)
        pdf.heading(section.title, 13)
        pdf.para(section.about, SMALL, MUTED)
        if section.headings:
            if not section.rows:
                pdf.para("None.", SMALL)
                continue
            pdf.set_font("Sans", "", TINY)
            pdf.set_draw_color(*RULE)
            with pdf.table(
                col_widths=(26, 36, 70, 46), line_height=TINY * 0.5, first_row_as_headings=True
            ) as table:
                table.row(list(section.headings))
                for row in section.rows:
                    table.row(list(row))
            continue
        if not section.items:
            pdf.para("None recorded.", SMALL)
        for item in section.items:
            pdf.item(item)
    return bytes(pdf.output())
