"""An inventory of what the platform holds, refreshed as an asset and stored in the lake."""

import io
import json
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from pipelines.resources import CkanResource, LabelStudioResource, S3Resource

INVENTORY_KEY = "reports/platform/inventory.json"
_COUNT_CAP = 100_000  # keeps the listing bounded on a large lake


def _count_objects(client: Any, bucket: str) -> int:
    count = 0
    for _ in client.list_objects(bucket, recursive=True):
        count += 1
        if count >= _COUNT_CAP:
            break
    return count


@dg.asset(
    group_name="platform",
    description="Datasets in CKAN, projects in Label Studio and objects per bucket, written to the lake.",
)
def platform_inventory(
    context: dg.AssetExecutionContext,
    s3: S3Resource,
    ckan: CkanResource,
    label_studio: LabelStudioResource,
) -> dg.MaterializeResult:
    settings, client = s3.settings(), s3.client()
    buckets = {b.name: _count_objects(client, b.name) for b in client.list_buckets()}
    catalog = ckan.catalog(settings)
    datasets = catalog.package_search(rows=0, include_private=True)["count"]
    organizations = len(catalog.organization_list())
    projects = sum(1 for _ in label_studio.client(settings).sdk.projects.list())
    inventory = {
        "generated_at": datetime.now(UTC).isoformat(),
        "ckan": {"datasets": datasets, "organizations": organizations},
        "label_studio": {"projects": projects},
        "s3": {"objects_per_bucket": buckets},
    }
    body = json.dumps(inventory, indent=2).encode()
    client.put_object(s3.bucket, INVENTORY_KEY, io.BytesIO(body), len(body), content_type="application/json")
    context.log.info("inventory written to s3://%s/%s", s3.bucket, INVENTORY_KEY)
    return dg.MaterializeResult(
        metadata={
            "ckan_datasets": datasets,
            "ckan_organizations": organizations,
            "label_studio_projects": projects,
            "s3_objects": dg.MetadataValue.json(buckets),
            "location": dg.MetadataValue.url(f"s3://{s3.bucket}/{INVENTORY_KEY}"),
        }
    )
