"""Freshness: a policy from the update frequency on `published`, and one alert per late version."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from citydata.spec.model import DatasetSpec
from pipelines.datasets.assets import asset_key
from pipelines.freshness import FRESHNESS_SENSOR_NAME, build_freshness_sensor, freshness_policy
from pipelines.resources import default_resources
from tests.unit.automation.test_schedules import make_spec


def published(instance: dg.DagsterInstance, spec: DatasetSpec) -> datetime:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key(spec, "published")))
    event = instance.get_latest_materialization_event(asset_key(spec, "published"))
    assert event is not None
    return datetime.fromtimestamp(event.timestamp, UTC)


def test_the_policy_follows_the_declared_frequency():
    daily = freshness_policy(make_spec("phan-anh", "@daily"))
    assert daily is not None
    assert daily.fail_window.to_timedelta() == timedelta(days=1.5)
    assert daily.warn_window is not None and daily.warn_window.to_timedelta() == timedelta(days=1)
    weekly = freshness_policy(make_spec("phan-anh", "@weekly"))
    assert weekly is not None and weekly.fail_window.to_timedelta() == timedelta(days=10.5)
    assert freshness_policy(make_spec("phan-anh", "0 3 1 1,7 *")) is None  # twice a year: irregular


def test_the_published_asset_carries_the_policy():
    from pipelines.definitions import build_definitions

    spec = make_spec("phan-anh", "@daily")
    repo = build_definitions([spec]).get_repository_def()
    key = asset_key(spec, "published")
    policy = repo.assets_defs_by_key[key].specs_by_key[key].freshness_policy
    assert policy == freshness_policy(spec)
    assert FRESHNESS_SENSOR_NAME in {s.name for s in repo.sensor_defs}


def test_a_late_dataset_is_alerted_once_per_version(caplog):
    daily, weekly = make_spec("phan-anh", "@daily"), make_spec("bai-xe", "@weekly")
    with dg.DagsterInstance.ephemeral() as instance:
        at = published(instance, daily)
        published(instance, weekly)
        clock = {"now": at + timedelta(days=1)}
        [sensor] = build_freshness_sensor([daily, weekly], clock=lambda: clock["now"])

        def tick(cursor=None):
            context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=default_resources())
            with caplog.at_level("ERROR"):
                result = sensor(context)
            return result, context.cursor

        on_time, cursor = tick()
        assert "every dataset is on time" in on_time.skip_message
        assert not [r for r in caplog.records if "ALERT dataset late" in r.getMessage()]

        clock["now"] = at + timedelta(days=3)
        late, cursor = tick(cursor)
        assert late.skip_message == "late: phan-anh"  # the weekly dataset is not late after 3 days
        alerts = [r.getMessage() for r in caplog.records if "ALERT dataset late" in r.getMessage()]
        assert len(alerts) == 1 and "dataset=phan-anh days_late=2.0" in alerts[0]

        caplog.clear()
        tick(cursor)  # still late, same version: no second alert
        assert not [r for r in caplog.records if "ALERT dataset late" in r.getMessage()]

        again = published(instance, daily)  # a new version, late in its turn: alerted again
        clock["now"] = again + timedelta(days=2)
        tick(cursor)
        assert [r for r in caplog.records if "ALERT dataset late: dataset=phan-anh" in r.getMessage()]
