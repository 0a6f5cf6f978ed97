"""`citydata quality report ID [--json] | suggest ID`: the quality gate's results and suggestions."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_json, print_table
from citydata.cli.datasets import spec_from_arg
from citydata.cli.exit_codes import ExitCode
from citydata.settings import load_settings
from citydata.spec.model import DatasetSpec

app = typer.Typer(help="Quality gate: the last validation report, expectations suggested from the data.")
DatasetId = Annotated[
    str, typer.Argument(metavar="ID|PATH", help="A dataset id (see `datasets list`) or a spec file's path.")
]


def _spec(dataset_id: str) -> DatasetSpec:
    return spec_from_arg(dataset_id)


@app.command()
def report(
    dataset_id: DatasetId,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The latest quality result of a dataset, and the dataset quality score of its published version;
    exit code 1 when the result blocks promotion or is missing."""
    from catalog.quality_score import published_score
    from citydata.storage.lake import Lake
    from quality.fidelity import fidelity_summary
    from quality.reports import last_report

    spec = _spec(dataset_id)
    lake = Lake(load_settings())
    result = last_report(lake, spec)
    if result is None:
        err_console.print(f"[red]{spec.id}: no quality report yet[/] (materialize its clean asset's checks)")
        raise typer.Exit(ExitCode.FAILED)
    score = published_score(spec, lake)
    if json_out:
        print_json({**result.as_dict(rows=False), "dataset_score": score.as_dict() if score else None})
    else:
        if score is not None:
            console.print(f"dataset quality score of published version {score.version}: {score.score:g}/100",
                          highlight=False)  # fmt: skip
            for fix in score.fixes():
                console.print(f"  to fix: {fix['en']}", highlight=False)
        verdict = (
            "[green]promotable[/]"
            if result.promotable and not result.partial
            else "[yellow]promotable (partial: failing rows quarantined)[/]"
            if result.promotable
            else "[red]blocked[/]"
        )
        head = f"[bold]{spec.id}[/] pull {result.pull_id}: {result.rows:,} rows"
        console.print(f"{head}, score {result.score:g}/100, {verdict}")
        if result.fidelity:
            console.print(f"values against the source: {fidelity_summary(result.fidelity)}", highlight=False)
        if result.unchecked_columns:
            shown = ", ".join(result.unchecked_columns)
            console.print(f"columns no check looks at (they lower the score): {shown}", highlight=False)
        table = Table("#", "expectation", "column", "severity", "result", "unexpected", "%", "detail")
        for o in result.expectations:
            mark = (
                "[green]pass[/]"
                if o.success
                else "[red]FAIL[/]"
                if o.severity == "error"
                else "[yellow]warn[/]"
            )
            detail = o.message or (
                ", ".join(repr(v) for v in o.partial_unexpected_list[:3]) if not o.success else ""
            )
            table.add_row(
                str(o.index),
                o.type,
                o.column or "",
                o.severity,
                mark,
                "" if o.unexpected_count is None else f"{o.unexpected_count:,}",
                "" if o.unexpected_percent is None else f"{o.unexpected_percent:.2f}",
                detail,
            )
        print_table(table)
        for label, key in (
            ("quarantined rows", "failed"),
            ("warned rows", "warned"),
            ("validated rows", "validated"),
        ):
            if result.keys.get(key):
                console.print(f"{label}: s3://{load_settings().s3.lake_bucket}/{result.keys[key]}")
        if result.data_docs_url:
            console.print(f"Data Docs: {result.data_docs_url}")
    if not result.promotable:
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def suggest(
    dataset_id: DatasetId,
    max_values: Annotated[int, typer.Option(help="Largest value set to suggest.")] = 20,
) -> None:
    """Profile the latest cleaned pull and print expectations to paste into the spec's YAML."""
    from citydata.storage.lake import Lake
    from ingest.clean import latest_clean
    from quality.suggest import suggest_expectations, to_yaml, without_defaults
    from quality.validate import read_clean

    spec = _spec(dataset_id)
    lake = Lake(load_settings())
    manifest = latest_clean(lake, spec)
    if manifest is None:
        err_console.print(f"[red]{spec.id}: nothing cleaned yet[/] (run `citydata run {spec.id}`)")
        raise typer.Exit(ExitCode.FAILED)
    table = read_clean(lake, spec, manifest["pull_id"])
    entries = without_defaults(spec, suggest_expectations(table, max_values), table.column_names)
    header = (
        f"# Suggested from pull {manifest['pull_id']} ({table.num_rows:,} rows) of {spec.id}. "
        "Review before use:\n"
        "# ranges and value sets describe today's data. Checks implied by schema hints are left out\n"
        "# (they run anyway while quality.defaults is true).\n"
    )
    typer.echo(header + to_yaml(entries), nl=False)
