"""The Dagster code location: every asset, check, job, schedule and sensor of citydata."""

from __future__ import annotations

import dagster as dg

from citydata.settings import get_settings
from citydata.spec.model import DatasetSpec
from pipelines.datasets.assets import build_dataset_assets
from pipelines.datasets.checks import build_quality_checks
from pipelines.datasets.labeling_assets import build_labeling_assets, build_labeling_sensors
from pipelines.datasets.loader import specs_for_definitions
from pipelines.platform.assets import platform_inventory
from pipelines.resources import default_resources


def _executor() -> dg.ExecutorDefinition:
    # The multiprocess executor costs seconds per step on two cores; in-process is the local default.
    if get_settings().dagster.executor == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": 2})
    return dg.in_process_executor


def build_definitions(specs: list[DatasetSpec]) -> dg.Definitions:
    """Everything for these specs: one asset graph per dataset, its checks and sensors."""
    return dg.Definitions(
        assets=[
            platform_inventory,
            *(a for spec in specs for a in build_dataset_assets(spec)),
            *(a for spec in specs for a in build_labeling_assets(spec)),
        ],
        asset_checks=[c for spec in specs for c in build_quality_checks(spec)],
        sensors=build_labeling_sensors(specs),
        resources=default_resources(),
        executor=_executor(),
    )


defs = build_definitions(specs_for_definitions())
