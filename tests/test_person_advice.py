"""The Person pathway's score tab and search (issue 13 item 3, issue 14's plain
words): the score's parts with the reason, the learned model's probability and
parts beside them as advice, tables with no None/nan/NaT, and a search that
folds accents and forgives typos as the MARAC check's does.

View functions run on hand-built frames; the page runs once through
Streamlit's AppTest on a small generated force (2,000 incidents over three
years) after ``adapt calibrate`` stored a model trained on its own past."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from adapt.cli import app
from adapt.core.settings import default_settings
from adapt.db import connect
from adapt.db.accounts import ensure_demo_users
from adapt.db.learned_models import latest_learned_model
from adapt.features import compute_features
from adapt.learned import HarmModel
from adapt.learned.advice import ADVICE_COLUMNS
from adapt.pipeline import generate, score
from adapt.scoring.score import PART_LABELS, PARTS, rank
from adapt.services import data, model_advice
from adapt.services.session import USER_KEY
from adapt.synthetic import GeneratorConfig
from adapt.views import person as pv
from adapt.views.marac import build_name_index
from tests.histories import HistoryBuilder

ROOT = Path(__file__).resolve().parents[1]


def _names() -> tuple[pd.DataFrame, object]:
    rows = pd.DataFrame(
        {
            "person_id": ["P0000001", "P0000002", "P0000003", "P0000004"],
            "role": ["suspect", "suspect", "victim", "suspect"],
            "forename": ["John", "José", "Mary", "Johnny"],
            "surname": ["Smith", "Taylor", "Jones", "Smithers"],
            "date_of_birth": pd.to_datetime(["1980-01-01", "1975-05-05", "1990-02-02", None]),
            "person_ref": [None, None, None, None],
        }
    )
    labels = pd.DataFrame(
        {"person_id": rows["person_id"], "label": rows["forename"] + " " + rows["surname"]}
    )
    return labels, build_name_index(rows)


def test_person_search_folds_accents_and_forgives_typos() -> None:
    labels, index = _names()
    # Accents folded as identity resolution folds them.
    assert pv.person_options(labels, "jose tay", names=index)[0] == ["P0000002"]
    # A typo in both names: no part of the label matches, the MARAC search's
    # name score (Jaro-Winkler, >= 0.85) does; the exact part matches come first.
    options, _ = pv.person_options(labels, "Jon Smiht", names=index)
    assert "P0000001" in options and "P0000003" not in options
    options, _ = pv.person_options(labels, "Smith", names=index)
    assert options[0] == "P0000001"  # "Smith" is part of both labels: id order
    assert set(options) >= {"P0000001", "P0000004"}
    # Without the index (and for ids) the search is as before.
    assert pv.person_options(labels, "Jon Smiht")[0] == []
    assert pv.person_options(labels, "p0000003", names=index)[0] == ["P0000003"]


def test_tables_show_no_none_nan_or_nat() -> None:
    frame = pd.DataFrame(
        {
            "first_at": pd.to_datetime(["2026-01-05", None]),
            "victim_id": pd.Series(["P1", None], dtype="string"),
            "note": [None, "nan"],
            "harm": [10.0, np.nan],
            "adopted": [True, False],
        }
    )
    shown = pv.plain_table(frame)
    assert list(shown.columns) == ["first at", "victim id", "note", "harm", "adopted"]
    assert shown["first at"].tolist() == ["05 Jan 2026", "not recorded"]
    assert shown["victim id"].tolist() == ["P1", ""]
    assert shown["note"].tolist() == ["", ""]
    assert shown["harm"].tolist() == ["10", ""]
    assert shown["adopted"].tolist() == ["yes", "no"]
    text = shown.astype(str).to_numpy().ravel().tolist()
    assert not {"None", "nan", "NaT", "<NA>"} & set(text)


def test_score_parts_in_words_with_the_reason() -> None:
    # P1: three assaults on one partner this year, one with a weapon; P2 one.
    b = HistoryBuilder()
    for when in ("2026-02-01", "2026-05-01", "2026-08-01"):
        b.incident(when, "abh", suspect="P1", victim="V1", weapon=when.endswith("08-01"))
    b.incident("2026-03-01", suspect="P2", victim="V2")
    settings = default_settings()
    ranked = rank(compute_features(b.build(), "2026-10-31", settings), settings)
    summary = pv.score_summary(ranked, "P1")
    assert summary is not None and summary["rank"] == 1 and summary["people"] == 2
    assert summary["reason"]  # the cohort rule's reason, in words
    parts = pv.score_parts_shown(ranked, "P1")
    assert set(parts["part"]) == {PART_LABELS[p] for p in PARTS}
    assert parts["points"].sum() == pytest.approx(summary["score"], abs=0.5)
    assert parts["points"].is_monotonic_decreasing
    assert pv.score_summary(ranked, "P9") is None and pv.score_parts_shown(ranked, "P9").empty


def test_model_parts_say_the_effect_in_words() -> None:
    parts = pd.DataFrame(
        {
            "feature": ["attendances_window", "days_since_last_serious", "serial"],
            "input": ["attendances in the last 12 months", "time since the last serious "
                      "incident", "serial perpetrator (two or more victims)"],
            "value": [4, -1, True],
            "contribution": [np.log(2.0), np.log(0.5), 0.0],
        }
    )  # fmt: skip
    shown = pv.model_parts_shown(parts)
    assert shown["effect"].tolist() == [
        "raises the odds 2 times", "lowers the odds to 0.5 times", "raises the odds 1 times",
    ]  # fmt: skip
    assert shown["value"].tolist() == ["4", "none on record", "yes"]


# ------------------------------------------------------------- the page itself
@pytest.fixture(scope="module")
def calibrated_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("advice")
    url = f"sqlite:///{folder / 'force.sqlite'}"
    generate(folder / "extract", GeneratorConfig(seed=5, incidents=2000))
    runner = CliRunner()
    done = runner.invoke(app, ["run", str(folder / "extract"), "--db", url])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["calibrate", "--db", url])
    assert done.exit_code == 0, done.output
    engine = connect(url)
    ensure_demo_users(engine)
    engine.dispose()
    return url


@pytest.fixture
def db(calibrated_demo: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ADAPT_DATABASE_URL", calibrated_demo)
    yield calibrated_demo


def test_person_page_shows_the_model_beside_the_score(db: str) -> None:
    engine = connect(db)
    stored = latest_learned_model(engine)
    engine.dispose()
    assert stored is not None
    model = HarmModel.from_dict(stored.model)
    assert model.target == "any_incident"

    top = str(score(db, store=False).table.iloc[0]["person_id"])
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=90)
    at.session_state[USER_KEY] = "officer"
    at.run()
    at.session_state["person_id"] = top  # as the Cohort page's "Open a person" leaves it
    at.switch_page("app_pages/person.py").run()
    assert not at.exception
    next(s for s in at.selectbox if s.label == "Purpose").select("Offender management").run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "advice beside the RFG score, not a decision" in text
    shown_version = stored.version.replace("-", "\\-").replace(".", "\\.")  # md-escaped
    assert f"model {shown_version}" in text and "chance of a further incident" in text
    assert "RFG score" in text and "The score's parts" in text


def test_advice_for_the_cohort_page(db: str) -> None:
    """What the Cohort page calls: the table with the model's columns added
    (empty for someone the model has no features for)."""
    engine = connect(db)
    stored = latest_learned_model(engine)
    engine.dispose()
    top = str(score(db, store=False).table.iloc[0]["person_id"])
    table = pd.DataFrame({"person_id": [top, "P9999999"], "rank": [1, 2]})
    shown = model_advice.advice_for(table, data.default_as_of(), default_settings())
    assert list(shown.columns) == ["person_id", "rank", *ADVICE_COLUMNS]
    assert 0 <= shown.at[0, "model_probability"] <= 1
    assert shown.at[0, "model_version"] == stored.version and shown.at[0, "model_reasons"]
    assert pd.isna(shown.at[1, "model_probability"]) and pd.isna(shown.at[1, "model_version"])
    assert model_advice.model_card() == stored.card
