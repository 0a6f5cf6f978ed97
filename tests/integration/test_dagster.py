"""The Dagster code location loads, its webserver serves it, and an asset materializes for real."""

import json

import dagster as dg
import pytest
import requests

from citydata.clients import s3_client
from pipelines.platform.assets import INVENTORY_KEY, platform_inventory
from pipelines.resources import default_resources

pytestmark = pytest.mark.integration


def test_definitions_load_with_resources():
    from pipelines import defs

    repo = defs.get_repository_def()
    assert dg.AssetKey("platform_inventory") in repo.asset_graph.get_all_asset_keys()
    assert {"s3", "ckan", "label_studio"} <= set(repo.get_top_level_resources())


def test_platform_inventory_materializes_against_real_services(stack_ready):
    result = dg.materialize([platform_inventory], resources=default_resources())
    assert result.success
    [materialization] = result.asset_materializations_for_node("platform_inventory")
    metadata = materialization.metadata
    assert metadata["ckan_datasets"].value >= 0
    body = s3_client(stack_ready).get_object(stack_ready.s3.lake_bucket, INVENTORY_KEY).read()
    inventory = json.loads(body)
    assert inventory["ckan"]["datasets"] == metadata["ckan_datasets"].value
    assert stack_ready.s3.lake_bucket in inventory["s3"]["objects_per_bucket"]


def test_webserver_serves_the_code_location(stack_ready):
    query = "{ assetNodes { assetKey { path } } }"
    resp = requests.post(f"{stack_ready.dagster.webserver_url}/graphql", json={"query": query}, timeout=30)
    resp.raise_for_status()
    keys = [n["assetKey"]["path"] for n in resp.json()["data"]["assetNodes"]]
    assert ["platform_inventory"] in keys


def test_a_spec_with_every_section_gets_its_whole_asset_graph():
    from citydata.spec.model import DatasetSpec
    from pipelines.definitions import build_definitions

    spec = DatasetSpec.model_validate(
        {
            "id": "phan-anh",
            "agency": {"id": "so-tttt", "title": {"vi": "Sở Thông tin và Truyền thông"}},
            "title": {"vi": "Phản ánh của người dân"},
            "description": {"vi": "Phản ánh hiện trường"},
            "dublin_core": {"creator": "Sở TTTT", "publisher": "UBND TP.HCM", "date": "2025-07-01"},
            "source": {"type": "http_file", "url": "https://example.org/phan-anh.csv"},
            "schema": {"primary_key": ["ma"], "columns": {"ma": {}, "noi_dung": {}}},
            "labeling": {
                "task_type": "text_classification",
                "labels": ["giao_thong", "khac"],
                "columns": ["noi_dung"],
            },
        }
    )
    repo = build_definitions([spec]).get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {"phan_anh/raw", "phan_anh/clean", "phan_anh/labeling_tasks", "phan_anh/annotations"} <= keys
    checks = {c.to_user_string() for c in repo.asset_graph.asset_check_keys}
    assert "phan_anh/clean:quality" in checks
    assert sorted(s.name for s in repo.sensor_defs) == [
        "labeling_finished_tasks",
        "late_datasets",
        "run_failure_alerts",
    ]
    [schedule] = repo.schedule_defs
    assert schedule.cron_schedule == "0 0 * * *" and schedule.execution_timezone == "Asia/Ho_Chi_Minh"
