"""Row-level issue records shared by every cleaning module.

A cleaning function never raises on bad cell values: it turns them into nulls and returns one
:class:`Issue` per failing cell, so the pipeline can quarantine rows naming file, row and field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

ISSUE_SCHEMA = pa.schema(
    [
        pa.field("file", pa.string()),
        pa.field("row", pa.int64(), nullable=False),
        pa.field("column", pa.string(), nullable=False),
        pa.field("value", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
    ]
)


@dataclass(frozen=True, slots=True)
class Issue:
    """One failing cell: ``row`` is the 0-based row index in the table given to the cleaner."""

    row: int
    column: str
    value: str | None
    reason: str


def issues_for_mask(
    values: pa.Array | pa.ChunkedArray, mask: pa.Array | pa.ChunkedArray, column: str, reason: str
) -> list[Issue]:
    """One :class:`Issue` per row where ``mask`` is true (only those rows are touched in Python)."""
    idx = pc.indices_nonzero(pc.fill_null(mask, False))
    if len(idx) == 0:
        return []
    picked = pc.take(values, idx)
    if not pa.types.is_string(picked.type) and not pa.types.is_large_string(picked.type):
        picked = pc.cast(picked, pa.string())
    return [
        Issue(int(r), column, v, reason) for r, v in zip(idx.to_pylist(), picked.to_pylist(), strict=True)
    ]


def issues_to_table(issues: Iterable[Issue], file: str | None = None, row_offset: int = 0) -> pa.Table:
    """Issues as an Arrow table (``ISSUE_SCHEMA``) for a quarantine file.

    ``row_offset`` is added to every row (e.g. the number of header lines, or a chunk's start).
    """
    items: Sequence[Issue] = list(issues)
    return pa.table(
        {
            "file": pa.array([file] * len(items), pa.string()),
            "row": pa.array([i.row + row_offset for i in items], pa.int64()),
            "column": pa.array([i.column for i in items], pa.string()),
            "value": pa.array([i.value for i in items], pa.string()),
            "reason": pa.array([i.reason for i in items], pa.string()),
        },
        schema=ISSUE_SCHEMA,
    )
