"""Queued runs whose process dies are marked failed within a minute and re-executed once by the
run-retry policy; the retry publishes. Nothing stays "started": a run worker SIGKILLed alone is
noticed by its code server; one killed with the daemon (and its code server) is found by run
monitoring after the daemon restarts (the launcher checks the worker's pid:
pipelines/run_launcher.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.datasets.assets import key_part
from tests.integration.dagster_graphql import dagster_graphql

pytestmark = [pytest.mark.integration, pytest.mark.faults]

CLI = Path(sys.executable).parent / "citydata"
DATASET = "tinh-thanh-2025"  # a sample dataset: the stack's code location knows it
_LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
_RUN = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""
_EVENTS = """query($id: ID!) { logsForRun(runId: $id) { ... on EventConnection { events {
  __typename ... on MessageEvent { message } ... on EngineEvent { metadataEntries { label
  ... on TextMetadataEntry { text } } } } } } }"""
_RETRIES = """query($tags: [ExecutionTag!]) { runsOrError(filter: {tags: $tags}) {
  ... on Runs { results { runId status } } } }"""


def _wait(what, check, timeout_s: float, every_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (found := check()) is not None:
            return found
        time.sleep(every_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _launch(url: str) -> str:
    params = {
        "selector": {"repositoryLocationName": "pipelines", "repositoryName": "__repository__",
                     "jobName": f"{key_part(DATASET)}_graph"},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "citydata/trigger", "value": "fault-test"}]},
    }  # fmt: skip
    launched = dagster_graphql(url, _LAUNCH, p=params)["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return str(launched["run"]["runId"])


def _events(url: str, run_id: str) -> list[dict]:
    return list(dagster_graphql(url, _EVENTS, id=run_id)["logsForRun"]["events"])


def _worker_pid(url: str, run_id: str) -> int | None:
    for event in _events(url, run_id):
        labels = {e["label"]: e.get("text") for e in event.get("metadataEntries") or []}
        if "pid" in labels and "step_keys" not in labels:
            return int(labels["pid"])
    return None


def _ended(url: str, run_id: str) -> str | None:
    status = dagster_graphql(url, _RUN, id=run_id)["runOrError"]["status"]
    return status if status in ("SUCCESS", "FAILURE", "CANCELED") else None


def _retry_of(url: str, run_id: str) -> dict:
    def done() -> dict | None:
        tags = [{"key": "dagster/parent_run_id", "value": run_id}]
        runs = dagster_graphql(url, _RETRIES, tags=tags)["runsOrError"]["results"]
        ended = [r for r in runs if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")]
        return ended[0] if ended else None

    return dict(_wait("the retry of the killed run", done, timeout_s=300, every_s=2))


def test_killed_run_worker_is_marked_failed_and_retried(stack_ready):
    url = stack_ready.dagster.webserver_url
    run_id = _launch(url)
    pid = _wait("the run worker's pid", lambda: _worker_pid(url, run_id), timeout_s=120, every_s=0.1)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    assert _wait("the killed run to end", lambda: _ended(url, run_id), timeout_s=90, every_s=1) == "FAILURE"
    assert time.monotonic() - killed < 60
    assert _retry_of(url, run_id)["status"] == "SUCCESS"


def test_run_left_started_by_a_killed_daemon_is_failed_after_restart_and_retried(stack_ready):
    """The daemon, its code server and the run worker all SIGKILLed mid-run: nobody is left to
    notice. After the daemon restarts, run monitoring finds the worker's pid gone."""
    from stack.manager import Stack
    from stack.service import StackContext

    url = stack_ready.dagster.webserver_url
    run_id = _launch(url)
    pid = _wait("the run worker's pid", lambda: _worker_pid(url, run_id), timeout_s=120, every_s=0.1)

    def started() -> bool | None:
        return True if dagster_graphql(url, _RUN, id=run_id)["runOrError"]["status"] == "STARTED" else None

    _wait("the run to start", started, timeout_s=60, every_s=0.05)
    dagster = Stack(StackContext.create()).get("dagster")
    [daemon] = [m for m in dagster.managed() if m.spec.name == "daemon"]
    daemon_pid = daemon.pid()
    assert daemon_pid is not None
    os.killpg(daemon_pid, signal.SIGKILL)  # its own process group: code server and run worker too
    _wait("the run worker to die", lambda: None if os.path.exists(f"/proc/{pid}") else True, 30, 0.2)
    assert dagster_graphql(url, _RUN, id=run_id)["runOrError"]["status"] == "STARTED"  # stuck, so far
    up = subprocess.run(
        [str(CLI), "stack", "up", "--only", "dagster"], capture_output=True, text=True, timeout=300
    )
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    restarted = time.monotonic()
    assert (
        _wait("the run to be marked failed", lambda: _ended(url, run_id), timeout_s=120, every_s=1)
        == "FAILURE"
    )
    assert time.monotonic() - restarted < 60, "run monitoring took more than a minute after the restart"
    messages = [e.get("message") or "" for e in _events(url, run_id)]
    assert any(f"run worker process {pid} is gone" in m for m in messages), messages[-5:]
    assert _retry_of(url, run_id)["status"] == "SUCCESS"
