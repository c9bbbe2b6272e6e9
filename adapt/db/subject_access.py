"""What is held about one person: their scope (every id and stored row that is
theirs) and, for a subject access request (DPA 2018 Part 3 s.45), every table's
rows about them.

"The person" is a resolved person id as it stands today: the id asked for is
first followed through ``person_redirects`` (an id merged away lives on in the
id it merged into), and the scope then covers that id and every id merged into
it. Their stored rows are:

* every person row assigned to one of those ids (``person_assignments``:
  involvements, a MARAC referral's victim or perpetrator side, management
  records);
* rows no identity run holds (withdrawn or not yet resolved involvements,
  MARAC sides and management records) that carry one of their person
  references, or their forename, surname and date of birth exactly;
* quarantined input rows (``quarantine.raw``) that name them: one of their
  person references as a field, or their forename and surname together with
  their date of birth or one of their incident or referral ids. A rejected row
  with nothing that ties it to them is not treated as theirs.

:func:`person_scope` is what :mod:`adapt.db.erasure` erases, so what a subject
access shows and what an erasure removes are the same rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, or_, select

from adapt.db import bulk, continuity
from adapt.db.app_store import audit_frame
from adapt.db.history import row_key_expr
from adapt.db.models import (
    case_moves,
    cohort_decisions,
    counter_allegation_overrides,
    identity_decisions,
    identity_links,
    imports,
    incidents,
    involvements,
    management,
    marac_referrals,
    person_assignments,
    person_lineage,
    person_redirects,
    person_scores,
    persons,
    plan_entries,
    quarantine,
    review_people,
    reviews,
    score_runs,
)
from adapt.exports import write_table

CHUNK = 500
SIDES = ("victim", "perpetrator")
PERSON_FILES = ("involvements.csv", "marac.csv", "management.csv")


class UnknownPerson(LookupError):
    """No stored person has this id (or it was erased). The message names the
    id only."""


@dataclass(frozen=True)
class PersonScope:
    """Every id and stored row that belongs to one person."""

    person_id: str  # the id as it stands today
    asked: str  # the id asked for (may be one merged into person_id)
    ids: tuple[str, ...]  # person_id and every id merged into it
    row_keys: tuple[str, ...]  # their person rows' keys
    involvement_ids: tuple[int, ...]
    marac: pd.DataFrame  # id, side (victim | perpetrator)
    management_ids: tuple[int, ...]
    quarantine_ids: tuple[int, ...]
    incident_ids: tuple[str, ...]  # the incidents they are named on
    # Other person ids holding a row with one of their person references or
    # their exact name and date of birth: the identity engine (or an analyst)
    # kept them apart, so they are not in the scope, but a person should check.
    related_ids: tuple[str, ...] = ()


def chunks(values: list | tuple, size: int = CHUNK) -> list[list]:
    """``values`` in lists of at most ``size`` (no unbounded IN lists)."""
    values = list(values)
    return [values[i : i + size] for i in range(0, len(values), size)]


def _read(conn: Connection, stmt, columns: list[str], dates: tuple[str, ...] = ()) -> pd.DataFrame:
    return bulk.read_frame(conn, stmt, columns, dates=dates)


def _read_in(
    conn: Connection, make, values: list | tuple, columns: list[str], dates: tuple[str, ...] = ()
) -> pd.DataFrame:
    """``make(chunk)`` for each chunk of ``values``, read and concatenated."""
    parts = [_read(conn, make(part), columns, dates) for part in chunks(values)]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(parts, ignore_index=True)


def _split_keys(keys: pd.Series) -> tuple[list[int], pd.DataFrame, list[int]]:
    """Row keys into involvement ids, MARAC (id, side) and management ids."""
    parts = keys.astype("string").str.split(":", expand=True).reindex(columns=[0, 1, 2])
    table, number, side = parts[0], pd.to_numeric(parts[1], errors="coerce"), parts[2]
    inv = sorted(number[table == "involvements"].dropna().astype("int64").tolist())
    mgt = sorted(number[table == "management"].dropna().astype("int64").tolist())
    is_marac = (table == "marac_referrals") & number.notna() & side.isin(SIDES)
    marac = pd.DataFrame(
        {"id": number[is_marac].astype("int64"), "side": side[is_marac].astype("string")}
    ).reset_index(drop=True)
    return inv, marac, mgt


def _identifiers(
    conn: Connection, inv: list[int], marac: pd.DataFrame, mgt: list[int]
) -> pd.DataFrame:
    """person_ref, forename, surname, date_of_birth of the person's rows."""
    v, m, g = involvements.c, marac_referrals.c, management.c
    cols = ["person_ref", "forename", "surname", "date_of_birth"]
    frames = [
        _read_in(
            conn,
            lambda ids: select(v.person_ref, v.forename, v.surname, v.date_of_birth).where(
                v.id.in_(ids)
            ),
            inv,
            cols,
            ("date_of_birth",),
        ),
        _read_in(
            conn,
            lambda ids: select(g.person_ref, g.forename, g.surname, g.date_of_birth).where(
                g.id.in_(ids)
            ),
            mgt,
            cols,
            ("date_of_birth",),
        ),
    ]
    for side in SIDES:
        ids = marac.loc[marac["side"] == side, "id"].tolist()
        frames.append(
            _read_in(
                conn,
                lambda part, s=side: select(
                    m[f"{s}_person_ref"],
                    m[f"{s}_forename"],
                    m[f"{s}_surname"],
                    m[f"{s}_date_of_birth"],
                ).where(m.id.in_(part)),
                ids,
                cols,
                ("date_of_birth",),
            )
        )
    found = (
        pd.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else pd.DataFrame(columns=cols)
    )
    for name in ("person_ref", "forename", "surname"):
        found[name] = found[name].astype("string").str.strip().str.lower()
    found["date_of_birth"] = pd.to_datetime(found["date_of_birth"])
    return found.drop_duplicates().reset_index(drop=True)


