"""Settings need approval (issue 12): a saved version is a draft until a second
person with the right role approves it; the live version is the latest
approved (the packaged defaults while none is); names and versions are unique
and never the packaged defaults'. And settings JSON that is deeply nested,
has a number of thousands of digits, ``Infinity``/``NaN`` or is not an object
is refused with a clear message, not a crash.

On SQLite and, when configured, PostgreSQL; the database is never mocked."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, inspect, update
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from adapt.cli import app
from adapt.cli.common import os_user
from adapt.core.settings import Settings, SettingsError, default_settings, parse_json
from adapt.db import connect
from adapt.db.app_store import audit_frame
from adapt.db.engine import (
    current_revision,
    downgrade,
    head_revision,
    upgrade,
    utc_now,
    writer,
)
from adapt.db.models import settings_versions
from adapt.db.settings_store import (
    OPERATOR,
    ApprovalRefused,
    SettingsVersionExists,
    SettingsVersionNotFound,
    decide_settings_version,
    live_settings,
    save_settings_version,
    settings_versions_frame,
)
from adapt.services.tuning import apply_edits

runner = CliRunner()


def _draft(name: str, version: str, author: str = "analyst", **changes: int) -> Settings:
    return default_settings().with_changes(
        {"windows": changes} if changes else {},
        name=name,
        version=version,
        author=author,
        reason="test draft",
    )


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    e = connect(db_url)
    yield e
    e.dispose()


# ---- drafts, approval, the live version ----------------------------------------
def test_a_saved_version_is_a_draft_and_not_live(engine) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("short window", "1", marac_repeat_days=180))
    settings, words = live_settings(engine)
    assert settings == default_settings()
    assert "packaged defaults" in words and "no saved version has been approved" in words
    frame = settings_versions_frame(engine)
    assert frame[["name", "status", "live"]].values.tolist() == [["short window", "draft", False]]


def test_a_second_person_approves_and_it_becomes_live(engine) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("short window", "1", marac_repeat_days=180))
    decide_settings_version(engine, "short window", "1", approve=True, by="admin",
                            role="admin", reason="checked the cohort difference")  # fmt: skip
    settings, words = live_settings(engine)
    assert settings.windows.marac_repeat_days == 180
    assert "approved version 'short window' v1, approved by admin" in words
    row = settings_versions_frame(engine).iloc[0]
    assert (row["status"], row["decided_by"], row["live"]) == ("approved", "admin", True)
    assert row["decision_reason"] == "checked the cohort difference"
    audited = audit_frame(engine, actions=("settings_approved",))
    assert audited[["username", "role", "detail"]].values.tolist() == [
        ["admin", "admin", "short window v1: checked the cohort difference"]
    ]


def test_the_author_may_not_approve_their_own_draft(engine) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("mine", "1", author="analyst"))
    for by in ("analyst", " Analyst "):
        with pytest.raises(ApprovalRefused, match="a second person must approve"):
            decide_settings_version(engine, "mine", "1", approve=True, by=by,
                                    role="analyst", reason="looks fine")  # fmt: skip
    assert live_settings(engine)[0] == default_settings()
    assert audit_frame(engine, actions=("settings_approved",)).empty
    # the database refuses it too, whatever code writes the row
    with pytest.raises(IntegrityError), writer(engine) as conn:
        conn.execute(update(settings_versions).values(status="approved", decided_by="analyst"))


@pytest.mark.parametrize("role", ["iom_officer", "marac_chair", None, "superuser"])
def test_only_an_analyst_or_admin_may_decide(engine, role) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("d", "1"))
    with pytest.raises(ApprovalRefused, match="only an analyst or an administrator"):
        decide_settings_version(engine, "d", "1", approve=True, by="officer", role=role,
                                reason="ok")  # fmt: skip
    assert settings_versions_frame(engine)["status"].tolist() == ["draft"]


def test_another_analyst_may_approve(engine) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("d", "1", author="analyst", marac_repeat_days=120))
    decide_settings_version(engine, "d", "1", approve=True, by="second analyst", role="analyst",
                            reason="ok")  # fmt: skip
    assert live_settings(engine)[0].windows.marac_repeat_days == 120


def test_a_decision_needs_a_reason_and_a_draft(engine) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("d", "1"))
    with pytest.raises(ApprovalRefused, match="give a reason"):
        decide_settings_version(engine, "d", "1", approve=True, by="admin", role="admin",
                                reason="   ")  # fmt: skip
    with pytest.raises(SettingsVersionNotFound):
        decide_settings_version(engine, "d", "9", approve=True, by="admin", role="admin",
                                reason="ok")  # fmt: skip
    decide_settings_version(engine, "d", "1", approve=False, by="admin", role="admin",
                            reason="window too short")  # fmt: skip
    with pytest.raises(ApprovalRefused, match="already rejected"):
        decide_settings_version(engine, "d", "1", approve=True, by="admin", role="admin",
                                reason="changed my mind")  # fmt: skip
    assert live_settings(engine)[0] == default_settings()
    rejected = audit_frame(engine, actions=("settings_rejected",))
    assert rejected["detail"].tolist() == ["d v1: window too short"]


def test_exactly_one_version_is_live_the_latest_approved(engine) -> None:  # type: ignore[no-untyped-def]
    for version, days in (("1", 100), ("2", 200), ("3", 300)):
        save_settings_version(engine, _draft("w", version, marac_repeat_days=days))
    for version in ("2", "1"):  # approved out of order: the latest approval is live
        decide_settings_version(engine, "w", version, approve=True, by="admin", role="admin",
                                reason="ok")  # fmt: skip
    frame = settings_versions_frame(engine)
    assert frame["live"].sum() == 1
    assert frame.loc[frame["live"], "version"].tolist() == ["1"]
    assert live_settings(engine)[0].windows.marac_repeat_days == 100
    assert frame.set_index("version")["status"].to_dict() == {
        "1": "approved", "2": "approved", "3": "draft",
    }  # fmt: skip


def test_names_and_versions_are_unique(engine) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("force", "1"))
    with pytest.raises(SettingsVersionExists, match="already saved"):
        save_settings_version(engine, _draft("force", "1", author="someone else"))
    # a database unique constraint, whatever code writes the row
    with pytest.raises(IntegrityError), writer(engine) as conn:
        conn.execute(
            insert(settings_versions).values(
                name="force", version="1", author="x", reason="r", settings_json="{}",
                saved_at=utc_now(), status="draft",
            )
        )  # fmt: skip
    save_settings_version(engine, _draft("force", "2"))
    assert len(settings_versions_frame(engine)) == 2


def test_the_packaged_defaults_name_and_version_are_refused(engine) -> None:  # type: ignore[no-untyped-def]
    packaged = default_settings()
    for name, version in ((packaged.name, packaged.version), (" Default ", packaged.version)):
        with pytest.raises(SettingsVersionExists, match="packaged defaults"):
            save_settings_version(engine, _draft(name.strip(), version))
    assert settings_versions_frame(engine).empty
    save_settings_version(engine, _draft(packaged.name, "2"))  # a new version of it is fine


def test_an_unreadable_approved_version_is_not_used_and_says_so(engine) -> None:  # type: ignore[no-untyped-def]
    save_settings_version(engine, _draft("broken", "1"))
    decide_settings_version(engine, "broken", "1", approve=True, by="admin", role="admin",
                            reason="ok")  # fmt: skip
    with writer(engine) as conn:  # as a later release that no longer reads it would see it
        conn.execute(update(settings_versions).values(settings_json='{"name": "broken"}'))
    settings, words = live_settings(engine)
    assert settings == default_settings()
    assert "packaged defaults: the approved version 'broken' v1 cannot be read" in words


def test_versions_saved_before_approval_existed_become_drafts(db_url: str) -> None:
    """Migration 0011: a version saved when saving made it live was never
    approved by a second person, so after the upgrade it is a draft."""
    engine = connect(db_url, migrate=False)
    upgrade(engine, "0010")
    with writer(engine) as conn:
        conn.exec_driver_sql(
            "INSERT INTO settings_versions (name, version, author, reason, settings_json, "
            "saved_at) VALUES ('old', '1', 'analyst', 'r', '{}', CURRENT_TIMESTAMP)"
        )
    upgrade(engine)
    frame = settings_versions_frame(engine)
    assert frame[["name", "status", "live"]].values.tolist() == [["old", "draft", False]]
    assert live_settings(engine)[0] == default_settings()
    downgrade(engine, "0010")
    assert "status" not in {c["name"] for c in inspect(engine).get_columns("settings_versions")}
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


# ---- the CLI -----------------------------------------------------------------------
def test_cli_list_approve_reject_show_live(db_url: str) -> None:
    engine = connect(db_url)
    save_settings_version(engine, _draft("from app", "1", author="analyst", marac_repeat_days=90))
    save_settings_version(engine, _draft("from app", "2", author="analyst"))
    save_settings_version(engine, _draft("by me", "1", author=os_user()))
    engine.dispose()

    listed = runner.invoke(app, ["settings", "list", "--db", db_url])
    assert listed.exit_code == 0, listed.output
    assert "live: packaged defaults" in listed.output
    assert "from app v1  draft" in listed.output

    mine = runner.invoke(app, ["settings", "approve", "by me", "1", "--reason", "ok",
                               "--db", db_url])  # fmt: skip
    assert mine.exit_code == 1
    assert "a second person must approve" in mine.output

    no_reason = runner.invoke(app, ["settings", "approve", "from app", "1", "--db", db_url])
    assert no_reason.exit_code != 0  # --reason is required

    done = runner.invoke(app, ["settings", "approve", "from app", "1", "--reason",
                               "reviewed the cohort difference", "--db", db_url])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert (
        f"approved from app v1; live: approved version 'from app' v1, approved by {os_user()}"
        in (done.output)
    )
    refused = runner.invoke(app, ["settings", "reject", "from app", "2", "--reason", "no",
                                  "--db", db_url])  # fmt: skip
    assert refused.exit_code == 0, refused.output
    missing = runner.invoke(app, ["settings", "approve", "nope", "1", "--reason", "x",
                                  "--db", db_url])  # fmt: skip
    assert missing.exit_code == 1 and "no saved settings 'nope'" in missing.output

    live = runner.invoke(app, ["settings", "show-live", "--json", "--db", db_url])
    assert live.exit_code == 0, live.output
    assert live.output.startswith("live: approved version 'from app' v1")
    assert '"marac_repeat_days": 90' in live.output

    engine = connect(db_url)
    entries = audit_frame(engine, actions=("settings_approved", "settings_rejected"))
    engine.dispose()
    assert entries[["username", "role", "action"]].values.tolist() == [
        [os_user(), OPERATOR, "settings_rejected"],
        [os_user(), OPERATOR, "settings_approved"],
    ]


# ---- robust JSON -------------------------------------------------------------------
HOSTILE = {
    "deep nesting": ("[" * 100_000, "nested too deeply"),
    "deep objects": ('{"a":' * 50 + "1" + "}" * 50, "nested too deeply"),
    "5,000-digit number": ('{"name": ' + "9" * 5000 + "}", "too long (5,000 characters"),
    "Infinity": ('{"name": Infinity}', "Infinity is not allowed"),
    "-Infinity": ("[-Infinity]", "-Infinity is not allowed"),
    "NaN": ('{"version": NaN}', "NaN is not allowed"),
    "overflowing float": ("[1e400]", "too large"),
    "a list": ("[]", "must be a JSON object"),
    "a string": ('"settings"', "must be a JSON object"),
    "null": ("null", "must be a JSON object"),
    "not JSON": ("{", "not valid JSON (line 1"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_settings_from_json_refuses_hostile_json_with_a_message(case: str) -> None:
    text, message = HOSTILE[case]
    with pytest.raises(SettingsError, match=r"^file\.json: ") as err:
        Settings.from_json(text, source="file.json")
    assert message in str(err.value)
    assert len(str(err.value)) < 300


@pytest.mark.parametrize("case", list(HOSTILE))
def test_the_tuning_bands_box_refuses_hostile_json_with_a_message(case: str) -> None:
    text, message = HOSTILE[case]
    if case == "a list":
        text = "[" * 40 + "]" * 40  # a bands box holds a list: nest it instead
        message = "nested too deeply"
    if message == "must be a JSON object":  # a bands box holds a list; a non-list is refused
        message = "gravity.bands"
    with pytest.raises(SettingsError, match=r"gravity\.bands") as err:
        apply_edits(default_settings(), {}, {"gravity": text})
    assert message in str(err.value)


def test_a_settings_file_too_long_is_refused() -> None:
    with pytest.raises(SettingsError, match="too long"):
        parse_json(" " * 1_000_001)


def test_the_packaged_settings_still_round_trip() -> None:
    packaged = default_settings()
    assert Settings.from_json(packaged.to_json()) == packaged
    assert parse_json('{"a": [1, -2.5e3, true, null, "x"]}') == {"a": [1, -2500.0, True, None, "x"]}
