"""PostgreSQL: the tables that grow with the data are partitioned (migration
0019) and still behave as before.

Runs only when ``ADAPT_TEST_DATABASE_URL`` points at PostgreSQL (SQLite is not
partitioned). A small generated extract is loaded, resolved and scored at
revision 0018 (unpartitioned), then migrated to head in place: the rows, ids,
sequences and grants survive; the uniqueness rules still refuse duplicates;
a second load, resolve and score on the partitioned tables work; and the
person-pathway queries of the app (captured as the app runs them) can be
answered from indexes, without a sequential scan of any partition. The
tables here are tiny, so the planner would rightly scan them: the plan is
asked with ``enable_seqscan`` off, which still falls back to a sequential scan
where no index could serve (the choice at a million incidents is measured in
the migration's report, not here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, insert, select, text
from sqlalchemy.exc import IntegrityError

from adapt import pipeline
from adapt.db import connect
from adapt.db.engine import downgrade, upgrade
from adapt.db.models import PG_PARTITIONS, incidents, involvements
from adapt.db.people import first_in_cohort, person_rows
from adapt.synthetic import GeneratorConfig
from tests.conftest import PG_URL, _database

PARTITIONED = {"incidents": "incident_id", "involvements": "incident_id", "person_scores": "run_id"}
SMALL = GeneratorConfig(seed=7, incidents=400, years=2.0)


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not PG_URL:
        pytest.skip("ADAPT_TEST_DATABASE_URL is not set")
    return pipeline.generate(tmp_path_factory.mktemp("part") / "extract", SMALL).folder


@pytest.fixture(scope="module")
def before(
    tmp_path_factory: pytest.TempPathFactory, extract: Path
) -> Iterator[tuple[Engine, dict]]:
    """A PostgreSQL database loaded, resolved and scored at 0018, then
    migrated to head; with what it held before the migration."""
    if not PG_URL:
        pytest.skip("ADAPT_TEST_DATABASE_URL is not set")
    with _database("postgresql", tmp_path_factory.mktemp("pg")) as url:
        engine = connect(url, migrate=False)
        upgrade(engine, "0018")
        pipeline.run(engine, extract)
        held = _snapshot(engine)
        upgrade(engine, "head")
        try:
            yield engine, held
        finally:
            engine.dispose()


def _snapshot(engine: Engine) -> dict:
    with engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).all()
            for table in PARTITIONED
        }


def _partitioned(engine: Engine) -> dict[str, tuple[str, int]]:
    """Partitioned table -> (strategy, number of partitions), current schema."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, p.partstrat, "
                "(SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid) "
                "FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'p'"
            )
        ).all()
    return {name: (strategy, int(n)) for name, strategy, n in rows}


def test_the_growing_tables_are_hash_partitioned(before) -> None:  # type: ignore[no-untyped-def]
    engine, _ = before
    assert _partitioned(engine) == {t: ("h", PG_PARTITIONS) for t in PARTITIONED}
    with engine.connect() as conn:
        keys = dict(
            conn.execute(
                text(
                    "SELECT c.relname, pg_get_partkeydef(c.oid) FROM pg_class c "
                    "WHERE c.relkind = 'p' AND c.relnamespace = current_schema()::regnamespace"
                )
            ).all()
        )
    assert keys == {t: f"HASH ({k})" for t, k in PARTITIONED.items()}


def test_the_migration_keeps_every_row_and_id(before) -> None:  # type: ignore[no-untyped-def]
    engine, held = before
    assert all(len(rows) for rows in held.values())
    assert _snapshot(engine) == held


def test_an_incident_and_its_involvements_share_a_partition_number(before) -> None:  # type: ignore[no-untyped-def]
    engine, _ = before
    with engine.connect() as conn:
        apart = conn.execute(
            text(
                "SELECT count(*) FROM involvements v JOIN incidents i USING (incident_id) "
                "WHERE right(v.tableoid::regclass::text, 3) <> right(i.tableoid::regclass::text, 3)"
            )
        ).scalar_one()
    assert apart == 0