def _same_person(frame: pd.DataFrame, known: pd.DataFrame) -> pd.Series:
    """Rows of ``frame`` (person_ref, forename, surname, date_of_birth) that
    carry one of ``known``'s person references or its exact name and birth date."""
    if frame.empty or known.empty:
        return pd.Series(False, index=frame.index)
    refs = set(known["person_ref"].dropna())
    ref = frame["person_ref"].astype("string").str.strip().str.lower()
    by_ref = ref.isin(refs).fillna(False).astype(bool)
    full = known.dropna(subset=["forename", "surname", "date_of_birth"])
    if full.empty:
        return by_ref
    keys = pd.DataFrame(
        {
            "forename": frame["forename"].astype("string").str.strip().str.lower(),
            "surname": frame["surname"].astype("string").str.strip().str.lower(),
            "date_of_birth": pd.to_datetime(frame["date_of_birth"]),
        },
        index=frame.index,
    )
    hit = keys.reset_index().merge(
        full[["forename", "surname", "date_of_birth"]].drop_duplicates(),
        on=["forename", "surname", "date_of_birth"],
    )["index"]
    return by_ref | frame.index.isin(hit)


def _unassigned_rows(
    conn: Connection, known: pd.DataFrame
) -> tuple[list[int], pd.DataFrame, list[int]]:
    """Rows no identity run holds (withdrawn, unresolved) that are the person's."""
    a = person_assignments.c
    v, m, g = involvements.c, marac_referrals.c, management.c
    cols = ["id", "person_ref", "forename", "surname", "date_of_birth"]
    dates = ("date_of_birth",)
    inv = _read(
        conn,
        select(v.id, v.person_ref, v.forename, v.surname, v.date_of_birth)
        .outerjoin(person_assignments, a.row_key == _key("involvements:", v.id))
        .where(a.row_key.is_(None)),
        cols,
        dates,
    )
    mgt = _read(
        conn,
        select(g.id, g.person_ref, g.forename, g.surname, g.date_of_birth)
        .outerjoin(person_assignments, a.row_key == _key("management:", g.id))
        .where(a.row_key.is_(None)),
        cols,
        dates,
    )
    marac_parts = []
    for side in SIDES:
        rows = _read(
            conn,
            select(
                m.id,
                m[f"{side}_person_ref"],
                m[f"{side}_forename"],
                m[f"{side}_surname"],
                m[f"{side}_date_of_birth"],
            )
            .outerjoin(person_assignments, a.row_key == _key("marac_referrals:", m.id, side))
            .where(a.row_key.is_(None)),
            cols,
            dates,
        )
        hit = rows[_same_person(rows, known)]
        marac_parts.append(pd.DataFrame({"id": hit["id"].astype("int64"), "side": side}))
    return (
        inv.loc[_same_person(inv, known), "id"].astype("int64").tolist(),
        pd.concat(marac_parts, ignore_index=True),
        mgt.loc[_same_person(mgt, known), "id"].astype("int64").tolist(),
    )


