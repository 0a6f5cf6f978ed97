"""Helpers shared by templates."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import quoteattr


def attr(value: str) -> str:
    return quoteattr(value)


def header(lab: Any) -> str:
    """The Vietnamese instructions as a line above the task (never a popup)."""
    text = lab.instructions_vi
    return f"  <Header value={attr(text)}/>\n" if text else ""


def label_attrs(lab: Any, label_id: str) -> str:
    """A <Choice>/<Label>'s attributes: Label Studio shows `value` (the Vietnamese name) and stores
    `alias` (the label id) in annotation results; `hint` (the English name) shows on hover."""
    name = lab.label_name(label_id)
    out = f"value={attr(name)}"
    if name != label_id:
        out += f" alias={attr(label_id)}"
    hint = lab.label_hint(label_id)
    return out + (f" hint={attr(hint)}" if hint else "")


def label_tags(lab: Any, tag: str) -> str:
    """One `<tag .../>` per label, each on its own indented line."""
    return "".join(f"\n    <{tag} {label_attrs(lab, label_id)}/>" for label_id in lab.label_ids)


def plain(value: Any) -> Any:
    """A JSON-safe task value."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value
