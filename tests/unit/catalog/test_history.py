"""The version history of a catalog entry: schema changes between kept versions, and downloads."""

from typing import Any

from catalog.history import schema_changes, version_history
from catalog.resources import Links


class Manifests:
    """The lake's `get_json`, over manifests held in a dict (pure logic: no S3 needed)."""

    def __init__(self, manifests: dict[str, dict[str, Any]]) -> None:
        self.manifests = manifests

    def get_json(self, key: str, default: Any = None) -> Any:
        return self.manifests.get(key, default)


def manifest(version: int, schema: list[list[str]], rows: int) -> dict[str, Any]:
    prefix = f"published/so-a/ds/v{version}/"
    return {
        "version": version,
        "created_at": f"2026-12-0{version}T10:00:00+00:00",
        "rows": rows,
        "schema": schema,
        "parts": [{"key": prefix + "part-0.parquet"}],
        "files": {"csv": {"key": prefix + "data.csv"}, "dictionary": {"key": prefix + "dictionary.csv"}},
    }


def test_added_removed_and_retyped_columns():
    older = [["ma", "string"], ["so_cong", "int64"], ["ghi_chu", "string"]]
    newer = [["ma", "string"], ["so_cong", "double"], ["phuong", "string"]]
    assert schema_changes(older, newer) == {
        "added": ["phuong"],
        "removed": ["ghi_chu"],
        "retyped": [{"name": "so_cong", "from": "int64", "to": "double"}],
    }
    assert schema_changes(None, newer) == {"added": [], "removed": [], "retyped": []}
    assert schema_changes(newer, newer) == {"added": [], "removed": [], "retyped": []}


def test_history_newest_first_with_changes_against_the_version_before():
    v1 = manifest(1, [["ma", "string"]], 10)
    v2 = manifest(2, [["ma", "string"], ["phuong", "string"]], 12)
    v3 = manifest(3, [["ma", "string"], ["phuong", "large_string"]], 12)
    keys = {m["version"]: f"published/so-a/ds/v{m['version']}/_manifest.json" for m in (v1, v2, v3)}
    lake = Manifests({keys[1]: v1, keys[2]: v2})
    pointer = {"versions": [{"version": n, "manifest": keys[n]} for n in (3, 2, 1)]}
    links = Links("http://ckan", "http://s3/citydata-lake/")
    history = version_history(lake, pointer, v3, links)  # type: ignore[arg-type]
    assert [h["version"] for h in history] == [3, 2, 1]
    assert history[0]["retyped"] == [{"name": "phuong", "from": "string", "to": "large_string"}]
    assert history[0]["compared_with"] == 2 and history[1]["added"] == ["phuong"]
    assert history[2]["compared_with"] is None and history[2]["created_at"] == "2026-12-01"
    assert history[1]["downloads"] == {
        "parquet": ["http://s3/citydata-lake/published/so-a/ds/v2/part-0.parquet"],
        "csv": "http://s3/citydata-lake/published/so-a/ds/v2/data.csv",
    }
    assert history[1]["manifest"] == "http://s3/citydata-lake/" + keys[2]


def test_a_version_whose_manifest_is_gone_is_left_out():
    v2 = manifest(2, [["ma", "string"]], 3)
    pointer = {"versions": [{"version": 2, "manifest": "m2"}, {"version": 1, "manifest": "gone"}]}
    history = version_history(Manifests({}), pointer, v2, Links("http://ckan", "http://s3/b/"))  # type: ignore[arg-type]
    assert [h["version"] for h in history] == [2] and history[0]["compared_with"] is None
