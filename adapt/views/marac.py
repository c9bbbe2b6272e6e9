"""The MARAC check: find a person, then show the chair what the police
history says about the perpetrators linked to them.

* :func:`build_name_index` turns the stored name rows (``adapt.db.search``)
  into a search index once per data version; :func:`search` answers a name
  (typo-tolerant, Jaro-Winkler over the distinct names, surname alone
  allowed), a date of birth, a person id or reference, or a referral id.
* :func:`marac_check` gathers, for one person, the perpetrators linked to them
  (themselves when they are a suspect), each perpetrator's victims past and
  present, addresses, MARAC referrals, SafeLives repeats with their dates and
  the repeat incidents a late flag missed. It is a pure function of a History.
* :func:`summary_pdf` is the one-page meeting summary (:mod:`adapt.views.pdf_sheet`:
  DejaVu Sans, long lines wrapped, "and N more" where a list is cut).
* The tables the page draws, in plain words (:func:`results_table`,
  :func:`victims_table`, ...): names beside ids, offences in words, dates as
  ``dd/mm/yyyy`` or "not recorded", shares as percentages.

SafeLives repeats come from :mod:`adapt.rules.safelives` (the rule the
features use too) with the repeat window of the settings in force; names fold
with :mod:`adapt.rules.names`; the suspect–victim pairs are
:mod:`adapt.rules.pairs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import jellyfish
import numpy as np
import pandas as pd

from adapt.core.history import History
from adapt.core.settings import Settings, window_words
from adapt.identity.nicknames import aliases
from adapt.rules.names import fold_name, forename_keys, surname_keys
from adapt.rules.pairs import incident_pairs
from adapt.rules.safelives import repeat_incidents, window_end
from adapt.views.pdf_sheet import Sheet, counted
from adapt.views.pdf_sheet import pdf_text as pdf_text  # the PDFs draw text through it
from adapt.views.text import NOT_RECORDED, offence_words

DAY = pd.Timedelta(days=1)
VICTIM_ROLES = ("victim", "marac_victim")
PERPETRATOR_ROLES = ("suspect", "marac_perpetrator")
SIDES = ("Victim", "Perpetrator", "Either")
MATCH_THRESHOLD = 0.85
REPEAT_COLUMNS = [
    "perpetrator_id", "victim_id", "incident_id", "occurred_at", "offence", "referral_id",
    "referral_date", "days_after_referral", "flagged_at", "late_flag",
]  # fmt: skip
RESULT_COLUMNS = ["person_id", "name", "other_names", "dates_of_birth", "refs", "roles", "match"]


# ------------------------------------------------------------------ index
@dataclass(frozen=True)
class NameIndex:
    """Distinct name forms per person, with codes into the name vocabularies."""

    rows: pd.DataFrame  # person_id, name, fn, sn, dob, person_ref, fn_code, sn_code
    people: pd.DataFrame  # index person_id: name, other_names, dates_of_birth, refs, roles,
    #                       is_victim, is_perpetrator, mentions
    forenames: np.ndarray  # distinct folded first forenames
    surnames: np.ndarray  # distinct folded surnames (words joined)
    forename_canon: list[frozenset[str]]  # the formal names each forename may stand for
    row_person: np.ndarray  # for each row, its person's position in ``people``


def _joined(person_id: pd.Series, values: pd.Series) -> pd.Series:
    """The distinct values per person, sorted and joined with "; "."""
    pairs = pd.DataFrame({"person_id": person_id.astype(object), "v": values.astype(object)})
    pairs = pairs.dropna().drop_duplicates().sort_values(["person_id", "v"])
    return pd.Series(_lists(pairs["person_id"], pairs["v"]), dtype=object).map("; ".join)


def _lists(keys: pd.Series, values: pd.Series) -> dict[str, list[str]]:
    """Values grouped by key, in order (plain Python: per-group pandas is slow here)."""
    out: dict[str, list[str]] = {}
    for key, value in zip(keys.to_numpy(), values.to_numpy(), strict=True):
        out.setdefault(key, []).append(str(value))
    return out


def build_name_index(name_rows: pd.DataFrame) -> NameIndex:
    """The search index over ``adapt.db.search.person_name_rows`` (built once per data version)."""
    rows = name_rows.copy()
    rows["forename"] = rows["forename"].astype("string").str.strip()
    rows["surname"] = rows["surname"].astype("string").str.strip()
    full = (rows["forename"].fillna("") + " " + rows["surname"].fillna("")).str.strip()
    rows["name"] = full.where(full.str.len() > 0, pd.NA)
    # The comparison keys identity resolution uses: a forename's first word,
    # a surname's words joined; "" where nothing is left.
    rows["fn"] = forename_keys(rows["forename"]).fillna("").astype(object)
    rows["sn"] = surname_keys(rows["surname"]).fillna("").astype(object)
    rows["dob"] = pd.to_datetime(rows["date_of_birth"]).dt.normalize()
    rows["person_ref"] = rows["person_ref"].astype("string").str.strip().str.upper()
    rows["is_victim"] = rows["role"].isin(VICTIM_ROLES)
    rows["is_perpetrator"] = rows["role"].isin(PERPETRATOR_ROLES)

    people = rows.groupby("person_id", sort=False).agg(
        is_victim=("is_victim", "any"),
        is_perpetrator=("is_perpetrator", "any"),
        mentions=("role", "size"),
    )
    # The most frequent name form is the name shown; the others are aliases.
    counts = rows.dropna(subset=["name"]).groupby(["person_id", "name"]).size().rename("n")
    counts = counts.reset_index().sort_values(["person_id", "n"], ascending=[True, False])
    names = pd.Series(_lists(counts["person_id"], counts["name"]), dtype=object)
    people["name"] = names.map(lambda v: v[0])
    people["other_names"] = names.map(lambda v: "; ".join(map(str, v[1:])))
    dob_text = rows["dob"].dt.strftime("%Y-%m-%d")
    people["dates_of_birth"] = _joined(rows["person_id"], dob_text)
    people["refs"] = _joined(rows["person_id"], rows["person_ref"])
    people["roles"] = _joined(rows["person_id"], rows["role"])
    people = people.fillna({"name": "(no name recorded)", "other_names": "",
                            "dates_of_birth": "", "refs": ""})  # fmt: skip
    # A plain (numpy) index: its hash table is built once, so a lookup by id is
    # quick; an Arrow-backed one is converted again on every lookup.
    people.index = pd.Index(people.index.to_numpy(dtype=object), name="person_id")

    forms = rows.drop_duplicates(["person_id", "fn", "sn", "dob", "person_ref"])[
        ["person_id", "name", "fn", "sn", "dob", "person_ref"]
    ].reset_index(drop=True)
    fn_codes, forenames = pd.factorize(forms["fn"])
    sn_codes, surnames = pd.factorize(forms["sn"])
    forms["fn_code"] = fn_codes
    forms["sn_code"] = sn_codes
    canon = [frozenset(aliases(f)) if f else frozenset() for f in forenames]
    return NameIndex(
        rows=forms,
        people=people,
        forenames=np.asarray(forenames, dtype=object),
        surnames=np.asarray(surnames, dtype=object),
        forename_canon=canon,
        row_person=people.index.get_indexer(forms["person_id"].to_numpy(dtype=object)),
    )


# ----------------------------------------------------------------- search
def _similarity(query: str, vocabulary: np.ndarray) -> np.ndarray:
    """Jaro-Winkler of ``query`` against each distinct name (empty names score 0)."""
    if not query:
        return np.zeros(len(vocabulary))
    jw = jellyfish.jaro_winkler_similarity
    return np.fromiter((jw(query, v) if v else 0.0 for v in vocabulary), float, len(vocabulary))


def _forename_similarity(index: NameIndex, query: str) -> np.ndarray:
    sim = _similarity(query, index.forenames)
    wanted = frozenset(aliases(query))
    nick = np.fromiter((bool(c & wanted) for c in index.forename_canon), bool, len(sim))
    return np.where(nick, np.maximum(sim, 0.95), sim)


def name_scores(index: NameIndex, text: str) -> pd.Series:
    """Best match per person (0..1) for a name query; one word is a surname."""
    words = fold_name(text).split(" ")
    words = [w for w in words if w]
    if not words:
        return pd.Series(dtype=float)
    fn_code = index.rows["fn_code"].to_numpy()
    sn_code = index.rows["sn_code"].to_numpy()
    if len(words) == 1:
        score = _similarity(words[0], index.surnames)[sn_code]
    else:
        # "John Smith" or "Smith John": forename then surname, either way round.
        first, rest = words[0], "".join(words[1:])
        last, lead = words[-1], "".join(words[:-1])
        straight = (
            0.4 * _forename_similarity(index, first)[fn_code]
            + 0.6 * _similarity(rest, index.surnames)[sn_code]
        )
        swapped = (
            0.4 * _forename_similarity(index, last)[fn_code]
            + 0.6 * _similarity(lead, index.surnames)[sn_code]
        )
        score = np.maximum(straight, swapped)
    # the best row of each person, by position (a groupby on the ids is far slower)
    best = np.zeros(len(index.people))
    np.maximum.at(best, index.row_person, score)
    return pd.Series(best, index=index.people.index)


def search(
    index: NameIndex,
    history: History,
    text: str = "",
    *,
    date_of_birth: date | None = None,
    side: str = "Either",
    limit: int = 50,
) -> pd.DataFrame:
    """People matching a name, reference, person id or referral id, and/or a
    date of birth, on the chosen side: :data:`RESULT_COLUMNS`, best first."""
    text = (text or "").strip()
    ids: pd.Series
    if text:
        key = text.upper()
        m = history.marac
        on_referral = m[m["referral_id"].str.upper() == key]
        by_id = pd.concat([on_referral["victim_person_id"], on_referral["perpetrator_person_id"]])
        by_id = pd.concat(
            [
                by_id,
                pd.Series([key]) if key in index.people.index else pd.Series(dtype="string"),
                index.rows.loc[index.rows["person_ref"] == key, "person_id"],
            ]
        ).dropna()
        if len(by_id):
            ids = pd.Series(1.0, index=pd.Index(by_id.unique()))
        else:
            ids = name_scores(index, text)
            ids = ids[ids >= MATCH_THRESHOLD]
    else:
        ids = pd.Series(1.0, index=index.people.index)
    if date_of_birth is not None:
        born = index.rows.loc[index.rows["dob"] == pd.Timestamp(date_of_birth), "person_id"]
        ids = ids[ids.index.isin(born)]
    people = index.people.reindex(ids.index).dropna(subset=["mentions"])
    if side == "Victim":
        people = people[people["is_victim"].astype(bool)]
    elif side == "Perpetrator":
        people = people[people["is_perpetrator"].astype(bool)]
    out = people.assign(match=ids.reindex(people.index).round(3))
    out = out.sort_values(["match", "mentions"], ascending=False).head(limit)
    return out.rename_axis("person_id").reset_index()[RESULT_COLUMNS]


def result_person(results: pd.DataFrame, positions: Iterable[int]) -> str | None:
    """The person id of the first selected row position (``st.dataframe`` gives positions)."""
    for pos in positions:
        if 0 <= int(pos) < len(results):
            return str(results["person_id"].iloc[int(pos)])
    return None


def labels(index: NameIndex, person_ids: Iterable[object]) -> dict[str, str]:
    """``person_id -> "Name (P0000001)"`` for display."""
    people = index.people
    out = {}
    for pid in dict.fromkeys(str(p) for p in person_ids if p is not None and not pd.isna(p)):
        name = people["name"].get(pid, "(no name recorded)")
        out[pid] = f"{name} ({pid})"
    return out


# ------------------------------------------------------------------ check
@dataclass(frozen=True)
class MaracCheck:
    person_id: str
    as_of: pd.Timestamp
    perpetrators: list[str]
    victims: pd.DataFrame
    addresses: pd.DataFrame
    referrals: pd.DataFrame
    repeat_incidents: pd.DataFrame
    repeat_status: pd.DataFrame
    repeat_days: int  # the SafeLives repeat window the check was made with

    @property
    def late_flag_missed(self) -> pd.DataFrame:
        return self.repeat_incidents[self.repeat_incidents["late_flag"]]


def _pairs(history: History, people: Iterable[str], column: str) -> pd.DataFrame:
    """Suspect–victim pairs (:func:`adapt.rules.pairs.incident_pairs`) where
    ``column`` (``perpetrator_id`` or ``victim_id``) is one of ``people``, with
    each incident's date, offence and place."""
    people = list(people)
    inv = history.involvements
    role = "suspect" if column == "perpetrator_id" else "victim"
    theirs = (inv["role"] == role).fillna(False) & inv["person_id"].isin(people).fillna(False)
    incidents = inv.loc[theirs.to_numpy(dtype=bool), "incident_id"].unique()
    pairs = incident_pairs(inv[inv["incident_id"].isin(incidents).to_numpy(dtype=bool)])
    pairs = pairs.rename(columns={"suspect_id": "perpetrator_id"})
    pairs = pairs[pairs[column].isin(people).to_numpy(dtype=bool)]
    inc = history.incidents[["incident_id", "occurred_at", "offence", "address", "postcode"]]
    out = pairs.merge(inc, on="incident_id")
    return out.sort_values("occurred_at", kind="stable").reset_index(drop=True)


