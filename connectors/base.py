"""The small interface every source connector implements.

A connector turns its typed config (`SourceConfig` subclass, validated from the dataset
spec's `source:` section) into raw objects: the exact bytes pulled from the source, with
their metadata, so any run can be replayed from the lake's raw zone without the source.
Connectors are incremental-aware: they receive the state they returned last time (ETag,
Last-Modified, content hash, watermark, seen keys, record hashes) and may answer
`unchanged` after a single cheap request.

Adding a source type means adding one module to `connectors/sources/` with a `SourceConfig`
subclass (its `type` a unique Literal) and a `Connector` subclass pointing at it.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from citydata.settings import Settings
from citydata.spec.sources import SourceConfig

ENV_REF = re.compile(r"^env:([A-Za-z_][A-Za-z0-9_]*)$")  # secrets in specs: "env:AGENCY_TOKEN"


class ConnectorError(RuntimeError):
    """A source could not be read; the message names the source (URL, table, key)."""


def resolve_env(value: str, secrets: list[str] | None = None) -> str:
    """`env:NAME` -> the variable's value (remembered in `secrets` for redaction); else `value`."""
    match = ENV_REF.match(value)
    if not match:
        return value
    name = match.group(1)
    resolved = os.environ.get(name)
    if resolved is None:  # the stack's private settings file holds platform-made secrets
        from citydata.envfile import EnvFile
        from citydata.settings import stack_env_file

        resolved = EnvFile(stack_env_file()).read().get(name)
    if resolved is None:
        raise ConnectorError(f"environment variable {name} is not set (referenced as env:{name})")
    if secrets is not None and resolved:
        secrets.append(resolved)
    return resolved


@dataclass
class RawObject:
    """One pulled object: bytes in memory or a spooled file, plus where it came from."""

    name: str  # file name within this pull, e.g. "data.csv" or "page-0001.json"
    source_uri: str
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    fetched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    data: bytes | None = None
    path: Path | None = None
    sha256: str = ""
    size: int = 0
    parse: bool = True  # False: kept in the raw zone for replay only, not read by the clean stage

    def __post_init__(self) -> None:
        if self.data is not None and not self.sha256:
            self.sha256 = hashlib.sha256(self.data).hexdigest()
            self.size = len(self.data)

    def open(self) -> Any:
        """A binary file object over the content."""
        import io

        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")

    def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source_uri": self.source_uri,
            "media_type": self.media_type,
            "headers": self.headers,
            "fetched_at": self.fetched_at,
            "sha256": self.sha256,
            "size": self.size,
            "parse": self.parse,
        }


def file_object(name: str, path: Path, **meta: Any) -> RawObject:
    """A RawObject over an existing file, hashed in a streaming pass (the file is not copied)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    obj = RawObject(name=name, path=path, **meta)
    obj.sha256, obj.size = digest.hexdigest(), path.stat().st_size
    return obj


def spool_chunks(name: str, chunks: Iterator[bytes], workdir: Path, **meta: Any) -> RawObject:
    """Write a stream to a temporary file while hashing it (bounded memory for large sources)."""
    digest = hashlib.sha256()
    size = 0
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=workdir, prefix="pull-", delete=False) as fh:
        for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            fh.write(chunk)
    obj = RawObject(name=name, path=Path(fh.name), **meta)
    obj.sha256, obj.size = digest.hexdigest(), size
    return obj


@dataclass
class FetchContext:
    """What a connector may use: settings, the dataset it serves, a scratch folder.

    The pipeline removes `workdir` after the run: connectors spool there and never clean up.
    """

    settings: Settings
    dataset_id: str
    workdir: Path


@dataclass
class FetchResult:
    objects: list[RawObject]
    state: dict[str, Any]  # persisted after a successful run, given back next time
    unchanged: bool = False  # nothing new: downstream work can be skipped
    stats: dict[str, Any] = field(default_factory=dict)  # e.g. harvest create/update/delete counts


C = TypeVar("C", bound=SourceConfig)


class Connector(ABC, Generic[C]):
    type: ClassVar[str]
    config_model: ClassVar[builtins.type[SourceConfig]]

    def __init__(self, config: C, context: FetchContext) -> None:
        self.config = config
        self.context = context

    @abstractmethod
    def fetch(self, state: dict[str, Any]) -> FetchResult:
        """Pull what is new since `state`; raise ConnectorError naming the source on failure."""
