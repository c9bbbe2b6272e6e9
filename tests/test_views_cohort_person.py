"""The Cohort and Person pathway pages' view functions (adapt.views.cohort,
adapt.views.person) and their queries (adapt.db.people), on the demo extract
loaded, resolved and scored once per database."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from adapt.cli import app
from adapt.core.settings import default_settings
from adapt.db import app_store, connect, people
from adapt.db.history import load_history
from adapt.db.identity import stored_links
from adapt.features import compute_features
from adapt.graph import build_addresses, build_links
from adapt.scoring.score import PARTS, rank
from adapt.views import cohort as cv
from adapt.views import person as pv

DEMO = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "demo"
AS_OF = date(2026, 10, 30)  # the demo extract's latest incident date


@pytest.fixture(scope="module")
def demo(module_db_url: str) -> dict:
    result = CliRunner().invoke(app, ["run", str(DEMO), "--db", module_db_url])
    assert result.exit_code == 0, result.output
    engine = connect(module_db_url)
    settings = default_settings()
    history = load_history(engine)
    features = compute_features(history, AS_OF, settings)
    ranked = rank(features, settings)
    labels = people.person_labels(engine)
    yield {
        "engine": engine,
        "settings": settings,
        "history": history,
        "features": features,
        "ranked": ranked,
        "labels": labels,
    }
    engine.dispose()


def _view(demo: dict, decisions: pd.DataFrame | None = None, first=None) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    decisions = app_store.decisions_frame(demo["engine"]) if decisions is None else decisions
    return cv.cohort_view(demo["ranked"], demo["labels"], demo["history"], decisions, first, AS_OF)


# ------------------------------------------------------------------ people
def test_person_labels_are_the_most_frequent_name(demo: dict) -> None:
    labels = demo["labels"]
    assert labels["person_id"].is_unique
    assert set(demo["ranked"]["person_id"]) <= set(labels["person_id"])
    pid = demo["ranked"]["person_id"].iloc[0]
    rows = people.person_rows(demo["engine"], pid)
    names = (rows["forename"].fillna("") + " " + rows["surname"].fillna("")).str.strip()
    top = names[names != ""].value_counts()
    label = labels.set_index("person_id").loc[pid, "label"]
    assert top[label] == top.max()


def test_person_rows_are_the_rows_assigned(demo: dict) -> None:
    pid = demo["ranked"]["person_id"].iloc[0]
    rows = people.person_rows(demo["engine"], pid)
    assert list(rows.columns) == people.PERSON_ROW_COLUMNS
    assert rows["row_key"].is_unique and len(rows) > 1
    suspect = rows[rows["role"] == "suspect"]
    inv = demo["history"].involvements
    expected = inv[(inv["person_id"] == pid) & (inv["role"] == "suspect")]["incident_id"]
    assert set(suspect["incident_id"]) == set(expected)
    assert rows["occurred_at"].is_monotonic_increasing
    assert people.person_rows(demo["engine"], "P9999999").empty


def test_first_in_cohort_comes_from_the_stored_run(demo: dict) -> None:
    first = people.first_in_cohort(demo["engine"])
    in_cohort = set(demo["ranked"].loc[demo["ranked"]["in_cohort"], "person_id"])
    assert set(first["person_id"]) == in_cohort
    assert (first["first_in_cohort"] == pd.Timestamp(AS_OF)).all()


# ------------------------------------------------------------------ cohort
def test_cohort_view_columns_and_values(demo: dict) -> None:
    view = _view(demo)
    assert list(view.columns[: len(cv.DISPLAY_COLUMNS)]) == cv.DISPLAY_COLUMNS
    ranked = demo["ranked"]
    assert list(view["person_id"]) == list(ranked["person_id"])
    assert (view["score"] == ranked["score"]).all()
    for part in PARTS:
        assert (view[part] == ranked[part]).all()
    top = view.iloc[0]
    assert top["name"] == demo["labels"].set_index("person_id").loc[top["person_id"], "label"]
    # alerts name exactly the flags that are set
    has_partner = view["alerts"].str.contains("new partner", regex=False)
    assert (has_partner == ranked["new_partner_alert"]).all()
    late = view["alerts"].str.contains("late-flag repeat", regex=False)
    assert (late == (ranked["late_flag_repeats_total"] > 0)).all()
    rising = view["frequency_trend"].str.startswith("rising")
    assert (rising == ranked["frequency_escalating"]).all()
    assert (
        view["marac_status"].str.startswith("repeat") == (ranked["marac_repeats_window"] > 0)
    ).all()
    # nobody decided yet: everyone in the cohort is new since the last review
    assert (view.loc[view["in_cohort"], "decision_status"] == cv.NEW_SINCE_REVIEW).all()
    assert (view.loc[~view["in_cohort"], "decision_status"] == "").all()
    assert view["area"].ne("").mean() > 0.9


def test_decision_status_adopted_declined_and_new() -> None:
    ids = pd.Series(["P1", "P2", "P3", "P4", "P5"], dtype="string")
    in_cohort = pd.Series([True, True, True, False, True])
    decisions = pd.DataFrame(
        {
            "id": [1, 2, 3, 4],
            "person_id": ["P1", "P2", "P3", "P1"],
            "decision": ["declined", "declined", "adopted", "adopted"],
            "author": "officer",
            "decided_at": pd.Timestamp("2026-11-01"),
            "reason": "r",
            "as_of": [date(2026, 6, 1), date(2026, 6, 1), date(2026, 6, 1), date(2026, 7, 1)],
        }
    )
    first = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "first_in_cohort": pd.to_datetime(["2026-05-01", "2026-09-01", "2026-06-01"]),
        }
    )
    status = cv.decision_status(in_cohort, ids, decisions, first, date(2026, 10, 1))
    # P1: latest decision adopted; P2: declined, then first in a cohort after it;
    # P3: adopted on the day first seen; P4: out, never decided; P5: in, never decided.
    assert list(status) == ["adopted", cv.NEW_SINCE_REVIEW, "adopted", "", cv.NEW_SINCE_REVIEW]


def test_filters(demo: dict) -> None:
    view = _view(demo)
    inside = cv.filter_cohort(view, in_cohort=True)
    assert len(inside) == int(view["in_cohort"].sum()) and inside["in_cohort"].all()
    assert len(cv.filter_cohort(view, in_cohort=False)) == len(view) - len(inside)
    area = view["area"].iloc[0]
    by_area = cv.filter_cohort(view, area=area)
    assert 0 < len(by_area) < len(view) and (by_area["area"] == area).all()
    assert len(cv.filter_cohort(view, area=[])) == len(view)
    managed = cv.filter_cohort(view, managed=True)
    assert len(managed) and (managed["already_managed"] != "").all()
    esc = cv.filter_cohort(view, escalating=True)
    assert len(esc) and esc["escalating"].all()
    any_alert = cv.filter_cohort(view, alerts=True)
    assert len(any_alert) and (any_alert["alerts"] != "").all()
    counter = cv.filter_cohort(view, alerts="counter-allegation")
    assert len(counter) <= len(any_alert)
    assert counter["alerts"].str.contains("counter-allegation").all()
    both = cv.filter_cohort(view, in_cohort=True, alerts=False, escalating=True)
    assert (both["in_cohort"] & (both["alerts"] == "") & both["escalating"]).all()
    # the filtered table keeps the rank order and a fresh positional index
    assert both["rank"].is_monotonic_increasing and list(both.index) == list(range(len(both)))


def test_person_at_maps_selection_positions_to_ids(demo: dict) -> None:
    shown = cv.filter_cohort(_view(demo), in_cohort=True, alerts=True)
    assert cv.person_at(shown, [0]) == [shown["person_id"].iloc[0]]
    assert cv.person_at(shown, [2, 0]) == [shown["person_id"].iloc[2], shown["person_id"].iloc[0]]
    assert cv.person_at(shown, []) == []
    assert cv.person_at(shown, [len(shown), -1]) == []


def test_score_snapshot_is_json_without_names(demo: dict) -> None:
    view = _view(demo)
    pid = view["person_id"].iloc[0]
    snap = cv.score_snapshot(view, pid)
    assert json.loads(json.dumps(snap)) == snap
    assert snap["score"] == pytest.approx(float(view["score"].iloc[0]))
    assert set(PARTS) <= set(snap)
    assert "name" not in snap and view["name"].iloc[0] not in json.dumps(snap)
    with pytest.raises(KeyError):
        cv.score_snapshot(view, "P9999999")


def test_export_is_formula_safe(demo: dict) -> None:
    view = _view(demo).head(5).copy()
    view.loc[0, "name"] = '=HYPERLINK("http://x")'
    frame = cv.export_frame(view, demo["ranked"])
    assert list(frame["person_id"]) == list(view["person_id"])
    assert {"rank", "name", "score", *PARTS, "decision_status"} <= set(frame.columns)
    text = cv.export_bytes(frame, ".csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    book = openpyxl.load_workbook(io.BytesIO(cv.export_bytes(frame, ".xlsx")))
    cells = [c.value for c in next(book.active.iter_cols(min_col=3, max_col=3))]
    assert cells[0] == "name" and cells[1] == '=HYPERLINK("http://x")'
    assert book.active["C2"].data_type == "s"  # a string, never a formula


def test_decision_recorded_shows_in_the_view(demo: dict) -> None:
    engine = demo["engine"]
    view = _view(demo)
    pid = view.loc[view["in_cohort"], "person_id"].iloc[-1]
    app_store.record_decision(
        engine, person_id=pid, decision="adopted", author="officer", reason="test",
        as_of=AS_OF, settings_name="default", settings_version="1",
        snapshot=cv.score_snapshot(view, pid),
    )  # fmt: skip
    after = _view(demo, first=people.first_in_cohort(engine))
    assert after.set_index("person_id").loc[pid, "decision_status"] == "adopted"
    stored = app_store.decisions_frame(engine, pid)
    assert json.loads(stored["score_snapshot"].iloc[0])["rank"] == int(
        view.set_index("person_id").loc[pid, "rank"]
    )


# ------------------------------------------------------------------ person
def test_identity_rows_aliases_and_ages(demo: dict) -> None:
    pid = demo["ranked"]["person_id"].iloc[0]
    rows = people.person_rows(demo["engine"], pid)
    shown = pv.identity_rows(rows)
    assert len(shown) == len(rows) and shown["source"].str.contains(" row ").all()
    dob = pd.to_datetime(rows["date_of_birth"])
    at = pd.to_datetime(rows["occurred_at"])
    ok = dob.notna()
    approx = ((at - dob).dt.days / 365.25).astype(float)
    assert ((shown.loc[ok, "age_as_stated"].astype(float) - approx[ok]).abs() < 1).all()
    aka = pv.aliases(rows)
    assert aka["rows"].sum() == len(rows)


def test_age_as_stated_on_the_birthday() -> None:
    ages = pv.age_as_stated(
        pd.Series(pd.to_datetime(["1990-05-10", "1990-05-10", None])),
        pd.Series(pd.to_datetime(["2020-05-09", "2020-05-10", "2020-01-01"])),
    )
    assert ages.iloc[0] == 29 and ages.iloc[1] == 30 and pd.isna(ages.iloc[2])


def test_join_reasons_break_weights_into_comparisons(demo: dict) -> None:
    pid = demo["ranked"]["person_id"].iloc[0]
    rows = people.person_rows(demo["engine"], pid)
    links = stored_links(demo["engine"], rows["row_key"])
    reasons = pv.join_reasons(links, rows["row_key"])
    assert len(reasons) >= 1
    assert reasons["why"].str.contains("forename:").all()
    parts = pv.comparison_weights(links, rows["row_key"])
    sums = parts.groupby(["row_key_l", "row_key_r"])["weight"].sum()
    final = reasons.set_index(["row_key_l", "row_key_r"])["final_weight"]
    assert (sums.reindex(final.index) - final).abs().max() < 1e-6


def test_timeline_signals_victims_addresses_network(demo: dict) -> None:
    history, settings = demo["history"], demo["settings"]
    pid = demo["ranked"]["person_id"].iloc[0]
    inc = pv.person_incidents(history, pid, settings.harm_table, demo["labels"])
    feats = demo["features"].loc[pid]
    assert inc["incident_id"].nunique() >= feats["incidents_total"]
    assert (inc["harm"] >= 0).all()
    events = pv.person_events(history, pid)
    periods = pv.person_periods(history, pid)
    fig = pv.timeline_figure(inc, events, periods, history.last_date)
    names = {t.name for t in fig.data}
    assert set(inc["victim"]) <= names
    if len(events):
        assert "MARAC referral" in names
    signals = pv.escalation_signals(demo["features"], pid)
    wanted = {"attendances_window", "frequency_escalating", "severity_ratio"}
    assert wanted <= set(signals["signal"])
    att = signals.set_index("signal").loc["attendances_window", "value"]
    assert att == str(int(feats["attendances_window"]))
    assert pv.escalation_signals(demo["features"], "P9999999").empty
    victims = pv.person_victims(inc)
    assert victims["incidents"].sum() >= 1 and victims["victim_id"].is_unique
    links, addresses = build_links(history), build_addresses(history)
    addr = pv.person_addresses(links, addresses, pid)
    assert len(addr) and set(addr["relation"]) <= {"home_address", "incident_at"}
    nodes, edges, attrs = pv.network_frames(links, addresses, pid, demo["labels"], depth=2)
    assert nodes.iloc[0]["node_id"] == pid and nodes["distance"].max() <= 2
    assert set(victims["victim_id"]) <= set(nodes["node_id"]) or attrs["capped"]
    net = pv.network_figure(nodes, edges)
    assert sum(len(t.x) for t in net.data[1:]) == len(nodes)


def test_outcome_before_and_after_adoption(demo: dict) -> None:
    history, settings = demo["history"], demo["settings"]
    pid = demo["ranked"]["person_id"].iloc[0]
    inc = pv.person_incidents(history, pid, settings.harm_table)
    adopted = date(2025, 10, 29)
    out = pv.outcome_before_after(inc, adopted, history.last_date)
    assert list(out["period"]) == ["12 months before", "after"]
    per = inc.drop_duplicates("incident_id")
    before = per[(per["occurred_at"] > "2024-10-29 23:59:59") & (per["occurred_at"] < "2025-10-30")]
    assert out.loc[0, "attendances"] == len(before)
    assert out.loc[0, "harm"] == pytest.approx(before["harm"].sum())
    assert out.loc[1, "days"] <= 365
    decisions = pd.DataFrame(
        {"id": [1, 2], "decision": ["declined", "adopted"], "as_of": [AS_OF, adopted]}
    )
    assert pv.adoption_date(decisions) == adopted
    assert pv.adoption_date(decisions.iloc[:1]) is None
    assert pv.adoption_date(decisions.iloc[:0]) is None


def test_plan_ordered_by_pathway(demo: dict) -> None:
    engine = demo["engine"]
    pid = demo["ranked"]["person_id"].iloc[1]
    key = app_store.save_plan_entry(engine, person_id=pid, author="officer", kind="action",
                                    text="Housing referral", pathway="Accommodation")  # fmt: skip
    app_store.save_plan_entry(engine, person_id=pid, author="officer", kind="intervention",
                              text="Perpetrator programme",
                              pathway="Attitudes, thinking and behaviour")  # fmt: skip
    app_store.save_plan_entry(engine, person_id=pid, author="officer", kind="action",
                              text="Housing referral made", pathway="Accommodation",
                              status="done", entry_key=key)  # fmt: skip
    plan = pv.plan_by_pathway(app_store.plan_frame(engine, pid), app_store.IOM_PATHWAYS)
    assert list(plan["pathway"]) == ["Accommodation", "Attitudes, thinking and behaviour"]
    assert plan.loc[0, "status"] == "done" and plan.loc[0, "version"] == 2
    assert len(app_store.plan_frame(engine, pid, history=True)) == 3


def test_signal_labels_say_the_windows_the_features_used(demo: dict) -> None:
    """The Person pathway's signal labels name the settings' windows: with a
    two-year window and three-month halves no label may say "12 months"."""
    settings = demo["settings"].with_changes(
        {"windows": {"window_days": 730, "escalation_half_days": 91}}, version="test"
    )
    pid = demo["ranked"]["person_id"].iloc[0]
    features = compute_features(demo["history"], AS_OF, settings)
    meaning = pv.escalation_signals(features, pid).set_index("signal")["meaning"]
    assert meaning["attendances_window"] == "attendances as suspect in the last 24 months"
    assert meaning["recent_half"] == "incidents in the last 3 months"
    assert not meaning.str.contains("12 months").any()
    default = pv.escalation_signals(demo["features"], pid).set_index("signal")["meaning"]
    assert default["attendances_window"] == "attendances as suspect in the last 12 months"
