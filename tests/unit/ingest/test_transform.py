import datetime as dt

import pyarrow as pa
import pytest

from citydata.spec.model import DatasetSpec
from connectors.formats.base import CellKind
from ingest.transform import BatchCleaner, SchemaMismatchError

BASE = {
    "id": "bai-giu-xe",
    "agency": {"id": "so-gtvt", "title": {"vi": "Sở GTVT"}},
    "title": {"vi": "Bãi giữ xe"},
    "description": {"vi": "Bãi giữ xe công cộng"},
    "dublin_core": {"creator": "Sở GTVT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
    "source": {"type": "http_file", "url": "https://example.org/x.csv"},
}


def spec(**schema) -> DatasetSpec:
    return DatasetSpec.model_validate({**BASE, "schema": schema})


def strings(**cols) -> pa.Table:
    return pa.table({k: pa.array(v, pa.string()) for k, v in cols.items()})


def test_hinted_types_rows_that_fail_are_rejected_with_file_line_and_reason():
    s = spec(
        columns={
            "ma_bai": {"type": "string", "nullable": False, "rename_from": "Mã bãi"},
            "suc_chua": {"type": "integer", "min": 0, "rename_from": "Sức chứa"},
            "dien_tich": {"type": "number", "rename_from": "Diện tích (m²)"},
            "ngay_cap_phep": {"type": "date", "rename_from": "Ngày cấp phép"},
        }
    )
    labels = ["Mã bãi", "Sức chứa", "Diện tích (m²)", "Ngày cấp phép"]
    batch = pa.table(
        [
            pa.array(["B01", "B02", None, "B04", "B05"]),
            pa.array(["1.200", "80", "10", "nhiều", "-5"]),
            pa.array(["1.234,5", "  12,5 ", "N/A", "3", "4"]),
            pa.array(["05/03/2024", "31/12/2023", "01/01/2024", "ngày 5 tháng 3 năm 2024", "2024-13-01"]),
        ],
        names=labels,
    )
    cleaner = BatchCleaner(s, labels)
    out = cleaner.clean(batch, first_line=2)
    assert out.good.column_names == ["ma_bai", "suc_chua", "dien_tich", "ngay_cap_phep"]
    assert out.good.to_pylist() == [
        {"ma_bai": "B01", "suc_chua": 1200, "dien_tich": 1234.5, "ngay_cap_phep": dt.date(2024, 3, 5)},
        {"ma_bai": "B02", "suc_chua": 80, "dien_tich": 12.5, "ngay_cap_phep": dt.date(2023, 12, 31)},
    ]
    rejected = {r["_line"]: r["_reasons"] for r in out.rejected.select(["_line", "_reasons"]).to_pylist()}
    assert set(rejected) == {4, 5, 6}
    assert "ma_bai" in rejected[4] and "required value missing" in rejected[4]
    assert "suc_chua: 'nhiều' not a number" in rejected[5]
    assert "below the minimum 0" in rejected[6] and "ngay_cap_phep" in rejected[6]
    # the rejected rows are kept as read, with their original values
    assert out.rejected.column("suc_chua").to_pylist() == ["10", "nhiều", "-5"]
    assert [c["label"] for c in cleaner.dictionary()] == labels


def test_second_batch_keeps_the_first_batch_schema():
    s = spec(columns={"so": {"type": "number"}})
    cleaner = BatchCleaner(s, ["so"])
    first = cleaner.clean(strings(so=["1", "2"]), 2)
    second = cleaner.clean(strings(so=["3,5", None]), 4)
    assert first.good.schema == second.good.schema
    assert second.good.column("so").to_pylist() == [3.5, None]


def test_inference_types_numbers_and_dates_but_keeps_codes_with_leading_zeros():
    labels = ["Mã phường", "Dân số", "Ngày", "Ghi chú"]
    batch = pa.table(
        [
            pa.array(["00001", "26734", "26737"]),
            pa.array(["12.345", "6.789", "1.000.000"]),
            pa.array(["01/02/2024", "15/02/2024", "29/02/2024"]),
            pa.array(["a", "b", "c"]),
        ],
        names=labels,
    )
    cleaner = BatchCleaner(spec(), labels)
    out = cleaner.clean(batch, 2)
    types = {c["name"]: (c["type"], c["inferred"]) for c in cleaner.dictionary()}
    assert types == {
        "ma_phuong": ("string", False),
        "dan_so": ("integer", True),
        "ngay": ("date", True),
        "ghi_chu": ("string", False),
    }
    assert out.good.column("dan_so").to_pylist() == [12345, 6789, 1000000]
    assert out.good.column("ma_phuong").to_pylist() == ["00001", "26734", "26737"]


def test_pii_is_masked_by_default_and_dropped_on_request():
    batch = strings(ho_ten=["Nguyễn Văn A", "Trần Thị B"], cccd=["079123456789", "001099012345"],
                    sdt=["0903 123 456", "028 3829 1234"])  # fmt: skip
    s = spec(columns={"sdt": {"pii": "drop"}})
    out = BatchCleaner(s, batch.column_names).clean(batch, 2)
    assert "sdt" not in out.good.column_names
    masked = out.good.column("cccd").to_pylist()
    assert all(
        v.endswith(orig[-3:]) and orig[:6] not in v
        for v, orig in zip(masked, ["079123456789", "001099012345"], strict=True)
    )
    assert out.pii["cccd"]["cccd"] == 2


def test_text_is_nfc_trimmed_and_null_tokens_become_null():
    decomposed = "Phu\u031bo\u031b\u0300ng Be\u0302\u0301n Nghe\u0301"  # as cp1258 files decode
    out = BatchCleaner(spec(), ["ten"]).clean(strings(ten=[f"  {decomposed} ", "N/A", "-"]), 2)
    assert out.good.column("ten").to_pylist() == ["Phường Bến Nghé", None, None]


def test_admin_units_get_official_codes():
    s = spec(columns={"quan": {"admin_unit": "district"}, "phuong": {"admin_unit": "ward"}})
    batch = strings(quan=["Quận 1", "Q.1"], phuong=["Phường Bến Nghé", "P. Bến Thành"])
    out = BatchCleaner(s, ["quan", "phuong"]).clean(batch, 2)
    assert out.good.column("province_code").to_pylist() == ["79", "79"]
    assert all(code and len(code) == 5 for code in out.good.column("ward_code").to_pylist())
    assert out.rejected.num_rows == 0


def test_missing_required_column_names_the_columns_found():
    s = spec(columns={"ma_bai": {"nullable": False}})
    with pytest.raises(SchemaMismatchError) as err:
        BatchCleaner(s, ["Tên bãi", "Địa chỉ"])
    assert "ma_bai" in str(err.value) and "Tên bãi" in str(err.value)


def test_native_numbers_are_never_read_through_the_locale_text_numbers_are():
    # Numeric Excel cells arrive as exact plain text of kind NUMBER; text cells keep "1.234,5".
    s = spec(columns={"kinh_phi": {"type": "number"}, "so_luong": {"type": "integer"}}, locale="vi")
    cleaner = BatchCleaner(s, ["kinh_phi", "so_luong"])
    number, text = int(CellKind.NUMBER), int(CellKind.TEXT)
    kinds = {
        "kinh_phi": pa.array([number, text, text, number], pa.int8()),
        "so_luong": pa.array([number, text, number, number], pa.int8()),
    }
    batch = strings(
        kinh_phi=["10.969", "1.234,5", "abc", "106.661"], so_luong=["12", "1.200.000", "3", "1200"]
    )
    out = cleaner.clean(batch, 2, kinds=kinds)
    assert out.good.column("kinh_phi").to_pylist() == [10.969, 1234.5, 106.661]
    assert out.good.column("so_luong").to_pylist() == [12, 1200000, 1200]
    assert out.rejected.column("_line").to_pylist() == [4]
    assert "kinh_phi: 'abc' not a number (locale vi)" in out.rejected.column("_reasons")[0].as_py()


def test_rows_on_scattered_lines_report_their_own_lines():
    import numpy as np

    cleaner = BatchCleaner(spec(columns={"so": {"type": "integer"}}), ["so", "ghi_chu"])
    batch = strings(so=["1", "x", "3", "y"], ghi_chu=["a", "b", '=HYPERLINK("http://x")', "d"])
    out = cleaner.clean(batch, 2, np.array([2, 7, 9, 40]))
    assert out.rejected.column("_line").to_pylist() == [7, 40]
    assert [(w.row, w.column) for w in out.warnings] == [(9, "ghi_chu")]
