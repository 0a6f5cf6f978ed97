"""The dataset quality score against the real stack: computed from the facts the lake holds, the same
in the API, on the dataset page (Vietnamese and English) and in DCAT (DQV); stable on a re-run.

Each dimension is re-derived here from an independent reading of its facts: the gate's summary
read from S3, the published data dictionary read with the csv module, the spec's fields."""

import csv
import io
import json

import pytest
import requests
from rdflib import Graph, Namespace, URIRef

from catalog.client import CatalogClient
from catalog.publish import publish
from citydata.storage.layout import zone_prefix
from quality.validate import validate_clean
from tests.integration.browser import chromium, full_page_screenshot, wait_for_text
from tests.integration.test_publish import World

pytestmark = pytest.mark.integration
DQV = Namespace("http://www.w3.org/ns/dqv#")


@pytest.fixture
def world(stack_ready, unique, tmp_path):
    w = World(stack_ready, unique, tmp_path)
    yield w
    w.cleanup()


def test_the_score_is_measured_explained_and_shown_everywhere(world):
    spec = world.spec("score")
    pull_id = world.pull_clean(spec)
    validate_clean(spec, world.settings, world.lake, pull_id, data_docs=False)
    result = publish(spec, world.settings, world.lake, world.client)
    assert result.version == 1

    pkg = world.anon.action.package_show(id=spec.id)
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    detail = json.loads(extras["citydata_quality_score_detail"])
    score = float(extras["citydata_quality_score"])
    assert score == detail["score"] and 0 < score < 100
    dims = detail["dimensions"]
    assert abs(sum(d["earned"] for d in dims.values()) - score) < 0.06

    # data checks: 20 x the gate's own score, read from its summary in the lake
    summary = world.lake.get_json(zone_prefix("reports", spec.agency.id, spec.id, pull_id) + "summary.json")
    assert dims["data_checks"]["earned"] == pytest.approx(20 * summary["score"] / 100, abs=0.01)
    # fidelity: the gate compared every cell with the source
    assert summary["fidelity"]["status"] == "passed" and dims["fidelity"]["earned"] == 15
    # documentation: the published dictionary, read with the csv module
    dictionary = next(r for r in pkg["resources"] if r.get("citydata_role") == "dictionary")
    text = requests.get(dictionary["url"], timeout=30).content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    described = sum(1 for r in rows if r["description"].strip())
    assert dims["documentation"]["earned"] == pytest.approx(10 * described / len(rows), abs=0.01)
    assert 0 < described < len(rows)
    undescribed = [r["column"] for r in rows if not r["description"].strip()]
    [doc_fix] = [f for f in detail["fixes"] if f["dimension"] == "documentation"]
    assert all(name in doc_fix["vi"] for name in undescribed[:5]) and "None" not in doc_fix["vi"]
    # completeness: the empty cells of the published CSV, read with the csv module (T003 has no ward)
    by_role = {r.get("citydata_role"): r for r in pkg["resources"]}
    table = list(
        csv.DictReader(
            io.StringIO(requests.get(by_role["csv"]["url"], timeout=30).content.decode("utf-8-sig"))
        )
    )
    names = list(table[0])
    empty = {name: sum(1 for row in table if row[name] == "") for name in names}
    filled = 1 - sum(empty.values()) / (len(table) * len(names))
    assert dims["completeness"]["earned"] == pytest.approx(10 * filled, abs=0.01) and filled < 1
    assert empty["phuong"] == 1
    [empty_fix] = [f for f in detail["fixes"] if f["dimension"] == "completeness"]
    emptiest = sorted((n for n in names if empty[n]), key=lambda n: (-empty[n], n))[:5]
    assert empty_fix["vi"].split("; ")[: len(emptiest)] == [
        f"Cột {n} có {100 * empty[n] / len(table):.0f}% ô trống" for n in emptiest
    ]
    assert "Column phuong has 20% empty values" in empty_fix["en"]
    # metadata: World's spec has an English title, keywords, coverage and an agency e-mail (4 of 10)
    assert dims["metadata"]["earned"] == 8
    assert dims["freshness"]["earned"] == 15 and dims["licence"]["earned"] == 10  # first version, cc-by
    fixes = {f["key"]: f for f in detail["fixes"]}
    assert "publication.temporal" in fixes["temporal"]["vi"] and "columns" in fixes

    # the dataset page: badge, breakdown and fixes, in Vietnamese and at /en/ in English
    page = requests.get(f"{world.settings.ckan.url}/dataset/{spec.id}", timeout=30).text
    assert f'data-score="{detail["score"]}"' in page and "Điểm chất lượng" in page
    assert (
        "Cần khắc phục" in page and "Bổ sung khoảng thời gian" in page and "Cột phuong có 20% ô trống" in page
    )
    english = requests.get(f"{world.settings.ckan.url}/en/dataset/{spec.id}", timeout=30).text
    assert "Quality score" in english and "Add the temporal coverage" in english

    # DCAT: one DQV measurement per dimension and one for the score, with the same values
    turtle = requests.get(f"{world.settings.ckan.url}/dataset/{spec.id}.ttl", timeout=30).text
    graph = Graph().parse(data=turtle, format="turtle")
    measured = {}
    for node in graph.objects(None, DQV.hasQualityMeasurement):
        metric = graph.value(node, DQV.isMeasurementOf)
        assert isinstance(metric, URIRef)
        measured[str(metric).rsplit("#", 1)[-1]] = float(graph.value(node, DQV.value))
    assert measured == {"score": score, **{name: d["earned"] for name, d in dims.items()}}

    # the JSON quality summary of the CLI: the same score, computed from the lake
    from typer.testing import CliRunner

    from citydata.cli.quality import app as quality_app
    from tests.integration.test_quality import _specs

    specs = _specs(spec, world.tmp / "specs")
    out = CliRunner().invoke(
        quality_app, ["report", spec.id, "--json"], env={"CITYDATA_SPECS_DIR": str(specs)}
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["dataset_score"] == detail

    # deterministic: publishing the same version again writes nothing to CKAN
    again = publish(spec, world.settings, world.lake, CatalogClient(world.settings))
    assert again.catalog.unchanged and again.version == 1


@pytest.fixture
def browser(tmp_path):
    yield from chromium(tmp_path / "chromium")


def test_the_agency_scoreboard_lists_scores_fixes_and_a_csv(world, browser):
    good = world.spec("good")
    poor = world.spec("poor", license="cc-nc", title={"vi": f"Trạm sạc (ít mô tả) {world.unique}"})
    for spec in (good, poor):
        world.pull_clean(spec)
        publish(spec, world.settings, world.lake, world.client)
    scores = {}
    for spec in (good, poor):
        extras = {e["key"]: e["value"] for e in world.anon.action.package_show(id=spec.id)["extras"]}
        scores[spec.id] = float(extras["citydata_quality_score"])
    assert scores[poor.id] == scores[good.id] - 12  # the licence (10) and the English title (2)

    base = world.settings.ckan.url
    home = requests.get(base, timeout=30).text
    assert 'id="citydata-scoreboard-link"' in home
    page = requests.get(f"{base}/chat-luong", params={"sort": "score", "order": "asc"}, timeout=60).text
    assert "Chất lượng dữ liệu theo cơ quan" in page and f'data-agency="{world.agency}"' in page
    listed = [name for name in (poor.id, good.id) if f'data-dataset="{name}"' in page]
    assert listed == [poor.id, good.id] and page.index(poor.id) < page.index(good.id)  # lowest first
    assert f'data-dataset="{poor.id}" data-score="{scores[poor.id]}"' in page
    assert "Chọn giấy phép mở" in page and "Cột phuong có 20% ô trống" in page  # the poor dataset's fixes
    english = requests.get(f"{base}/en/chat-luong", timeout=60).text
    assert "Data quality by agency" in english and "Choose an open licence" in english

    # in a browser: the scoreboard sorted by clicking its score header, and the poor dataset's page
    from selenium.webdriver.common.by import By

    shots = world.settings.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    browser.get(f"{base}/chat-luong?sort=agency")
    wait_for_text(browser, "Chất lượng dữ liệu theo cơ quan")
    browser.find_element(By.CSS_SELECTOR, '#citydata-datasets a[data-sort="score"]').click()
    wait_for_text(browser, "Điểm ▲")
    order = [
        r.get_attribute("data-dataset")
        for r in browser.find_elements(By.CSS_SELECTOR, "#citydata-datasets tbody tr")
    ]
    assert order.index(poor.id) < order.index(good.id)
    full_page_screenshot(browser, shots / "ckan-scoreboard.png")
    browser.get(f"{base}/dataset/{poor.id}")
    wait_for_text(browser, "Cần khắc phục")
    badge = browser.find_element(By.CSS_SELECTOR, "#citydata-quality-score .badge")
    assert badge.is_displayed() and badge.text == f"{scores[poor.id]}/100"
    full_page_screenshot(browser, shots / "ckan-dataset-quality-score.png")

    reply = requests.get(f"{base}/chat-luong.csv", timeout=60)
    assert reply.status_code == 200 and reply.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))
    ours = {r["Mã bộ dữ liệu"]: r for r in table if r["Mã bộ dữ liệu"] in scores}
    assert {k: float(r["Điểm chất lượng"]) for k, r in ours.items()} == scores
    assert ours[poor.id]["Số ngày trễ"] == "" and "giấy phép" in ours[poor.id]["Cần khắc phục"]
    assert "Cột phuong có 20% ô trống" in ours[poor.id]["Cần khắc phục"]  # per-column statistics


