"""Erasure (``adapt erase``) and subject access (``adapt subject-access``) on
every database, on a small synthetic force loaded and resolved by the pipeline.

The person erased is a real resolved person with incidents, MARAC referral
sides, a cohort decision, a plan entry, a score, an analyst's identity
decision, a quarantined input row that names them, and a second person id an
analyst's "same" decision merged into them (a redirect and a case move). After
the erasure, every text column of every table is searched for their names,
person references, dates of birth, row keys and person ids: only the audit log
(ids) and the retired id in ``persons`` may still name an id, nothing may name
the person. Later identity runs do not bring them back.
"""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Date, DateTime, String, Text, func, select
from typer.testing import CliRunner

from adapt import pipeline
from adapt.cli import app
from adapt.cli.common import os_user
from adapt.contract import read_extract
from adapt.db import app_store, connect, continuity, counter, load_extract
from adapt.db import identity as store
from adapt.db.erasure import ERASURE_PLAN, erase_person
from adapt.db.models import (
    audit_log,
    erasures,
    incidents,
    involvements,
    metadata,
    person_redirects,
    persons,
    quarantine,
)
from adapt.db.subject_access import UnknownPerson, person_scope, subject_access_tables
from adapt.synthetic import GeneratorConfig, generate
from tests.extracts import incident, involvement, write_extract

NOW = pd.Timestamp("2026-11-22").to_pydatetime()
runner = CliRunner()


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A small force's extract and the truth of its involvements."""
    root = tmp_path_factory.mktemp("erasure")
    generate(
        root / "extract",
        GeneratorConfig(seed=5, incidents=300, bad_row_rate=0.0),
        truth_dir=root / "truth",
    )
    return root / "extract", pd.read_csv(root / "truth" / "involvements_truth.csv")


