"""Where the linkage model runs: DuckDB on one machine, or Spark (a local one, or a cluster) beyond.

Splink writes its own SQL for each engine, but the model's comparisons and the household rule are our own
SQL, and the two dialects differ: identifiers are quoted differently ("x" is a string in Spark SQL), and some
functions have other names or do not exist. ``Dialect`` is the seam: the few SQL fragments the model needs,
written once per engine. Every fragment gives the same answer on both engines, to the last bit where it is
a number, so a model scores the same pairs alike wherever it runs:

- **Any overlap of two lists**: DuckDB's ``list_has_any``, Spark's ``arrays_overlap``.
- **Length of a list that may be missing**: ``len(coalesce(x, []))``, ``size(coalesce(x, array()))``.
- **The start of a postcode by a pattern**: ``regexp_extract`` on both (Spark names the group, 0).
- **Jaro-Winkler similarity**: DuckDB's ``jaro_winkler_similarity``. Spark has none built in; Splink's JAR
  has one, but it counts half a transposition where DuckDB rounds it down (DuckDB says 0.911 for
  "whitington" and "whitton", the JAR 0.897: about 2 in 100 pairs of names differ, some across our
  thresholds). So on Spark it is DuckDB's own algorithm written in Spark SQL's array functions: the same
  matching window, greedy matching, transpositions halved and rounded down, and prefix boost; no JAR.
- **At most one edit, counting two neighbours swapped as one** (a date of birth mistyped):
  ``damerau_levenshtein(a, b) <= 1`` on DuckDB; on Spark, ``levenshtein(a, b) <= 1`` or the two the same
  length and different in exactly two neighbouring places that are each other's.

Starting Spark: the session given, else the active one, else a new one on ``RETICULIST_SPARK_MASTER``
(``local[2]`` by default). It needs Java 17 and the ``pyspark`` package (the ``spark`` extra).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENGINES = ("duckdb", "spark")
MASTER_VARIABLE = "RETICULIST_SPARK_MASTER"
DRIVER_MEMORY_VARIABLE = "RETICULIST_SPARK_DRIVER_MEMORY"
DEFAULT_MASTER = "local[2]"
DEFAULT_DRIVER_MEMORY = "2g"


def engine_name(engine: str) -> str:
    if engine not in ENGINES:
        raise ValueError(f"engine must be {' or '.join(ENGINES)}, not {engine!r}")
    return engine


# --- the SQL that differs ----------------------------------------------------------------------------------
def _let(value: str, name: str, body: str) -> str:
    """``body`` with ``name`` bound to ``value``, computed once (Spark SQL has no LET: a one-element array's
    transform is one)."""
    return f"element_at(transform(array({value}), {name} -> {body}), 1)"


@dataclass(frozen=True)
class Dialect:
    """The SQL fragments of the model that differ between engines; ``name`` is Splink's dialect."""

    name: str

    def col(self, column: str) -> str:
        return f'"{column}"' if self.name == "duckdb" else f"`{column}`"

    def overlap(self, a: str, b: str) -> str:
        """Whether two lists have an element in common (NULL when either is missing)."""
        fn = "list_has_any" if self.name == "duckdb" else "arrays_overlap"
        return f"{fn}({self.col(a)}, {self.col(b)})"

    def length_or_zero(self, column: str) -> str:
        if self.name == "duckdb":
            return f"len(coalesce({self.col(column)}, []))"
        return f"size(coalesce({self.col(column)}, array()))"

    def extract(self, column: str, pattern: str) -> str:
        """The part of ``column`` that matches ``pattern`` ('' where none does)."""
        if self.name == "duckdb":
            return f"regexp_extract({self.col(column)}, '{pattern}')"
        return f"regexp_extract({self.col(column)}, '{pattern}', 0)"

    def jaro_winkler(self, a: str, b: str) -> str:
        if self.name == "duckdb":
            return f"jaro_winkler_similarity({self.col(a)}, {self.col(b)})"
        return _spark_jaro_winkler(self.col(a), self.col(b))

    def at_most_one_edit(self, a: str, b: str) -> str:
        """At most one character inserted, deleted, changed, or two neighbours swapped."""
        if self.name == "duckdb":
            return f"damerau_levenshtein({self.col(a)}, {self.col(b)}) <= 1"
        x, y = self.col(a), self.col(b)
        differ = f"filter(sequence(1, length({x})), p -> substr({x}, p, 1) != substr({y}, p, 1))"
        swapped = (
            "CASE WHEN size(d) = 2 THEN element_at(d, 2) = element_at(d, 1) + 1 "
            f"AND substr({x}, element_at(d, 1), 1) = substr({y}, element_at(d, 2), 1) "
            f"AND substr({x}, element_at(d, 2), 1) = substr({y}, element_at(d, 1), 1) ELSE FALSE END"
        )
        return (
            f"(levenshtein({x}, {y}) <= 1 OR (length({x}) = length({y}) AND length({x}) > 0 "
            f"AND {_let(differ, 'd', swapped)}))"
        )


