"""Automatic plausibility checks: planned from column names, labels and types; run in GX or pyarrow."""

import datetime

import pyarrow as pa
import pytest

from citydata.spec.model import DatasetSpec
from quality.plausibility import (
    LATITUDE,
    LONGITUDE,
    ColumnFacts,
    facts_of,
    official_codes,
    plausibility_expectations,
    tokens,
)
from quality.spec import parse_quality, plan
from quality.validate import evaluate

BASE = {
    "id": "phuong-xa",
    "agency": {"id": "so-noi-vu", "title": {"vi": "Sở Nội vụ"}},
    "title": {"vi": "Phường xã"},
    "description": {"vi": "Đơn vị hành chính"},
    "dublin_core": {"creator": "Sở Nội vụ", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
    "source": {"type": "local_file", "path": "/dev/null"},
}
NUMBER, TEXT, DATE = ColumnFacts("number"), ColumnFacts("text"), ColumnFacts("date")
WARDS = ("25747", "26734", "26737", "26740")  # Thủ Dầu Một (Bình Dương), then Sài Gòn wards


def spec_with(schema=None, quality=None) -> DatasetSpec:
    return DatasetSpec.model_validate({**BASE, "schema": schema or {}, "quality": quality or {}})


def planned_for(facts: dict[str, ColumnFacts], spec: DatasetSpec | None = None) -> dict[str, object]:
    spec = spec or spec_with()
    found = plausibility_expectations(spec, parse_quality(spec), facts)
    by_column = {p.columns[0]: p for p in found}
    assert len(by_column) == len(found)  # one automatic check per column at most
    return by_column


def labelled(kind: str, *labels: str, sample: tuple[str, ...] = ()) -> ColumnFacts:
    return ColumnFacts(kind, labels, None, sample)  # type: ignore[arg-type]


def test_tokens_drop_accents_and_punctuation():
    assert tokens("Tọa độ - Vĩ độ (°)") == ("toa", "do", "vi", "do")
    assert tokens("toa_do_vi_do") == ("toa", "do", "vi", "do")
    assert tokens("Đường kính") == ("duong", "kinh")


@pytest.mark.parametrize(
    ("name", "facts", "axis"),
    [
        ("vi_do", NUMBER, "latitude"),
        ("toa_do_vi_do", NUMBER, "latitude"),
        ("latitude", NUMBER, "latitude"),
        ("lat", NUMBER, "latitude"),
        ("cot_3", labelled("number", "Tọa độ trung tâm - Vĩ độ"), "latitude"),
        ("cot_4", labelled("number", "Toa do trung tam - Kinh do"), "longitude"),  # no accents
        ("cot_5", labelled("number", "Longitude (WGS84)"), "longitude"),
        ("kinh_do", NUMBER, "longitude"),
        ("lng", NUMBER, "longitude"),
        ("lon", NUMBER, "longitude"),
    ],
)
def test_coordinates_are_bounded_to_viet_nam_with_error_severity(name, facts, axis):
    (p,) = planned_for({name: facts}).values()
    low, high = LATITUDE if axis == "latitude" else LONGITUDE
    assert p.type == "expect_column_values_to_be_between" and p.columns == [name]
    assert (p.kwargs["min_value"], p.kwargs["max_value"]) == (low, high)
    assert (low, high) in ((6.0, 23.5), (102.0, 118.0))
    assert p.severity == "error" and p.origin == "plausibility.coordinates"
    vi = "Vĩ độ" if axis == "latitude" else "Kinh độ"
    assert p.description.startswith(vi) and f"{axis.capitalize()} within Viet Nam" in p.description


def test_short_coordinate_names_need_the_other_axis_or_to_be_the_whole_name():
    assert planned_for({"so_lon": NUMBER}) == {}  # "số lớn", not a longitude
    paired = planned_for({"ward_lat": NUMBER, "ward_lon": NUMBER})
    assert {c: p.kwargs["min_value"] for c, p in paired.items()} == {"ward_lat": 6.0, "ward_lon": 102.0}


def test_coordinates_must_be_numbers():
    assert planned_for({"vi_do": TEXT, "kinh_do": labelled("other")}) == {}


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        ("ty_le", NUMBER),
        ("ti_le_ho_ngheo", NUMBER),
        ("phan_tram", NUMBER),
        ("percent_done", NUMBER),
        ("hoan_thanh_pct", NUMBER),
        ("cot_7", labelled("number", "Tỷ lệ hộ nghèo")),
        ("cot_8", labelled("number", "Ty le ho ngheo")),
        ("cot_9", labelled("number", "Phần trăm hoàn thành")),
        ("cot_10", labelled("number", "Hoàn thành (%)")),
    ],
)
def test_percentages_are_between_0_and_100_as_warnings(name, facts):
    (p,) = planned_for({name: facts}).values()
    assert (p.kwargs["min_value"], p.kwargs["max_value"], p.severity) == (0, 100, "warn")
    assert p.origin == "plausibility.percentages" and " / Percentage between 0 and 100" in p.description


