"""The spec reference (docs/spec-reference.md) and JSON Schema (datasets/spec.schema.json), from the models.

    .venv/bin/python -m citydata.cli.spec_docs.reference            # write both files
    .venv/bin/python -m citydata.cli.spec_docs.reference --check    # exit 1 when a committed file is stale

Every field of every section: the base sections (citydata/spec/model.py), each source type
(connectors/sources/), the format options, and the later stages' sections (quality, publication,
labeling), whose models are imported here only when generating, never by the loader.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from citydata.cli.spec_docs.examples import EXAMPLES, SPEC_EXAMPLE
from citydata.settings import REPO_ROOT
from citydata.spec.columns import ADMIN_COLUMNS
from citydata.spec.fields import is_model, members
from citydata.spec.licenses import CKAN_LICENSES
from citydata.spec.model import DatasetSpec
from pipelines.spec_checks import SECTION_MODELS, section_model

REFERENCE_PATH = REPO_ROOT / "docs" / "spec-reference.md"
SCHEMA_PATH = REPO_ROOT / "datasets" / "spec.schema.json"
COMMAND = ".venv/bin/python -m citydata.cli.spec_docs.reference"
_SCALARS = {str: "text", int: "integer", float: "number", bool: "boolean", Path: "path"}


@dataclass
class Section:
    """A model documented once, with every place of the spec where it is used."""

    paths: list[str]  # 'source', 'schema.columns.<name>', 'quality.expectations[]'
    model: type[BaseModel]
    tag: str | None = None  # the `type` value selecting this model in a union

    @property
    def anchor(self) -> str:
        return self.model.__name__.lower()

    @property
    def title(self) -> str:
        return ", ".join(f"`{p}`" for p in self.paths) + (f" (type: `{self.tag}`)" if self.tag else "")


def field_annotation(model: type[BaseModel], name: str) -> Any:
    """The field's type; the later stages' dict sections are replaced by their models."""
    if model is DatasetSpec and name in SECTION_MODELS:
        return section_model(name)
    return model.model_fields[name].annotation


def _tag(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("type")
    literals = (
        [v for m in members(info.annotation) if get_origin(m) is Literal for v in get_args(m)] if info else []
    )
    return str(literals[0]) if len(literals) == 1 else None


def sections(root: type[BaseModel] = DatasetSpec) -> list[Section]:
    """Every model reachable from the spec, depth first in field order, each once."""
    found: list[Section] = [Section(["(top level)"], root)]
    seen = {root: found[0]}

    def visit(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            key = info.alias or name
            path = f"{prefix}.{key}" if prefix else key
            for inner, suffix in _inner_models(field_annotation(model, name)):
                if inner in seen:
                    seen[inner].paths.append(path + suffix)
                    continue
                union = len([m for m in members(field_annotation(model, name)) if is_model(m)]) > 1
                seen[inner] = Section([path + suffix], inner, _tag(inner) if union else None)
                found.append(seen[inner])
                visit(inner, path + suffix)

    visit(root, "")
    return found


def _inner_models(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    out: list[tuple[type[BaseModel], str]] = []
    for member in members(annotation):
        origin, args = get_origin(member), get_args(member)
        if is_model(member):
            out.append((member, ""))
        elif origin in (list, tuple) and args:
            out += [(m, "[]") for m, _ in _inner_models(args[0])]
        elif origin is dict and len(args) == 2:
            out += [(m, ".<name>") for m, _ in _inner_models(args[1])]
    return out


def type_name(annotation: Any, anchors: dict[type[BaseModel], Section]) -> str:
    """A short, readable type: 'text', 'list of text', `'vi' | 'en'`, a link to a section."""
    parts = []
    for member in members(annotation):
        origin, args = get_origin(member), get_args(member)
        if member is type(None):
            parts.append("null")
        elif origin is Literal:
            parts.append(" \\| ".join(f"`{v}`" for v in args))
        elif is_model(member):
            section = anchors[member]
            parts.append(f"[{section.title}](#{section.anchor})")
        elif origin in (list, tuple, set, frozenset) and args:
            parts.append(f"list of {type_name(args[0], anchors)}")
        elif origin is dict and len(args) == 2:
            parts.append(f"mapping of {type_name(args[0], anchors)} to {type_name(args[1], anchors)}")
        elif member is Any:
            parts.append("any")
        else:
            parts.append(_SCALARS.get(member, getattr(member, "__name__", str(member))))
    return " or ".join(parts)


def flow(value: Any) -> str:
    """A value as YAML would show it inline."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def default_text(model: type[BaseModel], name: str) -> str:
    info = model.model_fields[name]
    if info.default_factory is not None:
        return f"`{flow(info.default_factory())}`"  # type: ignore[call-arg]
    if info.default is PydanticUndefined:
        return "**required**"
    if isinstance(info.default, BaseModel):
        return "all defaults"
    return f"`{flow(info.default if not isinstance(info.default, Path) else str(info.default))}`"


