"""Write a district down: the four extract tables as text, and their truth.

Owns the mapping from the true world of a chunk (:mod:`district`) to
contract columns (:mod:`adapt.core.spec`), applying recording noise
(:mod:`noise`) and value spellings (mixed date-time formats, mostly
``true``/``false`` booleans with some ``Y``/``N``), and the truth tables that
go only to the truth folder. Every table is a dict of Arrow string arrays in
row order; truth tables aligned with an extract table share its row order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adapt.core import spec
from adapt.core.harm import HarmTable
from adapt.synthetic import noise as nz
from adapt.synthetic.district import District
from adapt.synthetic.events import AGENCIES
from adapt.synthetic.names import AREAS, PUBLIC_PLACES
from adapt.synthetic.population import FORENAMES, SURNAMES, surname_at
from adapt.synthetic.relationships import KIND_FAMILY, PATTERN_NAMES

Table = dict[str, pa.Array]
PERSON_BLOCK = 10**7  # global person/dyad id = chunk * PERSON_BLOCK + local number
KIND_NAMES = np.array(["perpetrator", "partner", "parent", "sibling", "witness"], dtype=object)
LAYOUT_NAMES = np.array(["normal", "swapped", "both_suspects"], dtype=object)


@dataclass
class Rendered:
    """Text tables of one chunk; ``*_truth`` aligned row by row with the extract table."""

    files: dict[str, Table] = field(default_factory=dict)
    aligned_truth: dict[str, Table] = field(default_factory=dict)  # by extract file name
    truth: dict[str, Table] = field(default_factory=dict)  # free-standing truth files
    spare_ids: pa.Array | None = None  # incident ids used nowhere (for orphans)


def text(values: np.ndarray) -> pa.Array:
    """Numbers or words as Arrow strings."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf":
        return pa.array(arr).cast(pa.string())
    return pa.array(arr.astype(str).astype(object), pa.string())


def days_text(days: np.ndarray) -> pa.Array:
    """ISO dates for day numbers (NaN → empty)."""
    d = np.asarray(days, dtype=float)
    missing = np.isnan(d)
    arr = np.where(missing, 0, d).astype(np.int64).astype("datetime64[D]")
    return pa.array(arr, pa.date32(), mask=missing).cast(pa.string())


def booleans(rng: np.random.Generator, values: np.ndarray, missing: float = 0.0) -> pa.Array:
    """Mostly true/false, a few Y/N and yes/no; some missing."""
    u = rng.random(len(values))
    style = np.select([u < 0.96, u < 0.99], [0, 1], 2)
    words = np.array(["false", "true", "N", "Y", "no", "yes"], dtype=object)
    out = pa.array(words[style * 2 + values.astype(np.int64)], pa.string())
    return nz.where(rng.random(len(values)) < missing, nz.NULL, out)


def choice_text(
    rng: np.random.Generator, vocab: tuple[str, ...], codes: np.ndarray, upper: float = 0.0
) -> pa.Array:
    """Vocabulary words for codes (negative → empty), a few in upper case."""
    out = pc.take(pa.array(vocab), pa.array(np.maximum(codes, 0)))
    out = nz.where(rng.random(len(codes)) < upper, pc.utf8_upper(out), out)
    return nz.where(codes < 0, nz.NULL, out)


def occurred_text(rng: np.random.Generator, day: np.ndarray, minute: np.ndarray) -> pa.Array:
    """'YYYY-MM-DDTHH:MM' mostly, some 'YYYY-MM-DD HH:MM:SS', a few dates only."""
    secs = (day.astype(np.int64) * 1440 + minute) * 60
    full = pa.array(secs.astype("datetime64[s]")).cast(pa.string())  # 'YYYY-MM-DD HH:MM:SS'
    t_form = pc.replace_substring(pc.utf8_slice_codeunits(full, 0, 16), " ", "T")
    u = rng.random(len(day))
    out = nz.where(u < 0.85, t_form, full)
    return nz.where(u > 0.985, pc.utf8_slice_codeunits(full, 0, 10), out)


