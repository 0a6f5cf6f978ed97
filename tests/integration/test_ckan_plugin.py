"""The project's CKAN plugin (`citydata`, stack/ckan/ckanext-citydata): XLoader's row-by-row
fallback, which failed on this stack with {'user_id': ['User not found']} from the activity plugin,
loads a file with short lines."""

import pytest

from benchmarks.xloader_peer import xloader_run
from citydata.clients import ckan_client

pytestmark = pytest.mark.integration


def test_xloader_fallback_loads_a_file_with_missing_fields(stack_ready, unique, tmp_path):
    ckan = ckan_client(stack_ready)
    assert "citydata" in ckan.action.status_show()["extensions"]
    org = ckan.action.organization_create(name=f"test-xlfallback-{unique}")
    path = tmp_path / "ragged.csv"
    # A short line makes XLoader's COPY fail, so its job falls back to datastore_create from the worker.
    path.write_text("ma;ten;so\nA1;Phường Một;1\nA2;Phường Hai\nA3;Phường Ba;3\n", encoding="utf-8")
    try:
        run = xloader_run(stack_ready, org["name"], f"test-xlfallback-{unique}", path, timeout_s=180)
        assert run.completed, run.notes
        assert run.notes["rows"] == 3
    finally:
        ckan.action.dataset_purge(id=f"test-xlfallback-{unique}")
        ckan.action.organization_purge(id=org["id"])
