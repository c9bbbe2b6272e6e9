"""audit chain: each row carries the hash of the previous row; tamper guards

Adds ``prev_hash`` and ``row_hash`` to ``audit_log`` and computes the chain for
the rows already there (in id order, :func:`adapt.db.app_store.row_hash`).

Guards, on both databases. An insert must carry an id above every stored one
(on SQLite this refuses ``INSERT OR REPLACE`` over an existing entry, whose
implicit delete fires no delete trigger), and either continue the chain
(``prev_hash`` = the last entry's ``row_hash``: a writer that did not
serialise cannot fork it) or carry no hashes at all: code that appends
directly (an identity run's case moves, in bulk) leaves them to be filled by
the next append or by ``verify_chain`` ("sealed", in id order). The only
update allowed is that one fill of a row's two hash columns, continuing the
chain; DELETE stays refused (0005). On PostgreSQL also a ``BEFORE TRUNCATE``
trigger, and the role ``adapt_app`` (NOLOGIN, created when missing and when
the migrating role may create roles): everything the app needs on every table
of this schema, but on ``audit_log`` only SELECT, INSERT and UPDATE of the two
hash columns (for sealing), and SELECT on ``alembic_version``. A force's app
logs in as a role that is a member of ``adapt_app`` and owns nothing (README,
"Audit log").

Downgrade drops the guards and the columns, puts back 0005's append-only
update trigger and revokes what this migration granted ``adapt_app`` in this
schema; it never drops the role, which is cluster-wide and may serve other
databases.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapt.db.app_store import APP_ROLE, GENESIS_HASH, row_hash

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# An entry is chained when written (adapt.db.app_store.record_in), or written
# without hashes by code that appends to the log directly (an identity run's
# case moves, in bulk) and chained ("sealed") by the next append or by
# verify_chain: its two hash columns may then be filled once, in order, and
# nothing else about it may change.
_CHANGED = " OR ".join(
    f"NEW.{c} IS DISTINCT FROM OLD.{c}"
    for c in ("id", "at", "username", "role", "action", "person_id", "purpose", "detail")
)
_NO_UPDATE_UNLESS_SEALING = (
    f"OLD.row_hash IS NOT NULL OR OLD.prev_hash IS NOT NULL OR NEW.row_hash IS NULL "
    f"OR NEW.prev_hash IS NULL OR {_CHANGED}"
)
_PENDING = "pending"  # stands for a last entry not sealed yet: no hash continues it

_PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION audit_log_chain_guard() RETURNS trigger AS $$
DECLARE
  last_id integer;
  last_hash text;
BEGIN
  SELECT id, coalesce(row_hash, '{_PENDING}') INTO last_id, last_hash
    FROM audit_log ORDER BY id DESC LIMIT 1;
  IF last_id IS NOT NULL AND NEW.id <= last_id THEN
    RAISE EXCEPTION 'audit_log: an entry must carry an id above every stored one';
  END IF;
  IF NEW.row_hash IS NULL AND NEW.prev_hash IS NULL THEN
    RETURN NEW;  -- sealed by the next append
  END IF;
  IF NEW.row_hash IS NULL OR NEW.prev_hash IS DISTINCT FROM
     coalesce(last_hash, '{GENESIS_HASH}') THEN
    RAISE EXCEPTION 'audit_log: an entry must continue the hash chain';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql SET search_path FROM CURRENT;

CREATE OR REPLACE FUNCTION audit_log_seal_guard() RETURNS trigger AS $$
BEGIN
  IF NEW.prev_hash IS DISTINCT FROM coalesce(
       (SELECT row_hash FROM audit_log WHERE id < OLD.id ORDER BY id DESC LIMIT 1),
       '{GENESIS_HASH}') THEN
    RAISE EXCEPTION 'audit_log: an entry must continue the hash chain';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql SET search_path FROM CURRENT
"""

_PG_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW "
    f"WHEN ({_NO_UPDATE_UNLESS_SEALING}) EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_seal BEFORE UPDATE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_seal_guard()",
    "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_chain_guard()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)

_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    f"WHEN {_NO_UPDATE_UNLESS_SEALING.replace('IS DISTINCT FROM', 'IS NOT')} "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_seal BEFORE UPDATE ON audit_log "
    "WHEN NEW.prev_hash IS NOT coalesce((SELECT row_hash FROM audit_log WHERE id < OLD.id "
    f"ORDER BY id DESC LIMIT 1), '{GENESIS_HASH}') "
    "BEGIN SELECT RAISE(ABORT, 'audit_log: an entry must continue the hash chain'); END",
    # An explicit id at or below a stored one (INSERT OR REPLACE over an entry
    # included). An id left to SQLite reads as -1 here and is always new.
    "CREATE TRIGGER audit_log_no_reused_id BEFORE INSERT ON audit_log "
    "WHEN NEW.id > 0 AND NEW.id <= (SELECT coalesce(max(id), 0) FROM audit_log) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log: an entry must carry an id above every stored one'); "
    "END",
    "CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log "
    "WHEN (NEW.row_hash IS NULL) <> (NEW.prev_hash IS NULL) OR (NEW.row_hash IS NOT NULL "
    "AND NEW.prev_hash IS NOT coalesce((SELECT coalesce(row_hash, "
    f"'{_PENDING}') FROM audit_log ORDER BY id DESC LIMIT 1), '{GENESIS_HASH}')) "
    "BEGIN SELECT RAISE(ABORT, 'audit_log: an entry must continue the hash chain'); END",
)
_SQLITE_APPEND_ONLY_UPDATE = (  # as migration 0005 made it
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)
_PG_APPEND_ONLY_UPDATE = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
)

