"""Dagster's default run launcher, with run workers its run monitoring can check.

OSS Dagster's `DefaultRunLauncher` cannot tell whether a run's worker process is alive, so a run
whose worker was killed (SIGKILL, out of memory, the code server gone with the daemon) stayed
"started" for ever. Each run worker logs its pid ("Started process for run (pid: N)"); this
launcher checks that process: gone, or the pid now another process started later, and the
daemon's run monitoring (`run_monitoring` in citydata/dagster_instance.py) marks the run failed, then
`run_retries` re-executes it once. Runs `citydata run` executes in its own process carry that
process's tag (`citydata/process`) instead and are checked by it.
"""

from __future__ import annotations

from dagster import DagsterEventType, DagsterRun, DefaultRunLauncher
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

from citydata.processes import gone, started_at
from pipelines.tags import PROCESS_TAG

_CLOCK_SLACK_S = 2.0  # the pid event is written just after the worker starts


def worker_pid(events: list[tuple[float, dict[str, str]]]) -> tuple[int, float] | None:
    """(pid, when logged) from the run's engine events' metadata, or None before the worker logs."""
    for timestamp, metadata in events:
        if "pid" in metadata and "step_keys" not in metadata:
            return int(metadata["pid"]), timestamp
    return None


def worker_status(pid: int, logged_at: float) -> CheckRunHealthResult:
    """RUNNING while that process exists and started before it logged; FAILED otherwise."""
    started = started_at(pid)
    if started is None:
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker process {pid} is gone")
    if started > logged_at + _CLOCK_SLACK_S:
        return CheckRunHealthResult(WorkerStatus.FAILED, f"run worker {pid} is gone (pid reused)")
    return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker process {pid} is running")


class MonitoredRunLauncher(DefaultRunLauncher):
    """`DefaultRunLauncher` + `check_run_worker_health` from the worker's pid."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        tag = run.tags.get(PROCESS_TAG)
        if tag:  # executed by `citydata run` in its own process
            if gone(tag):
                return CheckRunHealthResult(WorkerStatus.FAILED, f"the process of this run ({tag}) is gone")
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {tag} is running")
        records = self._instance.get_records_for_run(
            run.run_id, of_type=DagsterEventType.ENGINE_EVENT, limit=50
        ).records
        events = []
        for record in records:
            data = record.event_log_entry.dagster_event
            entries = data.engine_event_data.metadata if data and data.engine_event_data else {}
            metadata = {k: str(getattr(v, "value", v)) for k, v in entries.items()}
            events.append((record.event_log_entry.timestamp, metadata))
        found = worker_pid(events)
        if found is None:  # launched, not started yet: run monitoring's start timeout covers it
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run worker has not started yet")
        return worker_status(*found)
