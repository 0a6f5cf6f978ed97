"""Redis (Debian package) for CKAN's cache and background job queue."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import ClassVar

from stack.process import ProcessSpec
from stack.service import Service


class RedisService(Service):
    name: ClassVar[str] = "redis"
    description: ClassVar[str] = "Redis (CKAN cache and job queue)"
    start_timeout_s: ClassVar[float] = 30.0
    order: ClassVar[int] = 20

    def ports(self) -> dict[str, int]:
        return {"redis": self.settings.redis.port}

    @property
    def url(self) -> str:
        return f"redis://{self.settings.redis.host}:{self.settings.redis.port}/0"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "redis.conf"

    def configure(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        password = self.ctx.env_file.ensure_secret("CITYDATA_REDIS__PASSWORD")
        self.ctx.env_file.update({"CITYDATA_REDIS__PORT": str(self.settings.redis.port)})
        # The password lives in a private config file, not on the command line (visible in ps).
        body = "\n".join(
            [
                "bind 127.0.0.1",
                f"port {self.settings.redis.port}",
                f"dir {self.data_dir}",
                "daemonize no",
                "protected-mode yes",
                'save ""',
                "appendonly no",
                f"requirepass {password}",
                "",
            ]
        )
        fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(body)

    def processes(self) -> list[ProcessSpec]:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        return [ProcessSpec("server", [binary, str(self.config_path)], cwd=self.data_dir)]

    def _send(self, commands: list[str], timeout: float) -> bytes:
        """AUTH, then `commands`, on one connection; the raw replies (one line each)."""
        password = self.settings.redis.password.get_secret_value()
        lines = [f"AUTH {password}", *commands]
        with socket.create_connection(
            (self.settings.redis.host, self.settings.redis.port), timeout=timeout
        ) as s:
            s.sendall("".join(f"{line}\r\n" for line in lines).encode())
            reply = b""
            while reply.count(b"\r\n") < len(lines):
                chunk = s.recv(256)
                if not chunk:
                    break
                reply += chunk
        return reply

    def healthy(self) -> bool:
        return self._send(["PING"], timeout=2) == b"+OK\r\n+PONG\r\n"

    def flush_database(self, database: int) -> None:
        """Empty one numbered database (CKAN's cache and job queue when CKAN's data is reset)."""
        reply = self._send([f"SELECT {int(database)}", "FLUSHDB"], timeout=5)
        if reply != b"+OK\r\n" * 3:
            raise self.error(f"FLUSHDB of database {database} failed: {reply[:200]!r}")
