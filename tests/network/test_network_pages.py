"""Network pages on SQLite and PostgreSQL: the whole network, one person, change between two dates; who
sees names (managers) and who sees only organisation and profession (members); outsiders find nothing;
the choice of sources, weights, dates and minimum strength changes the figures; bad choices are named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from reticulist.access.policy import cli_actor
from reticulist.network import analysis as a
from reticulist.network import service as network
from reticulist.network import ties as t
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import Browser, World
from tests.network.labels import member_label

TODAY = date.today()
EARLIER = TODAY - timedelta(days=200)


@dataclass
class Small:
    """A small partnership network: Bob (police) is the only link between police and the others."""

    ids: dict[str, int]
    names: list[str]
    meeting_id: int


def _small(db: Session, world: World) -> Small:
    root, pid = cli_actor("test"), world.partnership_id
    orgs = {"police": world.organisation_id}
    for key, name, kind in (
        ("cs", "Children's Services", "childrens_social_care"),
        ("health", "Health Trust", "health"),
    ):
        orgs[key] = register.create_organisation(
            db,
            actor=root,
            partnership_id=pid,
            data=s.OrganisationCreate(name=name, kind=kind, tier="statutory"),
        ).id
    profs = {"police": world.profession_id}
    for key, name in (("sw", "Social worker"), ("nurse", "Nurse")):
        profs[key] = register.create_profession(
            db, actor=root, partnership_id=pid, data=s.ProfessionCreate(name=name)
        ).id
    ids = {}
    for name, org, prof in (
        ("Alice Archer", "police", "police"),
        ("Bob Bridger", "police", "police"),
        ("Carol Carter", "cs", "sw"),
        ("Dan Dawson", "cs", "sw"),
        ("Erin Evans", "health", "nurse"),
        ("Fay Fenwick", "health", "nurse"),
    ):
        ids[name] = register.create_person(
            db,
            actor=root,
            partnership_id=pid,
            data=s.PersonCreate(
                full_name=name, organisation_id=orgs[org], profession_id=profs[prof], hierarchy_tier=3
            ),
        ).id

    def tie(a: str, b: str, on: date) -> t.TieValues:
        return t.TieValues(
            from_person_id=ids[a], to_person_id=ids[b], observed_on=on, trust_reliable=3, value_influence=2
        )

    ties = [
        tie("Alice Archer", "Bob Bridger", EARLIER),
        tie("Bob Bridger", "Carol Carter", EARLIER),
        tie("Carol Carter", "Dan Dawson", EARLIER),
        tie("Bob Bridger", "Erin Evans", EARLIER),
        tie("Erin Evans", "Fay Fenwick", EARLIER),
        # Later, Alice also works with Carol directly; Bob's tie to Erin is not reported again.
        tie("Alice Archer", "Carol Carter", TODAY - timedelta(days=5)),
    ]
    network.store_ties(db, actor=root, partnership_id=pid, ties=ties, source=t.IMPORTED)
    meeting = register.create_meeting(
        db,
        actor=root,
        partnership_id=pid,
        data=s.MeetingCreate(title="Case conference", held_on=TODAY - timedelta(days=3)),
    )
    register.set_attendance(
        db,
        actor=root,
        meeting_id=meeting.id,
        entries=[
            s.AttendanceEntry(person_id=ids[n], status="present")
            for n in ("Alice Archer", "Dan Dawson", "Fay Fenwick")
        ],
    )
    db.commit()
    return Small(ids=ids, names=list(ids), meeting_id=meeting.id)


def _figure(html: str, label: str) -> str:
    found = re.search(
        rf'data-label="Figure">{re.escape(label)}</th><td data-label="Value" class="num">([^<]*)</td>', html
    )
    assert found, f"no figure {label}"
    return found.group(1)


def _no_names(html: str, names: list[str]) -> None:
    for name in names:
        assert name not in html, name
        assert name.split()[1] not in html, name  # not even the surname


def _all_register_names(db: Session, world: World) -> list[str]:
    actor = cli_actor("test")
    return [p.full_name for p in register.list_people(db, actor=actor, partnership_id=world.partnership_id)]


# --- the network page ----------------------------------------------------------------------------------
def test_manager_sees_names_and_every_table(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    small = _small(db, world)
    pid = world.partnership_id
    page = browsers["manager"].get(f"/p/{pid}/network?sources=imported&since=")
    assert page.status_code == 200
    html = page.text
    for heading in (
        "The whole network",
        "Boundary spanners",
        "Silos",
        "Key-person risks",
        "Trust and value by organisation",
    ):
        assert heading in html
    assert _figure(html, "People") == "6"
    assert "Bob Bridger" in html and f"/p/{pid}/network/people/{small.ids['Bob Bridger']}?" in html
    assert f"/p/{pid}/network/map?" in html and 'aria-current="page">Network<' in html
    # Bob is the first boundary spanner, with his reason in words, and the key person between police and
    # the rest.
    spanners = html.split('id="spanners"')[1].split('id="silos"')[0]
    first = spanners.split("<tbody>")[1].split("</tr>")[0]
    assert "Bob Bridger" in first and "links Brempton Police with" in first
    risks = html.split('id="key-people"')[1]
    assert "Bob Bridger" in risks.split("</tr>")[1]


def test_member_sees_the_same_figures_without_a_single_name(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    small = _small(db, world)
    pid = world.partnership_id
    everyone = _all_register_names(db, world)
    assert set(small.names) <= set(everyone)
    manager = browsers["manager"].get(f"/p/{pid}/network?sources=imported&since=").text
    member_page = browsers["member"].get(f"/p/{pid}/network?sources=imported&since=")
    assert member_page.status_code == 200
    html = member_page.text
    _no_names(html, everyone)
    assert member_label(db, world, "Bob Bridger", {"imported": 1.0}) in html  # Bob, by a label only
    assert _figure(html, "Ties") == _figure(manager, "Ties")
    # Person links carry a position in the network, never a register number.
    links = re.findall(rf"/p/{pid}/network/people/([^?\"]+)", html)
    assert links and all(re.fullmatch(r"n\d+", key) for key in links)
    for person_id in small.ids.values():
        assert f"/people/{person_id}?" not in html and f'/people/{person_id}"' not in html


def test_outsiders_find_nothing_and_anonymous_visitors_log_in(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    small = _small(db, world)
    pid = world.partnership_id
    urls = [
        f"/p/{pid}/network",
        f"/p/{pid}/network?sources=imported",
        f"/p/{pid}/network/people/{small.ids['Bob Bridger']}",
        f"/p/{pid}/network/people/n1",
        f"/p/{pid}/network/change",
        f"/p/{pid}/network/people.csv",
        f"/p/{pid}/network/people.xlsx",
        f"/p/{world.other_partnership_id + 100}/network",
    ]
    for url in urls:
        response = browsers["outsider"].get(url)
        assert response.status_code == 404, url
        assert "Bob" not in response.text
        assert browsers["anonymous"].get(url).status_code == 303
    # The outsider's own partnership works for them, and shows nothing of this one.
    own = browsers["outsider"].get(f"/p/{world.other_partnership_id}/network")
    assert own.status_code == 200 and "Bob Bridger" not in own.text


def test_sources_weights_dates_and_minimum_strength_change_the_figures(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    _small(db, world)
    pid = world.partnership_id
    browser = browsers["manager"]

    def ties(query: str) -> str:
        response = browser.get(f"/p/{pid}/network?{query}")
        assert response.status_code == 200, response.text
        return _figure(response.text, "Ties")

    assert ties("sources=imported&since=") == "6"
    # Co-attendance adds the meeting's three pairs (Alice-Dan, Alice-Fay, Dan-Fay), none of them imported;
    # mixed sources are folded into one undirected tie per pair.
    assert ties("sources=imported&sources=co_attendance&since=") == "9"
    assert ties("sources=co_attendance&since=") == "3"
    # A minimum strength of 2 keeps a tie only where the weights add up to 2.
    assert ties("sources=imported&since=&min_weight=2") == "0"
    assert ties("sources=imported&w_imported=2&since=&min_weight=2") == "6"
    # Dates: only the tie reported in the last month.
    assert ties(f"sources=imported&since={(TODAY - timedelta(days=30)).isoformat()}") == "1"
    assert ties(f"sources=imported&since=&as_of={(TODAY - timedelta(days=30)).isoformat()}") == "5"
    # The form shows what was chosen.
    html = browser.get(f"/p/{pid}/network?sources=imported,co_attendance&w_co_attendance=0.5&since=").text
    assert 'value="co_attendance" checked' in html and 'name="w_co_attendance" value="0.5"' in html
    assert 'value="shared_actions" checked' not in html


def test_bad_choices_are_named_and_nothing_is_computed(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    _small(db, world)
    pid = world.partnership_id
    for persona in ("manager", "member"):
        response = browsers[persona].get(
            f"/p/{pid}/network?sources=imported&w_imported=-1&as_of=31/02/2026&since=someday&min_weight=heavy"
        )
        assert response.status_code == 422
        html = response.text
        assert "Nothing was computed" in html and "The whole network" not in html
        assert "Weight of imported: &#34;-1&#34; is not a number above 0" in html
        assert "Up to: &#34;31/02/2026&#34; is not a real date: that day does not exist" in html
        assert "From: &#34;someday&#34; is not a date: give YYYY-MM-DD" in html
        assert "Minimum tie strength: &#34;heavy&#34; is not a number, 0 or more" in html
        assert 'name="w_imported" value="-1"' in html and 'aria-invalid="true"' in html  # kept to correct
    nothing = browsers["manager"].get(f"/p/{pid}/network?sources=")
    assert nothing.status_code == 422 and "Ties from: tick at least one source of ties" in nothing.text
    unknown = browsers["manager"].get(f"/p/{pid}/network?sources=gossip")
    assert unknown.status_code == 422 and "&#34;gossip&#34; is not a source of ties" in unknown.text
    later = browsers["manager"].get(f"/p/{pid}/network?sources=imported&since=2026-05-01&as_of=2026-04-01")
    assert later.status_code == 422 and "From: 2026-05-01 is after the end, 2026-04-01" in later.text
    future = browsers["manager"].get(f"/p/{pid}/network?as_of={(TODAY + timedelta(days=2)).isoformat()}")
    assert future.status_code == 422 and "is in the future" in future.text


def test_a_partnership_without_ties_shows_ties_from_meetings_by_default(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    html = browsers["manager"].get(f"/p/{world.partnership_id}/network").text
    assert 'value="co_attendance" checked' in html and 'value="reported" checked' not in html
    assert "No ties in this view" in html
    choice = a.default_choice(db, actor=world.member, partnership_id=world.partnership_id, today=TODAY)
    assert set(choice.sources) == {t.CO_ATTENDANCE, t.SHARED_ACTIONS}
    assert choice.since == TODAY - timedelta(days=a.DEFAULT_WINDOW_DAYS - 1) and choice.as_of == TODAY


# --- one person ----------------------------------------------------------------------------------------
def test_person_page_for_a_manager_by_register_number(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    small = _small(db, world)
    pid, bob = world.partnership_id, small.ids["Bob Bridger"]
    response = browsers["manager"].get(f"/p/{pid}/network/people/{bob}?sources=imported&since=")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Bob Bridger</h1>" in html and f'href="/p/{pid}/people/{bob}"' in html
    assert "ranked 1" in html
    for text in (
        "Degree",
        "Betweenness",
        "Effective size",
        "Constraint",
        "Organisations reached",
        "Brokerage roles",
    ):
        assert text in html
    # His brokerage by organisation and by profession, and what would be cut if he left.
    assert re.search(r"Across boundaries \(all but coordinator\)</th><td[^>]*><strong>[1-9]", html)
    assert "Health Trust would be cut off from 2 organisations it reaches now" in html
    # His ties by source: three imported ties.
    assert html.count("Imported (spreadsheet) 1") == 3 and "Carol Carter" in html
    with_meetings = (
        browsers["manager"]
        .get(f"/p/{pid}/network/people/{small.ids['Alice Archer']}?sources=imported,co_attendance&since=")
        .text
    )
    assert "Co-attendance at meetings 1" in with_meetings and "observed" in with_meetings
    assert browsers["manager"].get(f"/p/{pid}/network/people/999999").status_code == 404
    assert browsers["manager"].get(f"/p/{pid}/network/people/n999").status_code == 404


def test_person_page_for_a_member_by_position_only(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    small = _small(db, world)
    pid = world.partnership_id
    everyone = _all_register_names(db, world)
    network_page = browsers["member"].get(f"/p/{pid}/network?sources=imported&since=").text
    bob = member_label(db, world, "Bob Bridger", {"imported": 1.0})
    link = re.search(rf'href="(/p/{pid}/network/people/n\d+\?[^"]+)">{re.escape(bob)}<', network_page)
    assert link, "Bob's link by position"
    response = browsers["member"].get(link.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    html = response.text
    assert f"<h1>{bob}</h1>" in html and "ranked 1" in html
    assert "Their record in the register" not in html
    _no_names(html, everyone)
    # A register number shows members an explanation, the same for anyone's number and for no one's.
    for number in (small.ids["Bob Bridger"], small.ids["Alice Archer"], 999999):
        page = browsers["member"].get(f"/p/{pid}/network/people/{number}")
        assert page.status_code == 200 and "not shown by register number" in page.text
        _no_names(page.text, everyone)
        assert "Police officer #" not in page.text and "Person #" not in page.text


# --- change between two dates ----------------------------------------------------------------------------
def test_change_page_shows_who_joined_left_and_the_bridges_lost(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    _small(db, world)
    pid = world.partnership_id
    earlier = (TODAY - timedelta(days=100)).isoformat()
    url = f"/p/{pid}/network/change?from={earlier}&to={TODAY.isoformat()}&window=150&sources=imported"
    response = browsers["manager"].get(url)
    assert response.status_code == 200
    html = response.text
    # Earlier window: the five ties of 200 days ago; later: only Alice-Carol of five days ago.
    assert "1 tie gained and 5 lost" in html
    bridges = html.split('id="brokers"')[1].split('id="people"')[0]
    assert "Bob Bridger" in bridges  # no longer brokers
    left = html.split('id="people"')[1]
    assert "Bob Bridger" in left and "Erin Evans" in left
    assert "Alice Archer" in html.split("The strongest boundary spanners")[1]
    # Members: the same change, no names.
    member = browsers["member"].get(url)
    assert member.status_code == 200 and "1 tie gained and 5 lost" in member.text
    _no_names(member.text, _all_register_names(db, world))
    assert "Brempton Police · Police officer #2" not in member.text  # the old, reversible label
    assert "Person #" in member.text
    # Defaults: a year up to today; the page opens without a query (route sweep).
    assert browsers["member"].get(f"/p/{pid}/network/change").status_code == 200


def test_change_page_names_bad_dates(app, db: Session, world: World, browsers: dict[str, Browser]) -> None:  # type: ignore[no-untyped-def]
    pid = world.partnership_id
    response = browsers["manager"].get(
        f"/p/{pid}/network/change?from=31/02/2026&to=tomorrow&window=-3&w_reported=-1&sources=reported"
    )
    assert response.status_code == 422
    html = response.text
    assert "Earlier date: &#34;31/02/2026&#34; is not a real date" in html
    assert "Later date: &#34;tomorrow&#34; is not a date" in html
    assert "Window: &#34;-3&#34; is not a number of days above 0" in html
    assert "Boundary spanners at each date" not in html
    same = browsers["manager"].get(f"/p/{pid}/network/change?from=2026-01-02&to=2026-01-01")
    assert (
        same.status_code == 422
        and "Earlier date: 2026-01-02 is not before the later date 2026-01-01" in same.text
    )
    weight = browsers["member"].get(f"/p/{pid}/network/change?w_reported=-1&sources=reported")
    assert (
        weight.status_code == 422
        and "Weight of reported: &#34;-1&#34; is not a number above 0" in weight.text
    )


def test_the_partnership_navigation_links_the_network(
    app, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    for persona in ("manager", "member", "admin"):
        html = browsers[persona].get(f"/p/{world.partnership_id}/organisations").text
        assert f'href="/p/{world.partnership_id}/network"' in html


def test_an_undirected_network_counts_an_insider_outsider_pair_once_in_one_role(
    app, db: Session, world: World, browsers: dict[str, Browser]
) -> None:  # type: ignore[no-untyped-def]
    small = _small(db, world)
    pid, bob = world.partnership_id, small.ids["Bob Bridger"]
    # Mixed sources make one undirected network. Bob (Police) links Alice (Police) with Erin (Health): one
    # pair of an insider and an outsider, which no direction tells as gatekeeper or representative; and
    # Carol (Children's Services) with Erin: a liaison pair. Alice and Carol work together directly.
    html = (
        browsers["manager"].get(f"/p/{pid}/network/people/{bob}?sources=imported,co_attendance&since=").text
    )
    row = '<th scope="row" data-label="Role">{}</th><td data-label="By organisation" class="num">{}</td>'
    assert row.format("Representative/gatekeeper (links someone of their group with an outsider)", 1) in html
    assert row.format("Liaison (links two other groups)", 1) in html
    assert "Gatekeeper (lets an outsider" not in html and "Representative (speaks" not in html
    assert re.search(r"Across boundaries \(all but coordinator\)</th><td[^>]*><strong>2<", html)
    # Reported or imported ties alone keep their direction, and the two roles.
    directed = browsers["manager"].get(f"/p/{pid}/network/people/{bob}?sources=imported&since=").text
    assert (
        "Gatekeeper (lets an outsider into their group)" in directed
        and "Representative/gatekeeper" not in directed
    )
