"""The audit log page: managers and admins read and filter every change to the register."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from reticulist.audit import service as audit
from reticulist.register.schemas import parse_date, record_id_or_none
from reticulist.web.deps import Viewer, get_db, page_viewer
from reticulist.web.pages import partnership_context
from reticulist.web.templating import render

router = APIRouter(include_in_schema=False)

RECORD_TYPES = [
    "organisation",
    "profession",
    "person",
    "seat",
    "meeting",
    "attendance",
    "action",
    "partnership",
    "membership",
    "partnership_invitation",
    "barometer_round",
    "barometer_instrument",
    "network_tie",
]
EVENTS = [
    "created",
    "changed",
    "ended",
    "imported",
    "reported",
    "invited",
    "accepted",
    "withdrawn",
    "loaded",
    "open-link",
]


@router.get("/p/{partnership_id}/audit")
def audit_log(
    request: Request,
    partnership_id: int,
    record_type: str = "",
    record_id: str = "",
    who: str = "",
    event: str = "",
    since: str = "",
    until: str = "",
    page: int = 1,
    viewer: Viewer = Depends(page_viewer),
    db: Session = Depends(get_db),
) -> Response:
    ctx = partnership_context(db, viewer, partnership_id, "audit")
    errors: dict[str, str] = {}
    since_d: date | None = None
    until_d: date | None = None
    for name, raw in (("since", since), ("until", until)):
        try:
            parsed = parse_date(raw)
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        if name == "since":
            since_d = parsed
        else:
            until_d = parsed
    rid = record_id_or_none(record_id)
    if record_id.strip() and rid is None:
        errors["record_id"] = f'"{record_id[:40]}" is not a record number'
    result = audit.list_events(
        db,
        actor=viewer.actor,
        partnership_id=partnership_id,
        record_type=record_type or None,
        record_id=rid,
        actor_label=who or None,
        event=event or None,
        since=since_d,
        until=until_d,
        page=page,
    )

    def page_url(number: int) -> str:
        # Keep the filters, properly encoded, and change only the page.
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
        return "?" + urlencode([*kept, ("page", str(number))])

    ctx.update(
        page_url=page_url,
        result=result,
        errors=errors,
        record_types=RECORD_TYPES,
        events=EVENTS,
        filters={
            "record_type": record_type,
            "record_id": record_id,
            "who": who,
            "event": event,
            "since": since,
            "until": until,
        },
    )
    return render(request, "audit/log.html", ctx)
