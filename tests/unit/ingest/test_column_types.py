"""Column types with cell kinds: typed values are never re-read as text; codes stay text."""

from __future__ import annotations

import pyarrow as pa
import pytest

from citydata.spec.model import DatasetSpec
from connectors.formats.base import CellKind
from ingest.column_types import LeadingZeroError
from ingest.transform import BatchCleaner

BASE = {
    "id": "phuong-xa",
    "agency": {"id": "so-noi-vu", "title": {"vi": "Sở Nội vụ"}},
    "title": {"vi": "Phường xã"},
    "description": {"vi": "Danh sách phường xã"},
    "dublin_core": {"creator": "Sở Nội vụ", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
    "source": {"type": "http_file", "url": "https://example.org/x.json"},
}
N, T, S = int(CellKind.NUMBER), int(CellKind.TEXT), int(CellKind.STRING)


def spec(**schema: object) -> DatasetSpec:
    return DatasetSpec.model_validate({**BASE, "schema": schema})


def kinds(*values: int) -> pa.Array:
    return pa.array(values, pa.int8())


def clean(
    cleaner: BatchCleaner,
    columns: dict[str, list[str | None]],
    cell_kinds: dict[str, pa.Array],
    line: int = 2,
):
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    return cleaner.clean(table, line, kinds=cell_kinds)


def types(cleaner: BatchCleaner) -> dict[str, str]:
    return {c["name"]: c["type"] for c in cleaner.dictionary()}


def test_native_numbers_keep_their_value_under_the_vietnamese_default():
    # The x1000 incident: "10.969" from a numeric cell is 10.969, not 10969.
    cleaner = BatchCleaner(spec(), ["vi_do", "dien_tich"])
    out = clean(
        cleaner,
        {"vi_do": ["10.969", "10.5464", "11.0528"], "dien_tich": ["15.682", "1234", "58.157"]},
        {"vi_do": kinds(N, N, N), "dien_tich": kinds(N, N, N)},
    )
    assert types(cleaner) == {"vi_do": "number", "dien_tich": "number"}
    assert out.good.column("vi_do").to_pylist() == [10.969, 10.5464, 11.0528]
    assert out.good.column("dien_tich").to_pylist() == [15.682, 1234.0, 58.157]


def test_json_string_codes_stay_strings_and_json_numbers_stay_numbers():
    cleaner = BatchCleaner(spec(), ["gia_tri", "so_hieu", "nam"])
    out = clean(
        cleaner,
        {
            "gia_tri": ["27676", "26734", "26737"],
            "so_hieu": ["12", "13", "14"],
            "nam": ["2025", "2024", "2023"],
        },
        {"gia_tri": kinds(S, S, S), "so_hieu": kinds(N, N, N), "nam": kinds(N, N, N)},
    )
    # a JSON string is text the source declared; a JSON number under a code header is a code
    assert types(cleaner) == {"gia_tri": "string", "so_hieu": "string", "nam": "integer"}
    assert out.good.column("gia_tri").to_pylist() == ["27676", "26734", "26737"]
    assert out.good.column("nam").to_pylist() == [2025, 2024, 2023]


def test_mixed_native_and_text_numbers_each_read_their_own_way():
    # A sheet column of numeric cells with two numbers typed as text the Vietnamese way.
    cleaner = BatchCleaner(spec(), ["dien_tich"])
    out = clean(cleaner, {"dien_tich": ["15.682", "10,5", "1.234,5", "7"]}, {"dien_tich": kinds(N, T, T, N)})
    assert cleaner.columns[0].locale == "vi" and cleaner.columns[0].locale_source == "column"
    assert out.good.column("dien_tich").to_pylist() == [15.682, 10.5, 1234.5, 7.0]


def test_integers_beyond_two_to_the_53_stay_exact():
    cleaner = BatchCleaner(spec(columns={"so_luong": {"type": "integer"}}), ["so_luong"])
    out = clean(cleaner, {"so_luong": ["9007199254740993", "1"]}, {"so_luong": kinds(N, N)})
    assert out.good.column("so_luong").to_pylist() == [9007199254740993, 1]


@pytest.mark.parametrize(
    ("values", "locale", "source"),
    [
        (["1,5", "2,25", "3"], "vi", "column"),
        (["1.5", "10.5464", "3"], "en", "column"),
        (["1.234", "5.678", "9"], "vi", "default"),  # nothing tells: the Vietnamese default
    ],
)
def test_text_number_locale_is_detected_per_column(values, locale, source):
    cleaner = BatchCleaner(spec(), ["so"])
    clean(cleaner, {"so": values}, {})
    assert (cleaner.columns[0].locale, cleaner.columns[0].locale_source) == (locale, source)


def test_ambiguous_column_follows_the_datasets_other_columns():
    cleaner = BatchCleaner(spec(), ["a", "b"])
    out = clean(cleaner, {"a": ["10.969", "15.682"], "b": ["10.5464", "106.661"]}, {})
    assert [(c.locale, c.locale_source) for c in cleaner.columns] == [("en", "dataset"), ("en", "column")]
    assert out.good.column("a").to_pylist() == [10.969, 15.682]


def test_declared_locale_is_used_as_given():
    cleaner = BatchCleaner(spec(locale="vi"), ["so"])
    out = clean(cleaner, {"so": ["1.5", "2"]}, {})
    assert cleaner.columns[0].locale_source == "spec"
    assert out.rejected.column("_reasons").to_pylist() == ["so: '1.5' not a number (locale vi)"]


@pytest.mark.parametrize(
    ("label", "values"),
    [
        ("Mã số", ["27676", "26734", "26737"]),
        ("Điện thoại - Mã vùng", ["24", "28", "236"]),
        ("Số hiệu", ["1", "2", "3"]),
        ("ghi_chu", ["024", "028", "0236"]),  # leading zeros
        ("x", [f"{80000 + i}" for i in range(12)]),  # unique, fixed width
    ],
)
def test_codes_stay_text(label, values):
    cleaner = BatchCleaner(spec(), [label])
    out = clean(cleaner, {label: values}, {})
    assert cleaner.dictionary()[0]["identifier"] is True
    assert out.good.column(0).to_pylist() == values


def test_measures_are_not_taken_for_codes():
    cleaner = BatchCleaner(spec(), ["dan_so"])
    clean(cleaner, {"dan_so": ["12000", "9500", "130500", "9500"]}, {})
    assert types(cleaner) == {"dan_so": "integer"}


def test_a_spec_type_that_drops_leading_zeros_is_refused_naming_column_and_values():
    s = spec(columns={"ma_vung": {"type": "integer", "rename_from": "Mã vùng"}})
    cleaner = BatchCleaner(s, ["Mã vùng"])
    with pytest.raises(LeadingZeroError) as err:
        clean(cleaner, {"Mã vùng": ["024", "028", "0206"]}, {})
    message = str(err.value)
    assert "schema.columns.ma_vung.type" in message and "'024'" in message and "'Mã vùng'" in message


def test_a_later_code_with_a_leading_zero_in_an_inferred_number_column_is_rejected():
    cleaner = BatchCleaner(spec(), ["so"])
    clean(cleaner, {"so": ["12", "13", "14"]}, {})
    out = clean(cleaner, {"so": ["15", "0123"]}, {}, line=5)
    assert out.good.column("so").to_pylist() == [15]
    assert out.rejected.column("_line").to_pylist() == [6]
    assert "leading zero" in out.rejected.column("_reasons")[0].as_py()


def test_native_dates_and_text_dates_in_one_column():
    d, t = int(CellKind.DATE), int(CellKind.TEXT)
    cleaner = BatchCleaner(spec(), ["ngay"])
    out = clean(cleaner, {"ngay": ["2025-07-01", "05/03/2024", "2024-12-31"]}, {"ngay": kinds(d, t, d)})
    assert types(cleaner) == {"ngay": "date"}
    assert [str(v) for v in out.good.column("ngay").to_pylist()] == ["2025-07-01", "2024-03-05", "2024-12-31"]


def test_declared_strings_may_hold_dates():
    cleaner = BatchCleaner(spec(), ["ngay"])
    clean(cleaner, {"ngay": ["2025-07-01", "2024-03-05"]}, {"ngay": kinds(S, S)})
    assert types(cleaner) == {"ngay": "date"}
