"""CsvReader on real bytes: encodings, dialects, headers, bad rows with exact lines, batching."""

from __future__ import annotations

import codecs
import threading
import time
import unicodedata
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import citydata.kernels.encoding  # noqa: F401 - registers the tcvn3 / vni / cp1258-nfc codecs
import connectors.formats.csv.parsing as csv_parsing
import connectors.formats.csv.pieces as csv_pieces
import connectors.formats.csv.reader as csv_reader
from connectors.base import RawObject, file_object
from connectors.formats.base import FormatError, FormatOptions, ReadBatch, ReadInfo
from connectors.formats.csv import CsvReader


@pytest.fixture(autouse=True, params=["whole file", "in pieces"])
def parse_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test twice: one pass over the whole file, and pieces parsed on threads (as small as
    48 bytes, at most 16 per file, so the cuts land everywhere: mid-header, mid-quote...)."""
    if request.param == "in pieces":
        cut = csv_pieces._cut_pieces

        def small_pieces(raw: RawObject, encoding: Any, layout: Any, size: int) -> Any:
            return cut(raw, encoding, layout, max(48, (raw.size or len(raw.data or b"")) // 16))

        monkeypatch.setattr(csv_reader, "PIECE_BYTES", 48)
        monkeypatch.setattr(csv_reader, "PARSE_THREADS", 2)  # also on a one-core machine
        monkeypatch.setattr(csv_pieces, "PARSE_THREADS", 2)
        monkeypatch.setattr(csv_pieces, "_cut_pieces", small_pieces)
    return str(request.param)


VI_ROWS = [
    ("01", "Nguyễn Văn An", "Phường Bến Nghé", "1.234,5"),
    ("02", "Trần Thị Bích", "Phường Đa Kao", "12.000"),
    ("03", "Lê Hoàng Cường", "Xã Nhà Bè", "7,25"),
    ("04", "Phạm Thị Hồng Nhung", "Phường Tân Định", "0,5"),
]
VI_HEADER = ("Mã", "Họ và tên", "Phường xã", "Số tiền")


def vi_text(delimiter: str = ";", newline: str = "\n") -> str:
    lines = [delimiter.join(VI_HEADER)] + [delimiter.join(row) for row in VI_ROWS]
    return newline.join(lines) + newline


def read(
    data: bytes,
    name: str = "data.csv",
    block_size: int | None = None,
    **options: object,
) -> tuple[list[ReadBatch], ReadInfo]:
    info = ReadInfo()
    raw = RawObject(name=name, source_uri=f"file:///{name}", data=data)
    batches = list(CsvReader(block_size).read(raw, FormatOptions(**options), info))  # type: ignore[arg-type]
    return batches, info


def rows_of(batches: list[ReadBatch]) -> list[dict[str, str]]:
    return [row for b in batches for row in b.table.to_pylist()]


def lines_of(batches: list[ReadBatch]) -> list[int]:
    """The physical line of every row, as downstream reads it."""
    return [int(line) for b in batches for line in b.line_numbers()]


def rejected_of(batches: list[ReadBatch]) -> list[tuple[int, str, str | None]]:
    return [(r.line, r.reason, r.raw) for b in batches for r in b.rejected]


def expected_vi() -> list[dict[str, str]]:
    return [dict(zip(VI_HEADER, row, strict=True)) for row in VI_ROWS]


# --- encodings -------------------------------------------------------------------------------------


def test_utf8() -> None:
    batches, info = read(vi_text().encode("utf-8"))
    assert rows_of(batches) == expected_vi()
    assert info.encoding == "utf-8"
    assert info.delimiter == ";"
    assert info.header_labels == list(VI_HEADER)
    assert lines_of(batches) == [2, 3, 4, 5]
    assert all(t == pa.string() for t in batches[0].table.schema.types)


def test_utf8_with_bom() -> None:
    data = vi_text().encode("utf-8-sig")
    assert data.startswith(codecs.BOM_UTF8)
    batches, info = read(data)
    assert info.encoding == "utf-8-sig"
    assert info.header_labels[0] == "Mã"  # no BOM glued to the first label
    assert rows_of(batches) == expected_vi()


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16(codec: str) -> None:
    data = vi_text(newline="\r\n").encode(codec)
    batches, info = read(data)
    assert info.encoding == ("utf-16" if codec == "utf-16" else "utf-16-be")
    assert rows_of(batches) == expected_vi()
    assert lines_of(batches) == [2, 3, 4, 5]


def test_windows_1258_decomposed_becomes_nfc() -> None:
    data = vi_text().encode("cp1258-nfc")  # how Windows writes it: base letter + combining tone mark
    assert b"\xec" in data or b"\xcc" in data or b"\xd2" in data  # tone mark bytes are there
    assert unicodedata.normalize("NFC", data.decode("cp1258")) != data.decode("cp1258")
    batches, info = read(data)
    assert info.encoding == "windows-1258"
    rows = rows_of(batches)
    assert rows == expected_vi()
    assert all(unicodedata.is_normalized("NFC", v) for row in rows for v in row.values())
    assert info.header_labels == list(VI_HEADER)


def test_windows_1258_many_rows_small_blocks() -> None:
    body = [f"{i};Nguyễn Thị Ánh {i % 7};Phường Bến Thành {i % 3};{i},5" for i in range(30_000)]
    data = ("Mã;Tên;Phường;Tiền\n" + "\n".join(body) + "\n").encode("cp1258-nfc")
    batches, info = read(data, block_size=64 * 1024, batch_rows=1000)
    assert info.encoding == "windows-1258"
    rows = rows_of(batches)
    assert len(rows) == 30_000
    assert rows[12_345] == {
        "Mã": "12345",
        "Tên": "Nguyễn Thị Ánh 4",
        "Phường": "Phường Bến Thành 0",
        "Tiền": "12345,5",
    }
    assert all(unicodedata.is_normalized("NFC", r["Tên"]) for r in rows)
    assert lines_of(batches) == list(range(2, 30_002))


def test_windows_1252() -> None:
    text = "Nom;Ville;Montant\nCafé Crème;Besançon;12,50\nSüß Straße;München;3,20\nNaïve Zoë;Noël;1,00\n"
    batches, info = read(text.encode("cp1252"))
    assert info.encoding == "windows-1252"
    assert [r["Nom"] for r in rows_of(batches)] == ["Café Crème", "Süß Straße", "Naïve Zoë"]
    assert rows_of(batches)[1]["Ville"] == "München"


@pytest.mark.parametrize("legacy", ["tcvn3", "vni"])
def test_legacy_vietnamese_fonts(legacy: str) -> None:
    text = (
        "mã,tên,địa chỉ\n"
        "01,Nguyễn Văn An,phường Bến Nghé quận một\n"
        "02,Trần Thị Bích,đường Lê Lợi phường Bến Thành\n"
        "03,Lê Hoàng Cường,xã Nhà Bè huyện Nhà Bè\n"
    )
    batches, info = read(text.encode(legacy))
    assert info.encoding == legacy
    assert info.header_labels == ["mã", "tên", "địa chỉ"]
    assert [r["tên"] for r in rows_of(batches)] == ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường"]
    assert rows_of(batches)[1]["địa chỉ"] == "đường Lê Lợi phường Bến Thành"


def test_declared_encoding_overrides_detection() -> None:
    data = "ten\nÄpfel\n".encode("cp1252")
    batches, info = read(data, encoding="latin-1")
    assert info.encoding == "iso8859-1"
    assert rows_of(batches) == [{"ten": "Äpfel"}]


def test_ascii_start_then_windows_1258_later() -> None:
    """The first 64 KiB are plain ASCII codes: the encoding is judged on the first non-ASCII line."""
    ascii_rows = [f"{i:06d};CODE{i};{i}" for i in range(8000)]
    vi_rows = [f"9{i:05d};Phường Bến Nghé;Nguyễn Văn An" for i in range(50)]
    data = ("ma;ten;ghi chu\n" + "\n".join(ascii_rows + vi_rows) + "\n").encode("cp1258-nfc")
    assert data[:70_000].isascii()
    batches, info = read(data)
    assert info.encoding == "windows-1258"
    rows = rows_of(batches)
    assert len(rows) == 8050 and not rejected_of(batches)
    assert rows[-1] == {"ma": "900049", "ten": "Phường Bến Nghé", "ghi chu": "Nguyễn Văn An"}


def test_invalid_utf8_byte_far_into_the_file_rejects_only_that_row() -> None:
    good = [f"{i},Nguyễn Văn {i},ok" for i in range(5000)]
    data = ("id,name,note\n" + "\n".join(good) + "\n").encode()
    data += b"5000,bad \xff byte,x\n5001,tail,ok\n"
    assert len(data) > 70_000
    batches, info = read(data)
    assert info.encoding == "utf-8"
    rows = rows_of(batches)
    assert len(rows) == 5001
    assert rows[-1] == {"id": "5001", "name": "tail", "note": "ok"}
    assert [r["id"] for r in rows[:5000]] == [str(i) for i in range(5000)]
    [(line, reason, raw)] = rejected_of(batches)
    assert line == 5002
    assert "undecodable" in reason and "'name'" in reason
    assert raw == "5000,bad \ufffd byte,x"
    assert lines_of(batches) == [*range(2, 5002), 5003]


# --- dialect ------------------------------------------------------------------------------------------


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_invalid_utf8_inside_a_ragged_row(capsys: pytest.CaptureFixture[str]) -> None:
    good = [f"{i},Nguyễn Văn {i},ok" for i in range(5000)]
    data = ("id,name,note\n" + "\n".join(good) + "\n").encode() + b"5000,bad \xff\n5001,tail,ok\n"
    batches, _ = read(data)
    assert len(rows_of(batches)) == 5001
    assert rejected_of(batches) == [
        (5002, "expected 3 fields, found 2; undecodable bytes for utf-8", "5000,bad \ufffd")
    ]
    assert "Exception ignored" not in capsys.readouterr().err


def test_semicolon_and_vietnamese_numbers_stay_text() -> None:
    text = "Tên;Số lượng;Đơn giá\nGạo;1.234,5;12.000\nMuối;2,75;500\n"
    batches, info = read(text.encode())
    assert info.delimiter == ";"
    assert rows_of(batches) == [
        {"Tên": "Gạo", "Số lượng": "1.234,5", "Đơn giá": "12.000"},
        {"Tên": "Muối", "Số lượng": "2,75", "Đơn giá": "500"},
    ]


def test_tab_from_tsv_extension_and_sniffed() -> None:
    text = "a\tb,c\tc\n1\t2,5\t3\n4\t5,5\t6\n"
    batches, info = read(text.encode(), name="x.tsv")
    assert info.delimiter == "\t"
    assert rows_of(batches) == [{"a": "1", "b,c": "2,5", "c": "3"}, {"a": "4", "b,c": "5,5", "c": "6"}]
    batches, info = read(text.encode(), name="x.txt")
    assert info.delimiter == "\t"
    batches, info = read(b"a|b\n1|2\n", name="x.txt")
    assert info.delimiter == "|" and rows_of(batches) == [{"a": "1", "b": "2"}]


def test_declared_delimiter_and_single_quotes() -> None:
    text = "a;b\n'x;y';2\n'z';3\n"
    batches, _ = read(text.encode(), delimiter=";", quotechar="'")
    assert rows_of(batches) == [{"a": "x;y", "b": "2"}, {"a": "z", "b": "3"}]
    batches, _ = read(text.encode(), delimiter=";")  # quote sniffed: ' (no " in the sample)
    assert rows_of(batches)[0] == {"a": "x;y", "b": "2"}


def test_quoted_delimiters_and_escaped_quotes() -> None:
    text = 'id,text\n1,"Công ty ""ABC"", chi nhánh 1"\n2,plain\n'
    batches, _ = read(text.encode())
    assert rows_of(batches) == [
        {"id": "1", "text": 'Công ty "ABC", chi nhánh 1'},
        {"id": "2", "text": "plain"},
    ]


# --- header -------------------------------------------------------------------------------------------


def test_two_header_rows_with_blank_merged_cell() -> None:
    text = (
        "Mã hộ,Thông tin chủ hộ,,Dân số,\n"
        ",Họ tên,Năm sinh,Nam,Nữ\n"
        "H01,Nguyễn Văn An,1970,2,3\n"
        "H02,Trần Thị Bích,1985,1,1\n"
    )
    batches, info = read(text.encode(), header_rows=2)
    assert info.header_labels == [
        "Mã hộ",
        "Thông tin chủ hộ - Họ tên",
        "Thông tin chủ hộ - Năm sinh",
        "Dân số - Nam",
        "Dân số - Nữ",
    ]
    assert rows_of(batches)[0]["Thông tin chủ hộ - Năm sinh"] == "1970"
    assert lines_of(batches) == [3, 4]


def test_skip_title_rows_then_blank_lines() -> None:
    text = "BÁO CÁO DÂN SỐ NĂM 2024\nĐơn vị: người\n\nPhường,Dân số\nBến Nghé,12000\nĐa Kao,9000\n"
    batches, info = read(text.encode(), skip_rows=2)
    assert info.header_labels == ["Phường", "Dân số"]
    assert rows_of(batches) == [
        {"Phường": "Bến Nghé", "Dân số": "12000"},
        {"Phường": "Đa Kao", "Dân số": "9000"},
    ]
    assert lines_of(batches) == [5, 6]


def test_duplicate_and_blank_headers() -> None:
    text = "Tên,Tên, Ghi  chú ,,Tên_2\na,b,c,d,e\n"
    batches, info = read(text.encode())
    assert info.header_labels == ["Tên", "Tên", "Ghi chú", "", "Tên_2"]
    assert batches[0].table.column_names == ["Tên", "Tên_3", "Ghi chú", "column_4", "Tên_2"]
    assert rows_of(batches) == [{"Tên": "a", "Tên_3": "b", "Ghi chú": "c", "column_4": "d", "Tên_2": "e"}]


def test_no_header_row() -> None:
    batches, info = read(b"1,a\n2,b\n", header_rows=0)
    assert info.header_labels == ["column_1", "column_2"]
    assert rows_of(batches) == [{"column_1": "1", "column_2": "a"}, {"column_1": "2", "column_2": "b"}]
    assert lines_of(batches) == [1, 2]


def test_header_only_gives_one_empty_batch() -> None:
    for data in (b"a,b,c\n", b"a,b,c"):
        batches, info = read(data)
        assert len(batches) == 1
        assert batches[0].table.num_rows == 0
        assert batches[0].table.column_names == ["a", "b", "c"]
        assert batches[0].rejected == []
        assert info.header_labels == ["a", "b", "c"]


# --- unreadable files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty file"),
        (b"\n\r\n  \n", "empty file"),
        (codecs.BOM_UTF8, "empty file"),
        (bytes(range(256)) * 40, "binary content"),
        (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, "ZIP archive"),
        (b"\x8a\x01\x02\x03\x04\x05\x06\x07\x10\x11\x12\x13" * 400, "not a CSV text file"),
        (b"title\n\n\n", "no header"),
    ],
)
def test_unreadable_files_raise_format_error_naming_the_file(data: bytes, words: str) -> None:
    with pytest.raises(FormatError) as caught:
        read(data, name="so-lieu.csv", skip_rows=1 if data.startswith(b"title") else 0)
    assert "so-lieu.csv" in str(caught.value)
    assert words in str(caught.value)


def test_too_few_header_lines() -> None:
    with pytest.raises(FormatError, match=r"x\.csv: no header: expected 3 header lines"):
        read(b"a,b\n", name="x.csv", header_rows=3)


# --- bad rows and line numbers --------------------------------------------------------------------------


def test_ragged_rows_rejected_with_exact_lines() -> None:
    text = (
        "id,name,amount\n"  # 1
        "1,An,10\n"  # 2
        "2,Bình\n"  # 3: too few
        "\n"  # 4: blank, skipped
        "3,Chi,30,extra\n"  # 5: too many
        '4,"Dũng\nline two",40\n'  # 6-7: one record on two lines
        "5,Em,50\n"  # 8
        "6,,\n"  # 9: empty fields are not missing fields
        "7\n"  # 10: too few
        "8,Hà,80\n"  # 11
    )
    batches, _ = read(text.encode())
    assert rejected_of(batches) == [
        (3, "expected 3 fields, found 2", "2,Bình"),
        (5, "expected 3 fields, found 4", "3,Chi,30,extra"),
        (10, "expected 3 fields, found 1", "7"),
    ]
    rows = rows_of(batches)
    assert [r["id"] for r in rows] == ["1", "4", "5", "6", "8"]
    assert rows[1]["name"] == "Dũng\nline two"
    assert rows[3] == {"id": "6", "name": "", "amount": ""}  # kept, not padded from elsewhere
    assert lines_of(batches) == [2, 6, 8, 9, 11]


def test_crlf_and_cr_only_line_numbers() -> None:
    for newline in ("\r\n", "\r"):
        text = newline.join(["a,b", "1,2", "3", '"x' + newline + 'y",4', "5,6", ""])
        batches, _ = read(text.encode())
        assert rejected_of(batches) == [(3, "expected 2 fields, found 1", "3")]
        assert [r["a"] for r in rows_of(batches)] == ["1", "x" + newline + "y", "5"]
        assert lines_of(batches) == [2, 4, 6]


def test_truncated_file_last_row_rejected() -> None:
    batches, _ = read(b'a,b,c\n1,2,3\n4,5,"six and mo')
    assert rows_of(batches) == [{"a": "1", "b": "2", "c": "3"}]
    [(line, reason, raw)] = rejected_of(batches)
    assert line == 3 and "truncated" in reason and raw is not None and raw.startswith("4,5,")

    batches, _ = read(b'a,b,c\n1,2,3\n4,"five\nand more')
    assert rows_of(batches) == [{"a": "1", "b": "2", "c": "3"}]
    [(line, reason, raw)] = rejected_of(batches)
    assert line == 3 and "truncated" in reason and "expected 3 fields, found 2" in reason
    assert raw == '4,"five\nand more'


def test_file_without_final_newline_is_not_truncated() -> None:
    batches, _ = read(b'a,b\n1,"2"\n3,4')
    assert rows_of(batches) == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]
    assert rejected_of(batches) == []


def test_rejected_raw_is_truncated() -> None:
    long = "x" * 50_000
    batches, _ = read(f"a,b\n1,2\n{long}\n3,4\n".encode())
    [(line, _, raw)] = rejected_of(batches)
    assert line == 3 and raw is not None and 100 < len(raw) < 5000


# --- huge cells -----------------------------------------------------------------------------------------


def test_20_mb_cell(tmp_path: Path) -> None:
    big = "Nguyễn " * (20 * 2**20 // 9 + 1)
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("id,text,n\n")
        for i in range(3000):
            fh.write(f"{i},row {i},{i}\n")
        fh.write(f'big,"{big}",x\n')
        fh.write("after,1\n")  # too few fields, line 3003
        for i in range(3000):
            fh.write(f"{i},after {i},{i}\n")
    info = ReadInfo()
    raw = file_object("big.csv", path, source_uri=path.as_uri())
    batches = list(CsvReader().read(raw, FormatOptions(batch_rows=1000), info))
    rows = rows_of(batches)
    assert len(rows) == 6001
    assert rows[3000]["id"] == "big" and rows[3000]["text"] == big and len(big.encode()) > 20 * 2**20
    assert rejected_of(batches) == [(3003, "expected 3 fields, found 2", "after,1")]
    assert lines_of(batches) == list(range(2, 3003)) + list(range(3004, 6004))


def test_record_over_the_limit_is_a_format_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_parsing, "MAX_BLOCK", 2**20)
    monkeypatch.setattr(csv_pieces, "MAX_BLOCK", 2**20)
    data = b'a,b\n1,2\n2,3\n3,"' + b"y" * (5 * 2**20) + b'"\n4,5\n'
    with pytest.raises(FormatError, match=r"huge\.csv: a record after line \d+ is larger than"):
        read(data, name="huge.csv", block_size=2**18)


# --- batches --------------------------------------------------------------------------------------------


def test_batches_hold_every_row_once_in_order_with_exact_lines() -> None:
    out = ["line,text,value"]
    line = 2
    expected: list[int] = []  # the physical line of each good row, also written into the row
    rejected: list[int] = []
    for k in range(60_000):
        if k % 4999 == 0:
            out.append(f"{line},bad")
            rejected.append(line)
            line += 1
        elif k % 7001 == 0:
            out.append("")
            line += 1
        elif k % 9973 == 0:
            out.append(f'{line},"two\nlines",{k}')
            expected.append(line)
            line += 2
        else:
            out.append(f"{line},Đường số {k},{k}")
            expected.append(line)
            line += 1
    data = ("\n".join(out) + "\n").encode()
    batches, _ = read(data, block_size=16 * 1024, batch_rows=1000)
    values = [int(r["line"]) for r in rows_of(batches)]
    assert values == expected  # every row, once, in order
    assert lines_of(batches) == expected  # first_line + i is the row's physical line
    assert [r.line for b in batches for r in b.rejected] == rejected
    assert all(r.reason == "expected 3 fields, found 2" for b in batches for r in b.rejected)
    assert all(b.table.num_rows <= 1000 for b in batches)
    assert max(b.table.num_rows for b in batches) == 1000


def test_a_late_bad_row_switches_to_serial_parsing_without_losing_or_repeating_rows(
    monkeypatch: pytest.MonkeyPatch, parse_mode: str
) -> None:
    if parse_mode == "in pieces":
        pytest.skip("pieces are parsed serially from the start")
    # Threaded parsing cannot number a bad row: the pass stops there and a serial pass resumes.
    rows = [f"{i},Đường số {i},{i}" for i in range(40_000)]
    rows[30_000] = "30000,bad"  # line 30002
    rows[35_000] = "35000,too,many,fields"  # line 35002
    data = ("line,text,value\n" + "\n".join(rows) + "\n").encode()
    modes: list[bool] = []
    original = csv_parsing._FileReader._pass

    def spy(self: csv_parsing._FileReader):  # type: ignore[no-untyped-def]
        modes.append(self.threaded)
        return original(self)

    monkeypatch.setattr(csv_parsing._FileReader, "_pass", spy)
    batches, _ = read(data, block_size=16 * 1024, batch_rows=1000)
    assert modes == [True, False]
    kept = [i for i in range(40_000) if i not in (30_000, 35_000)]
    assert [int(r["line"]) for r in rows_of(batches)] == kept
    assert rejected_of(batches) == [
        (30_002, "expected 3 fields, found 2", "30000,bad"),
        (35_002, "expected 3 fields, found 4", "35000,too,many,fields"),
    ]
    assert lines_of(batches) == [i + 2 for i in kept]


def test_many_breaks_still_give_full_batches_with_exact_lines() -> None:
    body = []
    for i in range(20_000):
        body.append(f"{i},ok")
        body.append("bad")  # every other line is rejected
    batches, _ = read(("a,b\n" + "\n".join(body) + "\n").encode(), batch_rows=1000)
    assert len(rows_of(batches)) == 20_000
    assert len(rejected_of(batches)) == 20_000
    sizes = [b.table.num_rows for b in batches]
    assert len(sizes) <= 21 and min(sizes[:-1]) >= 990  # breaks do not end batches
    assert lines_of(batches) == list(range(2, 40_002, 2))  # every line exact
    assert [r[0] for r in rejected_of(batches)] == list(range(3, 40_003, 2))


def test_prefetch_and_serial_give_the_same_batches() -> None:
    text = "a,b\n" + "".join(f"{i},x{i}\n" if i % 777 else f"{i}\n" for i in range(20_000))
    raw = RawObject(name="p.csv", source_uri="file:///p.csv", data=text.encode())
    options = FormatOptions(batch_rows=1000)
    results = []
    for prefetch in (True, False):
        batches = list(CsvReader(block_size=32 * 1024, prefetch=prefetch).read(raw, options, ReadInfo()))
        results.append([(b.first_line, b.table.to_pylist(), b.rejected) for b in batches])
    assert results[0] == results[1]
    assert sum(len(rows) for _, rows, _ in results[0]) == 20_000 - 26


def test_leading_rejected_rows_do_not_stall() -> None:
    """pyarrow skips blocks whose rows were all rejected before its first batch: still read through."""
    bad = "".join(f"{i},bad\n" for i in range(30_000))
    good = "".join(f"{i},good,{i}\n" for i in range(500))
    batches, _ = read(("a,b,c\n" + bad + good).encode(), block_size=16 * 1024, batch_rows=1000)
    assert len(rows_of(batches)) == 500
    assert [r[0] for r in rejected_of(batches)] == list(range(2, 30_002))
    assert lines_of(batches) == list(range(30_002, 30_502))


def test_stopping_early_releases_the_reader_thread(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("id,text\n")
        for i in range(300_000):
            fh.write(f"{i},Nguyễn Văn {i}\n")
    before = threading.active_count()
    raw = file_object("many.csv", path, source_uri=path.as_uri())
    batches = CsvReader(block_size=2**18).read(raw, FormatOptions(batch_rows=1000), ReadInfo())
    first = next(batches)
    assert first.table.num_rows == 1000
    batches.close()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before


@pytest.mark.parametrize("seed", range(6))
def test_pieces_give_exactly_what_one_pass_gives(
    seed: int, parse_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random files full of what makes cutting hard: quoted line breaks, doubled quotes, CRLF,
    blank lines, ragged rows, and (odd seeds) a stray quote late in the file, after which the
    reading goes serial. Cut everywhere, the result must equal one pass over the whole file."""
    if parse_mode == "in pieces":
        pytest.skip("compares the two modes itself")
    import random

    rng = random.Random(seed)
    newline = rng.choice(["\n", "\r\n", "\r"])
    cells = ["Phường Bến Nghé", "1.234,5", '"có; dấu chấm phẩy"', f'"hai{newline}dòng"', '"nói ""xin chào"""',
             "", '""', "x", '"a""b"', "ba,phẩy", f'"ba{newline}dòng{newline}nữa"']  # fmt: skip
    lines = ["ma;ten;gia_tri"]
    for i in range(400):
        kind = rng.random()
        if kind < 0.05:
            lines.append("")
        elif kind < 0.1:
            lines.append(";".join(rng.choices(cells, k=rng.choice([2, 4]))))  # ragged
        else:
            lines.append(f"{i};" + ";".join(rng.choices(cells, k=2)))
    if seed % 2:
        lines.insert(rng.randint(250, 350), '999;12" màn hình;x')  # a quote the parser takes literally
    data = (newline.join(lines) + rng.choice([newline, ""])).encode()
    parsed: list[int] = []
    parse = csv_pieces._PieceReader._parse

    def counting(self: csv_pieces._PieceReader, piece: csv_pieces._Piece) -> Any:
        read, spanned = parse(self, piece)
        parsed.append(sum(b.table.num_rows for b in read))
        return read, spanned

    monkeypatch.setattr(csv_pieces._PieceReader, "_parse", counting)
    monkeypatch.setattr(csv_reader, "PARSE_THREADS", 2)
    monkeypatch.setattr(csv_pieces, "PARSE_THREADS", 2)

    def run(piece_bytes: int) -> tuple[list[dict[str, str]], list[int], list[tuple[int, str, str | None]]]:
        raw = RawObject(name="t.csv", source_uri="file:///t.csv", data=data)
        got = list(CsvReader(piece_bytes=piece_bytes).read(raw, FormatOptions(batch_rows=1000), ReadInfo()))
        return rows_of(got), lines_of(got), rejected_of(got)

    whole = run(0)
    assert len(whole[0]) > 300 and not parsed
    for size in (1, 7, 64, 500):
        parsed.clear()
        assert run(size) == whole, size
        assert sum(parsed) > len(whole[0]) * 0.6  # most rows really came through the pieces


