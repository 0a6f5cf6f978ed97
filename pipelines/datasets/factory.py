"""The per-dataset factory: everything Dagster knows about one dataset spec, built in one place.

    raw → clean (quality gate) → published → catalog_entry [→ labeling_tasks → annotations]

`dataset_definitions(spec, settings)` gives a spec's assets (one builder per stage family:
`assets.py`, `publish_assets.py`, `labeling_assets.py`), the quality checks on `clean`
(`checks.py`), the job that materializes the whole graph, and its schedule. The code location
(`pipelines/definitions.py`) and `citydata run` both build datasets through it; sensors that watch
several datasets at once take the jobs built here.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from pipelines.automation import dataset_job, dataset_schedule
from pipelines.datasets.assets import build_dataset_assets
from pipelines.datasets.checks import build_quality_checks
from pipelines.datasets.labeling_assets import build_labeling_assets
from pipelines.datasets.publish_assets import build_publish_assets

STAGES = ("raw", "clean", "published", "catalog_entry", "labeling_tasks", "annotations")
LABELING_STAGES = ("labeling_tasks", "annotations")


def stages_for(spec: DatasetSpec) -> tuple[str, ...]:
    return STAGES if spec.labeling else tuple(s for s in STAGES if s not in LABELING_STAGES)


@dataclass(frozen=True)
class DatasetDefinitions:
    """One dataset's Dagster objects."""

    spec: DatasetSpec
    assets: list[dg.AssetsDefinition]
    checks: list[dg.AssetChecksDefinition]
    job: dg.UnresolvedAssetJobDefinition
    schedule: dg.ScheduleDefinition


def dataset_definitions(spec: DatasetSpec, settings: Settings) -> DatasetDefinitions:
    """Assets, checks, job and schedule of one spec (the job is shared with the schedule)."""
    job = dataset_job(spec)
    assets = [*build_dataset_assets(spec), *build_publish_assets(spec), *build_labeling_assets(spec)]
    return DatasetDefinitions(
        spec=spec,
        assets=assets,
        checks=build_quality_checks(spec),
        job=job,
        schedule=dataset_schedule(spec, job, settings),
    )
