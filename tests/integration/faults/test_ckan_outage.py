"""CKAN stopped in the middle of a publication (right after the dataset was created, before its
DataStore table and final update): the client retries with bounded backoff, then fails with an
error naming CKAN; the lake keeps its committed version. Once CKAN is back, the next run finishes
the catalog entry exactly once: the same dataset, resources, views and DataStore rows as an
uninterrupted publication of an identical spec, and a further run writes nothing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from catalog.client import CatalogClient, CatalogUnavailable
from catalog.publish import publish
from citydata.storage.published import read_pointer

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROWS = 40


class StopsCkanAfter(CatalogClient):
    """A real client that stops the real CKAN service once `action` has succeeded."""

    def __init__(self, settings, outage, action: str) -> None:
        super().__init__(settings)
        self.outage, self.action = outage, action
        self.stopped_at: float | None = None

    def call(self, action: str, **data: Any) -> Any:
        result = super().call(action, **data)
        if action == self.action and self.stopped_at is None:
            self.outage.stop("ckan")
            self.stopped_at = time.monotonic()
        return result


def test_ckan_stopped_mid_publish_retries_fails_cleanly_then_publishes_once(world, outage):
    spec, twin = world.spec("ckan-tat", ROWS), world.spec("ckan-doi-chung", ROWS)
    for s in (spec, twin):
        world.pull_clean(s)
    publish(twin, world.settings, world.lake, world.client)  # the uninterrupted reference
    quick = world.settings.model_copy(
        update={"ckan": world.settings.ckan.model_copy(update={"retries": 3, "backoff_s": 0.2})}
    )

    failing = StopsCkanAfter(quick, outage, "package_create")
    started = time.monotonic()
    with pytest.raises(CatalogUnavailable) as err:
        publish(spec, quick, world.lake, failing)
    assert failing.stopped_at is not None
    failed_after = time.monotonic() - failing.stopped_at
    message = str(err.value)
    assert message.startswith("CKAN ") and quick.ckan.url in message, message
    assert err.value.attempts == 4  # 1 + settings.ckan.retries
    assert failed_after < 15, f"retries took {failed_after:.1f}s: the backoff is not bounded"
    pointer = read_pointer(world.lake, spec.agency.id, spec.id)
    assert pointer is not None and pointer.current == 1  # the lake's commit stands

    outage.restore()
    again = publish(spec, world.settings, world.lake, CatalogClient(world.settings))
    assert again.lake.unchanged and again.version == 1  # no second version in the lake
    assert not again.catalog.created  # the dataset created before the outage was completed
    assert again.catalog.datastore_rows == ROWS
    found = world.client.call("package_search", fq=f"organization:{world.agency}", include_private=True)
    assert sorted(p["name"] for p in found["results"]) == sorted([spec.id, twin.id])  # one dataset each
    assert world.catalog_view(spec.id) == world.catalog_view(twin.id)

    third = publish(spec, world.settings, world.lake, CatalogClient(world.settings))
    assert third.unchanged and third.catalog.writes == []
    total = time.monotonic() - started
    print(f"CKAN down: failed after {failed_after:.1f}s of retries; test {total:.0f}s; {outage.timings}")