def _person_table(engine, truth: pd.DataFrame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every resolved row with its person, identifiers and (involvements) true person."""
    rows = store.person_rows(engine)
    rows = rows.merge(store.assignments(engine)[["row_key", "person_id"]], on="row_key")
    rows["name"] = (rows["forename"].str.lower() + " " + rows["surname"].str.lower()).astype(
        "string"
    )
    inv = rows["source_file"] == "involvements.csv"
    true = rows.loc[inv, ["source_row"]].merge(
        truth[["source_row", "person_id"]].rename(columns={"person_id": "true"}),
        on="source_row",
        how="left",
    )["true"]
    rows["true"] = pd.NA
    rows.loc[inv, "true"] = true.to_numpy()
    return rows


def _two_fragments(rows: pd.DataFrame) -> tuple[str, str, str, str]:
    """(surviving id, its row, absorbed id, its row): a true person the engine
    left in two ids, each holding only their rows, whose names, references and
    dates of birth no other id holds (so the search below cannot hit anyone
    else), a suspect (so they are scored) with as many rows as there are."""
    pure = rows.groupby("person_id")["true"].agg(lambda t: t.notna().any() and t.nunique() == 1)
    owner = rows.groupby("person_id")["true"].agg(
        lambda t: t.dropna().iloc[0] if t.notna().any() else None
    )
    rows = rows.assign(owner=rows["person_id"].map(owner.where(pure)))
    candidates = []
    for _true, part in rows.dropna(subset=["owner"]).groupby("owner"):
        ids = part["person_id"].unique()
        if len(ids) != 2:
            continue
        others = rows[~rows["person_id"].isin(ids)]
        shared = any(
            part[column].dropna().isin(set(others[column].dropna())).any()
            for column in ("name", "person_ref", "date_of_birth")
        )
        if shared or part[["forename", "surname", "date_of_birth"]].isna().all().any():
            continue
        sizes = part.groupby("person_id").size().sort_values(ascending=False)
        suspect = bool((part["role"] == "suspect").any())
        candidates.append((suspect, len(part), sizes.index[0], sizes.index[1]))
    _, _, big, small = max(candidates)
    first = rows.groupby("person_id")["row_key"].min()
    return big, first[big], small, first[small]


@pytest.fixture(scope="module")
def force(module_db_url: str, extract, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """(engine, person id, merged id, needles): the force with one person's
    case built up as the app and the CLI would."""
    folder, truth = extract
    engine = connect(module_db_url)
    load_extract(engine, read_extract(folder, now=NOW))
    pipeline.resolve(engine)
    rows = _person_table(engine, truth)
    person, row_a, other, row_b = _two_fragments(rows)
    # A decision about the smaller id before it is merged: it moves with the merge.
    app_store.record_decision(
        engine, person_id=other, decision="adopted", author="officer", reason="high harm",
        as_of=date(2026, 11, 1), settings_name="default", settings_version="1",
        snapshot={"score": 3.0},
    )  # fmt: skip
    store.record_decision(engine, row_a, row_b, "same", "analyst", "same person, checked")
    pipeline.resolve(engine)
    now = store.assignments(engine).set_index("row_key")["person_id"]
    assert now[row_a] == now[row_b] == person, "the larger part keeps its id"
    app_store.save_plan_entry(
        engine, person_id=person, author="officer", kind="action", text="Refer to programme",
        pathway="Attitudes, thinking and behaviour",
    )  # fmt: skip
    pipeline.score(engine)
    app_store.record(engine, username="officer", action="view_person", person_id=person,
                     purpose="Offender management")  # fmt: skip
    # The next extract carries a MARAC referral and an IOM record about the
    # person, and a bad row naming them (quarantined).
    part = rows[rows["person_id"] == person]
    theirs = part[part["kind"] == "involvement"].iloc[0]

    def first(column: str) -> str:
        values = part[column].dropna()
        if values.empty:
            return ""
        return f"{values.iloc[0]:%Y-%m-%d}" if column == "date_of_birth" else str(values.iloc[0])

    who = [first(c) for c in ("person_ref", "forename", "surname", "date_of_birth")]
    again = tmp_path_factory.mktemp("again") / "extract"
    shutil.copytree(folder, again)
    _append(again / "involvements.csv", [theirs["incident_id"], "boss", *who, "", "", "", ""])
    _append(again / "marac.csv", ["MR-TEST-1", "2025-06-02", "2025-06-16", "2025-06-20",
                                  "NMTEST0001", "Hermione", "Quayle", "1991-04-05", *who,
                                  "Police"])  # fmt: skip
    _append(again / "management.csv", [*who, "iom", "2025-07-01", ""])
    load_extract(engine, read_extract(again, now=NOW))
    pipeline.resolve(engine)
    # Where the engine did not join them, an analyst does (as on the Data page).
    new = store.person_rows(engine)
    named = (new["forename"] == who[1]).fillna(False) & (new["surname"] == who[2]).fillna(False)
    new = new.loc[named & new["source_file"].isin(["marac.csv", "management.csv"]), "row_key"]
    assigned = store.assignments(engine).set_index("row_key")["person_id"]
    for key in new:
        if assigned.get(key) != person:
            store.record_decision(engine, row_a, key, "same", "analyst", "same PNC number")
    pipeline.resolve(engine)
    assigned = store.assignments(engine).set_index("row_key")["person_id"]
    keys = [k for k, p in assigned.items() if p == person]
    assert any(k.startswith("marac_referrals:") for k in keys)
    assert any(k.startswith("management:") for k in keys)
    rows = _person_table(engine, truth)
    mine = rows[rows["person_id"].isin([person, other])]
    names = mine.dropna(subset=["forename", "surname"])
    needles = {
        "ids": [person, *continuity.absorbed_ids(engine, person)],
        "refs": sorted(mine["person_ref"].dropna().str.lower().unique()),
        "names": sorted(
            set(zip(names["forename"].str.lower(), names["surname"].str.lower(), strict=True))
        ),
        "dobs": sorted({d.strftime("%Y-%m-%d") for d in mine["date_of_birth"].dropna()}),
        "keys": sorted(mine["row_key"]),
    }
    yield engine, person, other, needles
    engine.dispose()


def _append(path: Path, row: list[str]) -> None:
    with path.open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(row)


def _token(values: list[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(v.lower()) for v in sorted(values, key=len, reverse=True))
    return re.compile(rf"(?<![0-9a-z])(?:{alternatives})(?![0-9a-z])")


def _holders(engine, needles: dict) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Per table, the rows whose text (every text and date column) names the
    person: an id (except the audit log's, and a retired id in persons), a
    person reference, a row key, a date of birth, or a forename and surname
    together."""
    ids, others = (
        _token(needles["ids"]),
        _token(needles["refs"] + needles["keys"] + needles["dobs"]),
    )
    found: dict[str, int] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            columns = [
                c for c in table.columns if isinstance(c.type, String | Text | Date | DateTime)
            ]
            frame = pd.DataFrame(
                conn.execute(select(*columns)).all(), columns=[c.name for c in columns]
            )
            if frame.empty:
                continue
            text = frame.astype("string").fillna("").agg(" | ".join, axis=1).str.lower()
            hit = text.str.contains(others)
            for forename, surname in needles["names"]:
                hit |= text.str.contains(_token([forename])) & text.str.contains(_token([surname]))
            id_hit = text.str.contains(ids)
            if table.name == "audit_log":
                id_hit[:] = False
            if table.name == "persons":
                id_hit &= frame["status"] != "erased"
            hit |= id_hit
            if hit.any():
                found[table.name] = int(hit.sum())
    return found


def test_every_table_has_an_erasure_rule() -> None:
    assert set(ERASURE_PLAN) == set(metadata.tables), (
        "a table was added without saying what an erasure does to it"
    )


def test_subject_access_holds_the_whole_case(force) -> None:  # type: ignore[no-untyped-def]
    engine, person, other, needles = force
    scope, tables = subject_access_tables(engine, other)  # an old id finds today's person
    assert scope.person_id == person and set(scope.ids) == set(needles["ids"])
    assert other in scope.ids and set(tables["person"]["person_id"]) == set(scope.ids)
    assert len(tables["involvements"]) >= 1 and len(tables["marac_referrals"]) >= 1
    assert set(tables["marac_referrals"].columns) >= {"referral_id", "side", "forename"}
    assert not any(c.startswith(("victim_", "perpetrator_")) for c in tables["marac_referrals"])
    assert len(tables["quarantine"]) == 1 and "boss" in tables["quarantine"]["raw"].iloc[0]
    assert len(tables["cohort_decisions"]) == 1 and len(tables["plan_entries"]) == 1
    assert len(tables["case_moves"]) == 1 and len(tables["identity_decisions"]) >= 1
    assert len(tables["scores"]) >= 1 and (tables["scores"]["person_id"] == person).all()
    assert "view_person" in set(tables["audit_log"]["action"])
    assert set(tables["incidents"]["incident_id"]) == set(tables["involvements"]["incident_id"])


def test_cli_subject_access_is_audited_before_it_is_written(force, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, person, _, _ = force
    url = engine.url.render_as_string(hide_password=False)
    out = tmp_path / "sar"
    result = runner.invoke(app, ["subject-access", person, "--out", str(out), "--db", url])
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert "index.csv" in files and "02_involvements.csv" in files and len(files) == 17
    assert (out / "02_involvements.csv").stat().st_mode & 0o077 == 0
    entry = app_store.audit_frame(engine, person_id=person, actions=("subject_access",)).iloc[0]
    assert entry["username"] == os_user() and str(out) in entry["detail"]
    # An existing folder with files in it is not overwritten (structural: exit 2).
    again = runner.invoke(app, ["subject-access", person, "--out", str(out), "--db", url])
    assert again.exit_code == 2 and "already exists" in again.output
    unknown = runner.invoke(
        app, ["subject-access", "P9999999", "--out", str(tmp_path / "x"), "--db", url]
    )
    assert unknown.exit_code == 1
    assert unknown.output.strip() == "adapt: P9999999 is not a known person id"
    assert not (tmp_path / "x").exists()


def test_unknown_person_is_refused_with_one_line(force) -> None:  # type: ignore[no-untyped-def]
    engine, *_ = force
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["erase", "P9999999", "--reason", "request", "--yes", "--db", url])
    assert result.exit_code == 1
    assert result.output.strip() == "adapt: P9999999 is not a known person id"
    refused = runner.invoke(app, ["erase", "P9999999", "--reason", "  ", "--yes", "--db", url])
    assert refused.exit_code == 1


def test_erase_without_confirmation_changes_nothing(force) -> None:  # type: ignore[no-untyped-def]
    engine, person, _, needles = force
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["erase", person, "--reason", "r", "--db", url], input="n\n")
    assert result.exit_code == 1 and "not confirmed" in result.output
    assert "involvements" in _holders(engine, needles)


