"""Sessions and the web server around the app: the sign-in and sign-out routes,
the session cookie, idle and absolute timeouts, the start-up refusal of demo
accounts, frame headers and the websocket filter. Findings of issue 12 covered
here: no idle or absolute timeout; a browser refresh signed the user out (the
cookie; the refresh itself is driven in tests/browser/test_sign_in.py); demo
accounts beside PostgreSQL or single sign-on; the app rendered inside a foreign
iframe; any client could clear every user's caches."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.testing.v1 import AppTest

from adapt.core.settings import Governance
from adapt.db import accounts as acc
from adapt.db import connect
from adapt.db.app_store import audit_frame
from adapt.db.engine import utc_now
from adapt.services import accounts, server
from adapt.services.session import USER_KEY

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = f"sqlite:///{tmp_path_factory.mktemp('sessions') / 'sessions.sqlite'}"
    engine = connect(db)
    acc.add_user(engine, "j.smith", "J Smith", "analyst", PASSWORD)
    engine.dispose()
    return db


@pytest.fixture
def engine(url: str):  # type: ignore[no-untyped-def]
    eng = connect(url)
    yield eng
    eng.dispose()


# ------------------------------------------------------------ session rows
def test_idle_and_absolute_timeouts_end_the_session_and_are_audited(db_url: str) -> None:
    engine = connect(db_url)
    try:
        acc.add_user(engine, "j.smith", "J Smith", "analyst", PASSWORD)
        gov = Governance(session_idle_minutes=30, session_absolute_hours=10)
        start = utc_now()
        token = acc.start_session(engine, "j.smith", now=start)
        for minutes in (20, 45, 70):  # active every 25 minutes: never idle
            check = acc.check_session(engine, token, governance=gov,
                                      now=start + timedelta(minutes=minutes))  # fmt: skip
            assert check == acc.SessionCheck("ok", "j.smith")
        idle = acc.check_session(engine, token, governance=gov,
                                 now=start + timedelta(minutes=101))  # fmt: skip
        assert idle.status == "idle"
        assert acc.check_session(engine, token, governance=gov).status == "ended"

        busy = acc.start_session(engine, "j.smith", now=start)
        shift = Governance(session_idle_minutes=90, session_absolute_hours=10)
        for hours in range(1, 10):  # active every hour
            at = start + timedelta(hours=hours)
            assert acc.check_session(engine, busy, governance=shift, now=at).status == "ok"
        late = start + timedelta(hours=10, minutes=1)
        assert acc.check_session(engine, busy, governance=shift, now=late).status == "absolute"

        assert acc.check_session(engine, "made-up", governance=gov).status == "unknown"
        log = audit_frame(engine)
        expired = log[log["action"] == "session_expired"]
        assert sorted(expired["detail"]) == ["10 hours after sign-in", "30 minutes idle"]
        assert set(expired["username"]) == {"j.smith"}
    finally:
        engine.dispose()


def test_the_cookie_is_signed() -> None:
    value = accounts.sign_cookie("token-123")
    assert accounts.verify_cookie(value) == "token-123"
    token, mac = value.split(".")
    assert accounts.verify_cookie(f"other-token.{mac}") is None
    assert accounts.verify_cookie(f"{token}.{mac[:-2]}xx") is None
    assert accounts.verify_cookie(token) is None and accounts.verify_cookie(None) is None


def test_a_session_held_in_the_session_state_times_out(
    url: str, engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[USER_KEY] = "j.smith"
    at.run()
    assert not at.exception and "Analyst" in " ".join(t.value for t in at.text)
    at.session_state["adapt_session_seen"] -= 31 * 60  # 31 minutes without a click
    at.run()
    assert "ADAPT — sign in" in [t.value for t in at.title]
    assert any("without activity" in w.value for w in at.warning)
    log = audit_frame(engine, username="j.smith", actions=("session_expired",))
    assert list(log["detail"]) == ["idle"]


# ------------------------------------------------------- start-up refusal
def test_demo_refusal_rule() -> None:
    assert accounts.demo_refusal("sqlite", False, ["admin", "officer"]) is None  # the demo
    assert accounts.demo_refusal("postgresql", False, []) is None
    pg = accounts.demo_refusal("postgresql", False, ["admin"])
    assert pg and "PostgreSQL" in pg and "admin" in pg
    sso = accounts.demo_refusal("sqlite", True, ["officer"])
    assert sso and "single sign-on" in sso


def test_the_server_refuses_to_serve_beside_demo_accounts(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL (or single sign-on on SQLite) with the demo accounts: every page
    is a 503 saying why, the websocket is closed, sign-in is refused; audited."""
    engine = connect(db_url)
    acc.ensure_demo_users(engine)
    sso = engine.dialect.name != "postgresql"  # on SQLite only single sign-on refuses
    assert (accounts.refusal_for(engine, single_sign_on=False) is None) == sso
    monkeypatch.setattr(accounts, "_refusal_checked", [])
    monkeypatch.setattr(accounts.session, "oidc_configured", lambda: sso)
    monkeypatch.setattr(accounts.session, "engine", lambda: engine)
    client = _client(db_url, monkeypatch)
    try:
        page = client.get("/")
        assert page.status_code == 503 and "ADAPT cannot start" in page.text
        assert "demo accounts (admin, analyst, chair, officer)" in page.text
        assert page.headers["x-frame-options"] == "DENY"
        form = {"username": "admin", "password": "demo"}
        assert client.post("/auth/sign-in", data=form, headers=ORIGIN).status_code == 503
        with pytest.raises(WebSocketDisconnect), client.websocket_connect("/_stcore/stream"):
            pass
        assert client.get("/_stcore/health").status_code != 503
        refused = audit_frame(engine, actions=("refused",))
        assert list(refused["detail"]) == ["start-up: demo accounts present"]  # once
        assert audit_frame(engine, actions=("sign_in",)).empty

        acc.reset_password(engine, "admin", "a long new password")
        for name in ("analyst", "chair", "officer"):
            acc.set_active(engine, name, False)
        monkeypatch.setattr(accounts, "_refusal_checked", [])  # as after 30 seconds
        assert client.get("/").status_code == 200
    finally:
        engine.dispose()