def _referrals(history: History, perpetrators: list[str], person_id: str) -> pd.DataFrame:
    m = history.marac
    mine = m["perpetrator_person_id"].isin(perpetrators) | (m["victim_person_id"] == person_id)
    refs = m.loc[
        mine.fillna(False),
        [
            "referral_id",
            "referral_date",
            "meeting_date",
            "flagged_at",
            "victim_person_id",
            "perpetrator_person_id",
        ],
    ]
    refs = refs.rename(columns={"victim_person_id": "victim_id",
                                "perpetrator_person_id": "perpetrator_id"})  # fmt: skip
    refs = refs.assign(flag_lag_days=(refs["flagged_at"] - refs["referral_date"]).dt.days)
    return refs.sort_values("referral_date").reset_index(drop=True)


def _repeats(pairs: pd.DataFrame, referrals: pd.DataFrame, repeat_days: int) -> pd.DataFrame:
    """The SafeLives repeat incidents (:func:`adapt.rules.safelives.repeat_incidents`)
    of the referred pairs among ``pairs``: :data:`REPEAT_COLUMNS`."""
    found = repeat_incidents(
        pairs[["incident_id", "perpetrator_id", "victim_id", "occurred_at", "offence"]].rename(
            columns={"perpetrator_id": "suspect_id"}
        ),
        referrals.rename(
            columns={"perpetrator_id": "perpetrator_person_id", "victim_id": "victim_person_id"}
        ),
        repeat_days,
    )
    return found.rename(columns={"suspect_id": "perpetrator_id"})[REPEAT_COLUMNS]


