"""Case continuity on every database: what hangs on a person id (cohort
decisions, plan entries, audit references) follows a merge, stays with the part
that keeps the id on a split (an analyst can move it, audited), and the
lineage reads in words.

Realistic rows: a small synthetic force resolved by the pipeline. The people
to merge are one true person (the generator's truth) that the engine left in
two ids; an analyst says "same" about one row of each, as `adapt decide` does.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from adapt import pipeline
from adapt.contract import read_extract
from adapt.db import app_store, connect, continuity, load_extract, writer
from adapt.db import identity as store
from adapt.db.models import case_moves, person_redirects
from adapt.services import lineage as lineage_service
from adapt.synthetic import GeneratorConfig, generate
from adapt.views.lineage import lineage_lines, long_date

NOW = pd.Timestamp("2026-11-22").to_pydatetime()
SNAPSHOT = {"score": 41.5, "score_gravity": 12.0, "rank": 4}


@pytest.fixture(scope="module")
def force(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A small force's extract and the truth of its involvements."""
    root = tmp_path_factory.mktemp("continuity")
    generate(
        root / "extract",
        GeneratorConfig(seed=5, incidents=600, bad_row_rate=0.0),
        truth_dir=root / "truth",
    )
    return root / "extract", pd.read_csv(root / "truth" / "involvements_truth.csv")


def _resolved(url: str, folder: Path):  # type: ignore[no-untyped-def]
    engine = connect(url)
    load_extract(engine, read_extract(folder, now=NOW))
    pipeline.resolve(engine)
    return engine


