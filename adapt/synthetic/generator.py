"""The generator's entry point: configuration, chunk loop and file layout.

Owns :class:`GeneratorConfig` and :func:`generate`. The extract is built in
independent chunks of ``chunk_incidents`` incidents; each chunk is a
self-contained district with its own people, seeded from ``(seed, chunk
index)`` with :meth:`numpy.random.SeedSequence.spawn`, so memory stays bounded
and the same seed always gives byte-identical files. Each chunk is appended
to the extract files (``out_dir``) and, if asked, to the truth files
(``truth_dir``), which never share a folder with the extract.

With ``forces`` above 1 the chunks are dealt to several forces, whose ids
carry a force prefix, and some serial perpetrators move from one force to
another (:mod:`adapt.synthetic.forces`); the truth then has
``cross_force.csv``. With one force the files are those of a single force,
byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from adapt.core.harm import load_harm_table
from adapt.core.spec import FILES
from adapt.synthetic import badrows, forces
from adapt.synthetic.district import build_district
from adapt.synthetic.extract import Rendered, render, text
from adapt.synthetic.forces import MOVERS_RATE
from adapt.synthetic.writer import CsvAppender

TRUTH_FILES: dict[str, tuple[str, ...]] = {
    "persons.csv": ("person_id", "kind", "forename", "surname", "birth_surname", "date_of_birth",
                    "gender", "household_id", "home_address", "home_postcode", "refs"),
    "incidents_truth.csv": ("source_row", "incident_id", "dyad_id", "perpetrator_id", "victim_id",
                            "layout", "level", "harm_days"),
    "involvements_truth.csv": ("source_row", "person_id", "true_role", "incident_id"),
    "marac_truth.csv": ("source_row", "referral_id", "victim_person_id", "perpetrator_person_id",
                        "perpetrator_recorded", "repeat", "incident_id"),
    "management_truth.csv": ("source_row", "person_id"),
    "patterns.csv": ("person_id", "pattern", "detail"),
    "dyads.csv": ("dyad_id", "perpetrator_id", "victim_id", "relationship", "incidents",
                  "first_at", "last_at", "harm_days", "pattern", "counter_allegation", "homicide"),
    "bad_rows.csv": ("source_file", "source_row", "column", "kind", "value"),
}  # fmt: skip
ALIGNED = {
    "incidents.csv": "incidents_truth.csv",
    "involvements.csv": "involvements_truth.csv",
    "marac.csv": "marac_truth.csv",
    "management.csv": "management_truth.csv",
}


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate.

    ``noise`` multiplies every recording-noise rate (2.0 doubles them);
    ``bad_row_rate`` is the share of incident and involvement rows made bad,
    spread across the bad-row kinds. ``forces`` (1 to 99) is the number of
    police forces the incidents are shared among; ``movers`` is the share of
    serial perpetrators who move from one force to another (only with more
    than one force; see :mod:`adapt.synthetic.forces`).
    """

    seed: int = 1
    incidents: int = 5000
    end_date: date = date(2026, 10, 31)
    years: float = 3.0
    noise: float = 1.0
    bad_row_rate: float = 0.002
    chunk_incidents: int = 100_000
    forces: int = 1
    movers: float = MOVERS_RATE


def generate(
    out_dir: Path,
    config: GeneratorConfig,
    truth_dir: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """Write a synthetic extract to ``out_dir`` (and its truth to ``truth_dir``).

    Returns the number of records written per extract file.
    """
    out_dir, truth = Path(out_dir), Path(truth_dir) if truth_dir is not None else None
    if truth is not None and truth.resolve() == out_dir.resolve():
        raise ValueError("truth_dir must not be the extract folder")
    if config.incidents < 1 or config.chunk_incidents < 1:
        raise ValueError("incidents and chunk_incidents must be positive")
    if not 1 <= config.forces <= 99 or config.forces > config.incidents:
        raise ValueError("forces must be from 1 to 99 and no more than the incidents")
    harm = load_harm_table()
    end_day = int(np.datetime64(config.end_date.isoformat(), "D").astype(np.int64))
    window = config.years * 365.25
    multi = config.forces > 1
    size = forces.chunk_incidents(config.incidents, config.chunk_incidents, config.forces)
    n_chunks = -(-config.incidents // size)
    seeds = np.random.SeedSequence(config.seed).spawn(n_chunks)
    # Movers draw from their own stream, so each chunk's world is the same with or without them.
    moves = np.random.default_rng(np.random.SeedSequence((config.seed, config.forces)))
    pending = forces.no_movers()
    extract = CsvAppender(out_dir, {f.name: f.column_names for f in FILES})
    truth_files = TRUTH_FILES | (
        {forces.CROSS_FORCE_FILE: forces.CROSS_FORCE_COLUMNS} if multi else {}
    )
    truth_out = CsvAppender(truth, truth_files) if truth is not None else None
    done = 0
    try:
        for chunk, ss in enumerate(seeds):
            n = min(size, config.incidents - done)
            rng = np.random.default_rng(ss)
            world = build_district(rng, n, end_day, window)
            if multi:
                force = forces.force_of_chunk(chunk, config.forces)
                bound = pending["to_force"].to_numpy() == force
                arrived = forces.arrive(moves, world, chunk, force, pending[bound])
                left = forces.leave(moves, world, chunk, force, config.forces, config.movers)
                pending = pd.concat([pending[~bound], left], ignore_index=True)
                if truth_out is not None and len(arrived):
                    truth_out.append(forces.CROSS_FORCE_FILE, forces.cross_force_table(arrived))
            rendered = render(rng, world, chunk, config.noise, harm)
            if multi:
                forces.prefix_ids(rendered, force)
            bad, suffix = badrows.plant(rng, rendered, config.bad_row_rate, config.end_date.year)
            offsets = dict(extract.rows)
            for name, table in rendered.files.items():
                extract.append(name, table, suffix.get(name))
            if truth_out is not None:
                _append_truth(truth_out, rendered, bad, offsets)
            done += n
            if progress is not None:
                progress("generate", done, config.incidents)
    finally:
        extract.close()
        if truth_out is not None:
            truth_out.close()
    return dict(extract.rows)


def _append_truth(
    out: CsvAppender, rendered: Rendered, bad: pd.DataFrame, offsets: dict[str, int]
) -> None:
    for name, truth_name in ALIGNED.items():
        table = dict(rendered.aligned_truth[name])
        n = len(next(iter(table.values())))
        table["source_row"] = text(offsets[name] + 2 + np.arange(n))
        out.append(truth_name, table)
    for name, table in rendered.truth.items():
        out.append(name, table)
    if len(bad):
        source_row = bad["pos"].to_numpy() + 2 + bad["file"].map(offsets).to_numpy()
        out.append(
            "bad_rows.csv",
            {
                "source_file": pa.array(bad["file"].to_numpy(), pa.string()),
                "source_row": text(source_row),
                "column": pa.array(bad["column"].to_numpy(), pa.string()),
                "kind": pa.array(bad["kind"].to_numpy(), pa.string()),
                "value": pa.array(bad["value"].astype(str).to_numpy(), pa.string()),
            },
        )
