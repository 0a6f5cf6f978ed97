"""Load: 50 readers for 60 s against the catalog: searching, paging the DataStore, downloading.

One dataset (20,000 rows, Vietnamese text) is published for real (Dagster run: lake, CKAN,
DataStore). Then 50 clients, each a thread with its own HTTP session, start together and for
60 s repeat what readers do, in turn: `package_search` typed without accents ("diem thu gom",
"phuong ben thanh"), a page of `datastore_search` (100 rows at a random offset, with or without
an unaccented full-text query), the CSV through CKAN's download route (which sends the client
on to the lake) and a Parquet part from the lake. Each reply is checked, not only its status:
the search finds the dataset, the page holds the rows asked for, a download equals the lake
object. Printed: requests, p50 / p95 / max latency per kind, errors. Asserted: 0 errors.

CITYDATA_LOAD_CLIENTS and CITYDATA_LOAD_SECONDS change the load (defaults 50 and 60).
"""

from __future__ import annotations

import hashlib
import os
import random
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from citydata.clients import ckan_client
from citydata.spec.model import DatasetSpec
from tests.integration.cleanup import purge_agency

pytestmark = pytest.mark.integration

CLIENTS = int(os.environ.get("CITYDATA_LOAD_CLIENTS", "50"))
SECONDS = float(os.environ.get("CITYDATA_LOAD_SECONDS", "60"))
ROWS = 20_000
PAGE = 100
WARDS = ["Phường Bến Thành", "Phường Sài Gòn", "Phường Tân Định", "Phường Thủ Đức", "Xã Cần Giờ"]
SEARCHES = ["diem thu gom", "phuong ben thanh", "thu gom rac", "diem thu gom rac thai"]
FULL_TEXT = ["ben thanh", "tan dinh", "thu duc", None]
TIMEOUT_S = 60


def _spec(unique: str, folder: Path) -> DatasetSpec:
    source = folder / "diem-thu-gom.csv"
    lines = ["ma,ten,phuong,so_luong"] + [
        f"G{r:06d},Điểm thu gom rác thải số {r},{WARDS[r % len(WARDS)]},{r % 97}" for r in range(ROWS)
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DatasetSpec.model_validate(
        {
            "id": f"load-readers-{unique}",
            "agency": {"id": f"test-readers-{unique}", "title": {"vi": "Sở thử nghiệm đọc"}},
            "title": {"vi": f"Điểm thu gom rác thải {unique}"},
            "description": {"vi": "Bộ dữ liệu cho thử nghiệm tải: nhiều người đọc cùng lúc."},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "synthetic": True,
            "source": {"type": "local_file", "path": str(source)},
            "schema": {
                "primary_key": ["ma"],
                "columns": {"ma": {"nullable": False}, "so_luong": {"type": "integer"}},
            },
        }
    )


@dataclass
class Target:
    """What the readers ask for, and what a correct answer is."""

    api: str
    dataset: str
    agency: str
    resource_id: str
    csv_download: str
    csv_sha256: str
    parquet_url: str
    parquet_sha256: str


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind].append(error)


def _search(session: requests.Session, t: Target, rng: random.Random) -> str | None:
    params = {"q": rng.choice(SEARCHES), "rows": 10, "fq": f"organization:{t.agency}"}
    reply = session.get(f"{t.api}/package_search", params=params, timeout=TIMEOUT_S)
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}"
    names = [p["name"] for p in reply.json()["result"]["results"]]
    return None if t.dataset in names else f"{params['q']!r} did not find the dataset"


def _page(session: requests.Session, t: Target, rng: random.Random) -> str | None:
    q = rng.choice(FULL_TEXT)
    params: dict[str, str | int] = {"resource_id": t.resource_id, "limit": PAGE, "sort": "_id"}
    params["offset"] = rng.randrange(0, 1000 if q else ROWS - PAGE, PAGE)  # q: 4,000 rows match
    if q:
        params["q"] = q
    reply = session.get(f"{t.api}/datastore_search", params=params, timeout=TIMEOUT_S)
    if reply.status_code != 200:
        return f"HTTP {reply.status_code}"
    records = reply.json()["result"]["records"]
    if len(records) != PAGE:
        return f"{len(records)} rows at offset {params['offset']} (q={q!r}), not {PAGE}"
    if q is None and records[0]["_id"] != int(params["offset"]) + 1:
        return f"page at offset {params['offset']} starts at _id {records[0]['_id']}"
    return None


