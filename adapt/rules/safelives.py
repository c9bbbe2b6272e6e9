"""The SafeLives repeat rule: which incidents after a MARAC referral are repeats.

A repeat is an incident between the same suspect and victim as a referral
(the referral's perpetrator and victim), on a later day than the referral and
no more than ``repeat_days`` days after it, counting from the latest referral
of the pair before the incident's day. SafeLives uses 12 months; the window
comes from the settings in force (``settings.windows.marac_repeat_days``),
never a constant. The incident the referral was made about (the same day) is
not a repeat of it.

The flag was late for a repeat when the referral's MARAC flag had not been
put on by the repeat incident's day (no flag at all counts as late): the
officer attending could not have seen it.

Both the features (``marac_repeats_*``, ``late_flag_repeats_total``) and the
MARAC check call :func:`repeat_incidents`, so the numbers a chair sees and
the numbers that score a person are the same.
"""

from __future__ import annotations

import pandas as pd

DAY = pd.Timedelta(days=1)
REPEAT_COLUMNS: tuple[str, ...] = (
    "incident_id", "suspect_id", "victim_id", "occurred_at", "referral_id", "referral_date",
    "flagged_at", "days_after_referral", "late_flag",
)  # fmt: skip
_REFERRAL_COLUMNS = ["suspect_id", "victim_id", "referral_id", "referral_date", "flagged_at"]


def window_end(referral_date: pd.Series, repeat_days: int) -> pd.Series:
    """The last day on which an incident is still a repeat of a referral made on
    ``referral_date`` (``repeat_days`` days after the referral's day)."""
    return referral_date.dt.normalize() + repeat_days * DAY


def repeat_incidents(
    pairs: pd.DataFrame, referrals: pd.DataFrame, repeat_days: int
) -> pd.DataFrame:
    """Each repeat incident of each referred pair, with its referral.

    Parameters
    ----------
    pairs
        Suspect–victim incident pairs (:func:`adapt.rules.pairs.incident_pairs`)
        with the incident's date: ``incident_id, suspect_id, victim_id,
        occurred_at``; any other columns (an offence, say) are kept.
    referrals
        MARAC referrals as in :class:`adapt.core.history.History` ``marac``:
        ``referral_id, referral_date, flagged_at, victim_person_id,
        perpetrator_person_id``. Referrals without both people are skipped.
    repeat_days
        The repeat window in days (``settings.windows.marac_repeat_days``).

    Returns
    -------
    pandas.DataFrame
        One row per (repeat incident, suspect, victim): :data:`REPEAT_COLUMNS`
        (``days_after_referral`` counts whole days from the referral's day;
        ``late_flag`` is true when the flag was not on by the incident's day),
        then the other columns of ``pairs``; in date order.
    """
    extra = [c for c in pairs.columns if c not in REPEAT_COLUMNS]
    columns = [*REPEAT_COLUMNS, *extra]
    refs = referrals.rename(
        columns={"perpetrator_person_id": "suspect_id", "victim_person_id": "victim_id"}
    )
    refs = refs.dropna(subset=["suspect_id", "victim_id", "referral_date"])[_REFERRAL_COLUMNS]
    refs = refs.assign(referral_date=refs["referral_date"].dt.normalize())
    inc = pairs.drop_duplicates(["incident_id", "suspect_id", "victim_id"])
    inc = inc.merge(refs[["suspect_id", "victim_id"]].drop_duplicates())
    if not len(inc):
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c, pairs)) for c in columns})
    # Match each incident to the pair's latest referral made before the
    # incident's day, so the referral's own (same-day) incident is not a repeat.
    # Two referrals of a pair on one day: the later referral id wins, whatever
    # the rows' order (the Spark engine feeds each partition in its own order).
    inc = inc.assign(_day=inc["occurred_at"].dt.normalize() - DAY).sort_values("_day")
    matched = pd.merge_asof(
        inc,
        refs.sort_values(["referral_date", "referral_id"], kind="stable"),
        left_on="_day",
        right_on="referral_date",
        by=["suspect_id", "victim_id"],
        direction="backward",
    )
    day = matched["occurred_at"].dt.normalize()
    within = matched["referral_date"].notna() & (
        day <= window_end(matched["referral_date"], repeat_days)
    )
    rep = matched[within.to_numpy(dtype=bool)]
    rep = rep.assign(
        days_after_referral=(rep["occurred_at"].dt.normalize() - rep["referral_date"]).dt.days,
        # A missing flag date compares false, so no flag at all is a late flag.
        late_flag=~(rep["flagged_at"] <= rep["occurred_at"].dt.normalize()).to_numpy(dtype=bool),
    )
    rep = rep.sort_values(["occurred_at", "incident_id", "victim_id"], kind="stable")
    return rep[columns].reset_index(drop=True)


def _dtype(column: str, pairs: pd.DataFrame) -> object:
    if column in pairs.columns:
        return pairs[column].dtype
    return {
        "referral_date": "datetime64[ns]",
        "flagged_at": "datetime64[ns]",
        "days_after_referral": "int64",
        "late_flag": "bool",
    }.get(column, "string")
