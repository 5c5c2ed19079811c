"""The linkage model on Splink 5: its settings from the standard fields, training as Splink recommends,
predicting, the household rule, clustering, and measuring it against known truth.

Evidence, each a comparison with a "missing" level that counts for nothing (so a missing NHS number never
blocks a link):

- **NHS number** and **unique pupil number**: exact or different. Strong, never the only route: every
  blocking rule but two uses no identifier, and a wrong number is outweighed by names and dates that
  disagree.
- **Name**: both exact; forename and surname swapped; the forename a nickname of the other's ("Alfie",
  "Alfred") with the same surname or a part of a double-barrelled one; both close in spelling (Jaro-Winkler);
  both sounding alike (Soundex); the forename alone (a surname that changed); the surname alone.
- **Date of birth**: exact; day and month swapped; one character mistyped or two transposed.
- **Postcode**: exact; any overlap of the two address histories; the same sector; the same district.
- **Sex**.

The **household rule** keeps twins and siblings apart: a pair with the same surname and date of birth whose
forenames are neither the same, nicknames of each other nor close in spelling, and whose identifiers do not
agree, is never linked (same-household pairs break the model's assumption that the fields are independent).

**Engines**: DuckDB on one machine, Spark beyond (``linker_for(..., engine="spark")``). The comparisons' and
the household rule's SQL is written for each (``engines.Dialect``) and scores every pair alike on both; a
trained model runs on either (``for_engine``: the same m, u and prior, the SQL of the engine it runs on).

Pure computation over frames; storage, runs and the review queue are elsewhere.
"""

from __future__ import annotations

import copy
import logging
import math
import uuid
from dataclasses import dataclass
from typing import Any

import polars as pl

from reticulist.linkage import engines

COMPARED = (
    "forename",
    "forename_keys",
    "forename_soundex",
    "surname",
    "surname_first",
    "surname_last",
    "surname_soundex",
    "dob",
    "dob_swapped",
    "sex",
    "postcode",
    "postcode_history",
    "nhs_number",
    "upn",
)
# What each comparison is, in words (Splink's saved model keeps only "CustomComparison").
COMPARISON_WORDS = {
    "name": "Forename and surname",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode and address history",
    "nhs_number": "NHS number",
    "upn": "Unique pupil number",
    "sex": "Sex",
}
LINKED, REVIEW = 0.7, 0.2  # default thresholds (match probability) for "linked" and "to review"


def _level(sql: str, label: str, *, null: bool = False) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        level["is_null_level"] = True
    return level


def _else(label: str = "Different") -> dict[str, Any]:
    return {"sql_condition": "ELSE", "label_for_charts": label}


def _same_surname(d: engines.Dialect) -> str:
    pairs = [
        ("surname", "surname"),
        ("surname_first", "surname_first"),
        ("surname_last", "surname_last"),
        ("surname_first", "surname_last"),
        ("surname_last", "surname_first"),
    ]
    return "(" + " OR ".join(f"{d.col(x + '_l')} = {d.col(y + '_r')}" for x, y in pairs) + ")"


