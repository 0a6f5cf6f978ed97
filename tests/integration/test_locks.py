"""PostgreSQL advisory locks (citydata.locks) on the stack's PostgreSQL: processes contending for
one name take turns; a holder SIGKILLed mid-hold releases it at once."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from citydata.locks import LockUnavailable, advisory_lock, lock_key

pytestmark = pytest.mark.integration

HOLD_S = 1.5

HOLDER = textwrap.dedent(
    """
    import json, sys, time
    from citydata.locks import advisory_lock
    from citydata.settings import load_settings

    name, hold_s, start_at = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    settings = load_settings()
    time.sleep(max(0.0, start_at - time.time()))
    asked = time.time()
    with advisory_lock(settings, name):
        got = time.time()
        print("held", flush=True)
        time.sleep(hold_s)
        released = time.time()
    print(json.dumps({"asked": asked, "got": got, "released": released}), flush=True)
    """
)


def _holders(names: list[str], hold_s: float) -> list[dict[str, float]]:
    start_at = time.time() + 3  # both interpreters are up by then: they ask at the same moment
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", HOLDER, name, str(hold_s), str(start_at)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), outs
    return [json.loads(out.strip().splitlines()[-1]) for out in outs]


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    return min(a["released"], b["released"]) - max(a["got"], b["got"])


def test_two_processes_contending_for_one_lock_take_turns(stack_ready, unique):
    first, second = sorted(_holders([f"test:{unique}", f"test:{unique}"], HOLD_S), key=lambda t: t["got"])
    assert _overlap(first, second) < 0, (first, second)  # never both inside
    assert second["got"] >= first["released"] - 0.05
    assert second["got"] - second["asked"] >= HOLD_S * 0.8  # it waited for the other one
    # The measurement can fail: two different names are held at the same time.
    a, b = _holders([f"test:{unique}:a", f"test:{unique}:b"], HOLD_S)
    assert _overlap(a, b) > HOLD_S * 0.5, (a, b)


def test_a_killed_holder_releases_the_lock(stack_ready, unique):
    name = f"test:{unique}:killed"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, name, "600", str(time.time())], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockUnavailable, match="not granted within 1 s"):
            with advisory_lock(stack_ready, name, timeout_s=1):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed = time.monotonic()
        with advisory_lock(stack_ready, name, timeout_s=10):
            waited = time.monotonic() - killed
        assert waited < 5, f"the lock of a killed holder was released after {waited:.1f} s"
    finally:
        if holder.poll() is None:
            holder.kill()


def test_the_lock_is_reentrant_in_its_thread_and_keys_are_stable(stack_ready, unique):
    assert lock_key("citydata:dataset:phuong-xa") == lock_key("citydata:dataset:phuong-xa")
    assert lock_key("citydata:dataset:a") != lock_key("citydata:dataset:b")
    with advisory_lock(stack_ready, f"test:{unique}:nested"):
        with advisory_lock(stack_ready, f"test:{unique}:nested", timeout_s=1):
            pass


def test_a_dataset_stage_waits_for_the_dataset_lock(stack_ready, unique, tmp_path):
    """`citydata run` (its own process) pulls nothing while another holder has the dataset's lock,
    and completes once it is released."""
    import yaml

    from citydata.locks import dataset_lock
    from citydata.storage.lake import Lake
    from ingest.pull import last_pull_id
    from tests.integration.cleanup import purge_agency

    (tmp_path / "data.csv").write_text("ma,ten\n01,Bến Thành\n02,Tân Định\n", encoding="utf-8")
    spec = {
        "id": f"lock-{unique}",
        "agency": {"id": f"test-lock-{unique}", "title": {"vi": "Sở thử khóa"}},
        "title": {"vi": "Khóa theo bộ dữ liệu"},
        "description": {"vi": "Thử khóa."},
        "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
        "synthetic": True,
        "source": {"type": "local_file", "path": "data.csv"},
        "schema": {"primary_key": ["ma"]},
    }
    path = tmp_path / f"lock-{unique}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    lake, cli = Lake(stack_ready), str(Path(sys.executable).parent / "citydata")
    try:
        with dataset_lock(stack_ready, spec["id"]):
            run = subprocess.Popen(
                [cli, "run", str(path), "--until", "raw", "--json"], stdout=subprocess.PIPE
            )
            try:
                run.wait(timeout=25)  # ample for the run to reach its first stage
                pytest.fail("the run finished while another holder had the dataset's lock")
            except subprocess.TimeoutExpired:
                pass
            assert last_pull_id(lake, spec["id"]) is None  # it waits before pulling
        out, _ = run.communicate(timeout=120)
        assert run.returncode == 0, out
        assert last_pull_id(lake, spec["id"]) is not None
    finally:
        purge_agency(stack_ready, lake, spec["agency"]["id"], [spec["id"]])
