"""Asset factory: `published` (lake) and `catalog_entry` (CKAN) assets for a dataset spec.

    <dataset>/clean -> <dataset>/published -> <dataset>/catalog_entry

`published` takes the pull the latest `clean` materialization reported (the last pull when none
did) and publishes it as a new version of published/<agency>/<dataset>/ (atomic; nothing written
when the rows are unchanged). `catalog_entry` brings the CKAN dataset in line with the current
version (nothing written when the package hash is unchanged). The quality gate's blocking check
on `clean` keeps both from running on a pull that failed it; the publish stage also refuses a pull
whose quality summary is not promotable.
"""

from typing import Any

import dagster as dg

from catalog.publish import PublishBlocked, publish_to_catalog, publish_to_lake
from catalog.spec import parse_publication
from citydata.locks import dataset_lock
from citydata.spec.model import DatasetSpec
from citydata.storage.published import current_key
from lake.access import public_url, s3_uri
from pipelines.datasets.assets import asset_key, display_title, key_part
from pipelines.freshness import freshness_policy
from pipelines.resources import CkanResource, S3Resource

STAGES = ("published", "catalog_entry")


def _clean_pull_id(context: dg.AssetExecutionContext, spec: DatasetSpec) -> str | None:
    event = context.instance.get_latest_materialization_event(asset_key(spec, "clean"))
    materialization = event.asset_materialization if event is not None else None
    if materialization is not None and "pull_id" in materialization.metadata:
        value = materialization.metadata["pull_id"].value
        if isinstance(value, str) and value:
            return value
    return None


def build_publish_assets(spec: DatasetSpec) -> list[dg.AssetsDefinition]:
    group = key_part(spec.agency.id)
    tags = {"agency": spec.agency.id, "stage": "publish"}
    title = display_title(spec)

    @dg.asset(
        key=asset_key(spec, "published"),
        deps=[asset_key(spec, "clean")],
        group_name=group,
        description=f"{title}: versioned Parquet + CSV in published/{spec.agency.id}/{spec.id}/.",
        kinds={"parquet", "s3"},
        tags=tags,
        freshness_policy=freshness_policy(spec),
    )
    def published(context: dg.AssetExecutionContext, s3: S3Resource) -> dg.MaterializeResult:
        settings, lake = s3.settings(), s3.lake()
        try:
            with dataset_lock(settings, spec.id):  # one writer of a dataset at a time
                result, access_changed = publish_to_lake(
                    spec, settings, lake, pull_id=_clean_pull_id(context, spec)
                )
        except PublishBlocked as exc:
            raise dg.Failure(str(exc)) from exc
        manifest = result.manifest
        if result.unchanged:
            context.log.info("%s: %s; nothing written", spec.id, result.reason)
        pointer = current_key(spec.agency.id, spec.id)
        metadata: dict[str, Any] = {
            "version": result.version,
            "unchanged": result.unchanged,
            "reason": result.reason,
            "dagster/row_count": int(manifest["rows"]),
            "content_hash": manifest["content_hash"],
            "source_pull_id": str(manifest.get("source", {}).get("pull_id")),
            "files": dg.MetadataValue.json(
                {
                    p["key"]: p["sha256"]
                    for p in [*manifest.get("parts", []), *manifest.get("files", {}).values()]
                    if isinstance(p, dict) and "sha256" in p
                }
            ),
            "objects_written": result.objects_written,
            "dropped_versions": dg.MetadataValue.json(result.dropped_versions),
            "access_changed": access_changed,
            "pointer": dg.MetadataValue.url(s3_uri(settings, pointer)),
        }
        if not parse_publication(spec).private:
            metadata["public_url"] = dg.MetadataValue.url(public_url(settings, pointer))
        return dg.MaterializeResult(metadata=metadata)

    @dg.asset(
        key=asset_key(spec, "catalog_entry"),
        deps=[published],
        group_name=group,
        description=f"{title}: the CKAN dataset `{spec.id}` (DCAT-AP), its resources and DataStore table.",
        kinds={"ckan"},
        tags=tags,
    )
    def catalog_entry(
        context: dg.AssetExecutionContext, s3: S3Resource, ckan: CkanResource
    ) -> dg.MaterializeResult:
        settings, lake = s3.settings(), s3.lake()
        with dataset_lock(settings, spec.id):  # one writer of a dataset at a time
            result = publish_to_catalog(spec, settings, lake, ckan.catalog(settings))
        if result.unchanged:
            context.log.info("%s: catalog entry unchanged (same package hash); nothing written", spec.id)
        return dg.MaterializeResult(
            metadata={
                "ckan_url": dg.MetadataValue.url(result.url),
                "package_id": result.package_id,
                "version": result.version,
                "unchanged": result.unchanged,
                "created": result.created,
                "package_hash": result.package_hash,
                "datastore_rows_loaded": result.datastore_rows if result.datastore_rows is not None else -1,
                "ckan_writes": dg.MetadataValue.json(result.writes),
            }
        )

    return [published, catalog_entry]
