"""Benchmark: push 10,000 text tasks to Label Studio, push again (no-op), pull via snapshot.

    .venv/bin/python benchmarks/labeling_speed.py [--tasks 10000] [--keep]

Writes a synthetic clean pull into the lake under a throwaway agency/dataset, times `push` (target:
<= 15 s for 10,000 tasks), a second push (must create nothing), 200 annotations, and `pull`; then
deletes the Label Studio project it created.
"""

from __future__ import annotations

import argparse
import io
import random
import time
import uuid

import pyarrow as pa
import pyarrow.parquet as pq

from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec
from labeling.client import LabelStudio
from labeling.pull import pull
from labeling.push import push
from lake.layout import state_key, zone_prefix
from lake.store import Lake

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
        t = time.perf_counter()
        first = push(spec, settings, lake, ls)
        project = first.project_id
        print(f"push  {first.created:>6} tasks: {time.perf_counter() - t:6.2f} s (with predictions)")
        t = time.perf_counter()
        second = push(spec, settings, lake, ls)
        print(f"push again, created {second.created}: {time.perf_counter() - t:6.2f} s")
        ids = [task["id"] for _, task in zip(range(200), ls.iter_tasks(project), strict=False)]
        for tid in ids:
            ls.sdk.annotations.create(
                id=tid,
                result=[{"from_name": "label", "to_name": "text", "type": "choices",
                         "value": {"choices": [rng.choice(LABELS)]}}],
            )  # fmt: skip
        t = time.perf_counter()
        pulled = pull(spec, settings, lake, ls)
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


if __name__ == "__main__":
    main()
