"""The people and homes of one district: true identities, households, moves.

Owns the true person table of a chunk (before any recording noise):

* perpetrators and their households (a parent and/or a sibling sharing the
  surname and the home address; some fathers and sons share a forename);
* a new intimate-partner victim per intimate dyad (with a surname change
  when some women take a partner's surname, and moves after separation);
* one-off witnesses and other parties;
* streets, postcodes, towns and policing areas, and each person's address
  over time (a perpetrator living with a partner is recorded at her address).

People are rows of a DataFrame indexed by local person number; names are
indices into :data:`FORENAMES` and :data:`SURNAMES`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapt.synthetic import names
from adapt.synthetic.relationships import KIND_FAMILY, KIND_IPV, Careers

FORENAMES: tuple[str, ...] = names.MALE_FORENAMES + names.FEMALE_FORENAMES
N_MALE = len(names.MALE_FORENAMES)
SURNAMES = names.SURNAMES
F, M, X = 0, 1, 2
KIND_PERP, KIND_PARTNER, KIND_PARENT, KIND_SIBLING, KIND_WITNESS = 0, 1, 2, 3, 4
NEVER = np.inf
YEAR = 365.25

_MALE_W = names.zipf_weights(len(names.MALE_FORENAMES), s=1.0, k=4)
_FEMALE_W = names.zipf_weights(len(names.FEMALE_FORENAMES), s=1.0, k=4)
_SURNAME_W = names.zipf_weights(len(SURNAMES), s=1.05, k=2)


@dataclass
class Places:
    """Streets and addresses of a district; an address is a row of ``addresses``."""

    streets: pd.DataFrame  # stem, stype, town, area, postcode
    addresses: pd.DataFrame  # street, number, flat

    def new(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Append ``n`` new addresses and return their numbers."""
        start = len(self.addresses)
        w = names.zipf_weights(len(self.streets), s=0.4, k=5)
        add = pd.DataFrame(
            {
                "street": rng.choice(len(self.streets), size=n, p=w),
                "number": rng.integers(1, 140, n),
                "flat": np.where(rng.random(n) < 0.1, rng.integers(1, 12, n), 0),
            }
        )
        self.addresses = pd.concat([self.addresses, add], ignore_index=True)
        return np.arange(start, start + n)


def make_places(rng: np.random.Generator, n_streets: int) -> Places:
    """A district: a few towns, policing areas and postcode districts."""
    towns = rng.choice(len(names.TOWNS), size=4, replace=False)
    areas = rng.choice(len(names.AREAS), size=3, replace=False)
    districts = rng.choice(np.arange(1, 20), size=4, replace=False)
    town_i = rng.integers(0, 4, n_streets)
    letters = np.array(list(names.POSTCODE_UNIT_LETTERS))
    inward = (
        rng.integers(1, 10, n_streets).astype(str).astype(object)
        + letters[rng.integers(0, len(letters), n_streets)].astype(object)
        + letters[rng.integers(0, len(letters), n_streets)].astype(object)
    )
    outward = names.POSTCODE_AREA + districts[town_i].astype(str).astype(object)
    streets = pd.DataFrame(
        {
            "stem": rng.integers(0, len(names.STREET_STEMS), n_streets),
            "stype": rng.integers(0, len(names.STREET_TYPES), n_streets),
            "town": towns[town_i],
            "area": areas[np.minimum(town_i, 2)],
            "outward": outward,
            "inward": inward,
        }
    )
    empty = pd.DataFrame({"street": [], "number": [], "flat": []}, dtype=np.int64)
    return Places(streets=streets, addresses=empty)


def new_people(
    rng: np.random.Generator, n: int, female_p: float | np.ndarray, age: np.ndarray, start: float
) -> pd.DataFrame:
    """``n`` people with gender, forename, surname and date of birth (days since 1970)."""
    gender = np.where(rng.random(n) < female_p, F, M)
    gender = np.where(rng.random(n) < 0.004, X, gender)
    male_name = rng.choice(N_MALE, size=n, p=_MALE_W)
    female_name = N_MALE + rng.choice(len(names.FEMALE_FORENAMES), size=n, p=_FEMALE_W)
    x_name = np.where(rng.random(n) < 0.5, male_name, female_name)
    forename = np.select([gender == F, gender == M], [female_name, male_name], x_name)
    surname = rng.choice(len(SURNAMES), size=n, p=_SURNAME_W)
    dob = np.floor(start - age * YEAR - rng.random(n) * YEAR).astype(np.int64)
    return pd.DataFrame(
        {
            "kind": np.full(n, KIND_WITNESS, dtype=np.int8),
            "gender": gender.astype(np.int8),
            "forename": forename,
            "surname": surname,
            "birth_surname": surname,
            "dob": dob,
            "household": -1,
            "addr1": -1,
            "addr2": -1,
            "move_day": NEVER,
            "surname_day": NEVER,
            "new_surname": -1,
        }
    )


@dataclass
class Population:
    persons: pd.DataFrame
    places: Places
    dyad_victim: np.ndarray  # person number of each dyad's victim
    parent: np.ndarray  # per perpetrator: parent's person number or -1
    sibling: np.ndarray  # per perpetrator: sibling's person number or -1


