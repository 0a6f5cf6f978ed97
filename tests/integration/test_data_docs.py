"""Data Docs offline and in Vietnamese, as the catalog links them: a dataset is pulled, cleaned,
validated by real GX (one check fails), and published to the lake; its Data Docs are then read
through S3's anonymous HTTP endpoint, by an HTML parser (every src/href and CSS url() is on S3 and
answers 200) and by headless Chromium that can reach nothing but 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
import time
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from catalog.publish import publish_to_lake
from citydata.storage.published import read_manifest
from quality.validate import validate_clean
from tests.integration.browser import LOCAL_ONLY, chromium, full_page_screenshot, wait_for_text
from tests.integration.test_publish import World

pytestmark = pytest.mark.integration

QUALITY = {
    "expectations": [
        {"type": "expect_column_values_to_be_between", "severity": "warn",
         "args": {"column": "so_cong", "min_value": 0, "max_value": 8}},
    ]
}  # fmt: skip


class _Refs(HTMLParser):
    """Every src/href/srcset of a page, and the url()s of its inline styles (independent of the code)."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.style = False

    def handle_starttag(self, tag, attrs):
        self.style = tag == "style"
        for name, value in attrs:
            if name in ("src", "href", "srcset") and value:
                self.refs.append(value)
            if name == "style" and value:
                self.refs += re.findall(r"url\(['\"]?([^'\")]+)", value)

    def handle_data(self, data):
        if self.style:
            self.refs += re.findall(r"url\(['\"]?([^'\")]+)", data)


@pytest.fixture(scope="module")
def docs(stack_ready, tmp_path_factory) -> Iterator[tuple[str, list[str]]]:
    """The published version's Data Docs index URL (anonymous read), and every page's URL."""
    world = World(stack_ready, uuid.uuid4().hex[:10], tmp_path_factory.mktemp("docs"))
    spec = world.spec("docs", quality=QUALITY)
    try:
        pull_id = world.pull_clean(spec)
        result = validate_clean(spec, stack_ready, world.lake, pull_id)
        assert result.promotable and any(not o.success for o in result.expectations)  # a warning
        publish_to_lake(spec, stack_ready, world.lake, pull_id=pull_id)
        manifest = read_manifest(world.lake, spec.agency.id, spec.id)
        assert manifest is not None
        key = manifest["files"]["data_docs"]["key"]
        base = f"{stack_ready.s3.url}/{stack_ready.s3.lake_bucket}/"
        pages = [base + k for k in world.lake.keys(key.rsplit("/", 1)[0] + "/") if k.endswith(".html")]
        yield base + key, pages
    finally:
        world.cleanup()


def _crawl(start: str) -> dict[str, requests.Response]:
    """Every page and file reachable from `start` through src/href/url(), fetched anonymously."""
    host = urlsplit(start).netloc
    seen: dict[str, requests.Response] = {}
    todo = [start]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = requests.get(url, timeout=30)
        seen[url] = response
        assert response.status_code == 200 and response.content, (url, response.status_code)
        kind = response.headers.get("Content-Type", "")
        if "html" in kind:
            parser = _Refs()
            parser.feed(response.text)
            # the index's table rows link to the pages from its script data (bootstrap-table)
            refs = parser.refs + re.findall(r"_table_row_link_path['\"]: ['\"]([^'\"]+)", response.text)
        elif "css" in kind:
            refs = re.findall(r"url\(['\"]?([^'\")]+)", response.text)
        else:
            continue
        for ref in refs:
            if ref.startswith(("#", "data:")):
                continue
            target = urljoin(url, ref)
            assert urlsplit(target).netloc == host, f"{url} refers to another host: {ref}"
            todo.append(target.split("#", 1)[0])
    return seen


