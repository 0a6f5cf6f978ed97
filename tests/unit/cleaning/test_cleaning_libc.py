"""The C library helpers: memmem on Arrow buffers, malloc thresholds."""

from __future__ import annotations

import random
import sys

import pyarrow as pa
import pytest

from citydata.kernels import libc
from citydata.kernels.libc import buffer_contains, keep_freed_memory


def test_buffer_search_agrees_with_python_on_slices() -> None:
    rng = random.Random(2)
    data = bytes(rng.choice(b"ab\r\n\x00\xef\xbf") for _ in range(5000))
    buffer = pa.py_buffer(data)
    for _ in range(2000):
        start = rng.randrange(len(data))
        size = rng.randrange(len(data) - start + 1)
        needle = bytes(rng.choice(b"ab\r\n\x00\xef\xbf") for _ in range(rng.randint(1, 4)))
        assert buffer_contains(buffer.slice(start, size), needle) == (needle in data[start : start + size])


def test_buffer_search_without_glibc_gives_the_same_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libc, "_glibc", lambda: None)
    buffer = pa.py_buffer(b"line one\r\nline two")
    assert buffer_contains(buffer, b"\r\n")
    assert not buffer_contains(buffer.slice(10), b"\n")
    assert buffer_contains(buffer, b"")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_malloc_thresholds_are_set_on_linux() -> None:
    assert keep_freed_memory() is True
