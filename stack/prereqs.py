"""System prerequisites of the local stack (Debian 12), how to check and how to install them."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class Prerequisite:
    name: str
    debian_packages: tuple[str, ...]
    present: Callable[[], bool]
    why: str
    for_tests: bool = False  # needed by the test suite only (the browser checks)

    @property
    def fix(self) -> str:
        return f"apt-get install -y {' '.join(self.debian_packages)}"


def _cmd(name: str) -> Callable[[], bool]:
    return lambda: shutil.which(name) is not None


def _path(path: str) -> Callable[[], bool]:
    return lambda: Path(path).exists()


def _java17() -> bool:
    java = shutil.which("java")
    if not java:
        return False
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    try:
        major = int(out.split('"')[1].split(".")[0])
    except (IndexError, ValueError):
        return False
    return major >= 17


PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite(
        "PostgreSQL 15 server",
        ("postgresql-15",),
        _path(str(PG_BIN / "postgres")),
        "CKAN database, DataStore",
    ),
    Prerequisite("Redis server", ("redis-server",), _cmd("redis-server"), "CKAN cache and job queue"),
    Prerequisite("Java 17+", ("openjdk-17-jdk-headless",), _java17, "Solr node"),
    Prerequisite("Maven", ("maven",), _cmd("mvn"), "builds the Solr node from Maven Central"),
    Prerequisite("C compiler", ("build-essential",), _cmd("gcc"), "CKAN wheels built from source"),
    Prerequisite("libpq headers", ("libpq-dev",), _cmd("pg_config"), "psycopg2 build"),
    Prerequisite(
        "Python headers", ("python3-dev",), _path("/usr/include/python3.11/Python.h"), "C extensions"
    ),
    Prerequisite(
        "libmagic", ("libmagic1",), _path("/usr/lib/x86_64-linux-gnu/libmagic.so.1"), "CKAN uploads"
    ),
    Prerequisite(
        "DejaVu fonts",
        ("fonts-dejavu-core",),
        _path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"),
        "the sample scanned forms (Vietnamese diacritics)",
    ),
)


TEST_PREREQUISITES: tuple[Prerequisite, ...] = (
    Prerequisite("Chromium", ("chromium",), _cmd("chromium"), "browser checks of the web UIs", True),
    Prerequisite("ChromeDriver", ("chromium-driver",), _cmd("chromedriver"), "browser checks", True),
)


def missing_prerequisites(include_tests: bool = False) -> list[Prerequisite]:
    wanted = PREREQUISITES + (TEST_PREREQUISITES if include_tests else ())
    return [p for p in wanted if not p.present()]


def install_missing(missing: list[Prerequisite]) -> None:
    """Install with apt-get when running as root (the bare-machine case); raises on failure."""
    if not missing:
        return
    if os.geteuid() != 0:
        raise PermissionError("installing system packages needs root: " + "; ".join(p.fix for p in missing))
    packages = sorted({pkg for p in missing for pkg in p.debian_packages})
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=True,
        env=env,
        capture_output=True,
    )
