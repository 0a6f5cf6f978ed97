"""Spec + published version -> CKAN package dict: Dublin Core / DCAT-AP mapping and its hash."""

import copy

import pytest

from catalog.mapping import (
    DATASTORE_KEY,
    EU,
    HASH_KEY,
    SYNTHETIC_TAGS,
    clean_tag,
    extras_of,
    frequency_uri,
    group_names,
    language_uris,
    package_dict,
    package_hash,
    slugify,
    stamp,
    tags_for,
    theme_uris,
    with_resource_ids,
)
from catalog.resources import (
    CSV_FORMAT,
    ROLE,
    Links,
    datastore_fields,
    datastore_marker,
    datastore_type,
    vn_number,
)
from catalog.spec import PublicationSpec, parse_publication
from citydata.spec.model import DatasetSpec

BASE = {
    "id": "bai-giu-xe",
    "agency": {"id": "so-gtvt", "title": {"vi": "Sở Giao thông Vận tải", "en": "Department of Transport"},
               "email": "sgtvt@tphcm.gov.vn"},
    "title": {"vi": "Bãi giữ xe công cộng", "en": "Public parking lots"},
    "description": {"vi": "Danh sách bãi giữ xe.", "en": "Parking lots."},
    "dublin_core": {
        "creator": "Sở GTVT", "publisher": "UBND TP.HCM", "date": "2025-07-01",
        "subject": ["giao thông", "bãi xe"], "contributor": ["Phòng Quản lý"], "coverage": "TP.HCM",
        "rights": "Sử dụng tự do, ghi nguồn.", "relation": ["https://example.gov.vn/quy-hoach"],
        "source": "Hệ thống quản lý bãi xe",
    },
    "tags": ["bãi xe", "đỗ xe"],
    "topics": ["Giao thông vận tải"],
    "update_frequency": "0 2 * * *",
    "source": {"type": "local_file", "path": "/dev/null"},
}  # fmt: skip

MANIFEST = {
    "version": 2,
    "created_at": "2025-08-01T02:00:00+00:00",
    "rows": 1500,
    "run_id": "20250801T020000000000Z",
    "content_hash": "sha256:" + "ab" * 32,
    "schema": [["ma_bai", "string"], ["suc_chua", "int64"], ["ngay", "date32[day]"], ["gia", "double"]],
    "columns": [{"column": "ma_bai", "label": "Mã bãi", "description": "Mã định danh"},
                {"column": "suc_chua", "label": "Sức chứa"}],
    "source": {"pull_id": "20250801T015900000000Z", "kind": "data"},
    "parts": [{"key": "published/so-gtvt/bai-giu-xe/v2/bai-giu-xe.parquet", "rows": 1500, "size": 9000,
               "sha256": "sha256:" + "11" * 32}],
    "files": {
        "csv": {"key": "published/so-gtvt/bai-giu-xe/v2/bai-giu-xe.csv", "size": 50000,
                "sha256": "sha256:" + "22" * 32},
        "dictionary": {"key": "published/so-gtvt/bai-giu-xe/v2/bai-giu-xe-dictionary.csv", "size": 300,
                       "sha256": "sha256:" + "33" * 32},
        "quality_summary": {"key": "published/so-gtvt/bai-giu-xe/v2/quality/summary.json"},
        "data_docs": {"key": "published/so-gtvt/bai-giu-xe/v2/quality/data_docs/index.html"},
    },
    "quality": {"score": 97.5, "pull_id": "20250801T015900000000Z"},
}  # fmt: skip
POINTER = {
    "current": 2,
    "versions": [
        {"version": 2, "manifest": "published/so-gtvt/bai-giu-xe/v2/_manifest.json",
         "created_at": "2025-08-01T02:00:00+00:00", "rows": 1500, "content_hash": "x"},
        {"version": 1, "manifest": "published/so-gtvt/bai-giu-xe/v1/_manifest.json",
         "created_at": "2025-07-01T02:00:00+00:00", "rows": 1490, "content_hash": "y"},
    ],
}  # fmt: skip
LINKS = Links("https://data.example.gov.vn", "https://s3.example.gov.vn/citydata-lake/")
POINTER_KEY = "published/so-gtvt/bai-giu-xe/_current.json"


