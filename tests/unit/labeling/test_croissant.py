"""The Croissant JSON-LD builder (pure) and its validation with mlcroissant (no network)."""

import json

import pytest

from labeling.croissant import CONTEXT, CroissantInvalid, croissant_jsonld, data_type, validate
from labeling.labeled import label_counts

BASE = "http://s3.example/lake/"
PREFIX = "published/so-x/phan-anh-labels/v3/"
SCHEMA = [["row_id", "string"], ["anh", "string"], ["label", "string"], ["votes", "int64"],
          ["tie", "bool"], ["diem", "double"], ["ngay", "date32[day]"]]  # fmt: skip


def manifest(parts: int = 1, csv: bool = True) -> dict:
    files = {"csv": {"key": PREFIX + "phan-anh-labels.csv", "size": 120, "sha256": "sha256:" + "c" * 64}}
    return {
        "version": 3,
        "created_at": "2025-06-01T00:00:00+00:00",
        "schema": SCHEMA,
        "columns": [{"column": "label", "label": "Nhãn", "description": "Nhãn đồng thuận"}],
        "parts": [
            {
                "key": f"{PREFIX}part-{i}.parquet",
                "name": f"part-{i}.parquet",
                "size": 100 + i,
                "sha256": "sha256:" + f"{i}" * 64,
                "rows": 2,
            }
            for i in range(parts)
        ],
        "files": files if csv else {},
    }


def build(**overrides):
    args = dict(
        name="phan-anh-labels",
        title="Phản ánh — nhãn (labels)",
        description="Nhãn / labels",
        license_url="http://publications.europa.eu/resource/authority/licence/CC_BY_4_0",
        url="http://ckan.example/dataset/phan-anh-labels",
        creator="Sở X",
        publisher="UBND",
        date_published="2025-06-01T00:00:00+00:00",
        version=3,
        manifest=manifest(),
        object_url=lambda key: BASE + key,
        url_columns=["anh"],
        counts={"giao_thong": 2, "moi_truong": 1},
        per_label_agreement={"giao_thong": 0.5, "khac": 1.0},
        agreement={"cohen_kappa": 0.6},
        cite_as="@misc{x}",
    )
    return croissant_jsonld(**(args | overrides))


def test_the_context_is_mlcroissants():
    from mlcroissant._src.core.rdf import make_context

    assert make_context() == CONTEXT


def test_files_fields_and_label_statistics():
    doc = build()
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.0" and doc["version"] == "3.0.0"
    parquet, csv = doc["distribution"]
    assert parquet["contentUrl"] == BASE + PREFIX + "part-0.parquet"
    assert parquet["encodingFormat"] == "application/x-parquet" and parquet["sha256"] == "0" * 64
    assert csv["encodingFormat"] == "text/csv" and csv["sha256"] == "c" * 64
    records, stats = doc["recordSet"]
    types = {f["name"]: f["dataType"] for f in records["field"]}
    assert types == {"row_id": "sc:Text", "anh": "sc:URL", "label": "sc:Text", "votes": "sc:Integer",
                     "tie": "sc:Boolean", "diem": "sc:Float", "ngay": "sc:Date"}  # fmt: skip
    assert {f["source"]["fileObject"]["@id"] for f in records["field"]} == {"parquet-00000"}
    assert [f["source"]["extract"]["column"] for f in records["field"]] == [c for c, _ in SCHEMA]
    assert stats["data"] == [
        {
            "label_statistics/label": "giao_thong",
            "label_statistics/count": 2,
            "label_statistics/agreement": 0.5,
        },
        {
            "label_statistics/label": "moi_truong",
            "label_statistics/count": 1,
            "label_statistics/agreement": None,
        },
    ]
    assert "giao_thong: 2 (agreement 0.5)" in doc["description"]
    assert doc["citeAs"] == "@misc{x}" and doc["license"].endswith("CC_BY_4_0")
    json.dumps(doc)  # plain JSON


def test_several_parquet_parts_read_records_from_the_csv():
    doc = build(manifest=manifest(parts=2))
    assert [d["@id"] for d in doc["distribution"]] == ["parquet-00000", "parquet-00001", "csv"]
    assert {f["source"]["fileObject"]["@id"] for f in doc["recordSet"][0]["field"]} == {"csv"}
    with pytest.raises(ValueError, match="no single file"):
        build(manifest=manifest(parts=2, csv=False))


def test_data_types():
    assert data_type("large_string") == "sc:Text" and data_type("uint8") == "sc:Integer"
    assert (
        data_type("timestamp[us, tz=UTC]") == "sc:DateTime" and data_type("decimal128(10, 2)") == "sc:Float"
    )
    assert data_type("string", is_url=True) == "sc:URL"


def test_mlcroissant_accepts_it_and_rejects_a_broken_one():
    assert validate(build()) == []
    broken = build()
    broken["recordSet"][0]["field"][0]["source"]["fileObject"]["@id"] = "missing"
    with pytest.raises(CroissantInvalid, match="missing"):
        validate(broken)
    untyped = build()
    untyped["recordSet"][0]["field"][0]["dataType"] = "sc:Nope"
    with pytest.raises(CroissantInvalid, match="dataType"):
        validate(untyped)


def test_label_counts_per_row_or_per_box():
    assert label_counts(["a", None, "b", "a"], "text_classification") == {"a": 2, "b": 1}
    boxes = [json.dumps([[1, 2, 3, 4, "rac"], [5, 6, 7, 8, "o_ga"]]), json.dumps([[1, 1, 1, 1, "rac"]]), None]
    assert label_counts(boxes, "image_bbox") == {"o_ga": 1, "rac": 2}
