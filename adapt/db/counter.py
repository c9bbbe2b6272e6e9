"""An officer's label of the predominant aggressor of a counter-allegation pair.

Stored in ``counter_allegation_overrides`` with who set it, when and why, and
audited (action ``counter_allegation_label``) in the same transaction. Every
run respects the live labels: :func:`live_overrides` is what
:func:`adapt.db.history.load_history` puts in ``History.counter_overrides``,
and the features use the label instead of the rule for that pair. Clearing a
label keeps its row (cleared_at, cleared_by, clear_reason).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, and_, select, update

from adapt.db.app_store import record_in
from adapt.db.engine import utc_now, writer
from adapt.db.models import counter_allegation_overrides as cao
from adapt.db.models import person_assignments


class UnknownPerson(LookupError):
    """A person id that no stored record resolves to."""


COLUMNS = ("id", "person_a", "person_b", "aggressor", "reason", "set_by", "set_at",
           "cleared_at", "cleared_by", "clear_reason")  # fmt: skip


def _ordered(first: str, second: str) -> tuple[str, str]:
    a, b = str(first), str(second)
    if a == b:
        raise ValueError("a counter-allegation pair is two different people")
    return (a, b) if a < b else (b, a)


def _live(conn: Connection, a: str, b: str) -> int | None:
    stmt = select(cao.c.id).where(
        cao.c.person_a == a, cao.c.person_b == b, cao.c.cleared_at.is_(None)
    )
    return conn.execute(stmt).scalar_one_or_none()


def set_label(
    engine: Engine, person_a: str, person_b: str, *, aggressor: str, reason: str, by: str
) -> int:
    """Label ``aggressor`` (one of the pair) the predominant aggressor of the
    pair, replacing (clearing) a live label of the pair; returns the label's id."""
    a, b = _ordered(person_a, person_b)
    if str(aggressor) not in (a, b):
        raise ValueError("the aggressor must be one of the two people of the pair")
    if not reason.strip():
        raise ValueError("a label needs a reason")
    now = utc_now()
    with writer(engine) as conn:
        known = (
            conn.execute(
                select(person_assignments.c.person_id)
                .where(person_assignments.c.person_id.in_([a, b]))
                .distinct()
            )
            .scalars()
            .all()
        )
        if len(set(known)) < 2:
            raise UnknownPerson("a person id of the pair is not a stored person")
        old = _live(conn, a, b)
        if old is not None:
            conn.execute(
                update(cao)
                .where(cao.c.id == old)
                .values(cleared_at=now, cleared_by=by, clear_reason="replaced by a new label")
            )
        new_id = conn.execute(
            cao.insert().values(person_a=a, person_b=b, aggressor=str(aggressor),
                                reason=reason.strip(), set_by=by, set_at=now)
        ).inserted_primary_key[0]  # fmt: skip
        detail = f"set label {new_id}: pair {a} and {b}, predominant {aggressor}"
        record_in(conn, username=by, action="counter_allegation_label",
                  person_id=str(aggressor), detail=detail)  # fmt: skip
    return int(new_id)


def clear_label(engine: Engine, person_a: str, person_b: str, *, reason: str, by: str) -> int:
    """Clear the live label of the pair (the row is kept); returns its id.
    Raises LookupError when the pair has no live label."""
    a, b = _ordered(person_a, person_b)
    if not reason.strip():
        raise ValueError("clearing a label needs a reason")
    with writer(engine) as conn:
        old = _live(conn, a, b)
        if old is None:
            raise LookupError("the pair has no live counter-allegation label")
        conn.execute(
            update(cao)
            .where(cao.c.id == old)
            .values(cleared_at=utc_now(), cleared_by=by, clear_reason=reason.strip())
        )
        record_in(conn, username=by, action="counter_allegation_label", person_id=a,
                  detail=f"cleared label {old}: pair {a} and {b}")  # fmt: skip
    return int(old)


def labels(conn_or_engine: Engine | Connection, *, include_cleared: bool = False) -> pd.DataFrame:
    """The labels (live only by default), oldest first, columns :data:`COLUMNS`."""
    stmt = select(*[cao.c[c] for c in COLUMNS]).order_by(cao.c.id)
    if not include_cleared:
        stmt = stmt.where(cao.c.cleared_at.is_(None))
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            rows = conn.execute(stmt).fetchall()
    else:
        rows = conn_or_engine.execute(stmt).fetchall()
    return pd.DataFrame(rows, columns=list(COLUMNS))


def live_overrides(conn: Connection) -> pd.DataFrame:
    """The live labels as ``History.counter_overrides`` (person_a, person_b, aggressor)."""
    stmt = select(cao.c.person_a, cao.c.person_b, cao.c.aggressor).where(
        and_(cao.c.cleared_at.is_(None))
    )
    return pd.DataFrame(
        conn.execute(stmt).fetchall(), columns=["person_a", "person_b", "aggressor"]
    )
