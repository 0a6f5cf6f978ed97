"""Disaster recovery against the real stack: CKAN loses its database (dropped and made again empty,
its Solr documents and Redis database cleared: `stack.ckan_reset`), and `citydata catalog rebuild`
recreates every organization, group, dataset, resource, view and DataStore table from the lake.
Each dataset's package_show, views, DataStore fields and rows, organization and groups are compared
with what CKAN held before: only the fields CKAN makes itself may differ (`CKAN_MADE`, documented in
the README). A second rebuild changes nothing. Covered: a public dataset with Vietnamese text and
codes with leading zeros, its labeled dataset (Label Studio), a private dataset with two versions,
and a retired one; a dataset whose record cannot be published fails alone."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from catalog.client import CatalogClient
from catalog.publish import publish
from catalog.record import CatalogRecord, read_record, record_key, spec_snapshot
from catalog.retire import retire_missing
from citydata.clients import ckan_client
from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import current_key
from ingest.clean import clean_pull
from ingest.pull import pull
from labeling.annotation_import import import_annotations
from labeling.client import LabelStudio
from labeling.labeled import labels_name
from labeling.publish import publish_labeled_dataset
from labeling.task_export import export_tasks
from stack.ckan_reset import reset_ckan
from tests.integration.cleanup import purge_agency
from tests.integration.test_labeling import choice

pytestmark = [pytest.mark.integration, pytest.mark.faults, pytest.mark.ckan_reset]

HEADER = "Mã phường,Tên phường,Ghi chú,Số hộ,Ngày cập nhật"
ROWS = [
    "00001,Phường Bến Thành,Chợ Bến Thành; trung tâm,12.345,01/07/2025",
    "00027,Phường Sài Gòn,,8.020,01/07/2025",
    "00103,Phường Tân Định,Đường Hai Bà Trưng,9.731,15/07/2025",
    "01120,Phường Thủ Đức,=1+1 (không phải công thức),21.004,01/08/2025",
    "26734,Xã Thạnh An,Huyện Cần Giờ cũ — đảo,1.215,02/08/2025",
]
# What CKAN makes itself and a rebuilt catalog cannot keep: ids (new rows), the times CKAN stamps,
# and the sysadmin's user record (a new user: id, created, last active), shown as the member of the
# organization and groups and as `creator_user_id`. Paths: `[]` is any element of a list. The
# README's "Disaster recovery" section lists the same fields.
CKAN_MADE = {
    "package.id", "package.metadata_created", "package.metadata_modified", "package.creator_user_id",
    "package.owner_org", "package.organization.id", "package.organization.created",
    "package.groups[].id", "package.tags[].id",
    "package.resources[].id", "package.resources[].package_id", "package.resources[].created",
    "package.resources[].metadata_modified",
    "organization.id", "organization.created", "groups[].id", "groups[].created",
    *(f"{owner}.users[].{field}" for owner in ("organization", "groups[]")
      for field in ("id", "created", "last_active")),
}  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "citydata"), *args], capture_output=True,
                          text=True, timeout=1800, env=dict(os.environ))  # fmt: skip


def diff_paths(a: Any, b: Any, path: str) -> set[str]:
    """The paths at which two JSON values differ (list elements compared in order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: set[str] = set()
        for key in sorted(a.keys() | b.keys()):
            if key not in a or key not in b:
                out.add(f"{path}.{key}")
            else:
                out |= diff_paths(a[key], b[key], f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return set().union(*(diff_paths(x, y, f"{path}[]") for x, y in zip(a, b, strict=True)))
    return set() if a == b else {path}


def _rows(client: CatalogClient, resource_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.call(
            "datastore_search", resource_id=resource_id, limit=1000, offset=len(out), sort="_id"
        )
        out += page["records"]
        if not page["records"] or len(out) >= page["total"]:
            return out


def catalog_state(client: CatalogClient, name: str) -> dict[str, Any]:
    """Everything CKAN holds of one dataset, as its API shows it to the sysadmin."""
    pkg = client.call("package_show", id=name)
    views, datastore = {}, {}
    for res in pkg["resources"]:
        role = res["citydata_role"]
        views[role] = [{k: v for k, v in view.items() if k not in ("id", "resource_id", "package_id")}
                       for view in client.call("resource_view_list", id=res["id"])]  # fmt: skip
        if res.get("datastore_active"):
            info = client.call("datastore_search", resource_id=res["id"], limit=0)
            datastore[role] = {
                "fields": info["fields"],
                "total": info["total"],
                "rows": _rows(client, res["id"]),
            }
    org = client.call("organization_show", id=pkg["organization"]["name"], include_extras=True,
                      include_datasets=False, include_users=True)  # fmt: skip
    groups = [client.call("group_show", id=g["name"], include_datasets=False) for g in pkg["groups"]]
    return {"package": pkg, "views": views, "datastore": datastore, "organization": org, "groups": groups}


def _search(client: Any, agency: str, private: bool) -> list[str]:
    found = client.call("package_search", fq=f"organization:{agency}", include_private=private, rows=100) \
        if isinstance(client, CatalogClient) else \
        client.action.package_search(fq=f"organization:{agency}", rows=100)  # fmt: skip
    return sorted(p["name"] for p in found["results"])


class Scene:
    def __init__(self, unique: str, tmp: Path) -> None:
        self.settings = load_settings()
        self.unique, self.tmp = unique, tmp
        self.lake = Lake(self.settings)
        self.agency = f"test-dr-{unique}"
        self.names: list[str] = []
        self.topics: list[str] = []
        self.projects: list[int] = []

    def spec(self, name: str, rows: list[str], **extra: Any) -> DatasetSpec:
        dataset = f"dr-{name}-{self.unique}"
        folder = self.tmp / dataset
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "data.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
        topic = f"Hành chính {self.unique}"
        data = {
            "id": dataset,
            "agency": {"id": self.agency, "title": {"vi": "Sở Nội vụ (thử nghiệm phục hồi)", "en": "Test"},
                       "email": "snv@example.gov.vn", "url": "https://snv.example.gov.vn"},
            "title": {"vi": f"Phường, xã và số hộ {name}", "en": "Wards and households"},
            "description": {"vi": "Danh sách phường, xã của Thành phố Hồ Chí Minh sau sắp xếp."},
            "dublin_core": {"creator": "Sở Nội vụ", "publisher": "UBND TP.HCM", "date": "2025-07-01",
                            "subject": ["hành chính"], "coverage": "Thành phố Hồ Chí Minh"},
            "tags": ["phường xã"],
            "topics": [topic],
            "synthetic": True,
            "source": {"type": "local_file", "path": str(folder / "data.csv")},
            "cleaning": {"pii": "keep"},
            "schema": {"primary_key": ["ma_phuong"], "locale": "vi", "columns": {
                "ma_phuong": {"label": "Mã phường", "nullable": False}, "ten_phuong": {"label": "Tên phường"},
                "so_ho": {"type": "integer", "label": "Số hộ"}}},
            **extra,
        }  # fmt: skip
        self.names.append(dataset)
        self.topics.append(topic)
        return DatasetSpec.model_validate(data)

    def publish(self, spec: DatasetSpec) -> None:
        pulled = pull(spec, self.settings, self.lake)
        assert pulled.pull_id
        clean_pull(spec, self.settings, self.lake, pulled.pull_id)
        publish(spec, self.settings, self.lake, CatalogClient(self.settings))

    def cleanup(self) -> None:
        settings = load_settings()  # CKAN's tokens changed with its database
        ls = LabelStudio(settings)
        for project in self.projects:
            with contextlib.suppress(Exception):
                ls.sdk.projects.delete(id=project)
        purge_agency(settings, Lake(settings), self.agency, self.names, self.topics)


@pytest.fixture
def scene(stack_ready, unique, tmp_path):
    made = Scene(unique, tmp_path)
    yield made
    made.cleanup()


def test_catalog_rebuilt_from_the_lake_after_ckan_lost_its_database(scene):
    labeling = {"task_type": "text_classification", "labels": {"dung": "Đúng", "sai": "Sai"},
                "columns": ["ten_phuong"], "sample_size": 5}  # fmt: skip
    wards = scene.spec("phuong", ROWS, labeling=labeling)
    households = scene.spec("ho-dan", ROWS[:3], publication={"private": True})
    retired = scene.spec("cu", ROWS[3:])
    for spec in (wards, households, retired):
        scene.publish(spec)
    (scene.tmp / households.id / "data.csv").write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    scene.publish(households)  # v2: the entry lists both versions
    client = CatalogClient(scene.settings)
    actions = retire_missing([wards, households], "private", settings=scene.settings, client=client,
                             lake=scene.lake, organizations=[scene.agency])  # fmt: skip
    assert [(a.dataset, a.action) for a in actions] == [(retired.id, "made-private")]

    # Labels of the public dataset: Label Studio project, two annotations, pull, publish.
    ls = LabelStudio(scene.settings)
    pushed = export_tasks(wards, scene.settings, scene.lake, ls)
    scene.projects.append(pushed.project_id)
    tasks = {t["data"]["row_id"]: t for t in ls.iter_tasks(pushed.project_id)}
    for row_id, label in (("00001", "dung"), ("00027", "sai")):
        ls.sdk.annotations.create(id=tasks[row_id]["id"], result=choice(label))
    imported = import_annotations(wards, scene.settings, scene.lake, ls)
    publish_labeled_dataset(wards, imported, scene.settings, scene.lake)
    labels = labels_name(wards)
    scene.names.append(labels)
    names = [wards.id, households.id, retired.id, labels]
    assert read_record(scene.lake, scene.agency, retired.id).retired == "private"  # type: ignore[union-attr]

    before = {n: catalog_state(client, n) for n in names}
    assert before[households.id]["package"]["version"] == "2"
    assert before[wards.id]["datastore"]["csv"]["rows"][0]["ma_phuong"] == "00001"
    searched = (_search(client, scene.agency, True), _search(ckan_client(scene.settings, anonymous=True),
                                                             scene.agency, False))  # fmt: skip
    assert searched == (sorted(names), sorted([wards.id, labels]))

    # A dataset the lake holds but cannot publish (its recorded spec no longer validates): reported
    # as failed, by name and reason, while the others are rebuilt; the exit code says so.
    broken = f"dr-hong-{scene.unique}"
    pointer = scene.lake.get_json(current_key(scene.agency, households.id))
    scene.lake.put_json(current_key(scene.agency, broken), {**pointer, "dataset": broken})
    bad_spec = {**spec_snapshot(retired), "id": broken, "license": "khong-co"}
    scene.lake.put_json(record_key(scene.agency, broken),
                        CatalogRecord(broken, scene.agency, bad_spec).as_dict())  # fmt: skip

    reset_s = reset_ckan()
    settings = load_settings()  # new API tokens
    client = CatalogClient(settings)
    for name in names:
        assert client.show("package_show", id=name) is None
    assert client.show("organization_show", id=scene.agency) is None

    started = time.monotonic()
    first = _cli("catalog", "rebuild", "--json")
    rebuild_s = time.monotonic() - started
    report = json.loads(first.stdout)
    ours = {d["dataset"]: d for d in report["datasets"] if d["agency"] == scene.agency}
    assert {n: ours[n]["status"] for n in names} == dict.fromkeys(names, "created"), ours
    assert ours[retired.id]["retired"] == "private" and ours[labels]["kind"] == "labels"
    assert ours[broken]["status"] == "failed" and "license" in ours[broken]["message"], ours[broken]
    assert first.returncode == 1 and report["ok"] is False
    for key in (current_key(scene.agency, broken), record_key(scene.agency, broken)):
        scene.lake.client.remove_object(scene.lake.bucket, key)
        scene.lake.client.remove_object(scene.lake.bucket, key.rsplit("/", 1)[0] + "/")  # SeaweedFS folder
    print(
        f"\nreset {reset_s:.1f}s; rebuild of {len(report['datasets'])} datasets: {rebuild_s:.1f}s wall, "
        f"{report['seconds']}s reported; ours: " + ", ".join(f"{n} {ours[n]['seconds']}s" for n in names)
    )

    after = {n: catalog_state(client, n) for n in names}
    for name in names:
        differing = diff_paths(before[name], after[name], "")
        differing = {p.lstrip(".") for p in differing}
        print(name, "differs at", sorted(differing))
        assert differing <= CKAN_MADE, (name, sorted(differing - CKAN_MADE))
        assert before[name]["datastore"] == after[name]["datastore"]  # every row, every value, typed
    assert after[retired.id]["package"]["private"] is True
    assert (_search(client, scene.agency, True), _search(ckan_client(settings, anonymous=True), scene.agency,
                                                        False)) == searched  # fmt: skip

    again = _cli("catalog", "rebuild", scene.agency, "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert {d["dataset"]: d["status"] for d in second["datasets"]} == dict.fromkeys(names, "unchanged")
    for name in names:  # nothing written: CKAN's own modification times did not move
        pkg = client.call("package_show", id=name)
        assert pkg["metadata_modified"] == after[name]["package"]["metadata_modified"]