def comparisons(engine: str = "duckdb") -> list[Any]:
    """The comparisons, their SQL written for ``engine`` ("duckdb" or "spark")."""
    import splink.comparison_library as cl

    d = engines.dialect(engine)
    c = d.col
    same_surname = _same_surname(d)
    nickname = d.overlap("forename_keys_l", "forename_keys_r")
    sector = "^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]"
    district = "^[A-Z]{1,2}[0-9][A-Z0-9]?"
    return [
        cl.CustomComparison(
            output_column_name="name",
            comparison_description="Forename and surname",
            comparison_levels=[
                _level(
                    f"{c('forename_l')} IS NULL OR {c('surname_l')} IS NULL "
                    f"OR {c('forename_r')} IS NULL OR {c('surname_r')} IS NULL",
                    "Missing",
                    null=True,
                ),
                _level(
                    f"{c('forename_l')} = {c('forename_r')} AND {c('surname_l')} = {c('surname_r')}",
                    "Both the same",
                ),
                _level(
                    f"{c('forename_l')} = {c('surname_r')} AND {c('surname_l')} = {c('forename_r')}",
                    "Swapped",
                ),
                _level(f"{nickname} AND {same_surname}", "Nickname or part of a double-barrelled surname"),
                _level(
                    f"{d.jaro_winkler('forename_l', 'forename_r')} >= 0.9 AND "
                    f"{d.jaro_winkler('surname_l', 'surname_r')} >= 0.9",
                    "Both spelt nearly alike",
                ),
                _level(
                    f"{c('forename_soundex_l')} = {c('forename_soundex_r')} "
                    f"AND {c('surname_soundex_l')} = {c('surname_soundex_r')}",
                    "Both sound alike",
                ),
                _level(nickname, "Forename only (surname changed)"),
                _level(same_surname, "Surname only"),
                _else(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="date_of_birth",
            comparison_description="Date of birth",
            comparison_levels=[
                _level(f"{c('dob_l')} IS NULL OR {c('dob_r')} IS NULL", "Missing", null=True),
                _level(f"{c('dob_l')} = {c('dob_r')}", "The same"),
                _level(
                    f"{c('dob_l')} = {c('dob_swapped_r')} OR {c('dob_swapped_l')} = {c('dob_r')}",
                    "Day and month swapped",
                ),
                _level(d.at_most_one_edit("dob_l", "dob_r"), "One figure mistyped or two transposed"),
                _else(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="postcode",
            comparison_description="Postcode and address history",
            comparison_levels=[
                _level(
                    f"({c('postcode_l')} IS NULL AND {d.length_or_zero('postcode_history_l')} = 0) OR "
                    f"({c('postcode_r')} IS NULL AND {d.length_or_zero('postcode_history_r')} = 0)",
                    "Missing",
                    null=True,
                ),
                _level(f"{c('postcode_l')} = {c('postcode_r')}", "The same"),
                _level(d.overlap("postcode_history_l", "postcode_history_r"), "Lived at the same postcode"),
                _level(
                    f"{d.extract('postcode_l', sector)} = {d.extract('postcode_r', sector)}",
                    "The same sector",
                ),
                _level(
                    f"{d.extract('postcode_l', district)} = {d.extract('postcode_r', district)}",
                    "The same district",
                ),
                _else(),
            ],
        ),
        _identifier("nhs_number", "NHS number", d),
        _identifier("upn", "Unique pupil number", d),
        _identifier("sex", "Sex", d),
    ]


def _identifier(column: str, words: str, d: engines.Dialect = engines.DUCKDB) -> Any:
    import splink.comparison_library as cl

    left, right = d.col(f"{column}_l"), d.col(f"{column}_r")
    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=words,
        comparison_levels=[
            _level(f"{left} IS NULL OR {right} IS NULL", "Missing", null=True),
            _level(f"{left} = {right}", "The same"),
            _else(),
        ],
    )


def blocking_rules() -> list[Any]:
    from splink import block_on

    return [
        block_on("nhs_number"),
        block_on("upn"),
        block_on("dob", "surname_soundex"),
        block_on("dob", "forename_soundex"),
        block_on("forename", "surname"),
        block_on("postcode", "forename_soundex"),
        "l.dob_swapped = r.dob AND l.surname_soundex = r.surname_soundex",
        # forename and surname written the other way round
        "l.dob = r.dob AND l.surname_soundex = r.forename_soundex AND l.forename_soundex = r.surname_soundex",
    ]


def settings(*, retain: tuple[str, ...] = (), engine: str = "duckdb") -> Any:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        source_dataset_column_name="source_dataset",
        comparisons=comparisons(engine),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,  # the waterfall of evidence for the review queue
        additional_columns_to_retain=list(retain),
        probability_two_random_records_match=0.0001,
        max_iterations=20,
    )


def _inputs(db_api: Any, sources: dict[str, pl.DataFrame], retain: tuple[str, ...]) -> list[Any]:
    # A Spark session outlives a linker and keeps its tables: each linker's get names of their own there.
    run = uuid.uuid4().hex[:8]
    spark = db_api.sql_dialect.sql_dialect_str == "spark"
    frames = []
    for number, (name, frame) in enumerate(sources.items()):
        columns = ["record_id", *COMPARED, *[c for c in retain if c in frame.columns]]
        table = frame.select(columns).with_columns(source_dataset=pl.lit(name))
        table_name = f"reticulist_source_{number}_{run}" if spark else None
        frames.append(db_api.register(table.to_arrow(), dataset_display_name=name, table_name=table_name))
    return frames


def linker_for(
    sources: dict[str, pl.DataFrame],
    *,
    model: dict[str, Any] | None = None,
    retain: tuple[str, ...] = (),
    engine: str = "duckdb",
    spark: Any = None,
) -> Any:
    """A Splink linker over the standardised sources (agency name -> records), to train or, with a trained
    ``model`` (from ``train``, on either engine), to predict.

    ``engine`` is "duckdb" (one machine; it spills to the system's temporary folder) or "spark": on ``spark``
    (a SparkSession, for a cluster), else the active session, else a new one on ``RETICULIST_SPARK_MASTER``
    (``local[2]`` by default; ``engines.local_spark``)."""
    from splink import Linker

    engine = engines.engine_name(engine)
    db_api = engines.duckdb_api() if engine == "duckdb" else engines.spark_api(spark)
    chosen = for_engine(model, engine) if model is not None else settings(retain=retain, engine=engine)
    return Linker(_inputs(db_api, sources, retain), chosen, log_level=logging.WARNING)


def _comparison_dicts(engine: str) -> list[dict[str, Any]]:
    return [comparison.create_comparison_dict(engine) for comparison in comparisons(engine)]


def _blocking_rule_dicts(engine: str) -> list[dict[str, Any]]:
    from splink.internals.blocking_rule_creator_utils import to_blocking_rule_creator

    return [to_blocking_rule_creator(rule).get_blocking_rule(engine).as_dict() for rule in blocking_rules()]


def for_engine(parameters: dict[str, Any], engine: str) -> dict[str, Any]:
    """A trained model (``train``'s dict, as Splink saves it) to run on ``engine``. Splink keeps each level's
    SQL as written for the engine it was trained on (its ``sql_dialect``), and does not translate it: on
    another engine the comparisons and blocking rules are written anew for it, each level keeping its
    trained m and u, and the prior kept. A model whose comparisons are not this version's (another SQL,
    other levels) cannot be moved: it is refused, to be trained again on the engine wanted."""
    engine = engines.engine_name(engine)
    trained_on = str(parameters.get("sql_dialect") or "duckdb")
    if trained_on == engine:
        return parameters
    expected = _comparison_dicts(engines.engine_name(trained_on))
    saved = parameters["comparisons"]
    same = len(saved) == len(expected) and all(
        s["output_column_name"] == e["output_column_name"]
        and [level["sql_condition"] for level in s["comparison_levels"]]
        == [level["sql_condition"] for level in e["comparison_levels"]]
        for s, e in zip(saved, expected, strict=False)
    )
    if not same:
        raise ValueError(
            f"this model was trained on {trained_on} with comparisons other than this version's; "
            f"train it again on {engine}"
        )
    moved = copy.deepcopy(parameters)
    for comparison, fresh in zip(moved["comparisons"], _comparison_dicts(engine), strict=True):
        for level, fresh_level in zip(
            comparison["comparison_levels"], fresh["comparison_levels"], strict=True
        ):
            level["sql_condition"] = fresh_level["sql_condition"]
    moved["blocking_rules_to_generate_predictions"] = _blocking_rule_dicts(engine)
    moved["sql_dialect"] = engine
    return moved


def train(linker: Any, *, max_pairs: float = 1e6) -> dict[str, Any]:
    """As Splink recommends: the prior from deterministic rules, u by random sampling, m by expectation
    maximisation blocked two different ways (each trains the comparisons the other holds fixed)."""
    from splink import block_on

    linker.training.estimate_probability_two_random_records_match(
        [
            "l.nhs_number = r.nhs_number",
            "l.upn = r.upn",
            "l.dob = r.dob AND l.forename = r.forename AND l.surname = r.surname",
        ],
        recall=0.8,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=2026)
    # Blocked on date of birth and postcode, EM learns the name's evidence among pairs that are mostly the
    # same child (and twins); blocked on the full name, it learns the date's and the postcode's. Blocking
    # on the date alone would give it tens of millions of pairs for little more.
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob", "postcode"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("forename", "surname"), estimate_without_term_frequencies=True
    )
    trained = dict(linker.misc.save_model_to_json())
    # The model is the evidence and its weights; which columns a run keeps alongside is the run's own.
    trained["additional_columns_to_retain"] = []
    return trained


def household_rule(engine: str = "duckdb") -> str:
    """The household rule as a condition that keeps a scored pair, in ``engine``'s SQL."""
    d = engines.dialect(engine)
    c = d.col
    return f"""
    NOT (
        {c("surname_l")} = {c("surname_r")} AND {c("dob_l")} = {c("dob_r")}
        AND NOT {d.overlap("forename_keys_l", "forename_keys_r")}
        AND {d.jaro_winkler("forename_l", "forename_r")} < 0.85
        AND coalesce({c("nhs_number_l")} = {c("nhs_number_r")}, FALSE) = FALSE
        AND coalesce({c("upn_l")} = {c("upn_r")}, FALSE) = FALSE
    )
"""


HOUSEHOLD_RULE = household_rule(
    "duckdb"
)  # on DuckDB; on any linker, household_rule(engines.engine_of(linker))


def scored(linker: Any, *, review: float = REVIEW) -> Any:
    """Every blocked pair scored at or above ``review``, without those the household rule keeps apart (a
    Splink frame, on the linker's engine)."""
    from splink.internals.misc import threshold_args_to_match_weight

    engine = engines.engine_of(linker)
    keep = household_rule(engine)
    if engine == "duckdb":
        df = linker.inference.predict(threshold_match_probability=review)
    else:
        # Spark would push Splink's filter on the match weight down into the comparisons, copying each
        # comparison's SQL into every level's weight (twenty Jaro-Winklers a pair, not two): it filters once
        # the scores are written instead, on the same condition.
        df = linker.inference.predict()
        weight = threshold_args_to_match_weight(review, None)
        if weight is not None:
            keep = f"match_weight >= {weight} AND {keep}"
    return linker.misc.query_sql(f"SELECT * FROM {df.physical_name} WHERE {keep}", output_type="splink_df")


@dataclass(frozen=True)
class Linked:
    pairs: pl.DataFrame  # every scored pair at or above the review threshold, with the household rule applied
    clusters: pl.DataFrame  # record_id, source_dataset, cluster_id (+ retained columns)


def predict(
    linker: Any,
    *,
    review: float = REVIEW,
    linked: float = LINKED,
    one_per_source: list[str] | None = None,
) -> Linked:
    """Score the blocked pairs, drop those the household rule keeps apart, and cluster the linked ones:
    with ``one_per_source`` (agency names), a child has at most one record of each of those agencies (its
    best links); without, linked pairs are joined into clusters as they come."""
    kept = scored(linker, review=review)
    if one_per_source:
        clusters = linker.clustering.cluster_using_single_best_links(
            kept, duplicate_free_datasets=one_per_source, threshold_match_probability=linked
        )
    else:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            kept, threshold_match_probability=linked
        )
    return Linked(pl.from_arrow(kept.as_pyarrow_table()), pl.from_arrow(clusters.as_pyarrow_table()))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Accuracy:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    found_pairs: int