def _repeat_status(
    referrals: pd.DataFrame, repeats: pd.DataFrame, as_of: pd.Timestamp, repeat_days: int
) -> pd.DataFrame:
    refs = referrals.dropna(subset=["perpetrator_id", "victim_id"])
    cols = ["perpetrator_id", "victim_id", "referrals", "last_referral_date", "repeat",
            "repeat_incidents", "first_repeat_at", "last_repeat_at", "late_flag_missed",
            "repeat_window_ends", "window_open"]  # fmt: skip
    if not len(refs):
        return pd.DataFrame(columns=cols)
    pairs = refs.groupby(["perpetrator_id", "victim_id"]).agg(
        referrals=("referral_id", "nunique"), last_referral_date=("referral_date", "max")
    )
    reps = repeats.groupby(["perpetrator_id", "victim_id"]).agg(
        repeat_incidents=("incident_id", "nunique"),
        first_repeat_at=("occurred_at", "min"),
        last_repeat_at=("occurred_at", "max"),
        late_flag_missed=("late_flag", "sum"),
    )
    out = pairs.join(reps, how="left").reset_index()
    out["repeat_incidents"] = out["repeat_incidents"].fillna(0).astype(int)
    out["late_flag_missed"] = out["late_flag_missed"].fillna(0).astype(int)
    out["repeat"] = out["repeat_incidents"] > 0
    out["repeat_window_ends"] = window_end(out["last_referral_date"], repeat_days)
    # While the window is open, any new incident between the pair is a repeat.
    out["window_open"] = out["repeat_window_ends"] >= as_of
    return out[cols]


