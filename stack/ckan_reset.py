"""Empty the local stack's CKAN: its databases dropped and made again, its Solr documents and its
Redis database cleared (`citydata stack reset-ckan`). What a lost catalog server leaves; the
catalog comes back with `citydata catalog rebuild` from the lake.

CKAN is stopped first (its web workers and jobs worker hold connections), the three databases
(catalog, DataStore, XLoader jobs) are dropped with `WITH (FORCE)`, then `stack up`'s own start of
the service makes them again: migrations, DataStore permissions and text search, the sysadmin and
new API tokens (the old ones are gone with the database; `.stack/citydata.env` gets the new ones).
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable

from citydata.settings import Settings
from stack.manager import Stack
from stack.process import ServiceError
from stack.services.ckan import DATASTORE_DB, MAIN_DB, REDIS_DB, SITE_ID, XLOADER_DB, CkanService
from stack.services.postgres import PostgresService, _quote_ident
from stack.services.redis import RedisService

Reporter = Callable[[str, str], None]


def _quiet(_service: str, _message: str) -> None:
    return None


def clear_solr(settings: Settings) -> None:
    """Delete CKAN's documents (this site's) from the Solr core, committed."""
    body = f'{{"delete": {{"query": "site_id:{SITE_ID}"}}}}'.encode()
    request = urllib.request.Request(
        f"{settings.solr.url}/update?commit=true",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        if resp.status != 200:
            raise ServiceError("solr", f"delete of site {SITE_ID} answered HTTP {resp.status}")


def reset_ckan(report: Reporter = _quiet) -> float:
    """Drop and re-create CKAN's databases, clear its Solr documents and Redis database; returns
    the seconds taken. CKAN is running again (healthy) when this returns."""
    started = time.monotonic()
    stack = Stack(only=["ckan"])
    ckan = stack.get("ckan")
    assert isinstance(ckan, CkanService)
    settings = stack.ctx.settings
    if not ckan.ini.exists():
        raise ServiceError("ckan", "not installed in this stack folder: nothing to reset (run `stack up`)")
    stack.stop(["ckan"], report)
    pg = PostgresService(stack.ctx)
    for database in (MAIN_DB, DATASTORE_DB, XLOADER_DB):
        pg.psql(f"DROP DATABASE IF EXISTS {_quote_ident(database)} WITH (FORCE);")
        report("postgres", f"dropped database {database}")
    (ckan.data_dir / ".db-ready").unlink(missing_ok=True)
    clear_solr(settings)
    report("solr", f"deleted the documents of site {SITE_ID}")
    RedisService(stack.ctx).flush_database(REDIS_DB)
    report("redis", f"emptied database {REDIS_DB}")
    stack.start("ckan", report)
    return round(time.monotonic() - started, 2)