# -------------------------------------------------------- the web server
def _client(url: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("ADAPT_DATABASE_URL", url)

    async def page(request):  # type: ignore[no-untyped-def]
        return PlainTextResponse("the app")

    async def stream(websocket: WebSocket) -> None:  # stands in for Streamlit's websocket
        await websocket.accept()
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                msg = BackMsg()
                msg.ParseFromString(await websocket.receive_bytes())
                await websocket.send_text(str(msg.WhichOneof("type")))

    app = Starlette(
        routes=[
            *server.routes(),
            Route("/", page),
            Route("/_stcore/health", page),
            Route("/media/{file_id:path}", page),
            WebSocketRoute("/_stcore/stream", stream),
        ],
        middleware=server.middleware(),
    )
    return TestClient(app, base_url="http://127.0.0.1:8501")


ORIGIN = {"Origin": "http://127.0.0.1:8501"}


def test_sign_in_route_sets_a_strict_http_only_cookie_and_sign_out_ends_it(
    url: str, engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    client = _client(url, monkeypatch)
    wrong = client.post("/auth/sign-in", data={"username": "j.smith", "password": "no"},
                        headers=ORIGIN, follow_redirects=False)  # fmt: skip
    assert wrong.status_code == 303 and wrong.headers["location"] == "/?sign_in=failed"
    assert "set-cookie" not in wrong.headers
    ok = client.post("/auth/sign-in", data={"username": "j.smith", "password": PASSWORD},
                     headers=ORIGIN, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cookie = ok.headers["set-cookie"]
    assert cookie.startswith(f"{accounts.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age" not in cookie
    token = accounts.verify_cookie(ok.cookies[accounts.SESSION_COOKIE])
    assert token and acc.check_session(engine, token).status == "ok"

    out = client.post("/auth/sign-out", headers=ORIGIN, follow_redirects=False)
    assert out.status_code == 303 and f'{accounts.SESSION_COOKIE}=""' in out.headers["set-cookie"]
    assert acc.check_session(engine, token).status == "ended"
    actions = list(audit_frame(engine, username="j.smith")["action"])
    assert actions[:3] == ["sign_out", "sign_in", "sign_in_failed"]


def test_downloaded_files_answer_only_a_signed_in_browser(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file Streamlit serves from /media/ after an audited click: 404 to a
    client with no session, a forged cookie or an ended session; served while
    the session is live."""
    client = _client(url, monkeypatch)
    assert client.get("/media/abc.csv").status_code == 404
    client.cookies.set(accounts.SESSION_COOKIE, "forged.token")
    assert client.get("/media/abc.csv").status_code == 404
    client.cookies.clear()
    ok = client.post("/auth/sign-in", data={"username": "j.smith", "password": PASSWORD},
                     headers=ORIGIN, follow_redirects=False)  # fmt: skip
    assert ok.status_code == 303
    answer = client.get("/media/abc.csv")
    assert answer.status_code == 200 and answer.text == "the app"
    client.post("/auth/sign-out", headers=ORIGIN, follow_redirects=False)
    client.cookies.set(accounts.SESSION_COOKIE, ok.cookies[accounts.SESSION_COOKIE])
    assert client.get("/media/abc.csv").status_code == 404  # the session has ended


def test_sign_in_from_another_site_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(url, monkeypatch)
    form = {"username": "j.smith", "password": PASSWORD}
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = client.post("/auth/sign-in", data=form, headers=headers, follow_redirects=False)
        assert answer.status_code == 403
        assert client.post("/auth/sign-out", headers=headers).status_code == 403


def test_every_response_forbids_framing(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = _client(url, monkeypatch)
    refused = client.post("/auth/sign-in", headers={"Origin": "http://evil.example"})
    for answer in (client.get("/"), client.get("/nowhere"), refused):
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["content-security-policy"] == "frame-ancestors 'none'"


def test_a_browser_cannot_clear_every_users_caches(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(url, monkeypatch)
    clear, rerun = BackMsg(), BackMsg()
    clear.clear_cache = True
    rerun.rerun_script.query_string = ""
    with client.websocket_connect("/_stcore/stream") as ws:
        ws.send_bytes(clear.SerializeToString())
        ws.send_bytes(rerun.SerializeToString())
        assert ws.receive_text() == "rerun_script"  # the clear_cache never arrived


def test_the_served_app_carries_the_routes_and_middleware() -> None:
    """What ``adapt app`` serves (built in a process of its own: st.App sets
    process-wide Streamlit config)."""
    probe = (
        "import streamlit_server as s; a = s.app; "
        "print(sorted(r.path for r in a._user_routes)); "
        "print([m.cls.__name__ for m in a._user_middleware]); print(a.script_path)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120).stdout.splitlines()  # fmt: skip
    assert out == [
        "['/auth/sign-in', '/auth/sign-out']",
        "['SecurityHeaders', 'DemoAccountGuard', 'MediaGuard', 'DeveloperMessageFilter']",
        "streamlit_app.py",
    ]
