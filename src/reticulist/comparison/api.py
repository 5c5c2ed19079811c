"""The comparison's JSON API at /api/v1: the groups a user analyses, a group's comparison and study (its
analysts), and a partnership against the others (its managers). Every figure comes from
comparison.service, so the API shows exactly what the pages show: hidden figures are null, partnerships
are named where the pages name them, and nothing about a person leaves."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from reticulist.comparison import service, study
from reticulist.errors import InputError
from reticulist.register.api import partnership_in_reach
from reticulist.web.deps import Viewer, api_viewer, get_db

router = APIRouter(tags=["comparison"])
GROUPS = "/comparison-groups"


class GroupOut(BaseModel):
    id: int
    name: str
    description: str
    threshold: int


class PartnershipOut(BaseModel):
    label: str  # the name where the viewer may see it, else the pseudonym ("Partnership C")
    own: bool
    as_of: date | None
    behind: bool  # its data changed since its figures were computed
    figures: dict[str, Any]  # measure key -> number, null where not shown


class PointOut(BaseModel):
    label: str
    own: bool
    respondents: int
    mean: float
    band: str  # "below 99.8%", "below 95%", "within", "above 95%", "above 99.8%"


class ConstructOut(BaseModel):
    key: str
    name: str
    target: float | None
    sigma: float | None
    tau: float  # the real spread between partnerships the limits allow for
    hidden: int  # partnerships whose figure is below the threshold
    points: list[PointOut]
    words: list[str]


class ComparisonOut(BaseModel):
    group: GroupOut
    measures: dict[str, str]  # key -> what it is
    medians: dict[str, str]
    partnerships: list[PartnershipOut]
    instrument: str | None  # KEY@VERSION of the rounds compared
    since: date
    until: date
    constructs: list[ConstructOut]
    headline: list[str]


class EstimateOut(BaseModel):
    predictor: str
    coefficient: float
    low: float
    high: float
    p_value: float
    words: str


class OutcomeOut(BaseModel):
    outcome: str
    label: str
    scale: str
    people: int
    partnerships: int
    between_partnership_share: float
    converged: bool
    estimates: list[EstimateOut]


class StudyOut(BaseModel):
    people: int
    partnerships: int
    left_out_missing_years: int
    left_out_no_ties: int
    outcomes: list[OutcomeOut]
    words: list[str]


def _group(g: service.ComparisonGroup) -> GroupOut:
    return GroupOut(id=g.id, name=g.name, description=g.description, threshold=g.threshold)


def _out(result: service.Comparison) -> ComparisonOut:
    rows = {row.peer.partnership_id: row for row in result.rows}
    return ComparisonOut(
        group=_group(result.group),
        measures={m.key: m.meaning for m in result.measures},
        medians={m.key: v for m, v in zip(result.measures, result.medians, strict=True)},
        partnerships=[
            PartnershipOut(
                label=p.label,
                own=p.own,
                as_of=p.as_of,
                behind=p.behind,
                figures=(
                    dict(zip([m.key for m in result.measures], rows[p.partnership_id].values, strict=True))
                    if p.partnership_id in rows
                    else {}
                ),
            )
            for p in result.peers
        ],
        instrument=result.instrument.ref if result.instrument else None,
        since=result.since,
        until=result.until,
        constructs=[
            ConstructOut(
                key=c.key,
                name=c.name,
                target=c.funnel.target,
                sigma=c.funnel.sigma,
                tau=c.funnel.tau,
                hidden=c.hidden,
                points=[
                    PointOut(
                        label=p.point.label,
                        own=p.point.own,
                        respondents=p.point.n,
                        mean=p.point.mean,
                        band=p.band,
                    )
                    for p in c.funnel.points
                ],
                words=list(c.words),
            )
            for c in result.constructs
        ],
        headline=list(result.headline),
    )


def _period(since: date | None, until: date | None, instrument: str | None) -> dict[str, Any]:
    return {"since": since, "until": until, "instrument": instrument}


@router.get(GROUPS, response_model=list[GroupOut], summary="Comparison groups you analyse")
def analysed_groups(viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)) -> list[GroupOut]:
    """The groups whose analyst you are (an empty list otherwise)."""
    return [_group(g) for g in service.analysed_groups(db, actor=viewer.actor)]


@router.get(GROUPS + "/{group_id}", response_model=ComparisonOut, summary="A group compared (its analysts)")
def group_comparison(
    group_id: int,
    instrument: str | None = Query(None, max_length=200, description="KEY@VERSION; default the most used"),
    since: date | None = Query(None, description="rounds closed on or after; default 24 months ago"),
    until: date | None = Query(None, description="rounds closed on or before; default today"),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> ComparisonOut:
    """Every opted-in partnership's figures (named where it agreed), and the funnel plots' figures."""
    return _out(
        service.comparison(db, actor=viewer.actor, group_id=group_id, **_period(since, until, instrument))
    )


@router.get(GROUPS + "/{group_id}/study", response_model=StudyOut, summary="The study of 002's hypotheses")
def group_study(
    group_id: int, viewer: Viewer = Depends(api_viewer), db: Session = Depends(get_db)
) -> StudyOut:
    """The multilevel models of boundary spanning (docs/research.md); 422 when the group is too small."""
    try:
        result = service.run_study(db, actor=viewer.actor, group_id=group_id)
    except study.StudyTooSmall as exc:
        raise InputError(str(exc), field="group") from None
    db.commit()  # the study is audited
    return StudyOut(
        people=result.people,
        partnerships=result.partnerships,
        left_out_missing_years=result.left_out_missing_years,
        left_out_no_ties=result.left_out_no_ties,
        outcomes=[
            OutcomeOut(
                outcome=f.outcome,
                label=f.label,
                scale=f.scale,
                people=f.people,
                partnerships=f.partnerships,
                between_partnership_share=f.between_partnership_share,
                converged=f.converged,
                estimates=[
                    EstimateOut(
                        predictor=e.predictor,
                        coefficient=e.coefficient,
                        low=e.low,
                        high=e.high,
                        p_value=e.p_value,
                        words=e.words,
                    )
                    for e in f.estimates
                ],
            )
            for f in result.outcomes
        ],
        words=list(result.words),
    )


@router.get(
    "/partnerships/{partnership_id}" + GROUPS + "/{group_id}",
    response_model=ComparisonOut,
    summary="The partnership against the others of a group",
)
def partnership_comparison(
    group_id: int,
    instrument: str | None = Query(None, max_length=200, description="KEY@VERSION; default the most used"),
    since: date | None = Query(None, description="rounds closed on or after; default 24 months ago"),
    until: date | None = Query(None, description="rounds closed on or before; default today"),
    partnership_id: int = Depends(partnership_in_reach),
    viewer: Viewer = Depends(api_viewer),
    db: Session = Depends(get_db),
) -> ComparisonOut:
    """The partnership by name, the others under pseudonyms (its managers and admins)."""
    return _out(
        service.comparison(
            db,
            actor=viewer.actor,
            group_id=group_id,
            partnership_id=partnership_id,
            **_period(since, until, instrument),
        )
    )
