"""What pyarrow reads: the file as a UTF-8 byte stream, or a piece of it in memory.

UTF-8 input is passed through untouched; any other encoding is transcoded chunk by chunk by a
Python codec, or ``citydata.kernels.encoding``'s decoder for TCVN3 / VNI, counting the bytes it
cannot decode. A piece cut from a UTF-8 file is read in place (``_BufferStream``).
The gate holds pyarrow's read-ahead back (see ``_Gate``).
"""

from __future__ import annotations

import codecs
import functools
import io
import threading
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from citydata.kernels.encoding import IncrementalDecoder as NfcDecoder
from connectors.base import RawObject

DECODE_CHUNK = 2**20  # raw bytes decoded at a time when transcoding
_UNDECODABLE = "\uffff"  # noncharacter standing for bytes the encoding cannot decode
_UNDECODABLE_BYTES = _UNDECODABLE.encode()


_current = threading.local()


def _count_undecodable(exc: UnicodeError) -> tuple[str, int]:
    stream = getattr(_current, "stream", None)
    if stream is not None:
        stream.undecodable += 1
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _UNDECODABLE, exc.end


codecs.register_error("citydata.csv-undecodable", _count_undecodable)


class _CharmapDecoder(codecs.IncrementalDecoder):
    """A stateless single-byte decoder from a 256-character table (fast, C speed)."""

    def __init__(self, table: str, errors: str = "strict") -> None:
        super().__init__(errors)
        self.table = table

    def decode(self, input: Any, final: bool = False) -> str:
        return codecs.charmap_decode(input, self.errors, self.table)[0]


@functools.cache
def _tcvn3_table() -> str:
    return "".join(codecs.decode(bytes([b]), "tcvn3") for b in range(256))


@dataclass(frozen=True)
class _Encoding:
    codec: str  # Python codec name; "utf-8" means the bytes go to pyarrow as they are
    bom: int  # bytes of BOM to skip
    label: str  # for info.encoding
    nfc: bool  # recompose combining marks in the values (decoders that leave them decomposed)

    def decoder(self) -> codecs.IncrementalDecoder:
        errors = "citydata.csv-undecodable"
        if self.codec in ("cp1258", "cp1258-nfc"):
            return codecs.getincrementaldecoder("cp1258")(errors)
        if self.codec == "tcvn3":
            table = _tcvn3_table()
            if len(table) == 256:
                return _CharmapDecoder(table, errors)
        if self.codec in ("tcvn3", "vni"):
            return NfcDecoder(self.codec, errors)
        return codecs.getincrementaldecoder(self.codec)(errors)


class _Gate:
    """Back-pressure for pyarrow's read-ahead, which is not configurable from Python.

    pyarrow's streaming CSV reader reads up to 32 blocks ahead on an I/O thread (about 40 x the
    block size of memory). Reads of our stream pass this gate: the I/O thread may be at most
    ``ahead`` blocks ahead of the batches handed out. When the consumer is waiting inside pyarrow
    and nothing has moved for ``stall`` seconds (pyarrow needs more blocks than expected for its
    next batch, e.g. blocks of rejected rows only), one more read is let through: never a deadlock.
    Past ``3 x ahead`` blocks such a read waits ``10 x stall``: on a busy machine a slow parse
    looks like a stall, and memory must stay bounded.
    """

    def __init__(self, ahead: int, stall: float = 0.2) -> None:
        self._cond = threading.Condition()
        self._ahead = ahead
        self._stall = stall
        self._far = 3 * ahead
        self._reads = 0
        self._consumed = 0
        self._waiting = False
        self._closed = False
        self.activity = 0  # bumped by the invalid-row handler: pyarrow is parsing, not stalled

    def before_read(self) -> None:
        with self._cond:
            waited, seen = 0.0, self.activity
            while not self._closed and self._reads >= self._consumed + self._ahead:
                if not self._waiting:
                    self._cond.wait()
                    waited, seen = 0.0, self.activity
                    continue
                self._cond.wait(0.01)
                waited += 0.01
                stall = self._stall if self._reads < self._consumed + self._far else 10 * self._stall
                if self._waiting and (self.activity != seen or waited >= stall):
                    break  # pyarrow is busy (rejecting rows) or stalled: let one read through
            self._reads += 1

    def waiting(self, waiting: bool) -> None:
        with self._cond:
            self._waiting = waiting
            if not waiting:
                self._consumed += 1
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class _Utf8Stream(io.RawIOBase):
    """The file as UTF-8 bytes from ``start`` on (after BOM), then the sentinel record.

    ``read`` is called by pyarrow (from its I/O thread); at most one decoded chunk is buffered.
    """

    gate: _Gate | None = None

    def __init__(self, raw: RawObject | _PieceSource, encoding: _Encoding, transcode: bool) -> None:
        super().__init__()
        self._fh = raw.open()
        if encoding.bom:
            self._fh.seek(encoding.bom)
        self._decoder = encoding.decoder() if transcode else None
        self._buf = bytearray()
        self._eof = False
        self._suffix: bytes | None = None
        self._last = b"\n"
        self.undecodable = 0

    def readable(self) -> bool:
        return True

    def end_with(self, record: str) -> None:
        self._suffix = record.encode()

    def skip(self, count: int) -> None:
        if self._decoder is None and not self._buf and count > 0 and self._fh.seekable():
            self._fh.seek(count, io.SEEK_CUR)  # the bytes as they are: no need to read them
            return
        while count > 0:
            got = len(self.read(min(count, DECODE_CHUNK)))
            if not got:
                return
            count -= got

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 62
        if self.gate is not None:
            self.gate.before_read()
        if not self._buf and self._decoder is None and not self._eof:
            data = self._fh.read(size)
            if data:
                self._last = data[-1:]
                return bytes(data)
            self._finish()
        while len(self._buf) < size and not self._eof:
            self._fill()
        out = bytes(self._buf[:size])
        del self._buf[:size]
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _fill(self) -> None:
        chunk = self._fh.read(DECODE_CHUNK)
        if self._decoder is None:
            if chunk:
                self._buf += chunk
                self._last = chunk[-1:]
            else:
                self._finish()
            return
        _current.stream = self
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        finally:
            _current.stream = None
        if text:
            data = text.encode("utf-8", "surrogatepass")
            self._buf += data
            self._last = data[-1:]
        if not chunk:
            self._finish()

    def _finish(self) -> None:
        self._eof = True
        if self._suffix is not None:
            if self._last not in (b"\n", b"\r"):
                self._buf += b"\n"
            self._buf += self._suffix

    def close(self) -> None:
        self._fh.close()
        super().close()


class _PieceSource:
    """A piece's bytes, read like the file they come from (same name in messages)."""

    def __init__(self, name: str, data: pa.Buffer) -> None:
        self.name = name
        self.data = data

    def open(self) -> io.BytesIO:
        return io.BytesIO(memoryview(self.data))


class _BufferStream:
    """A piece as pyarrow reads it without Python: in place, without the GIL."""

    def __init__(self, data: pa.Buffer) -> None:
        self.file = pa.BufferReader(data)
        self.gate: _Gate | None = None
        self.undecodable = 0

    def close(self) -> None:
        self.file.close()
