"""What the portal's home page shows (template helpers): topics, recent and new datasets, counts.

CKAN 2.12 counts page views and downloads only with its `tracking` plugin, which this portal does
not run: without it there is no "most downloaded" to show, and the home page lists the datasets
most recently published instead (`new_datasets`), saying so. With `tracking` on, the same list is
the most viewed datasets of the last two weeks.
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as plugins
import ckan.plugins.toolkit as toolkit


def _action(name: str, **data: Any) -> Any:
    return toolkit.get_action(name)({}, data)


def topics(limit: int = 12) -> list[dict[str, Any]]:
    """The groups that hold public datasets: title, name, description, dataset count (most first)."""
    groups = _action("group_list", all_fields=True, sort="package_count desc", limit=limit * 4)
    found = [g for g in groups if g.get("package_count")]
    return sorted(found, key=lambda g: (-int(g["package_count"]), g.get("display_name") or g["name"]))[:limit]


def recent_datasets(limit: int = 5) -> list[dict[str, Any]]:
    """The datasets updated last (their metadata: a new version, new resources)."""
    return list(_action("package_search", sort="metadata_modified desc", rows=limit)["results"])


def tracking_on() -> bool:
    return plugins.plugin_loaded("tracking")


def new_datasets(limit: int = 5) -> list[dict[str, Any]]:
    """The most viewed datasets when CKAN tracks views, else the most recently published."""
    sort = "views_recent desc" if tracking_on() else "metadata_created desc"
    return list(_action("package_search", sort=sort, rows=limit)["results"])


def counts() -> dict[str, int]:
    """Public datasets, agencies (organizations) and topics (groups) with at least one dataset."""
    found = _action(
        "package_search", rows=0, **{"facet.field": ["organization", "groups"], "facet.limit": -1}
    )
    facets = found.get("search_facets", {})
    return {
        "datasets": int(found["count"]),
        "agencies": len(facets.get("organization", {}).get("items", [])),
        "topics": len(facets.get("groups", {}).get("items", [])),
    }