def test_dates_run_from_1800_to_fifty_years_ahead_as_warnings():
    found = planned_for({"ngay_cap": DATE, "cap_nhat": ColumnFacts("date", (), "Asia/Ho_Chi_Minh")})
    naive, aware = found["ngay_cap"], found["cap_nhat"]
    limit = datetime.date.today().year + 50
    assert naive.kwargs["min_value"] == "1800-01-01T00:00:00"
    assert naive.kwargs["max_value"].startswith(str(limit)) and naive.severity == "warn"
    assert aware.kwargs["min_value"] == "1800-01-01T00:00:00+00:00"  # GX needs aware bounds there
    assert naive.origin == "plausibility.dates" and "Date from 1800-01-01" in naive.description


def test_official_code_lists_unite_the_current_and_the_pre_2025_units():
    provinces, districts, wards = (official_codes(level) for level in ("province", "district", "ward"))
    assert "79" in provinces and "74" in provinces and len(provinces) == 63  # Bình Dương: merged in 2025
    assert "760" in districts and all(len(c) == 3 for c in districts)  # Quận 1
    assert "26734" in wards and "25747" in wards and len(wards) > 10_000
    assert all(len(c) == 5 for c in wards)


@pytest.mark.parametrize(
    ("name", "facts", "level", "engine"),
    [
        ("ma_tinh", labelled("text", sample=("79", "74", "01")), "province", "gx"),
        ("ma_tinh_thanh", labelled("text", sample=("79",)), "province", "gx"),
        ("province_code", labelled("text", sample=("79",)), "province", "gx"),
        ("ma_quan_huyen", labelled("text", sample=("760", "761")), "district", "gx"),
        ("district_code", labelled("text", sample=("760",)), "district", "gx"),
        ("ma_phuong_xa", labelled("text", sample=WARDS), "ward", "arrow"),
        ("ma_xa", labelled("text", sample=WARDS), "ward", "arrow"),
        ("ward_code", labelled("text", sample=WARDS), "ward", "arrow"),
        ("ma", labelled("text", "Mã phường/xã", sample=WARDS), "ward", "arrow"),
        ("ma_so", labelled("text", "Ma phuong xa", sample=WARDS), "ward", "arrow"),
        ("ma_phuong_xa_cu", labelled("text", sample=WARDS), "ward", "arrow"),
        ("cot_2", labelled("text", "Mã phường (trước 2025)", sample=WARDS), "ward", "arrow"),
    ],
)
def test_admin_code_columns_get_the_official_list_of_their_level(name, facts, level, engine):
    (p,) = planned_for({name: facts}).values()
    assert p.type == "expect_column_values_to_be_in_set" and p.severity == "error"
    assert set(p.kwargs["value_set"]) == official_codes(level)
    assert p.origin == "plausibility.admin_codes" and p.engine == engine  # the ward set runs in pyarrow
    assert "official lists" in p.description and p.description.startswith("Mã ")


def test_a_code_column_whose_values_are_not_admin_codes_is_left_alone():
    half = labelled("text", sample=("79", "XH-02"))  # 50% official: checked
    assert planned_for({"ma_tinh": half})
    other = labelled("text", sample=("XH-01", "XH-02", "79"))  # "mã xã hội": mostly other codes
    assert planned_for({"ma_xa_hoi": other, "ma_tinh": labelled("text")}) == {}  # no sample, no check
    assert planned_for({"ma_tinh": labelled("number", sample=("79",))}) == {}  # only text columns
    # "tình trạng" (status), "quản lý", "phương tiện": other words after ma_tinh / ma_quan / ma_phuong
    codes = labelled("text", sample=("01", "02", "760", "26734"))
    assert planned_for({"ma_tinh_trang": codes, "ma_quan_ly": codes, "ma_phuong_tien": codes}) == {}


def test_columns_the_clean_stage_adds_for_admin_units_get_no_duplicate():
    spec = spec_with({"columns": {"phuong": {"admin_unit": "ward"}}})
    facts = {"province_code": labelled("text", sample=("79",)), "ward_code": labelled("text", sample=WARDS)}
    assert planned_for(facts, spec) == {}
    assert set(planned_for(facts)) == {"province_code", "ward_code"}  # the source's own columns


