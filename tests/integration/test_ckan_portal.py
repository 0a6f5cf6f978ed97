"""The portal's pages (ckanext-citydata's templates) and what they show: the home page (browser),
Vietnamese topic titles, the dataset page's 'Additional info' in words, and the DataStore data
dictionary in Vietnamese, for a dataset published here through the real pipeline."""

from __future__ import annotations

import html
import re
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from catalog.client import CatalogClient
from catalog.publish import ensure_groups, publish
from catalog.topics import TOPICS
from citydata.settings import REPO_ROOT
from citydata.spec import load_specs
from tests.integration.browser import chromium, full_page_screenshot, wait_for_text
from tests.integration.test_publish import World

pytestmark = pytest.mark.integration

EU = "http://publications.europa.eu/resource/authority/"
WARD_SCHEMA = {
    "primary_key": ["ma_tram"],
    "columns": {
        "ma_tram": {"label": "Mã trạm", "description": "Mã định danh trạm sạc", "nullable": False},
        "so_cong": {"type": "integer", "label": "Số cổng sạc"},
        "ngay_lap_dat": {"type": "date"},
        "phuong": {"admin_unit": "ward"},
    },
}


@pytest.fixture(scope="module")
def published(stack_ready, tmp_path_factory) -> Iterator[tuple[World, str]]:
    """One dataset with an admin-unit column, published (lake + catalog + DataStore)."""
    world = World(stack_ready, uuid.uuid4().hex[:10], tmp_path_factory.mktemp("portal"))
    title = f"Trạm sạc xe điện theo phường, xã {world.unique}"
    spec = world.spec("portal", title={"vi": title, "en": "EV chargers by ward"}, schema=WARD_SCHEMA,
                      update_frequency="@daily")  # fmt: skip
    try:
        pull_id = world.pull_clean(spec)
        world.fake_quality(spec, pull_id)
        publish(spec, world.settings, world.lake, world.client)
        for repo_spec in load_specs(REPO_ROOT / "datasets").specs.values():  # as their next publish does
            ensure_groups(world.client, repo_spec)
        yield world, spec.id
    finally:
        world.cleanup()


@pytest.fixture
def browser(tmp_path):
    yield from chromium(tmp_path / "chromium")


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


def test_home_page_introduces_the_portal_with_search_topics_and_recent_datasets(published, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    world, name = published
    url = world.settings.ckan.url
    title = world.anon.action.package_show(id=name)["title"]
    topic = f"Năng lượng {world.unique}"
    shots = world.settings.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)

    browser.get(f"{url}/")
    wait_for_text(browser, "Cổng dữ liệu mở Thành phố Hồ Chí Minh")
    intro = browser.find_element(By.ID, "citydata-intro").text
    assert "Quyết định 575/QĐ-UBND" in intro and "Dữ liệu mở của các sở, ban, ngành" in intro
    assert "Welcome to CKAN" not in browser.find_element(By.TAG_NAME, "body").text  # CKAN's placeholder
    cards = {c.find_element(By.TAG_NAME, "h3").text: c.find_element(By.CLASS_NAME, "count").text
             for c in browser.find_elements(By.CSS_SELECTOR, "#citydata-topics .citydata-topic")}  # fmt: skip
    assert cards.get(topic) == "1 tập dữ liệu", cards
    assert not any(re.fullmatch(r"[a-z0-9-]+", t) and t in TOPICS for t in cards), cards  # no slug titles
    recent = browser.find_element(By.ID, "citydata-recent").text
    assert title in recent
    assert title in browser.find_element(By.ID, "citydata-new").text  # newly published (no view counts)
    full_page_screenshot(browser, shots / "ckan-home.png")

    box = browser.find_element(By.ID, "field-main-search")
    box.send_keys(f"phuong xa {world.unique}", Keys.ENTER)  # no accents: the title has "phường, xã"
    wait_for_text(browser, title)
    assert "/dataset" in browser.current_url and "q=phuong" in browser.current_url
    full_page_screenshot(browser, shots / "ckan-home-search.png")

    browser.get(f"{url}/dataset/{name}")
    wait_for_text(browser, "Tần suất cập nhật")
    full_page_screenshot(browser, shots / "ckan-additional-info.png")

    browser.get(f"{url}/en/")
    wait_for_text(browser, "Ho Chi Minh City Open Data Portal")
    assert "Decision" in browser.find_element(By.ID, "citydata-intro").text
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"


def test_groups_have_vietnamese_titles_and_old_ones_are_fixed(published):
    world, name = published
    client = CatalogClient(world.settings)
    group = world.anon.action.package_show(id=name)["groups"][0]
    assert group["title"] == f"Năng lượng {world.unique}" and group["name"] == f"nang-luong-{world.unique}"
    assert world.anon.action.group_show(id=group["name"])["description"].startswith(
        "Dữ liệu mở của Thành phố"
    )

    # A group made before topics had titles (title = its slug) gets its Vietnamese title on the
    # next publish, keeps its datasets, and is not written again after that.
    spec = world.spec("topics", topics=["hanh-chinh"])
    if client.show("group_show", id="hanh-chinh") is None:
        ensure_groups(client, spec)
    before = world.anon.action.group_show(id="hanh-chinh")["package_count"]
    client.call("group_patch", id="hanh-chinh", title="hanh-chinh", description="")
    ensure_groups(client, spec)
    fixed = world.anon.action.group_show(id="hanh-chinh")
    assert fixed["title"] == "Hành chính" == fixed["display_name"]
    assert "phường, xã" in fixed["description"] and fixed["package_count"] == before
    writes = len(client.writes)
    ensure_groups(client, spec)
    assert len(client.writes) == writes
    listed = {g["name"]: g["title"] for g in world.anon.action.group_list(all_fields=True)}
    assert listed["hanh-chinh"] == "Hành chính"


