"""Publication against the real stack: lake versions on S3 (SeaweedFS) and the CKAN catalog (Solr,
DataStore, DCAT). Every test creates its own agency (organization), datasets and lake prefixes and
removes them afterwards."""

import codecs
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import ckanapi
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests
import typer
from typer.testing import CliRunner

from catalog.client import CatalogClient
from catalog.publish import PublishBlocked, PublishError, publish, publish_to_lake
from catalog.retire import retire_missing
from citydata.cli.get import get
from citydata.clients import ckan_client
from citydata.data import download_urls, read_dataset, read_table
from citydata.settings import REPO_ROOT
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import zone_prefix
from citydata.storage.published import (
    dataset_prefix,
    listed_versions,
    read_manifest,
    read_pointer,
    read_version_table,
    staging_root,
)
from ingest.clean import clean_pull
from ingest.pull import pull
from lake.hashing import table_fingerprint
from tests.integration.cleanup import purge_agency

pytestmark = pytest.mark.integration

HEADER = "Mã trạm,Tên trạm,Phường,Số cổng,Ngày lắp đặt"
ROWS = [
    "T001,Trạm sạc Bến Thành,Phường Bến Thành,4,01/03/2024",
    'T002,"=HYPERLINK(""http://x"")",Phường Sài Gòn,2,15/04/2024',
    "T003,Trạm sạc Tân Định,,6,20/05/2024",
    "T004,Trạm sạc Đa Kao,Phường Tân Định,8,01/06/2024",
    "T005,Trạm sạc Thủ Thiêm,Phường An Khánh,10,12/07/2024",
]


class World:
    """Creates specs and clean pulls; remembers what to remove."""

    def __init__(self, settings, unique: str, tmp: Path) -> None:
        self.settings = settings
        self.unique = unique
        self.tmp = tmp
        self.lake = Lake(settings)
        self.client = CatalogClient(settings)
        self.anon = ckan_client(settings, anonymous=True)
        self.agency = f"test-pub-{unique}"
        self.datasets: list[str] = []
        self.groups: list[str] = []

    def spec(self, name: str, rows: list[str] = ROWS, **extra: Any) -> DatasetSpec:
        dataset = f"tp-{name}-{self.unique}"
        folder = self.tmp / dataset
        folder.mkdir(parents=True, exist_ok=True)
        self.write(folder / "tram-sac.csv", rows)
        topic = f"Năng lượng {self.unique}"
        data = {
            "id": dataset,
            "agency": {"id": self.agency, "title": {"vi": "Sở Công Thương (thử nghiệm)", "en": "Test"},
                       "email": "sct@example.gov.vn"},
            "title": {"vi": f"Trạm sạc xe điện công cộng {self.unique}", "en": "Public EV chargers"},
            "description": {"vi": "Danh sách trạm sạc xe điện trên địa bàn Thành phố Hồ Chí Minh."},
            "dublin_core": {"creator": "Sở Công Thương", "publisher": "UBND TP.HCM", "date": "2025-07-01",
                            "subject": ["năng lượng"], "coverage": "Thành phố Hồ Chí Minh"},
            "tags": ["xe điện"],
            "topics": [topic],
            "synthetic": True,
            "source": {"type": "local_file", "path": str(folder / "tram-sac.csv")},
            "cleaning": {"pii": "keep"},
            "schema": {"primary_key": ["ma_tram"], "columns": {
                "ma_tram": {"label": "Mã trạm", "description": "Mã định danh trạm sạc", "nullable": False},
                "so_cong": {"type": "integer", "label": "Số cổng sạc"}}},
            **extra,
        }  # fmt: skip
        self.datasets.append(dataset)
        self.groups.append(topic)
        return DatasetSpec.model_validate(data)

    @staticmethod
    def write(path: Path, rows: list[str], newline: str = "\n") -> None:
        path.write_bytes((newline.join([HEADER, *rows]) + newline).encode())

    def path_of(self, spec: DatasetSpec) -> Path:
        return Path(str(spec.source.path))  # type: ignore[union-attr]

    def pull_clean(self, spec: DatasetSpec, rows: list[str] | None = None, newline: str = "\n") -> str:
        if rows is not None or newline != "\n":
            self.write(self.path_of(spec), rows if rows is not None else ROWS, newline)
        pulled = pull(spec, self.settings, self.lake)
        assert not pulled.unchanged and pulled.pull_id
        clean_pull(spec, self.settings, self.lake, pulled.pull_id)
        return pulled.pull_id

    def fake_quality(self, spec: DatasetSpec, pull_id: str, **summary: Any) -> dict[str, Any]:
        prefix = zone_prefix("reports", spec.agency.id, spec.id, pull_id)
        body = {"dataset": spec.id, "pull_id": pull_id, "rows": 5, "score": 96.5, "success": True,
                "blocking": False, "promotable": True, "partial": False, "publish_key": None}  # fmt: skip
        body.update(summary)
        self.lake.put_json(prefix + "summary.json", body)
        self.lake.put_bytes(
            prefix + "data_docs/index.html", b"<html><body>Data Docs</body></html>", "text/html"
        )
        return body

    def public_keys(self) -> dict[str, tuple[str, Any]]:
        """Every object of this test's agency in the published zone (etag, last modified)."""
        out = {}
        for prefix in (f"published/{self.agency}/", f"published/_staging/{self.agency}/"):
            for obj in self.lake.client.list_objects(self.lake.bucket, prefix=prefix, recursive=True):
                out[obj.object_name] = (obj.etag, obj.last_modified)
        return out

    def cleanup(self) -> None:
        purge_agency(self.settings, self.lake, self.agency, self.datasets, self.groups)


