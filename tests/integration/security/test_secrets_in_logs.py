"""No API token, key or password from `.stack/citydata.env` appears in any log the platform writes.

Scanned after a real run (the `exercised` dataset: Dagster run, S3, CKAN, DataStore, Label
Studio): every file under `.stack/logs/`, Dagster's storage (its PostgreSQL runs and event log,
or the SQLite files, and the compute logs under `.stack/data/dagster/`), any `*.log` file or
`log`/`logs` folder of a service's data (CKAN, Label Studio, PostgreSQL, Solr), the repository's
`reports/` folder if present, and the lake's `reports/` zone (quality reports and Data Docs).
Files are searched as bytes, so SQLite databases and compressed-free binary logs are covered too.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from citydata.envfile import EnvFile
from citydata.settings import REPO_ROOT, Settings
from citydata.storage.lake import Lake

pytestmark = pytest.mark.integration

_SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "ACCESS_KEY", "_KEY", "_URL")
_MIN_LENGTH = 8  # shorter values (ports, "false") would match by chance


def stack_secrets(env_file: Path) -> dict[str, str]:
    """Every credential in the env file: keys, passwords, tokens, and passwords inside URLs."""
    found: dict[str, str] = {}
    for key, value in EnvFile(env_file).read().items():
        if not any(word in key for word in _SECRET_WORDS):
            continue
        if "://" in value:
            password = urlsplit(value).password
            if password and len(password) >= _MIN_LENGTH:
                found[f"{key} (password in URL)"] = password
        elif len(value) >= _MIN_LENGTH and not key.endswith("_URL"):
            found[key] = value
    return found


def _needles(secret: str) -> set[bytes]:
    """The secret as written, and %-encoded (as it would appear inside a logged URL)."""
    return {secret.encode(), quote(secret, safe="").encode()}


def log_files(stack_dir: Path, repo_root: Path = REPO_ROOT) -> Iterator[Path]:
    """Every file in the platform's log locations."""
    roots = [stack_dir / "logs", stack_dir / "data" / "dagster", repo_root / "reports"]
    data = stack_dir / "data"
    if data.exists():
        roots += [p for p in data.rglob("*") if p.is_dir() and p.name in ("log", "logs")]
    seen: set[Path] = set()
    for root in roots:
        if root.is_dir():
            for path in root.rglob("*"):
                if path.is_file() and path not in seen:
                    seen.add(path)
                    yield path
    if data.exists():
        for path in data.rglob("*.log"):
            if path.is_file() and path not in seen and "venvs" not in path.parts:
                seen.add(path)
                yield path


def find_leaks(files: Iterable[tuple[str, bytes]], found_secrets: dict[str, str]) -> list[str]:
    needles = {name: _needles(value) for name, value in found_secrets.items()}
    leaks = []
    for where, body in files:
        leaks += [f"{name} in {where}" for name, forms in needles.items() if any(n in body for n in forms)]
    return leaks


def _read_files(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    for path in paths:
        try:
            yield str(path), path.read_bytes()
        except OSError:  # a log rotated away while scanning
            continue


def _dagster_database(settings: Settings) -> Iterator[tuple[str, bytes]]:
    """Every run and event Dagster stored in PostgreSQL (its default storage)."""
    import psycopg
    from psycopg import sql

    if settings.dagster.storage != "postgres":
        return
    with psycopg.connect(settings.dagster.postgres_url.get_secret_value()) as conn:
        for table, column in (("runs", "run_body"), ("event_logs", "event")):
            query = sql.SQL("SELECT {} FROM {}").format(sql.Identifier(column), sql.Identifier(table))
            rows = conn.execute(query).fetchall()
            yield f"dagster database: {table}", "\n".join(str(r[0]) for r in rows).encode()


def _lake_reports(settings: Settings) -> Iterator[tuple[str, bytes]]:
    lake = Lake(settings)
    for key in lake.keys("reports/"):
        yield f"s3://{lake.bucket}/{key}", lake.get_bytes(key)


def test_the_scan_finds_a_planted_secret(tmp_path):
    """The scan can fail: a secret written into a log (raw, or %-encoded in a URL) is found."""
    secret = secrets.token_urlsafe(24) + "/+="
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "svc.log").write_text(f"connecting to http://u:{quote(secret, safe='')}@host/\n")
    (tmp_path / "data" / "svc" / "logs").mkdir(parents=True)
    (tmp_path / "data" / "svc" / "logs" / "app.txt").write_bytes(b"\x00binary" + secret.encode())
    files = list(log_files(tmp_path, repo_root=tmp_path))
    assert len(files) == 2
    leaks = find_leaks(_read_files(files), {"CITYDATA_X__TOKEN": secret})
    assert len(leaks) == 2, leaks
    assert find_leaks(_read_files(files), {"CITYDATA_X__TOKEN": secrets.token_urlsafe(24)}) == []


def test_secrets_are_collected_from_the_env_file(tmp_path):
    env = tmp_path / "citydata.env"
    env.write_text(
        "CITYDATA_S3__ACCESS_KEY=AKIAEXAMPLE123\nCITYDATA_S3__SECRET_KEY=s3cr3t-value-xyz\n"
        "CITYDATA_DAGSTER__POSTGRES_URL=postgresql://u:pw-in-url-123@127.0.0.1:5/d\n"
        "CITYDATA_CKAN__URL=http://127.0.0.1:5000\nCITYDATA_S3__SECURE=false\n"
    )
    assert stack_secrets(env) == {
        "CITYDATA_S3__ACCESS_KEY": "AKIAEXAMPLE123",
        "CITYDATA_S3__SECRET_KEY": "s3cr3t-value-xyz",
        "CITYDATA_DAGSTER__POSTGRES_URL (password in URL)": "pw-in-url-123",
    }


def test_no_secret_appears_in_any_log_after_a_real_run(exercised):
    settings = exercised.settings
    found = stack_secrets(settings.stack_dir / "citydata.env")
    names = " ".join(found)
    assert all(w in names for w in ("S3__SECRET_KEY", "CKAN__API_TOKEN", "LABEL_STUDIO__API_TOKEN")), names
    files = list(log_files(settings.stack_dir))
    assert any("dagster" in str(p) for p in files) and any(p.name == "ckan.web.log" for p in files)
    leaks = find_leaks([*_read_files(files), *_dagster_database(settings), *_lake_reports(settings)], found)
    print(f"scanned {len(files)} log files and the lake's reports zone for {len(found)} secrets")
    assert not leaks, leaks
