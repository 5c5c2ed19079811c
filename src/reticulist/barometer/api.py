"""The barometer's JSON API at /api/v1: rounds and their results. Read-only, and every figure comes from
``results.round_report``, so the API is suppressed for anonymity exactly as the pages and exports are: a
hidden figure is ``null`` with ``hidden`` saying why, never 0."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from reticulist.barometer import results, scoring
from reticulist.barometer import service as barometer
from reticulist.register.api import partnership_in_reach
from reticulist.web.deps import Viewer, api_viewer, get_db
from reticulist.web.pages import in_partnership

router = APIRouter(tags=["barometer"])
ROUNDS = "/partnerships/{partnership_id}/barometer/rounds"


class RoundOut(BaseModel):
    id: int
    title: str
    instrument: str
    opens_on: date
    closes_on: date
    status: str
    responses: int
    anonymity_threshold: int


class TrendOut(BaseModel):
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    clear_change: bool
    reading: str


class ConstructOut(BaseModel):
    key: str
    name: str
    framework: str
    source: str
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    n: int | None
    dont_know_share: float | None
    alpha: float | None
    alpha_flag: bool
    lean: str | None
    reading: str
    hidden: str | None  # why the figures are null: "fewer than 5" or "to protect another cell"
    trend: TrendOut | None


class CellOut(BaseModel):
    # "construct" in the JSON; another name in Python because BaseModel.construct exists.
    construct_key: str = Field(serialization_alias="construct")
    n: int | None
    mean: float | None
    hidden: str | None


class GroupOut(BaseModel):
    label: str
    respondents: int | None
    hidden: str | None
    cells: list[CellOut]


class RecommendationOut(BaseModel):
    construct_key: str = Field(serialization_alias="construct")
    why: str
    catalysts: list[str]
    recommendations: list[str]
    tools: list[str]


class ResultsOut(BaseModel):
    round_id: int
    title: str
    respondents: int
    anonymity_threshold: int
    too_few: bool
    previous_round: str | None
    constructs: list[ConstructOut]
    breakdowns: dict[str, list[GroupOut]]
    recommendations: list[RecommendationOut]


def _hidden(suppressed: bool, reason: str | None, threshold: int) -> str | None:
    if not suppressed:
        return None
    return scoring.hidden_words(reason, threshold).removeprefix("hidden (").removesuffix(")")


@router.get(ROUNDS, response_model=list[RoundOut], summary="Barometer rounds")
def list_rounds(
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> list[RoundOut]:
    """The partnership's barometer rounds, newest first, with their response counts."""
    return [
        RoundOut(
            id=s.round.id,
            title=s.round.title,
            instrument=f"{s.round.instrument.key}@{s.round.instrument.version}",
            opens_on=s.round.opens_on,
            closes_on=s.round.closes_on,
            status=s.status,
            responses=s.responses,
            anonymity_threshold=s.round.anonymity_threshold,
        )
        for s in barometer.list_rounds(db, actor=viewer.actor, partnership_id=partnership_id)
    ]


@router.get(ROUNDS + "/{round_id}/results", response_model=ResultsOut, summary="Results of a barometer round")
def round_results(
    round_id: int,
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> ResultsOut:
    """Construct figures, breakdowns and recommendations, suppressed for anonymity: no figure describes
    fewer respondents than the round's threshold, and a hidden figure is null with the reason."""
    in_partnership(barometer.get_round(db, actor=viewer.actor, round_id=round_id), partnership_id)
    report = results.round_report(db, actor=viewer.actor, round_id=round_id)
    k = report.threshold
    constructs = []
    for line in report.lines:
        r, c, t = line.result, line.construct, line.trend
        constructs.append(
            ConstructOut(
                key=c.key,
                name=c.name,
                framework=c.framework,
                source=f"{c.source.document}, {c.source.section}",
                mean=r.mean,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                n=r.n,
                dont_know_share=r.dont_know_share,
                alpha=r.alpha,
                alpha_flag=r.alpha_flag,
                lean=r.lean,
                reading=line.reading,
                hidden=_hidden(r.suppressed, r.reason, k),
                trend=TrendOut(
                    difference=t.difference,
                    ci_low=t.ci_low,
                    ci_high=t.ci_high,
                    clear_change=t.clear_change,
                    reading=t.reading,
                )
                if t
                else None,
            )
        )
    breakdowns = {
        dimension: [
            GroupOut(
                label=group.label,
                respondents=group.respondents,
                hidden=_hidden(group.suppressed, group.reason, k),
                cells=[
                    CellOut(
                        construct_key=key,
                        n=cell.n,
                        mean=cell.mean,
                        hidden=_hidden(cell.suppressed, cell.reason, k),
                    )
                    for key, cell in zip(breakdown.construct_keys, group.cells, strict=True)
                ],
            )
            for group in breakdown.groups
        ]
        for dimension, breakdown in report.breakdowns.items()
    }
    return ResultsOut(
        round_id=report.round_id,
        title=report.round_title,
        respondents=report.respondents,
        anonymity_threshold=k,
        too_few=report.too_few,
        previous_round=report.previous_round_title,
        constructs=constructs,
        breakdowns={} if report.too_few else breakdowns,
        recommendations=[
            RecommendationOut(
                construct_key=rec.line.key,
                why=rec.why,
                catalysts=list(rec.line.construct.catalysts),
                recommendations=list(rec.line.construct.recommendations),
                tools=[f"{tool.name}: {tool.what_for}" for tool in rec.line.construct.tools],
            )
            for rec in report.recommendations
        ],
    )
