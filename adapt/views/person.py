"""The Person pathway page's content: who this is and why the rows were
joined, the incident timeline, escalation signals, victims and addresses,
the ego network, the plan and the outcome after adoption.

Pure functions of the history, the features, the graph links and frames read
by :mod:`adapt.db.people` / :mod:`adapt.db.identity` / :mod:`adapt.db.app_store`;
the figure builders return plotly figures (drawn by Streamlit's bundled
plotly.js: nothing is fetched from the internet).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from adapt.core.history import History
from adapt.core.settings import default_settings, window_words
from adapt.graph import ego_frames, ego_network
from adapt.identity import explain
from adapt.rules.harm import incident_harm
from adapt.rules.names import fold_name, fold_names
from adapt.rules.pairs import incident_pairs
from adapt.scoring.score import PART_LABELS, PARTS
from adapt.views.marac import MATCH_THRESHOLD, NameIndex, name_scores
from adapt.views.text import NOT_RECORDED, plot_text

DAY = pd.Timedelta(days=1)
YEAR = 365 * DAY
NO_VICTIM = "no victim recorded"
PERIOD_COLOURS = {
    "in_custody": "rgba(120,120,120,0.18)",
    "iom": "rgba(46,134,193,0.15)",
    "mappa": "rgba(155,89,182,0.15)",
    "deceased": "rgba(0,0,0,0.25)",
}


# ------------------------------------------------------------ history index
def _positions(values: pd.Series) -> dict[str, np.ndarray]:
    """Each value's row positions, ascending (a stable sort keeps them in order)."""
    known = values.notna().to_numpy(dtype=bool)
    pos = np.flatnonzero(known)
    if not len(pos):
        return {}
    keys = values.to_numpy(dtype=object)[pos]
    order = np.argsort(keys, kind="stable")
    keys, pos = keys[order], pos[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return {
        str(k): pos[a:b]
        for k, a, b in zip(keys[starts].tolist(), starts.tolist(), ends.tolist(), strict=True)
    }


@dataclass(frozen=True)
class HistoryIndex:
    """Row positions of a :class:`History` by person and by incident, so a
    page about one person reads a few rows instead of the whole history.

    :meth:`local` gives a History holding only the rows around some people;
    the per-person views (:func:`person_incidents`, :func:`person_events`,
    :func:`person_periods`, :func:`adapt.views.marac.marac_check`) give the
    same answer on it as on the whole history (the caller passes the whole
    history's last date where a view defaults to it).
    """

    history: History
    inv_by_person: dict[str, np.ndarray]
    inv_by_incident: dict[str, np.ndarray]
    incident_pos: dict[str, int]
    marac_by_person: dict[str, np.ndarray]
    management_by_person: dict[str, np.ndarray]
    inv_incident_ids: np.ndarray

    @classmethod
    def build(cls, history: History) -> HistoryIndex:
        inv, m = history.involvements, history.marac
        by_victim = _positions(m["victim_person_id"])
        by_perp = _positions(m["perpetrator_person_id"])
        marac = {
            k: np.union1d(by_victim.get(k, np.array([], int)), by_perp.get(k, np.array([], int)))
            for k in by_victim.keys() | by_perp.keys()
        }
        ids = history.incidents["incident_id"].astype("string").to_numpy(dtype=object)
        return cls(
            history=history,
            inv_by_person=_positions(inv["person_id"]),
            inv_by_incident=_positions(inv["incident_id"]),
            incident_pos={str(k): i for i, k in enumerate(ids)},
            marac_by_person=marac,
            management_by_person=_positions(history.management["person_id"]),
            inv_incident_ids=inv["incident_id"].to_numpy(dtype=object),
        )

    def _take(self, index: dict[str, np.ndarray], keys: Iterable[str]) -> np.ndarray:
        parts = [index[k] for k in keys if k in index]
        return np.unique(np.concatenate(parts)) if parts else np.array([], dtype=int)

    def local(self, person_ids: Iterable[str]) -> History:
        """The incidents any of ``person_ids`` is in (with every involvement
        of them), the MARAC referrals naming them and their management rows."""
        people = [str(p) for p in dict.fromkeys(person_ids)]
        h = self.history
        mine = self._take(self.inv_by_person, people)
        incident_ids = pd.unique(self.inv_incident_ids[mine])
        incident_ids = [str(i) for i in incident_ids if i is not None and not pd.isna(i)]
        inv = self._take(self.inv_by_incident, incident_ids)
        inc = np.sort([self.incident_pos[i] for i in incident_ids if i in self.incident_pos])
        return History(
            incidents=h.incidents.iloc[np.asarray(inc, dtype=int)],
            involvements=h.involvements.iloc[inv],
            marac=h.marac.iloc[self._take(self.marac_by_person, people)],
            management=h.management.iloc[self._take(self.management_by_person, people)],
            counter_overrides=h.counter_overrides,  # an officer's labels hold here too
        )

    def neighbours(self, person_id: str) -> list[str]:
        """``person_id`` and everyone in an incident or a MARAC referral with them."""
        inc = self.local([person_id])
        m = inc.marac
        found = [
            person_id,
            *inc.involvements["person_id"].dropna().astype(str),
            *m["victim_person_id"].dropna().astype(str),
            *m["perpetrator_person_id"].dropna().astype(str),
        ]
        return list(dict.fromkeys(found))


# ----------------------------------------------------------------- who this is
def age_as_stated(date_of_birth: pd.Series, at: pd.Series) -> pd.Series:
    """Whole years from the stated date of birth to the record's date (NA
    where either is missing)."""
    dob = pd.to_datetime(date_of_birth)
    when = pd.to_datetime(at)
    years = when.dt.year - dob.dt.year
    before_birthday = (when.dt.month < dob.dt.month) | (
        (when.dt.month == dob.dt.month) & (when.dt.day < dob.dt.day)
    )
    return (years - before_birthday.astype("Int64")).astype("Int64")


def identity_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows joined into this person, as shown: source, role, record,
    date, name, date of birth, age as stated, ref and home address."""
    out = pd.DataFrame(
        {
            "row_key": rows["row_key"],
            "source": rows["source_file"] + " row " + rows["source_row"].astype("string"),
            "role": rows["role"],
            "record": rows["incident_id"],
            "date": pd.to_datetime(rows["occurred_at"]).dt.date,
            "name": (rows["forename"].fillna("") + " " + rows["surname"].fillna("")).str.strip(),
            "date_of_birth": pd.to_datetime(rows["date_of_birth"]).dt.date,
            "age_as_stated": age_as_stated(rows["date_of_birth"], rows["occurred_at"]),
            "person_ref": rows["person_ref"],
            "home_address": rows["home_address"],
        }
    )
    return out.reset_index(drop=True)


def aliases(rows: pd.DataFrame) -> pd.DataFrame:
    """Each spelling of the name (and stated date of birth) with how many rows
    use it and when it was first and last seen, most used first."""
    name = (rows["forename"].fillna("") + " " + rows["surname"].fillna("")).str.strip()
    frame = pd.DataFrame(
        {
            "name": name.replace("", "(no name)"),
            "date_of_birth": pd.to_datetime(rows["date_of_birth"]).dt.date.astype("string"),
            "at": pd.to_datetime(rows["occurred_at"]),
        }
    )
    frame["date_of_birth"] = frame["date_of_birth"].fillna("(none)")
    out = (
        frame.groupby(["name", "date_of_birth"], dropna=False)
        .agg(rows=("at", "size"), first_seen=("at", "min"), last_seen=("at", "max"))
        .reset_index()
        .sort_values(["rows", "name"], ascending=[False, True], kind="stable")
    )
    out["first_seen"] = out["first_seen"].dt.date
    out["last_seen"] = out["last_seen"].dt.date
    return out.reset_index(drop=True)


def join_reasons(links: pd.DataFrame, row_keys: pd.Series | list[str]) -> pd.DataFrame:
    """Why the rows were joined: one line per accepted link between two of
    this person's rows, its final match weight and probability, and the
    comparisons that make up the weight (``forename: exact +5.74``), from
    :func:`adapt.identity.explain`."""
    cols = ["row_key_l", "row_key_r", "final_weight", "match_probability", "decision", "why"]
    if links is None or links.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    parts = explain(links, list(row_keys))
    if parts.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    weight = parts["weight"].map(lambda w: "" if pd.isna(w) else f" {w:+.2f}")
    parts = parts.assign(
        text=parts["comparison"] + ": " + parts["level"].fillna("").astype(str) + weight
    )
    why = parts.groupby(["row_key_l", "row_key_r"], sort=False)["text"].agg("; ".join)
    heads = links.drop_duplicates(["row_key_l", "row_key_r"]).set_index(["row_key_l", "row_key_r"])
    out = (
        why.rename("why").to_frame().join(heads[["final_weight", "match_probability", "decision"]])
    )
    out = out.reset_index().sort_values("final_weight", ascending=False, kind="stable")
    return out[cols].reset_index(drop=True)


def comparison_weights(links: pd.DataFrame, row_keys: pd.Series | list[str]) -> pd.DataFrame:
    """The long table of :func:`adapt.identity.explain` (for a waterfall or a
    table): one row per part of each link's weight."""
    if links is None or links.empty:
        return pd.DataFrame(columns=["row_key_l", "row_key_r", "comparison", "level", "weight"])
    return explain(links, list(row_keys))


# -------------------------------------------------------------------- timeline
def _labelled(ids: pd.Series, labels: pd.DataFrame | None) -> pd.Series:
    if labels is None or not len(labels):
        return ids.astype("string")
    names = ids.map(labels.set_index("person_id")["label"]).astype("string")
    return names.fillna(ids.astype("string"))


def person_incidents(
    history: History, person_id: str, harm_table: str, labels: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every incident with the person as suspect, one row per victim:
    ``incident_id, occurred_at, offence, is_crime, harm, victim_id, victim``."""
    inv = history.involvements
    mine = inv.loc[(inv["person_id"] == person_id) & (inv["role"] == "suspect"), ["incident_id"]]
    mine = mine.drop_duplicates()
    inc = history.incidents.merge(mine, on="incident_id")
    inc = inc[["incident_id", "occurred_at", "offence", "is_crime", "area"]].copy()
    inc["harm"] = incident_harm(inc, harm_table)
    pairs = incident_pairs(inv[inv["incident_id"].isin(inc["incident_id"]).to_numpy(dtype=bool)])
    vic = pairs.loc[pairs["suspect_id"] == person_id, ["incident_id", "victim_id"]]
    out = inc.merge(vic, on="incident_id", how="left")
    out["victim_id"] = out["victim_id"].astype("string")
    out["victim"] = _labelled(out["victim_id"], labels).fillna(NO_VICTIM)
    out = out.sort_values(["occurred_at", "incident_id"], kind="stable")
    return out.reset_index(drop=True)


def person_events(history: History, person_id: str) -> pd.DataFrame:
    """Dated marks for the timeline: MARAC referrals naming the person as
    perpetrator and the dates their flags went on (``at, event, detail``)."""
    m = history.marac
    mine = m[m["perpetrator_person_id"] == person_id]
    parts = [
        pd.DataFrame(
            {"at": mine["referral_date"], "event": "MARAC referral", "detail": mine["referral_id"]}
        ),
        pd.DataFrame(
            {"at": mine["flagged_at"], "event": "MARAC flag on", "detail": mine["referral_id"]}
        ),
    ]
    out = pd.concat(parts, ignore_index=True).dropna(subset=["at"])
    out["detail"] = out["detail"].astype("string")
    return out.sort_values(["at", "event"], kind="stable").reset_index(drop=True)


def person_periods(history: History, person_id: str) -> pd.DataFrame:
    """Custody and management periods (``status, from_date, to_date``); an
    open period has no end date."""
    g = history.management
    mine = g.loc[g["person_id"] == person_id, ["status", "from_date", "to_date"]]
    return mine.sort_values("from_date", kind="stable").reset_index(drop=True)


def timeline_figure(
    incidents: pd.DataFrame, events: pd.DataFrame, periods: pd.DataFrame, end: object = None
) -> go.Figure:
    """Incidents by date and harm, coloured by victim; MARAC referrals and
    flags as marked lines; custody and management periods as shaded bands."""
    fig = go.Figure()
    for victim, part in incidents.groupby("victim", sort=True, dropna=False):
        fig.add_trace(
            go.Scatter(
                x=part["occurred_at"],
                y=part["harm"],
                mode="markers",
                name=plot_text(victim),  # names and values from the data: text, not tags
                marker={"size": 9, "line": {"width": 0.5, "color": "white"}},
                customdata=np.stack(
                    [part["incident_id"].map(plot_text), part["offence"].map(plot_text)], axis=-1
                ),
                hovertemplate="%{x|%d %b %Y}<br>%{customdata[0]}<br>%{customdata[1]}"
                "<br>harm %{y:.0f} days<extra>%{fullData.name}</extra>",
            )
        )
    top = float(incidents["harm"].max()) if len(incidents) else 1.0
    styles = {"MARAC referral": ("triangle-up", "#c0392b"), "MARAC flag on": ("x", "#e67e22")}
    for name, part in events.groupby("event", sort=True):
        symbol, colour = styles.get(str(name), ("diamond", "#555"))
        fig.add_trace(
            go.Scatter(
                x=part["at"],
                y=np.full(len(part), -0.04 * max(top, 1.0)),
                mode="markers",
                name=str(name),
                marker={"symbol": symbol, "size": 11, "color": colour},
                customdata=part["detail"].map(plot_text).to_numpy(dtype=object),
                hovertemplate="%{x|%d %b %Y}<br>%{customdata}<extra>" + str(name) + "</extra>",
            )
        )
    last = pd.Timestamp(end) if end is not None else None
    for row in periods.itertuples(index=False):
        stop = row.to_date if pd.notna(row.to_date) else (last or row.from_date)
        fig.add_vrect(
            x0=row.from_date,
            x1=stop,
            fillcolor=PERIOD_COLOURS.get(str(row.status), "rgba(0,0,0,0.1)"),
            line_width=0,
            annotation_text=plot_text(row.status),
            annotation_position="top left",
        )
    fig.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis_title="date",
        yaxis_title="harm (CHI days)",
        legend_title_text="victim / mark",
    )
    return fig


# ------------------------------------------------------------------- signals
# Labels say the windows the features were counted over ({window}, {half},
# {serial}: filled from the features' settings, never a fixed "12 months").
SIGNALS: dict[str, str] = {
    "attendances_window": "attendances as suspect in the last {window}",
    "harm_window": "harm (CHI days) in the last {window}",
    "recent_half": "incidents in the last {half}",
    "prior_half": "incidents in the {half} before",
    "frequency_rate_ratio": "rate ratio, recent against prior half",
    "frequency_p_value": "chance of a rise this large by chance",
    "frequency_escalating": "frequency escalating",
    "severity_recent": "mean harm per incident, last {half}",
    "severity_prior": "mean harm per incident, {half} before",
    "severity_ratio": "severity ratio",
    "severity_escalating": "severity escalating",
    "victims_serial_window": "distinct victims in the last {serial}",
    "new_victims_window": "new victims in the last {window}",
    "new_partner_alert": "new partner alert",
    "marac_repeats_window": "SafeLives repeats in the last {window}",
    "late_flag_repeats_total": "repeats a late MARAC flag missed",
    "counter_allegation": "counter-allegation",
    "counter_role": "role in the counter-allegation",
}


def escalation_signals(features: pd.DataFrame, person_id: str) -> pd.DataFrame:
    """The escalation signals with their numbers (``signal, value, meaning``);
    empty when the person was not a suspect up to the date."""
    if person_id not in features.index:
        return pd.DataFrame(columns=["signal", "value", "meaning"])
    row = features.loc[person_id]
    keys = [k for k in SIGNALS if k in row.index]
    values = [row[k] for k in keys]
    text = [
        "" if v is None or (not isinstance(v, str) and pd.isna(v))
        else (f"{v:,.4g}" if isinstance(v, float | np.floating) else str(v))
        for v in values
    ]  # fmt: skip
    meaning = [SIGNALS[k].format(**_window_names(features)) for k in keys]
    return pd.DataFrame({"signal": keys, "value": text, "meaning": meaning})


def _window_names(features: pd.DataFrame) -> dict[str, str]:
    """The windows of a feature frame in words (the defaults if it does not say)."""
    w = features.attrs.get("windows") or default_settings().windows.model_dump()
    return {
        "window": window_words(int(w["window_days"])),
        "half": window_words(int(w["escalation_half_days"])),
        "serial": window_words(int(w["serial_days"])),
    }


# --------------------------------------------------------- victims, addresses
def person_victims(incidents: pd.DataFrame) -> pd.DataFrame:
    """From :func:`person_incidents`: each victim, with incidents, harm and
    the first and last dates."""
    named = incidents[incidents["victim_id"].notna()]
    out = (
        named.groupby(["victim_id", "victim"], observed=True)
        .agg(
            incidents=("incident_id", "nunique"),
            harm=("harm", "sum"),
            first_at=("occurred_at", "min"),
            last_at=("occurred_at", "max"),
        )
        .reset_index()
        .sort_values(["last_at", "victim_id"], ascending=[False, True], kind="stable")
    )
    return out.reset_index(drop=True)


def person_addresses(links: pd.DataFrame, addresses: pd.DataFrame, person_id: str) -> pd.DataFrame:
    """Addresses linked to the person (home, or where incidents happened),
    with the incidents and dates: ``address, postcode, relation, incidents,
    first_at, last_at``."""
    mine = links[(links["source_id"] == person_id) & (links["target_kind"] == "address")]
    out = mine.merge(addresses, left_on="target_id", right_on="address_id", how="left")
    out = pd.DataFrame(
        {
            "address": out["label"].astype("string").fillna(out["target_id"]),
            "postcode": out["postcode"].astype("string"),
            "relation": out["relation"].astype("string"),
            "incidents": out["incidents"],
            "first_at": out["first_at"],
            "last_at": out["last_at"],
        }
    )
    return out.sort_values(["last_at", "address"], ascending=[False, True]).reset_index(drop=True)


# ------------------------------------------------------------------ network
def network_frames(
    links: pd.DataFrame,
    addresses: pd.DataFrame,
    person_id: str,
    labels: pd.DataFrame | None = None,
    depth: int = 2,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The ego network to ``depth``: node and edge frames with positions
    (:func:`adapt.graph.ego_frames`) and the graph's attributes (``capped``,
    ``nodes_reached``)."""
    graph = ego_network(links, person_id, depth=depth, addresses=addresses, person_labels=labels)
    nodes, edges = ego_frames(graph)
    return nodes, edges, dict(graph.graph)


def network_figure(nodes: pd.DataFrame, edges: pd.DataFrame) -> go.Figure:
    """People (circles) and addresses (squares), the centre highlighted,
    edges as lines; hover shows each node's label."""
    xs, ys = [], []
    for e in edges.itertuples(index=False):  # a few hundred edges at most (MAX_NODES)
        xs += [e.x0, e.x1, None]
        ys += [e.y0, e.y1, None]
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"width": 0.8, "color": "#999"},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    styles = {
        ("person", True): ("circle", 18, "#c0392b", "this person"),
        ("person", False): ("circle", 11, "#2e86c1", "person"),
        ("address", False): ("square", 10, "#27ae60", "address"),
        ("address", True): ("square", 16, "#c0392b", "this address"),
    }
    centre = nodes["distance"] == 0
    for (kind, is_centre), (symbol, size, colour, name) in styles.items():
        part = nodes[(nodes["kind"] == kind) & (centre == is_centre)]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["x"], y=part["y"], mode="markers", name=name,
                marker={"symbol": symbol, "size": size, "color": colour},
                text=part["label"].map(plot_text), customdata=part["distance"],
                hovertemplate="%{text}<br>%{customdata} hop(s) away<extra></extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        height=480,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False, "scaleanchor": "x"},
        plot_bgcolor="white",
    )
    return fig