def example_of(model: type[BaseModel], key: str) -> str:
    """The field's example value; fields holding a section show it in that section instead."""
    for example in EXAMPLES.get(model.__name__, []):
        if key in example:
            return f"`{flow(example[key])}`"
    return ""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _field_rows(model: type[BaseModel], anchors: dict[type[BaseModel], Section]) -> list[str]:
    rows = ["| field | type | default | description | example |", "|---|---|---|---|---|"]
    for name, info in model.model_fields.items():
        key = info.alias or name
        annotation = field_annotation(model, name)
        kind = type_name(annotation, anchors)
        description = info.description or ""
        if name == "type" and not description and _tag(model):
            description = f"Selects this kind: `{_tag(model)}`."
        if _inner_models(annotation):
            example = ""  # a section: see its own table
        else:
            example = example_of(model, key)
        if model is DatasetSpec and name in SECTION_MODELS:
            description += f" Defined by `{SECTION_MODELS[name].split(':')[0].replace('.', '/')}.py`."
        rows.append(
            f"| `{key}` | {_cell(kind)} | {_cell(default_text(model, name))} | {_cell(description)} "
            f"| {_cell(example)} |"
        )
    return rows


def _doc(model: type[BaseModel], root_of_section: bool) -> str:
    """The model's docstring; for a source type or a stage's section, else its module's first line."""
    doc = model.__doc__ or ""
    if doc.strip().startswith(("Usage docs", "!!!", "Base of every connector")) or model.__doc__ is None:
        doc = ""
    if not doc and root_of_section:
        doc = (sys.modules[model.__module__].__doc__ or "").strip().split("\n\n")[0]
    return " ".join(doc.split())


def _wrapped(path: str, example: dict[str, Any]) -> dict[str, Any]:
    """The example placed at its path in a spec: 'source' -> {source: example}."""
    value: Any = example
    for part in reversed(path.split(".")):
        value = {part: value}
    return value


def render_reference() -> str:
    """The whole of docs/spec-reference.md."""
    found = sections()
    anchors = {s.model: s for s in found}
    out = [
        "# Dataset spec reference",
        "",
        f"<!-- Generated from the models by `{COMMAND}`; do not edit by hand. -->",
        "",
        "One YAML file per dataset in `datasets/`, named `<id>.yaml`. Editors that read",
        "`# yaml-language-server: $schema=spec.schema.json` (first line of each sample spec) complete",
        "and check fields from [`datasets/spec.schema.json`](../datasets/spec.schema.json).",
        "",
        "- Errors name the file, the line and the field: "
        "`datasets/x.yaml:12: source.pth: unknown field; did you mean 'path'?`.",
        "- Relative paths (`source.path` of `local_file`) are relative to the spec's folder.",
        "- Secrets are references to environment variables: `env:AGENCY_TOKEN`.",
        "- Every column the spec names (`schema.primary_key`, quality expectations' `column`, "
        "`column_A`, `column_B`, `column_list`, `quality.drift.acknowledge`, `labeling.columns`, "
        "`labeling.id_column`, `labeling.sampling.column`, `labeling.baseline.column`) must be listed "
        "under `schema.columns` or added by cleaning; without `schema.columns` it is checked "
        "against the cleaned data. A column with `admin_unit` adds "
        + ", ".join(f"`{c}`" for c in ADMIN_COLUMNS)
        + " (`std_<name>` when the source has a column of that name); `pii: drop` removes a column.",
        "- `license`: one of CKAN 2.12's licence ids: "
        + ", ".join(f"`{k}` ({v})" for k, v in CKAN_LICENSES.items())
        + ".",
        "",
        "## Example",
        "",
        "```yaml",
        SPEC_EXAMPLE.strip(),
        "```",
    ]
    for section in found:
        out += ["", f'<a id="{section.anchor}"></a>', "", f"## {section.title}", ""]
        doc = _doc(section.model, section.tag is not None or "." not in section.paths[0])
        if doc:
            out += [doc, ""]
        out += _field_rows(section.model, anchors)
        if section.paths == ["source"]:  # a whole source section, ready to copy
            for example in EXAMPLES.get(section.model.__name__, []):
                text = yaml.safe_dump(_wrapped("source", example), sort_keys=False, allow_unicode=True)
                out += ["", "```yaml", text.rstrip(), "```"]
    return "\n".join(out) + "\n"


def full_example(model: type[BaseModel]) -> dict[str, Any]:
    """The model's first example, with required sections filled from their own examples."""
    example = dict(EXAMPLES.get(model.__name__, [{}])[0])
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in example or not info.is_required():
            continue
        inner = _inner_models(field_annotation(model, name))
        if inner:
            example[key] = full_example(inner[0][0])
    order = [info.alias or name for name, info in model.model_fields.items()]
    return {k: example[k] for k in order if k in example}


def _write_or_check(path: Path, text: str, check: bool) -> bool:
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current == text:
        return True
    if check:
        print(f"{path.relative_to(REPO_ROOT)} is out of date; run `{COMMAND}`", file=sys.stderr)
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(REPO_ROOT)}")
    return True


def main(argv: list[str] | None = None) -> int:
    from citydata.cli.spec_docs.schema_file import render_schema

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a committed file differs")
    args = parser.parse_args(argv)
    ok = _write_or_check(REFERENCE_PATH, render_reference(), args.check)
    ok = _write_or_check(SCHEMA_PATH, render_schema(), args.check) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
