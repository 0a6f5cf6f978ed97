"""Disaster recovery: rebuild the CKAN catalog from the lake (`citydata catalog rebuild`).

The lake is the source of truth. For every dataset with a published pointer
(`published/<agency>/<dataset>/_current.json`) the catalog record (`catalog.record`: the spec as
published, the package hash, the retirement) is read and the entry is published again by the
catalog stage's own code (`publish_to_catalog`: organization, groups, the dataset with its
resources and versions, the DataStore table from the lake's Parquet, its preview view). A retired
dataset is then retired again (private, or deleted) as the record says. Entries of other stages
(`kind` other than `dataset`, e.g. labeled datasets) go to the handler the caller passes for
their kind, after the plain datasets (whose organizations they share).

Idempotent: an entry equal to the one CKAN holds (same package hash, same retirement) is
`unchanged` and costs no write. One dataset failing does not stop the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from catalog.client import CatalogClient
from catalog.publish import CatalogResult, publish_to_catalog
from catalog.record import DATASET_KIND, CatalogRecord, read_record
from catalog.retire import is_retired, mark_retired
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import published_datasets

Status = Literal["created", "updated", "unchanged", "skipped", "failed"]
# Another stage's entries: (record, settings, lake, client) -> created | updated | unchanged.
Handler = Callable[[CatalogRecord, Settings, Lake, CatalogClient], str]
Progress = Callable[[int, int, "RebuildItem"], None]

NO_RECORD = (
    "no catalog record in the lake (never published to the catalog, or published before the lake "
    "kept catalog records) and no spec with this id in the specs folder"
)


@dataclass
class RebuildItem:
    dataset: str
    agency: str
    status: Status
    kind: str = DATASET_KIND
    version: int | None = None
    retired: str | None = None
    datastore_rows: int | None = None  # rows loaded into the DataStore by this run
    message: str = ""
    seconds: float = 0.0


@dataclass
class RebuildResult:
    items: list[RebuildItem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(i.status == "failed" for i in self.items)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self.items:
            out[item.status] = out.get(item.status, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "seconds": self.seconds, "counts": self.counts(),
                "datasets": [asdict(i) for i in self.items]}  # fmt: skip


def _status(result: CatalogResult) -> Status:
    return "unchanged" if result.unchanged else ("created" if result.created else "updated")


def _publish(spec: DatasetSpec, settings: Settings, lake: Lake, client: CatalogClient,
             item: RebuildItem, *, record: bool, expected_hash: str = "") -> None:  # fmt: skip
    result = publish_to_catalog(spec, settings, lake, client, record=record)
    item.status, item.version, item.datastore_rows = _status(result), result.version, result.datastore_rows
    if expected_hash and result.package_hash != expected_hash:
        item.message = "entry differs from the recorded one (the mapping or the CKAN URL changed since)"


def _rebuild_dataset(
    record: CatalogRecord, settings: Settings, lake: Lake, client: CatalogClient, item: RebuildItem
) -> None:
    spec = record.dataset_spec()
    if not record.retired:
        _publish(spec, settings, lake, client, item, record=False, expected_hash=record.package_hash)
        return
    item.retired = record.retired
    existing = client.show("package_show", id=record.dataset)
    if existing is not None and is_retired(existing, record.retired):
        item.status, item.version = "unchanged", record.version
        return
    _publish(spec, settings, lake, client, item, record=False)
    mark_retired(client, client.call("package_show", id=record.dataset), record.retired)
    if item.status == "unchanged":
        item.status = "updated"


def rebuild_one(
    agency: str,
    dataset: str,
    settings: Settings,
    lake: Lake,
    client: CatalogClient,
    *,
    specs: Mapping[str, DatasetSpec] | None = None,
    handlers: Mapping[str, Handler] | None = None,
    record: CatalogRecord | None = None,
) -> RebuildItem:
    """Publish one dataset's entry again from the lake; never raises (failures are in the item)."""
    started = time.monotonic()
    item = RebuildItem(dataset, agency, "failed")
    try:
        record = record or read_record(lake, agency, dataset)
        if record is None:
            spec = (specs or {}).get(dataset)
            if spec is None or spec.agency.id != agency:
                item.status, item.message = "skipped", NO_RECORD
            else:  # the lake's first record of it is written now
                _publish(spec, settings, lake, client, item, record=True)
                item.message = "no catalog record in the lake: published from the specs folder"
        elif record.kind == DATASET_KIND:
            _rebuild_dataset(record, settings, lake, client, item)
        else:
            item.kind, item.version = record.kind, record.version
            handler = (handlers or {}).get(record.kind)
            if handler is None:
                item.message = f"no rebuilder for entries of kind {record.kind!r}"
            else:
                item.status = handler(record, settings, lake, client)  # type: ignore[assignment]
    except Exception as exc:  # noqa: BLE001 - reported per dataset, the others carry on
        item.status, item.message = "failed", f"{type(exc).__name__}: {exc}"[:2000]
    item.seconds = round(time.monotonic() - started, 3)
    return item


def rebuild_catalog(
    settings: Settings,
    lake: Lake | None = None,
    client: CatalogClient | None = None,
    *,
    specs: Mapping[str, DatasetSpec] | None = None,
    handlers: Mapping[str, Handler] | None = None,
    only: Iterable[str] | None = None,
    progress: Progress | None = None,
) -> RebuildResult:
    """Every published dataset (or those named in `only`, by dataset or agency id) back in CKAN.

    `specs` (id -> spec) stand in for a missing record; `handlers` publish other stages' kinds.
    """
    started = time.monotonic()
    lake = lake or Lake(settings)
    client = client or CatalogClient(settings)
    wanted = set(only or ())
    found = [(a, d) for a, d in published_datasets(lake) if not wanted or {a, d} & wanted]
    records = {(a, d): read_record(lake, a, d) for a, d in found}

    def later(key: tuple[str, str]) -> tuple[bool, str, str]:  # plain datasets first
        rec = records[key]
        return (rec is not None and rec.kind != DATASET_KIND, key[0], key[1])

    result = RebuildResult()
    ordered = sorted(found, key=later)
    for done, (agency, dataset) in enumerate(ordered, 1):
        item = rebuild_one(agency, dataset, settings, lake, client, specs=specs, handlers=handlers,
                           record=records[(agency, dataset)])  # fmt: skip
        result.items.append(item)
        if progress:
            progress(done, len(ordered), item)
    result.seconds = round(time.monotonic() - started, 2)
    return result
