"""`citydata main`: README command 1. Stack up, every dataset end to end, then where to look."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_table
from citydata.cli.exit_codes import ExitCode
from citydata.cli.run import run_datasets
from citydata.cli.stack import bring_up
from citydata.settings import load_settings
from citydata.spec import load_specs


def main_job() -> None:
    """Bring the stack up, run the sample datasets through every stage, print URLs and quality."""
    started = time.monotonic()
    stack = bring_up()
    settings = load_settings()
    loaded = load_specs(settings.specs_dir)
    for error in loaded.errors:
        err_console.print(f"[red]invalid spec[/] {error}")
    specs = [loaded.specs[i] for i in sorted(loaded.specs)]
    with console.status(f"Running {len(specs)} datasets through Dagster…"):
        results = run_datasets(specs)

    table = _table("Datasets", "dataset", "result", "rows", "rejected", "quality", "catalog (CKAN)")
    for r in results:
        table.add_row(
            str(r["dataset"]),
            "[green]ok[/]" if r["ok"] else f"[red]failed[/]: {r['detail']}",
            str(r.get("rows", "")),
            str(r.get("rejected", "")),
            f"{r['quality_score']:.0f}" if isinstance(r.get("quality_score"), (int, float)) else "-",
            str(r.get("ckan_url") or "-"),
        )
    print_table(table)
    projects = [r for r in results if r.get("label_studio_project")]
    if projects:
        lt = _table("Labeling", "dataset", "Label Studio project")
        for r in projects:
            lt.add_row(str(r["dataset"]), f"{settings.label_studio.url}/projects/{r['label_studio_project']}")
        print_table(lt)

    # (user, key of the secret in the private settings file); secrets themselves are never printed.
    logins = {
        "s3": ("CITYDATA_S3__ACCESS_KEY", "CITYDATA_S3__SECRET_KEY"),
        "postgres": ("postgres", "CITYDATA_POSTGRES__PASSWORD"),
        "redis": ("-", "CITYDATA_REDIS__PASSWORD"),
        "ckan": (settings.ckan.sysadmin, "CITYDATA_CKAN__SYSADMIN_PASSWORD"),
        "label_studio": (settings.label_studio.username, "CITYDATA_LABEL_STUDIO__PASSWORD"),
    }
    services = _table("Local stack", "service", "url", "user", "password (key)")
    for status in stack.status():
        user, secret = logins.get(status.name, ("-", "no login, 127.0.0.1 only"))
        services.add_row(status.name, status.url, user, secret)
    print_table(services)
    console.print(
        f"Dagster UI (asset graph, runs, quality checks): [bold]{settings.dagster.webserver_url}[/]\n"
        f"Passwords and tokens are in [bold]{settings.stack_dir / 'citydata.env'}[/] (mode 0600), "
        "under the keys above; they are never printed.\n"
        f"Done in {time.monotonic() - started:.0f}s. "
        "Stop everything with [bold].venv/bin/citydata stack down[/]."
    )
    if not all(r["ok"] for r in results) or loaded.errors:
        raise typer.Exit(ExitCode.FAILED)


def _table(title: str, *columns: str) -> Table:
    """A titled table; `print_table` keeps its URLs whole so they stay clickable and copyable."""
    return Table(*columns, title=title)