@pytest.fixture
def world(stack_ready, unique, tmp_path):
    w = World(stack_ready, unique, tmp_path)
    yield w
    w.cleanup()


def _lake_table(world: World, spec: DatasetSpec, version: int | None = None) -> pa.Table:
    manifest = read_manifest(world.lake, spec.agency.id, spec.id, version)
    assert manifest is not None
    return read_version_table(world.lake, manifest)


def _clean_table(world: World, spec: DatasetSpec, pull_id: str) -> pa.Table:
    key = zone_prefix("clean", spec.agency.id, spec.id, pull_id) + "data.parquet"
    return pq.read_table(io.BytesIO(world.lake.get_bytes(key)))


def _key_of(world: World, url: str) -> str:
    base = f"{world.settings.s3.url}/{world.settings.s3.lake_bucket}/"
    assert url.startswith(base), url
    return url[len(base) :]


def test_publish_find_download_and_rerun_without_writes(world):
    spec = world.spec("pub")
    pull_id = world.pull_clean(spec)
    quality = world.fake_quality(spec, pull_id)
    result = publish(spec, world.settings, world.lake, world.client)
    assert result.version == 1 and not result.unchanged and result.catalog.created

    # Found by a Vietnamese word of its title, anonymously.
    found = world.anon.action.package_search(q="trạm sạc", fq=f"organization:{world.agency}")
    assert [p["name"] for p in found["results"]] == [spec.id]
    pkg = world.anon.action.package_show(id=spec.id)
    assert pkg["organization"]["title"] == "Sở Công Thương (thử nghiệm)"
    assert {"dữ liệu giả lập", "synthetic", "xe điện", "năng lượng"} <= {t["name"] for t in pkg["tags"]}
    assert "Dữ liệu giả lập" in pkg["notes"] and pkg["version"] == "1"
    assert [g["title"] for g in pkg["groups"]] == [f"Năng lượng {world.unique}"]
    assert pkg["creator"] == [{"name": "Sở Công Thương"}] and pkg["publisher"][0]["name"] == "UBND TP.HCM"
    assert pkg["spatial_coverage"] == [{"text": "Thành phố Hồ Chí Minh"}]

    # Every resource downloads anonymously and is byte-identical to the lake object.
    clean = _clean_table(world, spec, pull_id)
    roles = {r["citydata_role"]: r for r in pkg["resources"]}
    assert set(roles) == {"parquet-00000", "csv", "xlsx", "dictionary", "quality-summary", "quality-docs",
                          "versions"}  # fmt: skip
    for res in pkg["resources"]:
        reply = requests.get(res["url"], timeout=30)  # no credentials
        assert reply.status_code == 200, res["url"]
        assert reply.content == world.lake.get_bytes(_key_of(world, res["url"]))
        if res.get("hash"):
            assert hashlib.sha256(reply.content).hexdigest() == res["hash"]
    parquet = pq.read_table(io.BytesIO(requests.get(roles["parquet-00000"]["url"], timeout=30).content))
    assert table_fingerprint(parquet) == table_fingerprint(clean)
    body = requests.get(roles["csv"]["url"], timeout=30).content
    assert body.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8 on a double-click only with a BOM
    text = body.decode("utf-8-sig")  # the csv module, as Python's docs say to open such files
    rows = list(csv.DictReader(io.StringIO(text)))
    frame = pd.read_csv(io.BytesIO(body), dtype=str)  # pandas drops the BOM itself
    assert frame.columns[0] == "ma_tram" and frame["ma_tram"].tolist() == clean.column("ma_tram").to_pylist()
    # Labelled plainly CSV: found under CKAN's format facet; XLoader left it alone (our typed table).
    facets = world.anon.action.package_search(
        fq=f"organization:{world.agency}", **{"facet.field": '["res_format"]'}
    )
    assert "CSV" in facets["facets"]["res_format"] and roles["csv"]["format"] == "CSV"
    with pytest.raises(ckanapi.NotFound):
        ckan_client(world.settings).action.xloader_status(resource_id=roles["csv"]["id"])
    assert [r["ma_tram"] for r in rows] == clean.column("ma_tram").to_pylist()
    assert rows[1]["ten_tram"] == "'" + clean.column("ten_tram")[1].as_py()  # formula neutralised
    dictionary = list(csv.DictReader(io.StringIO(requests.get(roles["dictionary"]["url"], timeout=30).text)))
    assert dictionary[0]["label"] == "Mã trạm" and dictionary[0]["description"] == "Mã định danh trạm sạc"
    assert requests.get(roles["quality-summary"]["url"], timeout=30).json()["score"] == quality["score"]
    versions = requests.get(roles["versions"]["url"], timeout=30).json()
    assert versions["current"] == 1

    # DataStore: preview and datastore_search work anonymously, with the dictionary as field info.
    store = world.anon.action.datastore_search(resource_id=roles["csv"]["id"], q="Thủ Thiêm")
    assert [r["ma_tram"] for r in store["records"]] == ["T005"]
    fields = {f["id"]: f for f in store["fields"]}
    assert fields["so_cong"]["type"] == "int8" and fields["ma_tram"]["info"]["label"] == "Mã trạm"
    assert world.anon.action.datastore_search(resource_id=roles["csv"]["id"], limit=0)["total"] == 5
    views = world.anon.action.resource_view_list(id=roles["csv"]["id"])
    assert [v["view_type"] for v in views] == ["datatables_view"]

    # Web page, DCAT catalog; the staging area is not public.
    page = requests.get(f"{world.settings.ckan.url}/dataset/{spec.id}", timeout=30)
    assert page.status_code == 200 and "Trạm sạc xe điện công cộng" in page.text
    ttl = requests.get(f"{world.settings.ckan.url}/catalog.ttl", params={"q": f"name:{spec.id}"}, timeout=60)
    assert ttl.status_code == 200 and "Trạm sạc xe điện công cộng".encode() in ttl.content
    staging = (
        f"{world.settings.s3.url}/{world.settings.s3.lake_bucket}/{staging_root(world.agency, spec.id)}x"
    )
    assert requests.get(staging, timeout=30).status_code in (403, 404)
    clean_key = zone_prefix("clean", world.agency, spec.id, pull_id) + "data.parquet"
    clean_url = f"{world.settings.s3.url}/{world.settings.s3.lake_bucket}/{clean_key}"
    assert requests.get(clean_url, timeout=30).status_code == 403

    # Re-run on the same data: zero writes to CKAN and S3.
    admin = ckan_client(world.settings)
    time.sleep(1)
    activities = admin.action.package_activity_list(id=spec.id, limit=100)
    modified = admin.action.package_show(id=spec.id)["metadata_modified"]
    objects = world.public_keys()
    policy = world.lake.client.get_bucket_policy(world.lake.bucket)
    again = publish(spec, world.settings, world.lake, CatalogClient(world.settings))
    assert again.unchanged and again.catalog.writes == [] and again.lake.objects_written == 0
    # Same rows in a new pull (the file's bytes changed: CRLF line ends): still nothing written.
    world.pull_clean(spec, ROWS, newline="\r\n")
    third = publish(spec, world.settings, world.lake, CatalogClient(world.settings))
    assert third.unchanged and third.lake.reason == "same rows as the current version"
    time.sleep(2)
    assert admin.action.package_activity_list(id=spec.id, limit=100) == activities
    assert admin.action.package_show(id=spec.id)["metadata_modified"] == modified
    assert world.public_keys() == objects
    assert world.lake.client.get_bucket_policy(world.lake.bucket) == policy


