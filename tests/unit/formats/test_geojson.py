"""GeoJSON reader: one row per feature, flattened properties, geometry as GeoJSON text, bad features
rejected by ordinal, bad documents refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connectors.base import RawObject
from connectors.formats.base import FormatError, FormatOptions, ReadBatch, ReadInfo
from connectors.formats.geojson import GeoJsonReader


def read(data: bytes | str, name: str = "phuong.geojson", **options: Any) -> tuple[list[ReadBatch], ReadInfo]:
    info = ReadInfo()
    raw = RawObject(name, "test://", data=data.encode() if isinstance(data, str) else data)
    return list(GeoJsonReader().read(raw, FormatOptions(**options), info)), info


def rows(batches: list[ReadBatch]) -> list[dict[str, str | None]]:
    return [row for b in batches for row in b.table.to_pylist()]


COLLECTION = """{
  "type": "FeatureCollection",
  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
  "features": [
    {"type": "Feature", "id": 1,
     "properties": {"ten": "Phường Bến Thành", "ma": "26734", "dan_so": 12500,
                    "hanh_chinh": {"quan": "Quận 1", "cap": 3}, "ghi_chu": null},
     "geometry": {"type": "Point", "coordinates": [106.6980, 10.7720]}},
    {"type": "Feature", "id": "p-2",
     "properties": {"ten": "Phường Sài Gòn", "tags": ["mới", "2025"]},
     "geometry": {"type": "Polygon",
                  "coordinates": [[[106.70, 10.77], [106.71, 10.77], [106.71, 10.78], [106.70, 10.77]]]}},
    {"type": "Feature", "properties": {"ten": "Chưa có ranh giới"}, "geometry": null}
  ]
}"""


def test_feature_collection_gives_one_row_per_feature() -> None:
    batches, info = read(COLLECTION)
    columns = [
        "id", "ten", "ma", "dan_so", "hanh_chinh.quan", "hanh_chinh.cap", "ghi_chu", "tags",
        "geometry_type", "geometry",
    ]  # fmt: skip
    assert info.header_labels == columns
    assert [(b.first_line, b.table.column_names, b.rejected) for b in batches] == [(1, columns, [])]
    polygon = "[[[106.70,10.77],[106.71,10.77],[106.71,10.78],[106.70,10.77]]]"
    values = [
        ["1", "Phường Bến Thành", "26734", "12500", "Quận 1", "3", None, None, "Point",
         '{"type":"Point","coordinates":[106.6980,10.7720]}'],
        ["p-2", "Phường Sài Gòn", None, None, None, None, None, '["mới","2025"]', "Polygon",
         '{"type":"Polygon","coordinates":' + polygon + "}"],
        [None, "Chưa có ranh giới", None, None, None, None, None, None, None, None],
    ]  # fmt: skip
    assert rows(batches) == [dict(zip(columns, row, strict=True)) for row in values]
    geometry = json.loads(rows(batches)[1]["geometry"] or "")
    assert geometry["coordinates"][0][2] == [106.71, 10.78]  # valid GeoJSON text round-trips


def test_invalid_features_are_rejected_by_ordinal_and_names_do_not_collide() -> None:
    def feature(properties: Any, geometry: Any, **extra: Any) -> dict[str, Any]:
        return {"type": "Feature", "properties": properties, "geometry": geometry, **extra}

    line = {"type": "LineString", "coordinates": [[106.7, 10.7], [106.8, 10.8]]}
    collection = {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [1, 2]}]}
    features = [
        feature({"geometry": "đa giác", "id": 7}, line, id=1),
        feature({}, {"type": "Circle", "coordinates": [1, 2]}),
        feature({}, {"type": "Point", "coordinates": ["106.7", 10.7]}),
        {"type": "Point", "coordinates": [1, 2]},
        feature([1], None),
        feature(None, {"type": "MultiPolygon", "coordinates": [[[1, 2]]]}),
        feature({"geometry_type": "x"}, collection),
    ]
    batches, info = read(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False))
    columns = [
        "feature.id",
        "properties.geometry",
        "id",
        "properties.geometry_type",
        "geometry_type",
        "geometry",
    ]
    assert info.header_labels == columns
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(1, 1), (7, 1)]
    assert rows(batches) == [
        dict(zip(columns, ["1", "đa giác", "7", None, "LineString", json.dumps(line, separators=(",", ":"))],
                 strict=True)),
        dict(zip(columns, [None, None, None, "x", "GeometryCollection",
                           json.dumps(collection, separators=(",", ":"))], strict=True)),
    ]  # fmt: skip
    rejected = [(r.line, r.reason) for b in batches for r in b.rejected]
    assert rejected == [
        (2, "invalid feature: unknown geometry type 'Circle'"),
        (3, "invalid feature: Point coordinates are not positions of numbers"),
        (4, "invalid feature: type is 'Point', expected 'Feature'"),
        (5, "invalid feature: properties is neither an object nor null"),
        (6, "invalid feature: MultiPolygon coordinates are not " + "lists of " * 3 + "positions of numbers"),
    ]
    assert batches[0].rejected[0].raw == json.dumps(features[1], separators=(",", ":"))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"type": "Feature", "properties": {"ten": "Cần Giờ"}, "geometry": None},
         [{"ten": "Cần Giờ", "geometry_type": None, "geometry": None}]),
        ({"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]},
         [{"geometry_type": "MultiPoint", "geometry": '{"type":"MultiPoint","coordinates":[[1,2],[3,4]]}'}]),
    ],
)  # fmt: skip
def test_single_feature_or_bare_geometry_is_one_row(document: Any, expected: list[dict[str, Any]]) -> None:
    batches, _ = read(json.dumps(document, ensure_ascii=False))
    assert rows(batches) == expected


def test_empty_collection_gives_an_empty_table_with_geometry_columns() -> None:
    batches, info = read('{"type": "FeatureCollection", "features": []}')
    assert [(b.table.num_rows, b.table.column_names) for b in batches] == [(0, ["geometry_type", "geometry"])]
    assert info.header_labels == ["geometry_type", "geometry"]


EXPECTED_TYPES = "(expected FeatureCollection, Feature or a geometry)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"type": "FeatureCollection",\n "features": [}',
            "invalid JSON at line 2, column 15: Expecting value",
        ),
        ("[1, 2]", "not GeoJSON: the top level is not an object"),
        ('{"type": "Topology"}', f"not GeoJSON: top-level type is 'Topology' {EXPECTED_TYPES}"),
        ('{"features": []}', f"not GeoJSON: top-level type is None {EXPECTED_TYPES}"),
        (
            '{"type": "FeatureCollection", "features": {}}',
            "not valid GeoJSON: FeatureCollection without a 'features' list",
        ),
        (
            '{"type": "FeatureCollection", "features": [1, 2]}',
            "not valid GeoJSON: all 2 features are invalid; feature 1: not a JSON object",
        ),
        (
            '{"type": "Feature", "geometry": {"type": "Point"}}',
            "not valid GeoJSON: the feature: Point coordinates are not positions of numbers",
        ),
        ("", "empty file"),
    ],
)
def test_invalid_documents_are_format_errors(text: str, message: str) -> None:
    with pytest.raises(FormatError) as exc:
        read(text)
    assert str(exc.value) == f"phuong.geojson: {message}"


def test_large_collection_is_batched_by_feature_ordinal() -> None:
    features = [
        {"type": "Feature", "properties": {"i": i}, "geometry": {"type": "Point", "coordinates": [106, 10]}}
        for i in range(2100)
    ]
    batches, _ = read(json.dumps({"type": "FeatureCollection", "features": features}), batch_rows=1000)
    assert [(b.first_line, b.table.num_rows) for b in batches] == [(1, 1000), (1001, 1000), (2001, 100)]
    assert batches[2].table.column("i")[99].as_py() == "2099"
