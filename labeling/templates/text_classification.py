"""Text classification: one label per text (Choices)."""

from __future__ import annotations

from typing import Any

from labeling.templates._xml import attr, header, label_tags, plain

TASK_TYPE = "text_classification"
FROM_NAME = "label"
TO_NAME = "text"


def render(lab: Any) -> str:
    choices = label_tags(lab, "Choice")
    extra = "".join(f'\n  <Text name="col_{c}" value="${c}"/>' for c in lab.columns[1:])
    return (
        f"<View>\n{header(lab)}  <Text name={attr(TO_NAME)} value={attr('$' + lab.main_column)}/>{extra}\n"
        f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="single" showInline="true">{choices}\n'
        "  </Choices>\n</View>\n"
    )


def check(lab: Any) -> list[str]:
    return []


def task_data(row: dict[str, Any], lab: Any) -> dict[str, Any]:
    return {c: plain(row.get(c)) for c in lab.columns}


def extract(result: list[dict[str, Any]]) -> str | None:
    for item in result:
        if item.get("type") == "choices" and item.get("value", {}).get("choices"):
            return str(item["value"]["choices"][0])
    return None


def to_result(label: str, lab: Any) -> list[dict[str, Any]]:
    return [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [label]}}]