def test_columns_without_a_meaning_get_nothing():
    facts = {
        "ten": TEXT,
        "dien_tich_km2": NUMBER,
        "ghi_chu": TEXT,
        "so_luong": NUMBER,
        "co": labelled("other"),
    }
    assert planned_for(facts) == {}


def test_spec_bounds_suppress_the_automatic_check():
    schema = {"columns": {"vi_do": {"type": "number", "min": 8, "max": 24}, "kinh_do": {"type": "number"}}}
    own = {"type": "expect_column_values_to_be_between", "args": {"column": "ty_le", "max_value": 1}}
    spec = spec_with(schema, {"expectations": [own]})
    found = planned_for({"vi_do": NUMBER, "kinh_do": NUMBER, "ty_le": NUMBER}, spec)
    assert set(found) == {"kinh_do"}
    _, planned = plan(spec, {"vi_do", "kinh_do", "ty_le"}, facts={"vi_do": NUMBER, "kinh_do": NUMBER})
    between = [(p.columns, p.origin) for p in planned if p.type == "expect_column_values_to_be_between"]
    assert between == [
        (["vi_do"], "schema.columns.vi_do.min"),
        (["ty_le"], "quality.expectations[0]"),
        (["kinh_do"], "plausibility.coordinates"),
    ]


def test_plausibility_false_switches_every_automatic_check_off():
    facts = {"vi_do": NUMBER, "ty_le": NUMBER, "ngay": DATE}
    _, on = plan(spec_with(), set(facts), facts=facts)
    _, off = plan(spec_with(quality={"plausibility": False}), set(facts), facts=facts)
    assert {p.origin for p in on} == {
        "plausibility.coordinates",
        "plausibility.percentages",
        "plausibility.dates",
    }
    assert off == []
    assert plan(spec_with(), set(facts))[1] == []  # nothing known of the columns: nothing automatic


def test_facts_come_from_the_arrow_types_and_the_clean_manifest_labels():
    table = pa.table(
        {
            "cot_1": pa.array([10.969, 10.8]),
            "ma": pa.array(["25747", None]),
            "ngay": pa.array([datetime.datetime(2025, 7, 1)] * 2, pa.timestamp("s", tz="UTC")),
            "co": pa.array([True, False]),
        }
    )
    columns = [
        {"name": "cot_1", "label": "Vĩ độ", "source_label": "Tọa độ - Vĩ độ"},
        {"name": "ma", "label": "Mã"},
    ]
    facts = facts_of(table, columns)
    assert facts["cot_1"] == ColumnFacts("number", ("Vĩ độ", "Tọa độ - Vĩ độ"))
    assert facts["ma"] == ColumnFacts("text", ("Mã",), None, ("25747",))
    assert facts["ngay"].kind == "date" and facts["ngay"].timezone == "UTC"
    assert facts["co"].kind == "other"


def test_the_incident_values_fail_and_block():
    """Native numeric cells re-read as Vietnamese text: 10.969 -> 10969, 106.661 -> 106661."""
    table = pa.table(
        {
            "ma_so": ["25747", None, "99999"],  # a null is not a value: GX and pyarrow skip it
            "vi_do": [10969.0, 10.776, 10.78],
            "kinh_do": [106661.0, 106.7, 106.69],
            "ty_le_dan_so": [12.5, 140.0, 3.0],
        }
    )
    columns = [{"name": "ma_so", "label": "Mã phường/xã"}]
    planned, _, outcomes, failing = evaluate(spec_with(), table, columns)
    failed = {o.label: o for o in outcomes if not o.success}
    assert set(failed) == {
        "expect_column_values_to_be_between(vi_do)",
        "expect_column_values_to_be_between(kinh_do)",
        "expect_column_values_to_be_between(ty_le_dan_so)",
        "expect_column_values_to_be_in_set(ma_so)",
    }
    lat = failed["expect_column_values_to_be_between(vi_do)"]
    assert lat.severity == "error" and lat.partial_unexpected_list == [10969.0] and failing[lat.index] == [0]
    code = failed["expect_column_values_to_be_in_set(ma_so)"]  # run by pyarrow, reported like GX
    assert planned[code.index].engine == "arrow"
    assert (code.row_level, code.unexpected_count, code.partial_unexpected_list) == (True, 1, ["99999"])
    assert code.unexpected_percent == 50.0  # of the non-null values, as GX counts
    assert code.kwargs == {"column": "ma_so", "value_set_size": len(official_codes("ward"))}
    assert failing[code.index] == [2]
    assert failed["expect_column_values_to_be_between(ty_le_dan_so)"].severity == "warn"
    assert [o.index for o in outcomes] == list(range(len(planned)))
