"""Privacy on the app's pages (issue 12), in Streamlit's AppTest on a small
force whose people carry hostile names:

* a download is audited on the server, inside the ``data=`` callable Streamlit
  runs on a worker thread when the user clicks, before the bytes are built;
  an account disabled since the page drew gets no file;
* names, addresses and labels are drawn as text: every Markdown element of the
  Person pathway and the MARAC check holds them escaped, plotly figures hold
  them as entities;
* tables offer no "Download as CSV" (``client.disableDataExport``).

The same journeys run in Chromium in ``tests/browser/test_downloads.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from adapt.contract import read_extract
from adapt.core.settings import default_settings
from adapt.db import app_store, connect, load_extract
from adapt.db.accounts import ensure_demo_users, set_active
from adapt.db.history import load_history
from adapt.db.people import person_labels
from adapt.db.search import person_name_rows
from adapt.graph import build_addresses, build_links
from adapt.identity.runner import resolve_database
from adapt.services.session import USER_KEY
from adapt.views import person as person_views
from adapt.views.text import md_escape
from tests.extracts import incident, involvement, write_extract

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 90
HOSTILE = (
    "![t](http://127.0.0.1:9/x.png)",
    "**bold**",
    ":red[x]",
    "<img src=x>",
    "http://evil.example/",
)


def hostile_extract(folder: Path) -> Path:
    """Five suspects and five victims whose surnames are :data:`HOSTILE`, two
    incidents per pair (suspect references HX000.., victims HV000..)."""
    incs, invs = [], []
    for k, surname in enumerate(HOSTILE):
        for j in range(2):
            n = 100 + 10 * k + j
            incs.append(incident(n, occurred_at=f"2026-0{3 + j}-1{k}T21:00",
                                 address=f"{k} {surname} Road"))  # fmt: skip
            invs.append(involvement(n, "suspect", 10 + k, forename="Hostile", surname=surname,
                                    person_ref=f"HX{k:03d}"))  # fmt: skip
            invs.append(involvement(n, "victim", 50 + k, forename="Victim", surname=surname,
                                    person_ref=f"HV{k:03d}"))  # fmt: skip
    return write_extract(folder, incs, invs)


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{folder / 'adapt.sqlite'}"
    engine = connect(url)
    load_extract(engine, read_extract(hostile_extract(folder / "extract")))
    resolve_database(engine)
    ensure_demo_users(engine)
    engine.dispose()
    return url


@pytest.fixture
def hostile_db(hostile_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ADAPT_DATABASE_URL", hostile_url)
    yield hostile_url


def _person(url: str, ref: str) -> str:
    engine = connect(url)
    try:
        rows = person_name_rows(engine)
    finally:
        engine.dispose()
    return str(rows.loc[rows["person_ref"] == ref, "person_id"].iloc[0])


def _open(page: str, username: str, **state: object) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = username
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _markdown_texts(at: AppTest) -> list[str]:
    """The body of every element Streamlit renders as Markdown, and every
    expander and tab label."""
    texts = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "error",
                 "success", "warning"):  # fmt: skip
        texts += [str(e.value) for e in at.get(kind)]
    texts += [e.label for e in at.get("expander")]
    texts += [e.label for e in at.get("tab")]
    return texts


def _assert_drawn_as_text(at: AppTest, shown: list[str]) -> None:
    texts = _markdown_texts(at)
    for surname in HOSTILE:
        leaked = [t for t in texts if surname in t]
        assert leaked == [], f"{surname!r} reached Markdown unescaped: {leaked}"
    for expected in shown:
        assert any(md_escape(expected) in t for t in texts), (expected, texts)


def _plotly_specs(at: AppTest) -> list[str]:
    return [e.proto.spec for e in at.get("plotly_chart")]


# ---------------------------------------------------------------- Markdown
@pytest.mark.parametrize("k", range(len(HOSTILE)))
def test_the_person_pathway_draws_hostile_names_as_text(hostile_db: str, k: int) -> None:
    person_id = _person(hostile_db, f"HX{k:03d}")
    at = _open("person", "analyst", person_id=person_id)
    next(s for s in at.selectbox if s.label == "Purpose").select("Offender management").run()
    assert not at.exception, [e.message for e in at.exception]
    header = [h.value for h in at.header]
    assert header == [md_escape(f"Hostile {HOSTILE[k]} ({person_id})")]
    _assert_drawn_as_text(at, [f"Hostile {HOSTILE[k]}"])


def test_plotly_gets_names_as_entities(hostile_url: str) -> None:
    """The timeline and network of the ``<img src=x>`` suspect (tabs AppTest
    does not open): names and addresses are in the figures as ``&lt;img
    src=x&gt;``, so plotly draws the characters and makes no element."""
    person_id = _person(hostile_url, "HX003")
    engine = connect(url=hostile_url)
    try:
        history, labels = load_history(engine), person_labels(engine)
    finally:
        engine.dispose()
    incidents = person_views.person_incidents(
        history, person_id, default_settings().harm_table, labels
    )
    timeline = person_views.timeline_figure(
        incidents,
        person_views.person_events(history, person_id),
        person_views.person_periods(history, person_id),
    )
    nodes, edges, _ = person_views.network_frames(
        build_links(history), build_addresses(history), person_id, labels
    )
    network = person_views.network_figure(nodes, edges)
    for figure in (timeline, network):
        text = figure.to_json()
        assert "<img" not in text and "&lt;img src=x&gt;" in text


def test_the_marac_check_draws_hostile_names_as_text(hostile_db: str) -> None:
    at = _open("marac", "chair")
    next(s for s in at.selectbox if s.label == "Purpose").select("MARAC meeting").run()
    at.radio[0].set_value("Either")
    for k, surname in enumerate(HOSTILE):
        next(t for t in at.text_input if t.label == "Search").input(f"HV{k:03d}")
        next(b for b in at.button if b.label == "Search").click()
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        victim = next(s for s in at.selectbox if s.label == "Person").value
        # the victim heads the check; her perpetrator's expander and repeat lines follow
        assert [h.value for h in at.header] == [md_escape(f"Victim {surname} ({victim})")]
        perpetrator = [e.label for e in at.expander if e.label.startswith("Perpetrator: ")]
        assert perpetrator and md_escape(f"Hostile {surname}") in perpetrator[0]
        _assert_drawn_as_text(at, [f"Victim {surname}", f"Hostile {surname}"])


# ---------------------------------------------------------------- downloads
def _draw_download(username: str, build) -> AppTest:  # type: ignore[no-untyped-def]
    """A page that draws an audited download for ``username``; the callable
    is left in the session state, as Streamlit keeps it for the click."""

    def script() -> None:
        import streamlit as st

        from adapt.services import audit

        st.session_state["make"] = audit.audited_download(
            st.session_state["build"], action="export", page="cohort", permission="export",
            purpose="Offender management", detail="cohort CSV, 3 rows",
        )  # fmt: skip

    at = AppTest.from_function(script, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = username
    at.session_state["build"] = build
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _click(make) -> tuple[bytes | None, BaseException | None]:  # type: ignore[no-untyped-def]
    """Run the callable the way Streamlit does on a click: on another thread,
    with no script run context (no session state)."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["bytes"] = make()
        except BaseException as err:
            out["error"] = err

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    return out.get("bytes"), out.get("error")  # type: ignore[return-value]


