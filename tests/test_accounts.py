"""Accounts, passwords, sign-in back-off and lockout, and ``adapt users``, on both
databases. Findings of issue 12 covered here: no way to manage accounts but
Python; no lockout (30 wrong passwords then the right one signed in); unknown
users answered 100x faster than known ones; a password typed into the user name
field was stored in the audit log; demo accounts created by the app."""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from adapt.cli import app as cli
from adapt.cli.common import os_user
from adapt.core.settings import Governance
from adapt.db import accounts as acc
from adapt.db import connect
from adapt.db.app_store import audit_frame
from adapt.db.engine import utc_now
from adapt.db.models import app_users, sign_in_attempts
from adapt.services.session import USER_KEY

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    eng = connect(db_url)
    yield eng
    eng.dispose()


def _hash(engine, username: str) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(
            select(app_users.c.password_hash).where(app_users.c.username == username)
        ).scalar_one()


def test_sign_in_checks_password_and_active_flag_and_is_audited(engine) -> None:  # type: ignore[no-untyped-def]
    acc.add_user(engine, "j.smith", "J Smith", "iom_officer", PASSWORD)
    assert acc.authenticate(engine, "j.smith", PASSWORD)["role"] == "iom_officer"
    assert acc.authenticate(engine, "j.smith", "wrong") is None
    assert acc.authenticate(engine, "nobody", "x") is None
    acc.set_active(engine, "j.smith", False)
    assert acc.authenticate(engine, "j.smith", PASSWORD) is None
    log = audit_frame(engine)
    assert list(log["action"]) == ["sign_in_failed"] * 3 + ["sign_in"]
    with pytest.raises(acc.AccountError, match="unknown role"):
        acc.add_user(engine, "x", "X", "superuser", PASSWORD)
    with pytest.raises(acc.AccountError, match="already exists"):
        acc.add_user(engine, "j.smith", "J Smith", "analyst", PASSWORD)
    with pytest.raises(acc.AccountError, match="at least 12"):
        acc.add_user(engine, "k.jones", "K Jones", "analyst", "short")
    with pytest.raises(acc.AccountError, match="user name"):
        acc.add_user(engine, "two words", "X", "analyst", PASSWORD)


def test_passwords_are_argon2_and_old_scrypt_hashes_are_rehashed(engine) -> None:  # type: ignore[no-untyped-def]
    acc.add_user(engine, "j.smith", "J Smith", "analyst", PASSWORD)
    assert _hash(engine, "j.smith").startswith("$argon2id$")
    old = acc._scrypt(PASSWORD, os.urandom(16))  # how accounts were hashed before
    with engine.begin() as conn:
        conn.execute(update(app_users).values(password_hash=old))
    assert acc.authenticate(engine, "j.smith", "not it") is None
    assert _hash(engine, "j.smith") == old
    assert acc.authenticate(engine, "j.smith", PASSWORD) is not None
    assert _hash(engine, "j.smith").startswith("$argon2id$")
    assert acc.authenticate(engine, "j.smith", PASSWORD) is not None


def test_lockout_refuses_the_right_password_until_it_ends_and_is_audited(engine) -> None:  # type: ignore[no-untyped-def]
    gov = Governance(lockout_after_failures=3, lockout_minutes=10)
    acc.add_user(engine, "j.smith", "J Smith", "analyst", PASSWORD)
    now = utc_now()
    results = [acc.sign_in(engine, "j.smith", "guess", governance=gov, now=now) for _ in range(3)]
    assert [r.status for r in results] == ["failed", "failed", "locked"]
    assert [r.delay for r in results] == [0.25, 0.5, 1.0]  # back-off grows
    locked = acc.sign_in(engine, "j.smith", PASSWORD, governance=gov, now=now)
    assert locked.status == "locked" and locked.user is None
    later = now + timedelta(minutes=9)
    assert acc.sign_in(engine, "j.smith", PASSWORD, governance=gov, now=later).status == "locked"
    after = now + timedelta(minutes=11)
    assert acc.sign_in(engine, "j.smith", PASSWORD, governance=gov, now=after).status == "ok"
    log = audit_frame(engine)
    assert (log["action"] == "sign_in_locked").sum() == 1
    lock = log[log["action"] == "sign_in_locked"].iloc[0]
    assert lock["username"] == "j.smith" and "3 wrong passwords" in lock["detail"]
    assert acc.users_frame(engine)["locked_until"].isna().all()


