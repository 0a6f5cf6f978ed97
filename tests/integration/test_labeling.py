"""The labeling loop against the real Label Studio, S3 and CKAN."""

import contextlib
import io
import socket

import ckanapi
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from citydata.clients import ckan_client
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.layout import state_key, zone_prefix
from labeling.active import next_batch
from labeling.annotation_import import import_annotations
from labeling.client import LabelStudio, LabelStudioUnavailable
from labeling.publish import publish_labeled_dataset
from labeling.task_export import export_tasks
from tests.integration.cleanup import purge_agency

pytestmark = pytest.mark.integration

FEEDBACK = [
    "Đường Nguyễn Huệ bị ngập sau cơn mưa chiều nay",
    "Rác thải chưa được thu gom ở hẻm 42 Lê Lợi",
    "Đèn giao thông ở ngã tư Hàng Xanh không hoạt động",
    "Kẹt xe kéo dài trên đường Cộng Hòa giờ cao điểm",
    "Cây xanh đổ chắn lối đi ở phường Bến Nghé",
    "Tiếng ồn từ công trình xây dựng ban đêm",
]
LABELS = ["giao_thong", "moi_truong", "khac"]
PULL_ID = "20250101T000000000000Z"


def make_spec(unique, labeling):
    return DatasetSpec.model_validate(
        {
            "id": f"test-phan-anh-{unique}",
            "agency": {"id": f"test-lab-{unique}", "title": {"vi": "Sở TT&TT (thử nghiệm)"}},
            "title": {"vi": "Phản ánh của người dân (thử nghiệm)"},
            "description": {"vi": "Phản ánh hiện trường"},
            "dublin_core": {"creator": "x", "publisher": "x", "date": "2025-01-01"},
            "synthetic": True,
            "source": {"type": "local_file", "path": "/dev/null"},
            "schema": {"primary_key": ["ma"], "columns": {"ma": {}, "noi_dung": {}, "anh": {}}},
            "labeling": labeling,
        }
    )


@pytest.fixture
def env(stack_ready, unique):
    settings = stack_ready
    lake = Lake(settings)
    ls = LabelStudio(settings)
    created: dict[str, list] = {"projects": [], "users": [], "specs": []}

    def setup(labeling, table):
        spec = make_spec(unique, labeling)
        buf = io.BytesIO()
        pq.write_table(table, buf)
        lake.put_bytes(
            zone_prefix("clean", spec.agency.id, spec.id, PULL_ID) + "data.parquet", buf.getvalue()
        )
        lake.put_json(state_key(spec.id), {"last_pull": PULL_ID})
        created["specs"].append(spec)
        return spec

    yield settings, lake, ls, setup, created
    for pid in created["projects"]:
        ls.sdk.projects.delete(id=pid)
    for uid in created["users"]:
        ls.sdk.users.delete(id=uid)
    for spec in created["specs"]:
        for prefix in (f"clean/{spec.agency.id}/", f"labels/{spec.agency.id}/", f"state/{spec.id}/"):
            for key in list(lake.keys(prefix)):
                lake.client.remove_object(lake.bucket, key)
    ckan = ckan_client(settings)
    for spec in created["specs"]:
        with contextlib.suppress(ckanapi.NotFound):
            ckan.action.dataset_purge(id=f"{spec.id}-labels")
        with contextlib.suppress(ckanapi.NotFound):
            ckan.action.organization_purge(id=spec.agency.id)
        # the labeled dataset's lake version (published zone) and its anonymous-read grant
        purge_agency(settings, lake, spec.agency.id, [f"{spec.id}-labels"])


def text_table():
    return pa.table({"ma": [f"PA{i:03d}" for i in range(len(FEEDBACK))], "noi_dung": FEEDBACK})


TEXT = {
    "task_type": "text_classification",
    "labels": LABELS,
    "columns": ["noi_dung"],
    "overlap": 2,
    "baseline": {"kind": "keywords", "keywords": {"giao_thong": ["ngập", "kẹt xe"], "moi_truong": ["rác"]}},
}


def choice(label):
    return [{"from_name": "label", "to_name": "text", "type": "choices", "value": {"choices": [label]}}]


