"""The one adapter between ADAPT and splink (DuckDB backend).

Owns the splink settings (comparisons and blocking rules written for police
nominal data), EM training, and scoring. Settings go in; scored pairs with
per-comparison match weights and level labels come out. Nothing else in the
package imports splink, so a splink upgrade touches this file only.

Comparisons (levels in order; the first that holds wins):

* ``forename``: missing · exact (term-frequency adjusted) · nickname/alias ·
  typo (Jaro-Winkler ≥ 0.88) · sounds alike (metaphone) · initial only · else
* ``surname``: missing · exact (TF adjusted) · typo (Damerau-Levenshtein ≤ 1
  or Jaro-Winkler ≥ 0.92) · sounds alike (soundex) · else. A surname change
  (forename and DOB agree, surname differs) lands in *else*, which EM learns
  is common among true matches, and the other fields carry the pair.
* ``dob``: missing · exact · day/month swapped · 1 January placeholder in the
  same year · one part differs · within 2 years · else
* ``person_ref``: missing · exact · else (shared and split refs are why it is
  one field among several, not a key)
* ``home``: missing · same address · similar address, same postcode · same
  postcode · same postcode district · else
* ``gender``: missing · exact · else

Training never blocks on surname + postcode (that teaches splink that a
household is a match, see field notes).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import duckdb
import numpy as np
import pandas as pd

LOG = logging.getLogger(__name__)

SPLINK_COLUMNS: tuple[str, ...] = (
    "row_key",
    "fn",
    "fn_init",
    "fn_canon",
    "fn_aliases",
    "fn_meta",
    "sn",
    "sn_sdx",
    "dob",
    "dob_y",
    "dob_m",
    "dob_d",
    "dob_key",
    "dob_jan1",
    "ref",
    "gender_std",
    "pc",
    "pc_district",
    "addr_key",
    "addr_num",
)
TF_COLUMNS: tuple[str, ...] = ("fn", "sn")


def _level(sql: str, label: str, **kw: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **kw}


def _null(*cols: str) -> dict[str, Any]:
    cond = " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in cols)
    return _level(cond, "missing", is_null_level=True)


ELSE = _level("ELSE", "different")

COMPARISONS: list[dict[str, Any]] = [
    {
        "output_column_name": "forename",
        "comparison_description": "forename with nickname table, typos and initials",
        "comparison_levels": [
            _null("fn"),
            _level('"fn_l" = "fn_r"', "exact", tf_adjustment_column="fn"),
            _level('list_has_any("fn_aliases_l", "fn_aliases_r")', "nickname"),
            _level(
                'length("fn_l") > 1 AND length("fn_r") > 1 AND '
                'jaro_winkler_similarity("fn_l", "fn_r") >= 0.88',
                "typo",
            ),
            _level(
                'length("fn_l") > 1 AND length("fn_r") > 1 AND "fn_meta_l" = "fn_meta_r"',
                "sounds alike",
            ),
            _level(
                '(length("fn_l") = 1 OR length("fn_r") = 1) AND "fn_init_l" = "fn_init_r"',
                "initial",
            ),
            ELSE,
        ],
    },
    {
        "output_column_name": "surname",
        "comparison_description": "surname with typos and sound-alikes",
        "comparison_levels": [
            _null("sn"),
            _level('"sn_l" = "sn_r"', "exact", tf_adjustment_column="sn"),
            _level(
                'damerau_levenshtein("sn_l", "sn_r") <= 1 OR '
                'jaro_winkler_similarity("sn_l", "sn_r") >= 0.92',
                "typo",
            ),
            _level('"sn_sdx_l" = "sn_sdx_r"', "sounds alike"),
            ELSE,
        ],
    },
    {
        "output_column_name": "dob",
        "comparison_description": "date of birth: exact, swapped, placeholder, near",
        "comparison_levels": [
            _null("dob"),
            _level('"dob_l" = "dob_r"', "exact"),
            _level('"dob_key_l" = "dob_key_r"', "day/month swapped"),
            _level(
                '"dob_y_l" = "dob_y_r" AND ("dob_jan1_l" OR "dob_jan1_r")',
                "1 January placeholder, same year",
            ),
            _level(
                '(CAST("dob_y_l" = "dob_y_r" AS INT) + CAST("dob_m_l" = "dob_m_r" AS INT) '
                '+ CAST("dob_d_l" = "dob_d_r" AS INT)) = 2',
                "one part differs",
            ),
            _level('abs("dob_y_l" - "dob_y_r") <= 2', "within 2 years"),
            ELSE,
        ],
    },
    {
        "output_column_name": "person_ref",
        "comparison_description": "source nominal reference",
        "comparison_levels": [_null("ref"), _level('"ref_l" = "ref_r"', "exact"), ELSE],
    },
    {
        "output_column_name": "home",
        "comparison_description": "home address and postcode, normalised",
        "comparison_levels": [
            _level(
                '("addr_key_l" IS NULL AND "pc_l" IS NULL) OR '
                '("addr_key_r" IS NULL AND "pc_r" IS NULL)',
                "missing",
                is_null_level=True,
            ),
            _level(
                '"addr_key_l" = "addr_key_r" AND '
                '("pc_l" = "pc_r" OR "pc_l" IS NULL OR "pc_r" IS NULL)',
                "same address",
            ),
            _level('"pc_l" = "pc_r"', "same postcode"),
            _level('"pc_district_l" = "pc_district_r"', "same postcode district"),
            ELSE,
        ],
    },
    {
        "output_column_name": "gender",
        "comparison_description": "recorded gender",
        "comparison_levels": [
            _null("gender_std"),
            _level('"gender_std_l" = "gender_std_r"', "exact"),
            ELSE,
        ],
    },
]

# Chosen for recall and measured (benchmarks/identity_accuracy.py reports the
# share of true pairs that at least one rule brings together).
BLOCKING_RULES: list[str] = [
    'l."ref" = r."ref"',
    'l."fn_canon" = r."fn_canon" AND l."dob" = r."dob"',
    'l."sn" = r."sn" AND l."dob_key" = r."dob_key"',
    'l."fn_init" = r."fn_init" AND l."dob_key" = r."dob_key"',
    'l."sn" = r."sn" AND l."fn_canon" = r."fn_canon"',
    'l."pc" = r."pc" AND l."fn_init" = r."fn_init"',
    'l."addr_key" = r."addr_key" AND l."fn_init" = r."fn_init"',
    'l."sn_sdx" = r."sn_sdx" AND l."fn_init" = r."fn_init" AND l."dob_y" = r."dob_y"',
]
# EM passes: each fixes the fields it blocks on and learns the others.
TRAINING_BLOCKS: list[str] = [
    'l."dob" = r."dob"',
    'l."fn_canon" = r."fn_canon" AND l."sn" = r."sn"',
    'l."ref" = r."ref"',
]
DETERMINISTIC_RULES: list[str] = [
    'l."fn" = r."fn" AND l."sn" = r."sn" AND l."dob" = r."dob"',
    'l."ref" = r."ref" AND l."fn" = r."fn"',
]


def base_settings() -> dict[str, Any]:
    """Untrained splink settings as a plain dict."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "row_key",
        "comparisons": json.loads(json.dumps(COMPARISONS)),
        "blocking_rules_to_generate_predictions": list(BLOCKING_RULES),
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": True,
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }


