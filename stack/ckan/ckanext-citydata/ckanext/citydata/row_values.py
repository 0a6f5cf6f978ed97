"""Row values in dataset search: a ward or street name finds the datasets whose rows hold it.

When a dataset is indexed, the distinct values of the text columns of its DataStore tables
(at most VALUES_PER_COLUMN per column, MAX_CHARACTERS in all) are added to its catch-all `text`
field, which CKAN's Solr schema folds to ASCII: 'thu duc' finds a dataset with a row in
'Phường Thủ Đức'. For datasets the platform publishes, the values are read once per table version
(the `citydata_datastore` marker it writes with every load) and kept in memory; others are read
at every indexing.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

import ckan.plugins.toolkit as toolkit

log = logging.getLogger(__name__)

VALUES_PER_COLUMN = 300
MAX_CHARACTERS = 60_000
_CACHE: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
_CACHE_SIZE = 512


def _table_values(resource_id: str) -> list[str]:
    context = {"ignore_auth": True}
    search = toolkit.get_action("datastore_search")
    # include_total False: a count here would be cached by CKAN (_table_stats) while a loader
    # (XLoader's fallback) is still filling the table, and datastore_search would report it.
    fields = search(context, {"resource_id": resource_id, "limit": 0, "include_total": False})["fields"]
    values: list[str] = []
    for field in fields:
        if field.get("type") != "text" or field["id"].startswith("_"):
            continue
        found = search(context, {"resource_id": resource_id, "fields": [field["id"]], "distinct": True,
                                 "limit": VALUES_PER_COLUMN, "include_total": False,
                                 "filters": {}, "sort": field["id"]})  # fmt: skip
        values.extend(str(r[field["id"]]) for r in found["records"] if r.get(field["id"]))
    return values


def row_values(pkg_dict: dict[str, Any]) -> list[str]:
    """The capped distinct text values of the dataset's DataStore tables."""
    try:
        resources = json.loads(pkg_dict.get("data_dict") or "{}").get("resources", [])
    except ValueError:
        return []
    marker = str(pkg_dict.get("extras_citydata_datastore") or "")
    out: list[str] = []
    for res in resources:
        if not res.get("datastore_active"):
            continue
        key = (res["id"], marker)
        cached = _CACHE.get(key) if marker else None
        if cached is None:
            try:
                cached = _table_values(res["id"])
            except Exception:  # indexing must not fail because of the DataStore
                log.warning("row values of resource %s not indexed", res["id"], exc_info=True)
                continue
            if marker:  # a table version the platform names: read once
                _CACHE[key] = cached
                while len(_CACHE) > _CACHE_SIZE:
                    _CACHE.popitem(last=False)
        out.extend(cached)
    kept, size = [], 0
    for value in dict.fromkeys(out):
        size += len(value) + 1
        if size > MAX_CHARACTERS:
            break
        kept.append(value)
    return kept


def with_row_values(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    values = row_values(pkg_dict)
    if values:
        text = pkg_dict.get("text") or []
        pkg_dict["text"] = [*([text] if isinstance(text, str) else text), *values]
    return pkg_dict
