"""Decode agency files to Unicode text: BOMs, UTF-8, UTF-16, Windows-1258/1252, TCVN3 and VNI.

Detection and decoding are here; the legacy codecs (``cp1258-nfc``, ``tcvn3``, ``vni``, registered
with Python when this module is imported) and the repair of mis-decoded text are in
``citydata.kernels.legacy_codecs``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import charset_normalizer

from citydata.kernels.legacy_codecs import (
    IncrementalDecoder,
    detect_legacy_vietnamese,
    encode_legacy_vietnamese,
    fix_legacy_array,
    fix_legacy_vietnamese,
)
from citydata.kernels.legacy_codecs import (
    canonical_codec as _canonical,
)
from citydata.kernels.legacy_codecs import (
    nfc as _nfc,
)
from citydata.kernels.vietnamese import vietnamese_score

__all__ = [
    "DecodedText",
    "IncrementalDecoder",
    "decode_bytes",
    "detect_encoding",
    "detect_legacy_vietnamese",
    "encode_legacy_vietnamese",
    "fix_legacy_array",
    "fix_legacy_vietnamese",
    "iter_decode",
]

SAMPLE_SIZE = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True, slots=True)
class DecodedText:
    """Decoded NFC text; ``encoding`` is a codec name (``utf-8``, ``cp1258-nfc``, ``tcvn3``...)."""

    text: str
    encoding: str
    had_bom: bool
    confidence: float


def _utf16_guess(sample: bytes) -> str | None:
    if len(sample) < 4:
        return None
    head = sample[: len(sample) - len(sample) % 2]
    half = len(head) // 2
    even_zero = head[0::2].count(0) / half
    odd_zero = head[1::2].count(0) / half
    if odd_zero > 0.3 and even_zero < 0.05:
        return "utf-16-le"
    if even_zero > 0.3 and odd_zero < 0.05:
        return "utf-16-be"
    return None


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def detect_encoding(sample: bytes, declared: str | None = None) -> tuple[str, bool, float]:
    """(codec name, had_bom, confidence) for ``sample`` (the first bytes of a file suffice).

    Order: BOM; the declared encoding if it decodes; strict UTF-8; UTF-16 without BOM (NUL byte
    pattern); then Windows-1258 vs Windows-1252 (and TCVN3/VNI inside Windows-1252), judged by how
    many words are valid Vietnamese syllables, with charset-normalizer for non-Vietnamese text.
    """
    for bom, codec in _BOMS:
        if sample.startswith(bom):
            return codec, True, 1.0
    if declared:
        codec = _canonical(declared)
        if _try(sample, codec) is not None:
            return codec, False, 0.9
    head = sample[:SAMPLE_SIZE]
    # a multi-byte sequence cut at the end of a truncated sample is not an error
    if _utf8_ok(head, final=len(sample) < SAMPLE_SIZE):
        return "utf-8", False, 1.0 if not head.isascii() else 0.99
    utf16 = _utf16_guess(head)
    if utf16 and _try(head[: len(head) - len(head) % 2], utf16) is not None:
        return utf16, False, 0.8
    if _mostly_utf8(head, truncated=len(sample) > len(head)):
        return "utf-8", False, 0.7
    return _detect_8bit(head)


def _mostly_utf8(head: bytes, truncated: bool, min_share: float = 0.9) -> bool:
    """UTF-8 with a few bad lines (one pasted from a Windows-1258 file): read as UTF-8, so the
    reader rejects just those lines. Real 8-bit text almost never forms valid UTF-8 sequences."""
    lines = head.splitlines()
    if truncated:
        lines = lines[:-1]  # cut by the sample's end
    lines = [line for line in lines if not line.isascii()]
    if len(lines) < 2:
        return False
    valid = sum(1 for line in lines if _try(line, "utf-8") is not None)
    return valid >= 2 and len(lines) - valid <= max(1, int((1 - min_share) * len(lines)))


def _utf8_ok(head: bytes, final: bool) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final)
    except UnicodeDecodeError:
        return False
    return True


# Code pages plausible in files reaching a Vietnamese city portal, besides UTF-8/16, 1258 and legacy.
_OTHER_CANDIDATES = (
    "cp1252", "latin_1", "iso8859_15", "cp1250", "cp1251", "koi8_r", "cp874",
    "gb18030", "big5", "shift_jis", "euc_jp", "euc_kr",
)  # fmt: skip


def _detect_8bit(head: bytes) -> tuple[str, bool, float]:
    scores: dict[str, tuple[int, int]] = {}
    cp1258 = _try(head, "cp1258")
    if cp1258 is not None:
        scores["cp1258-nfc"] = vietnamese_score(_nfc(cp1258))
    cp1252 = head.decode("cp1252", errors="replace")
    scores["cp1252"] = vietnamese_score(cp1252)
    legacy = detect_legacy_vietnamese(cp1252)
    if legacy:
        scores[legacy] = vietnamese_score(fix_legacy_vietnamese(cp1252, legacy))
    best = max(scores, key=lambda k: scores[k][0])
    valid, total = scores[best]
    if best != "cp1252" and valid > scores["cp1252"][0] and valid / max(total, 1) >= 0.5:
        return best, False, round(min(0.95, valid / total), 3)
    matches = list(charset_normalizer.from_bytes(head, cp_isolation=list(_OTHER_CANDIDATES)))
    if not matches:
        return "cp1252", False, 0.3
    best_match = matches[0]
    # Western text decodes equally well in several code pages: prefer Windows-1252 on a tie
    for match in matches:
        if match.encoding == "cp1252" and float(match.chaos) <= float(best_match.chaos) + 0.02:
            best_match = match
            break
    codec = _canonical(best_match.encoding)
    return codec, False, round(max(0.1, 1.0 - float(best_match.chaos)) * 0.8, 3)


def _informative_sample(data: bytes) -> bytes:
    """The first 64 KiB, or, when those are plain ASCII, 64 KiB around the first non-ASCII byte."""
    head = data[: SAMPLE_SIZE + 4]
    if not head.isascii() or b"\x00" in head or len(data) <= len(head):
        return head
    first = next((i for i, b in enumerate(data) if b >= 0x80), None)
    if first is None:
        return head
    start = max(0, first - 1024)
    start = data.rfind(b"\n", 0, start) + 1 if start else 0  # a whole line, so 1258 tones join their base
    return data[start : start + SAMPLE_SIZE + 4]


def decode_bytes(data: bytes, declared: str | None = None) -> DecodedText:
    """Decode a whole file to NFC text; bad bytes (if any) become U+FFFD and lower the confidence.

    The encoding is judged on the first 64 KiB, or on the first non-ASCII part when the file starts
    with a long ASCII stretch (headers, codes and numbers), which any encoding would accept.
    """
    codec, had_bom, confidence = detect_encoding(data[: SAMPLE_SIZE + 4], declared)
    if not had_bom and not declared:
        codec, had_bom, confidence = detect_encoding(_informative_sample(data))
    body = data
    if had_bom:
        body = data[len(next(b for b, c in _BOMS if c == codec and data.startswith(b))) :]
    try:
        text = codecs.decode(body, codec)
    except UnicodeDecodeError:
        text = codecs.decode(body, codec, errors="replace")
        confidence = min(confidence, 0.5)
    return DecodedText(_nfc(text), codec, had_bom, confidence)


def iter_decode(
    chunks: Iterable[bytes], declared: str | None = None, errors: str = "strict"
) -> Iterator[str]:
    """Decode a stream of byte chunks to NFC text chunks.

    The encoding is judged on the first 64 KiB that hold a non-ASCII byte (a leading stretch of
    plain ASCII is passed through as is, since every candidate encoding reads it the same way).
    """
    it = iter(chunks)
    head = b""
    for chunk in it:
        head += chunk
        if declared is None and head.isascii() and b"\x00" not in head and len(head) >= SAMPLE_SIZE:
            cut = head.rfind(b"\n") + 1  # keep going: plain ASCII decodes alike everywhere
            if cut:
                yield head[:cut].decode("ascii")
                head = head[cut:]
            continue
        if len(head) >= SAMPLE_SIZE:
            break
    codec, had_bom, _ = detect_encoding(head[: SAMPLE_SIZE + 4], declared)
    if not had_bom and not declared:
        whole_lines = head[: head.rfind(b"\n") + 1] or head  # never judge a character cut in two
        codec, had_bom, _ = detect_encoding(_informative_sample(whole_lines))
    if had_bom:
        head = head[len(next(b for b, c in _BOMS if c == codec and head.startswith(b))) :]
    decoder = IncrementalDecoder(codec, errors)
    out = decoder.decode(head)
    if out:
        yield out
    for chunk in it:
        out = decoder.decode(chunk)
        if out:
            yield out
    out = decoder.decode(b"", final=True)
    if out:
        yield out
