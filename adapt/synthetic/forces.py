"""Several police forces in one extract, and the serial perpetrators who move between them.

Owns what :func:`adapt.synthetic.generate` does differently when
``GeneratorConfig.forces`` is above 1 (with one force none of this runs, so
the files are byte for byte what a single force gives):

* **Which chunk is whose.** Chunks are dealt to forces in turn (chunk ``c``
  belongs to force ``c % forces``), so forces are equal to within a chunk and
  every force both sends and receives movers; a mover waits at most
  ``forces - 1`` chunks for his new force's next chunk, so only a handful of
  identities are held between chunks (bounded memory).
* **Force-prefixed ids.** Every reference a force's records system would
  issue (incident_id, person_ref, referral_id; and the same ids in the truth
  files) starts with the force's label (``F03-IR24-0005-012345``), so ids
  never collide across forces; the data contract has no force column. Truth
  person ids are already unique across chunks (``chunk * PERSON_BLOCK +
  local number``), so they are left as they are.
* **Movers.** A share of each chunk's serial perpetrators (two or more
  intimate partners in the window) whose offending there ends in the first
  half of the window move to another force. A later chunk of that force picks
  one of its own perpetrators who starts offending in the second half of the
  window (against an intimate partner), of the same gender and of a similar
  age, and gives him the mover's identity (forename, surname, date of birth
  and gender; not his nominal refs, which are force-local) before anything is
  written down, so each force records him with its own noise. His relatives
  keep their family likeness (the surname, a namesake father's forename, the
  age gap). Each such pair of true person ids is a row of ``cross_force.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from adapt.synthetic.district import District
from adapt.synthetic.events import STATUS
from adapt.synthetic.extract import PERSON_BLOCK, Rendered
from adapt.synthetic.population import KIND_PARENT, KIND_SIBLING, M
from adapt.synthetic.relationships import KIND_IPV

#: Share of serial perpetrators who move to another force during the window.
#: About 5% of people in England and Wales change local authority each year
#: (ONS internal migration); a force area is several authorities, so a move
#: across a force boundary is rarer, but serial abusers move more than most
#: (a new partner is often a new town) and the window is three years: 5% is a
#: modest, round figure, not a measured one.
MOVERS_RATE = 0.05
CROSS_FORCE_FILE = "cross_force.csv"
CROSS_FORCE_COLUMNS = ("first_person_id", "first_force", "second_person_id", "second_force")
# Extract id columns a force issues, and the same ids in the aligned truth.
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "incidents.csv": ("incident_id",),
    "involvements.csv": ("incident_id", "person_ref"),
    "marac.csv": ("referral_id", "victim_person_ref", "perpetrator_person_ref"),
    "management.csv": ("person_ref",),
}
TRUTH_ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "incidents.csv": ("incident_id",),
    "involvements.csv": ("incident_id",),
    "marac.csv": ("referral_id", "incident_id"),
}
_PENDING = ("person_id", "from_force", "to_force", "forename", "surname", "dob", "gender")


def chunk_incidents(incidents: int, chunk_incidents: int, forces: int) -> int:
    """Chunk size for ``forces`` forces: small enough that each force has a chunk."""
    if forces <= 1:
        return chunk_incidents
    return max(1, min(chunk_incidents, -(-incidents // forces)))


def force_of_chunk(chunk: int, forces: int) -> int:
    """The force (0-based) a chunk belongs to: chunks are dealt in turn."""
    return chunk % forces


def force_label(force: int) -> str:
    """The force's label in ids and in the truth: ``F01`` for force 0."""
    return f"F{force + 1:02d}"


def no_movers() -> pd.DataFrame:
    """An empty set of pending movers."""
    return pd.DataFrame({c: np.array([], dtype=np.int64) for c in _PENDING})


