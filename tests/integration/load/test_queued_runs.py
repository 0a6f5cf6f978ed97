"""Load: 50 datasets queued at once in Dagster's run queue, on two cores, all complete.

A real Dagster deployment beside the stack's own: a code server loading the code location
`pipelines` with `CITYDATA_SPECS_DIR` pointing at 50 generated specs (local CSV files), a
webserver (GraphQL) and a daemon, all on the project's generated Dagster instance (the
QueuedRunCoordinator: two runs at a time, one per dataset) with its storage in a temporary
PostgreSQL database of the stack's cluster (the stack's own daemon never sees these runs).
The 50 jobs are submitted at once through GraphQL `launchRun`, plus a second run of one dataset
to show the per-dataset limit; the daemon dequeues them and every run executes in its own
process. Each dataset must end published: a lake version, a CKAN entry, an anonymously
readable Parquet file. Timings are printed (submit, queue drained, per-run overhead).
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml
from pydantic import SecretStr

from citydata.clients import ckan_client
from citydata.dagster_instance import dagster_environment
from citydata.settings import REPO_ROOT, Settings
from citydata.storage.lake import Lake
from citydata.storage.published import read_pointer
from pipelines.automation import DATASET_TAG
from pipelines.datasets.assets import key_part
from stack.process import ManagedProcess, ProcessSpec
from tests.integration.cleanup import purge_agency
from tests.integration.dagster_graphql import dagster_graphql

pytestmark = pytest.mark.integration

DATASETS = 50
ROWS_PER_DATASET = 20
LOCATION = "citydata_load"
TIMEOUT_S = 2400  # the queue drains in ~7 min on two free cores; shared cores are slower

_LAUNCH = """
mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename
  ... on LaunchRunSuccess { run { runId } }
  ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } }
  ... on InvalidSubsetError { message }
  ... on PipelineNotFoundError { message }
} }
"""
_RUNS = """
query($ids: [String!]) { runsOrError(filter: {runIds: $ids}, limit: 1000) {
  ... on Runs { results { runId jobName status startTime endTime tags { key value } } }
} }
"""
_LOCATIONS = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename }
} } } }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Deployment:
    url: str
    processes: list[ManagedProcess]

    def graphql(self, query: str, **variables: object) -> dict:
        return dagster_graphql(self.url, query, **variables)

    def loaded(self) -> bool:
        try:
            entries = self.graphql(_LOCATIONS)["workspaceOrError"]["locationEntries"]
        except (requests.RequestException, AssertionError):
            return False
        return bool(entries) and all(
            e["loadStatus"] == "LOADED" and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            for e in entries
        )

    def dead(self) -> list[str]:
        return [m.spec.name for m in self.processes if m.pid() is None]


def _code_server_loaded(port: int) -> bool:
    from dagster._grpc.client import DagsterGrpcClient

    try:
        DagsterGrpcClient(port=port, host="127.0.0.1").list_repositories()
    except Exception:  # noqa: BLE001  (unreachable or still loading)
        return False
    return True


def _write_specs(folder: Path, unique: str, agency: str) -> list[str]:
    names = []
    for i in range(DATASETS):
        name = f"load-{unique}-{i:02d}"
        csv_path = folder / "sources" / f"{name}.csv"
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        lines = ["ma,ten,so_luong"] + [
            f"M{i:02d}{r:03d},Điểm {r} của bộ {i},{r * i}" for r in range(ROWS_PER_DATASET)
        ]
        csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        spec = {
            "id": name,
            "agency": {"id": agency, "title": {"vi": "Sở thử nghiệm tải"}},
            "title": {"vi": f"Bộ dữ liệu tải {i} ({unique})"},
            "description": {"vi": "Bộ dữ liệu nhỏ cho thử nghiệm 50 lượt chạy xếp hàng."},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "synthetic": True,
            "update_frequency": "0 3 1 1 *",
            "source": {"type": "local_file", "path": str(csv_path)},
            "schema": {
                "primary_key": ["ma"],
                "columns": {"ma": {"nullable": False}, "so_luong": {"type": "integer"}},
            },
        }
        (folder / "specs").mkdir(exist_ok=True)
        (folder / "specs" / f"{name}.yaml").write_text(
            yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8"
        )
        names.append(name)
    return names


@contextlib.contextmanager
def _temporary_database(settings: Settings) -> Iterator[str]:
    """A fresh database owned by Dagster's role; its URL. Dropped afterwards."""
    import psycopg
    from psycopg import sql

    url = settings.dagster.postgres_url.get_secret_value()
    name = f"dagster_load_{os.getpid()}_{int(time.time())}"
    owner = psycopg.conninfo.conninfo_to_dict(url)["user"]
    admin = settings.postgres.dsn()
    with psycopg.connect(admin, autocommit=True) as conn:
        create = sql.SQL("CREATE DATABASE {} OWNER {}")
        conn.execute(create.format(sql.Identifier(name), sql.Identifier(owner)))
    try:
        yield urllib.parse.urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def _deployment(settings: Settings, folder: Path) -> Iterator[Deployment]:
    """Code server + webserver + daemon on the project's instance, storage in a new database."""
    with _temporary_database(settings) as database:
        yield from _deployment_on(settings, folder, database)


