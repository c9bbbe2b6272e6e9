"""``adapt counter-allegation``: an officer's label of who is the predominant
aggressor in a counter-allegation pair, with a reason; every run respects it.

``set PERSON_A PERSON_B --aggressor PERSON --reason R`` labels the pair (a
live label of the pair is cleared and replaced), ``clear PERSON_A PERSON_B
--reason R`` clears it (the row is kept), ``list`` shows the labels (``--all``
with the cleared ones). Setting and clearing are audited
(``counter_allegation_label``) with the operating-system user in the same
transaction. Exit codes: 0 done; 1 refused (not one of the pair, no reason,
an unknown person, no live label to clear); 2 a database that cannot be
reached.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapt.cli.common import DbOption, disk_full_exits, fail, open_db, os_user
from adapt.db import counter as store

app = typer.Typer(help="Counter-allegation labels set by an officer.", no_args_is_help=True)

PersonArg = Annotated[str, typer.Argument(help="A person id of the pair, e.g. P000123.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept with the label).")]


@app.command("set")
def set_label(
    person_a: PersonArg,
    person_b: PersonArg,
    aggressor: Annotated[
        str, typer.Option("--aggressor", help="The person id of the predominant aggressor.")
    ],
    reason: ReasonOpt,
    db: DbOption = None,
) -> None:
    """Label the predominant aggressor of the pair; features use it instead of the rule."""
    engine = open_db(db)
    try:
        with disk_full_exits(engine):
            label_id = store.set_label(
                engine, person_a, person_b, aggressor=aggressor, reason=reason, by=os_user()
            )
    except (ValueError, LookupError) as exc:
        fail(1, str(exc))
    typer.echo(f"label {label_id}: {aggressor} is the predominant aggressor of the pair")


@app.command("clear")
def clear_label(person_a: PersonArg, person_b: PersonArg, reason: ReasonOpt,
                db: DbOption = None) -> None:  # fmt: skip
    """Clear the pair's label (kept on record); the rule decides the pair again."""
    engine = open_db(db)
    try:
        with disk_full_exits(engine):
            label_id = store.clear_label(engine, person_a, person_b, reason=reason, by=os_user())
    except (ValueError, LookupError) as exc:
        fail(1, str(exc))
    typer.echo(f"label {label_id} cleared")


@app.command("list")
def list_labels(
    all_: Annotated[bool, typer.Option("--all", help="Cleared labels too.")] = False,
    db: DbOption = None,
) -> None:
    """The labels, oldest first (tab-separated)."""
    engine = open_db(db)
    rows = store.labels(engine, include_cleared=all_)
    if not len(rows):
        typer.echo("no labels")
        return
    cols = ["id", "person_a", "person_b", "aggressor", "set_by", "set_at", "reason"]
    if all_:
        cols += ["cleared_at", "cleared_by", "clear_reason"]
    typer.echo("\t".join(cols))
    for row in rows[cols].itertuples(index=False):
        typer.echo("\t".join("" if v is None or v != v else str(v) for v in row))
