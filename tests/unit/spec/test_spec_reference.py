"""The spec reference and JSON Schema are generated from the models and kept in sync with them."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from citydata.cli.spec_docs.reference import REFERENCE_PATH, SCHEMA_PATH, render_reference, sections
from citydata.cli.spec_docs.schema_file import render_schema
from citydata.settings import REPO_ROOT

SAMPLES = sorted((REPO_ROOT / "datasets").glob("*.yaml"))
COMMAND = "`.venv/bin/python -m citydata.cli.spec_docs.reference`"


def test_the_committed_reference_is_what_the_models_generate():
    assert REFERENCE_PATH.read_text(encoding="utf-8") == render_reference(), f"stale: run {COMMAND}"


def test_the_committed_schema_is_what_the_models_generate():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), f"stale: run {COMMAND}"


def test_every_field_of_every_section_is_documented_with_its_type_and_default():
    text = REFERENCE_PATH.read_text(encoding="utf-8")
    rows = {line for line in text.splitlines() if line.startswith("| `")}
    for section in sections():
        for name, info in section.model.model_fields.items():
            key = info.alias or name
            assert any(row.startswith(f"| `{key}` |") and row.count("|") >= 6 for row in rows), (
                f"{section.title}: field {key!r} missing from {REFERENCE_PATH.name}"
            )


def as_editor_reads(path: Path) -> dict:
    """The YAML as an editor's YAML 1.2 reader sees it: dates are strings there."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_sample_specs_validate_against_the_schema_their_first_line_names(path: Path, validator):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    assert (path.parent / first.split("$schema=")[1]).resolve() == SCHEMA_PATH.resolve()
    errors = [e.message for e in validator.iter_errors(as_editor_reads(path))]
    assert errors == []


def test_the_schema_refuses_what_the_loader_refuses(validator):
    spec = as_editor_reads(SAMPLES[0])
    misspelt = {**spec, "lisence": "cc-by"}
    assert any("lisence" in e.message for e in validator.iter_errors(misspelt))
    assert any("free text" in e.message for e in validator.iter_errors({**spec, "license": "free text"}))
    source = {**spec["source"], "pth": "x.csv"}
    assert list(validator.iter_errors({**spec, "source": source}))