def _deployment_on(settings: Settings, folder: Path, database: str) -> Iterator[Deployment]:
    bin_dir = Path(sys.executable).parent
    grpc_port, web_port = _free_port(), _free_port()
    workspace = folder / "workspace.yaml"
    workspace.write_text(
        yaml.safe_dump(
            {
                "load_from": [
                    {"grpc_server": {"host": "127.0.0.1", "port": grpc_port, "location_name": LOCATION}}
                ]
            }
        )
    )
    dagster = settings.dagster.model_copy(update={"postgres_url": SecretStr(database)})
    own = settings.model_copy(update={"dagster": dagster})
    env = {
        **dagster_environment(own),
        # The stages' advisory locks stay in the stack's database, shared with every other run.
        "CITYDATA_LOCKS__POSTGRES_URL": settings.dagster.postgres_url.get_secret_value(),
        "CITYDATA_SPECS_DIR": str(folder / "specs"),
        "CITYDATA_DAGSTER_STORAGE_DIR": str(folder / "dagster" / "storage"),
        "CITYDATA_DAGSTER_COMPUTE_LOG_DIR": str(folder / "dagster" / "compute_logs"),
    }
    specs = [
        ProcessSpec("code-server", [str(bin_dir / "dagster"), "code-server", "start", "-h", "127.0.0.1",
                                    "-p", str(grpc_port), "-m", "pipelines", "-a", "defs",
                                    "--location-name", LOCATION],
                    env=env, cwd=REPO_ROOT),
        ProcessSpec("webserver", [str(bin_dir / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port),
                                  "-w", str(workspace)], env=env, cwd=REPO_ROOT),
        ProcessSpec("daemon", [str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)], env=env,
                    cwd=REPO_ROOT),
    ]  # fmt: skip
    run_dir = folder / "run"
    processes = [
        ManagedProcess(s, run_dir / f"{s.name}.pid", folder / "logs" / f"{s.name}.log") for s in specs
    ]
    deployment = Deployment(f"http://127.0.0.1:{web_port}", processes)
    # The schema first: the webserver and the daemon starting together would both create it.
    migrate = [str(bin_dir / "dagster"), "instance", "migrate"]
    subprocess.run(
        migrate, env={**os.environ, **env}, cwd=REPO_ROOT, check=True, capture_output=True, timeout=300
    )
    try:
        processes[0].start(dict(os.environ))  # the code server first: the others connect to it at start
        deadline = time.monotonic() + 180
        while not _code_server_loaded(grpc_port):
            assert processes[0].pid() is not None, f"the code server exited; log in {folder / 'logs'}"
            assert time.monotonic() < deadline, "the code server did not load the code location in 180 s"
            time.sleep(1)
        for m in processes[1:]:
            m.start(dict(os.environ))
        while not deployment.loaded():
            assert not deployment.dead(), f"exited: {deployment.dead()}; logs in {folder / 'logs'}"
            assert time.monotonic() < deadline, "the load deployment did not load its code location in 180 s"
            time.sleep(1)
        yield deployment
    finally:
        for m in reversed(processes):
            m.stop()


