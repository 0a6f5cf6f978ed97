"""The licence ids a spec may name are exactly those the live CKAN offers."""

import pytest

from citydata.clients import ckan_client
from citydata.spec.licenses import CKAN_LICENSES, OPEN_LICENSES

pytestmark = pytest.mark.integration


def test_spec_licences_are_the_catalogs_licence_list(stack_ready):
    # ids in CKAN's order; titles are translated by the portal's locale (vi), so not compared
    live = [item["id"] for item in ckan_client(stack_ready).action.license_list()]
    assert list(CKAN_LICENSES) == live


def test_open_licences_are_those_the_catalog_marks_open(stack_ready):
    live = ckan_client(stack_ready).action.license_list()
    assert OPEN_LICENSES == {item["id"] for item in live if item.get("od_conformance") == "approved"}
