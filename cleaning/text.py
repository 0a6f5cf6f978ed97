"""String cells: Unicode NFC, whitespace, null tokens, Excel error values, formula injection.

Everything is vectorised with ``pyarrow.compute``: one RE2 pass finds the few cells that need
work (not NFC, odd whitespace), only those are rewritten.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import bool_array, has_edge_space, string_span, true_mask, valid_mask
from citydata.kernels.libc import buffer_contains
from cleaning.issues import Issue, issues_for_mask

__all__ = [
    "DEFAULT_NULL_TOKENS",
    "EXCEL_ERRORS",
    "Cleaned",
    "clean_text_columns",
    "escape_formulas",
    "find_formula_injection",
    "is_formula_injection",
    "needs_formula_escape",
    "normalize_strings",
]

ArrayLike: TypeAlias = pa.Array | pa.ChunkedArray

DEFAULT_NULL_TOKENS: tuple[str, ...] = (
    "", "n/a", "na", "n.a", "n.a.", "-", "--", "---", ".", "null", "none", "nil", "nan", "#n/a",
    "không có", "khong co", "k/c", "chưa có", "chua co", "không rõ", "khong ro",
)  # fmt: skip
"""Matched case-insensitively on the trimmed cell (``N/A``, ``NULL``, ``Không có``...)."""

EXCEL_ERRORS: tuple[str, ...] = (
    "#VALUE!",
    "#REF!",
    "#DIV/0!",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#SPILL!",
    "#CALC!",
)
"""Excel error values: nulled *and* reported as issues (the source formula failed)."""

# any whitespace other than a single ASCII space, incl. NBSP, zero-width and ideographic spaces
_SPACE_CLASS = r"[\s\x{00A0}\x{1680}\x{2000}-\x{200B}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]"
_ODD_SPACE = r"[\t\n\v\f\r\x{00A0}\x{1680}\x{2000}-\x{200B}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]"

# A leading = always makes a formula; + - @ only when a function call, DDE (|) or sheet ref (!) follows.
FORMULA_PATTERN = r"^[\t\r\n ]*(?:=.*\S|[+\-@]\s*[A-Za-z_][A-Za-z0-9_.]*\s*\(|[+\-@=].*[|!])"
# CSV exports escape more: any cell a spreadsheet would evaluate, except plain numbers.
FORMULA_TRIGGER_PATTERN = r"^(?:[\t\r]|[\n ]*[=+\-@])"
PLAIN_NUMBER_PATTERN = r"^ *[+\-]?[0-9][0-9 .,]*(?:[eE][+\-]?[0-9]+)? *$"


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A cleaned column plus the issues found in it."""

    values: ArrayLike
    issues: list[Issue]


_ODD_SPACE_CPS = (0x00A0, 0x1680, *range(0x2000, 0x200C), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF)