# --- report-shaped files read without hints ------------------------------------------------------------

REPORT_LABELS = [
    "Mã số",
    "Tên đơn vị",
    "Tọa độ trung tâm - Vĩ độ",
    "Tọa độ trung tâm - Kinh độ",
    "Diện tích (km²)",
]
REPORT_ROWS = [
    ["26734", "Phường Sài Gòn", "10,7769", "106,7009", "1,23"],
    ["26737", "Phường Tân Định", "10,7892", "106,6897", "0,62"],
    ["27004", "Xã Bình Chánh", "10,6879", "106,5684", "1,65"],
]
REPORT_HEAD = (
    "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH;;;;\n"  # 1
    "DANH SÁCH PHƯỜNG, XÃ VÀ TỌA ĐỘ TRUNG TÂM;;;;\n"  # 2
    "Mã số;Tên đơn vị;Tọa độ trung tâm;;Diện tích (km²)\n"  # 3
    ";;Vĩ độ;Kinh độ;\n"  # 4
)
REPORT_FOOTER = (
    "Tổng cộng;;;;3,5\n"  # 8
    "Ghi chú: số liệu theo Nghị quyết 1685/NQ-UBTVQH15\n"  # 9: one field, ragged
    ";;;TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025;\n"  # 10
    "Người lập biểu;;;KT. GIÁM ĐỐC;\n"  # 11
    "(Ký, ghi rõ họ tên);;;(Ký tên, đóng dấu)\n"  # 12: four fields, ragged
    "\n"  # 13
    "Nguyễn Văn An;;;Trần Thị Bình;\n"  # 14
)


