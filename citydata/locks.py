"""Named locks that hold across processes and hosts: PostgreSQL session advisory locks.

`advisory_lock(settings, "dataset:phuong-xa")` waits for the lock, holds it on a connection of
its own for the `with` block, and releases it on exit. A holder that dies (SIGKILL, a lost host)
releases it too: PostgreSQL ends the session when the connection drops (TCP keepalives find a
silent peer within about a minute). The key is a stable 64-bit hash of the name, so every
process on every host computes the same key. Within one process the lock is re-entrant for the
thread holding it and excludes the other threads (one PostgreSQL session per name).

The database is `locks.postgres_url`, else Dagster's (`dagster.postgres_url`): every run worker
reaches it. Locks are scoped to that database.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import psycopg

from citydata.settings import Settings


class LockUnavailable(RuntimeError):
    """No lock database, or the lock was not granted within the timeout."""


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL's bigint advisory-lock key space)."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


def lock_url(settings: Settings) -> str:
    url = settings.locks.postgres_url.get_secret_value() or settings.dagster.postgres_url.get_secret_value()
    if not url:
        raise LockUnavailable(
            "no PostgreSQL for locks: set CITYDATA_LOCKS__POSTGRES_URL or CITYDATA_DAGSTER__POSTGRES_URL "
            "(`citydata stack up` sets the latter)"
        )
    return url


@dataclass
class _Held:
    mutex: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    connection: psycopg.Connection | None = None


_REGISTRY: dict[str, _Held] = {}
_REGISTRY_LOCK = threading.Lock()


def _connect(url: str, timeout_s: float) -> psycopg.Connection:
    # Keepalives: a holder whose host vanished is dropped by the server within ~1 minute.
    conn = psycopg.connect(
        url,
        autocommit=True,
        connect_timeout=10,
        application_name="citydata-lock",
        keepalives=1,
        keepalives_idle=30,
        keepalives_interval=10,
        keepalives_count=3,
    )
    # A wait longer than the timeout fails the statement (advisory locks obey lock_timeout).
    conn.execute(f"SET lock_timeout = {int(timeout_s * 1000)}")
    return conn


@contextmanager
def advisory_lock(settings: Settings, name: str, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the lock `name` for the block; waits at most `timeout_s` (settings.locks.timeout_s)."""
    timeout = timeout_s if timeout_s is not None else settings.locks.timeout_s
    with _REGISTRY_LOCK:
        held = _REGISTRY.setdefault(name, _Held())
    if not held.mutex.acquire(timeout=timeout):
        raise LockUnavailable(f"lock {name!r}: held by another thread of this process for {timeout:.0f} s")
    try:
        if held.depth == 0:
            conn = _connect(lock_url(settings), timeout)
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(name),))
            except psycopg.errors.LockNotAvailable as exc:
                conn.close()
                raise LockUnavailable(f"lock {name!r}: not granted within {timeout:.0f} s") from exc
            except BaseException:
                conn.close()
                raise
            held.connection = conn
        held.depth += 1
        try:
            yield
        finally:
            held.depth -= 1
            if held.depth == 0 and held.connection is not None:
                conn, held.connection = held.connection, None
                try:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))
                except psycopg.Error:
                    pass  # closing the session below releases it anyway
                finally:
                    conn.close()
    finally:
        held.mutex.release()


def dataset_lock(settings: Settings, dataset: str) -> AbstractContextManager[None]:
    """The lock every writer of one dataset's lake and catalog state holds (one at a time)."""
    return advisory_lock(settings, f"citydata:dataset:{dataset}")
