"""Datasets the catalog still lists whose spec is gone: made private, deleted or kept, by policy
(`citydata catalog retire`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from catalog.client import CatalogClient
from catalog.mapping import (
    HASH_KEY,
    MANAGED_KEY,
    extras_of,
)
from catalog.record import record_retirement
from citydata.settings import Settings
from citydata.spec.model import DatasetSpec
from citydata.storage.lake import Lake
from citydata.storage.published import dataset_prefix
from lake.access import set_public_read

RetirePolicy = Literal["private", "delete", "keep"]
# The quality gate's outputs (quality.reports), read as optional files: publication works without them.
QUALITY_SUMMARY = "summary.json"
VALIDATED = "validated.parquet"
DATASTORE_VIEW = "datatables_view"


@dataclass
class RetireAction:
    dataset: str
    action: str  # made-private | deleted | kept | already-private
    organization: str | None = None


# --- --------------------------------------------------------------------------------------
def managed_packages(
    client: CatalogClient, organizations: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Every active dataset citydata publishes (private ones included)."""
    fq = f"extras_{MANAGED_KEY}:true"
    orgs = list(organizations or [])
    if orgs:
        fq += " AND organization:(" + " OR ".join(orgs) + ")"
    out: list[dict[str, Any]] = []
    start = 0
    while True:
        page = client.call(
            "package_search", fq=fq, include_private=True, rows=500, start=start, sort="name asc"
        )
        out.extend(page["results"])
        start += len(page["results"])
        if not page["results"] or start >= page["count"]:
            return out


def retire_missing(
    specs: Iterable[DatasetSpec],
    policy: RetirePolicy = "private",
    *,
    settings: Settings,
    client: CatalogClient | None = None,
    lake: Lake | None = None,
    organizations: Iterable[str] | None = None,
    dry_run: bool = False,
) -> list[RetireAction]:
    """Datasets citydata published whose spec is gone: made private, or deleted (state=deleted,
    restorable), or only reported (`keep`). Their lake versions are kept; nothing is purged.
    Anonymous read of their files is revoked unless the policy is `keep`.
    """
    client = client or CatalogClient(settings)
    lake = lake or Lake(settings)
    wanted = {s.id for s in specs}
    actions: list[RetireAction] = []
    for pkg in managed_packages(client, organizations):
        if pkg["name"] in wanted:
            continue
        org = (pkg.get("organization") or {}).get("name")
        agency = extras_of(pkg).get("citydata_agency") or org
        marker = retired_marker(policy)
        if policy == "keep":
            actions.append(RetireAction(pkg["name"], "kept", org))
            continue
        if policy == "private" and pkg.get("private") and extras_of(pkg).get(HASH_KEY) == marker:
            actions.append(RetireAction(pkg["name"], "already-private", org))
            if agency and not dry_run:  # retired before the lake kept retirements
                record_retirement(lake, agency, pkg["name"], policy)
            continue
        actions.append(RetireAction(pkg["name"], "made-private" if policy == "private" else "deleted", org))
        if dry_run:
            continue
        if agency:  # noted first: a catalog rebuilt from the lake retires it again
            record_retirement(lake, agency, pkg["name"], policy)
        mark_retired(client, pkg, policy)
        if agency:
            set_public_read(lake, dataset_prefix(agency, pkg["name"]), False)
    return actions


def retired_marker(policy: str) -> str:
    return f"retired:{policy}"


def is_retired(pkg: dict[str, Any], policy: str) -> bool:
    """The package shows the retirement `policy` already (private, or deleted)."""
    if extras_of(pkg).get(HASH_KEY) != retired_marker(policy):
        return False
    return bool(pkg.get("private")) if policy == "private" else pkg.get("state") == "deleted"


def mark_retired(client: CatalogClient, pkg: dict[str, Any], policy: str) -> None:
    """Make the package private, or delete it (state=deleted, restorable), marked as retired."""
    # The hash extra no longer matches any desired package: a spec that comes back republishes.
    extras = [e for e in pkg.get("extras", []) if e.get("key") != HASH_KEY]
    extras.append({"key": HASH_KEY, "value": retired_marker(policy)})
    if policy == "private":
        client.call("package_patch", id=pkg["id"], private=True, extras=extras)
    elif policy == "delete":
        client.call("package_patch", id=pkg["id"], extras=extras)
        client.call("package_delete", id=pkg["id"])
    else:
        raise ValueError(f"unknown retire policy {policy!r}")
