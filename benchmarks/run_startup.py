"""Queued-run start-up: from a run leaving Dagster's queue to its first asset starting.

    .venv/bin/python -m benchmarks.run_startup [--dataset tinh-thanh-2025] [--runs 3]

Against the running stack's Dagster (webserver, daemon and its QueuedRunCoordinator): each run
of the dataset's job is submitted through GraphQL `launchRun`, and its event log gives the
intervals: queued -> dequeued (the daemon's poll), dequeued -> run worker started (process
launch and the code location's import), started -> first step started (the executor). The
target is dequeued -> first step <= 3 s. The baseline, measured in the same run: a fresh Python
process importing the code location (`import pipelines`), the floor any new run process pays.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import requests

from citydata.settings import load_settings
from pipelines.datasets.assets import key_part

TARGET_S = 3.0
_LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
} }
"""
_EVENTS = """
query($runId: ID!, $cursor: String) { logsForRun(runId: $runId, afterCursor: $cursor) {
  ... on EventConnection { cursor hasMore events { __typename ... on MessageEvent { timestamp stepKey } } }
} }
"""
_STATUS = """query($runId: ID!) { runOrError(runId: $runId) { ... on Run { status } } }"""
_DONE = ("SUCCESS", "FAILURE", "CANCELED")


def dagster_graphql(url: str, query: str, **variables: object) -> dict[str, Any]:
    reply = requests.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    reply.raise_for_status()
    body = reply.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return dict(body["data"])


@dataclass
class Startup:
    run_id: str
    queued_s: float  # submitted -> dequeued
    launch_s: float  # dequeued -> run worker started
    executor_s: float  # run worker started -> first step started
    status: str

    @property
    def startup_s(self) -> float:
        """Dequeued -> first step started: the figure the target is about."""
        return self.launch_s + self.executor_s


def _events(url: str, run_id: str) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    cursor = None
    while True:
        page = dagster_graphql(url, _EVENTS, runId=run_id, cursor=cursor)["logsForRun"]
        events += page["events"]
        cursor = page["cursor"]
        if not page["hasMore"]:
            return events


def _first(events: list[dict[str, str]], kind: str) -> float:
    stamps = [float(e["timestamp"]) / 1000 for e in events if e["__typename"] == kind]
    if not stamps:
        raise RuntimeError(f"no {kind} in the run's event log")
    return min(stamps)


def measure_one(url: str, dataset: str, timeout_s: float = 600) -> Startup:
    """Launch one queued run of the dataset's job; its start-up intervals once it has ended."""
    params = {
        "selector": {
            "repositoryLocationName": "pipelines",
            "repositoryName": "__repository__",
            "jobName": f"{key_part(dataset)}_graph",
        },
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "citydata/trigger", "value": "benchmark"}]},
    }
    result = dagster_graphql(url, _LAUNCH, params=params)["launchRun"]
    if result["__typename"] != "LaunchRunSuccess":
        raise RuntimeError(f"launchRun: {result}")
    run_id = result["run"]["runId"]
    deadline = time.monotonic() + timeout_s
    while (status := dagster_graphql(url, _STATUS, runId=run_id)["runOrError"]["status"]) not in _DONE:
        if time.monotonic() > deadline:
            raise RuntimeError(f"run {run_id} still {status} after {timeout_s:.0f} s")
        time.sleep(0.5)
    return startup_of(run_id, status, _events(url, run_id))


def startup_of(run_id: str, status: str, events: list[dict[str, str]]) -> Startup:
    """The intervals of a run from its event log; an error when an event is missing (no guess)."""
    enqueued = _first(events, "RunEnqueuedEvent")
    dequeued = _first(events, "RunStartingEvent")  # written when the daemon dequeues the run
    started = _first(events, "RunStartEvent")
    step = _first(events, "ExecutionStepStartEvent")
    return Startup(run_id, dequeued - enqueued, started - dequeued, step - started, status)


def import_floor() -> float:
    """Seconds for a fresh Python process to import the code location (best of three)."""
    code = "import pipelines; pipelines.defs"
    times = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="tinh-thanh-2025")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    url = load_settings().dagster.webserver_url
    floor = import_floor()
    runs = [measure_one(url, args.dataset) for _ in range(args.runs)]
    print(f"baseline: a fresh process importing the code location: {floor:.2f} s")
    for r in runs:
        print(
            f"run {r.run_id[:8]} ({r.status}): queued {r.queued_s:.2f} s, dequeued -> worker started "
            f"{r.launch_s:.2f} s, -> first asset started {r.executor_s:.2f} s; start-up {r.startup_s:.2f} s"
        )
    failed = [r.run_id for r in runs if r.status != "SUCCESS"]
    if failed:  # a run that failed may have started fast for the wrong reason: no verdict
        print(f"no verdict: runs {', '.join(failed)} did not succeed")
        return 1
    median = statistics.median(r.startup_s for r in runs)
    verdict = "met" if median <= TARGET_S else "missed"
    print(
        f"start-up (dequeued -> first asset) median {median:.2f} s over {len(runs)} runs, "
        f"{median / floor:.1f}x the import floor; target <= {TARGET_S:g} s {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