def marac_check(
    history: History, person_id: str, as_of: object = None, *, settings: Settings
) -> MaracCheck:
    """Everything the MARAC check shows for ``person_id`` (see the module docstring).

    The perpetrators are the suspects in incidents against the person and the
    perpetrators named on referrals about them, plus the person when they were
    ever a suspect or a referral's perpetrator (counter-allegations show both).
    ``settings`` are the settings in force: their SafeLives repeat window
    (``windows.marac_repeat_days``) decides which incidents are repeats, which
    victims are current (an incident within the window of ``as_of``) and which
    repeat windows are open on ``as_of`` (default: the latest incident).
    """
    repeat_days = settings.windows.marac_repeat_days
    as_of_ts = pd.Timestamp(as_of if as_of is not None else history.last_date or date.today())
    as_of_ts = as_of_ts.normalize()
    against = _pairs(history, [person_id], "victim_id")
    m = history.marac
    named = m.loc[(m["victim_person_id"] == person_id).fillna(False), "perpetrator_person_id"]
    perps = [*against["perpetrator_id"].tolist(), *named.dropna().tolist()]
    is_suspect = (
        (history.involvements["person_id"] == person_id)
        & (history.involvements["role"] == "suspect")
    ).fillna(False).any() or (m["perpetrator_person_id"] == person_id).fillna(False).any()
    if is_suspect:
        perps.insert(0, person_id)
    perpetrators = list(dict.fromkeys(str(p) for p in perps))

    pairs = _pairs(history, perpetrators, "perpetrator_id")
    victims = (
        pairs.groupby(["perpetrator_id", "victim_id"])
        .agg(incidents=("incident_id", "nunique"), first_incident=("occurred_at", "min"),
             last_incident=("occurred_at", "max"))
        .reset_index()
    )  # fmt: skip
    victims["current"] = victims["last_incident"] >= as_of_ts - repeat_days * DAY
    victims["is_this_person"] = victims["victim_id"] == person_id
    victims = victims.sort_values(["perpetrator_id", "last_incident"], ascending=[True, False])

    addresses = (
        pairs.dropna(subset=["address"])
        .groupby(["perpetrator_id", "address", "postcode"], dropna=False)
        .agg(incidents=("incident_id", "nunique"), first_seen=("occurred_at", "min"),
             last_seen=("occurred_at", "max"))
        .reset_index()
        .sort_values(["perpetrator_id", "last_seen"], ascending=[True, False])
    )  # fmt: skip
    addresses.insert(1, "kind", "incident address")
    home = _home_addresses(history, perpetrators)
    addresses = pd.concat([addresses, home], ignore_index=True)

    referrals = _referrals(history, perpetrators, person_id)
    repeats = _repeats(pairs, referrals, repeat_days)
    status = _repeat_status(referrals, repeats, as_of_ts, repeat_days)
    return MaracCheck(
        person_id=person_id,
        as_of=as_of_ts,
        perpetrators=perpetrators,
        victims=victims.reset_index(drop=True),
        addresses=addresses,
        referrals=referrals,
        repeat_incidents=repeats,
        repeat_status=status,
        repeat_days=repeat_days,
    )


