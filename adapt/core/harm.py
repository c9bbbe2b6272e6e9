"""Crime harm tables: days of custody per offence, loaded from versioned JSON.

Owns the harm weights (Cambridge Crime Harm Index style) used by the synthetic
generator's truth, the tests and later the scorer. The weights are data in
``harm_tables/<name>.json`` (with name, version, source and notes) so that a
force can swap or version them without touching code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from adapt.core.spec import OFFENCES

ArrayLike = pd.Series | np.ndarray | Sequence[str] | Sequence[bool]


@dataclass(frozen=True)
class HarmTable:
    """A harm table: days of custody per contract offence."""

    name: str
    version: str
    source: str
    notes: str
    non_crime_days: float
    offences: Mapping[str, float]

    def days(self, offence: ArrayLike, is_crime: ArrayLike) -> pd.Series:
        """Harm in days for each incident, vectorised.

        ``offence`` holds contract offence names (any case); ``is_crime`` holds
        booleans. A non-crime incident gets ``non_crime_days``; an offence not
        in the table gets NaN; a missing ``is_crime`` is treated as a crime.
        """
        off = pd.Series(offence, copy=False)
        index = off.index
        crime = pd.Series(is_crime, copy=False)
        crime.index = index
        keys = off.astype("string").str.lower()
        crime_days = keys.map(dict(self.offences)).astype("float64")
        non_crime = crime.astype("boolean").fillna(True).to_numpy(dtype=bool) == np.False_
        out = np.where(non_crime, float(self.non_crime_days), crime_days.to_numpy())
        return pd.Series(out, index=index, name="harm_days", dtype="float64")


def load_harm_table(name: str = "cambridge_chi_v1") -> HarmTable:
    """Load a packaged harm table by name and check it covers every offence."""
    text = resources.files("adapt.core").joinpath(f"harm_tables/{name}.json").read_text("utf-8")
    raw = json.loads(text)
    offences = {str(k): float(v) for k, v in raw["offences"].items()}
    missing = sorted(set(OFFENCES) - set(offences))
    if missing:
        raise ValueError(f"harm table {name} lacks offences: {', '.join(missing)}")
    return HarmTable(
        name=raw["name"],
        version=str(raw["version"]),
        source=raw["source"],
        notes=raw["notes"],
        non_crime_days=float(raw["non_crime_days"]),
        offences=offences,
    )


def available_harm_tables() -> list[str]:
    """Names of the packaged harm tables."""
    folder = resources.files("adapt.core").joinpath("harm_tables")
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )
