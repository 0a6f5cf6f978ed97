"""Queries to a Dagster webserver's GraphQL API, failing on any error in the reply."""

from __future__ import annotations

from typing import Any

import requests


def dagster_graphql(url: str, query: str, **variables: object) -> dict[str, Any]:
    """``data`` of the reply of the webserver at ``url`` to ``query``."""
    reply = requests.post(f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60)
    reply.raise_for_status()
    body = reply.json()
    assert "errors" not in body, body["errors"]
    return dict(body["data"])
