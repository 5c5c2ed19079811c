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

Pure computation over frames; storage, runs and the review queue are elsewhere.
"""

from __future__ import annotations

import logging
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

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


def comparisons() -> list[Any]:
    import splink.comparison_library as cl

    same_surname = (
        '("surname_l" = "surname_r" OR "surname_first_l" = "surname_first_r" OR "surname_last_l" = '
        '"surname_last_r" OR "surname_first_l" = "surname_last_r" OR "surname_last_l" = "surname_first_r")'
    )
    nickname = 'list_has_any("forename_keys_l", "forename_keys_r")'
    return [
        cl.CustomComparison(
            output_column_name="name",
            comparison_description="Forename and surname",
            comparison_levels=[
                _level(
                    '"forename_l" IS NULL OR "surname_l" IS NULL '
                    'OR "forename_r" IS NULL OR "surname_r" IS NULL',
                    "Missing",
                    null=True,
                ),
                _level('"forename_l" = "forename_r" AND "surname_l" = "surname_r"', "Both the same"),
                _level('"forename_l" = "surname_r" AND "surname_l" = "forename_r"', "Swapped"),
                _level(f"{nickname} AND {same_surname}", "Nickname or part of a double-barrelled surname"),
                _level(
                    'jaro_winkler_similarity("forename_l", "forename_r") >= 0.9 AND '
                    'jaro_winkler_similarity("surname_l", "surname_r") >= 0.9',
                    "Both spelt nearly alike",
                ),
                _level(
                    '"forename_soundex_l" = "forename_soundex_r" '
                    'AND "surname_soundex_l" = "surname_soundex_r"',
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
                _level('"dob_l" IS NULL OR "dob_r" IS NULL', "Missing", null=True),
                _level('"dob_l" = "dob_r"', "The same"),
                _level('"dob_l" = "dob_swapped_r" OR "dob_swapped_l" = "dob_r"', "Day and month swapped"),
                _level('damerau_levenshtein("dob_l", "dob_r") <= 1', "One figure mistyped or two transposed"),
                _else(),
            ],
        ),
        cl.CustomComparison(
            output_column_name="postcode",
            comparison_description="Postcode and address history",
            comparison_levels=[
                _level(
                    '("postcode_l" IS NULL AND len(coalesce("postcode_history_l", [])) = 0) OR '
                    '("postcode_r" IS NULL AND len(coalesce("postcode_history_r", [])) = 0)',
                    "Missing",
                    null=True,
                ),
                _level('"postcode_l" = "postcode_r"', "The same"),
                _level(
                    'list_has_any("postcode_history_l", "postcode_history_r")', "Lived at the same postcode"
                ),
                _level(
                    "regexp_extract(\"postcode_l\", '^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]') = "
                    "regexp_extract(\"postcode_r\", '^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]')",
                    "The same sector",
                ),
                _level(
                    "regexp_extract(\"postcode_l\", '^[A-Z]{1,2}[0-9][A-Z0-9]?') = "
                    "regexp_extract(\"postcode_r\", '^[A-Z]{1,2}[0-9][A-Z0-9]?')",
                    "The same district",
                ),
                _else(),
            ],
        ),
        _identifier("nhs_number", "NHS number"),
        _identifier("upn", "Unique pupil number"),
        _identifier("sex", "Sex"),
    ]


def _identifier(column: str, words: str) -> Any:
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=column,
        comparison_description=words,
        comparison_levels=[
            _level(f'"{column}_l" IS NULL OR "{column}_r" IS NULL', "Missing", null=True),
            _level(f'"{column}_l" = "{column}_r"', "The same"),
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


def settings(*, retain: tuple[str, ...] = ()) -> Any:
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="link_only",
        unique_id_column_name="record_id",
        source_dataset_column_name="source_dataset",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,  # the waterfall of evidence for the review queue
        additional_columns_to_retain=list(retain),
        probability_two_random_records_match=0.0001,
        max_iterations=20,
    )


def _inputs(db_api: Any, sources: dict[str, pl.DataFrame], retain: tuple[str, ...]) -> list[Any]:
    frames = []
    for name, frame in sources.items():
        columns = ["record_id", *COMPARED, *[c for c in retain if c in frame.columns]]
        table = frame.select(columns).with_columns(source_dataset=pl.lit(name))
        frames.append(db_api.register(table.to_arrow(), dataset_display_name=name))
    return frames


def linker_for(
    sources: dict[str, pl.DataFrame], *, model: dict[str, Any] | None = None, retain: tuple[str, ...] = ()
) -> Any:
    """A Splink linker on DuckDB over the standardised sources (agency name -> records)."""
    import duckdb
    from splink import DuckDBAPI, Linker

    # DuckDB spills to disk when a run outgrows memory: to the system's temporary folder, never to ".tmp"
    # in whatever folder the command was started from.
    spill = Path(tempfile.gettempdir()) / "reticulist-duckdb"
    db_api = DuckDBAPI(connection=duckdb.connect(config={"temp_directory": str(spill)}))
    chosen = model if model is not None else settings(retain=retain)
    return Linker(_inputs(db_api, sources, retain), chosen, log_level=logging.WARNING)


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


HOUSEHOLD_RULE = """
    NOT (
        "surname_l" = "surname_r" AND "dob_l" = "dob_r"
        AND NOT list_has_any("forename_keys_l", "forename_keys_r")
        AND jaro_winkler_similarity("forename_l", "forename_r") < 0.85
        AND coalesce("nhs_number_l" = "nhs_number_r", FALSE) = FALSE
        AND coalesce("upn_l" = "upn_r", FALSE) = FALSE
    )
"""


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
    df = linker.inference.predict(threshold_match_probability=review)
    kept = linker.misc.query_sql(f"SELECT * FROM {df.physical_name} WHERE {HOUSEHOLD_RULE}")
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
