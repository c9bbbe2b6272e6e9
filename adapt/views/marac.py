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
* :func:`summary_pdf` is the one-page meeting summary (fpdf2, DejaVu Sans as
  shipped by matplotlib, so names in any European alphabet print as written).

SafeLives repeats come from :mod:`adapt.rules.safelives` (the rule the
features use too) with the repeat window of the settings in force; names fold
with :mod:`adapt.rules.names`; the suspect–victim pairs are
:mod:`adapt.rules.pairs`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

import jellyfish
import matplotlib
import numpy as np
import pandas as pd
from anyascii import anyascii
from fpdf import FPDF

from adapt.core.history import History
from adapt.core.settings import Settings
from adapt.identity.nicknames import aliases
from adapt.rules.names import fold_name, forename_keys, surname_keys
from adapt.rules.pairs import incident_pairs
from adapt.rules.safelives import repeat_incidents, window_end

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
    return pd.Series(score, index=index.rows["person_id"].to_numpy()).groupby(level=0).max()


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


# -------------------------------------------------------------------- PDF
PDF_FONT = "DejaVuSans"


def _font_files() -> dict[str, Path]:
    """DejaVu Sans (regular, bold, oblique) from matplotlib's own data folder:
    a Unicode TrueType font that installs with a registry package, so a force's
    machine has it without a download."""
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return {"": folder / "DejaVuSans.ttf", "B": folder / "DejaVuSans-Bold.ttf",
            "I": folder / "DejaVuSans-Oblique.ttf"}  # fmt: skip


@cache
def _drawable() -> frozenset[int]:
    """The code points DejaVu Sans has a glyph for (read once)."""
    pdf = FPDF()
    pdf.add_font(PDF_FONT, "", _font_files()[""])
    return frozenset(pdf.fonts[PDF_FONT.lower()].cmap)


def pdf_text(text: object) -> str:
    """``text`` as the PDF can draw it: every letter DejaVu Sans has
    (``Łukasz Żółć``, Greek, Cyrillic) as written; a character it lacks
    (``山田``, emoji) transliterated (:mod:`anyascii`), or ``?``.

    >>> pdf_text("Łukasz Żółć — 山田")
    'Łukasz Żółć — ShanTian'
    """
    have = _drawable()
    return "".join(c if ord(c) in have else (anyascii(c) or "?") for c in str(text))


def _day(value: object) -> str:
    if value is None or pd.isna(value):
        return "-"
    return pd.Timestamp(value).strftime("%d/%m/%Y")


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
    """The one-page meeting summary; sections are cut to fit one A4 page.

    Text is drawn in DejaVu Sans (:func:`pdf_text`): ``Łukasz Żółć`` prints
    as written. The footer carries ``marking``, the protective marking of
    the settings in force (``governance.protective_marking``).
    """
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style, path in _font_files().items():
        pdf.add_font(PDF_FONT, style, path)
    pdf.set_auto_page_break(False)
    pdf.set_margins(12, 12, 12)
    pdf.add_page()
    bottom = 297 - 22

    def line(text: str, size: float = 9, style: str = "", height: float = 4.6) -> bool:
        """One fact, wrapped to the page's width (at most three lines); False
        once the page is full."""
        pdf.set_font(PDF_FONT, style, size)
        parts = pdf.multi_cell(0, height, pdf_text(text), dry_run=True, output="LINES")[:3]
        if pdf.get_y() + height * len(parts) > bottom:
            return False
        for n, part in enumerate(parts):
            pdf.cell(0, height, ("    " if n else "") + part, new_x="LMARGIN", new_y="NEXT")
        return True

    def name(pid: object) -> str:
        return names.get(str(pid), str(pid))

    line("MARAC check - summary for the meeting", 14, "B", 8)
    line(f"Subject: {name(check.person_id)}    As of: {_day(check.as_of)}")
    line(f"Purpose: {purpose}    Recipient: {recipient}")
    line(f"SafeLives repeats: incidents within {check.repeat_days} days of the pair's referral")
    pdf.ln(2)
    for perp in check.perpetrators:
        if not line(f"Perpetrator: {name(perp)}", 11, "B", 6):
            break
        vics = check.victims[check.victims["perpetrator_id"] == perp]
        line(f"Victims ({len(vics)}, current {int(vics['current'].sum())}):", 9, "B")
        for v in vics.head(6).itertuples():
            line(f"  {name(v.victim_id)}: {v.incidents} incident(s), {_day(v.first_incident)}"
                 f" to {_day(v.last_incident)}{' (current)' if v.current else ''}")  # fmt: skip
        if len(vics) > 6:
            line(f"  ... and {len(vics) - 6} more")
        adds = check.addresses[check.addresses["perpetrator_id"] == perp].head(3)
        for a in adds.itertuples():
            line(f"  Address ({a.kind}): {a.address} {a.postcode if pd.notna(a.postcode) else ''}"
                 f" last {_day(a.last_seen)}")  # fmt: skip
        refs = check.referrals[check.referrals["perpetrator_id"] == perp]
        line(f"MARAC referrals: {len(refs)}", 9, "B")
        for r in refs.tail(4).itertuples():
            line(f"  {r.referral_id} referred {_day(r.referral_date)}, victim "
                 f"{name(r.victim_id)}, flagged {_day(r.flagged_at)}")  # fmt: skip
        stat = check.repeat_status[check.repeat_status["perpetrator_id"] == perp]
        for s in stat.itertuples():
            verdict = "REPEAT" if s.repeat else "no repeat"
            line(f"  SafeLives: {name(s.victim_id)}: {verdict}; last referral "
                 f"{_day(s.last_referral_date)}; {s.repeat_incidents} repeat incident(s) "
                 f"{_day(s.first_repeat_at)} to {_day(s.last_repeat_at)}; "
                 f"{s.late_flag_missed} missed by a late flag")  # fmt: skip
        pdf.ln(1.5)
    pdf.set_y(297 - 16)
    pdf.set_font(PDF_FONT, "I", 8)
    pdf.multi_cell(
        0, 4,
        pdf_text(f"Generated by {generated_by} at {generated_at:%d/%m/%Y %H:%M} — {marking}"),
    )  # fmt: skip
    return bytes(pdf.output())