def test_grants_and_sequences_carry_over(before) -> None:  # type: ignore[no-untyped-def]
    engine, _ = before
    with engine.connect() as conn:
        role = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = 'adapt_app'")).scalar()
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        for table in PARTITIONED:
            if table != "person_scores":  # the id sequence is owned by the new table
                owned = conn.execute(
                    text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table}
                ).scalar()
                assert owned == f"{schema}.{table}_id_seq"
            if role:
                for target in (table, f"{table}_p00", f"{table}_p{PG_PARTITIONS - 1:02d}"):
                    allowed = conn.execute(
                        text(
                            "SELECT has_table_privilege('adapt_app', :t, 'SELECT') "
                            "AND has_table_privilege('adapt_app', :t, 'INSERT') "
                            "AND has_table_privilege('adapt_app', :t, 'UPDATE') "
                            "AND has_table_privilege('adapt_app', :t, 'DELETE')"
                        ),
                        {"t": target},
                    ).scalar()
                    assert allowed, target


def test_unique_rules_still_refuse_duplicates_and_ids_still_come(before) -> None:  # type: ignore[no-untyped-def]
    engine, _ = before
    with engine.connect() as conn:
        inc = conn.execute(select(incidents).limit(1)).mappings().one()
        inv = conn.execute(select(involvements).limit(1)).mappings().one()
        top = conn.execute(text("SELECT max(id) FROM incidents")).scalar_one()
    copy = {k: v for k, v in inc.items() if k != "id"}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(incidents).values(**copy))
    again = {k: v for k, v in inv.items() if k != "id"}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(insert(involvements).values(**again))
    with engine.begin() as conn:  # a new key without an id: the sequence gives one
        new_id = conn.execute(
            insert(incidents).values(**{**copy, "incident_id": "PART-TEST-1"})
        ).inserted_primary_key[0]
        assert new_id > top
        conn.execute(text("DELETE FROM incidents WHERE incident_id = 'PART-TEST-1'"))


def test_load_resolve_score_again_on_the_partitioned_tables(before, extract: Path) -> None:  # type: ignore[no-untyped-def]
    engine, held = before
    result = pipeline.run(engine, extract)
    assert all(c.loaded == 0 and c.updated == 0 for c in result.load.files)  # nothing new
    assert result.scores.run_id == 2 and result.scores.unresolved_rows == 0
    with engine.connect() as conn:
        scored = conn.execute(
            text("SELECT count(*) FROM person_scores WHERE run_id = 2")
        ).scalar_one()
        first = len([r for r in held["person_scores"] if r[0] == 1])
    assert scored == first == len(result.scores.table)


def _captured(engine: Engine, call) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    """The SQL statements (with parameters) ``call`` runs on ``engine``."""
    seen: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def test_a_person_pathway_reads_no_partition_sequentially(before) -> None:  # type: ignore[no-untyped-def]
    engine, _ = before
    with engine.connect() as conn:
        person = conn.execute(
            text(
                "SELECT person_id FROM person_assignments WHERE row_key LIKE 'involvements:%' "
                "GROUP BY person_id ORDER BY count(*) DESC, person_id LIMIT 1"
            )
        ).scalar_one()
    statements = _captured(engine, lambda: person_rows(engine, person))
    assert len(person_rows(engine, person)) > 1
    plans = []
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            if "involvements" not in statement:
                continue
            cursor = conn.connection.dbapi_connection.cursor()
            cursor.execute("EXPLAIN " + statement, parameters)
            plans.append("\n".join(r[0] for r in cursor.fetchall()))
            cursor.close()
    assert plans, "person_rows ran no query on involvements"
    for plan in plans:
        assert "Seq Scan on involvements" not in plan, plan
        assert "Seq Scan on incidents" not in plan, plan


def test_first_in_cohort_reads_the_cohort_index(before) -> None:  # type: ignore[no-untyped-def]
    engine, _ = before
    statements = _captured(engine, lambda: first_in_cohort(engine))
    assert len(first_in_cohort(engine))
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute("EXPLAIN " + statements[-1][0], statements[-1][1])
        plan = "\n".join(r[0] for r in cursor.fetchall())
        cursor.close()
    assert "Seq Scan on person_scores" not in plan, plan
    assert "person_id_run_id_idx" in plan, plan


def test_downgrade_gives_back_plain_tables_with_the_rows(before) -> None:  # type: ignore[no-untyped-def]
    engine, _ = before
    held = _snapshot(engine)
    downgrade(engine, "0018")
    try:
        assert _partitioned(engine) == {}
        assert _snapshot(engine) == held
    finally:
        upgrade(engine, "head")
    assert _snapshot(engine) == held
    assert set(_partitioned(engine)) == set(PARTITIONED)
