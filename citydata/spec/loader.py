"""Load and validate dataset specs; every error names the file, the line, the field and what to do.

Problems read `datasets/x.yaml:12: source.pth: unknown field; did you mean 'path'?`. Relative
paths in a spec (fields typed `Path`, e.g. local_file's `path`) are relative to the spec's folder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from citydata.spec.columns import format_loc, spec_column_problems
from citydata.spec.fields import closest_field, rebase_paths, unknown_field_message
from citydata.spec.locate import YamlIndex, display_path, parse_loc, split_problem
from citydata.spec.model import DatasetSpec
from citydata.spec.sources import require_sources


@dataclass(frozen=True)
class Problem:
    """One problem: the field path ('' for the whole file), what is wrong, the file's line."""

    field: str
    message: str
    line: int | None = None

    def render(self, path: Path) -> str:
        where = display_path(path) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class SpecError(ValueError):
    """A spec file is invalid; `problems` are 'file:line: field.path: message' lines.

    Problems may be given as `Problem`s or as 'field.path: message' strings (the stages' own
    checks, see `pipelines.spec_checks`): the line of the field is then looked up in the file.
    """

    def __init__(self, path: Path, problems: Sequence[str | Problem]) -> None:
        self.path = path
        index: YamlIndex | None = None
        details = []
        for item in problems:
            problem = item if isinstance(item, Problem) else _parse_problem(path, item)
            if problem.line is None and problem.field:
                index = index or YamlIndex.of_file(path)
                problem = Problem(problem.field, problem.message, index.locate(parse_loc(problem.field))[1])
            details.append(problem)
        self.details: list[Problem] = details
        self.problems: list[str] = [p.render(path) for p in details]
        super().__init__("; ".join(self.problems))


def _parse_problem(path: Path, text: str) -> Problem:
    rendered = re.match(rf"^{re.escape(display_path(path))}(?::(\d+))?: (.*)$", text, re.S)
    if rendered:  # already 'file:line: ...' (a SpecError's problems given again)
        line, text = (int(rendered.group(1)) if rendered.group(1) else None), rendered.group(2)
        parts = split_problem(text)
        return Problem(parts[0], parts[1], line) if parts else Problem("", text, line)
    parts = split_problem(text)
    return Problem(parts[0], parts[1]) if parts else Problem("", text)


def _validation_problems(exc: ValidationError, index: YamlIndex) -> list[Problem]:
    """One problem per field, in file order; a missing field a misspelt key stands for is left out."""
    merged: dict[tuple[str, int | None], list[str]] = {}
    errors = exc.errors()
    suggested = {
        (*err["loc"][:-1], closest_field(DatasetSpec, err["loc"][:-1], str(err["loc"][-1])))
        for err in errors
        if err["type"] == "extra_forbidden"
    }
    for err in errors:
        loc = tuple(err["loc"])
        clean, line = index.locate(loc)
        if err["type"] == "missing" and loc in suggested:
            continue  # "pth: did you mean 'path'?" says it; "path: Field required" would repeat it
        if err["type"] == "extra_forbidden":
            message = unknown_field_message(DatasetSpec, loc[:-1], str(loc[-1]))
        else:
            message = err["msg"].removeprefix("Value error, ")  # our validators' own words
            if err["type"] not in ("missing", "value_error") and "input" in err:
                shown = repr(err["input"])
                message += f" (got {shown[:80]}{'…' if len(shown) > 80 else ''})"
        messages = merged.setdefault((format_loc(clean), line), [])
        if message not in messages:  # union members repeat the same complaint
            messages.append(message)
    problems = [Problem(field, " or ".join(messages), line) for (field, line), messages in merged.items()]
    return sorted(problems, key=lambda p: p.line or 0)


def _read(path: Path) -> tuple[dict[str, object], YamlIndex]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, [Problem("", f"cannot read file: {exc}")]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(path, [Problem("", f"invalid YAML: {exc}", mark.line + 1 if mark else None)]) from exc
    if not isinstance(data, dict):
        raise SpecError(path, [Problem("", "the file must hold a mapping of spec fields (key: value lines)")])
    return data, YamlIndex.of_text(text)


def load_spec(path: Path) -> DatasetSpec:
    """The validated spec in `path` (named `<id>.yaml`); raises SpecError listing every problem."""
    require_sources()
    data, index = _read(path)
    try:
        spec = DatasetSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(path, _validation_problems(exc, index)) from exc
    problems = [
        Problem(format_loc(clean), message, line)
        for loc, message in spec_column_problems(spec)
        for clean, line in [index.locate(loc)]
    ]
    if spec.id != path.stem:
        message = f"must match the file name ({path.stem!r}), got {spec.id!r}; rename the file or the id"
        problems.insert(0, Problem("id", message, index.locate(("id",))[1]))
    if problems:
        raise SpecError(path, problems)
    # relative paths mean the spec's folder, whatever folder the command runs from
    return rebase_paths(spec, path.absolute().parent)


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


def resolve_spec(arg: str) -> tuple[DatasetSpec, Path]:
    """A spec by id (looked up in `settings.specs_dir`) or by path to a `.yaml`/`.yml` file.

    Raises `SpecError` when nothing matches or the spec is invalid.
    """
    from citydata.settings import load_settings  # settings read only when an id is looked up

    candidate = Path(arg).expanduser()
    if candidate.suffix in (".yaml", ".yml") or "/" in arg or candidate.is_file():
        if not candidate.is_file():
            raise SpecError(candidate, [Problem("", "no such spec file")])
        return load_spec(candidate), candidate
    specs_dir = load_settings().specs_dir
    for suffix in (".yaml", ".yml"):
        path = specs_dir / f"{arg}{suffix}"
        # an id never escapes the specs folder (`..`, symlinks out of it)
        if path.is_file() and path.resolve().parent == specs_dir.resolve():
            return load_spec(path), path
    message = f"no dataset spec {arg!r} here (give an id of a spec in this folder or a path to a .yaml file)"
    raise SpecError(specs_dir, [Problem("", message)])