def splink_frame(rows: pd.DataFrame, *, with_tf: bool = True) -> pd.DataFrame:
    """The columns splink reads; with term frequencies of ``rows`` as ``tf_*`` columns."""
    out = rows.loc[:, list(SPLINK_COLUMNS)].copy()
    for c in TF_COLUMNS if with_tf else ():
        freq = rows[c].value_counts(normalize=True, dropna=True)
        out[f"tf_{c}"] = rows[c].map(freq).astype("float64")
    out["fn_aliases"] = out["fn_aliases"].map(lambda v: v if isinstance(v, list) else None)
    for c in ("dob_y", "dob_m", "dob_d"):
        out[c] = out[c].astype("float64")
    return out


def _db_api(threads: int, memory_limit: str | None) -> Any:
    from splink import DuckDBAPI

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    return DuckDBAPI(connection=con)


def train(
    rows: pd.DataFrame,
    *,
    seed: int,
    max_pairs: float,
    u_max_pairs: float,
    deterministic_recall: float,
    threads: int = 2,
) -> dict[str, Any]:
    """EM-trained settings (splink's model JSON as a dict), seeded."""
    from splink import Linker

    db = _db_api(threads, None)
    sdf = db.register(splink_frame(rows), table_name="adapt_train")
    linker = Linker(sdf, base_settings(), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        DETERMINISTIC_RULES, recall=deterministic_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    for block in TRAINING_BLOCKS:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block, max_pairs=max_pairs
        )
    model = json.loads(json.dumps(linker.misc.save_model_to_json(out_path=None), default=str))
    return floor_m(model)


M_FLOOR = 1e-3


def floor_m(settings: dict[str, Any]) -> dict[str, Any]:
    """Keep every level's m at least 1 in 1,000.

    EM on clean training data can learn that a disagreement never happens
    among true matches (a gender typed wrongly, say) and give it a weight of
    -30: one recording slip would then veto a match. Real extracts have such
    slips, so no single field is allowed to be that certain.
    """
    for comp in settings["comparisons"]:
        for lv in comp["comparison_levels"]:
            m = lv.get("m_probability")
            if m is not None and not lv.get("is_null_level"):
                lv["m_probability"] = max(float(m), M_FLOOR)
    return settings


def _collect(sdf: Any) -> pd.DataFrame:
    df = sdf.as_pandas_dataframe()
    sdf.drop_table_from_database_and_remove_from_cache()
    return df


def score(
    rows: pd.DataFrame,
    settings: dict[str, Any],
    *,
    threshold_weight: float,
    chunks: int = 1,
    threads: int = 2,
    memory_limit: str | None = None,
) -> pd.DataFrame:
    """All blocked pairs within ``rows`` with match weight ≥ ``threshold_weight``."""
    from splink import Linker

    db = _db_api(threads, memory_limit)
    sdf = db.register(splink_frame(rows), table_name="adapt_rows")
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    kw: dict[str, Any] = {"threshold_match_weight": threshold_weight, "warning_mode": "never"}
    if chunks > 1:
        kw.update(num_chunks_left=chunks, num_chunks_right=chunks)
    return _tidy(_collect(linker.inference.predict(**kw)), settings)


