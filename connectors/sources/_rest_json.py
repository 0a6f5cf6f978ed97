"""JSON as a REST source serves it: numbers kept exactly as written, dotted paths into pages,
watermark comparison (`connectors/sources/rest_api.py`)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

MISSING = object()  # what `dig` returns for an absent path


def dig(value: Any, path: str | None) -> Any:
    """The value at a dotted path ("data.items", "results.0.id"); `MISSING` when absent."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, dict):
            if part not in value:
                return MISSING
            value = value[part]
        elif isinstance(value, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            if not -len(value) <= index < len(value):
                return MISSING
            value = value[index]
        else:
            return MISSING
    return value


def records_of(body: Any, path: str | None) -> list[Any]:
    """The record list of a page; ValueError says what is there instead."""
    found = dig(body, path)
    if found is MISSING:
        raise ValueError(f"records_path {path!r} not found in the response")
    if found is None:
        return []
    if not isinstance(found, list):
        where = f"records_path {path!r}" if path else "the response (set records_path)"
        raise ValueError(f"{where} is a {type(found).__name__}, not a list of records")
    return found


def param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def later(a: Any, b: Any) -> bool:
    """Whether `a` is after `b`: numbers numerically, anything else as text (ISO dates sort)."""
    x, y = _as_number(a), _as_number(b)
    if x is not None and y is not None:
        try:
            return x > y
        except ArithmeticError:  # NaN
            return False
    return str(a) > str(b)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, Number):
        return Decimal(str(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(value)
    return None


class Number(str):
    """A JSON number with a fraction or exponent, kept as written ("1.50", "1e-7")."""

    __slots__ = ()


def loads(data: bytes | str) -> Any:
    """Parse JSON keeping non-integer numbers exactly as written (as `Number`)."""
    return json.loads(data, parse_float=Number)


def dumps(value: Any, sort_keys: bool = False) -> str:
    """Compact JSON (UTF-8 text, not \\u escapes) writing `Number`s exactly as they were read."""
    out: list[str] = []
    _encode(value, out, sort_keys)
    return "".join(out)


def _encode(value: Any, out: list[str], sort_keys: bool) -> None:
    if isinstance(value, Number):
        out.append(str.__str__(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        out.append("{")
        items = sorted(value.items()) if sort_keys else value.items()
        for i, (key, item) in enumerate(items):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _encode(item, out, sort_keys)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out, sort_keys)
        out.append("]")
    else:  # int, bool, None, float (NaN/Infinity as Python's json writes them)
        out.append(json.dumps(value))


def state_value(value: Any) -> Any:
    """An incremental value as plain JSON for the state (a `Number` becomes an int or float)."""
    if isinstance(value, Number):
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() and "." not in value else float(number)
    return value
