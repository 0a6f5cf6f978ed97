"""Verification of tabular records: show the record's columns, choose a verdict (the labels)."""

from __future__ import annotations

from typing import Any

from labeling.templates._xml import attr, header, label_tags, plain

TASK_TYPE = "record_verification"
FROM_NAME = "verdict"


def render(lab: Any) -> str:
    fields = "".join(
        f'\n  <Header value={attr(c)} size="6"/>\n  <Text name="col_{c}" value="${c}"/>' for c in lab.columns
    )
    choices = label_tags(lab, "Choice")
    return (
        f"<View>\n{header(lab)}{fields.lstrip(chr(10))}\n"
        f'  <Choices name="{FROM_NAME}" toName="col_{lab.main_column}" choice="single">{choices}\n'
        '  </Choices>\n  <TextArea name="comment" toName="col_' + lab.main_column + '" maxSubmissions="1"/>\n'
        "</View>\n"
    )


def check(lab: Any) -> list[str]:
    return []


def task_data(row: dict[str, Any], lab: Any) -> dict[str, Any]:
    return {c: "" if row.get(c) is None else str(plain(row.get(c))) for c in lab.columns}


def extract(result: list[dict[str, Any]]) -> str | None:
    for item in result:
        if item.get("from_name") == FROM_NAME and item.get("value", {}).get("choices"):
            return str(item["value"]["choices"][0])
    return None


def to_result(label: str, lab: Any) -> list[dict[str, Any]]:
    return [
        {
            "from_name": FROM_NAME,
            "to_name": f"col_{lab.main_column}",
            "type": "choices",
            "value": {"choices": [label]},
        }
    ]
