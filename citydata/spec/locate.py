"""Where a field is in a spec file: pydantic error locations mapped to YAML lines.

PyYAML's composed node tree keeps each key's position (`start_mark.line`), so the loader parses
the file once as nodes and walks them along an error's location. Pydantic inserts tags that are
not keys in the file (the discriminator `http_file` in `source.http_file.url`, union members such
as `str` / `int`); the walk drops them, so the field shown is the one the author wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from citydata.spec.columns import Loc

_LOC_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")
# 'quality.expectations[0].args.column: message' (a field path, then ': ')
_FIELD_LINE = re.compile(r"^((?:[A-Za-z_][\w$-]*|\(top level\))(?:\.[\w$-]+|\[\d+\])*): (.*)$", re.S)


def parse_loc(field: str) -> Loc:
    """'quality.expectations[0].args' -> ('quality', 'expectations', 0, 'args')."""
    if field == "(top level)":
        return ()
    return tuple(int(i) if i else name for i, name in _LOC_PART.findall(field))


def split_problem(text: str) -> tuple[str, str] | None:
    """('field.path', 'message') of a 'field.path: message' line, or None for other text."""
    match = _FIELD_LINE.match(text)
    return (match.group(1), match.group(2)) if match else None


def display_path(path: Path) -> str:
    """The path as an author would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def _key(node: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == name:
            return key, value
    return None


class YamlIndex:
    """The node tree of one YAML text, to find the line of a location."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    @classmethod
    def of_text(cls, text: str) -> YamlIndex:
        try:
            return cls(yaml.compose(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError:
            return cls(None)  # the loader reports the YAML error itself, with its position

    @classmethod
    def of_file(cls, path: Path) -> YamlIndex:
        try:
            return cls.of_text(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            return cls(None)

    def locate(self, loc: Loc) -> tuple[Loc, int | None]:
        """(the location without pydantic's tags, the 1-based line of its deepest part in the file).

        A part missing from the file (a required field not given) keeps the line of its parent.
        """
        node, line, clean = self.root, None, []
        if node is not None:
            line = node.start_mark.line + 1
        for i, part in enumerate(loc):
            nxt = loc[i + 1] if i + 1 < len(loc) else None
            if isinstance(node, yaml.MappingNode):
                found = _key(node, str(part))
                if found is not None:
                    clean.append(part)
                    line, node = found[0].start_mark.line + 1, found[1]
                    continue
                tag = _key(node, "type")
                is_tag = tag is not None and isinstance(tag[1], yaml.ScalarNode) and tag[1].value == part
                if is_tag or (isinstance(nxt, str) and _key(node, nxt) is not None):
                    continue  # a discriminator or union tag pydantic inserted
                clean.append(part)
                node = None
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                clean.append(part)
                node = node.value[part]
                line = node.start_mark.line + 1
            elif isinstance(node, yaml.ScalarNode):
                break  # the rest are union member tags ('str', 'int') under a scalar value
            else:
                clean.append(part)
                node = None
        return tuple(clean), line
