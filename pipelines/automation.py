"""Automation: a schedule per dataset, a drop-zone sensor, and run-failure alerts.

Every dataset has one job, `<dataset>_graph`, selecting its whole asset graph (every asset under
its key prefix, with their checks). Runs of that job carry the tag `citydata/dataset=<id>`, which
the run queue can limit (one run per dataset, see `tag_concurrency_limits` in dagster.yaml).

- `dataset_job(spec)` / `dataset_schedule(spec, job, settings)`: the job and its schedule, built
  once per dataset by the factory (`pipelines/datasets/factory.py`); the schedule runs on
  `update_frequency` (a 5-field cron, or @hourly/@daily/@weekly/@monthly/@yearly mapped to cron),
  in Asia/Ho_Chi_Minh time.
- `build_drop_zone_sensor(specs, jobs)`: one sensor for every `s3_drop` dataset. Each tick lists the
  drop zone (the same listing and file-name filter the connector pulls with) and compares the
  newest (last_modified, key) with the cursor; anything newer requests a run of that dataset's
  job. A first tick with objects present requests a run too: the pull itself is idempotent
  (the connector's state skips objects already pulled), so nothing is missed and nothing is
  pulled twice.
- `build_failure_sensor()`: on every failed run, one alert line in the log (dataset, failed
  steps/assets, error) and, when a webhook URL is set, a JSON POST to it (timeout; 3 tries in all,
  by the project's retry policy).

Default status. Schedules and the drop-zone sensor start STOPPED, so a local stack never runs
anything unasked; `CITYDATA_AUTOMATION__ENABLED=true` (`settings.automation.enabled`) in the
daemon's environment starts them RUNNING. Either way they can be toggled in the UI.
The failure sensor starts RUNNING: it only reads the event log and alerts.

The drop-zone sensor gets settings and its S3 client from the S3 resource, like the assets.

Webhook: `CITYDATA_ALERTS__WEBHOOK_URL` (`settings.alerts.webhook_url`). The URL itself
is treated as a secret (Slack/Teams URLs embed a token): only its scheme and host are logged.
Known secrets from the settings are masked in error texts before they are logged or sent.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dagster as dg
from pydantic import BaseModel, SecretStr

from citydata.settings import Settings, load_settings
from citydata.spec.model import DatasetSpec
from pipelines.datasets.assets import key_part
from pipelines.resources import S3Resource

log = logging.getLogger(__name__)

TIMEZONE = "Asia/Ho_Chi_Minh"
DATASET_TAG = "citydata/dataset"
TRIGGER_TAG = "citydata/trigger"
CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
DROP_SENSOR_NAME = "drop_zone_new_objects"
FAILURE_SENSOR_NAME = "run_failure_alerts"


# --- settings ----------------------------------------------------------------------------------------
def webhook_url(settings: Settings) -> str | None:
    value = settings.alerts.webhook_url
    text = value.get_secret_value().strip() if value is not None else ""
    return text or None


def default_status(settings: Settings) -> tuple[dg.DefaultScheduleStatus, dg.DefaultSensorStatus]:
    """Schedules and the drop-zone sensor start RUNNING only when the settings say so."""
    if settings.automation.enabled:
        return dg.DefaultScheduleStatus.RUNNING, dg.DefaultSensorStatus.RUNNING
    return dg.DefaultScheduleStatus.STOPPED, dg.DefaultSensorStatus.STOPPED


# --- jobs and schedules ----------------------------------------------------------------------------
def cron_for(update_frequency: str) -> str:
    """`@daily` -> `0 0 * * *`; a 5-field cron is returned as is."""
    value = update_frequency.strip()
    return CRON_ALIASES.get(value, value)


def dataset_selection(spec: DatasetSpec) -> dg.AssetSelection:
    return dg.AssetSelection.key_prefixes([key_part(spec.id)])


def job_name(spec: DatasetSpec) -> str:
    return f"{key_part(spec.id)}_graph"


def dataset_job(spec: DatasetSpec) -> dg.UnresolvedAssetJobDefinition:
    """The job that materializes a dataset's whole asset graph (its schedule and sensors share it:
    Dagster refuses two different job objects with one name in a code location)."""
    return dg.define_asset_job(
        name=job_name(spec),
        selection=dataset_selection(spec),
        description=f"Every asset of {spec.id} (raw → clean → … → annotations).",
        tags={DATASET_TAG: spec.id, "agency": spec.agency.id},
    )


def dataset_schedule(
    spec: DatasetSpec, job: dg.UnresolvedAssetJobDefinition, settings: Settings
) -> dg.ScheduleDefinition:
    """The dataset's schedule, from its `update_frequency`, in Ho Chi Minh City time."""
    schedule_status, _ = default_status(settings)
    return dg.ScheduleDefinition(
        name=f"{key_part(spec.id)}_schedule",
        cron_schedule=cron_for(spec.update_frequency),
        job=job,
        execution_timezone=TIMEZONE,
        default_status=schedule_status,
        tags={DATASET_TAG: spec.id, TRIGGER_TAG: "schedule"},
        description=f"{spec.id}: {spec.update_frequency} ({TIMEZONE})",
    )


