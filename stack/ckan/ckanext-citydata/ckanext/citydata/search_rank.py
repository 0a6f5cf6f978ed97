"""Dataset search ranks exact accented matches first.

CKAN's `text` fields fold accents, so 'thu duc' finds 'Thủ Đức'; but then 'Thủ Đức' scores a
dataset about 'Thu Dục' or 'thủ dục' as high as one about Thủ Đức. The Solr schema (the stack's
solr service) adds `title_accented` and `text_accented`, which keep the accents; their weight in
the query fields lifts the datasets that contain the words exactly as typed. A caller's own `qf`
is left alone.
"""

from __future__ import annotations

from typing import Any

ACCENTED_BOOST = " title_accented^8 text_accented^2"


def with_accented_ranking(search_params: dict[str, Any]) -> dict[str, Any]:
    from ckan.lib.search.query import QUERY_FIELDS

    q = search_params.get("q") or ""
    if q.strip() and q.strip() != "*:*" and "qf" not in search_params:
        search_params["qf"] = QUERY_FIELDS + ACCENTED_BOOST
    return search_params
