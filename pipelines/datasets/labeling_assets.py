"""Labeling assets: `[<dataset>, labeling_tasks]` (tasks exported to Label Studio, after
`catalog_entry`) and `[<dataset>, annotations]` (annotations imported back, consensus, agreement,
the labeled dataset published), plus a sensor that requests `annotations` when a project has newly
finished tasks. Only for specs with a labeling section.
"""

import json
from typing import Any

import dagster as dg

from citydata.locks import dataset_lock
from citydata.spec.model import DatasetSpec
from pipelines.automation import DATASET_TAG
from pipelines.datasets.assets import asset_key, key_part
from pipelines.resources import CkanResource, LabelStudioResource, S3Resource


def build_labeling_assets(spec: DatasetSpec) -> list[dg.AssetsDefinition]:
    if not spec.labeling:
        return []
    group = key_part(spec.agency.id)
    tags = {"agency": spec.agency.id, "stage": "labeling"}

    @dg.asset(
        key=asset_key(spec, "labeling_tasks"),
        deps=[asset_key(spec, "catalog_entry")],  # samples come from published, validated data
        group_name=group,
        description=f"Label Studio tasks for {spec.id} (sampled clean rows, stable task keys).",
        kinds={"labelstudio"},
        tags=tags,
    )
    def labeling_tasks(
        context: dg.AssetExecutionContext, s3: S3Resource, label_studio: LabelStudioResource
    ) -> dg.MaterializeResult:
        from labeling.task_export import export_tasks

        settings, lake = s3.settings(), s3.lake()
        with dataset_lock(settings, spec.id):  # one writer of a dataset at a time
            result = export_tasks(spec, settings, lake, label_studio.client(settings))
        if result.deleted_in_label_studio:
            context.log.warning(
                "%s: %d task(s) deleted in Label Studio, not re-created",
                spec.id,
                len(result.deleted_in_label_studio),
            )
        return dg.MaterializeResult(
            metadata={
                "project_id": result.project_id,
                "pull_id": result.pull_id,
                "created": result.created,
                "already_present": result.already_present,
                "deleted_in_label_studio": len(result.deleted_in_label_studio),
                "predictions": result.predictions,
                "seconds": result.seconds,
            }
        )

    @dg.asset(
        key=asset_key(spec, "annotations"),
        deps=[labeling_tasks],
        group_name=group,
        description=f"Annotations, consensus labels and agreement for {spec.id}, from Label Studio.",
        kinds={"parquet", "s3"},
        tags=tags,
    )
    def annotations(
        context: dg.AssetExecutionContext,
        s3: S3Resource,
        ckan: CkanResource,
        label_studio: LabelStudioResource,
    ) -> dg.MaterializeResult:
        from labeling.annotation_import import import_annotations
        from labeling.publish import publish_labeled_dataset

        settings, lake = s3.settings(), s3.lake()
        labeled: dict[str, Any] = {}
        with dataset_lock(settings, spec.id):
            result = import_annotations(spec, settings, lake, label_studio.client(settings))
            if result.annotations:  # the labeled dataset goes to the catalog as soon as there are labels
                package = publish_labeled_dataset(spec, result, settings, lake, ckan.catalog(settings))
                labeled["labeled_dataset"] = dg.MetadataValue.url(
                    f"{settings.ckan.url}/dataset/{package['name']}"
                )
        return dg.MaterializeResult(
            metadata={
                **labeled,
                "project_id": result.project_id,
                "dagster/row_count": result.annotations,
                "annotated_tasks": result.annotated_tasks,
                "consensus": result.consensus,
                "ties": result.ties,
                "agreement": dg.MetadataValue.json(json.loads(json.dumps(result.agreement, default=str))),
                "data": dg.MetadataValue.url(f"s3://{settings.s3.lake_bucket}/{result.prefix}"),
            }
        )

    return [labeling_tasks, annotations]


FINISHED_TAG = "citydata/finished_tasks"


def build_labeling_sensors(
    specs: list[DatasetSpec], minimum_interval_seconds: int = 120
) -> list[dg.SensorDefinition]:
    """Requests `annotations` for every project whose finished-task count grew since the cursor.

    No sensor at all when no spec has a labeling section (an empty selection is invalid).
    """
    labeled = [s for s in specs if s.labeling]
    if not labeled:
        return []

    @dg.sensor(
        name="labeling_finished_tasks",
        minimum_interval_seconds=minimum_interval_seconds,
        asset_selection=[asset_key(s, "annotations") for s in labeled],
        default_status=dg.DefaultSensorStatus.STOPPED,
    )
    def labeling_sensor(
        context: dg.SensorEvaluationContext, s3: S3Resource, label_studio: LabelStudioResource
    ) -> dg.SensorResult | dg.SkipReason:
        from labeling.client import LabelStudioUnavailable
        from labeling.project import find_project

        settings, lake = s3.settings(), s3.lake()
        ls = label_studio.client(settings, attempts=1)
        cursor: dict[str, int] = json.loads(context.cursor) if context.cursor else {}
        requests = []
        for spec in labeled:
            try:
                project = find_project(ls, lake, spec)
                if project is None:
                    continue
                finished = int(ls.project_counts(project).get("finished_task_number") or 0)
            except LabelStudioUnavailable as exc:
                return dg.SkipReason(str(exc))
            if finished > cursor.get(spec.id, 0):
                # No run key: the finished count is no version marker (a deleted annotation brings it
                # back down, and Dagster would skip the run key it already used). The cursor, saved
                # with the requests, keeps a tick from asking twice; importing annotations is
                # idempotent anyway.
                requests.append(
                    dg.RunRequest(
                        asset_selection=[asset_key(spec, "annotations")],
                        tags={FINISHED_TAG: str(finished), DATASET_TAG: spec.id},
                    )
                )
            cursor[spec.id] = finished
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor, sort_keys=True))

    return [labeling_sensor]
