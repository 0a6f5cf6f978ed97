"""Active learning: `citydata label next ID`.

Retrains the naive Bayes baseline on the latest pulled consensus labels, refreshes predictions on
the project's unlabeled tasks, and pushes the next batch: the least-confident clean rows that are
not in the project yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from labeling.baseline import NaiveBayes, least_confident
from labeling.client import LabelStudio
from labeling.project import LabelingError, find_project, require_labeling
from labeling.task_export import (
    TaskExport,
    collected_labels,
    export_tasks,
    load_clean,
    predictions_for,
    with_row_ids,
)


@dataclass
class NextResult:
    trained_on: int
    predictions_refreshed: int
    exported: TaskExport

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def next_batch(
    spec: DatasetSpec,
    settings: Settings,
    lake: Lake | None = None,
    ls: LabelStudio | None = None,
    *,
    size: int | None = None,
) -> NextResult:
    from ingest.pull import last_pull_id

    lake = lake or Lake(settings)
    ls = ls or LabelStudio(settings)
    lab = require_labeling(spec)
    if lab.task_type not in ("text_classification", "record_verification"):
        raise LabelingError(f"{spec.id}: active learning supports classification task types only")
    pull_id = last_pull_id(lake, spec.id)
    if pull_id is None:
        raise LabelingError(f"{spec.id}: nothing pulled yet")
    project = find_project(ls, lake, spec)
    if project is None:
        raise LabelingError(f"{spec.id}: no project yet; run `citydata label push {spec.id}` first")
    df = with_row_ids(load_clean(lake, spec, pull_id), spec, lab)
    labels = collected_labels(lake, spec)
    if labels is None:
        raise LabelingError(f"{spec.id}: no labels pulled yet; run `citydata label pull {spec.id}` first")
    labels = labels[labels["label"].notna() & labels["label"].isin(lab.label_ids)]
    train = labels.merge(df[["_row_id", lab.main_column]], left_on="row_id", right_on="_row_id")
    if train["label"].nunique() < 2:
        raise LabelingError(f"{spec.id}: need consensus labels of at least two classes to train")
    texts = train[lab.main_column].astype(str).tolist()
    model = NaiveBayes(lab.label_ids).fit(texts, train["label"].tolist())
    version = f"naive_bayes-{len(train)}"

    # Refresh predictions on tasks nobody has annotated yet.
    todo = [t for t in ls.iter_tasks(project) if not t.get("total_annotations")]
    refreshed = 0
    if todo:
        texts = [str((t.get("data") or {}).get(lab.main_column, "")) for t in todo]
        _, preds = predictions_for(model, version, texts, lab)
        payload = [{"task": t["id"], **p} for t, p in zip(todo, preds, strict=True) if p]
        for i in range(0, len(payload), 2000):
            chunk = payload[i : i + 2000]
            ls.call(
                "import predictions",
                lambda chunk=chunk: ls.sdk.projects.import_predictions(id=project, request=chunk),  # type: ignore[misc]
            )
        refreshed = len(payload)

    in_project = {str((t.get("data") or {}).get("row_id")) for t in ls.iter_tasks(project, include="id,data")}
    candidates = df[~df["_row_id"].isin(in_project)].reset_index(drop=True)
    proba = model.predict_proba(candidates[lab.main_column].astype(str).tolist())
    chosen = candidates.iloc[least_confident(proba, size or lab.sample_size)]
    result = export_tasks(spec, settings, lake, ls, pull_id=pull_id, rows=chosen)
    return NextResult(len(train), refreshed, result)
