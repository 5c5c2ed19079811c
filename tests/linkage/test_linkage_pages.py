"""The linkage pages through the web app, with the personas: the linkage analyst sees every page and
decides through the forms; managers, admins, members and outsiders get 404 on every page and form; strange
input is refused at its field, never a server error."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from reticulist.linkage import review, single_view
from reticulist.linkage.models import LinkageLabel, LinkageModel, LinkageRecord, LinkageSource
from tests.conftest import Browser

from .conftest import LinkWorld


def _urls(db: Session, world: LinkWorld) -> dict[str, str]:
    pid = world.world.partnership_id
    analyst = world.actors["analyst"]
    pair_id = review.queue(db, actor=analyst, partnership_id=pid).lines[0].pair_id
    member_id = single_view.known_children(db, actor=analyst, partnership_id=pid)[0][0].member_id
    source_id = db.scalar(select(LinkageSource.id).where(LinkageSource.name == "health"))
    model_id = db.scalar(select(LinkageModel.id))
    base = f"/p/{pid}/linkage"
    return {
        "overview": base,
        "source": f"{base}/sources/{source_id}",
        "model": f"{base}/models/{model_id}",
        "queue": f"{base}/review",
        "pair": f"{base}/review/{pair_id}",
        "children": f"{base}/children",
        "child": f"{base}/children/{member_id}",
        "groups": f"{base}/groups",
    }


def test_only_the_linkage_role_sees_linkage(app, db: Session, linked_world: LinkWorld) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(db, linked_world)
    analyst = Browser(app, linked_world.emails["analyst"])
    for name, url in urls.items():
        page = analyst.get(url)
        assert page.status_code == 200, (name, page.status_code)
    assert ">Linkage</a>" in analyst.get(f"/p/{linked_world.world.partnership_id}").text
    pair_url = urls["pair"]
    for persona in ("manager", "admin", "member", "outsider"):
        browser = Browser(app, linked_world.emails[persona])
        for name, url in urls.items():
            assert browser.get(url).status_code == 404, (persona, name)
        assert browser.post(pair_url, {"decision": "same"}).status_code == 404, persona
        assert browser.post(f"{urls['child']}/records/1", {"decision": "different"}).status_code == 404
        assert ">Linkage</a>" not in browser.get(f"/p/{linked_world.world.partnership_id}").text
    assert db.scalar(select(LinkageLabel)) is None


def test_pages_show_what_they_promise(app, db: Session, linked_world: LinkWorld) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(db, linked_world)
    analyst = Browser(app, linked_world.emails["analyst"])
    overview = analyst.get(urls["overview"]).text
    assert "Against the synthetic truth" in overview and "health" in overview
    model = analyst.get(urls["model"]).text
    assert "<svg" in model and "Match weights of the model" in model and "Day and month swapped" in model
    source = analyst.get(urls["source"]).text
    assert "Data quality of health" in source and "Nhs number" not in source
    pair = analyst.get(urls["pair"]).text
    assert "Waterfall of evidence" in pair and "Are these the same child?" in pair
    groups = analyst.get(urls["groups"]).text
    assert "By ethnicity" in groups and "synthetic_person_id" not in groups


def test_deciding_through_the_form_goes_on_to_the_next_pair(
    app, db: Session, linked_world: LinkWorld
) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(db, linked_world)
    analyst = Browser(app, linked_world.emails["analyst"])
    done = analyst.post(urls["pair"], {"decision": "different", "note": "Twins: different forenames."})
    assert done.status_code == 303
    assert "/linkage/review/" in done.headers["location"] and done.headers["location"] != urls["pair"]
    label = db.scalar(select(LinkageLabel))
    assert label is not None and label.decision == "different" and label.note == "Twins: different forenames."
    # The same form without its CSRF token is refused.
    anonymous_form = analyst.client.post(urls["pair"], data={"decision": "same"})
    assert anonymous_form.status_code in (400, 403)


def test_strange_input_is_refused_at_its_field(app, db: Session, linked_world: LinkWorld) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(db, linked_world)
    analyst = Browser(app, linked_world.emails["analyst"])
    for data in (
        {"decision": "maybe"},
        {"decision": "unsure", "note": ""},
        {"decision": "same", "note": "x" * 5000},
        {},
    ):
        page = analyst.post(urls["pair"], data)  # type: ignore[arg-type]
        assert page.status_code == 422, data
        assert "There is a problem" in page.text or "error" in page.text
    # A field sent twice counts once, as every form of the app reads it (the last value): no server error.
    assert analyst.post(urls["pair"], {"decision": ["bogus", "same"]}).status_code == 303  # type: ignore[dict-item]
    db.query(LinkageLabel).delete()
    db.commit()
    pid = linked_world.world.partnership_id
    for url in (
        f"/p/{pid}/linkage/review/0",
        f"/p/{pid}/linkage/review/99999999999999999999",
        f"/p/{pid}/linkage/review/abc",
        f"/p/{pid}/linkage/children/-5",
        f"/p/{pid}/linkage/sources/0",
        f"/p/{pid}/linkage/models/7",
        f"/p/{pid}/linkage/review?page=-1",
        f"/p/{pid}/linkage/review?page=abc",
    ):
        assert analyst.get(url).status_code in (404, 422), url
    assert analyst.post(f"{urls['child']}/records/0", {"decision": "same"}).status_code == 404
    assert analyst.post(f"{urls['child']}/records/1", {"decision": "attach"}).status_code == 422
    assert db.scalar(select(LinkageLabel)) is None


def test_attach_and_take_off_through_the_child_page(app, db: Session, linked_world: LinkWorld) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(db, linked_world)
    analyst = Browser(app, linked_world.emails["analyst"])
    pid = linked_world.world.partnership_id
    member_id = int(urls["child"].rsplit("/", 1)[1])
    view = single_view.child_view(
        db, actor=linked_world.actors["analyst"], partnership_id=pid, member_id=member_id
    )
    db.commit()
    record_id = view.records[1].record_id
    off = analyst.post(
        f"{urls['child']}/records/{record_id}", {"decision": "different", f"note_{record_id}": "A cousin."}
    )
    assert off.status_code == 303
    label = db.scalar(select(LinkageLabel))
    assert label is not None and label.decision == "different" and label.note == "A cousin."
    page = analyst.get(urls["child"]).text
    assert f'/records/{record_id}"' not in page.split("Records the run scored near this child")[0]
    back = analyst.post(
        f"{urls['child']}/records/{record_id}", {"decision": "same", f"note_{record_id}": "Checked."}
    )
    assert back.status_code == 303
    db.refresh(label)
    assert label.decision == "same" and label.note == "Checked."


def test_attaching_a_record_by_its_agency_id(app, db: Session, linked_world: LinkWorld) -> None:  # type: ignore[no-untyped-def]
    urls = _urls(db, linked_world)
    analyst = Browser(app, linked_world.emails["analyst"])
    attach = f"{urls['child']}/attach"
    for data, field in (
        ({"source": "casework", "record_key": "member-1"}, "Choose one of the agencies"),
        ({"source": "police", "record_key": "NOPE"}, "no record with that id in police"),
        ({"source": "", "record_key": ""}, "Choose one of the agencies"),
    ):
        page = analyst.post(attach, data)
        assert page.status_code == 422 and field.lower() in page.text.lower(), data
    key = db.scalar(
        select(LinkageRecord.record_key)
        .where(LinkageRecord.record_key.like("P%"))
        .order_by(LinkageRecord.id.desc())
    )
    done = analyst.post(attach, {"source": "police", "record_key": key, "note": "Police system search."})
    assert done.status_code == 303
    label = db.scalar(select(LinkageLabel).where(LinkageLabel.note == "Police system search."))
    assert label is not None and label.decision == "same"
