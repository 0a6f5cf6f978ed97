"""The draft as a commented YAML file: block sections, one flow line per column and argument set.

Comments say what was detected and how sure; ``# TODO`` marks what the agency must fill in. Values
are written by PyYAML (quoting, dates, Unicode as is), so what is read back is what was meant.
"""

from __future__ import annotations

from typing import Any

import yaml

from pipelines.draft.infer import Draft, Path_

_BLOCK: set[Path_] = {("schema", "columns")}  # mappings written one key per line below this depth


def flow(value: Any) -> str:
    """One value in YAML flow style on one line."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=1 << 20)
    return text.removesuffix("\n...\n").strip()


def _commented(draft: Draft, path: Path_) -> bool:
    """A comment sits on a key below ``path``: that mapping must be written one key per line."""
    n = len(path)
    return any(len(k) > n and k[:n] == path for k in (*draft.inline, *draft.above))


def _block(draft: Draft, path: Path_, value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, dict) for v in value)
    return (
        isinstance(value, dict)
        and bool(value)
        and (len(path) < 2 or path in _BLOCK or _commented(draft, path))
    )


def _emit(draft: Draft, path: Path_, value: Any, indent: int, lead: str, out: list[str]) -> None:
    """``key: value`` at ``path``; ``lead`` is the text before the key ("- " for a list item)."""
    pad = " " * indent
    for line in draft.above.get(path, []):
        out.append(f"{pad}# {line}")
    key = flow(path[-1])
    note = draft.inline.get(path)
    tail = f"  # {note}" if note else ""
    if not _block(draft, path, value):
        out.append(f"{pad}{lead}{key}: {flow(value)}{tail}")
        return
    out.append(f"{pad}{lead}{key}:{tail}")
    if isinstance(value, dict):
        for k, v in value.items():
            _emit(draft, (*path, k), v, indent + 2, "", out)
        return
    for i, item in enumerate(value):
        for j, (k, v) in enumerate(item.items()):
            # the first key of an item follows its "- "; the others line up under it
            _emit(draft, (*path, i, k), v, indent + 2, "- " if j == 0 else "  ", out)


def render(draft: Draft, schema_ref: str) -> str:
    """The spec file's text; ``schema_ref``: datasets/spec.schema.json relative to the file."""
    out = [f"# yaml-language-server: $schema={schema_ref}", *draft.header]
    for key, value in draft.data.items():
        _emit(draft, (key,), value, 0, "", out)
    return "\n".join(out) + "\n"
