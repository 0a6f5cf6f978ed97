"""The labeling sensor inside the stack's real Dagster daemon: newly finished Label Studio tasks of a
sample dataset make a tick request an `annotations` run, which the daemon runs; the labels land in the lake.

The sensor starts STOPPED; the test sets its cursor to the finished-task counts of now (so exactly the
tasks annotated here are new), starts it through the webserver's GraphQL API and stops it in `finally`,
where it also deletes its annotations: the tasks it consumed are unannotated again, so the test can run
on the same stack any number of times.
"""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from citydata.spec import load_specs
from citydata.storage.lake import Lake
from labeling.annotation_import import latest_labels_prefix
from labeling.client import LabelStudio
from labeling.project import find_project
from pipelines.automation import DATASET_TAG
from pipelines.datasets.assets import key_part
from pipelines.datasets.labeling_assets import FINISHED_TAG
from tests.integration.dagster_graphql import dagster_graphql

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).parent / "citydata")
LABELED = "phan-anh-hien-truong"  # a sample dataset: the daemon's code location knows it
SENSOR = "labeling_finished_tasks"
SELECTOR = {"repositoryLocationName": "pipelines", "repositoryName": "__repository__", "sensorName": SENSOR}
TICKS = """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { __typename
  ... on Sensor { minIntervalSeconds sensorState { id status
    ticks(limit: 20) { tickId status timestamp runIds runKeys requestedAssetKeys { path }
                       skipReason error { message } } } }
  ... on PythonError { message } } }"""


def graphql(settings, query: str, **variables):
    return dagster_graphql(settings.dagster.webserver_url, query, **variables)


def sensor_state(settings) -> dict:
    data = graphql(settings, TICKS, s=SELECTOR)["sensorOrError"]
    assert data["__typename"] == "Sensor", data
    return data


def wait_for(what: str, check, timeout_s: float, every_s: float = 3.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


def test_daemon_tick_requests_annotations_run_for_newly_finished_tasks(stack_ready, unique):
    settings = stack_ready
    specs = load_specs(settings.specs_dir).specs
    spec = specs[LABELED]
    lake = Lake(settings)
    ls = LabelStudio(settings)
    if find_project(ls, lake, spec) is None:  # a fresh stack: the main job has not pushed yet
        run = subprocess.run(
            [CLI, "run", LABELED, "--until", "labeling_tasks", "--json"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    project = find_project(ls, lake, spec)
    assert project is not None

    # The cursor: every labeled sample dataset's finished count as of now.
    cursor = {}
    for other in specs.values():
        pid = find_project(ls, lake, other) if other.labeling else None
        if pid is not None:
            cursor[other.id] = int(ls.project_counts(pid).get("finished_task_number") or 0)
    overlap = int(spec.labeling.get("overlap", 1))
    fresh = [t for t in ls.iter_tasks(project) if not t.get("total_annotations")][:2]
    assert len(fresh) == 2, "the sample project has no unannotated tasks left"

    before = sensor_state(settings)
    seen_ticks = {t["tickId"] for t in before["sensorState"]["ticks"]}
    users = [
        ls.sdk.users.create(username=f"sensor-{i}-{unique}", email=f"sensor-{i}-{unique}@citydata.local").id
        for i in range(overlap)
    ]
    state_id = before["sensorState"]["id"]
    annotations_made: list[int] = []  # removed at the end: the test leaves its tasks unannotated
    try:
        set_cursor = graphql(
            settings,
            """mutation($s: SensorSelector!, $c: String) { setSensorCursor(sensorSelector: $s, cursor: $c) {
                 __typename ... on PythonError { message } } }""",
            s=SELECTOR,
            c=json.dumps(cursor, sort_keys=True),
        )["setSensorCursor"]
        assert set_cursor["__typename"] == "Sensor", set_cursor
        for task in fresh:
            for user in users:
                result = [{"from_name": "label", "to_name": "text", "type": "choices",
                           "value": {"choices": ["moi_truong"]}}]  # fmt: skip
                made = ls.sdk.annotations.create(id=task["id"], result=result, completed_by=user)
                annotations_made.append(made.id)
        finished = int(ls.project_counts(project)["finished_task_number"])
        assert finished == cursor[LABELED] + 2

        started = graphql(
            settings,
            """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) { __typename
                 ... on Sensor { sensorState { id status } } ... on PythonError { message } } }""",
            s=SELECTOR,
        )["startSensor"]
        assert started["__typename"] == "Sensor" and started["sensorState"]["status"] == "RUNNING", started
        state_id = started["sensorState"]["id"]

        # The first tick after the start (or after the minimum interval since an earlier tick).
        def requesting_tick():
            for tick in sensor_state(settings)["sensorState"]["ticks"]:
                if tick["tickId"] not in seen_ticks and tick["status"] in ("SUCCESS", "FAILURE"):
                    return tick
            return None

        tick = wait_for("a sensor tick", requesting_tick, timeout_s=before["minIntervalSeconds"] + 120)
        assert tick["status"] == "SUCCESS", tick
        # only the dataset with new finished tasks; no run key, so a second run of this test on the
        # same stack (the same finished count again) is requested too
        assert tick["requestedAssetKeys"] == [{"path": [key_part(LABELED), "annotations"]}], tick
        [run_id] = tick["runIds"]

        run_query = """query($id: ID!) { runOrError(runId: $id) { __typename
            ... on Run { status assetSelection { path } tags { key value } }
            ... on PythonError { message } } }"""

        def run_done():
            run = graphql(settings, run_query, id=run_id)["runOrError"]
            return run if run.get("status") in ("SUCCESS", "FAILURE", "CANCELED") else None

        run = wait_for(f"run {run_id}", run_done, timeout_s=600, every_s=5)
        assert run["status"] == "SUCCESS", run
        assert run["assetSelection"] == [{"path": [key_part(LABELED), "annotations"]}]
        tags = {t["key"]: t["value"] for t in run["tags"]}
        assert tags[FINISHED_TAG] == str(finished) and tags[DATASET_TAG] == LABELED
    finally:
        graphql(
            settings,
            """mutation($id: String) { stopSensor(id: $id) { __typename
                 ... on StopSensorMutationResult { instigationState { status } } } }""",
            id=state_id,
        )
        for annotation in annotations_made:  # the two tasks are fresh again for the next run
            ls.sdk.annotations.delete(id=annotation)
        for user in users:
            ls.sdk.users.delete(id=user)
    assert not [
        t
        for t in ls.iter_tasks(project)
        if t["id"] in {f["id"] for f in fresh} and t.get("total_annotations")
    ]
    assert sensor_state(settings)["sensorState"]["status"] == "STOPPED"

    # The annotations landed in the lake: the run's pull holds both annotators' labels of the two tasks.
    prefix = latest_labels_prefix(lake, spec)
    assert prefix is not None
    annotations = pq.read_table(io.BytesIO(lake.get_bytes(prefix + "annotations.parquet"))).to_pandas()
    ours = annotations[annotations["annotator"].isin([str(u) for u in users])]
    assert sorted(ours["task_key"].unique()) == sorted(t["data"]["task_key"] for t in fresh)
    assert (ours["label"] == "moi_truong").all() and len(ours) == 2 * overlap
