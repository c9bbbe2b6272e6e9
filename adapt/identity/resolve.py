"""Resolution runs: whole population and incremental.

Owns :func:`resolve` and :func:`resolve_incremental`, which wire the stages
together (splink scoring → incident context → decisions → guarded clusters)
and the :class:`Resolution` they return. Both take the guards on automatic
merges as an optional :class:`~adapt.identity.guards.Guards` (default: every
guard on, with its documented defaults).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from adapt.identity import splink_adapter
from adapt.identity.cluster import (
    DECISIONS,
    _override_frame,
    build_clusters,
    decide,
    override_positions,
    spanning_forest,
)
from adapt.identity.context import ContextRows, add_context, context_rows
from adapt.identity.guards import Guards, dob_numbers
from adapt.identity.model import IdentityModel
from adapt.identity.normalise import prepare_rows

LOG = logging.getLogger(__name__)
LINK_BASE = (
    "row_key_l",
    "row_key_r",
    "match_weight",
    "match_probability",
    "context_weight",
    "final_weight",
    "accepted",
    "decision",
    "context",
)
# Links kept: accepted or analyst-decided pairs, and every pair with match
# probability at or above this floor (the lower edge of the review band) or
# the model's keep_probability, whichever is higher. Pairs below it are never
# shown to an analyst and never joined, so storing them only costs space
# (at 0.05 the 1M-incident extract kept about 8 pairs per row).
LINK_FLOOR_PROBABILITY = 0.3
# Accepted links above this probability (the upper edge of the default review
# band) are kept as a strongest spanning forest of each cluster: enough to show
# what joins a person, and O(rows) where all of them grow with the square of
# cluster size. Accepted links in the band are all kept, so the review queue's
# bridge test sees the same structure.
FOREST_ABOVE_PROBABILITY = 0.95
ANALYST = ("analyst: same", "analyst: not same")
BELOW = "below threshold"
PAUSED_DUCKDB_MEMORY = "256MB"
# Prediction chunks per side: at least the model's, and more only for inputs
# past this many rows per side-chunk. One splink predict over everything is
# far cheaper than chunks (each chunk re-runs the blocking joins), and DuckDB
# spills its tables past its memory limit; the first pass streams the scored
# pairs out in batches, so memory does not grow with the number of pairs.
ROWS_PER_CHUNK = 4_000_000
# Context columns read by the second stage; with the splink columns, all an
# incremental run needs of the existing rows.
CONTEXT_COLUMNS = (
    "occasion",
    "role_group",
    "inc_addr_key",
    "inc_pc",
    "month",
    "dob_key",
    "dob_jan1",
)

# Every column of prepare_rows' output that resolve, resolve_incremental and
# the pair scorers read (a caller may drop the others before resolving).
ENGINE_COLUMNS = tuple(dict.fromkeys([*splink_adapter.SPLINK_COLUMNS, *CONTEXT_COLUMNS]))


@dataclass(frozen=True)
class LinkSummary:
    """What the review queue reads of the kept links, as small arrays.

    ``left``, ``right``: positions in the resolution's ``clusters`` of each
    link's two rows (``row_key_l``, ``row_key_r``); ``probability``: match
    probability (0 where missing); ``decision``: the decision (categorical);
    ``accepted``. Links between two rows of one cluster that were not
    accepted change nothing an analyst could decide and may be left out.
    """

    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray
    decision: pd.Categorical
    accepted: np.ndarray

    @classmethod
    def from_links(cls, links: pd.DataFrame, clusters: pd.DataFrame) -> LinkSummary:
        """The summary of a links frame (links naming rows outside ``clusters`` left out)."""
        keys = pd.Index(clusters["row_key"].astype("string"))
        pl = keys.get_indexer(links["row_key_l"].astype("string"))
        pr = keys.get_indexer(links["row_key_r"].astype("string"))
        known = (pl >= 0) & (pr >= 0)
        return cls(
            left=pl[known],
            right=pr[known],
            probability=links["match_probability"].fillna(0).to_numpy(dtype="float64")[known],
            decision=pd.Categorical(links["decision"])[known],
            accepted=links["accepted"].to_numpy(dtype=bool)[known],
        )


class LinkBatches:
    """Kept links, written batch by batch to a private temporary Parquet file
    and read back the same way (see :func:`resolve` ``batch_rows``): the links
    of a large force are never one frame in memory.

    Iterating yields the links in order as frames of at most ``batch_rows``
    rows (level labels, decision and context as Arrow text, not categorical).
    :meth:`frame` reads them all at once (for small extracts and tests);
    :meth:`close` removes the file.
    """

    def __init__(self, batch_rows: int) -> None:
        self.batch_rows = int(batch_rows)
        self.folder = Path(tempfile.mkdtemp(prefix="adapt-links-"))
        self.path = self.folder / "links.parquet"
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def __len__(self) -> int:
        return self.rows

    def write(self, links: pd.DataFrame) -> None:
        tbl = pa.Table.from_pandas(links, preserve_index=False)
        # categorical columns as plain text (each batch has its own categories)
        for i, f in enumerate(tbl.schema):
            if pa.types.is_dictionary(f.type):
                col = pa.chunked_array(
                    [c.dictionary_decode() for c in tbl.column(i).chunks], f.type.value_type
                )
                tbl = tbl.set_column(i, f.name, col)
        tbl = tbl.replace_schema_metadata(None)
        if self._writer is None:
            # labels, decision and context are text (an all-missing column too)
            self._schema = pa.schema(
                [
                    pa.field(f.name, pa.string())
                    if f.name in ("context", "decision")
                    or f.name.startswith("lbl_")
                    or pa.types.is_null(f.type)
                    else f
                    for f in tbl.schema
                ]
            )
            self._writer = pq.ParquetWriter(self.path, self._schema, compression="zstd")
        tbl = tbl.select(self._schema.names).cast(self._schema)
        self._writer.write_table(tbl, row_group_size=self.batch_rows)
        self.rows += len(links)

    def finish(self) -> LinkBatches:
        if self._writer is not None:
            self._writer.close()
        return self

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._schema is None:
            return
        reader = pq.ParquetFile(self.path)
        for batch in reader.iter_batches(batch_size=self.batch_rows):
            yield batch.to_pandas()

    def frame(self) -> pd.DataFrame:
        parts = list(self)
        if not parts:
            return pd.DataFrame(columns=list(LINK_BASE))
        return pd.concat(parts, ignore_index=True)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class Resolution:
    """Who is who: clusters, the links behind them, and the model used.

    ``clusters`` has every input row once (``row_key``, ``cluster`` int64).
    ``links`` holds kept pairs (probability ≥ ``max(keep_probability, 0.3)``,
    accepted, or decided by an analyst) with per-comparison ``mw_*`` and
    ``lbl_*``, ordered by row position, ``row_key_l`` < ``row_key_r``: a frame,
    or with :func:`resolve`'s ``batch_rows``, :class:`LinkBatches` (the same
    rows, batch by batch, from a temporary file; close it when done). Of the
    accepted pairs inside one cluster with probability above
    ``FOREST_ABOVE_PROBABILITY``, :func:`resolve` keeps a strongest spanning
    forest (every row is still joined to its cluster by kept links); of the
    pairs below the threshold between two clusters, it keeps the strongest of
    each pair of clusters (the one the review queue would offer; ties broken
    as it breaks them). Pairs a guard or an analyst decided are all kept.
    ``guards`` are the guards the run used (``guards.model_dump()`` is their
    JSON, to store beside the model). ``link_summary``: what the review queue
    reads of the links (made by :func:`resolve`; else the review queue makes
    it from ``links``).
    """

    clusters: pd.DataFrame
    links: pd.DataFrame | LinkBatches
    model_json: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    guards: Guards = field(default_factory=Guards)
    link_summary: LinkSummary | None = None

    def summary(self) -> LinkSummary:
        """:attr:`link_summary`, made from the links frame when the run made none."""
        if self.link_summary is not None:
            return self.link_summary
        links = self.links.frame() if isinstance(self.links, LinkBatches) else self.links
        return LinkSummary.from_links(links, self.clusters)

    def guarded_links(self) -> pd.DataFrame:
        """The links a guard decided (``row_key_l``, ``row_key_r``, ``decision``):
        what explains a split. From a links frame, the frame itself; from
        :class:`LinkBatches`, those between two clusters, out of the summary."""
        if not isinstance(self.links, LinkBatches):
            return self.links
        s = self.summary()
        decision = pd.Series(s.decision)
        hit = decision.astype("string").str.startswith("guard:").fillna(False).to_numpy(bool)
        keys = self.clusters["row_key"].astype("string").array
        return pd.DataFrame(
            {
                "row_key_l": keys.take(s.left[hit]),
                "row_key_r": keys.take(s.right[hit]),
                "decision": decision[hit].astype("string").to_numpy(),
            }
        )

    def links_frame(self) -> pd.DataFrame:
        """The links as one frame (reads a :class:`LinkBatches` whole)."""
        return self.links.frame() if isinstance(self.links, LinkBatches) else self.links

    def close(self) -> None:
        """Remove the links' temporary file, if any."""
        if isinstance(self.links, LinkBatches):
            self.links.close()


