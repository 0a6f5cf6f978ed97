"""`citydata datasets list | show ID|PATH | check [ID|PATH]`: the dataset specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_json, print_table
from citydata.cli.exit_codes import ExitCode
from citydata.settings import load_settings
from citydata.spec import DatasetSpec, SpecError, load_spec, load_specs, resolve_spec
from pipelines.spec_checks import deep_check

app = typer.Typer(help="Dataset specs: list, show, validate.")
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


@app.command("list")
def list_(json_out: Json = False) -> None:
    """Every valid spec; invalid ones are reported (exit code 1)."""
    loaded = load_specs(load_settings().specs_dir)
    rows = [
        {"id": s.id, "agency": s.agency.id, "source": s.source.type, "title": s.title.vi, "path": str(p)}
        for (s, p) in ((loaded.specs[i], loaded.paths[i]) for i in sorted(loaded.specs))
    ]
    if json_out:
        print_json({"datasets": rows, "errors": [str(e) for e in loaded.errors]})
    else:
        table = Table("id", "agency", "source", "title")
        for r in rows:
            table.add_row(r["id"], r["agency"], r["source"], r["title"])
        print_table(table)
        for error in loaded.errors:
            err_console.print(f"[red]invalid spec[/] {error}")
    if loaded.errors:
        raise typer.Exit(ExitCode.FAILED)


SpecArg = Annotated[
    str, typer.Argument(metavar="ID|PATH", help="A dataset id (see `datasets list`) or a spec file's path.")
]


@app.command()
def show(spec_arg: SpecArg) -> None:
    """The validated spec of one dataset, as JSON."""
    spec = spec_from_arg(spec_arg)
    print_json(spec.model_dump(mode="json", by_alias=True))


@app.command()
def check(
    path: Annotated[
        str | None,
        typer.Argument(metavar="[ID|PATH]", help="A dataset id, spec file or folder (default: datasets/)."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Validate specs before any run; every error names the file, the line and the field."""
    target = Path(path) if path else load_settings().specs_dir
    if path and not target.exists():
        try:
            spec, found = resolve_spec(path)
            candidates, errors = [(spec, found)], []
        except SpecError as exc:
            candidates, errors = [], [exc]
    elif target.is_dir():
        loaded = load_specs(target)
        candidates, errors = [(loaded.specs[i], loaded.paths[i]) for i in sorted(loaded.specs)], loaded.errors
    else:
        try:
            candidates, errors = [(load_spec(target), target)], []
        except SpecError as exc:
            candidates, errors = [], [exc]
    ok = []
    for spec, spec_path in candidates:
        problems = deep_check(spec)
        if problems:
            errors.append(SpecError(spec_path, problems))
        else:
            ok.append(spec.id)
    if json_out:
        print_json({"valid": ok, "invalid": [{"path": str(e.path), "problems": e.problems} for e in errors]})
    else:
        for dataset_id in ok:
            console.print(f"[green]✓[/] {dataset_id}")
        for error in errors:
            _print_spec_error(error)
    if errors:
        raise typer.Exit(ExitCode.FAILED)


def _print_spec_error(error: SpecError) -> None:
    err_console.print(f"[red]✗ {error.path}[/]")
    for problem in error.problems:
        err_console.print(f"    {problem}", markup=False, highlight=False)


def spec_from_arg(arg: str) -> DatasetSpec:
    """The spec named by an id (in the specs folder) or a path; its problems printed and exit 1 if invalid."""
    try:
        return resolve_spec(arg)[0]
    except SpecError as exc:
        _print_spec_error(exc)
        raise typer.Exit(ExitCode.FAILED) from exc
