"""Fuzzing casework as the people who use it (SQLite and PostgreSQL): the casework API from its OpenAPI
description and every casework form and page, as the lead practitioner (the manager sees only 403 and 404
here, so tests/web/test_fuzz.py does not reach casework's services). No request gives a server error."""

from __future__ import annotations

import contextlib
import re
from collections import Counter

import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy.orm import Session

from reticulist.access import service as accounts
from reticulist.casework import service as casework
from tests.casework.conftest import CaseWorld
from tests.conftest import APP_SECRET, Browser
from tests.web.test_fuzz import (
    FUZZ,
    _all_routes,
    _form_on_page,
    _get_hostile_queries,
    _post_hostile_forms,
    hostile_text,
)


def _ids(db: Session, case_world: CaseWorld) -> dict[str, object]:
    casework.start_assessment(db, actor=case_world.actors["lead"], episode_id=case_world.episode_id)
    db.commit()
    record = casework.family_record(db, actor=case_world.actors["lead"], family_id=case_world.family_id)
    db.commit()
    return {
        "partnership_id": case_world.world.partnership_id,
        "family_id": case_world.family_id,
        "assessment_id": record.assessments[0].id,
        "referral_id": 1,
        "consent_id": 1,
        "request_id": 1,
        "step": "done",
        "use_id": 1,
    }


def test_the_casework_api_gives_no_server_error(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(db, case_world)
    _, token = accounts.create_api_token(
        db, actor=case_world.actors["lead"], name="fuzz", secret_key=APP_SECRET
    )
    db.commit()
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    statuses: Counter[tuple[str, int]] = Counter()
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if "casework" not in (operation.tags or []):
            continue
        operations += 1
        known = {p.name: ids[p.name] for p in operation.path_parameters if p.name in ids}
        for strategy in (
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
            operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known or None),
        ):

            @FUZZ
            @given(case=strategy)
            def call(case) -> None:  # type: ignore[no-untyped-def]
                try:
                    response = case.call(headers=headers)
                except Exception as exc:  # the test client re-raises what the server did not handle
                    failures.append(f"{case.method} {case.formatted_path} {case.body!r:.300}: {exc!r}")
                    return
                statuses[(case.method, response.status_code // 100)] += 1
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path} {case.query} {case.body!r:.300}: 5xx"
                    )

            with contextlib.suppress(Unsatisfiable):
                call()
    assert operations >= 9
    assert statuses[("GET", 2)] and statuses[("POST", 4)]
    assert not failures, "\n".join(failures[:20])


def test_the_casework_forms_and_pages_give_no_server_error(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    ids = _ids(db, case_world)
    lead = Browser(app, case_world.emails["lead"])
    record_page = f"/p/{ids['partnership_id']}/cases/{ids['family_id']}"
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    posts = pages = 0
    queries = st.dictionaries(
        st.sampled_from(["surname", "forenames", "date_of_birth", "reference", "done"]),
        hostile_text,
        min_size=1,
        max_size=3,
    )
    for method, path in _all_routes(app):
        if path.startswith("/api/") or not re.search(r"/(cases|case-access|referrals)(/|$)", path):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        if method == "GET":
            pages += 1
            _get_hostile_queries(lead, url, queries, failures)
            continue
        posts += 1
        # The form as the page that holds it offers it, with hostile values in a few fields.
        page = lead.get(url if url.endswith("/new") else record_page).text
        base = _form_on_page(page) if url.endswith("/new") else {}
        names = sorted(base) or sorted(set(re.findall(r'name="([a-z_0-9]+)"', page)) - {"csrf_token"})
        forms = st.dictionaries(st.sampled_from(names), hostile_text, min_size=1, max_size=4).map(
            lambda changed, base=base: {**base, **changed}
        )
        _post_hostile_forms(lead, url, forms, failures, statuses)
    assert posts >= 13 and pages >= 8
    assert not failures, "\n".join(failures[:20])
