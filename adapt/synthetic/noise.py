"""Recording noise: how true people and places come out as typed text.

Owns every deliberate imperfection in person and address fields, vectorised
with Arrow compute. Base rates below are per row (or per person where said)
and are multiplied by ``GeneratorConfig.noise`` (capped at 95%):

=====================  =====  ==========================================
noise                  rate   unit
=====================  =====  ==========================================
person_ref missing     30%    row
ref shared             1%     person (takes a relative's or a stranger's)
ref split              5%     person (two or three refs, used at random)
forename nickname      8%     row (table in :mod:`adapt.synthetic.names`)
forename typo          2%     row (one-character edit)
forename initial only  2%     row
name case variant      4%     row (upper or lower case)
surname typo           1.5%   row
DOB missing            25%    row
DOB day/month swapped  3%     row, where the true day is 12 or less
DOB placeholder 01/01  1%     row
gender missing         4%     row
street type abbrev.    35%    row ('High Street' → 'High St')
address case variant   8%     row
home address missing   8%     row
postcode missing       12%    row
postcode without space 10%    row
=====================  =====  ==========================================
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adapt.synthetic import names
from adapt.synthetic.population import FORENAMES, SURNAMES, Places

RATES: dict[str, float] = {
    "ref_missing": 0.30,
    "ref_shared": 0.01,
    "ref_split": 0.05,
    "nickname": 0.08,
    "forename_typo": 0.02,
    "initial": 0.02,
    "case": 0.04,
    "surname_typo": 0.015,
    "dob_missing": 0.25,
    "dob_swap": 0.03,
    "dob_placeholder": 0.01,
    "gender_missing": 0.04,
    "abbrev": 0.35,
    "address_case": 0.08,
    "address_missing": 0.08,
    "postcode_missing": 0.12,
    "postcode_nospace": 0.10,
}
NULL = pa.scalar(None, pa.string())


def rate(name: str, noise: float) -> float:
    """A base rate scaled by the noise multiplier, capped at 95%."""
    return min(RATES[name] * noise, 0.95)


def scatter(base: pa.Array, mask: np.ndarray, values: pa.Array | list[str]) -> pa.Array:
    """``base`` with the rows where ``mask`` is true replaced, in order, by ``values``."""
    idx = np.full(len(base), -1, dtype=np.int64)
    idx[mask] = np.arange(int(mask.sum()))
    taken = pc.take(pa.array(values, pa.string()), pa.array(idx, mask=idx < 0))
    return pc.coalesce(taken, base)


def where(mask: np.ndarray, a: pa.Array | pa.Scalar, b: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), a, b)


def typos(rng: np.random.Generator, values: np.ndarray) -> list[str]:
    """One random edit per string: delete, transpose, substitute or double a letter."""
    if len(values) == 0:
        return []
    a = np.array(list(values), dtype=str)
    width = a.dtype.itemsize // 4 + 2
    a = a.astype(f"U{width}")
    n = len(a)
    mat = a.view(np.uint32).reshape(n, width).copy()
    length = np.char.str_len(a)
    pos = 1 + (rng.random(n) * np.maximum(length - 1, 1)).astype(np.int64)  # keep 1st letter
    op = rng.integers(0, 4, n)
    op[length < 3] = 2
    cols = np.arange(width)[None, :]
    p = pos[:, None]
    delete = np.where(cols >= p, np.minimum(cols + 1, width - 1), cols)
    double = np.where(cols > p, cols - 1, cols)
    swap = np.where(cols == p - 1, p, np.where(cols == p, p - 1, cols))
    src = np.select(
        [op[:, None] == 0, op[:, None] == 1, op[:, None] == 3], [delete, swap, double], cols
    )
    out = np.take_along_axis(mat, src, axis=1)
    sub = op == 2
    letters = np.frombuffer("aeioulnrst".encode("utf-32-le"), dtype=np.uint32)
    rows = np.flatnonzero(sub)
    out[rows, np.minimum(pos[rows], width - 1)] = letters[rng.integers(0, 10, len(rows))]
    return list(np.char.rstrip(out.view(f"U{width}").reshape(n), "\x00").astype(object))


def _variant_table() -> tuple[np.ndarray, np.ndarray, pa.Array]:
    start = np.zeros(len(FORENAMES), dtype=np.int64)
    count = np.zeros(len(FORENAMES), dtype=np.int64)
    flat: list[str] = []
    for i, name in enumerate(FORENAMES):
        nicks = names.NICKNAMES.get(name, ())
        start[i], count[i] = len(flat), len(nicks)
        flat.extend(nicks)
    return start, count, pa.array(flat, pa.string())


_NICK_START, _NICK_COUNT, _NICKS = _variant_table()
_FORENAMES = pa.array(FORENAMES, pa.string())
_SURNAMES = pa.array(SURNAMES, pa.string())


def _case(rng: np.random.Generator, arr: pa.Array, p: float) -> pa.Array:
    u = rng.random(len(arr))
    arr = where(u < p * 0.7, pc.utf8_upper(arr), arr)
    return where((u >= p * 0.7) & (u < p), pc.utf8_lower(arr), arr)


def forenames(rng: np.random.Generator, idx: np.ndarray, noise: float) -> pa.Array:
    """Recorded forenames for canonical forename indices."""
    n = len(idx)
    base = pc.take(_FORENAMES, pa.array(idx))
    u = rng.random(n)
    r_nick, r_typo, r_init = (
        rate("nickname", noise),
        rate("forename_typo", noise),
        rate("initial", noise),
    )
    nick = (u < r_nick) & (_NICK_COUNT[idx] > 0)
    pick = _NICK_START[idx] + (rng.random(n) * _NICK_COUNT[idx]).astype(np.int64)
    out = where(nick, pc.take(_NICKS, pa.array(np.where(nick, pick, 0))), base)
    typo = (u >= r_nick) & (u < r_nick + r_typo)
    out = scatter(out, typo, typos(rng, base.filter(pa.array(typo)).to_numpy(zero_copy_only=False)))
    init = (u >= r_nick + r_typo) & (u < r_nick + r_typo + r_init)
    out = where(init, pc.utf8_slice_codeunits(base, 0, 1), out)
    return _case(rng, out, rate("case", noise))


def surnames(rng: np.random.Generator, idx: np.ndarray, noise: float) -> pa.Array:
    """Recorded surnames for surname indices (already the surname at the date)."""
    base = pc.take(_SURNAMES, pa.array(idx))
    typo = rng.random(len(idx)) < rate("surname_typo", noise)
    out = scatter(
        base, typo, typos(rng, base.filter(pa.array(typo)).to_numpy(zero_copy_only=False))
    )
    return _case(rng, out, rate("case", noise))


def dates_of_birth(rng: np.random.Generator, dob: np.ndarray, noise: float) -> pa.Array:
    """Recorded ISO dates of birth: missing, day/month swapped, or 1 January placeholders."""
    d = dob.astype("datetime64[D]")
    year = d.astype("datetime64[Y]")
    month0 = (d.astype("datetime64[M]") - year.astype("datetime64[M]")).astype(np.int64)
    day0 = (d - d.astype("datetime64[M]")).astype(np.int64)
    u = rng.random(len(dob))
    r_swap = rate("dob_swap", noise)
    swap = (u < r_swap) & (day0 < 12) & (day0 != month0)
    swapped = year.astype("datetime64[M]") + day0
    swapped = swapped.astype("datetime64[D]") + month0
    placeholder = (u >= r_swap) & (u < r_swap + rate("dob_placeholder", noise))
    out = np.where(swap, swapped, np.where(placeholder, year.astype("datetime64[D]"), d))
    missing = rng.random(len(dob)) < rate("dob_missing", noise)
    return pa.array(out.astype("datetime64[D]"), pa.date32(), mask=missing).cast(pa.string())


def genders(rng: np.random.Generator, g: np.ndarray, noise: float) -> pa.Array:
    arr = pc.take(pa.array(["F", "M", "X"]), pa.array(g))
    return where(rng.random(len(g)) < rate("gender_missing", noise), NULL, arr)


def assign_refs(
    rng: np.random.Generator, n: int, related: np.ndarray, noise: float, chunk: int
) -> np.ndarray:
    """Each person's nominal refs as an (n, 3) array of numbers, -1 where none.

    Column 0 is the main ref; split people get a second (and some a third);
    shared people carry another person's main ref (a relative's where
    ``related`` gives one, else a stranger's).
    """
    perm = rng.permutation(3 * n) + chunk * 10**8
    refs = np.full((n, 3), -1, dtype=np.int64)
    refs[:, 0] = perm[:n]
    split = rng.random(n) < rate("ref_split", noise)
    refs[split, 1] = perm[n : 2 * n][split]
    third = split & (rng.random(n) < 0.25)
    refs[third, 2] = perm[2 * n :][third]
    shared = np.flatnonzero(rng.random(n) < rate("ref_shared", noise))
    other = np.where(related[shared] >= 0, related[shared], rng.integers(0, n, len(shared)))
    other = np.where(other == shared, (other + 1) % n, other)
    refs[shared, 0] = refs[other, 0]
    return refs


def ref_strings(numbers: np.ndarray) -> pa.Array:
    """Nominal ref text ('NM' + 10 digits) for numbers, null where negative."""
    s = pc.utf8_lpad(pa.array(np.maximum(numbers, 0)).cast(pa.string()), 10, "0")
    return where(numbers < 0, NULL, pc.binary_join_element_wise("NM", s, ""))


def person_refs(
    rng: np.random.Generator, refs: np.ndarray, pid: np.ndarray, noise: float
) -> pa.Array:
    """Recorded person_ref per row: one of the person's refs, or missing."""
    have = (refs[pid] >= 0).sum(axis=1)
    choice = (rng.random(len(pid)) * have).astype(np.int64)
    numbers = refs[pid, choice]
    numbers[rng.random(len(pid)) < rate("ref_missing", noise)] = -1
    return ref_strings(numbers)