def build_population(
    rng: np.random.Generator, careers: Careers, start: float, window_days: float
) -> Population:
    """True people for a chunk's careers; ``start`` is the window start (days since 1970)."""
    perps, dyads = careers.perps, careers.dyads
    n_p = len(perps)
    places = make_places(rng, max(20, n_p // 6))
    # Perpetrators: mostly men for intimate abuse; 16+ at the window start.
    age = np.minimum(16.2 + rng.gamma(2.0, 8.0, n_p), 75.0)
    p = new_people(rng, n_p, np.where(perps["family"], 0.3, 0.2), age, start)
    p["kind"] = KIND_PERP
    p["household"] = np.arange(n_p)
    p["addr1"] = places.new(rng, n_p)
    moves = rng.random(n_p) < 0.15
    p.loc[moves, "move_day"] = start + rng.random(moves.sum()) * window_days
    p.loc[moves, "addr2"] = places.new(rng, int(moves.sum()))
    # Households: a parent (forced for family abusers) and/or a sibling.
    has_parent = perps["family"].to_numpy() | (rng.random(n_p) < 0.4)
    has_sibling = rng.random(n_p) < 0.25
    hp, hs = np.flatnonzero(has_parent), np.flatnonzero(has_sibling)
    par = new_people(rng, len(hp), 0.6, age[hp] + rng.uniform(19, 38, len(hp)), start)
    par["kind"] = KIND_PARENT
    fathers = (par["gender"].to_numpy() == M) & (p["gender"].to_numpy()[hp] == M)
    namesake = fathers & (rng.random(len(hp)) < 0.3)  # John Smith senior and junior
    par.loc[namesake, "forename"] = p["forename"].to_numpy()[hp][namesake]
    sib_age = np.maximum(age[hs] + rng.uniform(-8, 8, len(hs)), 16.5)
    sib = new_people(rng, len(hs), 0.5, sib_age, start)
    sib["kind"] = KIND_SIBLING
    for rel, idx in ((par, hp), (sib, hs)):
        rel["surname"] = p["surname"].to_numpy()[idx]
        rel["household"] = idx
        rel["addr1"] = p["addr1"].to_numpy()[idx]
    married = par["gender"].to_numpy() == F  # mothers married into the surname
    par.loc[~married, "birth_surname"] = par.loc[~married, "surname"]
    sib["birth_surname"] = sib["surname"]
    # Intimate partners: one new person per intimate dyad.
    ipv = np.flatnonzero(dyads["kind"].to_numpy() == KIND_IPV)
    dp = dyads["perp"].to_numpy()[ipv]
    pg = p["gender"].to_numpy()[dp]
    female_p = np.select([pg == M, pg == F], [0.95, 0.05], 0.5)
    v_age = np.maximum(age[dp] + rng.normal(-2.0, 6.0, len(ipv)), 16.5)
    vic = new_people(rng, len(ipv), female_p, v_age, start)
    vic["kind"] = KIND_PARTNER
    vic["addr1"] = places.new(rng, len(ipv))
    d_start = dyads["start"].to_numpy()[ipv] + start
    d_span = dyads["span"].to_numpy()[ipv]
    sep_day = d_start + np.minimum(dyads["separation"].to_numpy()[ipv], 1.0) * d_span
    move = rng.random(len(ipv)) < 0.3
    vic.loc[move, "move_day"] = sep_day[move] + rng.uniform(10, 90, move.sum())
    vic.loc[move, "addr2"] = places.new(rng, int(move.sum()))
    takes = (vic["gender"].to_numpy() == F) & (pg == M) & (rng.random(len(ipv)) < 0.12)
    vic.loc[takes, "surname_day"] = d_start[takes] + rng.random(takes.sum()) * 0.5 * d_span[takes]
    vic.loc[takes, "new_surname"] = p["surname"].to_numpy()[dp][takes]
    # Assemble and number everybody.
    persons = pd.concat([p, par, sib, vic], ignore_index=True)
    first_par, first_sib, first_vic = n_p, n_p + len(par), n_p + len(par) + len(sib)
    parent = np.full(n_p, -1)
    parent[hp] = first_par + np.arange(len(hp))
    sibling = np.full(n_p, -1)
    sibling[hs] = first_sib + np.arange(len(hs))
    dyad_victim = np.full(len(dyads), -1)
    dyad_victim[ipv] = first_vic + np.arange(len(ipv))
    fam = np.flatnonzero(dyads["kind"].to_numpy() == KIND_FAMILY)
    fp = dyads["perp"].to_numpy()[fam]
    use_sib = (sibling[fp] >= 0) & (rng.random(len(fam)) < 0.3)
    dyad_victim[fam] = np.where(use_sib, sibling[fp], parent[fp])
    return Population(persons, places, dyad_victim, parent, sibling)


def add_witnesses(rng: np.random.Generator, pop: Population, n: int, start: float) -> np.ndarray:
    """Append ``n`` one-off adult witnesses/other parties; return their numbers."""
    w = new_people(rng, n, 0.55, rng.uniform(18, 75, n), start)
    w["addr1"] = pop.places.new(rng, n)
    first = len(pop.persons)
    w["household"] = -1
    pop.persons = pd.concat([pop.persons, w], ignore_index=True)
    return np.arange(first, first + n)


def address_at(persons: pd.DataFrame, pid: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Each person's own home address number on ``day``."""
    moved = day >= persons["move_day"].to_numpy()[pid]
    return np.where(moved, persons["addr2"].to_numpy()[pid], persons["addr1"].to_numpy()[pid])


def surname_at(persons: pd.DataFrame, pid: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Each person's surname index on ``day`` (after any change of name)."""
    changed = day >= persons["surname_day"].to_numpy()[pid]
    return np.where(
        changed, persons["new_surname"].to_numpy()[pid], persons["surname"].to_numpy()[pid]
    )
