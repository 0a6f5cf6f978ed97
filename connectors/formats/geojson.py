"""GeoJSON (RFC 7946) to an all-string Arrow table: one row per feature.

Columns: the feature ``id`` when any feature has one (named ``feature.id`` if a property is
already called ``id``), the flattened ``properties`` (as in the JSON reader: dotted nested keys,
lists as JSON text, numbers as written), then ``geometry_type`` and ``geometry`` (the geometry as
compact GeoJSON text, coordinates exactly as written). A property named ``geometry`` or
``geometry_type`` becomes ``properties.geometry`` / ``properties.geometry_type``.

A FeatureCollection gives one row per feature; a single Feature or a bare geometry one row. A
feature without geometry (``"geometry": null``) is a row with null geometry columns. A malformed
feature (not a Feature, properties not an object, unknown geometry type, coordinates not nested
numbers) is a ``RejectedRow`` whose ``line`` is the feature's ordinal (1-based); a malformed
document (not JSON, not GeoJSON, ``features`` not a list, every feature malformed) is a FormatError.
The document is parsed in memory (size-limited). ``crs`` / ``bbox`` members are ignored: no
reprojection happens here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from connectors.base import RawObject
from connectors.formats._common import (
    MAX_DOCUMENT_BYTES,
    BatchBuilder,
    JsonNumber,
    flat_keys,
    flatten,
    json_cell,
    load_json_document,
    row_cells,
    to_json_text,
)
from connectors.formats.base import CellKind, FormatError, FormatOptions, FormatReader, ReadBatch, ReadInfo

__all__ = ["GeoJsonReader"]

# nesting depth of "coordinates" above a single position
_COORD_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}
GEOMETRY_TYPES = (*_COORD_DEPTH, "GeometryCollection")
_MAX_COLLECTION_DEPTH = 8
GEOMETRY, GEOMETRY_TYPE = "geometry", "geometry_type"


class GeoJsonReader(FormatReader):
    name = "geojson"
    extensions = (".geojson",)
    media_types = ("application/geo+json", "application/vnd.geo+json")

    def __init__(self, max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.max_bytes = max_bytes

    def read(self, raw: RawObject, options: FormatOptions, info: ReadInfo) -> Iterator[ReadBatch]:
        document = load_json_document(raw, options.encoding, self.max_bytes, info)
        features, single = _features(document, raw.name)
        problems: list[str | None] = []
        keys: dict[str, None] = {}
        has_id = False
        try:
            for feature in features:
                problem = feature_problem(feature)
                problems.append(problem)
                if problem is None:
                    has_id = has_id or feature.get("id") is not None
                    if feature.get("properties"):
                        flat_keys(feature["properties"], keys)
        except RecursionError:
            raise FormatError(f"{raw.name}: GeoJSON nested too deeply") from None
        if features and all(problems):
            which = "the feature" if single else f"all {len(features)} features are invalid; feature 1"
            raise FormatError(f"{raw.name}: not valid GeoJSON: {which}: {problems[0]}")

        reserved = {GEOMETRY, GEOMETRY_TYPE}
        prop_columns = {key: (f"properties.{key}" if key in reserved else key) for key in keys}
        id_column = ("feature.id" if "id" in prop_columns.values() else "id") if has_id else None
        columns = [*([id_column] if id_column else []), *prop_columns.values(), GEOMETRY_TYPE, GEOMETRY]
        info.header_labels = list(columns)
        index = {name: i for i, name in enumerate(columns)}
        builder = BatchBuilder(columns, options.batch_rows)
        for ordinal, (feature, problem) in enumerate(zip(features, problems, strict=True), start=1):
            if problem is not None:
                raw_text = to_json_text(feature)
                yield from builder.reject(ordinal, f"invalid feature: {problem}", raw_text)
                continue
            cells = {
                prop_columns[key]: cell for key, cell in flatten(feature.get("properties") or {}, {}).items()
            }
            if id_column:
                cells[id_column] = json_cell(feature.get("id"))
            geometry = feature.get("geometry")
            if geometry is not None:
                cells[GEOMETRY_TYPE] = (geometry["type"], CellKind.STRING)
                cells[GEOMETRY] = (to_json_text(geometry), CellKind.OTHER)
            yield from builder.add(ordinal, *row_cells(cells, index))
        yield from builder.finish(1)


def _features(document: Any, file_name: str) -> tuple[list[Any], bool]:
    """(features, whether the document is a single feature or geometry)."""
    if not isinstance(document, dict):
        raise FormatError(f"{file_name}: not GeoJSON: the top level is not an object")
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise FormatError(f"{file_name}: not valid GeoJSON: FeatureCollection without a 'features' list")
        return features, False
    if kind == "Feature":
        return [document], True
    if kind in GEOMETRY_TYPES:
        return [{"type": "Feature", "properties": None, "geometry": document}], True
    raise FormatError(
        f"{file_name}: not GeoJSON: top-level type is {kind!r} "
        "(expected FeatureCollection, Feature or a geometry)"
    )


def feature_problem(feature: Any) -> str | None:
    """Why ``feature`` is not a valid GeoJSON Feature, or None."""
    if not isinstance(feature, dict):
        return "not a JSON object"
    if feature.get("type") != "Feature":
        return f"type is {feature.get('type')!r}, expected 'Feature'"
    properties = feature.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return "properties is neither an object nor null"
    identifier = feature.get("id")
    if identifier is not None and not isinstance(identifier, str):  # JSON numbers are JsonNumber (str)
        return "id is neither a string nor a number"
    geometry = feature.get("geometry")
    return None if geometry is None else geometry_problem(geometry)


def geometry_problem(geometry: Any, depth: int = 0) -> str | None:
    """Why ``geometry`` is not a valid GeoJSON geometry object, or None."""
    if not isinstance(geometry, dict):
        return "geometry is neither an object nor null"
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list):
            return "GeometryCollection without a 'geometries' list"
        if depth >= _MAX_COLLECTION_DEPTH:
            return "GeometryCollection nested too deeply"
        for member in members:
            problem = geometry_problem(member, depth + 1)
            if problem:
                return problem
        return None
    if kind not in _COORD_DEPTH:
        return f"unknown geometry type {kind!r}"
    if not _valid_coordinates(geometry.get("coordinates"), _COORD_DEPTH[kind]):
        return f"{kind} coordinates are not {_COORD_DEPTH[kind] * 'lists of '}positions of numbers"
    return None


def _valid_coordinates(value: Any, depth: int) -> bool:
    if not isinstance(value, list):
        return False
    if depth == 0:  # a position: [x, y] or [x, y, z, ...]; [] is an empty geometry
        return not value or (len(value) >= 2 and all(_finite_number(v) for v in value))
    return all(_valid_coordinates(item, depth - 1) for item in value)


def _finite_number(value: Any) -> bool:
    return isinstance(value, JsonNumber) and math.isfinite(float(value))
