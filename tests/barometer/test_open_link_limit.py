"""An open link is anyone's: one client address may start it, and send answers through it, only a few
times an hour, so no one can plant many answers. Personal links are not limited. On both databases."""

from __future__ import annotations

import re
import threading

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from reticulist.barometer import service as barometer
from reticulist.barometer.models import BarometerDraft, BarometerResponse
from reticulist.cli.main import app as cli_app
from tests.barometer.barometer_fixtures import (
    SECRET,
    open_test_round,
    small_builtin,  # noqa: F401  (autouse)
    small_instrument,  # noqa: F401
)
from tests.conftest import World


def _at(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url="https://testserver", follow_redirects=False, client=(address, 5))


def _form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def _start(client: TestClient, link: str):  # type: ignore[no-untyped-def]
    return client.post(f"/s/{link}/start", data={"form_token": _form_token(client.get(f"/s/{link}").text)})


def _answer_and_send(client: TestClient, resume: str):  # type: ignore[no-untyped-def]
    page = f"/s/{resume}/working_together"
    client.post(page, data={"form_token": _form_token(client.get(page).text), "trust_1": "4"})
    check = f"/s/{resume}/check"
    return client.post(check, data={"form_token": _form_token(client.get(check).text), "action": "send"})


def _count(db: Session, model: type) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(model)) or 0


def _open_link(db: Session, world: World) -> tuple[int, str]:
    round_id = open_test_round(db, world)
    link = barometer.set_open_link(db, actor=world.manager, round_id=round_id, secret_key=SECRET)
    db.commit()
    return round_id, link


def test_one_address_may_start_the_open_link_only_so_often_an_hour(app, world: World, db: Session) -> None:  # type: ignore[no-untyped-def]
    round_id, link = _open_link(db, world)
    planter = _at(app, "203.0.113.9")
    for _ in range(3):  # RETICULIST_OPEN_LINK_USES_PER_HOUR, default 3
        assert _start(planter, link).status_code == 303
    refused = _start(planter, link)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 3000
    assert (
        "Please try again later" in refused.text
        and "started several times from your internet" in refused.text
    )
    assert "about 60 minutes" in refused.text and "personal link" in refused.text
    assert refused.headers["cache-control"] == "no-store"
    assert _count(db, BarometerDraft) == 3
    # Someone else, elsewhere, is not held back.
    assert _start(_at(app, "198.51.100.4"), link).status_code == 303
    # Personal links from the same address are not limited.
    issued = barometer.issue_invitations(
        db,
        actor=world.manager,
        round_id=round_id,
        invitees=[f"p{n}@example.org" for n in range(5)],
        secret_key=SECRET,
    )
    db.commit()
    for invitation in issued:
        assert _start(planter, invitation.token).status_code == 303
    assert _count(db, BarometerDraft) == 9


def test_one_address_may_send_answers_begun_on_the_open_link_only_so_often_an_hour(
    app,
    world: World,
    db: Session,  # type: ignore[no-untyped-def]
) -> None:
    _, link = _open_link(db, world)
    # Drafts begun from four places (within each one's limit), all sent from one.
    resumes = [_start(_at(app, f"192.0.2.{n}"), link).headers["location"].split("/")[2] for n in range(4)]
    sender = _at(app, "203.0.113.9")
    for resume in resumes[:3]:
        assert _answer_and_send(sender, resume).headers["location"].endswith("/thanks")
    refused = _answer_and_send(sender, resumes[3])
    assert refused.status_code == 429 and "Your answers are saved" in refused.text
    assert f'href="/s/{resumes[3]}/check"' in refused.text
    assert _count(db, BarometerResponse) == 3
    draft = db.scalars(select(BarometerDraft).where(BarometerDraft.submitted.is_(False))).one()
    assert draft.answers == {"trust_1": 4}  # kept, to send later
    # The operator can clear the address's counts.
    cleared = CliRunner().invoke(
        cli_app,
        [
            "user",
            "unlock",
            "--address",
            "203.0.113.9",
            "--database",
            str(db.get_bind().url.render_as_string(hide_password=False)),
        ],
    )
    assert cleared.exit_code == 0, cleared.output
    assert _answer_and_send(sender, resumes[3]).headers["location"].endswith("/thanks")
    assert _count(db, BarometerResponse) == 4


def test_simultaneous_starts_from_one_address_cannot_pass_the_limit(
    world: World, db: Session, session_factory: sessionmaker[Session]
) -> None:
    _, link = _open_link(db, world)
    limit = barometer.OpenLinkLimit(client="203.0.113.9", per_hour=3)
    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def start() -> None:
        with session_factory() as session:
            barrier.wait()
            try:
                barometer.start_or_resume(session, token=link, secret_key=SECRET, limit=limit)
                session.commit()
                outcomes.append("started")
            except barometer.TooManyFromHere:
                session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=start) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["started"] * 3
    assert _count(db, BarometerDraft) == 3
