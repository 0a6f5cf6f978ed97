"""What a dataset version is built from and the options, hooks and errors of its publication
(`lake.promote`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from citydata.storage.published import (
    Pointer,
)
from lake.hashing import value_hash

Hook = Callable[[str], None]


class PublicationError(RuntimeError):
    """A version could not be published; the previous version is untouched."""


class LakeUnavailable(PublicationError):
    """S3 stopped answering during a publication; readers keep the last committed version."""


class VerificationError(PublicationError):
    """An object read back from S3 differs from what was written."""


@dataclass(frozen=True)
class SourceData:
    """The clean rows to publish."""

    key: str
    etag: str
    size: int
    pull_id: str | None = None
    kind: str = "data"  # data | validated
    columns: tuple[dict[str, Any], ...] = ()  # the data dictionary from the clean stage

    def identity(self) -> dict[str, Any]:
        return {"key": self.key, "etag": self.etag, "size": self.size}


@dataclass(frozen=True)
class ReportSource:
    """A quality run's outputs (reports/<agency>/<dataset>/<pull_id>/), copied into the version."""

    prefix: str
    keys: tuple[str, ...]
    summary: dict[str, Any]


@dataclass(frozen=True)
class VersionOptions:
    part_rows: int = 1_000_000
    csv: bool = True
    csv_bom: bool = False
    keep_versions: int = 5
    xlsx: bool = True
    xlsx_max_rows: int = 200_000

    def shape(self) -> dict[str, Any]:
        """What changes the files (not `keep_versions`)."""
        return {"part_rows": self.part_rows, "csv": self.csv, "csv_bom": self.csv_bom, "xlsx": self.xlsx,
                "xlsx_max_rows": self.xlsx_max_rows, "layout": 1}  # fmt: skip


@dataclass
class PublishHooks:
    """Called with the prefix just written; tests use them to kill a run between steps."""

    after_stage: Hook | None = None
    after_verify: Hook | None = None
    after_copy: Hook | None = None
    after_manifest: Hook | None = None


@dataclass
class LakePublication:
    agency: str
    dataset: str
    version: int
    unchanged: bool
    reason: str
    manifest: dict[str, Any]
    pointer: Pointer
    objects_written: int = 0
    objects_deleted: int = 0
    dropped_versions: list[int] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # build, stage, verify, promote, commit, tidy


def build_hash(options: VersionOptions, columns: Iterable[dict[str, Any]]) -> str:
    described = [{k: c.get(k) for k in ("name", "label", "type", "description")} for c in columns]
    return value_hash({"options": options.shape(), "columns": described})


def quality_digest(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if not summary:
        return None
    keep = ("pull_id", "rows", "score", "success", "blocking", "promotable", "partial", "failed_row_count",
            "warned_row_count", "validated_at", "unchecked_columns")  # fmt: skip
    digest = {k: summary.get(k) for k in keep if k in summary}
    if summary.get("fidelity"):  # the comparison with the source, without its examples
        digest["fidelity"] = {k: v for k, v in summary["fidelity"].items() if k != "examples"}
    return digest
