"""Push a dataset's sample to its Label Studio project: `citydata label push ID`.

One project per dataset, titled with the dataset's Vietnamese title and found again by its key
`citydata:<dataset-id>` (see `labeling.project`); its id is kept in the lake at
`state/<dataset>/labeling.json` (with every task key ever pushed). Each task's data carries
`task_key` = `<dataset>/<pull_id>/<row_id>`, plus `row_id` and `pull_id`. Before importing, the
project's existing task keys are listed: re-runs never duplicate, and a key pushed before but
gone from Label Studio is reported as deleted there, never silently re-created. Tasks are
imported in batches, with optional baseline predictions (scores) inline; one batch is in flight while
the next is built. The listing for that check asks only for each task's id and data.

Images (`image_bbox`): task data holds `s3://<labeling bucket>/<key>`; the project gets an S3
import storage on the platform's S3 (presigned URLs valid for a working day; no `s3_endpoint`, so
the server's `S3_ENDPOINT` applies), which resolves those URLs. Never base64.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from labeling.baseline import KeywordModel, NaiveBayes
from labeling.client import LabelStudio
from labeling.gold import gold_records, mix
from labeling.project import (
    LabelingError,
    ensure_project,
    labeling_state_key,
    project_key,
    project_title,
    require_labeling,
)
from labeling.sampling import sample_rows
from labeling.spec import LabelingSpec
from labeling.templates import get_template

PRESIGN_TTL_MIN = 8 * 60  # a working day
BATCH = 2000


@dataclass
class TaskExport:
    dataset: str
    project_id: int
    pull_id: str
    sampled: int = 0
    created: int = 0
    already_present: int = 0
    deleted_in_label_studio: list[str] = field(default_factory=list)
    predictions: int = 0
    gold: int = 0  # gold (honeypot) tasks added by this export
    storage_id: int | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_clean(lake: Lake, spec: DatasetSpec, pull_id: str) -> pd.DataFrame:
    key = zone_prefix("clean", spec.agency.id, spec.id, pull_id) + "data.parquet"
    return pq.read_table(io.BytesIO(lake.get_bytes(key))).to_pandas()


def with_row_ids(df: pd.DataFrame, spec: DatasetSpec, lab: LabelingSpec) -> pd.DataFrame:
    id_col = lab.id_column or (spec.schema_.primary_key[0] if len(spec.schema_.primary_key) == 1 else None)
    df = df.reset_index(drop=True).copy()
    df["_row_id"] = df[id_col].astype(str) if id_col and id_col in df.columns else df.index.astype(str)
    return df


def flagged_row_ids(lake: Lake, spec: DatasetSpec, pull_id: str, df: pd.DataFrame) -> set[str] | None:
    """Row ids the quality gate warned about (quarantine/.../quality_warnings.parquet), if present."""
    key = zone_prefix("quarantine", spec.agency.id, spec.id, pull_id) + "quality_warnings.parquet"
    if not lake.exists(key):
        return None
    warned = pq.read_table(io.BytesIO(lake.get_bytes(key))).to_pandas()
    if "_row" in warned.columns and not {"_row_id"} <= set(warned.columns):
        rows = set(pd.to_numeric(warned["_row"], errors="coerce").dropna().astype(int))
        return set(df.loc[df.index.isin(rows), "_row_id"])
    return set(warned["_row_id"].astype(str)) if "_row_id" in warned.columns else None


def collected_labels(lake: Lake, spec: DatasetSpec) -> pd.DataFrame | None:
    """The latest consensus table pulled from Label Studio (row_id, label), if any."""
    from labeling.annotation_import import latest_labels_prefix

    prefix = latest_labels_prefix(lake, spec)
    if prefix is None or not lake.exists(prefix + "consensus.parquet"):
        return None
    return pq.read_table(io.BytesIO(lake.get_bytes(prefix + "consensus.parquet"))).to_pandas()


def baseline_model(
    lake: Lake, spec: DatasetSpec, lab: LabelingSpec, df: pd.DataFrame
) -> tuple[Any, str] | None:
    """A fitted model with `predict_proba(texts)` and its version name, or None."""
    if lab.task_type not in ("text_classification", "record_verification"):
        return None
    if lab.baseline.kind == "keywords":
        return KeywordModel(lab.baseline.keywords, lab.label_ids), "keywords"
    if lab.baseline.kind == "naive_bayes":
        labels = collected_labels(lake, spec)
        if labels is None:
            return None
        labels = labels[labels["label"].notna() & labels["label"].isin(lab.label_ids)]
        train = labels.merge(df[["_row_id", lab.main_column]], left_on="row_id", right_on="_row_id")
        if len(train) < lab.baseline.min_labels:
            return None
        model = NaiveBayes(lab.label_ids).fit(
            train[lab.main_column].astype(str).tolist(), train["label"].tolist()
        )
        return model, f"naive_bayes-{len(train)}"
    return None


def predictions_for(
    model: Any, version: str, texts: list[str], lab: LabelingSpec
) -> tuple[np.ndarray, list[Any]]:
    template = get_template(lab.task_type)
    proba = model.predict_proba(texts)
    preds: list[Any] = []
    for row in proba:
        k = int(np.argmax(row))
        if len(row) > 1 and row[k] <= np.partition(row, -2)[-2] + 1e-12:
            preds.append(None)  # a tie at the top (no keyword matched): no evidence to pre-select
            continue
        result = template.to_result(lab.label_ids[k], lab)
        preds.append({"model_version": version, "score": float(row[k]), "result": result} if result else None)
    return proba, preds


def column_predictions(values: list[Any], lab: LabelingSpec) -> list[Any]:
    """Baseline kind `column`: each row's ready-made pre-annotation, through the template's `from_value`
    (or, without one, the value as a label for `to_result`) with the template's score."""
    template = get_template(lab.task_type)
    out: list[Any] = []
    for value in values:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value == "":
            out.append(None)
            continue
        if hasattr(template, "from_value"):
            made = template.from_value(value, lab)
        else:
            result = template.to_result(str(value), lab)
            made = (result, 1.0) if result else None
        out.append(
            {"model_version": lab.baseline.model_version, "score": made[1], "result": made[0]}
            if made
            else None
        )
    return out


