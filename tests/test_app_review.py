"""The identity review queue on the Data page, through Streamlit's AppTest,
on a small generated force (SQLite and, when configured, PostgreSQL): an
analyst opens the queue, opens an item (the two records side by side, the
explanation in words and the waterfall), decides it with a reason, and the
decision is stored (author: the signed-in user), audited, and applied by a
background identity run after which the item has left the queue.

And the Person pathway's "Who this is" explains each join in words with its
waterfall; no row key is shown outside the analysts' expander."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from adapt.contract import read_extract
from adapt.db import app_store, connect, load_extract
from adapt.db.accounts import ensure_demo_users
from adapt.db.app_store import audit_frame
from adapt.db.identity import assignments, record_decision
from adapt.db.identity_models import latest_model
from adapt.db.models import identity_decisions
from adapt.db.search import review_queue_frame
from adapt.identity.runner import MIN_TRAINING_ROWS, resolve_database
from adapt.services import jobs
from adapt.services.session import USER_KEY
from adapt.synthetic import GeneratorConfig, generate

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 120


@pytest.fixture(scope="module")
def review_db(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A resolved database of a small synthetic force with a review queue."""
    folder = tmp_path_factory.mktemp("extract")
    generate(folder, GeneratorConfig(seed=3, incidents=900, years=2.5))
    engine = connect(module_db_url)
    load_extract(engine, read_extract(folder))
    resolve_database(engine)
    ensure_demo_users(engine)
    engine.dispose()
    return module_db_url