def _home_addresses(history: History, perpetrators: list[str]) -> pd.DataFrame:
    """Home addresses the perpetrators gave, with when they were recorded."""
    inv = history.involvements
    inv = inv[inv["person_id"].isin(perpetrators) & inv["home_address"].notna()]
    inv = inv.merge(history.incidents[["incident_id", "occurred_at"]], on="incident_id")
    out = (
        inv.groupby(["person_id", "home_address", "home_postcode"], dropna=False)
        .agg(incidents=("incident_id", "nunique"), first_seen=("occurred_at", "min"),
             last_seen=("occurred_at", "max"))
        .reset_index()
        .rename(columns={"person_id": "perpetrator_id", "home_address": "address",
                         "home_postcode": "postcode"})
    )  # fmt: skip
    out.insert(1, "kind", "home address given")
    return out


# ------------------------------------------------------------ plain words
ROLE_WORDS = {"victim": "victim", "suspect": "suspect", "witness": "witness", "other": "other",
              "marac_victim": "MARAC victim", "marac_perpetrator": "MARAC perpetrator"}  # fmt: skip


def day_words(value: object, missing: str = NOT_RECORDED) -> str:
    """A date as ``dd/mm/yyyy``; a missing one says ``missing`` ("not recorded")."""
    if value is None or pd.isna(value):
        return missing
    return pd.Timestamp(value).strftime("%d/%m/%Y")


def days_words(values: pd.Series, missing: str = NOT_RECORDED) -> pd.Series:
    """Dates as ``dd/mm/yyyy`` text; a missing one says ``missing``."""
    return pd.to_datetime(values).dt.strftime("%d/%m/%Y").fillna(missing).astype(object)