def _key(prefix: str, column, side: str | None = None):  # type: ignore[no-untyped-def]
    """SQL for a record's row key, as the history reader builds it."""
    return row_key_expr(prefix, column, f":{side}" if side else "")


def _quarantined(conn: Connection, known: pd.DataFrame, records: list[str]) -> list[int]:
    """Quarantined rows of the person files that name the person (see the
    module docstring for what counts)."""
    q = quarantine.c
    rows = _read(
        conn,
        select(q.id, q.raw).where(q.source_file.in_(PERSON_FILES), q.raw.is_not(None)),
        ["id", "raw"],
    )
    if rows.empty or known.empty:
        return []
    raw = rows["raw"].astype("string").str.lower().fillna("")

    def field(values: list[str]) -> str:
        alternatives = "|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True))
        return rf"(?<![0-9a-z])(?:{alternatives})(?![0-9a-z])"

    hit = pd.Series(False, index=rows.index)
    refs = [r for r in known["person_ref"].dropna().tolist() if r]
    if refs:
        hit |= raw.str.contains(field(refs), regex=True)
    ties = [r.lower() for r in records if r]
    dobs = known["date_of_birth"].dropna()
    ties += [d.strftime("%Y-%m-%d") for d in dobs] + [d.strftime("%d/%m/%Y") for d in dobs]
    tied = raw.str.contains(field(ties), regex=True) if ties else pd.Series(False, index=raw.index)
    names = known.dropna(subset=["forename", "surname"])[["forename", "surname"]]
    for forename, surname in names.drop_duplicates().itertuples(index=False):
        hit |= (
            tied
            & raw.str.contains(field([forename]), regex=True)
            & raw.str.contains(field([surname]), regex=True)
        )
    return sorted(rows.loc[hit, "id"].astype("int64").tolist())


def _related_ids(conn: Connection, known: pd.DataFrame, ids: tuple[str, ...]) -> tuple[str, ...]:
    """Person ids outside ``ids`` with a row carrying one of ``known``'s person
    references, or its exact (case-insensitive) name and date of birth."""
    refs = sorted(set(known["person_ref"].dropna()))
    full = known.dropna(subset=["forename", "surname", "date_of_birth"]).drop_duplicates(
        ["forename", "surname", "date_of_birth"]
    )
    a = person_assignments.c
    sources = [(involvements, "involvements:", "", ""), (management, "management:", "", "")]
    sources += [(marac_referrals, "marac_referrals:", f":{side}", f"{side}_") for side in SIDES]
    found: set[str] = set()
    for table, prefix, suffix, col in sources:
        c = table.c
        ref, fore, sur, dob = (
            c[f"{col}{n}"] for n in ("person_ref", "forename", "surname", "date_of_birth")
        )
        same = [func.lower(ref).in_(part) for part in chunks(refs)] + [
            and_(func.lower(fore) == f, func.lower(sur) == s_, dob == d.date())
            for f, s_, d in full[["forename", "surname", "date_of_birth"]].itertuples(index=False)
        ]
        if not same:
            continue
        key = row_key_expr(prefix, c.id, suffix)
        stmt = (
            select(a.person_id)
            .select_from(table)
            .join(person_assignments, a.row_key == key)
            .where(or_(*same))
            .distinct()
        )
        found.update(conn.execute(stmt).scalars())
    return tuple(sorted(found - set(ids)))