@functools.lru_cache(maxsize=1)
def _not_nfc_codepoints() -> frozenset[int]:
    """BMP characters that can make a string non-NFC (NFC_QC No/Maybe, or combining class > 0).

    Only the BMP is scanned (a 1.1M code point loop costs seconds in every new process): all
    supplementary characters count as candidates, see ``_not_nfc_class``.
    """
    cps: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V/T jamo
    for cp in range(0x300, 0x10000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        decomposition = unicodedata.decomposition(ch)
        if decomposition and not decomposition.startswith("<"):
            parts = decomposition.split()
            if len(parts) == 2:
                cps.add(int(parts[1], 16))
        if unicodedata.combining(ch) or not unicodedata.is_normalized("NFC", ch):
            cps.add(cp)
    return frozenset(cps)


@functools.lru_cache(maxsize=1)
def _not_nfc_class() -> str:
    """The same characters plus every supplementary one as an RE2 class (a superset: cells it
    picks are normalised, and NFC leaves already-normal text unchanged)."""
    ranges: list[list[int]] = []
    for cp in sorted(_not_nfc_codepoints()):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[{body}\\x{{10000}}-\\x{{10FFFF}}]"


@functools.lru_cache(maxsize=1)
def _risky_bmp() -> np.ndarray:
    """Lookup table over U+0000..U+FFFF: not-NFC characters and odd spaces."""
    table = np.zeros(0x10000, dtype=bool)
    table[[cp for cp in _not_nfc_codepoints() if cp < 0x10000]] = True
    table[list(_ODD_SPACE_CPS)] = True
    return table


def _has_pair(raw: np.ndarray, pair: bytes) -> bool:
    """Do the two bytes ``pair`` occur in ``raw`` at any offset? (two 16-bit compares in numpy,
    several times faster than memmem for a two-byte needle)"""
    native = int.from_bytes(pair, "little")  # as a little-endian 16-bit word would hold them
    even = np.frombuffer(raw.data, "<u2", count=raw.size // 2)
    odd = np.frombuffer(raw.data, "<u2", count=(raw.size - 1) // 2, offset=1)
    return bool((even == native).any() or (odd == native).any())


def _risky(data: pa.Buffer) -> bool:
    """May these UTF-8 bytes hold a non-NFC character or an odd space? (a superset; numpy passes)"""
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.min() < 0x20:  # control characters (tab, line breaks...)
        return True
    top = raw.max()
    if top < 0xC2:  # ASCII
        return False
    if top >= 0xF0:  # 4-byte sequences
        return True
    if top >= 0xCC and ((raw - np.uint8(0xCC)) < 0x14).any():  # U+0300..U+07FF: combining marks...
        return True
    if buffer_contains(data, b"\xc2") and _has_pair(raw, b"\xc2\xa0"):  # NBSP
        return True
    if top < 0xE0:
        return False
    e1 = raw == 0xE1
    n_e1 = int(np.count_nonzero(e1))
    # Vietnamese letters U+1E80..U+1EFF (E1 BA xx, E1 BB xx) are all safe
    if n_e1 and (e1[:-1] & ((raw[1:] & np.uint8(0xFE)) != 0xBA)).any():
        return True  # other E1 xx characters (Hangul jamo, combining marks...): look closer per cell
    lead3 = raw >= 0xE0
    if int(np.count_nonzero(lead3)) == n_e1:
        return False
    pos = np.flatnonzero(lead3 & ~e1)  # other 3-byte characters: decode them
    pos = pos[pos + 2 < raw.size]
    cp = (
        ((raw[pos].astype(np.int32) & 0x0F) << 12)
        | ((raw[pos + 1].astype(np.int32) & 0x3F) << 6)
        | (raw[pos + 2].astype(np.int32) & 0x3F)
    )
    return bool(_risky_bmp()[cp].any())


def null_token_set(tokens: Sequence[str]) -> pa.Array:
    """The tokens in their usual letter cases (``n/a``, ``N/A``, ``Không có``...) as a value set."""
    return _token_set(tuple(tokens))


@functools.lru_cache(maxsize=8)
def _token_set(tokens: tuple[str, ...]) -> pa.Array:
    variants: set[str] = set()
    for token in tokens:
        token = unicodedata.normalize("NFC", token)
        variants.update({token, token.lower(), token.upper(), token.title(), token.capitalize()})
    return pa.array(sorted(variants), pa.string())


@functools.lru_cache(maxsize=8)
def _token_screen(tokens: tuple[str, ...]) -> tuple[int, np.ndarray]:
    """(longest token variant in UTF-8 bytes, lookup table of the first bytes of the variants)."""
    variants = [t.encode() for t in _token_set(tokens).to_pylist()]
    first = np.zeros(256, dtype=bool)
    first[[v[0] for v in variants if v]] = True
    return max((len(v) for v in variants), default=0), first


def _token_candidates(values: ArrayLike, tokens: tuple[str, ...]) -> np.ndarray:
    """Rows that could be a null token: short enough, empty or starting with a token's first byte.

    From the offsets and one byte per cell (numpy): free text and codes skip the hash lookup.
    """
    limit, first_bytes = _token_screen(tokens)
    allow_empty = "" in tokens
    rows: list[np.ndarray] = []
    base = 0
    for chunk in values.chunks if isinstance(values, pa.ChunkedArray) else [values]:
        data, offsets = string_span(chunk)
        lengths = np.diff(offsets)
        short = lengths <= limit
        if short.any():
            raw = np.frombuffer(data, dtype=np.uint8)
            if raw.size:
                lead = first_bytes[raw[np.minimum(offsets[:-1], raw.size - 1)]]
                short &= lead & (lengths > 0) | (lengths == 0) & allow_empty
            else:
                short &= (lengths == 0) & allow_empty
            if chunk.null_count:
                short &= valid_mask(chunk)
            rows.append(np.flatnonzero(short) + base)
        base += len(chunk)
    return np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _fix_chunks(chunks: list[pa.Array], collapse_whitespace: bool) -> list[pa.Array]:
    """Trim, NFC and (optionally) collapse whitespace; only cells that need it are rewritten.

    Whole-chunk byte checks first (numpy); per-cell searches only in chunks that may need work.
    """
    chunks = [pc.utf8_trim_whitespace(c) if has_edge_space(c) else c for c in chunks]
    risky, double = [], []
    for i, chunk in enumerate(chunks):
        data = string_span(chunk)[0]
        if data.size == 0:
            continue
        if _risky(data):
            risky.append(i)
        elif collapse_whitespace and _has_pair(np.frombuffer(data, dtype=np.uint8), b"  "):
            double.append(i)
    masks: dict[int, pa.Array] = {}
    ws = [" {2}", _ODD_SPACE] if collapse_whitespace else []
    for rows, pattern, literal in ((risky, "|".join([_not_nfc_class(), *ws]), False), (double, "  ", True)):
        if not rows:
            continue
        work = pa.chunked_array([chunks[i] for i in rows], chunks[rows[0]].type)
        found = pc.match_substring(work, pattern) if literal else pc.match_substring_regex(work, pattern)
        flat_mask = found.combine_chunks()
        row = 0
        for i in rows:
            masks[i] = flat_mask.slice(row, len(chunks[i]))
            row += len(chunks[i])
    todo = sorted(masks)
    if not todo:
        return chunks
    work = pa.chunked_array([chunks[i] for i in todo], chunks[todo[0]].type)
    sub = pc.filter(work, pa.chunked_array([masks[i] for i in todo], pa.bool_()))
    if risky:
        sub = pc.utf8_normalize(sub, "NFC")
    if collapse_whitespace:
        sub = pc.utf8_trim(pc.replace_substring_regex(sub, _SPACE_CLASS + "+", " "), " ")
    flat = sub.combine_chunks() if isinstance(sub, pa.ChunkedArray) else sub
    counts = [int(pc.sum(pc.cast(masks[i], pa.int64())).as_py() or 0) for i in todo]
    start = 0
    for i, count in zip(todo, counts, strict=True):
        if count:
            chunks[i] = pc.replace_with_mask(chunks[i], masks[i], flat.slice(start, count))
        start += count
    return chunks


def normalize_strings(
    values: ArrayLike,
    column: str = "",
    null_tokens: Sequence[str] = DEFAULT_NULL_TOKENS,
    collapse_whitespace: bool = True,
) -> Cleaned:
    """NFC, trim, collapse internal whitespace to one space, null tokens and Excel errors to null.

    Non-string input is returned unchanged. Issues: one per Excel error value (``#VALUE!``...).
    """
    if not _is_string(values.type):
        return Cleaned(values, [])
    if isinstance(values, pa.ChunkedArray):
        out: ArrayLike = pa.chunked_array(_fix_chunks(list(values.chunks), collapse_whitespace), values.type)
    else:
        out = _fix_chunks([values], collapse_whitespace)[0]
    wanted = tuple(null_tokens) + EXCEL_ERRORS
    issues: list[Issue] = []
    rows = _token_candidates(out, wanted)
    if not rows.size:  # free text or codes: no cell can be a token
        return Cleaned(out, issues)
    picked = pc.take(out, pa.array(rows, pa.int64()))
    hits = true_mask(pc.is_in(picked, value_set=_token_set(wanted).cast(out.type)))
    if hits.any():
        nulls = np.zeros(len(out), dtype=bool)
        nulls[rows[hits]] = True
        errors = pc.is_in(picked, value_set=pa.array(EXCEL_ERRORS, out.type))
        issues = [
            Issue(int(row), column, value, "excel error value")
            for row, value, error in zip(rows, picked.to_pylist(), errors.to_pylist(), strict=True)
            if error
        ]
        out = pc.if_else(bool_array(nulls), pa.scalar(None, out.type), out)
    return Cleaned(out, issues)


def clean_text_columns(
    table: pa.Table,
    columns: Iterable[str] | None = None,
    null_tokens: Sequence[str] = DEFAULT_NULL_TOKENS,
    collapse_whitespace: bool = True,
    max_workers: int | None = None,
) -> tuple[pa.Table, list[Issue]]:
    """:func:`normalize_strings` on every string column (or ``columns``), columns in parallel threads."""
    names = [
        n
        for n in (columns if columns is not None else table.column_names)
        if _is_string(table.schema.field(n).type)
    ]
    if not names:
        return table, []

    def run(name: str) -> Cleaned:
        return normalize_strings(table.column(name), name, null_tokens, collapse_whitespace)

    workers = max_workers or min(len(names), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(run, names))
    issues: list[Issue] = []
    for name, res in zip(names, results, strict=True):
        table = table.set_column(table.schema.get_field_index(name), name, res.values)
        issues.extend(res.issues)
    return table, issues


def is_formula_injection(values: ArrayLike) -> ArrayLike:
    """Boolean mask of cells a spreadsheet would run as a formula (``=SUM(...)``, ``@cmd(``, DDE)."""
    return pc.match_substring_regex(values, FORMULA_PATTERN)


def find_formula_injection(table: pa.Table) -> list[Issue]:
    """One issue per string cell that looks like a spreadsheet formula (CSV/formula injection)."""
    issues: list[Issue] = []
    for name in table.column_names:
        col = table.column(name)
        if _is_string(col.type):
            issues.extend(issues_for_mask(col, is_formula_injection(col), name, "formula injection"))
    return issues


def needs_formula_escape(values: ArrayLike) -> ArrayLike:
    """Boolean mask of cells a CSV export must neutralise: stricter than `is_formula_injection`.

    A spreadsheet evaluates any cell that starts with ``= + - @`` (after blanks) or with a tab or
    carriage return: ``-1+1`` becomes 0, ``+cmd`` a name lookup. Only plain numbers (``-5``,
    ``+84 90 123 4567``, ``-1.234,5``, ``-2e3``) are left as they are.
    """
    trigger = pc.match_substring_regex(values, FORMULA_TRIGGER_PATTERN)
    number = pc.match_substring_regex(values, PLAIN_NUMBER_PATTERN)
    return pc.and_(trigger, pc.invert(number))


def escape_formulas(values: ArrayLike) -> ArrayLike:
    """Prefix formula-like cells with ``'`` so spreadsheets show them as text (for CSV exports)."""
    mask = needs_formula_escape(values)
    quote, empty = pa.scalar("'", values.type), pa.scalar("", values.type)  # large_string too
    return pc.if_else(mask, pc.binary_join_element_wise(quote, values, empty), values)