def _ensure_prepared(rows: pd.DataFrame) -> pd.DataFrame:
    return rows if "fn_canon" in rows.columns else prepare_rows(rows)


def _keep_probability(model: IdentityModel) -> float:
    return max(float(model.keep_probability), LINK_FLOOR_PROBABILITY)


def _keep_weight(model: IdentityModel) -> float:
    p = _keep_probability(model)
    floor = float(np.log2(p / (1 - p)))
    reach = model.threshold_weight - model.victim_context_weight - model.place_context_weight
    return min(floor, reach)


def _chunks(model: IdentityModel, n: int) -> int:
    return max(int(model.predict_chunks), int(np.ceil(np.sqrt(n / ROWS_PER_CHUNK))))


def _key_rank(keys: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """Row keys as Arrow text and each row's rank in their text order."""
    karr = pa.array(keys.astype("string").to_numpy(dtype=object, na_value=None), pa.string())
    rank = np.empty(len(karr), dtype=np.int64)
    rank[pc.sort_indices(karr).to_numpy()] = np.arange(len(karr))
    return karr, rank


def _finish_links(
    decided: pd.DataFrame,
    keys: pd.Series,
    model: IdentityModel,
    key_rank: tuple[pa.Array, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Kept links, row positions replaced by row keys (l < r as text)."""
    return _finish_links_at(decided, keys, model, key_rank)[0]


def _finish_links_at(
    decided: pd.DataFrame,
    keys: pd.Series | None,
    model: IdentityModel,
    key_rank: tuple[pa.Array, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """:func:`_finish_links`, and the row positions of each link's two rows."""
    keep = (
        (decided["match_probability"].fillna(0).to_numpy() >= _keep_probability(model))
        | decided["accepted"].to_numpy(dtype=bool)
        | decided["decision"].isin(["analyst: same", "analyst: not same"]).to_numpy(dtype=bool)
    )
    out = decided.loc[keep]
    la, ra = out["l"].to_numpy(), out["r"].to_numpy()
    # text order of the keys, so each pair has one spelling (row_key_l < row_key_r)
    karr, rank = _key_rank(keys) if key_rank is None else key_rank
    swap = rank[la] > rank[ra]
    lo, hi = np.where(swap, ra, la), np.where(swap, la, ra)
    links = pd.DataFrame(
        {
            # Arrow-backed text straight from Arrow (no Python string per link)
            "row_key_l": pd.arrays.ArrowStringArray(karr.take(pa.array(lo))),
            "row_key_r": pd.arrays.ArrowStringArray(karr.take(pa.array(hi))),
        }
    )
    for c in LINK_BASE[2:]:
        links[c] = out[c].array
    links["accepted"] = links["accepted"].astype(bool)
    # decision, context and level labels stay categorical (text values, a
    # fraction of the memory of one string per link)
    for c in (c for c in out.columns if c.startswith(("mw_", "lbl_"))):
        v = out[c]
        links[c] = v.to_numpy("float64") if c.startswith("mw_") else v.array
    return links, lo, hi


def _score_and_decide(
    pairs: pd.DataFrame,
    cx: ContextRows,
    model: IdentityModel,
    must: tuple[np.ndarray, np.ndarray],
    cannot: tuple[np.ndarray, np.ndarray],
    guards: Guards,
) -> pd.DataFrame:
    pairs = add_context(
        pairs,
        cx,
        victim_weight=model.victim_context_weight,
        place_weight=model.place_context_weight,
    )
    return decide(
        pairs,
        n=len(cx.occ),
        threshold_weight=model.threshold_weight,
        must=must,
        cannot=cannot,
        rows=cx,
        guards=guards,
    )


def _accepted_edges(decided: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    acc = decided["accepted"].to_numpy(dtype=bool)
    return (
        decided["l"].to_numpy()[acc],
        decided["r"].to_numpy()[acc],
        decided["final_weight"].to_numpy(dtype="float64")[acc],
    )


def resolve(
    rows: pd.DataFrame,
    model: IdentityModel,
    *,
    must_link: pd.DataFrame | None = None,
    cannot_link: pd.DataFrame | None = None,
    guards: Guards | None = None,
    scorer: Callable[..., Any] | None = None,
    batch_rows: int | None = None,
) -> Resolution:
    """Resolve every row of ``rows`` (output of :func:`prepare_rows`) into people.

    Deterministic: the same rows (in the same order), model and ``guards``
    (default ``Guards()``) give the same clusters and links.

    ``scorer`` makes the pair scorer, called as ``scorer(rows, settings,
    threshold_weight=, chunks=, threads=)`` and used as a context manager that
    yields scored chunks (default :class:`splink_adapter.Scorer`, DuckDB; the
    Spark engine passes its own). Everything after scoring is the same.

    ``batch_rows``: make the links that many kept pairs at a time and write
    them to a temporary file as they are made (``links`` is then
    :class:`LinkBatches`, the same rows in the same order; close the
    resolution when done): memory for the last pass does not grow with the
    links. Default: one links frame.

    Examples
    --------
    Robert and Bob Smith (same date of birth and home) and Alice Jones, with
    the model committed with ADAPT; columns not given are missing:

    >>> from adapt.core.person_rows import PERSON_ROW_COLUMNS
    >>> from adapt.core.resources import model_file
    >>> rows = pd.DataFrame(
    ...     {
    ...         "row_key": ["involvements:1", "involvements:2", "involvements:3"],
    ...         "forename": ["Robert", "Bob", "Alice"],
    ...         "surname": ["Smith", "Smith", "Jones"],
    ...         "date_of_birth": pd.to_datetime(["1980-02-01", "1980-02-01", "1991-07-30"]),
    ...         "home_address": ["12 High St", "12 High Street", "3 Mill Lane"],
    ...         "home_postcode": ["LE1 2AB", "LE1 2AB", "LE2 9ZZ"],
    ...     }
    ... ).reindex(columns=PERSON_ROW_COLUMNS)
    >>> res = resolve(rows, IdentityModel.load(str(model_file("identity-splink.json"))))
    >>> res.clusters["cluster"].tolist()
    [0, 0, 1]
    >>> res.links[["row_key_l", "row_key_r", "accepted", "lbl_forename"]].values.tolist()
    [['involvements:1', 'involvements:2', True, 'nickname']]
    """
    model.check_is_fitted()
    guards = guards or Guards()
    rows = _ensure_prepared(rows).reset_index(drop=True)
    n = len(rows)
    keys = pd.Index(rows["row_key"].astype("string"))
    must = override_positions(_override_frame(must_link), keys)
    cannot = override_positions(_override_frame(cannot_link), keys)
    del keys
    t: dict[str, float] = {}
    keep_p = _keep_probability(model)
    t0 = time.perf_counter()
    cx = context_rows(rows)  # coded once, read by every chunk
    # What is read of the rows after scoring; the scorer gets only what it
    # reads (the context columns are let go before it copies the rows).
    kept = rows[["row_key", "occasion"]]
    rows = rows[list(splink_adapter.SPLINK_COLUMNS)]
    make_scorer = scorer or splink_adapter.Scorer
    with make_scorer(
        rows,
        model.settings_json_,
        threshold_weight=_keep_weight(model),
        chunks=_chunks(model, n),
        threads=model.threads,
    ) as scorer:
        rows = kept  # the scorer has its own copy
        del kept
        # Pass 1, chunk by chunk: decisions; keep accepted edges (positions and
        # weight) and the positions, probability and decision of other kept
        # pairs, nothing else.
        acc_parts: list[tuple[np.ndarray, ...]] = []
        other_parts: list[tuple[np.ndarray, ...]] = []
        for chunk in scorer.chunks():
            d = _score_and_decide(chunk, cx, model, must, cannot, guards)
            del chunk
            scored = d["match_weight"].notna().to_numpy()  # analyst pairs come in pass 2
            acc = d["accepted"].to_numpy(dtype=bool) & scored
            la, ra = d["l"].to_numpy(), d["r"].to_numpy()
            fw = d["final_weight"].to_numpy(dtype="float64")
            p = d["match_probability"].fillna(0).to_numpy(dtype="float64")
            acc_parts.append(
                (
                    la[acc].astype(np.int32),
                    ra[acc].astype(np.int32),
                    fw[acc],
                    p[acc] > FOREST_ABOVE_PROBABILITY,
                )
            )
            other = scored & ~acc & ((p >= keep_p) | d["decision"].isin(ANALYST).to_numpy(bool))
            below = (d["decision"] == BELOW).to_numpy(dtype=bool)
            other_parts.append(
                (la[other].astype(np.int32), ra[other].astype(np.int32), p[other], below[other])
            )
            del d, la, ra, fw, p, below
        t["score_decide"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # While clustering, DuckDB keeps the scored chunks on disk, not in memory.
        if hasattr(scorer, "set_memory_limit"):
            scorer.set_memory_limit(PAUSED_DUCKDB_MEMORY)
        # A tiny extract may have no candidate pairs at all: one empty part each.
        empty = (np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0), np.empty(0, bool))
        acc_parts = acc_parts or [empty]
        other_parts = other_parts or [empty]
        # No sort needed: the clustering and the forest do not depend on edge order.
        ea, eb, ew, ep = (np.concatenate(x) for x in zip(*acc_parts, strict=True))
        del acc_parts
        key_rank = _key_rank(rows["row_key"])
        labels = build_clusters(
            n,
            cx.dob,
            rows["occasion"],
            (ea, eb, ew),
            must,
            cannot,
            rank=key_rank[1],
            guards=guards,
        )
        t["cluster"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        # Links kept of the accepted pairs: a strongest spanning forest of each
        # cluster's strong links, every accepted link in the review band, and
        # accepted links the repair pass left between clusters.
        inside = labels[ea] == labels[eb]
        strong = np.flatnonzero(inside & ep)
        keep = ~inside | ~ep
        keep[strong[spanning_forest(n, ea[strong], eb[strong], ew[strong])]] = True
        n_accepted = len(ea)
        ka, kb = ea[keep], eb[keep]
        del ea, eb, ew, ep, inside, strong, keep
        # Links kept of the other pairs: all inside a cluster, all a guard or an
        # analyst decided, and of those below the threshold between two
        # clusters the strongest of each pair of clusters (what the review
        # queue offers as a possible missed merge).
        oa, ob, op, obelow = (np.concatenate(x) for x in zip(*other_parts, strict=True))
        del other_parts
        thin = np.flatnonzero(obelow & (labels[oa] != labels[ob]))
        del obelow
        keep_o = np.ones(len(oa), dtype=bool)
        keep_o[thin] = False
        best = _strongest_per_cluster_pair(labels, oa[thin], ob[thin], op[thin], key_rank[1])
        keep_o[thin[best]] = True
        del thin, op, best
        ka, kb = np.concatenate([ka, oa[keep_o]]), np.concatenate([kb, ob[keep_o]])
        LOG.info(
            "%d pairs scored, %d accepted, %d kept as links",
            scorer.pairs_scored,
            n_accepted,
            len(ka),
        )
        del oa, ob, keep_o
        t["forest"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if batch_rows is None:
            # one frame, decided once the scorer (and its DuckDB memory) is closed
            fetched: Any = [scorer.fetch(ka, kb)]
        else:
            fetched = _fetch_batches(scorer, ka, kb, int(batch_rows))
        del ka, kb
        if batch_rows is not None:
            spill = LinkBatches(int(batch_rows))
            try:
                links, summary = _last_pass(
                    fetched, cx, model, must, cannot, guards, labels, key_rank, spill
                )
            except BaseException:
                spill.close()
                raise
    if batch_rows is None:
        links, summary = _last_pass(fetched, cx, model, must, cannot, guards, labels, key_rank)
    del fetched, cx
    clusters = pd.DataFrame(
        {"row_key": rows["row_key"].astype("string").to_numpy(), "cluster": labels.astype(np.int64)}
    )
    t["links"] = time.perf_counter() - t0
    LOG.info("resolved %d rows into %d clusters", n, int(clusters["cluster"].nunique()))
    return Resolution(clusters, links, model.to_json(), t, guards, summary)


def _fetch_batches(scorer: Any, ka: np.ndarray, kb: np.ndarray, batch_rows: int) -> Any:
    """The scorer's kept pairs in (l, r) order, at most ``batch_rows`` at a time
    (at least one frame, maybe empty). A scorer without ``fetch_batches``
    fetches them all at once, handed on in slices."""
    if hasattr(scorer, "fetch_batches"):
        yield from scorer.fetch_batches(ka, kb, batch_rows)
        return
    frame = scorer.fetch(ka, kb)
    for start in range(0, max(len(frame), 1), batch_rows):
        yield frame.iloc[start : start + batch_rows].reset_index(drop=True)


def _with_overrides(
    batches: Any, n: int, must: tuple[np.ndarray, np.ndarray], cannot: tuple[np.ndarray, np.ndarray]
) -> Iterator[tuple[pd.DataFrame, tuple[np.ndarray, ...], tuple[np.ndarray, ...]]]:
    """Each batch of pairs with the analyst pairs it holds; the last batch also
    with every analyst pair no batch held (which :func:`decide` appends at its
    end, as it would to all the pairs in one frame)."""
    codes = [p[0].astype(np.int64) * n + p[1] for p in (must, cannot)]
    seen = [np.zeros(len(c), dtype=bool) for c in codes]
    pending: pd.DataFrame | None = None
    for frame in batches:
        if pending is not None:
            code = pending["l"].to_numpy(np.int64) * n + pending["r"].to_numpy(np.int64)
            hit = [np.isin(c, code) for c in codes]
            for s, h in zip(seen, hit, strict=True):
                s |= h
            yield pending, *(
                (p[0][h], p[1][h]) for p, h in zip((must, cannot), hit, strict=True)
            )  # fmt: skip
        pending = frame
    assert pending is not None  # the scorer yields at least one (maybe empty) batch
    yield pending, *((p[0][~s], p[1][~s]) for p, s in zip((must, cannot), seen, strict=True))


def _last_pass(
    batches: Any,
    cx: ContextRows,
    model: IdentityModel,
    must: tuple[np.ndarray, np.ndarray],
    cannot: tuple[np.ndarray, np.ndarray],
    guards: Guards,
    labels: np.ndarray,
    key_rank: tuple[pa.Array, np.ndarray],
    out: LinkBatches | None = None,
) -> tuple[pd.DataFrame | LinkBatches, LinkSummary]:
    """Decide the kept pairs batch by batch and make their links: one frame,
    or written to ``out`` as they are made; and the links' summary."""
    n = len(cx.occ)
    frames: list[pd.DataFrame] = []
    parts: list[tuple[np.ndarray, ...]] = []
    for pairs, must_b, cannot_b in _with_overrides(batches, n, must, cannot):
        decided = _score_and_decide(pairs, cx, model, must_b, cannot_b, guards)
        del pairs
        links, lo, hi = _finish_links_at(decided, None, model, key_rank)
        del decided
        acc = links["accepted"].to_numpy(dtype=bool)
        # links inside one cluster that were not accepted are nothing to review
        keep = acc | (labels[lo] != labels[hi])
        parts.append(
            (
                lo[keep].astype(np.int32),
                hi[keep].astype(np.int32),
                links["match_probability"].fillna(0).to_numpy(dtype="float64")[keep],
                np.asarray(links["decision"].array.codes)[keep],
                acc[keep],
            )
        )
        if out is None:
            frames.append(links)
        else:
            out.write(links)
        del links
    left, right, p, codes, acc = (np.concatenate(x) for x in zip(*parts, strict=True))
    summary = LinkSummary(
        left, right, p, pd.Categorical.from_codes(codes, categories=list(DECISIONS)), acc
    )
    if out is not None:
        return out.finish(), summary
    return (frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)), summary


def _strongest_per_cluster_pair(
    labels: np.ndarray, a: np.ndarray, b: np.ndarray, p: np.ndarray, rank: np.ndarray
) -> np.ndarray:
    """Index of the strongest pair (a, b) of each pair of clusters.

    Ties are broken as the review queue breaks them: by the position of the
    text-smaller row key, then of the other.
    """
    if not len(a):
        return np.zeros(0, dtype=np.int64)
    ca, cb = labels[a].astype(np.int64), labels[b].astype(np.int64)
    code = np.minimum(ca, cb) * (int(labels.max()) + 1) + np.maximum(ca, cb)
    del ca, cb
    swap = rank[a] > rank[b]
    tie = np.where(swap, b, a).astype(np.int64) * len(labels) + np.where(swap, a, b)
    del swap
    order = np.lexsort((tie, -p, code))
    del tie
    code = code[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = code[1:] != code[:-1]
    return order[first]


def resolve_incremental(
    existing_rows: pd.DataFrame,
    existing_clusters: pd.DataFrame,
    new_rows: pd.DataFrame,
    model: IdentityModel,
    *,
    must_link: pd.DataFrame | None = None,
    cannot_link: pd.DataFrame | None = None,
    guards: Guards | None = None,
) -> Resolution:
    """Add ``new_rows`` to an existing resolution, comparing only new rows.

    New rows are scored against existing rows (through the blocking rules)
    and against each other. Existing clusters are kept whole; a new row that
    links two of them merges them (the merged cluster takes the smaller id).
    ``clusters`` covers the new rows and every existing row of a cluster a
    new row joined; new-only clusters get ids above the existing maximum.
    Both row frames are :func:`prepare_rows` output. ``guards`` as for
    :func:`resolve`; existing clusters are kept whole whatever they say.
    """
    model.check_is_fitted()
    guards = guards or Guards()
    existing_rows = _ensure_prepared(existing_rows)
    new_rows = _ensure_prepared(new_rows)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    # The population: existing rows (only the columns scoring and context read)
    # then new rows; pairs name rows by position in it.
    cols = list(
        dict.fromkeys(
            [*splink_adapter.SPLINK_COLUMNS, *CONTEXT_COLUMNS, "ref", "fn_canon", "sn", "dob"]
        )
    )
    pop = pd.concat([existing_rows.loc[:, cols], new_rows.loc[:, cols]], ignore_index=True)
    n_old = len(existing_rows)
    keys = pd.Index(pop["row_key"].astype("string"))
    must = override_positions(_override_frame(must_link), keys)
    cannot = override_positions(_override_frame(cannot_link), keys)
    t["gather"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs = splink_adapter.score_new(
        existing_rows.loc[:, list(splink_adapter.SPLINK_COLUMNS)],
        new_rows,
        model.settings_json_,
        threshold_weight=_keep_weight(model),
        threads=model.threads,
    )
    t["score"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cx = context_rows(pop)
    decided = _score_and_decide(pairs, cx, model, must, cannot, guards)
    del pairs, cx
    t["context_decide"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    ea, eb, ew = _accepted_edges(decided)
    # existing cluster of each population row (-1: new row)
    ec = existing_clusters.loc[:, ["row_key", "cluster"]]
    old_cl = np.full(len(pop), -1, dtype=np.int64)
    pos = keys.get_indexer(ec["row_key"].astype("string"))
    ok = (pos >= 0) & (pos < n_old)
    old_cl[pos[ok]] = ec["cluster"].to_numpy(dtype=np.int64)[ok]
    hit = np.unique(np.concatenate([ea, eb, must[0], must[1]]))
    hit_clusters = np.unique(old_cl[hit][old_cl[hit] >= 0])
    member = np.flatnonzero(np.isin(old_cl, hit_clusters) & (np.arange(len(pop)) < n_old))
    sub_pos = np.concatenate([member, np.arange(n_old, len(pop))])
    local = np.full(len(pop), -1, dtype=np.int64)
    local[sub_pos] = np.arange(len(sub_pos))

    def loc(a: np.ndarray, b: np.ndarray, *rest: np.ndarray) -> tuple[np.ndarray, ...]:
        la, lb = local[a], local[b]
        ok = (la >= 0) & (lb >= 0)
        return (la[ok], lb[ok], *(x[ok] for x in rest))

    # Existing clusters stay whole: their rows are must-linked in a star.
    mc = old_cl[member]
    order = np.lexsort((member, mc))
    first_of = pd.Series(member[order]).groupby(mc[order]).transform("first").to_numpy()
    star_a, star_b = first_of, member[order]
    keep = star_a != star_b
    sub = pop.iloc[sub_pos]
    labels = build_clusters(
        len(sub_pos),
        dob_numbers(sub),
        sub["occasion"],
        loc(ea, eb, ew),
        loc(np.concatenate([must[0], star_a[keep]]), np.concatenate([must[1], star_b[keep]])),
        loc(*cannot),
        rank=_key_rank(sub["row_key"])[1],
        guards=guards,
    )
    old = old_cl[sub_pos].astype("float64")
    old[old < 0] = np.nan
    lab = pd.DataFrame({"label": labels, "old": old})
    old_min = lab.groupby("label")["old"].min()
    start = int(existing_clusters["cluster"].max()) + 1 if len(existing_clusters) else 0
    fresh = old_min[old_min.isna()].index
    ids = old_min.copy()
    ids.loc[fresh] = start + np.arange(len(fresh))
    clusters = pd.DataFrame(
        {
            "row_key": pop["row_key"].astype("string").to_numpy()[sub_pos],
            "cluster": ids.reindex(labels).to_numpy().astype(np.int64),
        }
    )
    t["cluster"] = time.perf_counter() - t0
    links = _finish_links(decided, pop["row_key"], model)
    return Resolution(clusters, links, model.to_json(), t, guards)
