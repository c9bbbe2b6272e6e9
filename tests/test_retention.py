"""MoPI review dates and ``adapt retention report`` on every database, on a
hand-made extract whose review dates can be worked out by hand:

* Xavier (suspect) and Violet (victim): a non-crime on 2015-03-01, then a
  common assault (violent: group 2) on 2016-05-10: both reviewed together at
  2016-05-10 + 10 years = 2026-05-10, as "violent_or_sexual";
* Yusuf: criminal damage (a crime, not violent) on 2018-01-01: 2024-01-01;
* Zara: a verbal argument (not a crime) on 2019-02-28: 2025-02-28; a cohort
  decision about her today is not due for 6 years;
* a rejected row: due 90 days after its import.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adapt import pipeline
from adapt.cli import app
from adapt.cli.common import os_user
from adapt.core.settings import Retention, default_settings
from adapt.db import app_store, connect
from adapt.db import identity as store
from adapt.db.models import imports
from adapt.db.retention import REPORT_COLUMNS, add_years, retention_report, review_dates
from tests.extracts import incident, involvement, write_extract

runner = CliRunner()
PEOPLE = {1: ("Xavier", "Quill"), 2: ("Yusuf", "Abara"), 3: ("Zara", "Hollins")}
VICTIMS = {101: ("Violet", "Marsh"), 102: ("Wren", "Castle"), 103: ("Ursula", "Penn")}


def _named(n: int, role: str, person: int, **over: str) -> dict[str, str]:
    forename, surname = {**PEOPLE, **VICTIMS}[person]
    return involvement(n, role, person, forename=forename, surname=surname, **over)


@pytest.fixture(scope="module")
def force(module_db_url: str, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("retention") / "extract"
    incs = [
        incident(1, occurred_at="2015-03-01T20:00", offence="verbal_argument", is_crime="false"),
        incident(2, occurred_at="2016-05-10T21:00", offence="common_assault", is_crime="true"),
        incident(3, occurred_at="2018-01-01T22:00", offence="criminal_damage", is_crime="true"),
        incident(4, occurred_at="2019-02-28T23:00", offence="verbal_argument", is_crime="false"),
    ]
    invs = [
        _named(1, "suspect", 1), _named(1, "victim", 101),
        _named(2, "suspect", 1), _named(2, "victim", 101),
        _named(3, "suspect", 2), _named(3, "victim", 102),
        _named(4, "suspect", 3), _named(4, "victim", 103),
        _named(4, "nobody", 103),  # not a role: quarantined
    ]  # fmt: skip
    write_extract(folder, incs, invs)
    engine = connect(module_db_url)
    pipeline.load(engine, folder)
    pipeline.resolve(engine)
    zara = _person_of(engine, "Zara")
    app_store.record_decision(
        engine, person_id=zara, decision="adopted", author="officer", reason="repeat calls",
        as_of=date(2019, 3, 1), settings_name="default", settings_version="1",
        snapshot={"score": 2.0},
    )  # fmt: skip
    yield engine
    engine.dispose()


def _person_of(engine, forename: str) -> str:  # type: ignore[no-untyped-def]
    rows = store.person_rows(engine).merge(store.assignments(engine), on="row_key")
    return rows.loc[rows["forename"] == forename, "person_id"].iloc[0]


def _by_person(engine, frame: pd.DataFrame) -> dict[str, pd.Series]:  # type: ignore[no-untyped-def]
    names = {}
    for forename in ("Xavier", "Violet", "Yusuf", "Zara"):
        names[forename] = frame[
            (frame["person_id"] == _person_of(engine, forename)) & (frame["group"] != "decisions")
        ].iloc[0]
    return names


def test_add_years_keeps_the_day_and_handles_29_february() -> None:
    dates = pd.Series(pd.to_datetime(["2016-02-29", "2016-05-10", "2019-02-28"]))
    got = add_years(dates, pd.Series([1, 10, 6]))
    assert list(got.dt.strftime("%Y-%m-%d")) == ["2017-02-28", "2026-05-10", "2025-02-28"]


def test_each_person_is_reviewed_by_their_most_serious_group(force) -> None:  # type: ignore[no-untyped-def]
    frame = review_dates(force, default_settings().governance.retention, date(2025, 6, 1))
    assert list(frame.columns) == REPORT_COLUMNS
    got = _by_person(force, frame)
    expect = {
        "Xavier": ("violent_or_sexual", "2016-05-10", "2026-05-10", 2),
        "Violet": ("violent_or_sexual", "2016-05-10", "2026-05-10", 2),
        "Yusuf": ("other_crime", "2018-01-01", "2024-01-01", 1),
        "Zara": ("non_crime", "2019-02-28", "2025-02-28", 1),
    }
    for name, (group, last, review, records) in expect.items():
        row = got[name]
        assert (row["group"], f"{row['last_activity']:%Y-%m-%d}", f"{row['review_date']:%Y-%m-%d}",
                row["records"]) == (group, last, review, records), name  # fmt: skip
    assert got["Yusuf"]["days_overdue"] == (date(2025, 6, 1) - date(2024, 1, 1)).days
    decisions = frame[frame["group"] == "decisions"].iloc[0]
    assert decisions["person_id"] == _person_of(force, "Zara")


def test_report_lists_only_what_is_due(force) -> None:  # type: ignore[no-untyped-def]
    retention = default_settings().governance.retention
    due = retention_report(force, retention, date(2025, 6, 1))
    names = {n for n, p in [(n, _person_of(force, n)) for n in ("Xavier", "Yusuf", "Zara")]
             if p in set(due["person_id"].dropna())}  # fmt: skip
    assert names == {"Yusuf", "Zara"}
    assert (due["days_overdue"] >= 0).all()
    assert list(due["days_overdue"]) == sorted(due["days_overdue"], reverse=True)
    # A shorter period brings the violent record forward.
    shorter = Retention(**{**retention.model_dump(), "violent_or_sexual_years": 5})
    early = retention_report(force, shorter, date(2025, 6, 1))
    assert _person_of(force, "Xavier") in set(early["person_id"].dropna())


def test_quarantine_rows_are_due_after_quarantine_days(force) -> None:  # type: ignore[no-untyped-def]
    with force.connect() as conn:
        loaded = conn.execute(select(imports.c.started_at)).scalar_one()
    retention = default_settings().governance.retention
    day = (loaded + timedelta(days=retention.quarantine_days)).date()
    before = retention_report(force, retention, day - timedelta(days=1))
    on_time = retention_report(force, retention, day)
    assert "quarantine" not in set(before["group"])
    rows = on_time[on_time["group"] == "quarantine"]
    assert len(rows) == 1 and rows["record"].iloc[0].startswith("quarantine:")
    assert rows["days_overdue"].iloc[0] == 0 and pd.isna(rows["person_id"].iloc[0])


def test_cli_report_is_written_and_audited_first(force, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = force.url.render_as_string(hide_password=False)
    out = tmp_path / "due.csv"
    args = ["retention", "report", "--out", str(out), "--as-of", "2025-06-01", "--db", url]
    result = runner.invoke(app, [*args, "--purpose", "Data quality"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out, encoding="utf-8-sig")
    assert list(written.columns) == REPORT_COLUMNS and len(written) >= 2
    assert "retention periods: packaged defaults" in result.output
    entry = app_store.audit_frame(force, actions=("retention_report",)).iloc[0]
    assert entry["username"] == os_user() and entry["purpose"] == "Data quality"
    assert "2025-06-01" in entry["detail"] and str(out) in entry["detail"]

    workbook = tmp_path / "due.xlsx"
    as_xlsx = ["retention", "report", "--out", str(workbook), "--as-of", "2025-06-01", "--db", url]
    assert runner.invoke(app, as_xlsx).exit_code == 0
    assert len(pd.read_excel(workbook)) == len(written)
    bad = runner.invoke(app, [*args, "--purpose", "curiosity"])
    assert bad.exit_code == 1 and bad.output.count("\n") == 1
    wrong = runner.invoke(app, ["retention", "report", "--out", str(tmp_path / "x.txt"),
                                "--db", url])  # fmt: skip
    assert wrong.exit_code == 2
    # The file cannot be written: one line, exit 2, and the attempt is on record.
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    before = len(app_store.audit_frame(force, actions=("retention_report",)))
    fails = runner.invoke(app, ["retention", "report", "--out", str(blocked / "due.csv"),
                                "--db", url])  # fmt: skip
    assert fails.exit_code == 2 and fails.output.startswith("adapt: ")
    assert len(app_store.audit_frame(force, actions=("retention_report",))) == before + 1