def _people(engine, truth: pd.DataFrame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every resolved row with its person id and, for involvements, the true person."""
    rows = store.person_rows(engine)[["row_key", "source_file", "source_row", "role"]]
    rows = rows.merge(store.assignments(engine)[["row_key", "person_id"]], on="row_key")
    inv = rows["source_file"] == "involvements.csv"
    true = rows.loc[inv, ["source_row"]].merge(
        truth[["source_row", "person_id"]].rename(columns={"person_id": "true"}),
        on="source_row",
        how="left",
    )["true"]
    rows["true"] = pd.NA
    rows.loc[inv, "true"] = true.to_numpy()
    return rows


def _fragments(engine, truth: pd.DataFrame) -> tuple[str, str, str, str]:  # type: ignore[no-untyped-def]
    """(absorbed id, its row, surviving id, its row): one true person the
    engine left in two ids, each holding only that person's rows. The id with
    more rows (ties: the older id) keeps it when they are joined."""
    rows = _people(engine, truth)
    pure = rows.groupby("person_id")["true"].agg(lambda t: t.notna().all() and t.nunique() == 1)
    rows = rows[rows["person_id"].map(pure)]
    ids = rows.groupby("true")["person_id"].unique()
    for true in sorted(ids[ids.map(len) == 2].index):
        part = rows[rows["true"] == true]
        sizes = part.groupby("person_id").size().reset_index(name="n")
        sizes = sizes.sort_values(["n", "person_id"], ascending=[False, True])
        survivor, absorbed = sizes["person_id"].tolist()
        return (
            absorbed,
            part.loc[part.person_id == absorbed, "row_key"].min(),
            survivor,
            part.loc[part.person_id == survivor, "row_key"].min(),
        )
    raise AssertionError("the generated force has no person left in two ids")


def _adopt(engine, person_id: str, decision: str, reason: str) -> int:  # type: ignore[no-untyped-def]
    return app_store.record_decision(
        engine, person_id=person_id, decision=decision, author="officer", reason=reason,
        as_of=date(2026, 11, 1), settings_name="default", settings_version="1",
        snapshot=SNAPSHOT,
    )  # fmt: skip


def _run_day(engine) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    last = store.last_run(engine)
    return last["id"], long_date(last["started_at"])


def test_adoption_and_plan_follow_a_merge(db_url: str, force) -> None:  # type: ignore[no-untyped-def]
    folder, truth = force
    engine = _resolved(db_url, folder)
    a, a_row, b, b_row = _fragments(engine, truth)
    decision = _adopt(engine, a, "adopted", "Three partners in two years")
    key = app_store.save_plan_entry(
        engine, person_id=a, author="officer", kind="action", text="Check bail conditions",
        pathway="Accommodation",
    )  # fmt: skip
    app_store.save_plan_entry(
        engine, person_id=a, author="officer", kind="action", text="Check bail conditions",
        pathway="Accommodation", status="done", entry_key=key,
    )  # fmt: skip
    app_store.record(engine, username="officer", action="view_person", person_id=a,
                     purpose="Offender management")  # fmt: skip

    store.record_decision(engine, a_row, b_row, "same", "analyst1", "Same PNC number.")
    pipeline.resolve(engine)
    ids = store.assignments(engine).set_index("row_key")["person_id"]
    assert ids[a_row] == ids[b_row] == b
    run, day = _run_day(engine)

    # B shows A's decision and A's plan (every version), A has nothing left.
    decisions = app_store.decisions_frame(engine, b)
    assert decisions["id"].tolist() == [decision]
    assert decisions["reason"].tolist() == ["Three partners in two years"]
    assert app_store.latest_decisions(engine).set_index("person_id").loc[b, "decision"] == (
        "adopted"
    )
    plan = app_store.plan_frame(engine, b)
    assert plan[["entry_key", "version", "status"]].values.tolist() == [[key, 2, "done"]]
    assert len(app_store.plan_frame(engine, b, history=True)) == 2
    assert app_store.decisions_frame(engine, a).empty and app_store.plan_frame(engine, a).empty

    # Nothing is lost: every move is recorded, the old id redirects, and the
    # audit log (never rewritten) is read as today's person.
    with engine.connect() as conn:
        moves = conn.execute(
            select(
                case_moves.c.item_kind,
                case_moves.c.item_ref,
                case_moves.c.from_person_id,
                case_moves.c.to_person_id,
                case_moves.c.run_id,
            ).order_by(case_moves.c.item_kind)
        ).all()
        redirect = conn.execute(select(person_redirects)).all()
    assert [tuple(m) for m in moves] == [
        ("cohort_decision", str(decision), a, b, run),
        ("plan_entry", key, a, b, run),
    ]
    assert [tuple(r) for r in redirect] == [(a, b, run)]
    assert continuity.current_person_id(engine, a) == b
    seen = app_store.audit_frame(engine, person_id=b, actions=("view_person",))
    assert seen[["person_id", "current_person_id"]].values.tolist() == [[a, b]]
    moved = app_store.audit_frame(engine, person_id=b, actions=("case_items_moved",))
    assert moved["detail"].tolist() == [
        f"identity run {run} merged {a} into {b}; moved here: 1 cohort decision, 1 plan entry"
    ]
    # A later edit made under the old id (a page drawn before the merge) lands on B.
    app_store.save_plan_entry(
        engine, person_id=a, author="officer", kind="review", text="Review in 3 months"
    )
    assert len(app_store.plan_frame(engine, b)) == 2

    # The lineage in words, on both ids.
    why = "because an analyst decided they are the same: Same PNC number"
    events = continuity.lineage_events(engine, b)
    assert lineage_lines(events, continuity.manual_moves(engine, b), b) == [
        f"Merged with {a} on {day} (identity run {run}), {why}. "
        "Its 1 cohort decision and 1 plan entry moved here."
    ]
    assert lineage_lines(continuity.lineage_events(engine, a), pd.DataFrame(), a) == [
        f"Merged into {b} on {day} (identity run {run}), {why}. "
        "Its 1 cohort decision and 1 plan entry moved there."
    ]


def test_a_wrong_merge_undone_keeps_the_items_and_the_analyst_sends_them_back(  # type: ignore[no-untyped-def]
    db_url: str, force
) -> None:
    folder, truth = force
    engine = _resolved(db_url, folder)
    a, a_row, b, b_row = _fragments(engine, truth)
    key = app_store.save_plan_entry(
        engine, person_id=a, author="officer", kind="note", text="Victim moved to refuge"
    )
    decision = store.record_decision(engine, a_row, b_row, "same", "analyst1", "Same address")
    pipeline.resolve(engine)
    assert app_store.plan_frame(engine, b)["entry_key"].tolist() == [key]

    store.revoke_decision(engine, decision, "analyst2", "Different men at one address")
    pipeline.resolve(engine)
    run, day = _run_day(engine)
    ids = store.assignments(engine).set_index("row_key")["person_id"]
    back = ids[a_row]
    assert ids[b_row] == b and back not in (a, b)  # a merged id is never reused
    # Default: the entry stays with the part that kept the id.
    assert app_store.plan_frame(engine, b)["entry_key"].tolist() == [key]
    assert lineage_lines(continuity.lineage_events(engine, back), pd.DataFrame(), back) == [
        f"Split from {b} on {day} (identity run {run}), because an analyst withdrew the "
        "decision that they are the same: Different men at one address."
    ]
    items = continuity.case_items(engine, b)
    assert items["item_id"].tolist() == [f"plan_entry:{key}"]
    with pytest.raises(ValueError, match="not an active person"):
        continuity.move_case_items(engine, b, a, items["item_id"].tolist(), "analyst2", "undo")
    assert (
        continuity.move_case_items(
            engine, b, back, items["item_id"].tolist(), "analyst2", "The note is about his victim"
        )
        == 1
    )
    assert app_store.plan_frame(engine, back)["text"].tolist() == ["Victim moved to refuge"]
    assert app_store.plan_frame(engine, b).empty


def test_a_merge_where_both_had_decisions_keeps_both_histories(db_url: str, force) -> None:  # type: ignore[no-untyped-def]
    folder, truth = force
    engine = _resolved(db_url, folder)
    a, a_row, b, b_row = _fragments(engine, truth)
    older = _adopt(engine, b, "declined", "One incident only")
    newer = _adopt(engine, a, "adopted", "Escalating harm against a new partner")
    _adopt(engine, a, "declined", "Now in custody")  # A's own history: two decisions
    store.record_decision(engine, a_row, b_row, "same", "analyst1", "Same custody photograph")
    pipeline.resolve(engine)

    # Both histories on B, newest first; the newest decision (A's) is in force.
    history = app_store.decisions_frame(engine, b)
    assert history["id"].tolist() == [newer + 1, newer, older]
    assert history["reason"].tolist() == [
        "Now in custody",
        "Escalating harm against a new partner",
        "One incident only",
    ]
    latest = app_store.latest_decisions(engine).set_index("person_id")
    assert latest.loc[b, ["decision", "reason"]].tolist() == ["declined", "Now in custody"]
    assert a not in latest.index
    run, day = _run_day(engine)
    assert lineage_lines(continuity.lineage_events(engine, b), pd.DataFrame(), b) == [
        f"Merged with {a} on {day} (identity run {run}), because an analyst decided they are "
        "the same: Same custody photograph. Its 2 cohort decisions moved here."
    ]


def test_a_split_keeps_items_with_the_larger_part_and_the_analyst_moves_them(  # type: ignore[no-untyped-def]
    db_url: str, force, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, truth = force
    engine = _resolved(db_url, folder)
    rows = _people(engine, truth)
    # A person of three or more involvements of one true person.
    inv = rows[rows["true"].notna()]
    whole = inv.groupby("person_id").agg(n=("row_key", "size"), true=("true", "nunique"))
    all_rows = rows.groupby("person_id").size()
    whole = whole[(whole["true"] == 1) & (whole["n"] >= 3) & (whole["n"] == all_rows[whole.index])]
    p = sorted(whole.index)[0]
    keys = sorted(rows.loc[rows.person_id == p, "row_key"])
    decision = _adopt(engine, p, "adopted", "Serial perpetrator")
    key = app_store.save_plan_entry(
        engine, person_id=p, author="officer", kind="intervention", text="Refer to DAPP",
        pathway="Attitudes, thinking and behaviour",
    )  # fmt: skip
    store.record_decision(engine, keys[0], keys[-1], "not_same", "analyst1", "DOBs differ on PNC")
    pipeline.resolve(engine)
    run, day = _run_day(engine)
    ids = store.assignments(engine).set_index("row_key")["person_id"]
    assert ids[keys[0]] != ids[keys[-1]]
    parts = ids[keys].value_counts()
    assert parts.index[0] == p  # the larger part keeps the id
    other = next(i for i in (ids[keys[0]], ids[keys[-1]]) if i != p)
    moved_rows = int(parts[other])

    # Default: the items stay with the part that keeps the id.
    assert app_store.decisions_frame(engine, p)["id"].tolist() == [decision]
    assert app_store.plan_frame(engine, p)["entry_key"].tolist() == [key]
    assert app_store.decisions_frame(engine, other).empty

    # The analyst moves the plan entry to the other part: audited, with a reason.
    monkeypatch.setenv("ADAPT_DATABASE_URL", db_url)
    assert lineage_service.split_parts(p) == [other]
    items = lineage_service.case_items(p)
    assert items["item_id"].tolist() == [f"cohort_decision:{decision}", f"plan_entry:{key}"]
    analyst = {"username": "analyst1"}
    with pytest.raises(ValueError, match="reason"):
        lineage_service.move_case_items(analyst, p, other, [f"plan_entry:{key}"], " ")
    with pytest.raises(ValueError, match="not on"):
        lineage_service.move_case_items(analyst, other, p, [f"plan_entry:{key}"], "wrong way")
    done = lineage_service.move_case_items(
        analyst, p, other, [f"plan_entry:{key}"], "DAPP referral was for the other man"
    )
    assert done == 1
    assert app_store.plan_frame(engine, other)["entry_key"].tolist() == [key]
    assert app_store.plan_frame(engine, p).empty
    assert app_store.decisions_frame(engine, p)["id"].tolist() == [decision]
    audit = app_store.audit_frame(engine, person_id=other, actions=("case_items_moved",))
    assert audit[["username", "detail"]].values.tolist() == [
        ["analyst1", f"moved from {p}: 1 plan entry (DAPP referral was for the other man)"]
    ]

    # The lineage in words, from both parts.
    records = f"{moved_rows} record" + ("" if moved_rows == 1 else "s")
    why = "because an analyst decided they are not the same: DOBs differ on PNC"
    today = long_date(pd.Timestamp.now(tz="UTC").tz_localize(None))
    assert lineage_service.lineage_lines(other) == [
        f"Split from {p} on {day} (identity run {run}), {why}.",
        f"On {today}, analyst1 moved 1 plan entry here from {p}: "
        "DAPP referral was for the other man.",
    ]
    assert lineage_service.lineage_lines(p) == [
        f"Split: {records} went to {other} on {day} (identity run {run}), {why}. "
        "Cohort decisions and plan entries stayed here unless an analyst moved them.",
        f"On {today}, analyst1 moved 1 plan entry to {other}: DAPP referral was for the other man.",
    ]


def test_lineage_in_words_when_automatic() -> None:
    """Hand-built events: an automatic split kept apart by a guard, and an
    automatic merge (new records joined the two), as each side reads them."""
    events = pd.DataFrame(
        {
            "run_id": [3, 5],
            "at": pd.to_datetime(["2026-06-01 09:30", "2026-12-04 23:10"]),
            "event": ["split", "merged"],
            "person_id": ["P0000251", "P0006775"],
            "other_person_id": ["P0000900", "P0000251"],
            "rows_moved": [1, 4],
            "cause": ["guard: dates of birth differ", None],
            "reason": [None, None],
            "revoke_reason": [None, None],
            "decisions_moved": [0, 0],
            "plans_moved": [0, 1],
        }
    )
    assert lineage_lines(events, pd.DataFrame(), "P0000251") == [
        "Split: 1 record went to P0000900 on 1 June 2026 (identity run 3): automatic "
        "(dates of birth differ). Cohort decisions and plan entries stayed here unless an "
        "analyst moved them.",
        "Merged with P0006775 on 4 December 2026 (identity run 5): automatic. "
        "Its 1 plan entry moved here.",
    ]
    assert lineage_lines(events.iloc[:1], pd.DataFrame(), "P0000900") == [
        "Split from P0000251 on 1 June 2026 (identity run 3): automatic (dates of birth differ)."
    ]


def test_a_chain_of_merges_reads_the_audit_log_as_todays_person(db_url: str) -> None:
    """C merged into B in one run, B into A in a later one: C's plan entry and
    its audit entries are found under A; nothing in the log is rewritten."""
    engine = connect(db_url)
    key = app_store.save_plan_entry(
        engine, person_id="P0000003", author="officer", kind="note", text="Lives with sister"
    )
    app_store.record(engine, username="chair", action="marac_check", person_id="P0000003")
    chain = [("P0000003", "P0000002"), ("P0000002", "P0000001")]
    for run, (lost, got) in enumerate(chain, start=1):
        lineage = pd.DataFrame(
            {"event": ["merged"], "person_id": [lost], "other_person_id": [got], "rows_moved": [2]}
        )
        with writer(engine) as conn:
            assert continuity.follow_merges(conn, run, lineage) == 1
    assert continuity.current_person_id(engine, "P0000003") == "P0000001"
    assert continuity.absorbed_ids(engine, "P0000001") == ["P0000002", "P0000003"]
    assert app_store.plan_frame(engine, "P0000001")["entry_key"].tolist() == [key]
    log = app_store.audit_frame(engine, person_id="P0000001")
    assert log[["action", "person_id", "current_person_id"]].values.tolist() == [
        ["case_items_moved", "P0000001", "P0000001"],
        ["case_items_moved", "P0000002", "P0000001"],
        ["marac_check", "P0000003", "P0000001"],
        ["plan_change", "P0000003", "P0000001"],
    ]
