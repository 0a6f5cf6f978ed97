"""The bad-input corpus: every case ends in a clear error or a quarantine naming file, row and field.

Each case is pulled from a real local folder into the real S3 lake and cleaned. Whatever happens,
the source bytes stay in the raw zone unchanged (nothing is lost).
"""

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest

import citydata.kernels.encoding  # noqa: F401 - registers the tcvn3 / cp1258-nfc codecs used below
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from ingest.clean import CleanError, clean_pull
from ingest.pull import pull

pytestmark = pytest.mark.integration

HEADER = "Mã;Tên;Số lượng;Ngày\n"
GOOD = "A01;Phường Bến Nghé;12;05/03/2024\nA02;Phường Đa Kao;1.200;31/12/2023\n"


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_bomb_xlsx() -> bytes:
    # A sheet that inflates to 1.1 GB from about a megabyte: refused before it is opened.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            chunk = b"<c>0</c>" * (1 << 17)
            for _ in range(1100):
                fh.write(chunk)
    return buf.getvalue()


@dataclass
class Case:
    name: str
    file: str
    data: bytes
    error: list[str] = field(default_factory=list)  # substrings of the error; empty: no error
    rejected: dict[int, list[str]] = field(default_factory=dict)  # line -> substrings of its reasons
    warned: list[tuple[str, str]] = field(default_factory=list)  # (column, reason substring)
    rows: int | None = None  # clean rows expected
    spec: dict[str, Any] = field(default_factory=dict)
    check: Any = None  # extra assertion on the clean table


