"""Fast RFC 4180 CSV encoding of all-text Arrow columns, appended chunk by chunk.

Owns the byte layout of every file the generator writes: UTF-8, comma
separated, ``\\n`` line ends, a field quoted only when it holds a comma, a
quote or a line break (quotes doubled), and an empty field for a missing
value. It is built with Arrow compute rather than ``pyarrow.csv.write_csv``
because a planted bad row sometimes needs an extra field on one line
(``too_many_fields``), which a table writer cannot produce.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _field(col: pa.Array) -> pa.Array:
    col = pc.fill_null(col.cast(pa.string()), "")
    needs = pc.match_substring_regex(col, '[",\r\n]')
    if not pc.any(needs).as_py():
        return col
    sub = col.filter(needs)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(sub, '"', '""'), '"', "")
    return pc.replace_with_mask(col, needs, quoted)


def encode(columns: Sequence[pa.Array], suffix: pa.Array | None = None) -> bytes:
    """CSV bytes for rows made of ``columns`` (no header), one line per row.

    ``suffix``, where given and not null, is appended verbatim to the line
    before its line end (used to plant an extra field).
    """
    if not columns or len(columns[0]) == 0:
        return b""
    fields = [_field(c) for c in columns]
    line = pc.binary_join_element_wise(*fields, ",")
    if suffix is not None:
        line = pc.binary_join_element_wise(line, pc.fill_null(suffix, ""), "")
    line = pc.binary_join_element_wise(line, "\n", "").cast(pa.large_string())
    offsets = np.frombuffer(line.buffers()[1], dtype=np.int64)
    offsets = offsets[line.offset : line.offset + len(line) + 1]
    data = line.buffers()[2]
    return data.to_pybytes()[int(offsets[0]) : int(offsets[-1])]


def header(names: Sequence[str]) -> bytes:
    return encode([pa.array([n]) for n in names])


class CsvAppender:
    """Open CSV files for one run; write headers once and append chunks."""

    def __init__(self, folder: Path, files: Mapping[str, Sequence[str]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.columns = {name: tuple(cols) for name, cols in files.items()}
        self.rows = dict.fromkeys(files, 0)
        self._fh: dict[str, BinaryIO] = {}
        for name, cols in self.columns.items():
            fh = (folder / name).open("wb")
            fh.write(header(cols))
            self._fh[name] = fh

    def append(
        self, name: str, table: Mapping[str, pa.Array], suffix: pa.Array | None = None
    ) -> None:
        cols = [table[c] for c in self.columns[name]]
        self._fh[name].write(encode(cols, suffix))
        self.rows[name] += len(cols[0]) if cols else 0

    def close(self) -> None:
        for fh in self._fh.values():
            fh.close()
