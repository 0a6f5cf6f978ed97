"""S3 (the real SeaweedFS service) stopped in the middle of publishing version 2: the run fails;
once S3 is back, readers still get version 1 (the pointer lists only versions whose manifest and
files all exist), and the next run publishes version 2 exactly once and sweeps the failed run's
staging."""

from __future__ import annotations

import time

import pytest

from catalog.publish import publish
from citydata.data import read_table
from citydata.storage.published import (
    listed_versions,
    read_manifest,
    read_pointer,
    read_version_table,
    staging_root,
)
from lake.promote import LakeUnavailable, PublishHooks

pytestmark = [pytest.mark.integration, pytest.mark.faults]


def _trusted_versions_are_whole(world, spec) -> list[int]:
    """Every version the pointer lists has its manifest, and every file the manifest names exists."""
    pointer = read_pointer(world.lake, spec.agency.id, spec.id)
    assert pointer is not None
    for entry in pointer.versions:
        manifest = world.lake.get_json(entry.manifest)
        assert manifest is not None, f"the pointer lists v{entry.version} but its manifest is missing"
        keys = [p["key"] for p in manifest["parts"]]
        keys += [f["key"] for f in manifest["files"].values() if isinstance(f, dict) and "key" in f]
        missing = [k for k in keys if not world.lake.exists(k)]
        assert not missing, f"v{entry.version} names missing objects: {missing}"
    return [v.version for v in pointer.versions]


@pytest.mark.parametrize("stop_at", ["after_stage", "after_copy", "after_manifest"])
def test_s3_stopped_mid_publication_leaves_v1_then_next_run_publishes_v2_once(world, outage, stop_at):
    spec = world.spec(f"s3-{stop_at.replace('_', '-')}", 30)
    world.pull_clean(spec)
    assert publish(spec, world.settings, world.lake, world.client).version == 1
    v1 = read_table(spec.id, settings=world.settings)
    resources = len(world.client.call("package_show", id=spec.id)["resources"])

    world.write(world.tmp / f"{spec.id}.csv", world.rows(45, seed=7))
    world.pull_clean(spec)
    stopped: list[float] = []

    def stop_s3(_prefix: str) -> None:
        outage.stop("s3")
        stopped.append(time.monotonic())

    with pytest.raises(LakeUnavailable, match=f"S3 at {world.settings.s3.url} unavailable") as err:
        publish(spec, world.settings, world.lake, world.client, hooks=PublishHooks(**{stop_at: stop_s3}))
    failed_after = time.monotonic() - stopped[0]
    started = time.monotonic()
    outage.restore()
    restart_s = time.monotonic() - started

    # Readers: version 1, whole; nothing of the interrupted version 2 is listed.
    assert _trusted_versions_are_whole(world, spec) == [1]
    assert read_table(spec.id, settings=world.settings).equals(v1)

    # The next run completes: version 2 exactly once, no version 3, no staging left.
    again = publish(spec, world.settings, world.lake, world.client)
    assert again.version == 2 and not again.lake.unchanged
    assert _trusted_versions_are_whole(world, spec) == [2, 1]
    assert listed_versions(world.lake, spec.agency.id, spec.id) == [1, 2]
    assert not list(world.lake.keys(staging_root(spec.agency.id, spec.id)))
    manifest = read_manifest(world.lake, spec.agency.id, spec.id)
    assert manifest is not None and manifest["rows"] == 45
    assert read_version_table(world.lake, manifest).num_rows == 45
    assert read_table(spec.id, settings=world.settings).num_rows == 45
    assert len(world.client.call("package_show", id=spec.id)["resources"]) == resources
    if stop_at == "after_manifest":
        assert again.lake.reason == "adopted a completed version"
    assert publish(spec, world.settings, world.lake, world.client).unchanged
    print(f"{stop_at}: {type(err.value.__cause__).__name__} {failed_after:.1f}s after S3 stopped; "
          f"S3 back in {restart_s:.1f}s")  # fmt: skip