def test_push_annotate_pull_agreement_publish(env, unique):
    settings, lake, ls, setup, created = env
    spec = setup(TEXT, text_table())
    first = export_tasks(spec, settings, lake, ls)
    created["projects"].append(first.project_id)
    # Keywords match three texts (ngập, rác, kẹt xe); the others get no pre-annotation.
    assert first.created == len(FEEDBACK) and first.predictions == 3
    again = export_tasks(spec, settings, lake, ls)
    assert again.created == 0 and again.project_id == first.project_id
    tasks = {t["data"]["row_id"]: t for t in ls.iter_tasks(first.project_id)}
    assert len(tasks) == len(FEEDBACK)

    # Two annotator accounts, created through the admin API. Label Studio Community gives new users no
    # token of their own (users.get_token returns the caller's), so annotations are created with the
    # admin token and `completed_by` set to each annotator's id.
    users = []
    for name in ("annotator-a", "annotator-b"):
        user = ls.sdk.users.create(username=f"{name}-{unique}", email=f"{name}-{unique}@citydata.local")
        created["users"].append(user.id)
        users.append(user.id)
    # Hand-computed case on 5 tasks: a = A A B B A, b = A B B B A (A=giao_thong, B=moi_truong).
    # p_o = 4/5; p_e = (3*2 + 2*3)/25 = 12/25; kappa = (0.8 - 0.48)/0.52 = 0.6154. Task PA001 ties.
    a = ["giao_thong", "giao_thong", "moi_truong", "moi_truong", "giao_thong"]
    b = ["giao_thong", "moi_truong", "moi_truong", "moi_truong", "giao_thong"]
    for i in range(5):
        tid = tasks[f"PA{i:03d}"]["id"]
        for uid, labels in zip(users, (a, b), strict=True):
            ls.sdk.annotations.create(id=tid, result=choice(labels[i]), completed_by=uid, lead_time=3.5)

    result = import_annotations(spec, settings, lake, ls)
    assert result.annotations == 10 and result.annotated_tasks == 5
    assert result.agreement["cohen_kappa"] == pytest.approx(0.32 / 0.52)
    assert result.ties == 1 and result.consensus == 4
    ann = pq.read_table(io.BytesIO(lake.get_bytes(result.prefix + "annotations.parquet"))).to_pandas()
    assert set(ann["annotator"]) == {str(u) for u in users}
    assert (ann["lead_time"] == 3.5).all()
    cons = pq.read_table(io.BytesIO(lake.get_bytes(result.prefix + "consensus.parquet"))).to_pandas()
    by_row = {
        r: (v if isinstance(v, str) else None) for r, v in zip(cons["row_id"], cons["label"], strict=True)
    }
    assert by_row == {"PA000": "giao_thong", "PA001": None, "PA002": "moi_truong", "PA003": "moi_truong",
                      "PA004": "giao_thong"}  # fmt: skip

    pkg = publish_labeled_dataset(spec, result, settings)
    shown = ckan_client(settings).action.package_show(id=f"{spec.id}-labels")
    assert shown["id"] == pkg["id"] and shown["organization"]["name"] == spec.agency.id
    assert "0.615" in shown["notes"]
    [link] = shown["qualified_relation"]  # DCAT: labels were derived from the source dataset
    assert link["relation"].endswith(f"/dataset/{spec.id}") and link["role"].endswith("#wasDerivedFrom")
    assert not shown.get("relationships_as_subject")  # none: CKAN 2.12 cannot index those


def test_deleted_task_is_reported_not_recreated(env):
    settings, lake, ls, setup, created = env
    spec = setup(TEXT, text_table())
    first = export_tasks(spec, settings, lake, ls)
    created["projects"].append(first.project_id)
    victim = next(t for t in ls.iter_tasks(first.project_id) if t["data"]["row_id"] == "PA002")
    ls.sdk.tasks.delete(id=victim["id"])
    second = export_tasks(spec, settings, lake, ls)
    assert second.created == 0
    assert second.deleted_in_label_studio == [f"{spec.id}/{PULL_ID}/PA002"]
    assert len(list(ls.iter_tasks(first.project_id))) == len(FEEDBACK) - 1


def test_label_studio_down_then_recovers_without_duplicates(env):
    settings, lake, ls, setup, created = env
    spec = setup(TEXT, text_table())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    down = LabelStudio(settings, url=f"http://127.0.0.1:{port}", retries=3, backoff_s=0.05)
    with pytest.raises(LabelStudioUnavailable, match=f"127.0.0.1:{port}"):
        export_tasks(spec, settings, lake, down)
    first = export_tasks(spec, settings, lake, ls)
    created["projects"].append(first.project_id)
    export_tasks(spec, settings, lake, ls)
    assert first.created == len(FEEDBACK)
    assert len(list(ls.iter_tasks(first.project_id))) == len(FEEDBACK)


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def test_image_tasks_resolve_through_s3_storage(env, unique):
    settings, lake, ls, setup, created = env
    spec = make_spec(unique, {"task_type": "image_bbox", "labels": ["o_ga", "rac"], "columns": ["anh"]})
    key = f"{spec.agency.id}/{spec.id}/anh-001.png"
    lake.client.put_object(
        settings.s3.labeling_bucket, key, io.BytesIO(PNG), len(PNG), content_type="image/png"
    )
    spec = setup(spec.labeling, pa.table({"ma": ["IMG1"], "anh": [key]}))
    try:
        result = export_tasks(spec, settings, lake, ls)
        created["projects"].append(result.project_id)
        assert result.storage_id is not None and result.created == 1
        task = next(iter(ls.iter_tasks(result.project_id)))
        assert task["data"]["task_key"] == f"{spec.id}/{PULL_ID}/IMG1"  # the s3:// URL comes back resolved
        headers = {"Authorization": f"Token {settings.label_studio.api_token.get_secret_value()}"}
        resp = requests.get(f"{ls.url}/api/tasks/{task['id']}", headers=headers, timeout=30)
        resp.raise_for_status()
        url = resp.json()["data"]["anh"]
        assert not url.startswith("s3://") and not url.startswith("data:")
        full = url if url.startswith("http") else ls.url + url
        img = requests.get(full, headers=headers, timeout=30)
        assert img.status_code == 200 and img.content == PNG
    finally:
        lake.client.remove_object(settings.s3.labeling_bucket, key)