def person_scope(conn: Connection, person_id: str) -> PersonScope:
    """The scope of ``person_id`` (see the module docstring).

    Raises :class:`UnknownPerson` when no stored person has the id, or when it
    was erased."""
    asked = str(person_id).strip()
    current = continuity.current_person_id(conn, asked)
    status = conn.execute(select(persons.c.status).where(persons.c.person_id == current)).scalar()
    if status is None:
        raise UnknownPerson(f"{asked} is not a known person id")
    if status == "erased":
        raise UnknownPerson(f"{asked} was erased")
    r = person_redirects.c
    absorbed = conn.execute(
        select(r.person_id).where(r.current_person_id == current).order_by(r.person_id)
    ).scalars()
    ids = (current, *[i for i in absorbed if i != current])
    a = person_assignments.c
    keys = _read_in(
        conn, lambda part: select(a.row_key).where(a.person_id.in_(part)), ids, ["row_key"]
    )["row_key"].astype("string")
    inv, marac, mgt = _split_keys(keys)
    known = _identifiers(conn, inv, marac, mgt)
    more_inv, more_marac, more_mgt = _unassigned_rows(conn, known)
    inv = sorted(set(inv) | set(more_inv))
    mgt = sorted(set(mgt) | set(more_mgt))
    marac = pd.concat([marac, more_marac], ignore_index=True).drop_duplicates()
    marac = marac.astype({"id": "int64", "side": "string"}).sort_values(["id", "side"])
    v, m = involvements.c, marac_referrals.c
    incident_ids = _read_in(
        conn, lambda part: select(v.incident_id).where(v.id.in_(part)), inv, ["incident_id"]
    )["incident_id"]
    referral_ids = _read_in(
        conn,
        lambda part: select(m.referral_id).where(m.id.in_(part)),
        sorted(set(marac["id"].tolist())),
        ["referral_id"],
    )["referral_id"]
    records = [*incident_ids.dropna().astype(str), *referral_ids.dropna().astype(str)]
    all_keys = [
        *[f"involvements:{i}" for i in inv],
        *[f"marac_referrals:{i}:{s}" for i, s in marac.itertuples(index=False)],
        *[f"management:{i}" for i in mgt],
    ]
    return PersonScope(
        person_id=current,
        asked=asked,
        ids=tuple(ids),
        row_keys=tuple(sorted(set(all_keys) | set(keys.dropna().tolist()))),
        involvement_ids=tuple(inv),
        marac=marac.reset_index(drop=True),
        management_ids=tuple(mgt),
        quarantine_ids=tuple(_quarantined(conn, known, records)),
        incident_ids=tuple(sorted(set(incident_ids.dropna().astype(str)))),
        related_ids=_related_ids(conn, known, ids),
    )


# ------------------------------------------------------------ the tables
# Sheet name -> what it holds, in the order they are written.
SHEETS: dict[str, str] = {
    "person": "the person id, the ids merged into it and their status",
    "involvements": "every incident record naming them (their own columns only)",
    "incidents": "the incidents they are named on",
    "marac_referrals": "MARAC referrals naming them (their side only)",
    "management": "management records (IOM and others) about them",
    "quarantine": "rejected input rows that name them",
    "identity_decisions": "analysts' decisions about whether their records are one person",
    "identity_links": "the identity engine's comparisons of their records",
    "identity_lineage": "merges and splits of their person id",
    "scores": "every stored score of theirs, with the run it came from",
    "cohort_decisions": "decisions to adopt or decline them",
    "plan_entries": "their management plan, every version",
    "case_moves": "moves of their decisions and plan entries between person ids",
    "reviews": "their place in each stored review of the cohort (rank, score, alerts)",
    "counter_allegations": "officers' labels of who was the aggressor in a counter-allegation",
    "audit_log": "who opened, searched, exported or changed their record, when and why",
}


