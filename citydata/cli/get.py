"""`citydata get ID [--version N] [-o FILE]`: download a published dataset as Parquet or CSV."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from citydata.cli.console import console, err_console
from citydata.cli.exit_codes import ExitCode

CKAN_NAME = re.compile(r"[a-z0-9_\-]{2,100}")  # CKAN's own rule for dataset names
FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv"}


def get(
    dataset: Annotated[
        str, typer.Argument(metavar="ID", help="CKAN dataset name or id, or its URL (…/dataset/NAME).")
    ],
    version: Annotated[
        int | None, typer.Option("--version", min=1, help="A kept older version (default: the current one).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="File to write: .parquet (default) or .csv; default NAME.parquet."
        ),
    ] = None,
) -> None:
    """Download a published dataset (public: anonymously; private: with your configured credentials)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from citydata.data import DataIntegrityError, DatasetNotFound, fetch_table, locate
    from citydata.settings import load_settings

    settings = load_settings()
    target = output
    kind = "parquet"
    if target is not None:
        suffix = target.suffix.lower()
        if suffix not in FORMATS:
            err_console.print(f"[red]--output must end with .parquet or .csv, got {target.name!r}[/]")
            raise typer.Exit(ExitCode.USAGE)
        kind = FORMATS[suffix]
    try:
        files = locate(dataset, version, settings)
        table = fetch_table(files, settings)
    except (DatasetNotFound, DataIntegrityError) as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(ExitCode.FAILED) from exc
    if target is None:
        if not CKAN_NAME.fullmatch(files.name):  # from a (possibly foreign) CKAN: never a path
            err_console.print(
                f"[red]the catalog returned an unsafe dataset name {files.name!r}: use -o FILE[/]"
            )
            raise typer.Exit(ExitCode.FAILED)
        suffix = f"-v{version}" if version is not None else ""
        target = Path(f"{files.name}{suffix}.parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        pacsv.write_csv(table, target)
    else:
        pq.write_table(table, target, compression="zstd")
    shown = f"v{files.version}" if files.version is not None else "current version"
    console.print(
        f"{files.name} ({shown}): {table.num_rows:,} rows × {table.num_columns} columns → {target}",
        highlight=False,
    )
