"""Publishers in separate processes (Dagster runs two at a time) edit one bucket policy: no grant is
lost. Two processes each grant anonymous read on their own 30 prefixes at the same moment; the
PostgreSQL advisory lock of the bucket policy makes them take turns (lake/access.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from citydata.clients import s3_client
from citydata.storage.lake import Lake
from citydata.storage.published import dataset_prefix
from lake.access import is_public, set_public_read

pytestmark = pytest.mark.integration

PREFIXES_PER_PROCESS = 30

WRITER = textwrap.dedent(
    """
    import sys, time
    from citydata.settings import load_settings
    from citydata.storage.lake import Lake
    from lake.access import set_public_read
    from citydata.storage.published import dataset_prefix

    lake = Lake(load_settings())
    agency, who, count, start_at = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    time.sleep(max(0.0, start_at - time.time()))
    for i in range(count):
        set_public_read(lake, dataset_prefix(agency, f"{who}-{i:02d}"), True)
    """
)


def test_concurrent_processes_granting_public_read_lose_nothing(stack_ready, unique):
    import time

    agency = f"test-policy-{unique}"
    client, bucket = s3_client(stack_ready), stack_ready.s3.lake_bucket
    prefixes = [
        dataset_prefix(agency, f"{who}-{i:02d}") for who in ("a", "b") for i in range(PREFIXES_PER_PROCESS)
    ]
    start_at = time.time() + 3  # both interpreters are up by then; the writes overlap
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, agency, who, str(PREFIXES_PER_PROCESS), str(start_at)]
        )
        for who in ("a", "b")
    ]
    try:
        assert [w.wait(timeout=120) for w in writers] == [0, 0]
        lost = [p for p in prefixes if not is_public(client, bucket, p)]
        assert not lost, f"{len(lost)} of {len(prefixes)} grants lost: {lost[:3]}"
    finally:
        for prefix in prefixes:
            set_public_read(Lake(stack_ready, client), prefix, False)
