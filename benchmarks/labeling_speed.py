"""Benchmark: push 10,000 text tasks to Label Studio, push again (no-op), pull via snapshot.

    .venv/bin/python -m benchmarks.labeling_speed [--tasks 10000] [--keep]

Writes a synthetic clean pull into the lake under a throwaway agency/dataset, times `push` (target:
<= 15 s for 10,000 tasks), a second push (must create nothing), a push after one task was deleted
in Label Studio (lists every task; reports the deletion, creates nothing), 200 annotations, and
`pull`; then deletes the Label Studio projects it created.

Baseline, measured in the same run: Label Studio alone importing the same 10,000 tasks with the same
predictions (bodies built beforehand, sequential batches of the push's size, nothing else): the
floor `push` can reach. `push / bare import` is the ratio to watch on a noisy machine.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import state_key, zone_prefix
from labeling.annotation_import import import_annotations
from labeling.client import LabelStudio
from labeling.task_export import BATCH, export_tasks

WORDS = ["đường", "ngập", "rác", "hẻm", "đèn", "giao thông", "ồn ào", "công trình", "cây xanh", "kẹt xe"]
LABELS = ["giao_thong", "moi_truong", "khac"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    lake = Lake(settings)
    ls = LabelStudio(settings)
    uid = uuid.uuid4().hex[:8]
    spec = DatasetSpec.model_validate(
        {
            "id": f"bench-feedback-{uid}",
            "agency": {"id": "bench-agency", "title": {"vi": "Benchmark"}},
            "title": {"vi": "Phản ánh (benchmark)"},
            "description": {"vi": "benchmark"},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "source": {"type": "local_file", "path": "/dev/null"},
            "labeling": {
                "task_type": "text_classification",
                "labels": LABELS,
                "columns": ["noi_dung"],
                "id_column": "ma",
                "sample_size": args.tasks,
                "baseline": {"kind": "keywords", "keywords": {"giao_thong": ["ngập", "kẹt xe"]}},
            },
        }
    )
    rng = random.Random(1)  # noqa: S311 - synthetic text
    texts = [" ".join(rng.choices(WORDS, k=8)) for _ in range(args.tasks)]
    table = pa.table({"ma": [f"PA{i:06d}" for i in range(args.tasks)], "noi_dung": texts})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    pull_id = "20250101T000000000000Z"
    lake.put_bytes(zone_prefix("clean", spec.agency.id, spec.id, pull_id) + "data.parquet", buf.getvalue())
    lake.put_json(state_key(spec.id), {"last_pull": pull_id})
    project = None
    try:
        bare = bare_import(ls, spec, texts)
        print(f"bare Label Studio import of {args.tasks} tasks with predictions: {bare:6.2f} s (baseline)")
        t = time.perf_counter()
        first = export_tasks(spec, settings, lake, ls)
        project = first.project_id
        took = time.perf_counter() - t
        print(
            f"push  {first.created:>6} tasks: {took:6.2f} s ({first.predictions} predictions); "
            f"push / bare import = {took / bare:.2f}"
        )
        t = time.perf_counter()
        second = export_tasks(spec, settings, lake, ls)
        print(f"push again, created {second.created}: {time.perf_counter() - t:6.2f} s")
        victim = next(iter(ls.iter_tasks(project, page_size=1)))
        ls.sdk.tasks.delete(id=victim["id"])
        t = time.perf_counter()
        third = export_tasks(spec, settings, lake, ls)
        print(
            f"push after a deletion (full task listing), created {third.created}, reported deleted "
            f"{len(third.deleted_in_label_studio)}: {time.perf_counter() - t:6.2f} s"
        )
        ids = [task["id"] for _, task in zip(range(200), ls.iter_tasks(project), strict=False)]
        for tid in ids:
            ls.sdk.annotations.create(
                id=tid,
                result=[{"from_name": "label", "to_name": "text", "type": "choices",
                         "value": {"choices": [rng.choice(LABELS)]}}],
            )  # fmt: skip
        t = time.perf_counter()
        pulled = import_annotations(spec, settings, lake, ls)
        print(
            f"pull  {pulled.tasks:>6} tasks / {pulled.annotations} annotations: "
            f"{time.perf_counter() - t:6.2f} s "
            f"(snapshot export {pulled.export_seconds:.2f} s)"
        )
    finally:
        if project is not None and not args.keep:
            ls.sdk.projects.delete(id=project)
        for key in (
            list(lake.keys(f"clean/{spec.agency.id}/{spec.id}/"))
            + list(lake.keys(f"labels/{spec.agency.id}/{spec.id}/"))
            + list(lake.keys(f"state/{spec.id}/"))
        ):
            lake.client.remove_object(lake.bucket, key)


def bare_import(ls: LabelStudio, spec: DatasetSpec, texts: list[str]) -> float:
    """Seconds Label Studio alone takes to import the tasks export_tasks would send, in a new project."""
    from labeling.spec import parse_labeling
    from labeling.templates import get_template

    lab = parse_labeling(spec)
    assert lab is not None
    template = get_template(lab.task_type)
    config = template.render(lab)
    tasks = [
        {
            "data": {
                "noi_dung": text,
                "task_key": f"bare/{i}",
                "row_id": str(i),
                "pull_id": "bare",
                "dataset": "bare",
            },
            "predictions": [
                {"model_version": "keywords", "score": 0.5, "result": template.to_result(LABELS[0], lab)}
            ],
        }
        for i, text in enumerate(texts)
    ]
    bodies = [
        json.dumps(tasks[i : i + BATCH], ensure_ascii=False).encode() for i in range(0, len(tasks), BATCH)
    ]
    project = ls.sdk.projects.create(title=f"bench-bare-{spec.id}", label_config=config).id
    assert project is not None
    try:
        t = time.perf_counter()
        for body in bodies:  # plain HTTP, so the same script also measures older clients
            headers = {"Content-Type": "application/json"}
            ls.http.post(
                f"{ls.url}/api/projects/{project}/import", data=body, headers=headers
            ).raise_for_status()
        return time.perf_counter() - t
    finally:
        ls.sdk.projects.delete(id=project)


if __name__ == "__main__":
    main()