def _pairs(groups: pl.Series) -> int:
    counts = groups.value_counts().get_column("count")
    return int((counts * (counts - 1) // 2).sum())


def accuracy(clusters: pl.DataFrame, *, truth: str = "person_id") -> Accuracy:
    """Pairwise precision, recall and F1 of the clusters against the known truth (every pair of records in
    one cluster is a link; every pair of one person's records should be)."""
    found = _pairs(clusters.get_column("cluster_id"))
    true = _pairs(clusters.get_column(truth))
    both = _pairs(
        clusters.select(
            pl.concat_str(
                [pl.col("cluster_id").cast(pl.String), pl.col(truth).cast(pl.String)], separator="|"
            )
        ).to_series()
    )
    precision = both / found if found else 1.0
    recall = both / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Accuracy(precision, recall, f1, true, found)


# --- the model's evidence, for people to read --------------------------------------------------------------
@dataclass(frozen=True)
class LevelWeight:
    """One level of one comparison: how often true matches (m) and other pairs (u) fall in it, and the
    match weight it adds, log2(m / u); ``None`` where training never saw the level."""

    comparison: str
    level: str
    m: float | None
    u: float | None
    weight: float | None


def _words(comparison: dict[str, Any]) -> str:
    name = comparison["output_column_name"]
    return COMPARISON_WORDS.get(name, str(comparison.get("comparison_description") or name))


def _levels(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    return [level for level in comparison["comparison_levels"] if not level.get("is_null_level")]


def prior_weight(parameters: dict[str, Any]) -> float:
    """The match weight before any evidence: log2 of the prior odds that two records are the same child."""
    prior = float(parameters["probability_two_random_records_match"])
    return math.log2(prior / (1 - prior))


def match_weights(parameters: dict[str, Any]) -> list[LevelWeight]:
    """Every level's weight, comparison by comparison, strongest level first (the match weights chart)."""
    rows = []
    for comparison in parameters["comparisons"]:
        for level in _levels(comparison):
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append(LevelWeight(_words(comparison), level["label_for_charts"], m, u, weight))
    return rows


@dataclass(frozen=True)
class Evidence:
    comparison: str
    level: str
    weight: float


def waterfall(parameters: dict[str, Any], pair: dict[str, Any]) -> list[Evidence]:
    """What each comparison said about one scored pair (a row of the predictions, with its ``gamma_`` and
    ``mw_`` columns): the level it fell in and the weight it added. The prior plus these weights is the
    pair's match weight."""
    out = []
    for comparison in parameters["comparisons"]:
        name = comparison["output_column_name"]
        gamma = int(pair[f"gamma_{name}"])
        levels = _levels(comparison)
        label = "Missing" if gamma < 0 else levels[len(levels) - 1 - gamma]["label_for_charts"]
        out.append(Evidence(_words(comparison), label, float(pair[f"mw_{name}"])))
    return out
