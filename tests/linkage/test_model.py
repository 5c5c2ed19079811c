"""The linkage model end to end on synthetic extracts with known truth (DuckDB): it links the same child
across four agencies with high precision and recall, keeps twins apart, is not forced by a wrong NHS
number, and is not blocked by a missing one."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from reticulist.linkage import model, synthetic
from reticulist.linkage import standardise as st


@pytest.fixture(scope="module")
def trained() -> tuple[dict[str, pl.DataFrame], dict[str, Any], model.Linked, synthetic.Extracts]:
    extracts = synthetic.extracts(1500, seed=7)
    sources = synthetic.standardised(extracts)
    linker = model.linker_for(sources, retain=("person_id",))
    parameters = model.train(linker, max_pairs=3e5)
    linked = model.predict(linker, one_per_source=list(sources))
    return sources, parameters, linked, extracts


def test_it_links_children_across_four_agencies(trained) -> None:  # type: ignore[no-untyped-def]
    _sources, _parameters, linked, _extracts = trained
    accuracy = model.accuracy(linked.clusters)
    assert accuracy.precision >= 0.99 and accuracy.recall >= 0.93 and accuracy.f1 >= 0.96, accuracy
    # One record per agency per child at most.
    per_agency = linked.clusters.group_by("cluster_id", "source_dataset").len()
    assert per_agency.get_column("len").max() == 1


def test_twins_stay_apart(trained) -> None:  # type: ignore[no-untyped-def]
    _sources, _parameters, linked, extracts = trained
    people = extracts.population
    twins = (
        people.filter(pl.col("is_child"))
        .group_by("household_id", "date_of_birth")
        .agg(pl.col("person_id"))
        .filter(pl.col("person_id").list.len() > 1)
    )
    assert twins.height > 10
    pairs = {tuple(sorted(ids[:2])) for ids in twins.get_column("person_id").to_list()}
    together = (
        linked.clusters.group_by("cluster_id")
        .agg(pl.col("person_id").unique())
        .filter(pl.col("person_id").list.len() > 1)
        .get_column("person_id")
        .to_list()
    )
    mixed = [ids for ids in together if any(set(p) <= set(ids) for p in pairs)]
    assert mixed == []


def _record(
    record_id: str, forename: str, surname: str, dob: str, postcode: str, nhs: str | None
) -> dict[str, Any]:
    return {
        "record_id": record_id,
        "forenames": forename,
        "surname": surname,
        "date_of_birth": dob,
        "postcode": postcode,
        "nhs_number": nhs,
        "sex": None,
        "upn": None,
        "earlier_postcodes": None,
    }


def test_an_nhs_number_neither_forces_nor_blocks_a_link(trained) -> None:  # type: ignore[no-untyped-def]
    _sources, parameters, _linked, _extracts = trained
    nicknames = st.nickname_table()
    health = pl.DataFrame(
        [
            _record("H1", "Ellie", "Marsh", "2016-01-09", "BN1 1AA", "943 476 5919"),
            _record("H2", "Kwame", "Mensah", "2012-07-30", "LS6 2AB", None),
        ]
    )
    school = pl.DataFrame(
        [
            # The same NHS number (someone else's, mistyped into this record), nothing else alike.
            _record("S1", "Thomas", "Jones", "1990-05-05", "M1 1AE", "9434765919"),
            # Kwame, with no NHS number here and one there: names, birth and postcode agree.
            _record("S2", "Kwame", "Mensah", "30/07/2012", "ls6 2ab", "401 023 2137"),
        ]
    )
    sources = {
        name: st.standardise(frame, nicknames=nicknames).records
        for name, frame in (("health", health), ("school", school))
    }
    linker = model.linker_for(sources, model=parameters)
    scored = pl.from_arrow(linker.inference.predict().as_pyarrow_table())
    probability = {(r["record_id_l"], r["record_id_r"]): r["match_probability"] for r in scored.to_dicts()}  # type: ignore[union-attr]
    assert probability.get(("H1", "S1"), 0.0) < model.REVIEW
    assert probability[("H2", "S2")] >= model.LINKED


def test_duckdb_spills_to_the_temporary_folder_not_the_working_one() -> None:
    """A run that outgrows memory once wrote 7.9 GB into ".tmp" of the folder it was started from."""
    import tempfile

    linker = model.linker_for({"a": st.standardise(pl.DataFrame({"record_id": ["1"]})).records})
    (folder,) = linker._db_api.duckdb_con.execute("SELECT current_setting('temp_directory')").fetchall()[0]
    assert folder.startswith(tempfile.gettempdir()) and ".tmp" not in folder


def test_the_evidence_reads_as_the_model_scores(trained) -> None:  # type: ignore[no-untyped-def]
    """The match weights chart and a pair's waterfall come from the trained model: identifiers that agree
    weigh strongly for, that differ against; and a pair's prior plus its evidence is its match weight."""
    _sources, parameters, linked, _extracts = trained
    weights = {(w.comparison, w.level): w for w in model.match_weights(parameters)}
    assert weights[("NHS number", "The same")].weight > 8  # type: ignore[operator]
    assert weights[("NHS number", "Different")].weight < -3  # type: ignore[operator]
    assert weights[("Date of birth", "The same")].weight > weights[("Date of birth", "Different")].weight  # type: ignore[operator]
    assert all(w.level != "Missing" for w in weights.values())  # missing counts for nothing
    for pair in linked.pairs.head(50).to_dicts():
        evidence = model.waterfall(parameters, pair)
        assert {e.comparison for e in evidence} == {
            "Forename and surname",
            "Date of birth",
            "Postcode and address history",
            "NHS number",
            "Unique pupil number",
            "Sex",
        }
        total = model.prior_weight(parameters) + sum(e.weight for e in evidence)
        assert abs(total - pair["match_weight"]) < 1e-6
        assert all(e.weight == 0 for e in evidence if e.level == "Missing")
