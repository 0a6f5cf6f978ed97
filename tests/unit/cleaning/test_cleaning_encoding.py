"""Encodings: BOMs, UTF-8/16, Windows-1258 (decomposed tones), Windows-1252, TCVN3 and VNI.

Legacy byte sequences are checked against published facts, not only round trips through our own
tables: TCVN3 bytes from the TCVN 5712 table of GNU libiconv (tcvn.h) and from the usage examples
of existing converters ("B¶o Th¾ng" = Bảo Thắng); VNI from the README of the npm package
``vietnamese-conversion`` ("Xin chaøo caùc baïn" = Xin chào các bạn) and the VNI tables of xvnkb.
"""

from __future__ import annotations

import codecs
import io
import unicodedata

import pyarrow.csv as pv
import pytest

from citydata.kernels.encoding import (
    IncrementalDecoder,
    decode_bytes,
    detect_encoding,
    detect_legacy_vietnamese,
    encode_legacy_vietnamese,
    fix_legacy_array,
    fix_legacy_vietnamese,
    iter_decode,
)

SENTENCE = (
    "Danh sách hộ kinh doanh cá thể tại Thành phố Hồ Chí Minh, phường Bến Nghé. "
    "Người đại diện: Nguyễn Văn Đức, Trần Thị Hương; ngày cấp 05/03/2024."
)


def is_nfc(text: str) -> bool:
    return unicodedata.is_normalized("NFC", text)


# ---------------------------------------------------------------- BOMs, UTF-8, UTF-16