def render(
    rng: np.random.Generator, w: District, chunk: int, noise: float, harm: HarmTable
) -> Rendered:
    """All extract and truth tables of one district."""
    out = Rendered()
    persons = w.pop.persons
    n_p = len(persons)
    base = chunk * PERSON_BLOCK
    related = np.full(n_p, -1)
    n_perp = len(w.pop.parent)
    related[:n_perp] = np.where(w.pop.parent >= 0, w.pop.parent, w.pop.sibling)
    refs = nz.assign_refs(rng, n_p, related, noise, chunk)
    inc, rows = w.inc, w.rows
    n = len(inc)
    # Incident ids: a unique number per incident; spare numbers for orphan rows.
    width = max(6, len(str(2 * n + 1000)))
    numbers = rng.permutation(2 * n + 1000)
    year = (
        inc["day"].to_numpy().astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    ) % 100
    ids = _incident_ids(chunk, year, numbers[:n], width)
    spare = numbers[n:]
    out.spare_ids = _incident_ids(chunk, rng.choice(year, len(spare)), spare, width)
    # Incidents.
    place = _incident_places(rng, w, noise)
    offence = inc["offence"].to_numpy()
    out.files["incidents.csv"] = {
        "incident_id": ids,
        "occurred_at": occurred_text(rng, inc["day"].to_numpy(), inc["minute"].to_numpy()),
        "offence": choice_text(rng, spec.OFFENCES, offence, upper=0.01),
        "is_crime": booleans(rng, inc["is_crime"].to_numpy()),
        "address": place[0],
        "postcode": place[1],
        "dash_risk": choice_text(rng, spec.DASH_RISKS, inc["dash"].to_numpy(), upper=0.02),
        "injury": choice_text(rng, spec.INJURIES, np.where(rng.random(n) < 0.1, -1, inc["injury"])),
        "weapon": booleans(rng, inc["weapon"].to_numpy(), missing=0.15),
        "children_present": booleans(rng, inc["children"].to_numpy(), missing=0.1),
        "outcome": choice_text(
            rng, spec.OUTCOMES, np.where(rng.random(n) < 0.05, -1, inc["outcome"])
        ),
        "area": place[2],
    }
    offence_names = np.array(spec.OFFENCES, dtype=object)[offence]
    harm_days = harm.days(offence_names, inc["is_crime"].to_numpy()).to_numpy()
    dyad = inc["dyad"].to_numpy()
    out.aligned_truth["incidents.csv"] = {
        "incident_id": ids,
        "dyad_id": text(base + dyad),
        "perpetrator_id": text(base + inc["perp"].to_numpy()),
        "victim_id": text(base + inc["victim"].to_numpy()),
        "layout": text(LAYOUT_NAMES[inc["layout"].to_numpy()]),
        "level": text(inc["level"].to_numpy()),
        "harm_days": text(harm_days),
    }
    # Involvements.
    at = rows["inc"].to_numpy()
    pid = rows["pid"].to_numpy()
    day = inc["day"].to_numpy()[at].astype(float)
    address, postcode = nz.addresses(rng, w.pop.places, rows["home_addr"].to_numpy(), noise)
    named = np.isin(rows["true_role"].to_numpy(), ("victim", "perpetrator"))
    phase = inc["phase"].to_numpy()[at]
    rel = np.select([phase == 2, phase == 1], [2, 1], 0)
    u = rng.random(len(rows))
    rel = np.where(u < 0.01, 3, rel)
    rel = np.where(~named | (u > 0.94), -1, rel)
    out.files["involvements.csv"] = {
        "incident_id": pc.take(ids, pa.array(at)),
        "role": choice_text(rng, spec.ROLES, rows["role"].to_numpy()),
        **_person_columns(rng, persons, refs, pid, day, noise),
        "home_address": address,
        "home_postcode": postcode,
        "relationship": choice_text(rng, spec.RELATIONSHIPS, rel),
    }
    out.aligned_truth["involvements.csv"] = {
        "person_id": text(base + pid),
        "true_role": pa.array(rows["true_role"].to_numpy(), pa.string()),
        "incident_id": pc.take(ids, pa.array(at)),
    }
    _render_marac(rng, out, w, refs, chunk, noise, ids)
    _render_management(rng, out, w, refs, noise, chunk)
    _render_truth(out, w, refs, chunk, harm_days)
    return out


def _incident_ids(chunk: int, year: np.ndarray, numbers: np.ndarray, width: int) -> pa.Array:
    seq = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width, "0")
    yy = pc.utf8_lpad(pa.array(year).cast(pa.string()), 2, "0")
    return pc.binary_join_element_wise("IR", yy, f"-{chunk:04d}-", seq, "")


def _person_columns(
    rng: np.random.Generator,
    persons: pd.DataFrame,
    refs: np.ndarray,
    pid: np.ndarray,
    day: np.ndarray,
    noise: float,
    prefix: str = "",
) -> Table:
    """person_ref, forename, surname, date_of_birth (and gender) for people on days."""
    cols = {
        f"{prefix}person_ref": nz.person_refs(rng, refs, pid, noise),
        f"{prefix}forename": nz.forenames(rng, persons["forename"].to_numpy()[pid], noise),
        f"{prefix}surname": nz.surnames(rng, surname_at(persons, pid, day), noise),
        f"{prefix}date_of_birth": nz.dates_of_birth(rng, persons["dob"].to_numpy()[pid], noise),
    }
    if not prefix:
        cols["gender"] = nz.genders(rng, persons["gender"].to_numpy()[pid], noise)
    return cols


