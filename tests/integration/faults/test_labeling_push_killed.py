"""A labeling push SIGKILLed mid-import, then run again, leaves every sampled row in Label Studio
exactly once; pulling annotations twice never counts one twice.

The child process is the real `labeling.task_export.export_tasks`, held still at one point of its import by a
wrapper around the client's `import_tasks` (after the third batch was answered, or while the
third batch's request is with Label Studio and unanswered), then killed with SIGKILL: its own
state in the lake is left as it was before the push, as after a crash.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from citydata.settings import REPO_ROOT
from labeling.annotation_import import import_annotations
from labeling.project import find_project
from labeling.task_export import export_tasks
from tests.integration.test_labeling import LABELS, env  # noqa: F401 - `env` is a fixture

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROWS, BATCH = 600, 100
TEXTS = ["Đường ngập sau mưa", "Rác chưa thu gom", "Đèn giao thông hỏng", "Cây đổ chắn lối"]
CHILD = """
import json, os, sys, threading, time
from pathlib import Path
import connectors  # registers the source types
from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec
from labeling.client import LabelStudio
from labeling.task_export import export_tasks

spec = DatasetSpec.model_validate(json.loads(os.environ["SPEC_JSON"]))
marker, mode = Path(sys.argv[1]), sys.argv[2]
original, calls = LabelStudio.import_tasks, []

def held(self, project, body):
    calls.append(1)
    if len(calls) < 3:
        return original(self, project, body)
    if mode == "answered":
        original(self, project, body)
    else:  # the request is with Label Studio; its answer never reaches us
        threading.Thread(target=original, args=(self, project, body), daemon=True).start()
        time.sleep(1.0)
    marker.write_text("held")
    time.sleep(600)

LabelStudio.import_tasks = held
export_tasks(spec, load_settings(), batch_size=int(sys.argv[3]))
"""


def _table() -> pa.Table:
    return pa.table(
        {
            "ma": [f"PA{i:04d}" for i in range(ROWS)],
            "noi_dung": [f"{TEXTS[i % len(TEXTS)]} (phản ánh số {i})" for i in range(ROWS)],
        }
    )


def _task_keys(ls, project: int) -> Counter[str]:
    return Counter(str(t["data"]["task_key"]) for t in ls.iter_tasks(project, include="id,data"))


@pytest.mark.parametrize("mode", ["answered", "unanswered"])
def test_push_killed_mid_import_then_repeated_creates_no_duplicate(env, mode, tmp_path):  # noqa: F811
    settings, lake, ls, setup, created = env
    labeling = {"task_type": "text_classification", "labels": LABELS, "columns": ["noi_dung"],
                "sample_size": ROWS, "overlap": 1, "sampling": {"strategy": "random", "seed": 7}}  # fmt: skip
    spec = setup(labeling, _table())
    marker = tmp_path / "held"
    child_env = {**os.environ, "SPEC_JSON": spec.model_dump_json(by_alias=True), "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(marker), mode, str(BATCH)], env=child_env,
                            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, (
                proc.stdout.read().decode(errors="replace")[-3000:] if proc.stdout else ""
            )
            assert time.monotonic() < deadline, "the push never reached its third batch"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    project = find_project(ls, lake, spec)
    assert project is not None
    created["projects"].append(project)
    time.sleep(2)  # an unanswered import may still be finishing inside Label Studio
    before = _task_keys(ls, project)
    assert 2 * BATCH <= sum(before.values()) <= 3 * BATCH and max(before.values()) == 1

    again = export_tasks(spec, settings, lake, ls, batch_size=BATCH)
    after = _task_keys(ls, project)
    assert sum(after.values()) == ROWS and set(after.values()) == {1}  # every row once
    assert again.already_present == sum(before.values()) and again.created == ROWS - sum(before.values())
    assert export_tasks(spec, settings, lake, ls, batch_size=BATCH).created == 0

    # Annotations pulled twice are counted once.
    user = ls.sdk.users.create(
        username=f"kill-{project}-{mode}", email=f"kill-{project}-{mode}@citydata.local"
    ).id
    created["users"].append(user)
    tasks = list(ls.iter_tasks(project, include="id,data"))[:5]
    for task in tasks:
        result = [
            {"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [LABELS[0]]}}
        ]
        ls.sdk.annotations.create(id=task["id"], result=result, completed_by=user)
    first, second = import_annotations(spec, settings, lake, ls), import_annotations(spec, settings, lake, ls)
    for result in (first, second):
        assert (result.tasks, result.annotations, result.annotated_tasks) == (ROWS, 5, 5)
        stored = pq.read_table(io.BytesIO(lake.get_bytes(result.prefix + "annotations.parquet")))
        ids = stored.column("annotation_id").to_pylist()
        assert len(ids) == len(set(ids)) == 5
