"""Label Studio (the real service) stopped in the middle of a push, between two import batches: the
push fails naming Label Studio, the state keeps the keys of the batch that got in; once Label Studio
is back, the next push imports only the rest: every row exactly once, never a duplicate task.

(tests/integration/test_labeling.py::test_label_studio_down_then_recovers_without_duplicates covers
a Label Studio that is unreachable from the start; this one stops the running service mid-push.)
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import pytest

from labeling.client import LabelStudio, LabelStudioUnavailable
from labeling.task_export import export_tasks

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROWS, BATCH = 20, 5
LABELING = {"task_type": "text_classification", "labels": ["cong_cong", "tu_nhan"], "columns": ["ten_tram"]}
SCHEMA = {"primary_key": ["ma_tram"], "columns": {"ma_tram": {"nullable": False}, "ten_tram": {}}}


class StopsAfterFirstBatch(LabelStudio):
    """A real client that stops the real Label Studio once its first import batch got in."""

    def __init__(self, settings, outage) -> None:
        super().__init__(settings, retries=3, backoff_s=0.2)
        self.outage = outage
        self.batches = 0

    def import_tasks(self, project: int, tasks: list[dict[str, Any]]) -> list[int]:
        ids = super().import_tasks(project, tasks)
        self.batches += 1
        if self.batches == 1:
            self.outage.stop("label_studio")
        return ids


def test_label_studio_stopped_mid_push_then_no_duplicate_tasks(world, outage):
    spec = world.spec("nhan", ROWS, labeling=LABELING, schema=SCHEMA)
    world.pull_clean(spec)
    ls = LabelStudio(world.settings)
    failing = StopsAfterFirstBatch(world.settings, outage)
    project: int | None = None
    try:
        started = time.monotonic()
        with pytest.raises(LabelStudioUnavailable, match=world.settings.label_studio.url):
            export_tasks(spec, world.settings, world.lake, failing, batch_size=BATCH)
        failed_s = time.monotonic() - started
        state = world.lake.get_json(f"state/{spec.id}/labeling.json")
        assert len(state["pushed_keys"]) == BATCH  # what got in before the outage is recorded
        project = state["project_id"]

        started = time.monotonic()
        outage.restore()
        restart_s = time.monotonic() - started
        again = export_tasks(spec, world.settings, world.lake, ls, batch_size=BATCH)
        assert again.project_id == project
        assert again.already_present == BATCH and again.created == ROWS - BATCH
        assert export_tasks(spec, world.settings, world.lake, ls, batch_size=BATCH).created == 0

        keys = Counter(t["data"]["task_key"] for t in ls.iter_tasks(project))
        assert len(keys) == ROWS and set(keys.values()) == {1}, keys.most_common(3)
        assert {k.rsplit("/", 1)[1] for k in keys} == {f"T{i:06d}" for i in range(ROWS)}
        print(f"push failed {failed_s:.1f}s after start; Label Studio back in {restart_s:.1f}s")
    finally:
        outage.restore()
        if project is not None:
            ls.sdk.projects.delete(id=project)