def _incident_places(rng: np.random.Generator, w: District, noise: float) -> tuple[pa.Array, ...]:
    inc, rows = w.inc, w.rows
    n = len(inc)
    victim_home = rows["home_addr"].to_numpy()[rows["slot"].to_numpy() == 0]
    perp_home = rows["home_addr"].to_numpy()[rows["slot"].to_numpy() == 1]
    u = rng.random(n)
    addr = np.where(u < 0.72, victim_home, perp_home)
    public = u >= 0.87
    addr = np.where(public, rng.choice(len(w.pop.places.addresses), n), addr)
    line, postcode = nz.addresses(rng, w.pop.places, addr, noise)
    words = pc.take(pa.array(PUBLIC_PLACES), pa.array(rng.integers(0, len(PUBLIC_PLACES), n)))
    line = nz.where(public, pc.binary_join_element_wise(words, line, " "), line)
    postcode = nz.where(public & (rng.random(n) < 0.5), nz.NULL, postcode)
    street = w.pop.places.addresses["street"].to_numpy()[addr]
    area = pc.take(pa.array(AREAS), pa.array(w.pop.places.streets["area"].to_numpy()[street]))
    area = nz.where(rng.random(n) < 0.03, nz.NULL, area)
    return line, postcode, area


def _render_marac(
    rng: np.random.Generator,
    out: Rendered,
    w: District,
    refs: np.ndarray,
    chunk: int,
    noise: float,
    ids: pa.Array,
) -> None:
    m = w.marac
    persons = w.pop.persons
    k = len(m)
    day = m["referral_day"].to_numpy().astype(float)
    victim = _person_columns(rng, persons, refs, m["victim"].to_numpy(), day, noise, "victim_")
    perp = _person_columns(rng, persons, refs, m["perp"].to_numpy(), day, noise, "perpetrator_")
    unknown = ~m["perp_known"].to_numpy()
    perp = {c: nz.where(unknown, nz.NULL, a) for c, a in perp.items()}
    ref_ids = pc.binary_join_element_wise(
        "MR",
        pa.array([f"{chunk:04d}"] * k, pa.string()),
        pc.utf8_lpad(pa.array(np.arange(1, k + 1)).cast(pa.string()), 6, "0"),
        "-",
    )
    out.files["marac.csv"] = {
        "referral_id": ref_ids,
        "referral_date": days_text(day),
        "meeting_date": days_text(m["meeting_day"].to_numpy()),
        "flagged_at": days_text(m["flagged_day"].to_numpy()),
        **victim,
        **perp,
        "referring_agency": text(np.array(AGENCIES, dtype=object)[m["agency"].to_numpy()]),
    }
    base = chunk * PERSON_BLOCK
    inc_pos = m["inc"].to_numpy()
    out.aligned_truth["marac.csv"] = {
        "referral_id": ref_ids,
        "victim_person_id": text(base + m["victim"].to_numpy()),
        "perpetrator_person_id": text(base + m["perp"].to_numpy()),
        "perpetrator_recorded": text(np.where(unknown, "false", "true")),
        "repeat": text(np.where(m["repeat"].to_numpy(), "true", "false")),
        "incident_id": nz.where(
            inc_pos < 0, nz.NULL, pc.take(ids, pa.array(np.maximum(inc_pos, 0)))
        ),
    }


def _render_management(
    rng: np.random.Generator, out: Rendered, w: District, refs: np.ndarray, noise: float, chunk: int
) -> None:
    g = w.management
    pid = g["pid"].to_numpy()
    day = g["from_day"].to_numpy().astype(float)
    cols = _person_columns(rng, w.pop.persons, refs, pid, day, noise * 0.5)
    cols.pop("gender")
    out.files["management.csv"] = {
        **cols,
        "status": text(np.array(spec.MANAGEMENT_STATUSES, dtype=object)[g["status"].to_numpy()]),
        "from_date": days_text(day),
        "to_date": days_text(g["to_day"].to_numpy()),
    }
    out.aligned_truth["management.csv"] = {"person_id": text(chunk * PERSON_BLOCK + pid)}


