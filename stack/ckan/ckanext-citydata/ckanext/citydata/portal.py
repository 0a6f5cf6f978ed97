"""What the portal's home page shows (template helpers): topics, recent and new datasets, counts.

"Most downloaded" comes from CKAN 2.12's `tracking` plugin (on in the local stack): its JavaScript
records every click on a resource's download link (`tracking_raw`, one anonymised key per visitor).
`most_downloaded` counts distinct visitors per public dataset over the last 14 days straight from
that table, so no `ckan tracking update` job is needed. With no downloads yet, or without the
plugin, the home page lists the most recently published datasets instead, saying so.
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
    """The most recently published public datasets."""
    return list(_action("package_search", sort="metadata_created desc", rows=limit)["results"])


MOST_DOWNLOADED_SQL = """
SELECT p.name, p.title, g.title AS organization, count(DISTINCT t.user_key) AS downloads
FROM tracking_raw t
JOIN resource r ON r.url = t.url AND r.state = 'active'
JOIN package p ON p.id = r.package_id AND p.state = 'active' AND NOT p.private
LEFT JOIN "group" g ON g.id = p.owner_org
WHERE t.tracking_type = 'resource' AND t.access_timestamp > now() - make_interval(days => :days)
GROUP BY p.name, p.title, g.title
ORDER BY downloads DESC, p.name
LIMIT :limit
"""


def most_downloaded(limit: int = 5, days: int = 14) -> list[dict[str, Any]]:
    """Public datasets by distinct visitors who clicked a download link in the last `days` days."""
    if not tracking_on():
        return []
    from ckan import model
    from sqlalchemy import text

    rows = model.Session.execute(text(MOST_DOWNLOADED_SQL), {"limit": limit, "days": days}).mappings()
    return [dict(r) for r in rows]


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
