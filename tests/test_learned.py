"""The learned harm model: sklearn conventions, a JSON file that reloads to the
same probabilities, explanations that add up, and no protected characteristic
or proxy anywhere in its inputs (changing them changes nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from adapt.core.history import PROTECTED_COLUMNS, History
from adapt.core.settings import default_settings
from adapt.features import FEATURES, compute_features
from adapt.learned import (
    DEFAULT_MODEL_PATH,
    MODEL_FEATURES,
    HarmModel,
    explain,
    load_model,
    model_matrix,
    predict_proba,
)
from adapt.learned.audit import calibration_table, fairness_by_sex, person_sex
from adapt.learned.data import labelled_people
from adapt.learned.matrix import is_protected

SETTINGS = default_settings()
END = pd.Timestamp("2026-10-31")
AS_OF = END - pd.Timedelta(days=365)
OFFENCES = np.array(
    ["verbal_argument", "criminal_damage", "common_assault", "harassment", "abh",
     "coercive_control", "breach_of_bail", "threats_to_kill"]
)  # fmt: skip


def random_history(seed: int = 0, people: int = 500, years: float = 4.0) -> History:
    """Suspects with a latent rate (most offend once, a few often), each with
    one or two victims; protected columns filled at random."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 1.2, people)  # incidents per year
    counts = rng.poisson(rate * years) + (rng.random(people) < 0.5)
    suspect = np.repeat(np.arange(people), counts)
    n = len(suspect)
    span = years * 365 * 86400
    occurred = END - pd.to_timedelta(rng.random(n) * span, unit="s")
    heavy = rng.random(people) < 0.3
    p_heavy = np.array([0.05, 0.05, 0.3, 0.1, 0.25, 0.1, 0.05, 0.1])
    p_light = np.array([0.4, 0.2, 0.2, 0.1, 0.02, 0.02, 0.05, 0.01])
    choose_heavy = heavy[suspect]
    offence = np.where(
        choose_heavy,
        rng.choice(OFFENCES, n, p=p_heavy),
        rng.choice(OFFENCES, n, p=p_light),
    )
    ids = [f"I{i:06d}" for i in range(n)]
    incidents = pd.DataFrame(
        {
            "incident_id": ids,
            "occurred_at": occurred,
            "offence": offence,
            "is_crime": rng.random(n) < 0.7,
            "dash_risk": rng.choice(["standard", "medium", "high"], n, p=[0.75, 0.18, 0.07]),
            "weapon": rng.random(n) < 0.05,
            "children_present": rng.random(n) < 0.2,
            "area": rng.choice(["north", "south"], n),
            "address": [f"{i} High Street" for i in rng.integers(1, 200, n)],
            "postcode": rng.choice(["LE1 1AA", "LE2 2BB", "LE3 3CC"], n),
        }
    )
    victim = np.where(rng.random(n) < 0.3, suspect * 2 + 1, suspect * 2)
    sus_rows = pd.DataFrame(
        {"incident_id": ids, "role": "suspect", "person_id": [f"P{s:05d}" for s in suspect],
         "relationship": "intimate_partner"}
    )  # fmt: skip
    vic_rows = pd.DataFrame(
        {"incident_id": ids, "role": "victim", "person_id": [f"V{v:05d}" for v in victim],
         "relationship": "intimate_partner"}
    )  # fmt: skip
    inv = pd.concat([sus_rows, vic_rows], ignore_index=True)
    m = len(inv)
    inv["gender"] = rng.choice(["F", "M", "X"], m, p=[0.45, 0.5, 0.05])
    inv["date_of_birth"] = pd.Timestamp("1960-01-01") + pd.to_timedelta(
        rng.integers(0, 40 * 365, m), unit="D"
    )
    inv["home_address"] = [f"{i} Low Road" for i in rng.integers(1, 300, m)]
    inv["home_postcode"] = rng.choice(["LE4 4DD", "LE5 5EE"], m)
    return History.build(incidents, inv)


@pytest.fixture(scope="module")
def history() -> History:
    return random_history()


@pytest.fixture(scope="module")
def rows(history: History) -> pd.DataFrame:
    return labelled_people(history, AS_OF, SETTINGS, threshold_days=10.0)


@pytest.fixture(scope="module")
def fitted(rows: pd.DataFrame) -> HarmModel:
    return HarmModel(C=0.1, calibration_folds=3).fit(rows, rows["harm_target"])


