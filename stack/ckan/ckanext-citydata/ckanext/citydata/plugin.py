"""CKAN plugin `citydata`: small fixes to CKAN 2.12 and its extensions, each written to go upstream.

- Background jobs that call DataStore actions with `ignore_auth` and no user (ckanext-xloader's
  row-by-row fallback: `datastore_create` and `datastore_delete` from its loader) make the
  `activity` plugin fail with `{'user_id': ['User not found']}` when the resource's
  `datastore_active` flag is saved. Such calls now act as the site user, as XLoader's own
  job code does elsewhere (`get_site_user`).
"""

from __future__ import annotations

from typing import Any

import ckan.plugins as plugins
import ckan.plugins.toolkit as toolkit


def _as_site_user(context: dict[str, Any]) -> None:
    if context.get("ignore_auth") and not context.get("user"):
        site_user = toolkit.get_action("get_site_user")({"ignore_auth": True}, {})
        context["user"] = site_user["name"]


@toolkit.chained_action
def datastore_create(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    _as_site_user(context)
    return original(context, data_dict)


@toolkit.chained_action
def datastore_delete(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    _as_site_user(context)
    return original(context, data_dict)


class CitydataPlugin(plugins.SingletonPlugin):
    plugins.implements(plugins.IActions)

    def get_actions(self) -> dict[str, Any]:
        return {"datastore_create": datastore_create, "datastore_delete": datastore_delete}