# --- drop zone -------------------------------------------------------------------------------------
def _drop_listing(spec: DatasetSpec, settings: Settings) -> tuple[str, dict[str, dict[str, Any]]]:
    """(`s3://bucket/prefix`, {key: {etag, size, last_modified}}) as the connector would pull it."""
    from connectors.base import FetchContext
    from connectors.sources.s3_drop import S3DropConfig, S3DropConnector

    config = spec.source
    assert isinstance(config, S3DropConfig)
    connector = S3DropConnector(config, FetchContext(settings, spec.id, Path(tempfile.gettempdir())))
    bucket = connector.bucket
    return f"s3://{bucket}/{config.prefix}", connector._list(connector.client(), bucket, config.prefix)


def build_drop_zone_sensor(
    specs: list[DatasetSpec],
    jobs: Mapping[str, dg.UnresolvedAssetJobDefinition],
    settings: Settings,
    minimum_interval_seconds: int = 30,
) -> list[dg.SensorDefinition]:
    """A sensor requesting a dataset's job (`jobs[dataset id]`) when its drop zone has a new or
    re-uploaded object.

    Cursor: `{dataset_id: [last_modified, key]}` of the newest object seen. No sensor (empty list)
    when no spec uses `s3_drop`.
    """
    dropped = [s for s in specs if s.source.type == "s3_drop"]
    if not dropped:
        return []
    _, sensor_status = default_status(settings)
    jobs = {s.id: jobs[s.id] for s in dropped}

    @dg.sensor(
        name=DROP_SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        jobs=list(jobs.values()),
        default_status=sensor_status,
        description="Runs a dataset's graph when a new object lands in its S3 drop zone.",
    )
    def drop_zone_sensor(
        context: dg.SensorEvaluationContext, s3: S3Resource
    ) -> dg.SensorResult | dg.SkipReason:
        settings = s3.settings()
        cursor: dict[str, list[str]] = json.loads(context.cursor) if context.cursor else {}
        requests: list[dg.RunRequest] = []
        problems: list[str] = []
        for spec in dropped:
            try:
                where, listed = _drop_listing(spec, settings)
            except Exception as exc:  # noqa: BLE001 - one broken drop zone must not block the others
                problems.append(f"{spec.id}: {_redact(str(exc), settings)}")
                context.log.warning("%s: cannot list its drop zone: %s", spec.id, problems[-1])
                continue
            if not listed:
                continue
            newest = max((entry["last_modified"] or "", key) for key, entry in listed.items())
            seen = tuple(cursor[spec.id]) if spec.id in cursor else None
            if seen is not None and newest <= seen:
                continue
            fresh = [k for k, e in listed.items() if seen is None or (e["last_modified"] or "", k) > seen]
            context.log.info("%s: %d new object(s) in %s, e.g. %s", spec.id, len(fresh), where, fresh[0])
            requests.append(
                dg.RunRequest(
                    run_key=f"{spec.id}:{newest[0]}:{newest[1]}",
                    job_name=jobs[spec.id].name,
                    tags={DATASET_TAG: spec.id, TRIGGER_TAG: "drop_zone", "citydata/drop_key": newest[1]},
                )
            )
            cursor[spec.id] = list(newest)
        new_cursor = json.dumps(cursor, sort_keys=True)
        if not requests:
            reason = "no new objects in the drop zones"
            if problems:
                reason += f"; {len(problems)} drop zone(s) unreadable: " + "; ".join(problems)
            if new_cursor != (context.cursor or "{}"):
                context.update_cursor(new_cursor)
            return dg.SkipReason(reason)
        return dg.SensorResult(run_requests=requests, cursor=new_cursor)

    return [drop_zone_sensor]


# --- failure alerts --------------------------------------------------------------------------------
def _secrets(settings: Settings) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
            if len(text) >= 4:
                found.append(text)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name, None))

    walk(settings)
    url = webhook_url(settings)
    if url:
        found.append(url)
    return sorted(set(found), key=len, reverse=True)


