"""Train the harm model on generator data, test it on other seeds, write the
model and its card.

    adapt train-harm-model [--seeds 11 12] [--test-seeds 13 14]
        [--incidents 40000] [--workdir DIR] [--out models]

Each seed is a four-year synthetic force run through the real pipeline
(generate → load → resolve; cached under ``--workdir``): the pipeline sits
above this package, so it passes that step in as ``synthetic``
(:func:`adapt.pipeline.synthetic_history`; :func:`adapt.pipeline.train_harm_model`
runs :func:`main` with it). Training rows are
everyone who was a suspect up to each of five as-of dates from the end of year
2 to the end of year 3 (stacked), labelled with the 12 months after each.
The penalty is chosen by leave-one-seed-out log loss. The test seeds are never
seen in training: they are scored as of the end of year 3 and judged on year 4.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_limits

from adapt.core.history import History
from adapt.core.resources import evaluation_workdir
from adapt.core.settings import default_settings
from adapt.learned.audit import (
    calibration_table,
    discrimination,
    fairness_by_sex,
    person_sex,
    probability_scores,
)
from adapt.learned.card import render_card
from adapt.learned.data import labelled_people
from adapt.learned.matrix import MODEL_FEATURES
from adapt.learned.model import HarmModel

LOG = logging.getLogger("adapt.learned.train")
DAY = pd.Timedelta(days=1)
# (workdir, seed, incidents) -> the resolved history of that synthetic force
Synthetic = Callable[[Path, int, int], History]
# Days before the last incident date: the end of year 2, each quarter after, the end of year 3.
TRAIN_OFFSETS_DAYS = (730, 639, 548, 457, 365)
TEST_OFFSET_DAYS = 365
THRESHOLD_DAYS = 10.0
HORIZON_DAYS = 365
C_GRID = (0.001, 0.01, 0.1, 1.0)
TARGETS = {"harm_target": "harm_target", "any_incident": "any_incident"}
BASELINES = {
    "harm_window": "harm_window",
    "attendances_window": "attendances_window",
    "recency (-days_since_last)": "neg_days_since_last",
}


def _as_of(history: Any, offset_days: int) -> pd.Timestamp:
    return history.last_date - offset_days * DAY


def training_rows(
    seeds: list[int], incidents: int, workdir: Path, synthetic: Synthetic
) -> pd.DataFrame:
    settings = default_settings()
    frames = []
    for seed in seeds:
        history = synthetic(workdir, seed, incidents)
        for offset in TRAIN_OFFSETS_DAYS:
            as_of = _as_of(history, offset)
            rows = labelled_people(history, as_of, settings, THRESHOLD_DAYS, HORIZON_DAYS)
            frames.append(rows.reset_index().assign(seed=seed, as_of=as_of.date().isoformat()))
            LOG.info("seed %d as of %s: %d people", seed, as_of.date(), len(rows))
    frame = pd.concat(frames, ignore_index=True)
    frame["group"] = frame["seed"].astype(str) + ":" + frame["person_id"].astype(str)
    return frame


def held_out_rows(
    seeds: list[int], incidents: int, workdir: Path, synthetic: Synthetic
) -> pd.DataFrame:
    """Scored only for testing; sex is joined here for the audit, never to the features."""
    settings = default_settings()
    frames = []
    for seed in seeds:
        history = synthetic(workdir, seed, incidents)
        as_of = _as_of(history, TEST_OFFSET_DAYS)
        rows = labelled_people(history, as_of, settings, THRESHOLD_DAYS, HORIZON_DAYS)
        audit = rows.join(person_sex(history), how="left").fillna({"sex": "unknown"})
        frames.append(audit.reset_index().assign(seed=seed, as_of=as_of.date().isoformat()))
    return pd.concat(frames, ignore_index=True)


def _latest(rows: pd.DataFrame) -> np.ndarray:
    """Rows at the latest training as-of date: the calibration set. The share
    of people who offend again falls as the extract lengthens and old,
    inactive names accumulate; the model is used on a 3-year-plus extract, so
    its probabilities are fitted to that case."""
    return (rows["as_of"] == rows["as_of"].max()).to_numpy()


def choose_c(train: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """The penalty with the lowest leave-one-seed-out log loss, judged (like
    the test) on the held-out seed's latest as-of date."""
    seeds = sorted(train["seed"].unique())
    if len(seeds) < 2:
        return C_GRID[len(C_GRID) // 2], {}
    losses: dict[str, float] = {}
    for c in C_GRID:
        per_seed = []
        for held in seeds:
            fit_rows, held_rows = train[train["seed"] != held], train[train["seed"] == held]
            model = HarmModel(C=c, threshold_days=THRESHOLD_DAYS, horizon_days=HORIZON_DAYS)
            model.fit(
                fit_rows,
                fit_rows["harm_target"],
                groups=fit_rows["group"],
                calibrate_on=_latest(fit_rows),
            )
            held_rows = held_rows[_latest(held_rows)]
            p = model.predict_proba(held_rows)[:, 1]
            per_seed.append(log_loss(held_rows["harm_target"], p, labels=[0, 1]))
        losses[str(c)] = float(np.mean(per_seed))
        LOG.info("C=%g: leave-one-seed-out log loss %.5f", c, losses[str(c)])
    best = min(C_GRID, key=lambda c: losses[str(c)])
    return best, losses


def evaluate(model: HarmModel, test: pd.DataFrame) -> dict[str, Any]:
    test = test.assign(
        probability=model.predict_proba(test)[:, 1],
        neg_days_since_last=-test["days_since_last"].where(test["days_since_last"] >= 0, 10**6),
    )
    y = test["harm_target"].to_numpy(dtype=int)
    p = test["probability"].to_numpy(dtype=float)
    per_seed = {}
    for seed, g in test.groupby("seed"):
        per_seed[str(seed)] = {
            "people": len(g),
            "as_of": g["as_of"].iloc[0],
            "harm_target_rate": float(g["harm_target"].mean()),
            "any_incident_rate": float(g["any_incident"].mean()),
            "auc": discrimination(g, "probability", TARGETS),
            **probability_scores(g["harm_target"].to_numpy(int), g["probability"].to_numpy()),
        }
    return {
        "pooled": {
            "people": len(test),
            "harm_target_rate": float(y.mean()),
            "any_incident_rate": float(test["any_incident"].mean()),
            "auc": discrimination(test, "probability", TARGETS),
            **probability_scores(y, p),
        },
        "per_seed": per_seed,
        "baselines_auc": {
            name: discrimination(test, col, TARGETS) for name, col in BASELINES.items()
        },
        "calibration": calibration_table(y, p).reset_index().to_dict(orient="records"),
        "fairness_by_sex": fairness_by_sex(test, top_n=100, dataset="seed")
        .reset_index()
        .to_dict(orient="records"),
    }


def main(argv: list[str] | None = None, *, synthetic: Synthetic) -> int:
    parser = argparse.ArgumentParser(prog="adapt train-harm-model", description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12], help="training seeds")
    parser.add_argument("--test-seeds", type=int, nargs="+", default=[13, 14], help="test seeds")
    parser.add_argument("--incidents", type=int, default=40_000, help="incidents per seed")
    parser.add_argument("--workdir", type=Path, default=evaluation_workdir())
    parser.add_argument("--out", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    overlap = sorted(set(args.seeds) & set(args.test_seeds))
    if overlap:
        parser.error(f"test seeds must not be training seeds: {overlap}")

    # One BLAS thread: the fits are small, and oversubscribed threads were 4x slower.
    with threadpool_limits(limits=1):
        return _train(args, synthetic)


def _train(args: argparse.Namespace, synthetic: Synthetic) -> int:
    started = time.perf_counter()
    train = training_rows(args.seeds, args.incidents, args.workdir, synthetic)
    test = held_out_rows(args.test_seeds, args.incidents, args.workdir, synthetic)
    loaded = time.perf_counter() - started
    best_c, losses = choose_c(train)
    model = HarmModel(C=best_c, threshold_days=THRESHOLD_DAYS, horizon_days=HORIZON_DAYS)
    model.fit(train, train["harm_target"], groups=train["group"], calibrate_on=_latest(train))
    metrics = evaluate(model, test)
    settings = default_settings()
    model.metadata_ = {
        "trained_at": datetime.now(UTC).date().isoformat(),
        "sklearn_version": sklearn.__version__,
        "harm_table": settings.harm_table,
        "feature_settings": f"{settings.name} {settings.version}",
        "data": {
            "generator": "adapt.synthetic via adapt.pipeline.synthetic_history",
            "incidents_per_seed": args.incidents,
            "years": 4,
            "train_seeds": args.seeds,
            "train_as_of": sorted(train["as_of"].unique().tolist()),
            "train_rows": len(train),
            "train_people": int(train["group"].nunique()),
            "train_positive_rate": float(train["harm_target"].mean()),
            "test_seeds": args.test_seeds,
            "test_as_of": sorted(test["as_of"].unique().tolist()),
            "test_rows": len(test),
        },
        "c_grid_log_loss": losses,
        "metrics": metrics,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    model_path = model.save(args.out / "harm-model.json")
    card_path = args.out / "harm-model-card.md"
    # Rendered from the file as saved, so the card shows exactly what was committed.
    card_path.write_text(render_card(HarmModel.load(model_path)), encoding="utf-8")
    total = time.perf_counter() - started
    LOG.info("data %.0f s, total %.0f s", loaded, total)
    pooled = metrics["pooled"]
    print(
        f"wrote {model_path} and {card_path}: C={best_c:g}, test AUC harm "
        f"{pooled['auc']['harm_target']:.3f}, any incident {pooled['auc']['any_incident']:.3f}, "
        f"Brier {pooled['brier']:.4f} (base rate {pooled['brier_base_rate']:.4f}); "
        f"{len(MODEL_FEATURES)} features; {total:.0f} s"
    )
    return 0
