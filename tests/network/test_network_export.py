"""Per-person network figures as CSV and Excel, from the pages and from `reticulist network figures`, on
SQLite and PostgreSQL: names only for managers, the same figures for members, nothing for outsiders."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.access.policy import cli_actor
from reticulist.cli.main import app as cli_app
from reticulist.network import analysis as a
from reticulist.network import export
from reticulist.register import service as register
from tests.conftest import Browser, World
from tests.network.labels import member_label
from tests.network.test_network_pages import _small

runner = CliRunner()


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def _names(db: Session, world: World) -> list[str]:
    people = register.list_people(db, actor=cli_actor("test"), partnership_id=world.partnership_id)
    return [p.full_name for p in people]


def test_csv_names_people_for_managers_only(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    small = _small(db, world)
    url = f"/p/{world.partnership_id}/network/people.csv?sources=imported&since="
    manager = browsers["manager"].get(url)
    assert manager.status_code == 200 and manager.headers["content-type"].startswith("text/csv")
    assert "attachment" in manager.headers["content-disposition"]
    rows = _rows(manager.content)
    assert len(rows) == 6 and set(a.PEOPLE_COLUMNS) <= set(rows[0])
    bob = next(r for r in rows if r["person"] == "Bob Bridger")
    assert bob["person_id"] == str(small.ids["Bob Bridger"])
    assert bob["organisation"] == "Brempton Police" and bob["degree"] == "3" and bob["spanner_rank"] == "1"
    assert int(bob["cut_pairs"]) > 0 and int(bob["cross_organisation_brokerage"]) > 0

    member = browsers["member"].get(url)
    assert member.status_code == 200
    text = member.content.decode("utf-8-sig")
    for name in _names(db, world):
        assert name not in text
    member_rows = _rows(member.content)
    assert "person_id" not in member_rows[0]
    bob_label = member_label(db, world, "Bob Bridger", {"imported": 1.0})
    assert bob_label.startswith("Person #")  # six people: no group of five to name
    hidden_bob = next(r for r in member_rows if r["person"] == bob_label)
    shown = (hidden_bob["organisation"], hidden_bob["profession"], hidden_bob["hierarchy_tier"])
    assert shown == ("Not shown", "Not shown", "")
    # The same figures; the label, organisation, profession and tier are what differ.
    who = ("person", "person_id", "organisation", "profession", "hierarchy_tier")
    assert {k: v for k, v in hidden_bob.items() if k not in who} == {
        k: v for k, v in bob.items() if k not in who
    }
    assert browsers["outsider"].get(url).status_code == 404
    assert browsers["anonymous"].get(url).status_code == 303


def test_xlsx_has_the_people_and_what_they_describe(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    _small(db, world)
    url = f"/p/{world.partnership_id}/network/people.xlsx?sources=imported,co_attendance&w_co_attendance=0.5"
    for persona, named in (("manager", True), ("member", False)):
        response = browsers[persona].get(url)
        assert response.status_code == 200
        book = openpyxl.load_workbook(io.BytesIO(response.content))
        people = list(book["People"].iter_rows(values_only=True))
        assert people[0][0] == "person" and len(people) == 7
        # Mixed sources make one undirected network: an insider-outsider pair has one combined role.
        header = list(people[0])
        assert "representative_or_gatekeeper_by_organisation" in header
        assert "gatekeeper_by_organisation" not in header and "representative_by_organisation" not in header
        assert [c for c in header if c != "person_id"] == list(a.people_columns(directed=False))
        labels = [row[0] for row in people[1:]]
        assert ("Bob Bridger" in labels) is named
        assert ("Brempton Police · Police officer #2" in labels) is False  # the old, reversible label
        assert all(label.startswith("Person #") for label in labels) is not named
        about = dict(book["About"].iter_rows(values_only=True))
        assert about["Sources"] == "Imported (spreadsheet) x 1; Co-attendance at meetings x 0.5"
        assert about["People"] == ("by name" if named else "by labels: no names, no group smaller than 5")
    assert browsers["outsider"].get(url).status_code == 404


def test_bad_choice_downloads_nothing_and_says_why(app, world: World, browsers: dict[str, Browser]) -> None:  # type: ignore[no-untyped-def]
    response = browsers["manager"].get(
        f"/p/{world.partnership_id}/network/people.csv?w_reported=-1&sources=reported"
    )
    assert response.status_code == 422 and response.headers["content-type"].startswith("text/html")
    assert "Weight of reported: &#34;-1&#34; is not a number above 0" in response.text


def test_a_name_that_looks_like_a_formula_stays_text() -> None:
    table = a.PeopleTable(columns=["person", "degree"], rows=[["=HYPERLINK(1)", 2], ["-Ann", 1]])
    assert _rows(export.to_csv(table)) == [
        {"person": "'=HYPERLINK(1)", "degree": "2"},
        {"person": "'-Ann", "degree": "1"},
    ]
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(table)))["People"]
    assert sheet["A2"].value == "=HYPERLINK(1)" and sheet["A2"].data_type == "s"


def test_network_figures_from_the_command_line(
    database_url: str, db: Session, world: World, tmp_path: Path
) -> None:
    _small(db, world)
    to = tmp_path / "figures.csv"
    result = runner.invoke(
        cli_app,
        [
            "network",
            "figures",
            "--partnership",
            "Brempton Test Partnership",
            "--to",
            str(to),
            "--since",
            "all",
            "--database",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert f"Wrote the figures of 6 people to {to}" in result.stdout.replace("\n", "")
    rows = _rows(to.read_bytes())
    assert {r["person"] for r in rows} >= {"Bob Bridger", "Erin Evans"}  # the command line sees names
    assert next(r for r in rows if r["person"] == "Bob Bridger")["spanner_rank"] == "1"

    book = tmp_path / "figures.xlsx"
    result = runner.invoke(
        cli_app,
        [
            "network",
            "figures",
            "--partnership",
            str(world.partnership_id),
            "--to",
            str(book),
            "--source",
            "imported=2",
            "--source",
            "co_attendance",
            "--min-weight",
            "2",
            "--since",
            "all",
            "--database",
            database_url,
        ],
    )
    assert result.exit_code == 0, result.stderr
    about = dict(openpyxl.load_workbook(book)["About"].iter_rows(values_only=True))
    assert about["Sources"] == "Imported (spreadsheet) x 2; Co-attendance at meetings x 1"
    assert about["Minimum tie strength"] == "2"

    for args, message in (
        (["--source", "imported=-1"], 'w_imported: "-1" is not a number above 0'),
        (["--since", "31/02/2026"], 'since: "31/02/2026" is not a real date'),
        (["--source", "gossip"], '"gossip" is not a source of ties'),
    ):
        bad = runner.invoke(
            cli_app,
            [
                "network",
                "figures",
                "--partnership",
                "Brempton Test Partnership",
                "--to",
                str(tmp_path / "x.csv"),
                *args,
                "--database",
                database_url,
            ],
        )
        assert bad.exit_code == 1 and message in bad.stderr.replace("\n", " "), bad.stderr
        assert not (tmp_path / "x.csv").exists()
    wrong = runner.invoke(
        cli_app,
        [
            "network",
            "figures",
            "--partnership",
            "Brempton Test Partnership",
            "--to",
            str(tmp_path / "x.pdf"),
            "--database",
            database_url,
        ],
    )
    assert wrong.exit_code == 1 and "--to: give a file name ending in .csv or .xlsx" in wrong.stderr