def _download(url: str, sha256: str) -> Callable[[requests.Session, Target, random.Random], str | None]:
    def get(session: requests.Session, _t: Target, _rng: random.Random) -> str | None:
        reply = session.get(url, timeout=TIMEOUT_S)
        if reply.status_code != 200:
            return f"HTTP {reply.status_code}"
        return None if hashlib.sha256(reply.content).hexdigest() == sha256 else "body differs from the lake"

    return get


def _target(settings, spec: DatasetSpec) -> Target:
    pkg = ckan_client(settings, anonymous=True).action.package_show(id=spec.id)
    [csv_res] = [r for r in pkg["resources"] if r.get("citydata_role") == "csv"]
    parquet = [r for r in pkg["resources"] if r.get("format", "").lower() == "parquet"]
    assert csv_res.get("datastore_active") and parquet, pkg["resources"]
    return Target(
        api=f"{settings.ckan.url}/api/3/action",
        dataset=spec.id,
        agency=spec.agency.id,
        resource_id=csv_res["id"],
        csv_download=f"{settings.ckan.url}/dataset/{pkg['id']}/resource/{csv_res['id']}/download",
        csv_sha256=hashlib.sha256(requests.get(csv_res["url"], timeout=60).content).hexdigest(),
        parquet_url=parquet[0]["url"],
        parquet_sha256=hashlib.sha256(requests.get(parquet[0]["url"], timeout=60).content).hexdigest(),
    )


def _client(n: int, t: Target, tally: Tally, start: threading.Barrier, stop_at: list[float]) -> None:
    kinds = {
        "search": _search,
        "datastore page": _page,
        "CSV download": _download(t.csv_download, t.csv_sha256),
        "Parquet download": _download(t.parquet_url, t.parquet_sha256),
    }
    rng = random.Random(n)
    order = list(kinds)
    rng.shuffle(order)  # the clients do not all ask for the same kind at the same moment
    with requests.Session() as session:
        start.wait()
        i = 0
        while time.monotonic() < stop_at[0]:
            kind = order[i % len(order)]
            i += 1
            began = time.monotonic()
            try:
                error = kinds[kind](session, t, rng)
            except Exception as exc:  # noqa: BLE001 - a reader's failure is counted, not raised
                error = f"{type(exc).__name__}: {exc}"
            tally.record(kind, time.monotonic() - began, error)


def _report(tally: Tally, wall: float) -> list[str]:
    lines = [f"{CLIENTS} clients for {wall:.0f} s; latency in ms"]
    lines.append(f"{'kind':<18}{'requests':>9}{'p50':>8}{'p95':>8}{'max':>8}{'errors':>8}")
    every: list[float] = []
    for kind, values in sorted(tally.latencies.items()):
        every += values
        q = statistics.quantiles(values, n=20) if len(values) > 1 else values * 19
        lines.append(
            f"{kind:<18}{len(values):>9}{statistics.median(values) * 1000:>8.0f}{q[18] * 1000:>8.0f}"
            f"{max(values) * 1000:>8.0f}{len(tally.errors[kind]):>8}"
        )
    q = statistics.quantiles(every, n=20)
    errors = sum(len(e) for e in tally.errors.values())
    lines.append(
        f"{'all':<18}{len(every):>9}{statistics.median(every) * 1000:>8.0f}{q[18] * 1000:>8.0f}"
        f"{max(every) * 1000:>8.0f}{errors:>8}   ({len(every) / wall:.1f} requests/s)"
    )
    return lines


@pytest.fixture
def published(stack_ready, unique, tmp_path):
    from citydata.cli.run import run_datasets
    from citydata.storage.lake import Lake

    spec = _spec(unique, tmp_path)
    try:
        [result] = run_datasets([spec], until="catalog_entry")
        assert result["ok"], result
        yield spec
    finally:
        purge_agency(stack_ready, Lake(stack_ready), spec.agency.id, [spec.id])


def test_fifty_readers_for_a_minute_get_every_answer_right(stack_ready, published):
    target = _target(stack_ready, published)
    tally = Tally()
    start = threading.Barrier(CLIENTS + 1)
    stop_at = [0.0]
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(_client, n, target, tally, start, stop_at) for n in range(CLIENTS)]
        stop_at[0] = time.monotonic() + SECONDS  # set before the barrier opens
        start.wait()
        began = time.monotonic()
        for future in futures:
            future.result()
    wall = time.monotonic() - began
    report = _report(tally, wall)
    print("\n" + "\n".join(report))
    errors = {kind: found[:3] for kind, found in tally.errors.items() if found}
    assert not errors, f"{sum(len(e) for e in tally.errors.values())} errors, e.g. {errors}"
    assert set(tally.latencies) == {"search", "datastore page", "CSV download", "Parquet download"}
