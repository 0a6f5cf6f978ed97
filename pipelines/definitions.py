"""The Dagster code location: every asset, check, job, schedule and sensor of citydata."""

from __future__ import annotations

import dagster as dg

from citydata.settings import get_settings
from pipelines.datasets.assets import build_dataset_assets
from pipelines.datasets.loader import specs_for_definitions
from pipelines.platform.assets import platform_inventory
from pipelines.resources import default_resources


def _executor() -> dg.ExecutorDefinition:
    # The multiprocess executor costs seconds per step on two cores; in-process is the local default.
    if get_settings().dagster.executor == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": 2})
    return dg.in_process_executor


def _dataset_assets() -> list[dg.AssetsDefinition]:
    return [a for spec in specs_for_definitions() for a in build_dataset_assets(spec)]


defs = dg.Definitions(
    assets=[platform_inventory, *_dataset_assets()],
    resources=default_resources(),
    executor=_executor(),
)