def report_csv(rows: list[list[str]] = REPORT_ROWS) -> bytes:
    """The report sheet saved as CSV by Excel: `;`, UTF-8 with BOM, merged cells left empty."""
    return (REPORT_HEAD + "".join(";".join(r) + "\n" for r in rows) + REPORT_FOOTER).encode("utf-8-sig")


def skipped_of(info: ReadInfo) -> list[tuple[int, str, str]]:
    return [(s.line, s.kind, s.text) for s in info.skipped]


def footer_lines(first: int) -> list[tuple[int, str, str]]:
    kinds = ["total", "footer", "footer", "footer", "footer", None, "footer"]
    texts = REPORT_FOOTER.split("\n")
    return [(first + i, k, texts[i]) for i, k in enumerate(kinds) if k]


def test_report_csv_without_hints_finds_titles_header_and_footer() -> None:
    batches, info = read(report_csv())
    assert info.encoding == "utf-8-sig" and info.delimiter == ";"
    assert info.header_labels == REPORT_LABELS
    assert rows_of(batches) == [dict(zip(REPORT_LABELS, row, strict=True)) for row in REPORT_ROWS]
    assert lines_of(batches) == [5, 6, 7]
    assert rejected_of(batches) == []
    assert skipped_of(info) == [
        (1, "title", "ỦY BAN NHÂN DÂN THÀNH PHỐ HỒ CHÍ MINH;;;;"),
        (2, "title", "DANH SÁCH PHƯỜNG, XÃ VÀ TỌA ĐỘ TRUNG TÂM;;;;"),
        (8, "total", "Tổng cộng;;;;3,5"),
        (9, "footer", "Ghi chú: số liệu theo Nghị quyết 1685/NQ-UBTVQH15"),
        (10, "footer", ";;;TP. Hồ Chí Minh, ngày 05 tháng 7 năm 2025;"),
        (11, "footer", "Người lập biểu;;;KT. GIÁM ĐỐC;"),
        (12, "footer", "(Ký, ghi rõ họ tên);;;(Ký tên, đóng dấu)"),
        (14, "footer", "Nguyễn Văn An;;;Trần Thị Bình;"),
    ]
    assert info.layout == {
        "": {
            "skip_rows": 2,
            "header_rows": 2,
            "header_lines": [3, 4],
            "column_numbers_line": None,
            "footer_rows": 6,
            "detected": ["skip_rows", "header_rows", "footer_rows"],
        }
    }


