"""The subject access bundle, tried as someone would who wants what it must not give: the refuge address of
a mother who fled, asked for by the father through their child's request (even where a note spells it
another way); a child's abuse record released to a parent unflagged; another person's details left
unmarked; a bundle built without a confirmed identity, after the answer, by the wrong role, or for another
partnership. On SQLite and PostgreSQL, through the service, the pages, the API and the command line."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pypdf
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from reticulist.access import service as accounts
from reticulist.access.policy import NotAllowed, NotFound
from reticulist.audit.models import AuditEvent
from reticulist.casework import redaction, subject_access
from reticulist.casework import schemas as cs
from reticulist.casework import service as casework
from reticulist.casework import subject_access_bundle as sar
from reticulist.casework.need_to_know import through
from reticulist.casework.redaction import CHILD_ABUSE, SHIELDED, THIRD_PARTY, WITHHELD, Terms
from reticulist.casework.subject_access_pdf import bundle_pdf
from reticulist.cli.main import app as cli_app
from reticulist.errors import InputError
from reticulist.register import schemas as s
from tests.casework.conftest import TODAY, CaseWorld, family_data
from tests.conftest import APP_SECRET, Browser

REFUGE = ("Refuge, somewhere", "refuge", "BN2 9ZZ", "bn29zz", "BN2 9ZZ".replace(" ", ""))
NOTE = (
    "Jo told me Sam hit Ellie in the summer; Mum and Ellie stayed at Refuge,\nsomewhere (bn29zz) for a week. "
    "Dad says he wants them home. Bruising on Ellie's arm, seen at school."
)


def _text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def _leaks(text: str) -> list[str]:
    squeezed = "".join(text.split()).casefold()
    return [r for r in REFUGE if "".join(r.split()).casefold().replace(",", "") in squeezed.replace(",", "")]


# --- marking, pure ---------------------------------------------------------------------------------------
def test_marking_finds_other_people_withholds_shielded_details_and_child_abuse_words() -> None:
    terms = Terms(
        {"Jo Marsh": "Jo Marsh", "Jo": "Jo Marsh", "mum": "Jo Marsh", "Sam": "Sam Marsh"},
        ("Refuge, somewhere", "Refuge", "BN2 9ZZ"),
        child_abuse=True,
    )
    pieces = redaction.mark(
        "Jo Marsh said Mum is at REFUGE,\n somewhere (bn29zz); bruising. Joanne, Samuel.", terms
    )
    marked = [(p.text, p.mark, p.who) for p in pieces if p.mark]
    assert marked == [
        ("Jo Marsh", THIRD_PARTY, "Jo Marsh"),  # one mention, not "Jo" and then "Marsh"
        ("Mum", THIRD_PARTY, "Jo Marsh"),
        (WITHHELD, SHIELDED, ""),  # across a line break, in capitals, and its postcode beside it as one
        ("bruising", CHILD_ABUSE, ""),
    ]  # Joanne and Samuel are other names: whole words only
    text = "".join(p.text for p in pieces)
    assert "Refuge" not in text and "bn29zz" not in text and "Joanne, Samuel." in text
    assert text.count(WITHHELD) == 1
    apart = redaction.mark("BN2 9ZZ then later Refuge", terms)
    assert [p.mark for p in apart] == [SHIELDED, None, SHIELDED]  # apart, they are two
    adult = Terms(terms.third_party, terms.shielded, child_abuse=False)
    assert CHILD_ABUSE not in redaction.marks_in(redaction.mark("bruising", adult))
    assert redaction.mark("", terms) == [] and redaction.mark("plain", Terms({}, (), False)) == [
        redaction.Piece("plain")
    ]
    # Terms that are regular expression syntax are matched as text.
    odd = Terms({"A.(b)*": "someone"}, (), False)
    assert [p.mark for p in redaction.mark("x A.(b)* y Ab", odd)] == [None, THIRD_PARTY, None]


def test_how_a_family_member_is_named() -> None:
    assert redaction.name_terms("Jo Anne", "Marsh", "Jojo", subject_surname="Marsh") == {
        "Jo Anne Marsh",
        "Jo",
        "Anne",
        "Jojo",
        "Jojo Marsh",
    }  # the shared surname alone would point at the subject too
    assert "Smith" in redaction.name_terms("Sam", "Smith", "", subject_surname="Marsh")
    assert redaction.address_terms("7 Mill Lane\nBrempton", "BN3 3AB") == {
        "7 Mill Lane Brempton",
        "7 Mill Lane",
        "BN3 3AB",
    }


# --- the service, on both databases ------------------------------------------------------------------------
FATHER = {
    "kind": "adult",
    "forenames": "Sam",
    "surname": "Marsh",
    "relationship_to_children": "father",
    "parental_responsibility": "yes",
    "nhs_number": "401 023 2137",
    "address": {"lines": "7 Mill Lane, Brempton", "postcode": "BN3 3AB", "from_on": "2025-06-01"},
}


def _family(db: Session, cw: CaseWorld) -> int:
    """EH-0002: Ellie, her mother Jo (shielded: the refuge) and her father Sam; a note about all three."""
    data = family_data(None, cw.person_ids["lead"], reference="EH-0002")
    data["members"] = [*data["members"], FATHER]
    family = casework.record_family(
        db,
        actor=cw.actors["lead"],
        partnership_id=cw.world.partnership_id,
        data=s.parse(cs.FamilyCreate, data),
    )
    db.flush()
    for text, sensitive in [(NOTE, False), ("Strategy discussion with the police today.", True)]:
        casework.add_note(
            db,
            actor=cw.actors["lead"],
            family_id=family.id,
            data=cs.NoteCreate(happened_on=TODAY, kind="meeting", text=text, sensitive=sensitive),
        )
    db.commit()
    return family.id


def _request(db: Session, cw: CaseWorld, forenames: str, requester: str, *, checked: bool = True) -> int:
    request = subject_access.register_request(
        db,
        actor=cw.actors["dpo"],
        partnership_id=cw.world.partnership_id,
        family_reference="EH-0002",
        surname="Marsh",
        forenames=forenames,
        requester=requester,
        received_on=TODAY - timedelta(days=3),
        identity_checked_on=TODAY - timedelta(days=2) if checked else None,
    )
    db.commit()
    return request.id


def _field(bundle: sar.Bundle, section: str, record_starts: str, label: str) -> sar.Field:
    (sect,) = [x for x in bundle.sections if x.key == section]
    for item in sect.items:
        if item.record.startswith(record_starts):
            for f in item.fields:
                if f.label == label and (label != "Note" or "Jo told me" in f.text or "Sam" in f.text):
                    return f
    raise AssertionError(f"no {label} in {section}")


def test_a_fathers_request_for_his_child_never_carries_the_refuge_address(
    db: Session, case_world: CaseWorld
) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    family_id = _family(db, case_world)
    request_id = _request(db, case_world, "Ellie", "Sam Marsh, her father")
    bundle = sar.build_bundle(db, actor=a["dpo"], partnership_id=pid, request_id=request_id, form="test")
    db.commit()
    as_json = json.dumps(sar.bundle_json(bundle), ensure_ascii=False)
    pdf = bundle_pdf(bundle)
    assert pdf.startswith(b"%PDF")
    pdf_text = _text_of(pdf)
    assert _leaks(as_json) == [] and _leaks(pdf_text) == []
    assert "Ellie Marsh" in pdf_text and "1 Canal Row" in pdf_text  # her own address is hers
    assert bundle.subject == "Ellie Marsh" and bundle.subject_is_child
    assert bundle.due == subject_access.due_on(TODAY - timedelta(days=3), TODAY - timedelta(days=2))

    note = _field(bundle, "notes", "case note", "Note")
    marks = [(p.text, p.mark, p.who) for p in note.pieces if p.mark]
    assert ("Jo", THIRD_PARTY, "Jo Marsh") in marks
    assert ("Sam", THIRD_PARTY, "Sam Marsh") in marks
    assert ("Mum", THIRD_PARTY, "Jo Marsh") in marks and ("Dad", THIRD_PARTY, "Sam Marsh") in marks
    assert ("hit", CHILD_ABUSE, "") in marks and ("Bruising", CHILD_ABUSE, "") in marks
    assert (WITHHELD, SHIELDED, "") in marks
    assert not any(p.text == "Ellie" and p.mark for p in note.pieces)  # the subject is not a third party
    flags = set(bundle.flag_counts)
    assert flags >= {sar.FLAG_WORDS[m] for m in (THIRD_PARTY, SHIELDED, CHILD_ABUSE, "sensitive")}
    # The sensitive note is in (it is about her) and flagged as possible child abuse data for a decision.
    (notes,) = [x for x in bundle.sections if x.key == "notes"]
    (sensitive,) = [i for i in notes.items if "Strategy discussion" in i.fields[0].text]
    assert sar.FLAG_WORDS[CHILD_ABUSE] in sensitive.flags and sar.FLAG_WORDS["sensitive"] in sensitive.flags
    # Sam's details are other people's: his NHS number is not the subject's, and his address is not given.
    assert "401 023 2137" not in pdf_text and "Mill Lane" not in as_json
    (family,) = [x for x in bundle.sections if x.key == "family"]
    assert all(sar.FLAG_WORDS[THIRD_PARTY] in i.flags for i in family.items) and len(family.items) == 2
    # Marks in the JSON are ranges of the field's text.
    note_json = next(
        f
        for sect in sar.bundle_json(bundle)["sections"]
        for i in sect.get("items", [])
        for f in i["fields"]
        if f["label"] == "Note" and "Jo told me" in f["text"]
    )
    for m in note_json["marks"]:
        said = note_json["text"][m["start"] : m["end"]]
        assert said == WITHHELD if m["mark"] == SHIELDED else said.casefold() in NOTE.casefold()

    # The read is audited against the request, and "who has seen" says so.
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "family", AuditEvent.record_id == family_id)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None and event.actor_label == a["dpo"].label
    assert through(event) == f"subject access request (request {request_id})"
    (seen,) = [x for x in bundle.sections if x.key == "seen"]
    assert any("note" in row[2].lower() for row in seen.rows)  # the lead's notes were audited writes


def test_an_adults_request_marks_the_child_and_flags_no_child_abuse_data(
    db: Session, case_world: CaseWorld
) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    _family(db, case_world)
    request_id = _request(db, case_world, "Sam", "Sam Marsh")
    bundle = sar.build_bundle(db, actor=a["dpo"], partnership_id=pid, request_id=request_id, form="test")
    assert not bundle.subject_is_child
    note = _field(bundle, "notes", "case note", "Note")
    marks = {(p.text, p.mark) for p in note.pieces if p.mark}
    assert ("Ellie", THIRD_PARTY) in marks and ("Jo", THIRD_PARTY) in marks
    assert ("Sam", THIRD_PARTY) not in marks and ("Dad", THIRD_PARTY) not in marks  # himself
    assert not any(m == CHILD_ABUSE for _, m in marks)
    assert sar.FLAG_WORDS[CHILD_ABUSE] not in bundle.flag_counts
    assert _leaks(json.dumps(sar.bundle_json(bundle))) == []
    person = _field(bundle, "person", "family member", "NHS number")
    assert person.text == "401 023 2137"  # his own identifiers are his
    (addresses,) = [x for x in bundle.sections if x.key == "addresses"]
    assert "7 Mill Lane" in addresses.items[0].fields[0].text


def test_the_shielded_persons_own_request_withholds_their_address_for_a_decision(
    db: Session, case_world: CaseWorld
) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    _family(db, case_world)
    request_id = _request(db, case_world, "Jo", "Jo Marsh")
    bundle = sar.build_bundle(db, actor=a["dpo"], partnership_id=pid, request_id=request_id, form="test")
    (addresses,) = [x for x in bundle.sections if x.key == "addresses"]
    (address,) = addresses.items
    assert address.fields[0].text == WITHHELD and sar.FLAG_WORDS[SHIELDED] in address.flags
    assert _leaks(_text_of(bundle_pdf(bundle))) == []


def _audit_rows(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_a_bundle_needs_a_confirmed_open_request_and_the_data_protection_role(
    db: Session, case_world: CaseWorld
) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    _family(db, case_world)
    waiting = _request(db, case_world, "Ellie", "Sam Marsh", checked=False)
    before = _audit_rows(db)
    with pytest.raises(InputError) as refused:
        sar.build_bundle(db, actor=a["dpo"], partnership_id=pid, request_id=waiting, form="test")
    assert "identity is not confirmed" in refused.value.by_field()["request"]
    for persona in ("lead", "team", "coordinator", "manager", "member", "colleague"):
        with pytest.raises(NotAllowed):
            sar.build_bundle(db, actor=a[persona], partnership_id=pid, request_id=waiting, form="test")
    with pytest.raises((NotAllowed, NotFound)):
        sar.build_bundle(db, actor=a["outsider"], partnership_id=pid, request_id=waiting, form="test")
    with pytest.raises(NotFound):
        sar.build_bundle(db, actor=a["dpo"], partnership_id=pid, request_id=10**9, form="test")
    assert _audit_rows(db) == before  # refused: nothing read, nothing written
    subject_access.identity_checked(
        db, actor=a["dpo"], partnership_id=pid, request_id=waiting, checked_on=TODAY
    )
    subject_access.done(db, actor=a["dpo"], partnership_id=pid, request_id=waiting, done_on=TODAY)
    db.commit()
    with pytest.raises(InputError) as refused:  # an answered request is no longer a reason to read
        sar.build_bundle(db, actor=a["dpo"], partnership_id=pid, request_id=waiting, form="test")
    assert "answered" in refused.value.by_field()["request"]
    db.rollback()
    # Another partnership's data protection officer: its request numbers do not reach here.
    other = _request(db, case_world, "Sam", "Sam Marsh")
    with pytest.raises((NotFound, NotAllowed)):
        sar.build_bundle(
            db,
            actor=a["dpo"],
            partnership_id=case_world.world.other_partnership_id,
            request_id=other,
            form="t",
        )


@pytest.mark.parametrize(
    "person, field_words",
    [
        ("EH-0002/marsh", "several open requests"),
        ("EH-0002", "REFERENCE/SURNAME"),
        ("EH-0002/Nobody", "no open request"),
        ("/Marsh", "REFERENCE/SURNAME"),
        ("x" * 10_000, "REFERENCE/SURNAME"),
        ("EH-0002/Marsh\x00/Ellie", "character"),
        ("99999999999999999999", "REFERENCE/SURNAME"),
    ],
)
def test_the_command_lines_person_is_one_open_request(
    db: Session, case_world: CaseWorld, person: str, field_words: str
) -> None:
    a, pid = case_world.actors, case_world.world.partnership_id
    _family(db, case_world)
    ellie = _request(db, case_world, "Ellie", "Sam Marsh")
    _request(db, case_world, "Sam", "Sam Marsh")
    assert sar.request_for(db, actor=a["dpo"], partnership_id=pid, person="EH-0002/MARSH/ellie") == ellie
    assert sar.request_for(db, actor=a["dpo"], partnership_id=pid, person=f" {ellie} ") == ellie
    with pytest.raises(InputError) as refused:
        sar.request_for(db, actor=a["dpo"], partnership_id=pid, person=person)
    assert field_words in refused.value.by_field()["person"]


# --- pages, API and command line --------------------------------------------------------------------------
def test_the_pages_and_downloads(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    pid = case_world.world.partnership_id
    _family(db, case_world)
    request_id = _request(db, case_world, "Ellie", "Sam Marsh, her father")
    waiting = _request(db, case_world, "Sam", "Sam Marsh", checked=False)
    people = {
        p: Browser(app, case_world.emails[p]) for p in ("dpo", "manager", "lead", "coordinator", "outsider")
    }
    url = f"/p/{pid}/subject-access/{request_id}/bundle"
    assert {p: b.get(url).status_code for p, b in people.items()} == {
        "dpo": 200,
        "manager": 403,
        "lead": 403,
        "coordinator": 403,
        "outsider": 404,
    }
    dpo = people["dpo"]
    register = dpo.get(f"/p/{pid}/subject-access")
    assert f'href="{url}"' in register.text and f"/subject-access/{waiting}/bundle" not in register.text
    page = dpo.get(url)
    assert '<mark class="third-party"' in page.text and '<mark class="child-abuse"' in page.text
    assert WITHHELD in page.text and _leaks(page.text) == []
    downloaded = dpo.get(url + ".json")
    assert downloaded.status_code == 200 and downloaded.headers["content-type"].startswith("application/json")
    assert downloaded.json()["subject"] == "Ellie Marsh" and _leaks(downloaded.text) == []
    pdf = dpo.get(url + ".pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "Ellie Marsh" in _text_of(pdf.content) and _leaks(_text_of(pdf.content)) == []
    for suffix in ("", ".json", ".pdf"):
        assert people["lead"].get(url + suffix).status_code == 403
        refused = dpo.get(f"/p/{pid}/subject-access/{waiting}/bundle{suffix}")
        assert refused.status_code == 422 and "identity is not confirmed" in refused.text
        assert dpo.get(f"/p/{pid}/subject-access/424242/bundle{suffix}").status_code == 404
        assert dpo.get(f"/p/{pid}/subject-access/x'--/bundle{suffix}").status_code in (404, 422)
    # Four bundles were built (the matrix's page, the page, JSON, PDF): each one audited read.
    reads = db.scalars(
        select(AuditEvent).where(
            AuditEvent.summary.like(f"Built the subject access bundle for request {request_id}%")
        )
    ).all()
    assert len(reads) == 4 and {e.after["access"] for e in reads} == {"subject access request"}  # type: ignore[index]


def test_the_api(app, db: Session, case_world: CaseWorld) -> None:  # type: ignore[no-untyped-def]
    pid = case_world.world.partnership_id
    _family(db, case_world)
    request_id = _request(db, case_world, "Ellie", "Sam Marsh, her father")
    tokens = {}
    for persona in ("dpo", "lead", "manager", "outsider"):
        _, tokens[persona] = accounts.create_api_token(
            db, actor=case_world.actors[persona], name="sar", secret_key=APP_SECRET
        )
    db.commit()
    client = TestClient(app, base_url="https://testserver")

    def get(persona: str, rid: object) -> object:
        return client.get(
            f"/api/v1/partnerships/{pid}/subject-access/{rid}/bundle",
            headers={"Authorization": f"Bearer {tokens[persona]}"},
        )

    statuses = {p: get(p, request_id).status_code for p in tokens}  # type: ignore[attr-defined]
    assert statuses == {"dpo": 200, "lead": 403, "manager": 403, "outsider": 404}
    body = get("dpo", request_id).json()  # type: ignore[attr-defined]
    assert body["review_copy"] is True and body["subject_access_request"] == request_id
    assert _leaks(json.dumps(body)) == []
    assert get("dpo", 999999).status_code == 404  # type: ignore[attr-defined]
    assert get("dpo", "nonsense").status_code == 422  # type: ignore[attr-defined]


def test_the_command_line(database_url: str, db: Session, case_world: CaseWorld, tmp_path: Path) -> None:
    _family(db, case_world)
    request_id = _request(db, case_world, "Ellie", "Sam Marsh, her father")
    runner = CliRunner()
    partnership = str(case_world.world.partnership_id)

    def run(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli_app, ["casework", "sar", *args, "--database", database_url])
        return result.exit_code, result.stdout, result.stderr

    code, out, err = run("EH-0002/Marsh/Ellie", "--partnership", partnership, "--to", str(tmp_path))
    assert code == 0, err
    assert f"subject-access-{request_id}.json" in out and "review copy" in out
    written = json.loads((tmp_path / f"subject-access-{request_id}.json").read_text(encoding="utf-8"))
    assert written["subject"] == "Ellie Marsh" and _leaks(json.dumps(written)) == []
    pdf_text = _text_of((tmp_path / f"subject-access-{request_id}.pdf").read_bytes())
    assert "Ellie Marsh" in pdf_text and _leaks(pdf_text) == []
    for args, words in [
        (("EH-0002/Marsh/Nobody", "--partnership", partnership, "--to", str(tmp_path)), "no open request"),
        (("EH-0002/Marsh/Ellie", "--partnership", partnership, "--to", str(tmp_path / "no")), "no folder"),
        (("EH-0002/Marsh/Ellie", "--partnership", "Nowhere", "--to", str(tmp_path)), "no partnership"),
        (("Ellie", "--partnership", partnership, "--to", str(tmp_path)), "REFERENCE/SURNAME"),
    ]:
        code, _out, err = run(*args)
        flat = " ".join(err.split())
        assert code == 1 and words in flat and "Traceback" not in flat, (args, err)