def test_data_docs_refer_only_to_files_served_beside_them(docs):
    index, stored = docs
    fetched = _crawl(index)
    pages = [u for u, r in fetched.items() if "html" in r.headers.get("Content-Type", "")]
    assert len(pages) == 6, pages  # index, suite and validation result, in Vietnamese and English
    assert sorted(pages) == sorted(stored)  # every stored page reached, through links and rows
    assets = [u for u in fetched if "/static/vendor/" in u]
    names = {u.rsplit("/", 1)[-1] for u in assets}
    assert {"jquery.min.js", "bootstrap.min.css", "bootstrap-table.min.js", "fa-solid-900.woff2"} <= names
    styles = [r for u, r in fetched.items() if u.endswith(".css")]
    assert styles and all(r.headers["Content-Type"].startswith("text/css") for r in styles)
    # The copies from npm are the very files GX's template loads from its CDNs with SRI hashes.
    gx = importlib.util.find_spec("great_expectations")
    assert gx is not None and gx.origin
    gx_template = Path(gx.origin).parent / "render/view/templates/js_script_imports.j2"
    pinned = re.findall(r'src="https://[^"]*/([^/"]+)" integrity="sha384-([^"]+)"', gx_template.read_text())
    assert len(pinned) == 2  # popper.min.js, bootstrap.min.js
    for name, digest in pinned:
        (served,) = [r for u, r in fetched.items() if u.endswith("/" + name)]
        assert base64.b64encode(hashlib.sha384(served.content).digest()).decode() == digest, name


def test_data_docs_render_offline_in_vietnamese_then_in_english(docs, stack_ready, tmp_path):
    from selenium.webdriver.common.by import By

    index, _ = docs
    shots = stack_ready.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    s3 = f"{stack_ready.s3.url}/"
    for browser in chromium(tmp_path / "chromium", LOCAL_ONLY):
        # The restriction holds: a CDN the GX templates name cannot be reached from this browser.
        browser.get(index)
        blocked = browser.execute_async_script(
            "const done = arguments[0];"
            "fetch('https://cdn.jsdelivr.net/npm/vega@5').then(() => done('reached'), () => done('blocked'));"
        )
        assert blocked == "blocked"

        started = time.monotonic()
        browser.get(index)
        wait_for_text(browser, "Hiển thị từ trang 1 đến 1")  # bootstrap-table drew the list, in Vietnamese
        index_s = time.monotonic() - started
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
        assert "Kết quả kiểm tra" in browser.find_element(By.TAG_NAME, "body").text  # the tab
        full_page_screenshot(browser, shots / "data-docs-index-vi.png")

        started = time.monotonic()
        browser.find_element(By.CSS_SELECTOR, "tr.clickable-row").click()  # the validation result
        wait_for_text(browser, "Kết quả kiểm tra chất lượng")
        page_s = time.monotonic() - started
        body = browser.find_element(By.TAG_NAME, "body").text
        for words in ("Tổng quan", "Thống kê", "Số kiểm tra không đạt", "Trạng thái", "Giá trị ghi nhận",
                      "Giá trị không được để trống.", "Mục lục", "20% không đạt"):  # fmt: skip
            assert words in body, words
        assert "so_cong" in body and "Expectation Validation Result" not in body
        state = browser.execute_script(
            "return {jquery: typeof window.jQuery, table: typeof (window.jQuery && jQuery.fn.bootstrapTable),"
            " navbar: getComputedStyle(document.querySelector('nav.navbar')).display,"
            " icons: [...document.fonts].filter(f => f.family.includes('Font Awesome')"
            "   && f.status === 'loaded').length,"
            " load: performance.getEntriesByType('navigation')[0].loadEventEnd,"
            " fetched: performance.getEntriesByType('resource').map(e => e.name)};"
        )
        assert state["jquery"] == "function" and state["table"] == "function"
        assert state["navbar"] == "flex" and state["icons"] >= 1, state  # Bootstrap and Font Awesome
        assert state["fetched"] and all(u.startswith(s3) for u in state["fetched"]), state["fetched"]
        browser.find_element(By.PARTIAL_LINK_TEXT, "Xem thêm thông tin").click()  # Bootstrap's collapse
        wait_for_text(browser, "Phiên bản Great Expectations")
        full_page_screenshot(browser, shots / "data-docs-validation-vi.png")

        browser.find_element(By.ID, "citydata-lang").click()  # the same page in English
        wait_for_text(browser, "Expectation Validation Result")
        assert "/data_docs/en/validations/" in browser.current_url
        assert "values must never be null." in browser.find_element(By.TAG_NAME, "body").text
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        full_page_screenshot(browser, shots / "data-docs-validation-en.png")
        print(f"\nData Docs offline: index {index_s:.2f} s, validation page {page_s:.2f} s "
              f"(load event {state['load']:.0f} ms)")  # fmt: skip
