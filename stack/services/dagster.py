"""Dagster webserver (UI) and daemon (schedules, sensors, run queue) on `dagster_home`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import requests

from citydata.retry import RetryPolicy
from citydata.settings import REPO_ROOT, dagster_environment
from quality import docs_assets
from stack.process import ProcessSpec
from stack.service import Service, http_ok

WORKSPACE = REPO_ROOT / "dagster_home" / "workspace.yaml"  # the code location `pipelines`
_WORKSPACE_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename }
} } } }
"""


class DagsterService(Service):
    name: ClassVar[str] = "dagster"
    description: ClassVar[str] = "Dagster webserver and daemon"
    start_timeout_s: ClassVar[float] = 120.0
    order: ClassVar[int] = 90

    def ports(self) -> dict[str, int]:
        return {"http": urlparse(self.settings.dagster.webserver_url).port or 80}

    @property
    def url(self) -> str:
        return self.settings.dagster.webserver_url

    def fingerprint(self) -> str:
        return f"data-docs-assets-{docs_assets.fingerprint()}"

    def install(self) -> None:
        """The browser libraries of the quality reports (Data Docs), from the npm registry, checked
        against their pinned integrity, so that report builds never need the internet."""
        docs = self.settings.data_docs
        docs_assets.ensure_assets(docs.assets_dir, docs.npm_registry, RetryPolicy(attempts=4, backoff_s=2.0))

    def configure(self) -> None:
        env = dagster_environment(self.settings)
        for key in ("CITYDATA_DAGSTER_STORAGE_DIR", "CITYDATA_DAGSTER_COMPUTE_LOG_DIR"):
            Path(env[key]).mkdir(parents=True, exist_ok=True)
        self.ctx.env_file.update({"CITYDATA_DAGSTER__WEBSERVER_URL": self.url})
        storage = Path(env["CITYDATA_DAGSTER_STORAGE_DIR"])
        if not (storage / "schedules").exists():
            # Create the storage once here: the webserver and the daemon starting together would
            # both migrate a new schedule database and leave it with two version rows.
            bin_dir = Path(sys.executable).parent
            migrate: list[str | Path] = [bin_dir / "dagster", "instance", "migrate"]
            self.ctx.run(migrate, service=self.name, env=env, cwd=REPO_ROOT)

    def processes(self) -> list[ProcessSpec]:
        bin_dir = Path(sys.executable).parent
        env = dagster_environment(self.settings)
        port = self.ports()["http"]
        webserver = [
            str(bin_dir / "dagster-webserver"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-w",
            str(WORKSPACE),
        ]
        daemon = [str(bin_dir / "dagster-daemon"), "run", "-w", str(WORKSPACE)]
        return [
            ProcessSpec("webserver", webserver, env=env, cwd=REPO_ROOT),
            ProcessSpec("daemon", daemon, env=env, cwd=REPO_ROOT),
        ]

    def healthy(self) -> bool:
        """The webserver answers and has loaded the code location (not just started)."""
        if not http_ok(f"{self.url}/server_info"):
            return False
        resp = requests.post(f"{self.url}/graphql", json={"query": _WORKSPACE_QUERY}, timeout=10)
        resp.raise_for_status()
        entries = resp.json()["data"]["workspaceOrError"]["locationEntries"]
        return bool(entries) and all(
            e["loadStatus"] == "LOADED" and e["locationOrLoadError"]["__typename"] == "RepositoryLocation"
            for e in entries
        )
