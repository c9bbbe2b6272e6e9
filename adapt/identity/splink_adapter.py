"""The one adapter between ADAPT and splink (DuckDB backend).

Owns the splink settings (comparisons and blocking rules written for police
nominal data), EM training, and scoring. Settings go in; scored pairs with
per-comparison match weights and level labels come out. Nothing else in the
package imports splink, so a splink upgrade touches this file only.

Comparisons (levels in order; the first that holds wins):

* ``forename``: missing · exact (term-frequency adjusted) · nickname/alias ·
  typo (Jaro-Winkler ≥ 0.88) · sounds alike (metaphone) · initial only ·
  swapped with surname (each name near the other field's) · else
* ``surname``: missing · exact (TF adjusted) · typo (Damerau-Levenshtein ≤ 1
  or Jaro-Winkler ≥ 0.92) · sounds alike (soundex) · swapped with forename
  (weight fixed near 0: the swap counts once, in ``forename``) · else. A surname change
  (forename and DOB agree, surname differs) lands in *else*, which EM learns
  is common among true matches, and the other fields carry the pair.
* ``dob``: missing · exact · day/month swapped · 1 January placeholder in the
  same year · one part differs · within 2 years · else
* ``person_ref``: missing · exact · else (shared and split refs are why it is
  one field among several, not a key)
* ``home``: missing · same address · similar address (same house number,
  street and postcode each a keying slip apart at most) · same postcode · same
  postcode district · else
* ``gender``: missing · exact · else

Training never blocks on surname + postcode (that teaches splink that a
household is a match, see field notes).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adapt.identity.context import codes

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
# Forename and surname written in each other's field (a form filled in
# surname-first, a name read out in the wrong order), each spelt nearly alike
# (the forename typo level's Jaro-Winkler): one slip, not two disagreements.
# Read from ``names`` (forename|surname, see splink_frame), not from fn and
# sn: splink leaves out of an EM pass every comparison that reads a column the
# pass blocks on, and the forename must still be learned in the surname pass.
_FN_L, _SN_L = (f"split_part(\"names_l\", '|', {i})" for i in (1, 2))
_FN_R, _SN_R = (f"split_part(\"names_r\", '|', {i})" for i in (1, 2))
SWAPPED_NAMES = (
    f"length({_FN_L}) > 1 AND length({_FN_R}) > 1 AND "
    f"jaro_winkler_similarity({_FN_L}, {_SN_R}) >= 0.88 AND "
    f"jaro_winkler_similarity({_SN_L}, {_FN_R}) >= 0.88"
)

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
            _level(SWAPPED_NAMES, "swapped with surname"),
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
            # The swap's evidence is counted once, in the forename comparison:
            # this level is fixed at a Bayes factor of (almost) 1. Not exactly 1,
            # so its weight still tells it apart from "missing" (splink returns
            # weights, not levels; see _labels).
            _level(
                SWAPPED_NAMES,
                "swapped with forename",
                m_probability=0.5,
                u_probability=0.4999,
                fix_m_probability=True,
                fix_u_probability=True,
            ),
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
            # A keying slip in the street or the postcode, not another home: the
            # same house number (every digit of the address, flats too), the
            # rest spelt nearly alike, and the postcodes (where both are
            # recorded) at most one edit apart.
            _level(
                '"addr_num_l" = "addr_num_r" AND '
                'jaro_winkler_similarity("addr_key_l", "addr_key_r") >= 0.9 AND '
                '("pc_l" IS NULL OR "pc_r" IS NULL OR damerau_levenshtein("pc_l", "pc_r") <= 1)',
                "similar address",
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
    # Both names garbled (or written in each other's field), and the same date
    # of birth at the same postcode: every rule above needs a name part to agree.
    'l."dob" = r."dob" AND l."pc" = r."pc"',
    # Forename and surname swapped (entered in each other's field).
    'l."fn" = r."sn" AND l."sn" = r."fn"',
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
# Each deterministic rule as the comparison levels it asks for, and the column
# that must be recorded on both rows: what the rule's recall among true matches
# is, in the model's own terms (see implied_recall).
RULE_LEVELS: list[tuple[tuple[str, str, str], ...]] = [
    (("forename", "exact", "fn"), ("surname", "exact", "sn"), ("dob", "exact", "dob")),
    (("person_ref", "exact", "ref"), ("forename", "exact", "fn")),
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


# Prediction blocks: BLOCKING_RULES with every rule on shared values capped, so
# that the pairs grow with the rows, not with their square. A rule keyed on
# values whose number of distinct values does not grow with the population
# (date of birth and initial, sound of a surname) makes blocks that do: at
# 1M incidents (2.63M rows) "initial + date of birth" alone made 16.0M pairs,
# 40 times its 263k-row figure for 10 times the rows, and every prediction
# rule together about 89M blocked pairs. Each rule but the person reference
# (a force's own id: a block is one person's rows) and the swapped-names rule
# (pairs of two different name orders, few) is therefore one key column
# ``blk_*`` (its parts joined, NULL if any part is); a block of more than
# KEY_CAP rows is narrowed by one more part (``narrow``; rows missing that part
# keep a block of their own), and the name-only rule's blocks of more than
# BLOCK_CAP rows are left out (the same name with the same date of birth,
# postcode or address is still compared through the other rules). A narrowed
# block is never left out however big it stays: there, three parts agree, and
# the rows are mostly one prolific person's, the people who matter most.
# Measured at 1M incidents against the generator's truth
# (benchmarks/blocking_recall.py): blocked pairs 88.8M -> 61.2M; persons with
# two or more rows whose rows the blocks can all reach 96.69% -> 96.57%, true
# pairs reachable 99.46% -> 99.40%. Stricter caps cost more: the name-only rule
# left out past 30 rows made 46.7M pairs but reached 95.79% of persons whole,
# and narrowing without keeping the rows that miss the narrowing part (a
# missing date of birth) reached only 96.5% of true pairs.
BLOCK_CAP = 100
KEY_CAP = 20


@dataclass(frozen=True)
class CappedBlock:
    """A prediction rule as one key column: ``parts`` joined, narrowed past ``cap``."""

    column: str
    parts: tuple[str, ...]
    narrow: str | None
    cap: int

    @property
    def rule(self) -> str:
        return f'l."{self.column}" = r."{self.column}"'


CAPPED_BLOCKS: tuple[CappedBlock, ...] = (
    CappedBlock("blk_fd", ("fn_canon", "dob"), "sn_sdx", KEY_CAP),
    CappedBlock("blk_sk", ("sn", "dob_key"), "fn_init", KEY_CAP),
    CappedBlock("blk_ik", ("fn_init", "dob_key"), "sn_sdx", KEY_CAP),
    CappedBlock("blk_name", ("sn", "fn_canon"), None, BLOCK_CAP),
    CappedBlock("blk_pi", ("pc", "fn_init"), "dob_y", KEY_CAP),
    CappedBlock("blk_ai", ("addr_key", "fn_init"), "dob_y", KEY_CAP),
    CappedBlock("blk_sdx", ("sn_sdx", "fn_init", "dob_y"), "dob_m", KEY_CAP),
    CappedBlock("blk_dp", ("dob", "pc"), "fn_init", KEY_CAP),
)
PREDICT_RULES: list[str] = [
    'l."ref" = r."ref"',
    *(b.rule for b in CAPPED_BLOCKS),
    'l."fn" = r."sn" AND l."sn" = r."fn"',
]


def _joined(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes of the pairs (a, b) of two code columns; -1 if either is missing."""
    missing = (a < 0) | (b < 0)
    key = a * (int(b.max(initial=0)) + 1) + b
    key[missing] = -1
    out = pd.factorize(key)[0].astype(np.int64)
    out[missing] = -1
    return out


