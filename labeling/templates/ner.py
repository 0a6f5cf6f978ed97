"""Span labeling / named entities over one text column (Labels)."""

from __future__ import annotations

import json
from typing import Any

from labeling.templates._xml import attr, header, label_tags, plain

TASK_TYPE = "ner"
FROM_NAME = "label"
TO_NAME = "text"


def render(lab: Any) -> str:
    labels = label_tags(lab, "Label")
    return (
        f'<View>\n{header(lab)}  <Labels name="{FROM_NAME}" toName="{TO_NAME}">{labels}\n  </Labels>\n'
        f"  <Text name={attr(TO_NAME)} value={attr('$' + lab.main_column)}/>\n</View>\n"
    )


def check(lab: Any) -> list[str]:
    return []


def task_data(row: dict[str, Any], lab: Any) -> dict[str, Any]:
    return {c: plain(row.get(c)) for c in lab.columns}


def spans(result: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    out = []
    for item in result:
        value = item.get("value", {})
        if item.get("type") == "labels" and value.get("labels"):
            out.append((int(value["start"]), int(value["end"]), str(value["labels"][0])))
    return sorted(out)


def extract(result: list[dict[str, Any]]) -> str | None:
    return json.dumps([list(s) for s in spans(result)], ensure_ascii=False)


def to_result(label: str, lab: Any) -> list[dict[str, Any]]:
    return []  # no span baseline
