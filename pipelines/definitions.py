"""The Dagster code location: every asset, check, job, schedule and sensor of citydata."""

from __future__ import annotations

import dagster as dg

from citydata.settings import get_settings
from pipelines.datasets.assets import build_dataset_assets
from pipelines.datasets.checks import build_quality_checks
from pipelines.datasets.loader import specs_for_definitions
from pipelines.platform.assets import platform_inventory
from pipelines.resources import default_resources


def _executor() -> dg.ExecutorDefinition:
    # The multiprocess executor costs seconds per step on two cores; in-process is the local default.
    if get_settings().dagster.executor == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": 2})
    return dg.in_process_executor


_SPECS = specs_for_definitions()

defs = dg.Definitions(
    assets=[platform_inventory, *(a for spec in _SPECS for a in build_dataset_assets(spec))],
    asset_checks=[c for spec in _SPECS for c in build_quality_checks(spec)],
    resources=default_resources(),
    executor=_executor(),
)
