"""Vectorised parsers: one text column in, a typed value and an error mask out.

Input arrays are pyarrow strings with no nulls (an empty cell is ''). A cell
that is empty or only whitespace is "not recorded" (missing); every other cell
is a value, so 'NA', 'null' and 'None' stay text. Text is kept exactly as
written; choices and booleans ignore case and surrounding whitespace; dates
accept only ISO forms (``2024-03-01``, ``2024-03-01T22:15``,
``2024-03-01 22:15:00``) and are never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adapt.core.spec import FALSE_WORDS, TRUE_WORDS

# datetime64[ns] covers 1677-09-21 to 2262-04-11; keep to whole years inside it.
MIN_YEAR, MAX_YEAR = 1678, 2261


@dataclass
class Parsed:
    value: pa.Array | pa.ChunkedArray | np.ndarray
    missing: np.ndarray  # bool: the cell is empty
    error: np.ndarray  # bool: the cell has a value that does not parse


def _np(mask: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def missing_mask(arr: pa.ChunkedArray) -> np.ndarray:
    empty = pc.equal(pc.binary_length(arr), 0)
    space = pc.utf8_is_space(arr)
    return _np(pc.or_(empty, space))


def parse_text(arr: pa.ChunkedArray, max_length: int) -> tuple[Parsed, np.ndarray]:
    """Text as written (None where missing); returns also the character lengths."""
    missing = missing_mask(arr)
    nbytes = _np(pc.greater(pc.binary_length(arr), max_length))
    lengths = np.zeros(len(arr), dtype=np.int64)
    error = np.zeros(len(arr), dtype=bool)
    if nbytes.any():
        idx = np.flatnonzero(nbytes)
        chars = pc.utf8_length(arr.take(pa.array(idx))).to_numpy(zero_copy_only=False)
        lengths[idx] = chars
        error[idx] = chars > max_length
    value = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), arr)
    return Parsed(value, missing, error), lengths


def _key(arr: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.utf8_lower(pc.utf8_trim_whitespace(arr))


def _encoded(arr: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Codes and dictionary of a (usually low-cardinality) column."""
    enc = pc.dictionary_encode(arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr)
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary


def parse_choice(arr: pa.ChunkedArray, choices: tuple[str, ...]) -> Parsed:
    missing = missing_mask(arr)
    codes, words = _encoded(arr)
    found = pc.index_in(_key(words), value_set=pa.array([c.lower() for c in choices]))
    found_np = found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    which = found_np[codes] if len(codes) else np.zeros(0, dtype=np.int64)
    unknown = which < 0
    value = pa.array(list(choices), type=pa.string()).take(
        pa.array(which, mask=unknown, type=pa.int64())
    )
    return Parsed(value, missing, unknown & ~missing)


def parse_bool(arr: pa.ChunkedArray) -> Parsed:
    missing = missing_mask(arr)
    codes, words = _encoded(arr)
    key = _key(words)
    t = _np(pc.is_in(key, value_set=pa.array(sorted(TRUE_WORDS))))
    f = _np(pc.is_in(key, value_set=pa.array(sorted(FALSE_WORDS))))
    is_true, is_false = (t[codes], f[codes]) if len(codes) else (t, f)
    return Parsed(is_true, missing, ~(is_true | is_false) & ~missing)


def parse_datetime(arr: pa.ChunkedArray | pa.Array, date_only: bool) -> Parsed:
    """ISO date or date-time to datetime64[ns]; a DATE column is floored to midnight.

    Each cell is judged on its own: surrounding whitespace is trimmed, the cells
    are grouped by their trimmed byte length (10, 16 or 19; any other length is
    not a date) and each group is read as a fixed-width byte matrix of its form.
    """
    n = len(arr)
    missing = missing_mask(arr)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    good = np.zeros(n, dtype=bool)
    if n == 0:
        return Parsed(out, missing, good)
    trimmed = pc.utf8_trim_whitespace(arr)
    lengths = pc.binary_length(trimmed).to_numpy(zero_copy_only=False)
    for width in _FORMS:
        idx = np.flatnonzero(lengths == width)
        if not len(idx):
            continue
        sub = trimmed if len(idx) == n else trimmed.take(pa.array(idx))
        ok, stamp = _iso(_matrix(sub, width), date_only)
        out[idx] = stamp
        good[idx] = ok
    return Parsed(out, missing, ~good & ~missing)


_FORMS = (10, 16, 19)  # YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DDTHH:MM:SS
_DIGITS = {10: [0, 1, 2, 3, 5, 6, 8, 9], 16: [11, 12, 14, 15], 19: [17, 18]}


def _matrix(sub: pa.Array | pa.ChunkedArray, width: int) -> np.ndarray:
    """The bytes of strings that are all ``width`` bytes long, as a (k, width) matrix."""
    if isinstance(sub, pa.ChunkedArray):
        sub = sub.combine_chunks()
    k = len(sub)
    off_type = np.int64 if pa.types.is_large_string(sub.type) else np.int32
    offs = np.frombuffer(sub.buffers()[1], dtype=off_type)[sub.offset : sub.offset + k + 1]
    raw = np.frombuffer(sub.buffers()[2], dtype=np.uint8)[offs[0] : offs[0] + width * k]
    return raw.reshape(k, width)


def _iso(m: np.ndarray, date_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Parse one ISO form from a (k, 10 | 16 | 19) byte matrix; anything else is not ok."""
    k, width = m.shape
    if width < 19:
        m = np.concatenate([m, np.full((k, 19 - width), ord("0"), dtype=np.uint8)], axis=1)
    d = m.astype(np.int16) - 48
    ok = ((d[:, _DIGITS[10]] >= 0) & (d[:, _DIGITS[10]] <= 9)).all(axis=1)
    ok &= (m[:, 4] == ord("-")) & (m[:, 7] == ord("-"))
    timed = width >= 16
    secs = width == 19
    if timed:
        ok &= (m[:, 10] == ord("T")) | (m[:, 10] == ord(" "))
        ok &= m[:, 13] == ord(":")
        ok &= ((d[:, _DIGITS[16]] >= 0) & (d[:, _DIGITS[16]] <= 9)).all(axis=1)
    if secs:
        ok &= m[:, 16] == ord(":")
        ok &= ((d[:, _DIGITS[19]] >= 0) & (d[:, _DIGITS[19]] <= 9)).all(axis=1)
    d = d.astype(np.int64)

    def part(a: int, b: int) -> np.ndarray:
        v = d[:, a]
        for j in range(a + 1, b):
            v = v * 10 + d[:, j]
        return v

    y, mo, dd = part(0, 4), part(5, 7), part(8, 10)
    zero = np.zeros(k, dtype=np.int64)
    hh, mi = (part(11, 13), part(14, 16)) if timed else (zero, zero)
    ss = part(17, 19) if secs else zero
    ok &= (y >= MIN_YEAR) & (y <= MAX_YEAR) & (mo >= 1) & (mo <= 12) & (dd >= 1)
    ok &= (hh < 24) & (mi < 60) & (ss < 60)
    months = np.where(ok, (y - 1970) * 12 + (mo - 1), 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    days_in_month = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    ok &= dd <= days_in_month
    day = first + np.where(ok, dd - 1, 0).astype("timedelta64[D]")
    stamp = day.astype("datetime64[ns]")
    if not date_only:
        stamp = stamp + np.where(ok, hh * 3600 + mi * 60 + ss, 0).astype("timedelta64[s]")
    stamp[~ok] = np.datetime64("NaT")
    return ok, stamp
