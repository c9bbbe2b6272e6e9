"""The anchor: a plain splink 5 model trained on the very data it links.

What a competent analyst would write in ten lines from splink's documentation,
with no ADAPT guards, nickname table or incident context:

* comparisons: ``NameComparison`` on forename and on surname,
  ``DateOfBirthComparison`` (ISO text), ``PostcodeComparison``,
  ``JaroWinklerAtThresholds`` on the home address, ``ExactMatch`` on
  person_ref; no term-frequency adjustments (the library's default);
* prediction blocks: same forename and surname, same date of birth, same
  postcode, same person_ref (any one);
* training as documented: the prior by
  ``estimate_probability_two_random_records_match`` from two exact rules
  (forename + DOB, surname + DOB) at recall 0.7 (the docs' example value); u
  by ``estimate_u_using_random_sampling`` (seeded, 1e6 pairs); m by EM on a
  date-of-birth block and on a forename + surname block;
* clusters: ``cluster_pairwise_predictions_at_threshold`` at match
  probability 0.95.

Input is the same contract extract ADAPT reads (person rows of
``involvements.csv``), so both see exactly the same fields.

Run: ``.venv/bin/python benchmarks/plain_splink.py EXTRACT_FOLDER``
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from adapt.contract import read_extract
from adapt.identity import metrics as M
from adapt.identity import person_rows_from_extract

THRESHOLD = 0.95
SEED = 20261204
FIELDS = ("forename", "surname", "date_of_birth", "postcode", "address", "person_ref")


def splink_input(rows: pd.DataFrame) -> pd.DataFrame:
    """Person rows (``person_rows_from_extract``) as the flat, lower-case table splink reads.

    Postcodes are upper-case with their one space as typed (what
    ``PostcodeComparison`` parses); empty text is NULL.
    """
    out = pd.DataFrame({"unique_id": rows["row_key"].astype(str).to_numpy()})
    for src, dst in (("forename", "forename"), ("surname", "surname"), ("home_address", "address")):
        out[dst] = rows[src].astype("string").str.strip().str.lower().to_numpy()
    out["postcode"] = rows["home_postcode"].astype("string").str.strip().str.upper().to_numpy()
    out["person_ref"] = rows["person_ref"].astype("string").str.strip().to_numpy()
    dob = pd.to_datetime(rows["date_of_birth"], errors="coerce")
    out["date_of_birth"] = dob.dt.strftime("%Y-%m-%d").astype("string").to_numpy()
    for c in FIELDS:
        s = out[c].astype(object)
        out[c] = s.where(s.notna() & (s != ""), None)
    return out


def plain_splink_clusters(rows: pd.DataFrame, threshold: float = THRESHOLD) -> pd.Series:
    """Cluster id per row of ``rows`` (aligned), from the plain model described above."""
    df = splink_input(rows)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("forename"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.JaroWinklerAtThresholds("address"),
            cl.ExactMatch("person_ref"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("forename", "surname"),
            block_on("date_of_birth"),
            block_on("postcode"),
            block_on("person_ref"),
        ],
    )
    linker = Linker(
        DuckDBAPI().register(df, table_name="people"), settings, log_level=logging.ERROR
    )
    linker.training.estimate_probability_two_random_records_match(
        [block_on("forename", "date_of_birth"), block_on("surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=SEED)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("forename", "surname")
    )
    pairs = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pairs, threshold)
    got = clusters.as_pandas_dataframe()[["unique_id", "cluster_id"]]
    table = pd.Series(got["cluster_id"].astype(str).to_numpy(), index=got["unique_id"].astype(str))
    out = table.reindex(df["unique_id"].to_numpy())
    # a row splink did not return is its own cluster
    return pd.Series(out.fillna("row:" + df["unique_id"]).to_numpy(), index=rows.index)


def extract_rows(folder: Path | str) -> pd.DataFrame:
    """Person rows of an extract folder (keys ``involvements.csv:{line}``).

    As ADAPT stores them: a MARAC side naming nobody (no ref, forename or
    surname) is not a person row.
    """
    rows = person_rows_from_extract(read_extract(Path(folder)))
    named = rows[["person_ref", "forename", "surname"]].notna().any(axis=1)
    return rows[named].reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--truth", type=Path, help="truth folder (default: FOLDER_truth beside it)")
    args = ap.parse_args()
    rows = extract_rows(args.folder)
    t0 = time.perf_counter()
    clusters = plain_splink_clusters(rows)
    seconds = time.perf_counter() - t0
    truth = args.truth or args.folder.with_name(args.folder.name + "_truth")
    tid = M.truth_ids(rows, str(truth))
    s = M.pairwise_scores(tid, clusters)
    print(
        f"plain splink: precision {s['precision']:.4f} recall {s['recall']:.4f} "
        f"F1 {s['f1']:.4f} ({seconds:.1f} s, {len(rows):,} rows)"
    )


if __name__ == "__main__":
    main()
