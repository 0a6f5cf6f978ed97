"""The Dagster code location: every asset, check, job, schedule and sensor of citydata."""

from __future__ import annotations

import dagster as dg

from citydata.settings import Settings, load_settings
from citydata.spec.model import DatasetSpec
from pipelines.automation import build_drop_zone_sensor, build_failure_sensor
from pipelines.datasets.factory import dataset_definitions
from pipelines.datasets.labeling_assets import build_labeling_sensors
from pipelines.datasets.loader import specs_for_definitions
from pipelines.executors import chosen_executor
from pipelines.freshness import build_freshness_sensor
from pipelines.platform.assets import platform_inventory
from pipelines.resources import default_resources


def build_definitions(specs: list[DatasetSpec], settings: Settings | None = None) -> dg.Definitions:
    """Everything for these specs: each dataset from the factory, plus the shared sensors."""
    settings = settings or load_settings()
    datasets = [dataset_definitions(spec, settings) for spec in specs]
    jobs = {d.spec.id: d.job for d in datasets}
    return dg.Definitions(
        assets=[platform_inventory, *(a for d in datasets for a in d.assets)],
        asset_checks=[c for d in datasets for c in d.checks],
        jobs=list(jobs.values()),
        schedules=[d.schedule for d in datasets],
        sensors=[
            *build_labeling_sensors(specs),
            *build_drop_zone_sensor(specs, jobs, settings),
            build_failure_sensor(),
            *build_freshness_sensor(specs),
        ],
        resources=default_resources(),
        executor=chosen_executor(settings),
    )


defs = build_definitions(specs_for_definitions())
