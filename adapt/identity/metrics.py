"""Identity accuracy measures against ground truth, without enumerating pairs.

Owns pairwise precision/recall/F1 of a clustering against true person ids
(from the (true, predicted) contingency table: TP = Σ C(n_ij, 2), predicted
pairs = Σ C(n_j, 2), true pairs = Σ C(n_i, 2)), cluster-level B-cubed
precision/recall/F1 from the same table, the two baselines an analyst
would otherwise use (person_ref alone; exact forename+surname+DOB), blocking
recall, and the share of true serial perpetrators the resolved data shows as
serial.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _pairs(counts: pd.Series) -> int:
    c = counts.to_numpy(dtype=np.int64)
    return int((c * (c - 1) // 2).sum())


def pairwise_scores(true_id: pd.Series, cluster: pd.Series) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``cluster`` against ``true_id`` (aligned)."""
    df = pd.DataFrame({"t": true_id.to_numpy(), "p": cluster.to_numpy()})
    tp = _pairs(df.groupby(["t", "p"]).size())
    pred = _pairs(df.groupby("p").size())
    true = _pairs(df.groupby("t").size())
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pairs": true,
        "predicted_pairs": pred,
        "correct_pairs": tp,
        "false_pairs": pred - tp,
    }


def bcubed_scores(true_id: pd.Series, cluster: pd.Series) -> dict[str, float]:
    """B-cubed precision, recall and F1 of ``cluster`` against ``true_id`` (aligned).

    Per row: precision is the share of its cluster that is truly its person,
    recall the share of its true person that is in its cluster; both averaged
    over rows (Bagga and Baldwin, 1998). From the contingency table n_ij (rows
    of true person i in cluster j): precision = Σ n_ij² / n_j / N, recall =
    Σ n_ij² / n_i / N. Unlike pairwise scores, a big person does not count
    quadratically, and a singleton counts at all.
    """
    df = pd.DataFrame({"t": true_id.to_numpy(), "p": cluster.to_numpy()})
    n = len(df)
    if n == 0:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    nij = df.groupby(["t", "p"], dropna=False).size().rename("nij").reset_index()
    ni = df.groupby("t", dropna=False).size().rename("ni")
    nj = df.groupby("p", dropna=False).size().rename("nj")
    nij = nij.join(ni, on="t").join(nj, on="p")
    sq = nij["nij"].to_numpy(dtype=np.float64) ** 2
    precision = float((sq / nij["nj"].to_numpy()).sum() / n)
    recall = float((sq / nij["ni"].to_numpy()).sum() / n)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def baseline_clusters(rows: pd.DataFrame, kind: str) -> np.ndarray:
    """Cluster labels by person_ref alone (``ref``) or exact name+DOB (``name_dob``).

    A row missing the key is a singleton.
    """
    if kind == "ref":
        key = rows["person_ref"].astype("string").str.strip().str.upper()
    elif kind == "name_dob":
        key = (
            rows["forename"].astype("string").str.strip().str.lower()
            + "|"
            + rows["surname"].astype("string").str.strip().str.lower()
            + "|"
            + pd.to_datetime(rows["date_of_birth"]).dt.strftime("%Y-%m-%d").astype("string")
        )
    else:
        raise ValueError(kind)
    codes = pd.factorize(key.to_numpy(dtype=object), use_na_sentinel=True)[0]
    single = codes < 0
    codes = codes.astype(np.int64)
    codes[single] = codes.max(initial=-1) + 1 + np.arange(int(single.sum()))
    return codes


def serial_share(rows: pd.DataFrame, true_id: pd.Series, cluster: pd.Series) -> dict[str, float]:
    """Share of true serial perpetrators whom the clustering shows as serial.

    Serial: a suspect against two or more distinct victims. Truth uses true
    ids; the resolved view uses clusters: a true serial perpetrator is found
    when some cluster of their suspect rows is linked (on an incident) to
    victim rows in two or more distinct clusters.
    """
    df = pd.DataFrame(
        {
            "occasion": rows["occasion"].to_numpy(),
            "role": rows["role_group"].to_numpy(),
            "t": true_id.to_numpy(),
            "c": cluster.to_numpy(),
        }
    )
    df = df[df["occasion"].notna() & df["role"].isin(["suspect", "victim"])]
    s = df[df["role"] == "suspect"]
    v = df[df["role"] == "victim"]
    sv = s.merge(v, on="occasion", suffixes=("_s", "_v"))
    sv = sv[sv["t_s"] != sv["t_v"]]
    true_n = sv.groupby("t_s")["t_v"].nunique()
    serial = true_n.index[true_n >= 2]
    seen = sv.groupby("c_s")["c_v"].nunique()
    serial_clusters = set(seen.index[seen >= 2])
    found = sv[sv["t_s"].isin(serial) & sv["c_s"].isin(serial_clusters)]["t_s"].nunique()
    return {
        "true_serial": len(serial),
        "shown_serial": int(found),
        "share": float(found / len(serial)) if len(serial) else 1.0,
        "clusters_shown_serial": len(serial_clusters),
    }


def truth_ids(rows: pd.DataFrame, truth_dir: str) -> pd.Series:
    """True person id per row (aligned with ``rows``) from generator truth files."""
    from pathlib import Path

    d = Path(truth_dir)
    inv = pd.read_csv(d / "involvements_truth.csv", usecols=["source_row", "person_id"])
    parts = [("involvements.csv:" + inv["source_row"].astype(str), inv["person_id"])]
    if (d / "marac_truth.csv").exists():
        m = pd.read_csv(d / "marac_truth.csv")
        parts.append(
            ("marac.csv:" + m["source_row"].astype(str) + ":victim", m["victim_person_id"])
        )
        parts.append(
            (
                "marac.csv:" + m["source_row"].astype(str) + ":perpetrator",
                m["perpetrator_person_id"],
            )
        )
    if (d / "management_truth.csv").exists():
        g = pd.read_csv(d / "management_truth.csv")
        parts.append(("management.csv:" + g["source_row"].astype(str), g["person_id"]))
    keys = pd.concat([k for k, _ in parts], ignore_index=True)
    ids = pd.concat([v for _, v in parts], ignore_index=True)
    table = pd.Series(ids.to_numpy(), index=keys.to_numpy())
    table = table[~table.index.duplicated()]
    return pd.Series(
        table.reindex(rows["row_key"].astype(str).to_numpy()).to_numpy(), index=rows.index
    )


def blocking_recall(rows: pd.DataFrame, true_id: pd.Series, pairs: pd.DataFrame) -> float:
    """Share of true pairs among ``rows`` that appear in ``pairs`` (all blocked pairs)."""
    if "l" in pairs.columns:  # splink_adapter.score names rows by position
        t = true_id.to_numpy()
        same = t[pairs["l"].to_numpy()] == t[pairs["r"].to_numpy()]
    else:
        tid = pd.Series(true_id.to_numpy(), index=rows["row_key"].astype(str).to_numpy())
        same = (
            tid.reindex(pairs["row_key_l"].astype(str).to_numpy()).to_numpy()
            == tid.reindex(pairs["row_key_r"].astype(str).to_numpy()).to_numpy()
        )
    true_pairs = _pairs(pd.Series(true_id.to_numpy()).value_counts())
    return float(same.sum() / true_pairs) if true_pairs else 1.0
