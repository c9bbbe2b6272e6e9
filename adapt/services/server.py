"""The web server around the Streamlit app: sign-in routes and hardening.

``streamlit_server.py`` (what ``adapt app`` runs) builds
``st.App("streamlit_app.py", routes=routes(), middleware=middleware())``.

* ``POST /auth/sign-in``: a plain HTML form (drawn by the app's sign-in page)
  posts the name and password here, never over the app's websocket. The check
  is :func:`adapt.db.accounts.sign_in` (back-off, lockout, audit); a refusal
  waits its back-off, then redirects to ``/?sign_in=failed|locked``. Success
  starts a server-side session and sets the ``adapt_session`` cookie (signed,
  HTTP-only, ``SameSite=Strict``, no lifetime: it ends with the browser), so a
  refresh keeps the user signed in until the idle or absolute timeout.
* ``POST /auth/sign-out``: ends the session row, deletes the cookie, and passes
  on to Streamlit's own ``/auth/logout`` when single sign-on is signed in.
* Both refuse a request from another origin (``Origin`` / ``Sec-Fetch-Site``).
* :class:`SecurityHeaders`: ``X-Frame-Options: DENY`` and
  ``Content-Security-Policy: frame-ancestors 'none'`` on every response (no
  foreign page may frame the app), ``nosniff`` and a same-origin referrer.
* :class:`DemoAccountGuard`: while demo accounts open with the demo password
  on PostgreSQL or beside single sign-on, every page is a 503 saying why
  (audited), the websocket is closed and sign-in is refused.
* :class:`MediaGuard`: a file Streamlit serves from ``/media/`` (a download,
  once its button is clicked and its audit entry written) answers only a browser
  with a live ADAPT session (the signed session cookie, within its timeouts) or a
  valid single sign-on cookie; any other client gets 404, as for a file that
  does not exist.
* :class:`DeveloperMessageFilter`: drops the developer messages a browser could
  send over the websocket (``clear_cache`` clears every user's caches;
  ``set_run_on_save`` and ``load_git_info``), whatever the toolbar shows.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.web.server.starlette.starlette_auth_routes import (
    _get_signed_cookie_from_request as streamlit_signed_cookie,
)

from adapt.db import accounts as store
from adapt.db import app_store
from adapt.services import accounts, session

log = logging.getLogger(__name__)

SIGN_IN_PATH = "/auth/sign-in"
SIGN_OUT_PATH = "/auth/sign-out"
STREAMLIT_USER_COOKIE = "_streamlit_user"
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
DEVELOPER_MESSAGES = frozenset({"clear_cache", "set_run_on_save", "load_git_info"})
_FORM_LIMITS = {"max_files": 0, "max_fields": 8, "max_part_size": 4096}


def same_origin(request: Request) -> bool:
    """True unless the browser says the request came from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:  # browsers send Origin with every POST; other clients need no guard
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def sign_in(request: Request) -> Response:
    if not same_origin(request):
        return PlainTextResponse("Forbidden", status_code=403)
    try:
        form = await request.form(**_FORM_LIMITS)
    except Exception:  # an oversized or malformed form
        return PlainTextResponse("Bad request", status_code=400)
    username = str(form.get("username") or "")
    password = str(form.get("password") or "")
    db = session.engine()
    gov = await run_in_threadpool(accounts.governance)
    result = await run_in_threadpool(store.sign_in, db, username, password, governance=gov)
    if result.status != "ok" or result.user is None:
        await asyncio.sleep(result.delay)  # back-off: the answer waits, the server does not
        return RedirectResponse(f"/?sign_in={result.status}", status_code=303)
    token = await run_in_threadpool(store.start_session, db, result.user["username"])
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        accounts.SESSION_COOKIE,
        accounts.sign_cookie(token),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


