"""The Dagster code location: every asset, check, job, schedule and sensor of citydata."""

from __future__ import annotations

import dagster as dg

from citydata.settings import get_settings
from citydata.spec.model import DatasetSpec
from pipelines.automation import build_drop_zone_sensor, build_failure_sensor, build_schedules
from pipelines.datasets.graph import dataset_assets, dataset_checks
from pipelines.datasets.labeling_assets import build_labeling_sensors
from pipelines.datasets.loader import specs_for_definitions
from pipelines.executors import chosen_executor
from pipelines.platform.assets import platform_inventory
from pipelines.resources import default_resources


def build_definitions(specs: list[DatasetSpec]) -> dg.Definitions:
    """Everything for these specs: one asset graph per dataset, its checks and sensors."""
    return dg.Definitions(
        assets=[platform_inventory, *(a for spec in specs for a in dataset_assets(spec))],
        asset_checks=[c for spec in specs for c in dataset_checks(spec)],
        schedules=build_schedules(specs),
        sensors=[*build_labeling_sensors(specs), *build_drop_zone_sensor(specs), build_failure_sensor()],
        resources=default_resources(),
        executor=chosen_executor(get_settings()),
    )


defs = build_definitions(specs_for_definitions())
