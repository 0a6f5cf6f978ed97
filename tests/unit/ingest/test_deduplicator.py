"""Primary-key de-duplication across batches: the first row of each key is kept, once."""

from __future__ import annotations

import random

import pyarrow as pa

from ingest.clean_files import _Deduplicator


def test_first_row_of_each_key_is_kept_across_many_batches() -> None:
    rng = random.Random(3)
    keys = [rng.randrange(5_000) for _ in range(30_000)]
    dedupe = _Deduplicator(["ma"])
    kept: list[int] = []
    dropped = 0
    for start in range(0, len(keys), 700):  # many small batches, as a broken file gives
        chunk = keys[start : start + 700]
        table = pa.table(
            {"ma": pa.array([f"K{k}" for k in chunk]), "row": pa.array(range(start, start + len(chunk)))}
        )
        dup = dedupe.duplicates(table)
        kept += table.filter(pa.array(~dup)).column("row").to_pylist()
        dropped += int(dup.sum())
    first_rows = sorted({k: i for i, k in reversed(list(enumerate(keys)))}.values())
    assert kept == first_rows
    assert dropped == len(keys) - len(first_rows)
    assert len(dedupe.runs) <= 14  # runs are merged: logarithmic in the number of keys


def test_no_primary_key_keeps_everything() -> None:
    table = pa.table({"a": [1, 1, 1]})
    assert not _Deduplicator([]).duplicates(table).any()