def test_unknown_names_are_locked_out_the_same_and_never_logged(engine) -> None:  # type: ignore[no-untyped-def]
    gov = Governance(lockout_after_failures=2, lockout_minutes=5)
    typed = "Tr0ub4dor&3-my-password"  # a password typed into the user name field
    statuses = [acc.sign_in(engine, typed, "x", governance=gov).status for _ in range(3)]
    assert statuses == ["failed", "locked", "locked"]
    log = audit_frame(engine)
    assert not log.astype(str).apply(lambda col: col.str.contains(typed, regex=False)).any().any()
    marker = f"unknown user #{hashlib.sha256(typed.encode()).hexdigest()[:8]}"
    assert set(log["username"]) == {marker}
    assert "sign_in_locked" in set(log["action"])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sign_in_attempts)).scalar() == 1
    later = utc_now() + timedelta(minutes=6)  # the lock over: a new name's try forgets it
    acc.sign_in(engine, "someone else", "x", governance=gov, now=later)
    with engine.connect() as conn:
        keys = conn.execute(select(sign_in_attempts.c.attempt_key)).scalars().all()
    assert keys == [acc.attempt_key("someone else")]


def test_unknown_and_known_names_take_comparable_time(engine) -> None:  # type: ignore[no-untyped-def]
    gov = Governance(lockout_after_failures=100)
    acc.add_user(engine, "j.smith", "J Smith", "analyst", PASSWORD)
    acc.add_user(engine, "sso@force.example", "SSO", "analyst", None)

    def timed(name: str) -> float:
        start = time.perf_counter()
        assert acc.sign_in(engine, name, "wrong", governance=gov).status == "failed"
        return time.perf_counter() - start

    timed("warm-up")
    known = statistics.median(timed("j.smith") for _ in range(4))
    unknown = statistics.median(timed(f"nobody{i}") for i in range(4))
    sso_only = statistics.median(timed("sso@force.example") for _ in range(3))
    assert max(known, unknown) / min(known, unknown) < 3, (known, unknown)
    assert max(known, sso_only) / min(known, sso_only) < 3, (known, sso_only)


def test_changes_are_audited_with_the_actor_and_never_the_password(engine) -> None:  # type: ignore[no-untyped-def]
    acc.add_user(engine, "j.smith", "J Smith", "analyst", PASSWORD, actor="root")
    acc.set_role(engine, "j.smith", "iom_officer", actor="root")
    token = acc.start_session(engine, "j.smith")
    acc.reset_password(engine, "j.smith", "another long password", actor="root")
    assert acc.check_session(engine, token).status == "ended"  # a reset ends the sessions
    acc.set_active(engine, "j.smith", False, actor="root")
    log = audit_frame(engine).iloc[::-1]
    assert list(log["action"]) == ["account_change"] * 4
    assert set(log["username"]) == {"root"}
    assert all("j.smith" in d for d in log["detail"])
    assert not log["detail"].str.contains("horse|another", regex=True).any()
    with pytest.raises(acc.AccountError, match="no account"):
        acc.set_role(engine, "nobody", "analyst", actor="root")


def test_demo_accounts_are_found_only_while_they_open_with_the_demo_password(engine) -> None:  # type: ignore[no-untyped-def]
    assert acc.demo_accounts_present(engine) == []
    acc.ensure_demo_users(engine)
    assert acc.demo_accounts_present(engine) == ["admin", "analyst", "chair", "officer"]
    acc.reset_password(engine, "admin", "a long new password")
    acc.set_active(engine, "chair", False)
    assert acc.demo_accounts_present(engine) == ["analyst", "officer"]


