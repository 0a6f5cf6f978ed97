"""`citydata label push ID | pull ID [--publish] | next ID`: the labeling loop with Label Studio.

The verbs are the user's view (push tasks to Label Studio, pull annotations back); the labeling
stage calls them `export_tasks` and `import_annotations`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from citydata.cli.console import console, err_console, print_json
from citydata.cli.datasets import spec_from_arg
from citydata.cli.exit_codes import ExitCode
from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec

app = typer.Typer(help="Labeling: push samples to Label Studio, pull annotations, choose the next batch.")
DatasetId = Annotated[
    str, typer.Argument(metavar="ID|PATH", help="A dataset id (see `datasets list`) or a spec file's path.")
]
JsonOut = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _spec(dataset_id: str) -> DatasetSpec:
    from labeling.spec import validate_labeling_section

    spec = spec_from_arg(dataset_id)
    problems = validate_labeling_section(spec)
    if not spec.labeling or problems:
        err_console.print(f"[red]✗ {spec.id}: {'no labeling section' if not spec.labeling else ''}[/]")
        for problem in problems:
            err_console.print(f"    {problem}", markup=False, highlight=False)
        raise typer.Exit(ExitCode.FAILED)
    return spec


def _fail(exc: Exception) -> typer.Exit:
    err_console.print(f"[red]✗ {exc}[/]", markup=True, highlight=False)
    return typer.Exit(ExitCode.FAILED)


@app.command("push")
def push_cmd(dataset_id: DatasetId, json_out: JsonOut = False) -> None:
    """Create/update the dataset's Label Studio project and import the sample (no duplicates)."""
    from labeling.client import LabelStudioUnavailable
    from labeling.project import LabelingError
    from labeling.task_export import export_tasks

    spec = _spec(dataset_id)
    try:
        result = export_tasks(spec, load_settings())
    except (LabelingError, LabelStudioUnavailable) as exc:
        raise _fail(exc) from exc
    if json_out:
        print_json(result.as_dict())
    else:
        console.print(
            f"[bold]{spec.id}[/] → project {result.project_id}: {result.created:,} tasks created, "
            f"{result.already_present:,} already there, {result.predictions:,} predictions "
            f"({result.seconds:.1f} s)"
        )
    if result.deleted_in_label_studio:
        err_console.print(
            f"[yellow]! {len(result.deleted_in_label_studio)} task(s) were deleted in Label Studio and "
            f"are not re-created:[/] {', '.join(result.deleted_in_label_studio[:10])}"
        )


@app.command("pull")
def pull_cmd(
    dataset_id: DatasetId,
    json_out: JsonOut = False,
    publish: Annotated[bool, typer.Option("--publish", help="Also publish the labels to CKAN.")] = False,
) -> None:
    """Export annotations (snapshot), store them with consensus and agreement in the lake."""
    from labeling.annotation_import import import_annotations
    from labeling.client import LabelStudioUnavailable
    from labeling.project import LabelingError

    spec, settings = _spec(dataset_id), load_settings()
    try:
        result = import_annotations(spec, settings)
    except (LabelingError, LabelStudioUnavailable) as exc:
        raise _fail(exc) from exc
    out = result.as_dict()
    if publish:
        from labeling.publish import publish_labeled_dataset

        out["ckan"] = publish_labeled_dataset(spec, result, settings)["name"]
    if json_out:
        print_json(out)
    else:
        a = result.agreement
        kappa = ", ".join(
            f"{k} {a[k]:.3f}" for k in ("cohen_kappa", "fleiss_kappa", "span_overlap") if k in a
        )
        console.print(
            f"[bold]{spec.id}[/]: {result.annotations:,} annotations on {result.annotated_tasks:,} tasks, "
            f"{result.consensus:,} consensus labels, {result.ties:,} ties; {kappa or 'no overlap'} "
            f"→ s3://…/{result.prefix}"
        )


@app.command("next")
def next_cmd(
    dataset_id: DatasetId,
    size: Annotated[int | None, typer.Option(help="Batch size (default: sample_size).")] = None,
    json_out: JsonOut = False,
) -> None:
    """Retrain the baseline on collected labels, refresh predictions, push the least-confident rows."""
    from labeling.active import next_batch
    from labeling.client import LabelStudioUnavailable
    from labeling.project import LabelingError

    spec = _spec(dataset_id)
    try:
        result = next_batch(spec, load_settings(), size=size)
    except (LabelingError, LabelStudioUnavailable) as exc:
        raise _fail(exc) from exc
    if json_out:
        print_json(result.as_dict())
    else:
        console.print(
            f"[bold]{spec.id}[/]: trained on {result.trained_on} labels, refreshed "
            f"{result.predictions_refreshed} predictions, pushed {result.exported.created} new tasks"
        )