def test_next_batch_trains_on_labels_and_pushes_the_least_confident_rows(env, unique):
    settings, lake, ls, setup, created = env
    rows = [*FEEDBACK, "Ngập nước và rác thải ở chợ Bến Thành", "Đường Điện Biên Phủ kẹt xe và ngập"]
    table = pa.table({"ma": [f"PA{i:03d}" for i in range(len(rows))], "noi_dung": rows})
    spec = setup(
        {**TEXT, "overlap": 1, "sample_size": 4, "sampling": {"strategy": "random", "seed": 1}}, table
    )
    first = export_tasks(spec, settings, lake, ls)
    created["projects"].append(first.project_id)
    assert first.created == 4
    tasks = list(ls.iter_tasks(first.project_id))
    for t in tasks:
        text = t["data"]["noi_dung"]
        label = "moi_truong" if ("Rác" in text or "Cây" in text) else "giao_thong"
        ls.sdk.annotations.create(id=t["id"], result=choice(label))
    import_annotations(spec, settings, lake, ls)

    result = next_batch(spec, settings, lake, ls, size=2)
    assert result.trained_on == 4
    assert result.exported.created == 2
    after = {t["data"]["row_id"] for t in ls.iter_tasks(first.project_id)}
    assert len(after) == 6 and {t["data"]["row_id"] for t in tasks} < after


GOLD = [
    {"data": {"noi_dung": "Ổ gà lớn giữa đường Điện Biên Phủ"}, "label": "giao_thong"},
    {"data": {"noi_dung": "Nước thải đổ thẳng ra kênh Nhiêu Lộc"}, "label": "moi_truong"},
]


def review_listing(ls, project):
    """Task row ids the "Cần xem lại" tab lists, through Label Studio's own view filter."""
    from labeling.review import REVIEW_VIEW

    views = ls._request("GET", "/api/dm/views/", params={"project": project})
    [view] = [v for v in views if v["data"].get("title") == REVIEW_VIEW]
    found = ls._request(
        "GET", "/api/tasks/", params={"view": view["id"], "project": project, "page_size": 100}
    )
    return sorted(t["data"]["row_id"] for t in found["tasks"])


@pytest.fixture
def browser(tmp_path):
    from tests.integration.browser import chromium

    yield from chromium(tmp_path / "chromium")


