"""Which process wrote something: a tag `<host>-<pid>-<start>` that a later process on the same
machine can check (is that process still running?), so work left by a killed run can be told
apart from work still in progress. Another machine's (or an earlier boot's) tags cannot be
checked: `gone()` then says None and callers fall back to age."""

from __future__ import annotations

import hashlib
import os
import re
import socket
from functools import lru_cache
from pathlib import Path

_TAG = re.compile(r"(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-(?P<start>[0-9]+)$")


@lru_cache(maxsize=1)
def host_id() -> str:
    """This machine and boot, as 8 hex digits."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return hashlib.sha256(f"{socket.gethostname()}/{boot}".encode()).hexdigest()[:8]


def start_ticks(pid: int) -> str | None:
    """When a process started (clock ticks since boot), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def process_tag(pid: int | None = None) -> str:
    """`<host>-<pid>-<start>` of this process (or `pid`)."""
    pid = os.getpid() if pid is None else pid
    return f"{host_id()}-{pid}-{start_ticks(pid) or 0}"


def gone(tag: str) -> bool | None:
    """True when the tagged process has exited (or its pid now belongs to another process), False
    while it runs, None when it cannot be told (another host or boot, no /proc, not a tag).

    The tag may end a longer string (`<time>-<tag>`)."""
    match = _TAG.search(tag)
    if match is None or match["host"] != host_id() or not Path("/proc/self/stat").exists():
        return None
    return start_ticks(int(match["pid"])) != match["start"]


def is_this_process(tag: str) -> bool:
    return tag.endswith(process_tag())


@lru_cache(maxsize=1)
def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def started_at(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), or None when there is no such process."""
    ticks = start_ticks(pid)
    if ticks is None:
        return None
    try:
        return _boot_time() + int(ticks) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
