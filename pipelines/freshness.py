"""Freshness: every dataset's `published` asset carries a Dagster freshness policy from its declared
update frequency, and a sensor alerts when a dataset is late.

- `freshness_policy(spec)`: warn after one update period without a new version, fail after 1.5
  (the same threshold as the catalog's scoreboard and quality score); none for an irregular
  frequency. Dagster's UI shows it on the asset.
- `build_freshness_sensor(specs)`: each tick compares the last materialization of every dataset's
  `published` with its fail window; a late dataset gets one alert per lateness (a log line and,
  when `CITYDATA_ALERTS__WEBHOOK_URL` is set, a JSON POST, like run failures), and again only after
  a new version has been published and is late in its turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from catalog.dcat_fields import frequency_uri
from catalog.quality_score import FULL_UNTIL, PERIOD_DAYS
from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec
from pipelines.automation import DATASET_TAG, send_alert
from pipelines.datasets.assets import asset_key

FRESHNESS_SENSOR_NAME = "late_datasets"


def update_period(spec: DatasetSpec) -> timedelta | None:
    """The declared time between two versions (None for an irregular frequency)."""
    code = (frequency_uri(spec.update_frequency) or "").rsplit("/", 1)[-1]
    days = PERIOD_DAYS.get(code)
    return timedelta(days=days) if days is not None else None


def freshness_policy(spec: DatasetSpec) -> dg.FreshnessPolicy | None:
    period = update_period(spec)
    if period is None:
        return None
    return dg.FreshnessPolicy.time_window(fail_window=period * FULL_UNTIL, warn_window=period)


def _published_at(instance: dg.DagsterInstance, spec: DatasetSpec) -> float | None:
    event = instance.get_latest_materialization_event(asset_key(spec, "published"))
    return event.timestamp if event is not None else None


def late_alert(spec: DatasetSpec, published_at: float, now: datetime, period: timedelta) -> dict[str, Any]:
    age = now - datetime.fromtimestamp(published_at, UTC)
    late = age - period
    return {
        "event": "dataset_late",
        "dataset": spec.id,
        "agency": spec.agency.id,
        "update_frequency": spec.update_frequency,
        "last_published": datetime.fromtimestamp(published_at, UTC).isoformat(timespec="seconds"),
        "days_late": round(late.total_seconds() / 86400, 1),
        "at": now.isoformat(timespec="seconds"),
    }


def build_freshness_sensor(
    specs: list[DatasetSpec],
    minimum_interval_seconds: int = 300,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[dg.SensorDefinition]:
    """The sensor alerting on late datasets (none when no dataset has a regular frequency).

    Cursor: `{dataset_id: timestamp of the version already alerted on}`."""
    regular = [(s, p) for s in specs if (p := update_period(s)) is not None]
    if not regular:
        return []

    @dg.sensor(
        name=FRESHNESS_SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,  # it only reads the event log and alerts
        description="Alerts when a dataset has no new version for 1.5 times its update frequency.",
    )
    def late_datasets(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        settings, now = load_settings(), clock()
        cursor: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
        late: list[str] = []
        for spec, period in regular:
            published_at = _published_at(context.instance, spec)
            if published_at is None:
                continue  # never published: nothing can be late yet
            if now - datetime.fromtimestamp(published_at, UTC) <= period * FULL_UNTIL:
                continue
            late.append(spec.id)
            if cursor.get(spec.id) == published_at:
                continue  # already alerted on this version
            alert = late_alert(spec, published_at, now, period)
            line = (
                f"ALERT dataset late: dataset={spec.id} days_late={alert['days_late']} "
                f"last_published={alert['last_published']} frequency={spec.update_frequency}"
            )
            send_alert(context, settings, line, {**alert, "tags": {DATASET_TAG: spec.id}})
            cursor[spec.id] = published_at
        context.update_cursor(json.dumps(cursor, sort_keys=True))
        return dg.SkipReason(f"late: {', '.join(late)}" if late else "every dataset is on time")

    return [late_datasets]
