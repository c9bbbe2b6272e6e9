"""One self-contained district (chunk): the true world before it is written down.

Owns the order of the simulation for a chunk: careers → people → incident
times → offences → who was named on each incident (victim, suspect,
witnesses, other parties, with counter-allegation layouts) → homicides →
incident facts → custody, MARAC and management. Everything here is truth;
:mod:`adapt.synthetic.extract` turns it into recorded text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapt.synthetic import events
from adapt.synthetic.incidents import OFF, add_facts, draw_offences, time_of_day_minutes
from adapt.synthetic.population import Population, add_witnesses, address_at, build_population
from adapt.synthetic.relationships import (
    KIND_FAMILY,
    LAYOUT_BOTH_SUSPECTS,
    LAYOUT_SWAPPED,
    Careers,
    build_careers,
    group_rank,
)

ROLE_VICTIM, ROLE_SUSPECT, ROLE_WITNESS, ROLE_OTHER = 0, 1, 2, 3
HOMICIDE_RATE = 1 / 2500  # per incident: inflated (real ~1 in 20,000) so a demo has a few


@dataclass
class District:
    careers: Careers
    pop: Population
    inc: pd.DataFrame  # incidents in time order, with facts
    rows: pd.DataFrame  # involvements: inc, pid, role, true_role, home address number
    custody: pd.DataFrame
    marac: pd.DataFrame
    management: pd.DataFrame
    start_day: int
    end_day: int


def build_district(
    rng: np.random.Generator, n_incidents: int, end_day: int, window_days: float
) -> District:
    """Simulate one district of ``n_incidents`` incidents ending on ``end_day``."""
    start_day = int(np.floor(end_day - window_days))
    careers = build_careers(rng, n_incidents, window_days)
    pop = build_population(rng, careers, float(start_day), window_days)
    dyads = careers.dyads
    inc = careers.incidents
    dyad = inc["dyad"].to_numpy()
    inc["victim"] = pop.dyad_victim[dyad]
    inc["cls"] = dyads["cls"].to_numpy()[dyad]
    family = dyads["kind"].to_numpy()[dyad] == KIND_FAMILY
    inc["phase"] = np.where(family, 2, inc["ex"].to_numpy().astype(np.int8))
    inc["day"] = start_day + np.floor(inc["t_day"].to_numpy()).astype(np.int64)
    inc["minute"] = time_of_day_minutes(rng, len(inc))
    offence, is_crime = draw_offences(rng, inc["level"].to_numpy(), inc["phase"].to_numpy())
    inc["offence"], inc["is_crime"] = offence, is_crime
    rows = _involvements(rng, inc, pop, float(start_day))
    rows["home_addr"] = _home_addresses(inc, rows, pop, dyads["cohabit"].to_numpy())
    homicides = events.place_homicides(rng, inc, rows, len(pop.persons), HOMICIDE_RATE)
    inc.loc[homicides, "offence"] = OFF["homicide"]
    inc.loc[homicides, "is_crime"] = True
    inc = add_facts(rng, inc)
    inc.loc[homicides, "outcome"] = events.CHARGE
    inc.loc[homicides, "dash"] = 2
    dyads["homicide"] = np.isin(np.arange(len(dyads)), dyad[homicides])
    spells = events.custody(rng, inc, rows, end_day)
    switch_day = int(start_day + 0.55 * window_days)
    referrals = events.marac(rng, inc, dyads, pop.dyad_victim, switch_day, end_day)
    mgmt = events.management(rng, inc, rows, spells, homicides, careers.perps, end_day)
    return District(careers, pop, inc, rows, spells, referrals, mgmt, start_day, end_day)


def _involvements(
    rng: np.random.Generator, inc: pd.DataFrame, pop: Population, start: float
) -> pd.DataFrame:
    n = len(inc)
    pos = np.arange(n)
    layout = inc["layout"].to_numpy()
    perp = inc["perp"].to_numpy()
    victim = inc["victim"].to_numpy()
    v_role = np.where(layout == 0, ROLE_VICTIM, ROLE_SUSPECT)
    p_role = np.where(layout == LAYOUT_SWAPPED, ROLE_VICTIM, ROLE_SUSPECT)
    p_role = np.where(layout == LAYOUT_BOTH_SUSPECTS, ROLE_SUSPECT, p_role)
    # Witnesses and other parties: relatives at the family home, or one-off people.
    lam = np.where(inc["phase"].to_numpy() == 2, 0.8, 0.42)
    extra = np.minimum(rng.poisson(lam), 4)
    e_inc = np.repeat(pos, extra)
    e_slot = 2 + group_rank(e_inc)
    e_perp = perp[e_inc]
    relative = np.where(pop.parent[e_perp] != victim[e_inc], pop.parent[e_perp], -1)
    relative = np.where(relative < 0, pop.sibling[e_perp], relative)
    relative = np.where(relative == victim[e_inc], -1, relative)
    use_rel = (relative >= 0) & (e_slot == 2) & (rng.random(len(e_inc)) < 0.4)
    e_pid = relative.copy()
    e_pid[~use_rel] = add_witnesses(rng, pop, int((~use_rel).sum()), start)
    e_role = np.where(rng.random(len(e_inc)) < 0.75, ROLE_WITNESS, ROLE_OTHER)
    e_true = np.where(e_role == ROLE_WITNESS, "witness", "other")
    rows = pd.DataFrame(
        {
            "inc": np.concatenate([pos, pos, e_inc]),
            "slot": np.concatenate([np.zeros(n, int), np.ones(n, int), e_slot]),
            "pid": np.concatenate([victim, perp, e_pid]),
            "role": np.concatenate([v_role, p_role, e_role]).astype(np.int8),
            "true_role": np.concatenate(
                [
                    np.full(n, "victim", dtype=object),
                    np.full(n, "perpetrator", dtype=object),
                    e_true,
                ]
            ),
        }
    )
    return rows.sort_values(["inc", "slot"], kind="stable").reset_index(drop=True)


def _home_addresses(
    inc: pd.DataFrame, rows: pd.DataFrame, pop: Population, cohabit: np.ndarray
) -> np.ndarray:
    """Home address of each named person on the day; cohabiting perpetrators live with her."""
    at = rows["inc"].to_numpy()
    day = inc["day"].to_numpy()[at].astype(float)
    home = address_at(pop.persons, rows["pid"].to_numpy(), day)
    together = cohabit[inc["dyad"].to_numpy()[at]] & (inc["phase"].to_numpy()[at] == 0)
    together &= rows["true_role"].to_numpy() == "perpetrator"
    her = address_at(pop.persons, inc["victim"].to_numpy()[at], day)
    return np.where(together, her, home)
