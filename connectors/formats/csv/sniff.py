"""The sample at the start of a CSV file: its encoding, and whether it is text at all.

(The dialect and the header are read from the sample by ``head.py``.)
"""

from __future__ import annotations

import codecs
import re

from citydata.kernels.encoding import detect_encoding
from connectors.base import RawObject
from connectors.formats.base import FormatError
from connectors.formats.csv.streams import _UNDECODABLE, DECODE_CHUNK, _Encoding

SAMPLE_BYTES = 64 * 1024  # encoding detection and dialect sniffing
ASCII_SCAN_LIMIT = 64 * 2**20  # an all-ASCII sample: look this far for the first non-ASCII line
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f]")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (XLSX, ODS or DOCX?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 file (legacy XLS or DOC?)"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_LABELS = {"cp1258": "windows-1258", "cp1258-nfc": "windows-1258", "cp1252": "windows-1252"}


def _first_non_ascii(raw: RawObject, limit: int) -> bytes | None:
    """A sample starting at the line holding the first non-ASCII byte within ``limit`` bytes."""
    with raw.open() as fh:
        offset, tail = 0, b""
        while offset < limit:
            chunk = fh.read(DECODE_CHUNK)
            if not chunk:
                return None
            if not chunk.isascii():
                data = tail + chunk
                at = _NON_ASCII.search(data).start()  # type: ignore[union-attr]
                line = data.rfind(b"\n", 0, at) + 1
                window = data[line:]
                if len(window) < SAMPLE_BYTES + 4:
                    window += fh.read(SAMPLE_BYTES + 4 - len(window))
                return window[: SAMPLE_BYTES + 4]
            tail = chunk[chunk.rfind(b"\n") + 1 :][-SAMPLE_BYTES:]
            offset += len(chunk)
    return None


def _choose_encoding(head: bytes, declared: str | None, raw: RawObject) -> _Encoding:
    name = raw.name
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return _Encoding(codec, len(bom), label, codec != "utf-8")
    if declared:
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise FormatError(f"{name}: unknown encoding {declared!r} (format.encoding)") from None
        if codec in ("utf-8-sig", "utf_8_sig"):
            codec = "utf-8"
    else:
        codec = detect_encoding(head)[0]
        if codec == "utf-8" and head.isascii() and len(head) > SAMPLE_BYTES:
            # an ASCII start (codes, numbers) says nothing: judge on the first non-ASCII line
            later = _first_non_ascii(raw, ASCII_SCAN_LIMIT)
            if later is not None:
                codec = detect_encoding(later)[0]
    return _Encoding(codec, 0, _LABELS.get(codec, codec), codec != "utf-8")


def _check_binary(head: bytes, encoding: _Encoding, name: str) -> None:
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise FormatError(f"{name}: not a CSV text file: the content is {what}")
    if not encoding.codec.startswith(("utf-16", "utf-32")):
        nuls = head.count(0)
        if nuls > max(2, len(head) // 1000):
            raise FormatError(
                f"{name}: not a CSV text file: binary content ({nuls} NUL bytes in the first "
                f"{len(head):,} bytes)"
            )


def _check_text(sample: bytes, encoding: _Encoding, name: str) -> None:
    text = sample.decode("utf-8", "replace")
    if not text.strip().strip("\ufeff"):
        raise FormatError(f"{name}: empty file (only blank lines)")
    controls = len(_CONTROL.findall(text)) + text.count(_UNDECODABLE)
    if controls > max(8, len(text) // 100):
        raise FormatError(
            f"{name}: not a CSV text file: {controls} control characters in the first "
            f"{len(sample):,} bytes (binary content, or not {encoding.label} text)"
        )
