"""The board report of a barometer round: the printable page, the PDF and `reticulist barometer report`,
for each persona, on SQLite and PostgreSQL; small groups never show a figure."""

from __future__ import annotations

import contextlib
import re
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.barometer.report_pdf import report_pdf
from reticulist.cli.main import app as cli_app
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import Browser, World

TODAY = date.today()
SECTIONS = (
    "One-page summary for the board",
    "The profile",
    "Where it differs",
    "Change since the previous round",
    "What would help",
    "Annex: method and anonymity",
)

# Words that appear only in each section of the PDF (the headings recur in the summary and the annex).
PDF_SECTION_MARKERS = {
    "The profile": "Each construct's mean on the 1 to 5 scale",
    "Where it differs": "Mean score per group and construct",
    "Change since the previous round": "(hollow dots) against",
    "What would help": "with what the source documents say helps",
}


@dataclass
class BoardRounds:
    previous: int
    current: int
    tiny: int


def _round(db: Session, world: World, title: str, opens_ago: int, closes_ago: int) -> int:
    return barometer.open_round(
        db,
        actor=world.manager,
        partnership_id=world.partnership_id,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title=title,
            opens_on=TODAY - timedelta(days=opens_ago),
            closes_on=TODAY - timedelta(days=closes_ago),
        ),
    ).id


def _answers(rng: np.random.Generator, shift: dict[str, float]) -> dict[str, int]:
    """One respondent: agreeing (about 4) except where ``shift`` moves a construct, each construct seen
    through the respondent's own view of it (so its items hang together); reverse items mirrored; now and
    then a don't know."""
    instrument = default_instrument()
    view = {c.key: rng.normal(4.0 + shift.get(c.key, 0.0), 0.6) for c in instrument.constructs}
    out = {}
    for item in instrument.items:
        value = int(np.clip(round(rng.normal(view[item.construct_key], 0.45)), 1, 5))
        out[item.key] = 0 if rng.random() < 0.04 else (6 - value if item.reverse else value)
    return out


def make_board_rounds(db: Session, world: World, seed: int = 11) -> BoardRounds:
    """A realistic partnership: 60 respondents a round across four organisations and a small one (three
    from youth justice), some who did not say; a previous round a year earlier; and a round of four."""
    rng = np.random.default_rng(seed)
    pid = world.partnership_id

    def organisation(name: str, kind: str, tier: str) -> int:
        data = s.OrganisationCreate(name=name, kind=kind, tier=tier)
        return register.create_organisation(db, actor=world.manager, partnership_id=pid, data=data).id

    health = organisation("Brempton NHS Trust", "health", "statutory")
    council = organisation("Brempton Children's Services", "childrens_social_care", "statutory")
    schools = organisation("Brempton Schools Partnership", "education", "other_member")
    youth = organisation("Brempton Youth Justice Service", "youth_justice", "other_member")
    nurse = register.create_profession(
        db, actor=world.manager, partnership_id=pid, data=s.ProfessionCreate(name="Nurse")
    ).id
    mix = [(world.organisation_id, 18), (health, 15), (council, 12), (schools, 8), (youth, 3), (None, 4)]
    previous = _round(db, world, "Barometer 2025", 400, 370)
    current = _round(db, world, "Barometer 2026", 30, 5)
    for round_id, year in ((previous, 0), (current, 1)):
        rows = []
        for organisation_id, count in mix:
            for n in range(count):
                shift = {
                    "continuity": -2.2,  # the weakest: representatives keep changing
                    "trust": -1.2 + 1.1 * year,  # clearly better this year
                    "hierarchy": -1.0,
                    "professional_learning": 0.6,
                    "selflessness": 0.5,
                }
                if organisation_id == world.organisation_id:
                    shift["silos"] = -1.5
                profile: dict[str, object] = {}
                if organisation_id:
                    profile["organisation_id"] = organisation_id
                    profile["hierarchy_tier"] = 1 + n % 5
                    if organisation_id == health and n < 9:
                        profile["profession_id"] = nurse
                    elif organisation_id == world.organisation_id and n < 10:
                        profile["profession_id"] = world.profession_id
                rows.append((profile, _answers(rng, shift)))
        barometer.record_imported_responses(db, actor=world.manager, round_id=round_id, rows=rows)
        results.release_results(db, actor=world.manager, round_id=round_id)
    tiny = _round(db, world, "Pilot with the youth panel", 20, 2)
    barometer.record_imported_responses(
        db, actor=world.manager, round_id=tiny, rows=[({}, _answers(rng, {})) for _ in range(4)]
    )
    results.release_results(db, actor=world.manager, round_id=tiny)
    db.commit()
    return BoardRounds(previous, current, tiny)


