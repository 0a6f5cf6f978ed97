"""The publication stage: clean pull -> published version in the lake -> CKAN catalog entry.

    publish_to_lake(spec)     the pull's rows (validated.parquet when the quality gate wrote one,
                              else data.parquet) become published/<agency>/<dataset>/v<N>/
                              (lake.promote: atomic, verified); anonymous read granted or revoked
    publish_to_catalog(spec)  organization, groups, the dataset (DCAT-AP fields), its resources,
                              the DataStore table and its preview
    publish(spec)             both; publish_many(specs) in parallel threads
    catalog.retire.retire_missing(specs, policy): datasets whose spec is gone, made private or deleted

Idempotent: unchanged data (same source object, or same row fingerprint) writes nothing to S3;
an unchanged package (same hash of the dict we would send, stored in the `citydata_hash` extra)
writes nothing to CKAN. A quality summary that is not promotable blocks publication.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from catalog.client import CatalogClient, NotFoundError, ValidationFailed
from catalog.datastore import iter_rows, load_datastore
from catalog.history import version_history
from catalog.mapping import (
    DATASTORE_KEY,
    HASH_KEY,
    MANAGED_KEY,
    extras_of,
    group_dict,
    organization_dict,
    package_dict,
    package_hash,
    stamp,
    with_resource_ids,
)
from catalog.record import record_publication
from catalog.resources import ROLE, Links, datastore_fields, datastore_rows, host_role
from catalog.spec import PublicationSpec, parse_publication
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from citydata.storage.published import current_key, dataset_prefix, read_pointer
from ingest.clean import CLEAN_MANIFEST, latest_clean
from ingest.pull import last_pull_id
from lake.access import object_base, set_public_read
from lake.promote import (
    LakePublication,
    PublishHooks,
    ReportSource,
    SourceData,
    VersionOptions,
    publish_version,
)
from quality.spec import required_columns

RetirePolicy = Literal["private", "delete", "keep"]
# The quality gate's outputs (quality.reports), read as optional files: publication works without them.
QUALITY_SUMMARY = "summary.json"
VALIDATED = "validated.parquet"
DATASTORE_VIEW = "datatables_view"


class PublishError(RuntimeError):
    """The dataset cannot be published; the message says why."""


class PublishBlocked(PublishError):
    """The quality gate says this pull must not be published."""


@dataclass
class CatalogResult:
    dataset: str
    package_id: str
    url: str
    version: int
    unchanged: bool
    created: bool = False
    package_hash: str = ""
    datastore_rows: int | None = None  # rows loaded in this run (None: not reloaded)
    writes: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class PublishResult:
    dataset: str
    lake: LakePublication
    catalog: CatalogResult
    access_changed: bool = False

    @property
    def unchanged(self) -> bool:
        return self.lake.unchanged and self.catalog.unchanged and not self.access_changed

    @property
    def version(self) -> int:
        return self.lake.version


def _lake(settings: Settings, lake: Lake | None) -> Lake:
    return lake or Lake(settings)


# --- inputs -----------------------------------------------------------------------------------
def _columns(spec: DatasetSpec, clean_manifest: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The clean stage's dictionary, with the spec's current labels and descriptions, and whether
    a column may be empty as the spec says (key, `nullable: false`, not-null expectations)."""
    required = required_columns(spec)
    out = []
    for col in clean_manifest.get("columns", []):
        hint = spec.schema_.columns.get(col.get("name", ""))
        entry = {k: col.get(k) for k in ("name", "label", "type", "description")}
        if hint is not None:
            entry["label"] = hint.label or entry["label"]
            entry["description"] = hint.description or entry["description"]
        entry["nullable"] = col.get("name") not in required
        out.append(entry)
    return tuple(out)