def _spark_jaro_winkler(a: str, b: str) -> str:
    """DuckDB's jaro_winkler_similarity(a, b) in Spark SQL, to the bit. Each character of ``a`` in turn takes
    the first untaken equal character of ``b`` within the window (half the longer length, less one); the m
    matched characters of each, in order, differ in t places; Jaro is (m/|a| + m/|b| + (m - t div 2)/m) / 3
    (DuckDB rounds half the transpositions down: Splink's JAR does not); above 0.7 it is raised by a tenth of
    what is left for each of the first (up to four) characters the two share.

    Written with string functions where it can (a lambda per character costs far more): the state is ``b``
    with the characters taken blotted out (NUL, which no standardised value holds), the same with only those
    kept, and ``a``'s matched characters."""
    blot = "chr(0)"
    lo = "greatest(1, i - w)"
    hi = f"least(length({b}), i + w)"
    within = f"substr(acc.rest, {lo}, {hi} - {lo} + 1)"
    found = f"CASE WHEN {hi} >= {lo} THEN locate(substr({a}, i, 1), {within}) ELSE 0 END"
    taken = f"{lo} + k - 1"
    step = _let(
        found,
        "k",
        "CASE WHEN k = 0 THEN acc ELSE named_struct("
        f"'rest', overlay(acc.rest PLACING {blot} FROM {taken} FOR 1), "
        f"'kept', overlay(acc.kept PLACING substr({a}, i, 1) FROM {taken} FOR 1), "
        f"'ma', concat(acc.ma, substr({a}, i, 1))) END",
    )
    start = f"named_struct('rest', {b}, 'kept', repeat({blot}, length({b})), 'ma', '')"
    transpositions = "size(filter(sequence(1, m), x -> substr(acc.ma, x, 1) != substr(mb, x, 1)))"
    jaro = f"(m / length({a}) + m / length({b}) + (m - floor({transpositions} / 2)) / m) / 3.0D"
    matched_b = f"replace(acc.kept, {blot}, '')"
    finish = _let("length(acc.ma)", "m", f"CASE WHEN m = 0 THEN 0.0D ELSE {_let(matched_b, 'mb', jaro)} END")
    window = f"CAST(greatest(floor(greatest(length({a}), length({b})) / 2) - 1, 0) AS INT)"
    matching = _let(
        window, "w", f"aggregate(sequence(1, length({a})), {start}, (acc, i) -> {step}, acc -> {finish})"
    )
    shared = " ".join(f"WHEN substr({a}, {n}, 1) != substr({b}, {n}, 1) THEN {n - 1}" for n in range(1, 5))
    prefix = f"least(4, length({a}), length({b}), CASE {shared} ELSE 4 END)"
    winkler = _let(matching, "s", f"CASE WHEN s > 0.7D THEN least({_fused_boost(prefix)}, 1.0D) ELSE s END")
    return (
        f"(CASE WHEN {a} IS NULL OR {b} IS NULL THEN CAST(NULL AS DOUBLE) "
        f"WHEN length({a}) = 0 OR length({b}) = 0 THEN 0.0D WHEN {a} = {b} THEN 1.0D "
        f"ELSE {winkler} END)"
    )


def _fused_boost(prefix: str) -> str:
    """s + (prefix * 0.1) * (1 - s) rounded once, for s in (0.7, 1], as DuckDB computes it: its build fuses
    the multiply and the add (one rounding, not two), and a pair of names exactly on a threshold ("lisa" and
    "lqsa" are 0.85) must fall on the same side of it on both engines. Spark SQL has no fma, so it is done
    in whole numbers: s is S/2^53, 1 - s is (2^53 - S)/2^53 and prefix * 0.1 is A/2^56, so the exact sum is
    (A (2^53 - S) + S 2^56) / 2^109, a whole number below 2^110 (a 38-digit decimal holds it) that becomes a
    double with one correct rounding; dividing by 2^109 is exact."""
    a = f"CAST(CAST({prefix} * 0.1D * {2**56}D AS BIGINT) AS DECIMAL(20, 0))"
    s = f"CAST(CAST(s * {2**53}D AS BIGINT) AS DECIMAL(20, 0))"
    b = f"CAST(CAST((1.0D - s) * {2**53}D AS BIGINT) AS DECIMAL(20, 0))"
    return f"(CAST({a} * {b} + {s} * CAST({2**56} AS DECIMAL(20, 0)) AS DOUBLE) * {2**-109!r}D)"