def test_report_csv_with_column_numbers_and_a_quoted_multiline_title() -> None:
    data = ('"BÁO CÁO\nDÂN SỐ";;;;\n' + REPORT_HEAD.split("\n", 2)[2] + "(1);(2);(3);(4);(5)\n").encode()
    data += "".join(";".join(r) + "\n" for r in REPORT_ROWS).encode()
    batches, info = read(data)
    assert info.header_labels == REPORT_LABELS
    assert lines_of(batches) == [6, 7, 8]
    assert skipped_of(info) == [
        (1, "title", '"BÁO CÁO\nDÂN SỐ";;;;'),
        (5, "column_numbers", "(1);(2);(3);(4);(5)"),
    ]
    assert info.layout[""] == {
        "skip_rows": 1, "header_rows": 2, "header_lines": [3, 4], "column_numbers_line": 5, "footer_rows": 0,
        "detected": ["skip_rows", "header_rows", "footer_rows"],
    }  # fmt: skip


def test_report_csv_footer_after_many_batches() -> None:
    """The footer is cut from the rows held back at the end, however the file was batched."""
    body = [[f"{i:05d}", f"Phường {i}", "10,1", "106,2", "1,5"] for i in range(5000)]
    body[2500] = ["bad", "row"]  # a ragged data row far from the end: still rejected
    batches, info = read(report_csv(body), block_size=16 * 1024, batch_rows=1000)
    assert lines_of(batches) == [i + 5 for i in range(5000) if i != 2500]
    assert rejected_of(batches) == [(2505, "expected 5 fields, found 2", "bad;row")]
    assert all(b.table.num_rows <= 1000 for b in batches)
    assert max(b.table.num_rows for b in batches) == 1000
    assert skipped_of(info)[2:] == footer_lines(5005)
    assert info.layout[""]["footer_rows"] == 6


