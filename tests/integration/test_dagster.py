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