def score_new(
    existing: pd.DataFrame,
    new: pd.DataFrame,
    settings: dict[str, Any],
    *,
    threshold_weight: float,
    threads: int = 2,
) -> pd.DataFrame:
    """Blocked pairs new × existing and new × new (never existing × existing)."""
    from splink import Linker

    db = _db_api(threads, None)
    old_sdf = db.register(splink_frame(existing, with_tf=False), table_name="adapt_existing")
    new_sdf = db.register(splink_frame(new, with_tf=False), table_name="adapt_new")
    linker = Linker(new_sdf, settings, log_level=logging.WARNING)
    # Term frequencies of the whole population (existing + new), registered as lookups.
    for c in TF_COLUMNS:
        counts = existing[c].value_counts().add(new[c].value_counts(), fill_value=0)
        tf = pd.DataFrame(
            {c: counts.index.astype(str), f"tf_{c}": (counts / counts.sum()).to_numpy()}
        )
        tf_sdf = db.register(tf, table_name=f"adapt_tf_{c}")
        linker.table_management.register_term_frequency_lookup(tf_sdf, c)
    kw: dict[str, Any] = {"threshold_match_weight": threshold_weight, "warning_mode": "never"}
    between = _collect(linker.inference.predict_between(old_sdf, new_sdf, **kw))
    within = _collect(linker.inference.predict_within(new_sdf, **kw))
    return _tidy(pd.concat([between, within], ignore_index=True), settings)


def comparison_names(settings: dict[str, Any]) -> list[str]:
    return [c["output_column_name"] for c in settings["comparisons"]]


def level_weights(settings: dict[str, Any]) -> dict[str, list[tuple[str, float]]]:
    """Comparison → [(level label, match weight before TF)] in level order."""
    out: dict[str, list[tuple[str, float]]] = {}
    for comp in settings["comparisons"]:
        table = []
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                w = 0.0
            else:
                m = float(lv.get("m_probability") or 0.0)
                u = float(lv.get("u_probability") or 0.0)
                w = float(np.log2(m / u)) if m > 0 and u > 0 else np.nan
            table.append((lv.get("label_for_charts") or lv["sql_condition"], w))
        out[comp["output_column_name"]] = table
    return out


def _labels(mw: pd.Series, table: list[tuple[str, float]]) -> pd.Series:
    """Level label of each pair from its (pre-TF) comparison weight.

    splink 5 does not return comparison vectors from ``predict``; each level
    has its own weight, so the weight identifies the level (the null level is
    tried first, as splink does).
    """
    labels = np.array([t[0] for t in table], dtype=object)
    weights = np.array([t[1] for t in table], dtype="float64")
    diff = np.abs(mw.to_numpy(dtype="float64")[:, None] - weights[None, :])
    diff = np.where(np.isnan(diff), np.inf, diff)
    return pd.Series(labels[diff.argmin(axis=1)], index=mw.index, dtype="string")


def prior_weight(settings: dict[str, Any]) -> float:
    lam = float(settings["probability_two_random_records_match"])
    return float(np.log2(lam / (1 - lam)))


def _tidy(pred: pd.DataFrame, settings: dict[str, Any]) -> pd.DataFrame:
    """row_key_l/_r, match_weight/probability, mw_<c> (TF folded in), lbl_<c>."""
    out = pd.DataFrame(
        {
            "row_key_l": pred["row_key_l"].astype("string"),
            "row_key_r": pred["row_key_r"].astype("string"),
            "match_weight": pred["match_weight"].astype("float64"),
            "match_probability": pred["match_probability"].astype("float64"),
        }
    )
    tables = level_weights(settings)
    for name in comparison_names(settings):
        mw = pred[f"mw_{name}"].astype("float64")
        out[f"lbl_{name}"] = _labels(mw, tables[name])
        for c in pred.columns:
            if c.startswith("mw_tf_adj_") and c[len("mw_tf_adj_") :] in _tf_cols(settings, name):
                mw = mw + pred[c].astype("float64").fillna(0.0)
        out[f"mw_{name}"] = mw
    # Keep l < r so a pair has one spelling.
    swap = out["row_key_l"] > out["row_key_r"]
    if swap.any():
        out.loc[swap, ["row_key_l", "row_key_r"]] = out.loc[swap, ["row_key_r", "row_key_l"]].values
    return out.drop_duplicates(["row_key_l", "row_key_r"]).reset_index(drop=True)


def _tf_cols(settings: dict[str, Any], name: str) -> set[str]:
    for comp in settings["comparisons"]:
        if comp["output_column_name"] == name:
            return {
                lv["tf_adjustment_column"]
                for lv in comp["comparison_levels"]
                if lv.get("tf_adjustment_column")
            }
    return set()
