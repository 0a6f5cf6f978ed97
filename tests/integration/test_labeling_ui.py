"""What annotators see in the real Label Studio: Vietnamese label names (the id is stored), the
dataset's title, only the columns they need, instructions that never block; and re-runs that find
the same project."""

import io

import pyarrow.parquet as pq
import pytest

from citydata.storage.layout import state_key
from labeling.annotation_import import import_annotations
from labeling.project import INTERNAL_COLUMNS, VIEW_TITLE, project_key
from labeling.task_export import export_tasks
from tests.integration import test_labeling as base
from tests.integration.browser import chromium, wait_for_text
from tests.integration.test_labeling import FEEDBACK, text_table

pytestmark = pytest.mark.integration
labeling_env = base.env  # the labeling tests' fixture (settings, lake, Label Studio, setup, cleanup)

NAMED = {
    "task_type": "text_classification",
    "labels": {
        "giao_thong": {"vi": "Giao thông", "en": "Traffic"},
        "moi_truong": {"vi": "Môi trường", "en": "Environment"},
        "khac": "Khác",
    },
    "columns": ["noi_dung"],
    "instructions": {"vi": "Chọn lĩnh vực của mỗi phản ánh.", "en": "Pick the topic of each report."},
}
TITLE = "Phản ánh của người dân (thử nghiệm)"  # make_spec's title: 35 characters, kept whole
INTERNAL = [f"tasks:data.{c}" for c in INTERNAL_COLUMNS]


def ours(ls, spec) -> list[dict]:
    """Every project carrying the dataset's key (description's first word, or the old title)."""
    key = project_key(spec)
    return [
        p
        for p in ls.iter_projects()
        if (p.get("description") or " ").split()[:1] == [key] or p["title"] == key
    ]


def test_push_sets_title_names_instructions_and_hides_internal_columns(labeling_env):
    settings, lake, ls, setup, created = labeling_env
    spec = setup(NAMED, text_table())
    result = export_tasks(spec, settings, lake, ls)
    created["projects"].append(result.project_id)
    project = ls._request("GET", f"/api/projects/{result.project_id}/")

    assert project["title"] == TITLE == spec.title.vi
    assert project["description"].split()[0] == f"citydata:{spec.id}"
    assert project["show_instruction"] is False
    assert "Chọn lĩnh vực của mỗi phản ánh." in project["expert_instruction"]
    assert "Pick the topic of each report." in project["expert_instruction"]
    # Label Studio's own reading of the config: the stored values are the ids, the shown ones the names
    parsed = project["parsed_label_config"]["label"]
    assert parsed["labels"] == ["giao_thong", "moi_truong", "khac"]
    assert {k: v["value"] for k, v in parsed["labels_attrs"].items()} == {
        "giao_thong": "Giao thông",
        "moi_truong": "Môi trường",
        "khac": "Khác",
    }

    [view] = ls._request("GET", "/api/dm/views/", params={"project": result.project_id})
    hidden = view["data"]["hiddenColumns"]
    assert view["data"]["title"] == VIEW_TITLE
    assert set(INTERNAL) <= set(hidden["explore"]) and set(INTERNAL) <= set(hidden["labeling"])
    assert "tasks:data.noi_dung" not in hidden["explore"] + hidden["labeling"]
    # the pipeline's keys are still in each task's data (hidden, not gone)
    task = next(ls.iter_tasks(result.project_id))
    assert {"task_key", "row_id", "pull_id", "noi_dung"} <= set(task["data"])


def test_rerun_finds_the_same_project_by_state_by_key_and_by_old_title(labeling_env):
    settings, lake, ls, setup, created = labeling_env
    spec = setup(NAMED, text_table())
    first = export_tasks(spec, settings, lake, ls)
    created["projects"].append(first.project_id)
    again = export_tasks(spec, settings, lake, ls)
    assert again.project_id == first.project_id and again.created == 0
    assert again.already_present == len(FEEDBACK)

    # The lake's labeling state is lost: found by the key in the description, not duplicated.
    lake.client.remove_object(lake.bucket, state_key(spec.id, "labeling"))
    third = export_tasks(spec, settings, lake, ls)
    found = [p["id"] for p in ours(ls, spec)]
    created["projects"] += [pid for pid in found if pid not in created["projects"]]  # cleaned up even so
    assert third.project_id == first.project_id and third.created == 0
    assert found == [first.project_id]
    assert len(list(ls.iter_tasks(first.project_id))) == len(FEEDBACK)
    assert len(ls._request("GET", "/api/dm/views/", params={"project": first.project_id})) == 1


