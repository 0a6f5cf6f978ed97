"""Fault injection against the real stack: stop, empty or kill a real service, then restore it.

`outage` stops one service of the stack (only it: what it requires keeps running) and, whatever
the test does, starts it again and waits until the whole stack is healthy. `world` makes small
datasets (spec, local CSV, pull, clean) under a test agency and removes everything afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.client import CatalogClient
from catalog.mapping import HASH_KEY, extras_of
from catalog.resources import ROLE
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from ingest.clean import clean_pull
from ingest.pull import pull
from stack.manager import Stack
from tests.integration.cleanup import purge_agency

HEADER = "Mã trạm,Tên trạm,Phường,Số cổng,Ngày lắp đặt"
WARDS = ["Phường Bến Thành", "Phường Sài Gòn", "Phường Tân Định", "Phường An Khánh", "Phường Thủ Đức"]


def rows(n: int, seed: int = 0) -> list[str]:
    return [
        f"T{i:06d},Trạm sạc số {i + seed},{WARDS[i % len(WARDS)]},{(i + seed) % 12 + 1},"
        f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/2024"
        for i in range(n)
    ]


def catalog_view(client: CatalogClient, name: str) -> dict[str, Any]:
    """What a reader of the catalog sees of one dataset, without ids, names and times: state,
    visibility, resources (role, format, name, views, DataStore rows), and whether it is final."""
    pkg = client.call("package_show", id=name)
    resources = []
    for res in pkg["resources"]:
        views = client.call("resource_view_list", id=res["id"])
        datastore = None
        if res.get("datastore_active"):
            datastore = client.call("datastore_search", resource_id=res["id"], limit=0)["total"]
        resources.append((res[ROLE], res["format"], res["name"].replace(name, "<id>"),
                          sorted(v["view_type"] for v in views), datastore))  # fmt: skip
    return {
        "state": pkg["state"],
        "private": pkg["private"],
        "resources": sorted(resources),
        "final": extras_of(pkg).get(HASH_KEY) not in (None, "", "pending"),
    }


class Outage:
    """Stops real services of the stack and brings them back."""

    def __init__(self) -> None:
        self.stack = Stack()
        self.stopped: list[str] = []
        self.timings: dict[str, float] = {}

    def stop(self, name: str) -> None:
        started = time.monotonic()
        assert self.stack.stop([name]), f"{name} was not running"
        self.stopped.append(name)
        self.timings[f"{name} stop"] = round(time.monotonic() - started, 1)

    def restore(self) -> None:
        for name in list(dict.fromkeys(self.stopped)):
            started = time.monotonic()
            self.stack.start(name)
            self.timings[f"{name} start"] = round(time.monotonic() - started, 1)
            self.stopped.remove(name)


@pytest.fixture
def outage(stack_ready: Settings) -> Iterator[Outage]:
    out = Outage()
    try:
        yield out
    finally:
        out.restore()
        unhealthy = [s.name for s in Stack().status() if not s.healthy]
        print(f"service timings: {out.timings}")
        assert not unhealthy, f"stack not healthy after the fault test: {unhealthy}"


class World:
    """Datasets of one test agency: specs (also as YAML files), pulls, and their removal."""

    def __init__(self, settings: Settings, unique: str, tmp: Path) -> None:
        self.settings = settings
        self.unique = unique
        self.tmp = tmp
        self.specs_dir = tmp / "specs"
        self.specs_dir.mkdir()
        self.lake = Lake(settings)
        self.client = CatalogClient(settings)
        self.agency = f"test-fault-{unique}"
        self.datasets: list[str] = []

    def spec(self, name: str, n_rows: int = 20, **extra: Any) -> DatasetSpec:
        dataset = f"tf-{name}-{self.unique}"
        csv = self.tmp / f"{dataset}.csv"
        self.write(csv, rows(n_rows))
        data = {
            "id": dataset,
            "agency": {"id": self.agency, "title": {"vi": "Sở Công Thương (thử nghiệm lỗi)", "en": "Test"}},
            "title": {"vi": f"Trạm sạc xe điện {name} {self.unique}", "en": "EV chargers"},
            "description": {"vi": "Danh sách trạm sạc xe điện (dữ liệu thử nghiệm)."},
            "dublin_core": {"creator": "Sở Công Thương", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
            "synthetic": True,
            "source": {"type": "local_file", "path": str(csv)},
            "cleaning": {"pii": "keep"},
            "schema": {
                "primary_key": ["ma_tram"],
                "columns": {"ma_tram": {"nullable": False}, "so_cong": {"type": "integer", "min": 0}},
            },
            **extra,
        }
        (self.specs_dir / f"{dataset}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
        self.datasets.append(dataset)
        return DatasetSpec.model_validate(data)

    rows = staticmethod(rows)

    def catalog_view(self, name: str) -> dict[str, Any]:
        return catalog_view(self.client, name)

    @staticmethod
    def write(path: Path, lines: list[str]) -> None:
        path.write_bytes(("\n".join([HEADER, *lines]) + "\n").encode())

    def pull_clean(self, spec: DatasetSpec) -> str:
        pulled = pull(spec, self.settings, self.lake)
        assert pulled.pull_id
        clean_pull(spec, self.settings, self.lake, pulled.pull_id)
        return pulled.pull_id

    def cleanup(self) -> None:
        purge_agency(self.settings, self.lake, self.agency, self.datasets)


@pytest.fixture
def world(stack_ready: Settings, unique: str, tmp_path: Path) -> Iterator[World]:
    w = World(stack_ready, unique, tmp_path)
    yield w
    w.cleanup()
