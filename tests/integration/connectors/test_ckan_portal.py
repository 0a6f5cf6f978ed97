"""The CKAN harvester against the local CKAN acting as a remote portal (anonymous access)."""

import json

import ckanapi
import pytest
from pydantic import ValidationError

from citydata.clients import ckan_client
from connectors.base import ConnectorError, FetchContext
from connectors.registry import connector_for
from connectors.sources.ckan_portal import CkanPortalConfig, CkanPortalConnector, record_hash

pytestmark = pytest.mark.integration


@pytest.fixture
def portal(stack_ready, unique):
    """A unique organization on the local CKAN; everything in it is purged afterwards."""
    ckan = ckan_client(stack_ready)
    org = ckan.action.organization_create(name=f"test-harvest-{unique}", title="Sở Xây dựng (thử nghiệm)")
    created: list[str] = []

    def dataset(suffix: str, **extra):
        pkg = ckan.action.package_create(
            name=f"test-harvest-{unique}-{suffix}",
            title=f"Bãi giữ xe {suffix}",
            notes="Danh sách bãi giữ xe công cộng trên địa bàn Thành phố Hồ Chí Minh.",
            owner_org=org["id"],
            **extra,
        )
        created.append(pkg["id"])
        return pkg

    yield ckan, org, dataset
    for pid in created:
        try:
            ckan.action.dataset_purge(id=pid)
        except ckanapi.NotFound:
            pass
    ckan.action.organization_purge(id=org["id"])


def _connector(settings, tmp_path, **config):
    cfg = CkanPortalConfig(type="ckan_portal", url=settings.ckan.url, **config)
    return CkanPortalConnector(
        cfg, FetchContext(settings=settings, dataset_id="test-harvest", workdir=tmp_path)
    )


def _lines(result):
    jsonl = next(o for o in result.objects if o.name == "datasets.jsonl")
    return [json.loads(line) for line in jsonl.read_bytes().decode().splitlines()]


def test_harvest_counts_create_update_delete(stack_ready, portal, tmp_path):
    ckan, org, dataset = portal
    a = dataset(
        "a",
        tags=[{"name": "giao thông"}, {"name": "bãi xe"}],
        resources=[
            {"url": "https://example.org/bai-xe.csv", "format": "CSV", "name": "Bãi xe"},
            {"url": "https://example.org/bai-xe.xlsx", "format": "XLSX", "name": "Bãi xe (Excel)"},
        ],
    )
    b = dataset("b")
    c = dataset("c")
    connector = _connector(stack_ready, tmp_path, organization=org["name"], rows=2)
    assert connector_for(connector.config) is CkanPortalConnector

    first = connector.fetch({})
    assert not first.unchanged
    assert {k: first.stats[k] for k in ("created", "updated", "unchanged", "deleted")} == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    # 3 datasets at 2 per page: 2 raw pages, kept byte for byte, plus the JSON Lines snapshot.
    assert sorted(o.name for o in first.objects) == ["datasets.jsonl", "page-0001.json", "page-0002.json"]
    page = json.loads(next(o for o in first.objects if o.name == "page-0001.json").read_bytes())
    assert page["success"] and page["result"]["count"] == 3
    rows = {r["id"]: r for r in _lines(first)}
    assert set(rows) == {a["id"], b["id"], c["id"]}
    row = rows[a["id"]]
    assert row["organization"] == org["name"] and row["title"] == "Bãi giữ xe a"
    assert row["resource_count"] == 2 and row["resource_formats"] == "CSV, XLSX"
    assert row["resource_urls"].splitlines() == [
        "https://example.org/bai-xe.csv",
        "https://example.org/bai-xe.xlsx",
    ]
    assert set(row["tags"].split(", ")) == {"giao thông", "bãi xe"}
    assert row["harvest_status"] == "created"
    assert json.loads(row["record_json"])["id"] == a["id"]
    assert row["modified"] and row["landing_page"].endswith(f"/dataset/{a['name']}")

    second = connector.fetch(first.state)
    assert second.unchanged and second.objects == []
    assert (second.stats["unchanged"], second.stats["created"], second.stats["deleted"]) == (3, 0, 0)

    ckan.action.package_patch(id=a["id"], notes="Cập nhật: thêm bãi xe quận 3.")
    ckan.action.package_delete(id=b["id"])
    d = dataset("d")
    third = connector.fetch(second.state)
    assert not third.unchanged
    assert {k: third.stats[k] for k in ("created", "updated", "unchanged", "deleted")} == {
        "created": 1,
        "updated": 1,
        "unchanged": 1,
        "deleted": 1,
    }
    assert third.stats["deleted_ids"] == [b["id"]]
    status = {r["id"]: r["harvest_status"] for r in _lines(third)}
    assert status == {a["id"]: "updated", c["id"]: "unchanged", d["id"]: "created"}
    assert set(third.state["hashes"]) == {a["id"], c["id"], d["id"]}


def test_hash_ignores_volatile_fields():
    record = {"id": "x", "title": "T", "metadata_modified": "2025-01-01", "resources": [{"url": "u"}]}
    later = {
        **record,
        "metadata_modified": "2025-06-01",
        "resources": [{"url": "u", "metadata_modified": "z"}],
    }
    exclude = CkanPortalConfig(type="ckan_portal", url="https://example.org").exclude_fields
    assert record_hash(record, exclude) == record_hash(later, exclude)
    assert record_hash(record, exclude) != record_hash({**record, "title": "T2"}, exclude)


def test_empty_result_does_not_delete_everything(stack_ready, portal, tmp_path, unique):
    connector = _connector(stack_ready, tmp_path, organization=f"no-such-org-{unique}")
    with pytest.raises(ConnectorError, match="refusing"):
        connector.fetch({"hashes": {"some-id": "0" * 64}})
    allowed = _connector(stack_ready, tmp_path, organization=f"no-such-org-{unique}", allow_empty=True)
    result = allowed.fetch({"hashes": {"some-id": "0" * 64}})
    assert result.stats["deleted_ids"] == ["some-id"] and not result.unchanged


def test_private_datasets_need_a_token(stack_ready, portal, tmp_path, monkeypatch):
    _, org, dataset = portal
    dataset("public")
    hidden = dataset("private", private=True)
    anonymous = _connector(stack_ready, tmp_path, organization=org["name"], include_private=True)
    assert anonymous.fetch({}).stats["total"] == 1
    monkeypatch.setenv("CITYDATA_TEST_CKAN_TOKEN", stack_ready.ckan.api_token.get_secret_value())
    with_token = _connector(
        stack_ready,
        tmp_path,
        organization=org["name"],
        include_private=True,
        api_token="env:CITYDATA_TEST_CKAN_TOKEN",
    )
    result = with_token.fetch({})
    assert result.stats["total"] == 2 and hidden["id"] in result.state["hashes"]
    monkeypatch.delenv("CITYDATA_TEST_CKAN_TOKEN")
    with pytest.raises(ConnectorError, match="CITYDATA_TEST_CKAN_TOKEN"):
        with_token.fetch({})
    with pytest.raises(ValidationError):
        CkanPortalConfig(type="ckan_portal", url="https://example.org", api_token="literal-token")


def test_not_a_ckan_portal_is_a_clear_error(stack_ready, tmp_path):
    connector = _connector(stack_ready, tmp_path)
    bad = CkanPortalConnector(
        CkanPortalConfig(type="ckan_portal", url=f"{stack_ready.ckan.url}/no-such-path"), connector.context
    )
    with pytest.raises(ConnectorError, match="CKAN"):
        bad.fetch({})