DUCKDB = Dialect("duckdb")
SPARK = Dialect("spark")


def dialect(engine: str) -> Dialect:
    return DUCKDB if engine_name(engine) == "duckdb" else SPARK


def engine_of(linker: Any) -> str:
    """The engine a Splink linker runs on ("duckdb" or "spark")."""
    return str(linker._db_api.sql_dialect.sql_dialect_str)


# --- DuckDB -----------------------------------------------------------------------------------------------
def duckdb_api() -> Any:
    import duckdb
    from splink import DuckDBAPI

    # DuckDB spills to disk when a run outgrows memory: to the system's temporary folder, never to ".tmp"
    # in whatever folder the command was started from.
    spill = Path(tempfile.gettempdir()) / "reticulist-duckdb"
    return DuckDBAPI(connection=duckdb.connect(config={"temp_directory": str(spill)}))


# --- Spark ------------------------------------------------------------------------------------------------
def local_spark(
    folder: Path | str | None = None, *, master: str | None = None, driver_memory: str | None = None
) -> Any:
    """A new Spark session for linking: on ``master`` (else ``RETICULIST_SPARK_MASTER``, else ``local[2]``),
    with Splink's similarity functions (its JAR, shipped in its wheel: nothing is downloaded), few shuffle
    partitions, no web UI, quiet logs. Its scratch space, warehouse and checkpoints are under ``folder``
    (a new temporary folder by default). A local master listens on the loopback address only."""
    from pyspark.sql import SparkSession
    from splink.backends.spark import similarity_jar_location

    master = master or os.environ.get(MASTER_VARIABLE) or DEFAULT_MASTER
    memory = driver_memory or os.environ.get(DRIVER_MEMORY_VARIABLE) or DEFAULT_DRIVER_MEMORY
    root = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="reticulist-spark-"))
    for part in ("local", "warehouse", "checkpoints", "derby"):
        (root / part).mkdir(parents=True, exist_ok=True)
    builder = (
        SparkSession.builder.master(master)
        .appName("reticulist-linkage")
        .config("spark.jars", similarity_jar_location())
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(root / "local"))
        .config("spark.sql.warehouse.dir", str(root / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root / 'derby'}")
    )
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.host", "127.0.0.1").config(
            "spark.driver.bindAddress", "127.0.0.1"
        )
    try:
        spark = builder.getOrCreate()
    except Exception as error:  # pyspark raises its own runtime errors when Java cannot start
        raise RuntimeError(
            f"Spark could not start on {master} ({error}); it needs Java 17 ('java' on the PATH or JAVA_HOME)"
        ) from error
    spark.sparkContext.setLogLevel("ERROR")
    if master.startswith("local"):
        spark.sparkContext.setCheckpointDir(str(root / "checkpoints"))
    return spark


def spark_session(spark: Any = None) -> Any:
    """The session to link on: the one given, else the active one, else a new one (``local_spark``)."""
    if spark is not None:
        return spark
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession() or local_spark()


def spark_api(spark: Any = None) -> Any:
    """Splink's Spark backend on the session. Splink writes its intermediate tables as Parquet to the
    session's checkpoint folder (kept in memory instead, the plans of clustering grow until the driver runs
    out of it): a local session without one is given a temporary one; a cluster's session must have one
    that all its machines reach (``spark.sparkContext.setCheckpointDir("hdfs://...")``)."""
    from splink.backends.spark import SparkAPI

    session = spark_session(spark)
    context = session.sparkContext
    if context._jsc.sc().getCheckpointDir().isEmpty():
        if not context.master.startswith("local"):
            raise ValueError(
                "the Spark session has no checkpoint folder: set one all the cluster's machines reach, "
                'e.g. spark.sparkContext.setCheckpointDir("hdfs:///tmp/reticulist")'
            )
        context.setCheckpointDir(tempfile.mkdtemp(prefix="reticulist-spark-checkpoints-"))
    return SparkAPI(spark_session=session, break_lineage_method="parquet")