def resolve_input(
    spec: DatasetSpec, lake: Lake, pub: PublicationSpec, pull_id: str | None = None
) -> tuple[SourceData, ReportSource | None]:
    """Which clean rows to publish (and the quality report to attach); raises PublishBlocked."""
    pull_id = pull_id or last_pull_id(lake, spec.id)
    clean_manifest = None
    if pull_id:
        clean_manifest = lake.get_json(
            zone_prefix("clean", spec.agency.id, spec.id, pull_id) + CLEAN_MANIFEST
        )
    if clean_manifest is None:
        clean_manifest = latest_clean(lake, spec)
    if clean_manifest is None:
        raise PublishError(f"{spec.id}: nothing cleaned yet (run its clean stage first)")
    pull_id = str(clean_manifest["pull_id"])
    clean_prefix = zone_prefix("clean", spec.agency.id, spec.id, pull_id)
    reports = zone_prefix("reports", spec.agency.id, spec.id, pull_id)
    summary = lake.get_json(reports + QUALITY_SUMMARY)
    if summary is not None and not summary.get("promotable", True):
        raise PublishBlocked(
            f"{spec.id}: the quality gate blocks pull {pull_id} (score {summary.get('score')}); "
            f"see s3://{lake.bucket}/{reports}"
        )
    if summary is None and pub.require_quality:
        raise PublishBlocked(
            f"{spec.id}: publication.require_quality is set and pull {pull_id} has no report"
        )
    candidates = [
        (summary or {}).get("publish_key"),
        clean_prefix + VALIDATED,
        clean_manifest.get("keys", {}).get("data") or clean_prefix + "data.parquet",
    ]
    key = next((c for c in candidates if c and lake.exists(c)), None)
    if key is None:
        raise PublishError(f"{spec.id}: pull {pull_id} has no clean rows (empty or not uploaded)")
    stat = lake.client.stat_object(lake.bucket, key)
    source = SourceData(
        key=key,
        etag=str(stat.etag),
        size=int(stat.size or 0),
        pull_id=pull_id,
        kind="validated" if key.endswith(VALIDATED) else "data",
        columns=_columns(spec, clean_manifest),
    )
    report = None
    if summary is not None:
        report = ReportSource(reports, tuple(sorted(lake.keys(reports))), summary)
    return source, report


# --- lake ----------------------------------------------------------------------------------------
def publish_to_lake(
    spec: DatasetSpec,
    settings: Settings,
    lake: Lake | None = None,
    *,
    pull_id: str | None = None,
    run_id: str | None = None,
    hooks: PublishHooks | None = None,
    stale_staging_after: timedelta = timedelta(hours=1),
) -> tuple[LakePublication, bool]:
    """Publish the latest clean pull as a new version (or nothing when unchanged).

    Returns the publication and whether the anonymous-read policy changed.
    """
    lake = _lake(settings, lake)
    pub = parse_publication(spec)
    source, report = resolve_input(spec, lake, pub, pull_id)
    options = VersionOptions(
        pub.part_rows, pub.csv, pub.csv_bom, pub.keep_versions, xlsx=pub.xlsx, xlsx_max_rows=pub.xlsx_max_rows
    )
    result = publish_version(
        lake,
        agency=spec.agency.id,
        dataset=spec.id,
        source=source,
        options=options,
        report=report,
        run_id=run_id,
        hooks=hooks,
        scratch_dir=settings.stack_dir / "tmp",
        stale_staging_after=stale_staging_after,
    )
    changed = set_public_read(lake, dataset_prefix(spec.agency.id, spec.id), not pub.private)
    return result, changed


# --- catalog ---------------------------------------------------------------------------------------
def ensure_organization(client: CatalogClient, spec: DatasetSpec) -> bool:
    """Create the agency's organization when missing (Vietnamese title); True when written."""
    wanted = organization_dict(spec)
    org = client.show("organization_show", id=spec.agency.id, include_datasets=False)
    if org is None:
        try:
            client.call("organization_create", **wanted)
        except ValidationFailed:  # created meanwhile by a parallel publisher of the same agency
            if client.show("organization_show", id=spec.agency.id, include_datasets=False) is None:
                raise
        return True
    if org.get("title") != wanted["title"]:
        client.call("organization_patch", id=org["id"], title=wanted["title"])
        return True
    return False


def ensure_groups(client: CatalogClient, spec: DatasetSpec) -> list[str]:
    """Create the spec's groups; an existing group whose title or description differs is patched
    (groups made before they had Vietnamese titles get them; an equal group is left alone)."""
    created = []
    for topic in dict.fromkeys(spec.topics):
        group = group_dict(topic)
        existing = client.show("group_show", id=group["name"])
        if existing is None:
            try:
                client.call("group_create", **group)
            except ValidationFailed:  # created meanwhile by a parallel publisher
                if client.show("group_show", id=group["name"]) is None:
                    raise
            created.append(group["name"])
        elif any((existing.get(k) or "") != group[k] for k in ("title", "description")):
            client.call(
                "group_patch", id=existing["id"], title=group["title"], description=group["description"]
            )
    return created


def _ensure_view(client: CatalogClient, resource_id: str) -> None:
    views = client.call("resource_view_list", id=resource_id)
    if not any(v.get("view_type") == DATASTORE_VIEW for v in views):
        client.call("resource_view_create", resource_id=resource_id, view_type=DATASTORE_VIEW,
                    title="Bảng dữ liệu")  # fmt: skip


