"""Pure logic of the catalog record (what rebuild reads from the lake) and of retirement states."""

import pytest

import connectors  # noqa: F401  (registers the source types the spec names)
from catalog.rebuild import RebuildItem, RebuildResult
from catalog.record import RECORD_FORMAT, CatalogRecord, record_key, spec_snapshot
from catalog.retire import is_retired, retired_marker
from citydata.spec.model import DatasetSpec

SPEC = {
    "id": "truong-hoc",
    "agency": {"id": "so-gddt", "title": {"vi": "Sở Giáo dục và Đào tạo", "en": "Education"}},
    "title": {"vi": "Danh sách trường học", "en": "Schools"},
    "description": {"vi": "Trường học trên địa bàn Thành phố Hồ Chí Minh."},
    "dublin_core": {
        "creator": "Sở GD&ĐT",
        "publisher": "UBND TP.HCM",
        "date": "2025-07-01",
        "subject": ["giáo dục"],
        "coverage": "Thành phố Hồ Chí Minh",
    },
    "topics": ["Giáo dục"],
    "source": {"type": "local_file", "path": "/srv/truong.csv"},
    "schema": {"primary_key": ["ma_truong"], "columns": {"ma_truong": {"label": "Mã trường"}}},
    "publication": {"private": True, "csv_bom": False},
    "labeling": {"task_type": "text_classification", "labels": {"a": "Loại A"}, "columns": ["ten"]},
}


def test_record_keeps_the_whole_spec_through_json():
    spec = DatasetSpec.model_validate(SPEC)
    record = CatalogRecord("truong-hoc", "so-gddt", spec_snapshot(spec), version=3, package_hash="sha256:x")
    data = record.as_dict()
    assert data["format"] == RECORD_FORMAT and data["retired"] is None
    back = CatalogRecord.from_dict(data)
    assert back.dataset_spec() == spec  # every section, the stage-owned ones included
    assert back.content() == record.content()


def test_record_content_ignores_only_its_time_stamp():
    spec = spec_snapshot(DatasetSpec.model_validate(SPEC))
    a = CatalogRecord("truong-hoc", "so-gddt", spec, updated_at="2026-01-01T00:00:00+00:00")
    b = CatalogRecord("truong-hoc", "so-gddt", spec, updated_at="2026-02-01T00:00:00+00:00")
    assert a.content() == b.content()
    assert a.content() != CatalogRecord("truong-hoc", "so-gddt", spec, retired="private").content()


def test_record_lives_outside_the_public_prefix():
    assert record_key("so-gddt", "truong-hoc") == "catalog/so-gddt/truong-hoc/entry.json"
    assert not record_key("so-gddt", "truong-hoc").startswith("published/")


def test_unknown_record_format_is_refused():
    with pytest.raises(ValueError, match="unknown catalog record format"):
        CatalogRecord.from_dict({"format": "other/9", "dataset": "x", "agency": "y", "spec": {}})


def test_retired_means_marked_and_in_the_policy_state():
    marked = {"extras": [{"key": "citydata_hash", "value": retired_marker("private")}], "private": True}
    assert is_retired(marked, "private")
    assert not is_retired({**marked, "private": False}, "private")
    assert not is_retired(marked, "delete")
    deleted = {"extras": [{"key": "citydata_hash", "value": "retired:delete"}], "state": "deleted"}
    assert is_retired(deleted, "delete") and not is_retired({**deleted, "state": "active"}, "delete")


def test_rebuild_result_fails_when_one_dataset_failed():
    ok = RebuildResult([RebuildItem("a", "x", "created"), RebuildItem("b", "x", "unchanged"),
                        RebuildItem("c", "x", "skipped")])  # fmt: skip
    assert ok.ok and ok.counts() == {"created": 1, "unchanged": 1, "skipped": 1}
    bad = RebuildResult([*ok.items, RebuildItem("d", "x", "failed", message="boom")])
    assert not bad.ok and bad.as_dict()["counts"]["failed"] == 1
