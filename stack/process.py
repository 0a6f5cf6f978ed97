"""Start, find and stop service processes by PID; check ports; wait for health."""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from citydata.processes import start_ticks


class ServiceError(RuntimeError):
    """A service could not be installed or started; carries the tail of its log."""

    def __init__(self, service: str, message: str, log_tail: str = "") -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.log_tail = log_tail


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port (or the address cannot be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        if sock.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR; without it, TIME_WAIT sockets would look like a listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on `port` (any address), from /proc/net/tcp and tcp6."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(inode)
    return inodes


def port_holder(port: int) -> str | None:
    """Who listens on `port`: 'pid 123 (redis-server 127.0.0.1:16379)', or None when unknown
    (no listener, or a process this user may not inspect)."""
    inodes = _listening_inodes(port)
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
            owned = any(os.readlink(fd).removeprefix("socket:[").rstrip("]") in inodes for fd in fds)
            if owned:
                raw = (proc / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
                return f"pid {proc.name} ({' '.join(raw.split())[:120]})"
        except OSError:  # the process ended, or is not ours to inspect
            continue
    return None


def tail(path: Path, lines: int = 25) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 64 * 1024))
        data = fh.read().decode("utf-8", errors="replace")
    return "\n".join(data.splitlines()[-lines:])


@dataclass
class ProcessSpec:
    """One long-running process of a service."""

    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None  # run as this system user (PostgreSQL refuses root)
    unset_env: tuple[str, ...] = ()  # inherited variables the program must not see
    stop_signal: signal.Signals = signal.SIGTERM  # the signal asking it to stop cleanly


class ManagedProcess:
    """A process started in its own session, tracked by a PID file holding pid + start time."""

    def __init__(self, spec: ProcessSpec, pid_file: Path, log_file: Path) -> None:
        self.spec = spec
        self.pid_file = pid_file
        self.log_file = log_file

    def pid(self) -> int | None:
        """PID of our running process, or None (a stale PID file is removed)."""
        try:
            record = json.loads(self.pid_file.read_text())
        except (OSError, ValueError):
            return None
        pid = int(record["pid"])
        if start_ticks(pid) == record.get("start") and _alive(pid):
            return pid
        self.pid_file.unlink(missing_ok=True)
        return None

    def start(self, base_env: dict[str, str]) -> int:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in base_env.items() if k not in self.spec.unset_env}
        env.update(self.spec.env)
        log = self.log_file.open("ab")
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.spec.name}\n".encode())
        log.flush()
        if self.spec.user:
            os.chown(self.log_file, *_uid_gid(self.spec.user))
        proc = subprocess.Popen(
            self.spec.argv,
            cwd=self.spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() reaches its children too
            user=self.spec.user,
            close_fds=True,
        )
        log.close()
        record = {"pid": proc.pid, "start": start_ticks(proc.pid), "argv": self.spec.argv[:3]}
        self.pid_file.write_text(json.dumps(record))
        return proc.pid

    def stop(self, timeout_s: float = 20.0) -> bool:
        """Its stop signal (SIGTERM) to the process group, then SIGKILL after timeout. True if it was
        running."""
        pid = self.pid()
        if pid is None:
            return False
        _signal_group(pid, self.spec.stop_signal)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid) and not _group_alive(pid):
                break
            time.sleep(0.2)
        else:
            _signal_group(pid, signal.SIGKILL)
            time.sleep(0.3)
        self.pid_file.unlink(missing_ok=True)
        return True


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in a process group (a service and its workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            continue
    return total


def _uid_gid(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as gone.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    if state == "Z":
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return False
    return True


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout_s: float,
    interval_s: float = 0.5,
    abort: Callable[[], str | None] | None = None,
) -> bool:
    """Poll `predicate` until it is true or time runs out; `abort` may return a reason to stop early."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            ready = predicate()
        except Exception:  # noqa: BLE001 - a probe that raises just means "not yet"
            ready = False
        if ready:
            return True
        if abort is not None and (reason := abort()):
            raise RuntimeError(reason)
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
