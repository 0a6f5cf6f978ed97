"""One asset graph per dataset spec: every stage's assets and the quality checks, in order.

raw → clean (quality gate) → published → catalog_entry → labeling_tasks → annotations
"""

from __future__ import annotations

import dagster as dg

from citydata.spec.model import DatasetSpec
from pipelines.datasets.assets import build_dataset_assets
from pipelines.datasets.checks import build_quality_checks
from pipelines.datasets.labeling_assets import build_labeling_assets
from pipelines.datasets.publish_assets import build_publish_assets

STAGES = ("raw", "clean", "published", "catalog_entry", "labeling_tasks", "annotations")
LABELING_STAGES = ("labeling_tasks", "annotations")


def stages_for(spec: DatasetSpec) -> tuple[str, ...]:
    return STAGES if spec.labeling else tuple(s for s in STAGES if s not in LABELING_STAGES)


def dataset_assets(spec: DatasetSpec) -> list[dg.AssetsDefinition]:
    return [*build_dataset_assets(spec), *build_publish_assets(spec), *build_labeling_assets(spec)]


def dataset_checks(spec: DatasetSpec) -> list[dg.AssetChecksDefinition]:
    return build_quality_checks(spec)
