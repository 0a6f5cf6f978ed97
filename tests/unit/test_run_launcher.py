"""The run launcher's health check: the worker's pid from its events, alive or gone or reused."""

import os
import subprocess
import sys
import time

from dagster._core.launcher.base import WorkerStatus

from pipelines.run_launcher import worker_pid, worker_status


def test_the_worker_pid_is_the_started_process_event_not_the_step_events():
    events = [
        (10.0, {}),
        (11.0, {"pid": "4242"}),  # "Started process for run (pid: 4242)."
        (12.0, {"pid": "4242", "step_keys": "['a']"}),
    ]
    assert worker_pid(events) == (4242, 11.0)
    assert worker_pid([(10.0, {}), (12.0, {"pid": "1", "step_keys": "[]"})]) is None


def test_a_running_worker_is_running_a_gone_one_failed():
    assert worker_status(os.getpid(), time.time()).status == WorkerStatus.RUNNING
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    logged = time.time()
    child.wait()
    result = worker_status(child.pid, logged)
    assert result.status == WorkerStatus.FAILED and f"{child.pid} is gone" in (result.msg or "")


def test_a_pid_reused_by_a_later_process_is_not_the_worker():
    # This process started long before the (pretended) moment the worker logged its pid.
    result = worker_status(os.getpid(), logged_at=time.time() - 3600)
    assert result.status == WorkerStatus.FAILED and "pid reused" in (result.msg or "")
