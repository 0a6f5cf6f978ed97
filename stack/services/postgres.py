"""PostgreSQL 15 (Debian package): a private cluster in the stack folder, on its own port."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
from pathlib import Path
from typing import ClassVar

from stack.prereqs import PG_BIN
from stack.process import ProcessSpec
from stack.service import Service

PG_USER = "postgres"  # initdb and postgres refuse to run as root


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresService(Service):
    name: ClassVar[str] = "postgres"
    description: ClassVar[str] = "PostgreSQL 15 (CKAN, DataStore, agency test databases)"
    start_timeout_s: ClassVar[float] = 60.0
    order: ClassVar[int] = 20

    def ports(self) -> dict[str, int]:
        return {"postgres": self.settings.postgres.port}

    @property
    def url(self) -> str:
        pg = self.settings.postgres
        return f"postgresql://{pg.host}:{pg.port}"

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return self.data_dir / "socket"

    def configure(self) -> None:
        password = self.ctx.env_file.ensure_secret("CITYDATA_POSTGRES__PASSWORD")
        self.ctx.env_file.update({"CITYDATA_POSTGRES__PORT": str(self.settings.postgres.port)})
        entry = pwd.getpwnam(PG_USER)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        for path in (self.data_dir, self.socket_dir):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        if (self.pgdata / "PG_VERSION").exists():
            return
        pwfile = self.data_dir / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(password + "\n")
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        try:
            self.ctx.run(
                [
                    PG_BIN / "initdb",
                    "-D",
                    self.pgdata,
                    "-U",
                    PG_USER,
                    f"--pwfile={pwfile}",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                service=self.name,
                user=PG_USER,
            )
        finally:
            pwfile.unlink(missing_ok=True)

    def processes(self) -> list[ProcessSpec]:
        argv = [
            str(PG_BIN / "postgres"),
            "-D",
            str(self.pgdata),
            "-p",
            str(self.settings.postgres.port),
            "-k",
            str(self.socket_dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            "-c",
            "shared_buffers=256MB",
            "-c",
            "fsync=on",
        ]
        # SIGINT is PostgreSQL's "fast" shutdown: it closes client sessions (CKAN's and Dagster's
        # pools) and stops cleanly; SIGTERM ("smart") waits for every client to leave first.
        return [ProcessSpec("server", argv, user=PG_USER, cwd=self.data_dir, stop_signal=signal.SIGINT)]

    def healthy(self) -> bool:
        isready = shutil.which("pg_isready") or str(PG_BIN / "pg_isready")
        result = subprocess.run(
            [isready, "-q", "-h", "127.0.0.1", "-p", str(self.settings.postgres.port)],
            capture_output=True,
        )
        return result.returncode == 0

    # --- administration used by other services and tests -----------------------------
    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the private socket (peer auth); returns rows as text."""
        return self.ctx.run(
            [
                PG_BIN / "psql",
                "-h",
                self.socket_dir,
                "-p",
                str(self.settings.postgres.port),
                "-U",
                PG_USER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
            ],
            service=self.name,
            user=PG_USER,
            input_text=sql,
        )

    def ensure_role(self, role: str, password: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = {_quote_literal(role)};").strip()
        verb = "ALTER" if exists else "CREATE"
        self.psql(f"{verb} ROLE {_quote_ident(role)} LOGIN PASSWORD {_quote_literal(password)};")

    def ensure_database(self, database: str, owner: str) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = {_quote_literal(database)};").strip()
        if not exists:
            self.psql(
                f"CREATE DATABASE {_quote_ident(database)} OWNER {_quote_ident(owner)} "
                "ENCODING 'UTF8' TEMPLATE template0;"
            )
