"""A dataset's Label Studio project: title, description, instructions, data-manager tab.

The title is the dataset's Vietnamese title (Label Studio allows 3-50 characters: a longer title
loses a trailing "(…)" first, then is cut at a word with "…"). Titles are not unique, so the
project is found by its stable key instead: first the `project_id` in the lake's labeling state,
then the description, whose first word is `citydata:<dataset-id>` (projects made before titles
were Vietnamese are titled with that key and are found by it, then renamed).

Instructions are the project's `expert_instruction` (Vietnamese, then English) with
`show_instruction` off: annotators open them from the labeling screen, no popup blocks the task.
Task data keeps the pipeline's keys (`task_key`, `row_id`, `pull_id`, `dataset`); every tab of the
data manager hides them, and a project without tabs gets one that does.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import state_key
from labeling.client import LabelStudio
from labeling.spec import LabelingSpec, parse_labeling
from labeling.templates import get_template

TITLE_MIN, TITLE_MAX = 3, 50  # Label Studio 1.23: PROJECT_TITLE_MIN_LEN / PROJECT_TITLE_MAX_LEN
INTERNAL_COLUMNS = ("task_key", "row_id", "pull_id", "dataset")
VIEW_TITLE = "Nhiệm vụ"
MODES = ("explore", "labeling")


def project_key(spec: DatasetSpec) -> str:
    """The project's stable key: `citydata:<dataset-id>`."""
    return f"citydata:{spec.id}"


def project_title(spec: DatasetSpec) -> str:
    """The dataset's Vietnamese title, fitted to Label Studio's 50 characters."""
    return fit_title(spec.title.vi, fallback=project_key(spec))


def fit_title(title: str, *, fallback: str, limit: int = TITLE_MAX) -> str:
    text = " ".join(title.split())
    if len(text) > limit:
        text = re.sub(r"\s*\([^()]*\)$", "", text) or text  # drop a trailing "(…)" first
    if len(text) > limit:
        cut = text[: limit - 1]
        cut = cut.rsplit(" ", 1)[0] if " " in cut else cut
        text = cut.rstrip(" ,;:-–—") + "…"
    return text if len(text) >= TITLE_MIN else fallback[:limit]


def project_description(spec: DatasetSpec) -> str:
    """Starts with the stable key (how the project is found again), then the full title and agency."""
    return f"{project_key(spec)} · {spec.title.vi} · {spec.agency.title.vi}"


def expert_instruction(lab: LabelingSpec) -> str:
    """The instructions as HTML: Vietnamese, then English when given."""
    parts = [f"<p>{escape(lab.instructions_vi)}</p>"] if lab.instructions_vi else []
    if lab.instructions_en:
        parts.append(f'<p lang="en"><i>{escape(lab.instructions_en)}</i></p>')
    return "".join(parts)


def _is_ours(project: dict[str, Any], key: str) -> bool:
    words = str(project.get("description") or "").split()
    return (bool(words) and words[0] == key) or project.get("title") == key


def find_project_id(ls: LabelStudio, state: dict[str, Any], spec: DatasetSpec) -> int | None:
    """The project's id: the one in the labeling state if it still exists, else the one whose
    description starts with the key (or, made before, whose title is the key)."""
    from label_studio_sdk.core.api_error import ApiError

    pid = state.get("project_id")
    if pid:
        try:
            ls.call("get project", lambda: ls.sdk.projects.get(id=pid))
            return int(pid)
        except ApiError as exc:
            if exc.status_code != 404:
                raise
    key = project_key(spec)
    found = [p for p in ls.iter_projects() if _is_ours(p, key)]
    return min(int(p["id"]) for p in found) if found else None


def project_settings(spec: DatasetSpec, lab: LabelingSpec) -> dict[str, Any]:
    """Everything the spec decides about the project (set on creation and on every push)."""
    return {
        "title": project_title(spec),
        "description": project_description(spec),
        "label_config": get_template(lab.task_type).render(lab),
        "maximum_annotations": lab.overlap,
        "expert_instruction": expert_instruction(lab),
        "show_instruction": False,
    }


def ensure_project(ls: LabelStudio, state: dict[str, Any], spec: DatasetSpec, lab: LabelingSpec) -> int:
    """Find or create the project, bring its settings and tabs in line with the spec; its id."""
    settings = project_settings(spec, lab)
    pid = find_project_id(ls, state, spec)
    if pid is None:
        project = ls.call("create project", lambda: ls.sdk.projects.create(**settings))
        assert project.id is not None
        pid = int(project.id)
    else:
        found = pid
        ls.call("update project", lambda: ls.sdk.projects.update(id=found, **settings))
    ensure_views(ls, pid)
    return pid


def hidden_columns(columns: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Label Studio's default hidden columns (from /api/dm/columns) plus the internal task keys."""
    hidden: dict[str, list[str]] = {mode: [] for mode in MODES}
    for column in columns:
        defaults = column.get("visibility_defaults") or {}
        parent = "data." if column.get("parent") == "data" else ""
        key = f"{column.get('target', 'tasks')}:{parent}{column['id']}"
        for mode in MODES:
            if defaults.get(mode, True) is False:
                hidden[mode].append(key)
    return with_internal_hidden(hidden)


def with_internal_hidden(hidden: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """`hidden` with the internal task keys added to both modes (nothing else changed)."""
    out = {mode: list((hidden or {}).get(mode) or []) for mode in MODES}
    for mode in MODES:
        out[mode] += [k for k in (f"tasks:data.{c}" for c in INTERNAL_COLUMNS) if k not in out[mode]]
    return out


def ensure_views(ls: LabelStudio, project: int) -> list[int]:
    """Every data-manager tab of the project hides the internal keys; creates one when none exist."""
    views = ls._request("GET", "/api/dm/views/", params={"project": project}) or []
    if not views:
        columns = ls._request("GET", "/api/dm/columns", params={"project": project}) or {}
        tab = {"title": VIEW_TITLE, "hiddenColumns": hidden_columns(columns.get("columns", []))}
        made = ls._request("POST", "/api/dm/views/", json={"project": project, "data": tab})
        return [int(made["id"])]
    defaults: dict[str, list[str]] | None = None
    for view in views:
        data: dict[str, Any] = dict(view.get("data") or {})
        current: dict[str, list[str]] | None = data.get("hiddenColumns")
        if current is None:  # the UI would fall back to Label Studio's defaults: keep them hidden too
            if defaults is None:
                columns = ls._request("GET", "/api/dm/columns", params={"project": project}) or {}
                defaults = hidden_columns(columns.get("columns", []))
            current = defaults
        wanted = with_internal_hidden(current)
        if wanted != data.get("hiddenColumns"):
            data["hiddenColumns"] = wanted
            ls._request("PATCH", f"/api/dm/views/{view['id']}/", json={"project": project, "data": data})
    return [int(v["id"]) for v in views]


class LabelingError(RuntimeError):
    pass


def labeling_state_key(spec: DatasetSpec) -> str:
    return state_key(spec.id, "labeling")


def require_labeling(spec: DatasetSpec) -> LabelingSpec:
    lab = parse_labeling(spec)
    if lab is None:
        raise LabelingError(f"{spec.id}: the spec has no labeling section")
    return lab


def find_project(ls: LabelStudio, lake: Lake, spec: DatasetSpec) -> int | None:
    """The dataset's project id (see `labeling.project`), or None when it has none yet."""
    return find_project_id(ls, lake.get_json(labeling_state_key(spec), {}) or {}, spec)