def ensure_image_storage(ls: LabelStudio, settings: Settings, spec: DatasetSpec, project: int) -> int:
    bucket = settings.s3.labeling_bucket
    existing = ls.call("list storages", lambda: list(ls.sdk.import_storage.s3.list(project=project)))
    storage = next((s for s in existing if getattr(s, "bucket", None) == bucket), None)
    if storage is None:
        storage = ls.call(
            "create S3 import storage",
            lambda: ls.sdk.import_storage.s3.create(
                project=project,
                title=f"citydata {bucket}",
                bucket=bucket,
                prefix=f"{spec.agency.id}/{spec.id}/",
                # Tasks come from the platform with stable keys; the storage resolves s3:// URLs.
                # Syncing only picks up *.tasks.json files, so it never duplicates API-imported tasks.
                regex_filter=r".*\.tasks\.json$",
                use_blob_urls=False,
                presign=True,
                presign_ttl=PRESIGN_TTL_MIN,
                recursive_scan=True,
                region_name=settings.s3.region,
                aws_access_key_id=settings.s3.access_key.get_secret_value(),
                aws_secret_access_key=settings.s3.secret_key.get_secret_value(),
            ),
        )
    assert storage.id is not None
    sid = int(storage.id)
    ls.call("sync S3 import storage", lambda: ls.sdk.import_storage.s3.sync(id=sid))
    return sid