# ----------------------------------------------------------------- outcome
def adoption_date(decisions: pd.DataFrame) -> date | None:
    """The as-of date of the person's latest adoption (the data date the officer
    decided on) while it stands: the person is still adopted, or their
    management has since ended (the outcome after adoption still counts); None
    when never adopted or declined since. ``decisions`` is
    :func:`adapt.db.app_store.decisions_frame` for the person.

    >>> d = pd.DataFrame({"id": [1, 2], "decision": ["adopted", "ended"],
    ...                   "as_of": [date(2025, 1, 5), date(2025, 6, 1)]})
    >>> adoption_date(d), adoption_date(d.assign(decision=["adopted", "declined"]))
    (datetime.date(2025, 1, 5), None)
    """
    if decisions.empty:
        return None
    ordered = decisions.sort_values("id")
    adopted = ordered[ordered["decision"] == "adopted"]
    if adopted.empty:
        return None
    later = ordered[ordered["id"] > adopted["id"].iloc[-1]]
    if (later["decision"] == "declined").any():
        return None
    return pd.Timestamp(adopted["as_of"].iloc[-1]).date()


def outcome_before_after(incidents: pd.DataFrame, adopted: date, last_date: object) -> pd.DataFrame:
    """Attendances, harm and victims in the 12 months before the adoption
    date and the 12 months after (or as much of it as the data covers):
    ``period, days, attendances, harm, victims``."""
    day = pd.Timestamp(adopted).normalize() + DAY  # the adoption day counts as before
    end = min(day + YEAR, pd.Timestamp(last_date).normalize() + DAY)
    per = incidents.drop_duplicates("incident_id")
    rows = []
    for period, lo, hi in (("12 months before", day - YEAR, day), ("after", day, end)):
        inside = per[(per["occurred_at"] >= lo) & (per["occurred_at"] < hi)]
        victims = incidents.loc[
            incidents["incident_id"].isin(inside["incident_id"]), "victim_id"
        ].nunique()
        rows.append(
            {
                "period": period,
                "days": max(int((hi - lo) / DAY), 0),
                "attendances": len(inside),
                "harm": float(inside["harm"].sum()),
                "victims": int(victims),
            }
        )
    return pd.DataFrame(rows)


