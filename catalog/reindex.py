"""Rebuild CKAN's search index (Solr) from CKAN's database: `citydata catalog reindex`.

CKAN keeps datasets in PostgreSQL and a copy in Solr, which `package_search`, the /dataset pages
and organization listings read. When Solr loses its index (a new core, a wiped volume, a
restart without its data), the datasets still exist but cannot be found.

Through the action API with a sysadmin token, so it works against any CKAN 2.12, local or not:

1. list every dataset from database-backed actions, never from Solr: `organization_list` and
   `group_list`, then `member_list(object_type=package)` of each (private datasets included;
   deleted ones have no memberships). `package_list` (public datasets) finds those in neither.
2. re-index each one with `member_create` on a membership it already has (same organization or
   group, same capacity). CKAN 2.12 has no "index this dataset" action, but `member_create`
   ends with `ckan.lib.search.rebuild(package_id)`; re-stating an existing membership changes no
   row, creates no activity and does not touch `metadata_modified`.

`stack.ckan_reindex.reindex_local()` runs the stack's own `ckan search-index rebuild` instead
(`--local`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from catalog.client import CatalogClient, CatalogError, CatalogUnavailable
from citydata.settings import Settings

# Capacities of package memberships: an organization's own datasets, and a group's datasets.
_PACKAGE_CAPACITIES = ("organization", "public")
_PAGE = 1000  # CKAN's default ckan.group_and_organization_list_max

Progress = Callable[[int, int, str], None]  # (done, total, package id)


class ReindexError(RuntimeError):
    """The index could not be rebuilt; the message says why."""


@dataclass(frozen=True)
class Membership:
    """A way to re-index one dataset: an organization or group it belongs to."""

    package_id: str
    group: str
    capacity: str


@dataclass
class ReindexResult:
    method: str  # api | local
    datasets: int = 0  # datasets found in CKAN's database
    reindexed: list[str] = field(default_factory=list)  # package ids
    failed: dict[str, str] = field(default_factory=dict)  # package id -> error
    # Public datasets still not searchable afterwards: in no organization and no group, so the API
    # offers no write-free way to re-index them (`--local` does).
    unindexed: list[str] = field(default_factory=list)
    searchable: int | None = None  # datasets package_search finds afterwards (private included)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unindexed

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, **asdict(self)}


def _paged_names(client: CatalogClient, action: str) -> Iterator[str]:
    offset = 0
    while True:
        names = client.call(action, all_fields=False, limit=_PAGE, offset=offset)
        yield from names
        if len(names) < _PAGE:
            return
        offset += len(names)


def dataset_memberships(client: CatalogClient) -> dict[str, Membership]:
    """Every dataset in CKAN's database that belongs to an organization or group (private ones
    included), with one membership to re-index it through. No call here reads Solr."""
    found: dict[str, Membership] = {}
    for action in ("organization_list", "group_list"):  # organizations first: every owned dataset
        for name in _paged_names(client, action):
            for package_id, _type, capacity in client.call("member_list", id=name, object_type="package"):
                if capacity in _PACKAGE_CAPACITIES and package_id not in found:
                    found[package_id] = Membership(package_id, name, capacity)
    return found


def public_names(client: CatalogClient) -> set[str]:
    """Names of every active public dataset, from the database (`package_list`)."""
    names: set[str] = set()
    offset = 0
    while True:
        page = client.call("package_list", limit=_PAGE, offset=offset)
        names.update(page)
        if len(page) < _PAGE:
            return names
        offset += len(page)


def indexed_names(client: CatalogClient) -> set[str]:
    """Names of every dataset `package_search` finds (private and drafts included, for a sysadmin)."""
    names: set[str] = set()
    start = 0
    while True:
        page = client.call("package_search", q="*:*", fl="name", rows=_PAGE, start=start, sort="name asc",
                           include_private=True, include_drafts=True)  # fmt: skip
        names.update(r["name"] for r in page["results"])
        start += len(page["results"])
        if not page["results"] or start >= page["count"]:
            return names


def reindex(
    settings: Settings,
    client: CatalogClient | None = None,
    *,
    progress: Progress | None = None,
    workers: int = 2,
) -> ReindexResult:
    """Re-index every dataset of the catalog through the action API (needs a sysadmin token)."""
    started = time.monotonic()
    client = client or CatalogClient(settings)
    result = ReindexResult("api")
    try:
        memberships = dataset_memberships(client)
    except CatalogError as exc:
        raise ReindexError(f"cannot list the datasets of {client.url}: {exc}") from exc
    total = len(memberships)
    done = 0

    def one(m: Membership) -> tuple[str, str | None]:
        try:
            client.call(
                "member_create", id=m.group, object=m.package_id, object_type="package", capacity=m.capacity
            )
        except CatalogError as exc:
            # CKAN or its Solr down: this raises CatalogUnavailable, and everything stops. Otherwise
            # only this dataset failed (e.g. CKAN 2.12 cannot index one with package relationships).
            client.call("package_search", rows=0)
            return m.package_id, str(exc)
        return m.package_id, None

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        try:
            for package_id, error in pool.map(one, memberships.values()):
                done += 1
                if error is None:
                    result.reindexed.append(package_id)
                else:
                    result.failed[package_id] = error
                if progress:
                    progress(done, total, package_id)
        except CatalogUnavailable as exc:
            pool.shutdown(wait=True, cancel_futures=True)
            raise ReindexError(
                f"re-indexing stopped after {done} of {total} datasets: {exc} "
                "(is Solr up? `citydata stack status`)"
            ) from exc
    check_search(client, result, total)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def check_search(client: CatalogClient, result: ReindexResult, members: int) -> None:
    """What search finds afterwards; public datasets it still misses are `unindexed`."""
    try:
        found = indexed_names(client)
        public = public_names(client)
    except CatalogError as exc:
        raise ReindexError(f"re-indexed, but searching {client.url} afterwards failed: {exc}") from exc
    result.searchable = len(found)
    result.unindexed = sorted(public - found)
    result.datasets = members + len(result.unindexed)
