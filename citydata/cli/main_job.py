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
    env_file = settings.stack_dir / "citydata.env"
    logins = {
        "ckan": f"user {settings.ckan.sysadmin}, password: CITYDATA_CKAN__SYSADMIN_PASSWORD in {env_file}",
        "label_studio": (
            f"user {settings.label_studio.username}, password: CITYDATA_LABEL_STUDIO__PASSWORD in {env_file}"
        ),
        "s3": f"keys CITYDATA_S3__ACCESS_KEY / CITYDATA_S3__SECRET_KEY in {env_file}",
        "dagster": "no login (bound to 127.0.0.1)",
        "solr": "no login (bound to 127.0.0.1)",
        "postgres": f"user postgres, password: CITYDATA_POSTGRES__PASSWORD in {env_file}",
        "redis": f"password: CITYDATA_REDIS__PASSWORD in {env_file}",
    }
    table = Table("service", "url", "how to log in", title="citydata local stack")
    for status in stack.status():
        table.add_row(status.name, status.url, logins.get(status.name, ""))
    console.print(table)
    console.print(
        "Credentials stay in the private settings file above (mode 0600); they are never printed.\n"
        "Stop everything with [bold].venv/bin/citydata stack down[/]."
    )