def _rows(conn: Connection, table, where) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Every column of ``table`` for the rows matching each ``where(chunk)``."""
    cols = [c.name for c in table.columns]
    found = []
    for clause in where:
        result = conn.execute(select(table).where(clause))
        found.extend(result.all())
    return pd.DataFrame(found, columns=cols).drop_duplicates().reset_index(drop=True)


def _by(column, values) -> list:  # type: ignore[no-untyped-def]
    return [column.in_(part) for part in chunks(list(values))]


def subject_access_tables(
    engine: Engine, person_id: str
) -> tuple[PersonScope, dict[str, pd.DataFrame]]:
    """The person's scope and, per :data:`SHEETS` entry, the rows held about
    them. Other people's names on the same records are left out (a MARAC
    referral shows only the person's side; incidents carry no names).

    Raises :class:`UnknownPerson` for an unknown or erased id."""
    with engine.connect() as conn:
        scope = person_scope(conn, person_id)
        keys, ids = scope.row_keys, scope.ids
        out: dict[str, pd.DataFrame] = {}
        people = _rows(conn, persons, _by(persons.c.person_id, ids))
        people["merged_into"] = people["person_id"].where(
            people["person_id"] == scope.person_id, scope.person_id
        )
        people.loc[people["person_id"] == scope.person_id, "merged_into"] = None
        out["person"] = people
        out["involvements"] = _rows(
            conn, involvements, _by(involvements.c.id, scope.involvement_ids)
        )
        out["incidents"] = _rows(conn, incidents, _by(incidents.c.incident_id, scope.incident_ids))
        m = marac_referrals.c
        sides = []
        shared = ["referral_id", "referral_date", "meeting_date", "flagged_at", "referring_agency"]
        for side in SIDES:
            side_ids = scope.marac.loc[scope.marac["side"] == side, "id"].tolist()
            own = ["person_ref", "forename", "surname", "date_of_birth"]
            stmt_cols = [m[c] for c in shared] + [m[f"{side}_{c}"] for c in own]
            rows = [
                r
                for part in chunks(side_ids)
                for r in conn.execute(select(*stmt_cols).where(m.id.in_(part))).all()
            ]
            sides.append(pd.DataFrame(rows, columns=shared + own).assign(side=side))
        out["marac_referrals"] = pd.concat(sides, ignore_index=True)
        out["management"] = _rows(conn, management, _by(management.c.id, scope.management_ids))
        q = quarantine.c
        found = _rows(conn, quarantine, _by(q.id, scope.quarantine_ids))
        loaded = _rows(conn, imports, _by(imports.c.id, set(found["import_id"].tolist())))
        out["quarantine"] = found.drop(columns=["problem_hash"]).merge(
            loaded[["id", "started_at"]].rename(
                columns={"id": "import_id", "started_at": "loaded_at"}
            ),
            on="import_id",
            how="left",
        )
        d = identity_decisions.c
        out["identity_decisions"] = _rows(
            conn, identity_decisions, _by(d.row_key_l, keys) + _by(d.row_key_r, keys)
        )
        lk = identity_links.c
        out["identity_links"] = _rows(
            conn, identity_links, _by(lk.row_key_l, keys) + _by(lk.row_key_r, keys)
        )
        lin = person_lineage.c
        out["identity_lineage"] = _rows(
            conn, person_lineage, _by(lin.person_id, ids) + _by(lin.other_person_id, ids)
        )
        s, run = person_scores.c, score_runs.c
        score_cols = [c for c in person_scores.columns]
        run_cols = [run.created_at, run.as_of, run.settings_name, run.settings_version]
        rows = [
            r
            for part in chunks(ids)
            for r in conn.execute(
                select(*score_cols, *run_cols)
                .join_from(person_scores, score_runs, s.run_id == run.id)
                .where(s.person_id.in_(part))
                .order_by(s.run_id)
            ).all()
        ]
        out["scores"] = pd.DataFrame(
            rows,
            columns=[c.name for c in score_cols]
            + ["run_created_at", "as_of", "settings_name", "settings_version"],
        )
        out["cohort_decisions"] = _rows(
            conn, cohort_decisions, _by(cohort_decisions.c.person_id, ids)
        )
        out["plan_entries"] = _rows(conn, plan_entries, _by(plan_entries.c.person_id, ids))
        mv = case_moves.c
        out["case_moves"] = _rows(
            conn, case_moves, _by(mv.from_person_id, ids) + _by(mv.to_person_id, ids)
        )
        rv, rvp = reviews.c, review_people.c
        rows = [
            r
            for part in chunks(ids)
            for r in conn.execute(
                select(*review_people.columns, rv.as_of, rv.settings_name, rv.settings_version)
                .join_from(review_people, reviews, rvp.review_id == rv.id)
                .where(rvp.person_id.in_(part))
            ).all()
        ]
        out["reviews"] = pd.DataFrame(
            rows,
            columns=[c.name for c in review_people.columns]
            + ["review_as_of", "settings_name", "settings_version"],
        )
        co = counter_allegation_overrides.c
        out["counter_allegations"] = _rows(
            conn, counter_allegation_overrides, _by(co.person_a, ids) + _by(co.person_b, ids)
        )
    out["audit_log"] = audit_frame(engine, person_id=scope.person_id, limit=10**9)
    for name, frame in out.items():
        sort = [c for c in ("id", "run_id", "review_id", "rank") if c in frame.columns]
        out[name] = frame.sort_values(sort).reset_index(drop=True) if sort else frame
    return scope, {name: out[name] for name in SHEETS}


def write_subject_access(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write the tables as formula-safe CSV files in ``folder`` (created
    private), one per table (``01_person.csv`` ...) and ``index.csv`` listing
    them with their row counts and what each holds. Returns the files."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = []
    index = []
    for n, (name, frame) in enumerate(tables.items(), start=1):
        path = folder / f"{n:02d}_{name}.csv"
        written.append(write_table(frame, path))
        index.append({"file": path.name, "rows": len(frame), "holds": SHEETS.get(name, "")})
    written.insert(0, write_table(pd.DataFrame(index), folder / "index.csv"))
    return written
