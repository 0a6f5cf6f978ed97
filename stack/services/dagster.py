"""Dagster webserver (UI) and daemon (schedules, sensors, run queue).

Their instance (`dagster.yaml`) is generated from the settings (citydata/dagster_instance.py).
Storage is PostgreSQL by default: a database and role of Dagster's own on the stack's cluster,
created here idempotently; its URL goes to the generated settings file, so run history outlives
`stack down`. CITYDATA_DAGSTER__STORAGE=sqlite keeps it in files under the stack folder.
"""

from __future__ import annotations

import importlib.metadata
import sys
import urllib.parse
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlparse

import requests

from citydata.dagster_instance import dagster_environment
from citydata.retry import RetryPolicy
from citydata.settings import REPO_ROOT
from quality import docs_assets
from stack.process import ProcessSpec
from stack.service import Service, http_ok
from stack.services.postgres import PostgresService

DATABASE = ROLE = "dagster"
PASSWORD_KEY = "CITYDATA_STACK__DAGSTER_DB_PASSWORD"  # noqa: S105 - env key
WORKSPACE = REPO_ROOT / "dagster_home" / "workspace.yaml"  # the code location `pipelines`
_WORKSPACE_QUERY = """
{ workspaceOrError { ... on Workspace { locationEntries {
    name loadStatus locationOrLoadError { __typename }
} } } }
"""


class DagsterService(Service):
    name: ClassVar[str] = "dagster"
    description: ClassVar[str] = "Dagster webserver and daemon"
    requires: ClassVar[tuple[str, ...]] = ("postgres",)
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
        pg = PostgresService(self.ctx)
        self._ensure_database(pg)
        self.ctx.reload()  # the URL just written
        env = dagster_environment(self.settings)
        for key in ("CITYDATA_DAGSTER_STORAGE_DIR", "CITYDATA_DAGSTER_COMPUTE_LOG_DIR"):
            Path(env[key]).mkdir(parents=True, exist_ok=True)
        self.ctx.env_file.update({"CITYDATA_DAGSTER__WEBSERVER_URL": self.url})
        # Create or upgrade the storage once here: the webserver and the daemon starting together
        # would both create a new schema (a SQLite schedule database got two version rows).
        version = importlib.metadata.version("dagster")
        storage = self.settings.dagster.storage
        marker = self.data_dir / f".migrated-{storage}"
        if storage == "postgres":
            # Only when the stack's own database is used (an external one is migrated by its owner).
            ours = self._stack_url() == self.settings.dagster.postgres_url.get_secret_value()
            found = pg.psql("SELECT to_regclass('public.runs') IS NOT NULL;", DATABASE).strip()
            fresh = ours and found != "t"
        else:
            fresh = not (Path(env["CITYDATA_DAGSTER_STORAGE_DIR"]) / "schedules").exists()
        if fresh or not marker.exists() or marker.read_text() != version:
            bin_dir = Path(sys.executable).parent
            migrate: list[str | Path] = [bin_dir / "dagster", "instance", "migrate"]
            self.ctx.run(migrate, service=self.name, env=env, cwd=REPO_ROOT)
            marker.write_text(version)

    def _stack_url(self) -> str:
        password = self.ctx.env_file.ensure_secret(PASSWORD_KEY)
        pg = self.settings.postgres
        return f"postgresql://{ROLE}:{urllib.parse.quote(password, safe='')}@{pg.host}:{pg.port}/{DATABASE}"

    def _ensure_database(self, pg: PostgresService) -> None:
        """Dagster's own role and database on the stack's PostgreSQL (idempotent). Created with
        SQLite storage too: the advisory locks of citydata.locks live there."""
        pg.ensure_role(ROLE, self.ctx.env_file.ensure_secret(PASSWORD_KEY))
        pg.ensure_database(DATABASE, ROLE)
        self.ctx.env_file.update({"CITYDATA_DAGSTER__POSTGRES_URL": self._stack_url()})
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def processes(self) -> list[ProcessSpec]:
        bin_dir = Path(sys.executable).parent
        # Before the first `up` there is no database URL yet (`status` lists the processes too).
        env = dagster_environment(self.settings, require_storage=False)
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