# ------------------------------------------------------------------ the CLI
def _adapt(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_adapt_users_commands(db_url: str) -> None:
    db = ["--db", db_url]
    added = _adapt("users", "add", "j.smith", "--role", "iom_officer", "--display-name",
                   "J Smith", "--password-stdin", *db, stdin=PASSWORD + "\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    prompted = _adapt(
        "users", "add", "p.prompt", "--role", "analyst", *db, stdin=f"{PASSWORD}\n{PASSWORD}\n"
    )  # typed twice at a hidden prompt
    assert prompted.exit_code == 0 and PASSWORD not in prompted.output, prompted.output
    assert _adapt("users", "add", "sso@force.example", "--role", "analyst", "--sso",
                  *db).exit_code == 0  # fmt: skip
    listed = _adapt("users", "list", *db).output
    assert "j.smith\tiom_officer\tactive\tpassword" in listed
    assert "sso@force.example\tanalyst\tactive\tsingle sign-on" in listed
    assert _adapt("users", "set-role", "j.smith", "marac_chair", *db).exit_code == 0
    reset = _adapt("users", "reset-password", "j.smith", "--password-stdin", *db,
                   stdin="a brand new password\n")  # fmt: skip
    assert reset.exit_code == 0, reset.output
    assert _adapt("users", "disable", "j.smith", *db).exit_code == 0
    assert "j.smith\tmarac_chair\tdisabled" in _adapt("users", "list", *db).output

    refused = _adapt("users", "add", "x", "--role", "boss", *db)
    assert refused.exit_code == 1 and "unknown role" in refused.output
    short = _adapt("users", "reset-password", "sso@force.example", "--password-stdin", *db,
                   stdin="short\n")  # fmt: skip
    assert short.exit_code == 1 and "at least 12" in short.output
    missing = _adapt("users", "disable", "nobody", *db)
    assert missing.exit_code == 1 and "no account" in missing.output

    engine = connect(db_url)
    try:
        log = audit_frame(engine)
        assert acc.authenticate(engine, "j.smith", "a brand new password") is None  # disabled
        acc.set_active(engine, "j.smith", True)
        assert acc.authenticate(engine, "j.smith", "a brand new password") is not None
    finally:
        engine.dispose()
    changes = log[log["action"] == "account_change"]
    assert len(changes) == 6 and set(changes["username"]) == {os_user()}
    text = " ".join(changes["detail"])
    assert "horse" not in text and "brand new" not in text


def test_the_app_creates_no_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)
    monkeypatch.setenv("ADAPT_DEMO_USERS", "1")  # once made the app create them
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert "ADAPT — sign in" in [t.value for t in at.title]
    engine = connect(url)
    try:
        assert acc.users_frame(engine).empty
    finally:
        engine.dispose()


# ---------------------------------------------------------- the admin page
def _labelled(widgets, start: str):  # type: ignore[no-untyped-def]
    return next(w for w in widgets if w.label.startswith(start))


def test_the_accounts_page_adds_disables_and_is_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'admin.sqlite'}"
    engine = connect(url)
    acc.ensure_demo_users(engine)
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state[USER_KEY] = "admin"
    at.run()
    at.switch_page("app_pages/admin.py")
    at.run()
    assert not at.exception and [t.value for t in at.title] == ["Accounts"]

    _labelled(at.text_input, "User name").input("k.jones")
    _labelled(at.text_input, "Name shown").input("K Jones")
    _labelled(at.selectbox, "Role").set_value("marac_chair")
    _labelled(at.text_input, "Password (at").input(PASSWORD)
    _labelled(at.text_input, "Password again").input(PASSWORD)
    _labelled(at.button, "Add the account").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("k.jones added" in s.value for s in at.success)

    _labelled(at.selectbox, "Account").set_value("officer")
    at.run()
    _labelled(at.button, "Disable").click()
    at.run()
    assert not at.error, [e.value for e in at.error]

    _labelled(at.selectbox, "Account").set_value("admin")
    at.run()
    _labelled(at.button, "Disable").click()  # one's own account: refused
    at.run()
    assert any("your own account" in e.value for e in at.error)
    try:
        users = acc.users_frame(engine).set_index("username")
        assert users.loc["k.jones", "role"] == "marac_chair"
        assert not users.loc["officer", "active"] and users.loc["admin", "active"]
        log = audit_frame(engine, actions=("account_change",))
        assert set(log["username"]) == {"admin"} and set(log["role"]) == {"admin"}
        assert sorted(log["detail"]) == ["added k.jones as marac_chair (password)",
                                         "disabled officer"]  # fmt: skip
    finally:
        engine.dispose()


def test_the_accounts_page_is_for_administrators_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'admin.sqlite'}"
    engine = connect(url)
    acc.ensure_demo_users(engine)
    engine.dispose()
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app_pages" / "admin.py"), default_timeout=60)
    at.session_state[USER_KEY] = "analyst"  # the page itself, not in the analyst's menu
    at.run()
    assert "Accounts" not in [t.value for t in at.title]
    assert any("does not give access" in e.value for e in at.error)