def test_erasure_removes_the_person_from_every_table(force, extract) -> None:  # type: ignore[no-untyped-def]
    engine, person, other, needles = force
    # an officer's counter-allegation label on a pair with the person
    with engine.connect() as conn:
        someone = conn.execute(
            select(persons.c.person_id).where(persons.c.person_id.not_in([person, other]))
        ).scalars().first()  # fmt: skip
    counter.set_label(engine, person, someone, aggressor=person, reason="CCTV", by="pc1")
    before = _holders(engine, needles)
    # The search sees the person everywhere they are held (it would fail on a
    # half-done erasure).
    for table in ("involvements", "marac_referrals", "quarantine", "persons",
                  "person_assignments", "person_redirects", "person_lineage", "case_moves",
                  "cohort_decisions", "plan_entries", "person_scores", "identity_decisions",
                  "identity_links", "counter_allegation_overrides"):  # fmt: skip
        assert table in before, table
    with engine.connect() as conn:
        counts_before = {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (incidents, involvements, quarantine)
        }
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(
        app, ["erase", other, "--reason", "s.47 request upheld", "--yes", "--db", url]
    )
    assert result.exit_code == 0, result.output
    assert person in result.output and other in result.output

    assert _holders(engine, needles) == {}
    with engine.connect() as conn:
        # Non-identifying counts stay: the incidents, the people on them, the rejected rows.
        for table, n in counts_before.items():
            assert (
                conn.execute(select(func.count()).select_from(metadata.tables[table])).scalar_one()
                == n
            )
        status = dict(conn.execute(select(persons.c.person_id, persons.c.status)).all())
        assert status[person] == status[other] == "erased"
        register = conn.execute(select(erasures)).mappings().one()
        assert register["reason"] == "s.47 request upheld" and register["erased_by"] == os_user()
        assert not conn.execute(select(person_redirects)).all()
    entry = app_store.audit_frame(engine, actions=("erasure",)).iloc[0]
    assert entry["person_id"] == person and entry["username"] == os_user()
    assert f"erasure {register['id']}" in entry["detail"] and other in entry["detail"]
    # The entries written before stay as they were (append-only), and the
    # erasure's entry continues the hash chain.
    assert len(app_store.audit_frame(engine, person_id=person, actions=("view_person",))) == 1
    assert app_store.verify_chain(engine).intact

    # A later identity run, incremental or full, does not bring them back.
    pipeline.resolve(engine)
    pipeline.resolve(engine, full=True)
    pipeline.score(engine)
    assert _holders(engine, needles) == {}
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count())
                .select_from(persons)
                .where(persons.c.person_id.in_([person, other]), persons.c.status != "erased")
            ).scalar_one()
            == 0
        )
        resolved = set(store.assignments(engine)["row_key"])
        assert not resolved & set(needles["keys"])

    # The force's next extract still lists their involvements (the erasure has not
    # been made at source yet): the tombstones stay tombstones.
    load_extract(engine, read_extract(extract[0], now=NOW))
    pipeline.resolve(engine)
    assert "involvements" not in _holders(engine, needles)

    # Erased: refused from now on, for erasure and for subject access.
    again = runner.invoke(app, ["erase", person, "--reason", "again", "--yes", "--db", url])
    assert again.exit_code == 1 and again.output.strip() == f"adapt: {person} was erased"
    with pytest.raises(UnknownPerson), engine.connect() as conn:
        person_scope(conn, person)
    with pytest.raises(UnknownPerson):
        erase_person(engine, other, reason="again", erased_by="x")
    with engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.action == "erasure")
            ).scalar_one()
            == 1
        )


