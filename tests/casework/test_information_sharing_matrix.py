"""Who may open what, once information is shared: the casework personas with the two readers this issue adds
(a practitioner using emergency access, and the named recipient of a share) and the data protection role,
over the record and every page of the data protection role, in one table (SQLite and PostgreSQL). Each
cell is the status a person gets; 404 where they may not even know the record exists."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Role
from reticulist.casework import break_glass, sharing, subject_access
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.casework.conftest import ROOT, TODAY, CaseWorld
from tests.conftest import PASSWORD, Browser

PAGES = ("record", "seen", "break-glass review", "subject access", "bundle", "retention", "case access")
# persona -> the status of each page, in the order of PAGES
MATRIX = {
    "lead": (200, 200, 403, 403, 403, 403, 403),
    "team": (200, 403, 403, 403, 403, 403, 403),
    "coordinator": (200, 403, 403, 403, 403, 403, 403),  # who has seen: the lead and the DPO only
    "dpo": (404, 200, 200, 200, 200, 200, 200),
    "breakglass": (200, 403, 403, 403, 403, 403, 403),  # reads, for its time, and sees no one's reads
    "recipient": (200, 403, 403, 403, 403, 403, 403),  # reads the parts shared, until the date
    "manager": (404, 404, 403, 403, 403, 403, 403),
    "member": (404, 404, 403, 403, 403, 403, 403),
    "outsider": (404, 404, 404, 404, 404, 404, 404),
}


def _recipient(db: Session, cw: CaseWorld) -> str:
    """A health visitor with a login, in another organisation, to whom the lead shares the plan."""
    email = "recipient@case.example.org"
    user = accounts.create_user(db, actor=ROOT, email=email, display_name="Recipient", password=PASSWORD)
    accounts.set_role(
        db, actor=ROOT, partnership_id=cw.world.partnership_id, user_id=user.id, role=Role.PRACTITIONER
    )
    person = register.create_person(
        db,
        actor=ROOT,
        partnership_id=cw.world.partnership_id,
        data=s.parse(
            s.PersonCreate,
            {
                "full_name": "Recipient Visitor",
                "email": email,
                "organisation_id": cw.health_id,
                "hierarchy_tier": 5,
            },
        ),
    )
    casework.link_practitioner(
        db, actor=ROOT, partnership_id=cw.world.partnership_id, user_id=user.id, person_id=person.id
    )
    db.flush()
    sharing.record_decision(
        db,
        actor=cw.actors["lead"],
        family_id=cw.family_id,
        data=cs.SharingDecisionCreate(
            kinds=["plan"],
            recipient_organisation_id=cw.health_id,
            recipient_person_id=person.id,
            purpose="The health visitor joins the plan for the baby due in spring.",
            decision="share",
            reasons="Needed for the plan's health actions.",
            family_told=True,
            basis="public_task",
            access_until=TODAY + timedelta(days=30),
            decided_on=TODAY,
        ),
    )
    return email


def test_the_information_sharing_access_matrix(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    pid, fid, a = case_world.world.partnership_id, case_world.family_id, case_world.actors
    emails = dict(case_world.emails)
    emails["recipient"] = _recipient(db, case_world)
    break_glass.open_break_glass(
        db,
        actor=a["colleague"],
        partnership_id=pid,
        family_id=fid,
        reason="Called by A&E at night about Ellie.",
    )
    emails["breakglass"] = emails["colleague"]
    request = subject_access.register_request(
        db,
        actor=a["dpo"],
        partnership_id=pid,
        family_reference="EH-0001",
        surname="Marsh",
        forenames="Ellie",
        requester="Ellie Marsh",
        received_on=TODAY,
        identity_checked_on=TODAY,
    )
    db.commit()
    urls = {
        "record": f"/p/{pid}/cases/{fid}",
        "seen": f"/p/{pid}/cases/{fid}/seen",
        "break-glass review": f"/p/{pid}/break-glass",
        "subject access": f"/p/{pid}/subject-access",
        "bundle": f"/p/{pid}/subject-access/{request.id}/bundle",
        "retention": f"/p/{pid}/retention",
        "case access": f"/p/{pid}/case-access",
    }
    got = {}
    for persona in MATRIX:
        browser = Browser(app, emails[persona])
        got[persona] = tuple(browser.get(urls[page]).status_code for page in PAGES)
    assert got == MATRIX
    # What each reader's record page holds: the recipient only the shared part, break-glass no shielded
    # address, and neither can change it.
    recipient_page = Browser(app, emails["recipient"]).get(urls["record"]).text
    assert "Refuge" not in recipient_page and "Attendance has fallen" not in recipient_page
    breakglass_page = Browser(app, emails["breakglass"]).get(urls["record"]).text
    assert "Refuge" not in breakglass_page and "1 Canal Row" in breakglass_page