# -------------------------------------------------------------------- plan
def plan_by_pathway(plan: pd.DataFrame, pathways: tuple[str, ...]) -> pd.DataFrame:
    """Current plan entries ordered by pathway (in the IOM order), then
    kind and due date; entries with no pathway come last."""
    if plan.empty:
        return plan
    order = {p: i for i, p in enumerate(pathways)}
    out = plan.assign(_o=plan["pathway"].map(order).fillna(len(order)))
    out = out.sort_values(
        ["_o", "kind", "due_date", "entry_key"], kind="stable", na_position="last"
    )
    return out.drop(columns="_o").reset_index(drop=True)


# ------------------------------------------------------------------ choosing
PERSON_OPTIONS = 500  # a selectbox's options all go to the browser: keep the list short


def person_options(
    labels: pd.DataFrame,
    query: str = "",
    current: str | None = None,
    limit: int = PERSON_OPTIONS,
    names: NameIndex | None = None,
) -> tuple[list[str], int]:
    """The person ids the page's "Person" box offers, and how many people match.

    ``query`` matches part of a name, both folded as identity resolution
    folds names (:func:`adapt.rules.names.fold_name`: "Jose Taylor" finds
    "José Taylor"), or part of an id (case-insensitive); empty: everyone.
    With the MARAC search's name index (``names``) a name with a typo is
    found too, as the MARAC search finds it (:func:`adapt.views.marac.name_scores`:
    "Jon Smiht" finds "John Smith"); those come after the exact part matches,
    best match first. The first ``limit`` matches are offered, with
    ``current`` kept first when it is not among them.
    """
    ids = labels["person_id"].astype("string")
    query = (query or "").strip()
    if query:
        hit = ids.str.casefold().str.contains(query.casefold(), regex=False)
        name = fold_name(query)
        if name:
            hit = hit | fold_names(labels["label"]).str.contains(name, regex=False)
        exact = ids[hit.fillna(False).to_numpy(dtype=bool)]
        if name and names is not None:
            scores = name_scores(names, query)
            close = scores[scores >= MATCH_THRESHOLD]
            close = close[close.index.isin(ids) & ~close.index.isin(exact)]
            order = pd.DataFrame({"id": close.index.astype(str), "s": close.to_numpy()})
            order = order.sort_values(["s", "id"], ascending=[False, True], kind="mergesort")
            exact = pd.concat([exact, pd.Series(order["id"].to_numpy(), dtype="string")])
        ids = exact
    options = [str(p) for p in ids.iloc[:limit]]
    if current and current not in options:
        options.insert(0, current)
    return options, len(ids)