def test_changed_row_gives_new_version_and_old_ones_are_kept(world):
    spec = world.spec("ver", publication={"keep_versions": 2, "part_rows": 2, "csv_bom": True})
    world.pull_clean(spec)
    first = publish(spec, world.settings, world.lake, world.client)
    assert first.version == 1 and len(first.lake.manifest["parts"]) == 3
    v1_rows = _lake_table(world, spec).to_pylist()

    changed = [*ROWS[:3], "T004,Trạm sạc Đa Kao,Phường Tân Định,12,01/06/2024", ROWS[4]]
    world.pull_clean(spec, changed)
    second = publish(spec, world.settings, world.lake, world.client)
    assert second.version == 2 and not second.unchanged
    pointer = read_pointer(world.lake, spec.agency.id, spec.id)
    assert pointer is not None and [v.version for v in pointer.versions] == [2, 1]
    assert _lake_table(world, spec, 1).to_pylist() == v1_rows  # v1 kept and readable
    assert [r["so_cong"] for r in _lake_table(world, spec).to_pylist()] == [4, 2, 6, 12, 10]

    pkg = world.anon.action.package_show(id=spec.id)
    assert pkg["version"] == "2" and len(pkg["has_version"]) == 1
    assert pkg["has_version"][0].endswith("v1/_manifest.json")
    assert "v1 —" in pkg["notes"] and "v2 —" in pkg["notes"]
    parts = sorted(r["citydata_role"] for r in pkg["resources"] if r["citydata_role"].startswith("parquet"))
    assert parts == ["parquet-00000", "parquet-00001", "parquet-00002"]
    assert all("/v2/" in r["url"] for r in pkg["resources"] if r["citydata_role"] != "versions")
    csv_res = next(r for r in pkg["resources"] if r["citydata_role"] == "csv")
    assert requests.get(csv_res["url"], timeout=30).content.startswith(b"\xef\xbb\xbf")
    found = world.anon.action.datastore_search(resource_id=csv_res["id"], filters={"ma_tram": "T004"})
    assert [r["so_cong"] for r in found["records"]] == [12]

    # Data scientists: the Python function and the command read the same rows as the lake.
    frame = read_dataset(spec.id)
    assert frame["so_cong"].tolist() == [4, 2, 6, 12, 10]
    assert str(frame["ngay_lap_dat"].dtype).startswith("datetime64")  # dates as dates, not objects
    assert read_dataset(f"{world.settings.ckan.url}/dataset/{spec.id}", version=1).to_dict("records") == (
        pa.Table.from_pylist(v1_rows).to_pandas(date_as_object=False).to_dict("records")
    )
    app = typer.Typer()
    app.command()(get)
    out = world.tmp / "out.parquet"
    reply = CliRunner().invoke(app, [spec.id, "-o", str(out)])
    assert reply.exit_code == 0, reply.output
    assert table_fingerprint(pq.read_table(out)) == table_fingerprint(_lake_table(world, spec))
    reply = CliRunner().invoke(app, [spec.id, "--version", "1", "-o", str(world.tmp / "v1.csv")])
    assert reply.exit_code == 0, reply.output
    assert len((world.tmp / "v1.csv").read_text().splitlines()) == 6

    # A third version: only the newest two are kept, v1 is deleted from the lake.
    world.pull_clean(spec, ROWS[:4])
    third = publish(spec, world.settings, world.lake, world.client)
    assert third.version == 3 and third.lake.dropped_versions == [1]
    assert listed_versions(world.lake, spec.agency.id, spec.id) == [2, 3]
    assert world.anon.action.package_show(id=spec.id)["version"] == "3"
    with pytest.raises(Exception, match="not kept"):
        read_dataset(spec.id, version=1)