def count_words(values: pd.Series) -> pd.Series:
    """Whole numbers as text; a missing one is empty (never "nan" or "None")."""
    numbers = pd.to_numeric(values, errors="coerce").round().astype("Int64")
    return numbers.astype("string").fillna("").astype(object)


def yes_no(values: pd.Series) -> pd.Series:
    return values.fillna(False).astype(bool).map({True: "yes", False: "no"}).astype(object)


def percent_words(share: pd.Series) -> pd.Series:
    """Shares (0..1) as whole percentages: ``0.874 -> "87%"``."""
    return ((pd.to_numeric(share) * 100).round().astype("Int64").astype("string") + "%").fillna("")


def named(ids: pd.Series, names: dict[str, str], missing: str = "") -> pd.Series:
    """Person ids as ``Name (id)`` labels; a missing id is ``missing``."""
    shown = ids.astype("string").map(lambda p: names.get(str(p), str(p)), na_action="ignore")
    return shown.fillna(missing).astype(object)


# --------------------------------------------------- tables, in plain words
def results_table(results: pd.DataFrame) -> pd.DataFrame:
    """The search matches (:func:`search`) as the page shows them, same order."""
    born = (
        results["dates_of_birth"]
        .astype("string")
        .str.replace(r"(\d{4})-(\d{2})-(\d{2})", r"\3/\2/\1", regex=True)
    )
    roles = results["roles"].astype("string").str.split("; ")
    roles = roles.map(lambda r: "; ".join(ROLE_WORDS.get(x, x) for x in r), na_action="ignore")
    return pd.DataFrame(
        {
            "Name": results["name"].astype(object),
            "Person id": results["person_id"].astype(object),
            "Other names": results["other_names"].fillna("").astype(object),
            "Dates of birth": born.fillna("").astype(object),
            "References": results["refs"].fillna("").astype(object),
            "Recorded as": roles.fillna("").astype(object),
            "Match": percent_words(results["match"]),
        }
    )


def victims_table(victims: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """One perpetrator's victims (:attr:`MaracCheck.victims`) in words."""
    return pd.DataFrame(
        {
            "Victim": named(victims["victim_id"], names),
            "Incidents": count_words(victims["incidents"]),
            "First incident": days_words(victims["first_incident"]),
            "Last incident": days_words(victims["last_incident"]),
            "Current": yes_no(victims["current"]),
        }
    )


def addresses_table(addresses: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Kind": addresses["kind"].astype(object),
            "Address": addresses["address"].fillna("").astype(object),
            "Postcode": addresses["postcode"].fillna("").astype(object),
            "Incidents": count_words(addresses["incidents"]),
            "First seen": days_words(addresses["first_seen"]),
            "Last seen": days_words(addresses["last_seen"]),
        }
    )


