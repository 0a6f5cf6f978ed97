"""Pull a dataset's source into the lake's raw zone, unchanged, with its source metadata."""

from __future__ import annotations

import mimetypes
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import new_pull_id, safe_relative, state_key, zone_prefix
from connectors.base import FetchContext
from connectors.registry import connector_for

PULL_MANIFEST = "_pull.json"


@dataclass
class PullResult:
    dataset: str
    pull_id: str | None  # the new pull, or the last one when unchanged
    unchanged: bool
    objects: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def last_pull_id(lake: Lake, dataset: str) -> str | None:
    state = lake.get_json(state_key(dataset), {}) or {}
    return state.get("last_pull")


def pull(spec: DatasetSpec, settings: Settings, lake: Lake) -> PullResult:
    """Run the spec's connector; store what is new under raw/<agency>/<dataset>/<pull_id>/.

    Order makes a crash safe: objects, then the pull manifest, then the connector state. A
    run killed before the state is saved just pulls again next time; nothing is lost.
    """
    state = lake.get_json(state_key(spec.id), {}) or {}
    connector_cls = connector_for(spec.source)
    scratch_root = settings.stack_dir / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"pull-{spec.id}-", dir=scratch_root))
    try:
        result = connector_cls(spec.source, FetchContext(settings, spec.id, workdir)).fetch(
            state.get("connector", {})
        )
        if result.unchanged or not result.objects:
            lake.put_json(state_key(spec.id), {**state, "connector": result.state})
            return PullResult(spec.id, state.get("last_pull"), True, stats=result.stats)
        pull_id = new_pull_id()
        prefix = zone_prefix("raw", spec.agency.id, spec.id, pull_id)
        # Every name is checked before anything is written: an unsafe one stores nothing.
        keys = [prefix + safe_relative(obj.name) for obj in result.objects]
        stored = []
        for obj, key in zip(result.objects, keys, strict=True):
            content_type = obj.media_type or mimetypes.guess_type(obj.name)[0] or "application/octet-stream"
            if obj.path is not None:
                lake.put_file(key, obj.path, content_type)
            else:
                lake.put_bytes(key, obj.read_bytes(), content_type)
            stored.append({**obj.metadata(), "key": key})
        manifest = {
            "dataset": spec.id,
            "agency": spec.agency.id,
            "pull_id": pull_id,
            "source_type": spec.source.type,
            "objects": stored,
            "stats": result.stats,
        }
        lake.put_json(prefix + PULL_MANIFEST, manifest)
        lake.put_json(state_key(spec.id), {"connector": result.state, "last_pull": pull_id})
        return PullResult(spec.id, pull_id, False, stored, result.stats)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def pull_manifest(lake: Lake, spec: DatasetSpec, pull_id: str) -> dict[str, Any]:
    return lake.get_json(zone_prefix("raw", spec.agency.id, spec.id, pull_id) + PULL_MANIFEST)
