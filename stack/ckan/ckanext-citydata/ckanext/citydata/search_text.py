"""Vietnamese search text for CKAN's DataTables preview.

ckanext.datatablesview's blueprint turns every character outside [0-9a-zA-Z-] of the search box
into a wildcard before `datastore_search`, so 'Thủ Đức' matches 'Th_ _c' (wrong rows). The
DataStore's full-text column is built without accents (text-search configuration citydata_vi),
so the search text is folded the same way first: accents removed, đ/Đ to d/D. The blueprint's
rewrite then leaves the letters alone and 'Thủ Đức', 'thu duc' and 'THU DUC' find the same rows.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

_D = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """Text without accents (NFD, combining marks dropped), đ/Đ as d/D."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fold_ajax_form(form: dict[str, list[str]]) -> dict[str, list[str]]:
    """The DataTables ajax form with its global and per-column search values folded."""
    searched = ("search[value]", "[search][value]")
    return {k: [fold(v) for v in vs] if k.endswith(searched) else vs for k, vs in form.items()}


def fold_download_params(params: dict[str, Any]) -> dict[str, Any]:
    """The filtered download's `params` (JSON) with its search values folded."""
    out = json.loads(json.dumps(params))
    if isinstance(out.get("search"), dict) and isinstance(out["search"].get("value"), str):
        out["search"]["value"] = fold(out["search"]["value"])
    for column in out.get("columns") or []:
        search = column.get("search") if isinstance(column, dict) else None
        if isinstance(search, dict) and isinstance(search.get("value"), str):
            search["value"] = fold(search["value"])
    return out