def spec_with(**changes):
    return DatasetSpec.model_validate({**copy.deepcopy(BASE), **changes})


def build(spec=None, pub=None, manifest=None, **kw):
    spec = spec or spec_with()
    pub = pub or parse_publication(spec)
    return package_dict(spec, pub, manifest or MANIFEST, POINTER, LINKS, POINTER_KEY, **kw)


def test_core_and_dublin_core_fields():
    pkg = build()
    assert pkg["name"] == "bai-giu-xe" and pkg["title"] == "Bãi giữ xe công cộng"
    assert pkg["owner_org"] == "so-gtvt" and pkg["private"] is False and pkg["license_id"] == "cc-by"
    assert pkg["creator"] == [{"name": "Sở GTVT"}]
    assert pkg["publisher"][0]["name"] == "UBND TP.HCM"
    assert pkg["contact"] == [{"name": "Sở Giao thông Vận tải", "email": "sgtvt@tphcm.gov.vn"}]
    assert pkg["issued"] == "2025-07-01" and pkg["modified"] == MANIFEST["created_at"]
    assert pkg["identifier"] == "https://data.example.gov.vn/dataset/bai-giu-xe"
    assert pkg["language"] == [f"{EU}language/VIE"]
    assert pkg["frequency"] == f"{EU}frequency/DAILY"
    assert pkg["access_rights"] == f"{EU}access-right/PUBLIC"
    assert pkg["spatial_coverage"] == [{"text": "TP.HCM"}]
    assert pkg["qualified_attribution"][0]["agent"] == [{"name": "Phòng Quản lý"}]
    assert pkg["qualified_relation"][0]["relation"] == "https://example.gov.vn/quy-hoach"
    assert "Hệ thống quản lý bãi xe" in pkg["provenance"] and "20250801T015900000000Z" in pkg["provenance"]
    assert pkg["version"] == "2" and "+10 so với v1" in pkg["version_notes"]
    assert pkg["has_version"] == [LINKS.object_url("published/so-gtvt/bai-giu-xe/v1/_manifest.json")]
    assert [g["name"] for g in pkg["groups"]] == ["giao-thong-van-tai"]
    assert {t["name"] for t in pkg["tags"]} == {"bãi xe", "đỗ xe", "giao thông"}
    assert "Public parking lots" in pkg["notes"] and "v1 — 2025-07-01, 1.490 dòng" in pkg["notes"]
    assert extras_of(pkg)["citydata_managed"] == "true"


def test_dublin_core_identifier_and_publication_options_win():
    spec = spec_with(
        dublin_core={**BASE["dublin_core"], "identifier": "urn:hcm:bai-giu-xe", "language": ["vi", "en"]},
        publication={"private": True, "contact": {"name": "Phòng Dữ liệu", "email": "dl@x.vn"},
                     "temporal": {"start": "2024-01-01", "end": "2024-12-31"}, "spatial": "Quận 1",
                     "themes": ["TRAN", "http://example.org/theme"], "landing_page": "https://x.vn/bx"},
    )  # fmt: skip
    pkg = build(spec)
    assert pkg["identifier"] == "urn:hcm:bai-giu-xe"
    assert pkg["language"] == [f"{EU}language/VIE", f"{EU}language/ENG"]
    assert pkg["private"] is True and pkg["access_rights"].endswith("NON_PUBLIC")
    assert pkg["contact"] == [{"name": "Phòng Dữ liệu", "email": "dl@x.vn"}]
    assert pkg["temporal_coverage"] == [{"start": "2024-01-01", "end": "2024-12-31"}]
    assert pkg["spatial_coverage"] == [{"text": "Quận 1"}]
    assert pkg["theme"] == [f"{EU}data-theme/TRAN", "http://example.org/theme"]
    assert pkg["url"] == "https://x.vn/bx"


def test_synthetic_dataset_says_so_in_tags_notes_and_extras():
    pkg = build(spec_with(synthetic=True))
    names = [t["name"] for t in pkg["tags"]]
    assert all(tag in names for tag in SYNTHETIC_TAGS)
    assert "Dữ liệu giả lập" in pkg["notes"] and "synthetic" in pkg["notes"]
    assert extras_of(pkg)["citydata_synthetic"] == "true"
    assert extras_of(build())["citydata_synthetic"] == "false"


