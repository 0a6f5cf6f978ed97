"""The peer of benchmarks.peer_comparison: ckanext-xloader in the stack's CKAN, as a CKAN user uses it.

A CSV resource is created with the file uploaded; XLoader submits itself on create and its job
(the stack's `ckan jobs worker`) loads every row into the DataStore, by COPY, or row by row
through the action API when COPY fails (ragged lines). Timed from resource_create until
`xloader_status` says complete, then the rows are counted in the DataStore.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citydata.clients import ckan_client
from citydata.settings import Settings


@dataclass
class Run:
    seconds: float
    stages: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return not self.notes.get("error")


def xloader_run(settings: Settings, org: str, dataset: str, path: Path, timeout_s: float = 3600) -> Run:
    """Upload the CSV as a resource and wait for XLoader's job; a failed or timed-out job is a Run
    with notes["error"]."""
    admin = ckan_client(settings)
    pkg = admin.action.package_create(
        name=dataset, title=f"XLoader benchmark {dataset}", owner_org=org, notes="XLoader benchmark",
    )  # fmt: skip
    started = time.perf_counter()
    with path.open("rb") as fh:
        res = admin.action.resource_create(package_id=pkg["id"], name=path.name, format="CSV", upload=fh)
    uploaded = time.perf_counter() - started
    status: dict[str, Any] = {}
    while time.perf_counter() - started < timeout_s:
        try:
            status = admin.action.xloader_status(resource_id=res["id"])
        except Exception:  # noqa: BLE001 - no task yet
            status = {}
        if status.get("status") in ("complete", "error"):
            break
        time.sleep(0.5)
    seconds = time.perf_counter() - started
    stages = {"upload": uploaded, "job": seconds - uploaded}
    if status.get("status") != "complete":
        error = status.get("error") or {}
        message = error.get("message") if isinstance(error, dict) else str(error)
        return Run(seconds, stages, {"rows": 0, "error": f"{status.get('status') or 'timeout'}: {message}"})
    total = admin.action.datastore_search(resource_id=res["id"], limit=0)["total"]
    return Run(seconds, stages, {"rows": total})


def without_ragged_lines(path: Path, out: Path, fields: int = 9) -> int:
    """A copy of the CSV without the lines that have more or fewer fields than the header (XLoader's
    COPY stops at the first one and falls back to row-by-row inserts); returns how many were dropped."""
    dropped = 0
    with path.open(encoding="utf-8") as src, out.open("w", encoding="utf-8", newline="") as dst:
        for line in src:
            if line.strip() and line.count(";") != fields - 1:
                dropped += 1
                continue
            dst.write(line)
    return dropped


def data_lines(path: Path) -> int:
    """Non-blank lines after the header: the rows a loader that keeps everything ends with."""
    with path.open(encoding="utf-8") as src:
        next(src, None)
        return sum(1 for line in src if line.strip())


def xloader_ready(settings: Settings) -> str:
    """XLoader must be a loaded plugin and its worker running; returns a short description."""
    admin = ckan_client(settings)
    plugins = admin.action.status_show().get("extensions", [])
    if "xloader" not in plugins:
        raise RuntimeError(f"ckanext-xloader is not enabled in CKAN (plugins: {plugins})")
    workers = subprocess.run(["pgrep", "-af", "jobs worker"], capture_output=True, text=True).stdout
    mine = [w for w in workers.splitlines() if str(settings.stack_dir) in w]
    if not mine:
        raise RuntimeError("no `ckan jobs worker` of this stack is running: XLoader jobs would never run")
    return f"xloader enabled, {len(mine)} jobs worker(s)"
