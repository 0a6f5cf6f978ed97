"""DCAT-AP values of a catalog entry (catalog/dcat_fields.py) and the shapes file kept for the tests."""

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from catalog.dcat_fields import (
    DCMITYPE,
    DESCRIPTION_EN_KEY,
    EU,
    FORMAT_KEY,
    LICENSE_URIS,
    SOURCE_KEY,
    SYNTHETIC_EN,
    TITLE_EN_KEY,
    dcat_extras,
    dcmi_type_uri,
    distribution_fields,
    frequency_uri,
    license_uri,
    relation_uri,
)
from catalog.mapping import extras_of, package_dict
from catalog.resources import Links
from catalog.spec import PublicationSpec
from citydata.settings import REPO_ROOT
from citydata.spec.licenses import CKAN_LICENSES
from citydata.spec.model import DatasetSpec
from tests.unit.catalog.test_catalog_mapping import BASE, MANIFEST, POINTER

SHAPES = REPO_ROOT / "catalog" / "dcat" / "shapes"


@pytest.mark.parametrize(
    ("cron", "code"),
    [
        ("@hourly", "HOURLY"), ("@daily", "DAILY"), ("@weekly", "WEEKLY"), ("@monthly", "MONTHLY"),
        ("@yearly", "ANNUAL"), ("@annually", "ANNUAL"), ("0 2 * * *", "DAILY"), ("0 3 * * 1", "WEEKLY"),
        ("30 1 1 * *", "MONTHLY"), ("0 0 1 1 *", "ANNUAL"), ("15 * * * *", "HOURLY"),
        ("*/5 * * * *", "UPDATE_CONT"), ("0 2 1 1,7 *", "IRREG"),
    ],
)  # fmt: skip
def test_cron_maps_to_the_eu_frequency_uri(cron, code):
    assert frequency_uri(cron) == f"http://publications.europa.eu/resource/authority/frequency/{code}"


def test_cron_that_is_no_cron_has_no_frequency():
    assert frequency_uri("every day") is None


@pytest.mark.parametrize(
    ("license_id", "code"),
    [
        ("cc-by", "CC_BY_4_0"), ("cc-by-sa", "CC_BYSA_4_0"), ("cc-zero", "CC0"), ("cc-nc", "CC_BYNC_2_0"),
        ("odc-by", "ODC_BY"), ("odc-odbl", "ODC_BL"), ("odc-pddl", "ODC_PDDL"), ("gfdl", "GNU_FDL_1_3"),
        ("uk-ogl", "OGL_3_0"),
    ],
)  # fmt: skip
def test_licence_id_maps_to_the_eu_licence_uri(license_id, code):
    assert license_uri(license_id) == f"http://publications.europa.eu/resource/authority/licence/{code}"


def test_every_ckan_licence_is_either_mapped_or_names_no_licence_document():
    unmapped = {i for i in CKAN_LICENSES if license_uri(i) is None}
    assert unmapped == {"notspecified", "other-open", "other-pd", "other-at", "other-nc", "other-closed"}
    assert set(LICENSE_URIS) <= set(CKAN_LICENSES)  # no id CKAN does not know


def test_dc_type_becomes_a_dcmi_type_uri():
    assert dcmi_type_uri("Dataset") == DCMITYPE + "Dataset"
    assert dcmi_type_uri("still image") == DCMITYPE + "StillImage"
    assert dcmi_type_uri("http://example.org/type/x") == "http://example.org/type/x"
    assert dcmi_type_uri("Bảng tính") is None


def test_relation_is_a_url_or_a_catalog_dataset_page():
    ckan = "http://ckan.local:5000/"
    assert relation_uri("https://example.gov.vn/a", ckan) == "https://example.gov.vn/a"
    assert relation_uri("phuong-xa-tphcm", ckan) == "http://ckan.local:5000/dataset/phuong-xa-tphcm"
    assert relation_uri("QĐ 575", ckan) == "http://ckan.local:5000/dataset/Q%C4%90%20575"


def test_distribution_fields_give_download_url_licence_and_rights():
    url = "http://s3.local/lake/a.csv"
    assert distribution_fields(url, "cc-by", "Ghi nguồn.") == {
        "access_url": url, "download_url": url, "license": f"{EU}licence/CC_BY_4_0", "rights": "Ghi nguồn.",
    }  # fmt: skip
    assert distribution_fields(url, "other-open", None) == {"access_url": url, "download_url": url}


def test_extras_carry_english_texts_source_and_original_format():
    data: dict[str, Any] = copy.deepcopy(BASE)
    data["dublin_core"]["format"] = "XLSX"
    data["synthetic"] = True
    extras = dcat_extras(DatasetSpec.model_validate(data))
    assert extras == {
        TITLE_EN_KEY: "Public parking lots",
        DESCRIPTION_EN_KEY: f"Parking lots. {SYNTHETIC_EN}",
        SOURCE_KEY: "Hệ thống quản lý bãi xe",
        FORMAT_KEY: "XLSX",
    }
    data = copy.deepcopy(BASE)
    data["title"] = {"vi": "Chỉ tiếng Việt"}
    data["description"] = {"vi": "Mô tả."}
    del data["dublin_core"]["source"]
    assert dcat_extras(DatasetSpec.model_validate(data)) == {}


def test_package_dict_carries_the_dcat_fields():
    data: dict[str, Any] = copy.deepcopy(BASE)
    data["dublin_core"]["relation"] = ["https://example.gov.vn/quy-hoach", "phuong-xa-tphcm"]
    links = Links("http://ckan.local:5000", "http://s3.local/lake/")
    pkg = package_dict(
        DatasetSpec.model_validate(data), PublicationSpec(), MANIFEST, POINTER, links, "cur.json"
    )
    assert pkg["dcat_type"] == DCMITYPE + "Dataset"
    assert [r["relation"] for r in pkg["qualified_relation"]] == [
        "https://example.gov.vn/quy-hoach", "http://ckan.local:5000/dataset/phuong-xa-tphcm"]  # fmt: skip
    for res in pkg["resources"]:
        assert res["download_url"] == res["access_url"] == res["url"]
        assert res["license"] == f"{EU}licence/CC_BY_4_0" and res["rights"] == "Sử dụng tự do, ghi nguồn."
    assert extras_of(pkg)[TITLE_EN_KEY] == "Public parking lots"


def test_shapes_file_is_semics_dcat_ap_3_0_0_file_unchanged():
    readme = (SHAPES / "README.md").read_text(encoding="utf-8")
    digest = re.search(r"sha256: `([0-9a-f]{64})`", readme)
    assert digest and "releases/3.0.0/shacl/dcat-ap-SHACL.ttl" in readme and "CC-BY 4.0" in readme
    data = Path(SHAPES / "dcat-ap-SHACL.ttl").read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest.group(1)