def test_resources_point_at_s3_with_hashes_and_roles():
    pkg = build()
    roles = [r[ROLE] for r in pkg["resources"]]
    assert roles == ["parquet-00000", "csv", "dictionary", "quality-summary", "quality-docs", "versions"]
    parquet, csv = pkg["resources"][0], pkg["resources"][1]
    assert parquet["url"] == LINKS.object_url(MANIFEST["parts"][0]["key"])
    assert parquet["hash"] == "11" * 32 and parquet["size"] == 9000 and parquet["format"] == "Parquet"
    assert csv["format"] == CSV_FORMAT == "CSV"  # CKAN's format facet; XLoader is kept away by the plugin
    assert csv["datastore_active"] is True and "datastore_active" not in parquet
    assert "toàn bộ dữ liệu" in csv["description"]
    assert pkg["resources"][-1]["url"] == LINKS.object_url(POINTER_KEY)
    draft = build(datastore_ready=False)
    assert "datastore_active" not in draft["resources"][1] and extras_of(draft)[DATASTORE_KEY] == ""


def test_several_parts_give_several_parquet_resources():
    manifest = copy.deepcopy(MANIFEST)
    manifest["parts"] = [
        {"key": f"published/so-gtvt/bai-giu-xe/v2/bai-giu-xe-part-{i:05d}.parquet", "rows": n, "size": 1,
         "sha256": "sha256:00"} for i, n in enumerate([1000, 500])
    ]  # fmt: skip
    pkg = build(manifest=manifest)
    parquet = [r for r in pkg["resources"] if r[ROLE].startswith("parquet")]
    assert [r[ROLE] for r in parquet] == ["parquet-00000", "parquet-00001"]
    assert "phần 2/2" in parquet[1]["name"] and "1.001–1.500" in parquet[1]["description"]


def test_datastore_cap_is_said_in_the_csv_description():
    spec = spec_with(publication={"datastore_rows": 100})
    csv = build(spec)["resources"][1]
    assert "100 dòng đầu" in csv["description"]


def test_package_hash_is_stable_and_sensitive():
    a, b = build(), build()
    assert package_hash(a) == package_hash(b)
    assert package_hash(stamp(a, "whatever")) == package_hash(a)  # the hash extra is not hashed
    assert package_hash(build(spec_with(title={"vi": "Bãi đỗ xe"}))) != package_hash(a)
    changed = copy.deepcopy(MANIFEST)
    changed["parts"][0]["sha256"] = "sha256:" + "99" * 32
    assert package_hash(build(manifest=changed)) != package_hash(a)
    private = build(spec_with(publication={"private": True}))
    assert package_hash(private) != package_hash(a)
    with_ids = dict(a, id="x", resources=[dict(r, id=f"r{i}") for i, r in enumerate(a["resources"])])
    assert package_hash(with_ids) == package_hash(a)  # CKAN's ids do not count


def test_stamp_replaces_the_hash_extra():
    pkg = stamp(stamp(build(), "one"), "two")
    assert [e["value"] for e in pkg["extras"] if e["key"] == HASH_KEY] == ["two"]


def test_resource_ids_kept_by_role():
    desired = [{ROLE: "csv", "url": "new"}, {ROLE: "dictionary", "url": "d"}]
    existing = [{ROLE: "csv", "id": "abc", "url": "old"}, {"id": "zzz"}]
    assert with_resource_ids(desired, existing) == [{ROLE: "csv", "url": "new", "id": "abc"}, desired[1]]


@pytest.mark.parametrize(
    ("text", "slug"),
    [("Giao thông vận tải", "giao-thong-van-tai"), ("Đất đai & Xây dựng", "dat-dai-xay-dung"),
     ("Y tế", "y-te"), ("Ô", "o-topic")],
)  # fmt: skip
def test_slugify(text, slug):
    assert slugify(text) == slug


def test_tags_cleaned_and_deduplicated():
    assert clean_tag("  giao   thông/vận tải ") == "giao thông vận tải"
    assert clean_tag("x") is None
    spec = spec_with(
        tags=["Giao thông", "giao thông", "a"], dublin_core={**BASE["dublin_core"], "subject": []}
    )
    assert tags_for(spec) == ["Giao thông"]
    assert group_names(spec_with(topics=["Y tế", "Y Tế"])) == ["y-te"]


