"""The Spark engine gives the same people and the same scores as the default engine.

On a small generated force (1,500 incidents; SQLite only — the engines'
results do not depend on the database, and Spark's local mode is slow):
loaded, resolved with the default engine (which trains the model and stores
it), resolved again with ``adapt resolve --engine spark`` (the same stored
model, splink on Spark in local mode), then scored with both engines. The
two clusterings agree on at least 99.9% of pairs of rows and the two score
tables are identical.

Skipped, saying why, when pyspark or Java is missing, unless
``ADAPT_REQUIRE_SPARK=1`` (as CI sets it), which makes a missing Spark a
failure. One local Spark session (``local[2]``) serves the module. Spark's
local mode is slow on two cores (each splink stage a job, checkpoints between
them): the module took 14 minutes on SQLite alone with the machine's load at
13-17, most of it the Spark resolve.
"""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest
from sklearn.metrics import pair_confusion_matrix
from typer.testing import CliRunner

from adapt.cli import app
from adapt.core.history import History
from adapt.db import connect
from adapt.db import identity as identity_store
from adapt.db.scores import score_run_frame
from adapt.identity import spark_engine as spark_identity
from adapt.scoring import spark_engine as spark_scoring

runner = CliRunner()


def _missing() -> str | None:
    if not spark_identity.HAVE_PYSPARK:
        return "pyspark is not installed (pip install 'adapt[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (Spark 4 needs Java 17)"
    return None


@pytest.fixture(scope="module")
def spark():  # type: ignore[no-untyped-def]
    reason = _missing()
    if reason:
        if os.environ.get("ADAPT_REQUIRE_SPARK") == "1":
            pytest.fail(f"ADAPT_REQUIRE_SPARK=1 but {reason}")
        pytest.skip(reason)
    session = spark_identity.local_session("local[2]", shuffle_partitions=4)
    yield session
    spark_identity.stop_session(session)


def _run(*args: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output


def pair_agreement(a: pd.Series, b: pd.Series) -> tuple[float, int]:
    """Share of pairs of rows on which two clusterings agree (same person in
    both or different in both), and the number of pairs they disagree on."""
    (tn, fp), (fn, tp) = pair_confusion_matrix(a.to_numpy(), b.to_numpy())
    total = int(tn) + int(fp) + int(fn) + int(tp)
    return (int(tn) + int(tp)) / total, int(fp) + int(fn)


@pytest.fixture(scope="module")
def both(spark, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[no-untyped-def]
    """A small force resolved and scored by each engine, what each stored."""
    folder = tmp_path_factory.mktemp("spark")
    url = f"sqlite:///{folder / 'spark.sqlite'}"
    _run("generate", str(folder / "extract"), "--seed", "7", "--incidents", "1500")
    _run("load", str(folder / "extract"), "--db", url)
    _run("resolve", "--db", url)
    engine = connect(url)
    try:
        default_people = identity_store.assignments(engine)[["row_key", "person_id"]]
        _run("resolve", "--engine", "spark", "--db", url)
        spark_people = identity_store.assignments(engine)[["row_key", "person_id"]]
        runs = identity_store.last_run(engine)
        _run("score", "--db", url)
        _run("score", "--engine", "spark", "--db", url)
        return {
            "default_people": default_people,
            "spark_people": spark_people,
            "spark_run": runs,
            # the same table but for the run it belongs to
            "default_scores": score_run_frame(engine, 1).drop(columns="run_id"),
            "spark_scores": score_run_frame(engine, 2).drop(columns="run_id"),
        }
    finally:
        engine.dispose()


def test_spark_engine_finds_the_same_people(both: dict) -> None:
    people = both["default_people"].merge(
        both["spark_people"], on="row_key", suffixes=("_default", "_spark")
    )
    assert len(people) == len(both["default_people"]) == len(both["spark_people"])
    agreement, differ = pair_agreement(people["person_id_default"], people["person_id_spark"])
    assert agreement >= 0.999, (agreement, differ)
    # The Spark run is a full run with the model the default run trained and stored.
    assert both["spark_run"]["mode"] == "full"
    assert "reused" in both["spark_run"]["model"]


def test_spark_engine_gives_the_same_scores(both: dict) -> None:
    pd.testing.assert_frame_equal(both["default_scores"], both["spark_scores"], check_exact=True)
    assert len(both["spark_scores"]) > 300
    assert list(both["spark_scores"]["rank"]) == list(range(1, len(both["spark_scores"]) + 1))


def test_partitions_are_whole_components() -> None:
    """People joined by an incident (any role), a MARAC referral or an
    officer's counter-allegation label share a component; others do not."""
    history = History.build(
        incidents=pd.DataFrame(
            {
                "incident_id": ["i1", "i2", "i3", "i4"],
                "occurred_at": pd.to_datetime(["2024-01-01"] * 4),
                "offence": ["assault"] * 4,
                "is_crime": [True] * 4,
            }
        ),
        involvements=pd.DataFrame(
            {
                "incident_id": ["i1", "i1", "i2", "i2", "i3", "i3", "i4"],
                "role": ["suspect", "victim", "suspect", "victim", "suspect", "witness", "suspect"],
                "person_id": ["a", "b", "b", "c", "d", "e", "g"],
            }
        ),
        marac=pd.DataFrame(
            {
                "referral_id": ["m1"],
                "referral_date": pd.to_datetime(["2024-02-01"]),
                "victim_person_id": ["f"],
                "perpetrator_person_id": ["d"],
            }
        ),
        counter_overrides=pd.DataFrame({"person_a": ["g"], "person_b": ["h"], "aggressor": ["g"]}),
    )
    _, person = spark_scoring.components(history)
    assert person["a"] == person["b"] == person["c"]
    assert person["d"] == person["e"] == person["f"]
    assert person["g"] == person["h"]
    assert len({person["a"], person["d"], person["g"]}) == 3
    tables = spark_scoring.bucketed(history, 2)
    inc = tables["incidents"].set_index("incident_id")[spark_scoring.BUCKET]
    assert inc["i1"] == inc["i2"]
    # The History a Spark task rebuilds is the one it was given.
    wide = spark_scoring.wide_table(history, 2).to_pandas()
    back = spark_scoring.history_of(wide)
    for name in spark_scoring.TABLES:
        got = getattr(back, name).sort_values(list(getattr(back, name).columns[:2]))
        want = getattr(history, name).sort_values(list(getattr(history, name).columns[:2]))
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True), want.reset_index(drop=True), check_dtype=True
        )
