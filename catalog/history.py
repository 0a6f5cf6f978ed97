"""A dataset's version history for its catalog entry: per kept version its date, row count, schema
changes against the version before it (columns added, removed or retyped) and its downloads.

Read from the lake: the current pointer lists the kept versions, each version's manifest holds
its schema (`[[name, arrow type], ...]`) and files. Deterministic, so an unchanged dataset keeps
its catalog entry.
"""

from __future__ import annotations

from typing import Any

from catalog.resources import Links
from citydata.storage.lake import Lake


def schema_changes(older: list[list[str]] | None, newer: list[list[str]]) -> dict[str, Any]:
    """Columns added, removed and retyped from `older` to `newer` (all empty for a first version)."""
    if older is None:
        return {"added": [], "removed": [], "retyped": []}
    before: dict[str, str] = {str(c[0]): str(c[1]) for c in older}
    after: dict[str, str] = {str(c[0]): str(c[1]) for c in newer}
    return {
        "added": [name for name in after if name not in before],
        "removed": [name for name in before if name not in after],
        "retyped": [
            {"name": name, "from": before[name], "to": kind}
            for name, kind in after.items()
            if name in before and before[name] != kind
        ],
    }


def _downloads(manifest: dict[str, Any], links: Links) -> dict[str, Any]:
    files = manifest.get("files") or {}
    out: dict[str, Any] = {"parquet": [links.object_url(p["key"]) for p in manifest.get("parts") or []]}
    for kind in ("csv", "xlsx"):
        if isinstance(files.get(kind), dict) and files[kind].get("key"):
            out[kind] = links.object_url(files[kind]["key"])
    return out


def version_history(
    lake: Lake, pointer: dict[str, Any], current: dict[str, Any], links: Links
) -> list[dict[str, Any]]:
    """Newest first; a kept version whose manifest cannot be read is left out."""
    manifests: dict[int, dict[str, Any]] = {int(current["version"]): current}
    for entry in pointer.get("versions", []):
        number = int(entry["version"])
        if number not in manifests and (found := lake.get_json(entry["manifest"])):
            manifests[number] = found
    ordered = sorted(manifests.items())
    manifest_keys = {int(e["version"]): str(e["manifest"]) for e in pointer.get("versions", [])}
    history = []
    for i, (number, manifest) in enumerate(ordered):
        previous = ordered[i - 1][1].get("schema") if i > 0 else None
        history.append(
            {
                "version": number,
                "created_at": str(manifest.get("created_at", ""))[:10],
                "rows": int(manifest.get("rows") or 0),
                "compared_with": ordered[i - 1][0] if i > 0 else None,
                **schema_changes(previous, list(manifest.get("schema") or [])),
                "downloads": _downloads(manifest, links),
                "manifest": links.object_url(manifest_keys[number]) if number in manifest_keys else None,
            }
        )
    return list(reversed(history))
