"""What the spec models accept at a location, and paths made relative to the spec's folder.

`accepted_fields` walks the models along a pydantic error location (discriminator tags select the
source type the author chose) so an unknown key can be answered with "did you mean 'path'?".
`rebase_paths` makes every `Path`-typed field of a loaded spec absolute against the folder of
its file: a model declares a field as a file path by typing it `pathlib.Path` (local_file's
`path`); absolute paths, `~` paths and URLs are kept as written.
"""

from __future__ import annotations

import difflib
import re
import types
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel

from citydata.spec.columns import Loc

M = TypeVar("M", bound=BaseModel)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")  # s3:/..., https:/... (Path folds '//')


def members(annotation: Any) -> list[Any]:
    """The alternatives of an annotation: Annotated and Optional/Union unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return members(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return [m for a in get_args(annotation) for m in members(a)]
    return [annotation]


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def field_names(model: type[BaseModel]) -> list[str]:
    """Names a spec author may write for the model's fields: aliases (`schema`) where set."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _field(model: type[BaseModel], key: str) -> Any | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _tag_values(model: type[BaseModel]) -> tuple[Any, ...]:
    info = model.model_fields.get("type")
    if info is None:
        return ()
    return tuple(v for m in members(info.annotation) if get_origin(m) is Literal for v in get_args(m))


def _step(annotation: Any, part: str | int) -> list[Any]:
    out: list[Any] = []
    options = members(annotation)
    tagged = [m for m in options if is_model(m) and part in _tag_values(m)]
    if tagged:  # a discriminator tag in the location: the union member the author chose
        return tagged
    for member in options:
        origin, args = get_origin(member), get_args(member)
        if is_model(member) and isinstance(part, str):
            found = _field(member, part)
            if found is not None:
                out.append(found)
        elif origin in (list, tuple, set, frozenset) and isinstance(part, int) and args:
            out.append(args[0])
        elif origin is dict and isinstance(part, str) and len(args) == 2:
            out.append(args[1])
    return out


def models_at(root: Any, loc: Loc) -> list[type[BaseModel]]:
    """The models that may sit at `loc` (a location of a mapping) under `root`."""
    candidates = [root]
    for part in loc:
        candidates = [a for c in candidates for a in _step(c, part)]
    return [m for c in candidates for m in members(c) if is_model(m)]


def accepted_names(root: Any, parent_loc: Loc) -> list[str]:
    """Every key the models at `parent_loc` accept."""
    return sorted({n for m in models_at(root, parent_loc) for n in field_names(m)})


def closest_field(root: Any, parent_loc: Loc, key: str) -> str | None:
    """The accepted key `key` was most likely meant to be, if one is close enough."""
    close = difflib.get_close_matches(key, accepted_names(root, parent_loc), n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_field_message(root: Any, parent_loc: Loc, key: str) -> str:
    """'unknown field; did you mean 'path'?' (or the accepted names when nothing is close)."""
    names = accepted_names(root, parent_loc)
    if not names:
        return "unknown field"
    close = closest_field(root, parent_loc, key)
    if close:
        return f"unknown field; did you mean {close!r}?"
    return f"unknown field (expected one of: {', '.join(names)})"


def _rebase(value: Any, base: Path) -> Any:
    if isinstance(value, Path):
        text = str(value)
        if value.is_absolute() or _URL.match(text):
            return value
        if text.startswith("~"):
            return value.expanduser()
        return base / value
    if isinstance(value, BaseModel):
        return rebase_paths(value, base)
    if isinstance(value, list | tuple):
        items = [_rebase(v, base) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else type(value)(items)
    if isinstance(value, dict):
        new = {k: _rebase(v, base) for k, v in value.items()}
        return value if all(new[k] is v for k, v in value.items()) else new
    return value


def rebase_paths(model: M, base: Path) -> M:
    """The model with each relative `Path` field (at any depth) joined to `base`."""
    updates = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        new = _rebase(value, base)
        if new is not value:
            updates[name] = new
    return model.model_copy(update=updates) if updates else model
