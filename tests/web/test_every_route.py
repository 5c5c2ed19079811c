"""Every page and API route, for every persona: a sweep that no route can forget its authorisation.

Routes are read from the app itself, so a route added later is covered without touching this file.
Anonymous visitors are sent to log in (pages) or get 401 (API); an outsider gets 404 everywhere in the
partnership; a member reads but may not open edit forms or change anything (403); a manager may do
everything but manage roles.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.policy import Role, cli_actor
from reticulist.barometer import results
from reticulist.barometer import service as barometer
from reticulist.barometer.instrument import default_instrument
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import Browser, World

INSTRUMENT = "partnership-barometer@1.0"
EDIT_FORMS = re.compile(r"/(new|edit|hand-over|attendance)$")
CASEWORK = re.compile(r"/(cases|case-access|referrals|families)(/|$)")
# Casework figures: managers, coordinators and data protection; not members.
CASEWORK_FIGURES = re.compile(r"/casework[-/]figures")
# Emergency access, subject access and retention: the data protection role's (and practitioners' asking
# for emergency access); not managers.
BREAK_GLASS = re.compile(r"/break-glass|/subject-access|/retention")
# Linkage: the linkage role's alone; to every other role it does not exist (tests/linkage has its matrix).
LINKAGE = re.compile(r"/linkage(/|$)")
# Comparison: managers and admins; not members (tests/comparison has the matrix, analysts included).
COMPARISON = re.compile(r"/comparison(-groups)?(/|$)")


def _casework_for_register_roles(method: str, path: str) -> int:
    """Members and managers of the register have no casework: case pages are forbidden to them, and a
    family's record is not found (they may not know it exists). tests/casework has the full matrix."""
    if path.startswith("/api/"):  # the API refuses casework to their role first, before any record
        return 404 if path.endswith("/seen") else 403
    one_record = "{family_id}" in path or "{referral_id}" in path
    return 404 if method == "GET" and one_record else 403


