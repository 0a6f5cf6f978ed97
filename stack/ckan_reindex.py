"""`citydata catalog reindex --local`: the local stack's own `ckan search-index rebuild`."""

from __future__ import annotations

import time

from catalog.client import CatalogClient
from catalog.reindex import ReindexError, ReindexResult, check_search
from citydata.settings import Settings, get_settings
from stack.process import ServiceError
from stack.service import StackContext
from stack.services.ckan import CkanService


def reindex_local(settings: Settings | None = None) -> ReindexResult:
    """`ckan search-index rebuild` with the local stack's CKAN (same database, same Solr)."""
    started = time.monotonic()
    settings = settings or get_settings()
    ckan = CkanService(StackContext.create())
    if not ckan.ckan_bin.exists() or not ckan.ini.exists():
        raise ReindexError(
            f"--local needs the stack's CKAN command line ({ckan.ckan_bin}); "
            "install it with `citydata stack up`, or re-index through the API without --local"
        )
    if ckan.url.rstrip("/") != settings.ckan.url.rstrip("/"):
        raise ReindexError(
            f"--local rebuilds the stack's CKAN ({ckan.url}), not {settings.ckan.url}; drop --local"
        )
    try:
        ckan.ctx.run(
            [ckan.ckan_bin, "-c", ckan.ini, "search-index", "rebuild", "--quiet"],
            service="ckan",
            cwd=ckan.data_dir,
        )
    except ServiceError as exc:
        raise ReindexError(f"`ckan search-index rebuild` failed: {exc.message}") from exc
    result = ReindexResult("local")
    check_search(CatalogClient(settings), result, 0)
    result.datasets = result.searchable or 0
    result.seconds = round(time.monotonic() - started, 2)
    return result
