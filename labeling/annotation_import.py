"""Pull annotations from Label Studio into the lake: `citydata label pull ID`.

Export goes through a snapshot (create, poll, download), which does not time out on large
projects. Written to the lake (labels zone; `_labels.json` last, so its presence means complete):

    labels/<agency>/<dataset>/<timestamp>/annotations.parquet  one row per annotation: task_key,
        task_id, row_id, pull_id, annotator (user id), annotator_email, label (a label string; for
        spans/boxes a JSON list), created_at, updated_at, lead_time (s), was_cancelled
    labels/<agency>/<dataset>/<timestamp>/consensus.parquet    per task: majority label (null on a
        tie), votes, annotators, tie, candidates (JSON)
    labels/<agency>/<dataset>/<timestamp>/agreement.json       kappas, per-label and span agreement
    labels/<agency>/<dataset>/<timestamp>/annotators.json      per annotator: gold accuracy, agreement
        with the consensus; the task keys flagged for review (labeling.gold, labeling.review)
    labels/<agency>/<dataset>/<timestamp>/_labels.json         counts, keys, timings
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from labeling.agreement import majority_vote, mean_span_overlap, summarize
from labeling.client import LabelStudio
from labeling.gold import annotator_quality, gold_answers, is_gold, review_keys
from labeling.project import LabelingError, find_project, require_labeling
from labeling.review import route_for_review
from labeling.templates import get_template

MANIFEST = "_labels.json"
ANNOTATION_SCHEMA = pa.schema(
    [("task_key", pa.string()), ("task_id", pa.int64()), ("row_id", pa.string()), ("pull_id", pa.string()),
     ("annotation_id", pa.int64()), ("annotator", pa.string()), ("annotator_email", pa.string()),
     ("label", pa.string()), ("created_at", pa.string()), ("updated_at", pa.string()),
     ("lead_time", pa.float64()), ("was_cancelled", pa.bool_())]
)  # fmt: skip


@dataclass
class AnnotationImport:
    dataset: str
    project_id: int
    prefix: str
    tasks: int = 0
    annotations: int = 0
    annotated_tasks: int = 0
    consensus: int = 0
    ties: int = 0
    agreement: dict[str, Any] = field(default_factory=dict)
    # per annotator: gold accuracy and agreement with the consensus (labeling.gold)
    annotators: dict[str, dict[str, Any]] = field(default_factory=dict)
    to_review: int = 0  # tasks flagged for review (tied or weak majority)
    review_flags_changed: int = 0
    export_seconds: float = 0.0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def labels_root(spec: DatasetSpec) -> str:
    return zone_prefix("labels", spec.agency.id, spec.id)


def latest_labels_prefix(lake: Lake, spec: DatasetSpec) -> str | None:
    root = labels_root(spec)
    for stamp in reversed(lake.children(root)):
        if lake.exists(f"{root}{stamp}/{MANIFEST}"):
            return f"{root}{stamp}/"
    return None


def export_snapshot(ls: LabelStudio, project: int, timeout_s: float = 900.0) -> list[dict[str, Any]]:
    """Create a JSON export snapshot, wait for it, download it, delete it."""
    snap = ls.call("create export", lambda: ls.sdk.projects.exports.create(id=project, title="citydata pull"))
    assert snap.id is not None
    eid = int(snap.id)
    deadline = time.monotonic() + timeout_s
    delay = 0.2
    while True:
        status = ls.call("poll export", lambda: ls.sdk.projects.exports.get(id=project, export_pk=eid)).status
        if status == "completed":
            break
        if status == "failed":
            raise LabelingError(f"Label Studio export {eid} of project {project} failed")
        if time.monotonic() > deadline:
            raise LabelingError(
                f"Label Studio export {eid} of project {project} not ready after {timeout_s}s"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 3.0)
    body = ls.call(
        "download export",
        lambda: b"".join(ls.sdk.projects.exports.download(id=project, export_pk=eid, export_type="JSON")),
    )
    with contextlib.suppress(Exception):  # a leftover snapshot is harmless
        ls.sdk.projects.exports.delete(id=project, export_pk=eid)
    return list(json.loads(body))


def _user(value: Any) -> tuple[str, str | None]:
    if isinstance(value, dict):
        return str(value.get("id")), value.get("email")
    return str(value), None


def tidy(export: list[dict[str, Any]], task_type: str) -> pd.DataFrame:
    """One row per annotation (cancelled ones kept, flagged)."""
    template = get_template(task_type)
    rows = []
    for task in export:
        data = task.get("data") or {}
        for ann in task.get("annotations") or []:
            user, email = _user(ann.get("completed_by"))
            rows.append(
                {
                    "task_key": str(data.get("task_key") or f"task-{task.get('id')}"),
                    "task_id": int(task["id"]),
                    "row_id": None if data.get("row_id") is None else str(data.get("row_id")),
                    "pull_id": data.get("pull_id"),
                    "annotation_id": int(ann["id"]),
                    "annotator": user,
                    "annotator_email": email,
                    "label": None if ann.get("was_cancelled") else template.extract(ann.get("result") or []),
                    "created_at": ann.get("created_at"),
                    "updated_at": ann.get("updated_at"),
                    "lead_time": None if ann.get("lead_time") is None else float(ann["lead_time"]),
                    "was_cancelled": bool(ann.get("was_cancelled")),
                }
            )
    return pa.Table.from_pylist(rows, schema=ANNOTATION_SCHEMA).to_pandas()


def ratings_of(annotations: pd.DataFrame) -> dict[str, dict[str, str]]:
    """{task_key: {annotator: label}}; the latest annotation per annotator wins."""
    ok = annotations[~annotations["was_cancelled"] & annotations["label"].notna()]
    ok = ok.sort_values(["annotation_id"])
    out: dict[str, dict[str, str]] = {}
    for rec in ok.itertuples(index=False):
        out.setdefault(str(rec.task_key), {})[str(rec.annotator)] = str(rec.label)
    return out


def consensus_table(annotations: pd.DataFrame) -> pd.DataFrame:
    ratings = ratings_of(annotations)
    row_of = dict(zip(annotations["task_key"], annotations["row_id"], strict=False))
    return pd.DataFrame(
        [
            {
                "task_key": str(c.item),
                "row_id": row_of.get(str(c.item)),
                "label": None if c.label is None else str(c.label),
                "votes": c.votes,
                "annotators": c.annotators,
                "tie": c.tie,
                "candidates": json.dumps([str(x) for x in c.candidates], ensure_ascii=False),
            }
            for c in majority_vote(ratings)
        ],
        columns=["task_key", "row_id", "label", "votes", "annotators", "tie", "candidates"],
    )


def agreement_of(annotations: pd.DataFrame, task_type: str) -> dict[str, Any]:
    ratings = ratings_of(annotations)
    if task_type == "ner":
        spans = {
            item: {a: [tuple(s) for s in json.loads(v)] for a, v in by.items()}
            for item, by in ratings.items()
        }
        return {"items": len(ratings), "span_overlap": mean_span_overlap(spans)}
    if task_type == "image_bbox":
        return {"items": len(ratings)}  # box agreement (IoU) not computed yet
    return summarize(ratings)


def _parquet(df: pd.DataFrame, schema: pa.Schema | None = None) -> bytes:
    buf = io.BytesIO()
    table = pa.Table.from_pandas(df, schema=schema, preserve_index=False)
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def import_annotations(
    spec: DatasetSpec,
    settings: Settings,
    lake: Lake | None = None,
    ls: LabelStudio | None = None,
) -> AnnotationImport:
    started = time.perf_counter()
    lake = lake or Lake(settings)
    ls = ls or LabelStudio(settings)
    lab = require_labeling(spec)
    project = find_project(ls, lake, spec)
    if project is None:
        raise LabelingError(f"{spec.id}: no Label Studio project yet; run `citydata label push {spec.id}`")
    t0 = time.perf_counter()
    export = export_snapshot(ls, project)
    export_s = time.perf_counter() - t0
    annotations = tidy(export, lab.task_type)
    # Gold tasks measure the annotators only: never part of the consensus or the agreement.
    work = annotations[~annotations["task_key"].map(is_gold).astype(bool)]
    consensus = consensus_table(work)
    agreement = agreement_of(work, lab.task_type)
    answers = gold_answers(spec.id, lab)
    annotators = annotator_quality(annotations, consensus, answers)
    review = review_keys(consensus, lab.review_agreement)
    routed = route_for_review(ls, project, export, set(review))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    prefix = f"{labels_root(spec)}{stamp}/"
    lake.put_bytes(prefix + "annotations.parquet", _parquet(annotations, ANNOTATION_SCHEMA))
    lake.put_bytes(prefix + "consensus.parquet", _parquet(consensus))
    lake.put_json(prefix + "agreement.json", agreement)
    lake.put_json(prefix + "annotators.json", {"annotators": annotators, "gold_tasks": len(answers),
                                               "review": review})  # fmt: skip
    result = AnnotationImport(
        spec.id,
        project,
        prefix,
        tasks=len(export),
        annotations=int((~annotations["was_cancelled"]).sum()),
        annotated_tasks=int(work["task_key"].nunique()),
        consensus=int(consensus["label"].notna().sum()),
        ties=int(consensus["tie"].sum()),
        agreement=agreement,
        annotators=annotators,
        to_review=len(review),
        review_flags_changed=routed,
        export_seconds=round(export_s, 3),
    )
    result.seconds = round(time.perf_counter() - started, 3)
    lake.put_json(prefix + MANIFEST, result.as_dict())
    return result
