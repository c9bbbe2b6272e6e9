"""partitioned tables on PostgreSQL for the rows that grow with the data

At national scale (7.5M incidents, ~19M involvements over five years) the
tables that grow with the extract are partitioned on PostgreSQL; SQLite is not
changed by this migration.

``incidents`` and ``involvements``: ``PARTITION BY HASH (incident_id)``, 16
partitions each (``incidents_p00`` .. ``incidents_p15``, the same for
involvements). PostgreSQL requires the partition key in every primary key and
unique constraint, so:

* hash of ``incident_id`` keeps both uniqueness rules whole: ``incident_id``
  unique in incidents, ``(incident_id, seq)`` unique in involvements;
* partitioning by year of ``occurred_at`` (the issue's example) would make
  ``incident_id`` unique only within a year (the key would become
  ``(incident_id, occurred_at)``), and involvements carry no date at all;
  a force re-dating an incident would also move it between partitions;
* an incident and its involvements fall in partitions of the same number
  (same key, same modulus), so the incident-involvement join is partition-wise
  and a look-up by incident id reads one partition of each table.

The primary key becomes ``(id, incident_id)`` (``id`` alone can no longer be
declared unique); ``id`` still comes from the same sequence (``incidents_id_seq``,
``involvements_id_seq``, owned by the new tables), so it stays unique, and the
row keys built from it (``involvements:17``) are unchanged. A look-up by ``id``
alone (a person's rows) is an index scan of each partition's primary-key index.
The app's queries read these tables whole (the history, the name index) or by
id and incident id (a person's pathway); none filters on a date, so nothing is
lost by not pruning on dates.

``person_scores``: ``PARTITION BY HASH (run_id)``, 16 partitions. Each
``adapt score`` adds a whole ranking (one row per person), so this table grows
with runs times people; every read of it by the app names the run (the ranked
table of a run, the scores on adoption dates) and then touches one partition.
The primary key ``(run_id, rank)`` already holds the key. A partial index
``ix_person_scores_in_cohort (person_id, run_id)`` over the cohort rows (both
databases) serves the Cohort page's "first in cohort" (every run's cohort
rows only, not every run's whole ranking). Its predicate is written as the
query is (``in_cohort IS TRUE``; SQLite ``in_cohort IS 1``): neither database
proves ``IS TRUE`` implies a bare ``in_cohort``.

Left as they are, on purpose:

* ``person_assignments`` (one row per person row, ~19M): its key is the row
  key, but the app reads it by ``person_id`` (a person's rows) or joins the
  whole of it; a hash on ``row_key`` would turn the person look-up into one
  index probe per partition and prune nothing; the rows are replaced one by
  one as identities change, never a run at a time. One table, two B-trees.
* ``identity_links``: replaced whole by a full identity run and by row keys
  on an incremental one, and read by either row key of a pair (a hash on one
  side cannot prune the other); old runs' links are not kept per run, so
  there is no partition to drop.

What is kept: every row (copied), every index and constraint the models declare,
the foreign key of ``person_scores`` to ``score_runs``, the sequences (inserts
without ``id`` still get one), the grants each table had (``adapt_app``'s,
migration 0010, and any other role's) on the new table and its partitions, and
any user trigger the table had. The copy runs in the migration's transaction
(a populated database is migrated in place; indexes are built after the copy).

Downgrade rebuilds the three tables unpartitioned with their former keys.

Measured on PostgreSQL 15, 1M generated incidents (2.45M involvements, 597k
scored people; 2 shared cores, load average 5-7, so times are indicative):
``adapt load`` into a fresh database 69 s before, 48 s after (peak 3.4 GB both;
same loader); this migration on the loaded, resolved and scored database 37 s.
EXPLAIN ANALYZE, before -> after: a person's pathway (80 rows) 1.2 -> 17.6 ms
(index scans of every involvements partition's primary key: the look-up is by
id, not by the partition key; page wall time 0.06 s both); the MARAC check's
name index, involvements part, 6.8 -> 3.6 s (a hash join over the partitions;
it reads every row by nature); "first in cohort" 139 -> 13 ms (the partial
index); a run's ranked table 1.5 s -> 0.22 s (one partition).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

PARTITIONS = 16


class _Shape(NamedTuple):
    """How one table is built: partition key (None: not partitioned), primary
    key, unique constraints and indexes (name, columns, predicate), foreign keys."""

    table: str
    partition_key: str | None
    primary_key: tuple[str, ...]
    uniques: tuple[tuple[str, tuple[str, ...]], ...] = ()
    indexes: tuple[tuple[str, tuple[str, ...], str | None], ...] = ()
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # name, column, referred "table(col)"


_PARTITIONED = (
    _Shape(
        "incidents",
        "incident_id",
        ("id", "incident_id"),
        uniques=(("uq_incidents_incident_id", ("incident_id",)),),
    ),
    _Shape(
        "involvements",
        "incident_id",
        ("id", "incident_id"),
        uniques=(("uq_involvements_incident_seq", ("incident_id", "seq")),),
    ),
    _Shape(
        "person_scores",
        "run_id",
        ("run_id", "rank"),
        indexes=(
            ("ix_person_scores_person_id", ("person_id",), None),
            ("ix_person_scores_in_cohort", ("person_id", "run_id"), "in_cohort IS TRUE"),
        ),
        foreign_keys=(("fk_person_scores_run_id_score_runs", "run_id", "score_runs(id)"),),
    ),
)

_PLAIN = (  # the same tables as 0018 left them (downgrade)
    _Shape(
        "incidents",
        None,
        ("id",),
        uniques=(("uq_incidents_incident_id", ("incident_id",)),),
    ),
    _Shape(
        "involvements",
        None,
        ("id",),
        uniques=(("uq_involvements_incident_seq", ("incident_id", "seq")),),
    ),
    _Shape(
        "person_scores",
        None,
        ("run_id", "rank"),
        indexes=(("ix_person_scores_person_id", ("person_id",), None),),
        foreign_keys=(("fk_person_scores_run_id_score_runs", "run_id", "score_runs(id)"),),
    ),
)


def _rows(sql: str, **params: object) -> list[sa.Row]:
    return list(op.get_bind().execute(sa.text(sql), params).all())


def _rebuild(shape: _Shape) -> None:
    """Rebuild ``shape.table`` in place as ``shape`` says, keeping its rows,
    column definitions, sequences, grants and user triggers."""
    table, old = shape.table, f"{shape.table}_pre0019"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    # Sequences owned by the old table's columns: detach them (dropping the old
    # table would drop them), the new table takes them over below.
    owned = _rows(
        "SELECT a.attname, pg_get_serial_sequence(quote_ident(:old), a.attname) AS seq "
        "FROM pg_attribute a WHERE a.attrelid = to_regclass(quote_ident(:old)) "
        "AND a.attnum > 0 AND NOT a.attisdropped "
        "AND pg_get_serial_sequence(quote_ident(:old), a.attname) IS NOT NULL",
        old=old,
    )
    for _column, seq in owned:
        op.execute(f"ALTER SEQUENCE {seq} OWNED BY NONE")
    grants = _rows(
        "SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, "
        "g.privilege_type FROM pg_class c, aclexplode(c.relacl) g "
        "LEFT JOIN pg_roles r ON r.oid = g.grantee "
        "WHERE c.oid = to_regclass(quote_ident(:old)) AND g.grantee <> c.relowner",
        old=old,
    )
    triggers = _rows(
        "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "WHERE t.tgrelid = to_regclass(quote_ident(:old)) AND NOT t.tgisinternal",
        old=old,
    )
    # The old table's constraints and indexes carry the names the new one takes.
    for (name,) in _rows(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(quote_ident(:old)) "
        "AND contype IN ('p', 'u', 'f') ORDER BY contype = 'f' DESC",
        old=old,
    ):
        op.execute(f'ALTER TABLE {old} DROP CONSTRAINT "{name}"')
    for (name,) in _rows(
        "SELECT i.indexrelid::regclass::text FROM pg_index i "
        "WHERE i.indrelid = to_regclass(quote_ident(:old))",
        old=old,
    ):
        op.execute(f"DROP INDEX {name}")

    like = f"(LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)"
    if shape.partition_key:
        op.execute(f"CREATE TABLE {table} {like} PARTITION BY HASH ({shape.partition_key})")
        for part in range(PARTITIONS):
            op.execute(
                f"CREATE TABLE {table}_p{part:02d} PARTITION OF {table} "
                f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {part})"
            )
    else:
        op.execute(f"CREATE TABLE {table} {like}")
    op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    for column, seq in owned:
        op.execute(f"ALTER SEQUENCE {seq} OWNED BY {table}.{column}")

    key = ", ".join(shape.primary_key)
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({key})")
    for name, columns in shape.uniques:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({', '.join(columns)})")
    for name, columns, where in shape.indexes:
        predicate = f" WHERE {where}" if where else ""
        op.execute(f"CREATE INDEX {name} ON {table} ({', '.join(columns)}){predicate}")
    for name, column, referred in shape.foreign_keys:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} "
            f"FOREIGN KEY ({column}) REFERENCES {referred}"
        )

    parts = [f"{table}_p{p:02d}" for p in range(PARTITIONS)] if shape.partition_key else []
    for grantee, privilege in grants:
        for target in (table, *parts):
            op.execute(f"GRANT {privilege} ON {target} TO {grantee}")
    for (definition,) in triggers:
        # "... ON schema.table_pre0019 ..." -> the new table (same schema)
        head, _, tail = definition.partition(" ON ")
        _target, _, rest = tail.partition(" ")
        op.execute(f"{head} ON {table} {rest}")
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ANALYZE {table}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for shape in _PARTITIONED:
            _rebuild(shape)
        return
    op.create_index(
        "ix_person_scores_in_cohort",
        "person_scores",
        ["person_id", "run_id"],
        sqlite_where=sa.text("in_cohort IS 1"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for shape in _PLAIN:
            _rebuild(shape)
        return
    op.drop_index("ix_person_scores_in_cohort", table_name="person_scores")