def test_private_dataset_is_invisible_to_anonymous_users(world):
    spec = world.spec("priv", publication={"private": True})
    world.pull_clean(spec)
    result = publish(spec, world.settings, world.lake, world.client)
    assert result.version == 1
    with pytest.raises((ckanapi.NotAuthorized, ckanapi.NotFound)):
        world.anon.action.package_show(id=spec.id)
    assert world.anon.action.package_search(q=f"name:{spec.id}")["count"] == 0
    assert world.anon.action.package_search(q="trạm sạc", fq=f"organization:{world.agency}")["count"] == 0
    page = requests.get(f"{world.settings.ckan.url}/dataset/{spec.id}", timeout=30)
    assert page.status_code in (403, 404) and "Trạm sạc xe điện" not in page.text
    ttl = requests.get(f"{world.settings.ckan.url}/catalog.ttl", params={"q": f"name:{spec.id}"}, timeout=60)
    assert spec.id.encode() not in ttl.content

    pkg = ckan_client(world.settings).action.package_show(id=spec.id)
    assert pkg["private"] is True and pkg["access_rights"].endswith("NON_PUBLIC")
    parquet = next(r for r in pkg["resources"] if r["citydata_role"] == "parquet-00000")
    assert parquet["url"].startswith("s3://")
    key = parquet["url"].split("/", 3)[3]
    anonymous = requests.get(f"{world.settings.s3.url}/{world.settings.s3.lake_bucket}/{key}", timeout=30)
    assert anonymous.status_code == 403
    csv_res = next(r for r in pkg["resources"] if r["citydata_role"] == "csv")
    assert ckan_client(world.settings).action.datastore_search(resource_id=csv_res["id"])["total"] == 5
    with pytest.raises(ckanapi.NotAuthorized):
        world.anon.action.datastore_search(resource_id=csv_res["id"])
    # CKAN's own routes for the resource: page, download (which would redirect to S3), DataStore dump.
    ckan = world.settings.ckan.url
    for path in (
        f"/dataset/{spec.id}/resource/{csv_res['id']}",
        f"/dataset/{spec.id}/resource/{csv_res['id']}/download",
        f"/datastore/dump/{csv_res['id']}",
        f"/dataset/{spec.id}.rdf",
    ):
        reply = requests.get(ckan + path, timeout=30, allow_redirects=False)
        assert reply.status_code in (403, 404), f"{path}: {reply.status_code}"
    sql = f'SELECT * FROM "{csv_res["id"]}"'
    with pytest.raises((ckanapi.NotAuthorized, ckanapi.ValidationError, ckanapi.CKANAPIError)):
        world.anon.action.datastore_search_sql(sql=sql)
    csv_key = csv_res["url"].split("/", 3)[3]  # s3:// for a private dataset
    assert (
        requests.get(
            f"{world.settings.s3.url}/{world.settings.s3.lake_bucket}/{csv_key}", timeout=30
        ).status_code
        == 403
    )
    # Authorised users: presigned URLs and read_dataset with the configured credentials.
    [url] = download_urls(spec.id, settings=world.settings)
    assert requests.get(url, timeout=30).status_code == 200
    assert read_table(spec.id, settings=world.settings).num_rows == 5


