"""datasets/spec.schema.json: the JSON Schema of a spec file, for editors and other tools.

Built from `DatasetSpec.model_json_schema` with the later stages' sections (quality, publication,
labeling) given their own models' schemas instead of "any object": those models are imported
here, when generating, never by the loader. Written by `python -m citydata.cli.spec_docs.reference`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from citydata.spec.model import DatasetSpec
from pipelines.spec_checks import SECTION_MODELS, section_model

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def build_schema() -> dict[str, Any]:
    """The schema as a dict: DatasetSpec at the top, every other model under `$defs`."""
    models = {name: section_model(name) for name in SECTION_MODELS}
    _, combined = models_json_schema(
        [(DatasetSpec, "validation"), *((m, "validation") for m in models.values())],
        ref_template="#/$defs/{model}",
    )
    defs: dict[str, Any] = combined["$defs"]
    top = defs.pop("DatasetSpec")
    for name, model in models.items():
        prop = top["properties"][name]
        top["properties"][name] = {
            "$ref": f"#/$defs/{model.__name__}",
            "description": prop.get("description", ""),
        }
    return {
        "$schema": DIALECT,
        "title": "citydata dataset spec",
        "description": "One dataset, from source to catalog (docs/spec-reference.md).",
        **{k: v for k, v in top.items() if k not in ("title", "description")},
        "$defs": dict(sorted(defs.items())),
    }


def render_schema() -> str:
    """The committed file's text."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"
