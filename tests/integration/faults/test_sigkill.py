"""`citydata run ID` killed with SIGKILL, again and again, each time a little further in:
mid-publication, after the lake commit, mid-catalog entry. Readers never see a partial
version, and the run that finally completes leaves exactly the state an uninterrupted run of an
identical spec leaves: lake pointer and versions, manifest, public objects, no staging, one pull,
the CKAN dataset with its resources, views and DataStore rows, and no Dagster run left "in
progress" by a dead process.

The pauses come from paused_run.py (the command itself, held still at one point); the fault is a
real SIGKILL of that process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from citydata.dagster_instance import dagster_environment
from citydata.settings import REPO_ROOT
from citydata.storage.published import dataset_prefix, read_pointer, staging_root

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROWS = 300
RUNNER = Path(__file__).with_name("paused_run.py")
CLI = Path(sys.executable).parent / "citydata"


def _env(world) -> dict[str, str]:
    return {**os.environ, "CITYDATA_SPECS_DIR": str(world.specs_dir), "PYTHONPATH": str(REPO_ROOT)}


def _run(world, dataset: str) -> dict[str, Any]:
    proc = subprocess.run([str(CLI), "run", dataset, "--json"], capture_output=True, text=True, timeout=600,
                          env=_env(world), cwd=REPO_ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    [result] = json.loads(proc.stdout)
    return result


def _kill_at(world, dataset: str, point: str) -> float:
    """Start the run, wait until it holds at `point`, SIGKILL it; returns the seconds it ran."""
    marker = world.tmp / f"at-{point}"
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(RUNNER), point, str(marker), dataset], env=_env(world),
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        while not marker.exists():
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"the run ended (exit {proc.returncode}) before reaching {point}: {out[-3000:]}")
            if time.monotonic() - started > 300:
                pytest.fail(f"the run did not reach {point} in 300 s")
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    return time.monotonic() - started


def _generic(key: str, name: str) -> str:
    """An object key without the dataset's name and the quality run's time stamps."""
    return re.sub(r"[0-9]{8}T[0-9]{6}[0-9.]*Z?", "<time>", key.replace(name, "<id>"))


def _lake_state(world, spec) -> dict[str, Any]:
    """The lake as readers and the next run see it, with the dataset's own names taken out."""
    agency, name = spec.agency.id, spec.id
    pointer = read_pointer(world.lake, agency, name)
    if pointer is None:
        return {"pointer": None}
    manifest = world.lake.get_json(pointer.entry().manifest)  # type: ignore[union-attr]
    prefix = dataset_prefix(agency, name)
    public = sorted(_generic(k[len(prefix) :], name) for k in world.lake.keys(prefix))
    pulls = {z: world.lake.children(f"{z}/{agency}/{name}/") for z in ("raw", "clean")}
    return {
        "pointer": [(v.version, v.rows, v.content_hash) for v in pointer.versions],
        "current": pointer.current,
        "rows": manifest["rows"],
        "content_hash": manifest["content_hash"],
        "schema": manifest["schema"],
        "columns": manifest["columns"],
        "parts": [(p["rows"], p["sha256"]) for p in manifest["parts"]],
        "public_objects": public,
        "staging": list(world.lake.keys(staging_root(agency, name))),
        "pulls": {z: len(p) for z, p in pulls.items()},
    }


def _in_progress_runs(world, dataset: str, monkeypatch) -> list[str]:
    import dagster as dg

    from pipelines.automation import DATASET_TAG

    for key, value in dagster_environment(world.settings).items():
        monkeypatch.setenv(key, value)
    statuses = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED]
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={DATASET_TAG: dataset}, statuses=statuses))
        return [r.run_id for r in runs]


def test_sigkilled_runs_converge_to_the_uninterrupted_state(world, monkeypatch):
    killed, reference = world.spec("bi-giet", ROWS), world.spec("khong-giet", ROWS)
    timings: dict[str, float] = {}
    try:
        _kill_runs_then_complete(world, killed, reference, timings, monkeypatch)
    finally:
        print({k: round(v, 1) for k, v in timings.items()})


def _kill_runs_then_complete(world, killed, reference, timings, monkeypatch) -> None:
    started = time.monotonic()
    assert _run(world, reference.id)["ok"]
    timings["uninterrupted run"] = time.monotonic() - started
    expected_lake = _lake_state(world, reference)
    expected_catalog = world.catalog_view(reference.id)
    assert expected_lake["staging"] == [] and expected_catalog["final"]

    timings["killed mid-publication"] = _kill_at(world, killed.id, "staged")
    assert read_pointer(world.lake, killed.agency.id, killed.id) is None  # v1's files, but unlisted
    assert list(world.lake.keys(staging_root(killed.agency.id, killed.id)))  # left by the killed run

    timings["killed after the commit"] = _kill_at(world, killed.id, "committed")
    half = _lake_state(world, killed)
    assert half["pointer"] == expected_lake["pointer"] and half["parts"] == expected_lake["parts"]
    assert half["staging"]  # not yet tidied
    assert world.client.show("package_show", id=killed.id) is None

    timings["killed mid-catalog entry"] = _kill_at(world, killed.id, "catalog")
    draft = world.catalog_view(killed.id)
    assert not draft["final"] and draft["resources"]

    started = time.monotonic()
    final = _run(world, killed.id)
    timings["completing run"] = time.monotonic() - started
    assert final["ok"] and final["version"] == 1, final
    assert _lake_state(world, killed) == expected_lake
    assert world.catalog_view(killed.id) == expected_catalog
    assert world.client.call("package_search", fq=f"organization:{world.agency}")["count"] == 2
    assert _in_progress_runs(world, killed.id, monkeypatch) == []  # the 3 killed runs: failed