def capped_key(
    parts: list[pd.Series], narrow: pd.Series | None, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """A capped block key: rows share a key when they agree on every part
    (none missing); a block of more than ``cap`` rows is narrowed by ``narrow``
    (rows missing it share a block of their own) or, with no narrowing part,
    left out. The key as int64 codes, and where it is missing (no block).

    Codes, not text: the key is only ever compared for equality within one
    table, and eight text keys a row were most of the prediction frame."""
    key = codes(parts[0])
    for part in parts[1:]:
        key = _joined(key, codes(part))
    has = key >= 0
    size = np.bincount(key[has], minlength=int(key.max(initial=-1)) + 1)
    big = np.zeros(len(key), dtype=bool)
    big[has] = size[key[has]] > cap
    if narrow is None:
        return key, ~has | big
    n = codes(narrow)
    n[n < 0] = int(n.max(initial=-1)) + 1  # missing is a value of its own
    narrowed = _joined(key, n)
    # narrowed keys after the plain ones: never equal to a plain key
    out = np.where(big, narrowed + int(key.max(initial=-1)) + 1, key)
    return out, ~has


def term_frequency(values: pd.Series) -> np.ndarray:
    """Each row's value's share of the non-missing values (NaN if missing):
    pandas' ``value_counts(normalize=True)``, the same float division."""
    code = codes(values)
    has = code >= 0
    counts = np.bincount(code[has])
    out = np.full(len(code), np.nan)
    out[has] = (counts / counts.sum())[code[has]]
    return out


def _arrow_col(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    if isinstance(s.dtype, pd.BooleanDtype) or s.dtype == bool:
        return pa.array(s.to_numpy(dtype=object, na_value=None), type=pa.bool_())
    if s.dtype.kind in "iuf" or isinstance(s.dtype, pd.core.dtypes.dtypes.BaseMaskedDtype):
        return pa.array(s.astype("float64").to_numpy(na_value=np.nan), from_pandas=True)
    if isinstance(s.dtype, pd.StringDtype) and s.dtype.storage == "pyarrow":
        # already Arrow text: no Python string per value, and the values are
        # shared, not copied (rows prepared in batches are chunked: kept so)
        return pa.array(s.array).cast(pa.string())
    return pa.array(s.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())


def _aliases_arrow(rows: pd.DataFrame) -> pa.Array:
    """``fn_aliases`` as an Arrow list column, built once per distinct forename."""
    codes, _ = pd.factorize(rows["fn"], use_na_sentinel=True)
    first = pd.Series(np.arange(len(rows))).groupby(codes).first()
    first = first[first.index >= 0]
    vals = rows["fn_aliases"].to_numpy(dtype=object)[first.to_numpy()]
    table = pa.array(
        [list(v) if isinstance(v, (list, tuple, np.ndarray)) else None for v in vals],
        type=pa.list_(pa.string()),
    )
    idx = pa.array(codes, mask=codes < 0, type=pa.int32())
    return table.take(idx)


def _base_frame(rows: pd.DataFrame, ids: np.ndarray | None = None) -> pa.Table:
    """``rows``' :data:`SPLINK_COLUMNS` and ``names`` as an Arrow table (text
    already Arrow is shared, not copied); ``row_key`` is ``ids`` (int64 row
    positions) when given."""
    cols: dict[str, pa.Array] = {}
    if ids is None:
        cols["row_key"] = _arrow_col(rows["row_key"])
    else:
        cols["row_key"] = pa.array(np.asarray(ids, dtype=np.int64))
    for c in SPLINK_COLUMNS[1:]:
        cols[c] = _aliases_arrow(rows) if c == "fn_aliases" else _arrow_col(rows[c])
    # forename|surname, for the swapped-names levels (NULL if either is missing)
    cols["names"] = pc.binary_join_element_wise(cols["fn"], cols["sn"], "|")
    return pa.table(cols)


def splink_frame(
    rows: pd.DataFrame,
    *,
    with_tf: bool = True,
    ids: np.ndarray | None = None,
    population: pd.DataFrame | None = None,
    with_blocks: bool = True,
) -> pa.Table:
    """The columns splink reads, as an Arrow table in ``rows``' order.

    With ``with_blocks``, the prediction rules' key columns (``blk_*``, int64
    codes, see :func:`capped_key` and :data:`CAPPED_BLOCKS`); training blocks
    on the plain columns and needs none.

    ``row_key`` is ``ids`` (int64 row positions) when given. With ``with_tf``,
    term frequencies of ``rows`` are ``tf_*`` columns. The capped blocking
    keys are sized over ``population`` (default ``rows``), which must hold
    every row of ``rows``.
    """
    frame = _base_frame(rows, ids)
    for c in TF_COLUMNS if with_tf else ():
        frame = frame.append_column(f"tf_{c}", pa.array(term_frequency(rows[c]), from_pandas=True))
    if not with_blocks:
        return frame
    pop = rows if population is None else population
    pos = (
        None
        if population is None
        else pd.Index(pop["row_key"].astype("string")).get_indexer(rows["row_key"].astype("string"))
    )
    for b in CAPPED_BLOCKS:
        key, missing = capped_key(
            [pop[c] for c in b.parts], None if b.narrow is None else pop[b.narrow], b.cap
        )
        if pos is not None:
            key, missing = key[pos], missing[pos]
        frame = frame.append_column(b.column, pa.array(key, mask=missing))
    return frame


def _db_api(threads: int, memory_limit: str | None, temp_dir: str | None = None) -> Any:
    from splink import DuckDBAPI

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if temp_dir:
        con.execute(f"SET temp_directory = '{temp_dir}'")
    con.execute("SET preserve_insertion_order = false")
    return DuckDBAPI(connection=con)


class _Session:
    """A DuckDB connection for one scoring run, spilling into a private temp folder."""

    def __init__(self, threads: int, memory_limit: str | None) -> None:
        self.tmp = tempfile.mkdtemp(prefix="adapt-duckdb-")
        self.db = _db_api(threads, memory_limit, self.tmp)

    def close(self) -> None:
        try:
            self.db._con.close()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def block_pairs(con: Any, table: str, rule: str) -> int:
    """Pairs an equi-join blocking rule (``l."a" = r."a" AND ...``) makes in ``table``."""
    cols = re.findall(r'l\."(\w+)" = r\."\1"', rule)
    if not cols or " OR " in rule:
        raise ValueError(f"not an equi-join rule: {rule}")
    keys = ", ".join(f'"{c}"' for c in cols)
    nonnull = " AND ".join(f'"{c}" IS NOT NULL' for c in cols)
    got = con.sql(
        f"SELECT coalesce(sum(n * (n - 1) / 2), 0)::BIGINT FROM "
        f"(SELECT count(*)::BIGINT AS n FROM {table} WHERE {nonnull} GROUP BY {keys})"
    ).fetchall()
    return int(got[0][0])


def train(
    rows: pd.DataFrame,
    *,
    seed: int,
    max_pairs: float,
    u_max_pairs: float,
    deterministic_recall: float,
    threads: int = 2,
    start: dict[str, Any] | None = None,
    min_block_pairs: int = 0,
    implied: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train on ``rows`` (seeded) and say how: (splink model JSON, training figures).

    ``start``: a trained model's splink settings to start from (its m values
    are EM's starting point, and a comparison no EM pass estimates keeps its
    m); default splink's untrained settings. The prior is estimated from
    :data:`DETERMINISTIC_RULES` with an assumed ``deterministic_recall``; u by
    random sampling of ``u_max_pairs`` pairs with ``seed``; m by EM on each of
    :data:`TRAINING_BLOCKS` that makes at least ``min_block_pairs`` pairs
    (capped at ``max_pairs``). Never a surname + postcode block: it teaches
    splink that a household is a match.

    Rows are put in ``row_key`` order first, and DuckDB runs on one thread, so
    the same rows with the same seed give the same model whatever order they
    were read in.
    """
    # only the columns splink reads (not a copy of every prepared column), in
    # row_key order; past TRAIN_MAX_ROWS only the sample's rows are copied
    order = rows["row_key"].reset_index(drop=True).argsort(kind="stable").to_numpy()
    available = len(rows)
    if available > TRAIN_MAX_ROWS:
        pick = np.random.default_rng(seed).choice(available, TRAIN_MAX_ROWS, replace=False)
        order = order[np.sort(pick)]
    rows = rows[list(SPLINK_COLUMNS)].iloc[order].reset_index(drop=True)
    del order
    with _SplinkNotes() as notes:
        model, figures = _train(
            rows,
            seed=seed,
            max_pairs=max_pairs,
            u_max_pairs=u_max_pairs,
            deterministic_recall=deterministic_recall,
            start=start,
            min_block_pairs=min_block_pairs,
            implied=implied,
        )
    figures["splink_notes"] = notes.messages
    if available > len(rows):
        figures["rows_available"] = available
        figures["sampled"] = (
            f"a uniform sample of {len(rows):,} of the {available:,} rows (seed {seed})"
        )
    return model, figures


class _SplinkNotes(logging.Handler):
    """splink's warnings during training, kept (for the training figures) instead
    of printed: "level X not observed, unable to train m" means that level keeps
    its starting m."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        self.logger = logging.getLogger("splink")

    def emit(self, record: logging.LogRecord) -> None:
        text = " ".join(record.getMessage().replace("WARNING:", "").split())
        if text and text not in self.messages:
            self.messages.append(text)

    def __enter__(self) -> _SplinkNotes:
        self.saved = (self.logger.propagate, list(self.logger.handlers))
        for h in self.saved[1]:
            self.logger.removeHandler(h)
        self.logger.addHandler(self)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self.saved[0]
        for h in self.saved[1]:
            self.logger.addHandler(h)


def _train(
    rows: pd.DataFrame,
    *,
    seed: int,
    max_pairs: float,
    u_max_pairs: float,
    deterministic_recall: float,
    start: dict[str, Any] | None,
    min_block_pairs: int,
    implied: bool,
) -> tuple[dict[str, Any], dict[str, Any]]:
    from splink import Linker

    settings = json.loads(json.dumps(start)) if start else base_settings()
    base = base_settings()
    for key in ("blocking_rules_to_generate_predictions", "em_convergence", "max_iterations"):
        settings[key] = base[key]
    settings.pop("linker_uid", None)
    session = _Session(1, TRAIN_MEMORY)
    try:
        sdf = session.db.register(splink_frame(rows, with_blocks=False), table_name="adapt_train")
        con = session.db._con
        linker = Linker(sdf, settings, log_level=logging.WARNING)
        det_pairs = [block_pairs(con, sdf.physical_name, r) for r in DETERMINISTIC_RULES]
        linker.training.estimate_probability_two_random_records_match(
            DETERMINISTIC_RULES, recall=deterministic_recall
        )
        prior_assumed = float(linker._settings_obj._probability_two_random_records_match)
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        passes = []
        for block in TRAINING_BLOCKS:
            pairs = block_pairs(con, sdf.physical_name, block)
            entry: dict[str, Any] = {"blocking_rule": block, "pairs": pairs}
            if pairs < max(min_block_pairs, 1):
                entry["skipped"] = f"fewer than {max(min_block_pairs, 1):,} pairs"
                passes.append(entry)
                continue
            em = linker.training.estimate_parameters_using_expectation_maximisation(
                block, max_pairs=max_pairs if pairs > max_pairs else None
            )
            history = em._core_model_settings_history
            entry.update(
                iterations=len(history),
                converged=len(history) < int(settings["max_iterations"]),
                pairs_used=min(pairs, int(max_pairs)),
                share_matching_in_block=round(
                    float(history[-1].probability_two_random_records_match), 6
                ),
            )
            passes.append(entry)
        recall = deterministic_recall
        if implied:
            # The rules' recall among true matches, from the m just learned:
            # an assumed figure is wrong as soon as the recording noise
            # differs (at the generator's noise 2 the exact rules find 16% of
            # true pairs, not 70%, and an assumed 0.7 put the prior 1.5 bits low).
            trained = json.loads(
                json.dumps(linker.misc.save_model_to_json(out_path=None), default=str)
            )
            filled = {
                col: _filled_share(con, sdf.physical_name, col)
                for rule in RULE_LEVELS
                for _, _, col in rule
            }
            recall = implied_recall(trained, filled)
            if recall > 0:
                linker.training.estimate_probability_two_random_records_match(
                    DETERMINISTIC_RULES, recall=min(recall, 1.0)
                )
            else:
                recall = deterministic_recall
        model = json.loads(json.dumps(linker.misc.save_model_to_json(out_path=None), default=str))
    finally:
        session.close()
    model.pop("linker_uid", None)
    model = _rounded(floor_m(model))
    figures = {
        "rows": len(rows),
        "seed": seed,
        "prior": {
            "probability_two_random_records_match": model["probability_two_random_records_match"],
            "with_assumed_recall": float(f"{prior_assumed:.12g}"),
            "deterministic_rules": list(DETERMINISTIC_RULES),
            "deterministic_rule_pairs": det_pairs,
            "assumed_recall": deterministic_recall,
            "recall_used": float(f"{recall:.12g}"),
            "recall_from_trained_m": implied,
        },
        "u_sampling": {"max_pairs": u_max_pairs, "seed": seed},
        "em_passes": passes,
        "em_max_pairs": max_pairs,
        "levels": level_table(model),
    }
    if start:
        figures["start"] = {
            "prior": start.get("probability_two_random_records_match"),
            "levels": level_table(start),
        }
    return model, figures


def _filled_share(con: Any, table: str, col: str) -> float:
    """Share of rows with ``col`` recorded."""
    got = con.sql(f'SELECT avg(CAST("{col}" IS NOT NULL AS DOUBLE)) FROM {table}').fetchall()
    return float(got[0][0] or 0.0)


def implied_recall(
    settings: dict[str, Any],
    filled: dict[str, float],
    rules: list[tuple[tuple[str, str, str], ...]] | None = None,
) -> float:
    """Recall of :data:`DETERMINISTIC_RULES` among true matches, in the model's terms.

    A rule holds for a true pair when each field it asks for is recorded on
    both rows (``filled[col]`` squared) and at its exact level (that level's
    m); fields are independent given a match, as the model itself assumes.
    The union of the rules by inclusion-exclusion.

    >>> s = {"comparisons": [
    ...     {"output_column_name": "a", "comparison_levels": [
    ...         {"label_for_charts": "exact", "m_probability": 0.5}]},
    ...     {"output_column_name": "b", "comparison_levels": [
    ...         {"label_for_charts": "exact", "m_probability": 0.5}]}]}
    >>> rules = [(("a", "exact", "x"),), (("b", "exact", "y"),)]
    >>> implied_recall(s, {"x": 1.0, "y": 1.0}, rules)
    0.75
    """
    m = {
        (c["output_column_name"], lv.get("label_for_charts")): float(lv.get("m_probability") or 0)
        for c in settings["comparisons"]
        for lv in c["comparison_levels"]
    }

    def p(levels: set[tuple[str, str, str]]) -> float:
        out = 1.0
        for comp, level, col in levels:
            out *= filled.get(col, 0.0) ** 2 * m.get((comp, level), 0.0)
        return out

    rules = RULE_LEVELS if rules is None else rules
    total = 0.0
    for k in range(1, len(rules) + 1):
        for combo in itertools.combinations(rules, k):
            total += (-1) ** (k + 1) * p(set().union(*combo))
    return total


def _rounded(settings: dict[str, Any], digits: int = 12) -> dict[str, Any]:
    """m, u and the prior to ``digits`` significant figures (what the model
    means, without the last bits of floating-point summation order)."""

    def r(x: Any) -> Any:
        return float(f"{float(x):.{digits}g}") if x is not None else None

    for comp in settings["comparisons"]:
        for lv in comp["comparison_levels"]:
            for k in ("m_probability", "u_probability"):
                if lv.get(k) is not None:
                    lv[k] = r(lv[k])
    settings["probability_two_random_records_match"] = r(
        settings["probability_two_random_records_match"]
    )
    return settings


def level_table(settings: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per comparison level: comparison, level, m, u, match weight."""
    out = []
    for comp in settings["comparisons"]:
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                continue
            m, u = lv.get("m_probability"), lv.get("u_probability")
            w = float(np.log2(m / u)) if m and u else None
            out.append(
                {
                    "comparison": comp["output_column_name"],
                    "level": lv.get("label_for_charts") or lv["sql_condition"],
                    "m": m,
                    "u": u,
                    "weight": round(w, 4) if w is not None else None,
                }
            )
    return out


M_FLOOR = 1e-3


def floor_m(settings: dict[str, Any]) -> dict[str, Any]:
    """Keep every level's m at least 1 in 1,000.

    EM on clean training data can learn that a disagreement never happens
    among true matches (a gender typed wrongly, say) and give it a weight of
    -30: one recording slip would then veto a match. Real extracts have such
    slips, so no single field is allowed to be that certain.

    A level EM never saw among true matches (no pair of the training data
    reached it: names swapped, on data that never swaps them) gets the floor
    too, not an undefined m.
    """
    for comp in settings["comparisons"]:
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level") or lv.get("fix_m_probability"):
                continue
            m = lv.get("m_probability")
            lv["m_probability"] = max(float(m or 0.0), M_FLOOR)
    return settings


def _predict_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The model's settings with this adapter's (capped) prediction blocks."""
    out = dict(settings)
    out["blocking_rules_to_generate_predictions"] = list(PREDICT_RULES)
    return out


def _pairs_sql(sdfs: list[Any], settings: dict[str, Any], names: list[str]) -> str:
    """SELECT of ``sdfs`` (splink outputs): l < r, weights, raw and TF-adjusted ``names``."""
    parts = []
    for name in names:
        adj = f' + coalesce("mw_tf_adj_{name}", 0)' if _tf_cols(settings, name) else ""
        parts.append(f'"mw_{name}" AS "raw_{name}"')
        parts.append(f'CAST("mw_{name}"{adj} AS FLOAT) AS "mw_{name}"')
    sel = ", ".join(parts)
    return " UNION ALL ".join(
        "SELECT least(row_key_l, row_key_r) AS l, greatest(row_key_l, row_key_r) AS r, "
        f"match_weight, match_probability, {sel} FROM {s.physical_name}"
        for s in sdfs
    )


def _frame(tbl: pa.Table, settings: dict[str, Any], names: list[str]) -> pd.DataFrame:
    """Pairs as pandas: int64 positions, level labels (categorical), float32 weights."""
    tables = level_weights(settings)
    df = pd.DataFrame(
        {
            "l": tbl.column("l").to_numpy().astype(np.int64),
            "r": tbl.column("r").to_numpy().astype(np.int64),
            "match_weight": tbl.column("match_weight").to_numpy(zero_copy_only=False),
            "match_probability": tbl.column("match_probability").to_numpy(zero_copy_only=False),
        }
    )
    for name in names:
        raw = tbl.column(f"raw_{name}").to_numpy(zero_copy_only=False)
        df[f"lbl_{name}"] = _labels(raw, tables[name])
        df[f"mw_{name}"] = tbl.column(f"mw_{name}").to_numpy(zero_copy_only=False)
    return df


def _fetch(db: Any, sdfs: list[Any], settings: dict[str, Any]) -> pd.DataFrame:
    """Scored pairs of ``sdfs`` (splink outputs), only the needed columns, ordered."""
    names = comparison_names(settings)
    union = _pairs_sql(sdfs, settings, names)
    tbl = db._con.sql(f"SELECT * FROM ({union}) ORDER BY l, r").to_arrow_table()
    for s in sdfs:
        s.drop_table_from_database_and_remove_from_cache()
    return _frame(tbl, settings, names)


# Rows trained on, at most: past this, a uniform sample of this many rows
# (seeded; drawn from the rows in row_key order, so the same rows give the same
# sample). A uniform sample keeps what each estimate estimates: the prior is
# the deterministic rules' pairs over all pairs (both shrink by the square of
# the share kept), u comes from random pairs, m from EM over blocked pairs
# (already capped at max_pairs). Training on all 19.7M rows of 7.5M incidents
# held about 12 GB beside the rows themselves, and its DuckDB runs one thread.
TRAIN_MAX_ROWS = 5_000_000
# DuckDB's memory while training: no limit. A limit makes DuckDB spill, and
# spilling changes the order of EM's floating-point sums: at 1M incidents a
# 1GB limit moved m in the 12th significant figure and link weights by 1e-11
# (same people, links and review queue). The same rows must give the same model.
TRAIN_MEMORY: str | None = None
# Comparisons the first pass needs (the guards read their levels).
GUARD_COMPARISONS: tuple[str, ...] = ("forename", "dob")
# Scored pairs handed to the first pass at a time (streamed out of DuckDB).
PASS1_BATCH_ROWS = 2_000_000
# DuckDB's memory while predicting: room for the blocking joins' hash tables
# (each side of a join holds every compared column of its rows, about 240
# bytes a row before DuckDB's own overhead), so that they do not spill: at a
# flat 1.5 GB the 1M-incident prediction wrote 14 GB to disk and waited on it
# for two thirds of its time. Per person row, between 1.5 GB and 6 GB;
# ADAPT_DUCKDB_MEMORY (a DuckDB size, e.g. "12GB") sets it instead.
PREDICT_MEMORY_PER_ROW = 1200
PREDICT_MEMORY_MB = (1500, 6000)
PREDICT_MEMORY_ENV = "ADAPT_DUCKDB_MEMORY"


# DuckDB's memory while it copies the rows into its table (see Scorer).
BUILD_DUCKDB_MEMORY = "1GB"


def predict_memory(n_rows: int) -> str:
    """DuckDB's memory limit for predicting over ``n_rows`` person rows."""
    given = os.environ.get(PREDICT_MEMORY_ENV, "").strip()
    if given:
        return given
    lo, hi = PREDICT_MEMORY_MB
    return f"{int(min(max(n_rows * PREDICT_MEMORY_PER_ROW / 2**20, lo), hi))}MB"


def _memory(limit: str | None, n_rows: int) -> str | None:
    """A DuckDB memory limit as given: "auto" is :func:`predict_memory` of the rows."""
    return predict_memory(n_rows) if limit == "auto" else limit


def _no_pairs_sql(names: list[str]) -> str:
    """A query giving no rows with the columns of the scored-pairs SQL."""
    return (
        "SELECT 0::BIGINT AS l, 0::BIGINT AS r, 0.0::DOUBLE AS match_weight, "
        "0.0::DOUBLE AS match_probability, "
        + ", ".join(f'0.0::DOUBLE AS "raw_{x}", 0.0::FLOAT AS "mw_{x}"' for x in names)
        + " LIMIT 0"
    )


class Scorer:
    """Chunked scoring of all blocked pairs within ``rows``, in two passes.

    :meth:`chunks` yields each prediction chunk's pairs with only what the
    decisions need (``l``, ``r``, weights, ``lbl_forename``, ``lbl_dob``);
    splink's scored chunk tables stay in DuckDB (spilling to a private temp
    folder past ``memory_limit``), and :meth:`fetch` reads back the full
    columns of chosen pairs only. Pairs name rows by position (``l`` < ``r``).
    ``memory_limit``: DuckDB's ("auto": :func:`predict_memory` of the rows;
    None: no limit). Use as a context manager.
    """

    def __init__(
        self,
        rows: pd.DataFrame,
        settings: dict[str, Any],
        *,
        threshold_weight: float,
        chunks: int = 1,
        threads: int = 2,
        memory_limit: str | None = "auto",
    ) -> None:
        from splink import Linker

        memory_limit = _memory(memory_limit, len(rows))
        self.settings = settings
        self.threshold_weight = threshold_weight
        self.n_chunks = max(int(chunks), 1)
        self.session = _Session(threads, memory_limit)
        self.memory_limit = memory_limit
        self.sdfs: list[Any] = []
        self.pairs_scored = 0
        self.n_rows = len(rows)
        try:
            # The rows become a DuckDB table (held within DuckDB's memory limit,
            # spilled past it), not an Arrow table in this process's memory.
            # While it is made this process still holds the rows: DuckDB gets
            # little memory then (its table goes to its temp folder) and its
            # prediction memory after.
            con = self.session.db._con
            if memory_limit:
                self.set_memory_limit(BUILD_DUCKDB_MEMORY)
            con.register("adapt_rows_arrow", splink_frame(rows, ids=np.arange(len(rows))))
            con.execute("CREATE TABLE adapt_rows_native AS SELECT * FROM adapt_rows_arrow")
            con.unregister("adapt_rows_arrow")
            if memory_limit:
                self.set_memory_limit(memory_limit)
            sdf = self.session.db.register("adapt_rows_native", table_name="adapt_rows")
            self.linker = Linker(sdf, _predict_settings(settings), log_level=logging.WARNING)
        except BaseException:
            self.session.close()
            raise

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    def set_memory_limit(self, limit: str) -> None:
        """Change DuckDB's memory limit (a lower one moves buffers to the temp folder)."""
        self.session.db._con.execute(f"SET memory_limit = '{limit}'")

    def _predictions(self) -> Any:
        """splink's scored tables: one ``predict`` (DuckDB spills what it cannot
        hold), or ``predict_chunk`` per (left, right) chunk when asked for more
        than one chunk. Chunks re-run the blocking joins each time: at 1M rows
        3×3 chunks took 2.7 times as long as one predict for the same pairs."""
        k = self.n_chunks
        if k == 1:
            yield self.linker.inference.predict(
                threshold_match_weight=self.threshold_weight, warning_mode="never"
            )
            return
        for i in range(1, k + 1):
            for j in range(1, k + 1):
                yield self.linker.inference.predict_chunk(
                    left_chunk=(i, k),
                    right_chunk=(j, k),
                    threshold_match_weight=self.threshold_weight,
                    warning_mode="never",
                )

    def chunks(self) -> Any:
        names = [n for n in comparison_names(self.settings) if n in GUARD_COMPARISONS]
        tables = level_weights(self.settings)
        raw = ", ".join(f'"mw_{n}" AS "raw_{n}"' for n in names)
        for sdf in self._predictions():
            self.sdfs.append(sdf)
            reader = self.session.db._con.sql(
                "SELECT least(row_key_l, row_key_r) AS l, "
                "greatest(row_key_l, row_key_r) AS r, match_weight, match_probability, "
                f"{raw} FROM {sdf.physical_name}"
            ).to_arrow_reader(PASS1_BATCH_ROWS)
            for tbl in reader:
                self.pairs_scored += tbl.num_rows
                df = pd.DataFrame(
                    {
                        "l": tbl.column("l").to_numpy().astype(np.int64),
                        "r": tbl.column("r").to_numpy().astype(np.int64),
                        "match_weight": tbl.column("match_weight").to_numpy(zero_copy_only=False),
                        "match_probability": tbl.column("match_probability").to_numpy(
                            zero_copy_only=False
                        ),
                    }
                )
                for n in names:
                    raw_w = tbl.column(f"raw_{n}").to_numpy(zero_copy_only=False)
                    df[f"lbl_{n}"] = _labels(raw_w, tables[n])
                del tbl
                yield df
            del reader

    def _register_wanted(self, left: np.ndarray, right: np.ndarray) -> tuple[Any, int]:
        """Register the wanted pairs' codes (``l * n + r``) as ``adapt_want``
        (the caller unregisters it): the connection and ``n``."""
        con = self.session.db._con
        if self.memory_limit:  # the semi-join's hash table needs room
            self.set_memory_limit(self.memory_limit)
        n = int(self.n_rows)
        want = np.unique(np.asarray(left, np.int64) * n + np.asarray(right, np.int64))
        con.register("adapt_want", pa.table({"code": pa.array(want)}))
        return con, n

    def fetch(self, left: np.ndarray, right: np.ndarray) -> pd.DataFrame:
        """Full scored columns of pairs (``l`` < ``r``, positions), ordered by (l, r).

        Chunk table by chunk table, each semi-joined in DuckDB to the wanted
        pair codes (a hash table of the wanted pairs only): only those pairs
        leave DuckDB, and no join or sort runs over all pairs at once.
        """
        names = comparison_names(self.settings)
        con, n = self._register_wanted(left, right)
        parts = []
        try:
            for s in self.sdfs:
                tbl = con.sql(
                    f"SELECT * FROM ({_pairs_sql([s], self.settings, names)}) "
                    f"WHERE l * {n}::BIGINT + r IN (SELECT code FROM adapt_want)"
                ).to_arrow_table()
                parts.append(tbl)
                del tbl
                s.drop_table_from_database_and_remove_from_cache()
        finally:
            con.unregister("adapt_want")
        self.sdfs = []
        if not parts:
            return _frame(con.sql(_no_pairs_sql(names)).to_arrow_table(), self.settings, names)
        tbl = pa.concat_tables(parts)
        del parts
        order = np.lexsort((tbl.column("r").to_numpy(), tbl.column("l").to_numpy()))
        return _frame(tbl.take(pa.array(order)), self.settings, names)

    def fetch_batches(self, left: np.ndarray, right: np.ndarray, batch_rows: int) -> Any:
        """:meth:`fetch`, handed out ``batch_rows`` pairs at a time, in (l, r) order.

        The wanted pairs are gathered into one DuckDB table (each chunk table
        dropped once read), then read back sorted a batch at a time: DuckDB
        sorts past its memory limit on disk, so memory here holds one batch
        whatever the number of pairs. Yields at least one (maybe empty) frame.
        """
        names = comparison_names(self.settings)
        con, n = self._register_wanted(left, right)
        empty = _no_pairs_sql(names)
        try:
            con.execute(f"CREATE TEMP TABLE adapt_kept AS {empty}")
            for s in self.sdfs:
                con.execute(
                    f"INSERT INTO adapt_kept SELECT * FROM "
                    f"({_pairs_sql([s], self.settings, names)}) "
                    f"WHERE l * {n}::BIGINT + r IN (SELECT code FROM adapt_want)"
                )
                s.drop_table_from_database_and_remove_from_cache()
        finally:
            con.unregister("adapt_want")
        self.sdfs = []
        try:
            reader = con.sql("SELECT * FROM adapt_kept ORDER BY l, r").to_arrow_reader(
                int(batch_rows)
            )
            sent = False
            for batch in reader:
                if batch.num_rows:
                    sent = True
                    yield _frame(pa.Table.from_batches([batch]), self.settings, names)
            if not sent:
                yield _frame(con.sql(empty).to_arrow_table(), self.settings, names)
            del reader
        finally:
            con.execute("DROP TABLE IF EXISTS adapt_kept")


def score(
    rows: pd.DataFrame,
    settings: dict[str, Any],
    *,
    threshold_weight: float,
    chunks: int = 1,
    threads: int = 2,
    memory_limit: str | None = "auto",
) -> pd.DataFrame:
    """Blocked pairs within ``rows`` with match weight ≥ ``threshold_weight``.

    Pairs name rows by position (``l`` < ``r``, int64), ordered by (l, r).
    ``memory_limit``: DuckDB's, as :class:`Scorer`'s.
    """
    from splink import Linker

    session = _Session(threads, _memory(memory_limit, len(rows)))
    try:
        frame = splink_frame(rows, ids=np.arange(len(rows)))
        sdf = session.db.register(frame, table_name="adapt_rows")
        del frame
        linker = Linker(sdf, _predict_settings(settings), log_level=logging.WARNING)
        kw: dict[str, Any] = {"threshold_match_weight": threshold_weight, "warning_mode": "never"}
        if chunks > 1:
            kw.update(num_chunks_left=chunks, num_chunks_right=chunks)
        return _fetch(session.db, [linker.inference.predict(**kw)], settings)
    finally:
        session.close()


def score_new(
    existing: pd.DataFrame,
    new: pd.DataFrame,
    settings: dict[str, Any],
    *,
    threshold_weight: float,
    threads: int = 2,
    memory_limit: str | None = "auto",
) -> pd.DataFrame:
    """Blocked pairs new × existing and new × new (never existing × existing).

    Rows are named by position in ``existing`` followed by ``new``.
    ``memory_limit``: DuckDB's, as :class:`Scorer`'s (sized on all the rows).
    """
    from splink import Linker

    session = _Session(threads, _memory(memory_limit, len(existing) + len(new)))
    db = session.db
    try:
        n_old = len(existing)
        keep = list(dict.fromkeys([*SPLINK_COLUMNS, *TF_COLUMNS]))
        pop = pd.concat([existing.loc[:, keep], new.loc[:, keep]], ignore_index=True)
        pop_frame = splink_frame(pop, with_tf=False, ids=np.arange(len(pop)))
        old_sdf = db.register(pop_frame.slice(0, n_old), table_name="adapt_existing")
        new_sdf = db.register(pop_frame.slice(n_old), table_name="adapt_new")
        linker = Linker(new_sdf, _predict_settings(settings), log_level=logging.WARNING)
        # Term frequencies of the whole population (existing + new), registered as lookups.
        for c in TF_COLUMNS:
            counts = pop[c].value_counts()
            tf = pd.DataFrame(
                {c: counts.index.astype(str), f"tf_{c}": (counts / counts.sum()).to_numpy()}
            )
            tf_sdf = db.register(tf, table_name=f"adapt_tf_{c}")
            linker.table_management.register_term_frequency_lookup(tf_sdf, c)
        del pop
        kw: dict[str, Any] = {"threshold_match_weight": threshold_weight, "warning_mode": "never"}
        between = linker.inference.predict_between(old_sdf, new_sdf, **kw)
        within = linker.inference.predict_within(new_sdf, **kw)
        return _fetch(db, [between, within], settings)
    finally:
        session.close()


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


def _labels(mw: np.ndarray, table: list[tuple[str, float]]) -> pd.Categorical:
    """Level label of each pair from its (pre-TF) comparison weight.

    splink 5 does not return comparison vectors from ``predict``; each level
    has its own weight, so the weight identifies the level (the null level is
    tried first, as splink does).
    """
    labels = [t[0] for t in table]
    weights = np.array([t[1] for t in table], dtype="float64")
    mw = np.asarray(mw, dtype="float64")
    codes = np.zeros(len(mw), dtype=np.int8)
    best = np.full(len(mw), np.inf)
    for i, w in enumerate(weights):  # one pass per level: no (pairs x levels) matrix
        d = np.abs(mw - w)
        d[np.isnan(d)] = np.inf
        better = d < best
        codes[better] = i
        best[better] = d[better]
    cats = list(dict.fromkeys(labels))
    remap = np.array([cats.index(x) for x in labels], dtype=np.int8)
    return pd.Categorical.from_codes(remap[codes], categories=cats)


def _tf_cols(settings: dict[str, Any], name: str) -> set[str]:
    for comp in settings["comparisons"]:
        if comp["output_column_name"] == name:
            return {
                lv["tf_adjustment_column"]
                for lv in comp["comparison_levels"]
                if lv.get("tf_adjustment_column")
            }
    return set()
