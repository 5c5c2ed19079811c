"""The linkage model on Spark (a local one) scores and links exactly as on DuckDB: a model trained on DuckDB
predicts the same pairs, the same clusters and the same probabilities on Spark, its comparisons rewritten
in Spark SQL; and a model moves between engines with its trained weights. Skipped, saying why, where Java
or pyspark cannot start a session."""

from __future__ import annotations

import shutil
import time
from typing import Any

import polars as pl
import pytest

from reticulist.linkage import engines, model, synthetic

RECORDS_PER_AGENCY = 250


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17: no 'java' on the PATH (scripts/test installs it when root)")
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        pytest.skip(f"pyspark is not installed ({error}): pip install -e '.[spark]'")
    # Its own scratch, warehouse and checkpoint folders, so a session in another pytest worker is untouched.
    folder = tmp_path_factory.mktemp("spark")
    started = time.perf_counter()
    try:
        session = engines.local_spark(folder, master="local[2]", driver_memory="1g")
    except Exception as error:  # Java too old, no loopback, ...: say so, never pass silently
        pytest.skip(f"a local Spark session could not start: {error}")
    print(f"Spark {session.version} started in {time.perf_counter() - started:.1f} s")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def trained() -> dict[str, Any]:
    sources = synthetic.standardised(synthetic.extracts(RECORDS_PER_AGENCY, seed=11))
    on_duckdb = model.linker_for(sources)
    parameters = model.train(on_duckdb, max_pairs=2e5)
    duckdb = model.predict(on_duckdb, one_per_source=list(sources))
    # How many scored pairs the household rule keeps apart (twins, siblings): the rule is exercised.
    scored = on_duckdb.inference.predict(threshold_match_probability=model.REVIEW)
    apart = on_duckdb.misc.query_sql(
        f"SELECT count(*) AS n FROM {scored.physical_name} WHERE NOT ({model.HOUSEHOLD_RULE})"
    ).as_pyarrow_table()
    return {
        "sources": sources,
        "parameters": parameters,
        "duckdb": duckdb,
        "kept_apart": apart["n"][0].as_py(),
    }


def _linked_pairs(pairs: pl.DataFrame) -> set[tuple[str, str]]:
    linked = pairs.filter(pl.col("match_probability") >= model.LINKED)
    return set(linked.select("record_id_l", "record_id_r").iter_rows())  # type: ignore[arg-type]


def _clusters(clusters: pl.DataFrame) -> set[frozenset[str]]:
    grouped = clusters.group_by("cluster_id").agg(pl.col("record_id"))
    return {frozenset(ids) for ids in grouped.get_column("record_id").to_list()}


def test_spark_links_and_scores_as_duckdb_does(trained: dict[str, Any], spark: Any) -> None:
    """One test, so that one pytest worker starts Spark. A model trained on DuckDB, on Spark: the same pairs
    linked and the same children; every pair kept (review threshold and household rule) on one engine kept
    on the other, in the same level of every comparison (the Jaro-Winkler and one-edit levels included),
    with the same probability to the last digits. Then the model as Splink saves it from Spark (Spark SQL,
    "sql_dialect": "spark") loaded on DuckDB links as the model trained there."""
    sources, duckdb = trained["sources"], trained["duckdb"]
    started = time.perf_counter()
    on_spark = model.linker_for(sources, model=trained["parameters"], engine="spark", spark=spark)
    linked = model.predict(on_spark, one_per_source=list(sources))
    print(f"Spark predicted and clustered in {time.perf_counter() - started:.1f} s")

    pairs = _linked_pairs(duckdb.pairs)
    assert len(pairs) > 200  # a real test: hundreds of links
    assert _linked_pairs(linked.pairs) == pairs
    assert _clusters(linked.clusters) == _clusters(duckdb.clusters)
    assert linked.clusters.height == duckdb.clusters.height

    gammas = [c for c in duckdb.pairs.columns if c.startswith("gamma_")]
    key = ["record_id_l", "record_id_r"]
    both = duckdb.pairs.select(*key, *gammas, "match_probability").join(
        linked.pairs.select(*key, *gammas, "match_probability"),
        on=key,
        how="full",
        suffix="_spark",
        coalesce=True,
    )
    assert both.height == duckdb.pairs.height == linked.pairs.height
    assert trained["kept_apart"] > 0  # and Spark's household rule kept the same pairs apart
    for gamma in gammas:
        assert both.filter(pl.col(gamma) != pl.col(f"{gamma}_spark")).height == 0, gamma
    # Some pairs reach the spelling level, so the two engines' Jaro-Winkler really is compared.
    assert duckdb.pairs.filter(pl.col("gamma_name") == 4).height > 0
    difference = (both.get_column("match_probability") - both.get_column("match_probability_spark")).abs()
    assert difference.max() < 1e-9  # type: ignore[operator]

    saved = dict(on_spark.misc.save_model_to_json())
    assert saved["sql_dialect"] == "spark"
    again = model.predict(model.linker_for(sources, model=saved), one_per_source=list(sources))
    assert _linked_pairs(again.pairs) == pairs
    assert _clusters(again.clusters) == _clusters(duckdb.clusters)


def test_a_model_moves_between_engines_with_its_weights(trained: dict[str, Any]) -> None:
    """Its comparisons and blocking rules written in Spark SQL, each level's m and u and the prior kept; and
    back to DuckDB to the letter."""
    parameters = trained["parameters"]
    on_spark = model.for_engine(parameters, "spark")
    assert on_spark["sql_dialect"] == "spark"
    assert (
        on_spark["probability_two_random_records_match"] == parameters["probability_two_random_records_match"]
    )
    sql = " ".join(
        level["sql_condition"]
        for comparison in on_spark["comparisons"]
        for level in comparison["comparison_levels"]
    )
    assert "list_has_any" not in sql and "jaro_winkler_similarity" not in sql and '"' not in sql
    for moved, original in zip(on_spark["comparisons"], parameters["comparisons"], strict=True):
        for a, b in zip(moved["comparison_levels"], original["comparison_levels"], strict=True):
            assert (a.get("m_probability"), a.get("u_probability")) == (
                b.get("m_probability"),
                b.get("u_probability"),
            )
    # And back: the DuckDB model again, to the letter.
    assert model.for_engine(on_spark, "duckdb") == {**parameters, "sql_dialect": "duckdb"}
    # A model whose comparisons are not this version's is refused rather than run with the wrong SQL.
    altered = {**parameters, "comparisons": parameters["comparisons"][:-1]}
    with pytest.raises(ValueError, match="train it again"):
        model.for_engine(altered, "spark")
