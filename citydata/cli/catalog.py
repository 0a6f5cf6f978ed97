"""`citydata catalog retire`: datasets whose spec is gone are retired by policy, never purged."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

import typer
from rich.table import Table

from citydata.cli.console import console, print_json
from citydata.settings import load_settings
from citydata.spec import load_specs

app = typer.Typer(help="The CKAN catalog: retire datasets whose spec disappeared.")


@app.command()
def retire(
    policy: Annotated[
        str, typer.Option(help="private (default), delete (restorable), or keep (only report).")
    ] = "private",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change.")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Datasets citydata published whose spec is no longer in the specs folder."""
    from catalog.publish import retire_missing

    if policy not in ("private", "delete", "keep"):
        raise typer.BadParameter("policy must be private, delete or keep", param_hint="--policy")
    chosen: Literal["private", "delete", "keep"] = policy  # type: ignore[assignment]
    settings = load_settings()
    specs = load_specs(settings.specs_dir).specs.values()
    actions = retire_missing(specs, chosen, settings=settings, dry_run=dry_run)
    if json_out:
        print_json([asdict(a) for a in actions])
        return
    table = Table("dataset", "organization", "action" + (" (dry run)" if dry_run else ""))
    for a in actions:
        table.add_row(a.dataset, a.organization or "-", a.action)
    console.print(table if actions else "Every published dataset still has its spec.")
