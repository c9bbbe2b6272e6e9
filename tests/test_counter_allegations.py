"""Counter-allegations (issue 13, item 4): who is the predominant aggressor.

Each piece of evidence of :mod:`adapt.rules.counter` is tested on a tiny
hand-built pair where only that evidence tells the two apart, so the test
says why the rule must decide as it does; then an officer's label, stored,
audited, respected by the features and cleared (kept on record), on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

from adapt.cli import app
from adapt.core.settings import default_settings
from adapt.db import connect
from adapt.db import counter as store
from adapt.db.app_store import audit_frame
from adapt.db.history import load_history
from adapt.db.models import counter_allegation_overrides, person_assignments
from adapt.features import compute_features
from adapt.features.compute import counter_allegation_pairs
from adapt.rules.counter import EVIDENCE_WEIGHTS
from adapt.views.person import HistoryIndex
from tests.histories import HistoryBuilder

S = default_settings()
AS_OF = "2026-06-30"
SAME_DAY = "2026-02-01"


def _roles(b: HistoryBuilder, overrides: pd.DataFrame | None = None) -> dict[str, str]:
    h = b.build()
    if overrides is not None:
        h = type(h).build(h.incidents, h.involvements, h.marac, h.management, overrides)
    f = compute_features(h, AS_OF, S)
    return {p: f.loc[p, "counter_role"] for p in ("A", "B")}


def _pair(**a_extra: object) -> HistoryBuilder:
    """A and B each the other's suspect once, on the same day, same offence:
    nothing tells them apart unless ``a_extra`` (A's incident) does."""
    b = HistoryBuilder()
    b.incident(SAME_DAY, "common_assault", suspect="A", victim="B", **a_extra)
    b.incident(SAME_DAY, "common_assault", suspect="B", victim="A")
    return b


def test_a_tie_is_unclear_and_nothing_is_left_out() -> None:
    b = _pair()
    assert _roles(b) == {"A": "unclear", "B": "unclear"}
    f = compute_features(b.build(), AS_OF, S)
    assert f.loc["A", "attendances_window"] == 1 == f.loc["B", "attendances_window"]


def test_suspect_against_other_partners_is_the_predominant_aggressor() -> None:
    # A has been the suspect against two other partners before; B against nobody.
    # Abuse of several partners is the strongest sign (weight 2) of who is primary.
    b = _pair()
    b.incident("2024-03-01", "common_assault", suspect="A", victim="C")
    b.incident("2025-03-01", "common_assault", suspect="A", victim="D")
    pairs = counter_allegation_pairs(b.build(), AS_OF, S).set_index("person_id")
    assert pairs.loc["A", "vote_other_victims"] == 1 and pairs.loc["B", "vote_other_victims"] == -1
    assert _roles(b) == {"A": "predominant", "B": "secondary"}


def test_victim_of_other_people_leans_towards_secondary() -> None:
    # B has been the victim of another man (E) before: a history of being
    # victimised points away from B as the primary aggressor.
    b = _pair()
    b.incident("2025-03-01", "common_assault", suspect="E", victim="B")
    assert _roles(b) == {"A": "predominant", "B": "secondary"}


def test_injury_on_record_decides() -> None:
    # Same offence, same day; only A's incident left B injured.
    assert _roles(_pair(injury="minor")) == {"A": "predominant", "B": "secondary"}


def test_dash_grading_decides() -> None:
    # B was graded high risk on DASH from A; A was not graded from B.
    assert _roles(_pair(dash_risk="high")) == {"A": "predominant", "B": "secondary"}


def test_harm_decides() -> None:
    b = HistoryBuilder()
    b.incident(SAME_DAY, "abh", suspect="A", victim="B")  # 365 CHI days
    b.incident(SAME_DAY, "common_assault", suspect="B", victim="A")  # 10
    assert _roles(b) == {"A": "predominant", "B": "secondary"}


def test_who_was_the_suspect_first_decides() -> None:
    # A's abuse of B came months before B's one allegation against A: the
    # counter-allegation came later (the pattern over time).
    b = HistoryBuilder()
    b.incident("2025-09-01", "common_assault", suspect="A", victim="B")
    b.incident(SAME_DAY, "common_assault", suspect="B", victim="A")
    assert _roles(b) == {"A": "predominant", "B": "secondary"}


def test_repeat_pattern_decides() -> None:
    # A the suspect three times against B (all on one day with B's), B once.
    b = _pair()
    b.incident(SAME_DAY, "common_assault", suspect="A", victim="B")
    b.incident(SAME_DAY, "common_assault", suspect="A", victim="B")
    assert _roles(b) == {"A": "predominant", "B": "secondary"}


def test_evidence_after_the_as_of_date_is_not_used() -> None:
    # A's other victims all come after the as-of date: a tie on the date.
    b = _pair()
    b.incident("2026-08-01", "common_assault", suspect="A", victim="C")
    b.incident("2026-09-01", "common_assault", suspect="A", victim="D")
    assert _roles(b) == {"A": "unclear", "B": "unclear"}


def test_more_harm_alone_does_not_outweigh_a_history_of_abusing_others() -> None:
    # B caused more harm in the pair (abh, 365 days), but A has abused two other
    # partners and was the suspect first: the evidence together says A.
    b = HistoryBuilder()
    b.incident("2024-03-01", "common_assault", suspect="A", victim="C")
    b.incident("2025-03-01", "common_assault", suspect="A", victim="D")
    b.incident("2025-12-01", "common_assault", suspect="A", victim="B")
    b.incident(SAME_DAY, "abh", suspect="B", victim="A")
    assert _roles(b) == {"A": "predominant", "B": "secondary"}
    f = compute_features(b.build(), AS_OF, S)
    # B's abh against A is left out of B's features: B is the secondary party.
    assert f.loc["B", "attendances_window"] == 0 and f.loc["B", "counter_excluded_incidents"] == 1


def test_every_evidence_has_a_weight() -> None:
    pairs = counter_allegation_pairs(_pair().build(), AS_OF, S)
    assert {f"vote_{e}" for e in EVIDENCE_WEIGHTS} <= set(pairs.columns)


def test_an_officers_label_wins_over_the_rule() -> None:
    b = _pair(injury="serious", dash_risk="high")  # the rule says A
    ov = pd.DataFrame({"person_a": ["A"], "person_b": ["B"], "aggressor": ["B"]})
    assert _roles(b, ov) == {"A": "secondary", "B": "predominant"}
    h = b.build()
    h = type(h).build(h.incidents, h.involvements, counter_overrides=ov)
    f = compute_features(h, AS_OF, S)
    assert f.loc["A", "attendances_window"] == 0 and f.loc["A", "counter_excluded_incidents"] == 1
    assert f.loc["B", "attendances_window"] == 1
    # A label on a tie decides it too.
    assert _roles(_pair(), ov) == {"A": "secondary", "B": "predominant"}
    # The Person pathway reads a local History around the person: the label holds there too.
    local = compute_features(HistoryIndex.build(h).local(["A"]), AS_OF, S)
    assert {p: local.loc[p, "counter_role"] for p in ("A", "B")} == {
        "A": "secondary",
        "B": "predominant",
    }


# ---------------------------------------------------------------- storage


def _with_people(url: str, *people: str):  # type: ignore[no-untyped-def]
    engine = connect(url)
    with engine.begin() as conn:
        conn.execute(
            insert(person_assignments),
            [{"row_key": f"involvements:{i}", "person_id": p, "run_id": 1, "row_hash": i}
             for i, p in enumerate(people, start=1)],
        )  # fmt: skip
    return engine


def test_label_is_stored_audited_respected_and_cleared_on_record(db_url: str) -> None:
    engine = _with_people(db_url, "P1", "P2")
    try:
        with pytest.raises(ValueError):
            store.set_label(engine, "P1", "P2", aggressor="P3", reason="x", by="pc1")
        with pytest.raises(ValueError):
            store.set_label(engine, "P1", "P2", aggressor="P2", reason=" ", by="pc1")
        with pytest.raises(store.UnknownPerson):
            store.set_label(engine, "P1", "P9", aggressor="P1", reason="x", by="pc1")
        first = store.set_label(engine, "P2", "P1", aggressor="P2", reason="body-worn", by="pc1")
        live = load_history(engine).counter_overrides
        assert live[["person_a", "person_b", "aggressor"]].values.tolist() == [["P1", "P2", "P2"]]
        # A new label replaces the live one; the old one is kept, cleared.
        second = store.set_label(engine, "P1", "P2", aggressor="P1", reason="CCTV", by="pc2")
        assert load_history(engine).counter_overrides["aggressor"].tolist() == ["P1"]
        store.clear_label(engine, "P1", "P2", reason="new evidence", by="pc3")
        assert not len(load_history(engine).counter_overrides)
        with pytest.raises(LookupError):
            store.clear_label(engine, "P1", "P2", reason="again", by="pc3")
        every = store.labels(engine, include_cleared=True).set_index("id")
        assert list(every.index) == [first, second]
        assert every.loc[first, "set_by"] == "pc1" and every.loc[first, "reason"] == "body-worn"
        assert every.loc[first, "clear_reason"] == "replaced by a new label"
        assert every.loc[second, "cleared_by"] == "pc3"
        assert every.loc[second, "clear_reason"] == "new evidence"
        audit = audit_frame(engine)
        mine = audit[audit["action"] == "counter_allegation_label"]
        assert mine["username"].tolist() == ["pc3", "pc2", "pc1"]  # newest first
        with engine.connect() as conn:
            assert len(conn.execute(select(counter_allegation_overrides)).fetchall()) == 2
    finally:
        engine.dispose()


def test_every_run_respects_the_stored_label(db_url: str) -> None:
    engine = _with_people(db_url, "A", "B")
    try:
        store.set_label(engine, "A", "B", aggressor="B", reason="statement", by="pc1")
        stored = load_history(engine).counter_overrides
    finally:
        engine.dispose()
    b = _pair(injury="serious", dash_risk="high")  # the rule alone says A
    assert _roles(b) == {"A": "predominant", "B": "secondary"}
    assert _roles(b, stored) == {"A": "secondary", "B": "predominant"}


def test_cli_set_list_clear(db_url: str) -> None:
    _with_people(db_url, "P1", "P2").dispose()
    run = CliRunner().invoke
    base = ["counter-allegation"]
    r = run(app, [*base, "set", "P1", "P2", "--aggressor", "P3", "--reason", "x", "--db", db_url])
    assert r.exit_code == 1 and "one of the two" in r.output
    r = run(app, [*base, "set", "P1", "P2", "--aggressor", "P2", "--reason", "BWV",
                  "--db", db_url])  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run(app, [*base, "list", "--db", db_url])
    assert r.exit_code == 0 and "\tP2\t" in r.output and "BWV" in r.output
    r = run(app, [*base, "clear", "P1", "P2", "--reason", "wrong pair", "--db", db_url])
    assert r.exit_code == 0, r.output
    assert run(app, [*base, "list", "--db", db_url]).output.strip() == "no labels"
    r = run(app, [*base, "list", "--all", "--db", db_url])
    assert "wrong pair" in r.output
    r = run(app, [*base, "clear", "P1", "P2", "--reason", "again", "--db", db_url])
    assert r.exit_code == 1
