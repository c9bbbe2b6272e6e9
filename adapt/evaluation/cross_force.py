"""Cross-force linking: of the serial perpetrators who moved between forces,
how many the identity resolution joined.

A generated extract with several forces (``adapt generate --forces N``) has,
in its truth folder, ``cross_force.csv``: one row per mover, with his true
person id in the first force and in the second (:mod:`adapt.synthetic.forces`).
``involvements_truth.csv`` gives the true person of each involvement row (by
``source_row``, the row's line number in ``involvements.csv``). A mover is
*joined* when one resolved person id holds involvement rows of both his true
ids, so an analyst looking at him sees his offending in both forces.

The resolved ids are matched to the truth by source row. From the database,
adapt's row keys (``involvements:17``) name the stored record, not the line,
so merge the assignments (``adapt.db.identity.assignments``: row_key,
person_id) on ``row_key`` with the rows' sources (``adapt.db.identity.
person_rows``: row_key, source_file, source_row). Row keys of an extract read
without a database (``involvements.csv:5``, :mod:`adapt.identity.extract_rows`)
carry the source row themselves and can be passed as they are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

INVOLVEMENTS = "involvements.csv"


def cross_force_linking(
    cross_force: pd.DataFrame, involvement_truth: pd.DataFrame, resolved: pd.DataFrame
) -> dict[str, float]:
    """How many movers span two forces and how many the resolution joined.

    Parameters
    ----------
    cross_force : DataFrame
        ``first_person_id``, ``second_person_id`` (``cross_force.csv``).
    involvement_truth : DataFrame
        ``source_row``, ``person_id``: the true person of each involvement row.
    resolved : DataFrame
        ``source_row``, ``person_id``: the resolved person of each involvement
        row; with a ``source_file`` column, only ``involvements.csv`` rows count.
        Without ``source_row``, ``row_key`` must be an extract row key
        (``involvements.csv:5``); other rows are ignored.

    Returns
    -------
    dict
        ``movers`` (rows of ``cross_force``), ``movers_seen`` (movers with
        resolved involvement rows in both forces), ``joined`` (movers whose rows
        in the two forces share a resolved person id), ``joined_whole`` (all
        their rows in both forces under one person id) and ``joined_share``
        (joined over movers seen).

    Examples
    --------
    >>> cf = pd.DataFrame({"first_person_id": [1, 3], "second_person_id": [2, 4]})
    >>> truth = pd.DataFrame({"source_row": [2, 3, 4, 5], "person_id": [1, 2, 3, 4]})
    >>> res = pd.DataFrame({"source_row": [2, 3, 4, 5], "person_id": ["A", "A", "B", "C"]})
    >>> cross_force_linking(cf, truth, res)["joined"]
    1
    """
    resolved = _involvement_rows(resolved)
    rows = involvement_truth[["source_row", "person_id"]].rename(columns={"person_id": "true"})
    rows = rows.merge(resolved[["source_row", "person_id"]], on="source_row")
    movers = cross_force[["first_person_id", "second_person_id"]].reset_index(drop=True)
    movers["mover"] = movers.index
    sides = []
    for side in ("first", "second"):
        ids = movers[["mover", f"{side}_person_id"]].rename(columns={f"{side}_person_id": "true"})
        sides.append(ids.merge(rows, on="true")[["mover", "person_id"]].assign(side=side))
    both = pd.concat(sides, ignore_index=True)
    per_mover = both.groupby("mover").agg(
        sides=("side", "nunique"), people=("person_id", "nunique")
    )
    seen = per_mover.index[per_mover["sides"] == 2]
    shared = both.drop_duplicates(["mover", "person_id", "side"])
    shared = shared.groupby(["mover", "person_id"])["side"].nunique()
    joined = shared[shared == 2].index.get_level_values("mover").unique()
    whole = per_mover.index[(per_mover["sides"] == 2) & (per_mover["people"] == 1)]
    return {
        "movers": len(movers),
        "movers_seen": len(seen),
        "joined": len(joined),
        "joined_whole": len(whole),
        "joined_share": float(len(joined) / len(seen)) if len(seen) else float("nan"),
    }


def _involvement_rows(resolved: pd.DataFrame) -> pd.DataFrame:
    """``source_row``, ``person_id`` of the involvement rows of ``resolved``."""
    if "source_row" in resolved.columns:
        if "source_file" in resolved.columns:
            resolved = resolved[resolved["source_file"] == INVOLVEMENTS]
        return resolved[["source_row", "person_id"]]
    if "row_key" not in resolved.columns:
        raise ValueError("resolved needs source_row (or extract row keys) and person_id")
    key = resolved["row_key"].astype("string")
    parts = key.str.split(":", n=1, expand=True)
    if not parts[0].eq(INVOLVEMENTS).any() and len(resolved):
        raise ValueError(
            "row keys name stored records, not source rows: merge the assignments "
            "with adapt.db.identity.person_rows (row_key, source_file, source_row)"
        )
    mine = parts[0].eq(INVOLVEMENTS).fillna(False).to_numpy()
    return pd.DataFrame(
        {
            "source_row": parts.loc[mine, 1].astype("int64").to_numpy(),
            "person_id": resolved["person_id"].to_numpy()[mine],
        }
    )


def cross_force_report(truth_dir: Path | str, resolved: pd.DataFrame) -> dict[str, float]:
    """:func:`cross_force_linking` read from a generator truth folder
    (``cross_force.csv`` and ``involvements_truth.csv``)."""
    d = Path(truth_dir)
    cross_force = pd.read_csv(
        d / "cross_force.csv", usecols=["first_person_id", "second_person_id"], dtype="int64"
    )
    truth = pd.read_csv(
        d / "involvements_truth.csv", usecols=["source_row", "person_id"], dtype="int64"
    )
    return cross_force_linking(cross_force, truth, resolved)