def _redact(text: str, settings: Settings) -> str:
    for secret in _secrets(settings):
        text = text.replace(secret, "***")
    return text


def _safe_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}/…"


def _asset_of_step(step_key: str | None) -> str | None:
    """`phan_anh__clean` (the op of asset key phan_anh/clean) -> `phan_anh/clean`."""
    return step_key.replace("__", "/") if step_key else None


def _root_message(error: Any) -> str:
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause  # the user's error, not Dagster's wrapper
    text = (getattr(error, "message", "") or "").strip()
    return text.splitlines()[0] if text else ""


def _dataset_of_run(run: dg.DagsterRun) -> str | None:
    if run.tags.get(DATASET_TAG):
        return run.tags[DATASET_TAG]
    keys = list(run.asset_selection or [])
    prefixes = sorted({k.path[0] for k in keys if len(k.path) > 1})
    return ",".join(prefixes) or None


def alert_payload(context: dg.RunFailureSensorContext, settings: Settings) -> dict[str, Any]:
    run = context.dagster_run
    steps = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        steps.append(
            {
                "step": event.step_key,
                "asset": _asset_of_step(event.step_key),
                "error": _redact(_root_message(data.error) if data else "", settings)[:1000],
            }
        )
    run_error = context.failure_event.message or ""
    error = steps[0]["error"] if steps and steps[0]["error"] else run_error
    return {
        "event": "run_failure",
        "dataset": _dataset_of_run(run),
        "run_id": run.run_id,
        "job": run.job_name,
        "steps": steps,
        "error": _redact(error, settings)[:1000],
        "trigger": run.tags.get(TRIGGER_TAG),
        "run_url": f"{settings.dagster.webserver_url.rstrip('/')}/runs/{run.run_id}",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def post_alert(url: str, payload: dict[str, Any], *, attempts: int = 3, timeout_s: float = 5.0) -> bool:
    """POST the payload as JSON; True if the webhook took it. `attempts` tries in all (the first
    included) on connection errors, timeouts and 429/500/502/503/504, by the project's retry policy;
    every failed try is logged (without the URL's path: it may hold a token). Never raises."""
    import requests

    from citydata.retry import RetryPolicy, TransientStatus, raise_for_transient_status, retry_call

    shown = _safe_url(url)
    tries = 0

    def once() -> requests.Response:
        nonlocal tries
        tries += 1
        try:
            resp = requests.post(url, json=payload, timeout=timeout_s)
            raise_for_transient_status(resp)
        except (requests.RequestException, TransientStatus) as exc:
            problem = str(exc) if isinstance(exc, TransientStatus) else type(exc).__name__  # no URL
            log.warning("alert webhook %s: attempt %d/%d failed: %s", shown, tries, attempts, problem)
            raise
        return resp

    policy = RetryPolicy(attempts=attempts, backoff_s=0.5, backoff_max_s=4.0, max_wait_s=10.0)
    try:
        resp = retry_call(policy, once, on_retry=lambda _: None)  # each failure is logged above
    except (requests.RequestException, TransientStatus):
        return False
    if resp.status_code >= 400:
        log.error("alert webhook %s refused the alert: HTTP %s", shown, resp.status_code)
        return False
    return True


def send_alert(context: Any, settings: Settings, line: str, payload: dict[str, Any]) -> None:
    """The alert line in the sensor's and the process's log; the payload to the webhook, if set."""
    context.log.error(line)
    log.error(line)
    url = webhook_url(settings)
    if url:
        if post_alert(url, payload):
            context.log.info("alert sent to %s", _safe_url(url))
        else:
            context.log.error("alert NOT delivered to %s (see warnings above)", _safe_url(url))


def build_failure_sensor(minimum_interval_seconds: int = 30) -> dg.SensorDefinition:
    """Alerts on every failed run of this code location: a log line, and a webhook POST if set."""

    @dg.run_failure_sensor(
        name=FAILURE_SENSOR_NAME,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Logs an alert for every failed run and POSTs it to the alert webhook, if set.",
    )
    def failure_sensor(context: dg.RunFailureSensorContext) -> None:
        settings = load_settings()  # the composition root's own read: secrets to mask, the webhook
        payload = alert_payload(context, settings)
        where = ", ".join(s["asset"] or s["step"] for s in payload["steps"]) or "run"
        line = (
            f"ALERT run failed: dataset={payload['dataset'] or '?'} at={where} "
            f"run={payload['run_id']} error={payload['error']}"
        )
        send_alert(context, settings, line, payload)

    return failure_sensor
