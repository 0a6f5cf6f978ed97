"""`citydata main`: README command 1. Brings the stack up and shows where to look."""

from __future__ import annotations

from rich.table import Table

from citydata.cli.console import console
from citydata.cli.stack import bring_up
from citydata.settings import load_settings


def main_job() -> None:
    """Bring the whole stack up, then print every service's URL and how to log in."""
    stack = bring_up()
    settings = load_settings()
    # (user, key of the secret in the private settings file); secrets themselves are never printed.
    logins = {
        "s3": ("CITYDATA_S3__ACCESS_KEY", "CITYDATA_S3__SECRET_KEY"),
        "postgres": ("postgres", "CITYDATA_POSTGRES__PASSWORD"),
        "redis": ("-", "CITYDATA_REDIS__PASSWORD"),
        "ckan": (settings.ckan.sysadmin, "CITYDATA_CKAN__SYSADMIN_PASSWORD"),
        "label_studio": (settings.label_studio.username, "CITYDATA_LABEL_STUDIO__PASSWORD"),
    }
    table = Table("service", "url", "user", "password (key)", title="citydata local stack")
    for status in stack.status():
        user, secret = logins.get(status.name, ("-", "no login, 127.0.0.1 only"))
        table.add_row(status.name, status.url, user, secret)
    console.print(table)
    console.print(
        f"Passwords and tokens are in [bold]{settings.stack_dir / 'citydata.env'}[/] (mode 0600), "
        "under the keys above; they are never printed.\n"
        "Stop everything with [bold].venv/bin/citydata stack down[/]."
    )