def test_project_made_before_is_found_by_its_old_title_and_renamed(labeling_env):
    settings, lake, ls, setup, created = labeling_env
    spec = setup(NAMED, text_table())
    old_config = (
        '<View><Text name="text" value="$noi_dung"/><Choices name="label" toName="text" choice="single">'
        '<Choice value="giao_thong"/><Choice value="moi_truong"/><Choice value="khac"/></Choices></View>'
    )
    old = ls.sdk.projects.create(title=f"citydata:{spec.id}", label_config=old_config, show_instruction=True)
    created["projects"].append(old.id)
    # a tab the old project already had, with Label Studio's defaults: kept, internal keys added
    ls._request(
        "POST",
        "/api/dm/views/",
        json={
            "project": old.id,
            "data": {"title": "Default", "hiddenColumns": {"explore": ["tasks:id"], "labeling": []}},
        },
    )
    result = export_tasks(spec, settings, lake, ls)
    assert result.project_id == old.id and result.created == len(FEEDBACK)
    project = ls._request("GET", f"/api/projects/{old.id}/")
    assert project["title"] == TITLE and project["show_instruction"] is False
    assert [p["id"] for p in ours(ls, spec)] == [old.id]
    [view] = ls._request("GET", "/api/dm/views/", params={"project": old.id})
    assert view["data"]["title"] == "Default"
    assert view["data"]["hiddenColumns"] == {"explore": ["tasks:id", *INTERNAL], "labeling": INTERNAL}


@pytest.fixture
def browser(stack_ready, tmp_path):
    yield from chromium(tmp_path / "chromium")


def _body_with(driver, text: str, timeout: float = 90) -> str:
    from selenium.webdriver.common.by import By

    wait_for_text(driver, text, timeout)
    return str(driver.find_element(By.TAG_NAME, "body").text)


def test_annotator_sees_vietnamese_names_and_the_annotation_stores_the_id(labeling_env, browser):
    from selenium.webdriver.common.by import By

    settings, lake, ls, setup, created = labeling_env
    spec = setup(NAMED, text_table())
    result = export_tasks(spec, settings, lake, ls)
    created["projects"].append(result.project_id)
    tasks = {t["data"]["row_id"]: t for t in ls.iter_tasks(result.project_id)}

    account = settings.label_studio
    browser.get(f"{ls.url}/user/login/")
    browser.find_element(By.NAME, "email").send_keys(account.username)
    browser.find_element(By.NAME, "password").send_keys(account.password.get_secret_value())
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit], form input[type=submit]").click()
    _body_with(browser, "Projects")

    # The data manager's table: the text column, none of the internal keys.
    browser.get(f"{ls.url}/projects/{result.project_id}/data")
    table = _body_with(browser, FEEDBACK[0])
    assert "noi_dung" in table
    assert not [c for c in INTERNAL_COLUMNS if c in table], table

    # The labeling screen: Vietnamese names, the instructions line, and no instructions popup.
    browser.get(f"{ls.url}/projects/{result.project_id}/data?task={tasks['PA000']['id']}")
    screen = _body_with(browser, "Môi trường")
    assert "Giao thông" in screen and "Khác" in screen and "Chọn lĩnh vực của mỗi phản ánh." in screen
    assert "giao_thong" not in screen and "moi_truong" not in screen
    assert "Pick the topic of each report." not in screen  # the expert instructions stay closed
    browser.find_element(By.XPATH, "//*[normalize-space(text())='Giao thông']").click()
    browser.find_element(By.XPATH, "//button[normalize-space(.)='Submit']").click()

    def submitted() -> list:
        return ls._request("GET", f"/api/tasks/{tasks['PA000']['id']}/annotations/")

    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 30).until(lambda _: submitted())
    [annotation] = submitted()
    assert annotation["result"][0]["value"]["choices"] == ["giao_thong"]
    pulled = import_annotations(spec, settings, lake, ls)
    table_out = pq.read_table(io.BytesIO(lake.get_bytes(pulled.prefix + "annotations.parquet"))).to_pandas()
    assert table_out["label"].tolist() == ["giao_thong"]
