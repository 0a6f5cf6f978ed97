"""The stack as a whole: status, idempotent up, restart, a private settings file.

Loopback-only sockets and secrets in logs: tests/integration/security/."""

import io
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from citydata.clients import s3_client
from stack.manager import Stack
from stack.process import port_in_use

pytestmark = pytest.mark.integration


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    bin_cli = Path(sys.executable).parent / "citydata"
    return subprocess.run([str(bin_cli), *args], capture_output=True, text=True, timeout=600)


def test_status_json_reports_every_service_healthy(stack_ready):
    result = _cli("stack", "status", "--json")
    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout)
    names = {s["name"] for s in statuses}
    assert {"s3", "postgres", "redis", "solr", "ckan", "label_studio", "dagster"} <= names
    for s in statuses:
        assert set(s) >= {"name", "url", "healthy", "pid"}
        assert s["healthy"] is True, s
        assert isinstance(s["pid"], int)


def test_up_on_running_stack_reinstalls_and_restarts_nothing(stack_ready):
    before = {s.name: s.pids for s in Stack().status()}
    started = time.monotonic()
    result = _cli("stack", "up", "--json")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)["events"]
    assert events and all(e["event"] == "already running" for e in events), events
    assert {s.name: s.pids for s in Stack().status()} == before
    print(f"stack up on a running stack: {elapsed:.1f}s")


def test_s3_restart_frees_its_ports_and_keeps_data(stack_ready, unique):
    bucket, key = stack_ready.s3.lake_bucket, f"tests/{unique}/survives-restart.txt"
    s3_client(stack_ready).put_object(bucket, key, io.BytesIO(b"still here"), 10)
    s3 = Stack(only=["s3"])
    ports = s3.get("s3").ports().values()
    try:
        assert s3.down() == ["s3.server"]
        assert not any(port_in_use(p) for p in ports)
    finally:
        s3.up()
    assert s3_client(stack_ready).get_object(bucket, key).read() == b"still here"
    s3_client(stack_ready).remove_object(bucket, key)


def test_settings_file_is_private(stack_ready):
    mode = (stack_ready.stack_dir / "citydata.env").stat().st_mode & 0o777
    assert mode == 0o600


def test_dagster_run_history_survives_a_restart_of_postgres_and_dagster(stack_ready, monkeypatch):
    """Dagster's storage is the stack's PostgreSQL: a run recorded before `down` is there after
    `up`, in the webserver's answers."""
    import dagster as dg
    from dagster._core.storage.dagster_run import DagsterRun

    from citydata.dagster_instance import dagster_environment
    from tests.integration.dagster_graphql import dagster_graphql

    assert stack_ready.dagster.storage == "postgres"
    for key, value in dagster_environment(stack_ready).items():
        monkeypatch.setenv(key, value)
    run_id = str(uuid.uuid4())
    with dg.DagsterInstance.get() as instance:
        # Never queued nor started: neither the run queue nor run monitoring touches it.
        instance.add_run(DagsterRun(job_name="citydata_history_probe", run_id=run_id))
    stack = Stack()
    try:
        assert set(stack.stop(["dagster", "postgres"])) >= {"postgres.server", "dagster.daemon"}
    finally:
        stack.start("postgres")
        stack.start("dagster")
    query = "query($id: ID!) { runOrError(runId: $id) { __typename ... on Run { status jobName } } }"
    found = dagster_graphql(stack_ready.dagster.webserver_url, query, id=run_id)["runOrError"]
    assert found == {"__typename": "Run", "status": "NOT_STARTED", "jobName": "citydata_history_probe"}
    with dg.DagsterInstance.get() as instance:
        instance.delete_run(run_id)
