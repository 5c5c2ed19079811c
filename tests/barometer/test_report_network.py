"""The board report's "Who works with whom" section, on SQLite and PostgreSQL: the round's reported ties
(else the stored ties of the year) with the boundary spanner and the silo on the page and in the PDF;
names for managers, pseudonyms for members (page and PDF) and for `reticulist barometer report
--no-names`; one sentence when there are no ties."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.access.policy import cli_actor
from reticulist.barometer import results
from reticulist.barometer.report_network import network_section
from reticulist.barometer.report_pdf import report_pdf
from reticulist.cli.main import app as cli_app
from reticulist.network import service as network
from reticulist.network import ties as t
from reticulist.register import schemas as s
from reticulist.register import service as register
from reticulist.register.models import Organisation, Person
from tests.barometer.test_report import TODAY, BoardRounds, make_board_rounds, pdf_text_of
from tests.conftest import Browser, World

HEADING = "Who works with whom"
SPANNERS_MARKER = "need to be positively identified"  # the 003 sentence under the boundary spanners
SCHOOLS = "Brempton Schools Partnership"
# Nine people, no organisation or profession with five: members see "Person #k", never the reversible
# "Brempton Police · Police officer #2" of two police officers numbered in register order.
POLICE_PSEUDONYM = "Person #"
OLD_PSEUDONYM = "Police officer #"


@dataclass
class Networked:
    rounds: BoardRounds
    names: list[str]  # everyone in the register


def _people(db: Session, world: World) -> dict[str, int]:
    """Police, children's services, health and three schools people (the board rounds' organisations)."""
    root, pid = cli_actor("test"), world.partnership_id
    orgs = {o.name: o.id for o in db.scalars(select(Organisation).where(Organisation.partnership_id == pid))}
    teacher = register.create_profession(
        db, actor=root, partnership_id=pid, data=s.ProfessionCreate(name="Teacher")
    ).id
    ids = {}
    for name, organisation, profession in (
        ("Alice Archer", "Brempton Police", world.profession_id),
        ("Bob Bridger", "Brempton Police", world.profession_id),
        ("Carol Carter", "Brempton Children's Services", None),
        ("Dan Dawson", "Brempton Children's Services", None),
        ("Erin Evans", "Brempton NHS Trust", None),
        ("Fay Fenwick", "Brempton NHS Trust", None),
        ("Gina Gold", SCHOOLS, teacher),
        ("Hal Hurst", SCHOOLS, teacher),
        ("Ivy Ingram", SCHOOLS, teacher),
    ):
        data = s.PersonCreate(
            full_name=name, organisation_id=orgs[organisation], profession_id=profession, hierarchy_tier=3
        )
        ids[name] = register.create_person(db, actor=root, partnership_id=pid, data=data).id
    return ids


# Bob links the police with children's services and health; the schools talk among themselves and reach
# out only through Ivy's tie to Carol.
TIES = (
    ("Alice Archer", "Bob Bridger"),
    ("Bob Bridger", "Carol Carter"),
    ("Bob Bridger", "Dan Dawson"),
    ("Bob Bridger", "Erin Evans"),
    ("Bob Bridger", "Fay Fenwick"),
    ("Carol Carter", "Dan Dawson"),
    ("Erin Evans", "Fay Fenwick"),
    ("Gina Gold", "Hal Hurst"),
    ("Hal Hurst", "Ivy Ingram"),
    ("Ivy Ingram", "Gina Gold"),
    ("Ivy Ingram", "Carol Carter"),
)


def _networked(db: Session, world: World, source: str) -> Networked:
    rounds = make_board_rounds(db, world)
    ids = _people(db, world)
    on = TODAY - timedelta(days=10)  # inside the 2026 round (opened 30 days ago, closed 5 days ago)
    ties = [
        t.TieValues(
            from_person_id=ids[a], to_person_id=ids[b], observed_on=on, trust_reliable=3, value_influence=2
        )
        for a, b in TIES
    ]
    round_id = rounds.current if source == t.REPORTED else None
    network.store_ties(
        db,
        actor=cli_actor("test"),
        partnership_id=world.partnership_id,
        ties=ties,
        source=source,
        round_id=round_id,
    )
    db.commit()
    names = list(db.scalars(select(Person.full_name).where(Person.partnership_id == world.partnership_id)))
    return Networked(rounds, names)


def _section(html: str) -> str:
    """The network section, its entities (&#39;) read as characters."""
    return unescape(html.split('id="network"', 1)[1].split('id="annex"', 1)[0])


def _url(world: World, round_id: int, suffix: str = "") -> str:
    return f"/p/{world.partnership_id}/barometer/rounds/{round_id}/report{suffix}"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the page ------------------------------------------------------------------------------------------
def test_page_shows_the_spanner_the_silo_and_names_for_a_manager(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    found = _networked(db, world, t.REPORTED)
    html = browsers["manager"].get(_url(world, found.rounds.current)).text
    # After "What would help", before the annex.
    assert html.index('id="help"') < html.index('id="network"') < html.index('id="annex"')
    section = _section(html)
    assert f">{HEADING}</h2>" in section
    assert "Ties reported in this round's network section" in section
    assert "<svg" in section and "Network map, coloured by organisation" in section
    spanners = _text(section.split("Boundary spanners", 1)[1].split("Silos", 1)[0])
    assert "1 Bob Bridger Brempton Police · Police officer" in spanners and SPANNERS_MARKER in spanners
    silos = _text(section.split("<h3>Silos</h3>", 1)[1].split("Key-person risks", 1)[0])
    assert f"{SCHOOLS} 3 3 1 -0.50 ties stay inside: a silo" in silos
    risks = _text(section.split("Key-person risks", 1)[1])
    assert "Ivy Ingram" in risks and f"{SCHOOLS} would be cut off" in risks
    assert "(001)" in risks and "Table 1, row 1" in risks
    assert "Trust and value by organisation" in section and "3.00" in section


def test_a_member_sees_pseudonyms_and_no_name_on_the_page(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    found = _networked(db, world, t.REPORTED)
    html = browsers["member"].get(_url(world, found.rounds.current)).text
    section = _section(html)
    assert POLICE_PSEUDONYM in section and f"{SCHOOLS} 3 3 1 -0.50" in _text(section)
    assert OLD_PSEUDONYM not in section
    for name in found.names:
        assert name not in html, name
    assert browsers["outsider"].get(_url(world, found.rounds.current)).status_code == 404


def test_imported_ties_of_the_year_when_the_round_has_no_reported_ties(
    db: Session, world: World, browsers: dict[str, Browser]
) -> None:
    found = _networked(db, world, t.IMPORTED)
    section = _section(browsers["manager"].get(_url(world, found.rounds.current)).text)
    closed = (TODAY - timedelta(days=5)).strftime("%-d %B %Y")
    assert "No ties were reported in this round's network section" in section
    assert (
        f"to {closed}, from ties reported in barometer rounds' network sections and ties imported from "
        "spreadsheets." in _text(section)
    )
    assert "Bob Bridger" in section and "ties stay inside: a silo" in section


def test_no_ties_is_one_sentence(db: Session, world: World, browsers: dict[str, Browser]) -> None:
    rounds = make_board_rounds(db, world)
    section = _section(browsers["manager"].get(_url(world, rounds.current)).text)
    body = section.split("</h2>", 1)[1].split("</section>", 1)[0]
    paragraphs = re.findall(r"<p[^>]*>(.*?)</p>", body, re.S)
    assert len(paragraphs) == 1 and "<svg" not in body and "<table" not in body
    assert paragraphs[0].startswith("No ties between people were reported, imported or recorded at meetings")
    assert "there is no network to describe for this round." in paragraphs[0]


# --- the PDF -------------------------------------------------------------------------------------------
def test_pdf_for_each_viewer(db: Session, world: World, browsers: dict[str, Browser]) -> None:
    found = _networked(db, world, t.REPORTED)
    manager = pdf_text_of(browsers["manager"].get(_url(world, found.rounds.current, ".pdf")).content)
    network_part = manager.split(HEADING, 1)[1].split("Annex: method and anonymity", 1)[0]
    assert "Bob Bridger" in network_part and SPANNERS_MARKER in network_part
    assert f"{SCHOOLS} 3 3 1 -0.50 ties stay inside: a silo" in network_part
    assert "Trust and value by organisation" in network_part
    # The summary still fits page 1.
    first_page = manager.split("Page 1 of", 1)[0]
    assert "What would help first" in first_page and "Answers are anonymous" in first_page

    member = pdf_text_of(browsers["member"].get(_url(world, found.rounds.current, ".pdf")).content)
    assert HEADING in member and POLICE_PSEUDONYM in member and SCHOOLS in member
    assert OLD_PSEUDONYM not in member
    for name in found.names:
        assert name not in member, name


def test_pdf_with_no_ties_says_so(db: Session, world: World) -> None:
    rounds = make_board_rounds(db, world)
    report = results.round_report(db, actor=world.manager, round_id=rounds.current)
    section = network_section(db, actor=world.manager, report=report)
    assert section is not None and section.empty and not section.spanners
    text = pdf_text_of(report_pdf(report, "Brempton Test Partnership", section))
    part = text.split(HEADING, 1)[1].split("Annex: method and anonymity", 1)[0]
    assert "No ties between people were reported, imported or recorded at meetings" in part
    assert SPANNERS_MARKER not in part and "Silos" not in part


# --- the command ---------------------------------------------------------------------------------------
def test_command_names_people_unless_told_not_to(
    database_url: str, db: Session, world: World, tmp_path: Path
) -> None:
    found = _networked(db, world, t.REPORTED)
    outputs = {}
    for label, extra in (("names", []), ("no-names", ["--no-names"])):
        target = tmp_path / f"{label}.pdf"
        result = CliRunner().invoke(
            cli_app,
            [
                *("barometer", "report", str(found.rounds.current), "--to", str(target)),
                *extra,
                *("--database", database_url),
            ],
        )
        assert result.exit_code == 0, result.stderr
        outputs[label] = pdf_text_of(target.read_bytes())
    assert "Bob Bridger" in outputs["names"].split(HEADING, 1)[1]
    assert HEADING in outputs["no-names"] and POLICE_PSEUDONYM in outputs["no-names"]
    for name in found.names:
        assert name not in outputs["no-names"], name
