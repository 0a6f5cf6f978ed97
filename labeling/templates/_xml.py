"""Helpers shared by templates."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr


def attr(value: str) -> str:
    return quoteattr(value)


def header(lab: Any) -> str:
    return f"  <Header value={attr(lab.instructions)}/>\n" if lab.instructions else ""


def plain(value: Any) -> Any:
    """A JSON-safe task value."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