def test_the_version_history_shows_a_schema_change_and_older_downloads_in_a_browser(world, browser):
    from selenium.webdriver.common.by import By

    from tests.integration.test_publish import HEADER, ROWS

    spec = world.spec("history")
    world.pull_clean(spec)
    publish(spec, world.settings, world.lake, world.client)
    # version 2: one row more and a new column, "Ghi chú"
    rows = [
        f"{row},ghi chú {i}"
        for i, row in enumerate([*ROWS, "T006,Trạm sạc Phú Mỹ,Phường Tân Mỹ,2,01/08/2024"])
    ]
    world.path_of(spec).write_text("\n".join([f"{HEADER},Ghi chú", *rows]) + "\n", encoding="utf-8")
    world.pull_clean(spec)
    assert publish(spec, world.settings, world.lake, world.client).version == 2

    base = world.settings.ckan.url
    page = requests.get(f"{base}/dataset/{spec.id}", timeout=30).text
    assert "Lịch sử phiên bản" in page and '<tr data-version="2">' in page and '<tr data-version="1">' in page
    newest = page[page.index('<tr data-version="2">') : page.index('<tr data-version="1">')]
    assert '<div data-change="added">thêm cột: ghi_chu</div>' in newest and "<td>6</td>" in newest
    english = requests.get(f"{base}/en/dataset/{spec.id}", timeout=30).text
    assert "Version history" in english and "added: ghi_chu" in english

    browser.get(f"{base}/dataset/{spec.id}")
    wait_for_text(browser, "Lịch sử phiên bản")
    older = browser.find_element(By.CSS_SELECTOR, '#citydata-version-history tr[data-version="1"]')
    link = older.find_element(By.CSS_SELECTOR, 'a[data-format="csv"]').get_attribute("href")
    # the older version as it was published: five rows, no "ghi_chu", read with the csv module
    text = requests.get(link, timeout=30).content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 5 and "ghi_chu" not in table[0] and table[0]["ma_tram"] == "T001"
    shots = world.settings.stack_dir / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    full_page_screenshot(browser, shots / "ckan-version-history.png")