@pytest.fixture
def app_env(review_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ADAPT_DATABASE_URL", review_db)
    return review_db


def _open(page: str, username: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = username
    at.run()
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _select(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(s for s in at.selectbox if s.label == label)


def _button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if b.label == label)


def _decision(at: AppTest):  # type: ignore[no-untyped-def]
    return next(r for r in at.radio if r.label == "Decision")


def _decisions(url: str) -> pd.DataFrame:
    engine = connect(url)
    with engine.connect() as conn:
        rows = conn.execute(select(identity_decisions)).mappings().all()
    engine.dispose()
    return pd.DataFrame(rows)


def test_an_analyst_decides_a_review_item_from_the_queue(app_env: str) -> None:
    engine = connect(app_env)
    stored = review_queue_frame(engine)
    links = stored.dropna(subset=["row_key_l", "row_key_r"])
    assert len(links), "the generated force should leave link items to review"
    target = links.iloc[0]
    item_id = int(target["id"])
    left, right = str(target["row_key_l"]), str(target["row_key_r"])
    before = len(_decisions(app_env))

    at = _open("data", "analyst")
    assert "Identity review queue" in [s.value for s in at.header]
    # the queue shows people and records, not row keys
    queue = next(d.value for d in at.dataframe if "first record" in d.value.columns)
    assert "row_key_l" not in queue.columns
    assert not queue["first record"].str.contains("involvements:").any()
    assert queue["item"].iloc[0] == int(stored["id"].iloc[0])  # best first, as stored

    _select(at, "Open an item").select(item_id).run()
    assert not at.exception, [e.message for e in at.exception]
    compared = next(d.value for d in at.dataframe if "second record" in d.value.columns
                    and "field" in d.value.columns)  # fmt: skip
    assert list(compared["field"][:3]) == ["record", "person", "forename"]
    assert at.get("plotly_chart"), "the waterfall of the match weight is drawn"
    sentence = [t.value for t in at.text if ";" in t.value or t.value.startswith("same")]
    assert sentence, "the link is explained in words"
    assert any(e.label.startswith("For analysts") for e in at.expander)

    # a decision needs a choice and a reason
    _button(at, "Record the decision").click().run()
    assert any("Same person" in e.value for e in at.error)
    _decision(at).set_value("not_same")
    _button(at, "Record the decision").click().run()
    assert any("reason is required" in e.value for e in at.error)
    assert len(_decisions(app_env)) == before

    _decision(at).set_value("not_same")
    next(t for t in at.text_area if t.label == "Reason for the decision").input(
        "Different dates of birth on the custody record; two brothers at one address."
    )
    _button(at, "Record the decision").click().run()
    assert not at.exception, [e.message for e in at.exception]

    decided = _decisions(app_env)
    assert len(decided) == before + 1
    latest = decided.sort_values("id").iloc[-1]
    assert sorted([latest["row_key_l"], latest["row_key_r"]]) == sorted([left, right])
    assert latest["decision"] == "not_same" and latest["author"] == "analyst"
    assert latest["reason"].startswith("Different dates of birth")
    audited = audit_frame(engine, username="analyst", actions=("identity_decision",))
    assert (audited["detail"] == f"review item {item_id}: not_same {left} {right}").any()
    assert any("recorded" in s.value for s in at.success)

    # the identity run that applies it is a background job
    job = jobs.runner().wait(at.session_state["data_review_job"], timeout=300)
    assert job.state == jobs.DONE, job.error
    at.run()
    assert not at.exception
    assert any("re-resolved" in s.value for s in at.success)
    person_of = assignments(engine).set_index("row_key")["person_id"]
    assert person_of[left] != person_of[right]
    after = review_queue_frame(engine)
    pairs = set(zip(after["row_key_l"], after["row_key_r"], strict=True))
    assert (left, right) not in pairs and (right, left) not in pairs
    engine.dispose()


def test_an_officer_sees_no_review_queue(app_env: str) -> None:
    at = AppTest.from_file(str(ROOT / "app_pages" / "data.py"), default_timeout=TIMEOUT)
    at.session_state[USER_KEY] = "officer"
    at.run()
    assert "Open an item" not in [s.label for s in at.selectbox]


def test_the_person_pathway_explains_each_join(app_env: str) -> None:
    engine = connect(app_env)
    sizes = assignments(engine)["person_id"].value_counts()
    person = str(sizes.index[0])
    engine.dispose()
    at = _open("person", "analyst")
    next(t for t in at.text_input if t.label == "Find a person").input(person).run()
    _select(at, "Person").select(person).run()
    _select(at, "Purpose").select("Data quality").run()
    assert not at.exception, [e.message for e in at.exception]
    lines = next(d.value for d in at.dataframe if "why" in d.value.columns)
    assert len(lines) >= 1 and lines["why"].str.len().gt(0).all()
    assert "row_key_l" not in lines.columns
    assert not lines["first record"].str.contains(":").any()  # no row keys
    assert at.get("plotly_chart")
    _select(at, "Show how a join was weighed").select(len(lines) - 1).run()
    assert not at.exception


def test_a_same_decision_joins_the_records_and_the_person_page_says_why(app_env: str) -> None:
    engine = connect(app_env)
    stored = review_queue_frame(engine)
    links = stored[stored["reason"].str.startswith("possible missed merge")]
    target = links.dropna(subset=["row_key_l", "row_key_r"]).iloc[0]
    item_id, left, right = int(target["id"]), str(target["row_key_l"]), str(target["row_key_r"])
    at = _open("data", "analyst")
    _select(at, "Open an item").select(item_id).run()
    _decision(at).set_value("same")
    next(t for t in at.text_area if t.label == "Reason for the decision").input(
        "Same custody number on both records."
    )
    _button(at, "Record the decision").click().run()
    assert not at.exception, [e.message for e in at.exception]
    job = jobs.runner().wait(at.session_state["data_review_job"], timeout=300)
    assert job.state == jobs.DONE, job.error
    person_of = assignments(engine).set_index("row_key")["person_id"]
    person = str(person_of[left])
    assert person_of[right] == person
    engine.dispose()

    page = _open("person", "analyst")
    next(t for t in page.text_input if t.label == "Find a person").input(person).run()
    _select(page, "Person").select(person).run()
    _select(page, "Purpose").select("Data quality").run()
    assert not page.exception, [e.message for e in page.exception]
    said = [t.value for t in page.text]
    # the lineage in words, drawn as text, names the analyst's decision and reason
    assert any(
        "because an analyst decided they are the same: Same custody number" in line for line in said
    ), said


def test_a_person_item_offers_two_of_their_records_to_compare(app_env: str) -> None:
    engine = connect(app_env)
    stored = review_queue_frame(engine)
    engine.dispose()
    people = stored[stored["kind"] == "cluster"]
    if people.empty:
        pytest.skip("this force left no person-level item to review")
    at = _open("data", "analyst")
    _select(at, "Open an item").select(int(people["id"].iloc[0])).run()
    assert not at.exception, [e.message for e in at.exception]
    first, second = _select(at, "First record"), _select(at, "Second record")
    assert first.value != second.value
    assert ":" not in first.format_func(first.value).split(" · ")[0]  # a name, not a row key
    compared = next(d.value for d in at.dataframe if "field" in d.value.columns)
    assert compared["field"].iloc[0] == "record"
    assert "Record the decision" in {b.label for b in at.button}


def test_after_a_split_the_analyst_moves_a_plan_entry_from_the_person_page(app_env: str) -> None:
    """An adopted person with a plan is split by an analyst's "not the same"
    decision; the items stay with the part that kept the id, and the Person
    pathway's move form sends the plan entry to the other part (audited)."""
    engine = connect(app_env)
    ids = assignments(engine)
    sizes = ids[ids["row_key"].str.startswith("involvements:")].groupby("person_id").size()
    person = str(sizes[sizes >= 3].index[0])
    keys = sorted(ids.loc[ids["person_id"] == person, "row_key"])
    app_store.record_decision(
        engine, person_id=person, decision="adopted", author="officer",
        reason="Serial perpetrator", as_of=date(2026, 11, 1), settings_name="default",
        settings_version="1", snapshot={"score": 50.0},
    )  # fmt: skip
    entry = app_store.save_plan_entry(
        engine, person_id=person, author="officer", kind="intervention", text="Refer to DAPP",
        pathway="Attitudes, thinking and behaviour",
    )  # fmt: skip
    record_decision(engine, keys[0], keys[-1], "not_same", "analyst", "Different PNC numbers")
    resolve_database(engine)
    after = assignments(engine).set_index("row_key")["person_id"]
    other = next(i for i in (after[keys[0]], after[keys[-1]]) if i != person)
    assert app_store.plan_frame(engine, person)["entry_key"].tolist() == [entry]

    page = _open("person", "analyst")
    next(t for t in page.text_input if t.label == "Find a person").input(person).run()
    _select(page, "Person").select(person).run()
    _select(page, "Purpose").select("Data quality").run()
    assert not page.exception, [e.message for e in page.exception]
    _select(page, "Move to").select(other)
    items = next(m for m in page.multiselect if m.label == "Items")
    items.select(f"plan_entry:{entry}")
    next(t for t in page.text_area if t.label == "Reason for the move").input(
        "The DAPP referral concerns the man at the second address."
    )
    next(b for b in page.button if b.label == "Move these items").click().run()
    assert not page.exception, [e.message for e in page.exception]
    assert app_store.plan_frame(engine, other)["entry_key"].tolist() == [entry]
    assert app_store.plan_frame(engine, person).empty
    assert len(app_store.decisions_frame(engine, person)) == 1  # the adoption stayed
    moves = audit_frame(engine)
    assert (moves["action"] == "case_items_moved").any()
    engine.dispose()


def test_the_data_page_shows_the_match_model_trained_on_this_force(app_env: str) -> None:
    """The identity run of the fixture trained a match model on the force's own
    rows (more than the training minimum); its card is on the Data page."""
    engine = connect(app_env)
    stored = latest_model(engine)
    engine.dispose()
    assert stored is not None and stored.rows >= MIN_TRAINING_ROWS
    at = _open("data", "analyst")
    card = next(e for e in at.expander if e.label.startswith("The model trained on this force"))
    text = " ".join(m.value for m in card.markdown)
    assert f"Identity match model {stored.id}" in text
    assert f"{stored.rows:,} person rows" in text and stored.sha256 in text
