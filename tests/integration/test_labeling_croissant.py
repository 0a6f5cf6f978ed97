"""Labeled datasets described in Croissant: published end to end against the real Label Studio, S3 and
CKAN, then read back anonymously with mlcroissant and compared with the Parquet read by pyarrow."""

import io
import json
from collections import Counter

import mlcroissant as mlc
import pyarrow.parquet as pq
import pytest
import requests

from citydata.clients import ckan_client
from labeling.annotation_import import import_annotations
from labeling.labeled import labels_name
from labeling.publish import publish_labeled_dataset
from labeling.task_export import export_tasks
from tests.integration.test_labeling import PNG, TEXT, choice, env, make_spec, text_table  # noqa: F401

pytestmark = pytest.mark.integration


def _annotators(ls, created, unique, prefix):
    users = []
    for name in ("a", "b"):
        user = ls.sdk.users.create(
            username=f"{prefix}-{name}-{unique}", email=f"{prefix}-{name}-{unique}@x.local"
        )
        created["users"].append(user.id)
        users.append(user.id)
    return users


def _resource(package, role):
    [res] = [r for r in package["resources"] if r.get("citydata_role") == role]
    return res


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def test_croissant_of_a_labeled_dataset_loads_the_published_rows(env, unique):  # noqa: F811 - `env` is a fixture
    settings, lake, ls, setup, created = env
    spec = setup(TEXT, text_table())
    pushed = export_tasks(spec, settings, lake, ls)
    created["projects"].append(pushed.project_id)
    tasks = {t["data"]["row_id"]: t for t in ls.iter_tasks(pushed.project_id)}
    users = _annotators(ls, created, unique, "cr")
    a = ["giao_thong", "giao_thong", "moi_truong", "moi_truong", "giao_thong"]
    b = ["giao_thong", "moi_truong", "moi_truong", "moi_truong", "giao_thong"]
    for i in range(5):
        for uid, labels in zip(users, (a, b), strict=True):
            ls.sdk.annotations.create(
                id=tasks[f"PA{i:03d}"]["id"], result=choice(labels[i]), completed_by=uid
            )
    result = import_annotations(spec, settings, lake, ls)
    publish_labeled_dataset(spec, result, settings, lake)

    anonymous = ckan_client(settings, anonymous=True)
    package = anonymous.action.package_show(id=labels_name(spec))
    croissant = _resource(package, "croissant")
    assert croissant["format"] == "JSON-LD" and croissant["name"] == "Croissant (ML)"
    body = requests.get(croissant["url"], timeout=30)  # no credentials
    assert body.status_code == 200, croissant["url"]
    jsonld = body.json()
    assert jsonld["conformsTo"] == "http://mlcommons.org/croissant/1.0"
    assert jsonld["url"].endswith(f"/dataset/{labels_name(spec)}")

    # The independent reader: the Parquet resource, fetched anonymously and read with pyarrow.
    parquet_res = _resource(package, "parquet-00000")
    parquet = pq.read_table(io.BytesIO(requests.get(parquet_res["url"], timeout=30).content)).to_pylist()
    [parquet_file] = [d for d in jsonld["distribution"] if d["encodingFormat"] == "application/x-parquet"]
    assert parquet_file["contentUrl"] == parquet_res["url"] and parquet_file["sha256"] == parquet_res["hash"]

    dataset = mlc.Dataset(jsonld=croissant["url"])
    records = list(dataset.records(record_set="records"))
    assert len(records) == len(parquet) == 5
    got = {_text(r["records/row_id"]): _text(r["records/label"]) for r in records}
    want = {r["row_id"]: r["label"] for r in parquet}
    assert got == want
    assert want == {"PA000": "giao_thong", "PA001": None, "PA002": "moi_truong", "PA003": "moi_truong",
                    "PA004": "giao_thong"}  # fmt: skip
    assert {_text(r["records/noi_dung"]) for r in records} == {r["noi_dung"] for r in parquet}

    stats = list(dataset.records(record_set="label_statistics"))
    counts = {_text(s["label_statistics/label"]): int(s["label_statistics/count"]) for s in stats}
    assert counts == dict(Counter(r["label"] for r in parquet if r["label"] is not None))
    agreement = {_text(s["label_statistics/label"]): s["label_statistics/agreement"] for s in stats}
    for label, value in agreement.items():
        assert value == pytest.approx(result.agreement["per_label_agreement"][label])

    # An unchanged re-run writes nothing: the version, the croissant file and the package stay as they are.
    key = croissant["url"].split(f"/{settings.s3.lake_bucket}/", 1)[1]
    before = lake.client.stat_object(lake.bucket, key)
    shown = ckan_client(settings).action.package_show(id=labels_name(spec))
    publish_labeled_dataset(spec, result, settings, lake)
    after = lake.client.stat_object(lake.bucket, key)
    assert (after.etag, after.last_modified) == (before.etag, before.last_modified)
    again = ckan_client(settings).action.package_show(id=labels_name(spec))
    assert again["metadata_modified"] == shown["metadata_modified"]
    assert json.loads(lake.get_bytes(key)) == jsonld


def test_croissant_of_labeled_scans_points_to_images_anyone_can_open(env, unique):  # noqa: F811 - `env` is a fixture
    settings, lake, ls, setup, created = env
    spec = make_spec(unique, {"task_type": "image_bbox", "labels": ["o_ga", "rac"], "columns": ["anh"]})
    key = f"{spec.agency.id}/{spec.id}/anh-001.png"
    lake.client.put_object(
        settings.s3.labeling_bucket, key, io.BytesIO(PNG), len(PNG), content_type="image/png"
    )
    try:
        spec = setup(spec.labeling, text_table().append_column("anh", [[key] * 6]).slice(0, 1))
        pushed = export_tasks(spec, settings, lake, ls)
        created["projects"].append(pushed.project_id)
        [task] = list(ls.iter_tasks(pushed.project_id))
        box = {"x": 10.0, "y": 20.0, "width": 30.0, "height": 40.0, "rotation": 0, "rectanglelabels": ["rac"]}
        result = [{"from_name": "label", "to_name": "image", "type": "rectanglelabels", "value": box}]
        for uid in _annotators(ls, created, unique, "crimg"):
            ls.sdk.annotations.create(id=task["id"], result=result, completed_by=uid)
        publish_labeled_dataset(spec, import_annotations(spec, settings, lake, ls), settings, lake)
    finally:
        lake.client.remove_object(settings.s3.labeling_bucket, key)

    package = ckan_client(settings, anonymous=True).action.package_show(id=labels_name(spec))
    dataset = mlc.Dataset(jsonld=_resource(package, "croissant")["url"])
    [field] = [f for f in dataset.metadata.record_sets[0].fields if f.name == "anh"]
    assert str(field.data_types[0]).endswith("URL")
    [record] = list(dataset.records(record_set="records"))
    url = _text(record["records/anh"])
    assert url.startswith(settings.s3.url) and key in url
    image = requests.get(url, timeout=30)  # anonymous, after the scan left the labeling bucket
    assert image.status_code == 200 and image.content == PNG
    assert json.loads(_text(record["records/label"])) == [[10.0, 20.0, 30.0, 40.0, "rac"]]
    [stat] = list(dataset.records(record_set="label_statistics"))
    assert _text(stat["label_statistics/label"]) == "rac" and stat["label_statistics/count"] == 1
