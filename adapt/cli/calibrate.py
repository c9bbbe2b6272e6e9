"""``adapt calibrate``: fit the score's settings on the force's own past.

Reads the stored history (as ``adapt score`` does), searches the part
multipliers on the rolling origins before the as-of date
(:mod:`adapt.evaluation.calibrate`), saves the result as a **draft** settings
version with its evidence (a second person approves it; nothing goes live
here), prints the evidence and, with ``--out``, writes the draft as a
settings JSON that ``--settings`` accepts.

It also trains the learned model on the same history, the same rolling way
(:func:`adapt.learned.force.train_force_model`: fitted on the earlier as-of
dates, judged on the latest year), and stores it as a new version with its
figures and card (:mod:`adapt.db.learned_models`); with ``--out`` the card is
written next to the draft (``<out>-model-card.md``). The model is advice
beside the RFG score: it never decides who is in the cohort.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from sqlalchemy import Engine

from adapt.cli.common import DbOption, disk_full_exits, fail, open_db, os_user
from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.db.calibration import next_version, save_calibration
from adapt.db.history import load_history
from adapt.db.learned_models import next_model_version, store_learned_model
from adapt.db.settings_store import SettingsVersionExists, live_settings
from adapt.evaluation.calibrate import (
    DEFAULT_K,
    DRAFT,
    EVIDENCE_METHODS,
    HELD_OUT,
    Calibration,
    CalibrationError,
)
from adapt.evaluation.calibrate import (
    calibrate as run_calibration,
)
from adapt.learned.audit import person_sex
from adapt.learned.card import render_force_card
from adapt.learned.force import ForceModel, ModelNotTrained, train_force_model

NAME = "calibrated"
SHOWN = ("draft", "live", "attendances_window", "harm_window", "visible_oracle")


def _table(result: Calibration) -> list[str]:
    """The evidence in a few lines: harm share by origin, method and K, then the spread."""
    e = result.evidence
    ks = sorted(e["k"].unique().tolist())
    head = f"{'origin':<12}{'role':<10}{'method':<20}" + "".join(f"{f'K={k}':>8}" for k in ks)
    lines = [head]
    for (origin, role, method), g in e.groupby(["origin", "role", "method"], sort=False):
        if method not in SHOWN:
            continue
        shares = g.set_index("k")["harm_share"]
        lines.append(
            f"{origin!s:<12}{role:<10}{method:<20}"
            + "".join(f"{shares.get(k, float('nan')):>8.1%}" for k in ks)
        )
    lines.append(f"spread over the {len(result.origins)} origins (mean, least-most):")
    sp = result.spread
    for method in EVIDENCE_METHODS:
        if method not in SHOWN:
            continue
        g = sp[sp["method"] == method].set_index("k")
        cells = "".join(
            f"  K={k} {g.at[k, 'mean']:.1%} ({g.at[k, 'min']:.1%}-{g.at[k, 'max']:.1%})"
            for k in ks
            if k in g.index
        )
        lines.append(f"  {method:<20}{cells}")
    return lines


def model_card_path(out: Path) -> Path:
    """Where the learned model's card goes beside ``--out``: ``draft.json`` →
    ``draft-model-card.md``."""
    return out.with_name(f"{out.stem}-model-card.md")


def _train_model(
    history: History, day: date, live: Settings, user: str, engine: Engine
) -> tuple[ForceModel | None, str, str]:
    """Train, store and card the learned model; (model, version, card) or a reason."""
    try:
        trained = train_force_model(history, day, live, sex=person_sex(history))
    except (CalibrationError, ModelNotTrained) as err:
        return None, "", f"learned model not trained: {err}"
    version = next_model_version(engine, day)
    card = render_force_card(trained.model, trained.evidence, version)
    with disk_full_exits(engine):
        store_learned_model(
            engine,
            version=version,
            as_of=day,
            target=trained.model.target,
            fit_origins=[d.date() for d in trained.fit_origins],
            held_out_origin=trained.held_out.as_of.date(),
            auc_any_incident=trained.auc_any_incident,
            capture_k100=trained.capture(100),
            model=trained.model.to_dict(),
            evidence=trained.evidence,
            card=card,
            username=user,
        )
    return trained, version, card


def calibrate(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="Use nothing after this date (default: the latest incident date).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the draft as a settings JSON file."),
    ] = None,
    k: Annotated[
        int, typer.Option("--k", min=1, help="The list size the search maximises capture for.")
    ] = DEFAULT_K,
    db: DbOption = None,
) -> None:
    """Fit the score's part weights on the force's own past (rolling origin, nothing
    after the date), judge them on the latest year nobody fitted on, and save them
    as a draft settings version with the evidence (a second person approves it)."""
    # The author is the operating-system user who ran the calibration (the
    # reason says it was `adapt calibrate`), so that the same person cannot
    # approve it: a label such as "adapt calibrate (alice)" would not be alice
    # to the four-eyes rule, and alice could make her own draft live.
    engine = open_db(db)
    try:
        # Protected columns are read for the learned model's audit by sex only
        # (person_sex); no feature, score or model input reads them.
        history = load_history(engine, with_protected=True)
        if history.last_date is None:
            fail(1, "nothing to calibrate on: no incidents are stored (run `adapt load` first)")
        day = pd.Timestamp(as_of).date() if as_of is not None else history.last_date.date()
        live, live_words = live_settings(engine)
        user = os_user()
        version = next_version(engine, NAME, day)
        try:
            result = run_calibration(
                history, day, live, k=k, name=NAME, version=version,
                author=user,
            )  # fmt: skip
        except CalibrationError as err:
            fail(1, str(err))
        with disk_full_exits(engine):
            try:
                save_calibration(
                    engine, result.draft, day, result.evidence, result.spread, username=user
                )
            except SettingsVersionExists as err:
                fail(1, str(err))
        trained, model_version, card = _train_model(history, day, live, user, engine)
    finally:
        engine.dispose()
    oot = result.out_of_time()
    typer.echo(
        f"calibrated as of {day:%Y-%m-%d} against the live settings ({live_words}); "
        f"held out: as of {result.held_out.as_of:%Y-%m-%d}"
    )
    for line in _table(result):
        typer.echo(line)
    typer.echo(
        f"out of time ({HELD_OUT}), top {result.k}: draft {oot.get(DRAFT, 0.0):.1%}, "
        f"live {oot.get('live', 0.0):.1%}, attendances {oot.get('attendances_window', 0.0):.1%}, "
        f"harm {oot.get('harm_window', 0.0):.1%} (fitted, in-sample: "
        f"{result.fitted_capture:.1%}, not to be judged by)"
    )
    if oot.get(DRAFT, 0.0) < oot.get("live", 0.0):
        typer.echo(
            "the draft caught less of the held-out year's harm than the live settings: "
            "review it before approving (it may fit the earlier years' noise)"
        )
    typer.echo(
        f"saved draft {result.draft.name} v{result.draft.version}: not live until a second "
        f"person approves it (`adapt settings approve {result.draft.name} "
        f"{result.draft.version} --reason ...` or the Tuning page)"
    )
    if trained is None:
        typer.echo(card)
    else:
        auc = trained.auc_any_incident
        cap = trained.capture(100)
        typer.echo(
            f"learned model {model_version} (advice beside the RFG score, not a decision): "
            f"fitted as of {', '.join(f'{d:%Y-%m-%d}' for d in trained.fit_origins)}; out of "
            f"time as of {trained.held_out.as_of:%Y-%m-%d}: AUC any incident "
            f"{'n/a' if auc is None else f'{auc:.3f}'}, top 100 captured "
            f"{'n/a' if cap is None else f'{cap:.1%}'} of next-year harm; stored with its card"
        )
    if out is not None:
        try:
            out.write_text(result.draft.to_json(), encoding="utf-8")
            if trained is not None:
                model_card_path(out).write_text(card, encoding="utf-8")
        except OSError as err:
            fail(1, f"{out.name}: cannot be written ({type(err).__name__})")
        typer.echo(f"wrote {out}")
        if trained is not None:
            typer.echo(f"wrote {model_card_path(out)}")


TOP_LEVEL = {"calibrate": calibrate}
