"""Vietnamese legacy encodings as Python codecs, and their repair in text already decoded wrongly.

Importing this module registers three codecs, usable anywhere a codec name is accepted
(``bytes.decode``, ``codecs.getincrementaldecoder``, ``pyarrow.csv.ReadOptions(encoding=...)``):

* ``cp1258-nfc``: Windows-1258 whose decomposed tone marks are recomposed to NFC;
* ``tcvn3``: the legacy 8-bit TCVN 5712 "ABC" font encoding (.VnTime fonts);
* ``vni``: the legacy VNI Windows font encoding (VNI-Times fonts), base letter + mark bytes.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from citydata.kernels.vietnamese import vietnamese_score

SAMPLE_SIZE = 64 * 1024  # characters looked at to tell a legacy encoding

# --------------------------------------------------------------------------------------------------
# TCVN3 (TCVN 5712:1993, "ABC" fonts). Bytes 0xA0..0xFF, from the TCVN-5712 table of GNU libiconv
# (tcvn.h). The C1 range 0x80..0x9F (upper-case toned letters in VN1 only) is *not* used by the
# TCVN3/VN3 fonts, where those bytes stay Windows-1252 punctuation (smart quotes, dashes).
# Upper-case toned letters in TCVN3 documents were written with the .VnTimeH fonts at the
# lower-case positions, so they decode to lower case: the text content is right, not its case.
# --------------------------------------------------------------------------------------------------
_TCVN3_HIGH = (
    "\u00a0\u0102\u00c2\u00ca\u00d4\u01a0\u01af\u0110\u0103\u00e2\u00ea\u00f4\u01a1\u01b0\u0111\u1eb0"  # A0
    "\u0300\u0309\u0303\u0301\u0323\u00e0\u1ea3\u00e3\u00e1\u1ea1\u1eb2\u1eb1\u1eb3\u1eb5\u1eaf\u1eb4"  # B0
    "\u1eae\u1ea6\u1ea8\u1eaa\u1ea4\u1ec0\u1eb7\u1ea7\u1ea9\u1eab\u1ea5\u1ead\u00e8\u1ec2\u1ebb\u1ebd"  # C0
    "\u00e9\u1eb9\u1ec1\u1ec3\u1ec5\u1ebf\u1ec7\u00ec\u1ec9\u1ec4\u1ebe\u1ed2\u0129\u00ed\u1ecb\u00f2"  # D0
    "\u1ed4\u1ecf\u00f5\u00f3\u1ecd\u1ed3\u1ed5\u1ed7\u1ed1\u1ed9\u1edd\u1edf\u1ee1\u1edb\u1ee3\u00f9"  # E0
    "\u1ed6\u1ee7\u0169\u00fa\u1ee5\u1eeb\u1eed\u1eef\u1ee9\u1ef1\u1ef3\u1ef7\u1ef9\u00fd\u1ef5\u1ed0"  # F0
)
assert len(_TCVN3_HIGH) == 96


def _cp1252_char(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:  # 0x81 0x8D 0x8F 0x90 0x9D: undefined, keep as C1 controls
        return chr(byte)


_CP1252_TABLE = "".join(_cp1252_char(b) for b in range(256))
_TCVN3_TABLE = _CP1252_TABLE[:0xA0] + _TCVN3_HIGH
_TCVN3_ENCODING_MAP = codecs.charmap_build(_TCVN3_TABLE)
# Text that was TCVN3 but got decoded as Windows-1252 / Latin-1: map its 0xA0..0xFF characters.
_TCVN3_FROM_CP1252 = {0xA0 + i: ch for i, ch in enumerate(_TCVN3_HIGH)}

# --------------------------------------------------------------------------------------------------
# VNI Windows. A toned vowel is its ASCII base letter followed by one mark byte; i, y-dot, ơ, ư, đ
# have single bytes. Mark bytes below are given as the Windows-1252 characters they show as
# (lower-case mark / upper-case mark) with the combining sequence they stand for.
# --------------------------------------------------------------------------------------------------
_VNI_TONES = {"ù": "\u0301", "ø": "\u0300", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_CIRCUMFLEX = {"â": "", "á": "\u0301", "à": "\u0300", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE = {"ê": "", "é": "\u0301", "è": "\u0300", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
_VNI_SINGLE = {
    "ô": "ơ", "ö": "ư", "ñ": "đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
    "Ô": "Ơ", "Ö": "Ư", "Ñ": "Đ", "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ",
}  # fmt: skip


def _build_vni() -> dict[str, str]:
    table: dict[str, str] = {}

    def add(base: str, marks: dict[str, str], prefix: str) -> None:
        for mark, combining in marks.items():
            result = unicodedata.normalize("NFC", base + prefix + combining)
            for key_mark in {mark, mark.upper()}:
                table[base + key_mark] = result
                table[base.upper() + key_mark] = result.upper()

    for base in "aeouy":
        add(base, _VNI_TONES, "")
    for base in "aeo":
        add(base, _VNI_CIRCUMFLEX, "\u0302")
    add("a", _VNI_BREVE, "\u0306")
    for vni, uni in (("ô", "ơ"), ("ö", "ư")):
        for mark, combining in _VNI_TONES.items():
            result = unicodedata.normalize("NFC", uni + combining)
            for base_case, res_case in ((vni, result), (vni.upper(), result.upper())):
                for key_mark in {mark, mark.upper()}:
                    table[base_case + key_mark] = res_case
    table.update(_VNI_SINGLE)
    return table


_VNI_TO_UNICODE = _build_vni()
_VNI_PATTERN = re.compile("|".join(re.escape(k) for k in sorted(_VNI_TO_UNICODE, key=len, reverse=True)))
# Unicode -> VNI (as Windows-1252 characters); lower-case marks after lower-case bases.
_UNICODE_TO_VNI: dict[str, str] = {}
for _key, _uni in sorted(_VNI_TO_UNICODE.items(), key=lambda kv: (len(kv[0]), kv[0])):
    _is_canonical = len(_key) == 1 or _key[1] == (_key[1].lower() if _key[0].islower() else _key[1].upper())
    if _is_canonical and _uni not in _UNICODE_TO_VNI and _uni not in ("í", "ì", "Í", "Ì"):
        _UNICODE_TO_VNI[_uni] = _key
_VNI_BASES = frozenset("aeouyAEOUYôöÔÖ")

_CP1252_ONLY = re.compile("[^" + re.escape("".join(sorted(set(_CP1252_TABLE)))) + "]")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fix_legacy_vietnamese(text: str, encoding: str) -> str:
    """Convert TCVN3 or VNI mojibake (legacy bytes decoded as Windows-1252/Latin-1) to NFC Unicode.

    ``encoding`` is ``"tcvn3"`` or ``"vni"``; e.g. ``"Hå ChÝ Minh"`` (tcvn3) and ``"Hoà Chí Minh"``
    (vni) both give ``"Hồ Chí Minh"``.
    """
    if encoding == "tcvn3":
        return nfc(text.translate(_TCVN3_FROM_CP1252))
    if encoding == "vni":
        return _VNI_PATTERN.sub(lambda m: _VNI_TO_UNICODE[m.group()], text)
    raise ValueError(f"unknown legacy encoding {encoding!r}; expected 'tcvn3' or 'vni'")


def encode_legacy_vietnamese(text: str, encoding: str) -> bytes:
    """Encode Unicode Vietnamese to TCVN3 or VNI bytes (the inverse of the decoders; for tests/export)."""
    return codecs.encode(text, encoding)


def detect_legacy_vietnamese(text: str, min_ratio: float = 0.6) -> str | None:
    """``"tcvn3"``, ``"vni"`` or None: is ``text`` legacy-font Vietnamese shown as Windows-1252?

    A candidate wins when more of its non-ASCII words are well-formed Vietnamese syllables than in
    the text as given, and at least ``min_ratio`` of them are. Text holding any character that
    Windows-1252 cannot produce (e.g. "ộ", "ư") is already Unicode and gives None. Short values
    are ambiguous ("Hoà" is both valid Unicode and VNI for "Hồ"): decide on a whole column or file.
    """
    sample = text[:SAMPLE_SIZE]
    if sample.isascii() or _CP1252_ONLY.search(sample):
        return None
    best, best_valid = None, vietnamese_score(sample)[0]
    for name in ("tcvn3", "vni"):
        valid, total = vietnamese_score(fix_legacy_vietnamese(sample, name))
        if total and valid > best_valid and valid / total >= min_ratio:
            best, best_valid = name, valid
    return best


def fix_legacy_array(
    values: pa.Array | pa.ChunkedArray, encoding: str | None = None
) -> tuple[pa.Array | pa.ChunkedArray, str | None]:
    """Detect (over all distinct values) and convert a TCVN3/VNI string column; returns (array, encoding)."""
    uniques = pc.unique(values).drop_null()
    if encoding is None:
        encoding = detect_legacy_vietnamese("\n".join(uniques.to_pylist()))
    if encoding is None or len(uniques) == 0:
        return values, encoding
    fixed = pa.array([fix_legacy_vietnamese(v, encoding) for v in uniques.to_pylist()], pa.string())
    return pc.take(fixed, pc.index_in(values, value_set=uniques)), encoding


# --------------------------------------------------------------------------------------------------
# Codecs and incremental decoding
# --------------------------------------------------------------------------------------------------


def _split_tail(text: str, final: bool, hold: frozenset[str] | None) -> tuple[str, str]:
    """Split off a suffix that may still change with the next chunk (NFC or a VNI pair)."""
    if final or not text:
        return text, ""
    cut = len(text)
    while cut > 0 and unicodedata.combining(text[cut - 1]):
        cut -= 1
    if cut > 0 and (hold is None or text[cut - 1] in hold):
        cut -= 1
    return text[:cut], text[cut:]


class IncrementalDecoder(codecs.IncrementalDecoder):
    """Chunk-by-chunk decoder for big files, NFC output, safe at any chunk boundary.

    ``IncrementalDecoder("cp1258")``; also ``tcvn3``, ``vni``, ``utf-8-sig``, ``utf-16`` and any
    Python codec. Combining tone marks (Windows-1258) and VNI mark bytes that arrive in the next
    chunk are joined to their base letter before normalisation.
    """

    def __init__(self, encoding: str = "utf-8", errors: str = "strict") -> None:
        super().__init__(errors)
        self.encoding = canonical_codec(encoding)
        inner = {"cp1258-nfc": "cp1258", "vni": "cp1252"}.get(self.encoding, self.encoding)
        if inner == "tcvn3":
            self._inner: codecs.IncrementalDecoder = _TcvnInner(errors)
        else:
            self._inner = codecs.getincrementaldecoder(inner)(errors)
        self._pending = ""

    def decode(self, input: Any, final: bool = False) -> str:
        text = self._pending + self._inner.decode(input, final)
        hold = _VNI_BASES if self.encoding == "vni" else None
        ready, self._pending = _split_tail(text, final, hold)
        if self.encoding == "vni":
            ready = fix_legacy_vietnamese(ready, "vni")
        return nfc(ready)

    def reset(self) -> None:
        self._inner.reset()
        self._pending = ""

    def getstate(self) -> tuple[bytes, int]:
        return (self._pending.encode("utf-8"), 0)

    def setstate(self, state: tuple[bytes, int]) -> None:
        self._pending = state[0].decode("utf-8")


class _TcvnInner(codecs.IncrementalDecoder):
    def decode(self, input: Any, final: bool = False) -> str:
        return codecs.charmap_decode(input, self.errors, _TCVN3_TABLE)[0]


def _make_codec(name: str) -> codecs.CodecInfo:
    def decode(data: Any, errors: str = "strict") -> tuple[str, int]:
        dec = IncrementalDecoder(name, errors)
        return dec.decode(bytes(data), final=True), len(data)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        if name == "tcvn3":
            return codecs.charmap_encode(nfc(text), errors, _TCVN3_ENCODING_MAP)[0], len(text)
        if name == "vni":
            vni = "".join(_UNICODE_TO_VNI.get(c, c) for c in nfc(text))
            return vni.encode("cp1252", errors), len(text)
        return _encode_cp1258(text, errors), len(text)

    class _IncEncoder(codecs.IncrementalEncoder):
        def encode(self, input: str, final: bool = False) -> bytes:
            return encode(input, self.errors)[0]

    def _make_decoder(errors: str = "strict") -> IncrementalDecoder:
        return IncrementalDecoder(name, errors)

    return codecs.CodecInfo(
        encode, decode, name=name, incrementalencoder=_IncEncoder, incrementaldecoder=_make_decoder
    )


def _encode_cp1258(text: str, errors: str) -> bytes:
    """Windows-1258 the way Windows writes it: precomposed base letters plus combining tone marks."""
    out = []
    for ch in nfc(text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
        base = nfc("".join(c for c in parts if c not in tones))
        out.append((base + tones).encode("cp1258", errors))
    return b"".join(out)


_CODECS = {name: _make_codec(name) for name in ("tcvn3", "vni", "cp1258-nfc")}
_ALIASES = {"tcvn3": "tcvn3", "tcvn": "tcvn3", "abc": "tcvn3", "vni": "vni", "cp1258_nfc": "cp1258-nfc"}


def _search(name: str) -> codecs.CodecInfo | None:
    key = _ALIASES.get(name.lower().replace("-", "_"))
    return _CODECS[key] if key else None


codecs.register(_search)


def canonical_codec(encoding: str) -> str:
    """Canonical codec name: ``tcvn3``, ``vni``, ``cp1258-nfc`` or Python's name for the codec."""
    key = _ALIASES.get(encoding.lower().replace("-", "_"))
    if key:
        return key
    name = codecs.lookup(encoding).name
    return "cp1258-nfc" if name == "cp1258" else name


# --------------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------------
