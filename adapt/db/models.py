"""Table definitions: the stored form of the extract contract, its provenance and
the import history.

Every stored record carries its provenance: the import that first wrote it,
the import that last wrote it, and the file and row it came from then. Loads
never delete: a record missing from a newer extract keeps its last stored form.

The bulk tables (incidents, involvements, MARAC, management) have no row-level
foreign keys: on PostgreSQL each is a per-row trigger, and they tripled the
time of a million-row load. The loader enforces the same rules set-wise inside
the import's transaction (``load._check_integrity``), and nothing deletes.

On PostgreSQL the tables that grow with the data are partitioned (migration
0019, which says why): incidents and involvements by hash of ``incident_id``,
person_scores by hash of ``run_id``, :data:`PG_PARTITIONS` partitions each
(``<table>_p00`` ..). PostgreSQL needs the partition key in the primary key, so
there the key of incidents and involvements is ``(id, incident_id)``; ``id``
still comes from its sequence alone. SQLite ignores the ``postgresql_*``
arguments below: its tables are as before.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

# Named constraints so alembic's batch mode on SQLite can alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

PG_PARTITIONS = 16  # hash partitions of each partitioned table (migration 0019)


def _provenance() -> list[Column]:
    return [
        Column("row_hash", BigInteger, nullable=False),
        Column("first_import_id", Integer, nullable=False),
        Column("import_id", Integer, nullable=False),
        Column("source_file", String(100), nullable=False),
        Column("source_row", BigInteger, nullable=False),
    ]


imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("folder", Text, nullable=False),
    Column("strict", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
)

import_files = Table(
    "import_files",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False, index=True),
    Column("file_name", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("records", BigInteger, nullable=False),
    Column("loaded", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Column("unchanged", BigInteger, nullable=False),
    Column("quarantined", BigInteger, nullable=False),
    Column("ignored_columns", Text, nullable=True),
    Column("withdrawn", BigInteger, nullable=True),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(100), nullable=False, unique=True),
    Column("occurred_at", DateTime, nullable=False),
    Column("offence", String(40), nullable=False),
    Column("is_crime", Boolean, nullable=False),
    Column("address", Text),
    Column("postcode", String(16)),
    Column("dash_risk", String(10)),
    Column("injury", String(10)),
    Column("weapon", Boolean),
    Column("children_present", Boolean),
    Column("outcome", String(30)),
    Column("area", String(100)),
    *_provenance(),
    # PostgreSQL: primary key (id, incident_id), PG_PARTITIONS partitions.
    postgresql_partition_by="HASH (incident_id)",
)

involvements = Table(
    "involvements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(100), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("role", String(10), nullable=False),
    Column("person_ref", String(100)),
    Column("forename", String(200)),
    Column("surname", String(200)),
    Column("date_of_birth", Date),
    Column("gender", String(1)),
    Column("home_address", Text),
    Column("home_postcode", String(16)),
    Column("relationship", String(20)),
    *_provenance(),
    # Set when a newer extract lists the incident without this person: the
    # force removed them from it. The record is kept, never deleted.
    Column("withdrawn_import_id", Integer, nullable=True),
    UniqueConstraint("incident_id", "seq", name="uq_involvements_incident_seq"),
    # PostgreSQL: primary key (id, incident_id), PG_PARTITIONS partitions, each
    # in the same-numbered partition as its incident.
    postgresql_partition_by="HASH (incident_id)",
)

marac_referrals = Table(
    "marac_referrals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("referral_id", String(100), nullable=False, unique=True),
    Column("referral_date", Date, nullable=False),
    Column("meeting_date", Date),
    Column("flagged_at", Date),
    Column("victim_person_ref", String(100)),
    Column("victim_forename", String(200)),
    Column("victim_surname", String(200)),
    Column("victim_date_of_birth", Date),
    Column("perpetrator_person_ref", String(100)),
    Column("perpetrator_forename", String(200)),
    Column("perpetrator_surname", String(200)),
    Column("perpetrator_date_of_birth", Date),
    Column("referring_agency", String(100)),
    *_provenance(),
)

management = Table(
    "management",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("record_key", Text, nullable=False, unique=True),
    Column("person_ref", String(100)),
    Column("forename", String(200)),
    Column("surname", String(200)),
    Column("date_of_birth", Date),
    Column("status", String(20), nullable=False),
    Column("from_date", Date, nullable=False),
    Column("to_date", Date),
    *_provenance(),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False, index=True),
    Column("source_file", String(100), nullable=False),
    Column("source_row", BigInteger, nullable=False),
    Column("column_name", String(100), nullable=True),
    Column("value", Text, nullable=True),
    Column("reason", Text, nullable=False),
    Column("raw", Text, nullable=True),
    # Hash of (file, row, column, reason, raw): the same bad row seen again in
    # a re-load of the same folder is not stored twice.
    Column("problem_hash", BigInteger, nullable=False, unique=True),
)


# Contract file name -> (table, natural key columns).
CONTRACT_TABLES: dict[str, tuple[Table, tuple[str, ...]]] = {
    "incidents.csv": (incidents, ("incident_id",)),
    "involvements.csv": (involvements, ("incident_id", "seq")),
    "marac.csv": (marac_referrals, ("referral_id",)),
    "management.csv": (management, ("record_key",)),
}


# ---------------------------------------------------------------- identities
#
# A "person row" is any stored record that names a person: an involvement, the
# victim or perpetrator of a MARAC referral, a management record. Its
# row_key ("involvements:17", "marac_referrals:5:victim", "management:3") is
# stable because loads update records in place and never delete them.

identity_runs = Table(
    "identity_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime, nullable=True),
    Column("mode", String(20), nullable=False),  # full | incremental
    Column("model", String(100), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("rows_resolved", BigInteger, nullable=False),
    Column("persons", BigInteger, nullable=False),
    Column("persons_created", BigInteger, nullable=False),
    Column("merges", BigInteger, nullable=False),
    Column("splits", BigInteger, nullable=False),
    # The stored model the run used (identity_models.id); NULL: the packaged model.
    Column("model_id", Integer, nullable=True),
)

# identity_models: every match model trained on the force's own rows, one row a
# version (id), with what it learned and how (figures: prior, m/u per level, EM
# passes and their pair counts) and the model JSON with its sha256. Same rows
# and seed give the same JSON.
identity_models = Table(
    "identity_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trained_at", DateTime, nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("figures", Text, nullable=False),
    Column("model", Text, nullable=False),
)

persons = Table(
    "persons",
    metadata,
    Column("person_id", String(20), primary_key=True),
    Column("created_run_id", Integer, ForeignKey("identity_runs.id"), nullable=False),
    # active | merged (its rows now belong to another person) | split-off rows
    # keep the id; a person whose rows all left is "retired".
    Column("status", String(10), nullable=False),
    Column("rows", BigInteger, nullable=False),
)

person_assignments = Table(
    "person_assignments",
    metadata,
    Column("row_key", String(120), primary_key=True),
    Column("person_id", String(20), nullable=False, index=True),
    Column("run_id", Integer, nullable=False),
    # The record's hash when it was resolved: a changed record is resolved again.
    Column("row_hash", BigInteger, nullable=False),
)

person_lineage = Table(
    "person_lineage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("identity_runs.id"), nullable=False, index=True),
    Column("event", String(10), nullable=False),  # merged | split
    Column("person_id", String(20), nullable=False, index=True),  # the id that lost rows
    Column("other_person_id", String(20), nullable=False, index=True),  # where they went
    Column("rows_moved", BigInteger, nullable=False),
    # Why (migration 0008): the analyst decision that caused the event, if
    # any, else the guard that kept the rows apart (a split), else automatic.
    Column("decision_id", Integer, nullable=True),
    Column("cause", Text, nullable=True),
)

identity_decisions = Table(
    "identity_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("row_key_l", String(120), nullable=False),
    Column("row_key_r", String(120), nullable=False),
    Column("decision", String(10), nullable=False),  # same | not_same
    Column("author", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
    Column("revoked_by", String(100), nullable=True),
    Column("revoke_reason", Text, nullable=True),
)

identity_links = Table(
    "identity_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False),
    Column("row_key_l", String(120), nullable=False, index=True),
    Column("row_key_r", String(120), nullable=False, index=True),
    Column("match_weight", Float, nullable=True),
    Column("match_probability", Float, nullable=True),
    Column("context_weight", Float, nullable=False),
    Column("final_weight", Float, nullable=True),
    Column("accepted", Boolean, nullable=False),
    Column("decision", String(100), nullable=False),
    # Per-comparison weights and levels, as JSON: the explanation of the link.
    Column("detail", Text, nullable=True),
)

identity_review = Table(
    "identity_review",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, nullable=False, index=True),
    Column("kind", String(20), nullable=False),  # link | cluster
    Column("priority", Float, nullable=False),
    Column("person_id", String(20), nullable=True),
    Column("row_key_l", String(120), nullable=True),
    Column("row_key_r", String(120), nullable=True),
    Column("reason", Text, nullable=False),
)


# ------------------------------------------------------------------- scoring
#
# settings_versions: every saved settings object (name + version unique), with
# its author and reason. score_runs: one per `adapt score`, with the settings it
# used as a JSON snapshot. person_scores: the ranked table of that run, with
# the score's parts, so what a user saw can always be shown again.

settings_versions = Table(
    "settings_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("version", String(40), nullable=False),
    Column("author", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("saved_at", DateTime, nullable=False),
    # approval (0011): a draft until a second person approves or rejects it;
    # the live version is the latest approved (adapt.db.settings_store)
    Column("status", String(10), nullable=False, server_default="draft"),
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", DateTime, nullable=True),
    Column("decision_reason", Text, nullable=True),
    UniqueConstraint("name", "version", name="uq_settings_versions_name_version"),
    CheckConstraint("status IN ('draft', 'approved', 'rejected')", name="status"),
    CheckConstraint("decided_by IS NULL OR decided_by <> author", name="second_person"),
)

score_runs = Table(
    "score_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("settings_name", String(100), nullable=False),
    Column("settings_version", String(40), nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("identity_run_id", Integer, nullable=True),
    Column("persons", BigInteger, nullable=False),
    Column("in_cohort", BigInteger, nullable=False),
    Column("unresolved_rows", BigInteger, nullable=False),
)

PERSON_SCORE_FLOATS = (
    "score", "score_recency", "score_frequency", "score_gravity", "score_serial",
    "score_frequency_escalation", "score_severity_escalation", "score_markers", "score_marac",
    "harm_window", "score_serious_history",
)  # fmt: skip
PERSON_SCORE_INTS = (
    "attendances_window", "days_since_last", "victims_window", "new_victims_window",
    "victims_serial_window", "marac_repeats_window", "late_flag_repeats_total",
)  # fmt: skip
PERSON_SCORE_BOOLS = (
    "in_cohort", "serial", "frequency_escalating", "severity_escalating", "new_partner_alert",
    "counter_allegation",
)  # fmt: skip

person_scores = Table(
    "person_scores",
    metadata,
    Column("run_id", Integer, ForeignKey("score_runs.id"), primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("person_id", String(20), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    *[Column(c, Float, nullable=False) for c in PERSON_SCORE_FLOATS],
    *[Column(c, Integer, nullable=False) for c in PERSON_SCORE_INTS],
    *[Column(c, Boolean, nullable=False) for c in PERSON_SCORE_BOOLS],
    Column("last_incident_at", DateTime, nullable=True),
    Column("counter_role", String(20), nullable=True),
    Column("already_managed", String(60), nullable=True),
    # Every run's cohort rows (people.first_in_cohort), not every run's whole
    # ranking; the predicate as SQLAlchemy writes that query's .is_(True).
    Index(
        "ix_person_scores_in_cohort",
        "person_id",
        "run_id",
        sqlite_where=text("in_cohort IS 1"),
        postgresql_where=text("in_cohort IS TRUE"),
    ),
    postgresql_partition_by="HASH (run_id)",  # PG_PARTITIONS partitions
)


# ------------------------------------------------------------------------ app
#
# app_users: the local user list (the demo and forces without OIDC); roles are
# always read from here, also for OIDC sign-ins. audit_log: append-only (a
# trigger refuses UPDATE and DELETE on both databases). cohort_decisions: a
# person adopts or declines someone, with the score they saw. plan_entries:
# the management plan; an edit adds a new version of the entry, never
# overwrites one.

app_users = Table(
    "app_users",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

# app_sessions: one row per browser sign-in; the cookie carries a random token
# whose SHA-256 is the key, so the table alone cannot be replayed. Idle and
# absolute timeouts are judged from last_seen_at and created_at.
app_sessions = Table(
    "app_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(100), nullable=False, index=True),
    Column("method", String(20), nullable=False),  # password | single sign-on
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
    Column("ended_at", DateTime, nullable=True),
    Column("end_reason", String(20), nullable=True),  # signed out | idle | absolute | ...
)

# sign_in_attempts: failures in a row per attempted user name (an account's
# name, or a short hash of a name that is none), for back-off and lockout; the
# same bookkeeping for unknown names, so a refusal never tells them apart.
sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("attempt_key", String(100), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime, nullable=True),
    Column("locked_until", DateTime, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("username", String(100), nullable=False),
    Column("role", String(20), nullable=True),
    Column("action", String(40), nullable=False),
    Column("person_id", String(20), nullable=True, index=True),
    Column("purpose", String(100), nullable=True),
    Column("detail", Text, nullable=True),
    # The hash chain (migration 0010, adapt.db.app_store.row_hash): the previous
    # entry's row_hash, and sha256 over it and this entry's own fields.
    Column("prev_hash", String(64), nullable=True),
    Column("row_hash", String(64), nullable=True),
)

cohort_decisions = Table(
    "cohort_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(20), nullable=False, index=True),
    Column("decision", String(10), nullable=False),  # adopted | declined | ended
    Column("author", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_at", DateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("settings_name", String(100), nullable=False),
    Column("settings_version", String(40), nullable=False),
    Column("score", Float, nullable=False),
    Column("score_snapshot", Text, nullable=False),
    # decision "ended" (migration 0017): how the management ended, one of
    # adapt.db.app_store.EXIT_STATES; empty on adopt and decline.
    Column("exit_state", String(20), nullable=True),
)

plan_entries = Table(
    "plan_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_id", String(20), nullable=False, index=True),
    Column("entry_key", String(40), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("pathway", String(60), nullable=True),
    Column("kind", String(20), nullable=False),  # intervention | action | review | note
    Column("text", Text, nullable=False),
    Column("owner", String(100), nullable=True),
    Column("due_date", Date, nullable=True),
    Column("status", String(20), nullable=False),  # open | done | cancelled
    Column("author", String(100), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    UniqueConstraint("entry_key", "version", name="uq_plan_entries_entry_key_version"),
)


# ---------------------------------------------------------- case continuity
#
# person_redirects: where each merged-away person id now lives (one row per
# absorbed id, kept current when its target is itself absorbed later): how an
# old id in the append-only audit log is read as today's person.
# case_moves: every cohort decision or plan entry moved from one person id to
# another, by an identity run (a merge) or by an analyst (after a split).

person_redirects = Table(
    "person_redirects",
    metadata,
    Column("person_id", String(20), primary_key=True),  # the absorbed id
    Column("current_person_id", String(20), nullable=False, index=True),
    Column("run_id", Integer, nullable=False),  # the run that last set it
)

case_moves = Table(
    "case_moves",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("moved_at", DateTime, nullable=False),
    Column("run_id", Integer, nullable=True),  # the identity run (a merge), else None
    Column("item_kind", String(20), nullable=False),  # cohort_decision | plan_entry
    Column("item_ref", String(40), nullable=False),  # decision id | plan entry key
    Column("from_person_id", String(20), nullable=False, index=True),
    Column("to_person_id", String(20), nullable=False, index=True),
    Column("author", String(100), nullable=False),
    Column("reason", Text, nullable=False),
)


# ------------------------------------------------------- erasure (MoPI, DPA)
#
# erasures: one row per `adapt erase` (adapt.db.erasure), with who, when, why
# and how many rows of each table it changed (JSON). It never holds the person
# id or anything about the person: the audit log's "erasure" entry names the id
# and the erasure number. An erased involvement keeps its place on the incident
# with withdrawn_import_id = -erasures.id (imports have positive ids).

erasures = Table(
    "erasures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("erased_at", DateTime, nullable=False),
    Column("erased_by", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("counts", Text, nullable=False),
)


# ------------------------------------------------------- calibration evidence
#
# calibration_evidence: what `adapt calibrate` measured for the draft settings
# version it saved (settings_name, settings_version): per rolling origin (role
# fit or held_out) and method (draft, live, the baselines, the oracles) the
# share of next-year harm and incidents the top K captured; role "spread" rows
# (origin NULL) carry the mean, least and most harm share over the origins.
# No person is named.

calibration_evidence = Table(
    "calibration_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("settings_name", String(100), nullable=False, index=True),
    Column("settings_version", String(40), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("origin", Date, nullable=True),
    Column("role", String(12), nullable=False),
    Column("method", String(40), nullable=False),
    Column("k", Integer, nullable=False),
    Column("harm_share", Float, nullable=False),
    Column("incident_share", Float, nullable=True),
    Column("people", Integer, nullable=True),
    Column("harm_share_min", Float, nullable=True),
    Column("harm_share_max", Float, nullable=True),
    Column("stored_at", DateTime, nullable=False),
)


# --------------------------------------------- learned models
#
# learned_models: each version of the learned model `adapt calibrate` trained
# on the force's own stored history (adapt.db.learned_models): the model as
# JSON (coefficients and scaling), its fit and held-out as-of dates, its
# out-of-time figures, calibration table and fairness-by-sex audit (counts per
# group) as JSON, and its card. Advice beside the RFG score. No person is named.

learned_models = Table(
    "learned_models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(40), nullable=False, unique=True),
    Column("as_of", Date, nullable=False),
    Column("target", String(40), nullable=False),
    Column("fit_origins", String(200), nullable=False),
    Column("held_out_origin", Date, nullable=False),
    Column("auc_any_incident", Float, nullable=True),
    Column("capture_k100", Float, nullable=True),
    Column("model_json", Text, nullable=False),
    Column("evidence_json", Text, nullable=False),
    Column("card", Text, nullable=False),
    Column("stored_by", String(100), nullable=False),
    Column("stored_at", DateTime, nullable=False),
)


# --------------------------------------------- counter-allegation overrides
#
# counter_allegation_overrides: an officer's label of the predominant aggressor
# of a counter-allegation pair (adapt.db.counter), with who, when and why.
# person_a < person_b (the pair in one order). Clearing a label keeps the row
# (cleared_at, cleared_by, clear_reason); the live label of a pair is its row
# with cleared_at NULL (at most one).

counter_allegation_overrides = Table(
    "counter_allegation_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("person_a", String(20), nullable=False, index=True),
    Column("person_b", String(20), nullable=False, index=True),
    Column("aggressor", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("set_by", String(100), nullable=False),
    Column("set_at", DateTime, nullable=False),
    Column("cleared_at", DateTime, nullable=True),
    Column("cleared_by", String(100), nullable=True),
    Column("clear_reason", Text, nullable=True),
)


# ------------------------------------------------------------------ reviews
#
# reviews: one per `adapt review` (or the Cohort page's "Create a review"): the
# cohort as of a date under the approved settings (a JSON snapshot), who made it
# and when (adapt.db.reviews). review_people: each person scored in it, with
# their rank, score and parts, whether in the cohort, their alerts, the latest
# cohort decision about them when the review was made, and the figures the
# next review's reasons are written from (issue 14). Erased with the person.

REVIEW_FLOATS = (
    "score", "score_recency", "score_frequency", "score_gravity", "score_serial",
    "score_frequency_escalation", "score_severity_escalation", "score_markers", "score_marac",
    "score_serious_history",
)  # fmt: skip
REVIEW_INTS = ("attendances_window", "days_since_last", "incidents_total")
REVIEW_BOOLS = (
    "in_cohort", "alert_new_partner", "alert_marac_repeat", "alert_frequency", "alert_severity",
)  # fmt: skip

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("settings_name", String(100), nullable=False),
    Column("settings_version", String(40), nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("identity_run_id", Integer, nullable=True),
    Column("people", BigInteger, nullable=False),
    Column("in_cohort", BigInteger, nullable=False),
)

review_people = Table(
    "review_people",
    metadata,
    Column("review_id", Integer, ForeignKey("reviews.id"), primary_key=True),
    Column("person_id", String(20), primary_key=True, index=True),
    Column("rank", Integer, nullable=False),
    *[Column(c, Float, nullable=False) for c in REVIEW_FLOATS],
    *[Column(c, Integer, nullable=False) for c in REVIEW_INTS],
    *[Column(c, Boolean, nullable=False) for c in REVIEW_BOOLS],
    Column("last_incident_at", DateTime, nullable=True),
    Column("new_partner_first_at", DateTime, nullable=True),
    Column("last_marac_repeat_at", DateTime, nullable=True),
    Column("already_managed", String(60), nullable=True),
    Column("decision", String(10), nullable=True),  # the latest cohort decision then
    Column("exit_state", String(20), nullable=True),
    Column("reason", Text, nullable=False),
)