def one_victim_history(k: int) -> History:
    """One suspect with ``k`` common assaults against one partner in the last
    five months, and one older incident."""
    when = [AS_OF - pd.Timedelta(days=400)] + [
        AS_OF - pd.Timedelta(days=10 + 15 * i) for i in range(k)
    ]
    ids = [f"I{i}" for i in range(len(when))]
    incidents = pd.DataFrame(
        {"incident_id": ids, "occurred_at": when, "offence": "common_assault", "is_crime": True}
    )
    inv = pd.concat(
        [
            pd.DataFrame({"incident_id": ids, "role": "suspect", "person_id": "P1"}),
            pd.DataFrame({"incident_id": ids, "role": "victim", "person_id": "V1"}),
        ],
        ignore_index=True,
    )
    inv["relationship"] = "intimate_partner"
    return History.build(incidents, inv)


# -- inputs ------------------------------------------------------------------


def test_model_inputs_are_features_and_none_is_protected() -> None:
    assert set(MODEL_FEATURES) <= set(FEATURES)
    protected = {c for cols in PROTECTED_COLUMNS.values() for c in cols}
    protected |= {"gender", "sex", "date_of_birth", "age", "ethnicity", "postcode", "area",
                  "address", "home_address", "home_postcode"}  # fmt: skip
    assert not protected & set(MODEL_FEATURES)
    assert all(is_protected(c) for c in protected)
    assert not [c for c in MODEL_FEATURES if is_protected(c)]
    assert load_model().feature_names_ == list(MODEL_FEATURES)


def test_model_matrix_is_finite_and_numeric(rows: pd.DataFrame) -> None:
    matrix = model_matrix(rows)
    assert list(matrix.columns) == list(MODEL_FEATURES)
    assert (matrix.dtypes == "float64").all()
    assert np.isfinite(matrix.to_numpy()).all()


def test_changing_protected_columns_changes_no_prediction(history: History) -> None:
    rng = np.random.default_rng(9)
    inv = history.involvements.copy()
    inc = history.incidents.copy()
    inv["gender"] = rng.choice(["F", "M"], len(inv))
    inv["date_of_birth"] = pd.Timestamp("2001-02-03")
    inv["home_postcode"] = "ZZ9 9ZZ"
    inv["home_address"] = "1 Other Place"
    inc["area"] = "east"
    inc["postcode"] = rng.permutation(inc["postcode"].to_numpy())
    inc["address"] = "2 Elsewhere"
    changed = History.build(inc, inv)
    before = compute_features(history, AS_OF, SETTINGS)
    after = compute_features(changed, AS_OF, SETTINGS)
    model = load_model()
    np.testing.assert_array_equal(predict_proba(before, model), predict_proba(after, model))


# -- predictions ---------------------------------------------------------------


def test_json_round_trip_gives_identical_probabilities(
    fitted: HarmModel, rows: pd.DataFrame, tmp_path: Path
) -> None:
    path = fitted.save(tmp_path / "m.json")
    loaded = HarmModel.load(path)
    np.testing.assert_array_equal(fitted.predict_proba(rows), loaded.predict_proba(rows))
    assert loaded.to_dict() == fitted.to_dict()
    assert loaded.get_params() == fitted.get_params()


def test_committed_model_round_trips(rows: pd.DataFrame, tmp_path: Path) -> None:
    model = load_model()
    again = HarmModel.load(model.save(tmp_path / "again.json"))
    np.testing.assert_array_equal(predict_proba(rows, model), predict_proba(rows, again))
    assert DEFAULT_MODEL_PATH.read_text(encoding="utf-8") == (tmp_path / "again.json").read_text(
        encoding="utf-8"
    )
    assert model.metadata_["metrics"]["pooled"]["auc"]["any_incident"] > 0.5


def test_probabilities_in_unit_interval(fitted: HarmModel, rows: pd.DataFrame) -> None:
    for p in (fitted.predict_proba(rows)[:, 1], predict_proba(rows)):
        assert p.shape == (len(rows),)
        assert ((p >= 0) & (p <= 1)).all()
    both = fitted.predict_proba(rows)
    np.testing.assert_allclose(both.sum(axis=1), 1.0)


def test_more_recent_assaults_mean_higher_probability() -> None:
    features = pd.concat([compute_features(one_victim_history(k), AS_OF, SETTINGS) for k in
                          range(0, 7)])  # fmt: skip
    p = predict_proba(features)
    assert (np.diff(p) > 0).all(), p


def test_more_harm_means_higher_probability_on_hand_made_rows(rows: pd.DataFrame) -> None:
    base = rows.iloc[[0]].copy()
    made = pd.concat([base] * 5, ignore_index=True)
    made["harm_window"] = [0.0, 10.0, 100.0, 365.0, 2555.0]
    made["max_harm_window"] = made["harm_window"]
    p = predict_proba(made)
    assert (np.diff(p) > 0).all(), p


