"""`citydata catalog retire | reindex | rebuild`: the CKAN catalog.

retire   datasets whose spec is gone are retired by policy, never purged
reindex  rebuild CKAN's search index (Solr) from CKAN's database, e.g. after Solr lost its core
rebuild  recreate every catalog entry from the lake, e.g. after CKAN lost its database
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_json, print_table
from citydata.cli.exit_codes import ExitCode
from citydata.settings import load_settings
from citydata.spec import load_specs

app = typer.Typer(
    help="The CKAN catalog: retire datasets whose spec disappeared; rebuild its search index, or the "
    "whole catalog from the lake."
)


@app.command()
def retire(
    policy: Annotated[
        str, typer.Option(help="private (default), delete (restorable), or keep (only report).")
    ] = "private",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would change.")] = False,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Datasets citydata published whose spec is no longer in the specs folder."""
    from catalog.retire import retire_missing

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
    print_table(table) if actions else console.print("Every published dataset still has its spec.")


@app.command()
def reindex(
    local: Annotated[
        bool,
        typer.Option("--local", help="Run the local stack's `ckan search-index rebuild` instead of the API."),
    ] = False,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Parallel requests to CKAN.")] = 2,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rebuild CKAN's search index from its database (private datasets included).

    Uses the CKAN API with the sysadmin token, so it works against a production CKAN too.
    Exit code 0 when every dataset is searchable again, 1 when some are not or CKAN/Solr failed,
    3 when --local has no CKAN command line.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from catalog.reindex import ReindexError, ReindexResult
    from catalog.reindex import reindex as reindex_api
    from stack.ckan_reindex import reindex_local

    settings = load_settings()
    result: ReindexResult
    try:
        if local:
            with err_console.status("ckan search-index rebuild…"):
                result = reindex_local(settings)
        else:
            columns = (TextColumn("re-indexing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            # With --json, stdout carries only the JSON document: the bar goes to stderr.
            with Progress(*columns, console=err_console if json_out else console, transient=json_out) as bar:
                task = bar.add_task("reindex", total=None)

                def advance(done: int, total: int, _package: str) -> None:
                    bar.update(task, completed=done, total=total)

                result = reindex_api(settings, progress=advance, workers=workers)
    except ReindexError as exc:
        if json_out:
            print_json({"ok": False, "error": str(exc)})
        else:
            err_console.print(f"[bold red]✗ reindex[/]: {exc}", markup=True, highlight=False)
        code = ExitCode.PREREQUISITES if local and "command line" in str(exc) else ExitCode.FAILED
        raise typer.Exit(code) from exc
    if json_out:
        print_json(result.as_dict())
    else:
        done = len(result.reindexed) if result.method == "api" else result.searchable
        console.print(
            f"Re-indexed {done} datasets of {settings.ckan.url} in {result.seconds:.1f}s "
            f"({result.method}); search finds {result.searchable}."
        )
        for package_id, error in sorted(result.failed.items()):
            err_console.print(f"[red]✗ {package_id}[/]: {error}", highlight=False)
        if result.unindexed:
            err_console.print(
                "[yellow]Not searchable (public, in no organization or group; try --local):[/] "
                + ", ".join(result.unindexed),
                highlight=False,
            )
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)


@app.command()
def rebuild(
    names: Annotated[
        list[str] | None, typer.Argument(help="Only these datasets or agencies (ids); default: all.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recreate the catalog from the lake: every published dataset's organization, groups, entry,
    resources, DataStore table and preview, labeled datasets, and retirements, with the catalog
    stage's own publication code. Idempotent: an entry CKAN already holds is `unchanged`.

    Exit code 0 when every dataset is in the catalog as the lake says, 1 when one failed (the
    others are still rebuilt; each failure is named with its reason).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from catalog.rebuild import RebuildItem, rebuild_catalog
    from labeling.publish import LABELS_KIND, republish

    settings = load_settings()
    loaded = load_specs(settings.specs_dir)  # stand-ins for datasets the lake has no record of
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # With --json, stdout carries only the JSON document: the bar goes to stderr.
    with Progress(*columns, console=err_console if json_out else console, transient=json_out) as bar:
        task = bar.add_task("rebuilding", total=None)

        def advance(done: int, total: int, item: RebuildItem) -> None:
            bar.update(task, completed=done, total=total, description=f"rebuilding ({item.dataset})")
            if not json_out:
                colour = {"failed": "red", "skipped": "yellow", "unchanged": "dim"}.get(item.status, "green")
                bar.console.print(
                    f"[{colour}]{item.status:9}[/] {item.agency}/{item.dataset}"
                    + (f" v{item.version}" if item.version else "")
                    + (f" (retired: {item.retired})" if item.retired else "")
                    + f" {item.seconds:.1f}s"
                    + (f" — {item.message}" if item.message else ""),
                    highlight=False,
                )

        result = rebuild_catalog(
            settings, specs=loaded.specs, handlers={LABELS_KIND: republish}, only=names, progress=advance
        )
    if json_out:
        print_json(result.as_dict())
    else:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts().items())) or "nothing"
        console.print(
            f"Rebuilt the catalog at {settings.ckan.url} from the lake in {result.seconds:.1f}s: {counts}."
        )
        for item in result.items:
            if item.status == "failed":
                err_console.print(f"[red]✗ {item.agency}/{item.dataset}[/]: {item.message}", highlight=False)
    if not result.ok:
        raise typer.Exit(ExitCode.FAILED)