def _render_truth(
    out: Rendered, w: District, refs: np.ndarray, chunk: int, harm_days: np.ndarray
) -> None:
    base = chunk * PERSON_BLOCK
    p = w.pop.persons
    n = len(p)
    pid = np.arange(n)
    final_surname = surname_at(p, pid, np.full(n, float(w.end_day)))
    home = np.where(p["move_day"].to_numpy() <= w.end_day, p["addr2"], p["addr1"])
    line, postcode = nz.addresses(np.random.default_rng(0), w.pop.places, home, 0.0, canonical=True)
    ref_text = [nz.ref_strings(refs[:, i]) for i in range(3)]
    joined = pc.binary_join_element_wise(*[pc.fill_null(r, "") for r in ref_text], " ")
    household = p["household"].to_numpy()
    out.truth["persons.csv"] = {
        "person_id": text(base + pid),
        "kind": text(KIND_NAMES[p["kind"].to_numpy()]),
        "forename": pc.take(pa.array(FORENAMES), pa.array(p["forename"].to_numpy())),
        "surname": pc.take(pa.array(SURNAMES), pa.array(final_surname)),
        "birth_surname": pc.take(pa.array(SURNAMES), pa.array(p["birth_surname"].to_numpy())),
        "date_of_birth": days_text(p["dob"].to_numpy()),
        "gender": pc.take(pa.array(["F", "M", "X"]), pa.array(p["gender"].to_numpy())),
        "household_id": nz.where(household < 0, nz.NULL, text(base + household)),
        "home_address": line,
        "home_postcode": postcode,
        "refs": pc.utf8_trim_whitespace(joined),
    }
    _render_dyads_and_patterns(out, w, base, harm_days)


def _render_dyads_and_patterns(
    out: Rendered, w: District, base: int, harm_days: np.ndarray
) -> None:
    d = w.careers.dyads
    inc = w.inc
    g = pd.DataFrame({"dyad": inc["dyad"], "day": inc["day"], "harm": harm_days})
    agg = g.groupby("dyad").agg(
        first=("day", "min"), last=("day", "max"), n=("day", "size"), harm=("harm", "sum")
    )
    agg = agg.reindex(np.arange(len(d)))
    victim = w.pop.dyad_victim
    relation = np.where(d["kind"].to_numpy() == KIND_FAMILY, "family", "intimate_partner")
    pattern_text = np.array(
        [
            "",
            "frequency_escalation",
            "severity_escalation",
            "frequency_then_severity",
            "de_escalation",
        ],
        dtype=object,
    )
    out.truth["dyads.csv"] = {
        "dyad_id": text(base + np.arange(len(d))),
        "perpetrator_id": text(base + d["perp"].to_numpy()),
        "victim_id": text(base + victim),
        "relationship": text(relation),
        "incidents": text(agg["n"].to_numpy().astype(int)),
        "first_at": days_text(agg["first"].to_numpy()),
        "last_at": days_text(agg["last"].to_numpy()),
        "harm_days": text(agg["harm"].to_numpy()),
        "pattern": text(pattern_text[d["pattern"].to_numpy()]),
        "counter_allegation": text(np.where(d["counter"].to_numpy(), "true", "false")),
        "homicide": text(np.where(d["homicide"].to_numpy(), "true", "false")),
    }
    rows: list[tuple[np.ndarray, str, np.ndarray]] = []
    perp = d["perp"].to_numpy()
    det = np.char.add("victim=", (base + victim).astype(str)).astype(object)
    det = det + "; dyad=" + (base + np.arange(len(d))).astype(str).astype(object)
    det = det + "; incidents=" + agg["n"].to_numpy().astype(int).astype(str).astype(object)
    for code, labels in PATTERN_NAMES.items():
        sel = d["pattern"].to_numpy() == code
        for label in labels:
            rows.append((perp[sel], label, det[sel]))
    for mask, label in (
        (d["counter"].to_numpy(), "counter_allegation"),
        (d["kind"].to_numpy() == KIND_FAMILY, "family_abuse"),
        (d["homicide"].to_numpy(), "homicide"),
    ):
        rows.append((perp[mask], label, det[mask]))
    n_victims = np.bincount(perp, minlength=len(w.careers.perps))
    serial = np.flatnonzero(n_victims >= 2)
    rows.append(
        (serial, "serial_perpetrator", ("victims=" + n_victims[serial].astype(str)).astype(object))
    )
    perp_harm = np.bincount(inc["perp"].to_numpy(), weights=harm_days, minlength=len(n_victims))
    high = np.flatnonzero(w.careers.perps["cls"].to_numpy() == 2)
    harm_text = perp_harm[high].round(0).astype(int).astype(str).astype(object)
    rows.append((high, "high_harm", "latent class high; harm_days=" + harm_text))
    out.truth["patterns.csv"] = {
        "person_id": text(np.concatenate([base + r[0] for r in rows])),
        "pattern": text(np.concatenate([np.full(len(r[0]), r[1], dtype=object) for r in rows])),
        "detail": text(np.concatenate([r[2] for r in rows])),
    }
