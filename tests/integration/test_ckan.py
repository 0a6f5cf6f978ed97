"""CKAN 2.12 with Solr, DataStore and DCAT: the catalog works end to end."""

import ckanapi
import pytest
import requests

from citydata.clients import ckan_client

pytestmark = pytest.mark.integration


@pytest.fixture
def organization(stack_ready, unique):
    ckan = ckan_client(stack_ready)
    org = ckan.action.organization_create(
        name=f"test-org-{unique}", title="Sở Giao thông Vận tải (thử nghiệm)"
    )
    yield org
    for pkg in ckan.action.package_search(fq=f"owner_org:{org['id']}", include_private=True, rows=100)[
        "results"
    ]:
        ckan.action.dataset_purge(id=pkg["id"])
    ckan.action.organization_purge(id=org["id"])


def _dataset(ckan, organization, unique, **extra):
    return ckan.action.package_create(
        name=f"test-ds-{unique}",
        title="Danh sách bãi giữ xe thành phố",
        notes="Bãi giữ xe công cộng trên địa bàn Thành phố Hồ Chí Minh.",
        owner_org=organization["id"],
        **extra,
    )


def test_dataset_is_indexed_and_found_by_vietnamese_word(stack_ready, organization, unique):
    ckan = ckan_client(stack_ready)
    pkg = _dataset(ckan, organization, unique)
    found = ckan.action.package_search(q="giữ xe", fq=f"owner_org:{organization['id']}")
    assert [r["id"] for r in found["results"]] == [pkg["id"]]
    # The same search without the dataset's organization finds it through Solr too.
    assert pkg["id"] in [r["id"] for r in ckan.action.package_search(q=f"name:test-ds-{unique}")["results"]]


def test_dataset_without_description_is_rejected(stack_ready, organization, unique):
    ckan = ckan_client(stack_ready)
    with pytest.raises(ckanapi.ValidationError) as err:
        ckan.action.package_create(name=f"test-nodesc-{unique}", title="x", owner_org=organization["id"])
    assert "notes" in err.value.error_dict


def test_datastore_create_and_search(stack_ready, organization, unique):
    ckan = ckan_client(stack_ready)
    pkg = _dataset(ckan, organization, unique)
    records = [
        {"ma_phuong": "26734", "ten_phuong": "Phường Bến Nghé", "so_cho": 120},
        {"ma_phuong": "26737", "ten_phuong": "Phường Bến Thành", "so_cho": 80},
    ]
    created = ckan.action.datastore_create(
        resource={"package_id": pkg["id"], "name": "bai-giu-xe"},
        fields=[
            {"id": "ma_phuong", "type": "text"},
            {"id": "ten_phuong", "type": "text"},
            {"id": "so_cho", "type": "int"},
        ],
        records=records,
        primary_key=["ma_phuong"],
    )
    result = ckan.action.datastore_search(resource_id=created["resource_id"], q="Bến Thành")
    assert [r["so_cho"] for r in result["records"]] == [80]
    total = ckan.action.datastore_search(resource_id=created["resource_id"], limit=0)["total"]
    assert total == 2


def test_catalog_ttl_lists_public_dataset(stack_ready, organization, unique):
    ckan = ckan_client(stack_ready)
    pkg = _dataset(ckan, organization, unique)
    query = {"q": f"name:{pkg['name']}"}
    resp = requests.get(f"{stack_ready.ckan.url}/catalog.ttl", params=query, timeout=60)
    assert resp.status_code == 200
    assert "dcat:Dataset" in resp.text
    assert pkg["name"] in resp.text


def test_private_dataset_is_invisible_to_anonymous_users(stack_ready, organization, unique):
    ckan = ckan_client(stack_ready)
    pkg = _dataset(ckan, organization, unique, private=True)
    anonymous = ckan_client(stack_ready, anonymous=True)
    with pytest.raises((ckanapi.NotAuthorized, ckanapi.NotFound)):
        anonymous.action.package_show(id=pkg["id"])
    assert anonymous.action.package_search(q=f"name:{pkg['name']}")["count"] == 0
    page = requests.get(f"{stack_ready.ckan.url}/dataset/{pkg['name']}", timeout=30)
    assert page.status_code in (403, 404)
    assert ckan.action.package_show(id=pkg["id"])["private"] is True


def test_anonymous_cannot_create(stack_ready, organization, unique):
    anonymous = ckan_client(stack_ready, anonymous=True)
    with pytest.raises(ckanapi.NotAuthorized):
        anonymous.action.package_create(
            name=f"test-anon-{unique}", title="x", notes="y", owner_org=organization["id"]
        )


def test_exact_accented_matches_rank_first_and_unaccented_queries_still_find_them(
    stack_ready, organization, unique
):
    """'Thủ Đức' lists the dataset about Thủ Đức before one about 'Thu Dục' (equal once folded, and
    repeated so that it would win on the folded text alone); 'thu duc' still finds both."""
    ckan = ckan_client(stack_ready)
    exact = ckan.action.package_create(
        name=f"test-thuduc-{unique}", title="Bãi giữ xe Thủ Đức", owner_org=organization["id"],
        notes="Danh sách bãi giữ xe công cộng ở phường Thủ Đức.",
    )  # fmt: skip
    folded = ckan.action.package_create(
        name=f"test-thuduc-khac-{unique}", title="Thu Dục thu dục: bãi giữ xe", owner_org=organization["id"],
        notes="Thu dục, thu dục, thu dục: một bộ dữ liệu khác.",
    )  # fmt: skip
    fq = f"owner_org:{organization['id']}"
    ranked = [r["id"] for r in ckan.action.package_search(q="Thủ Đức", fq=fq)["results"]]
    assert ranked == [exact["id"], folded["id"]]
    # Without the accent-keeping fields (CKAN's own query fields), the folded text decides.
    plain = ckan.action.package_search(q="Thủ Đức", fq=fq, qf="name^4 title^4 tags^2 groups^2 text")
    assert [r["id"] for r in plain["results"]] == [folded["id"], exact["id"]]
    unaccented = {r["id"] for r in ckan.action.package_search(q="thu duc", fq=fq)["results"]}
    assert unaccented == {exact["id"], folded["id"]}
