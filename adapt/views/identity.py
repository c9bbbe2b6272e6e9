"""Identity links explained to a police user, and the review queue as people.

Pure functions over frames read by :mod:`adapt.db.identity` (stored links,
their per-comparison levels and weights), :mod:`adapt.db.search` (the stored
records behind row keys, the review queue and decisions on its pairs) and
:mod:`adapt.db.people` (person labels):

* :func:`record_description`: a record as a user knows it ("suspect,
  incident INC-000123 of 03 Feb 2025", "MARAC referral of 12 Mar 2025",
  "management record from 01 Apr 2025"), never a row key;
* :func:`link_sentence`: one line in words from a link's comparison levels
  and the two records ("same date of birth; forename Bob is a nickname of
  Robert; same address in LE15");
* :func:`waterfall_figure`: the link's match weight by comparison (plotly,
  drawn by Streamlit's bundled plotly.js: nothing is fetched);
* :func:`link_lines`, :func:`side_by_side`, :func:`review_view`: the tables
  the Person pathway and the review queue show.

Text from the data is returned as plain strings for ``st.text``,
``st.dataframe`` or plotly labels; nothing here is Markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from adapt.identity.explain import link_parts
from adapt.identity.nicknames import aliases
from adapt.rules.addresses import normalise_postcode, postcode_parts

# The comparisons in the order a sentence names them (others follow, by name).
ORDER = ("dob", "forename", "surname", "person_ref", "home", "gender")
COMPARISON_NAMES: dict[str, str] = {
    "prior": "start (two random records)",
    "dob": "date of birth",
    "forename": "forename",
    "surname": "surname",
    "person_ref": "person reference",
    "home": "home address",
    "gender": "recorded gender",
    "context": "incident context",
    "analyst": "analyst decision",
}
MISSING = ("missing", "", "none")
DATE = "%d %b %Y"
CONTEXT_WORDS: dict[str, str] = {
    "suspect against the same victim": "suspects against the same victim",
    "same address, same month": "same role at incidents at the same address in the same month",
    "same address in the same month": "same role at incidents at the same address in the "
    "same month",
    "on one incident together": "named together on one incident (so two people)",
}
DECISION_WORDS: dict[str, str] = {
    "analyst: same": "an analyst decided they are the same person",
    "analyst: not same": "an analyst decided they are not the same person",
}


# ------------------------------------------------------------------ records
def _text(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _date(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return f"{pd.Timestamp(value):{DATE}}"


def record_description(record: Mapping[str, object]) -> str:
    """A stored record as a user knows it, from :func:`adapt.db.search.records_by_key`.

    >>> record_description({"kind": "involvement", "role": "suspect",
    ...                     "record": "INC-7", "occurred_at": "2025-02-03"})
    'suspect, incident INC-7 of 03 Feb 2025'
    >>> record_description({"kind": "marac", "role": "perpetrator",
    ...                     "record": "M-1", "occurred_at": "2025-03-12"})
    'MARAC referral of 12 Mar 2025 (perpetrator)'
    >>> record_description({"kind": "management", "role": "iom", "occurred_at": "2025-04-01"})
    'management record (iom) from 01 Apr 2025'
    >>> record_description({})
    'record not found'
    """
    kind = _text(record.get("kind"))
    role = _text(record.get("role"))
    when = _date(record.get("occurred_at"))
    if kind == "involvement":
        text = f"{role or 'involved'}, incident {_text(record.get('record'))}"
        return f"{text} of {when}" if when else text
    if kind == "marac":
        text = f"MARAC referral of {when}" if when else "MARAC referral"
        return f"{text} ({role})" if role else text
    if kind == "management":
        text = f"management record ({role})" if role else "management record"
        return f"{text} from {when}" if when else text
    return "record not found"


def record_name(record: Mapping[str, object]) -> str:
    """``Forename Surname, born 01 Feb 1980`` (what was recorded)."""
    name = f"{_text(record.get('forename'))} {_text(record.get('surname'))}".strip()
    born = _date(record.get("date_of_birth"))
    name = name or "(no name)"
    return f"{name}, born {born}" if born else name


def _district(record: Mapping[str, object]) -> str:
    pc = normalise_postcode(pd.Series([_text(record.get("home_postcode")) or None], dtype="string"))
    district = postcode_parts(pc)["district"].iloc[0]
    return "" if pd.isna(district) else str(district)


# -------------------------------------------------------------------- words
def dob_difference(a: object, b: object) -> str | None:
    """How two dates of birth differ, in words, or None when they are the
    same, missing, or differ in more than a recording slip.

    >>> dob_difference("1980-02-13", "1980-02-18")  # one digit
    'dates of birth differ by one digit'
    >>> dob_difference("1980-02-13", "1908-02-13")  # 80 -> 08
    'dates of birth differ by two digits swapped'
    >>> dob_difference("1980-03-12", "1980-03-21")
    'dates of birth differ by two digits swapped'
    >>> dob_difference("1980-04-05", "1980-05-04")
    'dates of birth have day and month swapped'
    >>> dob_difference("1980-02-13", "1991-07-30") is None
    True
    """
    if not _text(a) or not _text(b):
        return None
    x, y = pd.Timestamp(a), pd.Timestamp(b)
    if x == y:
        return None
    if (x.year, x.month, x.day) == (y.year, y.day, y.month):
        return "dates of birth have day and month swapped"
    s, t = f"{x:%Y%m%d}", f"{y:%Y%m%d}"
    diff = [i for i in range(8) if s[i] != t[i]]
    if len(diff) == 1:
        return "dates of birth differ by one digit"
    i, j = [*diff, 0, 0][:2]
    if len(diff) == 2 and j == i + 1 and s[i] == t[j] and s[j] == t[i]:
        return "dates of birth differ by two digits swapped"
    return None


def _nickname(a: str, b: str) -> str:
    if b.casefold() in aliases(a.casefold()):
        return f"forename {a} is a nickname of {b}"
    if a.casefold() in aliases(b.casefold()):
        return f"forename {b} is a nickname of {a}"
    return f"forenames {a} and {b} are forms of one name"


def _forename(level: str, left: Mapping, right: Mapping) -> str:
    a, b = _text(left.get("forename")), _text(right.get("forename"))
    named = bool(a and b)
    if level == "exact":
        return "same forename"
    if level == "nickname":
        return _nickname(a, b) if named else "forenames are forms of one name"
    if level == "typo":
        return (
            f"forename {a} is a near spelling of {b}" if named else "forenames spelt nearly alike"
        )
    if level == "sounds alike":
        return f"forenames {a} and {b} sound alike" if named else "forenames sound alike"
    if level == "initial":
        short, long = (a, b) if len(a) <= len(b) else (b, a)
        return f"forename initial {short} fits {long}" if named else "forename initials agree"
    if level == "different":
        return "different forenames"
    return f"forename: {level}"


def _surname(level: str, left: Mapping, right: Mapping) -> str:
    a, b = _text(left.get("surname")), _text(right.get("surname"))
    named = bool(a and b)
    if level == "exact":
        return "same surname"
    if level == "typo":
        return f"surname {a} is a near spelling of {b}" if named else "surnames spelt nearly alike"
    if level == "sounds alike":
        return f"surnames {a} and {b} sound alike" if named else "surnames sound alike"
    if level == "different":
        return "different surnames"
    return f"surname: {level}"


def _dob(level: str, left: Mapping, right: Mapping) -> str:
    if level == "exact":
        return "same date of birth"
    if level == "different":
        return "different dates of birth"
    slip = dob_difference(left.get("date_of_birth"), right.get("date_of_birth"))
    if slip:
        return slip
    if level == "day/month swapped":
        return "dates of birth have day and month swapped"
    if level.startswith("1 January placeholder"):
        return "same year of birth, one date a 1 January placeholder"
    if level == "one part differs":
        return "dates of birth differ in one of day, month or year"
    if level == "within 2 years":
        return "dates of birth within two years of each other"
    return f"date of birth: {level}"


def _home(level: str, left: Mapping, right: Mapping) -> str:
    district = _district(left) or _district(right)
    where = f" in {district}" if district else ""
    if level == "same address":
        return f"same address{where}"
    if level == "same postcode":
        return f"same home postcode{where}"
    if level == "same postcode district":
        return f"home postcodes in the same district{' (' + district + ')' if district else ''}"
    if level == "different":
        return "different home addresses"
    return f"home address: {level}"


def _simple(name: str, level: str) -> str | None:
    if name == "person_ref":
        return {"exact": "same person reference", "different": "different person references"}.get(
            level, f"person reference: {level}"
        )
    if name == "gender":  # the same gender says little: only a difference is named
        return {"exact": None, "different": "different recorded genders"}.get(
            level, f"recorded gender: {level}"
        )
    return f"{COMPARISON_NAMES.get(name, name)}: {level}"


WORDERS = {"forename": _forename, "surname": _surname, "dob": _dob, "home": _home}


def link_sentence(
    levels: Mapping[str, object],
    left: Mapping[str, object] | None = None,
    right: Mapping[str, object] | None = None,
    *,
    context: object = "",
    decision: object = "",
) -> str:
    """One line in words for a link: each comparison's level (``levels``:
    comparison name to level label, as stored in ``lbl_*``) read with the two
    records (``forename``, ``surname``, ``date_of_birth``, ``home_postcode``),
    then the incident context and any analyst or guard decision.

    Missing comparisons are left out; so is an agreeing gender (it says little).

    >>> link_sentence(
    ...     {"dob": "exact", "forename": "nickname", "surname": "exact", "home": "same address"},
    ...     {"forename": "Bob", "home_postcode": "le15 6ab"},
    ...     {"forename": "Robert", "home_postcode": "LE15 6AB"},
    ... )
    'same date of birth; forename Bob is a nickname of Robert; same surname; same address in LE15'
    """
    left, right = left or {}, right or {}
    names = [n for n in ORDER if n in levels] + sorted(n for n in levels if n not in ORDER)
    words: list[str] = []
    for name in names:
        level = _text(levels.get(name))
        if level in MISSING:
            continue
        worder = WORDERS.get(name)
        said = worder(level, left, right) if worder else _simple(name, level)
        if said:
            words.append(said)
    for reason in _text(context).split("; "):
        if reason and reason not in MISSING:
            words.append(CONTEXT_WORDS.get(reason, reason))
    said = _text(decision)
    if said in DECISION_WORDS:
        words.append(DECISION_WORDS[said])
    elif said.startswith("guard: "):
        words.append(f"kept apart by a guard: {said.removeprefix('guard: ')}")
    return "; ".join(words) if words else "no comparison could be made (details missing)"


def link_summary(link: Mapping[str, object]) -> str:
    """A stored link's figures in one line, for analysts.

    >>> link_summary({"decision": "auto", "match_weight": 10.25, "context_weight": 4.0,
    ...               "final_weight": 14.25, "match_probability": 0.99995})
    'decision: auto; match weight +10.25; context +4.00; final weight +14.25; probability 0.99995'
    """

    def num(key: str, fmt: str) -> str:
        v = link.get(key)
        return "-" if v is None or pd.isna(v) else format(float(v), fmt)

    return (
        f"decision: {_text(link.get('decision'))}; match weight {num('match_weight', '+.2f')}; "
        f"context {num('context_weight', '+.2f')}; final weight {num('final_weight', '+.2f')}; "
        f"probability {num('match_probability', '.5f')}"
    )


def levels_of(link: Mapping[str, object]) -> dict[str, object]:
    """The comparison levels of one stored link (its ``lbl_*`` fields)."""
    return {k[4:]: v for k, v in link.items() if str(k).startswith("lbl_")}


# ------------------------------------------------------------------ figures
def waterfall_figure(parts: pd.DataFrame, probability: float | None = None) -> go.Figure | None:
    """The match weight of one link by comparison: the prior first, one bar
    per comparison made (one missing on either record adds nothing and has no
    bar), the context adjustment when there is one, and the final weight as
    the total.
    ``parts`` is one link's rows of :func:`adapt.identity.explain.link_parts`.
    None for a link without weights (an analyst's decision on an unscored pair).
    """
    scored = parts[(parts["comparison"] != "analyst") & parts["weight"].notna()]
    # a comparison that could not be made (missing on a side) adds nothing: no bar
    unsaid = parts["level"].astype("string").fillna("").isin(MISSING) & (parts["weight"] == 0)
    scored = scored[~unsaid.reindex(scored.index).fillna(False).to_numpy(dtype=bool)]
    if scored.empty or not (parts["comparison"] == "prior").any() or scored["weight"].isna().all():
        return None
    if pd.isna(parts.loc[parts["comparison"] == "prior", "weight"]).all():
        return None
    names = [COMPARISON_NAMES.get(str(c), str(c)) for c in scored["comparison"]]
    weights = scored["weight"].astype("float64").to_list()
    levels = [_text(v) or "-" for v in scored["level"]]
    total = float(np.sum(weights))
    title = f"final weight {total:+.1f}"
    if probability is not None and not pd.isna(probability):
        title += f" (match probability {float(probability):.3f})"
    fig = go.Figure(
        go.Waterfall(
            orientation="v",
            x=[*names, "final weight"],
            measure=[*(["relative"] * len(weights)), "total"],
            y=[*weights, 0.0],
            text=[f"{w:+.1f}" for w in [*weights, total]],
            textposition="outside",
            customdata=[*levels, title],
            hovertemplate="%{x}: %{customdata}<br>%{y:+.2f}<extra></extra>",
            increasing={"marker": {"color": "#1e8449"}},
            decreasing={"marker": {"color": "#c0392b"}},
            totals={"marker": {"color": "#2e86c1"}},
            connector={"line": {"color": "#999", "width": 1}},
        )
    )
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        height=340,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        yaxis_title="weight (log2 odds)",
        showlegend=False,
    )
    return fig


# ------------------------------------------------------------------- tables
def _record_map(records: pd.DataFrame) -> dict[str, dict]:
    if records is None or records.empty:
        return {}
    return {str(r["row_key"]): r for r in records.to_dict("records")}


def link_lines(links: pd.DataFrame, records: pd.DataFrame, row_keys: list[str]) -> pd.DataFrame:
    """The accepted links between a person's rows as a user reads them:
    ``first record, second record, why, probability`` (and the row keys, for
    the analysts' details), weakest first: the joins most worth checking."""
    cols = ["first record", "second record", "why", "probability", "row_key_l", "row_key_r"]
    if links is None or links.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    keys = set(row_keys)
    mine = links[
        links["accepted"].astype(bool).to_numpy()
        & links["row_key_l"].isin(keys).to_numpy()
        & links["row_key_r"].isin(keys).to_numpy()
    ]
    mine = mine.drop_duplicates(["row_key_l", "row_key_r"])
    if mine.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    by_key = _record_map(records)
    rows = []
    for link in mine.to_dict("records"):
        left = by_key.get(str(link["row_key_l"]), {})
        right = by_key.get(str(link["row_key_r"]), {})
        rows.append(
            {
                "first record": record_description(left),
                "second record": record_description(right),
                "why": link_sentence(
                    levels_of(link),
                    left,
                    right,
                    context=link.get("context"),
                    decision=link.get("decision"),
                ),
                "probability": link.get("match_probability"),
                "row_key_l": str(link["row_key_l"]),
                "row_key_r": str(link["row_key_r"]),
                "_w": link.get("final_weight"),
            }
        )
    out = pd.DataFrame(rows)
    out["probability"] = pd.to_numeric(out["probability"], errors="coerce").round(4)
    out["_w"] = pd.to_numeric(out["_w"], errors="coerce")
    out = out.sort_values(["_w", "row_key_l", "row_key_r"], kind="stable", na_position="first")
    return out[cols].reset_index(drop=True)


def link_details(links: pd.DataFrame, row_key_l: str, row_key_r: str) -> pd.DataFrame:
    """The internals of one link for analysts: ``comparison, level, weight``."""
    if links is None or links.empty:
        return pd.DataFrame(columns=["comparison", "level", "weight"])
    one = pick_link(links, row_key_l, row_key_r)
    if one.empty:
        return pd.DataFrame(columns=["comparison", "level", "weight"])
    return link_parts(one)[["comparison", "level", "weight"]].reset_index(drop=True)


def pick_link(links: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """The stored link between rows ``a`` and ``b`` (either order), at most one row."""
    if links is None or links.empty:
        return pd.DataFrame()
    hit = ((links["row_key_l"] == a) & (links["row_key_r"] == b)) | (
        (links["row_key_l"] == b) & (links["row_key_r"] == a)
    )
    return links[hit.to_numpy(dtype=bool)].head(1)


def side_by_side(left: Mapping[str, object], right: Mapping[str, object]) -> pd.DataFrame:
    """Two records field by field: ``field, first record, second record, same``
    (``same`` only where two recorded values can be compared as they stand:
    names, date of birth, gender, reference, postcode; addresses are written
    too many ways for a plain comparison, the waterfall says how they compared)."""

    def postcode(r: Mapping[str, object]) -> str:
        pc = _text(r.get("home_postcode"))
        return str(normalise_postcode(pd.Series([pc], dtype="string")).iloc[0]) if pc else ""

    fields = [
        ("record", record_description, False),
        ("person", lambda r: _text(r.get("person_id")), True),
        ("forename", lambda r: _text(r.get("forename")), True),
        ("surname", lambda r: _text(r.get("surname")), True),
        ("date of birth", lambda r: _date(r.get("date_of_birth")), True),
        ("recorded gender", lambda r: _text(r.get("gender")), True),
        ("person reference", lambda r: _text(r.get("person_ref")), True),
        ("home address", lambda r: _text(r.get("home_address")), False),
        ("home postcode", postcode, True),
    ]
    rows = []
    for label, get, compared in fields:
        a, b = get(left), get(right)
        if not compared or not a or not b:
            same = ""
        else:
            same = "yes" if a.casefold() == b.casefold() else "no"
        rows.append({"field": label, "first record": a, "second record": b, "same": same})
    return pd.DataFrame(rows)


def review_view(
    queue: pd.DataFrame,
    records: pd.DataFrame,
    labels: Mapping[str, str],
    decided: pd.DataFrame | None = None,
    links: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The review queue as people, best first: ``item, check, person, first
    record, second record, why, decided, priority``.

    ``queue`` is :func:`adapt.db.search.review_queue_frame`; ``records`` the
    records behind its row keys; ``labels`` person id to name; ``decided``
    :func:`adapt.db.search.decided_pairs` of its link items (a decision made
    since the identity run, waiting to be applied); ``links`` the stored links
    touching its rows (``why`` is each item's link in words).
    """
    cols = ["item", "check", "person", "first record", "second record", "why", "decided",
            "priority"]  # fmt: skip
    if queue is None or queue.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    by_key = _record_map(records)
    done: dict[tuple[str, str], str] = {}
    if decided is not None and len(decided):
        for d in decided.dropna(subset=["decision"]).to_dict("records"):
            said = "same" if d["decision"] == "same" else "not the same"
            done[(str(d["row_key_l"]), str(d["row_key_r"]))] = f"{said} ({d['author']})"

    by_pair: dict[tuple[str, str], dict] = {}
    if links is not None and len(links):
        for link in links.to_dict("records"):
            pair = (str(link["row_key_l"]), str(link["row_key_r"]))
            by_pair[pair] = by_pair[pair[::-1]] = link

    def who(person_id: object) -> str:
        p = _text(person_id)
        return f"{labels.get(p, p)} ({p})" if p else ""

    def shown(key: object) -> str:
        k = _text(key)
        if not k:
            return ""
        rec = by_key.get(k)
        if rec is None:
            return "record not found"
        person = _text(rec.get("person_id"))
        return f"{record_name(rec)} · {record_description(rec)}" + (f" · {person}" if person
                                                                      else "")  # fmt: skip

    def why(left: str, right: str) -> str:
        link = by_pair.get((left, right))
        if link is None:
            return ""
        a = by_key.get(str(link["row_key_l"]), {})
        b = by_key.get(str(link["row_key_r"]), {})
        return link_sentence(levels_of(link), a, b, context=link.get("context"))

    rows = []
    for item in queue.to_dict("records"):
        left, right = _text(item.get("row_key_l")), _text(item.get("row_key_r"))
        rows.append(
            {
                "item": int(item["id"]),
                "check": _text(item.get("reason")),
                "person": who(item.get("person_id")),
                "first record": shown(left),
                "second record": shown(right),
                "why": why(left, right),
                "decided": done.get((left, right), ""),
                "priority": round(float(item["priority"]), 2),
            }
        )
    return pd.DataFrame(rows, columns=cols)


def item_title(row: Mapping[str, object]) -> str:
    """One line naming a review item for a chooser: ``3. possible missed merge: …``."""
    check = _text(row.get("check"))
    who = _text(row.get("person"))
    return f"{row.get('item')}. {check} · {who}" if who else f"{row.get('item')}. {check}"
