"""Image bounding boxes (RectangleLabels). The first column holds the image's key in the labeling bucket."""

from __future__ import annotations

import json
from typing import Any

from labeling.templates._xml import attr, header, label_tags

TASK_TYPE = "image_bbox"
FROM_NAME = "label"
TO_NAME = "image"


def render(lab: Any) -> str:
    labels = label_tags(lab, "Label")
    return (
        f"<View>\n{header(lab)}  <Image name={attr(TO_NAME)} value={attr('$' + lab.main_column)}/>\n"
        f'  <RectangleLabels name="{FROM_NAME}" toName="{TO_NAME}">{labels}\n  </RectangleLabels>\n</View>\n'
    )


def check(lab: Any) -> list[str]:
    return [] if len(lab.columns) == 1 else ["image_bbox takes exactly one column (the image key)"]


def task_data(row: dict[str, Any], lab: Any, bucket: str = "") -> dict[str, Any]:
    key = str(row.get(lab.main_column) or "").lstrip("/")
    return {lab.main_column: key if key.startswith("s3://") else f"s3://{bucket}/{key}"}


def extract(result: list[dict[str, Any]]) -> str | None:
    boxes = []
    for item in result:
        v = item.get("value", {})
        if item.get("type") == "rectanglelabels" and v.get("rectanglelabels"):
            boxes.append([v.get("x"), v.get("y"), v.get("width"), v.get("height"), v["rectanglelabels"][0]])
    return json.dumps(boxes, ensure_ascii=False)


def to_result(label: str, lab: Any) -> list[dict[str, Any]]:
    return []


def from_value(value: Any, lab: Any) -> tuple[list[dict[str, Any]], float] | None:
    """A column's ready-made boxes as a prediction: a JSON list of {x, y, width, height, label[, score]}
    in percent of the image (Label Studio's unit). Score: the lowest box score (1.0 when absent)."""
    boxes = json.loads(value) if isinstance(value, str) else value
    if not boxes:
        return None
    result, scores = [], []
    for box in boxes:
        if box["label"] not in lab.label_ids:
            raise ValueError(f"pre-annotation label {box['label']!r} is not in labeling.labels")
        score = float(box.get("score", 1.0))
        scores.append(score)
        geometry = {k: float(box[k]) for k in ("x", "y", "width", "height")}
        result.append(
            {
                "from_name": FROM_NAME,
                "to_name": TO_NAME,
                "type": "rectanglelabels",
                "score": score,
                "value": {**geometry, "rotation": 0, "rectanglelabels": [box["label"]]},
            }
        )
    return result, min(scores)
