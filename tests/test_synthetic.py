"""The synthetic generator: contract shape, realism claims, noise, bad rows, determinism.

One ~20,000-incident extract (two chunks) is generated once per session and
checked against what the generator claims. Each bound says why it is what it
is: a literature figure, the configured rate, and a sampling tolerance.
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapt.core.harm import load_harm_table
from adapt.core.spec import FILES, OFFENCES, ROLES
from adapt.synthetic import GeneratorConfig, generate
from adapt.synthetic.names import NICKNAMES

N = 20_000
END = date(2026, 10, 31)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False)


class World:
    def __init__(self, root: Path, config: GeneratorConfig) -> None:
        self.out, self.truth = root / "extract", root / "truth"
        self.config = config
        self.summary = generate(self.out, config, self.truth)
        self.inc = read(self.out / "incidents.csv") if config.bad_row_rate == 0 else None
        self.bad = read(self.truth / "bad_rows.csv")
        self.inv = self._rows("involvements.csv", "involvements_truth.csv")
        self.persons = read(self.truth / "persons.csv")

    def _rows(self, name: str, truth: str) -> pd.DataFrame:
        with (self.out / name).open(encoding="utf-8", newline="") as fh:
            records = list(csv.reader(fh))
        header = records[0]
        df = pd.DataFrame([r[: len(header)] for r in records[1:]], columns=header)
        t = read(self.truth / truth)
        df["source_row"] = np.arange(2, len(df) + 2).astype(str)
        return df.merge(t.drop(columns=["incident_id"], errors="ignore"), on="source_row")

    def incidents(self) -> pd.DataFrame:
        with (self.out / "incidents.csv").open(encoding="utf-8", newline="") as fh:
            records = list(csv.reader(fh))
        df = pd.DataFrame([r[:12] for r in records[1:]], columns=records[0])
        df["source_row"] = np.arange(2, len(df) + 2).astype(str)
        t = read(self.truth / "incidents_truth.csv").drop(columns=["incident_id"])
        return df.merge(t, on="source_row")

    def clean_incidents(self) -> pd.DataFrame:
        inc = self.incidents()
        bad = set(self.bad.loc[self.bad["source_file"] == "incidents.csv", "source_row"])
        inc = inc[~inc["source_row"].isin(bad)].copy()
        inc["day"] = pd.to_datetime(inc["occurred_at"].str[:10])
        return inc


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    cfg = GeneratorConfig(seed=7, incidents=N, chunk_incidents=10_000)
    return World(tmp_path_factory.mktemp("synthetic"), cfg)


@pytest.fixture(scope="session")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> World:
    cfg = GeneratorConfig(seed=7, incidents=10_000, noise=2.0)
    return World(tmp_path_factory.mktemp("noisy"), cfg)


# --- shape of the extract -------------------------------------------------


def test_headers_follow_the_contract_and_no_truth_leaks(world: World) -> None:
    assert sorted(p.name for p in world.out.iterdir()) == sorted(f.name for f in FILES)
    for spec in FILES:
        with (world.out / spec.name).open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        assert tuple(header) == spec.column_names
    # Truth columns and true ids never appear in the extract folder.
    for path in world.out.iterdir():
        head = path.read_text("utf-8").splitlines()[0]
        assert "person_id" not in head and "true_role" not in head


def test_summary_counts_records(world: World) -> None:
    for name, count in world.summary.items():
        with (world.out / name).open(encoding="utf-8", newline="") as fh:
            assert sum(1 for _ in csv.reader(fh)) - 1 == count
    # Exactly N incidents plus the duplicated-id rows planted as bad rows.
    dups = (world.bad["kind"] == "duplicate_incident_id").sum()
    assert world.summary["incidents.csv"] == N + dups


def test_involvements_per_incident(world: World) -> None:
    # Victim + suspect + on average ~0.45 witnesses/others: aim 2.2-2.8.
    ratio = world.summary["involvements.csv"] / world.summary["incidents.csv"]
    assert 2.2 <= ratio <= 2.8


# --- realism claims -------------------------------------------------------


def test_about_four_in_ten_incidents_are_not_crimes(world: World) -> None:
    inc = world.clean_incidents()
    non_crime = inc["is_crime"].str.lower().isin(["false", "n", "no", "0"])
    # Domain: "about four in ten DA incidents are not crimes"; ±5 points covers
    # the generator's 42% and sampling on 20k incidents (SE < 0.4 points).
    assert 0.35 <= non_crime.mean() <= 0.45
    top = inc.loc[non_crime, "offence"].str.lower().value_counts(normalize=True)
    mostly = top.reindex(["verbal_argument", "child_contact_dispute", "unwanted_contact"]).sum()
    assert mostly > 0.7  # non-crimes are mostly arguments, contact disputes, unwanted contact


def test_harm_is_concentrated_in_a_power_few(world: World) -> None:
    inc = world.clean_incidents()
    harm = load_harm_table().days(inc["offence"], inc["is_crime"].str.lower() == "true")
    per_perp = harm.groupby(inc["perpetrator_id"]).sum().sort_values(ascending=False)
    top = int(np.ceil(0.03 * len(per_perp)))
    share = per_perp.iloc[:top].sum() / per_perp.sum()
    # Literature: 3% of perpetrators caused 90% of harm (Thames Valley), <2% of
    # pairs 80% (Suffolk). The generator aims at ~80%; 0.6 leaves room for
    # a few homicides landing in lower classes in a 20k sample.
    assert share >= 0.6
    pairs = inc.groupby("dyad_id").size()
    # Bland & Ariel 2015: 76% of pairs never called again; generator aims ~75%.
    assert 0.6 <= (pairs == 1).mean() <= 0.85


def test_dash_split_near_75_18_7(world: World) -> None:
    dash = world.clean_incidents()["dash_risk"].str.lower()
    recorded = dash[dash != ""]
    assert 0.05 < 1 - len(recorded) / len(dash) < 0.2  # some gradings are missing
    split = recorded.value_counts(normalize=True)
    # Ranked assignment makes the split near exact; 3 points allows for
    # homicides forced to high and the bad rows removed.
    for level, target in (("standard", 0.75), ("medium", 0.18), ("high", 0.07)):
        assert abs(split[level] - target) < 0.03


def test_victims_mostly_female_and_suspects_adult(world: World) -> None:
    inv = world.inv
    victims = inv[inv["true_role"] == "victim"].merge(
        world.persons[["person_id", "gender", "date_of_birth"]], on="person_id", suffixes=("", "_t")
    )
    # E&W: about 74% of victims in police-recorded DA crime are female.
    assert abs((victims["gender_t"] == "F").mean() - 0.74) < 0.05
    inc = world.clean_incidents()[["source_row", "occurred_at"]]
    ids = world.incidents()[["source_row", "incident_id"]].merge(inc, on="source_row")
    sus = inv[inv["role"] == "suspect"].merge(ids[["incident_id", "occurred_at"]], on="incident_id")
    sus = sus.merge(
        world.persons[["person_id", "date_of_birth"]], on="person_id", suffixes=("", "_t")
    )
    age = (
        pd.to_datetime(sus["occurred_at"].str[:10]) - pd.to_datetime(sus["date_of_birth_t"])
    ).dt.days
    assert (age >= 16 * 365.25).all()


def test_serial_perpetrators_are_a_minority(world: World) -> None:
    dyads = read(world.truth / "dyads.csv")
    victims = dyads.groupby("perpetrator_id")["victim_id"].nunique()
    serial = (victims >= 2).mean()
    assert 0.02 < serial < 0.4
    patterns = read(world.truth / "patterns.csv")
    for name in (
        "serial_perpetrator",
        "frequency_escalation",
        "severity_escalation",
        "de_escalation",
        "counter_allegation",
        "family_abuse",
        "high_harm",
    ):
        assert (patterns["pattern"] == name).any(), name
    assert (dyads["relationship"] == "family").any()


def test_counter_allegations_swap_roles(world: World) -> None:
    inv = world.inv
    swapped = inv[(inv["true_role"] == "victim") & (inv["role"] == "suspect")]
    assert len(swapped) > 0
    both = inv[inv["role"] == "suspect"].groupby("incident_id").size()
    assert (both >= 2).any()  # both parties recorded as suspects


def test_witnesses_and_other_roles(world: World) -> None:
    roles = world.inv["role"].value_counts()
    assert roles.get("witness", 0) > 0 and roles.get("other", 0) > 0


def test_households_share_surname_and_address(world: World) -> None:
    p = world.persons
    hh = p[p["household_id"] != ""]
    same = hh.groupby(["surname", "home_address"])["person_id"].nunique()
    assert (same >= 2).sum() > 50
    # Fathers and sons with the same name at one address, different DOBs.
    namesakes = hh.groupby(["forename", "surname", "home_address"]).agg(
        n=("person_id", "nunique"), dobs=("date_of_birth", "nunique")
    )
    assert ((namesakes["n"] >= 2) & (namesakes["dobs"] >= 2)).sum() > 5


def test_nobody_appears_in_custody_or_after_death(world: World) -> None:
    inc = world.clean_incidents()[["incident_id", "day"]]
    rows = world.inv.merge(inc, on="incident_id")
    mgmt = read(world.out / "management.csv")
    mgmt["person_id"] = read(world.truth / "management_truth.csv")["person_id"]
    assert set(mgmt["status"]) == {"iom", "mappa", "in_custody", "deceased"}
    spans = mgmt[mgmt["status"].isin(["in_custody", "deceased"])].merge(rows, on="person_id")
    start = pd.to_datetime(spans["from_date"])
    stop = pd.to_datetime(spans["to_date"].replace("", "2100-01-01"))
    custody = spans["status"] == "in_custody"
    assert not (custody & (spans["day"] >= start) & (spans["day"] <= stop)).any()
    assert not (~custody & (spans["day"] > start)).any()


def test_marac_eras_and_repeats(world: World) -> None:
    m = read(world.out / "marac.csv")
    t = read(world.truth / "marac_truth.csv")
    ref = pd.to_datetime(m["referral_date"])
    flag = pd.to_datetime(m["flagged_at"].replace("", None))
    delay = (flag - ref).dt.days
    early = ref < ref.min() + pd.Timedelta(days=300)
    late = ref > ref.max() - pd.Timedelta(days=300)
    assert delay[early].median() >= 14  # monthly MARAC: flag weeks after referral
    assert delay[late].median() <= 1  # daily MARAC: same or next day
    assert set(m["referring_agency"]) >= {"Police", "IDVA", "Health"}
    repeat = (t["repeat"] == "true").mean()
    assert 0.15 < repeat < 0.65  # SafeLives benchmark 28-40%, LLR 51% after the change


# --- recording noise ------------------------------------------------------


def _noise_rates(w: World) -> dict[str, float]:
    inv = w.inv.merge(
        w.persons[["person_id", "date_of_birth", "forename"]],
        on="person_id",
        suffixes=("", "_true"),
    )
    true = pd.to_datetime(inv["date_of_birth_true"])
    eligible = (true.dt.day <= 12) & (true.dt.day != true.dt.month) & (inv["date_of_birth"] != "")
    swapped = (
        true.dt.strftime("%Y-")
        + true.dt.day.map("{:02d}".format)
        + true.dt.month.map("-{:02d}".format)
    )
    refs = inv[inv["person_ref"] != ""]
    per_ref = refs.groupby("person_ref")["person_id"].nunique()
    per_person = refs.groupby("person_id")["person_ref"].nunique()
    n_refs = w.persons["refs"].str.split().str.len()
    return {
        "ref_missing": (inv["person_ref"] == "").mean(),
        "dob_missing": (inv["date_of_birth"] == "").mean(),
        "dob_swap": (inv.loc[eligible, "date_of_birth"] == swapped[eligible]).mean(),
        "shared": (per_ref >= 2).sum(),
        "split_rows": (per_person >= 2).sum(),
        "split_persons": (n_refs >= 2).mean(),
    }


def test_noise_rates_match_config(world: World, noisy: World) -> None:
    one, two = _noise_rates(world), _noise_rates(noisy)
    # Configured: ref missing 30%, DOB missing 25%, DOB swapped 3% (where the
    # day is 12 or less), split refs 5% of people; at noise=2.0 all double.
    # Tolerances are several standard errors on 50k (25k) rows.
    assert abs(one["ref_missing"] - 0.30) < 0.02 and abs(two["ref_missing"] - 0.60) < 0.03
    assert abs(one["dob_missing"] - 0.25) < 0.02 and abs(two["dob_missing"] - 0.50) < 0.03
    assert abs(one["dob_swap"] - 0.03) < 0.01 and abs(two["dob_swap"] - 0.06) < 0.015
    assert abs(one["split_persons"] - 0.05) < 0.01 and abs(two["split_persons"] - 0.10) < 0.015
    assert one["shared"] > 0 and one["split_rows"] > 0


def test_name_variants_and_awkward_names_are_written_exactly(world: World) -> None:
    inv = world.inv.merge(
        world.persons[["person_id", "forename"]], on="person_id", suffixes=("", "_true")
    )
    nick = inv.apply(lambda r: r["forename"] in NICKNAMES.get(r["forename_true"], ()), axis=1)
    assert 0.02 < nick.mean() < 0.1
    initials = (inv["forename"].str.len() == 1) & (inv["forename_true"].str.len() > 1)
    assert initials.any()
    surnames = set(world.inv["surname"])
    assert {"Null", "O'Neill"} <= surnames
    assert "NA" in set(world.inv["forename"])
    assert any("-" in s for s in surnames) and any(c in "".join(surnames) for c in "éüś")
    pc = world.inv["home_postcode"]
    assert (
        pc.str.fullmatch(r"LE\d+ \d[A-Z]{2}").any() and pc.str.fullmatch(r"LE\d+\d[A-Z]{2}").any()
    )
    assert world.inv["home_address"].str.contains(r"\bSt$|\bRd$", regex=True).any()


# --- bad rows ---------------------------------------------------------------


ISO = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?")


def _predict_bad(out: Path, end: date) -> set[tuple[str, int, str]]:
    """Every row an independent reading of the contract would quarantine."""
    bad: set[tuple[str, int, str]] = set()
    with (out / "incidents.csv").open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    seen: set[str] = set()
    bad_ids: set[str] = set()
    for row, rec in enumerate(records[1:], start=2):
        iid = rec[0]
        kind = None
        if iid in seen:
            kind = "duplicate_incident_id"
        elif len(rec) > 12:
            kind = "too_many_fields"
        elif not ISO.fullmatch(rec[1]) or not _parses(rec[1]):
            kind = "not_a_date"
        elif datetime.fromisoformat(rec[1]).date() > end:
            kind = "future_date"
        elif rec[2].lower() not in OFFENCES:
            kind = "unknown_offence"
        if kind:
            bad.add(("incidents.csv", row, kind))
            if kind != "duplicate_incident_id":
                bad_ids.add(iid)
        seen.add(iid)
    with (out / "involvements.csv").open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    for row, rec in enumerate(records[1:], start=2):
        kind = None
        if len(rec) > 10:
            kind = "too_many_fields"
        elif rec[1].lower() not in ROLES:
            kind = "unknown_role"
        elif rec[0] not in seen:
            kind = "orphan_involvement"
        elif rec[0] in bad_ids:
            kind = "incident_quarantined"
        if kind:
            bad.add(("involvements.csv", row, kind))
    return bad


def _parses(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def test_planted_bad_rows_are_exactly_the_bad_rows(world: World) -> None:
    planted = {
        (f, int(r), k)
        for f, r, k in world.bad[["source_file", "source_row", "kind"]].itertuples(index=False)
    }
    assert planted == _predict_bad(world.out, END)
    kinds = set(world.bad["kind"])
    assert kinds == {
        "not_a_date",
        "future_date",
        "unknown_offence",
        "unknown_role",
        "orphan_involvement",
        "duplicate_incident_id",
        "too_many_fields",
        "incident_quarantined",
    }
    # Roughly bad_row_rate of incident + involvement rows, before knock-on rows.
    own = (world.bad["kind"] != "incident_quarantined").sum()
    rows = world.summary["incidents.csv"] + world.summary["involvements.csv"]
    assert abs(own / rows - 0.002) < 0.0005
    # The planted value is what the cell holds.
    with (world.out / "incidents.csv").open(encoding="utf-8", newline="") as fh:
        recs = list(csv.reader(fh))
    for _, b in world.bad[world.bad["source_file"] == "incidents.csv"].iterrows():
        rec = recs[int(b["source_row"]) - 1]
        if b["kind"] == "too_many_fields":
            assert rec[-1] == b["value"]
        else:
            assert rec[recs[0].index(b["column"])] == b["value"]


def test_no_bad_rows_when_rate_is_zero(tmp_path: Path) -> None:
    cfg = GeneratorConfig(seed=3, incidents=3000, bad_row_rate=0.0)
    generate(tmp_path / "x", cfg, tmp_path / "t")
    assert _predict_bad(tmp_path / "x", END) == set()
    assert len(read(tmp_path / "t" / "bad_rows.csv")) == 0


# --- determinism and chunking ------------------------------------------------


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    cfg = GeneratorConfig(seed=11, incidents=2500, chunk_incidents=1000)
    calls: list[tuple[str, int, int]] = []
    generate(tmp_path / "a", cfg, tmp_path / "at", progress=lambda *a: calls.append(a))
    assert calls == [("generate", 1000, 2500), ("generate", 2000, 2500), ("generate", 2500, 2500)]
    generate(tmp_path / "b", cfg, tmp_path / "bt")
    generate(tmp_path / "c", GeneratorConfig(seed=12, incidents=2500, chunk_incidents=1000))
    for spec in FILES:
        a = (tmp_path / "a" / spec.name).read_bytes()
        assert a == (tmp_path / "b" / spec.name).read_bytes()
        assert a != (tmp_path / "c" / spec.name).read_bytes()
    for p in (tmp_path / "at").iterdir():
        assert p.read_bytes() == (tmp_path / "bt" / p.name).read_bytes()
    # Chunks are districts with distinct ids: incident ids unique across chunks.
    with (tmp_path / "a" / "incidents.csv").open(encoding="utf-8", newline="") as fh:
        ids = {rec[0] for rec in list(csv.reader(fh))[1:]}
    assert len(ids) == 2500


def test_truth_dir_must_differ(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, GeneratorConfig(incidents=100), tmp_path)


def test_harm_table() -> None:
    h = load_harm_table()
    assert set(h.offences) == set(OFFENCES) and h.version and h.source and h.notes
    days = h.days(
        pd.Series(["homicide", "RAPE", "abh", "common_assault", "verbal_argument", "x"]),
        pd.Series([True, True, True, True, False, True]),
    )
    assert days.iloc[:5].tolist() == [5475, 2555, 365, 10, 0] and np.isnan(days.iloc[5])


DEMO = Path(__file__).resolve().parent.parent / "data" / "synthetic"


@pytest.mark.skipif(not (DEMO / "demo" / "incidents.csv").exists(), reason="no committed demo")
def test_committed_demo_is_what_the_documented_call_makes(tmp_path: Path) -> None:
    # data/synthetic/README.md: generate(out, GeneratorConfig(seed=1, incidents=5000), truth)
    generate(tmp_path / "demo", GeneratorConfig(seed=1, incidents=5000), tmp_path / "truth")
    for folder, committed in (("demo", DEMO / "demo"), ("truth", DEMO / "demo-truth")):
        for path in committed.glob("*.csv"):
            assert path.read_bytes() == (tmp_path / folder / path.name).read_bytes(), path.name


@pytest.mark.parametrize("incidents,chunk", [(1, 1), (7, 3), (60, 25)])
def test_tiny_configs_still_make_valid_files(tmp_path: Path, incidents: int, chunk: int) -> None:
    cfg = GeneratorConfig(seed=5, incidents=incidents, chunk_incidents=chunk)
    summary = generate(tmp_path / "x", cfg, tmp_path / "t")
    assert summary["incidents.csv"] == incidents
    assert _predict_bad(tmp_path / "x", END) == set()