@pytest.mark.parametrize("count", [970, 996, 997, 998, 999, 1000, 1001, 1027, 1028, 1030])
def test_footer_straddling_a_batch_boundary(count: int) -> None:
    """The footer's rows with the right field count (totals, date, signatures) are rows 1..4 after
    the data: with 996..999 data rows a batch of 1000 would end among them; with 1027/1028 the
    ragged "Ghi chú" row is met before the first batch is handed out (the last 30 rows held)."""
    body = [[f"{i:05d}", f"Phường {i}", "10,1", "106,2", "1,5"] for i in range(count)]
    batches, info = read(report_csv(body), batch_rows=1000)
    assert lines_of(batches) == list(range(5, 5 + count))
    assert rejected_of(batches) == []
    assert [b.table.num_rows for b in batches] == [min(count, 1000)] + (
        [count - 1000] if count > 1000 else []
    )
    assert skipped_of(info)[2:] == footer_lines(5 + count)


def test_given_footer_rows_and_footer_rows_zero() -> None:
    batches, info = read(report_csv(), footer_rows=0)
    assert lines_of(batches) == [5, 6, 7, 8, 10, 11, 14]  # as before detection: footer lines are data...
    assert rejected_of(batches) == [  # ... or rejected
        (9, "expected 5 fields, found 1", "Ghi chú: số liệu theo Nghị quyết 1685/NQ-UBTVQH15"),
        (12, "expected 5 fields, found 4", "(Ký, ghi rõ họ tên);;;(Ký tên, đóng dấu)"),
    ]
    assert [s[1] for s in skipped_of(info)] == ["title", "title"]
    assert info.layout[""]["detected"] == ["skip_rows", "header_rows"]
    batches, info = read(report_csv(), footer_rows=3)
    assert lines_of(batches) == [5, 6, 7, 8, 10]
    assert rejected_of(batches) == [
        (9, "expected 5 fields, found 1", "Ghi chú: số liệu theo Nghị quyết 1685/NQ-UBTVQH15")
    ]
    assert [s[0] for s in skipped_of(info)] == [1, 2, 11, 12, 14]