def _routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path) of every route of the app, through included routers."""
    found: list[tuple[str, str]] = []

    def walk(routes, prefix: str = "") -> None:  # type: ignore[no-untyped-def]
        for route in routes:
            if hasattr(route, "original_router"):  # an included router
                walk(
                    route.original_router.routes,
                    prefix + (getattr(route.include_context, "prefix", "") or ""),
                )
            elif getattr(route, "methods", None):
                found.extend((m, prefix + route.path) for m in sorted(route.methods) if m != "HEAD")

    walk(app.routes)
    return [(m, p) for m, p in found if "{partnership_id}" in p]


@pytest.fixture
def ids(db: Session, world: World) -> dict[str, object]:
    pid, actor = world.partnership_id, world.manager
    person = register.create_person(
        db,
        actor=actor,
        partnership_id=pid,
        data=s.PersonCreate(full_name="Sam Seat", organisation_id=world.organisation_id, hierarchy_tier=3),
    )
    seat = register.create_seat(
        db,
        actor=actor,
        partnership_id=pid,
        data=s.SeatCreate(
            organisation_id=world.organisation_id,
            person_id=person.id,
            started_on=date.today() - timedelta(days=9),
        ),
    )
    meeting = register.create_meeting(
        db, actor=actor, partnership_id=pid, data=s.MeetingCreate(title="Board", held_on=date.today())
    )
    action = register.create_action(db, actor=actor, partnership_id=pid, data=s.ActionCreate(title="Do it"))
    barometer_round = barometer.open_round(
        db,
        actor=actor,
        partnership_id=pid,
        data=barometer.RoundCreate(
            instrument=INSTRUMENT,
            title="Barometer",
            opens_on=date.today() - timedelta(days=1),
            closes_on=date.today() + timedelta(days=9),
        ),
    )
    # Results exist only once a closed round is released: the results, report and API routes read this one.
    closed = barometer.open_round(
        db,
        actor=actor,
        partnership_id=pid,
        data=barometer.RoundCreate(
            instrument=INSTRUMENT,
            title="Barometer last year",
            opens_on=date.today() - timedelta(days=30),
            closes_on=date.today() - timedelta(days=10),
        ),
    )
    first_item = default_instrument().items[0].key
    barometer.record_imported_responses(
        db, actor=actor, round_id=closed.id, rows=[({}, {first_item: 1 + n % 5}) for n in range(6)]
    )
    results.release_results(db, actor=actor, round_id=closed.id)
    # A comparison group the partnership is in, for the pages of its comparison.
    from reticulist.comparison import service as comparison

    group = comparison.create_group(db, actor=cli_actor(), name="Sweep group")
    comparison.opt_in(db, actor=cli_actor(), partnership_id=pid, group_id=group.id)
    invitation = accounts.invite_to_partnership(
        db, actor=cli_actor(), partnership_id=pid, email="invited@example.org", role=Role.MEMBER
    )
    db.commit()
    return {
        "released_round_id": closed.id,
        "group_id": group.id,
        "partnership_id": pid,
        "invitation_id": invitation.id,
        "organisation_id": world.organisation_id,
        "profession_id": world.profession_id,
        "person_id": person.id,
        "seat_id": seat.id,
        "meeting_id": meeting.id,
        "action_id": action.id,
        "user_id": world.member.user_id or 0,
        "round_id": barometer_round.id,
        "instrument_ref": INSTRUMENT,
        **_family(db, world),
    }


def _family(db: Session, world: World) -> dict[str, int]:
    """A family recorded for a practitioner of the partnership, and a referral of its child."""
    from reticulist.casework import schemas as cs
    from reticulist.casework import service as casework
    from tests.casework.conftest import family_data

    root = cli_actor()
    lead = register.create_person(
        db,
        actor=root,
        partnership_id=world.partnership_id,
        data=s.PersonCreate(full_name="Lee Lead", organisation_id=world.organisation_id, hierarchy_tier=5),
    )
    family = casework.record_family(
        db,
        actor=root,
        partnership_id=world.partnership_id,
        data=s.parse(cs.FamilyCreate, family_data(None, lead.id)),
    )
    from reticulist.casework.models import Assessment, Episode, FamilyMember, Involvement, Referral

    episode = db.scalar(select(Episode).where(Episode.family_id == family.id))
    involvement = db.scalar(select(Involvement).where(Involvement.episode_id == episode.id))  # type: ignore[union-attr]
    child = db.scalar(
        select(FamilyMember).where(FamilyMember.family_id == family.id, FamilyMember.kind == "child")
    )
    referral = Referral(
        family_id=family.id,
        episode_id=episode.id,  # type: ignore[union-attr]
        partnership_id=world.partnership_id,
        from_involvement_id=involvement.id,  # type: ignore[union-attr]
        to_organisation_id=world.organisation_id,
        child_member_id=child.id,  # type: ignore[union-attr]
        reason="x",
        sent_on=date.today(),
    )
    db.add(referral)
    assessment = Assessment(episode_id=episode.id, version=1, status="draft", drafted_by_label="x")  # type: ignore[union-attr]
    db.add(assessment)
    db.commit()
    # A published quarter of casework figures (an early one: empty, which is enough to open it).
    from reticulist.casework import figures

    figures._store(db, root, world.partnership_id, date(2024, 1, 1), 5, [])
    from reticulist.casework.models import BreakGlass
    from reticulist.db.base import utcnow

    use = BreakGlass(
        partnership_id=world.partnership_id,
        family_id=family.id,
        user_id=world.member.user_id,
        actor_label="x",
        reason="x" * 20,
        expires_at=utcnow(),
    )
    db.add(use)
    db.commit()
    from reticulist.casework.models import Consent

    consent = Consent(
        family_id=family.id,
        given_by_member_id=child.id,  # type: ignore[union-attr]
        organisation_ids=[world.organisation_id],
        kinds=["people"],
        given_on=date.today(),
        recorded_by_label="x",
    )
    db.add(consent)
    db.commit()
    return {
        "consent_id": consent.id,
        "request_id": 1,
        "record_type": "family_record",
        "hold_id": 1,
        "step": "done",
        "use_id": use.id,
        "family_id": family.id,
        "referral_id": referral.id,
        "assessment_id": assessment.id,
        "quarter": "2024-Q1",
        # Linkage pages answer 404 to every persona here before looking the record up.
        "source_id": 1,
        "model_id": 1,
        "pair_id": 1,
        "member_id": child.id,  # type: ignore[union-attr]
        "record_id": 1,
    }


def _url(path: str, ids: dict[str, object]) -> str:
    released = re.search(r"/rounds/\{round_id\}/(results|report)", path)
    return re.sub(
        r"\{(\w+)\}",
        lambda m: str(ids["released_round_id" if released and m.group(1) == "round_id" else m.group(1)]),
        path,
    )


def _call(browser: Browser, method: str, url: str, token: str | None = None):  # type: ignore[no-untyped-def]
    if url.startswith("/api/"):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = [] if url.endswith("/attendance") else {}
        return browser.client.request(method, url, headers=headers, json=None if method == "GET" else body)
    return browser.get(url) if method == "GET" else browser.post(url, {})


def _token(db: Session, world: World, persona: str) -> str:
    _, token = accounts.create_api_token(
        db, actor=getattr(world, persona), name="sweep", secret_key="test-secret-key-" + "x" * 20
    )
    db.commit()
    return token


def test_anonymous_is_sent_to_log_in(app, browsers: dict[str, Browser], ids: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    for method, path in _routes(app):
        response = _call(browsers["anonymous"], method, _url(path, ids))
        if path.startswith("/api/"):
            assert response.status_code == 401, (method, path)
        else:
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login"), (method, path)


def test_outsider_finds_nothing(
    app, db: Session, world: World, browsers: dict[str, Browser], ids: dict[str, object]
) -> None:  # type: ignore[no-untyped-def]
    token = _token(db, world, "outsider")
    for method, path in _routes(app):
        response = _call(browsers["outsider"], method, _url(path, ids), token)
        assert response.status_code == 404, (method, path, response.status_code)


def test_member_reads_but_changes_nothing(
    app, db: Session, world: World, browsers: dict[str, Browser], ids: dict[str, object]
) -> None:  # type: ignore[no-untyped-def]
    token = _token(db, world, "member")
    for method, path in _routes(app):
        response = _call(browsers["member"], method, _url(path, ids), token)
        edit_page = not path.startswith("/api/") and (
            EDIT_FORMS.search(path) or path.endswith(("/roles", "/audit"))
        )
        reads = method == "GET" and not edit_page
        expected = 200 if reads else 403
        if CASEWORK.search(path):
            expected = _casework_for_register_roles(method, path)
        if CASEWORK_FIGURES.search(path) or BREAK_GLASS.search(path):
            expected = 403
        if LINKAGE.search(path):
            expected = 404
        if COMPARISON.search(path):
            expected = 403
        assert response.status_code == expected, (method, path, response.status_code)


def test_manager_opens_every_page_but_roles(
    app, browsers: dict[str, Browser], ids: dict[str, object]
) -> None:  # type: ignore[no-untyped-def]
    for method, path in _routes(app):
        if method != "GET" or path.startswith("/api/"):
            continue
        response = _call(browsers["manager"], method, _url(path, ids))
        expected = 403 if path.endswith("/roles") else 200
        if CASEWORK.search(path):
            expected = _casework_for_register_roles(method, path)
        if BREAK_GLASS.search(path):
            expected = 403
        if LINKAGE.search(path):
            expected = 404
        assert response.status_code == expected, (method, path, response.status_code)