# ------------------------------------------------ score parts and the model's advice


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as the page shows it: dates as "05 Dec 2026" (missing: "not
    recorded"), yes/no for true/false, column names in words, and no "None",
    "nan", "NaT" or "<NA>" anywhere (an empty cell is empty)."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        v = frame[col]
        if pd.api.types.is_datetime64_any_dtype(v):
            t = v.dt.strftime("%d %b %Y").astype(object)
            out[col] = t.where(v.notna(), NOT_RECORDED)
        elif pd.api.types.is_bool_dtype(v):
            out[col] = v.map({True: "yes", False: "no"}).astype(object).where(v.notna(), "")
        elif pd.api.types.is_numeric_dtype(v):
            if v.isna().any():  # one type per column: numbers as text beside the empty cells
                out[col] = v.map(lambda x: "" if pd.isna(x) else f"{x:,.6g}").astype(object)
            else:
                out[col] = v
        else:
            out[col] = v.map(_cell_words).astype(object)
    out.columns = [str(c).replace("_", " ") for c in frame.columns]
    return out


def _cell_words(value: object) -> str:
    """One cell of a text column as text: a date as "05 Dec 2026", missing as empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, date):
        return f"{value:%d %b %Y}"
    text = str(value)
    return "" if text in ("None", "nan", "NaT", "<NA>") else text


def score_summary(ranked: pd.DataFrame, person_id: str) -> dict[str, object] | None:
    """One person's place in the ranking: ``rank``, ``people`` ranked,
    ``score``, ``in_cohort`` and the ``reason`` in words; None when not ranked."""
    row = ranked[ranked["person_id"].astype(str) == str(person_id)]
    if row.empty:
        return None
    r = row.iloc[0]
    return {
        "rank": int(r["rank"]),
        "people": len(ranked),
        "score": float(r["score"]),
        "in_cohort": bool(r["in_cohort"]),
        "reason": "" if pd.isna(r["reason"]) else str(r["reason"]),
    }


def score_parts_shown(ranked: pd.DataFrame, person_id: str) -> pd.DataFrame:
    """The score's parts for one person, in words: ``part, points`` (every
    part, the largest first; empty when the person is not ranked)."""
    row = ranked[ranked["person_id"].astype(str) == str(person_id)]
    if row.empty:
        return pd.DataFrame(columns=["part", "points"])
    points = row.iloc[0][list(PARTS)].astype(float)
    out = pd.DataFrame(
        {"part": [PART_LABELS.get(p, p) for p in PARTS], "points": points.round(1).to_numpy()}
    )
    return out.sort_values("points", ascending=False, kind="mergesort").reset_index(drop=True)


def _value_words(name: str, value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NOT_RECORDED
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if name.startswith("days_since") and float(value) < 0:  # type: ignore[arg-type]
        return "none on record"
    if isinstance(value, float | np.floating):
        return f"{float(value):,.3g}"
    return str(value)


def model_parts_shown(parts: pd.DataFrame, features_row: pd.Series | None = None,
                      top: int = 8) -> pd.DataFrame:  # fmt: skip
    """The model's largest contributions in words: ``what the record shows``
    (the input), ``value`` and ``effect`` ("raises the odds 1.8 times",
    "lowers the odds to 0.6 times"). ``parts`` is
    :func:`adapt.learned.advice.person_parts`' frame (``input, value,
    contribution``; the contribution on the log-odds scale)."""
    head = parts.head(top)
    odds = np.exp(head["contribution"].to_numpy(dtype=float))
    effect = [
        f"raises the odds {o:.2g} times" if o >= 1 else f"lowers the odds to {o:.2g} times"
        for o in odds
    ]
    names = head["feature"] if "feature" in head else head["input"]
    values = [_value_words(str(n), v) for n, v in zip(names, head["value"], strict=True)]
    return pd.DataFrame(
        {"what the record shows": head["input"].to_numpy(), "value": values, "effect": effect}
    )


def signals_shown(signals: pd.DataFrame) -> pd.DataFrame:
    """:func:`escalation_signals` as the page shows it: the signal in words
    and its value (yes/no for flags; empty stays empty)."""
    value = signals["value"].replace({"True": "yes", "False": "no"})
    return pd.DataFrame({"signal": signals["meaning"].to_numpy(), "value": value.to_numpy()})