def publish_to_catalog(
    spec: DatasetSpec,
    settings: Settings,
    lake: Lake | None = None,
    client: CatalogClient | None = None,
    *,
    record: bool = True,
) -> CatalogResult:
    """Create or update the dataset's CKAN entry from the current published version.

    The spec and the package hash are recorded in the lake first (`catalog.record`; written only
    when they change), so that `catalog.rebuild` can recreate the entry; `record=False` is for
    rebuild itself, which reads that record.
    """
    started = time.monotonic()
    lake = _lake(settings, lake)
    client = client or CatalogClient(settings)
    writes_before = len(client.writes)
    pub = parse_publication(spec)
    pointer = read_pointer(lake, spec.agency.id, spec.id)
    entry = pointer.entry() if pointer else None
    manifest = lake.get_json(entry.manifest) if entry else None
    if pointer is None or manifest is None:
        raise PublishError(f"{spec.id}: no published version in the lake yet (run publish_to_lake first)")
    links = Links(client.url, object_base(settings, pub.private))
    ckey = current_key(spec.agency.id, spec.id)
    pointer_dict = pointer.as_dict()
    history = version_history(lake, pointer_dict, manifest, links)
    desired = package_dict(
        spec, pub, manifest, pointer_dict, links, ckey, datastore_ready=True, history=history
    )
    digest = package_hash(desired)
    existing = client.show("package_show", id=spec.id)

    def result(
        pkg: dict[str, Any], unchanged: bool, created: bool = False, rows: int | None = None
    ) -> CatalogResult:
        return CatalogResult(spec.id, pkg["id"], client.dataset_url(spec.id), int(manifest["version"]),
                             unchanged, created, digest, rows, client.writes[writes_before:],
                             round(time.monotonic() - started, 3))  # fmt: skip

    if existing is not None and extras_of(existing).get(MANAGED_KEY) != "true":
        raise PublishError(
            f"{spec.id}: a CKAN dataset with this name exists and was not published by citydata; "
            "rename the spec or remove that dataset"
        )
    if record:
        record_publication(lake, spec, version=int(manifest["version"]), package_hash=digest)
    if existing is not None and existing.get("state") == "active":
        if extras_of(existing).get(HASH_KEY) == digest:
            return result(existing, True)
    ensure_organization(client, spec)
    ensure_groups(client, spec)
    created = existing is None
    host = host_role(pub)
    if existing is None or not any(r.get(ROLE) == host for r in existing.get("resources", [])):
        # First the entry without the DataStore, so that the host resource exists and has an id.
        draft = stamp(
            package_dict(
                spec, pub, manifest, pointer_dict, links, ckey, datastore_ready=False, history=history
            ),
            "pending",
        )
        if existing is None:
            existing = client.call("package_create", **draft)
        else:
            draft["id"] = existing["id"]
            draft["resources"] = with_resource_ids(draft["resources"], existing.get("resources", []))
            existing = client.call("package_update", **draft)
    assert existing is not None
    resources = with_resource_ids(desired["resources"], existing.get("resources", []))
    host_id = next((r.get("id") for r in resources if r.get(ROLE) == host), None)
    loaded: int | None = None
    wanted_marker = extras_of(desired).get(DATASTORE_KEY, "")
    if pub.datastore and host_id and extras_of(existing).get(DATASTORE_KEY) != wanted_marker:
        limit = datastore_rows(manifest, pub)
        write_url = settings.ckan.datastore_write_url
        loaded = load_datastore(
            client, host_id, datastore_fields(manifest), iter_rows(lake, manifest, limit),
            write_url=write_url.get_secret_value() if write_url else None,
        )  # fmt: skip
    elif not pub.datastore and extras_of(existing).get(DATASTORE_KEY):
        for res in existing.get("resources", []):
            if res.get("datastore_active"):
                try:
                    client.call("datastore_delete", resource_id=res["id"], force=True)
                except NotFoundError:
                    pass
    final = stamp({**desired, "resources": resources}, digest)
    final["id"] = existing["id"]
    pkg = client.call("package_update", **final)
    if pub.datastore and host_id:
        _ensure_view(client, host_id)
    return result(pkg, False, created, loaded)


# --- both --------------------------------------------------------------------------------------------
def publish(
    spec: DatasetSpec,
    settings: Settings,
    lake: Lake | None = None,
    client: CatalogClient | None = None,
    *,
    pull_id: str | None = None,
    hooks: PublishHooks | None = None,
    stale_staging_after: timedelta = timedelta(hours=1),
) -> PublishResult:
    lake = _lake(settings, lake)
    published, access_changed = publish_to_lake(
        spec, settings, lake, pull_id=pull_id, hooks=hooks, stale_staging_after=stale_staging_after
    )
    entry = publish_to_catalog(spec, settings, lake, client)
    return PublishResult(spec.id, published, entry, access_changed)


def publish_many(
    specs: Sequence[DatasetSpec], settings: Settings, workers: int = 4
) -> list[PublishResult | Exception]:
    """Publish several datasets in parallel threads; one failure does not stop the others."""

    def one(spec: DatasetSpec) -> PublishResult | Exception:
        try:
            return publish(spec, settings, Lake(settings), CatalogClient(settings))
        except Exception as exc:  # noqa: BLE001 - reported per dataset
            return exc

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, specs))