def export_tasks(
    spec: DatasetSpec,
    settings: Settings,
    lake: Lake | None = None,
    ls: LabelStudio | None = None,
    *,
    pull_id: str | None = None,
    rows: pd.DataFrame | None = None,
    batch_size: int = BATCH,
) -> TaskExport:
    """Create/update the project and import the sampled rows not yet in it.

    `rows` (already carrying `_row_id`) replaces sampling: active learning passes its batch here.
    """
    from ingest.pull import last_pull_id

    started = time.perf_counter()
    lake = lake or Lake(settings)
    ls = ls or LabelStudio(settings)
    lab = require_labeling(spec)
    pull_id = pull_id or last_pull_id(lake, spec.id)
    if pull_id is None:
        raise LabelingError(f"{spec.id}: nothing pulled yet; run the clean stage first")
    template = get_template(lab.task_type)

    df = with_row_ids(load_clean(lake, spec, pull_id), spec, lab)
    if rows is None:
        model = baseline_model(lake, spec, lab, df)
        confidence = None
        if lab.sampling.strategy == "least_confident" and model is not None:
            proba = model[0].predict_proba(df[lab.main_column].astype(str).tolist())
            confidence = proba.max(axis=1)
        flagged = (
            flagged_row_ids(lake, spec, pull_id, df) if lab.sampling.strategy == "quality_flagged" else None
        )
        rows = sample_rows(df, lab, flagged_ids=flagged, confidence=confidence)
    else:
        model = baseline_model(lake, spec, lab, df)

    state = lake.get_json(labeling_state_key(spec), {}) or {}
    project = ensure_project(ls, state, spec, lab)
    result = TaskExport(spec.id, project, pull_id, sampled=len(rows))
    if lab.task_type == "image_bbox":
        result.storage_id = ensure_image_storage(ls, settings, spec, project)

    pushed_before = set(state.get("pushed_keys", []))
    existing_keys: set[str] = set()
    existing_rows: set[str] = set()
    task_number = int(ls.project_counts(project).get("task_number") or 0)
    if pushed_before and state.get("project_id") == project and task_number == len(pushed_before):
        # Fast path: same count as recorded, so nothing was deleted or added behind our back
        # (a deletion lowers the count; an import we did not record raises it).
        existing_keys = set(pushed_before)
        existing_rows = {k.rsplit("/", 1)[-1] for k in pushed_before}
    else:
        for task in ls.iter_tasks(project, page_size=10_000, include="id,data"):
            data = task.get("data") or {}
            if data.get("task_key"):
                existing_keys.add(str(data["task_key"]))
                existing_rows.add(str(data.get("row_id")))
    deleted = pushed_before - existing_keys
    result.deleted_in_label_studio = sorted(deleted)
    deleted_rows = {k.rsplit("/", 1)[-1] for k in deleted}

    new_rows = rows[~rows["_row_id"].isin(existing_rows | deleted_rows)]
    result.already_present = len(rows) - len(new_rows)
    preds: list[Any] = [None] * len(new_rows)
    if model is not None and len(new_rows):
        _, preds = predictions_for(model[0], model[1], new_rows[lab.main_column].astype(str).tolist(), lab)
    elif lab.baseline.kind == "column" and lab.baseline.column and len(new_rows):
        preds = column_predictions(new_rows[lab.baseline.column].tolist(), lab)

    keys = pushed_before | existing_keys
    # Only the columns a task shows (templates read `lab.columns`), not whole rows.
    shown = [c for c in dict.fromkeys([*lab.columns, "_row_id"]) if c in new_rows.columns]
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in new_rows[shown].to_dict("records")
    ]
    gold = gold_records(lab, existing_rows | deleted_rows)
    if gold:  # honeypots among the new tasks, at seeded places, without predictions
        records = mix(records, gold, lab.sampling.seed)
        preds = mix(list(preds), [None] * len(gold), lab.sampling.seed)
        result.gold = len(gold)
    bucket = settings.s3.labeling_bucket

    def build(first: int) -> tuple[bytes, list[str], int]:
        """One batch as encoded JSON, its task keys and how many tasks carry a prediction."""
        tasks, batch_keys, with_prediction = [], [], 0
        for rec, pred in zip(
            records[first : first + batch_size], preds[first : first + batch_size], strict=True
        ):
            data = template.task_data(rec, lab, bucket) if image else template.task_data(rec, lab)
            row_id, row_pull = str(rec["_row_id"]), str(rec.get("_pull_id") or pull_id)
            key = f"{spec.id}/{row_pull}/{row_id}"
            data.update(task_key=key, row_id=row_id, pull_id=row_pull, dataset=spec.id)
            task: dict[str, Any] = {"data": data}
            if pred:
                task["predictions"] = [pred]
                with_prediction += 1
            tasks.append(task)
            batch_keys.append(key)
        return json.dumps(tasks, ensure_ascii=False).encode(), batch_keys, with_prediction

    def finish(sent: tuple[Future[int], list[str], int]) -> None:
        future, batch_keys, with_prediction = sent
        future.result()  # raises LabelStudioUnavailable after the client's retries
        result.created += len(batch_keys)
        result.predictions += with_prediction
        keys.update(batch_keys)

    image = lab.task_type == "image_bbox"
    in_flight: tuple[Future[int], list[str], int] | None = None
    try:
        # One import in flight at a time: Label Studio does the heavy part of each batch (its task
        # counters), so the next batch is built and encoded here meanwhile; never two imports at once.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ls-import") as sender:
            try:
                for first in range(0, len(records), batch_size):
                    body, batch_keys, with_prediction = build(first)
                    if in_flight is not None:
                        finish(in_flight)
                        in_flight = None
                    in_flight = (sender.submit(ls.import_tasks, project, body), batch_keys, with_prediction)
                if in_flight is not None:
                    finish(in_flight)
                    in_flight = None
            finally:
                if in_flight is not None:  # a batch already sent when building the next failed
                    with contextlib.suppress(Exception):
                        finish(in_flight)
    finally:
        lake.put_json(
            labeling_state_key(spec),
            {
                "project_id": project,
                "title": project_title(spec),
                "key": project_key(spec),
                "label_studio_url": ls.url,
                "storage_id": result.storage_id,
                "last_pull_id": pull_id,
                "pushed_keys": sorted(keys),
            },
        )
    result.seconds = round(time.perf_counter() - started, 3)
    return result