def test_additional_info_shows_words_not_vocabulary_uris(published):
    world, name = published
    url = world.settings.ckan.url
    page = requests.get(f"{url}/dataset/{name}", timeout=30).text
    info = _section(page, "citydata-additional-info")
    text = _text(info)
    assert "Tần suất cập nhật Hằng ngày" in text and "Ngôn ngữ Tiếng Việt" in text
    assert "Quyền truy cập Công khai" in text and "Creative Commons Ghi công 4.0" in text
    assert f"{EU}frequency/" not in info and f"{EU}language/" not in info and f"{EU}access-right" not in info
    assert "citydata_" not in info  # the platform's internal extras
    assert text.count("Loại dữ liệu") == 1 and "Spatial resolution" not in text  # empty DCAT fields left out
    english = _text(
        _section(requests.get(f"{url}/en/dataset/{name}", timeout=30).text, "citydata-additional-info")
    )
    assert "Update frequency Daily" in english and "Language Vietnamese" in english
    # The RDF keeps the vocabulary URIs (only the page shows words).
    turtle = requests.get(f"{url}/dataset/{name}.ttl", timeout=30).text
    assert f"{EU}frequency/DAILY" in turtle and f"{EU}language/VIE" in turtle


def test_datastore_dictionary_labels_every_column_in_vietnamese(published):
    world, name = published
    pkg = world.anon.action.package_show(id=name)
    host = next(r for r in pkg["resources"] if r.get("datastore_active"))
    fields = {
        f["id"]: f for f in world.anon.action.datastore_search(resource_id=host["id"], limit=0)["fields"]
    }
    labels = {k: f.get("info", {}).get("label") for k, f in fields.items() if k != "_id"}
    assert labels["province_code"] == "Mã tỉnh/thành phố" and labels["ward_name"] == "Tên phường/xã"
    assert labels["ward_code"] == "Mã phường/xã" and labels["admin_status"] == "Tình trạng chuẩn hóa địa giới"
    assert (
        labels["ma_tram"] == "Mã trạm" and labels["phuong"] == "Phường" and labels["so_cong"] == "Số cổng sạc"
    )
    assert all(label and label != column for column, label in labels.items()), labels
    assert "01/07/2025" in fields["ward_code"]["info"]["notes"]
    assert fields["ma_tram"]["info"]["notes"] == "Mã định danh trạm sạc"
    types = {k: f["type"] for k, f in fields.items()}
    assert types["so_cong"] == "int8" and types["ngay_lap_dat"] == "date" and types["province_code"] == "text"


def test_home_page_lists_the_most_downloaded_datasets(published, browser):
    """Download clicks on a resource page (CKAN's tracking script, one count per visitor) rank the
    home page's "most downloaded"; three visitors, told apart by their browsers' user agents."""
    from selenium.webdriver.common.by import By

    world, name = published
    url = world.settings.ckan.url
    pkg = world.anon.action.package_show(id=name)
    csv_resource = next(r for r in pkg["resources"] if r.get("citydata_role") == "csv")
    for visitor in range(3):
        browser.execute_cdp_cmd(
            "Network.setUserAgentOverride", {"userAgent": f"citydata-test-visitor-{visitor}"}
        )
        browser.get(f"{url}/dataset/{name}/resource/{csv_resource['id']}")
        link = browser.find_element(By.CSS_SELECTOR, "a.resource-url-analytics")
        assert link.get_attribute("href") == csv_resource["url"]
        browser.execute_script("arguments[0].setAttribute('target', '_blank')", link)  # stay on the page
        link.click()
        browser.switch_to.window(browser.window_handles[0])

    def listed() -> dict[str, int]:
        page = requests.get(f"{url}/", timeout=30).text
        found = re.findall(r'<li data-dataset="([^"]+)" data-downloads="(\d+)">', page)
        return {n: int(d) for n, d in found}

    deadline = time.monotonic() + 30
    while listed().get(name, 0) < 3 and time.monotonic() < deadline:
        time.sleep(1)
    counts = listed()
    assert counts.get(name) == 3, counts  # three visitors, each counted once
    assert (max(counts.values()) == 3 and next(iter(counts)) == name) or counts[name] >= max(counts.values())
    browser.get(f"{url}/")
    wait_for_text(browser, "Tải về nhiều nhất")
    section = browser.find_element(By.ID, "citydata-downloaded").text
    assert pkg["title"] in section and "3 lượt tải về" in section
    shots = world.settings.stack_dir / "screenshots"
    full_page_screenshot(browser, shots / "ckan-home-most-downloaded.png")
