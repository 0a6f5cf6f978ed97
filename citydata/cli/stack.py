"""`citydata stack up | down | status | logs`: the local service stack."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from citydata.cli.console import console, err_console, print_json, print_table
from citydata.cli.exit_codes import ExitCode
from stack.manager import Stack
from stack.process import ServiceError, tail

app = typer.Typer(help="Install, start, stop and inspect the local service stack (127.0.0.1 only).")

Only = Annotated[list[str] | None, typer.Option("--only", help="Only this service (and what it needs).")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _fail(exc: ServiceError) -> typer.Exit:
    err_console.print(f"[bold red]✗ {exc.service}[/]: {exc.message}")
    if exc.log_tail:
        err_console.print(f"[dim]--- last log lines of {exc.service} ---[/]")
        err_console.print(exc.log_tail, markup=False, highlight=False)
    if exc.service == "prerequisites":
        return typer.Exit(ExitCode.PREREQUISITES)
    if "already in use" in exc.message:
        return typer.Exit(ExitCode.PORT_IN_USE)
    return typer.Exit(ExitCode.FAILED)


def bring_up(only: list[str] | None = None, json_out: bool = False) -> Stack:
    """Start the stack with a live progress display; raise typer.Exit on failure."""
    started = time.monotonic()
    stack = Stack(only=only)
    events: list[dict[str, object]] = []

    # With --json, stdout carries only the JSON document; progress goes to stderr.
    with (err_console if json_out else console).status("Starting the stack…", spinner="dots") as status:

        def report(service: str, message: str) -> None:
            events.append({"service": service, "event": message, "t": round(time.monotonic() - started, 1)})
            if not json_out:
                console.log(f"[bold]{service}[/] {message}")
            status.update(f"[bold]{service}[/]: {message}")

        try:
            stack.up(report)
        except ServiceError as exc:
            if json_out:
                print_json({"ok": False, "service": exc.service, "error": exc.message, "events": events})
            raise _fail(exc) from exc
    if json_out:
        print_json({"ok": True, "seconds": round(time.monotonic() - started, 1), "events": events})
    else:
        console.print(f"[green]Stack up in {time.monotonic() - started:.1f}s[/]")
    return stack


@app.command()
def up(only: Only = None, json_out: Json = False) -> None:
    """Install what is missing and start every service; a running stack is left as it is."""
    bring_up(only, json_out)


@app.command()
def down(
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="Only this service; what it requires keeps running."),
    ] = None,
    json_out: Json = False,
) -> None:
    """Stop exactly the processes `up` started (by PID); `up --only NAME` starts one again."""

    def report(service: str, message: str) -> None:
        if not json_out:
            console.log(f"[bold]{service}[/] {message}")

    try:
        stopped = Stack(only=only).stop(only, report) if only else Stack().down(report)
    except ServiceError as exc:
        raise _fail(exc) from exc
    if json_out:
        print_json({"stopped": stopped})
    elif not stopped:
        console.print("Nothing was running.")


@app.command()
def status(only: Only = None, json_out: Json = False) -> None:
    """Health, URL and PID per service. Exit code 5 when any service is unhealthy."""
    statuses = Stack(only=only).status()
    if json_out:
        print_json([s.as_dict() for s in statuses])
    else:
        table = Table("service", "healthy", "url", "pid", "memory")
        for s in statuses:
            table.add_row(
                s.name,
                "[green]yes[/]" if s.healthy else "[red]no[/]",
                s.url,
                str(s.pid or "-"),
                f"{s.rss_mb:.0f} MB" if s.pid else "-",
            )
        print_table(table)
    if not all(s.healthy for s in statuses):
        raise typer.Exit(ExitCode.UNHEALTHY)


@app.command()
def logs(
    service: Annotated[str, typer.Argument(help="Service name, e.g. ckan.")],
    lines: Annotated[int, typer.Option("-n", "--lines")] = 50,
) -> None:
    """The last lines of a service's logs (process and install logs)."""
    try:
        svc = Stack(only=[service]).get(service)
    except ServiceError as exc:
        raise _fail(exc) from exc
    paths = [*svc.log_files(), svc.ctx.paths.log_file(f"{service}.install")]
    shown = False
    for path in paths:
        if path.exists():
            shown = True
            console.rule(str(path))
            console.print(tail(path, lines), markup=False, highlight=False)
    if not shown:
        err_console.print(f"No logs yet for {service}.")
        raise typer.Exit(ExitCode.FAILED)


@app.command("reset-ckan")
def reset_ckan_command(
    yes: Annotated[
        bool, typer.Option("--yes", help="Confirm: every CKAN dataset, user and token is lost.")
    ] = False,
    json_out: Json = False,
) -> None:
    """Empty the local CKAN (drop and re-create its databases, clear its Solr documents and Redis
    database), as after losing the catalog server; `citydata catalog rebuild` restores it from the lake."""
    from stack.ckan_reset import reset_ckan

    if not yes:
        err_console.print("This deletes every CKAN dataset, organization, user and API token: add --yes.")
        raise typer.Exit(ExitCode.USAGE)

    def report(service: str, message: str) -> None:
        if not json_out:
            console.log(f"[bold]{service}[/] {message}")

    try:
        seconds = reset_ckan(report)
    except ServiceError as exc:
        if json_out:
            print_json({"ok": False, "service": exc.service, "error": exc.message})
        raise _fail(exc) from exc
    if json_out:
        print_json({"ok": True, "seconds": seconds})
    else:
        console.print(f"[green]CKAN emptied and running again in {seconds:.1f}s[/]")