def addresses(
    rng: np.random.Generator,
    places: Places,
    addr: np.ndarray,
    noise: float,
    canonical: bool = False,
) -> tuple[pa.Array, pa.Array]:
    """Address text and postcode per address number, with typing variants unless canonical."""
    a = places.addresses
    street = a["street"].to_numpy()[addr]
    st = places.streets
    n = len(addr)
    u = np.ones(n) if canonical else rng.random(n)
    full = pa.array([t[0] for t in names.STREET_TYPES])
    abbr = pa.array([t[1] for t in names.STREET_TYPES])
    stype = pa.array(st["stype"].to_numpy()[street])
    stype_text = where(u < rate("abbrev", noise), pc.take(abbr, stype), pc.take(full, stype))
    stem = pc.take(pa.array(names.STREET_STEMS), pa.array(st["stem"].to_numpy()[street]))
    number = pa.array(a["number"].to_numpy()[addr]).cast(pa.string())
    line = pc.binary_join_element_wise(number, stem, stype_text, " ")
    flat = a["flat"].to_numpy()[addr]
    flat_text = pc.binary_join_element_wise("Flat", pa.array(flat).cast(pa.string()), " ")
    line = where(flat > 0, pc.binary_join_element_wise(flat_text, line, ", "), line)
    town = pc.take(pa.array(names.TOWNS), pa.array(st["town"].to_numpy()[street]))
    with_town = (a["number"].to_numpy()[addr] % 3 == 0) if canonical else rng.random(n) < 0.4
    line = where(with_town, pc.binary_join_element_wise(line, town, ", "), line)
    out_code = pa.array(st["outward"].to_numpy()[street].astype(str))
    in_code = pa.array(st["inward"].to_numpy()[street].astype(str))
    if canonical:
        return line, pc.binary_join_element_wise(out_code, in_code, " ")
    line = _case(rng, line, rate("address_case", noise))
    line = where(rng.random(n) < rate("address_missing", noise), NULL, line)
    v = rng.random(n)
    postcode = where(
        v < rate("postcode_nospace", noise),
        pc.binary_join_element_wise(out_code, in_code, ""),
        pc.binary_join_element_wise(out_code, in_code, " "),
    )
    postcode = where(rng.random(n) < 0.04 * noise, pc.utf8_lower(postcode), postcode)
    postcode = where(rng.random(n) < rate("postcode_missing", noise), NULL, postcode)
    return line, postcode
