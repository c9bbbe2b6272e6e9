"""Fixes to the extract reader: a date's verdict is its own, a header-less file's
error holds no cell values, and quarantined raw text is the row as it was in the file."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapt.contract import StructuralError, read_extract
from adapt.contract.csvread import _read_exact, read_records
from adapt.contract.parse import MAX_YEAR, MIN_YEAR, parse_datetime
from adapt.contract.sniff import read_header

NOW = datetime(2026, 1, 1)
INC_HEADER = "incident_id,occurred_at,offence,is_crime"
INV_HEADER = "incident_id,role,person_ref,forename,surname,date_of_birth"

# ---------------------------------------------------------------- dates


def verdicts(values: list[str], date_only: bool = False) -> list[tuple[bool, bool, int | None]]:
    """(missing, error, value as ns or None) for each value."""
    p = parse_datetime(pa.chunked_array([pa.array(values, type=pa.string())]), date_only)
    assert isinstance(p.value, np.ndarray)
    stamps = [None if np.isnat(v) else int(v.astype(np.int64)) for v in p.value]
    return list(zip(p.missing.tolist(), p.error.tolist(), stamps, strict=True))


def accepted(values: list[str], date_only: bool = False) -> list[bool]:
    return [not error and not missing for missing, error, _ in verdicts(values, date_only)]


def test_reviewer_cases_are_judged_one_by_one() -> None:
    assert accepted([" 2024-03-01", "not known at time of report"]) == [True, False]
    assert accepted(["2024-03-01", "2024-03-01T10:00", "2024-03-é"]) == [True, True, False]
    assert accepted(["2024-03-01      "]) == [True]  # 16 bytes before trimming
    assert accepted([" 2024-03-01 "]) == [True]
    assert accepted(["2024-03-01T10:00 ", "2024-03-02 ", "2024-03-01T22:15:00Z"]) == [
        True,
        True,
        False,
    ]


def test_each_form_and_near_misses() -> None:
    good = [
        "2024-03-01",
        "2024-03-01T10:00",
        "2024-03-01 10:00",
        "2024-03-01T10:00:59",
        "2024-03-01 10:00:59",
        "\t2024-02-29 23:59 ",
    ]
    bad = [
        "2024-3-01",
        "2024/03/01",
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "2024-03-01T24:00",
        "2024-03-01T10:60",
        "2024-03-01T10:00:60",
        "2024-03-01X10:00",
        "2024-03-01T10-00",
        "2024-03-01T10:00Z",
        "2024-03-01T10",
        "01-03-2024",
        "1677-12-31",
        "2262-01-01",
        "２０２４-03-01",
        "2024-03-01 10:00 :00",
    ]
    assert accepted(good + bad) == [True] * len(good) + [False] * len(bad)


def test_value_of_each_form() -> None:
    got = verdicts(["2024-03-01", " 2024-03-01T10:05 ", "2024-03-01 10:05:07", "", "  "])
    ns = [
        None if s is None else int(np.datetime64(s, "ns").astype(np.int64))
        for s in ("2024-03-01", "2024-03-01T10:05", "2024-03-01T10:05:07", None, None)
    ]
    assert got == [
        (False, False, ns[0]),
        (False, False, ns[1]),
        (False, False, ns[2]),
        (True, False, None),
        (True, False, None),
    ]
    dates = verdicts(["2024-03-01 10:05:07"], date_only=True)
    assert dates == [(False, False, ns[0])]


_ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2})?)?")


def oracle(value: str) -> bool:
    """Whether one value is an accepted date, written plainly."""
    s = value.strip(" \t")
    if not _ISO.fullmatch(s):
        return False
    try:
        stamp = datetime.fromisoformat(s.replace(" ", "T"))
    except ValueError:
        return False
    return MIN_YEAR <= stamp.year <= MAX_YEAR


_stamps = st.datetimes(min_value=datetime(1600, 1, 1), max_value=datetime(2300, 12, 31))
_formats = st.sampled_from(
    ["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
)
_valid = st.builds(lambda d, f: d.strftime(f), _stamps, _formats)


@st.composite
def _near_miss(draw: st.DrawFn) -> str:
    s = draw(_valid)
    i = draw(st.integers(0, len(s)))
    how = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
    c = draw(st.sampled_from(list("0123456789-: TZé/x")))
    if how == "replace" and i < len(s):
        return s[:i] + c + s[i + 1 :]
    if how == "insert":
        return s[:i] + c + s[i:]
    if how == "delete" and i < len(s):
        return s[:i] + s[i + 1 :]
    return s[:i]


_pad = st.text(alphabet=" \t", max_size=4)
_cell = st.builds(
    lambda a, v, b: a + v + b,
    _pad,
    st.one_of(_valid, _near_miss(), st.text(max_size=25), st.just("not known at time of report")),
    _pad,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(_cell, max_size=30), date_only=st.booleans())
def test_each_verdict_depends_only_on_its_own_value(values: list[str], date_only: bool) -> None:
    together = verdicts(values, date_only)
    alone = [verdicts([v], date_only)[0] for v in values]
    assert together == alone
    for v, (missing, error, _) in zip(values, together, strict=True):
        if not missing:
            assert (not error) == oracle(v), v


def test_dates_in_several_chunks() -> None:
    chunks = [pa.array(["2024-03-01", " x"]), pa.array(["2024-03-01T10:00 ", "2024-03-é"])]
    p = parse_datetime(pa.chunked_array(chunks), date_only=False)
    assert p.error.tolist() == [False, True, False, True]


# ---------------------------------------------------------------- header-less files


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode("utf-8"))


@pytest.mark.parametrize(
    "rows",
    [
        ["A1,victim,P77,John,Smith,1980-02-03", "A1,victim,P78,Jane,Doe,1981-02-03"],
        ["A1,victim,P77,John,Smith,", "A1,victim,P78,Jane,Doe,"],
        ["X,victim,,John,Smith,john.smith@example.com"],
        ["Incident,victim,Person,John,Smith,Jones"],
    ],
)
def test_file_without_header_does_not_echo_its_first_row(tmp_path: Path, rows: list[str]) -> None:
    _write(tmp_path, "incidents.csv", f"{INC_HEADER}\nA1,2024-03-01,abh,true\n")
    _write(tmp_path, "involvements.csv", "\n".join(rows) + "\n")
    with pytest.raises(StructuralError) as info:
        read_extract(tmp_path, now=NOW)
    message = str(info.value)
    assert message.startswith("involvements.csv: ")
    assert "'incident_id'" in message and "'role'" in message
    assert "does not look like a header row: was the file exported without one?" in message
    for cell in rows[0].split(","):
        if cell:
            assert cell not in message.split(":", 1)[1].replace("'incident_id'", "").replace(
                "'role'", ""
            ), cell


def test_a_real_header_missing_a_column_is_still_listed(tmp_path: Path) -> None:
    _write(tmp_path, "incidents.csv", f"{INC_HEADER}\nA1,2024-03-01,abh,true\n")
    _write(
        tmp_path,
        "involvements.csv",
        "Incident ID,person_ref,forename,surname,Date/Time,date_of_birth\nA1,P1,,,,\n",
    )
    with pytest.raises(StructuralError) as info:
        read_extract(tmp_path, now=NOW)
    message = str(info.value)
    assert "required columns 'incident_id', 'role' are missing" in message
    assert "(found: Incident ID, person_ref, forename, surname, date_of_birth" in message
    assert "and 1 more not shown)" in message and "Date/Time" not in message


# ---------------------------------------------------------------- raw text


def _fast(data: bytes):
    records = read_records("x.csv", data, read_header("x.csv", data))
    assert not records.exact
    return records


def _lines(body: str) -> list[str]:
    """The records of ``body`` (records separated by newlines not in quotes), as written."""
    out, cur, quoted = [], "", False
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            quoted = not quoted
        if not quoted and ch in "\r\n":
            if ch == "\r" and body[i + 1 : i + 2] == "\n":
                i += 1
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    if cur:
        out.append(cur)
    return out


BODIES = {
    "crlf": (
        'A1,2024-03-01,abh,true\r\nA2,"not, a date",abh,true\r\nA3,x,abh,"tr\r\nue"\r\nA4,y,z,w\r\n'
    ),
    "quoted": 'A1,2024-03-01,abh,true\n"A2","not, a date","abh","true"\n"A3","say ""hi""",x,y\n',
    "newline earlier": 'A1,"two\nlines",abh,true\n"A2","not, a date",abh,true\nA3,x,"a""b",y\n',
    "blank lines": '\nA1,2024-03-01,abh,true\n\n\r\n"A2","not, a date","abh","true"\n\nA3,x,y,z',
    "lone cr": 'A1,2024-03-01,abh,true\r"A2","not\ra date",abh,true\rA3,x,y,z\r',
    "unicode": 'A1,"Zoë, ""the"" café",abh,true\nA2,Łódź,abh,真\n',
    "stray quotes": 'A1,ab"c"d,abh,true\nA2,"x\ny",abh,true\nA3,5" tall,6" wide,b\n',
    "malformed": 'A1,"a,b",abh,true,extra\nA2,"x\ny"\nA3,ok,abh,true\n',
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_raw_is_the_exact_line(body: str) -> None:
    data = (INC_HEADER + "\n" + body).encode("utf-8")
    records = _fast(data)
    expected = _lines(body)
    assert records.n == len(expected)
    everything = np.arange(records.n)
    assert records.raw(everything) == expected
    assert _fast(data).raw(everything[1:2]) == expected[1:2]  # one quarantined row alone
    exact = _read_exact("x.csv", data, read_header("x.csv", data), 4)
    assert exact.raw(everything) == expected


