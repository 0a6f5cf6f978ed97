"""Columns of codes: identifiers stay text, so a leading zero is never lost.

A column is an identifier when its header says so ("Mã", "Mã số", "Mã phường/xã", "Số hiệu",
"code", "id", "ward_code", "ma_tinh"...) or when its values do: digit strings with a leading zero
("024", "0901234567"), or unique digit strings of one fixed width (at least 4 digits, 10 values or
more: "27676", "26734"...) under a header that does not name a quantity ("Kinh phí (đồng)").
Such a column is published as text unless the spec types it; a spec type that would drop leading
zeros is refused (:func:`leading_zero_samples`).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import bool_array, string_span
from citydata.kernels.vietnamese import strip_accents

__all__ = ["LEADING_ZERO", "is_code_name", "is_quantity_name", "leading_zero_samples", "looks_like_codes"]

LEADING_ZERO = r"^0\d+$"  # "024", "0901...": a number would drop the zero
_WORDS = re.compile(r"[a-z0-9]+")
_CODE_WORDS = {"id", "code", "ma", "mst", "msdn", "masothue", "sohieu", "postcode", "zipcode", "zip"}
_CODE_PHRASES = ("ma so", "so hieu", "ma dinh danh", "ma vung", "ma buu chinh")
# Headers of quantities: their values are never taken for codes by their width alone.
_QUANTITY_PHRASES = ("kinh phi", "chi phi", "so tien", "thanh tien", "gia tri", "so luong", "dan so",
                     "dien tich", "tong", "doanh thu", "von", "luong", "dong", "vnd", "usd", "amount",
                     "total", "population", "area", "price", "cost")  # fmt: skip
_UNIT = re.compile(r"\((?:[^)]*\b(?:m|m2|km|km2|ha|kg|tan|dong|vnd|usd|nguoi|ho|%)\b[^)]*)\)")
_FIXED_WIDTH_MIN = 4  # "2025" could be a year: ids of 4 digits and more, unique, many values
_FIXED_WIDTH_VALUES = 10


def _words(text: str) -> list[str]:
    plain = strip_accents(unicodedata.normalize("NFC", text)).lower()
    return _WORDS.findall(plain)


def is_code_name(name: str, label: str | None = None) -> bool:
    """Does the column's name or header label say it holds codes? ("Mã số", "ma_tinh", "ward_code").

    A label joined from several header lines is read line by line too: "Thông tin chung - Mã đơn vị"
    (a merged parent over the code's own label) and "Mã định danh - Cấp xã" are codes.
    """
    lines = (label or "").split(" - ")
    for text in (name, label or "", *(lines if len(lines) > 1 else ())):
        words = _words(text.replace("_", " "))
        if not words:
            continue
        joined = " ".join(words)
        if words[0] in _CODE_WORDS or words[-1] in _CODE_WORDS:
            return True
        if any(joined.startswith(p) or f" {p}" in f" {joined}" for p in _CODE_PHRASES):
            return True
    return False


def is_quantity_name(name: str, label: str | None = None) -> bool:
    """Does the header name a quantity ("Kinh phí (đồng)", "Dân số", "Diện tích (km²)")?"""
    for text in (name.replace("_", " "), label or ""):
        plain = " ".join(_words(text.replace("²", "2")))
        if any(f" {p} " in f" {plain} " for p in _QUANTITY_PHRASES):
            return True
        if _UNIT.search(strip_accents(unicodedata.normalize("NFC", text)).lower().replace("²", "2")):
            return True
    return False


def leading_zero_samples(values: pa.Array | pa.ChunkedArray, limit: int = 5) -> list[str]:
    """Up to ``limit`` distinct values that are digit strings with a leading zero ("024")."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return []
    values = _zero_led(values)
    if len(values) == 0:
        return []
    trimmed = pc.utf8_trim_whitespace(values)
    hits = pc.filter(trimmed, pc.fill_null(pc.match_substring_regex(trimmed, LEADING_ZERO), False))
    if len(hits) == 0:
        return []
    return [str(v) for v in pc.unique(hits).slice(0, limit).to_pylist()]


def _zero_led(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The cells whose first non-space byte is "0" (a numpy look at the buffers: every batch of
    every number column the spec types is checked, so the regex runs on these few only)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    picked = []
    for chunk in chunks:
        data, offsets = string_span(chunk.cast(pa.string()))
        raw = np.frombuffer(data, dtype=np.uint8)
        if raw.size == 0:
            continue
        starts = offsets[:-1]
        first = raw[np.minimum(starts, raw.size - 1)]
        lead = (offsets[1:] - starts >= 2) & ((first == 0x30) | (first == 0x20) | (first == 0x09))
        if lead.any():
            picked.append(pc.filter(chunk, bool_array(lead)))
    return pa.concat_arrays(picked) if picked else pa.array([], pa.string())


def looks_like_codes(values: pa.Array | pa.ChunkedArray, fixed_width: bool = True) -> bool:
    """Do the (non-null, text) values look like codes: leading zeros, or (``fixed_width``) unique
    digit strings of one width?"""
    present = pc.drop_null(values)
    if len(present) == 0:
        return False
    trimmed = pc.utf8_trim_whitespace(present)
    if pc.any(pc.match_substring_regex(trimmed, LEADING_ZERO)).as_py():
        return True
    if not fixed_width or len(trimmed) < _FIXED_WIDTH_VALUES:
        return False
    if not pc.all(pc.match_substring_regex(trimmed, r"^\d+$")).as_py():
        return False
    lengths = pc.utf8_length(trimmed)
    width = pc.min_max(lengths).as_py()
    if width["min"] != width["max"] or width["min"] < _FIXED_WIDTH_MIN:
        return False
    return len(pc.unique(trimmed)) == len(trimmed)
