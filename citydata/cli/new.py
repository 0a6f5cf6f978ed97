"""`citydata new FILE|URL`: write a commented dataset spec inferred from the data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from citydata.cli.console import console, err_console, print_json
from citydata.cli.exit_codes import ExitCode
from citydata.settings import load_settings


def new(
    source: Annotated[str, typer.Argument(metavar="FILE|URL", help="A data file, or an http(s) URL of one.")],
    dataset_id: Annotated[
        str | None, typer.Option("--id", help="Dataset id (default: from the file name).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Spec file to write (default: <specs folder>/<id>.yaml).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing spec file.")] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Also print what was inferred, as JSON (the file is written).")
    ] = False,
    sample_rows: Annotated[
        int, typer.Option("--sample-rows", min=1, help="Rows read to infer (a large file is not read whole).")
    ] = 50_000,
) -> None:
    """Infer a spec from a file (encoding, layout, title, columns, types, key, admin units, personal
    data, expectations) and write it with comments; fill in the lines marked TODO, then run it."""
    from pipelines.draft import DraftError, source_name, target, write_draft

    try:
        found_id, path = target(source, dataset_id, out, load_settings().specs_dir)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/]", highlight=False)
        raise typer.Exit(ExitCode.USAGE) from exc
    try:
        with console.status(f"reading {source_name(source) or source}…"):
            written = write_draft(source, found_id, path, force=force, sample_rows=sample_rows)
    except DraftError as exc:
        err_console.print(f"[red]{exc}[/]", markup=True, highlight=False)
        raise typer.Exit(ExitCode.FAILED) from exc
    if json_out:
        print_json(written.draft.summary)
        return
    summary = written.draft.summary
    key = ", ".join(summary["primary_key"]) or "none"
    console.print(f"[green]✓[/] wrote {path}", highlight=False)
    console.print(
        f"  {len(summary['columns'])} columns, primary key: {key}, {len(summary['expectations'])} "
        f"expectations, from {summary['rows_sampled']:,} rows",
        highlight=False,
    )
    console.print(f"  fill in the lines marked TODO, then: citydata datasets check {path}", highlight=False)
