"""Asset factory: `raw` and `clean` assets for every dataset spec.

Asset keys are `<dataset>/<stage>` with hyphens turned into underscores (Dagster's key rule);
each agency is an asset group.
"""

from typing import Any

import dagster as dg

from citydata.locks import dataset_lock
from citydata.spec.model import DatasetSpec
from ingest.clean import clean_pull
from ingest.detected import describe
from ingest.pull import last_pull_id, pull
from pipelines.resources import S3Resource


def key_part(text: str) -> str:
    return text.replace("-", "_")


def asset_key(spec: DatasetSpec, stage: str) -> dg.AssetKey:
    return dg.AssetKey([key_part(spec.id), stage])


def display_title(spec: DatasetSpec) -> str:
    """The dataset's title as asset descriptions show it: Vietnamese (English)."""
    return f"{spec.title.vi}" + (f" ({spec.title.en})" if spec.title.en else "")


def build_dataset_assets(spec: DatasetSpec) -> list[dg.AssetsDefinition]:
    group = key_part(spec.agency.id)
    tags = {"agency": spec.agency.id, "source": spec.source.type}

    @dg.asset(
        key=asset_key(spec, "raw"),
        group_name=group,
        description=f"Raw bytes of {display_title(spec)}, pulled from its {spec.source.type} source.",
        kinds={"s3"},
        tags=tags,  # transient source errors are retried inside the connectors, with backoff
    )
    def raw(context: dg.AssetExecutionContext, s3: S3Resource) -> dg.MaterializeResult:
        settings, lake = s3.settings(), s3.lake()
        with dataset_lock(settings, spec.id):  # one writer of a dataset at a time, whoever runs it
            result = pull(spec, settings, lake)
        if result.unchanged:
            context.log.info("%s: source unchanged, nothing pulled", spec.id)
        metadata: dict[str, Any] = {
            "pull_id": result.pull_id or "",
            "unchanged": result.unchanged,
            "objects": len(result.objects),
            "bytes": sum(o.get("size", 0) for o in result.objects),
            "stats": dg.MetadataValue.json(result.stats),
        }
        if result.objects:
            metadata["files"] = dg.MetadataValue.json([o["key"] for o in result.objects])
        return dg.MaterializeResult(metadata=metadata)

    @dg.asset(
        key=asset_key(spec, "clean"),
        deps=[raw],
        group_name=group,
        description=f"{display_title(spec)}: cleaned, typed Parquet; failing rows quarantined.",
        kinds={"parquet", "s3"},
        tags=tags,
    )
    def clean(context: dg.AssetExecutionContext, s3: S3Resource) -> dg.MaterializeResult:
        settings, lake = s3.settings(), s3.lake()
        with dataset_lock(settings, spec.id):
            pull_id = last_pull_id(lake, spec.id)
            if pull_id is None:
                raise dg.Failure(f"{spec.id}: nothing pulled yet; materialize {asset_key(spec, 'raw')} first")
            result = clean_pull(spec, settings, lake, pull_id)
        if result.skipped:
            context.log.info("%s: pull %s already cleaned; nothing to do", spec.id, pull_id)
        for f in result.files:
            if f.error:
                context.log.error("%s", f.error)
        detected = describe(result.as_dict())
        for line in detected:  # what an agency should confirm: header, skipped rows, locales, codes
            context.log.info("%s: %s", spec.id, line)
        return dg.MaterializeResult(
            metadata={
                "pull_id": pull_id,
                "skipped": result.skipped,
                "dagster/row_count": result.rows,
                "rows_rejected": result.rejected,
                "warnings": result.warnings,
                "dagster/column_schema": dg.TableSchema(
                    columns=[
                        dg.TableColumn(
                            c["name"], c.get("arrow_type") or c["type"], description=c.get("label")
                        )
                        for c in result.columns
                    ]
                ),
                "files": dg.MetadataValue.json([vars(f) for f in result.files]),
                "detected": dg.MetadataValue.md("\n".join(f"- {line}" for line in detected)),
                "pii": dg.MetadataValue.json(result.pii),
                "change": dg.MetadataValue.json(result.change),
                "data": dg.MetadataValue.url(f"s3://{lake.bucket}/{result.keys.get('data', '')}"),
            }
        )

    return [raw, clean]