def test_raw_with_a_bom_and_crlf_header() -> None:
    data = b"\xef\xbb\xbf" + (INC_HEADER + '\r\nA1,"a\r\nb",c,d\r\n"A2",x,"y",z\r\n').encode()
    assert _fast(data).raw(np.array([1, 0])) == ['"A2",x,"y",z', 'A1,"a\r\nb",c,d']


def test_quarantine_raw_keeps_the_quoting(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "incidents.csv",
        f"{INC_HEADER}\r\nA1,2024-03-01,abh,true\r\n\r\n"
        '"A2","not, a date","abh","true"\r\n"A3",2024-03-01,abh,"tr\r\nue"\r\n'
        "A4,2024-03-01,abh,true\r\n",
    )
    _write(tmp_path, "involvements.csv", f"{INV_HEADER}\nA1,victim,P1,,,\n")
    q = read_extract(tmp_path, now=NOW).quarantine
    assert q["source_row"].tolist() == [3, 4]
    assert q["raw"].tolist() == [
        '"A2","not, a date","abh","true"',
        '"A3",2024-03-01,abh,"tr\r\nue"',
    ]


_field = st.one_of(
    st.text(alphabet="ab1 -é", max_size=5),
    st.builds(
        lambda s: '"' + s.replace('"', '""') + '"', st.text(alphabet='ab,"\n\r é', max_size=6)
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(_field, min_size=1, max_size=5), min_size=1, max_size=12),
    ends=st.lists(st.sampled_from(["\n", "\r\n", "\n\n", "\r\n\r\n"]), min_size=12, max_size=12),
)
def test_raw_of_every_record_matches_the_file(rows: list[list[str]], ends: list[str]) -> None:
    lines = [",".join(r) for r in rows]
    lines = [line if line else '""' for line in lines]  # an empty line is not a record
    body = "".join(line + end for line, end in zip(lines, ends, strict=False))
    data = ("a,b,c\n" + body).encode("utf-8")
    records = read_records("x.csv", data, read_header("x.csv", data))
    assert records.raw(np.arange(records.n)) == lines
