"""`citydata status [--json]`: where every dataset stands, one line each.

Per dataset (JSON fields):

    dataset, agency, update_frequency
    last_run         {run_id, status, trigger, started_at, ended_at} of the newest Dagster run that
                     planned its `raw`/`clean` asset or carries `citydata/dataset=<id>`; null if none
    result           success | failed | canceled | running | queued | never run
    materialized_at  when `clean` last materialized (ISO, UTC); null if never
    quality          {score, passed, severity, at, source}: the latest `quality` check evaluation
                     (source "dagster"), else the last report in the lake (source "report"); null
    published        {version, rows, updated_at} from published/<agency>/<dataset>/_current.json; null
    labeling         {project_id, pushed_tasks, last_pull_id, tasks, finished_tasks, annotations}
                     from state/<dataset>/labeling.json (+ Label Studio's counts when it answers);
                     null without a labeling state
    errors           what could not be read (a service down, an unreadable object); [] when fine

Always exits 0: it reports, it does not judge. Invalid specs are listed on stderr.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_json, print_table
from citydata.dagster_instance import dagster_environment
from citydata.settings import Settings, load_settings
from citydata.spec import load_specs
from citydata.spec.model import DatasetSpec

if TYPE_CHECKING:
    import dagster as dg

    from citydata.storage.lake import Lake

DATASET_TAG = "citydata/dataset"
_RESULT = {
    "SUCCESS": "success",
    "FAILURE": "failed",
    "CANCELED": "canceled",
    "CANCELING": "running",
    "STARTED": "running",
    "STARTING": "running",
    "QUEUED": "queued",
    "NOT_STARTED": "queued",
    "MANAGED": "running",
}


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


def _local(iso: str | None) -> str:
    if not iso:
        return "-"
    return datetime.fromisoformat(iso).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%d %H:%M")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


# --- Dagster ---------------------------------------------------------------------------------------
def _last_run(instance: dg.DagsterInstance, spec: DatasetSpec) -> dict[str, Any] | None:
    import dagster as dg

    from pipelines.datasets.assets import asset_key

    run_ids: set[str] = set()
    for stage in ("clean", "raw"):
        info = instance.get_latest_planned_materialization_info(asset_key(spec, stage))
        if info is not None:
            run_ids.add(info.run_id)
        event = instance.get_latest_materialization_event(asset_key(spec, stage))
        if event is not None:
            run_ids.add(event.run_id)
    tagged = instance.get_run_records(filters=dg.RunsFilter(tags={DATASET_TAG: spec.id}), limit=1)
    run_ids.update(r.dagster_run.run_id for r in tagged)
    if not run_ids:
        return None
    records = instance.get_run_records(filters=dg.RunsFilter(run_ids=sorted(run_ids)))
    if not records:
        return None
    newest = max(records, key=lambda r: r.create_timestamp.timestamp())
    run = newest.dagster_run
    return {
        "run_id": run.run_id,
        "status": run.status.value,
        "trigger": run.tags.get("citydata/trigger")
        or ("schedule" if run.tags.get("dagster/schedule_name") else None),
        "started_at": _iso(newest.start_time),
        "ended_at": _iso(newest.end_time),
    }


def _dagster_quality(instance: dg.DagsterInstance, spec: DatasetSpec) -> dict[str, Any] | None:
    import dagster as dg
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    from pipelines.datasets.assets import asset_key

    done = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
    # The latest record may be one still planned (a run in progress): take the latest finished one.
    records = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(asset_key(spec, "clean"), "quality"), limit=1, status=done
    )
    record = records[0] if records else None
    evaluation = record.evaluation if record is not None else None
    if record is None or not isinstance(evaluation, dg.AssetCheckEvaluation):
        return None
    score = evaluation.metadata.get("score")
    return {
        "score": getattr(score, "value", score),
        "passed": evaluation.passed,
        "severity": None if evaluation.passed else evaluation.severity.value,
        "at": _iso(record.event.timestamp if record.event else record.create_timestamp),
        "source": "dagster",
    }


def _materialized_at(instance: dg.DagsterInstance, spec: DatasetSpec) -> str | None:
    from pipelines.datasets.assets import asset_key

    event = instance.get_latest_materialization_event(asset_key(spec, "clean"))
    return _iso(event.timestamp) if event is not None else None


# --- the lake --------------------------------------------------------------------------------------
def _report_quality(lake: Lake, spec: DatasetSpec) -> dict[str, Any] | None:
    from quality.reports import last_report

    report = last_report(lake, spec)
    if report is None:
        return None
    return {
        "score": report.score,
        "passed": report.success,
        "severity": "ERROR" if report.blocking else ("WARN" if not report.success else None),
        "at": None,
        "source": "report",
        "pull_id": report.pull_id,
    }


def _published(lake: Lake, spec: DatasetSpec) -> dict[str, Any] | None:
    try:
        from citydata.storage.published import read_pointer
    except ImportError:  # the published zone's reader is optional: read the pointer directly
        from citydata.storage.layout import zone_prefix

        data = lake.get_json(zone_prefix("published", spec.agency.id, spec.id) + "_current.json")
        if not data:
            return None
        current = data.get("current")
        entry: dict[str, Any] = next((v for v in data.get("versions", []) if v.get("version") == current), {})
        return {"version": current, "rows": entry.get("rows"), "updated_at": data.get("updated_at")}
    pointer = read_pointer(lake, spec.agency.id, spec.id)
    if pointer is None:
        return None
    version = pointer.entry()
    return {
        "version": pointer.current,
        "rows": version.rows if version else None,
        "updated_at": pointer.updated_at,
    }


def _labeling(lake: Lake, spec: DatasetSpec, settings: Settings, errors: list[str]) -> dict[str, Any] | None:
    from citydata.storage.layout import state_key

    state = lake.get_json(state_key(spec.id, "labeling"))
    if not state:
        return None
    project_id = state.get("project_id")
    out: dict[str, Any] = {
        "project_id": project_id,
        "pushed_tasks": len(state.get("pushed_keys") or []),
        "last_pull_id": state.get("last_pull_id"),
        "tasks": None,
        "finished_tasks": None,
        "annotations": None,
    }
    if project_id:
        try:
            counts = _label_studio_counts(settings, int(project_id))
        except Exception as exc:  # noqa: BLE001 - Label Studio down: the lake's figures still stand
            errors.append(f"label studio: {_short(exc)}")
        else:
            out.update(counts)
    return out


def _label_studio_counts(settings: Settings, project_id: int) -> dict[str, Any]:
    import requests

    token = settings.label_studio.api_token.get_secret_value()
    resp = requests.get(
        f"{settings.label_studio.url.rstrip('/')}/api/projects/{project_id}/",
        headers={"Authorization": f"Token {token}"},
        timeout=5,
    )
    resp.raise_for_status()
    body = resp.json()
    return {
        "tasks": body.get("task_number"),
        "finished_tasks": body.get("finished_task_number"),
        "annotations": body.get("total_annotations_number"),
    }


# --- one dataset -----------------------------------------------------------------------------------
def dataset_status(
    spec: DatasetSpec, settings: Settings, instance: dg.DagsterInstance | None, lake: Lake | None
) -> dict[str, Any]:
    errors: list[str] = []
    out: dict[str, Any] = {
        "dataset": spec.id,
        "agency": spec.agency.id,
        "update_frequency": spec.update_frequency,
        "last_run": None,
        "result": "never run",
        "materialized_at": None,
        "quality": None,
        "published": None,
        "labeling": None,
        "errors": errors,
    }

    def attempt(what: str, fn: Any) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - one unreadable source must not hide the rest
            errors.append(f"{what}: {_short(exc)}")
            return None

    if instance is not None:
        out["last_run"] = attempt("dagster runs", lambda: _last_run(instance, spec))
        out["materialized_at"] = attempt("dagster materializations", lambda: _materialized_at(instance, spec))
        out["quality"] = attempt("dagster checks", lambda: _dagster_quality(instance, spec))
    if out["last_run"]:
        out["result"] = _RESULT.get(out["last_run"]["status"], out["last_run"]["status"].lower())
    if lake is not None:
        if out["quality"] is None:
            out["quality"] = attempt("quality report", lambda: _report_quality(lake, spec))
        out["published"] = attempt("published", lambda: _published(lake, spec))
        out["labeling"] = attempt("labeling state", lambda: _labeling(lake, spec, settings, errors))
    return out


def collect(settings: Settings) -> list[dict[str, Any]]:
    """The status of every valid spec in `settings.specs_dir`."""
    import dagster as dg

    from citydata.storage.lake import Lake

    loaded = load_specs(settings.specs_dir)
    for error in loaded.errors:
        err_console.print(f"[yellow]skipping invalid spec {error.path}[/]")
    specs = list(loaded.specs.values())
    if not specs:
        return []
    common: list[str] = []
    lake: Lake | None
    try:
        lake = Lake(settings)
    except Exception as exc:  # noqa: BLE001
        lake = None
        common.append(f"s3: {_short(exc)}")
    try:
        os.environ.update(dagster_environment(settings))
        instance_cm = dg.DagsterInstance.get()
    except Exception as exc:  # noqa: BLE001 - no instance: still report what the lake knows
        common.append(f"dagster instance: {_short(exc)}")
        results = [dataset_status(spec, settings, None, lake) for spec in specs]
    else:
        with instance_cm as instance:
            results = [dataset_status(spec, settings, instance, lake) for spec in specs]
    for r in results:
        r["errors"][:0] = common
    return results


def _cell_quality(q: dict[str, Any] | None) -> str:
    if not q:
        return "-"
    score = q.get("score")
    mark = "[green]pass[/]" if q.get("passed") else f"[red]{(q.get('severity') or 'fail').lower()}[/]"
    return f"{score:.0f} {mark}" if isinstance(score, int | float) else mark


def _cell_labeling(lab: dict[str, Any] | None) -> str:
    if not lab:
        return "-"
    if lab.get("tasks") is not None:
        return f"{lab.get('finished_tasks') or 0}/{lab['tasks']} done"
    return f"{lab['pushed_tasks']} pushed"


def status(
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Every dataset: last run and its result, quality score, published version, labeling progress."""
    results = collect(load_settings())
    if json_out:
        print_json(results)
        return
    if not results:
        console.print("no dataset specs")
        return
    colors = {"success": "green", "failed": "red", "canceled": "yellow"}
    table = Table("dataset", "last run (HCMC)", "result", "quality", "published", "labeling", "problems")
    for r in results:
        run = r["last_run"] or {}
        when = _local(run.get("ended_at") or run.get("started_at"))
        color = colors.get(r["result"], "cyan")
        pub = r["published"]
        table.add_row(
            r["dataset"],
            when,
            f"[{color}]{r['result']}[/]",
            _cell_quality(r["quality"]),
            f"v{pub['version']}" if pub else "-",
            _cell_labeling(r["labeling"]),
            "; ".join(r["errors"]) or "",
        )
    table.columns[0].no_wrap = True
    print_table(table)
