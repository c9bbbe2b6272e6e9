"""The append-only audit log, cohort decisions and plans, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from adapt.db import connect
from adapt.db.app_store import (
    IOM_PATHWAYS,
    audit_frame,
    decisions_frame,
    latest_decisions,
    plan_frame,
    record,
    record_decision,
    save_plan_entry,
)


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    eng = connect(db_url)
    yield eng
    eng.dispose()


def test_audit_log_is_append_only(engine) -> None:  # type: ignore[no-untyped-def]
    record(engine, username="a", action="view_person", person_id="P0000001",
           purpose="Offender management")  # fmt: skip
    for statement in ("UPDATE audit_log SET username = 'b'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert list(audit_frame(engine)["username"]) == ["a"]
    with pytest.raises(ValueError, match="purpose"):
        record(engine, username="a", action="view_person", purpose="curiosity")


def test_decision_needs_a_reason_and_keeps_the_score_seen(engine) -> None:  # type: ignore[no-untyped-def]
    snap = {"score": 52.0, "score_gravity": 18.0, "rank": 3}
    with pytest.raises(ValueError, match="reason"):
        record_decision(engine, person_id="P1", decision="adopted", author="o", reason="  ",
                        as_of=date(2026, 6, 30), settings_name="default", settings_version="1",
                        snapshot=snap)  # fmt: skip
    record_decision(engine, person_id="P1", decision="adopted", author="o", reason="serial",
                    as_of=date(2026, 6, 30), settings_name="default", settings_version="1",
                    snapshot=snap)  # fmt: skip
    record_decision(engine, person_id="P1", decision="declined", author="o2",
                    reason="moved out of force", as_of=date(2026, 7, 30),
                    settings_name="default", settings_version="1", snapshot=snap)  # fmt: skip
    assert len(decisions_frame(engine, "P1")) == 2
    latest = latest_decisions(engine).set_index("person_id")
    assert latest.loc["P1", "decision"] == "declined" and latest.loc["P1", "author"] == "o2"
    assert '"score_gravity": 18.0' in decisions_frame(engine)["score_snapshot"].iloc[0]
    assert (audit_frame(engine)["action"] == "cohort_decision").sum() == 2


def test_plan_entries_keep_their_history(engine) -> None:  # type: ignore[no-untyped-def]
    key = save_plan_entry(engine, person_id="P1", author="o", kind="action",
                          text="Refer to perpetrator programme", pathway=IOM_PATHWAYS[6],
                          owner="PC Jones", due_date=date(2026, 8, 1))  # fmt: skip
    save_plan_entry(engine, person_id="P1", author="o2", kind="action",
                    text="Refer to perpetrator programme", pathway=IOM_PATHWAYS[6],
                    owner="PC Jones", due_date=date(2026, 8, 1), status="done",
                    entry_key=key)  # fmt: skip
    current = plan_frame(engine, "P1")
    assert len(current) == 1 and current.loc[0, "status"] == "done"
    assert current.loc[0, "version"] == 2
    full = plan_frame(engine, "P1", history=True)
    assert list(full["status"]) == ["open", "done"] and list(full["author"]) == ["o", "o2"]
    with pytest.raises(ValueError, match="pathway"):
        save_plan_entry(engine, person_id="P1", author="o", kind="action", text="x",
                        pathway="Hobbies")  # fmt: skip
