"""A file or a folder of files on this machine (a shared drive, an export folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from connectors.base import Connector, ConnectorError, FetchResult, RawObject, SourceConfig, file_object


class LocalFileConfig(SourceConfig):
    type: Literal["local_file"]
    path: Path = Field(description="A file or a folder; a relative path is relative to the spec's folder.")
    pattern: str = Field("*", description="glob when `path` is a folder")


class LocalFileConnector(Connector[LocalFileConfig]):
    type = "local_file"
    config_model = LocalFileConfig

    def fetch(self, state: dict[str, Any]) -> FetchResult:
        root = self.config.path
        if not root.exists():
            raise ConnectorError(f"{root}: no such file or folder")
        files = sorted(p for p in root.glob(self.config.pattern) if p.is_file()) if root.is_dir() else [root]
        if not files:
            raise ConnectorError(f"{root}: no file matches {self.config.pattern!r}")
        objects: list[RawObject] = []
        for path in files:
            name = str(path.relative_to(root)) if root.is_dir() else path.name
            objects.append(file_object(name, path, source_uri=path.resolve().as_uri()))
        hashes = {o.name: o.sha256 for o in objects}
        if hashes == state.get("files"):
            return FetchResult([], state, unchanged=True)
        return FetchResult(objects, {"files": hashes}, stats={"files": len(objects)})
