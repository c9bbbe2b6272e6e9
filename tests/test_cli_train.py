"""`adapt train-harm-model`: the learned model's training gets its synthetic
forces from the pipeline (adapt.pipeline.synthetic_history), small here."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from adapt.cli import app


def test_train_harm_model_writes_the_model_and_its_card(tmp_path: Path) -> None:
    out = tmp_path / "models"
    result = CliRunner().invoke(app, [
        "train-harm-model", "--seeds", "31", "32", "--test-seeds", "33",
        "--incidents", "1500", "--workdir", str(tmp_path / "work"), "--out", str(out),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "test AUC harm" in result.output
    model = json.loads((out / "harm-model.json").read_text(encoding="utf-8"))
    data = model["metadata"]["data"]
    assert data["generator"] == "adapt.synthetic via adapt.pipeline.synthetic_history"
    assert data["train_seeds"] == [31, 32] and data["test_seeds"] == [33]
    assert (out / "harm-model-card.md").read_text(encoding="utf-8").startswith("#")
    assert len(list((tmp_path / "work").glob("*.ready"))) == 3  # one cached force per seed


def test_train_harm_model_refuses_a_test_seed_it_trains_on(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["train-harm-model", "--seeds", "1", "--test-seeds", "1"])
    assert result.exit_code == 2
    assert "test seeds must not be training seeds" in result.output