def test_people_kept_apart_are_named_not_erased(db_url: str, tmp_path: Path) -> None:
    """Two rows with the same reference, name and date of birth that an analyst
    said are different people: erasing one id names the other (to be checked
    by a person) and leaves it alone."""
    folder = write_extract(
        tmp_path / "extract",
        [incident(1), incident(2)],
        [involvement(1, "suspect", 1), involvement(1, "victim", 101),
         involvement(2, "suspect", 1), involvement(2, "victim", 102)],
    )  # fmt: skip
    engine = connect(db_url)
    load_extract(engine, read_extract(folder, now=NOW))
    pipeline.resolve(engine)
    rows = _person_table(engine, pd.DataFrame(columns=["source_row", "person_id"]))
    first, second = rows.loc[rows["role"] == "suspect", "row_key"].sort_values()
    store.record_decision(engine, first, second, "not_same", "analyst", "different PNC numbers")
    pipeline.resolve(engine)
    ids = store.assignments(engine).set_index("row_key")["person_id"]
    assert ids[first] != ids[second]
    url = engine.url.render_as_string(hide_password=False)
    result = runner.invoke(app, ["erase", ids[first], "--reason", "request", "--yes", "--db", url])
    assert result.exit_code == 0, result.output
    assert f"notice: {ids[second]} also hold records" in result.output
    assert store.assignments(engine).set_index("row_key")["person_id"][second] == ids[second]
    engine.dispose()