@pytest.mark.parametrize(
    ("codec", "expected"),
    [("utf-8-sig", "utf-8"), ("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("utf-32", "utf-32-le")],
)
def test_bom_is_detected_and_stripped(codec: str, expected: str) -> None:
    data = SENTENCE.encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    result = decode_bytes(data)
    assert result.encoding == expected
    assert result.had_bom is True
    assert result.text == SENTENCE
    assert not result.text.startswith("\ufeff")


def test_plain_utf8_is_preferred_and_certain() -> None:
    result = decode_bytes(SENTENCE.encode("utf-8"))
    assert (result.encoding, result.had_bom, result.confidence) == ("utf-8", False, 1.0)
    assert result.text == SENTENCE


def test_utf8_in_nfd_comes_out_nfc() -> None:
    nfd = unicodedata.normalize("NFD", SENTENCE)
    result = decode_bytes(nfd.encode("utf-8"))
    assert result.text == SENTENCE
    assert is_nfc(result.text)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(codec: str) -> None:
    result = decode_bytes(SENTENCE.encode(codec))
    assert result.encoding == codec
    assert result.had_bom is False
    assert result.text == SENTENCE


def test_utf8_cut_inside_a_character_at_sample_end_is_still_utf8() -> None:
    # 'ố' is 3 bytes; make the 64 KiB sample end in the middle of it
    filler = "a" * (64 * 1024 - 1)
    data = (filler + "ố" + " Hồ Chí Minh" * 10).encode("utf-8")
    codec, _, _ = detect_encoding(data[: 64 * 1024 + 4])
    assert codec == "utf-8"
    assert decode_bytes(data).text.endswith("Hồ Chí Minh")


# ---------------------------------------------------------------- Windows-1258 / 1252


def test_cp1258_known_bytes_decode_to_nfc() -> None:
    # cp1258: 0xEA = ê, 0xF2 = combining dot below, 0xF4 = ô, 0xCC = combining grave, 0xD0 = Đ,
    # 0xE3 = ă, 0xDE = combining tilde
    raw = b"Vi\xea\xf2t Nam, H\xf4\xcc Ch\xed Minh, \xd0\xe0 N\xe3\xdeng"
    result = decode_bytes(raw)
    assert result.encoding == "cp1258-nfc"
    assert result.text == "Việt Nam, Hồ Chí Minh, Đà Nẵng"
    assert is_nfc(result.text)
    # Python's own cp1258 codec leaves the tone marks decomposed
    assert raw.decode("cp1258") != result.text


def test_cp1258_sentence_via_codec_round_trip() -> None:
    data = SENTENCE.encode("cp1258-nfc")
    assert b"\xcc" in data or b"\xec" in data  # tone marks written as combining bytes
    result = decode_bytes(data)
    assert result.encoding == "cp1258-nfc"
    assert result.text == SENTENCE


def test_declared_encoding_is_used_when_it_decodes() -> None:
    data = "Đặng Thu Thảo".encode("cp1258-nfc")
    result = decode_bytes(data, declared="windows-1258")
    assert result.encoding == "cp1258-nfc"
    assert result.text == "Đặng Thu Thảo"


def test_cp1252_western_text() -> None:
    text = "Café crème brûlée à la française, naïve résumé"
    result = decode_bytes(text.encode("cp1252"))
    assert result.encoding == "cp1252"
    assert result.text == text


# ---------------------------------------------------------------- TCVN3 (ABC)


@pytest.mark.parametrize(
    ("mojibake", "expected"),
    [
        ("B¶o Th¾ng", "Bảo Thắng"),  # converter example; 0xB6 = ả, 0xBE = ắ
        ("M\xadêng Kh\xad¬ng", "Mường Khương"),  # 0xAD (soft hyphen) = ư, 0xEA = ờ, 0xAC = ơ
        ("B¸t X¸t", "Bát Xát"),  # 0xB8 = á
        ("Hå ChÝ Minh", "Hồ Chí Minh"),  # 0xE5 = ồ, 0xDD = í
        ("Thµnh phè", "Thành phố"),  # 0xB5 = à, 0xE8 = ố
    ],
)
def test_tcvn3_known_mojibake(mojibake: str, expected: str) -> None:
    assert fix_legacy_vietnamese(mojibake, "tcvn3") == expected


def test_tcvn3_known_bytes() -> None:
    # libiconv TCVN table: A7 = Đ, AD = ư, EA = ờ, AE = đ, A8 = ă, A9 = â, AB = ô
    assert b"\xa7\xad\xeang".decode("tcvn3") == "Đường"
    assert b"Th\xb5nh ph\xe8 H\xe5 Ch\xdd Minh".decode("tcvn3") == "Thành phố Hồ Chí Minh"
    assert b"\xae\xa8ng k\xfd".decode("tcvn3") == "đăng ký"
    assert "Đường".encode("tcvn3") == b"\xa7\xad\xeang"
    assert encode_legacy_vietnamese("Thành phố", "tcvn3") == b"Th\xb5nh ph\xe8"


def test_tcvn3_file_is_detected() -> None:
    data = "Thành phố Hồ Chí Minh\nPhường Bến Nghé\nNguyễn Văn Đức\n".encode("tcvn3")
    result = decode_bytes(data)
    assert result.encoding == "tcvn3"
    assert result.text == "Thành phố Hồ Chí Minh\nPhường Bến Nghé\nNguyễn Văn Đức\n"


# ---------------------------------------------------------------- VNI


@pytest.mark.parametrize(
    ("mojibake", "expected"),
    [
        ("Xin chaøo caùc baïn", "Xin chào các bạn"),  # vietnamese-conversion README
        ("Hoà Chí Minh", "Hồ Chí Minh"),  # oà = o + circumflex + grave
        ("Ñöôøng", "Đường"),  # Ñ = Đ, ö = ư, ô = ơ, ø = grave
        ("HOAØ", "HOÀ"),  # upper-case base and mark
        ("Quaän", "Quận"),  # ä = circumflex + dot below
        ("tieáng Vieät", "tiếng Việt"),
        ("khuyeán maõi", "khuyến mãi"),
        ("Ñaø Naüng", "Đà Nẵng"),  # ü = breve + tilde
    ],
)
def test_vni_known_mojibake(mojibake: str, expected: str) -> None:
    assert fix_legacy_vietnamese(mojibake, "vni") == expected


def test_vni_encode_matches_published_example() -> None:
    assert "Xin chào các bạn".encode("vni").decode("cp1252") == "Xin chaøo caùc baïn"
    assert "Đường".encode("vni") == b"\xd1\xf6\xf4\xf8ng"


def test_vni_file_is_detected() -> None:
    data = SENTENCE.encode("vni")
    result = decode_bytes(data)
    assert result.encoding == "vni"
    assert result.text == SENTENCE


# ---------------------------------------------------------------- legacy detection


def test_detect_legacy() -> None:
    assert detect_legacy_vietnamese(SENTENCE.encode("tcvn3").decode("cp1252")) == "tcvn3"
    assert detect_legacy_vietnamese(SENTENCE.encode("vni").decode("cp1252")) == "vni"
    assert detect_legacy_vietnamese(SENTENCE) is None  # real Unicode (has ộ, ư...)
    assert detect_legacy_vietnamese("Café crème brûlée à la française") is None
    assert detect_legacy_vietnamese("plain ascii") is None


def test_fix_legacy_array_maps_unique_values_back() -> None:
    import pyarrow as pa

    words = ["Thành phố Hồ Chí Minh", "Phường Bến Nghé", None, "Thành phố Hồ Chí Minh", "Quận 1"]
    legacy = [w.encode("vni").decode("cp1252") if w else None for w in words]
    fixed, encoding = fix_legacy_array(pa.array(legacy))
    assert encoding == "vni"
    assert fixed.to_pylist() == words
    untouched, none = fix_legacy_array(pa.array(words))
    assert none is None
    assert untouched.to_pylist() == words


# ---------------------------------------------------------------- streaming


@pytest.mark.parametrize("codec", ["cp1258-nfc", "vni", "tcvn3", "utf-8", "utf-16-le"])
def test_incremental_decoder_any_split_point(codec: str) -> None:
    data = SENTENCE.encode(codec)
    for cut in range(1, min(len(data), 120)):
        if codec == "utf-16-le" and cut % 2:
            continue
        dec = IncrementalDecoder(codec)
        out = dec.decode(data[:cut]) + dec.decode(data[cut:]) + dec.decode(b"", final=True)
        assert out == SENTENCE, (codec, cut)


def test_incremental_decoder_byte_by_byte_cp1258() -> None:
    data = "Hồ Chí Minh, Việt Nam".encode("cp1258-nfc")
    dec = codecs.getincrementaldecoder("cp1258-nfc")()
    out = "".join(dec.decode(bytes([b])) for b in data) + dec.decode(b"", final=True)
    assert out == "Hồ Chí Minh, Việt Nam"


@pytest.mark.parametrize("codec", ["utf-8-sig", "cp1258-nfc", "vni", "utf-16"])
def test_iter_decode_small_chunks(codec: str) -> None:
    data = (SENTENCE + "\n") * 50
    raw = data.encode(codec)
    chunks = [raw[i : i + 7] for i in range(0, len(raw), 7)]
    assert "".join(iter_decode(chunks)) == data


def test_pyarrow_csv_reads_cp1258_through_registered_codec() -> None:
    csv = "ho_ten,dia_chi\nNguyễn Văn Đức,Phường Bến Nghé\nTrần Thị Hương,Quận 1\n"
    opts = pv.ReadOptions(encoding="cp1258-nfc")
    table = pv.read_csv(io.BytesIO(csv.encode("cp1258-nfc")), read_options=opts)
    assert table.column("ho_ten").to_pylist() == ["Nguyễn Văn Đức", "Trần Thị Hương"]
    assert all(is_nfc(v) for v in table.column("dia_chi").to_pylist())


def test_long_ascii_prefix_does_not_hide_cp1258() -> None:
    header = "ma,so_luong,ghi_chu\n" + "".join(f"{i},{i * 7},ok\n" for i in range(12000))  # > 64 KiB
    body = "99999,1,Phường Bến Nghé\n99998,2,Hồ Chí Minh\n"
    data = (header + body).encode("cp1258-nfc")
    assert len(header) > 64 * 1024
    result = decode_bytes(data)
    assert result.encoding == "cp1258-nfc"
    assert result.text.endswith(body)
    chunks = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    assert "".join(iter_decode(chunks)) == header + body
