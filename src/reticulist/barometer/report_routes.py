"""The board report of a barometer round: a printable page and the same as a PDF. Thin: fetch the round's
report (round_report checks VIEW_RESULTS: members read it too, outsiders get 404), build the content
once (report_pdf; the network section once per viewer in report_network), render."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.barometer import charts
from reticulist.barometer import report_pdf as board
from reticulist.barometer.report_network import network_section
from reticulist.barometer.results import RoundReport, round_report
from reticulist.comparison.report_section import comparison_section
from reticulist.web.deps import Viewer, get_db, page_viewer
from reticulist.web.pages import in_partnership, partnership_context
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)


def _report(db: Session, viewer: Viewer, partnership_id: int, round_id: int) -> tuple[dict, RoundReport]:
    ctx = partnership_context(db, viewer, partnership_id, "barometer")
    report = round_report(db, actor=viewer.actor, round_id=round_id)
    in_partnership(report, partnership_id)
    return ctx, report


def file_name(report: RoundReport) -> str:
    """barometer-2026-board-report.pdf: the round's title in safe characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", report.round_title.lower()).strip("-") or f"round-{report.round_id}"
    return f"{slug[:60]}-board-report.pdf"


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/report")
def report_page(
    request: Request,
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx, report = _report(db, viewer, partnership_id, round_id)
    ctx.update(report=report, board=board, facts=board.round_facts(report), annex=board.method_notes(report))
    ctx.update(open_link_words=board.OPEN_LINK_WORDS)
    if not report.too_few:
        trend = board.trend_chart(report)
        ctx.update(
            strongest=board.strongest(report),
            weakest=board.weakest(report),
            changes=board.clear_changes(report),
            profile_svg=charts.to_svg(board.profile_chart(report), chart_id="profile-chart"),
            profile_table=board.profile_table(report),
            breakdowns=[
                (
                    view,
                    charts.to_svg(view.chart, chart_id=f"heatmap-{view.dimension}") if view.chart else None,
                )
                for view in board.breakdown_views(report)
            ],
            trend_svg=charts.to_svg(trend, chart_id="trend-chart") if trend else None,
            trend_lines=board.trend_lines(report),
        )
        network = network_section(db, actor=viewer.actor, report=report)
        ctx["comparison"] = comparison_section(
            db, actor=viewer.actor, partnership_id=partnership_id, report=report
        )
        ctx.update(
            network=network,
            network_svg=charts.to_svg(network.chart, chart_id="network-map")
            if network and network.chart
            else None,
        )
    return render(request, "barometer/report.html", ctx)


@router.get("/p/{partnership_id}/barometer/rounds/{round_id}/report.pdf")
def report_pdf_file(
    partnership_id: int,
    round_id: int,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx, report = _report(db, viewer, partnership_id, round_id)
    # Built for the viewer: names only for those who may see them, as on the page.
    network = None if report.too_few else network_section(db, actor=viewer.actor, report=report)
    compared = (
        None
        if report.too_few
        else comparison_section(db, actor=viewer.actor, partnership_id=partnership_id, report=report)
    )
    data = board.report_pdf(report, ctx["partnership"].name, network, compared)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{file_name(report)}"',
            "Cache-Control": "private, no-store",  # survey results: not kept in shared caches
        },
    )
