"""The reader's public types: the structural error, a parsed file, an extract."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from adapt.core.spec import FileSpec

QUARANTINE_COLUMNS = ("source_file", "source_row", "column", "value", "reason", "raw")


class StructuralError(Exception):
    """The folder cannot be imported at all; nothing has been read into rows.

    ``str(err)`` is one line naming the file (and row/column where known). It never
    holds cell values, which could be personal data.
    """

    def __init__(
        self, file: str, message: str, row: int | None = None, column: str | None = None
    ) -> None:
        self.file = file
        self.message = message
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} row {self.row}"
        return f"{where}: {self.message}".replace("\n", " ")


@dataclass
class ParsedFile:
    spec: FileSpec
    path: Path
    sha256: str
    records: int
    rows: pd.DataFrame
    ignored_columns: list[str] = field(default_factory=list)
    # involvements.csv: incidents with at least one quarantined involvement,
    # whose list of people in this extract is therefore incomplete.
    incomplete_incidents: frozenset[str] = frozenset()


@dataclass
class Extract:
    folder: Path
    files: dict[str, ParsedFile]
    quarantine: pd.DataFrame
    notices: list[str] = field(default_factory=list)


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_file": pd.array([], dtype="string"),
            "source_row": pd.array([], dtype="int64"),
            "column": pd.array([], dtype="string"),
            "value": pd.array([], dtype="string"),
            "reason": pd.array([], dtype="string"),
            "raw": pd.array([], dtype="string"),
        }
    )
