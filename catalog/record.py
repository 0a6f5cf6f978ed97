"""The catalog record: what the catalog stage last published for a dataset, kept in the lake so
that an empty CKAN can be rebuilt from the lake alone (`catalog.rebuild`).

    catalog/<agency>/<dataset>/entry.json    {format, kind, dataset, agency, spec, version,
                                              package_hash, retired, extra, updated_at}

The lake's pointer and manifests say which versions exist and what their files hold; the catalog
entry is built from those *and* the spec (titles, Dublin Core, topics, publication options), which
lives in a specs folder outside the lake. The record keeps the spec as it was published (the whole
model, JSON), the hash of the package it led to, and the retirement policy applied since. It sits
outside `published/` (never public: a spec names its source systems), is a few kB, and is written
only when it changes, before the catalog writes it describes: it holds the latest intent.

`kind` tells rebuild which stage publishes the entry: `dataset` (catalog.publish) or another stage's
kind (`labels`: the labeling stage), whose stage-specific inputs go in `extra`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix

ZONE = "catalog"
ENTRY = "entry.json"
RECORD_FORMAT = "citydata.catalog-entry/1"
DATASET_KIND = "dataset"


def record_key(agency: str, dataset: str) -> str:
    return zone_prefix(ZONE, agency, dataset) + ENTRY


@dataclass
class CatalogRecord:
    dataset: str
    agency: str
    spec: dict[str, Any]  # DatasetSpec.model_dump(mode="json", by_alias=True)
    kind: str = DATASET_KIND
    version: int | None = None  # the lake version the entry shows
    package_hash: str = ""
    retired: str | None = None  # None, or the retire policy applied: private | delete
    extra: dict[str, Any] = field(default_factory=dict)
    updated_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": RECORD_FORMAT,
            "kind": self.kind,
            "dataset": self.dataset,
            "agency": self.agency,
            "spec": self.spec,
            "version": self.version,
            "package_hash": self.package_hash,
            "retired": self.retired,
            "extra": self.extra,
            "updated_at": self.updated_at,
        }

    def content(self) -> dict[str, Any]:
        """What the record says (its time stamp aside): equal content, nothing written."""
        out = self.as_dict()
        out.pop("updated_at")
        return out

    def dataset_spec(self) -> DatasetSpec:
        """The spec as published (the source types must be registered: `import connectors`)."""
        return DatasetSpec.model_validate(self.spec)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CatalogRecord:
        fmt = data.get("format")
        if fmt != RECORD_FORMAT:
            raise ValueError(f"unknown catalog record format {fmt!r} (expected {RECORD_FORMAT})")
        return cls(
            dataset=data["dataset"],
            agency=data["agency"],
            spec=data["spec"],
            kind=data.get("kind") or DATASET_KIND,
            version=data.get("version"),
            package_hash=data.get("package_hash") or "",
            retired=data.get("retired"),
            extra=data.get("extra") or {},
            updated_at=data.get("updated_at"),
        )


def spec_snapshot(spec: DatasetSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json", by_alias=True)


def read_record(lake: Lake, agency: str, dataset: str) -> CatalogRecord | None:
    data = lake.get_json(record_key(agency, dataset))
    return CatalogRecord.from_dict(data) if data else None


def save_record(lake: Lake, record: CatalogRecord, previous: CatalogRecord | None = None) -> bool:
    """Write the record unless the stored one says the same; True when written."""
    stored = previous if previous is not None else read_record(lake, record.agency, record.dataset)
    if stored is not None and stored.content() == record.content():
        return False
    record.updated_at = datetime.now(UTC).isoformat(timespec="seconds")
    lake.put_json(record_key(record.agency, record.dataset), record.as_dict())
    return True


def record_publication(
    lake: Lake,
    spec: DatasetSpec,
    *,
    version: int,
    package_hash: str,
    kind: str = DATASET_KIND,
    name: str | None = None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Record a publication (retirement cleared: a spec that is back is published again)."""
    record = CatalogRecord(
        dataset=name or spec.id, agency=spec.agency.id, spec=spec_snapshot(spec), kind=kind,
        version=version, package_hash=package_hash, extra=extra or {},
    )  # fmt: skip
    return save_record(lake, record)


def record_retirement(lake: Lake, agency: str, dataset: str, policy: str) -> bool:
    """Note a retirement in the dataset's record (a dataset without a record has nothing to note)."""
    stored = read_record(lake, agency, dataset)
    if stored is None:
        return False
    updated = CatalogRecord(**{**stored.__dict__, "retired": policy})
    return save_record(lake, updated, stored)