@pytest.mark.parametrize(
    ("cron", "code"),
    [("@daily", "DAILY"), ("0 2 * * *", "DAILY"), ("15 * * * *", "HOURLY"), ("0 3 * * 1", "WEEKLY"),
     ("0 3 1 * *", "MONTHLY"), ("0 3 1 1 *", "ANNUAL"), ("*/5 * * * *", "UPDATE_CONT"),
     ("@yearly", "ANNUAL")],
)  # fmt: skip
def test_frequency(cron, code):
    assert frequency_uri(cron) == f"{EU}frequency/{code}"


def test_languages_and_themes():
    assert language_uris(["vi", "EN", "xx"]) == [f"{EU}language/VIE", f"{EU}language/ENG", "xx"]
    assert theme_uris(["tran", " "]) == [f"{EU}data-theme/TRAN"]
    assert vn_number(1234567) == "1.234.567"


def test_datastore_fields_carry_the_dictionary():
    fields = datastore_fields(MANIFEST)
    assert fields[0] == {"id": "ma_bai", "type": "text", "info": {"label": "Mã bãi", "notes": "Mã định danh"}}
    assert [f["type"] for f in fields] == ["text", "int8", "date", "float8"]
    assert fields[3]["info"] == {}
    assert datastore_type("timestamp[us, tz=Asia/Ho_Chi_Minh]") == "timestamptz"
    assert datastore_type("decimal128(10, 2)") == "numeric" and datastore_type("bool") == "bool"


def test_datastore_marker_follows_content_rows_and_fields():
    pub = PublicationSpec()
    marker = datastore_marker(MANIFEST, pub)
    assert marker.startswith(MANIFEST["content_hash"]) and "rows=1500" in marker
    assert datastore_marker(MANIFEST, PublicationSpec(datastore_rows=10)) != marker
    relabeled = copy.deepcopy(MANIFEST)
    relabeled["columns"][0]["label"] = "Mã số bãi"
    assert datastore_marker(relabeled, pub) != marker
    assert datastore_marker(MANIFEST, PublicationSpec(datastore=False)) == ""


def test_csv_disabled_moves_the_datastore_to_the_parquet():
    manifest = copy.deepcopy(MANIFEST)
    del manifest["files"]["csv"]
    pkg = build(spec_with(publication={"csv": False}), manifest=manifest)
    assert pkg["resources"][0]["datastore_active"] is True


def test_xlsx_resource_and_why_a_version_has_none():
    manifest = copy.deepcopy(MANIFEST)
    manifest["files"]["xlsx"] = {"key": "published/so-gtvt/bai-giu-xe/v2/bai-giu-xe.xlsx", "size": 7000,
                                 "sha256": "sha256:" + "44" * 32}  # fmt: skip
    pkg = build(manifest=manifest)
    roles = [r[ROLE] for r in pkg["resources"]]
    assert roles[:4] == ["parquet-00000", "csv", "xlsx", "dictionary"]
    xlsx = pkg["resources"][2]
    assert xlsx["format"] == "XLSX" and xlsx["name"] == "Dữ liệu (Excel XLSX)"
    assert xlsx["mimetype"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert xlsx["hash"] == "44" * 32 and xlsx["size"] == 7000 and "Từ điển dữ liệu" in xlsx["description"]
    assert "datastore_active" not in xlsx and "Không có bản Excel" not in pkg["notes"]
    skipped = copy.deepcopy(MANIFEST)
    skipped["skipped"] = {"xlsx": {"reason": "rows", "value": 250_000, "limit": 200_000}}
    pkg = build(manifest=skipped)
    assert "xlsx" not in [r[ROLE] for r in pkg["resources"]]
    why = "Không có bản Excel (XLSX): phiên bản có 250.000 dòng, quá giới hạn 200.000 dòng đặt cho bản Excel."
    assert why in pkg["notes"] and why in pkg["resources"][1]["description"]
    skipped["skipped"]["xlsx"] = {"reason": "rows", "value": 2_000_000, "limit": 1_048_575}
    assert "1.048.575 dòng của một trang tính Excel" in build(manifest=skipped)["notes"]
