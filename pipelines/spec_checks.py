"""Deep checks of a loaded spec by the stages that own a section (quality, labeling...).

Run by `citydata datasets check` before any run. Kept out of `load_spec` because some need
heavy imports (Great Expectations takes seconds) that the Dagster code location must not pay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from citydata.spec.fields import unknown_field_message
from citydata.spec.locate import parse_loc, split_problem
from citydata.spec.model import DatasetSpec

# The model of each later-stage section, imported only when a check needs it (module:attribute).
SECTION_MODELS = {
    "quality": "quality.spec:QualitySpec",
    "publication": "catalog.spec:PublicationSpec",
    "labeling": "labeling.spec:LabelingSpec",
}
_UNKNOWN = ("unknown field", "Extra inputs are not permitted")


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


def section_model(section: str) -> Any:
    """The pydantic model of a later stage's section (imports that stage)."""
    import importlib

    module, name = SECTION_MODELS[section].split(":")
    return getattr(importlib.import_module(module), name)


def _with_suggestion(problem: str) -> str:
    """A stage's 'unknown field' problem, answered with the closest field name of its model."""
    parts = split_problem(problem)
    if parts is None or not parts[1].startswith(_UNKNOWN):
        return problem
    loc = parse_loc(parts[0])
    if len(loc) < 2 or loc[0] not in SECTION_MODELS:
        return problem
    return f"{parts[0]}: {unknown_field_message(section_model(str(loc[0])), loc[1:-1], str(loc[-1]))}"


def deep_check(spec: DatasetSpec) -> list[str]:
    """Problems found by every stage's own check, as 'section.field: message' lines."""
    return [_with_suggestion(problem) for check in SECTION_CHECKS for problem in check(spec)]
