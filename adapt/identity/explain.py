"""Explanations of joins, ready for a waterfall chart or an export.

Owns :func:`explain`: every accepted link that joins a person's rows, and
:func:`link_parts`: any links (a review item's, accepted or not), in long
format, one row per part of the final weight: the prior (how likely two
random rows are one person), each comparison's level and weight (term
frequency included), and the context adjustment. The parts of a link sum to
its ``final_weight`` (analyst decisions on unscored pairs have no parts).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def explain(links: pd.DataFrame, row_keys: Iterable[str]) -> pd.DataFrame:
    """Long table ``row_key_l, row_key_r, comparison, level, weight`` for one person.

    Parameters
    ----------
    links
        ``Resolution.links``.
    row_keys
        The person's row keys (one cluster).

    Examples
    --------
    Two links of a resolution: ``a``–``b`` accepted (a nickname, the same date
    of birth, and both suspects against the same victim), ``a``–``c`` not:

    >>> links = pd.DataFrame(
    ...     {
    ...         "row_key_l": ["a", "a"],
    ...         "row_key_r": ["b", "c"],
    ...         "match_weight": [4.5, -6.0],
    ...         "context_weight": [4.0, 0.0],
    ...         "final_weight": [8.5, -6.0],
    ...         "accepted": [True, False],
    ...         "decision": ["auto", "below threshold"],
    ...         "context": ["suspect against the same victim", ""],
    ...         "lbl_forename": ["nickname", "different"],
    ...         "mw_forename": [5.5, -4.0],
    ...         "lbl_dob": ["exact", "missing"],
    ...         "mw_dob": [11.0, 0.0],
    ...     }
    ... )
    >>> parts = explain(links, ["a", "b"])
    >>> print(parts[["comparison", "level", "weight"]].to_string(index=False))
    comparison                           level  weight
         prior                 two random rows   -12.0
      forename                        nickname     5.5
           dob                           exact    11.0
       context suspect against the same victim     4.0
    >>> float(parts["weight"].sum())  # the link's final_weight
    8.5
    """
    keys = set(row_keys)
    mine = links.loc[
        links["accepted"].to_numpy(dtype=bool)
        & links["row_key_l"].isin(keys).to_numpy(dtype=bool)
        & links["row_key_r"].isin(keys).to_numpy(dtype=bool)
    ]
    return link_parts(mine)


def link_parts(links: pd.DataFrame) -> pd.DataFrame:
    """Long table ``row_key_l, row_key_r, comparison, level, weight`` of every
    link given, accepted or not (a review item's link, say).

    >>> link = pd.DataFrame(
    ...     {
    ...         "row_key_l": ["a"],
    ...         "row_key_r": ["c"],
    ...         "match_weight": [-1.0],
    ...         "context_weight": [0.0],
    ...         "final_weight": [-1.0],
    ...         "accepted": [False],
    ...         "decision": ["below threshold"],
    ...         "context": [""],
    ...         "lbl_dob": ["one part differs"],
    ...         "mw_dob": [6.0],
    ...     }
    ... )
    >>> link_parts(link)[["comparison", "level", "weight"]].values.tolist()
    [['prior', 'two random rows', -7.0], ['dob', 'one part differs', 6.0], ['context', 'none', 0.0]]
    """
    mine = links
    comps = [c[3:] for c in links.columns if c.startswith("mw_")]
    parts = []
    scored = mine["match_weight"].notna()
    base = mine.loc[:, ["row_key_l", "row_key_r"]]
    sum_mw = mine[[f"mw_{c}" for c in comps]].sum(axis=1) if comps else 0.0
    prior = base.assign(
        comparison="prior",
        level="two random rows",
        weight=(mine["match_weight"] - sum_mw).where(scored),
        order=0,
    )
    parts.append(prior)
    for i, c in enumerate(comps, start=1):
        parts.append(
            base.assign(
                comparison=c,
                level=mine[f"lbl_{c}"].astype("string"),
                weight=mine[f"mw_{c}"],
                order=i,
            )
        )
    ctx_level = mine["context"].astype("string").fillna("").replace("", "none")
    parts.append(
        base.assign(
            comparison="context",
            level=ctx_level,
            weight=mine["context_weight"].fillna(0.0),
            order=len(comps) + 1,
        )
    )
    analyst = base.assign(
        comparison="analyst",
        level=mine["decision"].astype("string"),
        weight=np.where(scored, 0.0, np.nan),
        order=len(comps) + 2,
    )
    parts.append(analyst[mine["decision"].str.startswith("analyst").fillna(False).to_numpy()])
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["row_key_l", "row_key_r", "order"], kind="stable")
    out["level"] = out["level"].astype("string")
    return out.drop(columns="order").reset_index(drop=True)
