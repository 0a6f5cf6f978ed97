"""Personal data in string columns: CCCD / CMND numbers, Vietnamese phone numbers, e-mail addresses.

Detection is vectorised RE2 (``pyarrow.compute``); actions are ``mask`` (keep the last 3 digits,
or the first letter and domain of an e-mail) or ``drop`` the column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.buffers import bool_array, string_span

__all__ = ["PII_KINDS", "PiiFinding", "PiiReport", "apply_pii", "mask_pii", "scan_pii"]

PiiKind = Literal["cccd", "cmnd", "phone", "email"]
PII_KINDS: tuple[PiiKind, ...] = ("cccd", "cmnd", "phone", "email")

_MIN_DIGITS = 9  # the shortest number kind: a 9-digit CMND (phones have 10-11, CCCD 12)
_L = r"(^|[^0-9A-Za-z+])"  # left boundary (captured, put back when masking)
_R = r"($|[^0-9A-Za-z])"  # right boundary
_SEP = r"[ .\-]?"
_LAST3 = rf"{_SEP}([0-9]){_SEP}([0-9]){_SEP}([0-9])"
# CCCD: 12 digits starting with a 3-digit province code 0xx; CMND: 9 digits (or 12 digits not 0xx).
_CCCD = r"0[0-9]{8}([0-9]{3})"
_CMND = r"[0-9]{6}([0-9]{3})"
# Mobile 0[3|5|7|8|9]x xxx xxxx (10 digits), landline 02x xxxx xxxx (11 digits), +84 / 84 for the 0.
_PHONE = rf"(?:\+84|84|0){_SEP}(?:[35789]|2[0-9])(?:{_SEP}[0-9]){{5}}{_LAST3}"
_DOMAIN = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
_EMAIL = rf"([A-Za-z0-9])[A-Za-z0-9._%+\-]*@({_DOMAIN})"

_DETECT = {
    "cccd": _L + _CCCD + _R,
    "cmnd": _L + _CMND + _R,
    "phone": _L + _PHONE + _R,
    "email": _EMAIL,
}
_MASK = {
    "cccd": (_L + _CCCD + _R, r"\1*********\2\3"),
    "cmnd": (_L + _CMND + _R, r"\1******\2\3"),
    "phone": (_L + _PHONE + _R, r"\1*******\2\3\4\5"),
    "email": (_EMAIL, r"\1***@\2"),
}


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """``count`` non-null cells of ``column`` contain at least one ``kind`` value."""

    column: str
    kind: PiiKind
    count: int
    ratio: float


@dataclass(frozen=True)
class PiiReport:
    """Findings per column; ``columns`` lists columns with any PII, in table order."""

    findings: list[PiiFinding] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(f.column for f in self.findings))

    def count(self, column: str, kind: PiiKind) -> int:
        return sum(f.count for f in self.findings if f.column == column and f.kind == kind)


def _is_string(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _candidates(values: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, pa.Array]:
    """Masks of cells that could hold a number kind (>= 9 digits) or an e-mail (an ``@``).

    Byte counts from the buffers (numpy): the regexes then run only on the few candidates.
    """
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    digits_ok, at_ok = [], []
    for chunk in chunks:
        data, offsets = string_span(chunk)
        raw = np.frombuffer(data, dtype=np.uint8)
        digit_count = np.concatenate([[0], np.cumsum((raw - np.uint8(0x30)) < 10, dtype=np.int32)])
        digits_ok.append(np.diff(digit_count[offsets]) >= _MIN_DIGITS)
        at = raw == 0x40
        if at.any():
            at_count = np.concatenate([[0], np.cumsum(at, dtype=np.int32)])
            at_ok.append(np.diff(at_count[offsets]) > 0)
        else:
            at_ok.append(np.zeros(len(chunk), dtype=bool))
    return bool_array(np.concatenate(digits_ok)), bool_array(np.concatenate(at_ok))


def scan_pii(table: pa.Table, columns: Iterable[str] | None = None, min_count: int = 1) -> PiiReport:
    """Count cells holding each kind of PII in every string column (or ``columns``).

    A kind is reported for a column when at least ``min_count`` cells match. Numbers stored as
    integers are not scanned: IDs and phones keep their leading 0 only as strings.
    """
    findings: list[PiiFinding] = []
    for name in columns if columns is not None else table.column_names:
        col = table.column(name)
        if not _is_string(col.type):
            continue
        col = col.cast(pa.string())
        present = len(col) - col.null_count
        if present == 0:
            continue
        with_digits, with_at = _candidates(col)
        subsets = {"email": with_at, "cccd": with_digits, "cmnd": with_digits, "phone": with_digits}
        for kind in PII_KINDS:
            mask = subsets[kind]
            if not pc.any(mask).as_py():
                continue
            cells = pc.filter(col, mask)
            hits = pc.sum(pc.cast(pc.match_substring_regex(cells, _DETECT[kind]), pa.int64())).as_py() or 0
            if hits >= min_count:
                findings.append(PiiFinding(name, kind, hits, hits / present))
    return PiiReport(findings)


def mask_pii(
    values: pa.Array | pa.ChunkedArray, kinds: Iterable[PiiKind] = PII_KINDS
) -> pa.Array | pa.ChunkedArray:
    """Mask PII inside each cell: "079123456789" -> "*********789", "0903 123 456" -> "*******456"."""
    out = values
    order = [k for k in ("email", "phone", "cccd", "cmnd") if k in set(kinds)]
    for kind in order:
        pattern, replacement = _MASK[kind]
        # twice: a boundary character consumed by one match can hide an adjacent one
        out = pc.replace_substring_regex(out, pattern, replacement)
        out = pc.replace_substring_regex(out, pattern, replacement)
    return out


def apply_pii(
    table: pa.Table,
    report: PiiReport,
    action: Literal["mask", "drop"] = "mask",
    kinds: Iterable[PiiKind] = PII_KINDS,
) -> pa.Table:
    """Mask or drop the columns that ``report`` found PII of the given ``kinds`` in."""
    wanted = set(kinds)
    columns = list(dict.fromkeys(f.column for f in report.findings if f.kind in wanted))
    if action == "drop":
        return table.drop_columns(columns)
    for name in columns:
        found = [f.kind for f in report.findings if f.column == name and f.kind in wanted]
        idx = table.schema.get_field_index(name)
        table = table.set_column(idx, name, mask_pii(table.column(name), found))
    return table
