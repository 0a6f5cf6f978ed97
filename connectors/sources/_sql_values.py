"""Database values as JSON, and the kind of each column (internal to the SQL connector)."""

from __future__ import annotations

import base64
import json
import math
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from connectors.formats.base import COLUMN_KINDS_HEADER as KINDS_HEADER

__all__ = ["KINDS_HEADER", "ColumnKinds", "decode_watermark", "encode_watermark", "json_value", "value_kind"]


def value_kind(value: Any) -> str:
    """The kind the driver's value has: number, boolean, date, datetime, string or other."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, str | uuid.UUID):
        return "string"
    return "other"


class ColumnKinds:
    """The kinds seen per column; a column with one kind only is declared in the object's header."""

    def __init__(self) -> None:
        self._seen: dict[str, set[str]] = {}

    def add(self, row: dict[str, Any], values: tuple[Any, ...]) -> None:
        for key, value in zip(row, values, strict=True):
            if value is not None:
                self._seen.setdefault(key, set()).add(value_kind(value))

    def header(self) -> str:
        kinds = {k: next(iter(v)) for k, v in self._seen.items() if len(v) == 1}
        return json.dumps(kinds, ensure_ascii=False, separators=(",", ":"))


def iso_duration(value: timedelta) -> str:
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    seconds = value.seconds + value.microseconds / 1_000_000
    text = f"{seconds:.6f}".rstrip("0").rstrip(".")
    return f"{sign}P{value.days}DT{text}S"


def json_value(value: Any) -> Any:
    """A database value as a JSON-ready value (see the module docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Enum):
        return json_value(value.value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(v) for v in value]
    return str(value)


def encode_watermark(value: Any) -> dict[str, Any]:
    """A watermark as JSON state that keeps its type (so the next comparison binds correctly)."""
    if isinstance(value, datetime):
        return {"type": "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {"type": "date", "value": value.isoformat()}
    if isinstance(value, time):
        return {"type": "time", "value": value.isoformat()}
    if isinstance(value, Decimal):
        return {"type": "decimal", "value": str(value)}
    if isinstance(value, bool):
        return {"type": "str", "value": str(value)}
    if isinstance(value, int):
        return {"type": "int", "value": value}
    if isinstance(value, float):
        return {"type": "float", "value": value}
    return {"type": "str", "value": str(value)}


def decode_watermark(state: dict[str, Any]) -> Any:
    kind, value = state["type"], state["value"]
    decoders: dict[str, Any] = {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "time": time.fromisoformat,
        "decimal": Decimal,
        "int": int,
        "float": float,
        "str": str,
    }
    if kind not in decoders:
        raise ValueError(f"unknown watermark type {kind!r}")
    return decoders[kind](value)