def test_given_skip_and_header_rows_are_used_as_given() -> None:
    batches, info = read(report_csv(), skip_rows=2, header_rows=2)
    assert info.header_labels == REPORT_LABELS
    assert lines_of(batches) == [5, 6, 7]
    assert info.layout[""]["detected"] == ["footer_rows"]
    batches, info = read(report_csv(), skip_rows=1)  # the second title becomes the header, as before
    assert info.header_labels == ["DANH SÁCH PHƯỜNG, XÃ VÀ TỌA ĐỘ TRUNG TÂM", "", "", "", ""]
    assert info.layout[""]["header_rows"] == 1 and info.layout[""]["skip_rows"] == 1


def test_notes_row_in_the_middle_of_a_csv_stays_data() -> None:
    text = "Mã;Tên;Số hộ\n01;An;3\nGhi chú;;\n02;Bình;4\nGhi chú: một dòng\n"
    batches, info = read(text.encode())
    assert [r["Mã"] for r in rows_of(batches)] == ["01", "Ghi chú", "02"]
    assert lines_of(batches) == [2, 3, 4]
    assert rejected_of(batches) == []
    assert skipped_of(info) == [(5, "footer", "Ghi chú: một dòng")]


def test_plain_csv_layout_is_unchanged() -> None:
    batches, info = read(vi_text().encode())
    assert rows_of(batches) == expected_vi() and info.skipped == []
    assert info.layout == {
        "": {"skip_rows": 0, "header_rows": 1, "header_lines": [1], "column_numbers_line": None,
             "footer_rows": 0, "detected": ["skip_rows", "header_rows", "footer_rows"]}
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        # unpadded report lines are one field whatever the delimiter; "1,5" splits on ',' too
        (
            "ỦY BAN NHÂN DÂN\nDANH SÁCH CÔNG TRÌNH, DỰ ÁN NĂM 2025\n"
            "Độ cao (m);Địa chỉ\n1,5;Bến Thành\nNguồn: Sở.\n",
            ";",
        ),
        ("TIÊU ĐỀ, NĂM 2025\nKinh phí;Vĩ độ\n" + "1,000;10.5\n" * 5, ";"),  # English thousands
        ("Mã,Tên,Địa chỉ\n" + "1,A,12; Lê Lợi\n" * 6, ","),  # ';' inside text: ',' splits wider
        ("Mã;Tên\n1;A\n2;B\n", ";"),
    ],
)
def test_delimiter_sniffing_on_report_shaped_files(text: str, delimiter: str) -> None:
    from connectors.formats.csv.head import sniff_delimiter

    assert sniff_delimiter(text.splitlines(keepends=True), '"') == delimiter
