"""Solr emptied and restarted: CKAN keeps its datasets (PostgreSQL) but search finds none of them;
`citydata catalog reindex` (CKAN API, sysadmin token) makes every one searchable again, private
ones included, without touching the datasets themselves."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from catalog.publish import publish
from catalog.reindex import reindex
from citydata.clients import ckan_client

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _found(client, agency: str, *, private: bool) -> set[str]:
    result = client.call(
        "package_search", fq=f"organization:{agency}", rows=100, include_private=private, include_drafts=True
    )
    return {p["name"] for p in result["results"]}


def _empty_solr_core(settings) -> None:
    resp = requests.post(
        f"{settings.solr.url}/update?commit=true",
        json={"delete": {"query": "*:*"}},
        timeout=30,
    )
    resp.raise_for_status()


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(Path(sys.executable).parent / "citydata"), *args], capture_output=True,
                          text=True, timeout=600, env={**os.environ, **env})  # fmt: skip


def test_reindex_restores_search_after_solr_is_emptied_and_restarted(world, outage):
    public, private = world.spec("cong-khai"), world.spec("rieng-tu", publication={"private": True})
    for spec in (public, private):
        world.pull_clean(spec)
        publish(spec, world.settings, world.lake, world.client)
    names = {public.id, private.id}
    anonymous = ckan_client(world.settings, anonymous=True)
    modified = {n: world.client.call("package_show", id=n)["metadata_modified"] for n in names}
    assert _found(world.client, world.agency, private=True) == names
    try:
        _empty_solr_core(world.settings)
        started = time.monotonic()
        outage.stop("solr")
        outage.restore()  # the emptied core comes back empty: the loss is on disk, not in a cache
        restart_s = time.monotonic() - started
        assert _found(world.client, world.agency, private=True) == set()
        # The datasets themselves are still there (database-backed actions).
        assert {world.client.call("package_show", id=n)["name"] for n in names} == names

        started = time.monotonic()
        result = _cli("catalog", "reindex", "--json")
        reindex_s = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
    finally:
        if not _found(world.client, world.agency, private=True):
            reindex(world.settings)  # leave a searchable catalog to the rest of the suite
    assert report["ok"] is True and report["method"] == "api" and not report["failed"]
    assert report["unindexed"] == []
    package_ids = {world.client.call("package_show", id=n)["id"] for n in names}
    assert package_ids <= set(report["reindexed"])
    assert report["searchable"] >= len(names)

    assert _found(world.client, world.agency, private=True) == names  # the sysadmin sees both
    anon = anonymous.action.package_search(fq=f"organization:{world.agency}", rows=100)
    assert {p["name"] for p in anon["results"]} == {public.id}  # private stays private
    text = world.client.call("package_search", q=f'"Trạm sạc xe điện cong-khai {world.unique}"')
    assert public.id in {p["name"] for p in text["results"]}  # full-text search, not only filters
    after = {n: world.client.call("package_show", id=n)["metadata_modified"] for n in names}
    assert after == modified  # re-indexing changed no dataset
    print(f"solr restart {restart_s:.1f}s, `citydata catalog reindex` {reindex_s:.1f}s "
          f"({len(report['reindexed'])} datasets)")  # fmt: skip


def test_reindex_fails_cleanly_while_solr_is_down(world, outage):
    spec = world.spec("solr-tat")
    world.pull_clean(spec)
    publish(spec, world.settings, world.lake, world.client)
    outage.stop("solr")
    started = time.monotonic()
    result = _cli("catalog", "reindex", "--json", CITYDATA_CKAN__RETRIES="1", CITYDATA_CKAN__BACKOFF_S="0.1")
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert "CKAN" in report["error"] and world.settings.ckan.url in report["error"]
    print(f"reindex with Solr down failed in {elapsed:.1f}s: {report['error']}")
