"""The demo partnership's linkage: four agencies' synthetic extracts in which the demo's casework children
appear as an agency would record them (a school's day-first dates and UPNs, the police's capitals, a
voluntary group's nicknames, a mistyped date here and a changed surname there), loaded, trained and run,
with a few reviewers' decisions already made. The extracts carry the synthetic truth as a group field, so
the run reports its own precision and recall.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access.policy import Actor
from reticulist.casework.models import FamilyMember, MemberAddress
from reticulist.linkage import extracts, review, runs, sources, synthetic
from reticulist.linkage.models import LinkagePair, LinkageRecord
from reticulist.linkage.sources import TRUTH
from reticulist.register.models import Organisation

KINDS = {"health": "health", "school": "education", "police": "police", "voluntary": "voluntary"}
NICKNAMES = {"William": "Billy", "Thomas": "Tom", "Alfred": "Alfie", "Oliver": "Ollie", "Elizabeth": "Lizzie"}


def _agency_rows(
    children: list[tuple[FamilyMember, str | None]], rng: np.random.Generator
) -> dict[str, list[dict[str, Any]]]:
    """Each casework child as the agencies would hold them: health always, school for school ages, the
    police and the voluntary sector for some; with the usual slips, so a few land in the review queue."""
    rows: dict[str, list[dict[str, Any]]] = {a: [] for a in KINDS}
    for number, (child, postcode) in enumerate(children):
        born = child.date_of_birth
        truth = -child.id  # below every synthetic person's id
        iso = born.isoformat() if born else None
        common = {
            "sex": child.sex if child.sex in ("male", "female") else None,
            "postcode": postcode,
            "person_id": truth,
        }
        if number % 10 == 7:
            # Not known to health, school or the voluntary sector: one in two known only to the police, under
            # a stepfather's surname with day and month the other way round (a record to review and attach).
            if number % 20 == 7 and born:
                swapped = (
                    f"{born.month:02d}/{born.day:02d}/{born.year}"
                    if born.day <= 12
                    else born.strftime("%d/%m/%Y")
                )
                rows["police"].append(
                    {
                        **common,
                        "record_id": f"PC{number:05d}",
                        "forename": child.forenames.upper(),
                        "surname": "WALKER",
                        "date_of_birth": swapped,
                        "postcode": None,
                    }
                )
            continue
        rows["health"].append(
            {
                **common,
                "record_id": f"HC{number:05d}",
                "forename": child.forenames,
                "surname": child.surname,
                "date_of_birth": iso,
                "nhs_number": child.nhs_number,
                "address": None,
            }
        )
        age = (date.today() - born).days // 365 if born else 0
        if 4 <= age <= 18:
            surname = child.surname if number % 9 else child.surname[:-1] + "e"  # a mistyped surname
            rows["school"].append(
                {
                    **common,
                    "record_id": f"SC{number:05d}",
                    "forename": child.forenames,
                    "surname": surname,
                    "date_of_birth": born.strftime("%d/%m/%Y") if born else None,
                    "upn": None if child.upn_temporary else child.upn,
                    "nhs_number": None,
                    "earlier_postcode": None,
                }
            )
        if rng.random() < 0.35:
            written = born.strftime("%d.%m.%Y") if born else None
            rows["police"].append(
                {
                    **common,
                    "record_id": f"PC{number:05d}",
                    "forename": child.forenames.upper(),
                    "surname": child.surname.upper(),
                    "date_of_birth": written,
                    "postcode": None if number % 3 else postcode,
                }
            )
        if rng.random() < 0.45:
            rows["voluntary"].append(
                {
                    **common,
                    "record_id": f"VC{number:05d}",
                    "forename": NICKNAMES.get(child.forenames, child.forenames),
                    "surname": child.surname,
                    "date_of_birth": iso if number % 5 else None,
                    "upn": None,
                    "ethnic_group": None,
                }
            )
    return rows


def _organisation(session: Session, partnership_id: int, kind: str) -> str:
    found = session.scalar(
        select(Organisation.name)
        .where(Organisation.partnership_id == partnership_id, Organisation.kind == kind)
        .order_by(Organisation.id)
        .limit(1)
    )
    if found is None:
        raise LookupError(f"the demo register has no {kind} organisation")
    return found


def add_demo_linkage(
    session: Session,
    *,
    actor: Actor,
    partnership_id: int,
    seed: int,
    per_agency: int = 600,
    step: Callable[[str], None] = lambda _: None,
) -> None:
    rng = np.random.default_rng(seed + 12)
    children = session.execute(
        select(FamilyMember, MemberAddress.postcode)
        .outerjoin(
            MemberAddress, (MemberAddress.member_id == FamilyMember.id) & MemberAddress.to_on.is_(None)
        )
        .where(FamilyMember.partnership_id == partnership_id, FamilyMember.kind == "child")
        .order_by(FamilyMember.id)
    ).all()
    made = synthetic.extracts(per_agency, seed=seed)
    extra = _agency_rows([(c, None if c.shielded else p) for c, p in children], rng)
    frames = {
        agency: pl.concat(
            [frame, pl.DataFrame(extra[agency], schema_overrides={"person_id": pl.Int64})],
            how="diagonal_relaxed",
        ).select(frame.columns)
        if extra[agency]
        else frame
        for agency, frame in made.sources.items()
    }
    with tempfile.TemporaryDirectory() as folder:
        files = synthetic.as_files(synthetic.Extracts(made.population, frames), Path(folder))
        for agency, path in files.items():
            step(f"Linkage: loading {agency}")
            sources.add_source(
                session,
                actor=actor,
                partnership_id=partnership_id,
                name=agency,
                agency=_organisation(session, partnership_id, KINDS[agency]),
                extract=extracts.read_extract(path, groups=(TRUTH,)),
                file_name=f"{agency}-extract.csv",
            )
    step("Linkage: training the model")
    runs.train(session, actor=actor, partnership_id=partnership_id, max_pairs=2e5)
    step("Linkage: running")
    runs.run(session, actor=actor, partnership_id=partnership_id)
    _decide_some(session, actor, partnership_id)


def _decide_some(session: Session, actor: Actor, partnership_id: int, count: int = 6) -> None:
    """A reviewer has been through a few pairs of the queue (by the synthetic truth), so the band's
    measured precision shows."""
    queue = review.queue(session, actor=actor, partnership_id=partnership_id)
    for line in queue.lines[:count]:
        pair = session.get(LinkagePair, line.pair_id)
        assert pair is not None
        truths = [
            (session.get(LinkageRecord, rid).groups or {}).get(TRUTH)  # type: ignore[union-attr]
            for rid in (pair.left_id, pair.right_id)
        ]
        same = truths[0] is not None and truths[0] == truths[1]
        review.decide_pair(
            session,
            actor=actor,
            partnership_id=partnership_id,
            pair_id=pair.id,
            decision="same" if same else "different",
            note="Checked with the school's admissions record." if same else "Different children: siblings.",
        )
