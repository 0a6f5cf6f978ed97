"""`citydata preview ID|PATH`: what a run would publish, without publishing anything."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_json, print_table
from citydata.cli.datasets import SpecArg, spec_from_arg
from citydata.cli.exit_codes import ExitCode
from citydata.settings import load_settings

if TYPE_CHECKING:
    from pipelines.preview import Preview


def preview(
    spec_arg: SpecArg,
    rows: Annotated[int, typer.Option(min=0, help="First rows (and rejected rows) to show.")] = 10,
    max_rows: Annotated[
        int | None, typer.Option(min=1, help="Stop after this many rows read (default: the whole source).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Pull and clean a dataset as a run would, and check it, without publishing anything.

    Shows what was detected, the schema, the first rows as they will be published, the rejected
    rows with their reasons and the quality checks' result. Exit code 1 when the run would fail.
    """
    from connectors.base import ConnectorError
    from ingest.clean_files import CleanError
    from pipelines.preview import preview as build_preview

    spec = spec_from_arg(spec_arg)
    try:
        with console.status(f"{spec.id}: pulling and cleaning…"):
            result = build_preview(spec, load_settings(), rows=rows, max_rows=max_rows)
    except (ConnectorError, CleanError) as exc:
        err_console.print(f"[red]✗ {exc}[/]", markup=True, highlight=False)
        raise typer.Exit(ExitCode.FAILED) from exc
    if json_out:
        print_json(result.as_dict())
    else:
        _show(result)
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)


def _show(result: Preview) -> None:
    read = f"{result.rows_read:,} rows read" + (" (stopped at --max-rows)" if result.truncated else "")
    console.print(f"[bold]{result.dataset}[/]: {read}, {result.rows:,} clean, {result.rejected:,} rejected")
    for line in result.detected:
        console.print(f"  detected: {line}", markup=False, highlight=False)
    schema = Table("column", "label", "type", "numbers kept as text", "personal data", title="Schema")
    for c in result.columns:
        label = c["label"] or ("(added by cleaning)" if c["added"] else "")
        schema.add_row(c["name"], label, c["type"], "yes" if c["identifier"] else "", c["pii"] or "")
    print_table(schema)
    if result.first_rows:
        first = Table(*result.first_rows[0], title=f"First {len(result.first_rows)} rows as published")
        for row in result.first_rows:
            first.add_row(*("" if v is None else str(v) for v in row.values()))
        print_table(first)
    if result.rejected_rows:
        console.print(f"[bold]Rejected rows[/] (first {len(result.rejected_rows)} of {result.rejected:,}):")
        for r in result.rejected_rows:
            console.print(f"  {r['file']}:{r['line']}: {r['reasons']}", markup=False, highlight=False)
    if result.quality:
        q = result.quality
        verdict = "[green]would publish[/]" if q["promotable"] else "[red]blocked[/]"
        console.print(f"[bold]Quality[/]: score {q['score']:g}/100, {verdict}")
        checks = Table(
            "check", "column", "severity", "result", "unexpected", "detail", title="Quality checks"
        )
        for c in q["checks"]:
            mark = "pass" if c["success"] else "FAIL" if c["severity"] == "error" else "warn"
            unexpected = "" if c["unexpected"] is None else f"{c['unexpected']:,}"
            checks.add_row(c["type"], c["column"] or "", c["severity"], mark, unexpected, c["detail"] or "")
        print_table(checks)
    for problem in result.problems:
        err_console.print(f"[red]✗[/] {problem}", highlight=False)
    if result.ok:
        console.print("Nothing was published. Publish with: citydata run " + result.dataset, highlight=False)