CRASH = textwrap.dedent(
    """
    import json, os, signal, sys
    from catalog.publish import publish_to_lake
    from citydata.settings import load_settings
    from citydata.spec.model import DatasetSpec
    from lake.promote import PublishHooks

    spec = DatasetSpec.model_validate(json.load(open(sys.argv[1])))
    def die(prefix):
        print("killing at", sys.argv[2], prefix, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    publish_to_lake(spec, load_settings(), hooks=PublishHooks(**{sys.argv[2]: die}))
    print("not killed")
    """
)


def test_killed_publication_leaves_the_previous_version(world):
    spec = world.spec("crash")
    world.pull_clean(spec)
    publish(spec, world.settings, world.lake, world.client)
    v1 = read_table(spec.id, settings=world.settings)
    world.pull_clean(spec, [*ROWS, "T006,Trạm sạc mới,Phường Bến Nghé,2,01/08/2024"])
    spec_file = world.tmp / "spec.json"
    spec_file.write_text(json.dumps(spec.model_dump(mode="json", by_alias=True)))
    script = world.tmp / "crash.py"
    script.write_text(CRASH)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    for hook in ("after_stage", "after_copy", "after_manifest"):
        proc = subprocess.run([sys.executable, str(script), str(spec_file), hook], cwd=REPO_ROOT, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert proc.returncode == -9, proc.stdout + proc.stderr
        assert f"killing at {hook}" in proc.stdout
        pointer = read_pointer(world.lake, spec.agency.id, spec.id)
        assert pointer is not None and pointer.current == 1 and [v.version for v in pointer.versions] == [1]
        assert read_table(spec.id, settings=world.settings).equals(v1)  # readers still get v1
        assert _lake_table(world, spec).num_rows == 5
    assert list(world.lake.keys(staging_root(spec.agency.id, spec.id)))  # the killed runs' leftovers
    # The next run finishes the job (adopting the completed v2) and removes the leftovers.
    result = publish_to_lake(spec, world.settings, world.lake, stale_staging_after=timedelta(0))
    assert result[0].version == 2 and result[0].reason == "adopted a completed version"
    assert _lake_table(world, spec).num_rows == 6
    assert not list(world.lake.keys(staging_root(spec.agency.id, spec.id)))


def test_half_copied_version_is_replaced(world):
    spec = world.spec("half")
    world.pull_clean(spec)
    publish_to_lake(spec, world.settings, world.lake)
    world.pull_clean(spec, ROWS[:2])
    garbage = dataset_prefix(spec.agency.id, spec.id) + "v2/"
    world.lake.put_bytes(garbage + "tp-stale.parquet", b"partial")
    lake_result, _ = publish_to_lake(spec, world.settings, world.lake)
    assert lake_result.version == 2
    assert not world.lake.exists(garbage + "tp-stale.parquet")
    assert _lake_table(world, spec).num_rows == 2


def test_lost_pointer_takes_completed_versions_back(world):
    spec = world.spec("lost")
    world.pull_clean(spec)
    publish_to_lake(spec, world.settings, world.lake)
    world.pull_clean(spec, ROWS[:3])
    publish_to_lake(spec, world.settings, world.lake)
    world.lake.client.remove_object(
        world.lake.bucket, dataset_prefix(spec.agency.id, spec.id) + "_current.json"
    )
    world.pull_clean(spec, ROWS[:1])
    result, _ = publish_to_lake(spec, world.settings, world.lake)
    assert result.version == 3
    assert [v.version for v in result.pointer.versions] == [3, 2, 1]
    assert _lake_table(world, spec, 1).num_rows == 5 and _lake_table(world, spec).num_rows == 1


def test_quality_gate_blocks_or_narrows_publication(world):
    spec = world.spec("gate")
    pull_id = world.pull_clean(spec)
    world.fake_quality(spec, pull_id, promotable=False, blocking=True, score=40.0)
    with pytest.raises(PublishBlocked):
        publish_to_lake(spec, world.settings, world.lake)
    assert not list(world.lake.keys(dataset_prefix(spec.agency.id, spec.id)))
    # Partial publication: the quality gate wrote validated.parquet with the passing rows.
    clean = _clean_table(world, spec, pull_id)
    validated = zone_prefix("clean", spec.agency.id, spec.id, pull_id) + "validated.parquet"
    sink = io.BytesIO()
    pq.write_table(clean.slice(0, 3), sink)
    world.lake.put_bytes(validated, sink.getvalue())
    world.fake_quality(spec, pull_id, partial=True, publish_key=validated)
    result, _ = publish_to_lake(spec, world.settings, world.lake)
    assert result.manifest["rows"] == 3 and result.manifest["source"]["kind"] == "validated"
    assert result.manifest["quality"]["partial"] is True
    assert "quality_summary" in result.manifest["files"] and "data_docs" in result.manifest["files"]


def test_retire_missing_specs(world):
    keep = world.spec("keep")
    gone = world.spec("gone")
    for spec in (keep, gone):
        world.pull_clean(spec)
        publish(spec, world.settings, world.lake, world.client)
    actions = retire_missing([keep], "private", settings=world.settings, organizations=[world.agency])
    assert [(a.dataset, a.action) for a in actions] == [(gone.id, "made-private")]
    with pytest.raises((ckanapi.NotAuthorized, ckanapi.NotFound)):
        world.anon.action.package_show(id=gone.id)
    key = read_manifest(world.lake, gone.agency.id, gone.id)["parts"][0]["key"]  # type: ignore[index]
    assert requests.get(f"{world.settings.s3.url}/{world.lake.bucket}/{key}", timeout=30).status_code == 403
    client = CatalogClient(world.settings)
    again = retire_missing(
        [keep], "private", settings=world.settings, client=client, organizations=[world.agency]
    )
    assert [a.action for a in again] == ["already-private"] and client.writes == []

    deleted = retire_missing([keep], "delete", settings=world.settings, organizations=[world.agency])
    assert [(a.dataset, a.action) for a in deleted] == [(gone.id, "deleted")]
    assert ckan_client(world.settings).action.package_show(id=gone.id)["state"] == "deleted"
    assert read_pointer(world.lake, gone.agency.id, gone.id) is not None  # nothing purged
    assert world.anon.action.package_show(id=keep.id)["state"] == "active"

    # The spec comes back: the dataset is active and public again.
    back = publish(gone, world.settings, world.lake, world.client)
    assert not back.catalog.unchanged
    restored = world.anon.action.package_show(id=gone.id)
    assert restored["state"] == "active" and restored["private"] is False
    assert requests.get(f"{world.settings.s3.url}/{world.lake.bucket}/{key}", timeout=30).status_code == 200


def test_dagster_assets_publish_and_report_unchanged(world):
    import dagster as dg

    from pipelines.datasets.assets import asset_key, build_dataset_assets
    from pipelines.datasets.publish_assets import build_publish_assets
    from pipelines.resources import default_resources

    spec = world.spec("dg")
    assets = [*build_dataset_assets(spec), *build_publish_assets(spec)]
    keys = [asset_key(spec, s) for s in ("raw", "clean", "published", "catalog_entry")]
    with dg.DagsterInstance.ephemeral() as instance:
        run = dg.materialize(assets, selection=keys, resources=default_resources(), instance=instance)
        assert run.success
        meta = instance.get_latest_materialization_event(keys[2]).asset_materialization.metadata  # type: ignore[union-attr]
        assert meta["version"].value == 1 and meta["unchanged"].value is False
        entry = instance.get_latest_materialization_event(keys[3]).asset_materialization.metadata  # type: ignore[union-attr]
        assert entry["ckan_url"].value.endswith(f"/dataset/{spec.id}")
        run = dg.materialize(assets, selection=keys[2:], resources=default_resources(), instance=instance)
        assert run.success
        meta = instance.get_latest_materialization_event(keys[2]).asset_materialization.metadata  # type: ignore[union-attr]
        entry = instance.get_latest_materialization_event(keys[3]).asset_materialization.metadata  # type: ignore[union-attr]
        assert meta["unchanged"].value is True and entry["unchanged"].value is True
        assert entry["ckan_writes"].value == []


def test_a_foreign_dataset_with_the_same_name_is_not_overwritten(world):
    spec = world.spec("foreign")
    world.pull_clean(spec)
    publish_to_lake(spec, world.settings, world.lake)
    admin = ckan_client(world.settings)
    org = admin.action.organization_create(name=world.agency, title="Sở thử nghiệm")
    admin.action.package_create(name=spec.id, title="Bộ dữ liệu khác", notes="Tạo tay", owner_org=org["id"])
    with pytest.raises(PublishError, match="not published by citydata"):
        publish(spec, world.settings, world.lake, world.client)
    assert admin.action.package_show(id=spec.id)["title"] == "Bộ dữ liệu khác"