def referrals_table(referrals: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """MARAC referrals (:attr:`MaracCheck.referrals`) in words."""
    return pd.DataFrame(
        {
            "Referral": referrals["referral_id"].astype(object),
            "Referred on": days_words(referrals["referral_date"]),
            "Heard on": days_words(referrals["meeting_date"]),
            "Flag on": days_words(referrals["flagged_at"]),
            "Days to the flag": count_words(referrals["flag_lag_days"]),
            "Victim": named(referrals["victim_id"], names),
            "Perpetrator": named(referrals["perpetrator_id"], names, "not recorded"),
        }
    )


def repeats_table(repeats: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """SafeLives repeat incidents (:attr:`MaracCheck.repeat_incidents`) in words."""
    late = repeats["late_flag"].astype(bool)
    return pd.DataFrame(
        {
            "Date": days_words(repeats["occurred_at"]),
            "Incident": repeats["incident_id"].astype(object),
            "Offence": offence_words(repeats["offence"]),
            "Victim": named(repeats["victim_id"], names),
            "Referral": repeats["referral_id"].astype(object),
            "Referred on": days_words(repeats["referral_date"]),
            "Days after the referral": count_words(repeats["days_after_referral"]),
            "Flag on": days_words(repeats["flagged_at"]),
            "Flag on by that day": late.map({True: "no: missed by a late flag", False: "yes"}),
        }
    )


# -------------------------------------------------------------------- PDF
VICTIMS_SHOWN, ADDRESSES_SHOWN, REFERRALS_SHOWN = 6, 3, 4
ON_THE_PAGE = "see the MARAC check on screen"


def summary_pdf(
    check: MaracCheck,
    names: dict[str, str],
    *,
    generated_by: str,
    generated_at: datetime,
    purpose: str,
    recipient: str,
    marking: str,
) -> bytes:
    """The one-page meeting summary. Long lines wrap; a list cut to fit (a
    perpetrator's victims, addresses, referrals, or whole perpetrators when
    the page is full) says how many more there are.

    Text is drawn in DejaVu Sans (:func:`pdf_text`): ``Łukasz Żółć`` prints
    as written. The footer carries ``marking``, the protective marking of
    the settings in force (``governance.protective_marking``).
    """
    sheet = Sheet(
        f"Generated by {generated_by} at {generated_at:%d/%m/%Y %H:%M} — {marking}",
        where=ON_THE_PAGE,
    )

    def name(pid: object) -> str:
        return names.get(str(pid), str(pid))

    sheet.line("MARAC check - summary for the meeting", 14, "B", 8)
    sheet.line(f"Subject: {name(check.person_id)}    As of: {day_words(check.as_of)}")
    sheet.line(f"Purpose: {purpose}    Recipient: {recipient}")
    sheet.line(f"SafeLives repeats: incidents within {window_words(check.repeat_days)} "
               f"({check.repeat_days} days) of the pair's last referral")  # fmt: skip
    sheet.gap(2)
    for n, perp in enumerate(check.perpetrators):
        if not sheet.line(f"Perpetrator: {name(perp)}", 11, "B", 6, count=None):
            sheet.left_out(len(check.perpetrators) - n, "perpetrator")
            break
        _perpetrator_lines(sheet, check, perp, name)
        sheet.gap(1.5)
    return sheet.output()


def _perpetrator_lines(sheet: Sheet, check: MaracCheck, perp: str, name) -> None:  # type: ignore[no-untyped-def]
    vics = check.victims[check.victims["perpetrator_id"] == perp]
    sheet.line(f"Victims ({len(vics)}, current {int(vics['current'].sum())}):", 9, "B")
    sheet.listing(
        [f"{name(v.victim_id)}: {counted(v.incidents, 'incident')}, "
         f"{day_words(v.first_incident)} to "
         f"{day_words(v.last_incident)}{' (current)' if v.current else ''}"
         for v in vics.itertuples()],
        limit=VICTIMS_SHOWN, what="victim",
    )  # fmt: skip
    adds = check.addresses[check.addresses["perpetrator_id"] == perp]
    sheet.listing(
        [f"Address ({a.kind}): {a.address} {a.postcode if pd.notna(a.postcode) else ''}".rstrip()
         + f", last seen {day_words(a.last_seen)}" for a in adds.itertuples()],
        limit=ADDRESSES_SHOWN, what="address/addresses",
    )  # fmt: skip
    refs = check.referrals[check.referrals["perpetrator_id"] == perp]
    sheet.line(f"MARAC referrals: {len(refs)}", 9, "B")
    newest = refs.iloc[::-1]  # the newest first, so a cut leaves out the oldest
    sheet.listing(
        [f"{r.referral_id} referred {day_words(r.referral_date)}, victim {name(r.victim_id)}, "
         f"flag on {day_words(r.flagged_at)}" for r in newest.itertuples()],
        limit=REFERRALS_SHOWN, what="earlier referral",
    )  # fmt: skip
    stat = check.repeat_status[check.repeat_status["perpetrator_id"] == perp]
    sheet.listing([_status_line(s, name) for s in stat.itertuples()], limit=len(stat),
                  what="SafeLives status line")  # fmt: skip


def _status_line(s, name) -> str:  # type: ignore[no-untyped-def]
    """One pair's SafeLives repeat status, in a sentence."""
    text = (f"SafeLives: {name(s.victim_id)}: {'REPEAT' if s.repeat else 'no repeat'}; last "
            f"referral {day_words(s.last_referral_date)}; "
            f"{counted(s.repeat_incidents, 'repeat incident')}")  # fmt: skip
    if s.repeat:
        text += f" {day_words(s.first_repeat_at)} to {day_words(s.last_repeat_at)}"
    return text + f"; {s.late_flag_missed} missed by a late flag"
