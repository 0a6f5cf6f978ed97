"""Routing tasks to review in Label Studio: the tasks `labeling.gold.review_keys` names carry the data
field `can_xem_lai` ("có"), and the project's "Cần xem lại" tab lists exactly those (a data-manager
filter on that field). A task that no longer needs review loses the field. Only tasks whose flag
changes are written."""

from __future__ import annotations

from typing import Any

from labeling.client import LabelStudio

REVIEW_FIELD = "can_xem_lai"
REVIEW_VALUE = "có"
REVIEW_VIEW = "Cần xem lại"


def review_filter() -> dict[str, Any]:
    return {
        "conjunction": "and",
        "items": [
            {"filter": f"filter:tasks:data.{REVIEW_FIELD}", "operator": "equal", "type": "String",
             "value": REVIEW_VALUE}
        ],
    }  # fmt: skip


def ensure_review_view(ls: LabelStudio, project: int) -> int:
    """The "Cần xem lại" tab's id (created once)."""
    views = ls._request("GET", "/api/dm/views/", params={"project": project}) or []
    for view in views:
        if (view.get("data") or {}).get("title") == REVIEW_VIEW:
            return int(view["id"])
    data = {"title": REVIEW_VIEW, "filters": review_filter()}
    made = ls._request("POST", "/api/dm/views/", json={"project": project, "data": data})
    return int(made["id"])


def route_for_review(ls: LabelStudio, project: int, export: list[dict[str, Any]], review: set[str]) -> int:
    """Flag the tasks whose key is in `review`, unflag the others; returns how many tasks changed."""
    changed = 0
    for task in export:
        data = dict(task.get("data") or {})
        wanted = str(data.get("task_key")) in review
        if (data.get(REVIEW_FIELD) == REVIEW_VALUE) == wanted:
            continue
        data.pop(REVIEW_FIELD, None)
        if wanted:
            data[REVIEW_FIELD] = REVIEW_VALUE
        ls._request("PATCH", f"/api/tasks/{task['id']}/", json={"data": data})
        changed += 1
    ensure_review_view(ls, project)
    return changed