def test_explain_parts_sum_to_the_logit(fitted: HarmModel, rows: pd.DataFrame) -> None:
    for model in (fitted, load_model()):
        p = model.predict_proba(rows)[:, 1]
        for i in (0, len(rows) // 2, int(np.argmax(p))):
            ex = model.explain(rows.iloc[i])
            assert ex.baseline + ex.parts["contribution"].sum() == pytest.approx(ex.logit)
            assert ex.logit == pytest.approx(np.log(p[i] / (1 - p[i])), rel=1e-9, abs=1e-9)
            assert ex.probability == pytest.approx(p[i], rel=1e-12)
            assert set(ex.parts.index) == set(MODEL_FEATURES)
            assert list(ex.parts.columns) == ["value", "input", "contribution"]
    assert explain(rows.iloc[[0]]).probability == pytest.approx(predict_proba(rows.iloc[[0]])[0])


# -- scikit-learn conventions ----------------------------------------------------


def test_sklearn_conventions(rows: pd.DataFrame) -> None:
    model = HarmModel(C=0.5, calibration_folds=3)
    assert model.get_params() == {
        "features": None, "C": 0.5, "threshold_days": 10.0, "horizon_days": 365,
        "calibration_folds": 3, "max_iter": 200, "target": "harm",
    }  # fmt: skip
    twin = clone(model)
    assert twin.get_params() == model.get_params() and twin is not model
    with pytest.raises(NotFittedError):
        model.predict_proba(rows)
    assert model.fit(rows, rows["harm_target"]) is model
    assert not hasattr(clone(model), "coef_")
    assert model.n_features_in_ == len(MODEL_FEATURES)
    assert model.classes_.tolist() == [0, 1]
    assert model.set_params(C=2.0) is model and model.C == 2.0
    # a numeric array is taken as the model matrix itself
    matrix = model_matrix(rows).to_numpy()
    refit = clone(model).set_params(C=0.5).fit(matrix, rows["harm_target"])
    np.testing.assert_allclose(refit.predict_proba(matrix), refit.predict_proba(rows))
    # fitting is deterministic
    again = clone(refit).fit(matrix, rows["harm_target"])
    np.testing.assert_array_equal(again.coef_, refit.coef_)
    with pytest.raises(ValueError, match="features"):
        refit.predict_proba(matrix[:, :3])


def test_subset_of_features(rows: pd.DataFrame, tmp_path: Path) -> None:
    spec = {"attendances_window": "log1p", "days_since_last": "recency"}
    model = HarmModel(features=spec, calibration_folds=3).fit(rows, rows["harm_target"])
    assert model.feature_names_ == list(spec)
    loaded = HarmModel.load(model.save(tmp_path / "small.json"))
    assert loaded.features == spec
    np.testing.assert_array_equal(loaded.predict_proba(rows), model.predict_proba(rows))
    with pytest.raises(ValueError, match="not allowed"):
        HarmModel(features={"home_postcode": "log1p"}).fit(rows, rows["harm_target"])


def test_loader_refuses_protected_or_unknown_inputs(fitted: HarmModel) -> None:
    data = fitted.to_dict()
    bad = json.loads(json.dumps(data))
    bad["features"][0]["name"] = "home_postcode"
    with pytest.raises(ValueError, match="protected"):
        HarmModel.from_dict(bad)
    bad = json.loads(json.dumps(data))
    bad["features"][0]["transform"] = "eval"
    with pytest.raises(ValueError, match="unknown transform"):
        HarmModel.from_dict(bad)
    with pytest.raises(ValueError, match="format"):
        HarmModel.from_dict({**data, "format": "pickle"})


# -- audit ------------------------------------------------------------------------


def test_person_sex_is_most_common_gender_and_ties_are_unknown() -> None:
    inc = pd.DataFrame(
        {"incident_id": ["a", "b", "c"], "occurred_at": ["2025-01-01"] * 3, "offence": "abh",
         "is_crime": True}
    )  # fmt: skip
    inv = pd.DataFrame(
        {
            "incident_id": ["a", "b", "c", "a", "b", "c"],
            "role": ["suspect"] * 3 + ["victim"] * 3,
            "person_id": ["P1", "P1", "P1", "V1", "V2", "V2"],
            "gender": ["M", "M", "F", "F", "F", "M"],
        }
    )
    sex = person_sex(History.build(inc, inv))
    assert sex.to_dict() == {"P1": "M", "V1": "F", "V2": "unknown"}


def test_audit_tables(fitted: HarmModel, rows: pd.DataFrame, history: History) -> None:
    frame = rows.join(person_sex(history)).assign(probability=fitted.predict_proba(rows)[:, 1])
    table = calibration_table(frame["harm_target"].to_numpy(), frame["probability"].to_numpy())
    assert table["people"].sum() == len(frame) and len(table) == 10
    fair = fairness_by_sex(frame, top_n=20)
    assert fair["top_selected"].sum() == 20
    assert fair["people"].sum() == len(frame)
