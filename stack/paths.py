"""Where the stack keeps installs, data, logs and PID files (one ignored folder)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STACK_SOURCE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class StackPaths:
    root: Path

    @property
    def venvs(self) -> Path:
        return self.root / "venvs"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def installed(self) -> Path:
        return self.root / "installed"

    @property
    def env_file(self) -> Path:
        return self.root / "citydata.env"

    def venv(self, name: str) -> Path:
        return self.venvs / name

    def data_dir(self, service: str) -> Path:
        return self.data / service

    def log_file(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def pid_file(self, name: str) -> Path:
        return self.run / f"{name}.pid"

    def ensure(self) -> None:
        for d in (self.root, self.venvs, self.data, self.logs, self.run, self.installed):
            d.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)  # the postgres user must traverse it
