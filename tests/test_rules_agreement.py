"""The MARAC check and the features agree on every referred pair of the demo.

Both count SafeLives repeats with :mod:`adapt.rules.safelives` and the repeat
window of the settings in force, so for every perpetrator named on a
referral, the repeat incidents the chair sees for their referred victims are
the repeats the features count (and score). Two windows are tried, and the
demo has repeats between 180 and 365 days after a referral, so a side that
ignored the settings (the old fixed 365 of the MARAC page) would fail.

The one deliberate difference: a perpetrator who is the secondary party of a
counter-allegation has their incidents against the predominant aggressor left
out of every feature (``counter_excluded_incidents``), repeats included; the
check, which shows the record, still lists them. For those people the
features' count is the check's less at most the excluded incidents.
"""

from __future__ import annotations

import pandas as pd
import pytest

from adapt.core.history import History
from adapt.core.settings import Settings, default_settings
from adapt.features import compute_features
from adapt.views import marac

WINDOWS = (365, 180)


def _settings(days: int) -> Settings:
    return default_settings().with_changes({"windows": {"marac_repeat_days": days}})


def _check_repeats(history: History, settings: Settings) -> pd.DataFrame:
    """Per perpetrator on a referral: the repeats the MARAC check shows them with."""
    refs = history.marac.dropna(subset=["perpetrator_person_id", "victim_person_id"])
    rows = []
    for perp in sorted(refs["perpetrator_person_id"].unique()):
        check = marac.marac_check(history, perp, as_of=history.last_date, settings=settings)
        referred = set(refs.loc[refs["perpetrator_person_id"] == perp, "victim_person_id"])
        status = check.repeat_status[check.repeat_status["perpetrator_id"] == perp]
        # Every referred pair of theirs is in the check's SafeLives table.
        assert set(status["victim_id"]) == referred, perp
        reps = check.repeat_incidents[check.repeat_incidents["perpetrator_id"] == perp]
        rows.append(
            {
                "person_id": perp,
                "repeats": reps["incident_id"].nunique(),
                "late": reps.loc[reps["late_flag"].astype(bool), "incident_id"].nunique(),
                "last": reps["occurred_at"].max() if len(reps) else pd.NaT,
            }
        )
    return pd.DataFrame(rows).set_index("person_id")


@pytest.fixture(scope="module")
def repeats(demo_history: History) -> dict[int, tuple[pd.DataFrame, pd.DataFrame]]:
    """(check, features) per window, computed once for the module."""
    out = {}
    for days in WINDOWS:
        settings = _settings(days)
        features = compute_features(demo_history, demo_history.last_date, settings)
        out[days] = (_check_repeats(demo_history, settings), features)
    return out


@pytest.mark.parametrize("days", WINDOWS)
def test_the_marac_check_and_the_features_agree_on_every_referred_pair(
    repeats: dict[int, tuple[pd.DataFrame, pd.DataFrame]], days: int
) -> None:
    check, features = repeats[days]
    feats = features.reindex(check.index)
    counted = feats["marac_repeats_total"].fillna(0).astype(int)
    excluded = feats["counter_excluded_incidents"].fillna(0).astype(int)
    assert check["repeats"].sum() > 0  # the demo has repeats to agree on

    exact = excluded == 0
    assert exact.mean() > 0.9  # nearly every perpetrator has no excluded incident
    pd.testing.assert_series_equal(
        counted[exact], check.loc[exact, "repeats"].astype(int), check_names=False
    )
    late = feats["late_flag_repeats_total"].fillna(0).astype(int)
    pd.testing.assert_series_equal(
        late[exact], check.loc[exact, "late"].astype(int), check_names=False
    )
    last = pd.to_datetime(feats.loc[exact, "last_marac_repeat_at"])
    pd.testing.assert_series_equal(
        last, pd.to_datetime(check.loc[exact, "last"]), check_names=False, check_dtype=False
    )
    # Secondary parties of a counter-allegation: only their excluded incidents differ.
    gap = check.loc[~exact, "repeats"] - counted[~exact]
    assert ((gap >= 0) & (gap <= excluded[~exact])).all()


def test_the_two_windows_give_different_repeats_on_the_demo(
    repeats: dict[int, tuple[pd.DataFrame, pd.DataFrame]],
) -> None:
    # Otherwise the agreement test could not tell a side that ignored the window.
    long, short = repeats[365][0]["repeats"], repeats[180][0]["repeats"]
    assert (short <= long).all() and (short < long).any()
