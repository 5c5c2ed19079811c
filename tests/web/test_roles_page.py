"""The roles page: admins invite people, change and remove roles; no one else may, no admin locks themself
out, and an admin can neither learn whether an email has an account nor add anyone without their say."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.models import Membership, PartnershipInvitation, User
from reticulist.access.policy import Role, cli_actor
from reticulist.audit.models import AuditEvent
from reticulist.db.base import utcnow
from tests.conftest import PASSWORD, Browser, World


def roles_stored(db: Session, partnership_id: int) -> dict[str, str]:
    db.rollback()  # end the test's read transaction so the app's commits are seen
    rows = db.execute(
        select(User.email, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.partnership_id == partnership_id)
    ).all()
    return {email: role for email, role in rows}


def new_account(db: Session, email: str) -> User:
    user = accounts.create_user(
        db, actor=cli_actor("test"), email=email, display_name="Robin New", password=PASSWORD
    )
    db.commit()
    return user


def user_id(db: Session, email: str) -> int:
    found = db.scalar(select(User.id).where(User.email == email))
    assert found is not None
    return found


def test_only_admins_see_and_use_the_roles_page(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    url = f"/p/{world.partnership_id}/roles"
    page = browsers["admin"].get(url)
    assert page.status_code == 200
    for persona in ("admin", "manager", "member"):
        assert world.emails[persona] in page.text
    assert world.emails["outsider"] not in page.text
    assert f'href="{url}"' in browsers["admin"].get(f"/p/{world.partnership_id}/organisations").text
    assert f'href="{url}"' not in browsers["manager"].get(f"/p/{world.partnership_id}/organisations").text
    new_account(db, "robin@example.org")
    member_id = user_id(db, world.emails["member"])
    invitation = accounts.invite_to_partnership(
        db, actor=cli_actor(), partnership_id=world.partnership_id, email="sam@example.org", role=Role.MEMBER
    )
    db.commit()
    before = roles_stored(db, world.partnership_id)
    posts = [
        (url, {"email": "robin@example.org", "role": "member"}),
        (f"{url}/{member_id}", {"role": "admin"}),
        (f"{url}/{member_id}/remove", {}),
        (f"{url}/invitations/{invitation.id}/withdraw", {}),
    ]
    for persona in ("manager", "member"):
        assert browsers[persona].get(url).status_code == 403
        for post_url, form in posts:
            assert browsers[persona].post(post_url, form).status_code == 403
    assert browsers["outsider"].get(url).status_code == 404
    for post_url, form in posts:
        assert browsers["outsider"].post(post_url, form).status_code == 404
    # The outsider is an admin of nothing: their own partnership's roles page is closed to a manager too.
    assert browsers["outsider"].get(f"/p/{world.other_partnership_id}/roles").status_code == 403
    assert roles_stored(db, world.partnership_id) == before
    assert [i.email for i in db.scalars(select(PartnershipInvitation))] == ["sam@example.org"]


def test_admin_grants_changes_and_removes_a_role(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    new_account(db, "robin@example.org")
    admin = browsers["admin"]
    url = f"/p/{world.partnership_id}/roles"
    invited = admin.post(url, {"email": "Robin@Example.org ", "role": "member"})
    assert invited.status_code == 303 and invited.headers["location"] == f"{url}?done=invited"
    assert "robin@example.org" not in roles_stored(db, world.partnership_id)  # not without their say
    assert "Invitation recorded" in admin.get(invited.headers["location"]).text
    # Robin sees the invitation after logging in, on the home page and the account page, and accepts.
    robin_browser = Browser(admin.client.app, "robin@example.org")
    home = robin_browser.get("/")
    assert home.status_code == 200 and "You are invited to join Brempton Test Partnership" in home.text
    account = robin_browser.get("/account")
    invitation_id = int(account.text.split("/account/invitations/")[1].split("/")[0])
    assert robin_browser.get(f"/p/{world.partnership_id}/people").status_code == 404
    joined = robin_browser.post(f"/account/invitations/{invitation_id}/accept")
    assert (
        joined.status_code == 303 and joined.headers["location"] == f"/p/{world.partnership_id}?done=joined"
    )
    assert roles_stored(db, world.partnership_id)["robin@example.org"] == "member"
    assert "not accepted yet" not in admin.get(url).text  # the invitation is used up
    robin = user_id(db, "robin@example.org")
    # Now that Robin has a role here, the admin changes it directly, by row or by email.
    assert admin.post(f"{url}/{robin}", {"role": "manager"}).status_code == 303
    assert roles_stored(db, world.partnership_id)["robin@example.org"] == "manager"
    by_email = admin.post(url, {"email": "robin@example.org", "role": "member"})
    assert by_email.headers["location"] == f"{url}?done=role"
    assert roles_stored(db, world.partnership_id)["robin@example.org"] == "member"
    assert admin.post(f"{url}/{robin}", {"role": "manager"}).status_code == 303
    # Robin, now a manager, can reach the register but not this page.
    assert robin_browser.get(f"/p/{world.partnership_id}/people").status_code == 200
    assert robin_browser.get(url).status_code == 403
    removed = admin.post(f"{url}/{robin}/remove")
    assert removed.status_code == 303 and "done=role-removed" in removed.headers["location"]
    assert "robin@example.org" not in roles_stored(db, world.partnership_id)
    assert robin_browser.get(f"/p/{world.partnership_id}/people").status_code == 404
    events = db.scalars(
        select(AuditEvent.event)
        .where(AuditEvent.record_type == "partnership_invitation")
        .order_by(AuditEvent.id)
    ).all()
    assert events == ["invited", "accepted"]


def _invitation_rows(html: str) -> str:
    return html.split("not accepted yet</caption>")[1].split("<tbody>")[1].split("</tbody>")[0]


def test_an_admin_cannot_tell_whether_an_email_has_an_account(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    new_account(db, "robin@example.org")
    admin = browsers["admin"]
    url = f"/p/{world.partnership_id}/roles"
    has_account = admin.post(url, {"email": "robin@example.org", "role": "manager"})
    no_account = admin.post(url, {"email": "nobody@example.org", "role": "manager"})
    assert (has_account.status_code, has_account.headers["location"]) == (
        no_account.status_code,
        no_account.headers["location"],
    )
    # Robin declines. The admin's page goes on showing both invitations alike, until they lapse.
    robin_browser = Browser(admin.client.app, "robin@example.org")
    invitation_id = int(robin_browser.get("/account").text.split("/account/invitations/")[1].split("/")[0])
    declined = robin_browser.post(f"/account/invitations/{invitation_id}/decline")
    assert declined.status_code == 303 and declined.headers["location"] == "/account?done=declined"
    assert "/account/invitations/" not in robin_browser.get("/account").text
    rows = _invitation_rows(admin.get(url).text).split("<tr>")[1:]
    assert len(rows) == 2
    nobody, robin = rows  # by email

    def alike(row: str) -> str:  # each form's key is new with each rendering (web/idempotency.py)
        return re.sub(r'invitations/\d+/|name="form_key" value="[^"]*"', "", row)

    assert alike(nobody.replace("nobody", "X")) == alike(robin.replace("robin", "X"))
    # Nor does the partnership's audit log tell: the decline is recorded outside the partnership.
    log = browsers["manager"].get(f"/p/{world.partnership_id}/audit").text
    assert "declined" not in log and log.count("invited to join as manager") == 2
    db.rollback()
    declined_event = db.scalars(select(AuditEvent).where(AuditEvent.event == "declined")).one()
    assert declined_event.partnership_id is None and "robin@example.org" in declined_event.summary
    # Robin is not a member, and cannot accept what they declined; the admin may invite again.
    assert "robin@example.org" not in roles_stored(db, world.partnership_id)
    assert robin_browser.post(f"/account/invitations/{invitation_id}/accept").status_code == 404
    assert admin.post(url, {"email": "robin@example.org", "role": "member"}).status_code == 303
    assert "Brempton Test Partnership" in robin_browser.get("/account").text


def test_only_the_invited_account_can_answer_an_invitation(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    new_account(db, "robin@example.org")
    url = f"/p/{world.partnership_id}/roles"
    assert browsers["admin"].post(url, {"email": "robin@example.org", "role": "admin"}).status_code == 303
    invitation_id = db.scalars(select(PartnershipInvitation.id)).one()
    for persona in ("manager", "member", "outsider", "admin"):
        for answer in ("accept", "decline"):
            refused = browsers[persona].post(f"/account/invitations/{invitation_id}/{answer}")
            assert refused.status_code == 404, (persona, answer)
    assert browsers["outsider"].get(f"/p/{world.partnership_id}/people").status_code == 404
    robin_browser = Browser(browsers["admin"].client.app, "robin@example.org")
    # Without the form's CSRF token, nothing happens.
    forged = robin_browser.client.post(f"/account/invitations/{invitation_id}/accept", data={})
    assert forged.status_code == 403
    assert "robin@example.org" not in roles_stored(db, world.partnership_id)
    assert robin_browser.post(f"/account/invitations/{invitation_id}/accept").status_code == 303
    assert robin_browser.post(f"/account/invitations/{invitation_id}/accept").status_code == 404  # once
    assert roles_stored(db, world.partnership_id)["robin@example.org"] == "admin"


def test_an_invitation_can_be_withdrawn_and_lapses(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    new_account(db, "robin@example.org")
    admin = browsers["admin"]
    url = f"/p/{world.partnership_id}/roles"
    admin.post(url, {"email": "robin@example.org", "role": "member"})
    invitation_id = db.scalars(select(PartnershipInvitation.id)).one()
    # Another partnership's address does not reach it.
    other = admin.post(f"/p/{world.other_partnership_id}/roles/invitations/{invitation_id}/withdraw")
    assert other.status_code == 404
    withdrawn = admin.post(f"{url}/invitations/{invitation_id}/withdraw")
    assert (
        withdrawn.status_code == 303 and withdrawn.headers["location"] == f"{url}?done=invitation-withdrawn"
    )
    robin_browser = Browser(admin.client.app, "robin@example.org")
    assert "/account/invitations/" not in robin_browser.get("/account").text
    assert robin_browser.post(f"/account/invitations/{invitation_id}/accept").status_code == 404
    # An invitation lapses after 30 days.
    admin.post(url, {"email": "robin@example.org", "role": "member"})
    db.rollback()
    invitation = db.scalars(select(PartnershipInvitation)).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert "/account/invitations/" not in robin_browser.get("/account").text
    assert robin_browser.post(f"/account/invitations/{invitation.id}/accept").status_code == 404
    assert "not accepted yet" not in admin.get(url).text


def test_a_site_admin_adds_an_existing_account_directly(app, world: World, db: Session) -> None:  # type: ignore[no-untyped-def]
    accounts.create_user(
        db,
        actor=cli_actor(),
        email="root@example.org",
        display_name="Root",
        password=PASSWORD,
        is_site_admin=True,
    )
    new_account(db, "robin@example.org")
    root = Browser(app, "root@example.org")
    url = f"/p/{world.partnership_id}/roles"
    added = root.post(url, {"email": "robin@example.org", "role": "member"})
    assert added.headers["location"] == f"{url}?done=role-added"
    assert roles_stored(db, world.partnership_id)["robin@example.org"] == "member"
    missing = root.post(url, {"email": "nobody@example.org", "role": "member"})
    assert missing.status_code == 422 and "there is no account for nobody@example.org" in missing.text


def test_bad_grants_are_shown_again_and_change_nothing(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    new_account(db, "robin@example.org")
    admin = browsers["admin"]
    url = f"/p/{world.partnership_id}/roles"
    before = roles_stored(db, world.partnership_id)
    cases = [
        ({"email": "", "role": "member"}, "Email: is required"),
        ({"email": "not an address", "role": "member"}, "is not an email address"),
        (
            {"email": "robin@example.org", "role": "owner"},
            "&#34;owner&#34; is not one of: admin, manager, member",
        ),
    ]
    for form, message in cases:
        page = admin.post(url, form)
        assert page.status_code == 422, form
        assert message in page.text, form
    bad_change = admin.post(f"{url}/{user_id(db, world.emails['member'])}", {"role": "owner"})
    assert bad_change.status_code == 422 and "is not one of" in bad_change.text
    assert roles_stored(db, world.partnership_id) == before
    # Someone without a role here cannot be changed through this page: there is no such row.
    outsider_id = user_id(db, world.emails["outsider"])
    assert admin.post(f"{url}/{outsider_id}", {"role": "admin"}).status_code == 404
    assert admin.post(f"{url}/{outsider_id}/remove").status_code == 404


def test_an_admin_cannot_demote_or_remove_themself(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    admin = browsers["admin"]
    url = f"/p/{world.partnership_id}/roles"
    me = user_id(db, world.emails["admin"])
    demoted = admin.post(f"{url}/{me}", {"role": "manager"})
    assert demoted.status_code == 422 and "you cannot remove your own admin role" in demoted.text
    by_email = admin.post(url, {"email": world.emails["admin"], "role": "member"})
    assert by_email.status_code == 422 and "you cannot remove your own admin role" in by_email.text
    removed = admin.post(f"{url}/{me}/remove")
    assert removed.status_code == 422 and "you cannot remove your own admin role" in removed.text
    assert roles_stored(db, world.partnership_id)[world.emails["admin"]] == "admin"
    assert admin.get(url).status_code == 200
    # Keeping their own admin role is fine.
    assert admin.post(f"{url}/{me}", {"role": "admin"}).status_code == 303