def _exports(url: str) -> list[str]:
    engine = connect(url)
    try:
        frame = app_store.audit_frame(engine, username="officer", actions=("export",))
        return frame["detail"].tolist()
    finally:
        engine.dispose()


def test_a_download_is_audited_on_the_server_before_its_bytes_exist(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = connect(db_url)
    ensure_demo_users(engine)
    monkeypatch.setenv("ADAPT_DATABASE_URL", db_url)
    audited_when_built: list[list[str]] = []

    def build() -> bytes:
        audited_when_built.append(_exports(db_url))
        return b"person_id\nP1\n"

    at = _draw_download("officer", build)
    assert _exports(db_url) == []  # drawing the button builds and audits nothing
    assert audited_when_built == []
    data, error = _click(at.session_state["make"])
    assert error is None and data == b"person_id\nP1\n"
    assert audited_when_built == [["cohort CSV, 3 rows"]]  # the row was there first
    row = app_store.audit_frame(engine, username="officer", actions=("export",)).iloc[0]
    assert (row["role"], row["purpose"]) == ("iom_officer", "Offender management")
    engine.dispose()


def test_an_account_disabled_after_the_page_drew_gets_no_file(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = connect(db_url)
    ensure_demo_users(engine)
    monkeypatch.setenv("ADAPT_DATABASE_URL", db_url)
    built: list[int] = []
    at = _draw_download("officer", lambda: built.append(1) or b"x")
    set_active(engine, "officer", False)
    data, error = _click(at.session_state["make"])
    assert data is None and isinstance(error, PermissionError)
    assert built == [] and _exports(db_url) == []
    refused = app_store.audit_frame(engine, username="officer", actions=("refused",))
    assert "cohort/export: download" in set(refused["detail"])
    engine.dispose()


# ---------------------------------------------------------------- tables
def test_tables_offer_no_csv_download(hostile_db: str) -> None:
    st.set_option("client.disableDataExport", False)
    at = _open("cohort", "officer")
    next(s for s in at.selectbox if s.label == "In cohort").select("Any").run()
    assert at.dataframe, "the cohort table is drawn"
    assert st.get_option("client.disableDataExport") is True
    # and, for the run that began before the option was set, the style rule
    assert any('aria-label="Download as CSV"' in str(h.proto.body) for h in at.get("html"))


@pytest.mark.parametrize(
    ("page", "username"),
    [("cohort", "officer"), ("person", "officer"), ("marac", "chair"), ("audit", "admin")],
)
def test_no_purpose_is_pre_filled(hostile_db: str, page: str, username: str) -> None:
    state = {"person_id": _person(hostile_db, "HX001")} if page == "person" else {}
    if page == "audit":  # an entry to export
        engine = connect(hostile_db)
        app_store.record(engine, username="officer", role="iom_officer", action="sign_in")
        engine.dispose()
    at = _open(page, username, **state)
    purposes = [s for s in at.selectbox if s.label.startswith("Purpose")]
    assert purposes and [s.value for s in purposes] == [None] * len(purposes)
    assert not at.get("download_button")  # nothing to download before a purpose
