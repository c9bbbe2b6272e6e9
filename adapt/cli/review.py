"""``adapt review``: store a review of the cohort with the approved settings.

A review is the four-weekly look at the cohort (issue 14): the cohort as of a
date under the live (approved) settings, stored so that ``adapt export review``
can say what changed since the review before it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer

from adapt import pipeline
from adapt.cli.common import DbOption, disk_full_exits, fail, open_db, os_user
from adapt.db.settings_store import live_settings


def review(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The review's date (default: the latest incident date).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Store a review of the cohort as of a date with the approved settings."""
    engine = open_db(db)
    settings, words = live_settings(engine)
    typer.echo(f"settings: {words}")
    with disk_full_exits(engine):
        try:
            result = pipeline.review(engine, as_of=as_of, settings=settings, username=os_user())
        except ValueError as exc:
            fail(2, str(exc))
    due = result.as_of + timedelta(days=settings.cycle.review_interval_days)
    typer.echo(
        f"review {result.review_id} as of {result.as_of.isoformat()}: "
        f"{result.in_cohort} in the cohort of {result.people} people scored; "
        f"the next review is due on {due.isoformat()} (every "
        f"{settings.cycle.review_interval_days} days). What changed since the review "
        "before: adapt export review --out FILE --purpose TEXT"
    )


TOP_LEVEL = {"review": review}