CASES = [
    Case("empty file", "a.csv", b"", error=["a.csv", "empty"]),
    Case("only blank lines", "a.csv", b"\n\n  \n", error=["a.csv", "empty"]),
    Case("header only", "a.csv", HEADER.encode(), rows=0),
    Case("binary junk", "a.csv", bytes(range(256)) * 40, error=["a.csv", "not a CSV text file"]),
    Case(
        "NUL bytes in text",
        "a.csv",
        (HEADER + "A01;Tên\x00;1;05/03/2024\n").encode(),
        rows=1,
        warned=[("ten", "NUL byte removed")],
        check=lambda t: t.column("ten").to_pylist() == ["Tên"],
    ),
    Case(
        "too many fields",
        "a.csv",
        (HEADER + GOOD + "A03;Thừa;1;01/01/2024;X\n").encode(),
        rejected={4: ["expected 4 fields, found 5"]},
        rows=2,
    ),
    Case(
        "too few fields",
        "a.csv",
        (HEADER + "A03;Thiếu\n" + GOOD).encode(),
        rejected={2: ["expected 4 fields, found 2"]},
        rows=2,
    ),
    Case(
        "truncated file (cut inside a quote)",
        "a.csv",
        (HEADER + GOOD + 'A03;"Bị cắt').encode(),
        rejected={4: ["truncated"]},
        rows=2,
    ),
    Case(
        "mixed encodings (one Windows-1258 line in UTF-8)",
        "a.csv",
        (HEADER + GOOD).encode() + "A03;Phường Tân Định;3;01/01/2024\n".encode("cp1258-nfc"),
        rejected={4: ["undecodable"]},
        rows=2,
    ),
    Case(
        "Windows-1258 with decomposed tone marks",
        "a.csv",
        (HEADER + GOOD).encode("cp1258-nfc"),
        rows=2,
        check=lambda t: t.column("ten").to_pylist() == ["Phường Bến Nghé", "Phường Đa Kao"],
    ),
    Case(
        "legacy TCVN3 font text",
        "a.csv",
        (HEADER + GOOD).encode("tcvn3"),
        rows=2,
        check=lambda t: t.column("ten").to_pylist() == ["Phường Bến Nghé", "Phường Đa Kao"],
    ),
    Case(
        "UTF-16 with BOM",
        "a.csv",
        (HEADER + GOOD).encode("utf-16"),
        rows=2,
        check=lambda t: t.column("so_luong").to_pylist() == [12, 1200],
    ),
    Case(
        "a huge cell (12 MB)",
        "a.csv",
        (HEADER + GOOD).encode() + b"A03;" + b"x" * (12 << 20) + b";1;01/01/2024\n",
        rows=3,
        check=lambda t: len(t.column("ten")[2].as_py()) == 12 << 20,
    ),
    Case(
        "formula injection",
        "a.csv",
        (HEADER + 'A01;=HYPERLINK("http://evil.example","Bấm vào");1;05/03/2024\n').encode(),
        rows=1,
        warned=[("ten", "formula-like")],
        check=lambda t: t.column("ten")[0].as_py().startswith("=HYPERLINK"),  # kept as data
    ),
    Case(
        "duplicate headers",
        "a.csv",
        "Tên;Tên;Số lượng\nA;B;1\n".encode(),
        rows=1,
        check=lambda t: t.column_names[:2] == ["ten", "ten_2"],
    ),
    Case(
        "mixed types in a typed column",
        "a.csv",
        (HEADER + GOOD + "A03;Phường 1;mười hai;01/01/2024\n").encode(),
        rejected={4: ["so_luong", "not a number"]},
        rows=2,
        spec={"schema": {"columns": {"so_luong": {"type": "integer"}}}},
    ),
    Case(
        "mixed types in an untyped column stay text",
        "a.csv",
        "Mã;Giá trị\nA;12\nB;khoảng 15\nC;3,5\n".encode(),
        rows=3,
        check=lambda t: t.column("gia_tri").to_pylist() == ["12", "khoảng 15", "3,5"],
    ),
    Case(
        "impossible date",
        "a.csv",
        (HEADER + GOOD + "A01;X;1;31/02/2024\n").encode(),
        rejected={4: ["ngay", "invalid calendar date"]},
        rows=2,
        spec={"schema": {"columns": {"ngay": {"type": "date"}}}},
    ),
    Case(
        "month-first date in a day-first file",
        "a.csv",
        (HEADER + GOOD + "A01;X;1;03/25/2024\n").encode(),
        rejected={4: ["ngay", "month out of range"]},
        rows=2,
        spec={"schema": {"columns": {"ngay": {"type": "date"}}}},
    ),
    Case(
        "required column missing",
        "a.csv",
        "Tên;Số lượng\nX;1\n".encode(),
        error=["a.csv", "required column", "ma"],
        spec={"schema": {"columns": {"ma": {"nullable": False}}}},
    ),
    Case(
        "required value missing",
        "a.csv",
        (HEADER + GOOD + ";Không mã;1;01/01/2024\n").encode(),
        rejected={4: ["ma", "required value missing"]},
        rows=2,
        spec={"schema": {"columns": {"ma": {"nullable": False}}}},
    ),
    Case(
        "duplicate primary key",
        "a.csv",
        (HEADER + GOOD + "A01;Trùng;5;01/01/2024\n").encode(),
        rejected={4: ["duplicate primary key (ma); the first row was kept"]},  # the source line
        rows=2,
        spec={"schema": {"primary_key": ["ma"], "columns": {"ma": {}}}},
    ),
    Case(
        "value below the declared minimum",
        "a.csv",
        (HEADER + GOOD + "A01;X;-3;01/01/2024\n").encode(),
        rejected={4: ["so_luong", "below the minimum 0"]},
        rows=2,
        spec={"schema": {"columns": {"so_luong": {"type": "integer", "min": 0}}}},
    ),
    Case(
        "not a spreadsheet",
        "a.xlsx",
        b"PK\x03\x04 this is not a workbook",
        error=["a.xlsx", "not an XLSX file", "not a valid zip archive"],
    ),
    Case(
        "zip-bomb XLSX",
        "a.xlsx",
        zip_bomb_xlsx(),
        error=["a.xlsx", "possible zip bomb", "xl/worksheets/sheet1.xml", "limit 100 times"],
    ),
    Case(
        "spreadsheet with a bad cell",
        "a.xlsx",
        xlsx_bytes([["Mã", "Số lượng"], ["A01", 12], ["A02", "nhiều"], ["A03", "1.200"]]),
        rejected={3: ["so_luong", "not a number"]},
        rows=2,
        spec={"schema": {"columns": {"so_luong": {"type": "integer"}}}},
    ),
    Case("invalid JSON", "a.json", b'[{"ma": "A01",}]', error=["a.json", "line 1"]),
    Case(
        "JSON Lines with a broken line",
        "a.jsonl",
        b'{"ma": "A01", "so": 1}\n{"ma": "A02", "so": \n{"ma": "A03", "so": 3}\n',
        rejected={2: ["invalid JSON at column 21"]},
        rows=2,
    ),
    Case(
        "GeoJSON that is not GeoJSON",
        "a.geojson",
        b'{"type": "Nonsense"}',
        error=["a.geojson", "top-level type is 'Nonsense'", "expected FeatureCollection"],
    ),
    Case(
        "too many bad rows fails the dataset, quarantine kept",
        "a.csv",
        (HEADER + "A01;X;mười;1\nA02;Y;hai;2\nA03;Z;3;3\n").encode(),
        error=["2 of 3 rows rejected", "rejected.parquet"],
        spec={
            "schema": {"columns": {"so_luong": {"type": "integer"}}},
            "cleaning": {"max_rejected_ratio": 0.5},
        },
    ),
]


