"""The Dagster code location: every asset, check, job, schedule and sensor of citydata."""

from __future__ import annotations

import dagster as dg

from citydata.settings import get_settings
from pipelines.platform.assets import platform_inventory
from pipelines.resources import default_resources


def _executor() -> dg.ExecutorDefinition:
    # The multiprocess executor costs seconds per step on two cores; in-process is the local default.
    if get_settings().dagster.executor == "multiprocess":
        return dg.multiprocess_executor.configured({"max_concurrent": 2})
    return dg.in_process_executor


defs = dg.Definitions(
    assets=[platform_inventory],
    resources=default_resources(),
    executor=_executor(),
)
