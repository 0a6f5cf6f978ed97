"""The main job end to end: every sample dataset is in CKAN, downloads match the lake, Label Studio
holds the tasks (text, and scanned forms whose images resolve through S3 storage), and annotations
come back as published labeled datasets."""

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
import requests

from citydata.clients import ckan_client
from citydata.data import read_dataset
from citydata.spec import load_specs
from citydata.storage.lake import Lake
from labeling.annotation_import import latest_labels_prefix
from labeling.client import LabelStudio
from tests.integration.browser import chromium, wait_for_text

pytestmark = pytest.mark.integration
CLI = str(Path(sys.executable).parent / "citydata")
LABELED = "phan-anh-hien-truong"
IMAGES = "phieu-phan-anh-giay"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_main_job_then_labels_back_to_the_catalog(stack_ready, unique):
    env = {**os.environ, "COLUMNS": "200"}
    main = subprocess.run([CLI, "main"], capture_output=True, text=True, env=env, timeout=1200)
    assert main.returncode == 0, main.stdout[-4000:] + main.stderr[-4000:]
    assert stack_ready.dagster.webserver_url in main.stdout

    specs = load_specs(stack_ready.specs_dir).specs
    assert len(specs) >= 4
    anonymous = ckan_client(stack_ready, anonymous=True)
    lake = Lake(stack_ready)
    for dataset_id, spec in specs.items():
        assert anonymous.action.package_search(q=f"name:{dataset_id}")["count"] == 1, dataset_id
        package = anonymous.action.package_show(id=dataset_id)
        assert ("synthetic" in [t["name"] for t in package["tags"]]) == spec.synthetic
        in_lake = [r for r in package["resources"] if r["url"].startswith(stack_ready.s3.url)]
        assert {r["format"] for r in in_lake} >= {"Parquet"}, package["resources"]
        for resource in in_lake:
            body = requests.get(resource["url"], timeout=60)  # anonymous, as a data scientist would
            assert body.status_code == 200, resource["url"]
            key = urlsplit(resource["url"]).path.split(f"/{stack_ready.s3.lake_bucket}/", 1)[1]
            assert body.content == lake.get_bytes(key), resource["url"]

    state = lake.get_json(f"state/{LABELED}/labeling.json")
    ls = LabelStudio(stack_ready)
    tasks = list(ls.iter_tasks(state["project_id"]))
    assert len(tasks) == specs[LABELED].labeling["sample_size"]

    users = [
        ls.sdk.users.create(username=f"e2e-{name}-{unique}", email=f"e2e-{name}-{unique}@citydata.local").id
        for name in ("a", "b")
    ]
    try:
        for task in tasks[:5]:
            for user in users:
                result = [{"from_name": "label", "to_name": "text", "type": "choices",
                           "value": {"choices": ["giao_thong"]}}]  # fmt: skip
                ls.sdk.annotations.create(id=task["id"], result=result, completed_by=user)
        run = subprocess.run(
            [CLI, "run", LABELED, "--until", "annotations", "--json"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        [outcome] = json.loads(run.stdout)
        assert run.returncode == 0 and outcome["ok"], outcome
        labeled = anonymous.action.package_show(id=f"{LABELED}-labels")
        assert labeled["organization"]["name"] == specs[LABELED].agency.id
    finally:
        for user in users:
            ls.sdk.users.delete(id=user)


def test_image_tasks_resolve_through_s3_and_come_back_labeled(stack_ready, unique):
    """After the main job: the scanned-form project's images reach the browser through Label Studio's S3
    storage (never base64), its pre-annotations are the generator's boxes, and box annotations come back
    as a published labeled dataset."""
    settings = stack_ready
    spec = load_specs(settings.specs_dir).specs[IMAGES]
    lake = Lake(settings)
    state = lake.get_json(f"state/{IMAGES}/labeling.json")
    ls = LabelStudio(settings)
    storage = ls.sdk.import_storage.s3.get(id=state["storage_id"])
    assert storage.bucket == settings.s3.labeling_bucket and storage.presign
    assert (storage.presign_ttl or 0) >= 8 * 60  # minutes: a working day
    tasks = list(ls.iter_tasks(state["project_id"]))
    assert len(tasks) == spec.labeling["sample_size"]

    rows = read_dataset(IMAGES, settings=settings).set_index("ma_phieu")
    for task in tasks[:3]:
        shown = ls.http.get(f"{ls.url}/api/tasks/{task['id']}", timeout=30)
        shown.raise_for_status()
        body = shown.json()
        url = body["data"]["anh"]  # what the browser is handed: Label Studio's resolve endpoint
        assert "/resolve/" in url and not url.startswith(("s3://", "data:")), url
        fileuri = base64.b64decode(url.split("fileuri=", 1)[1]).decode()
        row = rows.loc[body["data"]["row_id"]]
        assert fileuri == f"s3://{settings.s3.labeling_bucket}/{row['anh']}"
        image = ls.http.get(url if url.startswith("http") else ls.url + url, timeout=30)
        assert image.status_code == 200 and image.content.startswith(PNG_MAGIC), url
        assert image.content == lake.client.get_object(settings.s3.labeling_bucket, row["anh"]).read()
        [prediction] = body["predictions"]
        assert prediction["model_version"] == "form-generator" and prediction["score"] == 1.0
        boxes = [
            {
                **{k: r["value"][k] for k in ("x", "y", "width", "height")},
                "label": r["value"]["rectanglelabels"][0],
            }
            for r in prediction["result"]
        ]
        assert boxes == json.loads(row["vung_goi_y"])

    users = [
        ls.sdk.users.create(username=f"e2e-img-{n}-{unique}", email=f"e2e-img-{n}-{unique}@citydata.local").id
        for n in ("a", "b")
    ]
    try:
        for task in tasks[:2]:
            box = json.loads(rows.loc[task["data"]["row_id"], "vung_goi_y"])[0]
            for user in users:
                value = {k: box[k] for k in ("x", "y", "width", "height")}
                result = [{"from_name": "label", "to_name": "image", "type": "rectanglelabels",
                           "value": {**value, "rotation": 0, "rectanglelabels": [box["label"]]}}]  # fmt: skip
                ls.sdk.annotations.create(id=task["id"], result=result, completed_by=user)
        run = subprocess.run(
            [CLI, "run", IMAGES, "--until", "annotations", "--json"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        [outcome] = json.loads(run.stdout)
        assert run.returncode == 0 and outcome["ok"], outcome
        labeled = ckan_client(settings, anonymous=True).action.package_show(id=f"{IMAGES}-labels")
        assert labeled["organization"]["name"] == spec.agency.id
        assert "synthetic" in [t["name"] for t in labeled["tags"]]
        prefix = latest_labels_prefix(lake, spec)
        assert prefix is not None
        ann = pq.read_table(io.BytesIO(lake.get_bytes(prefix + "annotations.parquet"))).to_pandas()
        ours = ann[ann["annotator"].isin([str(u) for u in users])]
        assert len(ours) == 4 and set(ours["task_key"]) == {t["data"]["task_key"] for t in tasks[:2]}
        assert all(json.loads(v)[0][4] in spec.labeling["labels"] for v in ours["label"])
    finally:
        for user in users:
            ls.sdk.users.delete(id=user)


def test_catalog_retire_dry_run_names_a_dataset_whose_spec_is_gone(stack_ready, tmp_path):
    kept = tmp_path / "specs"
    kept.mkdir()
    for spec_file in sorted(stack_ready.specs_dir.glob("*.yaml")):
        if spec_file.stem != "tinh-thanh-2025":
            (kept / spec_file.name).write_bytes(spec_file.read_bytes())
    env = {**os.environ, "CITYDATA_SPECS_DIR": str(kept)}
    proc = subprocess.run(
        [CLI, "catalog", "retire", "--dry-run", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    actions = {a["dataset"]: a["action"] for a in json.loads(proc.stdout)}
    assert actions.get("tinh-thanh-2025") == "made-private"
    assert not {"phuong-xa-tphcm", "don-vi-hanh-chinh-cu", LABELED} & set(actions)
    # a dry run changes nothing
    assert (
        ckan_client(stack_ready, anonymous=True).action.package_show(id="tinh-thanh-2025")["private"] is False
    )


@pytest.fixture
def browser(stack_ready, tmp_path):
    yield from chromium(tmp_path / "chromium")


def test_ckan_speaks_vietnamese_with_a_switch_to_english(stack_ready, browser):
    """The portal is in Vietnamese by default; /en/ (the language menu's link) shows it in English."""
    from selenium.webdriver.common.by import By

    shots = stack_ready.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    browser.get(f"{stack_ready.ckan.url}/dataset/")
    wait_for_text(browser, "Tổ chức")  # the menu: Organizations
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    assert "Cổng dữ liệu mở Thành phố Hồ Chí Minh" in browser.title
    browser.save_screenshot(str(shots / "ckan-vi.png"))
    browser.get(f"{stack_ready.ckan.url}/en/dataset/")
    wait_for_text(browser, "Organizations")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    browser.save_screenshot(str(shots / "ckan-en.png"))


def test_web_uis_show_the_datasets(stack_ready, browser):
    """Headless Chromium opens a CKAN dataset page, the Dagster asset list and the Label Studio project."""
    from selenium.webdriver.common.by import By

    shots = stack_ready.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)

    browser.get(f"{stack_ready.ckan.url}/dataset/phuong-xa-tphcm")
    wait_for_text(browser, "Danh sách phường, xã, đặc khu Thành phố Hồ Chí Minh")
    resources = browser.find_elements(By.CSS_SELECTOR, ".resource-item")
    assert any(r.is_displayed() for r in resources)
    browser.save_screenshot(str(shots / "ckan-dataset.png"))

    # The flat asset list is virtualized (rows below the fold are not in the page): open the dataset's
    # key prefix and wait for an asset description loaded from the code location.
    browser.get(f"{stack_ready.dagster.webserver_url}/assets/phuong_xa_tphcm")
    wait_for_text(browser, "published/so-noi-vu/phuong-xa-tphcm/", timeout=90)
    browser.save_screenshot(str(shots / "dagster-assets.png"))

    ls = stack_ready.label_studio
    browser.get(f"{ls.url}/user/login/")
    browser.find_element(By.NAME, "email").send_keys(ls.username)
    browser.find_element(By.NAME, "password").send_keys(ls.password.get_secret_value())
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()
    wait_for_text(browser, "Projects")
    browser.get(f"{ls.url}/projects/")
    wait_for_text(browser, f"citydata:{LABELED}", timeout=90)  # the project card, with its task counts
    browser.save_screenshot(str(shots / "label-studio-projects.png"))
