"""The `citydata` command line."""

from __future__ import annotations

import typer

import connectors  # noqa: F401  (registers the source types specs name)
from citydata.cli import (
    catalog,
    datasets,
    doctor,
    get,
    label,
    main_job,
    new,
    preview,
    quality,
    run,
    stack,
    status,
)

app = typer.Typer(
    name="citydata",
    help="citydata: Ho Chi Minh City's open-data and data-labeling platform.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold credentials
)
app.add_typer(stack.app, name="stack")
app.add_typer(datasets.app, name="datasets")
app.add_typer(quality.app, name="quality")
app.add_typer(label.app, name="label")
app.add_typer(catalog.app, name="catalog")
app.command("run")(run.run)
app.command("preview")(preview.preview)
app.command("status")(status.status)
app.command("get")(get.get)
app.command("doctor")(doctor.doctor)
app.command("main")(main_job.main_job)
app.command("new")(new.new)


def main() -> None:
    app()