@pytest.fixture
def board(db: Session, world: World) -> BoardRounds:
    return make_board_rounds(db, world)


def pdf_text_of(data: bytes) -> str:
    """The text drawn on a PDF made by fpdf2: every string shown (Tj) in its content streams, after
    inflating them, joined by spaces so that words wrapped onto the next line still read as a phrase."""
    shown: list[str] = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.DOTALL):
        with contextlib.suppress(zlib.error):
            stream = zlib.decompress(stream)
        for raw in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream):
            text = re.sub(rb"\\([\\()])", rb"\1", raw).decode("latin-1")
            shown.append(text)
    return " ".join(" ".join(shown).split())


def _page_count(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


def _url(world: World, round_id: int, suffix: str = "") -> str:
    return f"/p/{world.partnership_id}/barometer/rounds/{round_id}/report{suffix}"


# --- the page ------------------------------------------------------------------------------------------
def test_every_persona_on_the_report_page(
    browsers: dict[str, Browser], world: World, board: BoardRounds
) -> None:
    for persona in ("admin", "manager", "member"):
        page = browsers[persona].get(_url(world, board.current))
        assert page.status_code == 200, persona
        assert "Barometer 2026" in page.text
    assert browsers["outsider"].get(_url(world, board.current)).status_code == 404
    anonymous = browsers["anonymous"].get(_url(world, board.current))
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    # A round of this partnership reached through another partnership's address is not found there.
    elsewhere = f"/p/{world.other_partnership_id}/barometer/rounds/{board.current}/report"
    assert browsers["outsider"].get(elsewhere).status_code == 404
    assert browsers["member"].get(_url(world, 999_999)).status_code == 404


def test_report_page_has_every_section_and_names_the_weakest(
    browsers: dict[str, Browser], world: World, board: BoardRounds
) -> None:
    html = browsers["member"].get(_url(world, board.current)).text
    for heading in SECTIONS:
        assert f">{heading}</h2>" in html, heading
    assert 'href="/static/report-print.css"' in html
    css = browsers["member"].get("/static/report-print.css").text
    assert "size: A4" in css and "break-before: page" in css and "@media print" in css
    summary = html.split('id="summary"', 1)[1].split('id="profile"', 1)[0]
    assert "Continuity of membership" in summary.split("Where it is weakest", 1)[1].split("</ul>", 1)[0]
    assert "60 people answered" in summary and "fewer than 5 respondents" in summary
    assert "Trust: up " in re.sub(r"<[^>]+>", "", summary)  # a clear change since Barometer 2025
    # Charts: the profile, a heatmap per breakdown shown, the trend.
    assert html.count("<svg") >= 4
    assert "Catalysts (002)" in html and "Recommendations (003)" in html and "Tools (004)" in html
    assert "002_01430af27d3fa09b.txt" in html and "Complementary suppression" in html


def test_small_groups_are_hidden_on_the_page(
    browsers: dict[str, Browser], world: World, board: BoardRounds
) -> None:
    html = browsers["member"].get(_url(world, board.current)).text
    differs = html.split('id="differs"', 1)[1].split('id="change"', 1)[0]
    # Youth justice's three answers: its row says hidden and carries no figure, in every table.
    rows = re.findall(r"<tr[^>]*>\s*<th[^>]*>Brempton Youth Justice Service</th>(.*?)</tr>", differs, re.S)
    assert len(rows) == 2  # respondents per group, and the heatmap's figures as a table
    for row in rows:
        text = re.sub(r"<[^>]+>|fewer than \d+", "", row)
        assert "hidden" in text and not re.search(r"\d", text)
    # In the heatmap drawing, hidden cells are hatched and the suppressed row has no number.
    assert "-hatch)" in differs


def test_too_few_respondents_give_the_count_and_the_annex_only(
    browsers: dict[str, Browser], world: World, board: BoardRounds
) -> None:
    html = browsers["member"].get(_url(world, board.tiny)).text
    assert "Only 4 people answered" in html and "fewer than 5" in html
    assert ">Annex: method and anonymity</h2>" in html
    for heading in SECTIONS[1:5]:
        assert f">{heading}</h2>" not in html
    assert "<svg" not in html


# --- the PDF -------------------------------------------------------------------------------------------
def test_every_persona_gets_the_pdf(browsers: dict[str, Browser], world: World, board: BoardRounds) -> None:
    for persona in ("admin", "manager", "member"):
        response = browsers[persona].get(_url(world, board.current, ".pdf"))
        assert response.status_code == 200, persona
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert 'filename="barometer-2026-board-report.pdf"' in response.headers["content-disposition"]
    assert browsers["outsider"].get(_url(world, board.current, ".pdf")).status_code == 404
    elsewhere = f"/p/{world.other_partnership_id}/barometer/rounds/{board.current}/report.pdf"
    assert browsers["outsider"].get(elsewhere).status_code == 404


def test_pdf_has_the_summary_first_and_every_section(db: Session, world: World, board: BoardRounds) -> None:
    report = results.round_report(db, actor=world.member, round_id=board.current)
    data = report_pdf(report, "Brempton Test Partnership")
    assert data.startswith(b"%PDF") and _page_count(data) >= 6
    text = pdf_text_of(data)
    assert "Brempton Test Partnership" in text
    assert "fewer than 5" in text
    first_page = text.split("Page 1 of", 1)[0]
    assert "Board report: Barometer 2026" in first_page
    assert "Continuity of membership" in first_page.split("Where it is weakest", 1)[1]
    # The whole summary fits page 1: down to its last sentence, on anonymity.
    assert "What would help first" in first_page and "Answers are anonymous" in first_page
    for heading, marker in PDF_SECTION_MARKERS.items():
        assert heading in text and marker in text, heading
    assert "Annex: method and anonymity" in text
    # The small organisation is listed as hidden and no figure of it is printed.
    assert re.search(r"Brempton Youth Justice Service hidden hidden \(protects small groups\)", text)


def test_pdf_of_too_few_respondents_is_the_count_and_the_annex(
    db: Session, world: World, board: BoardRounds
) -> None:
    report = results.round_report(db, actor=world.manager, round_id=board.tiny)
    text = pdf_text_of(report_pdf(report, "Brempton Test Partnership"))
    assert "Only 4 people answered" in text and "Annex: method and anonymity" in text
    for marker in PDF_SECTION_MARKERS.values():
        assert marker not in text
    assert "Where the partnership is strongest" not in text


# --- the command ---------------------------------------------------------------------------------------
def test_command_writes_the_pdf(database_url: str, world: World, board: BoardRounds, tmp_path: Path) -> None:
    target = tmp_path / "board.pdf"
    result = CliRunner().invoke(
        cli_app,
        ["barometer", "report", str(board.current), "--to", str(target), "--database", database_url],
    )
    assert result.exit_code == 0, result.stderr
    data = target.read_bytes()
    assert data.startswith(b"%PDF") and "Brempton Test Partnership" in pdf_text_of(data)
    assert "Wrote the board report of round" in result.stdout and "board.pdf" in result.stdout

    by_title = CliRunner().invoke(
        cli_app,
        [
            "barometer",
            "report",
            "Brempton Test Partnership/Barometer 2025",
            "--to",
            str(tmp_path / "before.pdf"),
            "--database",
            database_url,
        ],
    )
    assert by_title.exit_code == 0, by_title.stderr
    first_round = pdf_text_of((tmp_path / "before.pdf").read_bytes())
    assert (
        "first round" in first_round
        and PDF_SECTION_MARKERS["Change since the previous round"] not in first_round
    )


def test_command_refuses_an_unknown_round_and_a_bad_target(
    database_url: str, world: World, board: BoardRounds, tmp_path: Path
) -> None:
    target = tmp_path / "board.pdf"
    unknown = CliRunner().invoke(
        cli_app, ["barometer", "report", "999999", "--to", str(target), "--database", database_url]
    )
    assert unknown.exit_code == 1
    assert 'round: no round number 999999 (give its number or "PARTNERSHIP/ROUND TITLE")' in unknown.stderr
    assert not target.exists()
    not_pdf = CliRunner().invoke(
        cli_app,
        [
            "barometer",
            "report",
            str(board.current),
            "--to",
            str(tmp_path / "board.txt"),
            "--database",
            database_url,
        ],
    )
    assert not_pdf.exit_code == 1 and "--to: give a file name ending in .pdf" in not_pdf.stderr
    missing_folder = CliRunner().invoke(
        cli_app,
        [
            "barometer",
            "report",
            str(board.current),
            "--to",
            str(tmp_path / "nowhere" / "board.pdf"),
            "--database",
            database_url,
        ],
    )
    assert missing_folder.exit_code == 1 and "--to: there is no folder" in missing_folder.stderr
