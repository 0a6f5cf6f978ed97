"""Load: CKAN serves 20 concurrent downloads of a published dataset, all complete and identical.

One dataset (10,000 rows) is published for real (Dagster run: lake, CKAN, DataStore). Then 20
threads start together (a barrier) on CKAN's download route for the CSV resource (which sends the
client on to the lake object), and 20 more on the DataStore dump `/datastore/dump/<id>`. Every
reply must be 200 with the same SHA-256, equal to the lake object (download) or holding every
row (dump). A single download measured in the same run is the baseline for the printed ratio.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ckanapi
import pytest
import requests
from minio.deleteobjects import DeleteObject

from citydata.clients import ckan_client
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import dataset_prefix, folders_of, staging_root
from lake.access import set_public_read

pytestmark = pytest.mark.integration

THREADS = 20
ROWS = 10_000  # the default DataStore preview cap: the dump holds every row


def _spec(unique: str, folder: Path) -> DatasetSpec:
    source = folder / "diem.csv"
    lines = ["ma,ten,phuong,so_luong"] + [
        f"D{r:06d},Điểm thu gom số {r},Phường Bến Thành,{r % 97}" for r in range(ROWS)
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DatasetSpec.model_validate(
        {
            "id": f"load-dl-{unique}",
            "agency": {"id": f"test-dl-{unique}", "title": {"vi": "Sở thử nghiệm tải"}},
            "title": {"vi": f"Điểm thu gom rác {unique}"},
            "description": {"vi": "Bộ dữ liệu cho thử nghiệm tải xuống đồng thời."},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "synthetic": True,
            "source": {"type": "local_file", "path": str(source)},
            "schema": {
                "primary_key": ["ma"],
                "columns": {"ma": {"nullable": False}, "so_luong": {"type": "integer"}},
            },
        }
    )


def _cleanup(settings: Settings, spec: DatasetSpec) -> None:
    admin = ckan_client(settings)
    with contextlib.suppress(ckanapi.NotFound):
        admin.action.dataset_purge(id=spec.id)
    with contextlib.suppress(ckanapi.NotFound):
        admin.action.organization_purge(id=spec.agency.id)
    lake, agency = Lake(settings), spec.agency.id
    set_public_read(lake, dataset_prefix(agency, spec.id), False)
    prefixes = [
        f"{zone}/{agency}/" for zone in ("raw", "clean", "quarantine", "reports", "published", "catalog")
    ]
    for prefix in [*prefixes, staging_root(agency, spec.id), f"state/{spec.id}/"]:
        keys = list(lake.keys(prefix))
        list(lake.client.remove_objects(lake.bucket, [DeleteObject(k) for k in keys]))
        for folder in folders_of(keys, prefix):
            with contextlib.suppress(Exception):
                lake.client.remove_object(lake.bucket, folder)


def _together(url: str) -> tuple[list[tuple[int, str, int, float]], float]:
    """THREADS GETs released at the same moment: (status, sha256, bytes, seconds) each, and wall time."""
    barrier = threading.Barrier(THREADS)

    def one(_: int) -> tuple[int, str, int, float]:
        barrier.wait()
        started = time.monotonic()
        reply = requests.get(url, timeout=120)
        return (
            reply.status_code,
            hashlib.sha256(reply.content).hexdigest(),
            len(reply.content),
            (time.monotonic() - started),
        )

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one, range(THREADS)))
    return results, time.monotonic() - started


def _single(url: str) -> float:
    started = time.monotonic()
    requests.get(url, timeout=120).raise_for_status()
    return time.monotonic() - started


@pytest.fixture
def published(stack_ready, unique, tmp_path):
    from citydata.cli.run import run_datasets

    spec = _spec(unique, tmp_path)
    try:
        [result] = run_datasets([spec], until="catalog_entry")
        assert result["ok"], result
        yield spec
    finally:
        _cleanup(stack_ready, spec)


def test_twenty_concurrent_downloads_are_complete_and_identical(stack_ready, published):
    settings = stack_ready
    pkg = ckan_client(settings, anonymous=True).action.package_show(id=published.id)
    [res] = [r for r in pkg["resources"] if r.get("citydata_role") == "csv"]
    assert res.get("datastore_active"), "the CSV resource has no DataStore table"
    download = f"{settings.ckan.url}/dataset/{pkg['id']}/resource/{res['id']}/download"
    dump = f"{settings.ckan.url}/datastore/dump/{res['id']}"
    lake_object = requests.get(res["url"], timeout=60).content
    expected = hashlib.sha256(lake_object).hexdigest()

    report = []
    for what, url in (("resource download", download), ("DataStore dump", dump)):
        baseline = statistics.median(_single(url) for _ in range(3))
        results, wall = _together(url)
        statuses = [r[0] for r in results]
        assert statuses == [200] * THREADS, f"{what}: {statuses}"
        hashes = {r[1] for r in results}
        assert len(hashes) == 1, f"{what}: {len(hashes)} different bodies"
        if what == "resource download":
            assert hashes == {expected}, "the download differs from the lake object"
        report.append(
            f"{what}: {THREADS} at once in {wall:.2f}s ({results[0][2] / 1e6:.1f} MB each), single "
            f"{baseline:.2f}s, ratio {wall / baseline:.1f}x for {THREADS}x the bytes"
        )

    body = requests.get(dump, timeout=120).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == ROWS and {r["ma"] for r in rows} == {f"D{r:06d}" for r in range(ROWS)}
    print("\n" + "\n".join(report))
