"""Deep checks of a loaded spec by the stages that own a section (quality, labeling...).

Run by `citydata datasets check` before any run. Kept out of `load_spec` because some need
heavy imports (Great Expectations takes seconds) that the Dagster code location must not pay.
"""

from __future__ import annotations

from collections.abc import Callable

from citydata.spec.model import DatasetSpec


def _quality(spec: DatasetSpec) -> list[str]:
    from quality.spec import validate_quality_section

    return validate_quality_section(spec)


def _labeling(spec: DatasetSpec) -> list[str]:
    from labeling.spec import validate_labeling_section

    return validate_labeling_section(spec)


def _publication(spec: DatasetSpec) -> list[str]:
    from catalog.spec import validate_publication_section

    return validate_publication_section(spec)


SECTION_CHECKS: list[Callable[[DatasetSpec], list[str]]] = [_quality, _labeling, _publication]


def deep_check(spec: DatasetSpec) -> list[str]:
    """Problems found by every stage's own check, as 'section.field: message' lines."""
    return [problem for check in SECTION_CHECKS for problem in check(spec)]
