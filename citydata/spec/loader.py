"""Load and validate dataset specs; every error names the file, the field and what is expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from citydata.spec.model import DatasetSpec
from connectors.registry import connector_classes


class SpecError(ValueError):
    """A spec file is invalid; `problems` are 'field.path: message' lines."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif parts == ["source"] and item in connector_classes():
            continue  # the discriminator tag pydantic inserts: `source.http_file.url` -> `source.url`
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _problems(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        where = _field_path(err["loc"])
        message = err["msg"]
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err:
            shown = repr(err["input"])
            message += f" (got {shown[:80]}{'…' if len(shown) > 80 else ''})"
        if err["type"] == "extra_forbidden":
            message = "unknown field (check the spelling against the spec reference)"
        out.append(f"{where}: {message}")
    return out


def load_spec(path: Path) -> DatasetSpec:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, [f"cannot read file: {exc}"]) from exc
    except yaml.YAMLError as exc:
        raise SpecError(path, [f"invalid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise SpecError(path, ["the file must hold a mapping of spec fields"])
    try:
        spec = DatasetSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _problems(exc)) from exc
    if spec.id != path.stem:
        raise SpecError(path, [f"id: must match the file name ({path.stem!r}), got {spec.id!r}"])
    return spec


@dataclass
class LoadedSpecs:
    specs: dict[str, DatasetSpec]
    paths: dict[str, Path]
    errors: list[SpecError]


def load_specs(directory: Path) -> LoadedSpecs:
    """Every `*.yaml` spec in a folder; invalid ones are reported, the others still load."""
    result = LoadedSpecs({}, {}, [])
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            spec = load_spec(path)
        except SpecError as exc:
            result.errors.append(exc)
            continue
        result.specs[spec.id] = spec
        result.paths[spec.id] = path
    return result