async def sign_out(request: Request) -> Response:
    if not same_origin(request):
        return PlainTextResponse("Forbidden", status_code=403)
    token = accounts.verify_cookie(request.cookies.get(accounts.SESSION_COOKIE))
    db = session.engine()
    if token:
        username = await run_in_threadpool(store.end_session, db, token)
        if username:
            user = await run_in_threadpool(store.get_user, db, username)
            role = user["role"] if user else None
            await run_in_threadpool(
                partial(app_store.record, db, username=username, action="sign_out", role=role)
            )
    target = "/auth/logout" if STREAMLIT_USER_COOKIE in request.cookies else "/"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(accounts.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    """The sign-in and sign-out routes."""
    return [
        Route(SIGN_IN_PATH, sign_in, methods=["POST"]),
        Route(SIGN_OUT_PATH, sign_out, methods=["POST"]),
    ]


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def developer_message(data: bytes | None) -> str | None:
    """The type of a websocket frame that is a developer message, else None."""
    if not data:
        return None
    msg = BackMsg()
    try:
        msg.ParseFromString(data)
    except Exception:  # Streamlit itself refuses frames that do not parse
        return None
    kind = msg.WhichOneof("type")
    return kind if kind in DEVELOPER_MESSAGES else None


class DeveloperMessageFilter:
    """Drops :data:`DEVELOPER_MESSAGES` a browser sends over the app's websocket."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return

        async def filtered_receive() -> Message:
            while True:
                message = await receive()
                if message["type"] == "websocket.receive":
                    kind = developer_message(message.get("bytes"))
                    if kind:
                        log.warning("dropped a %s message from a browser", kind)
                        continue
                return message

        await self.app(scope, filtered_receive, send)


REFUSAL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ADAPT cannot start</title></head>
<body style="font-family:sans-serif;max-width:44rem;margin:4rem auto;line-height:1.5">
<h1>ADAPT cannot start</h1><p>{reason}</p></body></html>
"""


class DemoAccountGuard:
    """Serves nothing of the app while :func:`adapt.services.accounts.startup_refusal`
    (or ``refusal``) gives a reason: every page is a 503 saying why, the app's
    websocket is closed and the sign-in routes answer 503. The health check
    still answers, so a supervisor sees the server up and the log says why."""

    def __init__(self, app: ASGIApp, refusal: Callable[[], str | None] | None = None) -> None:
        self.app = app
        self.refusal = refusal or accounts.startup_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or path.endswith("/_stcore/health"):
            await self.app(scope, receive, send)
            return
        reason = await run_in_threadpool(self.refusal)
        if reason is None:
            await self.app(scope, receive, send)
            return
        log.error("ADAPT refuses to serve: %s", reason)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        page = REFUSAL_PAGE.format(reason=html.escape(reason))
        await HTMLResponse(page, status_code=503)(scope, receive, send)


def signed_in(request: Request) -> bool:
    """True when the request comes from a browser with a live ADAPT session (the
    signed cookie, its session row within the idle and absolute timeouts) or a
    valid single sign-on cookie (Streamlit's own signed ``_streamlit_user``)."""
    token = accounts.verify_cookie(request.cookies.get(accounts.SESSION_COOKIE))
    if token:
        check = store.check_session(session.engine(), token, governance=accounts.governance())
        if check.status == "ok":
            return True
    if STREAMLIT_USER_COOKIE in request.cookies:
        try:
            return bool(streamlit_signed_cookie(request, STREAMLIT_USER_COOKIE))
        except Exception:  # no cookie secret configured, or a value that does not decode
            return False
    return False


class MediaGuard:
    """``/media/`` (downloads, once clicked and audited) only for a signed-in
    browser (:func:`signed_in`); 404 for anyone else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or "/media/" not in scope.get("path", ""):
            await self.app(scope, receive, send)
            return
        if await run_in_threadpool(signed_in, Request(scope)):
            await self.app(scope, receive, send)
            return
        await PlainTextResponse("Not found", status_code=404)(scope, receive, send)


def middleware() -> list[Middleware]:
    """The hardening middleware, outermost first."""
    return [
        Middleware(SecurityHeaders),
        Middleware(DemoAccountGuard),
        Middleware(MediaGuard),
        Middleware(DeveloperMessageFilter),
    ]
