"""Every socket the stack listens on is bound to loopback, declared or not.

The sockets are found from the processes themselves: each service's PID files, every process of
its process group and every descendant (gunicorn workers, Dagster's code servers, Solr's JVM),
then the socket inodes in /proc/PID/fd matched against /proc/net/{tcp,tcp6,udp,udp6}. A port a
service opens without declaring it (a debug port, a gRPC side server) is caught the same way.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from stack.manager import Stack

pytestmark = pytest.mark.integration

_TCP_LISTEN = "0A"
_UDP_UNCONNECTED = "07"


@dataclass(frozen=True)
class Listener:
    proto: str
    address: str
    port: int
    inode: int

    @property
    def loopback(self) -> bool:
        return ipaddress.ip_address(self.address).is_loopback

    def __str__(self) -> str:
        return f"{self.proto} {self.address}:{self.port}"


def _decode_address(hex_addr: str) -> str:
    """/proc/net hex (host byte order per 32-bit word) -> textual IPv4/IPv6 address."""
    raw = bytes.fromhex(hex_addr)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(words)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)


def listeners(proc_net: Path = Path("/proc/net")) -> dict[int, Listener]:
    """Every listening TCP socket and unconnected UDP socket of this network namespace, by inode."""
    found: dict[int, Listener] = {}
    for proto, state in (("tcp", _TCP_LISTEN), ("tcp6", _TCP_LISTEN), ("udp", _UDP_UNCONNECTED),
                         ("udp6", _UDP_UNCONNECTED)):  # fmt: skip
        table = proc_net / proto
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] != state:
                continue
            hex_addr, hex_port = fields[1].split(":")
            inode = int(fields[9])
            if inode:
                found[inode] = Listener(proto, _decode_address(hex_addr), int(hex_port, 16), inode)
    return found


def _parents() -> dict[int, tuple[int, int]]:
    """pid -> (ppid, pgid) for every process."""
    out: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return out


def process_tree(roots: Iterable[int]) -> set[int]:
    """The roots, every process in their process groups, and all their descendants."""
    table = _parents()
    tree = set(roots)
    tree |= {pid for pid, (_, pgid) in table.items() if pgid in tree}
    grew = True
    while grew:
        children = {pid for pid, (ppid, _) in table.items() if ppid in tree} - tree
        tree |= children
        grew = bool(children)
    return tree


def socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def listeners_of(pids: Iterable[int]) -> list[Listener]:
    table = listeners()
    inodes = set().union(*(socket_inodes(p) for p in pids))
    return sorted((table[i] for i in inodes if i in table), key=lambda s: (s.port, s.proto))


def test_socket_scan_sees_a_wildcard_listener():
    """The scan itself: a socket bound to every interface in this process is found and flagged."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        server.bind(("0.0.0.0", 0))  # noqa: S104  (the point of this check)
        server.listen()
        port = server.getsockname()[1]
        mine = listeners_of(process_tree([os.getpid()]))
        flagged = [s for s in mine if s.port == port]
        assert flagged and not flagged[0].loopback, mine
    finally:
        server.close()


def test_every_listening_socket_of_every_stack_process_is_loopback(stack_ready):
    stack = Stack()
    offenders: list[str] = []
    undeclared: list[str] = []
    for service in stack.services:
        roots = [pid for m in service.managed() if (pid := m.pid()) is not None]
        assert roots, f"{service.name}: no running process from its PID files"
        sockets = listeners_of(process_tree(roots))
        declared = service.ports()
        listening_ports = {s.port for s in sockets if s.proto.startswith("tcp")}
        missing = {role: port for role, port in declared.items() if port not in listening_ports}
        assert not missing, f"{service.name}: declared ports not listened on by its processes: {missing}"
        offenders += [f"{service.name}: {s}" for s in sockets if not s.loopback]
        undeclared += [f"{service.name}: {s}" for s in sockets if s.port not in declared.values()]
    print("listening sockets not in Service.ports() (all loopback):", undeclared or "none")
    assert not offenders, offenders
