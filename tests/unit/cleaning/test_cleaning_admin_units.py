"""Admin units: spellings, pre/post 1 July 2025 names, official codes.

Expected conversions are public facts of the 2025 reform (Nghị quyết 1685/NQ-UBTVQH15 for Ho Chi
Minh City): Bến Nghé (Quận 1) became part of Phường Sài Gòn, Hàng Bạc (Hoàn Kiếm, Hà Nội) part of
Phường Hoàn Kiếm, huyện Côn Đảo became Đặc khu Côn Đảo, Bình Dương and Bà Rịa - Vũng Tàu merged
into Thành phố Hồ Chí Minh (code 79).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from cleaning.admin_units import ADMIN_COLUMNS, normalize_admin_units, resolve_admin_unit

HCM = ("79", "Thành phố Hồ Chí Minh")


@pytest.mark.parametrize(
    "province",
    ["TP.HCM", "Tp. Hồ Chí Minh", "HCM", "Thành phố Hồ Chí Minh", "ho chi minh", "TPHCM", "79", "HCMC"],
)
def test_province_spellings(province: str) -> None:
    unit = resolve_admin_unit(province)
    assert (unit.province_code, unit.province_name) == HCM
    assert unit.status == "current"


@pytest.mark.parametrize(
    ("province", "district", "ward"),
    [
        ("TP.HCM", "Quận 1", "Phường Bến Nghé"),
        ("Tp. Hồ Chí Minh", "Q.1", "P. Bến Nghé"),
        ("ho chi minh", "quan 1", "ben nghe"),
        ("HCM", "Q1", "Ben Nghe"),
        ("HCM", None, "Phường Bến Nghé"),  # unique old name within the city: no district needed
    ],
)
def test_old_ward_converts_to_new(province: str, district: str | None, ward: str) -> None:
    unit = resolve_admin_unit(province, district, ward)
    assert (unit.province_code, unit.province_name) == HCM
    assert (unit.ward_code, unit.ward_name) == ("26740", "Phường Sài Gòn")
    assert (unit.old_district_code, unit.old_district_name) == ("760", "Quận 1")
    assert unit.status == "converted"


def test_new_ward_is_current() -> None:
    unit = resolve_admin_unit("Hồ Chí Minh", None, "Phường Sài Gòn")
    assert (unit.ward_code, unit.ward_name, unit.status) == ("26740", "Phường Sài Gòn", "current")
    unit = resolve_admin_unit("TP.HCM", None, "Thủ Đức")
    assert (unit.ward_name, unit.status) == ("Phường Thủ Đức", "current")


def test_old_district_thu_duc_city_and_former_quan_9() -> None:
    unit = resolve_admin_unit("TP.HCM", "Quận 9", "Phường Long Bình")
    assert unit.old_district_name == "Thành phố Thủ Đức"
    assert unit.ward_name == "Phường Long Bình"
    assert unit.status == "converted"


def test_merged_provinces_become_ho_chi_minh_city() -> None:
    for province in ("Bình Dương", "Tỉnh Bình Dương", "Bà Rịa - Vũng Tàu", "Ba Ria Vung Tau"):
        unit = resolve_admin_unit(province)
        assert (unit.province_code, unit.province_name, unit.status) == (*HCM, "converted")
    unit = resolve_admin_unit("Bình Dương", "Thành phố Thủ Dầu Một", "Phường Phú Cường")
    assert (unit.province_code, unit.ward_name, unit.old_district_name) == (
        "79",
        "Phường Thủ Dầu Một",
        "Thành phố Thủ Dầu Một",
    )
    # a post-reform HCMC ward written with the old province name
    unit = resolve_admin_unit("Bình Dương", None, "Phường Phú Lợi")
    assert (unit.province_code, unit.ward_name) == ("79", "Phường Phú Lợi")


def test_island_district_became_special_zone() -> None:
    unit = resolve_admin_unit("Bà Rịa - Vũng Tàu", "Huyện Côn Đảo")
    assert (unit.province_code, unit.ward_name, unit.status) == ("79", "Đặc khu Côn Đảo", "converted")


def test_other_province() -> None:
    unit = resolve_admin_unit("Hà Nội", "Quận Hoàn Kiếm", "Phường Hàng Bạc")
    assert (unit.province_code, unit.province_name, unit.ward_name) == (
        "01",
        "Thành phố Hà Nội",
        "Phường Hoàn Kiếm",
    )


def test_numbered_ward_without_district_is_ambiguous() -> None:
    unit = resolve_admin_unit("TP.HCM", None, "Phường 7")
    assert unit.status == "ambiguous"
    assert unit.ward_code is None
    assert unit.province_code == "79"
    assert unit.problem is not None and unit.problem[0] == "ward"
    with_district = resolve_admin_unit("TP.HCM", "Quận 3", "P.7")
    assert with_district.status == "converted"
    assert with_district.ward_code is not None


def test_names_differing_only_by_diacritics() -> None:
    assert resolve_admin_unit("TP.HCM", None, "Xã Thạnh An").ward_code == "27676"
    assert resolve_admin_unit("TP.HCM", None, "Xã Thanh An").ward_code == "25807"
    assert resolve_admin_unit("TP.HCM", None, "Xa Thanh An").status == "ambiguous"


def test_unknown_values() -> None:
    unit = resolve_admin_unit("Không tồn tại")
    assert (unit.status, unit.province_code, unit.problem) == (
        "unknown",
        None,
        ("province", "unknown province"),
    )
    unit = resolve_admin_unit("TP.HCM", None, "Phường Không Tồn Tại")
    assert (unit.status, unit.province_code, unit.ward_code) == ("partial", "79", None)


def test_modes() -> None:
    assert resolve_admin_unit("TP.HCM", None, "Phường Bến Nghé", mode="new").status == "partial"
    assert resolve_admin_unit("TP.HCM", None, "Phường Sài Gòn", mode="legacy").status == "partial"


def test_default_province() -> None:
    unit = resolve_admin_unit(None, "Quận 1", "Phường Bến Nghé", default_province="79")
    assert unit.ward_name == "Phường Sài Gòn"


def test_columns_and_issues() -> None:
    result = normalize_admin_units(
        pa.array(["TP.HCM", "HCM", None, "Bình Dương", "Xyz", "TP.HCM", "TP.HCM"]),
        pa.array(["Quận 1", None, None, None, None, None, "Quận 1"]),
        pa.array(["Phường Bến Nghé", "Phường Sài Gòn", None, None, None, "Phường 7", "Phường Bến Nghé"]),
        column_names=("tinh", "quan", "phuong"),
    )
    table = result.table
    assert table.column_names == list(ADMIN_COLUMNS)
    assert table.column("province_code").to_pylist() == ["79", "79", None, "79", None, "79", "79"]
    assert table.column("ward_name").to_pylist() == [
        "Phường Sài Gòn",
        "Phường Sài Gòn",
        None,
        None,
        None,
        None,
        "Phường Sài Gòn",
    ]
    assert table.column("admin_status").to_pylist() == [
        "converted",
        "current",
        None,
        "converted",
        "unknown",
        "ambiguous",
        "converted",
    ]
    assert [(i.row, i.column, i.value) for i in result.issues] == [
        (4, "tinh", "Xyz"),
        (5, "phuong", "Phường 7"),
    ]
    assert table.column("admin_conflict").to_pylist() == [None] * 7  # Sài Gòn: both lists agree


def test_official_names_come_from_the_gso_list() -> None:
    from vietnam_provinces import Ward

    unit = resolve_admin_unit("TP.HCM", None, "Phường Bàn Cờ")
    assert unit.ward_code is not None
    official = Ward.from_code(int(unit.ward_code))  # type: ignore[arg-type]
    assert " ".join(official.name.split()) == unit.ward_name
    assert int(official.province_code) == 79


# The two reference packages disagree on some ward codes (measured on the 168 HCMC wards): GSO
# (vietnam-provinces) code, vietnamadminunits' code, by sample row.
DISAGREEING_WARDS = {
    75: ("Phường Linh Xuân", "26794", "26800"),
    76: ("Phường Tam Bình", "26797", "26803"),
    77: ("Phường Hiệp Bình", "26812", "26809"),
    84: ("Phường An Nhơn", "26887", "26876"),
    88: ("Phường Hạnh Thông", "26902", "26890"),
    89: ("Phường Thông Tây Hội", "26899", "26898"),
    102: ("Phường Tân Sơn Nhì", "27010", "27019"),
    109: ("Phường An Khánh", "27118", "27094"),
    114: ("Phường Bàn Cờ", "27160", "27154"),
    129: ("Phường Bình Phú", "27385", "27364"),
}


def test_admin_conflict_is_the_last_admin_column() -> None:
    assert ADMIN_COLUMNS[-1] == "admin_conflict"
    assert ADMIN_COLUMNS[:-1] == (
        "province_code",
        "province_name",
        "ward_code",
        "ward_name",
        "old_district_code",
        "old_district_name",
        "admin_status",
    )


@pytest.mark.parametrize(
    ("district", "ward", "gso", "own"),
    [
        (None, "Phường Linh Xuân", "26794", "26800"),
        (None, "Phường An Nhơn", "26887", "26876"),
        (None, "Phường Bàn Cờ", "27160", "27154"),
        ("Quận 3", "Phường 1", "27160", "27154"),  # pre-reform ward converted into Bàn Cờ
    ],
)
def test_reference_disagreement_keeps_the_gso_code_and_names_both(
    district: str | None, ward: str, gso: str, own: str
) -> None:
    unit = resolve_admin_unit("TP.HCM", district, ward)
    assert unit.ward_code == gso  # the official list wins
    assert unit.conflict == f"ward_code {gso} (vietnam-provinces) ≠ {own} (vietnamadminunits)"


def test_agreeing_references_record_no_conflict() -> None:
    assert resolve_admin_unit("TP.HCM", None, "Phường Sài Gòn").conflict is None
    assert resolve_admin_unit("TP.HCM", "Quận 1", "Phường Bến Nghé").conflict is None
    assert resolve_admin_unit("Hà Nội").conflict is None  # no ward: nothing to compare


def test_sample_wards_flag_exactly_the_disagreeing_codes() -> None:
    from samples.admin_units import hcmc_wards

    wards = hcmc_wards()
    result = normalize_admin_units(None, None, wards.column("ten"), default_province="Thành phố Hồ Chí Minh")
    conflicts = result.table.column("admin_conflict").to_pylist()
    names = wards.column("ten").to_pylist()
    assert len(conflicts) == 168
    flagged = {i: (names[i], c) for i, c in enumerate(conflicts) if c is not None}
    assert flagged == {
        row: (name, f"ward_code {gso} (vietnam-provinces) ≠ {own} (vietnamadminunits)")
        for row, (name, gso, own) in DISAGREEING_WARDS.items()
    }
    codes = result.table.column("ward_code").to_pylist()
    assert {row: codes[row] for row in DISAGREEING_WARDS} == {r: w[1] for r, w in DISAGREEING_WARDS.items()}
    assert result.issues == []  # a disagreement is a flag, not an unknown value
