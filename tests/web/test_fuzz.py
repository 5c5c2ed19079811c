"""Fuzzing every input the web app takes: no request, however hostile, gives a server error (5xx).

The JSON API is fuzzed from its own OpenAPI description with schemathesis (valid and invalid data, in
process against the app, as a manager with an API token); the HTML forms with hypothesis (random and
hostile text in every field of every form, as a manager with a valid CSRF token). Both run a bounded
number of examples on each database.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections import Counter
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.barometer import service as barometer
from reticulist.register import schemas as s
from reticulist.register import service as register
from tests.conftest import Browser, World

SECRET = "test-secret-key-" + "x" * 20
# A few examples per operation keep the suite quick; RETICULIST_FUZZ_EXAMPLES=200 searches deeper.
EXAMPLES_PER_OPERATION = int(os.environ.get("RETICULIST_FUZZ_EXAMPLES", "6"))
FUZZ = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,  # the same examples each run: no example database left behind
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
FORM_FUZZ = settings(FUZZ, max_examples=int(os.environ.get("RETICULIST_FUZZ_EXAMPLES", "10")))


@pytest.fixture
def records(db: Session, world: World) -> dict[str, int]:
    """One record of each kind, so that fuzzed requests reach the services, not only "not found"."""
    pid, actor = world.partnership_id, world.manager
    person = register.create_person(
        db,
        actor=actor,
        partnership_id=pid,
        data=s.PersonCreate(full_name="Ann Example", organisation_id=world.organisation_id, hierarchy_tier=3),
    )
    seat = register.create_seat(
        db,
        actor=actor,
        partnership_id=pid,
        data=s.SeatCreate(
            organisation_id=world.organisation_id, person_id=person.id, started_on=date.today() - timedelta(9)
        ),
    )
    meeting = register.create_meeting(
        db, actor=actor, partnership_id=pid, data=s.MeetingCreate(title="Board", held_on=date.today())
    )
    action = register.create_action(db, actor=actor, partnership_id=pid, data=s.ActionCreate(title="Do it"))
    found = barometer.open_round(
        db,
        actor=actor,
        partnership_id=pid,
        data=barometer.RoundCreate(
            instrument="partnership-barometer@1.0",
            title="Barometer",
            opens_on=date.today() - timedelta(days=1),
            closes_on=date.today() + timedelta(days=9),
        ),
    )
    db.commit()
    return {
        "partnership_id": pid,
        "organisation_id": world.organisation_id,
        "profession_id": world.profession_id,
        "person_id": person.id,
        "seat_id": seat.id,
        "meeting_id": meeting.id,
        "action_id": action.id,
        "round_id": found.id,
        "user_id": world.member.user_id or 0,
    }


def test_the_api_gives_no_server_error(app, db: Session, world: World, records: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    _, token = accounts.create_api_token(db, actor=world.manager, name="fuzz", secret_key=SECRET)
    db.commit()
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    statuses: Counter[tuple[str, int]] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        known = {
            name: records[name] for name in (p.name for p in operation.path_parameters) if name in records
        }
        in_partnership = {k: v for k, v in known.items() if k == "partnership_id"}
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=in_partnership or None),
            operation.as_strategy(GenerationMode.POSITIVE),  # every id generated: huge, negative, zero
        ]
        for strategy in strategies:

            @FUZZ
            @given(case=strategy)
            def call(case) -> None:  # type: ignore[no-untyped-def]
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # the test client re-raises what the server did not handle
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} {case.body!r:.300}: {exc!r}"
                    )
                    return
                statuses[(case.method, response.status_code // 100)] += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} {case.body!r:.300}: 5xx"
                    )

            with contextlib.suppress(Unsatisfiable):  # no invalid request can be made: nothing to get wrong
                call()
    assert operations >= 30
    print(statuses)
    # The fuzzing reached the services: writes were made, and refused with reasons.
    assert statuses[("POST", 2)] and statuses[("PUT", 2)] and statuses[("POST", 4)]
    assert not failures, "\n".join(failures[:20])


# --- the HTML forms ----------------------------------------------------------------------------------
HOSTILE_VALUES = [
    "",
    " ",
    "\x00",
    "Police\x00",
    "\u202eecilop",
    "a\u2066b\u2069",
    "\x1b[31m",
    "é" * 3,
    "9" * 40,
    "9" * 5000,  # past Python's own limit on turning text into a number
    "9223372036854775808",
    "-9223372036854775809",
    "2147483648",
    "0",
    "-1",
    "²",  # a digit to str.isdigit, not to int()
    "٣",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "31/12/9999",
    "10000-01-01",
    "=1+1",
    "x" * 20_000,
    "null",
    "[]",
    "{}",
    "💥",
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE_VALUES),
    st.text(max_size=40),
    st.integers().map(str),
    st.floats().map(str),
    st.dates().map(date.isoformat),
)


def _all_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found: list[tuple[str, str]] = []

    def walk(routes, prefix: str = "") -> None:  # type: ignore[no-untyped-def]
        for route in routes:
            if hasattr(route, "original_router"):
                walk(
                    route.original_router.routes,
                    prefix + (getattr(route.include_context, "prefix", "") or ""),
                )
            elif getattr(route, "methods", None):
                found.extend((m, prefix + route.path) for m in sorted(route.methods) if m != "HEAD")

    walk(app.routes)
    return found


def _field_names() -> list[str]:
    """Every field a form can send: those the templates name and those of every input schema."""
    from pathlib import Path

    from reticulist import text

    names = set()
    for template in Path(text.__file__).parent.rglob("*.html"):
        names.update(re.findall(r'name="([a-z_0-9-]+)"', template.read_text(encoding="utf-8")))

    def walk(model: type) -> None:
        for sub in model.__subclasses__():
            names.update(getattr(sub, "model_fields", {}))
            walk(sub)

    walk(text.TextModel)
    names.update({"pick-1", "pick-2", "to", "respondent_id", "count", "add_person", "page", "status-1"})
    return sorted(names - {"csrf_token"})


class _Form(HTMLParser):
    """The fields of a page's POST form with the values the page fills in."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._in_post = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_post = a.get("method", "").lower() == "post"
        if not self._in_post or (tag in ("input", "select", "textarea") and "name" not in a):
            return
        if tag == "input" and a.get("type") not in ("submit", "file", "checkbox", "radio"):
            self.values[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" in a:
            self.values[a["name"]] = a.get("value", "on")
        elif tag == "select":
            self._select = a["name"]
            self.values.setdefault(a["name"], "")
        elif tag == "option" and self._select and (not self.values[self._select] or "selected" in a):
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_post = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def _form_on_page(html: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(html)
    parser.values.pop("csrf_token", None)
    return parser.values


def _post_hostile_forms(
    browser: Browser,
    url: str,
    forms: st.SearchStrategy[dict[str, str]],
    failures: list[str],
    statuses: Counter[int],
) -> None:
    @FORM_FUZZ
    @given(data=forms)
    def post(data: dict[str, str]) -> None:
        try:
            response = browser.post(url, data)
        except Exception as exc:  # the test client re-raises what the server did not handle
            failures.append(f"POST {url} {data!r:.300} -> {exc!r:.300}")
            return
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            failures.append(f"POST {url} {data!r:.300} -> {response.status_code}")

    post()


def test_the_forms_give_no_server_error(
    app, db: Session, world: World, browsers: dict[str, Browser], records: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    manager = browsers["manager"]
    issued = barometer.issue_invitations(
        db,
        actor=world.manager,
        round_id=records["round_id"],
        invitees="Jo <jo@example.org>",
        secret_key=SECRET,
    )
    db.commit()
    ids: dict[str, object] = {
        **records,
        "token": issued[0].token,
        "token_id": 1,
        "page": "about",
    }
    fields = _field_names()
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    posts = 0
    for method, path in _all_routes(app):
        if method != "POST" or path.startswith("/api/") or path in ("/logout",):
            continue
        if any(name not in ids for name in re.findall(r"\{(\w+)\}", path)):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        posts += 1
        # The form as its page offers it, so that most fields are valid and the hostile ones reach the
        # services; a route without its own form page gets any field a form can send.
        base = _form_on_page(manager.get(url).text) if manager.get(url).status_code == 200 else {}
        names = sorted(base) or fields
        forms = st.dictionaries(st.sampled_from(names), hostile_text, min_size=1, max_size=4).map(
            lambda changed, base=base: {**base, **changed}
        )

        _post_hostile_forms(manager, url, forms, failures, statuses)
    assert posts >= 35
    print(posts, statuses)
    assert not failures, "\n".join(failures[:20])


def _query_names(app) -> list[str]:  # type: ignore[no-untyped-def]
    """Every query parameter a page declares, and those the network pages read from the query."""
    names = {"sources", "since", "as_of", "min_weight", "from", "to", "window", "colour_by", "done", "by"}
    names.update(f"w_{source}" for source in ("reported", "imported", "co_attendance", "shared_actions"))

    def walk(routes) -> None:  # type: ignore[no-untyped-def]
        for route in routes:
            if hasattr(route, "original_router"):
                walk(route.original_router.routes)
            elif getattr(route, "dependant", None) is not None:
                names.update(p.name for p in route.dependant.query_params)

    walk(app.routes)
    return sorted(names)


def test_the_pages_give_no_server_error_whatever_the_query(
    app, browsers: dict[str, Browser], records: dict[str, int]
) -> None:  # type: ignore[no-untyped-def]
    manager = browsers["manager"]
    ids: dict[str, object] = {**records, "instrument_ref": "partnership-barometer@1.0"}
    queries = st.dictionaries(st.sampled_from(_query_names(app)), hostile_text, min_size=1, max_size=4)
    failures: list[str] = []
    pages = 0
    for method, path in _all_routes(app):
        if method != "GET" or path.startswith(("/api/", "/s/")) or "{" in re.sub(r"\{(\w+)\}", "", path):
            continue
        if any(name not in ids for name in re.findall(r"\{(\w+)\}", path)):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        pages += 1
        _get_hostile_queries(manager, url, queries, failures)
    assert pages >= 30
    assert not failures, "\n".join(failures[:20])


def _get_hostile_queries(
    browser: Browser, url: str, queries: st.SearchStrategy[dict[str, str]], failures: list[str]
) -> None:
    @FORM_FUZZ
    @given(query=queries)
    def get(query: dict[str, str]) -> None:
        try:
            response = browser.get(url, params=query)
        except Exception as exc:  # the test client re-raises what the server did not handle
            failures.append(f"GET {url} {query!r:.300} -> {exc!r:.300}")
            return
        if response.status_code >= 500:
            failures.append(f"GET {url} {query!r:.300} -> {response.status_code}")

    get()
