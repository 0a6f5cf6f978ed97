"""The contract every local service implements, and the context it runs in."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from citydata.envfile import EnvFile
from citydata.settings import Settings, load_settings
from stack.paths import StackPaths
from stack.process import ManagedProcess, ProcessSpec, ServiceError, tail

PYTHON_VERSION = "3.11"


@dataclass
class StackContext:
    """What a service needs: settings, folders, the generated env file, a command runner."""

    paths: StackPaths
    env_file: EnvFile
    settings: Settings

    @classmethod
    def create(cls) -> StackContext:
        settings = load_settings()
        paths = StackPaths(settings.stack_dir)
        paths.ensure()
        return cls(paths=paths, env_file=EnvFile(paths.env_file), settings=settings)

    def reload(self) -> None:
        """Re-read settings after the env file changed (generated secrets, tokens)."""
        self.settings = load_settings()

    def run(
        self,
        argv: Sequence[str | Path],
        *,
        service: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        input_text: str | None = None,
        timeout_s: float = 1800,
    ) -> str:
        """Run a set-up command, appending its output to the service's install log.

        Returns stdout; raises ServiceError with the log tail when the command fails.
        """
        log_path = self.paths.log_file(f"{service}.install")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        args = [str(a) for a in argv]
        full_env = {**os.environ, **(env or {})}
        started = time.monotonic()
        try:
            proc = subprocess.run(
                args,
                cwd=cwd,
                env=full_env,
                input=input_text,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                user=user,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServiceError(service, f"`{args[0]}` timed out after {timeout_s:.0f}s") from exc
        with log_path.open("a", encoding="utf-8") as log:
            log.write(f"$ {' '.join(args[:6])}{' ...' if len(args) > 6 else ''}")
            log.write(f"  [exit {proc.returncode}, {time.monotonic() - started:.1f}s]\n")
            log.write(proc.stdout[-20000:])
            log.write(proc.stderr[-20000:])
        if proc.returncode != 0:
            raise ServiceError(
                service,
                f"`{' '.join(args[:4])}` exited {proc.returncode} (log: {log_path})",
                tail(log_path),
            )
        return proc.stdout

    def uv(self) -> str:
        """The uv binary: beside this interpreter, else on PATH."""
        candidate = Path(sys.executable).parent / "uv"
        if candidate.exists():
            return str(candidate)
        found = shutil.which("uv")
        if not found:
            raise ServiceError("stack", "uv is missing: run `python3 -m pip install uv`")
        return found

    def make_venv(self, name: str, service: str, *requirement_args: str) -> Path:
        """Create (or refresh) an isolated virtual environment with uv; returns its path.

        uv keeps a shared wheel cache, so a second stack folder or a CI rerun installs from
        the cache in seconds instead of downloading and building again.
        """
        venv = self.paths.venv(name)
        if not (venv / "bin" / "python").exists():
            self.run([self.uv(), "venv", "--python", PYTHON_VERSION, "--seed", venv], service=service)
        self.run(
            [self.uv(), "pip", "install", "--python", venv / "bin" / "python", *requirement_args],
            service=service,
        )
        return venv


def http_ok(url: str, timeout_s: float = 3.0, headers: dict[str, str] | None = None) -> bool:
    """True when a GET answers 2xx."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as resp:
            return 200 <= resp.status < 300
    except Exception:  # noqa: BLE001
        return False


def file_digest(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class Service(ABC):
    """One service of the local stack.

    Lifecycle driven by `stack.manager`: `install()` (skipped while the fingerprint is
    unchanged), `configure()` (every `up`, idempotent), start `processes()`, wait for
    `healthy()`, then `bootstrap()` (idempotent: users, buckets, tokens).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()  # services that must be healthy before this starts
    start_timeout_s: ClassVar[float] = 120.0

    def __init__(self, ctx: StackContext) -> None:
        self.ctx = ctx

    # --- identity -------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.ctx.settings

    @property
    def data_dir(self) -> Path:
        return self.ctx.paths.data_dir(self.name)

    @abstractmethod
    def ports(self) -> dict[str, int]:
        """Every port this service listens on, by role; all must be free before a start."""

    @property
    @abstractmethod
    def url(self) -> str:
        """The URL a person or client uses."""

    # --- install --------------------------------------------------------------------
    def fingerprint(self) -> str:
        """Changes when the install inputs change (pinned requirements, build files)."""
        return "1"

    def _marker(self) -> Path:
        return self.ctx.paths.installed / self.name

    def is_installed(self) -> bool:
        marker = self._marker()
        return marker.exists() and marker.read_text().strip() == self.fingerprint()

    def install(self) -> None:
        """Install binaries / virtual environments. Called only when not installed."""

    def mark_installed(self) -> None:
        self._marker().write_text(self.fingerprint())

    # --- run ------------------------------------------------------------------------
    def configure(self) -> None:
        """Write config files and generate secrets before a start. Must be idempotent."""

    @abstractmethod
    def processes(self) -> list[ProcessSpec]:
        """The long-running processes of this service."""

    @abstractmethod
    def healthy(self) -> bool:
        """A real request to the service succeeds."""

    def bootstrap(self) -> None:
        """One-time objects once healthy (buckets, users, tokens). Must be idempotent."""

    # --- helpers --------------------------------------------------------------------
    def managed(self) -> list[ManagedProcess]:
        return [
            ManagedProcess(
                spec,
                self.ctx.paths.pid_file(f"{self.name}.{spec.name}"),
                self.ctx.paths.log_file(f"{self.name}.{spec.name}"),
            )
            for spec in self.processes()
        ]

    def log_files(self) -> list[Path]:
        return [m.log_file for m in self.managed()]

    def error(self, message: str) -> ServiceError:
        tails = "\n".join(tail(p) for p in self.log_files() if p.exists())
        return ServiceError(self.name, message, tails)
