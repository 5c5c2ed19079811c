"""The board report's comparison section: for managers (page and PDF), not for members."""

from __future__ import annotations

import io

import pypdf
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.barometer.models import BarometerRound
from tests.comparison.conftest import Compared
from tests.conftest import Browser


def test_the_board_report_sets_the_round_against_the_group(app, db: Session, compared: Compared) -> None:  # type: ignore[no-untyped-def]
    pid = compared.world.partnership_id
    round_id = db.scalar(select(BarometerRound.id).where(BarometerRound.partnership_id == pid))
    url = f"/p/{pid}/barometer/rounds/{round_id}/report"
    manager = Browser(app, compared.world.emails["manager"])
    page = manager.get(url)
    assert page.status_code == 200
    assert "Against other partnerships" in page.text and "North West test group (6 partnerships)" in page.text
    assert "Group median" in page.text
    # Peers are never named in the partnership's report.
    assert "Safeguarding Children Partnership" not in page.text
    pdf = manager.get(url + ".pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Against other partnerships" in text and "North West test group" in text
    # A member reads the report, but not the partnership's comparison.
    member = Browser(app, compared.world.emails["member"])
    page = member.get(url)
    assert page.status_code == 200 and "Against other partnerships" not in page.text
    pdf = member.get(url + ".pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Against other partnerships" not in text
