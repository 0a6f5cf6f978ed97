"""PII: CCCD / CMND numbers, Vietnamese phone numbers, e-mail addresses."""

from __future__ import annotations

import pyarrow as pa
import pytest

from cleaning.pii import apply_pii, mask_pii, scan_pii


@pytest.fixture
def table() -> pa.Table:
    return pa.table(
        {
            "cccd": ["079123456789", "CCCD: 001099012345", None, "12.345.678"],
            "cmnd": ["023456789", "số 123456789 cấp 2010", "x", "1234567890"],
            "sdt": ["0903 123 456", "+84 90 123 4567", "028.3829.1234", "84901234567"],
            "email": ["nguyen.van.a@gmail.com", "Liên hệ: tranthib@hcm.gov.vn", "@user", "a@b"],
            "so_tien": ["1.234.567,89", "99.999.999", "12", "0"],
            "ma_so": [1, 2, 3, 4],
        }
    )


def test_scan_reports_columns_kinds_and_counts(table: pa.Table) -> None:
    report = scan_pii(table)
    found = {(f.column, f.kind): (f.count, round(f.ratio, 3)) for f in report.findings}
    assert found == {
        ("cccd", "cccd"): (2, 0.667),
        ("cmnd", "cmnd"): (2, 0.5),
        ("sdt", "phone"): (4, 1.0),
        ("email", "email"): (2, 0.5),
    }
    assert report.columns == ["cccd", "cmnd", "sdt", "email"]
    assert report.count("sdt", "phone") == 4
    assert report.count("so_tien", "cmnd") == 0


PHONES = [
    "0903123456",
    "0903 123 456",
    "0903.123.456",
    "090-312-3456",
    "+84 903 123 456",
    "+84903123456",
    "84 90 312 3456",
    "028 38291234",
    "028 3829 1234",
    "0283.829.1234",
]


@pytest.mark.parametrize("phone", PHONES)
def test_phone_formats_detected(phone: str) -> None:
    report = scan_pii(pa.table({"c": [f"Liên hệ {phone} (anh Nam)"]}))
    assert report.count("c", "phone") == 1


@pytest.mark.parametrize("cell", ["1234567890", "0123456789012", "1.234.567", "090312345", "2024-03-05"])
def test_not_phones(cell: str) -> None:
    assert scan_pii(pa.table({"c": [cell]})).count("c", "phone") == 0


def test_mask_keeps_last_three_digits(table: pa.Table) -> None:
    assert mask_pii(table.column("cccd")).to_pylist() == [
        "*********789",
        "CCCD: *********345",
        None,
        "12.345.678",
    ]
    assert mask_pii(table.column("cmnd")).to_pylist() == [
        "******789",
        "số ******789 cấp 2010",
        "x",
        "1234567890",
    ]
    assert mask_pii(table.column("sdt")).to_pylist() == [
        "*******456",
        "*******567",
        "*******234",
        "*******567",
    ]
    assert mask_pii(table.column("email")).to_pylist() == [
        "n***@gmail.com",
        "Liên hệ: t***@hcm.gov.vn",
        "@user",
        "a@b",
    ]
    assert mask_pii(table.column("so_tien")).to_pylist() == table.column("so_tien").to_pylist()


def test_two_values_in_one_cell_are_both_masked() -> None:
    out = mask_pii(pa.array(["0903123456, 0918765432; a.b@x.vn c.d@y.vn"])).to_pylist()
    assert out == ["*******456, *******432; a***@x.vn c***@y.vn"]


def test_apply_mask_and_drop(table: pa.Table) -> None:
    report = scan_pii(table)
    masked = apply_pii(table, report, "mask")
    assert masked.column_names == table.column_names
    assert masked.column("sdt").to_pylist()[0] == "*******456"
    assert masked.column("so_tien").to_pylist() == table.column("so_tien").to_pylist()
    dropped = apply_pii(table, report, "drop")
    assert dropped.column_names == ["so_tien", "ma_so"]
    only_email = apply_pii(table, report, "drop", kinds=["email"])
    assert "email" not in only_email.column_names and "sdt" in only_email.column_names


def test_min_count_threshold(table: pa.Table) -> None:
    report = scan_pii(table, min_count=3)
    assert report.columns == ["sdt"]