def _cleanup(settings: Settings, agency: str, names: list[str]) -> None:
    purge_agency(settings, Lake(settings), agency, names)


def _launch(deployment: Deployment, name: str) -> str:
    params = {
        "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__",
                     "jobName": job_name_for(name)},
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "citydata/trigger", "value": "load-test"}]},
    }  # fmt: skip
    result = deployment.graphql(_LAUNCH, params=params)["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return str(result["run"]["runId"])


def job_name_for(name: str) -> str:
    return f"{key_part(name)}_graph"


def _overlap(a: dict, b: dict) -> bool:
    return a["startTime"] < b["endTime"] and b["startTime"] < a["endTime"]


def _most_at_once(runs: list[dict]) -> int:
    """The largest number of runs in progress at the same instant (a sweep over starts and ends)."""
    events = sorted([(r["startTime"], 1) for r in runs] + [(r["endTime"], -1) for r in runs])
    at_once = most = 0
    for _, step in events:  # at equal times an end (-1) sorts before a start (+1)
        at_once += step
        most = max(most, at_once)
    return most


@pytest.mark.timeout(TIMEOUT_S + 300)
def test_fifty_datasets_queued_at_once_all_publish(stack_ready, unique, tmp_path):
    settings = stack_ready
    agency = f"test-load-{unique}"
    names = _write_specs(tmp_path, unique, agency)
    try:
        started = time.monotonic()
        with _deployment(settings, tmp_path) as deployment:
            ready = time.monotonic()
            run_ids = {name: _launch(deployment, name) for name in names}
            again = _launch(deployment, names[0])  # a second run of one dataset: waits for the first
            submitted = time.monotonic()
            ids = [*run_ids.values(), again]
            deadline = submitted + TIMEOUT_S
            while True:
                runs = deployment.graphql(_RUNS, ids=ids)["runsOrError"]["results"]
                states = [r["status"] for r in runs]
                if all(s in ("SUCCESS", "FAILURE", "CANCELED") for s in states) and len(runs) == len(ids):
                    break
                assert not deployment.dead(), f"exited: {deployment.dead()}; logs in {tmp_path / 'logs'}"
                assert time.monotonic() < deadline, {s: states.count(s) for s in set(states)}
                time.sleep(2)
            drained = time.monotonic()
        by_id = {r["runId"]: r for r in runs}
        failed = [(r["jobName"], r["status"]) for r in runs if r["status"] != "SUCCESS"]
        assert not failed, f"{len(failed)} runs did not succeed: {failed[:5]}; logs in {tmp_path / 'dagster'}"

        # The queue's limits held: at most two runs at once, never two of the same dataset.
        most = _most_at_once(runs)
        assert 1 <= most <= 2, f"{most} runs in progress at once"
        assert not _overlap(by_id[run_ids[names[0]]], by_id[again])
        assert {t["value"] for r in runs for t in r["tags"] if t["key"] == DATASET_TAG} == set(names)

        # Every dataset is published: lake version, CKAN entry, public Parquet.
        lake = Lake(settings)
        anonymous = ckan_client(settings, anonymous=True)
        for name in names:
            pointer = read_pointer(lake, agency, name)
            assert pointer is not None and pointer.current == 1, (name, pointer)
            pkg = anonymous.action.package_show(id=name)
            assert pkg["version"] == "1"
            parquet = next(r for r in pkg["resources"] if r.get("citydata_role") == "parquet-00000")
            reply = requests.get(parquet["url"], timeout=30)
            assert reply.status_code == 200, f"{name}: anonymous GET of its Parquet -> {reply.status_code}"

        durations = [r["endTime"] - r["startTime"] for r in runs]
        print(
            f"\n{len(ids)} queued runs: deployment ready in {ready - started:.1f}s, submitted in "
            f"{submitted - ready:.1f}s, queue drained in {drained - submitted:.1f}s "
            f"({(drained - submitted) / len(ids):.2f}s per run); run wall time median "
            f"{statistics.median(durations):.1f}s, max {max(durations):.1f}s"
        )
    finally:
        _cleanup(settings, agency, names)
