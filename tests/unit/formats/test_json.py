"""JSON document and JSON Lines readers: flattening, union of keys, records_path, exact numbers,
line numbers of bad lines, batching, encodings and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.base import RawObject, file_object
from connectors.formats.base import FormatError, FormatOptions, FormatReader, ReadBatch, ReadInfo
from connectors.formats.json import JsonLinesReader, JsonReader


def read(
    reader: FormatReader, data: bytes, name: str = "du-lieu.json", **options: Any
) -> tuple[list[ReadBatch], ReadInfo]:
    info = ReadInfo()
    raw = RawObject(name, "test://", data=data)
    return list(reader.read(raw, FormatOptions(**options), info)), info


def rows(batches: list[ReadBatch]) -> list[dict[str, str | None]]:
    return [row for b in batches for row in b.table.to_pylist()]


RECORDS = """[
  {"ma": "079", "ten": "Quận 1", "dan_so": 142625, "dien_tich": 7.73,
   "dia_chi": {"phuong": "Bến Nghé", "toa_do": {"lat": 10.7769, "lon": 106.7009}},
   "tags": ["trung tâm", 1], "active": true},
  {"ma": "080", "ten": "Quận 3", "dan_so": 1.50, "ghi_chu": null, "id_lon": 12345678901234567890,
   "dia_chi": {}, "active": false}
]"""


def test_list_of_records_is_flattened_with_union_of_keys_and_exact_numbers() -> None:
    batches, info = read(JsonReader(), RECORDS.encode())
    columns = [
        "ma", "ten", "dan_so", "dien_tich", "dia_chi.phuong", "dia_chi.toa_do.lat", "dia_chi.toa_do.lon",
        "tags", "active", "ghi_chu", "id_lon", "dia_chi",
    ]  # fmt: skip
    assert info.header_labels == columns
    assert len(batches) == 1
    assert batches[0].table.column_names == columns
    assert batches[0].first_line == 1
    values = [
        ["079", "Quận 1", "142625", "7.73", "Bến Nghé", "10.7769", "106.7009", '["trung tâm",1]', "true",
         None, None, None],
        ["080", "Quận 3", "1.50", None, None, None, None, None, "false", None, "12345678901234567890", "{}"],
    ]  # fmt: skip
    assert rows(batches) == [dict(zip(columns, row, strict=True)) for row in values]
    assert {str(t) for t in batches[0].table.schema.types} == {"string"}


@pytest.mark.parametrize(
    ("document", "path", "expected"),
    [
        ({"data": {"items": [{"a": 1}, {"a": 2}]}, "total": 2}, "data.items", [{"a": "1"}, {"a": "2"}]),
        ({"result": [{"rows": [{"b": "x"}]}]}, "result.0.rows", [{"b": "x"}]),
        ({"result": {"row": {"b": "một"}}}, "result.row", [{"b": "một"}]),
        ({"status": "ok", "n": 3}, None, [{"status": "ok", "n": "3"}]),
        (["Quận 1", {"x": 1}], None, [{"value": "Quận 1", "x": None}, {"value": None, "x": "1"}]),
    ],
)
def test_records_path_and_single_object(
    document: Any, path: str | None, expected: list[dict[str, Any]]
) -> None:
    batches, _ = read(JsonReader(), json.dumps(document, ensure_ascii=False).encode(), records_path=path)
    assert rows(batches) == expected


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        (
            {"data": {"rows": []}},
            "data.items",
            "records_path 'data.items': no key 'items' at data (keys: rows)",
        ),
        ({"data": [1]}, "data.5", "records_path 'data.5': cannot take '5' from a list at data"),
        ({"data": "x"}, "data", "records_path 'data' is a string, expected a list of records or an object"),
        (42, None, "the top level is a number, expected a list of records or an object"),
    ],
)
def test_bad_records_path_or_top_level_is_a_format_error(
    document: Any, path: str | None, message: str
) -> None:
    with pytest.raises(FormatError) as exc:
        read(JsonReader(), json.dumps(document).encode(), records_path=path)
    assert str(exc.value) == f"du-lieu.json: {message}"


def test_invalid_document_reports_line_and_column() -> None:
    text = '[\n  {"a": 1},\n  {"a": 2,, "b": 3}\n]'
    with pytest.raises(FormatError) as exc:
        read(JsonReader(), text.encode())
    message = "invalid JSON at line 3, column 11: Expecting property name enclosed in double quotes"
    assert str(exc.value) == f"du-lieu.json: {message}"


@pytest.mark.parametrize("data", [b"", b"  \n"])
def test_empty_document_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError, match=r"^du-lieu\.json: empty file$"):
        read(JsonReader(), data)


def test_empty_list_gives_one_empty_batch() -> None:
    batches, info = read(JsonReader(), b"[]")
    assert [(b.table.num_rows, b.table.num_columns, b.rejected) for b in batches] == [(0, 0, [])]
    assert info.header_labels == []


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ('[{"tên": "Thủ Đức"}]'.encode("utf-8-sig"), None),
        ('[{"tên": "Thủ Đức"}]'.encode("utf-16"), None),
        ('[{"tên": "Thu\u0309 Đư\u0301c"}]'.encode("windows-1258"), "windows-1258"),  # decomposed tones
    ],
)
def test_encodings(data: bytes, encoding: str | None) -> None:
    batches, info = read(JsonReader(), data, encoding=encoding)
    assert info.encoding == (encoding or ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-16"))
    expected = "Thu\u0309 Đư\u0301c" if encoding else "Thủ Đức"  # the reader does not normalise
    assert rows(batches) == [{"tên": expected}]


def test_undecodable_document_is_a_format_error() -> None:
    with pytest.raises(
        FormatError, match=r"^du-lieu\.json: not valid utf-8 text at byte 8; set format\.encoding$"
    ):
        read(JsonReader(), b'[{"a": "\xff"}]')


def test_document_size_limit() -> None:
    with pytest.raises(
        FormatError, match=r"^du-lieu\.json: JSON document of 12 bytes is over the 10-byte limit"
    ):
        read(JsonReader(max_bytes=10), b'[{"a": "b"}]')


def test_large_document_is_batched_by_record_ordinal() -> None:
    data = json.dumps([{"i": i} for i in range(2500)]).encode()
    batches, _ = read(JsonReader(), data, batch_rows=1000)
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(1, 1000), (1001, 1000), (2001, 500)]
    assert batches[2].table.column("i")[0].as_py() == "2000"


# --- JSON Lines -----------------------------------------------------------------------------------------


def test_json_lines_bad_lines_are_rejected_with_their_line_numbers() -> None:
    lines = [
        b'{"ma": "079", "ten": "Qu\xe1\xba\xadn 1"}',  # 1
        b'{"ma": "080", "so": 2.50}',  # 2
        b"",  # 3 blank: skipped
        b'{"ma": "081", "ten": "Qu\xe1\xba\xadn 3"',  # 4 unterminated
        b'{"ma": "082", "ten": "\xff"}',  # 5 not UTF-8
        b'"ch\xe1\xbb\x89 m\xe1\xbb\x99t chu\xe1\xbb\x97i"',  # 6 not an object: a value column
        b'{"ma": "083", "vi_tri": {"lat": 10.8, "lon": 106.6}}\r',  # 7 CRLF
    ]
    batches, info = read(JsonLinesReader(), b"\n".join(lines) + b"\n", name="ds.jsonl")
    columns = ["ma", "ten", "so", "value", "vi_tri.lat", "vi_tri.lon"]
    assert info.header_labels == columns
    assert info.encoding == "utf-8"
    assert [(b.first_line, b.table.num_rows, b.table.column_names) for b in batches] == [
        (1, 2, columns),
        (6, 2, columns),
    ]
    assert rows(batches) == [
        {"ma": "079", "ten": "Quận 1", "so": None, "value": None, "vi_tri.lat": None, "vi_tri.lon": None},
        {"ma": "080", "ten": None, "so": "2.50", "value": None, "vi_tri.lat": None, "vi_tri.lon": None},
        {
            "ma": None,
            "ten": None,
            "so": None,
            "value": "chỉ một chuỗi",
            "vi_tri.lat": None,
            "vi_tri.lon": None,
        },
        {"ma": "083", "ten": None, "so": None, "value": None, "vi_tri.lat": "10.8", "vi_tri.lon": "106.6"},
    ]
    rejected = [(r.line, r.reason, r.raw) for b in batches for r in b.rejected]
    assert rejected == [
        (4, "invalid JSON at column 30: Expecting ',' delimiter", '{"ma": "081", "ten": "Quận 3"'),
        (5, "line is not valid utf-8 text", '{"ma": "082", "ten": "\ufffd"}'),
    ]


def test_json_lines_streamed_from_a_file_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "lon.ndjson"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(2999):
            fh.write(json.dumps({"i": i, "ten": f"Hộ {i}"}, ensure_ascii=False) + "\n")
        fh.write('{"i": 2999, "moi": "cột mới ở dòng cuối"}\n')
    info = ReadInfo()
    raw = file_object("lon.ndjson", path, source_uri="file://")
    batches = list(JsonLinesReader().read(raw, FormatOptions(batch_rows=1000), info))
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(1, 1000), (1001, 1000), (2001, 1000)]
    assert all(b.table.column_names == ["i", "ten", "moi"] for b in batches)  # same schema in every batch
    assert batches[-1].table.to_pylist()[-1] == {"i": "2999", "ten": None, "moi": "cột mới ở dòng cuối"}


def test_json_lines_in_utf16() -> None:
    data = '{"tên": "Cần Giờ"}\r\n\r\n{"tên": "Củ Chi"}\r\n'.encode("utf-16")
    batches, info = read(JsonLinesReader(), data, name="x.jsonl")
    assert info.encoding == "utf-16"
    assert [(b.first_line, b.table.to_pylist()) for b in batches] == [
        (1, [{"tên": "Cần Giờ"}]),
        (3, [{"tên": "Củ Chi"}]),
    ]


def test_pretty_printed_document_as_json_lines_is_a_format_error() -> None:
    data = b'{\n  "a": 1,\n  "b": 2\n}\n'
    with pytest.raises(FormatError) as exc:
        read(JsonLinesReader(), data, name="x.jsonl")
    assert str(exc.value) == (
        "x.jsonl: none of the 4 non-blank lines is a JSON value (line 1: invalid JSON at column 2: "
        "Expecting property name enclosed in double quotes); is it a JSON document rather than JSON Lines?"
    )


@pytest.mark.parametrize("data", [b"", b"\n\n  \n"])
def test_empty_json_lines_is_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError, match=r"^x\.jsonl: empty file"):
        read(JsonLinesReader(), data, name="x.jsonl")


def test_json_lines_unknown_encoding() -> None:
    with pytest.raises(FormatError, match=r"^x\.jsonl: unknown encoding 'no-such-codec'$"):
        read(JsonLinesReader(), b'{"a": 1}\n', name="x.jsonl", encoding="no-such-codec")
