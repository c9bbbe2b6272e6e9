"""The committed transparency record is exactly what the code, the default
settings and the committed results render: it cannot drift from them."""

from __future__ import annotations

from pathlib import Path

from adapt.core.settings import default_settings
from adapt.features import FEATURES
from adapt.scoring.transparency import render_transparency

ROOT = Path(__file__).resolve().parents[1]


def test_committed_record_matches_a_fresh_render() -> None:
    committed = (ROOT / "docs" / "transparency.md").read_text(encoding="utf-8")
    assert committed == render_transparency(default_settings(), ROOT), (
        "docs/transparency.md is stale: run `adapt transparency`"
    )


def test_record_shows_every_feature_and_the_settings_weights() -> None:
    s = default_settings()
    text = render_transparency(s, ROOT)
    for name in FEATURES:
        assert f"`{name}`" in text
    assert f"weight {s.gravity.weight:g}" in text
    changed = s.with_changes({"gravity": {"weight": 2.5}}, version="test")
    assert "weight 2.5 × points by crime harm" in render_transparency(changed, ROOT)
