"""The published zone: versioned, immutable copies of a dataset, and the pointer readers trust.

published/<agency>/<dataset>/_current.json              the pointer: current version and the
                                                        kept versions (newest first); written last
published/<agency>/<dataset>/v<N>/_manifest.json        one version's manifest (schema, rows,
                                                        content hashes, source pull, run, quality);
                                                        written after every file of the version
published/<agency>/<dataset>/v<N>/<dataset>[-part-<i>].parquet   zstd Parquet, <= part_rows rows each
published/<agency>/<dataset>/v<N>/<dataset>.csv         UTF-8 CSV (formulas neutralised)
published/<agency>/<dataset>/v<N>/<dataset>-dictionary.csv       the data dictionary
published/<agency>/<dataset>/v<N>/quality/...           the quality report of the source pull
published/_staging/<agency>/<dataset>/<run_id>/...      a version being written (never public)

A reader trusts only a version listed in `_current.json` whose manifest exists: a version being
written, or one a killed run left half copied, is invisible. Anonymous read access (public
datasets) is granted on `published/<agency>/<dataset>/*`, which the staging area is outside of.
"""

from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from citydata.storage.lake import Lake
from citydata.storage.layout import UnsafeKeyError, safe_part, zone_prefix

ZONE = "published"
CURRENT = "_current.json"
MANIFEST = "_manifest.json"
STAGING = "_staging"
MANIFEST_FORMAT = "citydata.published/1"
_VERSION = re.compile(r"^v([1-9][0-9]*)$")


def dataset_prefix(agency: str, dataset: str) -> str:
    return zone_prefix(ZONE, agency, dataset)


def version_prefix(agency: str, dataset: str, version: int) -> str:
    if version < 1:
        raise ValueError(f"versions start at 1, got {version}")
    return f"{dataset_prefix(agency, dataset)}v{version}/"


def current_key(agency: str, dataset: str) -> str:
    return dataset_prefix(agency, dataset) + CURRENT


def manifest_key(agency: str, dataset: str, version: int) -> str:
    return version_prefix(agency, dataset, version) + MANIFEST


def staging_root(agency: str, dataset: str) -> str:
    return f"{ZONE}/{STAGING}/{safe_part(agency)}/{safe_part(dataset)}/"


def staging_prefix(agency: str, dataset: str, run_id: str) -> str:
    return staging_root(agency, dataset) + f"{safe_part(run_id)}/"


def parse_version(name: str) -> int | None:
    """`v12` -> 12; anything else -> None."""
    match = _VERSION.match(name.strip("/"))
    return int(match.group(1)) if match else None


@dataclass
class VersionEntry:
    version: int
    manifest: str  # object key of the version's manifest
    created_at: str
    rows: int
    content_hash: str
    source_pull_id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VersionEntry:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class Pointer:
    """`_current.json`: what readers trust."""

    dataset: str
    agency: str
    current: int
    versions: list[VersionEntry] = field(default_factory=list)  # newest first
    updated_at: str | None = None
    run_id: str | None = None

    def entry(self, version: int | None = None) -> VersionEntry | None:
        wanted = self.current if version is None else version
        return next((v for v in self.versions if v.version == wanted), None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Pointer:
        versions = [VersionEntry.from_dict(v) for v in data.get("versions", [])]
        return cls(
            dataset=data["dataset"],
            agency=data["agency"],
            current=int(data["current"]),
            versions=versions,
            updated_at=data.get("updated_at"),
            run_id=data.get("run_id"),
        )


def next_pointer(
    previous: Pointer | None, entry: VersionEntry, keep: int, updated_at: str, run_id: str
) -> tuple[Pointer, list[int]]:
    """The pointer after publishing `entry`, keeping the newest `keep` versions; and the dropped ones."""
    if keep < 1:
        raise ValueError("keep must be >= 1")
    older = [v for v in (previous.versions if previous else []) if v.version != entry.version]
    versions = sorted([entry, *older], key=lambda v: v.version, reverse=True)
    kept, dropped = versions[:keep], versions[keep:]
    dataset = previous.dataset if previous else ""
    agency = previous.agency if previous else ""
    pointer = Pointer(dataset, agency, entry.version, kept, updated_at, run_id)
    return pointer, [v.version for v in dropped]


def read_pointer(lake: Lake, agency: str, dataset: str) -> Pointer | None:
    data = lake.get_json(current_key(agency, dataset))
    return Pointer.from_dict(data) if data else None


def read_manifest(lake: Lake, agency: str, dataset: str, version: int | None = None) -> dict[str, Any] | None:
    """The manifest of a trusted version (the current one by default), or None."""
    pointer = read_pointer(lake, agency, dataset)
    if pointer is None:
        return None
    entry = pointer.entry(version)
    if entry is None:
        return None
    manifest: dict[str, Any] | None = lake.get_json(entry.manifest)
    return manifest


def listed_versions(lake: Lake, agency: str, dataset: str) -> list[int]:
    """Every v<N> holding at least one object under the dataset's prefix (trusted or not), sorted.

    Keys are listed recursively: SeaweedFS keeps emptied "folders" in delimiter listings.
    """
    prefix = dataset_prefix(agency, dataset)
    found = set()
    for key in lake.keys(prefix):
        version = parse_version(key[len(prefix) :].split("/", 1)[0])
        if version is not None and "/" in key[len(prefix) :]:
            found.add(version)
    return sorted(found)


def folders_of(keys: list[str], prefix: str) -> list[str]:
    """Every folder between `prefix` and the keys, deepest first (prefix included)."""
    folders = {prefix}
    for key in keys:
        rest = key[len(prefix) :].split("/")[:-1]
        for i in range(1, len(rest) + 1):
            folders.add(prefix + "/".join(rest[:i]) + "/")
    return sorted(folders, key=lambda f: (-f.count("/"), f))


def part_keys(manifest: dict[str, Any]) -> list[str]:
    return [p["key"] for p in manifest.get("parts", [])]


def read_version_table(lake: Lake, manifest: dict[str, Any], limit: int | None = None) -> pa.Table:
    """The rows of one version (all parts, in order), read from the lake with the lake's credentials."""
    tables = []
    remaining = limit
    for key in part_keys(manifest):
        table = pq.read_table(io.BytesIO(lake.get_bytes(key)))
        if remaining is not None:
            table = table.slice(0, remaining)
            remaining -= table.num_rows
        tables.append(table)
        if remaining is not None and remaining <= 0:
            break
    if not tables:
        return pa.schema([]).empty_table()
    return pa.concat_tables(tables)


def _subfolders(lake: Lake, prefix: str) -> list[str]:
    """Immediate sub-folders of `prefix` (a delimiter listing: no walk over every version's files)."""
    found = lake.client.list_objects(lake.bucket, prefix=prefix, recursive=False)
    return sorted(str(o.object_name)[len(prefix) :].strip("/") for o in found if o.is_dir and o.object_name)


def published_datasets(lake: Lake) -> list[tuple[str, str]]:
    """(agency, dataset) of every dataset with a pointer in the published zone, sorted.

    Folders without a pointer (emptied ones SeaweedFS still lists, a first version being staged)
    are left out; the staging area is not an agency (agency ids start with a letter or digit).
    """
    out = []
    for agency in _subfolders(lake, f"{ZONE}/"):
        if agency == STAGING or parse_version(agency) is not None:
            continue
        for dataset in _subfolders(lake, f"{ZONE}/{agency}/"):
            try:
                key = current_key(agency, dataset)
            except UnsafeKeyError:  # not written by citydata
                continue
            if lake.exists(key):
                out.append((agency, dataset))
    return out
