"""Arrow buffers seen through numpy: string cells, boolean masks, without per-row Python."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def string_span(values: pa.Array) -> tuple[pa.Buffer, np.ndarray]:
    """(data buffer holding exactly the cells' bytes, cell offsets relative to it); zero-copy."""
    width = 8 if pa.types.is_large_string(values.type) else 4
    buffers = values.buffers()
    if buffers[1] is None:  # an empty array may come without offsets
        return pa.py_buffer(b""), np.zeros(len(values) + 1, dtype=np.int64 if width == 8 else np.int32)
    offsets = np.frombuffer(
        buffers[1],
        dtype=np.int64 if width == 8 else np.int32,
        count=len(values) + 1,
        offset=values.offset * width,
    )
    start, end = int(offsets[0]), int(offsets[-1])
    data = buffers[2] if buffers[2] is not None else pa.py_buffer(b"")
    return data.slice(start, end - start), offsets - start


_EDGE_SPACE = np.zeros(256, dtype=bool)
_EDGE_SPACE[list(b" \t\n\v\f\r")] = True


def has_edge_space(values: pa.Array) -> bool:
    """Does any cell start or end with an ASCII whitespace byte? (vectorised, no copy of the data)."""
    if len(values) == 0:
        return False
    data, offsets = string_span(values)
    if data.size == 0:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    # An empty cell reads a neighbour's byte: a false alarm at worst, settled exactly below.
    first = raw[np.minimum(starts, raw.size - 1)]
    last = raw[np.maximum(ends - 1, 0)]
    near = (first <= 0x20) | (last <= 0x20)  # whitespace and control bytes
    if not near.any():
        return False
    rows = np.flatnonzero(near & (ends > starts))
    return bool(_EDGE_SPACE[first[rows]].any() or _EDGE_SPACE[last[rows]].any())


def scatter(
    mask: pa.Array | pa.ChunkedArray, values: pa.Array | pa.ChunkedArray
) -> pa.Array | pa.ChunkedArray:
    """Full-length array: the k-th true position of ``mask`` gets ``values[k]``, others are null."""
    mask = pc.fill_null(mask, False)
    index = pc.subtract(pc.cumulative_sum(pc.cast(mask, pa.int64())), 1)
    index = pc.if_else(mask, index, pa.scalar(None, pa.int64()))
    return pc.take(values, index)


def translate_strings(values: pa.Array, delete: bytes, replace: bytes = b"", by: bytes = b"") -> pa.Array:
    """Byte-level translate of a string array: drop the bytes in ``delete``, map ``replace`` -> ``by``.

    ASCII bytes only (they never occur inside multi-byte UTF-8 sequences). Vectorised with numpy.
    """
    if len(values) == 0:
        return values
    data, offsets = string_span(values)
    raw = np.frombuffer(data, dtype=np.uint8)
    drop = np.zeros(raw.size, dtype=bool)
    for b in delete:
        drop |= raw == b
    dropping = bool(drop.any())
    kept = raw[~drop] if dropping else raw
    for src, dst in zip(replace, by, strict=True):
        hit = kept == src
        if hit.any():
            kept = np.where(hit, np.uint8(dst), kept)
    if not dropping:
        if kept is raw:  # nothing to change
            return values
        new_offsets = offsets.astype(np.int32)
    else:
        removed = np.concatenate([[0], np.cumsum(drop, dtype=np.int32)])  # dropped bytes before each byte
        new_offsets = (offsets - removed[offsets]).astype(np.int32)
    validity = values.buffers()[0]
    if validity is not None and values.offset:
        validity = pc.is_valid(values).buffers()[1]
    return pa.Array.from_buffers(
        pa.string(),
        len(values),
        [validity, pa.py_buffer(new_offsets), pa.py_buffer(kept.tobytes())],
        null_count=values.null_count,
    )


def bool_array(mask: np.ndarray) -> pa.Array:
    """A numpy boolean mask as an Arrow boolean array (``pa.array`` would import pandas once)."""
    bits = pa.py_buffer(np.packbits(mask, bitorder="little"))
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, bits])


def true_mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, nulls False (from the bitmaps, no pandas import)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    parts = []
    for chunk in chunks:
        n = len(chunk)
        if n == 0:
            continue
        bits = np.unpackbits(np.frombuffer(chunk.buffers()[1], dtype=np.uint8), bitorder="little")
        parts.append(bits[chunk.offset : chunk.offset + n].astype(bool) & valid_mask(chunk))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def valid_mask(values: pa.Array) -> np.ndarray:
    """Boolean numpy mask of the non-null cells, from the validity bitmap (no pandas import)."""
    n = len(values)
    bitmap = values.buffers()[0]
    if values.null_count == 0 or bitmap is None:
        return np.ones(n, dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return bits[values.offset : values.offset + n].astype(bool)