# The role's grants, in this schema only (tests and forces may keep several
# ADAPT schemas in one cluster). Skipped with a notice when the role is missing.
_PG_GRANTS = f"""
DO $$
DECLARE s text := current_schema();
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    BEGIN
      CREATE ROLE {APP_ROLE} NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;  -- created meanwhile
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'role {APP_ROLE} not created: this role may not create roles';
        RETURN;
    END;
  END IF;
  BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I '
                   'TO {APP_ROLE}', s);
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO {APP_ROLE}', s);
    EXECUTE format('REVOKE ALL ON %I.audit_log FROM {APP_ROLE}', s);
    EXECUTE format('GRANT SELECT, INSERT ON %I.audit_log TO {APP_ROLE}', s);
    -- to seal entries written without hashes (the triggers allow it once, in order)
    EXECUTE format('GRANT UPDATE (prev_hash, row_hash) ON %I.audit_log TO {APP_ROLE}', s);
    EXECUTE format('REVOKE ALL ON SEQUENCE %s FROM {APP_ROLE}',
                   pg_get_serial_sequence(format('%I.audit_log', s), 'id'));
    EXECUTE format('GRANT USAGE ON SEQUENCE %s TO {APP_ROLE}',
                   pg_get_serial_sequence(format('%I.audit_log', s), 'id'));
    EXECUTE format('REVOKE ALL ON %I.alembic_version FROM {APP_ROLE}', s);
    EXECUTE format('GRANT SELECT ON %I.alembic_version TO {APP_ROLE}', s);
    -- Tables and sequences later migrations create (run by this same owner).
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE '
                   'ON TABLES TO {APP_ROLE}', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE '
                   'ON SEQUENCES TO {APP_ROLE}', s);
  EXCEPTION WHEN insufficient_privilege THEN
    -- e.g. a schema this role does not own: say so, and let the migration finish
    RAISE WARNING 'no grants to {APP_ROLE} made (%): see README, Audit log', SQLERRM;
  END;
END
$$
"""

_PG_REVOKES = f"""
DO $$
DECLARE s text := current_schema();
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES '
                   'FROM {APP_ROLE}', s);
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES '
                   'FROM {APP_ROLE}', s);
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {APP_ROLE}', s);
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM {APP_ROLE}', s);
    EXECUTE format('REVOKE ALL ON SCHEMA %I FROM {APP_ROLE}', s);
  END IF;
END
$$
"""

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime),
    sa.column("username", sa.String),
    sa.column("role", sa.String),
    sa.column("action", sa.String),
    sa.column("person_id", sa.String),
    sa.column("purpose", sa.String),
    sa.column("detail", sa.Text),
    sa.column("prev_hash", sa.String),
    sa.column("row_hash", sa.String),
)


def _chain_existing_rows(conn: sa.Connection) -> None:
    """The chain over the rows already logged, in id order."""
    a = _audit.c
    fields = (a.id, a.at, a.username, a.role, a.action, a.person_id, a.purpose, a.detail)
    rows = conn.execute(sa.select(*fields).order_by(a.id)).all()
    previous = GENESIS_HASH
    for row in rows:
        current = row_hash(previous, **row._asdict())
        conn.execute(
            sa.update(_audit).where(a.id == row.id).values(prev_hash=previous, row_hash=current)
        )
        previous = current


def upgrade() -> None:
    conn = op.get_bind()
    op.add_column("audit_log", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_log", sa.Column("row_hash", sa.String(length=64), nullable=True))
    # 0005's append-only guard would refuse the update that fills the chain in.
    if conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_update ON audit_log")
        _chain_existing_rows(conn)
        op.execute(_PG_FUNCTIONS)
        for statement in _PG_TRIGGERS:
            op.execute(statement)
        op.execute(_PG_GRANTS)
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        _chain_existing_rows(conn)
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_REVOKES)
        for name in ("no_truncate", "chain", "seal", "no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_{name} ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_chain_guard()")
        op.execute("DROP FUNCTION IF EXISTS audit_log_seal_guard()")
        op.execute(_PG_APPEND_ONLY_UPDATE)
    else:
        for name in ("chain", "no_reused_id", "seal", "no_update"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_{name}")
        op.execute(_SQLITE_APPEND_ONLY_UPDATE)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table
    # would lose the append-only triggers of 0005.
    op.drop_column("audit_log", "row_hash")
    op.drop_column("audit_log", "prev_hash")
