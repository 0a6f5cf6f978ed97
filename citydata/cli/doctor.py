"""`citydata doctor`: system prerequisites and the exact command to fix each."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer
from rich.table import Table

from citydata.cli.console import err_console, print_json, print_table
from citydata.cli.exit_codes import ExitCode
from stack.prereqs import PREREQUISITES, TEST_PREREQUISITES, install_missing, missing_prerequisites


def doctor(
    json_out: Annotated[bool, typer.Option("--json")] = False,
    tests: Annotated[bool, typer.Option("--tests", help="Include what the test suite needs.")] = False,
    fix: Annotated[bool, typer.Option("--fix", help="Install what is missing (apt-get, as root).")] = False,
) -> None:
    """Check the system prerequisites of the local stack (and of the tests)."""
    if fix and (missing := missing_prerequisites(include_tests=tests)):
        try:
            install_missing(missing)
        except (PermissionError, OSError, subprocess.CalledProcessError) as exc:
            err_console.print(f"[red]{exc}[/]")
    rows = []
    for p in PREREQUISITES + (TEST_PREREQUISITES if tests else ()):
        ok = p.present()
        rows.append({"name": p.name, "ok": ok, "needed_for": p.why, "fix": None if ok else p.fix})
    if json_out:
        print_json(rows)
    else:
        table = Table("prerequisite", "ok", "needed for", "fix")
        for r in rows:
            mark = "[green]yes[/]" if r["ok"] else "[red]no[/]"
            table.add_row(str(r["name"]), mark, str(r["needed_for"]), str(r["fix"] or ""))
        print_table(table)
    if not all(r["ok"] for r in rows):
        raise typer.Exit(ExitCode.PREREQUISITES)