def test_gold_tasks_measure_annotators_and_weak_majorities_go_to_review(env, unique, browser):
    import csv
    import json
    from collections import Counter

    from selenium.webdriver.common.by import By

    from tests.integration.browser import full_page_screenshot, wait_for_text

    settings, lake, ls, setup, created = env
    spec = setup({**TEXT, "gold": GOLD}, text_table())
    first = export_tasks(spec, settings, lake, ls)
    created["projects"].append(first.project_id)
    assert first.created == len(FEEDBACK) + 2 and first.gold == 2
    assert export_tasks(spec, settings, lake, ls).created == 0  # gold tasks are not added twice
    tasks = {t["data"]["row_id"]: t for t in ls.iter_tasks(first.project_id)}
    gold = {r: t for r, t in tasks.items() if r.startswith("gold-")}
    assert len(gold) == 2
    for task in gold.values():  # the answer never reaches Label Studio, where annotators could read it
        assert not {"giao_thong", "moi_truong"} & set(json.dumps(task["data"], ensure_ascii=False).split('"'))
    gold_by_text = {t["data"]["noi_dung"]: t for t in gold.values()}

    users = []
    for name in ("gold-a", "gold-b", "gold-c"):
        user = ls.sdk.users.create(username=f"{name}-{unique}", email=f"{name}-{unique}@citydata.local")
        created["users"].append(user.id)
        users.append(user.id)
    a, b, c = users

    def label(row_or_task, uid, value):
        task = tasks[row_or_task] if isinstance(row_or_task, str) else row_or_task
        ls.sdk.annotations.create(id=task["id"], result=choice(value), completed_by=uid)

    for uid, values in (
        (a, ("giao_thong", "giao_thong", "moi_truong")),
        (b, ("giao_thong", "moi_truong", "moi_truong")),
    ):
        for row, value in zip(("PA000", "PA001", "PA002"), values, strict=True):
            label(row, uid, value)
    label(gold_by_text[GOLD[0]["data"]["noi_dung"]], a, "giao_thong")  # right
    label(gold_by_text[GOLD[1]["data"]["noi_dung"]], a, "moi_truong")  # right
    label(gold_by_text[GOLD[0]["data"]["noi_dung"]], b, "khac")  # wrong
    label(gold_by_text[GOLD[1]["data"]["noi_dung"]], b, "moi_truong")  # right

    result = import_annotations(spec, settings, lake, ls)
    assert result.annotated_tasks == 3 and result.consensus == 2 and result.ties == 1  # gold left out
    cons = pq.read_table(io.BytesIO(lake.get_bytes(result.prefix + "consensus.parquet"))).to_pandas()
    assert not any(k.rsplit("/", 1)[-1].startswith("gold-") for k in cons["task_key"])
    quality = result.annotators
    assert quality[str(a)]["gold_accuracy"] == 1.0 and quality[str(b)]["gold_accuracy"] == 0.5
    assert quality[str(a)]["gold_answered"] == quality[str(b)]["gold_answered"] == 2
    assert quality[str(a)]["agreement_with_consensus"] == 1.0  # PA000, PA002 (PA001 is tied)
    assert result.to_review == 1 and review_listing(ls, first.project_id) == ["PA001"]
    assert lake.get_json(result.prefix + "annotators.json")["review"] == [f"{spec.id}/{PULL_ID}/PA001"]

    label("PA001", c, "giao_thong")  # a third annotator breaks the tie, by 2 votes of 3
    settled = import_annotations(spec, settings, lake, ls)
    assert settled.to_review == 1  # 2 of 3 votes is below the default 0.67 share
    spec_lenient = make_spec(unique, {**TEXT, "gold": GOLD, "review_agreement": 0.6})
    settled = import_annotations(spec_lenient, settings, lake, ls)
    assert settled.to_review == 0 and review_listing(ls, first.project_id) == []

    publish_labeled_dataset(spec_lenient, settled, settings)
    shown = ckan_client(settings).action.package_show(id=f"{spec.id}-labels")
    extras = {e["key"]: json.loads(e["value"]) for e in shown["extras"] if e["key"].startswith("labeling_")}
    assert (
        extras["labeling_counts"]["gold_accuracy"] == 0.75
        and extras["labeling_counts"]["tasks_to_review"] == 0
    )
    assert extras["labeling_annotators"][str(b)]["gold_accuracy"] == 0.5
    assert "gold_accuracy: 0.750" in shown["notes"] and "tasks_to_review: 0" in shown["notes"]

    # the labeled dataset's page: figures, the label distribution (against the published CSV, read with
    # the csv module), each annotator's gold accuracy beside agreement, and the Croissant link
    roles = {r.get("citydata_role"): r for r in shown["resources"]}
    published = requests.get(roles["csv"]["url"], timeout=30).content.decode("utf-8-sig")
    given = Counter(row["label"] for row in csv.DictReader(io.StringIO(published)) if row["label"])
    assert given == {"giao_thong": 2, "moi_truong": 1}  # PA000, PA001 (2 of 3), PA002
    page_url = f"{settings.ckan.url}/dataset/{spec.id}-labels"
    page = requests.get(page_url, timeout=30).text
    assert 'id="citydata-labeling"' in page and "Chất lượng gán nhãn" in page
    for label, n in given.items():
        assert f'<tr data-label="{label}"><th scope="row">{label.replace("_", " ").capitalize()} ' in page
        assert f"<code>{label}</code></th><td>{n}</td>" in page
    assert f'<tr data-annotator="{b}"><th scope="row">{b}</th><td>50,0% (1/2)</td>' in page
    assert f'<tr data-annotator="{a}"><th scope="row">{a}</th><td>100,0% (2/2)</td>' in page
    assert f'href="{roles["croissant"]["url"]}" id="citydata-croissant-link"' in page
    assert '"labeling_counts"' not in page and "labeling_annotators" not in page  # not as raw JSON
    english = requests.get(f"{settings.ckan.url}/en/dataset/{spec.id}-labels", timeout=30).text
    assert "Labeling quality" in english and "Accuracy on gold tasks" in english and "75.0%" in english

    browser.get(page_url)
    wait_for_text(browser, "Chất lượng gán nhãn")
    section = browser.find_element(By.ID, "citydata-labeling")
    assert section.is_displayed() and "Độ chính xác trên câu kiểm tra" in section.text
    shots = settings.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    full_page_screenshot(browser, shots / "ckan-labeled-dataset.png")
