"""Property: any mutation of a valid folder either raises StructuralError or loads
with every record accounted for (valid + distinctly quarantined == records)."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapt.contract import StructuralError, read_extract
from tests.test_contract import INC_HEADER, INC_ROWS, INV_HEADER, INV_ROWS

MGMT_HEADER = "person_ref,forename,surname,date_of_birth,status,from_date,to_date"
MGMT_ROWS = ["P2,Bob,Jones,1978-05-06,iom,2023-01-01,"]

NOW = datetime(2025, 1, 1)
FILES = {
    "incidents.csv": [INC_HEADER, *INC_ROWS],
    "involvements.csv": [INV_HEADER, *INV_ROWS],
    "management.csv": [MGMT_HEADER, *MGMT_ROWS],
}

cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12
) | st.sampled_from(["", "NA", "null", "2024-02-31", "31/02/2024", "true", "x\ny", '"', "I1"])


def parse(lines: list[str]) -> list[list[str]]:
    return list(csv.reader(io.StringIO("\n".join(lines) + "\n", newline="")))


def render(rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, lines in FILES.items():
        rows = parse(lines)
        for _ in range(draw(st.integers(0, 3))):
            op = draw(st.sampled_from(["cell", "delete", "dup", "add", "drop", "swap", "rawbreak"]))
            r = draw(st.integers(0, len(rows) - 1))
            row = rows[r]
            if op == "cell" and row:
                row[draw(st.integers(0, len(row) - 1))] = draw(cell_text)
            elif op == "delete" and row:
                del row[draw(st.integers(0, len(row) - 1))]
            elif op == "dup" and r > 0:
                rows.insert(r, list(row))
            elif op == "add":
                row.append(draw(cell_text))
            elif op == "drop" and r > 0 and len(rows) > 2:
                del rows[r]
            elif op == "swap" and len(row) > 1:
                i, j = draw(st.integers(0, len(row) - 1)), draw(st.integers(0, len(row) - 1))
                row[i], row[j] = row[j], row[i]
        text = render(rows)
        if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
            pos = draw(st.integers(0, len(text)))
            text = text[:pos] + draw(st.sampled_from(['"', ",", "\n", "\x00", "é"])) + text[pos:]
        out[name] = text
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutations_raise_structural_or_account_for_every_record(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8", newline="")
        try:
            ex = read_extract(folder, now=NOW)
        except StructuralError as err:
            assert "\n" not in str(err)
            return
        for name, f in ex.files.items():
            q = ex.quarantine[ex.quarantine.source_file == name]
            assert len(f.rows) + q.source_row.nunique() == f.records
            assert set(q.source_row).isdisjoint(set(f.rows.source_row))
        assert ex.quarantine.reason.notna().all()
        assert ex.quarantine.raw.notna().all()