def prefix_ids(r: Rendered, force: int) -> None:
    """Put the force's label in front of every force-issued id of a rendered chunk."""
    prefix = force_label(force) + "-"

    def pre(arr: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(prefix, arr, "")  # a missing id stays missing

    for name, cols in ID_COLUMNS.items():
        for col in cols:
            r.files[name][col] = pre(r.files[name][col])
    for name, cols in TRUTH_ID_COLUMNS.items():
        for col in cols:
            r.aligned_truth[name][col] = pre(r.aligned_truth[name][col])
    if r.spare_ids is not None:
        r.spare_ids = pre(r.spare_ids)
    persons = r.truth["persons.csv"]
    persons["refs"] = pc.replace_substring(persons["refs"], "NM", prefix + "NM")


def _perpetrator_facts(w: District) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Per perpetrator: first and last incident day, number of intimate partners;
    and the window's middle day."""
    n_p = len(w.careers.perps)
    perp = w.inc["perp"].to_numpy()
    day = w.inc["day"].to_numpy().astype(np.int64)
    first = np.full(n_p, np.iinfo(np.int64).max)
    last = np.full(n_p, np.iinfo(np.int64).min)
    np.minimum.at(first, perp, day)
    np.maximum.at(last, perp, day)
    d = w.careers.dyads
    ipv = d["kind"].to_numpy() == KIND_IPV
    partners = np.bincount(d["perp"].to_numpy()[ipv], minlength=n_p)
    return first, last, partners, (w.start_day + w.end_day) / 2.0


def leave(
    rng: np.random.Generator, w: District, chunk: int, force: int, forces: int, rate: float
) -> pd.DataFrame:
    """The chunk's serial perpetrators who move to another force (pending movers).

    About ``rate`` of the serial perpetrators move, drawn among those whose
    offending here ends in the first half of the window and who are neither
    in custody nor dead."""
    _first, last, partners, mid = _perpetrator_facts(w)
    n_p = len(partners)
    g = w.management
    held = g["pid"].to_numpy()[np.isin(g["status"], (STATUS["in_custody"], STATUS["deceased"]))]
    serial = partners >= 2
    eligible = serial & (last < mid) & ~np.isin(np.arange(n_p), held)
    p = min(1.0, rate * serial.sum() / max(int(eligible.sum()), 1))
    pick = np.flatnonzero(eligible & (rng.random(n_p) < p))
    persons = w.pop.persons
    return pd.DataFrame(
        {
            "person_id": chunk * PERSON_BLOCK + pick,
            "from_force": np.full(len(pick), force, dtype=np.int64),
            "to_force": (force + rng.integers(1, max(forces, 2), len(pick))) % forces,
            "forename": persons["forename"].to_numpy()[pick],
            "surname": persons["surname"].to_numpy()[pick],
            "dob": persons["dob"].to_numpy()[pick],
            "gender": persons["gender"].to_numpy()[pick],
        }
    )


def arrive(
    rng: np.random.Generator, w: District, chunk: int, force: int, movers: pd.DataFrame
) -> pd.DataFrame:
    """Give pending ``movers`` (all bound for ``force``) to perpetrators of this
    chunk who start offending in the second half of the window; rewrite the
    chunk's true people in place and return the ``cross_force.csv`` rows.

    Within each gender, as many movers as there are candidates are placed, and
    the movers and the candidates picked for them are paired in order of date
    of birth, so ages stay close; movers left over are dropped."""
    first, _last, partners, mid = _perpetrator_facts(w)
    persons = w.pop.persons
    gender = persons["gender"].to_numpy()[: len(partners)]
    open_ = (first > mid) & (partners >= 1)
    taken_m: list[np.ndarray] = []
    taken_c: list[np.ndarray] = []
    for g in np.unique(movers["gender"].to_numpy()):  # at most three genders
        m = np.flatnonzero(movers["gender"].to_numpy() == g)
        c = np.flatnonzero(open_ & (gender == g))
        k = min(len(m), len(c))
        m = rng.choice(m, size=k, replace=False)
        c = rng.choice(c, size=k, replace=False)
        taken_m.append(m[np.argsort(movers["dob"].to_numpy()[m], kind="stable")])
        taken_c.append(c[np.argsort(persons["dob"].to_numpy()[c], kind="stable")])
    mi = np.concatenate(taken_m) if taken_m else np.array([], dtype=np.int64)
    ci = np.concatenate(taken_c) if taken_c else np.array([], dtype=np.int64)
    chosen = movers.iloc[mi]
    _take_identities(w, ci, chosen)
    return pd.DataFrame(
        {
            "first_person_id": chosen["person_id"].to_numpy(),
            "first_force": chosen["from_force"].to_numpy(),
            "second_person_id": chunk * PERSON_BLOCK + ci,
            "second_force": np.full(len(ci), force, dtype=np.int64),
        }
    )


def _take_identities(w: District, cand: np.ndarray, movers: pd.DataFrame) -> None:
    """Perpetrators ``cand`` become ``movers`` (forename, surname, dob, gender);
    their household follows (surname, namesake father, age gap) and so does the
    surname a partner takes from them."""
    if len(cand) == 0:
        return
    p = w.pop.persons
    cols = {c: p[c].to_numpy().copy() for c in ("forename", "surname", "birth_surname", "dob")}
    cols["gender"] = p["gender"].to_numpy().copy()
    cols["new_surname"] = p["new_surname"].to_numpy().copy()
    old_forename, old_surname = cols["forename"][cand], cols["surname"][cand]
    new_forename, new_surname = movers["forename"].to_numpy(), movers["surname"].to_numpy()
    delta = movers["dob"].to_numpy() - cols["dob"][cand]
    # Relatives share the household number of their perpetrator.
    at = np.full(len(w.careers.perps), -1)
    at[cand] = np.arange(len(cand))
    kind, household = p["kind"].to_numpy(), p["household"].to_numpy()
    rel = np.flatnonzero(np.isin(kind, (KIND_PARENT, KIND_SIBLING)) & (household >= 0))
    rel = rel[at[household[rel]] >= 0]
    j = at[household[rel]]
    same_birth = cols["birth_surname"][rel] == cols["surname"][rel]
    cols["birth_surname"][rel] = np.where(same_birth, new_surname[j], cols["birth_surname"][rel])
    cols["surname"][rel] = new_surname[j]
    cols["dob"][rel] += delta[j]
    namesake = (
        (kind[rel] == KIND_PARENT) & (cols["gender"][rel] == M)
        & (cols["forename"][rel] == old_forename[j])
    )  # fmt: skip
    cols["forename"][rel[namesake]] = new_forename[j[namesake]]
    # Partners who took his surname take the new one.
    d = w.careers.dyads
    dj = at[d["perp"].to_numpy()]
    ours = np.flatnonzero((dj >= 0) & (d["kind"].to_numpy() == KIND_IPV))
    victim = w.pop.dyad_victim[ours]
    took = cols["new_surname"][victim] == old_surname[dj[ours]]
    cols["new_surname"][victim[took]] = new_surname[dj[ours][took]]
    # The perpetrators themselves.
    cols["forename"][cand] = new_forename
    cols["surname"][cand] = new_surname
    cols["birth_surname"][cand] = new_surname
    cols["dob"][cand] = movers["dob"].to_numpy()
    cols["gender"][cand] = movers["gender"].to_numpy()
    for name, values in cols.items():
        p[name] = values


def cross_force_table(rows: pd.DataFrame) -> dict[str, pa.Array]:
    """``cross_force.csv`` rows as text columns."""
    label = np.array([force_label(f) for f in range(100)], dtype=object)
    return {
        "first_person_id": pa.array(rows["first_person_id"].to_numpy()).cast(pa.string()),
        "first_force": pa.array(label[rows["first_force"].to_numpy()], pa.string()),
        "second_person_id": pa.array(rows["second_person_id"].to_numpy()).cast(pa.string()),
        "second_force": pa.array(label[rows["second_force"].to_numpy()], pa.string()),
    }
