"""The roles page: admins grant, change and remove roles; no one else may, and no admin locks themself out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.access.models import Membership, User
from reticulist.access.policy import cli_actor
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
    before = roles_stored(db, world.partnership_id)
    posts = [
        (url, {"email": "robin@example.org", "role": "member"}),
        (f"{url}/{member_id}", {"role": "admin"}),
        (f"{url}/{member_id}/remove", {}),
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


def test_admin_grants_changes_and_removes_a_role(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    new_account(db, "robin@example.org")
    admin = browsers["admin"]
    url = f"/p/{world.partnership_id}/roles"
    granted = admin.post(url, {"email": "Robin@Example.org ", "role": "member"})
    assert granted.status_code == 303
    assert "robin@example.org" in admin.get(url).text
    assert roles_stored(db, world.partnership_id)["robin@example.org"] == "member"
    robin = user_id(db, "robin@example.org")
    assert admin.post(f"{url}/{robin}", {"role": "manager"}).status_code == 303
    assert roles_stored(db, world.partnership_id)["robin@example.org"] == "manager"
    # Robin, now a manager, can reach the register but not this page.
    robin_browser = Browser(admin.client.app, "robin@example.org")
    assert robin_browser.get(f"/p/{world.partnership_id}/people").status_code == 200
    assert robin_browser.get(url).status_code == 403
    removed = admin.post(f"{url}/{robin}/remove")
    assert removed.status_code == 303 and "done=role-removed" in removed.headers["location"]
    assert "robin@example.org" not in roles_stored(db, world.partnership_id)
    assert robin_browser.get(f"/p/{world.partnership_id}/people").status_code == 404


def test_bad_grants_are_shown_again_and_change_nothing(
    browsers: dict[str, Browser], world: World, db: Session
) -> None:
    new_account(db, "robin@example.org")
    admin = browsers["admin"]
    url = f"/p/{world.partnership_id}/roles"
    before = roles_stored(db, world.partnership_id)
    cases = [
        ({"email": "nobody@example.org", "role": "member"}, "there is no account for nobody@example.org"),
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
