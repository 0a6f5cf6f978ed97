"""`citydata run ID|PATH | --all [--until STAGE]`: run a dataset's stages through Dagster."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_json, print_table
from citydata.cli.datasets import spec_from_arg
from citydata.cli.exit_codes import ExitCode
from citydata.dagster_instance import dagster_environment
from citydata.processes import process_tag
from citydata.settings import load_settings
from citydata.spec import load_specs
from citydata.spec.model import DatasetSpec
from pipelines.tags import PROCESS_TAG


def run(
    dataset_id: Annotated[
        str | None,
        typer.Argument(metavar="ID|PATH", help="A dataset id (see `datasets list`) or a spec file's path."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every valid dataset spec.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Dagster's own log lines.")] = False,
    until: Annotated[
        str | None,
        typer.Option(help="Last stage: raw, clean, published, catalog_entry, labeling_tasks, annotations."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run a dataset through its stages (all by default); runs are recorded in Dagster (the UI)."""
    from pipelines.datasets.factory import STAGES

    if until is not None and until not in STAGES:
        err_console.print(f"[red]--until must be one of {', '.join(STAGES)}[/]")
        raise typer.Exit(ExitCode.USAGE)
    if all_ == (dataset_id is not None):
        err_console.print("[red]give one dataset ID or --all[/]")
        raise typer.Exit(ExitCode.USAGE)
    if all_:
        specs = list(load_specs(load_settings().specs_dir).specs.values())
    else:
        assert dataset_id is not None
        specs = [spec_from_arg(dataset_id)]
    results = run_datasets(specs, until, verbose)
    if json_out:
        print_json(results)
    else:
        table = Table("dataset", "result", "rows", "rejected", "detail")
        for r in results:
            mark = "[green]ok[/]" if r["ok"] else "[red]failed[/]"
            table.add_row(
                str(r["dataset"]), mark, str(r.get("rows", "")), str(r.get("rejected", "")), str(r["detail"])
            )
        print_table(table)
        for r in results:  # what the agency should confirm: header, skipped rows, locales, codes
            detected = r.get("detected")
            for line in detected if isinstance(detected, list) else []:
                console.print(f"{r['dataset']}: {line}", highlight=False, markup=False)
        for r in results:
            if r.get("ckan_url"):
                console.print(f"{r['dataset']}: published at {r['ckan_url']}", highlight=False, markup=False)
    if not all(r["ok"] for r in results):
        raise typer.Exit(ExitCode.FAILED)


def _stages(spec: DatasetSpec, until: str | None) -> tuple[str, ...]:
    from pipelines.datasets.factory import STAGES, stages_for

    own = stages_for(spec)
    if until is None:
        return own
    return tuple(s for s in own if STAGES.index(s) <= STAGES.index(until))


def run_datasets(
    specs: list[DatasetSpec], until: str | None = None, verbose: bool = False
) -> list[dict[str, object]]:
    """Run each spec through its stages (used by `citydata run` and the main job)."""
    return [_run_one(spec, _stages(spec, until), verbose) for spec in specs]


def fail_abandoned_runs(instance: Any, dataset: str) -> list[str]:
    """Runs of this dataset that Dagster still shows in progress but whose process is gone (killed,
    e.g. SIGKILL or a crash, so Dagster never heard the end): recorded as failed. Returns their ids.

    Only runs started by `citydata run` on this machine carry the process tag that tells."""
    import dagster as dg

    from citydata.processes import gone
    from pipelines.automation import DATASET_TAG

    in_progress = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(tags={DATASET_TAG: dataset}, statuses=in_progress)):
        tag = run.tags.get(PROCESS_TAG)
        if tag and gone(tag):
            instance.report_run_failed(
                run, f"the process of this run ({tag}) ended before the run did (killed?)"
            )
            failed.append(run.run_id)
    return failed


def _run_one(spec: DatasetSpec, stages: tuple[str, ...], verbose: bool) -> dict[str, object]:
    import dagster as dg

    from pipelines.automation import DATASET_TAG
    from pipelines.datasets.assets import asset_key
    from pipelines.datasets.factory import dataset_definitions
    from pipelines.resources import default_resources

    settings = load_settings()
    os.environ.update(dagster_environment(settings))
    # Selecting the assets pulls in their checks: the quality gate runs with `clean`.
    dataset = dataset_definitions(spec, settings)
    assets = [*dataset.assets, *dataset.checks]
    selection = [asset_key(spec, s) for s in stages]
    with console.status(f"{spec.id}: running {' → '.join(stages)}…"):
        with dg.DagsterInstance.get() as instance:
            fail_abandoned_runs(instance, spec.id)
            result = dg.materialize(
                assets,
                selection=selection,
                resources=default_resources(),
                instance=instance,
                raise_on_error=False,
                # Full logs stay in Dagster's event log (the UI); the terminal gets the summary table.
                run_config={
                    "loggers": {"console": {"config": {"log_level": "DEBUG" if verbose else "CRITICAL"}}}
                },
                tags={"citydata/trigger": "cli", DATASET_TAG: spec.id, PROCESS_TAG: process_tag()},
            )
    out: dict[str, object] = {"dataset": spec.id, "ok": result.success, "run_id": result.run_id}
    details: list[str] = []
    for event in result.get_asset_materialization_events():
        mat = event.step_materialization_data.materialization
        meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
        if mat.asset_key == asset_key(spec, "raw"):
            details.append("source unchanged" if meta.get("unchanged") else f"pulled {meta.get('pull_id')}")
        elif mat.asset_key == asset_key(spec, "clean"):
            out["rows"] = meta.get("dagster/row_count")
            out["rejected"] = meta.get("rows_rejected")
            detected = str(meta.get("detected") or "")
            out["detected"] = [line.removeprefix("- ") for line in detected.splitlines() if line]
            if meta.get("skipped"):
                details.append("already cleaned")
        elif mat.asset_key == asset_key(spec, "published"):
            out["version"] = meta.get("version")
            details.append(f"v{meta.get('version')} {'unchanged' if meta.get('unchanged') else 'published'}")
        elif mat.asset_key == asset_key(spec, "catalog_entry"):
            out["ckan_url"] = meta.get("ckan_url")
        elif mat.asset_key == asset_key(spec, "labeling_tasks"):
            out["label_studio_project"] = meta.get("project_id")
            details.append(f"{meta.get('created')} new labeling tasks")
        elif mat.asset_key == asset_key(spec, "annotations"):
            details.append(f"{meta.get('annotated_tasks')} tasks annotated")
    for evaluation in result.get_asset_check_evaluations():
        meta = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
        if "score" in meta:
            out["quality_score"] = meta["score"]
        verdict = "passed" if evaluation.passed else f"failed ({evaluation.severity.value.lower()})"
        details.append(f"quality {verdict}" + (f", score {meta['score']:.0f}" if "score" in meta else ""))
        if not evaluation.passed and evaluation.description:
            details.append(re.sub(r"^score [\d.]+; ", "", evaluation.description))
    out["detail"] = "; ".join(details)
    if not result.success:
        failures = [e for e in result.all_events if e.is_step_failure]
        messages = []
        for failure in failures:
            data = failure.step_failure_data
            error = data.error
            while error is not None and error.cause is not None:  # the user's error, not Dagster's wrapper
                error = error.cause
            text = error.message.strip().splitlines()[0] if error else "step failed"
            if "blocking asset check failed" not in text:  # said by the quality detail below
                messages.append(re.sub(r"^[\w.]+(Error|Exception|Failure): ", "", text))
        out["detail"] = "; ".join([*messages, *details]) or "failed"
    return out