def make_spec(dataset_id: str, folder: str, extra: dict[str, Any]) -> DatasetSpec:
    base: dict[str, Any] = {
        "id": dataset_id,
        "agency": {"id": "test-bad", "title": {"vi": "Thử nghiệm dữ liệu lỗi"}},
        "title": {"vi": "Dữ liệu lỗi"},
        "description": {"vi": "Kho dữ liệu lỗi để kiểm thử"},
        "dublin_core": {"creator": "citydata", "publisher": "citydata", "date": "2025-07-01"},
        "source": {"type": "local_file", "path": folder},
        "cleaning": {"max_rejected_ratio": 0.9},
    }
    for key, value in extra.items():
        base[key] = {**base.get(key, {}), **value}
    return DatasetSpec.model_validate(base)


def test_corpus_has_at_least_25_cases():
    assert len(CASES) >= 25
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, stack_ready, tmp_path, unique):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / case.file).write_bytes(case.data)
    spec = make_spec(f"test-bad-{unique}", str(folder), case.spec)
    lake = Lake(stack_ready)
    pulled = pull(spec, stack_ready, lake)
    [stored] = pulled.objects
    assert lake.get_bytes(stored["key"]) == case.data  # the source is kept, byte for byte

    if case.error:
        with pytest.raises(CleanError) as err:
            clean_pull(spec, stack_ready, lake, pulled.pull_id)
        for part in case.error:
            assert part in str(err.value), str(err.value)
        return
    result = clean_pull(spec, stack_ready, lake, pulled.pull_id)
    assert not [f.error for f in result.files if f.error]
    if case.rows is not None:
        assert result.rows == case.rows
    if case.rejected:
        table = pq.read_table(io.BytesIO(lake.get_bytes(result.keys["rejected"])))
        rows = table.to_pylist()
        assert all(r["file"] == case.file for r in rows)
        by_line = {r["line"]: r["reasons"] for r in rows}
        for line, parts in case.rejected.items():
            assert line in by_line, f"line {line} not quarantined: {by_line}"
            for part in parts:
                assert part in by_line[line], by_line[line]
        assert all(r["row"] for r in rows)  # every rejected row is kept, as read
    else:
        assert result.rejected == 0, result
    if case.warned:
        warnings = pq.read_table(io.BytesIO(lake.get_bytes(result.keys["warnings"]))).to_pylist()
        for column, reason in case.warned:
            assert any(
                w["column"] == column and reason in w["reason"] and w["file"] == case.file for w in warnings
            )
    if case.check is not None:
        data = pq.read_table(io.BytesIO(lake.get_bytes(result.keys["data"])))
        assert case.check(data), data.to_pylist()[:3]
